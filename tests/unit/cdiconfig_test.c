// SPDX-License-Identifier: Apache-2.0
// cdiconfig_test.c: CDIConfig parsing, its errors with positions, snapshots.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdiconfig.h"
#include "testlib.h"

#define HEAD                                    \
	"apiVersion: cdi.kubevirt.io/v1beta1\n" \
	"kind: CDIConfig\n"                     \
	"metadata:\n"                           \
	"  name: config\n"

static cdiconfig *
parse_ok(const char *yaml)
{
	cdiconfig *c   = NULL;
	pa_err     err = PA_ERR_INIT;

	if (cdiconfig_parse(&c, yaml, strlen(yaml), "cdi.yaml", NULL, &err) !=
	    PA_OK)
		fail_msg("parse failed: %s", err.msg);
	return c;
}

// expect_error parses @yaml (strict or not) and checks the code, the
// position and the whole message.
static void
expect_error(
    const char *yaml, bool strict, int line, int column, const char *msg)
{
	cdiconfig     *c     = NULL;
	pa_err         err   = PA_ERR_INIT;
	yamldoc_pos    where = { -1, -1 };
	cdiconfig_opts opts  = CDICONFIG_OPTS_INIT;

	opts.strict    = strict;
	opts.error_pos = &where;
	assert_int_equal(
	    cdiconfig_parse(&c, yaml, strlen(yaml), "cdi.yaml", &opts, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(c);
	assert_string_equal(err.msg, msg);
	assert_int_equal(where.line, line);
	assert_int_equal(where.column, column);
}

static cdiconfig_tristate
class_prealloc(const cdiconfig *c, const char *name)
{
	const cdiconfig_setting *s = cdiconfig_class(c, name);

	return s != NULL ? s->preallocation : CDICONFIG_UNSET;
}

static void
test_cdiconfig__block_style_with_comments(void **state)
{
	cdiconfig *c = parse_ok(HEAD "# preallocation for some classes\n"
	                             "spec:\n"
	                             "  preallocation:\n"
	                             "    global: false # off by default\n"
	                             "    storageClass:\n"
	                             "      sc-with-preallocation: true\n"
	                             "      another-storage-class: false\n"
	                             "  filesystemOverhead:\n"
	                             "    global: \"0.08\"\n"
	                             "    storageClass:\n"
	                             "      another-storage-class: '0.125'\n");
	const cdiconfig_setting *s;

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_FALSE);
	assert_string_equal(cdiconfig_global(c)->overhead, "0.08");
	assert_int_equal(cdiconfig_global(c)->overhead_milli, 80);
	assert_int_equal(
	    class_prealloc(c, "sc-with-preallocation"), CDICONFIG_TRUE);
	s = cdiconfig_class(c, "another-storage-class");
	assert_non_null(s);
	assert_int_equal(s->preallocation, CDICONFIG_FALSE);
	assert_string_equal(s->overhead, "0.125");
	assert_int_equal(s->overhead_milli, 125);
	s = cdiconfig_class(c, "sc-with-preallocation");
	assert_int_equal(s->overhead_milli, -1);
	assert_string_equal(s->overhead, "");
	assert_null(cdiconfig_class(c, "unlisted"));
	assert_int_equal(cdiconfig_class_count(c), 2);
	assert_int_equal(cdiconfig_warning_count(c), 0);
	assert_null(cdiconfig_warning(c, 0));
	assert_string_equal(cdiconfig_filename(c), "cdi.yaml");
	cdiconfig_unref(c);
}

static void
test_cdiconfig__flow_style(void **state)
{
	cdiconfig *c = parse_ok(
	    "{apiVersion: cdi.kubevirt.io/v1beta1, kind: CDIConfig, spec: "
	    "{preallocation: {global: true, storageClass: {a: false}}, "
	    "filesystemOverhead: {storageClass: {b: \"0\"}}}}\n");

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	assert_int_equal(cdiconfig_global(c)->overhead_milli, -1);
	assert_int_equal(class_prealloc(c, "a"), CDICONFIG_FALSE);
	assert_int_equal(class_prealloc(c, "b"), CDICONFIG_UNSET);
	assert_int_equal(cdiconfig_class(c, "b")->overhead_milli, 0);
	cdiconfig_unref(c);
}

static void
test_cdiconfig__plain_bool_means_global(void **state)
{
	cdiconfig *c = parse_ok(HEAD "spec:\n  preallocation: true\n");

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	assert_int_equal(cdiconfig_class_count(c), 0);
	cdiconfig_unref(c);
	c = parse_ok(HEAD "spec:\n  preallocation: false\n");
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_FALSE);
	cdiconfig_unref(c);
}

