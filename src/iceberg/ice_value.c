/* Iceberg single values: from Arrow arrays, ordering, hashing, the binary
 * and JSON single-value forms, and literals parsed from text. */
#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/types.h"
#include "iceberg/ice_datum.h"

void firn_ice__datum_from_array(const struct firn_type *t, const struct ArrowArray *a,
				int64_t i, struct firn_datum *out)
{
	memset(out, 0, sizeof(*out));
	int64_t j = a->offset + i;
	if (t->id == FIRN_A_NULL ||
	    (a->null_count != 0 && a->n_buffers > 0 && !firn_bit_get(a->buffers[0], j))) {
		out->null = true;
		return;
	}
	const void *v = a->buffers[1];
	switch (t->id) {
	case FIRN_A_BOOL: out->v.b = firn_bit_get(v, j); break;
	case FIRN_A_INT32:
	case FIRN_A_DATE32: out->v.i32 = ((const int32_t *)v)[j]; break;
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: out->v.i64 = ((const int64_t *)v)[j]; break;
	case FIRN_A_FLOAT: out->v.f32 = ((const float *)v)[j]; break;
	case FIRN_A_DOUBLE: out->v.f64 = ((const double *)v)[j]; break;
	case FIRN_A_DECIMAL: memcpy(&out->v.dec, (const uint8_t *)v + 16 * j, 16); break;
	case FIRN_A_FIXED:
		out->v.bin.p = (const uint8_t *)v + (int64_t)t->width * j;
		out->v.bin.n = (size_t)t->width;
		break;
	case FIRN_A_STRING:
	case FIRN_A_BINARY: {
		const int32_t *o = v;
		out->v.bin.p = (const uint8_t *)a->buffers[2] + o[j];
		out->v.bin.n = (size_t)(o[j + 1] - o[j]);
		break;
	}
	default: out->null = true; break;
	}
}

/* IEEE totalOrder key of a double (NaN sign respected). */
static int64_t order_key(double d)
{
	int64_t k;
	memcpy(&k, &d, 8);
	return k < 0 ? (int64_t)(k ^ INT64_MAX) : k;
}

static int cmp_bytes(const struct firn_datum *a, const struct firn_datum *b)
{
	size_t n = a->v.bin.n < b->v.bin.n ? a->v.bin.n : b->v.bin.n;
	int c = n ? memcmp(a->v.bin.p, b->v.bin.p, n) : 0;
	if (c)
		return c;
	return a->v.bin.n < b->v.bin.n ? -1 : a->v.bin.n > b->v.bin.n;
}

int firn_ice__datum_compare(const struct firn_type *t, const struct firn_datum *a,
			    const struct firn_datum *b)
{
	switch (t->id) {
	case FIRN_A_BOOL: return (int)a->v.b - (int)b->v.b;
	case FIRN_A_INT32:
	case FIRN_A_DATE32: return (a->v.i32 > b->v.i32) - (a->v.i32 < b->v.i32);
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: return (a->v.i64 > b->v.i64) - (a->v.i64 < b->v.i64);
	case FIRN_A_FLOAT: {
		int64_t x = order_key(a->v.f32), y = order_key(b->v.f32);
		return (x > y) - (x < y);
	}
	case FIRN_A_DOUBLE: {
		int64_t x = order_key(a->v.f64), y = order_key(b->v.f64);
		return (x > y) - (x < y);
	}
	case FIRN_A_DECIMAL: return (a->v.dec > b->v.dec) - (a->v.dec < b->v.dec);
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
	case FIRN_A_FIXED: return cmp_bytes(a, b);
	default: return 0;
	}
}

