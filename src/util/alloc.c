/* The one allocator hook, and the growable buffer and arena built on it. */
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "firn/util.h"
#include "util/alloc.h"

static void *libc_malloc(size_t n, void *ctx) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *p, size_t n, void *ctx) { (void)ctx; return realloc(p, n); }
static void libc_free(void *p, void *ctx) { (void)ctx; free(p); }

static struct firn_allocator alloc = { libc_malloc, libc_realloc, libc_free, NULL };

void firn_allocator_set(const struct firn_allocator *a)
{
	if (a == NULL)
		alloc = (struct firn_allocator){ libc_malloc, libc_realloc, libc_free, NULL };
	else
		alloc = *a;
}

/* Fault injection (SQLite's "fail the Nth allocation"): every firn_malloc
 * and firn_realloc, jansson's included, takes a number; number fail_at
 * fails, and with persistent every one after it. Atomic because pool
 * threads allocate too. */
static atomic_long alloc_count;
static atomic_long alloc_fail_at;
static atomic_bool alloc_persistent;
static atomic_long alloc_failures;
/* Inside firn_json__loadb: an injected failure is deferred to its end. */
static _Thread_local bool alloc_in_json_parse, alloc_json_missed;

void firn_alloc__fail_at(long n, bool persistent)
{
	atomic_store(&alloc_fail_at, 0);
	atomic_store(&alloc_count, 0);
	atomic_store(&alloc_failures, 0);
	atomic_store(&alloc_persistent, persistent);
	atomic_store(&alloc_fail_at, n);
}

long firn_alloc__count(void) { return atomic_load(&alloc_count); }
long firn_alloc__failures(void) { return atomic_load(&alloc_failures); }

/* A place for a debugger's breakpoint: "break alloc_injected". */
__attribute__((noinline)) static void alloc_injected(void) { __asm__ volatile(""); }

static bool alloc_should_fail(void)
{
	long at = atomic_load(&alloc_fail_at);
	long n = atomic_fetch_add(&alloc_count, 1) + 1;
	if (at <= 0 || n < at || (n > at && !atomic_load(&alloc_persistent)))
		return false;
	atomic_fetch_add(&alloc_failures, 1);
	alloc_injected();
	if (alloc_in_json_parse) {
		alloc_json_missed = true;
		return false;
	}
	return true;
}

void *firn_malloc(size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return alloc.malloc(size ? size : 1, alloc.ctx);
}

void *firn_realloc(void *p, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return alloc.realloc(p, size ? size : 1, alloc.ctx);
}

/* jansson allocates through the hook too, so its memory counts, fails under
 * injection, and is freed with firn_free (json_dumps text included). The
 * setting is process-global: installed before main, hence before any
 * json_t exists, and never changed afterwards. */
static _Thread_local long json_failures;

static void *json_malloc(size_t size)
{
	void *p = firn_malloc(size);
	if (p == NULL)
		json_failures++;
	return p;
}

long firn_alloc__json_failures(void) { return json_failures; }

/* jansson's lexer drops a failed growth of its saved text and then asserts
 * or reads past its buffer (akheron/jansson#362), so an injected failure
 * inside a parse is let through and the parse then fails as if jansson had
 * reported it: the caller's out-of-memory path is what is under test. */
json_t *firn_json__loadb(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	alloc_in_json_parse = true;
	alloc_json_missed = false;
	json_t *j = json_loadb(buf, len, flags, error);
	alloc_in_json_parse = false;
	if (alloc_json_missed) {
		json_decref(j);
		j = NULL;
		if (error) {
			memset(error, 0, sizeof(*error));
			error->line = error->column = -1;
			snprintf(error->text, sizeof(error->text), "out of memory");
		}
	}
	return j;
}

/* json_dumps, but NULL when jansson ran out of memory on the way: its
 * dumper ignores a failure to append an object key and goes on, returning
 * text with the key missing. */
char *firn_json__dumps(const json_t *j, size_t flags)
{
	long before = json_failures;
	char *s = json_dumps(j, flags);
	if (s != NULL && json_failures != before) {
		firn_free(s);
		s = NULL;
	}
	return s;
}

