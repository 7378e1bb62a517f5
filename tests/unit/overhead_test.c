// SPDX-License-Identifier: Apache-2.0
// overhead_test.c: CDI's filesystemOverhead strings in thousandths.
#include <string.h>

#include "overhead.h"
#include "testlib.h"

static void
test_overhead__reads_up_to_three_decimals(void **state)
{
	assert_int_equal(overhead_milli("0"), 0);
	assert_int_equal(overhead_milli("0.06"), 60);
	assert_int_equal(overhead_milli("0.055"), 55);
	assert_int_equal(overhead_milli("0.1"), 100);
	assert_int_equal(overhead_milli("0.999"), 999);
	assert_int_equal(overhead_milli("0.000"), 0);
}

static void
test_overhead__refuses_what_cdi_refuses(void **state)
{
	static const char *const bad[] = { "", "1", "1.0", "0.", ".5", "0.0001",
		"-0.1", "0.06 ", "0,06", "abc", "00.1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(overhead_milli(bad[i]), -1);
}

static void
test_overhead__says_why(void **state)
{
	assert_non_null(strstr(overhead_problem("1.5"), "out of range"));
	assert_non_null(strstr(overhead_problem("-0.1"), "out of range"));
	assert_non_null(strstr(overhead_problem("0.0001"), "3 decimals"));
	assert_non_null(strstr(overhead_problem("abc"), "not a decimal"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overhead__reads_up_to_three_decimals),
		cmocka_unit_test(test_overhead__refuses_what_cdi_refuses),
		cmocka_unit_test(test_overhead__says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
