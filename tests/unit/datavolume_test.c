// SPDX-License-Identifier: Apache-2.0
// datavolume_test.c: DataVolume manifests: every field, every source kind,
// and each error with its exact file:line:column.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prealloc/prealloc.h"
#include "testlib.h"

#define HEAD                                    \
	"apiVersion: cdi.kubevirt.io/v1beta1\n" \
	"kind: DataVolume\n"                    \
	"metadata:\n"                           \
	"  name: fedora\n"

// Lines 1-4 are HEAD; spec starts at line 5.
#define SPEC_HTTP     \
	"spec:\n"     \
	"  source:\n" \
	"    http:\n" \
	"      url: http://example.com/fedora.img\n"

#define PVC_10GI            \
	"  pvc:\n"          \
	"    resources:\n"  \
	"      requests:\n" \
	"        storage: 10Gi\n"

static pa_datavolume *
parse_ok(const char *yaml)
{
	pa_datavolume *dv  = NULL;
	pa_err         err = PA_ERR_INIT;

	if (pa_datavolume_parse(&dv, yaml, strlen(yaml), "dv.yaml", &err) !=
	    PA_OK)
		fail_msg("parse failed: %s", err.msg);
	return dv;
}

// expect_error parses @p yaml and checks the code and the whole message.
static void
expect_error(const char *yaml, const char *msg)
{
	pa_datavolume *dv  = NULL;
	pa_err         err = PA_ERR_INIT;

	assert_int_equal(
	    pa_datavolume_parse(&dv, yaml, strlen(yaml), "dv.yaml", &err),
	    PA_INVALID_ARGUMENT);
	assert_null(dv);
	assert_int_equal(err.code, PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, msg);
}

static void
test_datavolume__reads_every_field(void **state)
{
	pa_datavolume *dv = parse_ok(
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: DataVolume\n"
	    "metadata:\n"
	    "  name: fedora\n"
	    "  namespace: vms\n"
	    "  annotations:\n"
	    "    cdi.kubevirt.io/storage.bind.immediate.requested: \"true\"\n"
	    "spec:\n"
	    "  preallocation: true\n"
	    "  contentType: kubevirt\n"
	    "  source:\n"
	    "    registry:\n"
	    "      url: docker://quay.io/containerdisks/fedora:39\n"
	    "  pvc:\n"
	    "    accessModes: [ReadWriteOnce]\n"
	    "    storageClassName: fast.example.com\n"
	    "    volumeMode: Block\n"
	    "    resources:\n"
	    "      requests:\n"
	    "        storage: 10Gi\n");

	assert_string_equal(dv->name, "fedora");
	assert_string_equal(dv->namespace_, "vms");
	assert_int_equal(dv->preallocation, PA_TRUE);
	assert_string_equal(dv->storage_class, "fast.example.com");
	assert_int_equal(dv->size, 10 * GiB);
	assert_int_equal(dv->volume_mode, PA_VOLUME_BLOCK);
	assert_string_equal(dv->source, "registry");
	pa_datavolume_free(dv);
}

static void
test_datavolume__absent_fields_take_their_defaults(void **state)
{
	pa_datavolume *dv = parse_ok(HEAD SPEC_HTTP PVC_10GI);

	assert_string_equal(dv->namespace_, "");
	assert_int_equal(dv->preallocation, PA_UNSET);
	assert_string_equal(dv->storage_class, "");
	assert_int_equal(dv->volume_mode, PA_VOLUME_FILESYSTEM);
	assert_string_equal(dv->source, "http");
	pa_datavolume_free(dv);

	// An empty class and an empty preallocation are absent too.
	dv = parse_ok(HEAD SPEC_HTTP "  preallocation:\n" PVC_10GI
	                             "    storageClassName: \"\"\n");
	assert_int_equal(dv->preallocation, PA_UNSET);
	assert_string_equal(dv->storage_class, "");
	pa_datavolume_free(dv);
}

static void
test_datavolume__preallocation_false_is_not_unset(void **state)
{
	pa_datavolume *dv =
	    parse_ok(HEAD SPEC_HTTP "  preallocation: false\n" PVC_10GI);

	assert_int_equal(dv->preallocation, PA_FALSE);
	pa_datavolume_free(dv);
}

static void
test_datavolume__storage_api_is_read_like_pvc(void **state)
{
	pa_datavolume *dv =
	    parse_ok(HEAD SPEC_HTTP "  storage:\n"
	                            "    storageClassName: slow\n"
	                            "    volumeMode: Filesystem\n"
	                            "    resources:\n"
	                            "      requests:\n"
	                            "        storage: 1536Mi\n");

	assert_string_equal(dv->storage_class, "slow");
	assert_int_equal(dv->size, 1536 * MiB);
	assert_int_equal(dv->volume_mode, PA_VOLUME_FILESYSTEM);
	pa_datavolume_free(dv);
}

