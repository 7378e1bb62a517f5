// SPDX-License-Identifier: Apache-2.0
// datavolume_test.c: DataVolume manifests: every field, every source kind,
// every shape CDI admits (tests/fixtures/cdi), unknown fields, and each
// error with its exact file:line:column.
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
		"imageio", "vddk", "upload", "blank", "pvc", "snapshot" };
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
	expect_error(HEAD "spec:\n" PVC_10GI,
	    "dv.yaml:6:3: spec.source: missing (give spec.source, "
	    "spec.sourceRef, or a dataSourceRef under spec.storage or "
	    "spec.pvc)");
	expect_error(HEAD "spec:\n  source: {}\n" PVC_10GI,
	    "dv.yaml:6:11: spec.source: expected one of http, registry, s3, "
	    "gcs, imageio, vddk, upload, blank, pvc or snapshot");
	expect_error(HEAD "spec:\n  source:\n    blank: {}\n    http: {}\n",
	    "dv.yaml:8:5: spec.source: \"http\" is a second source (after "
	    "\"blank\"); give exactly one");
	expect_error(HEAD "spec:\n  source:\n    ftp: {}\n",
	    "dv.yaml:7:5: spec.source: unknown source \"ftp\" (expected http, "
	    "registry, s3, gcs, imageio, vddk, upload, blank, pvc or "
	    "snapshot)");
	expect_error(HEAD "spec:\n  source:\n    http: url\n",
	    "dv.yaml:7:11: spec.source.http: expected a map, got string "
	    "\"url\"");
	// A DataSource reference is accepted (see sourceref_is_named), but
	// still checked.
	expect_error(HEAD "spec:\n  sourceRef:\n    kind: DataSource\n",
	    "dv.yaml:7:5: spec.sourceRef.name: missing");
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

/* ---- every DataVolume CDI admits (issue 11) --------------------------- */

// The text of tests/fixtures/cdi/@p name, malloc'd.
static char *
fixture_text(const char *name, size_t *len)
{
	const char *src = getenv("PREALLOC_SOURCE_DIR");
	char        path[1024];
	char       *buf;
	long        n;
	FILE       *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/cdi/%s",
	    src != NULL ? src : ".", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t) n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

// Parse a fixture, strict or not; fails the test when it does not parse.
static pa_datavolume *
fixture_ok(const char *name, bool strict)
{
	pa_datavolume *dv   = NULL;
	pa_err         err  = PA_ERR_INIT;
	size_t         len  = 0;
	char          *text = fixture_text(name, &len);

	if (pa_datavolume_check(&dv, text, len, name, strict, &err) != PA_OK)
		fail_msg("%s: %s", name, err.msg);
	free(text);
	return dv;
}

