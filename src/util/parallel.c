/* firn_par__for: a shared counter of items that the caller and the pool's
 * helpers take from until none is left. The loop's state is counted by
 * reference, so a helper that starts after the work is done (the pool was
 * busy) finds nothing to do and frees nothing it should not. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "firn/util.h"
#include "util/parallel.h"

static atomic_int configured; /* firn_set_threads; 0: not set */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static struct firn_pool *pool;
static int pool_threads; /* the pool's helpers (threads - 1 at first use) */

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (n > 256 ? 256 : (int)n) : 1;
}

void firn_set_threads(int n)
{
	atomic_store(&configured, n > 0 ? (n > 256 ? 256 : n) : 0);
}

int firn_get_threads(void)
{
	int n = atomic_load(&configured);
	if (n > 0)
		return n;
	const char *env = getenv("FIRN_THREADS");
	if (env && *env) {
		int v = atoi(env);
		if (v > 0)
			return v > 256 ? 256 : v;
	}
	return online_cpus();
}

static void make_pool(void)
{
	int helpers = firn_get_threads() - 1;
	if (helpers < 1)
		helpers = 1; /* a later firn_set_threads(2) still finds one */
	if (firn_pool_new(&pool, helpers, NULL) == 0)
		pool_threads = helpers;
}

struct par_loop {
	void (*fn)(void *, size_t, int);
	void *arg;
	size_t n;
	atomic_size_t next;
	atomic_int slots;
	atomic_int refs;
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	size_t done;
};

static void loop_unref(struct par_loop *l)
{
	if (atomic_fetch_sub(&l->refs, 1) == 1) {
		pthread_mutex_destroy(&l->lock);
		pthread_cond_destroy(&l->done_cond);
		firn_free(l);
	}
}

static void loop_work(struct par_loop *l)
{
	int slot = atomic_fetch_add(&l->slots, 1);
	size_t did = 0;
	for (;;) {
		size_t i = atomic_fetch_add(&l->next, 1);
		if (i >= l->n)
			break;
		l->fn(l->arg, i, slot);
		did++;
	}
	if (did) {
		pthread_mutex_lock(&l->lock);
		l->done += did;
		if (l->done == l->n)
			pthread_cond_broadcast(&l->done_cond);
		pthread_mutex_unlock(&l->lock);
	}
}

static void helper(void *p)
{
	struct par_loop *l = p;
	loop_work(l);
	loop_unref(l);
}

static void run_serial(size_t n, void (*fn)(void *, size_t, int), void *arg)
{
	for (size_t i = 0; i < n; i++)
		fn(arg, i, 0);
}

void firn_par__for(size_t n, int max_slots, void (*fn)(void *arg, size_t i, int slot), void *arg)
{
	int threads = firn_get_threads();
	if (threads > max_slots)
		threads = max_slots;
	if (n < 2 || threads < 2) {
		run_serial(n, fn, arg);
		return;
	}
	pthread_once(&pool_once, make_pool);
	int helpers = threads - 1;
	if (helpers > pool_threads)
		helpers = pool_threads;
	if ((size_t)helpers > n - 1)
		helpers = (int)(n - 1);
	struct par_loop *l = helpers > 0 ? firn_calloc(1, sizeof(*l)) : NULL;
	if (!l) {
		run_serial(n, fn, arg);
		return;
	}
	l->fn = fn;
	l->arg = arg;
	l->n = n;
	atomic_init(&l->next, 0);
	atomic_init(&l->slots, 0);
	atomic_init(&l->refs, 1);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done_cond, NULL);
	for (int h = 0; h < helpers; h++) {
		atomic_fetch_add(&l->refs, 1);
		if (firn_pool_submit(pool, helper, l) != 0) {
			atomic_fetch_sub(&l->refs, 1);
			break; /* the caller does the rest */
		}
	}
	loop_work(l);
	pthread_mutex_lock(&l->lock);
	while (l->done < l->n)
		pthread_cond_wait(&l->done_cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
	loop_unref(l);
}

struct io_loop {
	void (*fn)(void *, size_t, int);
	void *arg;
	size_t n;
	atomic_size_t next;
};

struct io_worker {
	struct io_loop *l;
	int slot;
};

static void *io_work(void *p)
{
	struct io_worker *w = p;
	for (size_t i; (i = atomic_fetch_add(&w->l->next, 1)) < w->l->n;)
		w->l->fn(w->l->arg, i, w->slot);
	return NULL;
}

void firn_par__io(size_t n, int width, void (*fn)(void *arg, size_t i, int slot), void *arg)
{
	enum { MAX_WIDTH = 16 };
	if (width > MAX_WIDTH)
		width = MAX_WIDTH;
	if ((size_t)width > n)
		width = (int)n;
	struct io_loop l = { fn, arg, n, 0 };
	struct io_worker w[MAX_WIDTH];
	pthread_t th[MAX_WIDTH];
	int started = 0;
	for (int k = 1; k < width; k++) {
		w[started] = (struct io_worker){ &l, started + 1 };
		if (pthread_create(&th[started], NULL, io_work, &w[started]) != 0)
			break;
		started++;
	}
	struct io_worker self = { &l, 0 };
	io_work(&self);
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
}
