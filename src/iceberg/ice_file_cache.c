/* The manifest lists and manifests a process read last. Iceberg writes
 * them once under fresh names and never changes them, so their bytes can
 * be kept: a command that plans twice (a listing, then the scan; a
 * delete's plan, then its commit) and a server answering many requests
 * fetch each once, which counts where every request costs (S3). */
#include <pthread.h>
#include <string.h>

#include "firn/util.h"
#include "iceberg/ice_manifest.h"
#include "io/io_local.h"

#define CACHE_BYTES (16u << 20) /* in all */
#define CACHE_FILES 64
#define CACHE_MAX_FILE (CACHE_BYTES / 4)

struct cached_file {
	char *path;
	uint8_t *data;
	size_t len;
	unsigned long used; /* the clock when last read */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached_file files[CACHE_FILES];
static size_t total;
static unsigned long clock_now;

static void evict(struct cached_file *f)
{
	total -= f->len;
	firn_free(f->path);
	firn_free(f->data);
	memset(f, 0, sizeof(*f));
}

/* A copy of path's bytes if kept (NUL-terminated, as firn_io_read_all's). */
static uint8_t *lookup(const char *path, size_t *n)
{
	uint8_t *copy = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < CACHE_FILES; i++) {
		struct cached_file *f = &files[i];
		if (f->path && strcmp(f->path, path) == 0) {
			if ((copy = firn_malloc(f->len + 1))) {
				memcpy(copy, f->data, f->len);
				copy[f->len] = 0;
				*n = f->len;
				f->used = ++clock_now;
			}
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return copy;
}

/* Keeps a copy, making room by dropping the least recently read; out of
 * memory just keeps nothing. */
static void keep(const char *path, const uint8_t *data, size_t n)
{
	if (n > CACHE_MAX_FILE)
		return;
	char *p = firn_strdup(path);
	uint8_t *d = firn_malloc(n ? n : 1);
	if (!p || !d) {
		firn_free(p);
		firn_free(d);
		return;
	}
	memcpy(d, data, n);
	pthread_mutex_lock(&lock);
	struct cached_file *slot = NULL;
	for (;;) {
		struct cached_file *oldest = NULL;
		slot = NULL;
		for (size_t i = 0; i < CACHE_FILES; i++) {
			if (files[i].path && strcmp(files[i].path, path) == 0)
				evict(&files[i]); /* read twice at once: keep the later */
			if (!files[i].path && !slot)
				slot = &files[i];
			else if (files[i].path && (!oldest || files[i].used < oldest->used))
				oldest = &files[i];
		}
		if (slot && total + n <= CACHE_BYTES)
			break;
		evict(oldest);
	}
	*slot = (struct cached_file){ p, d, n, ++clock_now };
	total += n;
	pthread_mutex_unlock(&lock);
}

int firn_ice__read_immutable(const char *path, uint8_t **data, size_t *n, struct firn_error *err)
{
	if ((*data = lookup(path, n)))
		return 0;
	FIRN_TRY(firn_io__read_all(path, data, n, err));
	keep(path, *data, *n);
	return 0;
}

void firn_ice__forget_immutable(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < CACHE_FILES; i++)
		if (files[i].path)
			evict(&files[i]);
	pthread_mutex_unlock(&lock);
}