static void
test_datavolume__every_fixture_parses_without_warnings(void **state)
{
	static const struct {
		const char *file, *source, *storage_class;
		uint64_t    size;
		int         mode;
		int         preallocation;
	} cases[] = {
		{ "dv-http.yaml", "http", "", 16 * MiB, PA_VOLUME_FILESYSTEM,
		    PA_TRUE },
		{ "dv-registry.yaml", "registry", "fast", 5 * GiB,
		    PA_VOLUME_BLOCK, PA_UNSET },
		{ "dv-blank.yaml", "blank", "", GiB, PA_VOLUME_FILESYSTEM,
		    PA_UNSET },
		{ "dv-snapshot.yaml", "snapshot", "fast", 8 * GiB,
		    PA_VOLUME_FILESYSTEM, PA_UNSET },
		{ "dv-sourceref.yaml", "sourceRef", "", 0, PA_VOLUME_FILESYSTEM,
		    PA_UNSET },
		{ "dv-populator.yaml", "dataSourceRef", "fast", 2 * GiB,
		    PA_VOLUME_FILESYSTEM, PA_UNSET },
		{ "dv-clone.yaml", "pvc", "", 0, PA_VOLUME_FILESYSTEM,
		    PA_UNSET },
		{ "dv-clone-block.yaml", "pvc", "", 0, PA_VOLUME_BLOCK,
		    PA_UNSET },
		{ "dv-clone-empty.yaml", "pvc", "", 0, PA_VOLUME_FILESYSTEM,
		    PA_UNSET },
		{ "dv-every-field.yaml", "http", "fast", 3 * GiB,
		    PA_VOLUME_FILESYSTEM, PA_FALSE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		// Strict too: none of them has a field CDI does not define.
		pa_datavolume *dv = fixture_ok(cases[i].file, true);

		fprintf(stderr, "%s\n", cases[i].file);
		assert_string_equal(dv->source, cases[i].source);
		assert_string_equal(dv->storage_class, cases[i].storage_class);
		assert_int_equal(dv->size, cases[i].size);
		assert_int_equal(dv->volume_mode, cases[i].mode);
		assert_int_equal(dv->preallocation, cases[i].preallocation);
		assert_int_equal(dv->n_warnings, 0);
		pa_datavolume_free(dv);
	}
}

static void
test_datavolume__a_clone_may_leave_the_size_out(void **state)
{
	static const char *const storages[] = {
		"  storage:\n",
		"  storage: {}\n",
		"  storage:\n    volumeMode: Block\n",
		"  storage:\n    resources: {}\n",
		"  storage:\n    resources:\n      requests: {}\n",
		"  storage:\n    resources:\n      limits:\n        storage: "
		"1Gi\n",
	};
	static const char *const sources[] = {
		"  source:\n    pvc:\n      namespace: a\n      name: b\n",
		"  source:\n    snapshot:\n      namespace: a\n      name: b\n",
		"  sourceRef:\n    kind: DataSource\n    name: b\n",
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		for (size_t j = 0; j < sizeof(storages) / sizeof(storages[0]);
		     j++) {
			pa_datavolume *dv;

			snprintf(yaml, sizeof(yaml), HEAD "spec:\n%s%s",
			    sources[i], storages[j]);
			dv = parse_ok(yaml);
			assert_int_equal(dv->size, 0);
			pa_datavolume_free(dv);
		}
}

static void
test_datavolume__only_a_storage_clone_may_leave_the_size_out(void **state)
{
	// CDI's webhook: spec.pvc always needs a size, and so does any
	// source that is not a clone.
	expect_error(HEAD "spec:\n  source:\n    pvc:\n      name: b\n"
	                  "  pvc:\n    accessModes: [ReadWriteOnce]\n",
	    "dv.yaml:10:5: spec.pvc.resources: missing");
	expect_error(HEAD "spec:\n  source:\n    pvc:\n      name: b\n"
	                  "  pvc:\n",
	    "dv.yaml:9:3: spec.pvc.resources: missing");
	expect_error(HEAD SPEC_HTTP "  storage:\n",
	    "dv.yaml:9:3: spec.storage.resources: missing");
	expect_error(HEAD SPEC_HTTP "  storage: {}\n",
	    "dv.yaml:9:12: spec.storage.resources: missing");
	// The present keys still get every check.
	expect_error(HEAD "spec:\n  source:\n    pvc: {}\n  storage:\n"
	                  "    resources:\n      requests:\n"
	                  "        storage: 0\n",
	    "dv.yaml:11:18: spec.storage.resources.requests.storage: must be "
	    "more than 0 bytes");
	expect_error(HEAD "spec:\n  source:\n    pvc: {}\n  storage:\n"
	                  "    resources: 3Gi\n",
	    "dv.yaml:9:16: spec.storage.resources: expected a map, got "
	    "string \"3Gi\"");
	// `storage:` with nothing under it is given: not "missing".
	expect_error(HEAD SPEC_HTTP PVC_10GI "  storage:\n",
	    "dv.yaml:13:3: spec.storage: give spec.pvc or spec.storage, not "
	    "both");
}

static void
test_datavolume__sourceref_is_named_not_resolved(void **state)
{
	pa_datavolume *dv = parse_ok(HEAD "spec:\n  sourceRef:\n"
	                                  "    kind: DataSource\n"
	                                  "    namespace: golden\n"
	                                  "    name: fedora\n" PVC_10GI);

	assert_string_equal(dv->source, "sourceRef");
	assert_int_equal(dv->size, 10 * GiB);
	pa_datavolume_free(dv);
	expect_error(HEAD "spec:\n  sourceRef:\n    kind: PVC\n"
	                  "    name: fedora\n",
	    "dv.yaml:7:11: spec.sourceRef.kind: expected DataSource, got "
	    "\"PVC\"");
	expect_error(HEAD "spec:\n  sourceRef:\n    kind: DataSource\n"
	                  "    name: Fedora\n",
	    "dv.yaml:8:11: spec.sourceRef.name: \"Fedora\" is not a valid "
	    "name: 'F' at position 1 is not allowed (use lowercase letters, "
	    "digits, '-' and '.')");
	expect_error(HEAD SPEC_HTTP "  sourceRef:\n    kind: DataSource\n"
	                            "    name: fedora\n",
	    "dv.yaml:9:3: spec.sourceRef: give spec.source or spec.sourceRef, "
	    "not both");
	expect_error(HEAD "spec:\n  sourceRef: fedora\n",
	    "dv.yaml:6:14: spec.sourceRef: expected a map, got string "
	    "\"fedora\"");
}

static void
test_datavolume__snapshot_source_names_are_checked(void **state)
{
	expect_error(HEAD "spec:\n  source:\n    snapshot:\n"
	                  "      name: Snap_1\n" PVC_10GI,
	    "dv.yaml:8:13: spec.source.snapshot.name: \"Snap_1\" is not a "
	    "valid name: 'S' at position 1 is not allowed (use lowercase "
	    "letters, digits, '-' and '.')");
	expect_error(HEAD "spec:\n  source:\n    snapshot: snap\n" PVC_10GI,
	    "dv.yaml:7:15: spec.source.snapshot: expected a map, got string "
	    "\"snap\"");
}

static void
test_datavolume__an_external_populator_needs_no_source(void **state)
{
	pa_datavolume *dv = parse_ok(HEAD "spec:\n  pvc:\n"
	                                  "    dataSource:\n"
	                                  "      kind: PersistentVolumeClaim\n"
	                                  "      name: src\n"
	                                  "    resources:\n"
	                                  "      requests:\n"
	                                  "        storage: 1Gi\n");

	assert_string_equal(dv->source, "dataSource");
	pa_datavolume_free(dv);
	expect_error(HEAD SPEC_HTTP "  storage:\n    dataSourceRef:\n"
	                            "      kind: X\n      name: y\n",
	    "dv.yaml:6:3: spec: an external populator (dataSourceRef in the "
	    "claim) takes no spec.source or spec.sourceRef");
	expect_error(HEAD "spec:\n  storage:\n    dataSourceRef:\n"
	                  "      name: y\n",
	    "dv.yaml:8:7: spec.storage.dataSourceRef.kind: missing");
	// The size is the claim's, as for any source that is not a clone.
	expect_error(HEAD "spec:\n  storage:\n    dataSourceRef:\n"
	                  "      kind: X\n      name: y\n",
	    "dv.yaml:7:5: spec.storage.resources: missing");
}

static void
test_datavolume__unknown_fields_warn_with_positions(void **state)
{
	static const char yaml[] =
	    HEAD "colour: blue\n"                        // 5
	         "spec:\n"                               // 6
	         "  prealocation: true\n"                // 7
	         "  source:\n"                           // 8
	         "    http:\n"                           // 9
	         "      url: http://example.com/a.img\n" // 10
	         "      uri: http://example.com/b.img\n" // 11
	         "  storage:\n"                          // 12
	         "    storageClass: fast\n"              // 13
	         "    resources:\n"                      // 14
	         "      request:\n"                      // 15
	         "        storage: 1Gi\n"                // 16
	         "      requests:\n"                     // 17
	         "        storage: 1Gi\n";               // 18
	pa_datavolume *dv  = NULL;
	pa_err         err = PA_ERR_INIT;

	assert_int_equal(pa_datavolume_check(
	                     &dv, yaml, strlen(yaml), "dv.yaml", false, &err),
	    PA_OK);
	assert_int_equal(dv->n_warnings, 5);
	assert_string_equal(
	    dv->warnings[0], "dv.yaml:5:1: unknown field colour (ignored)");
	assert_string_equal(dv->warnings[1],
	    "dv.yaml:7:3: unknown field spec.prealocation (ignored)");
	assert_string_equal(dv->warnings[2],
	    "dv.yaml:11:7: unknown field spec.source.http.uri (ignored)");
	assert_string_equal(dv->warnings[3],
	    "dv.yaml:13:5: unknown field spec.storage.storageClass "
	    "(ignored)");
	assert_string_equal(dv->warnings[4],
	    "dv.yaml:15:7: unknown field spec.storage.resources.request "
	    "(ignored)");
	// The typo is not read: preallocation stays unset.
	assert_int_equal(dv->preallocation, PA_UNSET);
	pa_datavolume_free(dv);
	// pa_datavolume_parse() is the same, not strict.
	dv = parse_ok(yaml);
	assert_int_equal(dv->n_warnings, 5);
	pa_datavolume_free(dv);
}

static void
test_datavolume__strict_makes_the_first_unknown_field_an_error(void **state)
{
	pa_datavolume *dv   = NULL;
	pa_err         err  = PA_ERR_INIT;
	size_t         len  = 0;
	char          *text = fixture_text("dv-typo.yaml", &len);

	assert_int_equal(
	    pa_datavolume_check(&dv, text, len, "dv-typo.yaml", true, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(dv);
	assert_string_equal(
	    err.msg, "dv-typo.yaml:7:3: unknown field spec.prealocation");
	// Not strict: it parses, with the warning.
	assert_int_equal(
	    pa_datavolume_check(&dv, text, len, "dv-typo.yaml", false, &err),
	    PA_OK);
	assert_int_equal(dv->n_warnings, 1);
	assert_string_equal(dv->warnings[0],
	    "dv-typo.yaml:7:3: unknown field spec.prealocation (ignored)");
	pa_datavolume_free(dv);
	free(text);
	// The claim and a source's fields too.
	assert_int_equal(
	    pa_datavolume_check(&dv, HEAD SPEC_HTTP PVC_10GI "    size: 1\n",
	        strlen(HEAD SPEC_HTTP PVC_10GI "    size: 1\n"), "dv.yaml",
	        true, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "dv.yaml:13:5: unknown field spec.pvc.size");
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
		cmocka_unit_test(
		    test_datavolume__every_fixture_parses_without_warnings),
		cmocka_unit_test(
		    test_datavolume__a_clone_may_leave_the_size_out),
		cmocka_unit_test(
		    test_datavolume__only_a_storage_clone_may_leave_the_size_out),
		cmocka_unit_test(
		    test_datavolume__sourceref_is_named_not_resolved),
		cmocka_unit_test(
		    test_datavolume__snapshot_source_names_are_checked),
		cmocka_unit_test(
		    test_datavolume__an_external_populator_needs_no_source),
		cmocka_unit_test(
		    test_datavolume__unknown_fields_warn_with_positions),
		cmocka_unit_test(
		    test_datavolume__strict_makes_the_first_unknown_field_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
