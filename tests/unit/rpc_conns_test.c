// SPDX-License-Identifier: Apache-2.0
// rpc_conns_test.c: the connection table: counting, the cap, which idle
// connection is evicted and when the newcomer is refused instead.
#include <stdlib.h>

#include "rpc_conns.h"
#include "testlib.h"

#define S 1000000000ULL // one second in ns

static int
rpc_conns_setup(void **state)
{
	rpc_conns *c = NULL;

	assert_int_equal(rpc_conns_new(&c, 3, NULL), PA_OK);
	*state = c;
	return 0;
}

static int
rpc_conns_teardown(void **state)
{
	rpc_conns_free(*state);
	return 0;
}

static void
assert_counts(rpc_conns *c, uint64_t open, uint64_t refused)
{
	uint64_t o = 0, r = 0;

	rpc_conns_counts(c, &o, &r);
	assert_int_equal(o, open);
	assert_int_equal(r, refused);
}

// Fill the cap of 3 with pipes 1, 2, 3 connected at 1 s, 2 s, 3 s.
static void
fill(rpc_conns *c)
{
	uint32_t victim = 0;

	for (uint32_t p = 1; p <= 3; p++)
		assert_int_equal(rpc_conns_admit(c, p, p * S, NULL, 0, &victim),
		    RPC_CONNS_ADMIT);
	assert_true(rpc_conns_full(c));
	assert_counts(c, 3, 0);
}

static void
test_rpc_conns__below_the_cap_admits_and_counts(void **state)
{
	rpc_conns *c      = *state;
	uint32_t   victim = 0;

	assert_false(rpc_conns_full(c));
	assert_int_equal(
	    rpc_conns_admit(c, 7, S, NULL, 0, &victim), RPC_CONNS_ADMIT);
	assert_counts(c, 1, 0);
	rpc_conns_remove(c, 7);
	assert_counts(c, 0, 0);
	rpc_conns_remove(c, 7); // a second REM_POST must not drift
	assert_counts(c, 0, 0);
}

static void
test_rpc_conns__at_the_cap_the_longest_idle_is_evicted(void **state)
{
	rpc_conns      *c        = *state;
	rpc_conns_usage usage[3] = { { 3, 0, 0 }, { 1, 0, 0 }, { 2, 0, 0 } };
	uint32_t        victim   = 0;

	fill(c);
	assert_int_equal(
	    rpc_conns_admit(c, 4, 10 * S, usage, 3, &victim), RPC_CONNS_EVICT);
	assert_int_equal(victim, 1);
	assert_counts(c, 3, 1);
	rpc_conns_remove(c, 1); // the evicted pipe's REM_POST is ignored
	assert_counts(c, 3, 1);
	rpc_conns_remove(c, 4);
	assert_counts(c, 2, 1);
}

static void
test_rpc_conns__a_connection_with_a_request_in_flight_is_kept(void **state)
{
	rpc_conns      *c        = *state;
	rpc_conns_usage usage[3] = { { 1, 5, 4 }, { 2, 0, 0 }, { 3, 0, 0 } };
	uint32_t        victim   = 0;

	fill(c);
	assert_int_equal(
	    rpc_conns_admit(c, 4, 10 * S, usage, 3, &victim), RPC_CONNS_EVICT);
	assert_int_equal(victim, 2);
}

static void
test_rpc_conns__recent_activity_makes_an_old_connection_young(void **state)
{
	rpc_conns      *c        = *state;
	rpc_conns_usage first[3] = { { 1, 2, 2 }, { 2, 0, 0 }, { 3, 1, 0 } };
	rpc_conns_usage later[3] = { { 1, 2, 2 }, { 3, 1, 1 }, { 4, 0, 0 } };
	uint32_t        victim   = 0;

	fill(c);
	// At 10 s pipe 1 has answered calls since it connected (its counts
	// changed), pipe 3 is busy: pipe 2, idle since 2 s, goes.
	assert_int_equal(
	    rpc_conns_admit(c, 4, 10 * S, first, 3, &victim), RPC_CONNS_EVICT);
	assert_int_equal(victim, 2);
	// At 20 s pipe 3 has answered (active now); pipes 1 and 4 were both
	// last seen active at 10 s, and the one connected first goes.
	assert_int_equal(
	    rpc_conns_admit(c, 5, 20 * S, later, 3, &victim), RPC_CONNS_EVICT);
	assert_int_equal(victim, 1);
	assert_counts(c, 3, 2);
}

static void
test_rpc_conns__newcomer_is_refused_when_none_is_idle(void **state)
{
	rpc_conns      *c       = *state;
	rpc_conns_usage busy[3] = { { 1, 1, 0 }, { 2, 3, 2 }, { 3, 9, 8 } };
	uint32_t        victim  = 99;

	fill(c);
	assert_int_equal(
	    rpc_conns_admit(c, 4, 10 * S, busy, 3, &victim), RPC_CONNS_REFUSE);
	assert_int_equal(victim, 99);
	// Unknown to nng's counters (none given): never a victim either.
	assert_int_equal(
	    rpc_conns_admit(c, 5, 11 * S, NULL, 0, &victim), RPC_CONNS_REFUSE);
	assert_counts(c, 3, 2);
	rpc_conns_remove(c, 4); // refused pipes' REM_POST is ignored
	rpc_conns_remove(c, 5);
	assert_counts(c, 3, 2);
}

static void
test_rpc_conns__without_a_cap_every_connection_counts(void **state)
{
	rpc_conns *c      = NULL;
	uint32_t   victim = 0;

	assert_int_equal(rpc_conns_new(&c, 0, NULL), PA_OK);
	for (uint32_t p = 1; p <= 1000; p++)
		assert_int_equal(rpc_conns_admit(c, p, p, NULL, 0, &victim),
		    RPC_CONNS_ADMIT);
	assert_false(rpc_conns_full(c));
	assert_counts(c, 1000, 0);
	for (uint32_t p = 1000; p >= 1; p--)
		rpc_conns_remove(c, p);
	assert_counts(c, 0, 0);
	rpc_conns_free(c);
}

#define T(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, rpc_conns_setup, rpc_conns_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rpc_conns__below_the_cap_admits_and_counts),
		T(test_rpc_conns__at_the_cap_the_longest_idle_is_evicted),
		T(test_rpc_conns__a_connection_with_a_request_in_flight_is_kept),
		T(test_rpc_conns__recent_activity_makes_an_old_connection_young),
		T(test_rpc_conns__newcomer_is_refused_when_none_is_idle),
		T(test_rpc_conns__without_a_cap_every_connection_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
