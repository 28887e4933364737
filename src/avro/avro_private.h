/* Shared between the files of src/avro; not public. */
#ifndef FIRN_AVRO_PRIVATE_H
#define FIRN_AVRO_PRIVATE_H

#include "firn/avro.h"

/* Nesting limit for schemas and values (recursive schemas, hostile files). */
#define FIRN_AVRO__MAX_DEPTH 200

/* Where we are in a value or schema, for error messages: a chain of frames
 * on the stack, innermost first. name NULL + index >= 0 is "[index]". */
struct firn_avro__path {
	const struct firn_avro__path *up;
	const char *name;
	int64_t index;
};

/* Renders "data_file.partition.x", "partitions[2].lower_bound", or `top`
 * when p is NULL. */
void firn_avro__path_format(const struct firn_avro__path *p, const char *top, char *out, size_t cap);
/* Sets err to code with "<path>: <message>" and returns code. */
int firn_avro__fail(const struct firn_avro__path *path, struct firn_error *err, int code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Zigzag varint (at most 10 bytes). */
static inline size_t firn_avro__put_long(uint8_t out[10], int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
	size_t n = 0;
	while (u >= 0x80) {
		out[n++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	out[n++] = (uint8_t)u;
	return n;
}

/* Reads a zigzag varint at *p (< end), advancing *p. 0, -1 when the bytes
 * end first, -2 when it is longer than 64 bits. */
int firn_avro__read_long(const uint8_t **p, const uint8_t *end, int64_t *out);

/* Schema parsing; strict also checks Avro's name syntax and union rules
 * (the writer is strict; the reader takes what other writers wrote). */
int firn_avro__schema_parse(const struct firn_avro_schema **out, struct firn_arena *arena,
			    const char *json, size_t len, bool strict, struct firn_error *err);

/* Binary decoding of one value. Counts and lengths are checked against the
 * bytes left; `budget` is the number of values still allowed (every decoded
 * value takes one), against inputs that expand into many zero-width values. */
struct firn_avro__decoder {
	const uint8_t *p, *end;
	struct firn_arena *arena;
	uint64_t budget;
};
int firn_avro__decode(struct firn_avro__decoder *d, const struct firn_avro_schema *s,
		      struct firn_avro_value *out, struct firn_error *err);

/* Binary encoding of one value, checking it against the schema (EINVAL with
 * the path). On error, b may hold a partial encoding: the caller truncates. */
int firn_avro__encode(struct firn_buf *b, const struct firn_avro_schema *s,
		      const struct firn_avro_value *v, struct firn_error *err);

/* Appends s (n bytes of UTF-8) as a quoted JSON string. */
int firn_avro__json_string(struct firn_buf *b, const char *s, size_t n);

#endif
