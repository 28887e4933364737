/* Allocator internals of libfirn: out-of-memory injection for tests, and
 * jansson calls that survive it. Internal (not exported). */
#ifndef FIRN_UTIL_ALLOC_H
#define FIRN_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