bool firn_ice__datum_equal(const struct firn_type *t, const struct firn_datum *a,
			   const struct firn_datum *b)
{
	if (a->null || b->null)
		return a->null == b->null;
	if (t->id == FIRN_A_FLOAT && isnan(a->v.f32) && isnan(b->v.f32))
		return true;
	if (t->id == FIRN_A_DOUBLE && isnan(a->v.f64) && isnan(b->v.f64))
		return true;
	return firn_ice__datum_compare(t, a, b) == 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

uint64_t firn_ice__datum_hash(const struct firn_type *t, const struct firn_datum *d)
{
	uint64_t h = 1469598103934665603ULL;
	if (d->null)
		return 7;
	switch (t->id) {
	case FIRN_A_BOOL: return d->v.b ? 11 : 13;
	case FIRN_A_INT32:
	case FIRN_A_DATE32: return fnv(h, &d->v.i32, 4);
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: return fnv(h, &d->v.i64, 8);
	case FIRN_A_FLOAT: return isnan(d->v.f32) ? 17 : fnv(h, &d->v.f32, 4);
	case FIRN_A_DOUBLE: return isnan(d->v.f64) ? 17 : fnv(h, &d->v.f64, 8);
	case FIRN_A_DECIMAL: return fnv(h, &d->v.dec, 16);
	default: return fnv(h, d->v.bin.p, d->v.bin.n);
	}
}

/* ---- binary single values ------------------------------------------- */

static int put_dec(struct firn_buf *out, __int128 v)
{
	uint8_t be[16];
	for (int i = 15; i >= 0; i--) {
		be[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	/* minimal: drop leading bytes that only repeat the sign */
	int start = 0;
	while (start < 15 && ((be[start] == 0x00 && !(be[start + 1] & 0x80)) ||
			      (be[start] == 0xff && (be[start + 1] & 0x80))))
		start++;
	return firn_buf_append(out, be + start, (size_t)(16 - start));
}

int firn_ice__datum_to_bytes(const struct firn_type *t, const struct firn_datum *d,
			     struct firn_buf *out)
{
	switch (t->id) {
	case FIRN_A_BOOL: return firn_buf_putc(out, d->v.b ? 1 : 0);
	case FIRN_A_INT32:
	case FIRN_A_DATE32: return firn_buf_append(out, &d->v.i32, 4);
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: return firn_buf_append(out, &d->v.i64, 8);
	case FIRN_A_FLOAT: return firn_buf_append(out, &d->v.f32, 4);
	case FIRN_A_DOUBLE: return firn_buf_append(out, &d->v.f64, 8);
	case FIRN_A_DECIMAL: return put_dec(out, d->v.dec);
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
	case FIRN_A_FIXED: return d->v.bin.n ? firn_buf_append(out, d->v.bin.p, d->v.bin.n) : firn_buf_reserve(out, 1);
	default: return FIRN_EUNSUPPORTED;
	}
}

int firn_ice__datum_from_bytes(const struct firn_type *t, const uint8_t *p, size_t n,
			       struct firn_datum *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	switch (t->id) {
	case FIRN_A_BOOL:
		if (n != 1)
			break;
		out->v.b = p[0] != 0;
		return 0;
	case FIRN_A_INT32:
	case FIRN_A_DATE32:
		if (n != 4)
			break;
		memcpy(&out->v.i32, p, 4);
		return 0;
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
		if (n == 4) { /* written as int before a promotion */
			int32_t v;
			memcpy(&v, p, 4);
			out->v.i64 = v;
			return 0;
		}
		if (n != 8)
			break;
		memcpy(&out->v.i64, p, 8);
		return 0;
	case FIRN_A_TIMESTAMP:
		if (n == 4) { /* written as date (days) before a promotion */
			int32_t v;
			memcpy(&v, p, 4);
			out->v.i64 = (int64_t)v * 86400 * (t->unit_digits == 9 ? 1000000000LL : 1000000LL);
			return 0;
		}
		if (n != 8)
			break;
		memcpy(&out->v.i64, p, 8);
		return 0;
	case FIRN_A_FLOAT:
		if (n != 4)
			break;
		memcpy(&out->v.f32, p, 4);
		return 0;
	case FIRN_A_DOUBLE:
		if (n == 4) {
			float f;
			memcpy(&f, p, 4);
			out->v.f64 = f;
			return 0;
		}
		if (n != 8)
			break;
		memcpy(&out->v.f64, p, 8);
		return 0;
	case FIRN_A_DECIMAL: {
		if (n < 1 || n > 16)
			break;
		__int128 x = (p[0] & 0x80) ? -1 : 0;
		for (size_t i = 0; i < n; i++)
			x = (__int128)((unsigned __int128)x << 8) | p[i];
		out->v.dec = x;
		return 0;
	}
	case FIRN_A_FIXED:
		if ((int64_t)n != t->width)
			break;
		/* fall through */
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
		out->v.bin.p = p;
		out->v.bin.n = n;
		return 0;
	default:
		return firn_error_set(err, FIRN_EUNSUPPORTED, "no single-value form for this type");
	}
	return firn_error_set(err, FIRN_ECORRUPT, "bound of %zu bytes does not fit its column type", n);
}

/* ---- text forms ------------------------------------------------------ */

static int put_text(const struct firn_type *t, const struct firn_datum *d, struct firn_buf *out,
		    bool json)
{
	char buf[64];
	if (d->null)
		return firn_buf_puts(out, "null");
	switch (t->id) {
	case FIRN_A_BOOL: return firn_buf_puts(out, d->v.b ? "true" : "false");
	case FIRN_A_INT32: return firn_buf_printf(out, "%d", d->v.i32);
	case FIRN_A_INT64: return firn_buf_printf(out, "%lld", (long long)d->v.i64);
	case FIRN_A_FLOAT:
	case FIRN_A_DOUBLE: {
		double v = t->id == FIRN_A_FLOAT ? d->v.f32 : d->v.f64;
		if (isnan(v) || isinf(v)) {
			const char *s = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
			return json ? firn_buf_printf(out, "\"%s\"", s) : firn_buf_puts(out, s);
		}
		if (t->id == FIRN_A_FLOAT)
			firn_float_format(d->v.f32, buf, sizeof(buf));
		else
			firn_double_format(v, buf, sizeof(buf));
		return firn_buf_puts(out, buf);
	}
	default: break;
	}
	if (json)
		firn_buf_putc(out, '"');
	switch (t->id) {
	case FIRN_A_DECIMAL:
		firn_arrow__decimal_format(d->v.dec, t->scale, buf);
		firn_buf_puts(out, buf);
		break;
	case FIRN_A_DATE32: firn_date_format(d->v.i32, buf, sizeof(buf)); firn_buf_puts(out, buf); break;
	case FIRN_A_TIME64: firn_time_format(d->v.i64, buf, sizeof(buf)); firn_buf_puts(out, buf); break;
	case FIRN_A_TIMESTAMP:
		firn_timestamp_format(d->v.i64, t->unit_digits == 9 ? 9 : 6, t->tz, buf, sizeof(buf));
		firn_buf_puts(out, buf);
		break;
	case FIRN_A_STRING:
		for (size_t i = 0; i < d->v.bin.n; i++) {
			uint8_t c = d->v.bin.p[i];
			if (json && (c == '"' || c == '\\'))
				firn_buf_printf(out, "\\%c", c);
			else if (json && c < 0x20)
				firn_buf_printf(out, "\\u%04x", c);
			else
				firn_buf_putc(out, c);
		}
		break;
	case FIRN_A_FIXED:
		if (t->uuid && d->v.bin.n == 16) {
			char u[37];
			firn_uuid_format(d->v.bin.p, u);
			firn_buf_puts(out, u);
			break;
		}
		/* fall through */
	case FIRN_A_BINARY:
		for (size_t i = 0; i < d->v.bin.n; i++)
			firn_buf_printf(out, "%02x", d->v.bin.p[i]);
		break;
	default: break;
	}
	if (json)
		firn_buf_putc(out, '"');
	return 0;
}

int firn_ice__datum_to_json(const struct firn_type *t, const struct firn_datum *d,
			    struct firn_buf *out)
{
	return put_text(t, d, out, true);
}

int firn_ice__datum_to_text(const struct firn_type *t, const struct firn_datum *d,
			    struct firn_buf *out)
{
	return put_text(t, d, out, false);
}

static int cannot(struct firn_error *err, const char *s, size_t n, const struct firn_type *t)
{
	char name[FIRN_TYPE_NAME_MAX];
	return firn_error_set(err, FIRN_EINVAL, "cannot read '%.*s' as %s", (int)n, s,
			      firn_arrow__type_name(t, name));
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	char buf[32];
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int firn_ice__datum_parse(const struct firn_type *t, const char *s, size_t n,
			  struct firn_arena *arena, struct firn_datum *out,
			  struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	int64_t v;
	switch (t->id) {
	case FIRN_A_BOOL:
		if (n == 4 && strncasecmp(s, "true", 4) == 0)
			out->v.b = true;
		else if (n == 5 && strncasecmp(s, "false", 5) == 0)
			out->v.b = false;
		else
			return cannot(err, s, n, t);
		return 0;
	case FIRN_A_INT32:
		if (!parse_i64(s, n, &v) || v < INT32_MIN || v > INT32_MAX)
			return cannot(err, s, n, t);
		out->v.i32 = (int32_t)v;
		return 0;
	case FIRN_A_INT64:
		if (!parse_i64(s, n, &v))
			return cannot(err, s, n, t);
		out->v.i64 = v;
		return 0;
	case FIRN_A_FLOAT:
	case FIRN_A_DOUBLE: {
		char buf[64];
		if (n == 0 || n >= sizeof(buf))
			return cannot(err, s, n, t);
		memcpy(buf, s, n);
		buf[n] = '\0';
		char *end;
		double d;
		if (strcmp(buf, "NaN") == 0)
			d = NAN;
		else if (strcmp(buf, "Infinity") == 0)
			d = INFINITY;
		else if (strcmp(buf, "-Infinity") == 0)
			d = -INFINITY;
		else {
			d = strtod(buf, &end);
			if (*end || end == buf)
				return cannot(err, s, n, t);
		}
		if (t->id == FIRN_A_FLOAT)
			out->v.f32 = (float)d;
		else
			out->v.f64 = d;
		return 0;
	}
	case FIRN_A_DECIMAL:
		if (!firn_arrow__decimal_parse(s, n, t->precision, t->scale, &out->v.dec))
			return cannot(err, s, n, t);
		return 0;
	case FIRN_A_DATE32: {
		int32_t days;
		if (firn_date_parse(s, n, &days) != 0)
			return cannot(err, s, n, t);
		out->v.i32 = days;
		return 0;
	}
	case FIRN_A_TIME64:
		if (firn_time_parse(s, n, &out->v.i64) != 0)
			return cannot(err, s, n, t);
		return 0;
	case FIRN_A_TIMESTAMP: {
		int digits = t->unit_digits == 9 ? 9 : 6;
		if (firn_timestamp_parse(s, n, digits, &out->v.i64) == 0)
			return 0;
		int32_t days; /* a date alone: midnight */
		if (firn_date_parse(s, n, &days) == 0) {
			out->v.i64 = (int64_t)days * 86400 * (digits == 9 ? 1000000000LL : 1000000LL);
			return 0;
		}
		return cannot(err, s, n, t);
	}
	case FIRN_A_STRING: {
		char *c = firn_arena_strndup(arena, s, n);
		if (!c)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		out->v.bin.p = (const uint8_t *)c;
		out->v.bin.n = n;
		return 0;
	}
	case FIRN_A_FIXED:
		if (t->uuid) {
			uint8_t *u = firn_arena_alloc(arena, 16);
			if (!u)
				return firn_error_set(err, FIRN_ENOMEM, "out of memory");
			if (firn_uuid_parse(s, n, u) != 0)
				return cannot(err, s, n, t);
			out->v.bin.p = u;
			out->v.bin.n = 16;
			return 0;
		}
		/* fall through */
	case FIRN_A_BINARY: {
		if (n % 2)
			return cannot(err, s, n, t);
		uint8_t *b = firn_arena_alloc(arena, n / 2 + 1);
		if (!b)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < n / 2; i++) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return cannot(err, s, n, t);
			b[i] = (uint8_t)(hi << 4 | lo);
		}
		if (t->id == FIRN_A_FIXED && (int64_t)(n / 2) != t->width)
			return cannot(err, s, n, t);
		out->v.bin.p = b;
		out->v.bin.n = n / 2;
		return 0;
	}
	default:
		return cannot(err, s, n, t);
	}
}