static void
test_datavolume__every_source_kind_parses(void **state)
{
	static const char *const kinds[] = { "http", "registry", "s3", "gcs",
		"imageio", "vddk", "upload", "blank", "pvc" };
	char                     yaml[512];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		pa_datavolume *dv;

		snprintf(yaml, sizeof(yaml),
		    HEAD "spec:\n  source:\n    %s: {}\n" PVC_10GI, kinds[i]);
		dv = parse_ok(yaml);
		assert_string_equal(dv->source, kinds[i]);
		pa_datavolume_free(dv);
		// With nothing under it, as `blank:` is often written.
		snprintf(yaml, sizeof(yaml),
		    HEAD "spec:\n  source:\n    %s:\n" PVC_10GI, kinds[i]);
		dv = parse_ok(yaml);
		assert_string_equal(dv->source, kinds[i]);
		pa_datavolume_free(dv);
	}
}

static void
test_datavolume__sizes_are_kubernetes_quantities(void **state)
{
	static const struct {
		const char *text;
		uint64_t    bytes;
	} cases[] = {
		{ "1073741824", GiB },
		{ "\"5Gi\"", 5 * GiB },
		{ "1G", 1000000000ULL },
		{ "1.5Gi", 1536 * MiB },
		{ "2Ti", 2048 * GiB },
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pa_datavolume *dv;

		snprintf(yaml, sizeof(yaml),
		    HEAD SPEC_HTTP "  pvc:\n    resources:\n      requests:\n"
		                   "        storage: %s\n",
		    cases[i].text);
		dv = parse_ok(yaml);
		assert_int_equal(dv->size, cases[i].bytes);
		pa_datavolume_free(dv);
	}
}

static void
test_datavolume__other_objects_in_the_stream_are_skipped(void **state)
{
	pa_datavolume *dv = parse_ok("apiVersion: v1\n"
	                             "kind: Secret\n"
	                             "metadata:\n"
	                             "  name: creds\n"
	                             "---\n" HEAD SPEC_HTTP PVC_10GI "---\n");

	assert_string_equal(dv->name, "fedora");
	pa_datavolume_free(dv);
}

static void
test_datavolume__document_errors_have_positions(void **state)
{
	expect_error("",
	    "dv.yaml: no DataVolume document (apiVersion: "
	    "cdi.kubevirt.io/v1beta1, kind: DataVolume)");
	expect_error("apiVersion: cdi.kubevirt.io/v1beta1\nkind: CDIConfig\n",
	    "dv.yaml:2:7: kind: expected DataVolume, got \"CDIConfig\"");
	expect_error("apiVersion: cdi.kubevirt.io/v1beta1\nmetadata: {}\n",
	    "dv.yaml:1:1: kind: missing");
	expect_error("- a\n- b\n",
	    "dv.yaml:1:1: DataVolume: expected a map, got a list");
	expect_error("kind: DataVolume\nmetadata:\n  name: x\n",
	    "dv.yaml:1:1: apiVersion: missing");
	expect_error("apiVersion: cdi.kubevirt.io/v1alpha1\nkind: DataVolume\n",
	    "dv.yaml:1:13: apiVersion: expected cdi.kubevirt.io/v1beta1, got "
	    "\"cdi.kubevirt.io/v1alpha1\"");
	expect_error(HEAD SPEC_HTTP PVC_10GI "---\n" HEAD SPEC_HTTP PVC_10GI,
	    "dv.yaml:14:1: a second DataVolume (the first starts at line 1); "
	    "give one DataVolume");
	expect_error(HEAD "spec: [\n",
	    "dv.yaml:6:1: did not find expected node content (while parsing "
	    "a flow node that starts at line 6, column 1)");
}

static void
test_datavolume__metadata_errors_have_positions(void **state)
{
	expect_error("apiVersion: cdi.kubevirt.io/v1beta1\n"
	             "kind: DataVolume\n"
	             "metadata:\n"
	             "  namespace: vms\n",
	    "dv.yaml:4:3: metadata.name: missing");
	expect_error("apiVersion: cdi.kubevirt.io/v1beta1\n"
	             "kind: DataVolume\n",
	    "dv.yaml:1:1: metadata: missing");
	expect_error("apiVersion: cdi.kubevirt.io/v1beta1\n"
	             "kind: DataVolume\n"
	             "metadata:\n"
	             "  name: Fedora_39\n",
	    "dv.yaml:4:9: metadata.name: \"Fedora_39\" is not a valid name: "
	    "'F' at position 1 is not allowed (use lowercase letters, "
	    "digits, '-' and '.')");
	expect_error(HEAD "  namespace: a.b\n",
	    "dv.yaml:5:14: metadata.namespace: \"a.b\" is not a valid name: "
	    "'.' at position 2 is not allowed (use lowercase letters, digits "
	    "and '-')");
}