static void
test_cdiconfig__nulls_leave_settings_unset(void **state)
{
	cdiconfig *c = parse_ok(HEAD "spec:\n"
	                             "  preallocation:\n"
	                             "    global: null\n"
	                             "    storageClass: ~\n"
	                             "  filesystemOverhead:\n");

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_UNSET);
	assert_int_equal(cdiconfig_global(c)->overhead_milli, -1);
	cdiconfig_unref(c);
	c = parse_ok(HEAD "spec:\n");
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_UNSET);
	cdiconfig_unref(c);
	c = parse_ok("apiVersion: cdi.kubevirt.io/v1beta1\nkind: CDIConfig\n");
	assert_int_equal(cdiconfig_class_count(c), 0);
	cdiconfig_unref(c);
}

static void
test_cdiconfig__real_cluster_export_is_accepted_quietly(void **state)
{
	cdiconfig *c = parse_ok(
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "metadata:\n"
	    "  creationTimestamp: \"2024-03-01T10:00:00Z\"\n"
	    "  generation: 3\n"
	    "  labels:\n"
	    "    app: containerized-data-importer\n"
	    "    app.kubernetes.io/component: storage\n"
	    "  managedFields:\n"
	    "  - apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "    fieldsType: FieldsV1\n"
	    "    fieldsV1:\n"
	    "      f:metadata:\n"
	    "        f:labels:\n"
	    "          .: {}\n"
	    "          f:app: {}\n"
	    "      f:spec:\n"
	    "        .: {}\n"
	    "        f:featureGates: {}\n"
	    "    manager: cdi-controller\n"
	    "    operation: Update\n"
	    "    time: \"2024-03-01T10:00:00Z\"\n"
	    "  name: config\n"
	    "  ownerReferences:\n"
	    "  - apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "    blockOwnerDeletion: true\n"
	    "    controller: true\n"
	    "    kind: CDI\n"
	    "    name: cdi\n"
	    "    uid: 7d3c5a1e-0000-4000-8000-000000000001\n"
	    "  resourceVersion: \"123456\"\n"
	    "  uid: 0a1b2c3d-0000-4000-8000-000000000002\n"
	    "spec:\n"
	    "  featureGates:\n"
	    "  - HonorWaitForFirstConsumer\n"
	    "  filesystemOverhead:\n"
	    "    global: \"0.055\"\n"
	    "  podResourceRequirements:\n"
	    "    limits:\n"
	    "      cpu: 750m\n"
	    "      memory: 600M\n"
	    "  preallocation: true\n"
	    "  scratchSpaceStorageClass: local\n"
	    "  uploadProxyURLOverride: https://cdi-uploadproxy.example.com\n"
	    "  importProxy:\n"
	    "    HTTPProxy: \"\"\n"
	    "  insecureRegistries: []\n"
	    "  dataVolumeTTLSeconds: -1\n"
	    "  tlsSecurityProfile:\n"
	    "    type: Intermediate\n"
	    "    intermediate: {}\n"
	    "  imagePullSecrets: []\n"
	    "  logVerbosity: 2\n"
	    "status:\n"
	    "  defaultPodResourceRequirements:\n"
	    "    limits:\n"
	    "      cpu: 750m\n"
	    "  filesystemOverhead:\n"
	    "    global: \"0.055\"\n"
	    "    storageClass:\n"
	    "      local: \"0.055\"\n"
	    "  importProxy:\n"
	    "    HTTPProxy: \"\"\n"
	    "  preallocation: true\n"
	    "  scratchSpaceStorageClass: local\n"
	    "  uploadProxyURL: cdi-uploadproxy.example.com\n");

	assert_int_equal(cdiconfig_warning_count(c), 0);
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	assert_string_equal(cdiconfig_global(c)->overhead, "0.055");
	assert_int_equal(cdiconfig_global(c)->overhead_milli, 55);
	assert_int_equal(cdiconfig_class_count(c), 0); // status is not read
	cdiconfig_unref(c);
}

