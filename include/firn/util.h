/* firn: allocator hook, growable buffers, arena, time forms, thread pool. */
#ifndef FIRN_UTIL_H
#define FIRN_UTIL_H

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

void firn_allocator_set(const struct firn_allocator *a); /* NULL restores libc */
void *firn_malloc(size_t size);
void *firn_calloc(size_t n, size_t size);  /* zeroed; NULL on overflow */
void *firn_realloc(void *ptr, size_t size);
void firn_free(void *ptr);
char *firn_strdup(const char *s);
char *firn_strndup(const char *s, size_t n);

/* Out-of-memory injection, for tests only (not API). Resets the counter;
 * from then on allocation number n (1-based; firn_malloc, firn_calloc,
 * firn_realloc and jansson's, which go through the hook) returns NULL, and
 * with persistent every later one too. n <= 0 turns injection off. */
void firn_alloc__fail_at(long n, bool persistent);
/* Allocations since the last firn_alloc__fail_at, and how many failed. */
long firn_alloc__count(void);
long firn_alloc__failures(void);
/* Failed jansson allocations in this thread so far: jansson's setters
 * (json_object_set_new, json_array_append_new) drop what they could not
 * store, so a JSON tree built without checking each call is whole only if
 * this did not move while it was built. Real failures, not only injected. */
long firn_alloc__json_failures(void);
/* json_loadb for libfirn's own parses (jansson's own OOM handling in its
 * lexer is broken; see alloc.c). */
struct json_t;
struct json_error_t;
struct json_t *firn_json__loadb(const char *buf, size_t len, size_t flags,
				struct json_error_t *error);
/* json_dumps (text freed with firn_free), NULL also when jansson's dumper
 * dropped part of the text for want of memory. */
char *firn_json__dumps(const struct json_t *j, size_t flags);

/* ---- growable buffer ----------------------------------------------- */

/* A byte buffer that knows its capacity. Zero-initialise, or FIRN_BUF_INIT.
 * data may move on every growth: never keep pointers into it across appends. */
struct firn_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
#define FIRN_BUF_INIT { NULL, 0, 0 }

/* Ensures room for `extra` more bytes. 0 or FIRN_ENOMEM. */
int firn_buf__grow(struct firn_buf *b, size_t extra);
static inline int firn_buf_reserve(struct firn_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	return firn_buf__grow(b, extra);
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
int firn_buf_puts(struct firn_buf *b, const char *s);
int firn_buf_printf(struct firn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends n zero bytes. */
int firn_buf_zeros(struct firn_buf *b, size_t n);
/* Keeps a NUL after len (not counted) so data can be used as a C string. */
int firn_buf_cstr(struct firn_buf *b);
/* Gives the memory to the caller (free with firn_free); the buffer is reset. */
uint8_t *firn_buf_detach(struct firn_buf *b, size_t *len_out);
void firn_buf_reset(struct firn_buf *b);   /* len = 0, keeps memory */
void firn_buf_free(struct firn_buf *b);    /* releases memory */

/* ---- arena ----------------------------------------------------------- */

/* Bump allocator for parsed metadata trees; everything goes at once. */
struct firn_arena {
	struct firn_arena_block *head;
	size_t block_size;
};
#define FIRN_ARENA_INIT { NULL, 0 }

void *firn_arena_alloc(struct firn_arena *a, size_t size); /* zeroed, 16-aligned */
char *firn_arena_strndup(struct firn_arena *a, const char *s, size_t n);
char *firn_arena_strdup(struct firn_arena *a, const char *s);
void firn_arena_free(struct firn_arena *a);

/* ---- time and value forms (Iceberg JSON single-value forms) ---------- */

/* days since 1970-01-01 <-> "2017-11-16" */
int firn_date_format(int32_t days, char *out, size_t cap);
int firn_date_parse(const char *s, size_t n, int32_t *days);
/* microseconds since midnight <-> "22:31:08.123456" (always 6 fraction
 * digits, as the spec's examples; parse accepts 0..9 digits). */
int firn_time_format(int64_t micros, char *out, size_t cap);
int firn_time_parse(const char *s, size_t n, int64_t *micros);
/* Timestamps: value in units of 10^-digits seconds (digits 6 or 9).
 * Format: "2017-11-16T22:31:08.123456" (always `digits` fraction digits;
 * + "+00:00" when tz; years outside 0000..9999 get a sign, "+10000-01-01").
 * Parse: accepts 'T' or ' ', optional fraction, optional Z / +hh:mm / -hh:mm
 * offset (converted to UTC); a date alone means midnight. */
int firn_timestamp_format(int64_t value, int digits, bool tz, char *out, size_t cap);
int firn_timestamp_parse(const char *s, size_t n, int digits, int64_t *value);
/* Days from civil date and back (proleptic Gregorian). */
int64_t firn_days_from_civil(int64_t y, unsigned m, unsigned d);
void firn_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Shortest text that reads back to the same double / float, always with
 * a point or an exponent ("1.0", "-0.0", "1e+300"); "NaN", "Infinity",
 * "-Infinity" for the specials. Returns the length. */
int firn_double_format(double v, char *out, size_t cap);
int firn_float_format(float v, char *out, size_t cap);

/* ---- hashes and ids -------------------------------------------------- */

/* Murmur3 x86 32-bit (Iceberg's bucket transform uses seed 0). */
uint32_t firn_murmur3_32(const void *data, size_t len, uint32_t seed);
/* CRC-32 (zlib's polynomial); start with crc 0. */
uint32_t firn_crc32(uint32_t crc, const void *data, size_t len);
/* A random (version 4) UUID. 0 or FIRN_EIO. */
int firn_uuid_v4(uint8_t out[16]);
/* Lowercase canonical text, 36 characters + NUL. */
void firn_uuid_format(const uint8_t u[16], char out[37]);
/* Parses the canonical text form (either case). 0 or FIRN_EINVAL. */
int firn_uuid_parse(const char *s, size_t n, uint8_t out[16]);

/* ---- thread pool ----------------------------------------------------- */

struct firn_pool;
/* nthreads <= 0 means the number of online CPUs. */
int firn_pool_new(struct firn_pool **out, int nthreads, struct firn_error *err);
/* Queues fn(arg). 0 or FIRN_ENOMEM. */
int firn_pool_submit(struct firn_pool *p, void (*fn)(void *), void *arg);
/* Waits until every queued job has run. */
void firn_pool_wait(struct firn_pool *p);
void firn_pool_free(struct firn_pool *p); /* waits, then joins; NULL ok */

/* ---- misc ------------------------------------------------------------ */

/* The version string, "X.Y.Z". */
const char *firn_version(void);
/* "firn version X.Y.Z (build <hash>)", the Parquet created_by form. */
const char *firn_created_by(void);

#ifdef __cplusplus
}
#endif
#endif
