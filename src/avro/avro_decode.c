/* Avro binary decoding into generic values, driven by the writer schema.
 * Every count and length is checked against the bytes left before anything
 * is allocated. */
#include <stdarg.h>
#include <stdio.h>

#include "avro/avro_private.h"

int firn_avro__read_long(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t u = 0;
	for (int shift = 0;; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t c = *p++;
		if (shift == 63 && (c & 0xfe) != 0) /* the 10th byte holds one bit */
			return -2;
		u |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			break;
	}
	*out = (int64_t)((u >> 1) ^ (0 - (u & 1)));
	*pp = p;
	return 0;
}

#define corrupt(path, err, ...) firn_avro__fail(path, err, FIRN_ECORRUPT, __VA_ARGS__)

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "avro: out of memory decoding a record");
}

static int get_long(struct firn_avro__decoder *d, int64_t *v, const struct firn_avro__path *path,
		    const char *what, struct firn_error *err)
{
	int rc = firn_avro__read_long(&d->p, d->end, v);
	if (rc == -1)
		return corrupt(path, err, "%s truncated", what);
	if (rc != 0)
		return corrupt(path, err, "%s: varint longer than 64 bits", what);
	return 0;
}

static size_t left(const struct firn_avro__decoder *d)
{
	return (size_t)(d->end - d->p);
}

