// SPDX-License-Identifier: Apache-2.0
// ctl_datavolume_test.c: preallocctl resolve and provision on every shape
// of DataVolume CDI admits (tests/fixtures/cdi), typed as a user types
// them, from the fixtures' directory, against the real prealloc-policyd
// and prealloc-agentd: snapshot, sourceRef and populator manifests
// resolve; a typo warns with file:line:column and --strict refuses it; a
// clone with no size takes it from its volume, and says so.
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "loopfs.h"
#include "ctltest.h"
#include "testlib.h"

// Exact sizes: a tmpfs's statvfs is its size= to the byte.
#define TMPFS_SIZE (64 * MiB)
#define DEV_SIZE (32 * MiB)

static const char *config_yaml = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                                 "kind: CDIConfig\n"
                                 "metadata:\n"
                                 "  name: config\n"
                                 "spec:\n"
                                 "  preallocation:\n"
                                 "    global: false\n"
                                 "    storageClass:\n"
                                 "      fast: true\n"
                                 "  filesystemOverhead:\n"
                                 "    global: \"0.06\"\n";

typedef struct fixture {
	char          *dir;
	char           fixtures[600]; // tests/fixtures/cdi: where we type
	struct loopfs *tmpfs, *dev;
	char           policy_url[600], agent_url[600];
	char           urls[1300]; // "--policy URL --agent URL"
	char           bin[600];
	testlib_daemon policyd, agentd;
	int            n; // files made so far, for unique names
} fixture;

static fixture fx;

/**
 * Run `cd tests/fixtures/cdi && preallocctl <urls> <args>`. Its stdout
 * comes back in *out and its stderr in *err (both malloc'd; may be NULL).
 * @return its exit status.
 */
static int __attribute__((format(printf, 3, 4)))
run(char **out, char **err, const char *fmt, ...)
{
	char    args[2048], errfile[700];
	char   *o = NULL, *e = NULL;
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(errfile, sizeof(errfile), "%s/%d-stderr", fx.dir, fx.n++);
	st = testlib_capture(&o, "cd '%s' && '%s' %s %s 2>'%s'", fx.fixtures,
	    fx.bin, fx.urls, args, errfile);
	if (testlib_capture(&e, "cat '%s'", errfile) < 0)
		fail_msg("cannot read %s", errfile);
	fprintf(stderr, "$ preallocctl %s -> %d\n%s", args, st, e);
	unlink(errfile);
	if (out != NULL)
		*out = o;
	else
		free(o);
	if (err != NULL)
		*err = e;
	else
		free(e);
	return st;
}

