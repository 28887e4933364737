/* The text reader: CSV and JSON Lines files (or stdin) into Arrow struct
 * batches, parsing scalar values from text, and CSV type inference.
 *
 * CSV: a header row names the columns; RFC 4180 quoting; an unquoted empty
 * cell is null, a quoted empty cell ("") an empty string or binary. Blank
 * lines are skipped when there is more than one column (with one column an
 * empty line is a null, which is what the writer prints for it). Nested
 * columns hold JSON text.
 *
 * Inference (no schema): every column gets the narrowest of long, double,
 * boolean, date, timestamp, timestamptz, timestamp_ns, timestamptz_ns,
 * string that reads all its non-empty values (timestamptz when some value
 * has an offset, a nanosecond type when some value has non-zero digits past
 * the microseconds; all empty: string).
 * JSON Lines inference is in jsonl.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "firn/text.h"
#include "text/text_internal.h"

#define CHUNK (1 << 20)
#define DEFAULT_BATCH 65536

struct csv_field {
	size_t off, len;
	bool quoted;
	bool scratch; /* text is in r->scratch (quotes were unescaped) */
};

struct firn_text_reader {
	char *path; /* as shown in messages */
	enum firn_text_format fmt;
	FILE *f;
	bool close_f;
	bool in_memory; /* the whole input is in buf (stdin while inferring) */
	struct firn_buf buf;
	size_t pos;
	bool eof;
	int64_t line; /* line number of the next record */

	struct ArrowSchema schema;
	struct firn_text__field root;
	struct firn_builder builder;
	bool builder_ready;
	int64_t batch_rows;
	bool done;
	struct firn_error failed; /* code != 0: every later call returns this */

	/* CSV */
	struct csv_field *flds;
	size_t nflds, flds_cap;
	struct firn_buf scratch;
	int64_t ncsv;        /* columns in the header */
	struct firn_buf hdr; /* their names, back to back */
	size_t *hdr_off;     /* ncsv + 1 offsets into hdr */
	int64_t *field_col;  /* field -> CSV column, or -1 */

	/* JSON Lines: top-level fields some row has had a key for */
	bool *seen;
};

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* ---- scalar values from text ---- */

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

/* [+-]digits[.digits][e[+-]digits], exact at `scale`, at most `prec` digits,
 * into 16 bytes of little-endian two's complement. Extra fraction digits
 * are allowed only when they are zeros (nothing is rounded). */
static bool parse_decimal(const char *s, size_t n, int prec, int scale, uint8_t out[16])
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	char dig[80];
	int nd = 0, nfrac = 0, seen = 0;
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
			nfrac++;
		if (nd == 0 && c == '0')
			continue; /* leading zeros */
		if (nd == (int)sizeof(dig))
			return false;
		dig[nd++] = c;
	}
	if (seen == 0)
		return false;
	long e = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		if (eneg)
			e = -e;
	}
	if (i != n)
		return false;
	/* value = dig * 10^(e - nfrac); wanted: unscaled = value * 10^scale */
	long shift = (long)scale + e - nfrac;
	if (shift < 0) {
		/* drop -shift trailing digits, which must be zeros */
		for (long k = 0; k < -shift; k++) {
			if (nd == 0)
				break;
			if (dig[nd - 1] != '0')
				return false;
			nd--;
		}
		shift = 0;
	}
	if (nd == 0)
		shift = 0;
	if (nd + shift > prec)
		return false;
	uint32_t limb[4] = { 0 };
	for (long k = 0; k < nd + shift; k++) {
		uint64_t carry = k < nd ? (uint64_t)(dig[k] - '0') : 0;
		for (int l = 0; l < 4; l++) {
			uint64_t v = (uint64_t)limb[l] * 10 + carry;
			limb[l] = (uint32_t)v;
			carry = v >> 32;
		}
	}
	if (neg) {
		uint64_t carry = 1;
		for (int l = 0; l < 4; l++) {
			uint64_t v = (uint64_t)(uint32_t)~limb[l] + carry;
			limb[l] = (uint32_t)v;
			carry = v >> 32;
		}
	}
	for (int l = 0; l < 4; l++)
		for (int b = 0; b < 4; b++)
			out[4 * l + b] = (uint8_t)(limb[l] >> (8 * b));
	return true;
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
		uint8_t v[16];
		if (t->width != 16 || !parse_decimal(s, n, t->precision, t->scale, v))
			return bad_value(f, s0, n0, err);
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

