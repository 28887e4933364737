/* Dates, times and timestamps in Iceberg's JSON single-value text forms, and
 * the shortest text of a float or double. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "firn/util.h"

/* Years this far out keep every intermediate below 2^62. */
#define YEAR_LIMIT 1000000000000LL
#define DAY_LIMIT (YEAR_LIMIT * 366)

static const int64_t pow10_tab[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000
};

/* Howard Hinnant's days_from_civil / civil_from_days, on int64. */
int64_t firn_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	if (y > YEAR_LIMIT)
		y = YEAR_LIMIT;
	if (y < -YEAR_LIMIT)
		y = -YEAR_LIMIT;
	if (m < 1 || m > 12)
		m = 1;
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
	int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void firn_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	if (z > DAY_LIMIT)
		z = DAY_LIMIT;
	if (z < -DAY_LIMIT)
		z = -DAY_LIMIT;
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* ---- formatting ---- */

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* `digits` decimal digits of v, zero-padded. */
static char *putn(char *p, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + digits;
}

/* ISO 8601: 4 digits for 0000..9999, otherwise a sign and 4 or more digits. */
static char *put_date(char *p, int64_t days)
{
	int64_t y;
	unsigned m, d;
	firn_civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		p = putn(p, (uint64_t)y, 4);
	} else {
		uint64_t a = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
		*p++ = y < 0 ? '-' : '+';
		int n = 4;
		for (uint64_t t = a / 10000; t > 0; t /= 10)
			n++;
		p = putn(p, a, n);
	}
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	return put2(p, d);
}

static char *put_hms(char *p, int64_t secs)
{
	p = put2(p, (unsigned)(secs / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(secs / 60 % 60));
	*p++ = ':';
	return put2(p, (unsigned)(secs % 60));
}

static int emit(const char *tmp, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return FIRN_EINVAL;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return (int)n;
}

int firn_date_format(int32_t days, char *out, size_t cap)
{
	char tmp[32];
	char *p = put_date(tmp, days);
	return emit(tmp, (size_t)(p - tmp), out, cap);
}

int firn_time_format(int64_t micros, char *out, size_t cap)
{
	if (micros < 0 || micros >= 86400LL * 1000000)
		return FIRN_EINVAL;
	char tmp[32];
	char *p = put_hms(tmp, micros / 1000000);
	*p++ = '.';
	p = putn(p, (uint64_t)(micros % 1000000), 6);
	return emit(tmp, (size_t)(p - tmp), out, cap);
}

int firn_timestamp_format(int64_t value, int digits, bool tz, char *out, size_t cap)
{
	if (digits < 0 || digits > 9)
		return FIRN_EINVAL;
	int64_t unit = pow10_tab[digits];
	int64_t per_day = 86400 * unit;
	int64_t days = value / per_day, rem = value % per_day;
	if (rem < 0) {
		rem += per_day;
		days--;
	}
	char tmp[64];
	char *p = put_date(tmp, days);
	*p++ = 'T';
	p = put_hms(p, rem / unit);
	if (digits > 0) {
		*p++ = '.';
		p = putn(p, (uint64_t)(rem % unit), digits);
	}
	if (tz) {
		memcpy(p, "+00:00", 6);
		p += 6;
	}
	return emit(tmp, (size_t)(p - tmp), out, cap);
}

/* ---- parsing ---- */

struct cur {
	const char *s;
	size_t n, pos;
};

static bool at_digit(const struct cur *c)
{
	return c->pos < c->n && c->s[c->pos] >= '0' && c->s[c->pos] <= '9';
}

static bool take(struct cur *c, char ch)
{
	if (c->pos < c->n && c->s[c->pos] == ch) {
		c->pos++;
		return true;
	}
	return false;
}

/* Exactly `k` digits. */
static bool digits_exact(struct cur *c, int k, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < k; i++) {
		if (!at_digit(c))
			return false;
		v = v * 10 + (unsigned)(c->s[c->pos++] - '0');
	}
	*out = v;
	return true;
}

