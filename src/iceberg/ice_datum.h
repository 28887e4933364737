/* Iceberg single values (partition values, column bounds, literals) and
 * partition transforms. Internal to libfirn.
 *
 * A datum's type is always carried beside it as a struct firn_type (the
 * Arrow image of an Iceberg primitive type, see firn/arrow.h):
 *   FIRN_A_BOOL      b
 *   FIRN_A_INT32     i32          (int)
 *   FIRN_A_DATE32    i32          (days since 1970-01-01)
 *   FIRN_A_INT64     i64          (long)
 *   FIRN_A_TIME64    i64          (micros since midnight; unit_digits 6)
 *   FIRN_A_TIMESTAMP i64          (micros or nanos since epoch by unit_digits)
 *   FIRN_A_FLOAT     f32
 *   FIRN_A_DOUBLE    f64
 *   FIRN_A_DECIMAL   dec          (unscaled value; scale in the type)
 *   FIRN_A_STRING    bin (UTF-8, not NUL-terminated)
 *   FIRN_A_BINARY    bin
 *   FIRN_A_FIXED     bin (uuid: 16 bytes in canonical big-endian order)
 * Byte datums borrow their bytes: the producer says who owns them. */
#ifndef FIRN_ICE_DATUM_H
#define FIRN_ICE_DATUM_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/util.h"

struct firn_datum {
	bool null;
	union {
		bool b;
		int32_t i32;
		int64_t i64;
		float f32;
		double f64;
		__int128 dec;
		struct {
			const uint8_t *p;
			size_t n;
		} bin;
	} v;
};

/* Row i of array `a` (offset applied inside) whose type is `t`, as a datum.
 * Byte datums point into the array's buffers. Arrow decimal128 values are
 * read as 16-byte little-endian integers. */
void firn_ice__datum_from_array(const struct firn_type *t, const struct ArrowArray *a,
				int64_t i, struct firn_datum *out);

/* Total order of two non-null datums of the same type: <0, 0, >0.
 * Floats: -NaN < -Inf < ... < -0.0 < 0.0 < ... < Inf < NaN (IEEE totalOrder).
 * Strings and binary: unsigned bytewise (which is code-point order for
 * UTF-8). */
int firn_ice__datum_compare(const struct firn_type *t, const struct firn_datum *a,
			    const struct firn_datum *b);
/* Equality as partition values compare (nulls equal each other, NaN equal
 * to NaN). */
bool firn_ice__datum_equal(const struct firn_type *t, const struct firn_datum *a,
			   const struct firn_datum *b);
/* A hash consistent with firn_ice__datum_equal (for grouping by partition). */
uint64_t firn_ice__datum_hash(const struct firn_type *t, const struct firn_datum *d);

/* Iceberg's binary single-value serialization (spec appendix D / §4.1):
 * appends the bytes of a non-null datum to out. Decimals are the minimal
 * big-endian two's complement of the unscaled value; uuid the 16 bytes. */
int firn_ice__datum_to_bytes(const struct firn_type *t, const struct firn_datum *d,
			     struct firn_buf *out);
/* The reverse. Byte datums point into p. Accepts the promoted-type forms:
 * 4 bytes for a long (was int) or double (was float) or timestamp (was date,
 * days), any length 1..16 for a decimal. FIRN_ECORRUPT with a message
 * naming the type on a bad length. */
int firn_ice__datum_from_bytes(const struct firn_type *t, const uint8_t *p, size_t n,
			       struct firn_datum *out, struct firn_error *err);

/* Iceberg's JSON single-value form as text (spec §4.2), e.g. 34,
 * "2017-11-16", "14.20", true; appended to out as JSON (strings quoted). */
int firn_ice__datum_to_json(const struct firn_type *t, const struct firn_datum *d,
			    struct firn_buf *out);
/* Human text (CSV form): like the JSON form without quotes; null is "null". */
int firn_ice__datum_to_text(const struct firn_type *t, const struct firn_datum *d,
			    struct firn_buf *out);
/* Parses a literal given as text into a datum of type t: numbers, booleans
 * (true/false), dates "2017-11-16", times, timestamps (a date alone means
 * midnight; an offset converts to UTC for timestamptz), decimals (rounding
 * is an error: "1.234" into decimal(10,2) fails), uuid text, hex for
 * binary/fixed, strings as is. Byte datums are copied into arena.
 * FIRN_EINVAL with "cannot read 'x' as TYPE" on failure. */
int firn_ice__datum_parse(const struct firn_type *t, const char *s, size_t n,
			  struct firn_arena *arena, struct firn_datum *out,
			  struct firn_error *err);

/* ---- partition transforms ------------------------------------------ */

enum firn_transform_kind {
	FIRN_TR_IDENTITY,
	FIRN_TR_BUCKET,   /* param = N */
	FIRN_TR_TRUNCATE, /* param = W */
	FIRN_TR_YEAR,
	FIRN_TR_MONTH,
	FIRN_TR_DAY,
	FIRN_TR_HOUR,
	FIRN_TR_VOID,
	FIRN_TR_UNKNOWN /* a transform firn does not know: kept, never applied */
};

struct firn_transform {
	enum firn_transform_kind kind;
	int32_t param;
};

/* Parses "identity", "bucket[16]", "truncate[4]", "year", "month", "day",
 * "hour", "void" (whitespace inside brackets allowed). Any other string is
 * FIRN_TR_UNKNOWN (returns 0). FIRN_EINVAL for a malformed or non-positive
 * bucket/truncate parameter. */
int firn_ice__transform_parse(const char *s, struct firn_transform *out,
			      struct firn_error *err);
/* Appends the canonical name ("bucket[16]"). For UNKNOWN, writes "unknown". */
int firn_ice__transform_format(const struct firn_transform *t, struct firn_buf *out);

/* Result type of applying t to a source column of type src: identity and
 * truncate keep the type, bucket/year/month/hour give int, day gives date,
 * void keeps the source type. FIRN_EINVAL with "TRANSFORM cannot apply to
 * TYPE" when the spec forbids the pair (e.g. hour(date), bucket(double),
 * truncate(date), identity of a nested type). */
int firn_ice__transform_result_type(const struct firn_transform *t,
				    const struct firn_type *src, struct firn_type *out,
				    struct firn_error *err);

/* Applies t to a datum of type src. null → null (void → null always).
 * Truncated strings/binary point into the input's bytes (a prefix).
 * Temporal transforms floor for values before 1970; nanosecond timestamps
 * are floored to the unit. Bucket hashes as spec Appendix B (int/date as
 * 8-byte little-endian longs, decimals as minimal big-endian unscaled bytes,
 * timestamps in micros). Must not be called with UNKNOWN. */
void firn_ice__transform_apply(const struct firn_transform *t, const struct firn_type *src,
			       const struct firn_datum *in, struct firn_datum *out);

/* True when t preserves order (a <= b implies t(a) <= t(b)): identity,
 * truncate, year, month, day, hour. */
bool firn_ice__transform_preserves_order(const struct firn_transform *t);

/* Human-readable partition value of a transform result, as Iceberg's
 * partition paths show it: year "2026", month "2026-11", day "2026-11-23",
 * hour "2026-11-23-10", others as firn_ice__datum_to_text. For directory
 * names (URL-escaped by the caller). */
int firn_ice__transform_to_human(const struct firn_transform *t,
				 const struct firn_type *result, const struct firn_datum *d,
				 struct firn_buf *out);

#endif