/* ---- input ---- */

static int fill(struct firn_text_reader *r, struct firn_error *err)
{
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf.data, r->buf.data + r->pos, r->buf.len - r->pos);
		r->buf.len -= r->pos;
		r->pos = 0;
	}
	size_t want = r->buf.len < CHUNK ? CHUNK : r->buf.len;
	if (firn_buf_reserve(&r->buf, want) != 0)
		return nomem(err);
	size_t got = fread(r->buf.data + r->buf.len, 1, r->buf.cap - r->buf.len, r->f);
	r->buf.len += got;
	if (got == 0) {
		if (ferror(r->f))
			return firn_error_set(err, FIRN_EIO, "%s: read failed", r->path);
		r->eof = true;
	}
	return 0;
}

/* Back to the first byte (after a UTF-8 byte order mark). */
static int rewind_input(struct firn_text_reader *r, struct firn_error *err)
{
	r->line = 1;
	if (r->in_memory) {
		r->pos = 0;
	} else {
		if (fseek(r->f, 0, SEEK_SET) != 0)
			return firn_error_set(err, FIRN_EIO, "%s: cannot seek back to the start",
					      r->path);
		clearerr(r->f);
		r->buf.len = r->pos = 0;
		r->eof = false;
		FIRN_TRY(fill(r, err));
	}
	if (r->buf.len - r->pos >= 3 && memcmp(r->buf.data + r->pos, "\xEF\xBB\xBF", 3) == 0)
		r->pos += 3;
	return 0;
}

static int fail(struct firn_text_reader *r, int rc, struct firn_error *err)
{
	r->failed = *err;
	r->failed.code = rc;
	return rc;
}

/* ---- CSV records ---- */

enum { REC_EOF = 0, REC_OK = 1, REC_MORE = 2 };

static int push_field(struct firn_text_reader *r, const struct csv_field *fl)
{
	if (r->nflds == r->flds_cap) {
		size_t cap = r->flds_cap ? r->flds_cap * 2 : 64;
		struct csv_field *p = firn_realloc(r->flds, cap * sizeof(*p));
		if (p == NULL)
			return FIRN_ENOMEM;
		r->flds = p;
		r->flds_cap = cap;
	}
	r->flds[r->nflds++] = *fl;
	return 0;
}

/* One record from buf at pos: REC_OK (fields in r->flds), REC_EOF, REC_MORE
 * (needs more input; nothing consumed), or an error. */
static int csv_scan(struct firn_text_reader *r, struct firn_error *err)
{
	const uint8_t *d = r->buf.data;
	size_t end = r->buf.len, p = r->pos;
	int64_t nl = 0;
	if (p >= end)
		return r->eof ? REC_EOF : REC_MORE;
	firn_buf_reset(&r->scratch);
	r->nflds = 0;
	for (;;) {
		struct csv_field fl = { 0, 0, false, false };
		if (p < end && d[p] == '"') {
			fl.quoted = true;
			size_t q = p + 1, seg = q;
			for (;;) {
				const uint8_t *hit = q < end ? memchr(d + q, '"', end - q) : NULL;
				if (hit == NULL) {
					if (!r->eof)
						return REC_MORE;
					return firn_error_set(err, FIRN_EINVAL,
							      "%s: line %lld: unterminated quoted field",
							      r->path, (long long)(r->line + nl));
				}
				size_t h = (size_t)(hit - d);
				if (h + 1 == end && !r->eof)
					return REC_MORE;
				if (h + 1 < end && d[h + 1] == '"') {
					if (!fl.scratch) {
						fl.scratch = true;
						fl.off = r->scratch.len;
					}
					if (firn_buf_append(&r->scratch, d + seg, h + 1 - seg) != 0)
						return nomem(err);
					q = seg = h + 2;
					continue;
				}
				if (fl.scratch) {
					if (firn_buf_append(&r->scratch, d + seg, h - seg) != 0)
						return nomem(err);
					fl.len = r->scratch.len - fl.off;
				} else {
					fl.off = p + 1;
					fl.len = h - (p + 1);
				}
				for (const uint8_t *x = d + p + 1;
				     (x = memchr(x, '\n', (size_t)(d + h - x))) != NULL; x++)
					nl++;
				p = h + 1;
				break;
			}
			if (p < end && d[p] != ',' && d[p] != '\n' && d[p] != '\r')
				return firn_error_set(err, FIRN_EINVAL,
						      "%s: line %lld: unexpected '%c' after a closing quote",
						      r->path, (long long)(r->line + nl), d[p]);
		} else {
			size_t s0 = p;
			while (p < end && d[p] != ',' && d[p] != '\n' && d[p] != '\r')
				p++;
			fl.off = s0;
			fl.len = p - s0;
		}
		if (push_field(r, &fl) != 0)
			return nomem(err);
		if (p == end) {
			if (!r->eof)
				return REC_MORE;
			break;
		}
		if (d[p] == ',') {
			p++;
			continue;
		}
		if (d[p] == '\r') {
			if (p + 1 == end && !r->eof)
				return REC_MORE;
			p++;
			if (p < end && d[p] == '\n')
				p++;
		} else {
			p++;
		}
		break;
	}
	r->pos = p;
	r->line += nl + 1;
	return REC_OK;
}

