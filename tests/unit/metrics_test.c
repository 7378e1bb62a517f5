// SPDX-License-Identifier: Apache-2.0
// metrics_test.c: the registry and its Prometheus text rendering.
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testlib.h"

static int
metrics_setup(void **state)
{
	metrics *m = NULL;

	if (metrics_new(&m, NULL) != PA_OK)
		return -1;
	*state = m;
	return 0;
}

static int
metrics_teardown(void **state)
{
	metrics_free(*state);
	return 0;
}

// @return the rendered text; the caller frees it.
static char *
render(metrics *m)
{
	char  *text = NULL;
	pa_err err  = PA_ERR_INIT;

	assert_int_equal(metrics_render(&text, m, &err), PA_OK);
	assert_non_null(text);
	return text;
}

// Fail unless @p text holds @p line as a whole line.
static void
assert_line(const char *text, const char *line)
{
	size_t      n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_metrics__empty_registry_renders_nothing(void **state)
{
	char *text = render(*state);

	assert_string_equal(text, "");
	free(text);
}

static void
test_metrics__counter_renders_help_type_and_value(void **state)
{
	metrics_family *f = metrics_counter(
	    *state, "prealloc_things_total", "Things done.", NULL);
	char *text;

	assert_non_null(f);
	metrics_add(f, "", 1);
	metrics_add(f, "", 2);
	assert_true(metrics_value(f, "") == 3);
	text = render(*state);
	assert_string_equal(text,
	    "# HELP prealloc_things_total Things done.\n"
	    "# TYPE prealloc_things_total counter\n"
	    "prealloc_things_total 3\n");
	free(text);
}

static void
test_metrics__gauge_is_set_and_added(void **state)
{
	metrics_family *g =
	    metrics_gauge(*state, "prealloc_jobs", "Jobs now.", NULL);
	char *text;

	metrics_set(g, "", 5);
	metrics_add(g, "", -2);
	assert_true(metrics_value(g, "") == 3);
	metrics_set(g, "", 0.5);
	text = render(*state);
	assert_line(text, "# TYPE prealloc_jobs gauge");
	assert_line(text, "prealloc_jobs 0.5");
	free(text);
}

static void
test_metrics__labels_make_one_series_per_value_set(void **state)
{
	metrics_family *f = metrics_counter(
	    *state, "prealloc_rpc_total", "Calls.", "method,code");
	char *text;

	metrics_add(f, "Resolve,OK", 1);
	metrics_add(f, "Resolve,OK", 1);
	metrics_add(f, "Resolve,NOT_FOUND", 1);
	assert_true(metrics_value(f, "Resolve,OK") == 2);
	assert_true(metrics_value(f, "Resolve,NOT_FOUND") == 1);
	assert_true(metrics_value(f, "Other,OK") == 0);
	text = render(*state);
	assert_line(
	    text, "prealloc_rpc_total{method=\"Resolve\",code=\"OK\"} 2");
	assert_line(text,
	    "prealloc_rpc_total{method=\"Resolve\",code=\"NOT_FOUND\"} 1");
	assert_null(strstr(text, "Other"));
	free(text);
}

static void
test_metrics__label_values_are_escaped(void **state)
{
	metrics_family *f =
	    metrics_gauge(*state, "prealloc_odd", "Odd values.", "v");
	char *text;

	metrics_set(f, "a\"b\\c\nd", 1);
	text = render(*state);
	assert_line(text, "prealloc_odd{v=\"a\\\"b\\\\c\\nd\"} 1");
	free(text);
}

static void
test_metrics__histogram_renders_cumulative_buckets(void **state)
{
	static const double bounds[] = { 0.1, 1 };
	metrics_family     *h        = metrics_histogram(
	               *state, "prealloc_seconds", "Latency.", "method", bounds, 2);
	char *text;

	metrics_observe(h, "Resolve", 0.05);
	metrics_observe(h, "Resolve", 0.5);
	metrics_observe(h, "Resolve", 2);
	text = render(*state);
	assert_line(text, "# TYPE prealloc_seconds histogram");
	assert_line(
	    text, "prealloc_seconds_bucket{method=\"Resolve\",le=\"0.1\"} 1");
	assert_line(
	    text, "prealloc_seconds_bucket{method=\"Resolve\",le=\"1\"} 2");
	assert_line(
	    text, "prealloc_seconds_bucket{method=\"Resolve\",le=\"+Inf\"} 3");
	assert_line(text, "prealloc_seconds_sum{method=\"Resolve\"} 2.55");
	assert_line(text, "prealloc_seconds_count{method=\"Resolve\"} 3");
	free(text);
}

static void
set_from_collector(void *arg)
{
	metrics_set(arg, "", 42);
}

static void
test_metrics__collectors_run_before_render(void **state)
{
	metrics_family *g =
	    metrics_gauge(*state, "prealloc_conns", "Connections.", NULL);
	pa_err err = PA_ERR_INIT;
	char  *text;

	assert_int_equal(
	    metrics_collector(*state, set_from_collector, g, &err), PA_OK);
	text = render(*state);
	assert_line(text, "prealloc_conns 42");
	free(text);
}

static void
test_metrics__collectors_beyond_the_cap_are_refused(void **state)
{
	pa_err err = PA_ERR_INIT;

	for (int i = 0; i < METRICS_MAX_COLLECTORS; i++)
		assert_int_equal(
		    metrics_collector(*state, set_from_collector, NULL, &err),
		    PA_OK);
	assert_int_equal(
	    metrics_collector(*state, set_from_collector, NULL, &err),
	    PA_RESOURCE_EXHAUSTED);
	assert_int_equal(err.code, PA_RESOURCE_EXHAUSTED);
}

static void
test_metrics__null_family_is_ignored(void **state)
{
	metrics_add(NULL, "", 1);
	metrics_set(NULL, "", 1);
	metrics_observe(NULL, "", 1);
	metrics_free(NULL);
}

#define metrics_test(name) \
	cmocka_unit_test_setup_teardown(name, metrics_setup, metrics_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		metrics_test(test_metrics__empty_registry_renders_nothing),
		metrics_test(test_metrics__counter_renders_help_type_and_value),
		metrics_test(test_metrics__gauge_is_set_and_added),
		metrics_test(
		    test_metrics__labels_make_one_series_per_value_set),
		metrics_test(test_metrics__label_values_are_escaped),
		metrics_test(
		    test_metrics__histogram_renders_cumulative_buckets),
		metrics_test(test_metrics__collectors_run_before_render),
		metrics_test(
		    test_metrics__collectors_beyond_the_cap_are_refused),
		metrics_test(test_metrics__null_family_is_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
