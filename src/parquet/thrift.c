/* Thrift compact protocol (thrift doc/specs/thrift-compact-protocol.md). */
#include "parquet/thrift.h"

void firn_thrift__reader_init(struct thrift_reader *r, const uint8_t *p, size_t n)
{
	r->start = r->p = p;
	r->end = p + n;
	r->depth = 0;
	r->ok = true;
	r->what = NULL;
}

void firn_thrift__fail(struct thrift_reader *r, const char *what)
{
	if (r->ok) {
		r->ok = false;
		r->what = what;
	}
	r->p = r->end;
}

uint64_t firn_thrift__varint(struct thrift_reader *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			firn_thrift__fail(r, "truncated");
			return 0;
		}
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	firn_thrift__fail(r, "varint too long");
	return 0;
}

int64_t firn_thrift__i64(struct thrift_reader *r)
{
	uint64_t u = firn_thrift__varint(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int32_t firn_thrift__i32(struct thrift_reader *r)
{
	int64_t v = firn_thrift__i64(r);
	if (v < INT32_MIN || v > INT32_MAX) {
		firn_thrift__fail(r, "i32 out of range");
		return 0;
	}
	return (int32_t)v;
}

int8_t firn_thrift__i8(struct thrift_reader *r)
{
	if (r->p >= r->end) {
		firn_thrift__fail(r, "truncated");
		return 0;
	}
	return (int8_t)*r->p++;
}

double firn_thrift__double(struct thrift_reader *r)
{
	double d = 0;
	if (r->end - r->p < 8) {
		firn_thrift__fail(r, "truncated");
		return 0;
	}
	memcpy(&d, r->p, 8);
	r->p += 8;
	return d;
}

const uint8_t *firn_thrift__binary(struct thrift_reader *r, int32_t *len)
{
	uint64_t n = firn_thrift__varint(r);
	*len = 0;
	if (!r->ok)
		return NULL;
	if (n > (uint64_t)(r->end - r->p)) {
		firn_thrift__fail(r, "string length past the end");
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	*len = (int32_t)n;
	return p;
}

void firn_thrift__field(struct thrift_reader *r, int *type, int16_t *id, int16_t *last)
{
	*type = TT_STOP;
	*id = 0;
	if (r->p >= r->end) {
		firn_thrift__fail(r, "truncated");
		return;
	}
	uint8_t b = *r->p++;
	if (b == 0)
		return;
	*type = b & 0x0F;
	int delta = b >> 4;
	if (delta != 0) {
		*id = (int16_t)(*last + delta);
	} else {
		int64_t v = firn_thrift__i64(r);
		if (v < INT16_MIN || v > INT16_MAX) {
			firn_thrift__fail(r, "field id out of range");
			*type = TT_STOP;
			return;
		}
		*id = (int16_t)v;
	}
	*last = *id;
	if (*type > TT_UUID) {
		firn_thrift__fail(r, "unknown field type");
		*type = TT_STOP;
	}
}

int32_t firn_thrift__list(struct thrift_reader *r, int *elem_type)
{
	if (r->p >= r->end) {
		firn_thrift__fail(r, "truncated");
		*elem_type = 0;
		return 0;
	}
	uint8_t b = *r->p++;
	*elem_type = b & 0x0F;
	uint64_t n = b >> 4;
	if (n == 15)
		n = firn_thrift__varint(r);
	/* every element takes at least one byte, bools included */
	if (n > (uint64_t)(r->end - r->p)) {
		firn_thrift__fail(r, "list size past the end");
		return 0;
	}
	return (int32_t)n;
}

void firn_thrift__enter(struct thrift_reader *r)
{
	if (++r->depth > 64)
		firn_thrift__fail(r, "nested too deeply");
}

void firn_thrift__leave(struct thrift_reader *r) { r->depth--; }

void firn_thrift__skip(struct thrift_reader *r, int type)
{
	if (!r->ok)
		return;
	switch (type) {
	case TT_TRUE:
	case TT_FALSE:
		/* a bool list element takes a byte; as a field, none (the
		 * caller never skips those through here) */
		return;
	case TT_I8:
		firn_thrift__i8(r);
		return;
	case TT_I16:
	case TT_I32:
	case TT_I64:
		firn_thrift__varint(r);
		return;
	case TT_DOUBLE:
		firn_thrift__double(r);
		return;
	case TT_BINARY: {
		int32_t n;
		firn_thrift__binary(r, &n);
		return;
	}
	case TT_UUID:
		if (r->end - r->p < 16)
			firn_thrift__fail(r, "truncated");
		else
			r->p += 16;
		return;
	case TT_LIST:
	case TT_SET: {
		int et;
		int32_t n = firn_thrift__list(r, &et);
		firn_thrift__enter(r);
		for (int32_t i = 0; i < n && r->ok; i++) {
			if (et == TT_TRUE || et == TT_FALSE)
				firn_thrift__i8(r);
			else
				firn_thrift__skip(r, et);
		}
		firn_thrift__leave(r);
		return;
	}
	case TT_MAP: {
		uint64_t n = firn_thrift__varint(r);
		if (n == 0)
			return;
		if (n > (uint64_t)(r->end - r->p)) {
			firn_thrift__fail(r, "map size past the end");
			return;
		}
		int kt = 0, vt = 0;
		if (r->p < r->end) {
			kt = *r->p >> 4;
			vt = *r->p & 0x0F;
			r->p++;
		}
		firn_thrift__enter(r);
		for (uint64_t i = 0; i < n && r->ok; i++) {
			if (kt == TT_TRUE || kt == TT_FALSE) firn_thrift__i8(r); else firn_thrift__skip(r, kt);
			if (vt == TT_TRUE || vt == TT_FALSE) firn_thrift__i8(r); else firn_thrift__skip(r, vt);
		}
		firn_thrift__leave(r);
		return;
	}
	case TT_STRUCT: {
		firn_thrift__enter(r);
		int16_t last = 0, id;
		int t;
		for (;;) {
			firn_thrift__field(r, &t, &id, &last);
			if (t == TT_STOP || !r->ok)
				break;
			if (t != TT_TRUE && t != TT_FALSE)
				firn_thrift__skip(r, t);
		}
		firn_thrift__leave(r);
		return;
	}
	default:
		firn_thrift__fail(r, "unknown type");
	}
}

/* ---- writing ---- */

void firn_thrift__writer_init(struct thrift_writer *w, struct firn_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void put(struct thrift_writer *w, const void *p, size_t n)
{
	if (w->rc == 0 && firn_buf_append(w->b, p, n) != 0)
		w->rc = FIRN_ENOMEM;
}

void firn_thrift__w_byte(struct thrift_writer *w, uint8_t v) { put(w, &v, 1); }

void firn_thrift__w_varint(struct thrift_writer *w, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	put(w, tmp, (size_t)n);
}

void firn_thrift__w_i64(struct thrift_writer *w, int64_t v)
{
	firn_thrift__w_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void firn_thrift__w_i32(struct thrift_writer *w, int32_t v) { firn_thrift__w_i64(w, v); }

void firn_thrift__w_binary(struct thrift_writer *w, const void *p, int32_t n)
{
	firn_thrift__w_varint(w, (uint64_t)n);
	put(w, p, (size_t)n);
}

void firn_thrift__w_field(struct thrift_writer *w, int type, int16_t id)
{
	int16_t *last = &w->last[w->depth];
	int delta = id - *last;
	if (delta > 0 && delta <= 15) {
		firn_thrift__w_byte(w, (uint8_t)(delta << 4 | type));
	} else {
		firn_thrift__w_byte(w, (uint8_t)type);
		firn_thrift__w_i64(w, id);
	}
	*last = id;
}

void firn_thrift__w_list(struct thrift_writer *w, int elem_type, int32_t size)
{
	if (size < 15) {
		firn_thrift__w_byte(w, (uint8_t)(size << 4 | elem_type));
	} else {
		firn_thrift__w_byte(w, (uint8_t)(0xF0 | elem_type));
		firn_thrift__w_varint(w, (uint64_t)size);
	}
}

void firn_thrift__w_begin(struct thrift_writer *w)
{
	if (w->depth < 63)
		w->depth++;
	w->last[w->depth] = 0;
}

void firn_thrift__w_end(struct thrift_writer *w)
{
	firn_thrift__w_byte(w, 0);
	if (w->depth > 0)
		w->depth--;
}

void firn_thrift__f_i32(struct thrift_writer *w, int16_t id, int32_t v)
{
	firn_thrift__w_field(w, TT_I32, id);
	firn_thrift__w_i32(w, v);
}

void firn_thrift__f_i64(struct thrift_writer *w, int16_t id, int64_t v)
{
	firn_thrift__w_field(w, TT_I64, id);
	firn_thrift__w_i64(w, v);
}

void firn_thrift__f_bool(struct thrift_writer *w, int16_t id, bool v)
{
	firn_thrift__w_field(w, v ? TT_TRUE : TT_FALSE, id);
}

void firn_thrift__f_binary(struct thrift_writer *w, int16_t id, const void *p, int32_t n)
{
	firn_thrift__w_field(w, TT_BINARY, id);
	firn_thrift__w_binary(w, p, n);
}

void firn_thrift__f_string(struct thrift_writer *w, int16_t id, const char *s)
{
	firn_thrift__f_binary(w, id, s, (int32_t)strlen(s));
}
