// SPDX-License-Identifier: Apache-2.0
// resolver_test.c: the whole precedence table, overhead, and bad input.
#include <stdio.h>
#include <string.h>

#include "resolver.h"
#include "testlib.h"

#define T CDICONFIG_TRUE
#define F CDICONFIG_FALSE
#define U CDICONFIG_UNSET

static cdiconfig *
parse_ok(const char *yaml, uint64_t generation)
{
	cdiconfig     *c    = NULL;
	pa_err         err  = PA_ERR_INIT;
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;

	opts.generation = generation;
	if (cdiconfig_parse(&c, yaml, strlen(yaml), "cdi.yaml", &opts, &err) !=
	    PA_OK)
		fail_msg("parse failed: %s", err.msg);
	return c;
}

// config_with lists sc-true and sc-false, and sets global when asked.
static cdiconfig *
config_with(cdiconfig_tristate global)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "%s"
	    "    storageClass:\n"
	    "      sc-true: true\n"
	    "      sc-false: false\n",
	    global == T       ? "    global: true\n"
	        : global == F ? "    global: false\n"
	                      : "");
	return parse_ok(yaml, 1);
}

static void
test_resolver__every_combination(void **state)
{
	// DataVolume x storage class x global, and the expected answer.
	static const struct {
		cdiconfig_tristate  dv;
		const char         *sc;
		cdiconfig_tristate  global;
		bool                want;
		resolver_decided_by by;
	} table[] = {
		{ U, "sc-true", U, true, RESOLVER_STORAGE_CLASS },
		{ U, "sc-true", T, true, RESOLVER_STORAGE_CLASS },
		{ U, "sc-true", F, true, RESOLVER_STORAGE_CLASS },
		{ U, "sc-false", U, false, RESOLVER_STORAGE_CLASS },
		{ U, "sc-false", T, false, RESOLVER_STORAGE_CLASS },
		{ U, "sc-false", F, false, RESOLVER_STORAGE_CLASS },
		{ U, "sc-other", U, false, RESOLVER_DEFAULT },
		{ U, "sc-other", T, true, RESOLVER_GLOBAL },
		{ U, "sc-other", F, false, RESOLVER_GLOBAL },
		{ T, "sc-true", U, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-true", T, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-true", F, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-false", U, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-false", T, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-false", F, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-other", U, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-other", T, true, RESOLVER_DATA_VOLUME },
		{ T, "sc-other", F, true, RESOLVER_DATA_VOLUME },
		{ F, "sc-true", U, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-true", T, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-true", F, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-false", U, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-false", T, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-false", F, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-other", U, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-other", T, false, RESOLVER_DATA_VOLUME },
		{ F, "sc-other", F, false, RESOLVER_DATA_VOLUME },
	};
	cdiconfig *configs[3] = { config_with(U), config_with(T),
		config_with(F) };

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		resolver_result r   = { 0 };
		pa_err          err = PA_ERR_INIT;

		if (resolver_resolve(&r, configs[table[i].global], table[i].dv,
		        table[i].sc, &err) != PA_OK)
			fail_msg("row %zu: %s", i, err.msg);
		if (r.preallocate != table[i].want ||
		    r.decided_by != table[i].by)
			fail_msg("row %zu: got %d by %s, want %d by %s", i,
			    r.preallocate,
			    resolver_decided_by_name(r.decided_by),
			    table[i].want,
			    resolver_decided_by_name(table[i].by));
	}
	for (int i = 0; i < 3; i++)
		cdiconfig_unref(configs[i]);
}

static void
test_resolver__empty_or_null_storage_class_skips_that_step(void **state)
{
	cdiconfig      *c = config_with(U);
	resolver_result r = { 0 };

	assert_int_equal(resolver_resolve(&r, c, U, "", NULL), PA_OK);
	assert_false(r.preallocate);
	assert_int_equal(r.decided_by, RESOLVER_DEFAULT);
	assert_int_equal(resolver_resolve(&r, c, U, NULL, NULL), PA_OK);
	assert_int_equal(r.decided_by, RESOLVER_DEFAULT);
	cdiconfig_unref(c);
	c = config_with(T);
	assert_int_equal(resolver_resolve(&r, c, U, NULL, NULL), PA_OK);
	assert_true(r.preallocate);
	assert_int_equal(r.decided_by, RESOLVER_GLOBAL);
	cdiconfig_unref(c);
}

static void
test_resolver__overhead_follows_class_then_global_then_default(void **state)
{
	cdiconfig      *c = parse_ok("apiVersion: cdi.kubevirt.io/v1beta1\n"
	                                  "kind: CDIConfig\n"
	                                  "spec:\n"
	                                  "  preallocation:\n"
	                                  "    storageClass: {only-prealloc: true}\n"
	                                  "  filesystemOverhead:\n"
	                                  "    global: \"0.1\"\n"
	                                  "    storageClass: {heavy: \"0.25\"}\n",
	         9);
	cdiconfig      *d = NULL;
	resolver_result r = { 0 };

	assert_int_equal(resolver_resolve(&r, c, U, "heavy", NULL), PA_OK);
	assert_string_equal(r.overhead, "0.25");
	assert_int_equal(r.overhead_milli, 250);
	assert_int_equal(r.generation, 9);
	assert_int_equal(
	    resolver_resolve(&r, c, U, "only-prealloc", NULL), PA_OK);
	assert_string_equal(r.overhead, "0.1");
	assert_int_equal(r.overhead_milli, 100);
	assert_true(r.preallocate);
	assert_int_equal(resolver_resolve(&r, c, T, "unlisted", NULL), PA_OK);
	assert_string_equal(r.overhead, "0.1");
	assert_int_equal(resolver_resolve(&r, c, T, "", NULL), PA_OK);
	assert_string_equal(r.overhead, "0.1");
	assert_int_equal(cdiconfig_default(&d, NULL, NULL), PA_OK);
	assert_int_equal(resolver_resolve(&r, d, U, "heavy", NULL), PA_OK);
	assert_string_equal(r.overhead, RESOLVER_DEFAULT_OVERHEAD);
	assert_int_equal(r.overhead_milli, 60);
	assert_false(r.preallocate);
	assert_int_equal(r.decided_by, RESOLVER_DEFAULT);
	assert_int_equal(r.generation, 0);
	cdiconfig_unref(d);
	cdiconfig_unref(c);
}

static void
test_resolver__invalid_storage_class_is_invalid_argument(void **state)
{
	cdiconfig      *c   = config_with(T);
	resolver_result r   = { 0 };
	pa_err          err = PA_ERR_INIT;

	r.generation = 123;
	assert_int_equal(
	    resolver_resolve(&r, c, T, "Bad_Name", &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "storage class \"Bad_Name\" is not a valid name: 'B' at position 1 "
	    "is not allowed (use lowercase letters, digits, '-' and '.')");
	assert_int_equal(r.generation, 123); // untouched on failure
	assert_int_equal(
	    resolver_resolve(&r, c, (cdiconfig_tristate) 7, "a", &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "dataVolume preallocation 7 is not unset, true or false");
	cdiconfig_unref(c);
}

static void
test_resolver__decided_by_names(void **state)
{
	assert_string_equal(
	    resolver_decided_by_name(RESOLVER_DATA_VOLUME), "dataVolume");
	assert_string_equal(
	    resolver_decided_by_name(RESOLVER_STORAGE_CLASS), "storageClass");
	assert_string_equal(
	    resolver_decided_by_name(RESOLVER_GLOBAL), "global");
	assert_string_equal(
	    resolver_decided_by_name(RESOLVER_DEFAULT), "default");
	assert_string_equal(
	    resolver_decided_by_name((resolver_decided_by) 9), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolver__every_combination),
		cmocka_unit_test(
		    test_resolver__empty_or_null_storage_class_skips_that_step),
		cmocka_unit_test(
		    test_resolver__overhead_follows_class_then_global_then_default),
		cmocka_unit_test(
		    test_resolver__invalid_storage_class_is_invalid_argument),
		cmocka_unit_test(test_resolver__decided_by_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