/* The next record, reading more input as needed. 1, 0 at the end, or <0. */
static int csv_record(struct firn_text_reader *r, int64_t *line, struct firn_error *err)
{
	for (;;) {
		*line = r->line;
		int rc = csv_scan(r, err);
		if (rc < 0)
			return rc;
		if (rc != REC_MORE)
			return rc;
		FIRN_TRY(fill(r, err));
	}
}

static const char *fld_ptr(const struct firn_text_reader *r, const struct csv_field *fl)
{
	const uint8_t *base = fl->scratch ? r->scratch.data : r->buf.data;
	return base ? (const char *)base + fl->off : "";
}

static bool blank_record(const struct firn_text_reader *r)
{
	return r->nflds == 1 && !r->flds[0].quoted && r->flds[0].len == 0;
}

static int check_count(struct firn_text_reader *r, int64_t line, struct firn_error *err)
{
	if ((int64_t)r->nflds != r->ncsv)
		return firn_error_set(err, FIRN_EINVAL, "%s: line %lld: expected %lld fields, found %zu",
				      r->path, (long long)line, (long long)r->ncsv, r->nflds);
	return 0;
}

static const char *hdr_name(const struct firn_text_reader *r, int64_t c, size_t *len)
{
	*len = r->hdr_off[c + 1] - r->hdr_off[c];
	return r->hdr.data ? (const char *)r->hdr.data + r->hdr_off[c] : "";
}

/* Reads the header row (no columns for an empty input). */
static int csv_header(struct firn_text_reader *r, struct firn_error *err)
{
	int64_t line;
	int rc = csv_record(r, &line, err);
	if (rc < 0)
		return rc;
	if (rc == REC_EOF)
		r->nflds = 0;
	r->ncsv = (int64_t)r->nflds;
	firn_buf_reset(&r->hdr);
	firn_free(r->hdr_off);
	r->hdr_off = firn_calloc(r->nflds + 1, sizeof(size_t));
	if (r->hdr_off == NULL)
		return nomem(err);
	for (size_t c = 0; c < r->nflds; c++) {
		if (firn_buf_append(&r->hdr, fld_ptr(r, &r->flds[c]), r->flds[c].len) != 0)
			return nomem(err);
		r->hdr_off[c + 1] = r->hdr.len;
	}
	for (int64_t c = 0; c < r->ncsv; c++) {
		size_t len, klen;
		const char *name = hdr_name(r, c, &len);
		for (int64_t k = 0; k < c; k++) {
			const char *other = hdr_name(r, k, &klen);
			if (klen == len && memcmp(other, name, len) == 0)
				return firn_error_set(err, FIRN_EINVAL,
						      "%s: line 1: duplicate column '%.*s'", r->path,
						      (int)(len > 64 ? 64 : len), name);
		}
	}
	return 0;
}