static void
test_datavolume__spec_errors_have_positions(void **state)
{
	expect_error(HEAD, "dv.yaml:1:1: spec: missing");
	expect_error(HEAD SPEC_HTTP "  preallocation: yes\n" PVC_10GI,
	    "dv.yaml:9:18: spec.preallocation: expected a boolean (true or "
	    "false), got string \"yes\"");
	expect_error(
	    HEAD "spec:\n" PVC_10GI, "dv.yaml:6:3: spec.source: missing");
	expect_error(HEAD "spec:\n  source: {}\n" PVC_10GI,
	    "dv.yaml:6:11: spec.source: expected one of http, registry, s3, "
	    "gcs, imageio, vddk, upload, blank or pvc");
	expect_error(HEAD "spec:\n  source:\n    blank: {}\n    http: {}\n",
	    "dv.yaml:8:5: spec.source: \"http\" is a second source (after "
	    "\"blank\"); give exactly one");
	expect_error(HEAD "spec:\n  source:\n    ftp: {}\n",
	    "dv.yaml:7:5: spec.source: unknown source \"ftp\" (expected http, "
	    "registry, s3, gcs, imageio, vddk, upload, blank or pvc)");
	expect_error(HEAD "spec:\n  source:\n    http: url\n",
	    "dv.yaml:7:11: spec.source.http: expected a map, got string "
	    "\"url\"");
	expect_error(HEAD "spec:\n  sourceRef:\n    kind: DataSource\n",
	    "dv.yaml:6:3: spec.sourceRef: DataSource references need the "
	    "cluster to resolve; name the source under spec.source");
}

static void
test_datavolume__claim_errors_have_positions(void **state)
{
	expect_error(
	    HEAD SPEC_HTTP, "dv.yaml:6:3: spec: missing pvc or storage");
	expect_error(HEAD SPEC_HTTP PVC_10GI "  storage: {}\n",
	    "dv.yaml:13:3: spec.storage: give spec.pvc or spec.storage, not "
	    "both");
	expect_error(HEAD SPEC_HTTP "  pvc: 10Gi\n",
	    "dv.yaml:9:8: spec.pvc: expected a map, got string \"10Gi\"");
	expect_error(HEAD SPEC_HTTP "  pvc:\n    volumeMode: Block\n",
	    "dv.yaml:10:5: spec.pvc.resources: missing");
	expect_error(HEAD SPEC_HTTP "  storage:\n    resources:\n"
	                            "      limits: {}\n",
	    "dv.yaml:11:7: spec.storage.resources.requests: missing");
	expect_error(HEAD SPEC_HTTP "  pvc:\n    resources:\n"
	                            "      requests:\n        cpu: 1\n",
	    "dv.yaml:12:9: spec.pvc.resources.requests.storage: missing");
	expect_error(HEAD SPEC_HTTP "  pvc:\n    resources:\n"
	                            "      requests:\n        storage: 10Gx\n",
	    "dv.yaml:12:18: spec.pvc.resources.requests.storage: invalid "
	    "quantity \"10Gx\": unknown suffix (use Ki, Mi, Gi, Ti, Pi, Ei, "
	    "k, M, G, T, P, E or an exponent such as e9)");
	expect_error(HEAD SPEC_HTTP "  pvc:\n    resources:\n"
	                            "      requests:\n        storage: 0\n",
	    "dv.yaml:12:18: spec.pvc.resources.requests.storage: must be "
	    "more than 0 bytes");
	expect_error(HEAD SPEC_HTTP PVC_10GI "    volumeMode: Raw\n",
	    "dv.yaml:13:17: spec.pvc.volumeMode: expected Filesystem or "
	    "Block, got \"Raw\"");
	expect_error(HEAD SPEC_HTTP PVC_10GI "    storageClassName: Fast!\n",
	    "dv.yaml:13:23: spec.pvc.storageClassName: \"Fast!\" is not a "
	    "valid name: 'F' at position 1 is not allowed (use lowercase "
	    "letters, digits, '-' and '.')");
}

static void
test_datavolume__bad_arguments_are_invalid_argument(void **state)
{
	pa_datavolume *dv  = NULL;
	pa_err         err = PA_ERR_INIT;

	assert_int_equal(
	    pa_datavolume_parse(NULL, "x", 1, NULL, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_datavolume_parse(&dv, NULL, 3, NULL, NULL), PA_INVALID_ARGUMENT);
	// No file name: messages say <input>.
	assert_int_equal(
	    pa_datavolume_parse(&dv, "kind: DataVolume\n", 17, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "<input>:1:1: apiVersion: missing");
	assert_null(dv);
	pa_datavolume_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datavolume__reads_every_field),
		cmocka_unit_test(
		    test_datavolume__absent_fields_take_their_defaults),
		cmocka_unit_test(
		    test_datavolume__preallocation_false_is_not_unset),
		cmocka_unit_test(test_datavolume__storage_api_is_read_like_pvc),
		cmocka_unit_test(test_datavolume__every_source_kind_parses),
		cmocka_unit_test(
		    test_datavolume__sizes_are_kubernetes_quantities),
		cmocka_unit_test(
		    test_datavolume__other_objects_in_the_stream_are_skipped),
		cmocka_unit_test(
		    test_datavolume__document_errors_have_positions),
		cmocka_unit_test(
		    test_datavolume__metadata_errors_have_positions),
		cmocka_unit_test(test_datavolume__spec_errors_have_positions),
		cmocka_unit_test(test_datavolume__claim_errors_have_positions),
		cmocka_unit_test(
		    test_datavolume__bad_arguments_are_invalid_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