// A fresh directory on the tmpfs, for one Filesystem volume.
static void
volume_dir(char *path, size_t size)
{
	char name[32], *p;

	snprintf(name, sizeof(name), "vol%d", fx.n++);
	p = loopfs_path(fx.tmpfs, name);
	snprintf(path, size, "%s", p);
	free(p);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int
start_daemons(fixture *f)
{
	char  config[600], plog[600], alog[600];
	char *pargv[] = { (char *) NULL, "--config", config, "--listen",
		f->policy_url, "--http", "none", NULL };
	char *aargv[] = { (char *) NULL, "--root", f->tmpfs->mnt,
		"--device-allow", f->dev->dev, "--listen", f->agent_url,
		"--http", "none", NULL };
	int   rc      = 0;

	snprintf(config, sizeof(config), "%s/cdiconfig.yaml", f->dir);
	snprintf(plog, sizeof(plog), "%s/policyd.log", f->dir);
	snprintf(alog, sizeof(alog), "%s/agentd.log", f->dir);
	testlib_write_text(config, config_yaml);
	pargv[0] = strdup(testlib_built("service/prealloc-policyd"));
	aargv[0] = strdup(testlib_built("agent/prealloc-agentd"));
	if (testlib_daemon_start(&f->policyd, plog, "policyd.ready", pargv) ||
	    testlib_daemon_start(&f->agentd, alog, "agentd.ready", aargv))
		rc = -1;
	free(pargv[0]);
	free(aargv[0]);
	return rc;
}

static int
group_setup(void **state)
{
	fixture    *f   = &fx;
	const char *src = getenv("PREALLOC_SOURCE_DIR");
	char        why[256];

	f->dir = testlib_tmpdir("ctl_datavolume_it");
	snprintf(f->fixtures, sizeof(f->fixtures), "%s/tests/fixtures/cdi",
	    src != NULL ? src : ".");
	snprintf(f->bin, sizeof(f->bin), "%s",
	    testlib_built("clients/preallocctl/preallocctl"));
	snprintf(f->policy_url, sizeof(f->policy_url), "ipc://%s/policy.sock",
	    f->dir);
	snprintf(
	    f->agent_url, sizeof(f->agent_url), "ipc://%s/agent.sock", f->dir);
	if (snprintf(f->urls, sizeof(f->urls), "--policy '%s' --agent '%s'",
	        f->policy_url, f->agent_url) >= (int) sizeof(f->urls))
		return -1;
	if (loopfs_new(&f->tmpfs, why, "tmpfs", TMPFS_SIZE) != LOOPFS_OK ||
	    loopfs_new(&f->dev, why, NULL, DEV_SIZE) != LOOPFS_OK)
		return -1; // main() checked that both work here
	if (start_daemons(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	fixture *f = &fx;

	if (f->agentd.pid > 0)
		testlib_daemon_stop(&f->agentd);
	if (f->policyd.pid > 0)
		testlib_daemon_stop(&f->policyd);
	loopfs_free(f->tmpfs);
	loopfs_free(f->dev);
	testlib_rm_rf(f->dir);
	free(f->dir);
	return 0;
}

/* ---- resolve ---------------------------------------------------------- */

static void
test_ctl_datavolume__resolve_answers_for_every_shape_cdi_admits(void **state)
{
	static const struct {
		const char *file, *decided_by;
		bool        preallocate;
	} cases[] = {
		{ "dv-snapshot.yaml", "storageClass", true },
		{ "dv-sourceref.yaml", "global", false },
		{ "dv-populator.yaml", "storageClass", true },
		{ "dv-clone.yaml", "global", false },
		{ "dv-clone-block.yaml", "global", false },
		{ "dv-clone-empty.yaml", "global", false },
		{ "dv-http.yaml", "dataVolume", true },
		{ "dv-registry.yaml", "storageClass", true },
		{ "dv-blank.yaml", "global", false },
		{ "dv-every-field.yaml", "dataVolume", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char   *out = NULL, *err = NULL;
		json_t *root;

		assert_int_equal(
		    run(&out, &err, "resolve -f %s -o json", cases[i].file), 0);
		root = ctltest_json(out);
		assert_string_equal(
		    ctltest_json_str(root, "decidedBy"), cases[i].decided_by);
		assert_int_equal(
		    json_is_true(json_object_get(root, "preallocation")),
		    cases[i].preallocate);
		// CDI defines every field these use: not one warning.
		assert_string_equal(err, "");
		json_decref(root);
		free(out);
		free(err);
	}
}

static void
test_ctl_datavolume__no_source_at_all_is_a_clear_error(void **state)
{
	char  path[700], *err = NULL;
	char *out = NULL;

	snprintf(path, sizeof(path), "%s/no-source.yaml", fx.dir);
	testlib_write_text(path,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: DataVolume\n"
	    "metadata:\n"
	    "  name: nothing\n"
	    "spec:\n"
	    "  storage:\n"
	    "    resources:\n"
	    "      requests:\n"
	    "        storage: 1Gi\n");
	assert_int_equal(run(&out, &err, "resolve -f '%s'", path), 1);
	ctltest_assert_has(err,
	    "no-source.yaml:6:3: spec.source: missing (give "
	    "spec.source, spec.sourceRef, or a dataSourceRef under "
	    "spec.storage or spec.pvc)");
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void
test_ctl_datavolume__a_typo_warns_and_strict_refuses_it(void **state)
{
	char   *out = NULL, *err = NULL;
	json_t *root, *doc;

	// Not strict: the answer, and the warning naming line and column.
	assert_int_equal(run(&out, &err, "resolve -f dv-typo.yaml -o json"), 0);
	ctltest_assert_has(err,
	    "dv-typo.yaml:7:3: unknown field spec.prealocation "
	    "(ignored)");
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "decidedBy"), "global");
	json_decref(root);
	free(out);
	free(err);
	// Strict: an error, exit 1, and under -o json only the error
	// object on stdout, with the field's position.
	assert_int_equal(
	    run(&out, &err, "resolve -f dv-typo.yaml --strict -o json"), 1);
	ctltest_assert_has(err,
	    "dv-typo.yaml:7:3: unknown field spec.prealocation "
	    "(INVALID_ARGUMENT)");
	doc  = ctltest_json(out);
	root = json_object_get(doc, "error");
	assert_non_null(root);
	assert_string_equal(ctltest_json_str(root, "code"), "INVALID_ARGUMENT");
	assert_string_equal(ctltest_json_str(root, "file"), "dv-typo.yaml");
	assert_int_equal(json_integer_value(json_object_get(root, "line")), 7);
	assert_int_equal(
	    json_integer_value(json_object_get(root, "column")), 3);
	assert_null(json_object_get(doc, "decidedBy"));
	json_decref(doc);
	free(out);
	free(err);
	// provision takes --strict too, and refuses before touching anything.
	assert_int_equal(run(&out, &err,
	                     "provision -f dv-typo.yaml --strict --volume "
	                     "'%s'",
	                     fx.tmpfs->mnt),
	    1);
	ctltest_assert_has(
	    err, "dv-typo.yaml:7:3: unknown field spec.prealocation");
	free(out);
	free(err);
	// --strict checks a manifest: without -f it is a usage error.
	assert_int_equal(run(&out, &err, "resolve --strict"), 2);
	ctltest_assert_has(err, "--strict checks a DataVolume; give -f");
	free(out);
	free(err);
	// A known field is never a warning, strict or not.
	assert_int_equal(
	    run(&out, &err, "resolve -f dv-every-field.yaml --strict"), 0);
	assert_string_equal(err, "");
	free(out);
	free(err);
}

/* ---- provision -------------------------------------------------------- */

static void
test_ctl_datavolume__clone_without_size_takes_the_filesystems(void **state)
{
	char    vol[600], *out = NULL;
	json_t *root, *ann;

	volume_dir(vol, sizeof(vol));
	assert_int_equal(
	    run(&out, NULL, "provision -f dv-clone.yaml --volume '%s' -o json",
	        vol),
	    0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "sizeSource"), "volume");
	assert_int_equal(ctltest_json_int(root, "capacity"), TMPFS_SIZE);
	// floor(64 MiB / 1.06) rounded down to 1 MiB: 60 MiB.
	assert_int_equal(ctltest_json_int(root, "targetSize"), 60 * MiB);
	assert_true(json_is_false(json_object_get(root, "preallocated")));
	ann = json_object_get(root, "annotations");
	assert_string_equal(
	    ctltest_json_str(
	        ann, "cdi.kubevirt.io/storage.preallocation.requested"),
	    "false");
	assert_null(
	    json_object_get(ann, "cdi.kubevirt.io/storage.preallocation"));
	assert_null(
	    json_object_get(json_object_get(root, "dataVolume"), "size"));
	assert_int_equal(testlib_file_size(ctltest_json_str(root, "target")),
	    (int64_t) (60 * MiB));
	json_decref(root);
	free(out);
	// The table says it too.
	volume_dir(vol, sizeof(vol));
	assert_int_equal(
	    run(&out, NULL, "provision -f dv-clone-empty.yaml --volume '%s'",
	        vol),
	    0);
	ctltest_assert_has(out, "Size Source:");
	ctltest_assert_has(out, "volume");
	ctltest_assert_has(
	    out, "cdi.kubevirt.io/storage.preallocation.requested: \"false\"");
	free(out);
}

static void
test_ctl_datavolume__clone_block_without_size_takes_the_devices(void **state)
{
	char   *out = NULL;
	json_t *root;

	assert_int_equal(run(&out, NULL,
	                     "provision -f dv-clone-block.yaml --volume '%s' "
	                     "-o json",
	                     fx.dev->dev),
	    0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "sizeSource"), "volume");
	assert_int_equal(ctltest_json_int(root, "capacity"), DEV_SIZE);
	assert_int_equal(ctltest_json_int(root, "targetSize"), DEV_SIZE);
	json_decref(root);
	free(out);
}

static void
test_ctl_datavolume__a_size_in_the_manifest_is_the_manifests(void **state)
{
	char    vol[600], *out = NULL;
	json_t *root, *ann;

	// dv-http.yaml asks for preallocation itself: the decision, and so
	// requested, is "true".
	volume_dir(vol, sizeof(vol));
	assert_int_equal(
	    run(&out, NULL, "provision -f dv-http.yaml --volume '%s' -o yaml",
	        vol),
	    0);
	ctltest_assert_has(out, "sizeSource: manifest");
	free(out);
	volume_dir(vol, sizeof(vol));
	assert_int_equal(
	    run(&out, NULL, "provision -f dv-http.yaml --volume '%s' -o json",
	        vol),
	    0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "sizeSource"), "manifest");
	assert_int_equal(ctltest_json_int(root, "capacity"), 16 * MiB);
	assert_true(json_is_true(json_object_get(root, "preallocated")));
	ann = json_object_get(root, "annotations");
	assert_string_equal(
	    ctltest_json_str(ann, "cdi.kubevirt.io/storage.preallocation"),
	    "true");
	assert_string_equal(
	    ctltest_json_str(
	        ann, "cdi.kubevirt.io/storage.preallocation.requested"),
	    "true");
	json_decref(root);
	free(out);
}