static int csv_infer(struct firn_text_reader *r, struct firn_buf *spec, struct firn_error *err)
{
	int rc = csv_header(r, err);
	if (rc != 0)
		return rc;
	int64_t nc = r->ncsv;
	unsigned *kinds = firn_calloc((size_t)nc + 1, sizeof(unsigned));
	if (kinds == NULL)
		return nomem(err);
	for (int64_t c = 0; c < nc; c++) {
		size_t len;
		hdr_name(r, c, &len);
		kinds[c] = FIRN_TEXT__K_ALL;
		if (len == 0) {
			rc = firn_error_set(err, FIRN_EINVAL, "%s: line 1: column %lld has no name",
					    r->path, (long long)c + 1);
			goto done;
		}
	}
	for (;;) {
		int64_t line;
		rc = csv_record(r, &line, err);
		if (rc <= 0)
			break;
		if (nc > 1 && blank_record(r))
			continue;
		if ((rc = check_count(r, line, err)) != 0)
			break;
		for (int64_t c = 0; c < nc; c++) {
			const struct csv_field *fl = &r->flds[c];
			if (kinds[c] == FIRN_TEXT__K_STRING || fl->len == 0)
				continue;
			kinds[c] &= firn_text__kinds(fld_ptr(r, fl), fl->len);
		}
	}
	if (rc != 0)
		goto done;
	for (int64_t c = 0; c < nc && rc == 0; c++) {
		size_t len;
		const char *name = hdr_name(r, c, &len);
		if ((c > 0 && firn_buf_append(spec, ", ", 2)) ||
		    firn_spec__put_name(spec, name, len) || firn_buf_putc(spec, ' ') ||
		    firn_buf_puts(spec, firn_text__kind_name(kinds[c])))
			rc = nomem(err);
	}
done:
	firn_free(kinds);
	return rc;
}

/* Matches the header to the schema's fields. */
static int csv_map_columns(struct firn_text_reader *r, struct firn_error *err)
{
	int64_t nf = r->root.n_children;
	r->field_col = firn_calloc((size_t)nf + 1, sizeof(int64_t));
	if (r->field_col == NULL)
		return nomem(err);
	for (int64_t k = 0; k < nf; k++)
		r->field_col[k] = -1;
	for (int64_t c = 0; c < r->ncsv; c++) {
		size_t len;
		const char *name = hdr_name(r, c, &len);
		int64_t k;
		for (k = 0; k < nf; k++) {
			const char *fn = r->root.children[k].schema->name;
			if (strlen(fn) == len && memcmp(fn, name, len) == 0)
				break;
		}
		if (k == nf)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s: line 1: column '%.*s' is not in the schema",
					      r->path, (int)(len > 64 ? 64 : len), name);
		r->field_col[k] = c;
	}
	for (int64_t k = 0; k < nf; k++)
		if (r->field_col[k] < 0 && !r->root.children[k].nullable)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s: column %s is required but not in the header",
					      r->path, r->root.children[k].path);
	return 0;
}

static int csv_row(struct firn_text_reader *r, struct firn_error *err)
{
	struct firn_builder *b = &r->builder;
	FIRN_TRY(firn_builder_append_struct(b) == 0 ? 0 : nomem(err));
	for (int64_t k = 0; k < r->root.n_children; k++) {
		const struct firn_text__field *f = &r->root.children[k];
		struct firn_builder *cb = &b->children[k];
		int64_t c = r->field_col[k];
		if (c < 0) {
			FIRN_TRY(firn_text__append_null(cb, f, err));
			continue;
		}
		const struct csv_field *fl = &r->flds[c];
		if (fl->len == 0 && !(fl->quoted && (f->type.id == FIRN_A_STRING ||
						     f->type.id == FIRN_A_BINARY))) {
			FIRN_TRY(firn_text__append_null(cb, f, err));
			continue;
		}
		FIRN_TRY(firn_text__append_scalar(cb, f, fld_ptr(r, fl), fl->len, err));
	}
	return 0;
}

/* ---- JSON Lines ---- */

/* The next line (without its \r\n); 1, 0 at the end, or <0. */
static int next_line(struct firn_text_reader *r, const char **s, size_t *n, int64_t *line,
		     struct firn_error *err)
{
	for (;;) {
		size_t avail = r->buf.len - r->pos;
		const uint8_t *start = r->buf.data ? r->buf.data + r->pos : NULL;
		const uint8_t *nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl == NULL && !r->eof) {
			FIRN_TRY(fill(r, err));
			continue;
		}
		if (avail == 0)
			return 0;
		size_t len = nl ? (size_t)(nl - start) : avail;
		r->pos += nl ? len + 1 : len;
		*line = r->line++;
		if (len > 0 && start[len - 1] == '\r')
			len--;
		*s = (const char *)start;
		*n = len;
		return 1;
	}
}

static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

