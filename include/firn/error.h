/* firn: error codes and the caller-owned error record. */
#ifndef FIRN_ERROR_H
#define FIRN_ERROR_H

#include "firn/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible libfirn function returns 0 or one of these. */
enum firn_code {
	FIRN_OK = 0,
	FIRN_EINVAL = -1,      /* bad input or argument */
	FIRN_ENOTFOUND = -2,   /* no such file, column, table, ... */
	FIRN_EEXISTS = -3,     /* already exists */
	FIRN_ECONFLICT = -4,   /* lost a commit race */
	FIRN_EIO = -5,         /* the operating system said no */
	FIRN_ENOMEM = -6,      /* out of memory */
	FIRN_ECORRUPT = -7,    /* a file does not follow its format */
	FIRN_EUNSUPPORTED = -8 /* valid, but not something firn does */
};

#define FIRN_ERROR_MESSAGE_MAX 512

/* Caller-owned; no allocation. Every libfirn function takes a pointer to
 * one as its last argument, NULL allowed. The message is one line. */
struct firn_error {
	int code;
	char message[FIRN_ERROR_MESSAGE_MAX];
};

/* Fills err (when not NULL) and returns code, so callers can write
 * `return firn_error_set(err, FIRN_EINVAL, "...", ...);`. The message is
 * kept printable and one line whatever the arguments hold: valid UTF-8
 * text stays as it is, every other byte (controls, newlines, DEL, C1
 * controls, bytes of invalid UTF-8) becomes \xNN; a message too long for
 * the buffer is cut between characters. */
FIRN_API int firn_error_set(struct firn_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "<context>: " before the current message, keeping the code (the
 * context escaped as above). */
FIRN_API void firn_error_prefix(struct firn_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets err to FIRN_OK with an empty message. */
FIRN_API void firn_error_clear(struct firn_error *err);

/* The symbolic name of a code ("FIRN_ECORRUPT"). Never NULL. */
FIRN_API const char *firn_code_name(int code);

/* Propagates a non-zero result. */
#define FIRN_TRY(expr) do { int firn_try_rc_ = (expr); if (firn_try_rc_ != 0) return firn_try_rc_; } while (0)

#ifdef __cplusplus
}
#endif
#endif
