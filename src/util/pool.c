/* A small thread pool: a locked FIFO of jobs and N workers. */
#include <pthread.h>
#include <unistd.h>

#include "firn/util.h"

struct job {
	void (*fn)(void *);
	void *arg;
	struct job *next;
};

struct firn_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a job was queued, or stopping */
	pthread_cond_t idle;  /* the queue drained and nobody is running one */
	struct job *head, *tail;
	int running;
	bool stopping;
	int n_threads;
	pthread_t *threads;
};

static void *worker(void *p)
{
	struct firn_pool *pool = p;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->work, &pool->lock);
		if (pool->head == NULL && pool->stopping)
			break;
		struct job *j = pool->head;
		pool->head = j->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pool->running++;
		pthread_mutex_unlock(&pool->lock);
		j->fn(j->arg);
		firn_free(j);
		pthread_mutex_lock(&pool->lock);
		pool->running--;
		if (pool->head == NULL && pool->running == 0)
			pthread_cond_broadcast(&pool->idle);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int firn_pool_new(struct firn_pool **out, int nthreads, struct firn_error *err)
{
	*out = NULL;
	if (nthreads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (int)n : 1;
	}
	struct firn_pool *p = firn_calloc(1, sizeof(*p));
	if (p == NULL || (p->threads = firn_calloc((size_t)nthreads, sizeof(pthread_t))) == NULL) {
		firn_free(p);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			p->n_threads = i;
			firn_pool_free(p);
			return firn_error_set(err, FIRN_EIO, "cannot start thread %d", i);
		}
		p->n_threads = i + 1;
	}
	*out = p;
	return 0;
}

int firn_pool_submit(struct firn_pool *p, void (*fn)(void *), void *arg)
{
	struct job *j = firn_malloc(sizeof(*j));
	if (j == NULL)
		return FIRN_ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void firn_pool_wait(struct firn_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->head != NULL || p->running > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void firn_pool_free(struct firn_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	firn_free(p->threads);
	firn_free(p);
}
