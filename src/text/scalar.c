/* Scalar values from text: the parsing shared by the CSV and JSON Lines
 * readers (a cell or a JSON string into a column's type), and the kinds a
 * text value can be read as, for type inference. Both readers use this file;
 * it uses neither. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "text/text_internal.h"

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((uint8_t)(*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((uint8_t)(*s)[*n - 1]))
		(*n)--;
}

static bool parse_i64(const char *s, size_t n, int64_t *out, bool *overflow)
{
	size_t i = 0;
	bool neg = false;
	*overflow = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9)
			return false;
		if (v > (limit - d) / 10)
			*overflow = true;
		else
			v = v * 10 + d;
	}
	if (*overflow)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static const double p10d[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Clinger's fast path: at most 15 digits and a small exponent make one
 * correctly rounded multiplication or division, exactly what strtod gives. */
static bool fast_f64(const char *s, size_t n, double *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	uint64_t m = 0;
	int nd = 0, frac = 0, seen = 0;
	bool dot = false;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '.' && !dot) {
			dot = true;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		seen++;
		if (dot)
			frac++;
		if (m == 0 && c == '0')
			continue;
		if (++nd > 15)
			return false;
		m = m * 10 + (uint64_t)(c - '0');
	}
	if (seen == 0)
		return false;
	int e = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (e > 1000)
				return false;
			e = e * 10 + (s[i] - '0');
		}
		if (eneg)
			e = -e;
	}
	if (i != n)
		return false;
	e -= frac;
	double v = (double)m;
	if (e < -22 || e > 22)
		return false;
	v = e < 0 ? v / p10d[-e] : v * p10d[e];
	*out = neg ? -v : v;
	return true;
}

