// SPDX-License-Identifier: Apache-2.0
// quantity_test.c: Kubernetes quantities to bytes and back.
#include <string.h>

#include "quantity.h"
#include "testlib.h"

static void
test_quantity__parses_every_form(void **state)
{
	static const struct {
		const char *in;
		uint64_t    bytes;
	} table[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "+10", 10 },
		{ "1Ki", KiB },
		{ "512Mi", 512 * MiB },
		{ "10Gi", 10 * GiB },
		{ "2Ti", 2 * 1024 * GiB },
		{ "1Pi", 1024ULL * 1024 * GiB },
		{ "15Ei", 15ULL << 60 },
		{ "1k", 1000 },
		{ "1M", 1000000 },
		{ "1G", 1000000000 },
		{ "1T", 1000000000000ULL },
		{ "1P", 1000000000000000ULL },
		{ "1E", 1000000000000000000ULL }, // exa, not an exponent
		{ "1.5Gi", 3 * 512 * MiB },
		{ "0.5Ki", 512 },
		{ "1.25G", 1250000000 },
		{ ".5Ki", 512 },
		{ "5.", 5 },
		{ "1.500000000000000000000000Gi", 3 * 512 * MiB },
		{ "1e9", 1000000000 },
		{ "1E3", 1000 },
		{ "2e+3", 2000 },
		{ "25e-1", 3 }, // 2.5 rounds up, as Quantity.Value() does
		{ "0.5", 1 },
		{ "1500m", 2 },
		{ "1n", 1 },
		{ "0e99", 0 },
		{ "0000000000000000000000000001", 1 }, // leading zeros are free
		{ "18446744073709551615", UINT64_MAX },
		{ "1e-50", 1 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t v   = 0;
		pa_err   err = PA_ERR_INIT;

		if (quantity_parse(&v, table[i].in, &err) != PA_OK)
			fail_msg("%s: %s", table[i].in, err.msg);
		if (v != table[i].bytes)
			fail_msg("%s: got %llu", table[i].in,
			    (unsigned long long) v);
	}
}

static void
test_quantity__errors_name_the_input(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} table[] = {
		{ "", "invalid quantity \"\": empty" },
		{ "-1Gi", "invalid quantity \"-1Gi\": must not be negative" },
		{ "Gi", "invalid quantity \"Gi\": expected a number" },
		{ ".", "invalid quantity \".\": expected a number" },
		{ " 1", "invalid quantity \" 1\": expected a number" },
		{ "10Xi",
		    "invalid quantity \"10Xi\": unknown suffix (use Ki, Mi, "
		    "Gi, Ti, Pi, Ei, k, M, G, T, P, E or an exponent "
		    "such as e9)" },
		{ "16Ei",
		    "invalid quantity \"16Ei\": more than "
		    "18446744073709551615 bytes" },
		{ "18446744073709551616",
		    "invalid quantity "
		    "\"18446744073709551616\": more "
		    "than 18446744073709551615 bytes" },
		{ "1e20",
		    "invalid quantity \"1e20\": more than "
		    "18446744073709551615 bytes" },
		{ "123456789012345678901",
		    "invalid quantity "
		    "\"123456789012345678901\": too "
		    "many digits" },
	};
	static const char *const junk[] = { "1K", "1gi", "1 Gi", "1Gi ",
		"1.2.3", "1e", "1e+", "1e9999", "0x10", "1Ki1", "1Gb" };

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t v   = 7;
		pa_err   err = PA_ERR_INIT;

		assert_int_equal(
		    quantity_parse(&v, table[i].in, &err), PA_INVALID_ARGUMENT);
		assert_string_equal(err.msg, table[i].msg);
		assert_int_equal(v, 7); // untouched on failure
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		uint64_t v = 0;

		if (quantity_parse(&v, junk[i], NULL) != PA_INVALID_ARGUMENT)
			fail_msg("%s was accepted", junk[i]);
	}
	assert_int_equal(
	    quantity_parse(&(uint64_t) { 0 }, NULL, NULL), PA_INVALID_ARGUMENT);
}

static void
test_quantity__formats_the_shortest_exact_binary_form(void **state)
{
	static const struct {
		uint64_t    bytes;
		const char *out;
	} table[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1000, "1000" },
		{ KiB, "1Ki" },
		{ 512 * MiB, "512Mi" },
		{ 10 * GiB, "10Gi" },
		{ 3 * 512 * MiB, "1536Mi" },
		{ 1ULL << 60, "1Ei" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char buf[QUANTITY_BUF_SIZE];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_equal(
		    quantity_format(buf, sizeof(buf), table[i].bytes),
		    table[i].out);
}

static void
test_quantity__format_round_trips(void **state)
{
	static const uint64_t values[] = { 0, 1, 4095, KiB, 3 * MiB + KiB,
		10 * GiB, UINT64_MAX, 1ULL << 63 };
	char                  buf[QUANTITY_BUF_SIZE];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(
		    quantity_parse(
		        &v, quantity_format(buf, sizeof(buf), values[i]), NULL),
		    PA_OK);
		assert_true(v == values[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantity__parses_every_form),
		cmocka_unit_test(test_quantity__errors_name_the_input),
		cmocka_unit_test(
		    test_quantity__formats_the_shortest_exact_binary_form),
		cmocka_unit_test(test_quantity__format_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
