// SPDX-License-Identifier: Apache-2.0
// taskq.c: a fixed pool of threads over one FIFO of intrusive tasks.
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "prealloc/taskq.h"

struct pa_taskq {
	pthread_mutex_t mtx; // guards the queue and exiting
	pthread_cond_t  cv;
	pa_task        *head, *tail;
	bool            exiting;
	pthread_t      *threads;
	unsigned        nthreads;
};

// Take the next task, waiting for one. @return NULL when told to exit
// and nothing is left: every task submitted runs before the pool stops.
static pa_task *
taskq_take(pa_taskq *q)
{
	pa_task *t;

	pthread_mutex_lock(&q->mtx);
	while (q->head == NULL && !q->exiting)
		pthread_cond_wait(&q->cv, &q->mtx);
	if ((t = q->head) != NULL) {
		q->head = t->next;
		if (q->head == NULL)
			q->tail = NULL;
		t->next = NULL;
	}
	pthread_mutex_unlock(&q->mtx);
	return t;
}

static void *
taskq_thread(void *arg)
{
	pa_taskq *q = arg;
	pa_task  *t;

	while ((t = taskq_take(q)) != NULL)
		t->fn(t->arg);
	return NULL;
}

int
pa_taskq_new(pa_taskq **out, unsigned nthreads, pa_err *err)
{
	pa_taskq *q;

	if (nthreads == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a task queue needs at least one thread");
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->threads = calloc(nthreads, sizeof(*q->threads))) == NULL) {
		free(q);
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_init(&q->mtx, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (; q->nthreads < nthreads; q->nthreads++)
		if (pthread_create(
		        &q->threads[q->nthreads], NULL, taskq_thread, q) != 0) {
			pa_taskq_free(q);
			return pa_err_set(
			    err, PA_INTERNAL, "cannot start a task thread");
		}
	*out = q;
	return PA_OK;
}

void
pa_taskq_submit(pa_taskq *q, pa_task *t)
{
	pthread_mutex_lock(&q->mtx);
	t->next = NULL;
	if (q->tail != NULL)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mtx);
}

void
pa_taskq_free(pa_taskq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mtx);
	q->exiting = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mtx);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mtx);
	free(q->threads);
	free(q);
}
