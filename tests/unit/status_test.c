// SPDX-License-Identifier: Apache-2.0
// status_test.c: the status code table and the pa_err helpers.
#include <errno.h>
#include <string.h>

#include "prealloc/status.h"
#include "testlib.h"

static void
test_status__names_follow_grpc(void **state)
{
	static const struct {
		int         code;
		const char *name;
	} table[] = {
		{ 0, "OK" },
		{ 1, "CANCELLED" },
		{ 3, "INVALID_ARGUMENT" },
		{ 4, "DEADLINE_EXCEEDED" },
		{ 5, "NOT_FOUND" },
		{ 6, "ALREADY_EXISTS" },
		{ 7, "PERMISSION_DENIED" },
		{ 8, "RESOURCE_EXHAUSTED" },
		{ 9, "FAILED_PRECONDITION" },
		{ 10, "ABORTED" },
		{ 12, "UNIMPLEMENTED" },
		{ 13, "INTERNAL" },
		{ 14, "UNAVAILABLE" },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_string_equal(
		    pa_status_name(table[i].code), table[i].name);
		assert_int_equal(
		    pa_status_from_name(table[i].name), table[i].code);
	}
	assert_string_equal(pa_status_name(-1), "UNKNOWN");
	assert_string_equal(pa_status_name(99), "UNKNOWN");
	assert_int_equal(pa_status_from_name("NOPE"), -1);
	assert_int_equal(pa_status_from_name(NULL), -1);
}

static void
test_status__err_set_returns_code_and_formats(void **state)
{
	pa_err err = PA_ERR_INIT;

	assert_int_equal(
	    pa_err_set(&err, PA_NOT_FOUND, "job %d", 42), PA_NOT_FOUND);
	assert_int_equal(err.code, PA_NOT_FOUND);
	assert_string_equal(err.msg, "job 42");
	assert_int_equal(pa_err_set(NULL, PA_ABORTED, "x"), PA_ABORTED);
	pa_err_clear(&err);
	assert_int_equal(err.code, PA_OK);
	assert_string_equal(err.msg, "");
}

static void
test_status__err_set_cuts_long_messages(void **state)
{
	pa_err err = PA_ERR_INIT;
	char   big[1000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pa_err_set(&err, PA_INTERNAL, "%s", big);
	assert_int_equal(strlen(err.msg), PA_ERR_MSG_SIZE - 1);
}

static void
test_status__errno_maps_at_the_call(void **state)
{
	pa_err err = PA_ERR_INIT;

	assert_int_equal(pa_status_from_errno(ENOSPC), PA_RESOURCE_EXHAUSTED);
	assert_int_equal(pa_status_from_errno(EACCES), PA_PERMISSION_DENIED);
	assert_int_equal(pa_status_from_errno(EBUSY), PA_FAILED_PRECONDITION);
	assert_int_equal(pa_status_from_errno(EROFS), PA_FAILED_PRECONDITION);
	assert_int_equal(pa_status_from_errno(EIO), PA_INTERNAL);
	assert_int_equal(pa_err_errno(&err, ENOSPC, "write at %d", 4096),
	    PA_RESOURCE_EXHAUSTED);
	assert_string_equal(err.msg, "write at 4096: No space left on device");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status__names_follow_grpc),
		cmocka_unit_test(test_status__err_set_returns_code_and_formats),
		cmocka_unit_test(test_status__err_set_cuts_long_messages),
		cmocka_unit_test(test_status__errno_maps_at_the_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