static int jsonl_infer(struct firn_text_reader *r, struct firn_buf *spec, struct firn_error *err)
{
	struct firn_jsonl__infer *inf;
	if (firn_jsonl__infer_new(&inf) != 0)
		return nomem(err);
	int rc;
	const char *s;
	size_t n;
	int64_t line;
	while ((rc = next_line(r, &s, &n, &line, err)) == 1) {
		if (blank_line(s, n))
			continue;
		if ((rc = firn_jsonl__infer_line(inf, s, n, err)) != 0) {
			firn_error_prefix(err, "%s: line %lld", r->path, (long long)line);
			break;
		}
	}
	if (rc == 0 && firn_jsonl__infer_spec(inf, spec) != 0)
		rc = nomem(err);
	firn_jsonl__infer_free(inf);
	return rc;
}

/* ---- the reader ---- */

void firn_text_reader_free(struct firn_text_reader *r)
{
	if (r == NULL)
		return;
	if (r->close_f && r->f != NULL)
		fclose(r->f);
	if (r->builder_ready)
		firn_builder_free(&r->builder);
	firn_text__field_free(&r->root);
	if (r->schema.release)
		r->schema.release(&r->schema);
	firn_buf_free(&r->buf);
	firn_buf_free(&r->scratch);
	firn_free(r->flds);
	firn_free(r->field_col);
	firn_free(r->seen);
	firn_buf_free(&r->hdr);
	firn_free(r->hdr_off);
	firn_free(r->path);
	firn_free(r);
}

/* Reads all of r->f into memory (for inference on a stream). */
static int slurp(struct firn_text_reader *r, struct firn_error *err)
{
	while (!r->eof)
		FIRN_TRY(fill(r, err));
	r->in_memory = true;
	return 0;
}

