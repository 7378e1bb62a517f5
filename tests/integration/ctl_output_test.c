// SPDX-License-Identifier: Apache-2.0
// ctl_output_test.c: the real preallocctl, typed as a user types it, under
// -o json and -o yaml when it fails: the usual line on stderr, an error
// object on stdout that parses, and the exit code. A bad manifest, a
// service that is not there, a name the real prealloc-policyd refuses,
// usage errors, and -o's own bad value (stderr only).
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "daemon.h"
#include "ctltest.h"
#include "testlib.h"

// A DataVolume whose spec is a list: the parser stops at line 6, column 3.
static const char *broken_dv = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                               "kind: DataVolume\n"
                               "metadata:\n"
                               "  name: broken\n"
                               "spec:\n"
                               "  - storage\n";

static const char *config_yaml = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                                 "kind: CDIConfig\n"
                                 "metadata:\n"
                                 "  name: config\n"
                                 "spec:\n"
                                 "  preallocation:\n"
                                 "    global: false\n";

typedef struct fixture {
	char          *dir;
	char           bin[600];
	char           policy_url[600];
	testlib_daemon policyd;
} fixture;

static fixture fx;

/**
 * Run `preallocctl <args>` through the shell; @p args is a shell fragment.
 * @param[out] out, err  its stdout and stderr, malloc'd.
 * @return its exit status.
 */
static int __attribute__((format(printf, 3, 4)))
run(char **out, char **err, const char *fmt, ...)
{
	char    args[2048], errfile[700];
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(errfile, sizeof(errfile), "%s/stderr", fx.dir);
	st = testlib_capture(out, "'%s' %s 2>'%s'", fx.bin, args, errfile);
	assert_int_equal(testlib_capture(err, "cat '%s'", errfile), 0);
	unlink(errfile);
	fprintf(stderr, "$ preallocctl %s -> %d\n%s%s", args, st, *out, *err);
	return st;
}

// The "error" object of @p text, which must be JSON holding only it.
static json_t *
json_error_object(const char *text)
{
	json_error_t je;
	json_t      *root = json_loads(text, 0, &je), *e = NULL;

	if (root == NULL)
		fail_msg("stdout is not JSON (%s at %d:%d):\n%s", je.text,
		    je.line, je.column, text);
	if (json_object_size(root) != 1 ||
	    !json_is_object(e = json_object_get(root, "error")))
		fail_msg("no lone \"error\" object in:\n%s", text);
	json_incref(e);
	json_decref(root);
	return e;
}

static const char *
jstr(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("no string \"%s\"", key);
	return json_string_value(v);
}

static json_int_t
jint(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("no number \"%s\"", key);
	return json_integer_value(v);
}

// The value node of @p key in mapping @p map of @p doc, or NULL.
static yaml_node_t *
yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *) k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/**
 * Parse @p text as one YAML document, a mapping that holds only "error",
 * a mapping. @return a copy of the scalar error.@p key; NULL when absent.
 */
static char *
yaml_error_field(const char *text, const char *key)
{
	yaml_parser_t   parser;
	yaml_document_t doc;
	yaml_node_t    *root, *e = NULL, *v;
	char           *found = NULL;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *) text, strlen(text));
	if (!yaml_parser_load(&parser, &doc))
		fail_msg("stdout is not YAML (%s):\n%s", parser.problem, text);
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE ||
	    root->data.mapping.pairs.top - root->data.mapping.pairs.start !=
	        1 ||
	    (e = yaml_get(&doc, root, "error")) == NULL ||
	    e->type != YAML_MAPPING_NODE)
		fail_msg("no lone \"error\" mapping in:\n%s", text);
	if ((v = yaml_get(&doc, e, key)) != NULL && v->type == YAML_SCALAR_NODE)
		found = strdup((const char *) v->data.scalar.value);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return found;
}

// Check that error.@p key in YAML @p text is @p want.
static void
assert_yaml_field(const char *text, const char *key, const char *want)
{
	char *v = yaml_error_field(text, key);

	if (v == NULL || strcmp(v, want) != 0)
		fail_msg("error.%s is \"%s\", not \"%s\", in:\n%s", key,
		    v ? v : "(none)", want, text);
	free(v);
}

static void
test_ctl_output__a_broken_manifest_gives_its_position_in_json(void **state)
{
	char    dv[700], *out = NULL, *err = NULL;
	json_t *e;

	(void) state;
	snprintf(dv, sizeof(dv), "%s/broken.yaml", fx.dir);
	testlib_write_text(dv, broken_dv);
	// It fails before any call: the service is not asked.
	assert_int_equal(run(&out, &err, "resolve -f '%s' -o json", dv), 1);
	ctltest_assert_has(err, ":6:3: spec: ");
	ctltest_assert_has(err, "(INVALID_ARGUMENT)\n");
	e = json_error_object(out);
	assert_string_equal(jstr(e, "code"), "INVALID_ARGUMENT");
	assert_string_equal(jstr(e, "file"), dv);
	assert_int_equal(jint(e, "line"), 6);
	assert_int_equal(jint(e, "column"), 3);
	// The sentence: the position is in its own fields.
	assert_int_equal(strncmp(jstr(e, "message"), "spec: ", 6), 0);
	json_decref(e);
	free(out);
	free(err);
}