static void
test_cdiconfig__unknown_fields_warn_with_position(void **state)
{
	cdiconfig *c = parse_ok(HEAD "spec:\n"
	                             "  preallocaton: true\n"
	                             "  preallocation:\n"
	                             "    globl: true\n"
	                             "  filesystemOverhead:\n"
	                             "    perClass: {}\n"
	                             "extra: 1\n");

	assert_int_equal(cdiconfig_warning_count(c), 4);
	assert_string_equal(cdiconfig_warning(c, 0),
	    "cdi.yaml:6:3: unknown field spec.preallocaton (ignored)");
	assert_string_equal(cdiconfig_warning(c, 1),
	    "cdi.yaml:8:5: unknown field spec.preallocation.globl (ignored)");
	assert_string_equal(cdiconfig_warning(c, 2),
	    "cdi.yaml:10:5: unknown field spec.filesystemOverhead.perClass "
	    "(ignored)");
	assert_string_equal(cdiconfig_warning(c, 3),
	    "cdi.yaml:11:1: unknown field extra (ignored)");
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_UNSET);
	cdiconfig_unref(c);
}

static void
test_cdiconfig__unknown_fields_are_errors_when_strict(void **state)
{
	expect_error(HEAD "spec:\n  preallocaton: true\n", true, 6, 3,
	    "cdi.yaml:6:3: unknown field spec.preallocaton");
	expect_error(HEAD "spec:\n  preallocation:\n    global: true\n"
	                  "    storageclass: {}\n",
	    true, 8, 5,
	    "cdi.yaml:8:5: unknown field spec.preallocation.storageclass");
}

static void
test_cdiconfig__other_documents_are_ignored_with_a_warning(void **state)
{
	cdiconfig *c = parse_ok("apiVersion: v1\n"
	                        "kind: ConfigMap\n"
	                        "metadata: {name: x}\n"
	                        "---\n" HEAD "spec:\n  preallocation: true\n"
	                        "---\n"
	                        "- a list\n"
	                        "---\n");

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	assert_int_equal(cdiconfig_warning_count(c), 2);
	assert_string_equal(cdiconfig_warning(c, 0),
	    "cdi.yaml:1:1: document 1 ignored: kind ConfigMap, apiVersion v1 "
	    "is not a CDIConfig of cdi.kubevirt.io/v1beta1");
	assert_string_equal(cdiconfig_warning(c, 1),
	    "cdi.yaml:12:1: document 3 ignored: it has no kind");
	cdiconfig_unref(c);
}

static void
test_cdiconfig__needs_exactly_one_cdiconfig(void **state)
{
	expect_error("apiVersion: v1\nkind: ConfigMap\n", false, 0, 0,
	    "cdi.yaml: no CDIConfig document (apiVersion: "
	    "cdi.kubevirt.io/v1beta1, kind: CDIConfig)");
	expect_error("", false, 0, 0,
	    "cdi.yaml: no CDIConfig document (apiVersion: "
	    "cdi.kubevirt.io/v1beta1, kind: CDIConfig)");
	expect_error(HEAD "---\n" HEAD, false, 6, 1,
	    "cdi.yaml:6:1: a second CDIConfig document (the first starts at "
	    "line 1); the stream must hold exactly one");
}

