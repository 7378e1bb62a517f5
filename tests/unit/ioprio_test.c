// SPDX-License-Identifier: Apache-2.0
// ioprio_test.c: a worker's I/O class, as the kernel reads it back.
#include <linux/ioprio.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ioprio.h"
#include "testlib.h"

static int
thread_ioprio(void)
{
	return (int) syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
}

static void
test_ioprio__names_round_trip(void **state)
{
	enum io_class c   = IO_CLASS_IDLE;
	pa_err        err = PA_ERR_INIT;

	(void) state;
	assert_int_equal(io_class_parse(&c, "best-effort", NULL), PA_OK);
	assert_int_equal(c, IO_CLASS_BEST_EFFORT);
	assert_int_equal(io_class_parse(&c, "idle", NULL), PA_OK);
	assert_int_equal(c, IO_CLASS_IDLE);
	assert_int_equal(io_class_parse(&c, "rt", &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "'rt'"));
	assert_string_equal(io_class_name(IO_CLASS_IDLE), "idle");
	assert_string_equal(io_class_name(IO_CLASS_BEST_EFFORT), "best-effort");
}

static void *
apply_idle(void *arg)
{
	int *seen = arg;

	if (io_class_apply(IO_CLASS_IDLE, NULL) == PA_OK)
		*seen = thread_ioprio();
	return NULL;
}

// The class is the calling thread's: another thread keeps its own.
static void
test_ioprio__applies_to_the_calling_thread_only(void **state)
{
	pthread_t th;
	int       seen = -1, before = thread_ioprio();

	(void) state;
	pthread_create(&th, NULL, apply_idle, &seen);
	pthread_join(th, NULL);
	assert_int_equal(IOPRIO_PRIO_CLASS(seen), IOPRIO_CLASS_IDLE);
	assert_int_equal(thread_ioprio(), before);
	assert_int_equal(io_class_apply(IO_CLASS_BEST_EFFORT, NULL), PA_OK);
	assert_int_equal(IOPRIO_PRIO_CLASS(thread_ioprio()), IOPRIO_CLASS_BE);
	assert_int_equal(IOPRIO_PRIO_DATA(thread_ioprio()), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioprio__names_round_trip),
		cmocka_unit_test(
		    test_ioprio__applies_to_the_calling_thread_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
