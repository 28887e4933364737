/* The Iceberg primitive types, their names and formats, decimal text. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"

#define T(id_, w_, ud_, tz_, uuid_) \
	{ .id = (id_), .width = (w_), .unit_digits = (ud_), .tz = (tz_), .uuid = (uuid_) }

const struct firn_arrow__prim firn_arrow__prims[] = {
	{ "unknown", "n", T(FIRN_A_NULL, 0, 0, false, false), 3, 0 },
	{ "boolean", "b", T(FIRN_A_BOOL, 1, 0, false, false), 1, 0 },
	{ "int", "i", T(FIRN_A_INT32, 4, 0, false, false), 1, 0 },
	{ "long", "l", T(FIRN_A_INT64, 8, 0, false, false), 1, 0 },
	{ "float", "f", T(FIRN_A_FLOAT, 4, 0, false, false), 1, 0 },
	{ "double", "g", T(FIRN_A_DOUBLE, 8, 0, false, false), 1, 0 },
	{ "decimal", "d", T(FIRN_A_DECIMAL, 16, 0, false, false), 1, 2 },
	{ "date", "tdD", T(FIRN_A_DATE32, 4, 0, false, false), 1, 0 },
	{ "time", "ttu", T(FIRN_A_TIME64, 8, 6, false, false), 1, 0 },
	{ "timestamp", "tsu:", T(FIRN_A_TIMESTAMP, 8, 6, false, false), 1, 0 },
	{ "timestamptz", "tsu:UTC", T(FIRN_A_TIMESTAMP, 8, 6, true, false), 1, 0 },
	{ "timestamp_ns", "tsn:", T(FIRN_A_TIMESTAMP, 8, 9, false, false), 3, 0 },
	{ "timestamptz_ns", "tsn:UTC", T(FIRN_A_TIMESTAMP, 8, 9, true, false), 3, 0 },
	{ "string", "u", T(FIRN_A_STRING, 0, 0, false, false), 1, 0 },
	{ "uuid", "w:16", T(FIRN_A_FIXED, 16, 0, false, true), 1, 0 },
	{ "fixed", "w", T(FIRN_A_FIXED, 0, 0, false, false), 1, 1 },
	{ "binary", "z", T(FIRN_A_BINARY, 0, 0, false, false), 1, 0 },
	/* v3 types firn does not hold: known so a v2 table can refuse them */
	{ "variant", NULL, T(FIRN_A_NULL, 0, 0, false, false), 3, 0 },
	{ "geometry", NULL, T(FIRN_A_NULL, 0, 0, false, false), 3, 0 },
	{ "geography", NULL, T(FIRN_A_NULL, 0, 0, false, false), 3, 0 },
};

const size_t firn_arrow__n_prims = sizeof(firn_arrow__prims) / sizeof(firn_arrow__prims[0]);

const struct firn_arrow__prim *firn_arrow__prim_find(const char *s, size_t n)
{
	for (size_t i = 0; i < firn_arrow__n_prims; i++) {
		const char *name = firn_arrow__prims[i].name;
		if (strlen(name) == n && strncasecmp(s, name, n) == 0)
			return &firn_arrow__prims[i];
	}
	return NULL;
}

/* The entry that names t, or NULL (nested types). */
static const struct firn_arrow__prim *prim_of(const struct firn_type *t)
{
	for (size_t i = 0; i < firn_arrow__n_prims; i++) {
		const struct firn_arrow__prim *e = &firn_arrow__prims[i];
		if (e->format == NULL || e->type.id != t->id)
			continue;
		if (t->id == FIRN_A_TIMESTAMP &&
		    (e->type.tz != t->tz || (e->type.unit_digits == 9) != (t->unit_digits == 9)))
			continue;
		if (t->id == FIRN_A_FIXED && e->type.uuid != t->uuid)
			continue;
		return e;
	}
	return NULL;
}

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* White space, digits (a sign allowed, as strtol takes it), white space. */
static bool param(const char **s, long *out)
{
	const char *p = skip_ws(*s);
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	long v = 0;
	for (; isdigit((unsigned char)*p); p++)
		if (v < 1L << 40) /* past every range: stays out of range */
			v = v * 10 + (*p - '0');
	*out = neg ? -v : v;
	*s = skip_ws(p);
	return true;
}

int firn_arrow__type_parse(const char *s, struct firn_type *out)
{
	memset(out, 0, sizeof(*out));
	size_t head = 0;
	while (isalnum((unsigned char)s[head]) || s[head] == '_')
		head++;
	const struct firn_arrow__prim *e = firn_arrow__prim_find(s, head);
	if (e == NULL || e->format == NULL)
		return FIRN_EUNSUPPORTED;
	const char *p = s + head;
	if (e->params == 0) {
		if (*p != '\0')
			return FIRN_EUNSUPPORTED;
		*out = e->type;
		return 0;
	}
	long a, b = 0;
	p = skip_ws(p);
	if (*p++ != (e->params == 2 ? '(' : '[') || !param(&p, &a))
		return FIRN_EUNSUPPORTED;
	if (e->params == 2 && (*p++ != ',' || !param(&p, &b)))
		return FIRN_EUNSUPPORTED;
	if (*p++ != (e->params == 2 ? ')' : ']') || *skip_ws(p) != '\0')
		return FIRN_EUNSUPPORTED;
	*out = e->type;
	if (e->params == 2) {
		if (a < 1 || a > FIRN_DECIMAL_MAX_PRECISION || b < 0 || b > a)
			return FIRN_EINVAL;
		out->precision = (int32_t)a;
		out->scale = (int32_t)b;
	} else {
		if (a < 1 || a > FIRN_FIXED_MAX_LENGTH)
			return FIRN_EINVAL;
		out->width = (int32_t)a;
	}
	return 0;
}