static void
test_cdiconfig__wrong_types_are_errors(void **state)
{
	expect_error(HEAD "spec:\n  preallocation:\n    global: \"yes\"\n",
	    false, 7, 13,
	    "cdi.yaml:7:13: spec.preallocation.global: expected a boolean "
	    "(true or false), got string \"yes\"");
	expect_error(HEAD "spec:\n  preallocation:\n    global: \"true\"\n",
	    false, 7, 13,
	    "cdi.yaml:7:13: spec.preallocation.global: expected a boolean "
	    "(true or false), got string \"true\"");
	expect_error(HEAD "spec:\n  preallocation: yes\n", false, 6, 18,
	    "cdi.yaml:6:18: spec.preallocation: expected a boolean (true or "
	    "false), got string \"yes\"");
	expect_error(HEAD "spec:\n  preallocation:\n    storageClass:\n"
	                  "    - a\n",
	    false, 8, 5,
	    "cdi.yaml:8:5: spec.preallocation.storageClass: expected a map, "
	    "got a list");
	expect_error(HEAD "spec:\n  preallocation: [true]\n", false, 6, 18,
	    "cdi.yaml:6:18: spec.preallocation: expected a boolean or a map, "
	    "got a list");
	expect_error(HEAD "spec: [a]\n", false, 5, 7,
	    "cdi.yaml:5:7: spec: expected a map, got a list");
	expect_error(HEAD "spec:\n  preallocation:\n    storageClass:\n"
	                  "      fast: 1\n",
	    false, 8, 13,
	    "cdi.yaml:8:13: spec.preallocation.storageClass.fast: expected a "
	    "boolean (true or false), got number 1");
	expect_error(HEAD "spec:\n  filesystemOverhead: \"0.1\"\n", false, 6,
	    23,
	    "cdi.yaml:6:23: spec.filesystemOverhead: expected a map, got "
	    "string \"0.1\"");
	expect_error(HEAD "spec:\n  filesystemOverhead:\n    global: 0.06\n",
	    false, 7, 13,
	    "cdi.yaml:7:13: spec.filesystemOverhead.global: expected a "
	    "string, got number 0.06 (quote it: \"0.06\")");
}

static void
test_cdiconfig__invalid_storage_class_names_are_errors(void **state)
{
	expect_error(HEAD "spec:\n  preallocation:\n    storageClass:\n"
	                  "      ok: true\n      Fast_SSD: true\n",
	    false, 9, 7,
	    "cdi.yaml:9:7: spec.preallocation.storageClass: storage class "
	    "\"Fast_SSD\" is not a valid name: 'F' at position 1 is not "
	    "allowed (use lowercase letters, digits, '-' and '.')");
	expect_error(HEAD "spec:\n  filesystemOverhead:\n    storageClass:\n"
	                  "      \"-x\": \"0.1\"\n",
	    false, 8, 7,
	    "cdi.yaml:8:7: spec.filesystemOverhead.storageClass: storage "
	    "class \"-x\" is not a valid name: '-' at position 1: it must "
	    "start and end with a letter or digit, and so must each part "
	    "between dots");
}

static void
test_cdiconfig__long_storage_class_name_is_an_error(void **state)
{
	char yaml[1024], name[255];

	memset(name, 'a', 254);
	name[254] = '\0';
	snprintf(yaml, sizeof(yaml),
	    HEAD "spec:\n  preallocation:\n    storageClass:\n      %s: true\n",
	    name);
	expect_error(yaml, false, 8, 7,
	    "cdi.yaml:8:7: spec.preallocation.storageClass: storage class "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "...\" is not a valid name: 254 characters, more than 253");
}

static void
test_cdiconfig__duplicate_keys_are_errors(void **state)
{
	expect_error(HEAD "spec:\n  preallocation:\n    storageClass:\n"
	                  "      a: true\n      b: true\n      a: false\n",
	    false, 10, 7,
	    "cdi.yaml:10:7: duplicate key \"a\" (first at line 8, column 7)");
	expect_error(HEAD "spec:\n  preallocation: true\n  preallocation: "
	                  "false\n",
	    false, 7, 3,
	    "cdi.yaml:7:3: duplicate key \"preallocation\" (first at line 6, "
	    "column 3)");
}

