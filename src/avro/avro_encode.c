/* Avro binary encoding of generic values, checking each against the schema
 * on the way (the writer's only validation pass). */
#include <stdarg.h>
#include <stdio.h>

#include "avro/avro_private.h"

#define invalid(path, err, ...) firn_avro__fail(path, err, FIRN_EINVAL, __VA_ARGS__)

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "avro: out of memory encoding a record");
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		int extra;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= (size_t)extra)
			return false;
		for (int k = 1; k <= extra; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += (size_t)extra + 1;
	}
	return true;
}

static int put_long(struct firn_buf *b, int64_t v)
{
	uint8_t tmp[10];
	return firn_buf_append(b, tmp, firn_avro__put_long(tmp, v));
}

static int put_le(struct firn_buf *b, uint64_t v, int n)
{
	uint8_t tmp[8];
	for (int i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return firn_buf_append(b, tmp, (size_t)n);
}

static int put_bytes(struct firn_buf *b, const uint8_t *p, size_t n)
{
	FIRN_TRY(put_long(b, (int64_t)n));
	return firn_buf_append(b, p, n);
}

static int enc(struct firn_buf *b, const struct firn_avro_schema *s, const struct firn_avro_value *v,
	       const struct firn_avro__path *path, int depth, struct firn_error *err);

/* A union takes a union value, or a plain value matching exactly one branch. */
static int enc_union(struct firn_buf *b, const struct firn_avro_schema *s, const struct firn_avro_value *v,
		     const struct firn_avro__path *path, int depth, struct firn_error *err)
{
	int idx = -1;
	const struct firn_avro_value *inner = v;
	if (v->type == FIRN_AVRO_UNION) {
		if (v->branch.index < 0 || v->branch.index >= s->n_branches)
			return invalid(path, err, "union branch %d of %d", (int)v->branch.index, s->n_branches);
		if (v->branch.value == NULL)
			return invalid(path, err, "union branch %d without a value", (int)v->branch.index);
		idx = v->branch.index;
		inner = v->branch.value;
	} else {
		for (int i = 0; i < s->n_branches; i++) {
			if (s->branches[i]->type != v->type)
				continue;
			if (idx >= 0)
				return invalid(path, err, "%s value fits two union branches; give a union value",
					       firn_avro_type_name(v->type));
			idx = i;
		}
		if (idx < 0) {
			char types[128] = "";
			size_t len = 0;
			for (int i = 0; i < s->n_branches && len < sizeof(types); i++)
				len += (size_t)snprintf(types + len, sizeof(types) - len, "%s%s", i ? " or " : "",
							firn_avro_type_name(s->branches[i]->type));
			return invalid(path, err, "expected %s, got %s", types, firn_avro_type_name(v->type));
		}
	}
	FIRN_TRY(put_long(b, idx) ? nomem(err) : 0);
	return enc(b, s->branches[idx], inner, path, depth + 1, err);
}

static int enc(struct firn_buf *b, const struct firn_avro_schema *s, const struct firn_avro_value *v,
	       const struct firn_avro__path *path, int depth, struct firn_error *err)
{
	if (depth > FIRN_AVRO__MAX_DEPTH)
		return invalid(path, err, "values nested more than %d levels", FIRN_AVRO__MAX_DEPTH);
	if (s->type == FIRN_AVRO_UNION)
		return enc_union(b, s, v, path, depth, err);
	if (v->type == FIRN_AVRO_UNSET)
		return invalid(path, err, "not set (expected %s)", firn_avro_type_name(s->type));
	if (v->type != s->type)
		return invalid(path, err, "expected %s, got %s", firn_avro_type_name(s->type),
			       firn_avro_type_name(v->type));
	int rc = 0;
	switch (s->type) {
	case FIRN_AVRO_NULL:
		break;
	case FIRN_AVRO_BOOLEAN:
		rc = firn_buf_putc(b, v->boolean ? 1 : 0);
		break;
	case FIRN_AVRO_INT:
		if (v->i64 < INT32_MIN || v->i64 > INT32_MAX)
			return invalid(path, err, "int out of range: %lld", (long long)v->i64);
		rc = put_long(b, v->i64);
		break;
	case FIRN_AVRO_LONG:
		rc = put_long(b, v->i64);
		break;
	case FIRN_AVRO_FLOAT: {
		uint32_t u;
		memcpy(&u, &v->f32, 4);
		rc = put_le(b, u, 4);
		break;
	}
	case FIRN_AVRO_DOUBLE: {
		uint64_t u;
		memcpy(&u, &v->f64, 8);
		rc = put_le(b, u, 8);
		break;
	}
	case FIRN_AVRO_STRING:
		if (v->bytes.len > 0 && v->bytes.data == NULL)
			return invalid(path, err, "string without data");
		if (!utf8_valid(v->bytes.data, v->bytes.len))
			return invalid(path, err, "string is not UTF-8");
		rc = put_bytes(b, v->bytes.data, v->bytes.len);
		break;
	case FIRN_AVRO_BYTES:
		if (v->bytes.len > 0 && v->bytes.data == NULL)
			return invalid(path, err, "bytes without data");
		rc = put_bytes(b, v->bytes.data, v->bytes.len);
		break;
	case FIRN_AVRO_FIXED:
		if (v->bytes.len != (uint64_t)s->size)
			return invalid(path, err, "fixed %s takes %lld bytes, got %zu", s->fullname,
				       (long long)s->size, v->bytes.len);
		if (v->bytes.len > 0 && v->bytes.data == NULL)
			return invalid(path, err, "fixed without data");
		rc = firn_buf_append(b, v->bytes.data, v->bytes.len);
		break;
	case FIRN_AVRO_ENUM:
		if (v->symbol < 0 || v->symbol >= s->n_symbols)
			return invalid(path, err, "enum index %d of %d symbols", (int)v->symbol, s->n_symbols);
		rc = put_long(b, v->symbol);
		break;
	case FIRN_AVRO_RECORD:
		if (v->record.n != s->n_fields || (s->n_fields > 0 && v->record.fields == NULL))
			return invalid(path, err, "record %s has %d fields, value has %d", s->fullname,
				       s->n_fields, v->record.n);
		for (int i = 0; i < s->n_fields; i++) {
			struct firn_avro__path fp = { path, s->fields[i].name, -1 };
			FIRN_TRY(enc(b, s->fields[i].type, &v->record.fields[i], &fp, depth + 1, err));
		}
		break;
	case FIRN_AVRO_ARRAY:
		if (v->array.n > 0 && v->array.items == NULL)
			return invalid(path, err, "array without items");
		if (v->array.n > 0 && (rc = put_long(b, (int64_t)v->array.n)) != 0)
			break;
		for (size_t i = 0; i < v->array.n; i++) {
			struct firn_avro__path ip = { path, NULL, (int64_t)i };
			FIRN_TRY(enc(b, s->items, &v->array.items[i], &ip, depth + 1, err));
		}
		rc = put_long(b, 0);
		break;
	case FIRN_AVRO_MAP:
		if (v->map.n > 0 && v->map.entries == NULL)
			return invalid(path, err, "map without entries");
		if (v->map.n > 0 && (rc = put_long(b, (int64_t)v->map.n)) != 0)
			break;
		for (size_t i = 0; i < v->map.n; i++) {
			const struct firn_avro_map_entry *e = &v->map.entries[i];
			struct firn_avro__path ip = { path, NULL, (int64_t)i };
			if (e->key == NULL)
				return invalid(&ip, err, "map key not set");
			if (!utf8_valid((const uint8_t *)e->key, e->key_len))
				return invalid(&ip, err, "map key is not UTF-8");
			if ((rc = put_bytes(b, (const uint8_t *)e->key, e->key_len)) != 0)
				break;
			FIRN_TRY(enc(b, s->values, &e->value, &ip, depth + 1, err));
		}
		if (rc == 0)
			rc = put_long(b, 0);
		break;
	default:
		return invalid(path, err, "schema node of type %s", firn_avro_type_name(s->type));
	}
	return rc ? nomem(err) : 0;
}

int firn_avro__encode(struct firn_buf *b, const struct firn_avro_schema *s,
		      const struct firn_avro_value *v, struct firn_error *err)
{
	return enc(b, s, v, NULL, 0, err);
}
