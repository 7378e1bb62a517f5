// SPDX-License-Identifier: Apache-2.0
// config_test.c: libprealloc's local CDIConfig check, pa_config_check(),
// and its public quantity parser, pa_parse_quantity().
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prealloc/prealloc.h"
#include "testlib.h"

#define HEAD                                    \
	"apiVersion: cdi.kubevirt.io/v1beta1\n" \
	"kind: CDIConfig\n"                     \
	"metadata:\n"                           \
	"  name: config\n"

static void
test_config__check_gives_the_effective_config(void **state)
{
	const char *yaml = HEAD "spec:\n"
	                        "  preallocation:\n"
	                        "    global: false\n"
	                        "    storageClass:\n"
	                        "      fast: true\n"
	                        "  filesystemOverhead:\n"
	                        "    global: \"0.1\"\n"
	                        "    storageClass:\n"
	                        "      slow: \"0.2\"\n";
	pa_config  *cfg  = NULL;
	pa_err      err  = PA_ERR_INIT;

	assert_int_equal(
	    pa_config_check(&cfg, yaml, strlen(yaml), "c.yaml", false, &err),
	    PA_OK);
	assert_string_equal(cfg->path, "c.yaml");
	assert_string_equal(cfg->last_error, "");
	assert_true(cfg->from_file);
	assert_int_equal(cfg->generation, 0);
	assert_int_equal(cfg->n_warnings, 0);
	assert_int_equal(cfg->global_preallocation, PA_FALSE);
	assert_string_equal(cfg->global_filesystem_overhead, "0.1");
	assert_int_equal(cfg->n_classes, 2);
	assert_string_equal(cfg->classes[0].name, "fast");
	assert_int_equal(cfg->classes[0].preallocation, PA_TRUE);
	assert_string_equal(cfg->classes[0].filesystem_overhead, "");
	assert_string_equal(cfg->classes[1].name, "slow");
	assert_int_equal(cfg->classes[1].preallocation, PA_UNSET);
	assert_string_equal(cfg->classes[1].filesystem_overhead, "0.2");
	assert_non_null(strstr(cfg->yaml, "kind: CDIConfig"));
	assert_non_null(strstr(cfg->yaml, "fast: true"));
	pa_config_free(cfg);
}

static void
test_config__check_warns_unless_strict(void **state)
{
	const char *yaml = HEAD "spec:\n  preallocation:\n    globl: true\n";
	pa_config  *cfg  = NULL;
	pa_err      err  = PA_ERR_INIT;

	assert_int_equal(
	    pa_config_check(&cfg, yaml, strlen(yaml), "c.yaml", false, &err),
	    PA_OK);
	assert_int_equal(cfg->n_warnings, 1);
	assert_string_equal(cfg->warnings[0],
	    "c.yaml:7:5: unknown field spec.preallocation.globl (ignored)");
	assert_int_equal(cfg->n_classes, 0);
	pa_config_free(cfg);
	cfg = NULL;
	assert_int_equal(
	    pa_config_check(&cfg, yaml, strlen(yaml), "c.yaml", true, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(cfg);
	assert_string_equal(
	    err.msg, "c.yaml:7:5: unknown field spec.preallocation.globl");
}

static void
test_config__check_errors_have_positions(void **state)
{
	const char *yaml = HEAD "spec:\n  preallocation:\n    global: maybe\n";
	pa_config  *cfg  = NULL;
	pa_err      err  = PA_ERR_INIT;

	assert_int_equal(
	    pa_config_check(&cfg, yaml, strlen(yaml), "c.yaml", false, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(err.code, PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "c.yaml:7:13: spec.preallocation.global: expected a boolean "
	    "(true or false), got string \"maybe\"");
	assert_int_equal(pa_config_check(&cfg, "", 0, NULL, false, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "<input>: no CDIConfig document (apiVersion: "
	    "cdi.kubevirt.io/v1beta1, kind: CDIConfig)");
	assert_null(cfg);
}

static void
test_config__check_refuses_missing_arguments(void **state)
{
	pa_config *cfg = NULL;
	pa_err     err = PA_ERR_INIT;

	assert_int_equal(
	    pa_config_check(NULL, HEAD, strlen(HEAD), NULL, false, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(pa_config_check(&cfg, NULL, 3, NULL, false, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "pa_config_check needs an out pointer and a text");
	assert_null(cfg);
}

static void
test_config__parse_quantity_reads_kubernetes_quantities(void **state)
{
	uint64_t v   = 0;
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(pa_parse_quantity(&v, "10Gi", &err), PA_OK);
	assert_int_equal(v, 10ULL << 30);
	assert_int_equal(pa_parse_quantity(&v, "1G", &err), PA_OK);
	assert_int_equal(v, 1000000000ULL);
	assert_int_equal(
	    pa_parse_quantity(&v, "ten", &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_parse_quantity(NULL, "1", &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_parse_quantity(&v, NULL, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "pa_parse_quantity needs an out pointer and a text");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__check_gives_the_effective_config),
		cmocka_unit_test(test_config__check_warns_unless_strict),
		cmocka_unit_test(test_config__check_errors_have_positions),
		cmocka_unit_test(test_config__check_refuses_missing_arguments),
		cmocka_unit_test(
		    test_config__parse_quantity_reads_kubernetes_quantities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