/* [+-]YYYY[Y...]-MM-DD */
static bool parse_date_part(struct cur *c, int64_t *days)
{
	bool neg = false, sign = false;
	if (c->pos < c->n && (c->s[c->pos] == '+' || c->s[c->pos] == '-')) {
		neg = c->s[c->pos] == '-';
		sign = true;
		c->pos++;
	}
	int64_t y = 0;
	int nd = 0;
	while (at_digit(c)) {
		if (nd == 9)
			return false;
		y = y * 10 + (c->s[c->pos++] - '0');
		nd++;
	}
	if (nd < 4 || (!sign && nd != 4))
		return false;
	if (neg)
		y = -y;
	unsigned m, d;
	if (!take(c, '-') || !digits_exact(c, 2, &m) || !take(c, '-') || !digits_exact(c, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*days = firn_days_from_civil(y, m, d);
	return true;
}

/* HH:MM[:SS[.f{1,9}]] -> seconds of the day and nanoseconds. */
static bool parse_time_part(struct cur *c, int64_t *secs, int64_t *nanos)
{
	unsigned h, mi, s = 0;
	if (!digits_exact(c, 2, &h) || !take(c, ':') || !digits_exact(c, 2, &mi))
		return false;
	*nanos = 0;
	if (take(c, ':')) {
		if (!digits_exact(c, 2, &s))
			return false;
		if (take(c, '.') || take(c, ',')) {
			int k = 0;
			int64_t f = 0;
			while (at_digit(c)) {
				if (k == 9)
					return false;
				f = f * 10 + (c->s[c->pos++] - '0');
				k++;
			}
			if (k == 0)
				return false;
			*nanos = f * pow10_tab[9 - k];
		}
	}
	if (h > 23 || mi > 59 || s > 59)
		return false;
	*secs = (int64_t)h * 3600 + mi * 60 + s;
	return true;
}

int firn_date_parse(const char *s, size_t n, int32_t *days)
{
	struct cur c = { s, n, 0 };
	int64_t d;
	if (!parse_date_part(&c, &d) || c.pos != n || d < INT32_MIN || d > INT32_MAX)
		return FIRN_EINVAL;
	*days = (int32_t)d;
	return 0;
}

int firn_time_parse(const char *s, size_t n, int64_t *micros)
{
	struct cur c = { s, n, 0 };
	int64_t secs, nanos;
	if (!parse_time_part(&c, &secs, &nanos) || c.pos != n)
		return FIRN_EINVAL;
	*micros = secs * 1000000 + nanos / 1000;
	return 0;
}

/* Z, +hh, +hhmm, +hh:mm (or '-'); seconds east of UTC. */
static bool parse_offset(struct cur *c, int64_t *off)
{
	*off = 0;
	if (c->pos == c->n)
		return true;
	if (take(c, 'Z') || take(c, 'z'))
		return true;
	char sign = c->s[c->pos];
	if (sign != '+' && sign != '-')
		return false;
	c->pos++;
	unsigned h, m = 0;
	if (!digits_exact(c, 2, &h))
		return false;
	if (take(c, ':')) {
		if (!digits_exact(c, 2, &m))
			return false;
	} else if (at_digit(c) && !digits_exact(c, 2, &m)) {
		return false;
	}
	if (h > 18 || m > 59)
		return false;
	*off = ((int64_t)h * 3600 + m * 60) * (sign == '-' ? -1 : 1);
	return true;
}

int firn_timestamp_parse(const char *s, size_t n, int digits, int64_t *value)
{
	if (digits < 0 || digits > 9)
		return FIRN_EINVAL;
	struct cur c = { s, n, 0 };
	int64_t days, secs = 0, nanos = 0, off = 0;
	if (!parse_date_part(&c, &days))
		return FIRN_EINVAL;
	if (c.pos < n) {
		char sep = s[c.pos++];
		if (sep != 'T' && sep != 't' && sep != ' ')
			return FIRN_EINVAL;
		if (!parse_time_part(&c, &secs, &nanos) || !parse_offset(&c, &off) || c.pos != n)
			return FIRN_EINVAL;
	}
	/* |days| < 10^9 * 366, so the seconds fit easily; the scaling may not.
	 * Below zero, borrow a second so that INT64_MIN itself is reachable. */
	int64_t t = days * 86400 + secs - off, v;
	int64_t unit = pow10_tab[digits], frac = nanos / pow10_tab[9 - digits];
	if (t < 0 && frac > 0) {
		t++;
		frac -= unit;
	}
	if (__builtin_mul_overflow(t, unit, &v) || __builtin_add_overflow(v, frac, &v))
		return FIRN_EINVAL;
	*value = v;
	return 0;
}

/* ---- floating point ---- */

static int special(double v, char *tmp)
{
	const char *s = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
	size_t n = strlen(s);
	memcpy(tmp, s, n + 1);
	return (int)n;
}

/* Shortest means fewest significant digits: the digits of the first
 * %.{p}g (p = 1, 2, ...) that reads back. If %.{DIG}g reads back, its digits
 * are those: a shorter text that reads back has at most DIG digits, and
 * DIG-digit decimals survive a trip through binary, so %.{DIG}g would have
 * printed exactly it. This saves trying every p. The text keeps the layout
 * %.{DIG}g chose, so 100 prints "100" (where %.1g would say "1e+02").
 * Subnormals have fewer digits of precision, so they search from 1. */
static const double p10d[20] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19
};

/* The common case without printf: 1e-4 <= |v| < 1e15 equal to m / 10^k for
 * an integer m < 10^15. The division of two exact doubles rounds correctly,
 * as strtod does, so m/10^k == v proves that text reads back; the smallest
 * k gives the fewest digits; and at most 15 digits there is only one such
 * text, the one %.15g prints (in fixed notation in this range). -1 when v
 * is not of that form. */
static int fast_double(double v, char *out)
{
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return -1;
	for (int k = 0; k < 20; k++) {
		double s = a * p10d[k];
		if (s >= 1e15)
			return -1;
		double m = floor(s + 0.5);
		if (m / p10d[k] != a)
			continue;
		uint64_t im = (uint64_t)m, ip = im, fp = 0;
		if (k > 0) {
			uint64_t scale = (uint64_t)p10d[k];
			ip = im / scale;
			fp = im % scale;
		}
		char *p = out;
		if (v < 0)
			*p++ = '-';
		char digs[24];
		int nd = 0;
		do {
			digs[nd++] = (char)('0' + ip % 10);
			ip /= 10;
		} while (ip);
		while (nd > 0)
			*p++ = digs[--nd];
		if (k > 0) {
			*p++ = '.';
			p = putn(p, fp, k);
		}
		*p = '\0';
		return (int)(p - out);
	}
	return -1;
}

/* A whole number still reads as a float ("1.0", "-0.0"), as Java prints. */
static int as_real(char *tmp, int n)
{
	for (int i = 0; i < n; i++)
		if (tmp[i] == '.' || tmp[i] == 'e' || tmp[i] == 'E' || tmp[i] == 'N' || tmp[i] == 'I')
			return n;
	tmp[n] = '.';
	tmp[n + 1] = '0';
	tmp[n + 2] = '\0';
	return n + 2;
}

int firn_double_format(double v, char *out, size_t cap)
{
	char tmp[40];
	int n = 0;
	if (!isfinite(v)) {
		n = special(v, tmp);
	} else if ((n = fast_double(v, tmp)) < 0) {
		/* in fast_double's range, 15 digits were not enough */
		double a = fabs(v);
		int p = a < DBL_MIN && v != 0 ? 1 : a >= 1e-4 && a < 1e15 ? DBL_DIG + 1 : DBL_DIG;
		for (; p <= 17; p++) {
			n = snprintf(tmp, sizeof(tmp), "%.*g", p, v);
			if (p == 17 || strtod(tmp, NULL) == v)
				break;
		}
	}
	if (isfinite(v))
		n = as_real(tmp, n);
	return emit(tmp, (size_t)n, out, cap);
}

int firn_float_format(float v, char *out, size_t cap)
{
	char tmp[40];
	int n = 0;
	if (!isfinite(v)) {
		n = special(v, tmp);
	} else {
		int p = fabsf(v) < FLT_MIN && v != 0 ? 1 : FLT_DIG;
		for (; p <= 9; p++) {
			n = snprintf(tmp, sizeof(tmp), "%.*g", p, (double)v);
			if (p == 9 || strtof(tmp, NULL) == v)
				break;
		}
		n = as_real(tmp, n);
	}
	return emit(tmp, (size_t)n, out, cap);
}