static bool parse_f64(const char *s, size_t n, bool single, double *out)
{
	if (!single && fast_f64(s, n, out))
		return true;
	char stack[64];
	char *tmp = n < sizeof(stack) ? stack : firn_malloc(n + 1);
	if (tmp == NULL || n == 0) {
		if (tmp != stack)
			firn_free(tmp);
		return false;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	bool ok;
	if (single) {
		float v = strtof(tmp, &end);
		*out = v;
	} else {
		*out = strtod(tmp, &end);
	}
	ok = end == tmp + n && !(n > 1 && (tmp[1] == 'x' || tmp[1] == 'X' || tmp[2] == 'x' ||
					  tmp[2] == 'X'));
	/* a finite text that overflowed */
	if (ok && isinf(*out) && memchr(tmp, 'i', n) == NULL && memchr(tmp, 'I', n) == NULL)
		ok = false;
	if (tmp != stack)
		firn_free(tmp);
	return ok;
}

static bool parse_bool(const char *s, size_t n, bool *out)
{
	if ((n == 1 && s[0] == '1') || (n == 4 && strncasecmp(s, "true", 4) == 0)) {
		*out = true;
		return true;
	}
	if ((n == 1 && s[0] == '0') || (n == 5 && strncasecmp(s, "false", 5) == 0)) {
		*out = false;
		return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *s, size_t n, uint8_t *out)
{
	if (n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool parse_uuid(const char *s, size_t n, uint8_t out[16])
{
	char hex[32];
	size_t k = 0;
	if (n == 36) {
		for (size_t i = 0; i < n; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (s[i] != '-')
					return false;
			} else {
				hex[k++] = s[i];
			}
		}
		s = hex;
		n = 32;
	}
	return n == 32 && parse_hex(s, 32, out);
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		int len;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + (size_t)len > n)
			return false;
		for (int k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += (size_t)len;
	}
	return true;
}

/* Whether the fraction of a (parsed) timestamp text has a nonzero digit
 * past the first `digits`. */
static bool finer_than(const char *s, size_t n, int digits)
{
	const char *dot = memchr(s, '.', n);
	if (dot == NULL)
		return false;
	for (size_t i = (size_t)(dot - s) + 1, k = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
		if (k >= (size_t)digits && s[i] != '0')
			return true;
	return false;
}

static int bad_value(const struct firn_text__field *f, const char *s, size_t n,
		     struct firn_error *err)
{
	int shown = n > 64 ? 64 : (int)n;
	return firn_error_set(err, FIRN_EINVAL, "column %s: '%.*s%s' is not a%s %s", f->path,
			      shown, s, n > 64 ? "..." : "",
			      strchr("aeio", f->type_name[0]) ? "n" : "", f->type_name);
}

static int append_rc(int rc, const struct firn_text__field *f, struct firn_error *err)
{
	if (rc == FIRN_EINVAL)
		return firn_error_set(err, FIRN_EINVAL,
				      "column %s: more than 2 GiB of data in one batch; use smaller batches",
				      f->path);
	if (rc != 0)
		return nomem(err);
	return 0;
}

int firn_text__append_null(struct firn_builder *b, const struct firn_text__field *f,
			   struct firn_error *err)
{
	if (!f->nullable)
		return firn_error_set(err, FIRN_EINVAL, "column %s: null in a required field",
				      f->path);
	return append_rc(firn_builder_append_null(b), f, err);
}

/* Bytes decoded from hex: a stack buffer for the usual short values. */
static int append_hex(struct firn_builder *b, const struct firn_text__field *f,
		      const char *s, size_t n, struct firn_error *err)
{
	bool fixed = f->type.id == FIRN_A_FIXED;
	if (fixed && (f->type.uuid ? false : n != 2 * (size_t)f->type.width))
		return bad_value(f, s, n, err);
	uint8_t stack[256];
	size_t len = f->type.uuid ? 16 : n / 2;
	uint8_t *tmp = len <= sizeof(stack) ? stack : firn_malloc(len);
	if (tmp == NULL)
		return nomem(err);
	bool ok = f->type.uuid ? parse_uuid(s, n, tmp) : parse_hex(s, n, tmp);
	int rc;
	if (!ok)
		rc = bad_value(f, s, n, err);
	else if (fixed)
		rc = append_rc(firn_builder_append_fixed(b, tmp), f, err);
	else
		rc = append_rc(firn_builder_append_bytes(b, tmp, len), f, err);
	if (tmp != stack)
		firn_free(tmp);
	return rc;
}

int firn_text__append_scalar(struct firn_builder *b, const struct firn_text__field *f,
			     const char *s, size_t n, struct firn_error *err)
{
	const struct firn_type *t = &f->type;
	if (t->id == FIRN_A_STRING) {
		if (!utf8_valid((const uint8_t *)s, n))
			return firn_error_set(err, FIRN_EINVAL, "column %s: not valid UTF-8", f->path);
		return append_rc(firn_builder_append_bytes(b, s, n), f, err);
	}
	const char *s0 = s;
	size_t n0 = n;
	trim(&s, &n);
	int64_t i64;
	double d;
	bool over, bv;
	switch (t->id) {
	case FIRN_A_NULL:
		return firn_text__append_null(b, f, err);
	case FIRN_A_BOOL:
		if (!parse_bool(s, n, &bv))
			return bad_value(f, s0, n0, err);
		return append_rc(firn_builder_append_bool(b, bv), f, err);
	case FIRN_A_INT32:
	case FIRN_A_INT64:
		if (!parse_i64(s, n, &i64, &over) ||
		    (t->id == FIRN_A_INT32 && (i64 < INT32_MIN || i64 > INT32_MAX))) {
			if (!over && t->id == FIRN_A_INT64)
				return bad_value(f, s0, n0, err);
			if (!over && !parse_i64(s, n, &i64, &over))
				return bad_value(f, s0, n0, err);
			return firn_error_set(err, FIRN_EINVAL,
					      "column %s: '%.*s' is out of range for %s",
					      f->path, (int)(n > 64 ? 64 : n), s, f->type_name);
		}
		if (t->id == FIRN_A_INT32)
			return append_rc(firn_builder_append_i32(b, (int32_t)i64), f, err);
		return append_rc(firn_builder_append_i64(b, i64), f, err);
	case FIRN_A_FLOAT:
	case FIRN_A_DOUBLE:
		if (!parse_f64(s, n, t->id == FIRN_A_FLOAT, &d))
			return bad_value(f, s0, n0, err);
		if (t->id == FIRN_A_FLOAT)
			return append_rc(firn_builder_append_f32(b, (float)d), f, err);
		return append_rc(firn_builder_append_f64(b, d), f, err);
	case FIRN_A_DECIMAL: {
		__int128 x;
		uint8_t v[16];
		if (t->width != 16 || !firn_arrow__decimal_parse(s, n, t->precision, t->scale, &x))
			return bad_value(f, s0, n0, err);
		firn_arrow__i128_store(v, x);
		return append_rc(firn_builder_append_fixed(b, v), f, err);
	}
	case FIRN_A_DATE32: {
		int32_t days;
		if (firn_date_parse(s, n, &days) != 0)
			return bad_value(f, s0, n0, err);
		return append_rc(firn_builder_append_i32(b, days), f, err);
	}
	case FIRN_A_TIME64:
		if (t->unit_digits == 6) {
			if (firn_time_parse(s, n, &i64) != 0)
				return bad_value(f, s0, n0, err);
		} else {
			/* nanoseconds: read as a time on day 0 */
			char tmp[48];
			if (n > 30)
				return bad_value(f, s0, n0, err);
			memcpy(tmp, "1970-01-01T", 11);
			memcpy(tmp + 11, s, n);
			int64_t micros;
			if (firn_time_parse(s, n, &micros) != 0 ||
			    firn_timestamp_parse(tmp, n + 11, 9, &i64) != 0)
				return bad_value(f, s0, n0, err);
		}
		return append_rc(firn_builder_append_i64(b, i64), f, err);
	case FIRN_A_TIMESTAMP:
		if (firn_timestamp_parse(s, n, t->unit_digits, &i64) != 0)
			return bad_value(f, s0, n0, err);
		if (f->exact_ts && finer_than(s, n, t->unit_digits))
			return firn_error_set(err, FIRN_EINVAL,
					      "value %.*s has sub-microsecond digits; column %s is %s (µs); "
					      "pass --truncate-timestamps to drop them",
					      (int)(n > 64 ? 64 : n), s, f->path, f->type_name);
		return append_rc(firn_builder_append_i64(b, i64), f, err);
	case FIRN_A_BINARY:
	case FIRN_A_FIXED:
		return append_hex(b, f, s, n, err);
	case FIRN_A_STRUCT:
	case FIRN_A_LIST:
	case FIRN_A_MAP:
		return firn_jsonl__append_text(b, f, s, n, err);
	case FIRN_A_STRING:
		break;
	}
	return firn_error_set(err, FIRN_EUNSUPPORTED, "column %s: cannot read %s from text",
			      f->path, f->type_name);
}

/* ---- inference of flat types ---- */

unsigned firn_text__kinds(const char *s, size_t n)
{
	trim(&s, &n);
	if (n == 0)
		return FIRN_TEXT__K_ALL;
	int64_t i64;
	double d;
	bool over, bv;
	if (parse_i64(s, n, &i64, &over)) {
		unsigned k = FIRN_TEXT__K_LONG | FIRN_TEXT__K_DOUBLE | FIRN_TEXT__K_STRING;
		if (n == 1 && (s[0] == '0' || s[0] == '1'))
			k |= FIRN_TEXT__K_BOOL;
		return k;
	}
	if (parse_bool(s, n, &bv))
		return FIRN_TEXT__K_BOOL | FIRN_TEXT__K_STRING;
	char c = s[0];
	bool numeric = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'N' ||
		       c == 'n' || c == 'I' || c == 'i';
	if (n >= 10 && ((c >= '0' && c <= '9') || c == '-' || c == '+')) {
		int32_t days;
		const unsigned ns = FIRN_TEXT__K_TSNS | FIRN_TEXT__K_TSTZNS;
		if (firn_date_parse(s, n, &days) == 0)
			return FIRN_TEXT__K_DATE | FIRN_TEXT__K_TS | FIRN_TEXT__K_TSTZ | ns |
			       FIRN_TEXT__K_STRING;
		bool us_ok = firn_timestamp_parse(s, n, 6, &i64) == 0 && !finer_than(s, n, 6);
		bool ns_ok = firn_timestamp_parse(s, n, 9, &i64) == 0;
		if (us_ok || ns_ok) {
			bool offset = s[n - 1] == 'Z' || s[n - 1] == 'z';
			for (size_t i = 11; i < n && !offset; i++)
				offset = s[i] == '+' || s[i] == '-';
			/* sub-microsecond digits: only a nanosecond type holds them */
			unsigned k = FIRN_TEXT__K_STRING;
			if (us_ok)
				k |= offset ? FIRN_TEXT__K_TSTZ : FIRN_TEXT__K_TS | FIRN_TEXT__K_TSTZ;
			if (ns_ok)
				k |= offset ? FIRN_TEXT__K_TSTZNS : ns;
			return k;
		}
	}
	if (numeric && parse_f64(s, n, false, &d))
		return FIRN_TEXT__K_DOUBLE | FIRN_TEXT__K_STRING;
	return FIRN_TEXT__K_STRING;
}

const char *firn_text__kind_name(unsigned k)
{
	if (k == FIRN_TEXT__K_ALL)
		return "string";
	if (k & FIRN_TEXT__K_LONG)
		return "long";
	if (k & FIRN_TEXT__K_DOUBLE)
		return "double";
	if (k & FIRN_TEXT__K_BOOL)
		return "boolean";
	if (k & FIRN_TEXT__K_DATE)
		return "date";
	if (k & FIRN_TEXT__K_TS)
		return "timestamp";
	if (k & FIRN_TEXT__K_TSTZ)
		return "timestamptz";
	if (k & FIRN_TEXT__K_TSNS)
		return "timestamp_ns";
	if (k & FIRN_TEXT__K_TSTZNS)
		return "timestamptz_ns";
	return "string";
}
