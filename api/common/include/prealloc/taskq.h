// SPDX-License-Identifier: Apache-2.0
// taskq.h: a fixed pool of threads running tasks in the order submitted.
// The RPC server's pool for blocking handlers and the agent's job workers
// both run on it. Modelled on nng's nni_taskq: tasks are the caller's
// memory, so submitting never allocates and never fails.
#ifndef PREALLOC_TASKQ_H
#define PREALLOC_TASKQ_H

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pa_taskq pa_taskq;

/** One unit of work; embed it in what the work is about. */
typedef struct pa_task {
	void (*fn)(void *arg);
	void           *arg;
	struct pa_task *next; // the queue's, while submitted
} pa_task;

/**
 * Start @p nthreads threads (at least 1).
 * @param[out] out  set only on PA_OK; stop it with pa_taskq_free().
 * @return PA_OK, PA_INVALID_ARGUMENT for 0 threads, PA_RESOURCE_EXHAUSTED
 *         or PA_INTERNAL when memory or a thread cannot be had.
 */
int pa_taskq_new(pa_taskq **out, unsigned nthreads, pa_err *err);

/**
 * Queue @p t (fn and arg set) to run once on one of the threads, after
 * every task submitted before it has started. @p t is borrowed until its
 * fn starts; it may be submitted again from then on.
 */
void pa_taskq_submit(pa_taskq *q, pa_task *t);

/**
 * Run every task already submitted, then stop the threads and free the
 * queue; NULL is a no-op. Tasks may not be submitted once it is called.
 */
void pa_taskq_free(pa_taskq *q);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_TASKQ_H