static void
test_ctl_datavolume__no_size_anywhere_is_a_clear_error(void **state)
{
	char *out = NULL, *err = NULL;

	// procfs reports no blocks at all: the volume has no size either.
	assert_int_equal(
	    run(&out, &err, "provision -f dv-clone.yaml --volume /proc"), 1);
	ctltest_assert_has(err,
	    "no size: the DataVolume gives no "
	    "resources.requests.storage and the filesystem under "
	    "/proc reports 0 bytes");
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ctl_datavolume__resolve_answers_for_every_shape_cdi_admits),
		cmocka_unit_test(
		    test_ctl_datavolume__no_source_at_all_is_a_clear_error),
		cmocka_unit_test(
		    test_ctl_datavolume__a_typo_warns_and_strict_refuses_it),
		cmocka_unit_test(
		    test_ctl_datavolume__clone_without_size_takes_the_filesystems),
		cmocka_unit_test(
		    test_ctl_datavolume__clone_block_without_size_takes_the_devices),
		cmocka_unit_test(
		    test_ctl_datavolume__a_size_in_the_manifest_is_the_manifests),
		cmocka_unit_test(
		    test_ctl_datavolume__no_size_anywhere_is_a_clear_error),
	};
	struct loopfs *lf = NULL;
	char           why[256];
	int            failed;

	if (access(testlib_built("clients/preallocctl/preallocctl"), X_OK) ||
	    access(testlib_built("agent/prealloc-agentd"), X_OK))
		testlib_skip_all("preallocctl or prealloc-agentd not built");
	// A machine without loop devices or tmpfs skips the file, visibly.
	if (loopfs_new(&lf, why, NULL, MiB) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	if (loopfs_new(&lf, why, "tmpfs", MiB) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
	return loopfs_exit_status(failed);
}