static void
test_cdiconfig__overhead_out_of_range_is_an_error(void **state)
{
	static const struct {
		const char *value;
		const char *why;
	} table[] = {
		{ "1",
		    "is out of range: an overhead must be at least 0 and "
		    "less than 1" },
		{ "1.0",
		    "is out of range: an overhead must be at least 0 and "
		    "less than 1" },
		{ "2.5",
		    "is out of range: an overhead must be at least 0 and "
		    "less than 1" },
		{ "-0.1",
		    "is out of range: an overhead must be at least 0 and "
		    "less than 1" },
		{ "0.0625", "has more than 3 decimals" },
		{ "abc", "is not a decimal such as \"0.06\"" },
		{ "0.", "is not a decimal such as \"0.06\"" },
		{ ".5", "is not a decimal such as \"0.06\"" },
		{ "00.5", "is not a decimal such as \"0.06\"" },
		{ "5%", "is not a decimal such as \"0.06\"" },
		{ "", "is not a decimal such as \"0.06\"" },
		{ "0.06 ", "is not a decimal such as \"0.06\"" },
	};
	char yaml[512], msg[512];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		snprintf(yaml, sizeof(yaml),
		    HEAD "spec:\n  filesystemOverhead:\n    storageClass:\n"
		         "      a: \"%s\"\n",
		    table[i].value);
		snprintf(msg, sizeof(msg),
		    "cdi.yaml:8:10: spec.filesystemOverhead.storageClass.a: "
		    "\"%s\" %s",
		    table[i].value, table[i].why);
		expect_error(yaml, false, 8, 10, msg);
	}
}

static void
test_cdiconfig__overhead_keeps_the_string_as_written(void **state)
{
	static const struct {
		const char *value;
		int         milli;
	} table[] = {
		{ "0", 0 },
		{ "0.0", 0 },
		{ "0.5", 500 },
		{ "0.06", 60 },
		{ "0.10", 100 },
		{ "0.125", 125 },
		{ "0.999", 999 },
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		cdiconfig *c;

		snprintf(yaml, sizeof(yaml),
		    HEAD "spec:\n  filesystemOverhead:\n    global: \"%s\"\n",
		    table[i].value);
		c = parse_ok(yaml);
		assert_string_equal(
		    cdiconfig_global(c)->overhead, table[i].value);
		assert_int_equal(
		    cdiconfig_global(c)->overhead_milli, table[i].milli);
		cdiconfig_unref(c);
	}
}

static void
test_cdiconfig__syntax_errors_and_aliases_have_positions(void **state)
{
	expect_error(HEAD "spec:\n  preallocation:\n    global: true\n"
	                  "   storageClass: {}\n",
	    false, 8, 4,
	    "cdi.yaml:8:4: did not find expected key (while parsing a block "
	    "mapping that starts at line 6, column 3)");
	expect_error(HEAD "spec:\n"
	                  "  a: &a [\"lol\", \"lol\", \"lol\", \"lol\"]\n"
	                  "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
	                  "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
	                  "  preallocation: true\n",
	    false, 7, 10,
	    "cdi.yaml:7:10: alias *a is not supported: aliases can blow up a "
	    "document's size; write the value out");
}

static void
test_cdiconfig__ten_thousand_classes_parse_fast(void **state)
{
	size_t     cap = 10000 * 64 + 512, used = 0;
	char      *yaml = malloc(cap);
	cdiconfig *c;
	uint64_t   t0;
	double     ms;

	assert_non_null(yaml);
	used = (size_t) snprintf(
	    yaml, cap, HEAD "spec:\n  preallocation:\n    storageClass:\n");
	for (int i = 0; i < 10000; i++)
		used += (size_t) snprintf(yaml + used, cap - used,
		    "      sc-%05d.example.com: %s\n", i,
		    i % 3 == 0 ? "true" : "false");
	t0 = testlib_now_ns();
	c  = parse_ok(yaml);
	ms = (double) (testlib_now_ns() - t0) / 1e6;
	print_message("10,000 classes parsed in %.1f ms\n", ms);
	assert_true(ms < 2000); // about 10 ms; generous for sanitizers
	assert_int_equal(cdiconfig_class_count(c), 10000);
	assert_int_equal(
	    class_prealloc(c, "sc-00000.example.com"), CDICONFIG_TRUE);
	assert_int_equal(
	    class_prealloc(c, "sc-00001.example.com"), CDICONFIG_FALSE);
	assert_int_equal(
	    class_prealloc(c, "sc-04997.example.com"), CDICONFIG_FALSE);
	assert_int_equal(
	    class_prealloc(c, "sc-09999.example.com"), CDICONFIG_TRUE);
	assert_null(cdiconfig_class(c, "sc-10000.example.com"));
	assert_null(cdiconfig_class(c, "sc-00000"));
	cdiconfig_unref(c);
	free(yaml);
}

