/* The load-table answers of recent metadata files. A metadata file never
 * changes once written (a commit writes a new one), so the answer for a
 * metadata location is the same until the table moves on: a load that
 * finds the table still at a cached location answers without reading,
 * parsing and writing back the file, which is most of a load's cost. */
#include <string.h>

#include "srv_private.h"

#define CACHE_SLOTS 64
#define CACHE_MAX_BODY (8u << 20) /* larger answers are not kept */

struct srv_cache_entry {
	char *key; /* location '\n' mode */
	char *body;
	size_t len;
	uint64_t used; /* the cache's clock at the last hit */
};

struct srv_cache {
	pthread_mutex_t lock;
	struct srv_cache_entry e[CACHE_SLOTS];
	uint64_t clock;
};

int firn_server__cache_new(struct srv_cache **out)
{
	*out = firn_calloc(1, sizeof(**out));
	if (!*out)
		return FIRN_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

void firn_server__cache_free(struct srv_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		firn_free(c->e[i].key);
		firn_free(c->e[i].body);
	}
	pthread_mutex_destroy(&c->lock);
	firn_free(c);
}

static char *key_of(const char *location, const char *mode)
{
	size_t a = strlen(location), b = strlen(mode);
	char *k = firn_malloc(a + b + 2);
	if (k) {
		memcpy(k, location, a);
		k[a] = '\n';
		memcpy(k + a + 1, mode, b + 1);
	}
	return k;
}

char *firn_server__cache_get(struct srv_cache *c, const char *location, const char *mode)
{
	char *k = key_of(location, mode), *copy = NULL;
	if (!k)
		return NULL;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct srv_cache_entry *e = &c->e[i];
		if (e->key && strcmp(e->key, k) == 0) {
			if ((copy = firn_malloc(e->len + 1)) != NULL) {
				memcpy(copy, e->body, e->len + 1);
				e->used = ++c->clock;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	firn_free(k);
	return copy;
}

void firn_server__cache_put(struct srv_cache *c, const char *location, const char *mode,
			    const char *body)
{
	size_t len = strlen(body);
	if (len > CACHE_MAX_BODY)
		return;
	char *k = key_of(location, mode), *b = firn_malloc(len + 1);
	if (!k || !b) {
		firn_free(k);
		firn_free(b);
		return; /* a cache: nothing is lost */
	}
	memcpy(b, body, len + 1);
	pthread_mutex_lock(&c->lock);
	struct srv_cache_entry *victim = &c->e[0];
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct srv_cache_entry *e = &c->e[i];
		if (e->key && strcmp(e->key, k) == 0) {
			victim = NULL; /* another request put it first */
			break;
		}
		if (!e->key || (victim->key && e->used < victim->used))
			victim = e;
	}
	if (victim) {
		firn_free(victim->key);
		firn_free(victim->body);
		*victim = (struct srv_cache_entry){ k, b, len, ++c->clock };
		k = b = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	firn_free(k);
	firn_free(b);
}
