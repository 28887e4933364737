/* Partition transforms (spec §"Partition Transforms", Appendix B hashes). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/types.h"
#include "iceberg/ice_datum.h"

int firn_ice__transform_parse(const char *s, struct firn_transform *out,
			      struct firn_error *err)
{
	static const struct {
		const char *name;
		enum firn_transform_kind kind;
	} plain[] = { { "identity", FIRN_TR_IDENTITY }, { "year", FIRN_TR_YEAR },
		      { "month", FIRN_TR_MONTH },       { "day", FIRN_TR_DAY },
		      { "hour", FIRN_TR_HOUR },         { "void", FIRN_TR_VOID } };
	out->param = 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(s, plain[i].name) == 0) {
			out->kind = plain[i].kind;
			return 0;
		}
	const char *heads[] = { "bucket", "truncate" };
	for (int h = 0; h < 2; h++) {
		size_t hl = strlen(heads[h]);
		if (strncmp(s, heads[h], hl) != 0 || s[hl] != '[')
			continue;
		const char *p = s + hl + 1;
		while (isspace((unsigned char)*p))
			p++;
		char *end;
		long v = strtol(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (end == p || *end != ']' || end[1] != '\0' || v <= 0 || v > INT32_MAX)
			return firn_error_set(err, FIRN_EINVAL, "bad transform '%s'", s);
		out->kind = h == 0 ? FIRN_TR_BUCKET : FIRN_TR_TRUNCATE;
		out->param = (int32_t)v;
		return 0;
	}
	out->kind = FIRN_TR_UNKNOWN;
	return 0;
}

int firn_ice__transform_format(const struct firn_transform *t, struct firn_buf *out)
{
	switch (t->kind) {
	case FIRN_TR_IDENTITY: return firn_buf_puts(out, "identity");
	case FIRN_TR_BUCKET: return firn_buf_printf(out, "bucket[%d]", t->param);
	case FIRN_TR_TRUNCATE: return firn_buf_printf(out, "truncate[%d]", t->param);
	case FIRN_TR_YEAR: return firn_buf_puts(out, "year");
	case FIRN_TR_MONTH: return firn_buf_puts(out, "month");
	case FIRN_TR_DAY: return firn_buf_puts(out, "day");
	case FIRN_TR_HOUR: return firn_buf_puts(out, "hour");
	case FIRN_TR_VOID: return firn_buf_puts(out, "void");
	default: return firn_buf_puts(out, "unknown");
	}
}

int firn_ice__transform_result_type(const struct firn_transform *t,
				    const struct firn_type *src, struct firn_type *out,
				    struct firn_error *err)
{
	bool nested = src->id == FIRN_A_STRUCT || src->id == FIRN_A_LIST || src->id == FIRN_A_MAP ||
		      src->id == FIRN_A_NULL;
	bool temporal = src->id == FIRN_A_DATE32 || src->id == FIRN_A_TIMESTAMP;
	bool ok;
	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case FIRN_TR_IDENTITY:
	case FIRN_TR_VOID:
		ok = !nested || t->kind == FIRN_TR_VOID;
		*out = *src;
		break;
	case FIRN_TR_BUCKET:
		ok = src->id == FIRN_A_INT32 || src->id == FIRN_A_INT64 || src->id == FIRN_A_DECIMAL ||
		     src->id == FIRN_A_DATE32 || src->id == FIRN_A_TIME64 || src->id == FIRN_A_TIMESTAMP ||
		     src->id == FIRN_A_STRING || src->id == FIRN_A_BINARY || src->id == FIRN_A_FIXED;
		out->id = FIRN_A_INT32;
		break;
	case FIRN_TR_TRUNCATE:
		ok = src->id == FIRN_A_INT32 || src->id == FIRN_A_INT64 || src->id == FIRN_A_DECIMAL ||
		     src->id == FIRN_A_STRING || src->id == FIRN_A_BINARY;
		*out = *src;
		break;
	case FIRN_TR_YEAR:
	case FIRN_TR_MONTH:
		ok = temporal;
		out->id = FIRN_A_INT32;
		break;
	case FIRN_TR_DAY:
		ok = temporal;
		out->id = FIRN_A_DATE32;
		break;
	case FIRN_TR_HOUR:
		ok = src->id == FIRN_A_TIMESTAMP;
		out->id = FIRN_A_INT32;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		struct firn_buf b = { 0 };
		char tn[FIRN_TYPE_NAME_MAX];
		firn_ice__transform_format(t, &b);
		firn_buf_cstr(&b);
		int rc = firn_error_set(err, FIRN_EINVAL, "%s cannot apply to %s",
					b.data ? (const char *)b.data : "transform",
					firn_arrow__type_name(src, tn));
		firn_buf_free(&b);
		return rc;
	}
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Results that fall outside their type: truncate[W] of a value within W
 * of the minimum (truncate[10] of INT64_MIN is INT64_MIN - 2) and hour of
 * a timestamp beyond ±2^31 hours (the int64 microsecond range is ±2.56e9
 * hours). The spec is silent; Java wraps around (INT64_MIN truncates to
 * a large positive value, and then its own filters miss the row) and
 * PyIceberg returns a number no int/long field can hold. firn saturates
 * at the type's bound: the transform stays monotone, which is what filter
 * projection (x < v to t(x) <= t(v)) relies on, and every in-range value
 * keeps the spec's result. */
static int64_t trunc_int(int64_t v, int64_t w, int64_t min)
{
	int64_t r = ((v % w) + w) % w;
	return v < min + r ? min : v - r;
}

