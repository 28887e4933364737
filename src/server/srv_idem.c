/* Idempotency-Key (REST spec 1.11): a mutating request that carries a key
 * the server has seen finalized answers as the first one did, without
 * running again; so a client that lost the answer to a commit can send it
 * again and not commit twice. Final answers are 2xx and 4xx; a 5xx is not
 * kept (the retry runs). A request arriving while the first with its key
 * still runs waits for that one. Keys live for the lifetime /v1/config
 * announces, in memory: a restarted server has forgotten them. */
#include <string.h>
#include <time.h>

#include "srv_private.h"

#define IDEM_MAX 4096 /* keys kept at most; the oldest go first */

struct idem_entry {
	char *key;   /* Idempotency-Key '\n' METHOD ' ' target */
	bool done;   /* answered; else still running */
	int status;
	char *body;
	size_t len;
	const char *content_type; /* static strings only */
	time_t at;
};

struct srv_idem {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct idem_entry *e;
	size_t n, cap;
};

int firn_server__idem_new(struct srv_idem **out)
{
	*out = firn_calloc(1, sizeof(**out));
	if (!*out)
		return FIRN_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	pthread_cond_init(&(*out)->changed, NULL);
	return 0;
}

static void entry_free(struct idem_entry *e)
{
	firn_free(e->key);
	firn_free(e->body);
}

void firn_server__idem_free(struct srv_idem *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		entry_free(&d->e[i]);
	firn_free(d->e);
	pthread_cond_destroy(&d->changed);
	pthread_mutex_destroy(&d->lock);
	firn_free(d);
}

static struct idem_entry *find(struct srv_idem *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->e[i].key, key) == 0)
			return &d->e[i];
	return NULL;
}

/* Drops finished entries past their lifetime, and the oldest finished one
 * when the store is full. */
static void prune(struct srv_idem *d, time_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->e[i].done && now - d->e[i].at > FIRN_SERVER_IDEM_LIFETIME_S)
			entry_free(&d->e[i]);
		else
			d->e[k++] = d->e[i];
	}
	d->n = k;
	if (d->n < IDEM_MAX)
		return;
	for (size_t i = 0; i < d->n; i++)
		if (d->e[i].done) {
			entry_free(&d->e[i]);
			d->e[i] = d->e[--d->n];
			return;
		}
}

int firn_server__idem_begin(struct srv_idem *d, const char *key, struct srv_call *x)
{
	pthread_mutex_lock(&d->lock);
	struct idem_entry *e;
	for (int waited = 0; (e = find(d, key)) != NULL && !e->done && waited < 600; waited++) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->changed, &d->lock, &t);
	}
	if (e && e->done) {
		char *copy = e->len ? firn_malloc(e->len) : NULL;
		if (e->len && !copy) {
			pthread_mutex_unlock(&d->lock);
			firn_server__error(x, 503, "ServiceUnavailableException", "out of memory");
			return 1;
		}
		if (copy)
			memcpy(copy, e->body, e->len);
		firn_free(x->out);
		x->out = copy;
		x->out_len = e->len;
		x->status = e->status;
		x->content_type = e->content_type;
		pthread_mutex_unlock(&d->lock);
		return 1;
	}
	if (e) { /* the first is still running after a minute: this one runs */
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	prune(d, time(NULL));
	int rc = 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct idem_entry *ne = firn_realloc(d->e, cap * sizeof(*ne));
		if (!ne)
			rc = -1;
		else {
			d->e = ne;
			d->cap = cap;
		}
	}
	char *k = rc == 0 ? firn_strdup(key) : NULL;
	if (k)
		d->e[d->n++] = (struct idem_entry){ .key = k, .at = time(NULL) };
	pthread_mutex_unlock(&d->lock);
	return 0; /* without a slot the request runs unrecorded */
}

void firn_server__idem_end(struct srv_idem *d, const char *key, const struct srv_call *x)
{
	pthread_mutex_lock(&d->lock);
	struct idem_entry *e = find(d, key);
	if (e && !e->done) {
		char *copy = x->out_len ? firn_malloc(x->out_len) : NULL;
		bool keep = x->status < 500 && (x->out_len == 0 || copy) &&
			    (!x->content_type || strcmp(x->content_type, "application/json") == 0);
		if (keep) {
			if (copy)
				memcpy(copy, x->out, x->out_len);
			e->done = true;
			e->status = x->status;
			e->body = copy;
			e->len = x->out_len;
			e->content_type = x->content_type ? "application/json" : NULL;
			e->at = time(NULL);
		} else {
			firn_free(copy);
			entry_free(e);
			*e = d->e[--d->n];
		}
	}
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}
