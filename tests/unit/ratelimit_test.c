// SPDX-License-Identifier: Apache-2.0
// ratelimit_test.c: the token bucket, on a clock the test moves.
#include <stdint.h>
#include <stdio.h>

#include "ratelimit.h"
#include "testlib.h"

#define MS 1000000ull
#define SEC 1000000000ull

// The burst is free; beyond it, each byte costs 1/rate seconds.
static void
test_ratelimit__burst_then_the_rate(void **state)
{
	struct ratelimit r;

	(void) state;
	ratelimit_init(&r, 100, 10, 0);
	assert_int_equal(ratelimit_take(&r, 10, 0), 0);
	assert_int_equal(ratelimit_take(&r, 10, 0), 100 * MS);
	// Waited out: 100 ms later the debt is paid and nothing is saved.
	assert_int_equal(ratelimit_take(&r, 5, 100 * MS), 50 * MS);
}

// Idle time saves up to the burst, no more.
static void
test_ratelimit__idle_saves_only_a_burst(void **state)
{
	struct ratelimit r;

	(void) state;
	ratelimit_init(&r, 100, 10, 0);
	assert_int_equal(ratelimit_take(&r, 10, 0), 0);
	assert_int_equal(ratelimit_take(&r, 10, 10 * SEC), 0);
	assert_int_equal(ratelimit_take(&r, 1, 10 * SEC), 10 * MS);
}

// A take larger than the burst is allowed and paid for after: the
// average holds whatever the chunk size.
static void
test_ratelimit__large_takes_keep_the_average(void **state)
{
	struct ratelimit r;
	uint64_t         now = 0;

	(void) state;
	ratelimit_init(&r, 4 << 20, 1 << 20, 0); // 4 MiB/s, 1 MiB burst
	for (int i = 0; i < 100; i++) {
		now += ratelimit_take(&r, 4 << 20, now); // 4 MiB chunks
	}
	// 400 MiB at 4 MiB/s: 100 s, less the first MiB of burst.
	assert_true(now >= 99 * SEC && now <= 100 * SEC);
}

static void
test_ratelimit__zero_is_no_limit(void **state)
{
	struct ratelimit r;

	(void) state;
	ratelimit_init(&r, 0, 0, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ratelimit_take(&r, UINT32_MAX, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit__burst_then_the_rate),
		cmocka_unit_test(test_ratelimit__idle_saves_only_a_burst),
		cmocka_unit_test(test_ratelimit__large_takes_keep_the_average),
		cmocka_unit_test(test_ratelimit__zero_is_no_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