static void
test_cdiconfig__snapshot_keeps_generation_and_refcount(void **state)
{
	cdiconfig     *c    = NULL;
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;
	const char    *yaml = HEAD "spec:\n  preallocation: true\n";

	opts.generation = 42;
	assert_int_equal(
	    cdiconfig_parse(&c, yaml, strlen(yaml), NULL, &opts, NULL), PA_OK);
	assert_int_equal(cdiconfig_generation(c), 42);
	assert_string_equal(cdiconfig_filename(c), "<input>");
	assert_ptr_equal(cdiconfig_ref(c), c);
	assert_ptr_equal(cdiconfig_ref(c), c);
	cdiconfig_unref(c);
	cdiconfig_unref(c);
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	cdiconfig_unref(c); // the last one frees; ASan checks
	cdiconfig_unref(NULL);
}

static void
test_cdiconfig__default_sets_nothing(void **state)
{
	cdiconfig     *c    = NULL;
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;
	char          *yaml = NULL;

	opts.generation = 7;
	assert_int_equal(cdiconfig_default(&c, &opts, NULL), PA_OK);
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_UNSET);
	assert_int_equal(cdiconfig_global(c)->overhead_milli, -1);
	assert_int_equal(cdiconfig_class_count(c), 0);
	assert_int_equal(cdiconfig_generation(c), 7);
	assert_string_equal(cdiconfig_filename(c), "<default>");
	assert_int_equal(cdiconfig_to_yaml(&yaml, c, NULL), PA_OK);
	assert_string_equal(yaml,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "metadata:\n"
	    "  name: config\n"
	    "spec: {}\n");
	free(yaml);
	cdiconfig_unref(c);
}

// round_trip parses @yaml, writes it back out and parses that; the text
// written is left in *text for the caller to check and free.
static cdiconfig *
round_trip(const char *yaml, char **text)
{
	cdiconfig *c = parse_ok(yaml);
	cdiconfig *again;

	assert_int_equal(cdiconfig_to_yaml(text, c, NULL), PA_OK);
	again = parse_ok(*text);
	cdiconfig_unref(c);
	return again;
}

static void
test_cdiconfig__to_yaml_writes_the_effective_config(void **state)
{
	char      *yaml = NULL;
	cdiconfig *c    = round_trip(HEAD "spec:\n"
	                                     "  preallocation: true\n"
	                                     "  filesystemOverhead:\n"
	                                     "    storageClass: {zeta: \"0.2\", "
	                                     "alpha: \"0.10\"}\n"
	                                     "  featureGates: [X]\n",
	       &yaml);

	assert_string_equal(yaml,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "metadata:\n"
	    "  name: config\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: true\n"
	    "  filesystemOverhead:\n"
	    "    storageClass:\n"
	    "      alpha: \"0.10\"\n"
	    "      zeta: \"0.2\"\n");
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	assert_string_equal(cdiconfig_class(c, "alpha")->overhead, "0.10");
	assert_int_equal(cdiconfig_class(c, "zeta")->overhead_milli, 200);
	free(yaml);
	cdiconfig_unref(c);
}

static void
test_cdiconfig__to_yaml_round_trips_both_maps(void **state)
{
	char      *yaml = NULL;
	cdiconfig *c    = round_trip(HEAD "spec:\n"
	                                     "  preallocation:\n"
	                                     "    global: false\n"
	                                     "    storageClass: {b: true, a: false}\n"
	                                     "  filesystemOverhead:\n"
	                                     "    global: \"0.06\"\n"
	                                     "    storageClass: {a: \"0.3\"}\n",
	       &yaml);

	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_FALSE);
	assert_string_equal(cdiconfig_global(c)->overhead, "0.06");
	assert_int_equal(class_prealloc(c, "a"), CDICONFIG_FALSE);
	assert_int_equal(class_prealloc(c, "b"), CDICONFIG_TRUE);
	assert_string_equal(cdiconfig_class(c, "a")->overhead, "0.3");
	assert_int_equal(cdiconfig_class_count(c), 2);
	free(yaml);
	cdiconfig_unref(c);
}

