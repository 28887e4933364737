/* firn: allocator hook, growable buffers, arena, time forms, thread pool. */
#ifndef FIRN_UTIL_H
#define FIRN_UTIL_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- allocator hook ------------------------------------------------ */

/* One hook for the whole library. Replacing it is only allowed before any
 * other libfirn call (tests use it for out-of-memory injection). */
struct firn_allocator {
	void *(*malloc)(size_t size, void *ctx);
	void *(*realloc)(void *ptr, size_t size, void *ctx);
	void (*free)(void *ptr, void *ctx);
	void *ctx;
};

FIRN_API void firn_allocator_set(const struct firn_allocator *a); /* NULL restores libc */
FIRN_API void *firn_malloc(size_t size);
FIRN_API void *firn_calloc(size_t n, size_t size);  /* zeroed; NULL on overflow */
FIRN_API void *firn_realloc(void *ptr, size_t size);
FIRN_API void firn_free(void *ptr);
FIRN_API char *firn_strdup(const char *s);
FIRN_API char *firn_strndup(const char *s, size_t n);

/* ---- growable buffer ----------------------------------------------- */

/* A byte buffer that knows its capacity. Zero-initialise, or FIRN_BUF_INIT.
 * data may move on every growth: never keep pointers into it across appends. */
struct firn_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
#define FIRN_BUF_INIT { NULL, 0, 0 }

/* Grows the buffer to room for `extra` more bytes (what firn_buf_reserve
 * calls when there is not enough). 0 or FIRN_ENOMEM. */
FIRN_API int firn_buf_grow(struct firn_buf *b, size_t extra);
static inline int firn_buf_reserve(struct firn_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	return firn_buf_grow(b, extra);
}
static inline int firn_buf_append(struct firn_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (firn_buf_reserve(b, n) != 0)
		return FIRN_ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}