__attribute__((constructor)) static void alloc_install_jansson(void)
{
	json_set_alloc_funcs(json_malloc, firn_free);
}
void firn_free(void *p)
{
	if (p != NULL)
		alloc.free(p, alloc.ctx);
}

void *firn_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	void *p = firn_malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

char *firn_strndup(const char *s, size_t n)
{
	char *p = firn_malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *firn_strdup(const char *s) { return firn_strndup(s, strlen(s)); }

/* ---- buffers ---- */

int firn_buf_grow(struct firn_buf *b, size_t extra)
{
	if (extra > SIZE_MAX / 2 - b->len)
		return FIRN_ENOMEM;
	size_t need = b->len + extra;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap + cap / 2 + 64;
	uint8_t *p = firn_realloc(b->data, cap);
	if (p == NULL)
		return FIRN_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int firn_buf_puts(struct firn_buf *b, const char *s) { return firn_buf_append(b, s, strlen(s)); }

int firn_buf_printf(struct firn_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return FIRN_EINVAL;
	if (firn_buf_reserve(b, (size_t)n + 1) != 0)
		return FIRN_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int firn_buf_zeros(struct firn_buf *b, size_t n)
{
	if (firn_buf_reserve(b, n) != 0)
		return FIRN_ENOMEM;
	memset(b->data + b->len, 0, n);
	b->len += n;
	return 0;
}

int firn_buf_cstr(struct firn_buf *b)
{
	if (firn_buf_reserve(b, 1) != 0)
		return FIRN_ENOMEM;
	b->data[b->len] = '\0';
	return 0;
}

uint8_t *firn_buf_detach(struct firn_buf *b, size_t *len_out)
{
	uint8_t *p = b->data;
	if (len_out)
		*len_out = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

char *firn_buf_string(struct firn_buf *b, int rc)
{
	if (rc == 0)
		rc = firn_buf_cstr(b);
	if (rc != 0) {
		firn_buf_free(b);
		return NULL;
	}
	return (char *)firn_buf_detach(b, NULL);
}

void firn_buf_reset(struct firn_buf *b) { b->len = 0; }

void firn_buf_free(struct firn_buf *b)
{
	firn_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- arena ---- */

struct firn_arena_block {
	struct firn_arena_block *next;
	size_t used, cap;
	_Alignas(16) uint8_t mem[];
};

void *firn_arena_alloc(struct firn_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	struct firn_arena_block *blk = a->head;
	if (blk == NULL || blk->cap - blk->used < size) {
		size_t cap = a->block_size ? a->block_size : 8192;
		if (blk != NULL && cap < 1 << 20)
			a->block_size = cap * 2;
		if (cap < size)
			cap = size;
		if (cap > SIZE_MAX - sizeof(*blk))
			return NULL;
		struct firn_arena_block *nb = firn_malloc(sizeof(*nb) + cap);
		if (nb == NULL)
			return NULL;
		nb->used = 0;
		nb->cap = cap;
		/* a big one-off allocation goes behind the current block so the
		 * current block's free space is not wasted */
		if (blk != NULL && size > (a->block_size ? a->block_size : 8192) / 2) {
			nb->next = blk->next;
			blk->next = nb;
		} else {
			nb->next = blk;
			a->head = nb;
		}
		blk = nb;
	}
	void *p = blk->mem + blk->used;
	blk->used += size;
	memset(p, 0, size);
	return p;
}

char *firn_arena_strndup(struct firn_arena *a, const char *s, size_t n)
{
	char *p = firn_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *firn_arena_strdup(struct firn_arena *a, const char *s)
{
	return firn_arena_strndup(a, s, strlen(s));
}

void firn_arena_free(struct firn_arena *a)
{
	struct firn_arena_block *b = a->head;
	while (b != NULL) {
		struct firn_arena_block *next = b->next;
		firn_free(b);
		b = next;
	}
	a->head = NULL;
}
