// SPDX-License-Identifier: Apache-2.0
// fdbudget_test.c: the connection caps chosen to fit a descriptor limit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdbudget.h"
#include "testlib.h"

#define ROOM(nofile) ((nofile) -FDBUDGET_RESERVE)

static void
test_fdbudget__defaults_hold_under_a_large_limit(void **state)
{
	fdbudget lim = { 0 };

	assert_int_equal(fdbudget_fit(&lim, 1048576, 0, 0, true, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, FDBUDGET_DEFAULT_RPC_CONNS);
	assert_int_equal(lim.http_max_conns, FDBUDGET_DEFAULT_HTTP_CONNS);
	assert_int_equal(lim.nofile, 1048576);
}

static void
test_fdbudget__defaults_shrink_to_fit_1024(void **state)
{
	fdbudget lim = { 0 };

	assert_int_equal(fdbudget_fit(&lim, 1024, 0, 0, true, NULL), PA_OK);
	assert_true(lim.rpc_max_conns + lim.http_max_conns <= ROOM(1024));
	// In proportion to the defaults, 1024 to 64.
	assert_int_equal(lim.http_max_conns, ROOM(1024) * 64 / 1088);
	assert_int_equal(lim.rpc_max_conns, ROOM(1024) - lim.http_max_conns);
}

static void
test_fdbudget__defaults_shrink_to_one_each_at_the_edge(void **state)
{
	fdbudget lim = { 0 };

	assert_int_equal(
	    fdbudget_fit(&lim, FDBUDGET_RESERVE + 2, 0, 0, true, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, 1);
	assert_int_equal(lim.http_max_conns, 1);
}

static void
test_fdbudget__a_cap_given_is_kept_and_the_other_fills(void **state)
{
	fdbudget lim = { 0 };

	assert_int_equal(fdbudget_fit(&lim, 1024, 900, 0, true, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, 900);
	assert_int_equal(lim.http_max_conns, ROOM(1024) - 900);
	assert_int_equal(fdbudget_fit(&lim, 1024, 0, 10, true, NULL), PA_OK);
	assert_int_equal(lim.http_max_conns, 10);
	assert_int_equal(lim.rpc_max_conns, ROOM(1024) - 10);
	assert_int_equal(fdbudget_fit(&lim, 1048576, 0, 10, true, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, FDBUDGET_DEFAULT_RPC_CONNS);
}

static void
test_fdbudget__caps_given_that_do_not_fit_are_invalid(void **state)
{
	fdbudget lim = { .rpc_max_conns = 7 };
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(fdbudget_fit(&lim, 1024, 1000, 100, true, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "need 1100 descriptors"));
	assert_non_null(strstr(err.msg, "the limit 1024 leaves 960"));
	// One HTTP connection must still fit beside --max-conns.
	assert_int_equal(
	    fdbudget_fit(&lim, 1024, 960, 0, true, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    fdbudget_fit(&lim, 1024, 0, 960, true, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(lim.rpc_max_conns, 7); // untouched on failure
}

static void
test_fdbudget__without_http_rpc_takes_the_room(void **state)
{
	fdbudget lim = { 0 };

	assert_int_equal(fdbudget_fit(&lim, 1024, 960, 0, false, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, 960);
	assert_int_equal(lim.http_max_conns, 0);
	assert_int_equal(fdbudget_fit(&lim, 512, 0, 64, false, NULL), PA_OK);
	assert_int_equal(lim.rpc_max_conns, ROOM(512));
	assert_int_equal(lim.http_max_conns, 0);
}

static void
test_fdbudget__a_limit_with_no_room_is_resource_exhausted(void **state)
{
	fdbudget lim = { 0 };
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(
	    fdbudget_fit(&lim, 64, 0, 0, true, &err), PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "64"));
	assert_int_equal(
	    fdbudget_fit(&lim, FDBUDGET_RESERVE + 1, 0, 0, true, &err),
	    PA_RESOURCE_EXHAUSTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_fdbudget__defaults_hold_under_a_large_limit),
		cmocka_unit_test(test_fdbudget__defaults_shrink_to_fit_1024),
		cmocka_unit_test(
		    test_fdbudget__defaults_shrink_to_one_each_at_the_edge),
		cmocka_unit_test(
		    test_fdbudget__a_cap_given_is_kept_and_the_other_fills),
		cmocka_unit_test(
		    test_fdbudget__caps_given_that_do_not_fit_are_invalid),
		cmocka_unit_test(
		    test_fdbudget__without_http_rpc_takes_the_room),
		cmocka_unit_test(
		    test_fdbudget__a_limit_with_no_room_is_resource_exhausted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