// A text one byte over the limit: valid YAML (a comment pads it), so only
// the size can refuse it, and the limit itself is still accepted.
static char *
padded_config(size_t len)
{
	static const char text[] = HEAD "spec:\n  preallocation: true\n";
	char             *buf    = malloc(len + 1);

	assert_non_null(buf);
	assert_true(len > sizeof(text) + 2);
	memcpy(buf, text, sizeof(text) - 1);
	buf[sizeof(text) - 1] = '#';
	memset(buf + sizeof(text), ' ', len - sizeof(text) - 1);
	buf[len - 1] = '\n';
	buf[len]     = '\0';
	return buf;
}

static void
test_cdiconfig__over_the_size_limit_is_refused(void **state)
{
	char      *at   = padded_config(CDI_CONFIG_MAX_BYTES);
	char      *over = padded_config(CDI_CONFIG_MAX_BYTES + 1);
	cdiconfig *c    = NULL;
	pa_err     err  = PA_ERR_INIT;

	(void) state;
	assert_int_equal(
	    cdiconfig_parse(&c, at, strlen(at), "my.yaml", NULL, &err), PA_OK);
	cdiconfig_unref(c);
	c = NULL;
	assert_int_equal(
	    cdiconfig_parse(&c, over, strlen(over), "my.yaml", NULL, &err),
	    PA_RESOURCE_EXHAUSTED);
	assert_null(c);
	assert_string_equal(err.msg,
	    "my.yaml: larger than 524288 bytes, the limit of a configuration "
	    "(CDI_CONFIG_MAX_BYTES)");
	free(at);
	free(over);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdiconfig__block_style_with_comments),
		cmocka_unit_test(
		    test_cdiconfig__over_the_size_limit_is_refused),
		cmocka_unit_test(test_cdiconfig__flow_style),
		cmocka_unit_test(test_cdiconfig__plain_bool_means_global),
		cmocka_unit_test(test_cdiconfig__nulls_leave_settings_unset),
		cmocka_unit_test(
		    test_cdiconfig__real_cluster_export_is_accepted_quietly),
		cmocka_unit_test(
		    test_cdiconfig__unknown_fields_warn_with_position),
		cmocka_unit_test(
		    test_cdiconfig__unknown_fields_are_errors_when_strict),
		cmocka_unit_test(
		    test_cdiconfig__other_documents_are_ignored_with_a_warning),
		cmocka_unit_test(test_cdiconfig__needs_exactly_one_cdiconfig),
		cmocka_unit_test(test_cdiconfig__wrong_types_are_errors),
		cmocka_unit_test(
		    test_cdiconfig__invalid_storage_class_names_are_errors),
		cmocka_unit_test(
		    test_cdiconfig__long_storage_class_name_is_an_error),
		cmocka_unit_test(test_cdiconfig__duplicate_keys_are_errors),
		cmocka_unit_test(
		    test_cdiconfig__overhead_out_of_range_is_an_error),
		cmocka_unit_test(
		    test_cdiconfig__overhead_keeps_the_string_as_written),
		cmocka_unit_test(
		    test_cdiconfig__syntax_errors_and_aliases_have_positions),
		cmocka_unit_test(
		    test_cdiconfig__ten_thousand_classes_parse_fast),
		cmocka_unit_test(
		    test_cdiconfig__snapshot_keeps_generation_and_refcount),
		cmocka_unit_test(test_cdiconfig__default_sets_nothing),
		cmocka_unit_test(
		    test_cdiconfig__to_yaml_writes_the_effective_config),
		cmocka_unit_test(test_cdiconfig__to_yaml_round_trips_both_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