static void
test_ctl_output__a_manifest_on_stdin_is_named_stdin_in_yaml(void **state)
{
	char  dv[700], *out = NULL, *err = NULL;
	char *msg;

	(void) state;
	snprintf(dv, sizeof(dv), "%s/stdin.yaml", fx.dir);
	testlib_write_text(dv, broken_dv);
	assert_int_equal(run(&out, &err, "resolve -o yaml -f - < '%s'", dv), 1);
	ctltest_assert_has(err, "preallocctl: <stdin>:6:3: spec: ");
	assert_yaml_field(out, "code", "INVALID_ARGUMENT");
	assert_yaml_field(out, "file", "<stdin>");
	assert_yaml_field(out, "line", "6");
	assert_yaml_field(out, "column", "3");
	assert_non_null(msg = yaml_error_field(out, "message"));
	assert_int_equal(strncmp(msg, "spec: ", 6), 0);
	free(msg);
	free(out);
	free(err);
}

static void
test_ctl_output__no_service_is_unavailable_in_json(void **state)
{
	char   *out = NULL, *err = NULL;
	json_t *e;

	(void) state;
	assert_int_equal(run(&out, &err,
	                     "-p ipc:///nonexistent resolve --storage-class x "
	                     "-o json"),
	    1);
	ctltest_assert_has(err, "(UNAVAILABLE)\n");
	e = json_error_object(out);
	assert_string_equal(jstr(e, "code"), "UNAVAILABLE");
	ctltest_assert_has(jstr(e, "message"), "ipc:///nonexistent");
	// No position: none of the fields that would hold one.
	assert_null(json_object_get(e, "file"));
	assert_null(json_object_get(e, "line"));
	assert_null(json_object_get(e, "column"));
	json_decref(e);
	free(out);
	free(err);
}

static void
test_ctl_output__a_name_the_service_refuses_is_a_usage_error_in_yaml(
    void **state)
{
	char   *out = NULL, *err = NULL, *msg;
	json_t *root;

	(void) state;
	assert_int_equal(
	    run(&out, &err, "-p '%s' resolve --storage-class Bad_Name -o yaml",
	        fx.policy_url),
	    2);
	ctltest_assert_has(err, "preallocctl resolve: --storage-class: ");
	ctltest_assert_has(err, "Try 'preallocctl resolve --help'.\n");
	assert_yaml_field(out, "code", "INVALID_ARGUMENT");
	assert_non_null(msg = yaml_error_field(out, "message"));
	ctltest_assert_has(msg, "Bad_Name");
	free(msg);
	free(out);
	free(err);
	// An answer is one document with no error object after it.
	assert_int_equal(
	    run(&out, &err, "resolve -o json --storage-class fast -p '%s'",
	        fx.policy_url),
	    0);
	assert_non_null(root = json_loads(out, 0, NULL));
	assert_null(json_object_get(root, "error"));
	json_decref(root);
	free(out);
	free(err);
}

static void
test_ctl_output__usage_errors_in_json_but_a_bad_format_on_stderr(void **state)
{
	char   *out = NULL, *err = NULL;
	json_t *e;

	(void) state;
	// An unknown option met before -o is parsed, and --output=json.
	assert_int_equal(run(&out, &err, "jobs --bogus --output=json"), 2);
	ctltest_assert_has(err, "preallocctl jobs: unknown option '--bogus'\n");
	e = json_error_object(out);
	assert_string_equal(jstr(e, "code"), "INVALID_ARGUMENT");
	assert_string_equal(jstr(e, "message"), "unknown option '--bogus'");
	json_decref(e);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "-o json bogus"), 2);
	e = json_error_object(out);
	assert_string_equal(jstr(e, "message"), "unknown command 'bogus'");
	json_decref(e);
	free(out);
	free(err);
	// -o itself is the bad value: no format, so stderr alone.
	assert_int_equal(run(&out, &err, "jobs -o json -o xml"), 2);
	ctltest_assert_has(err, "--output: unknown format 'xml'");
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static int
group_setup(void **state)
{
	char  config[700], plog[700];
	char *argv[] = { NULL, "--config", config, "--listen", fx.policy_url,
		"--http", "none", NULL };
	int   rc;

	(void) state;
	fx.dir = testlib_tmpdir("ctl_output_it");
	snprintf(fx.bin, sizeof(fx.bin), "%s",
	    testlib_built("clients/preallocctl/preallocctl"));
	snprintf(fx.policy_url, sizeof(fx.policy_url), "ipc://%s/policy.sock",
	    fx.dir);
	snprintf(config, sizeof(config), "%s/cdiconfig.yaml", fx.dir);
	snprintf(plog, sizeof(plog), "%s/policyd.log", fx.dir);
	testlib_write_text(config, config_yaml);
	argv[0] = strdup(testlib_built("service/prealloc-policyd"));
	rc = testlib_daemon_start(&fx.policyd, plog, "policyd.ready", argv);
	free(argv[0]);
	return rc;
}

static int
group_teardown(void **state)
{
	(void) state;
	if (fx.policyd.pid > 0)
		testlib_daemon_stop(&fx.policyd);
	testlib_rm_rf(fx.dir);
	free(fx.dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ctl_output__a_broken_manifest_gives_its_position_in_json),
		cmocka_unit_test(
		    test_ctl_output__a_manifest_on_stdin_is_named_stdin_in_yaml),
		cmocka_unit_test(
		    test_ctl_output__no_service_is_unavailable_in_json),
		cmocka_unit_test(
		    test_ctl_output__a_name_the_service_refuses_is_a_usage_error_in_yaml),
		cmocka_unit_test(
		    test_ctl_output__usage_errors_in_json_but_a_bad_format_on_stderr),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