const char *firn_arrow__type_name(const struct firn_type *t, char buf[FIRN_TYPE_NAME_MAX])
{
	const struct firn_arrow__prim *e = prim_of(t);
	int p = (int)t->precision, s = (int)t->scale;
	if (e != NULL && e->params == 2)
		snprintf(buf, FIRN_TYPE_NAME_MAX, "decimal(%d,%d)", p, s);
	else if (e != NULL && e->params == 1)
		snprintf(buf, FIRN_TYPE_NAME_MAX, "fixed[%d]", (int)t->width);
	else
		snprintf(buf, FIRN_TYPE_NAME_MAX, "%s",
			 e != NULL ? e->name : t->id == FIRN_A_STRUCT ? "struct"
					     : t->id == FIRN_A_LIST  ? "list"
					     : t->id == FIRN_A_MAP   ? "map" : "?");
	return buf;
}

const char *firn_arrow__type_format(const struct firn_type *t, char buf[FIRN_TYPE_NAME_MAX])
{
	switch (t->id) {
	case FIRN_A_TIME64: return t->unit_digits == 9 ? "ttn" : "ttu";
	case FIRN_A_STRUCT: return "+s";
	case FIRN_A_LIST: return "+l";
	case FIRN_A_MAP: return "+m";
	default: break;
	}
	const struct firn_arrow__prim *e = prim_of(t);
	if (e == NULL)
		return "n";
	if (e->params == 2)
		snprintf(buf, FIRN_TYPE_NAME_MAX, "d:%d,%d", (int)t->precision, (int)t->scale);
	else if (e->params == 1)
		snprintf(buf, FIRN_TYPE_NAME_MAX, "w:%d", (int)t->width);
	else
		return e->format;
	return buf;
}

int firn_arrow__type_schema(struct ArrowSchema *out, const struct firn_type *t, const char *name,
			    int64_t flags, int64_t n_children)
{
	char buf[FIRN_TYPE_NAME_MAX];
	int rc = firn_schema_init(out, firn_arrow__type_format(t, buf), name, flags, n_children);
	if (rc == 0 && t->id == FIRN_A_FIXED && t->uuid &&
	    (rc = firn_schema_add_metadata(out, "ARROW:extension:name", "arrow.uuid")) != 0)
		out->release(out);
	return rc;
}

int firn_arrow__type_since(const struct firn_type *t)
{
	const struct firn_arrow__prim *e = prim_of(t);
	return e != NULL ? e->since : 1;
}

int firn_arrow__type_name_since(const char *s)
{
	size_t head = 0;
	while (isalnum((unsigned char)s[head]) || s[head] == '_')
		head++;
	const struct firn_arrow__prim *e = firn_arrow__prim_find(s, head);
	return e != NULL ? e->since : 0;
}

/* ---- decimal text ---- */

bool firn_arrow__decimal_parse(const char *s, size_t n, int precision, int scale,
			       __int128 *out)
{
	size_t i = 0;
	bool neg = false, dot = false, any = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	/* the digits are v * 10^zeros: a run of trailing zeros waits apart, so
	 * that zeros the scale drops never count against the 38 digits */
	unsigned __int128 v = 0;
	long nv = 0, zeros = 0, nfrac = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '.' && !dot) {
			dot = true;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		any = true;
		if (dot)
			nfrac++;
		if (c == '0') {
			zeros += nv > 0;
			continue;
		}
		if (nv + zeros + 1 > FIRN_DECIMAL_MAX_PRECISION)
			return false;
		for (; zeros > 0; zeros--, nv++)
			v *= 10;
		v = v * 10 + (unsigned)(c - '0');
		nv++;
	}
	long e = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		if (++i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		if (eneg)
			e = -e;
	}
	if (!any || i != n)
		return false;
	if (nv == 0) {
		*out = 0;
		return true;
	}
	long k = zeros + e - nfrac + scale; /* unscaled = v * 10^k */
	for (; k < 0; k++, nv--) {
		if (v % 10)
			return false;
		v /= 10;
	}
	if (nv + k > precision)
		return false;
	for (; k > 0; k--)
		v *= 10;
	*out = neg ? -(__int128)v : (__int128)v;
	return true;
}

int firn_arrow__decimal_format(__int128 v, int scale, char buf[FIRN_DECIMAL_TEXT_MAX])
{
	char dig[40]; /* least significant first */
	int nd = 0, n = 0;
	unsigned __int128 u = (unsigned __int128)v;
	if (v < 0)
		u = 0 - u;
	do {
		dig[nd++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (scale > FIRN_DECIMAL_MAX_PRECISION || scale < -FIRN_DECIMAL_MAX_PRECISION)
		scale = 0; /* firn_type_of allows no other */
	if (v < 0)
		buf[n++] = '-';
	if (scale > 0 && nd <= scale) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (int d = scale; d > nd; d--)
			buf[n++] = '0';
	}
	for (int d = nd - 1; d >= 0; d--) {
		buf[n++] = dig[d];
		if (d == scale && scale > 0)
			buf[n++] = '.';
	}
	if (scale < 0)
		n += snprintf(buf + n, (size_t)(FIRN_DECIMAL_TEXT_MAX - n), "E+%d", -scale);
	buf[n] = '\0';
	return n;
}

__int128 firn_arrow__i128_load(const uint8_t p[16])
{
	unsigned __int128 u = 0;
	for (int i = 15; i >= 0; i--)
		u = u << 8 | p[i];
	return (__int128)u;
}

void firn_arrow__i128_store(uint8_t p[16], __int128 v)
{
	unsigned __int128 u = (unsigned __int128)v;
	for (int i = 0; i < 16; i++, u >>= 8)
		p[i] = (uint8_t)u;
}
