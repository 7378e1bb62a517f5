// SPDX-License-Identifier: Apache-2.0
// log_test.c: pa_log_quote(), the logfmt quoting of field values.
#include <string.h>

#include "prealloc/log.h"
#include "testlib.h"

static void
test_log__plain_value_is_not_quoted(void **state)
{
	char buf[64];

	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "disk.img"), "disk.img");
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "/a/b-c_d:9650"), "/a/b-c_d:9650");
}

static void
test_log__empty_and_null_are_quoted_empty(void **state)
{
	char buf[8];

	assert_string_equal(pa_log_quote(buf, sizeof(buf), ""), "\"\"");
	assert_string_equal(pa_log_quote(buf, sizeof(buf), NULL), "\"\"");
}

static void
test_log__spaces_and_equals_are_quoted(void **state)
{
	char buf[64];

	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "no such file"), "\"no such file\"");
	assert_string_equal(pa_log_quote(buf, sizeof(buf), "a=b"), "\"a=b\"");
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "tab\there"), "\"tab?here\"");
}

static void
test_log__quotes_and_backslashes_are_escaped(void **state)
{
	char buf[64];

	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "say \"hi\""), "\"say \\\"hi\\\"\"");
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "a\\b"), "\"a\\\\b\"");
}

static void
test_log__control_chars_are_escaped_or_replaced(void **state)
{
	char buf[64];

	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "two\nlines"), "\"two\\nlines\"");
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "bell\a"), "\"bell?\"");
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "del\x7f"), "\"del?\"");
}

static void
test_log__long_value_is_cut_to_the_buffer(void **state)
{
	char buf[8];

	// A plain value is cut as snprintf cuts it.
	assert_string_equal(
	    pa_log_quote(buf, sizeof(buf), "abcdefghijkl"), "abcdefg");
	// A quoted one stops early enough to close its quote.
	pa_log_quote(buf, sizeof(buf), "a b c d e f");
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(buf[0], '"');
	assert_int_equal(buf[strlen(buf) - 1], '"');
	assert_string_equal(buf, "\"a b\"");
	// A size of 0 writes nothing.
	buf[0] = 'x';
	assert_ptr_equal(pa_log_quote(buf, 0, "a b"), buf);
	assert_int_equal(buf[0], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log__plain_value_is_not_quoted),
		cmocka_unit_test(test_log__empty_and_null_are_quoted_empty),
		cmocka_unit_test(test_log__spaces_and_equals_are_quoted),
		cmocka_unit_test(test_log__quotes_and_backslashes_are_escaped),
		cmocka_unit_test(
		    test_log__control_chars_are_escaped_or_replaced),
		cmocka_unit_test(test_log__long_value_is_cut_to_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