/* A length-prefixed byte string, copied into the arena with a NUL after it. */
static int get_bytes(struct firn_avro__decoder *d, const uint8_t **data, size_t *len,
		     const struct firn_avro__path *path, struct firn_error *err)
{
	int64_t n;
	FIRN_TRY(get_long(d, &n, path, "length", err));
	if (n < 0 || (uint64_t)n > left(d))
		return corrupt(path, err, "length %lld with %zu bytes left", (long long)n, left(d));
	char *copy = firn_arena_strndup(d->arena, (const char *)d->p, (size_t)n);
	if (copy == NULL)
		return nomem(err);
	d->p += n;
	*data = (const uint8_t *)copy;
	*len = (size_t)n;
	return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int decode(struct firn_avro__decoder *d, const struct firn_avro_schema *s,
		  struct firn_avro_value *out, const struct firn_avro__path *path, int depth,
		  struct firn_error *err);

/* Arrays and maps: blocks of items up to a zero count; a negative count
 * is followed by the block's byte size. */
static int decode_blocks(struct firn_avro__decoder *d, const struct firn_avro_schema *s,
			 struct firn_avro_value *out, const struct firn_avro__path *path, int depth,
			 struct firn_error *err)
{
	bool is_map = s->type == FIRN_AVRO_MAP;
	const struct firn_avro_schema *item = is_map ? s->values : s->items;
	size_t elem = is_map ? sizeof(struct firn_avro_map_entry) : sizeof(struct firn_avro_value);
	uint64_t min = item->min_size + (is_map ? 1 : 0);
	size_t n = 0, cap = 0;
	uint8_t *mem = NULL;
	for (;;) {
		int64_t count;
		FIRN_TRY(get_long(d, &count, path, "block count", err));
		if (count == 0)
			break;
		const uint8_t *block_end = NULL;
		if (count < 0) {
			if (count == INT64_MIN)
				return corrupt(path, err, "block count out of range");
			count = -count;
			int64_t size;
			FIRN_TRY(get_long(d, &size, path, "block size", err));
			if (size < 0 || (uint64_t)size > left(d))
				return corrupt(path, err, "block size %lld with %zu bytes left",
					       (long long)size, left(d));
			block_end = d->p + size;
		}
		if ((min > 0 && (uint64_t)count > left(d) / min) || (uint64_t)count > d->budget)
			return corrupt(path, err, "block count %lld with %zu bytes left", (long long)count, left(d));
		if ((size_t)count > cap - n) {
			size_t ncap = cap * 2 > n + (size_t)count ? cap * 2 : n + (size_t)count;
			uint8_t *nm = firn_arena_alloc(d->arena, ncap * elem);
			if (nm == NULL)
				return nomem(err);
			if (n > 0)
				memcpy(nm, mem, n * elem);
			mem = nm;
			cap = ncap;
		}
		for (int64_t i = 0; i < count; i++, n++) {
			struct firn_avro__path ip = { path, NULL, (int64_t)n };
			if (is_map) {
				struct firn_avro_map_entry *e = (struct firn_avro_map_entry *)mem + n;
				const uint8_t *key;
				FIRN_TRY(get_bytes(d, &key, &e->key_len, &ip, err));
				e->key = (const char *)key;
				ip.name = e->key;
				FIRN_TRY(decode(d, item, &e->value, &ip, depth + 1, err));
			} else {
				FIRN_TRY(decode(d, item, (struct firn_avro_value *)mem + n, &ip, depth + 1, err));
			}
		}
		if (block_end != NULL && d->p != block_end)
			return corrupt(path, err, "block size does not match its items");
	}
	if (is_map) {
		out->map.n = n;
		out->map.entries = (struct firn_avro_map_entry *)mem;
	} else {
		out->array.n = n;
		out->array.items = (struct firn_avro_value *)mem;
	}
	return 0;
}

static int decode(struct firn_avro__decoder *d, const struct firn_avro_schema *s,
		  struct firn_avro_value *out, const struct firn_avro__path *path, int depth,
		  struct firn_error *err)
{
	if (depth > FIRN_AVRO__MAX_DEPTH)
		return corrupt(path, err, "values nested more than %d levels", FIRN_AVRO__MAX_DEPTH);
	if (d->budget == 0)
		return corrupt(path, err, "more values than the block's size allows");
	d->budget--;
	out->type = s->type;
	int64_t v;
	switch (s->type) {
	case FIRN_AVRO_UNSET:
		break;
	case FIRN_AVRO_NULL:
		return 0;
	case FIRN_AVRO_BOOLEAN:
		if (left(d) < 1)
			return corrupt(path, err, "boolean truncated");
		if (*d->p > 1)
			return corrupt(path, err, "boolean byte %u", *d->p);
		out->boolean = *d->p++ == 1;
		return 0;
	case FIRN_AVRO_INT:
		FIRN_TRY(get_long(d, &v, path, "int", err));
		if (v < INT32_MIN || v > INT32_MAX)
			return corrupt(path, err, "int out of range: %lld", (long long)v);
		out->i64 = v;
		return 0;
	case FIRN_AVRO_LONG:
		return get_long(d, &out->i64, path, "long", err);
	case FIRN_AVRO_FLOAT: {
		if (left(d) < 4)
			return corrupt(path, err, "float truncated");
		uint32_t u = (uint32_t)le(d->p, 4);
		memcpy(&out->f32, &u, 4);
		d->p += 4;
		return 0;
	}
	case FIRN_AVRO_DOUBLE: {
		if (left(d) < 8)
			return corrupt(path, err, "double truncated");
		uint64_t u = le(d->p, 8);
		memcpy(&out->f64, &u, 8);
		d->p += 8;
		return 0;
	}
	case FIRN_AVRO_BYTES:
	case FIRN_AVRO_STRING:
		return get_bytes(d, &out->bytes.data, &out->bytes.len, path, err);
	case FIRN_AVRO_FIXED: {
		if ((uint64_t)s->size > left(d))
			return corrupt(path, err, "fixed(%lld) with %zu bytes left", (long long)s->size, left(d));
		char *copy = firn_arena_strndup(d->arena, (const char *)d->p, (size_t)s->size);
		if (copy == NULL)
			return nomem(err);
		out->bytes.data = (const uint8_t *)copy;
		out->bytes.len = (size_t)s->size;
		d->p += s->size;
		return 0;
	}
	case FIRN_AVRO_ENUM:
		FIRN_TRY(get_long(d, &v, path, "enum", err));
		if (v < 0 || v >= s->n_symbols)
			return corrupt(path, err, "enum index %lld of %d symbols", (long long)v, s->n_symbols);
		out->symbol = (int32_t)v;
		return 0;
	case FIRN_AVRO_UNION: {
		FIRN_TRY(get_long(d, &v, path, "union branch", err));
		if (v < 0 || v >= s->n_branches)
			return corrupt(path, err, "union branch %lld of %d", (long long)v, s->n_branches);
		struct firn_avro_value *inner = firn_arena_alloc(d->arena, sizeof(*inner));
		if (inner == NULL)
			return nomem(err);
		out->branch.index = (int32_t)v;
		out->branch.value = inner;
		return decode(d, s->branches[v], inner, path, depth + 1, err);
	}
	case FIRN_AVRO_RECORD: {
		struct firn_avro_value *fields = firn_arena_alloc(d->arena,
			(s->n_fields ? (size_t)s->n_fields : 1) * sizeof(*fields));
		if (fields == NULL)
			return nomem(err);
		out->record.n = s->n_fields;
		out->record.fields = fields;
		for (int i = 0; i < s->n_fields; i++) {
			struct firn_avro__path fp = { path, s->fields[i].name, -1 };
			FIRN_TRY(decode(d, s->fields[i].type, &fields[i], &fp, depth + 1, err));
		}
		return 0;
	}
	case FIRN_AVRO_ARRAY:
	case FIRN_AVRO_MAP:
		return decode_blocks(d, s, out, path, depth, err);
	}
	return corrupt(path, err, "schema node of unknown type %d", (int)s->type);
}

int firn_avro__decode(struct firn_avro__decoder *d, const struct firn_avro_schema *s,
		      struct firn_avro_value *out, struct firn_error *err)
{
	return decode(d, s, out, NULL, 0, err);
}