static inline int firn_buf_putc(struct firn_buf *b, uint8_t c)
{
	if (firn_buf_reserve(b, 1) != 0)
		return FIRN_ENOMEM;
	b->data[b->len++] = c;
	return 0;
}
FIRN_API int firn_buf_puts(struct firn_buf *b, const char *s);
FIRN_API int firn_buf_printf(struct firn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends n zero bytes. */
FIRN_API int firn_buf_zeros(struct firn_buf *b, size_t n);
/* Keeps a NUL after len (not counted) so data can be used as a C string. */
FIRN_API int firn_buf_cstr(struct firn_buf *b);
/* Gives the memory to the caller (free with firn_free); the buffer is reset. */
FIRN_API uint8_t *firn_buf_detach(struct firn_buf *b, size_t *len_out);
/* The end of building a string: with rc 0 the text (NUL-terminated, the
 * caller's, firn_free), else (or when the NUL does not fit) NULL, and the
 * buffer is freed. Either way the buffer is reset. */
FIRN_API char *firn_buf_string(struct firn_buf *b, int rc);
FIRN_API void firn_buf_reset(struct firn_buf *b);   /* len = 0, keeps memory */
FIRN_API void firn_buf_free(struct firn_buf *b);    /* releases memory */

/* ---- arena ----------------------------------------------------------- */

/* Bump allocator for parsed metadata trees; everything goes at once. */
struct firn_arena {
	struct firn_arena_block *head;
	size_t block_size;
};
#define FIRN_ARENA_INIT { NULL, 0 }

FIRN_API void *firn_arena_alloc(struct firn_arena *a, size_t size); /* zeroed, 16-aligned */
FIRN_API char *firn_arena_strndup(struct firn_arena *a, const char *s, size_t n);
FIRN_API char *firn_arena_strdup(struct firn_arena *a, const char *s);
FIRN_API void firn_arena_free(struct firn_arena *a);

/* ---- time and value forms (Iceberg JSON single-value forms) ---------- */

/* days since 1970-01-01 <-> "2017-11-16" */
FIRN_API int firn_date_format(int32_t days, char *out, size_t cap);
FIRN_API int firn_date_parse(const char *s, size_t n, int32_t *days);
/* microseconds since midnight <-> "22:31:08.123456" (always 6 fraction
 * digits, as the spec's examples; parse accepts 0..9 digits). */
FIRN_API int firn_time_format(int64_t micros, char *out, size_t cap);
FIRN_API int firn_time_parse(const char *s, size_t n, int64_t *micros);
/* Timestamps: value in units of 10^-digits seconds (digits 6 or 9).
 * Format: "2017-11-16T22:31:08.123456" (always `digits` fraction digits;
 * + "+00:00" when tz; years outside 0000..9999 get a sign, "+10000-01-01").
 * Parse: accepts 'T' or ' ', optional fraction, optional Z / +hh:mm / -hh:mm
 * offset (converted to UTC); a date alone means midnight. */
FIRN_API int firn_timestamp_format(int64_t value, int digits, bool tz, char *out, size_t cap);
FIRN_API int firn_timestamp_parse(const char *s, size_t n, int digits, int64_t *value);
/* Days from civil date and back (proleptic Gregorian). */
FIRN_API int64_t firn_days_from_civil(int64_t y, unsigned m, unsigned d);
FIRN_API void firn_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Shortest text that reads back to the same double / float, always with
 * a point or an exponent ("1.0", "-0.0", "1e+300"); "NaN", "Infinity",
 * "-Infinity" for the specials. Returns the length. */
FIRN_API int firn_double_format(double v, char *out, size_t cap);
FIRN_API int firn_float_format(float v, char *out, size_t cap);

/* ---- hashes and ids -------------------------------------------------- */

/* Murmur3 x86 32-bit (Iceberg's bucket transform uses seed 0). */
FIRN_API uint32_t firn_murmur3_32(const void *data, size_t len, uint32_t seed);
/* CRC-32 (zlib's polynomial); start with crc 0. */
FIRN_API uint32_t firn_crc32(uint32_t crc, const void *data, size_t len);
/* A random (version 4) UUID. 0 or FIRN_EIO. */
FIRN_API int firn_uuid_v4(uint8_t out[16]);
/* Lowercase canonical text, 36 characters + NUL. */
FIRN_API void firn_uuid_format(const uint8_t u[16], char out[37]);
/* Parses the canonical text form (either case). 0 or FIRN_EINVAL. */
FIRN_API int firn_uuid_parse(const char *s, size_t n, uint8_t out[16]);

/* ---- thread pool ----------------------------------------------------- */

struct firn_pool;
/* nthreads <= 0 means the number of online CPUs. */
FIRN_API int firn_pool_new(struct firn_pool **out, int nthreads, struct firn_error *err);
/* Queues fn(arg). 0 or FIRN_ENOMEM. */
FIRN_API int firn_pool_submit(struct firn_pool *p, void (*fn)(void *), void *arg);
/* Waits until every queued job has run. */
FIRN_API void firn_pool_wait(struct firn_pool *p);
FIRN_API void firn_pool_free(struct firn_pool *p); /* waits, then joins; NULL ok */

/* How many threads firn's work may use at once (decoding a scan's row
 * groups and columns, encoding an append's column chunks): n > 0 sets it,
 * n <= 0 returns to the default, which is FIRN_THREADS when set, else the
 * online CPUs. Results are the same for any number. Call before starting
 * work; the pool of helpers is made at first use. */
FIRN_API void firn_set_threads(int n);
FIRN_API int firn_get_threads(void);

/* ---- misc ------------------------------------------------------------ */

/* The version string, "X.Y.Z". */
FIRN_API const char *firn_version(void);
/* "firn version X.Y.Z (build <hash>)", the Parquet created_by form. */
FIRN_API const char *firn_created_by(void);

#ifdef __cplusplus
}
#endif
#endif
