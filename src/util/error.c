/* Error records: one line, caller-owned, no allocation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "firn/error.h"

int firn_error_set(struct firn_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
		/* keep it one line */
		for (char *p = err->message; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
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
	char joined[FIRN_ERROR_MESSAGE_MAX];
	snprintf(joined, sizeof(joined), "%s: %s", head, err->message);
	memcpy(err->message, joined, sizeof(joined));
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
