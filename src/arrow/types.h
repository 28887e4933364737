/* Iceberg's types as firn holds them: the one table of primitive types
 * (Iceberg name, Arrow format, struct firn_type, the format version that
 * brought it), type names both ways, and decimal values as text.
 *
 * It sits in the arrow folder, the lowest one that knows struct firn_type,
 * so that text, parquet and iceberg all read the same table. */
#ifndef FIRN_ARROW_TYPES_H
#define FIRN_ARROW_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "firn/arrow.h"

#define FIRN_DECIMAL_MAX_PRECISION 38
/* Iceberg's fixed[L] as the metadata parser takes it (1 GiB values). */
#define FIRN_FIXED_MAX_LENGTH (1 << 30)
/* Room for any name firn_arrow__type_name writes ("fixed[2147483647]"). */
#define FIRN_TYPE_NAME_MAX 32
/* Room for any text firn_arrow__decimal_format writes, with its NUL. */
#define FIRN_DECIMAL_TEXT_MAX 64

struct firn_arrow__prim {
	const char *name;      /* Iceberg name, lowercase */
	const char *format;    /* Arrow format; NULL: known by name, not held by firn */
	struct firn_type type; /* what firn_type_of gives for format */
	int since;             /* the table format version that introduced it */
	int params;            /* 2: decimal(P,S); 1: fixed[L]; 0: none */
};

/* Every primitive type, in the order of the Iceberg spec. */
extern const struct firn_arrow__prim firn_arrow__prims[];
extern const size_t firn_arrow__n_prims;

/* The entry whose name is the n bytes at s (any case), or NULL. */
const struct firn_arrow__prim *firn_arrow__prim_find(const char *s, size_t n);

/* Parses a whole Iceberg primitive type name into *out: a plain name
 * ("long", "TimestampTZ": any case), "decimal(P,S)" or "fixed[L]" (white
 * space around the numbers allowed). Returns 0; FIRN_EINVAL for a decimal
 * or fixed whose numbers are out of range (1 <= P <= 38, 0 <= S <= P,
 * 1 <= L <= 2^30; out->id says which); FIRN_EUNSUPPORTED for anything
 * else, types firn knows only by name (variant, geometry) included. */
int firn_arrow__type_parse(const char *s, struct firn_type *out);

/* The Iceberg name of t ("decimal(10,2)", "fixed[4]", "uuid",
 * "timestamptz_ns"; "unknown" for null, "struct" / "list" / "map" for the
 * nested ones), written into buf (FIRN_TYPE_NAME_MAX bytes) and returned.
 * Timestamps in seconds or millis are named as the micros they read as. */
const char *firn_arrow__type_name(const struct firn_type *t, char buf[FIRN_TYPE_NAME_MAX]);

/* The Arrow format firn writes for t, in buf (FIRN_TYPE_NAME_MAX bytes) or
 * a static string: times and timestamps at micros, or nanos when t is. */
const char *firn_arrow__type_format(const struct firn_type *t, char buf[FIRN_TYPE_NAME_MAX]);

/* A new schema node for t (firn_schema_init, plus the arrow.uuid extension
 * for uuid). The caller owns *out on success. */
int firn_arrow__type_schema(struct ArrowSchema *out, const struct firn_type *t, const char *name,
			    int64_t flags, int64_t n_children);

/* The format version that introduced t (1, or 3 for unknown and the
 * nanosecond timestamps). */
int firn_arrow__type_since(const struct firn_type *t);
/* The same for an Iceberg type name, with the v3 types firn knows only by
 * name ("variant", "geometry(...)"); 0 for a name that is no primitive. */
int firn_arrow__type_name_since(const char *s);

/* Decimal text "[+-]digits[.digits][e[+-]digits]" into the unscaled value
 * at `scale` (negative allowed, as in Arrow). False when it is no number,
 * when it needs rounding (only zeros may be dropped), or when the result
 * has more than `precision` digits. */
bool firn_arrow__decimal_parse(const char *s, size_t n, int precision, int scale,
			       __int128 *out);
/* The text of the unscaled value v at `scale` ("-0.05"; "12E+3" for a
 * negative scale) into buf (FIRN_DECIMAL_TEXT_MAX bytes, NUL-terminated);
 * returns its length. */
int firn_arrow__decimal_format(__int128 v, int scale, char buf[FIRN_DECIMAL_TEXT_MAX]);

/* The 16 bytes of Arrow's decimal128 (little-endian two's complement). */
__int128 firn_arrow__i128_load(const uint8_t p[16]);
void firn_arrow__i128_store(uint8_t p[16], __int128 v);

#endif
