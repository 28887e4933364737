/* Batch plumbing for tables: fitting batches to a schema (by field id when
 * reading data files, by name when appending input), gathering rows.
 * Internal. Arrays handled here have offset 0 at the top level (firn's
 * readers and builders make them so). */
#ifndef FIRN_ICE_BATCH_H
#define FIRN_ICE_BATCH_H

#include <stdbool.h>

#include "firn/arrow.h"
#include "firn/error.h"

enum firn_match { FIRN_MATCH_ID, FIRN_MATCH_NAME };

/* Builds *out, a struct array shaped as dst (a "+s" schema), from src (a
 * struct array shaped as src_schema), which is consumed (released, its
 * columns moved where the types agree). Columns match by field id (reading
 * data files: missing ones read as null, renamed ones keep their data) or by
 * name (appending input: a required column missing or holding nulls is an
 * error; an input column the table lacks is an error). Allowed type
 * changes: int → long, float → double, decimal precision widening, date →
 * timestamp. Other mismatches: FIRN_EINVAL "column 'x': cannot read TYPE
 * as TYPE". */
int firn_ice__batch_fit(const struct ArrowSchema *src_schema, struct ArrowArray *src,
			const struct ArrowSchema *dst, enum firn_match match,
			struct ArrowArray *out, struct firn_error *err);

/* Appending input: firn_ice__batch_fit by name, with how values that do
 * not fit are met. A scaled value (seconds, millis, dates -> micros) past
 * int64 is always an error; nonzero sub-microsecond digits that a
 * nanosecond -> microsecond conversion would drop are one unless
 * truncate_timestamps. Messages name the row: first_row + the batch row. */
struct firn_ice_fit_options {
	bool truncate_timestamps;
	int64_t first_row;
};
int firn_ice__batch_fit_input(const struct ArrowSchema *src_schema, struct ArrowArray *src,
			      const struct ArrowSchema *dst, const struct firn_ice_fit_options *o,
			      struct ArrowArray *out, struct firn_error *err);

/* Gathers rows idx[0..n) of a (schema s) into a new array *out. */
int firn_ice__batch_take(const struct ArrowSchema *s, const struct ArrowArray *a,
			 const int64_t *idx, int64_t n, struct ArrowArray *out,
			 struct firn_error *err);

/* Builds top-level column col of schema s for n rows: row i is row
 * (src[i] & 0xFFFFFFFF) of batches[src[i] >> 32], or null when src[i] is
 * UINT64_MAX. *out is the caller's. */
int firn_ice__column_gather(const struct ArrowSchema *s, int64_t col, const struct ArrowArray *batches,
			    const uint64_t *src, int64_t n, struct ArrowArray *out, struct firn_error *err);

/* Gathers rows from several batches of schema s: pairs[i] is
 * (batch index << 32 | row). */
int firn_ice__batch_take_multi(const struct ArrowSchema *s, const struct ArrowArray *batches,
			       const uint64_t *pairs, int64_t n, struct ArrowArray *out,
			       struct firn_error *err);

/* One struct array of schema dst from the columns of a (schema sa) and b
 * (schema sb), of equal length: each column of dst, by field id, moved from
 * whichever has it. a and b are released (also on failure). */
int firn_ice__batch_join(const struct ArrowSchema *dst, const struct ArrowSchema *sa,
			 struct ArrowArray *a, const struct ArrowSchema *sb, struct ArrowArray *b,
			 struct ArrowArray *out, struct firn_error *err);

/* A struct array of n rows, every column null (or empty) as schema s says. */
int firn_ice__batch_nulls(const struct ArrowSchema *s, int64_t n, struct ArrowArray *out,
			  struct firn_error *err);

/* Keeps the columns of a struct array whose field ids are in ids (in that
 * order); the others are released. *out_schema gets the matching schema. */
int firn_ice__batch_select(const struct ArrowSchema *s, struct ArrowArray *a,
			   const int32_t *ids, size_t n, struct ArrowSchema *out_schema,
			   struct ArrowArray *out, struct firn_error *err);

#endif
