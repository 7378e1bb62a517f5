// SPDX-License-Identifier: Apache-2.0
// k8sname_test.c: DNS-1123 subdomains and labels, and what the errors say.
#include <string.h>

#include "k8sname.h"
#include "testlib.h"

static int
subdomain(const char *name)
{
	return k8sname_subdomain(name, strlen(name), NULL);
}

static void
test_k8sname__accepts_valid_subdomains(void **state)
{
	static const char *const ok[] = { "a", "0", "standard", "local-path",
		"ceph-rbd.example.com", "a.b.c", "1-2", "x0.y1" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (subdomain(ok[i]) != PA_OK)
			fail_msg("%s was refused", ok[i]);
}

static void
test_k8sname__errors_say_what_and_where(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} table[] = {
		{ "", "\"\" is not a valid name: it is empty" },
		{ "Fast",
		    "\"Fast\" is not a valid name: 'F' at position 1 is "
		    "not allowed (use lowercase letters, digits, '-' "
		    "and '.')" },
		{ "a_b",
		    "\"a_b\" is not a valid name: '_' at position 2 is not "
		    "allowed (use lowercase letters, digits, '-' and "
		    "'.')" },
		{ "-a",
		    "\"-a\" is not a valid name: '-' at position 1: it must "
		    "start and end with a letter or digit, and so must "
		    "each part between dots" },
		{ "a-",
		    "\"a-\" is not a valid name: '-' at position 2: it must "
		    "start and end with a letter or digit, and so must "
		    "each part between dots" },
		{ "a..b",
		    "\"a..b\" is not a valid name: '.' at position 2: it "
		    "must start and end with a letter or digit, and so "
		    "must each part between dots" },
		{ "a.-b",
		    "\"a.-b\" is not a valid name: '-' at position 3: it "
		    "must start and end with a letter or digit, and so "
		    "must each part between dots" },
		{ ".a",
		    "\".a\" is not a valid name: '.' at position 1: it must "
		    "start and end with a letter or digit, and so must "
		    "each part between dots" },
	};
	pa_err err = PA_ERR_INIT;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(
		    k8sname_subdomain(table[i].in, strlen(table[i].in), &err),
		    PA_INVALID_ARGUMENT);
		assert_string_equal(err.msg, table[i].msg);
	}
	assert_int_equal(
	    k8sname_subdomain("a\0b", 3, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "\"a\\x00b\" is not a valid name: \\x00 "
	    "at position 2 is not allowed (use "
	    "lowercase letters, digits, '-' and '.')");
}

static void
test_k8sname__subdomain_is_at_most_253(void **state)
{
	char   name[300];
	pa_err err = PA_ERR_INIT;

	memset(name, 'a', sizeof(name));
	assert_int_equal(k8sname_subdomain(name, 253, NULL), PA_OK);
	assert_int_equal(
	    k8sname_subdomain(name, 254, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, ": 254 characters, more than 253"));
	assert_non_null(strstr(err.msg, "aaaa...\""));
}

static void
test_k8sname__label_is_at_most_63_without_dots(void **state)
{
	char   name[64];
	pa_err err = PA_ERR_INIT;

	memset(name, 'b', sizeof(name));
	assert_int_equal(k8sname_label(name, 63, NULL), PA_OK);
	assert_int_equal(k8sname_label(name, 64, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "64 characters, more than 63"));
	assert_int_equal(k8sname_label("a.b", 3, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "\"a.b\" is not a valid name: '.' at "
	    "position 2 is not allowed (use lowercase "
	    "letters, digits and '-')");
	assert_int_equal(k8sname_label("a-", 2, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "\"a-\" is not a valid name: '-' at "
	    "position 2: it must start and end with a "
	    "letter or digit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8sname__accepts_valid_subdomains),
		cmocka_unit_test(test_k8sname__errors_say_what_and_where),
		cmocka_unit_test(test_k8sname__subdomain_is_at_most_253),
		cmocka_unit_test(
		    test_k8sname__label_is_at_most_63_without_dots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
