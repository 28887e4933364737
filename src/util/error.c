/* Error records: one line, caller-owned, no allocation. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "firn/error.h"

/* The length of the valid, printable UTF-8 sequence at p (at most n
 * bytes), or 0: ASCII controls, DEL, C1 controls, overlong forms,
 * surrogates and code points past U+10FFFF do not count. */
static size_t printable_utf8(const unsigned char *p, size_t n)
{
	if (p[0] >= 0x20 && p[0] < 0x7f)
		return 1;
	size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		     : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return len;
}

/* Copies src into dst (cap bytes, NUL included), every byte that is not
 * part of printable UTF-8 written as \xNN; never cuts a unit in two.
 * Idempotent: escaped text escapes to itself. */
static void escape_into(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = printable_utf8(p + i, n - i);
		if (len > 0) {
			if (o + len >= cap)
				break;
			memcpy(dst + o, p + i, len);
			o += len;
			i += len;
		} else {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[p[i] >> 4];
			dst[o++] = hex[p[i] & 15];
			i++;
		}
	}
	dst[o] = '\0';
}

static void set_message(struct firn_error *err, const char *fmt, va_list ap)
{
	/* room for the raw text: escaping may grow it up to four times */
	char raw[4 * FIRN_ERROR_MESSAGE_MAX];
	vsnprintf(raw, sizeof(raw), fmt, ap);
	escape_into(err->message, sizeof(err->message), raw);
}

int firn_error_set(struct firn_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		set_message(err, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void firn_error_prefix(struct firn_error *err, const char *fmt, ...)
{
	if (err == NULL)
		return;
	char head[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char joined[2 * FIRN_ERROR_MESSAGE_MAX];
	snprintf(joined, sizeof(joined), "%s: %s", head, err->message);
	escape_into(err->message, sizeof(err->message), joined);
}

void firn_error_clear(struct firn_error *err)
{
	if (err != NULL) {
		err->code = 0;
		err->message[0] = '\0';
	}
}

const char *firn_code_name(int code)
{
	switch (code) {
	case FIRN_OK: return "FIRN_OK";
	case FIRN_EINVAL: return "FIRN_EINVAL";
	case FIRN_ENOTFOUND: return "FIRN_ENOTFOUND";
	case FIRN_EEXISTS: return "FIRN_EEXISTS";
	case FIRN_ECONFLICT: return "FIRN_ECONFLICT";
	case FIRN_EIO: return "FIRN_EIO";
	case FIRN_ENOMEM: return "FIRN_ENOMEM";
	case FIRN_ECORRUPT: return "FIRN_ECORRUPT";
	case FIRN_EUNSUPPORTED: return "FIRN_EUNSUPPORTED";
	}
	return "FIRN_EUNKNOWN";
}
