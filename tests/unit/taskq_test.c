// SPDX-License-Identifier: Apache-2.0
// taskq_test.c: order, concurrency and the drain at free of pa_taskq.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "prealloc/taskq.h"
#include "testlib.h"

typedef struct order {
	pthread_mutex_t mtx;
	int             seen[64];
	int             n;
} order;

typedef struct item {
	pa_task task;
	order  *o;
	int     k;
} item;

static void
record(void *arg)
{
	item *it = arg;

	usleep(100); // let a second thread, if any, overtake
	pthread_mutex_lock(&it->o->mtx);
	it->o->seen[it->o->n++] = it->k;
	pthread_mutex_unlock(&it->o->mtx);
}

static void
test_taskq__one_thread_runs_in_order_and_free_drains(void **state)
{
	pa_taskq *q = NULL;
	order     o = { .mtx = PTHREAD_MUTEX_INITIALIZER };
	item      it[64];

	assert_int_equal(pa_taskq_new(&q, 1, NULL), PA_OK);
	for (int k = 0; k < 64; k++) {
		it[k] = (item) {
			.task = { .fn = record, .arg = &it[k] }, .o = &o, .k = k
		};
		pa_taskq_submit(q, &it[k].task);
	}
	pa_taskq_free(q); // returns once all 64 ran
	assert_int_equal(o.n, 64);
	for (int k = 0; k < 64; k++)
		assert_int_equal(o.seen[k], k);
}

typedef struct gate {
	pa_task    task;
	atomic_int inside;
	atomic_int most;
	atomic_int go;
} gate;

static void
hold(void *arg)
{
	gate *g = arg;
	int   n = atomic_fetch_add(&g->inside, 1) + 1;

	if (n > atomic_load(&g->most))
		atomic_store(&g->most, n);
	while (!atomic_load(&g->go))
		usleep(1000);
	atomic_fetch_sub(&g->inside, 1);
}

static void
test_taskq__n_threads_run_n_tasks_at_once_and_no_more(void **state)
{
	pa_taskq *q = NULL;
	gate      g[6];

	// Six tasks of their own, counting in g[0].
	for (int i = 0; i < 6; i++)
		g[i] = (gate) { .task = { .fn = hold, .arg = &g[0] } };
	assert_int_equal(pa_taskq_new(&q, 4, NULL), PA_OK);
	for (int i = 0; i < 6; i++)
		pa_taskq_submit(q, &g[i].task);
	for (int i = 0; i < 2000 && atomic_load(&g[0].inside) < 4; i++)
		usleep(1000);
	usleep(20 * 1000);
	assert_int_equal(atomic_load(&g[0].inside), 4);
	atomic_store(&g[0].go, 1);
	pa_taskq_free(q);
	assert_int_equal(atomic_load(&g[0].most), 4);
	assert_int_equal(atomic_load(&g[0].inside), 0);
}

typedef struct again {
	pa_task   task;
	pa_taskq *q;
	int       runs;
} again;

// A task may submit itself again once it runs.
static void
run_again(void *arg)
{
	again *a = arg;

	if (++a->runs < 5)
		pa_taskq_submit(a->q, &a->task);
}

static void
test_taskq__a_task_resubmits_itself(void **state)
{
	again a = { .task = { .fn = run_again, .arg = &a } };

	assert_int_equal(pa_taskq_new(&a.q, 2, NULL), PA_OK);
	pa_taskq_submit(a.q, &a.task);
	for (int i = 0; i < 2000 && a.runs < 5; i++)
		usleep(1000);
	pa_taskq_free(a.q);
	assert_int_equal(a.runs, 5);
}

static void
test_taskq__zero_threads_is_invalid(void **state)
{
	pa_taskq *q   = NULL;
	pa_err    err = PA_ERR_INIT;

	assert_int_equal(pa_taskq_new(&q, 0, &err), PA_INVALID_ARGUMENT);
	assert_null(q);
	pa_taskq_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_taskq__one_thread_runs_in_order_and_free_drains),
		cmocka_unit_test(
		    test_taskq__n_threads_run_n_tasks_at_once_and_no_more),
		cmocka_unit_test(test_taskq__a_task_resubmits_itself),
		cmocka_unit_test(test_taskq__zero_threads_is_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