static int32_t clamp_i32(int64_t v)
{
	return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

static int32_t hash_long(int64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)((uint64_t)v >> (8 * i));
	return (int32_t)firn_murmur3_32(le, 8, 0);
}

/* Micros of a timestamp datum (dates go through days_of: a date's micros
 * can pass int64). */
static int64_t micros_of(const struct firn_type *t, const struct firn_datum *d)
{
	if (t->unit_digits == 9)
		return floor_div(d->v.i64, 1000);
	return d->v.i64;
}

static int32_t days_of(const struct firn_type *t, const struct firn_datum *d)
{
	if (t->id == FIRN_A_DATE32)
		return d->v.i32;
	return (int32_t)floor_div(micros_of(t, d), 86400000000LL);
}

void firn_ice__transform_apply(const struct firn_transform *t, const struct firn_type *src,
			       const struct firn_datum *in, struct firn_datum *out)
{
	memset(out, 0, sizeof(*out));
	if (in->null || t->kind == FIRN_TR_VOID || t->kind == FIRN_TR_UNKNOWN) {
		out->null = true;
		return;
	}
	switch (t->kind) {
	case FIRN_TR_IDENTITY:
		*out = *in;
		return;
	case FIRN_TR_BUCKET: {
		int32_t h;
		switch (src->id) {
		case FIRN_A_INT32:
		case FIRN_A_DATE32: h = hash_long(in->v.i32); break;
		case FIRN_A_INT64:
		case FIRN_A_TIME64: h = hash_long(in->v.i64); break;
		case FIRN_A_TIMESTAMP: h = hash_long(micros_of(src, in)); break;
		case FIRN_A_DECIMAL: {
			struct firn_buf b = { 0 };
			uint8_t tmp[17];
			firn_ice__datum_to_bytes(src, in, &b);
			size_t n = b.len <= 16 ? b.len : 16;
			if (b.data)
				memcpy(tmp, b.data, n);
			firn_buf_free(&b);
			h = (int32_t)firn_murmur3_32(tmp, n, 0);
			break;
		}
		default: h = (int32_t)firn_murmur3_32(in->v.bin.p, in->v.bin.n, 0); break;
		}
		out->v.i32 = (int32_t)(((uint32_t)h & 0x7FFFFFFFu) % (uint32_t)t->param);
		return;
	}
	case FIRN_TR_TRUNCATE: {
		int64_t w = t->param;
		*out = *in;
		switch (src->id) {
		case FIRN_A_INT32: out->v.i32 = (int32_t)trunc_int(in->v.i32, w, INT32_MIN); break;
		case FIRN_A_INT64: out->v.i64 = trunc_int(in->v.i64, w, INT64_MIN); break;
		case FIRN_A_DECIMAL: {
			__int128 W = w;
			out->v.dec = in->v.dec - (((in->v.dec % W) + W) % W);
			break;
		}
		case FIRN_A_STRING: {
			size_t i = 0;
			for (int64_t cp = 0; i < in->v.bin.n && cp < w; cp++) {
				i++;
				while (i < in->v.bin.n && (in->v.bin.p[i] & 0xC0) == 0x80)
					i++;
			}
			out->v.bin.n = i;
			break;
		}
		case FIRN_A_BINARY:
			if ((int64_t)in->v.bin.n > w)
				out->v.bin.n = (size_t)w;
			break;
		default: break;
		}
		return;
	}
	case FIRN_TR_YEAR:
	case FIRN_TR_MONTH: {
		int64_t y;
		unsigned m, d;
		firn_civil_from_days(days_of(src, in), &y, &m, &d);
		out->v.i32 = t->kind == FIRN_TR_YEAR ? (int32_t)(y - 1970)
						     : (int32_t)((y - 1970) * 12 + (int64_t)m - 1);
		return;
	}
	case FIRN_TR_DAY:
		out->v.i32 = days_of(src, in);
		return;
	case FIRN_TR_HOUR:
		out->v.i32 = clamp_i32(floor_div(micros_of(src, in), 3600000000LL));
		return;
	default:
		out->null = true;
		return;
	}
}

bool firn_ice__transform_preserves_order(const struct firn_transform *t)
{
	return t->kind == FIRN_TR_IDENTITY || t->kind == FIRN_TR_TRUNCATE || t->kind == FIRN_TR_YEAR ||
	       t->kind == FIRN_TR_MONTH || t->kind == FIRN_TR_DAY || t->kind == FIRN_TR_HOUR;
}

int firn_ice__transform_to_human(const struct firn_transform *t,
				 const struct firn_type *result, const struct firn_datum *d,
				 struct firn_buf *out)
{
	if (d->null)
		return firn_buf_puts(out, "null");
	int64_t y;
	unsigned m, day;
	switch (t->kind) {
	case FIRN_TR_YEAR:
		return firn_buf_printf(out, "%04lld", (long long)(1970 + (int64_t)d->v.i32));
	case FIRN_TR_MONTH: {
		int64_t months = d->v.i32;
		int64_t yy = 1970 + floor_div(months, 12);
		return firn_buf_printf(out, "%04lld-%02lld", (long long)yy, (long long)(months - floor_div(months, 12) * 12 + 1));
	}
	case FIRN_TR_HOUR: {
		int64_t hours = d->v.i32;
		firn_civil_from_days(floor_div(hours, 24), &y, &m, &day);
		return firn_buf_printf(out, "%04lld-%02u-%02u-%02lld", (long long)y, m, day,
				       (long long)(hours - floor_div(hours, 24) * 24));
	}
	default:
		return firn_ice__datum_to_text(result, d, out);
	}
}