static int open_input(struct firn_text_reader *r, const char *path, bool infer,
		      struct firn_error *err)
{
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
		r->path = firn_strdup("stdin");
	} else {
		r->path = firn_strdup(path);
		r->f = fopen(path, "rb");
		if (r->f == NULL) {
			int e = errno;
			return firn_error_set(err, e == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO, "%s: %s",
					      path, strerror(e));
		}
		r->close_f = true;
	}
	if (r->path == NULL)
		return nomem(err);
	struct stat st;
	bool seekable = r->close_f && fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode);
	if (infer && !seekable)
		FIRN_TRY(slurp(r, err));
	else
		FIRN_TRY(fill(r, err));
	r->line = 1;
	if (r->buf.len >= 3 && memcmp(r->buf.data, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	return 0;
}

int firn_text_reader_open(struct firn_text_reader **out, const char *path,
			  enum firn_text_format fmt, const struct ArrowSchema *schema,
			  int64_t batch_rows, struct firn_error *err)
{
	*out = NULL;
	if (fmt != FIRN_TEXT_CSV && fmt != FIRN_TEXT_JSONL)
		return firn_error_set(err, FIRN_EINVAL, "text reader: only CSV and JSON Lines");
	struct firn_text_reader *r = firn_calloc(1, sizeof(*r));
	if (r == NULL)
		return nomem(err);
	r->fmt = fmt;
	r->batch_rows = batch_rows > 0 ? batch_rows : DEFAULT_BATCH;
	struct firn_buf spec = FIRN_BUF_INIT;
	int rc = open_input(r, path, schema == NULL, err);
	if (rc != 0)
		goto fail;
	if (schema != NULL) {
		if (firn_schema_copy(&r->schema, schema) != 0) {
			rc = nomem(err);
			goto fail;
		}
	} else {
		rc = fmt == FIRN_TEXT_CSV ? csv_infer(r, &spec, err) : jsonl_infer(r, &spec, err);
		if (rc != 0)
			goto fail;
		if (spec.len == 0) {
			rc = firn_schema_init(&r->schema, "+s", "", 0, 0);
			if (rc != 0)
				rc = nomem(err);
		} else if ((rc = firn_buf_cstr(&spec)) != 0) {
			rc = nomem(err);
		} else if ((rc = firn_spec_parse_schema((const char *)spec.data, &r->schema, err)) != 0) {
			firn_error_prefix(err, "%s: inferred", r->path);
		}
		if (rc != 0)
			goto fail;
		if ((rc = rewind_input(r, err)) != 0)
			goto fail;
	}
	if ((rc = firn_text__field_init(&r->root, &r->schema, NULL, err)) != 0)
		goto fail;
	if (r->root.type.id != FIRN_A_STRUCT) {
		rc = firn_error_set(err, FIRN_EINVAL, "text reader: the schema is not a struct");
		goto fail;
	}
	if (fmt == FIRN_TEXT_JSONL &&
	    !(r->seen = firn_calloc((size_t)r->root.n_children + 1, sizeof(bool)))) {
		rc = nomem(err);
		goto fail;
	}
	if ((rc = firn_builder_init(&r->builder, &r->schema, err)) != 0)
		goto fail;
	r->builder_ready = true;
	if (fmt == FIRN_TEXT_CSV) {
		if ((rc = csv_header(r, err)) != 0 || (rc = csv_map_columns(r, err)) != 0)
			goto fail;
	}
	firn_buf_free(&spec);
	*out = r;
	return 0;
fail:
	firn_buf_free(&spec);
	firn_text_reader_free(r);
	return rc;
}

int firn_text_reader_schema(struct firn_text_reader *r, struct ArrowSchema *out,
			    struct firn_error *err)
{
	if (firn_schema_copy(out, &r->schema) != 0)
		return nomem(err);
	return 0;
}

static void set_exact_ts(struct firn_text__field *f, bool exact)
{
	f->exact_ts = exact;
	for (int64_t i = 0; i < f->n_children; i++)
		set_exact_ts(&f->children[i], exact);
}

void firn_text__reader_set_truncate(struct firn_text_reader *r, bool truncate)
{
	set_exact_ts(&r->root, !truncate);
}

/* After a batch, buffers grown for a huge record go back to their usual
 * size: they are not held while the caller works on the batch (a record's
 * memory stays within a few times its size). */
static void shrink_buffers(struct firn_text_reader *r)
{
	if (r->scratch.cap > 4 * CHUNK)
		firn_buf_free(&r->scratch);
	size_t left = r->buf.len - r->pos;
	if (r->in_memory || r->buf.cap <= 4 * CHUNK || left > CHUNK)
		return;
	memmove(r->buf.data, r->buf.data + r->pos, left);
	r->buf.len = left;
	r->pos = 0;
	uint8_t *p = firn_realloc(r->buf.data, CHUNK);
	if (p != NULL) {
		r->buf.data = p;
		r->buf.cap = CHUNK;
	}
}

int firn_text_reader_next(struct firn_text_reader *r, struct ArrowArray *out,
			  struct firn_error *err)
{
	struct firn_error local;
	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof(*out));
	if (r->failed.code != 0) {
		if (err != NULL)
			*err = r->failed;
		return r->failed.code;
	}
	if (r->done)
		return 0;
	int64_t rows = 0;
	int rc = 0;
	while (rows < r->batch_rows) {
		int64_t line;
		if (r->fmt == FIRN_TEXT_CSV) {
			rc = csv_record(r, &line, err);
			if (rc <= 0)
				break;
			if (r->ncsv > 1 && blank_record(r))
				continue;
			if ((rc = check_count(r, line, err)) != 0)
				break;
			rc = csv_row(r, err);
		} else {
			const char *s;
			size_t n;
			rc = next_line(r, &s, &n, &line, err);
			if (rc <= 0)
				break;
			if (blank_line(s, n))
				continue;
			rc = firn_jsonl__append_row(&r->builder, &r->root, s, n, r->seen, err);
		}
		if (rc != 0) {
			/* messages from the value parsers say the column, not where */
			if (strncmp(err->message, r->path, strlen(r->path)) != 0)
				firn_error_prefix(err, "%s: line %lld", r->path, (long long)line);
			break;
		}
		rows++;
	}
	if (rc < 0)
		return fail(r, rc, err);
	if (rows == 0) {
		r->done = true;
		return 0;
	}
	shrink_buffers(r);
	if ((rc = firn_builder_finish(&r->builder, out, err)) != 0)
		return fail(r, rc, err);
	return 0;
}

int firn_text_reader_fields_seen(struct firn_text_reader *r, bool *seen, size_t n)
{
	for (size_t k = 0; k < n && (int64_t)k < r->root.n_children; k++)
		seen[k] = r->fmt == FIRN_TEXT_CSV ? r->field_col && r->field_col[k] >= 0
						  : r->seen && r->seen[k];
	return 0;
}
