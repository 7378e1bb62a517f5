// SPDX-License-Identifier: Apache-2.0
// preallocctl_test.c: the real preallocctl binary against the real
// prealloc-policyd and prealloc-agentd, on a loop ext4 and a loop block
// device: every command, the three output formats, the progress bar,
// Ctrl-C, and the exit codes.
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "daemon.h"
#include "dvtest.h"
#include "loopfs.h"
#include "ctltest.h"
#include "testlib.h"

// Big enough that a full write of most of it outlasts a Ctrl-C.
#define FS_SIZE (4 * GiB)
#define DEV_SIZE (64 * MiB)
#define BIG_SIZE "3Gi"

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
	struct loopfs *ext4, *dev;
	char           policy_url[600], agent_url[600];
	char           urls[1300]; // "--policy URL --agent URL"
	char           bin[600];
	testlib_daemon policyd, agentd;
	int            n; // files made so far, for unique names
} fixture;

static fixture fx;

// A fresh name in the test's directory: "<dir>/<n>-<tag>".
static void
fresh(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "%s/%d-%s", fx.dir, fx.n++, tag);
}

/**
 * Run `preallocctl <args>`; @p args is a shell fragment. Its stdout comes
 * back in *out and its stderr in *err (both malloc'd, may be NULL).
 * @return its exit status.
 */
static int __attribute__((format(printf, 3, 4)))
run(char **out, char **err, const char *fmt, ...)
{
	char    args[2048], errfile[700];
	char   *o = NULL;
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	fresh(errfile, sizeof(errfile), "stderr");
	st = testlib_capture(&o, "'%s' %s 2>'%s'", fx.bin, args, errfile);
	fprintf(stderr, "$ preallocctl %s -> %d\n", args, st);
	if (out != NULL)
		*out = o;
	else
		free(o);
	if (err != NULL)
		*err = ctltest_slurp(errfile);
	unlink(errfile);
	return st;
}

/**
 * Parse @p text as YAML with libyaml, event by event.
 * @return the scalar right after the key scalar @p key (malloc'd), with
 *         its style in @p style; fails the test on a parse error or when
 *         the key is missing.
 */
static char *
yaml_value(const char *text, const char *key, yaml_scalar_style_t *style)
{
	yaml_parser_t parser;
	yaml_event_t  ev;
	bool          next = false, end = false;
	char         *found = NULL;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *) text, strlen(text));
	while (!end) {
		if (!yaml_parser_parse(&parser, &ev))
			fail_msg("not YAML: %s\n%s", parser.problem, text);
		end = ev.type == YAML_STREAM_END_EVENT;
		if (ev.type == YAML_SCALAR_EVENT) {
			const char *v = (const char *) ev.data.scalar.value;

			if (next && found == NULL) {
				found  = strdup(v);
				*style = ev.data.scalar.style;
			}
			next = strcmp(v, key) == 0;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (found == NULL)
		fail_msg("no \"%s\" in:\n%s", key, text);
	return found;
}

// A DataVolume file; see dvtest_spec.
static void
write_dv(char *path, size_t size, const char *pre, const char *sc,
    const char *qty, const char *mode)
{
	dvtest_spec spec = { "http", pre, sc, qty, mode, "pvc" };
	char        yaml[1024];

	fresh(path, size, "dv.yaml");
	testlib_write_text(path, dvtest_yaml(yaml, sizeof(yaml), &spec));
}

// A fresh directory for one volume on the ext4.
static void
volume_dir(char *path, size_t size)
{
	char name[32], *p;

	snprintf(name, sizeof(name), "vol%d", fx.n++);
	p = loopfs_path(fx.ext4, name);
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
	char *aargv[] = { (char *) NULL, "--root", f->ext4->mnt,
		"--device-allow", f->dev->dev, "--listen", f->agent_url,
		"--http", "none", "--max-write-rate", "1Gi", NULL };
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
	fixture *f = &fx;
	char     why[256];

	f->dir = testlib_tmpdir("preallocctl_it");
	snprintf(f->bin, sizeof(f->bin), "%s",
	    testlib_built("clients/preallocctl/preallocctl"));
	snprintf(f->policy_url, sizeof(f->policy_url), "ipc://%s/policy.sock",
	    f->dir);
	snprintf(
	    f->agent_url, sizeof(f->agent_url), "ipc://%s/agent.sock", f->dir);
	if (snprintf(f->urls, sizeof(f->urls), "--policy '%s' --agent '%s'",
	        f->policy_url, f->agent_url) >= (int) sizeof(f->urls))
		return -1;
	if (loopfs_new(&f->ext4, why, "ext4", FS_SIZE) != LOOPFS_OK ||
	    loopfs_new(&f->dev, why, NULL, DEV_SIZE) != LOOPFS_OK)
		return -1; // main() checked that loop devices work
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
	loopfs_free(f->ext4);
	loopfs_free(f->dev);
	testlib_rm_rf(f->dir);
	free(f->dir);
	return 0;
}

/* ---- resolve and the output formats ---------------------------------- */

static void
test_preallocctl__resolve_prints_a_table_by_default(void **state)
{
	char *out = NULL;

	assert_int_equal(run(&out, NULL, "%s resolve", fx.urls), 0);
	ctltest_assert_has(out, "Decided By:");
	ctltest_assert_has(out, "global");
	free(out);
	assert_int_equal(
	    run(&out, NULL, "%s resolve --storage-class fast", fx.urls), 0);
	ctltest_assert_has(out, "storageClass");
	free(out);
}

static void
test_preallocctl__resolve_json_has_lower_camel_case_keys(void **state)
{
	char   *out = NULL;
	json_t *root;

	assert_int_equal(run(&out, NULL,
	                     "%s -o json resolve --storage-class fast "
	                     "--preallocation false",
	                     fx.urls),
	    0);
	root = ctltest_json(out);
	assert_true(json_is_false(json_object_get(root, "preallocation")));
	assert_string_equal(ctltest_json_str(root, "decidedBy"), "dataVolume");
	assert_string_equal(
	    ctltest_json_str(root, "filesystemOverhead"), "0.06");
	assert_string_equal(ctltest_json_str(root, "storageClass"), "fast");
	assert_true(json_is_integer(json_object_get(root, "generation")));
	json_decref(root);
	free(out);
}

static void
test_preallocctl__resolve_yaml_parses_with_libyaml(void **state)
{
	char               *out   = NULL, *v;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	assert_int_equal(
	    run(&out, NULL, "%s -o yaml resolve -s fast", fx.urls), 0);
	v = yaml_value(out, "decidedBy", &style);
	assert_string_equal(v, "storageClass");
	free(v);
	// A string that looks like a number stays a string.
	v = yaml_value(out, "filesystemOverhead", &style);
	assert_string_equal(v, "0.06");
	assert_int_not_equal(style, YAML_PLAIN_SCALAR_STYLE);
	free(v);
	free(out);
}

static void
test_preallocctl__resolve_reads_a_datavolume_file(void **state)
{
	char    dv[700], *out = NULL;
	json_t *root;

	write_dv(dv, sizeof(dv), "true", "", "1Gi", "Filesystem");
	assert_int_equal(
	    run(&out, NULL, "%s -o json resolve -f '%s'", fx.urls, dv), 0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "decidedBy"), "dataVolume");
	assert_string_equal(ctltest_json_str(root, "dataVolume"), "dv-http");
	json_decref(root);
	free(out);
}

static void
test_preallocctl__bad_datavolume_file_names_its_position(void **state)
{
	char dv[700], bad[700], *err = NULL;

	fresh(bad, sizeof(bad), "bad.yaml");
	testlib_write_text(bad,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: DataVolume\n"
	    "spec: [\n");
	assert_int_equal(
	    run(NULL, &err, "%s resolve -f '%s'", fx.urls, bad), 1);
	ctltest_assert_has(err, "bad.yaml:4:");
	ctltest_assert_has(err, "(INVALID_ARGUMENT)");
	free(err);
	// A quantity that is not one: named with its line.
	write_dv(dv, sizeof(dv), "", "", "10Qi", "Filesystem");
	assert_int_equal(
	    run(NULL, &err, "%s provision -f '%s' --volume /tmp", fx.urls, dv),
	    1);
	ctltest_assert_has(err, "dv.yaml:");
	ctltest_assert_has(err, "10Qi");
	free(err);
}

static void
test_preallocctl__global_options_go_after_the_command(void **state)
{
	char               *out = NULL, *err = NULL, *v;
	json_t             *root;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	// As kubectl: -o and the URLs after the command and its flags.
	assert_int_equal(
	    run(&out, NULL, "resolve --storage-class fast %s -o json", fx.urls),
	    0);
	root = ctltest_json(out);
	assert_string_equal(
	    ctltest_json_str(root, "decidedBy"), "storageClass");
	assert_string_equal(ctltest_json_str(root, "storageClass"), "fast");
	json_decref(root);
	free(out);
	assert_int_equal(run(&out, NULL, "jobs -o json %s", fx.urls), 0);
	root = ctltest_json(out);
	assert_true(json_is_array(json_object_get(root, "jobs")));
	json_decref(root);
	free(out);
	assert_int_equal(
	    run(&out, NULL, "resolve %s -s fast -o yaml", fx.urls), 0);
	v = yaml_value(out, "decidedBy", &style);
	assert_string_equal(v, "storageClass");
	free(v);
	free(out);
	assert_int_equal(
	    run(&out, NULL, "config get --output=json %s", fx.urls), 0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "kind"), "CDIConfig");
	json_decref(root);
	free(out);
	// After "--" a word is an argument: the agent gets "-o" as a path.
	assert_int_equal(run(NULL, &err, "probe %s -- -o", fx.urls), 1);
	ctltest_assert_has(err, "-o");
	assert_null(strstr(err, "unknown option"));
	free(err);
	assert_int_equal(run(NULL, &err, "probe %s -- /x -o json", fx.urls), 2);
	ctltest_assert_has(err, "unexpected argument '-o'");
	free(err);
}

static void
test_preallocctl__dash_f_dash_reads_standard_input(void **state)
{
	char    dv[700], bad[700], dir[700], cfg[700], *out = NULL, *err = NULL;
	json_t *root;

	write_dv(dv, sizeof(dv), "true", "", "16Mi", "Filesystem");
	assert_int_equal(
	    run(&out, NULL, "resolve -f - %s -o json <'%s'", fx.urls, dv), 0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "decidedBy"), "dataVolume");
	assert_string_equal(ctltest_json_str(root, "dataVolume"), "dv-http");
	json_decref(root);
	free(out);
	volume_dir(dir, sizeof(dir));
	assert_int_equal(
	    run(&out, NULL, "provision -f - --volume '%s' %s -o json <'%s'",
	        dir, fx.urls, dv),
	    0);
	root = ctltest_json(out);
	assert_true(json_is_true(json_object_get(root, "preallocated")));
	assert_string_equal(
	    ctltest_json_str(json_object_get(root, "dataVolume"), "name"),
	    "dv-http");
	json_decref(root);
	free(out);
	// A broken one is named "<stdin>", with its line and column.
	fresh(bad, sizeof(bad), "bad.yaml");
	testlib_write_text(bad,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: DataVolume\n"
	    "spec: [\n");
	assert_int_equal(
	    run(NULL, &err, "resolve %s -f - <'%s'", fx.urls, bad), 1);
	ctltest_assert_has(err, "preallocctl: <stdin>:4:1: ");
	ctltest_assert_has(err, "(INVALID_ARGUMENT)");
	free(err);
	assert_int_equal(
	    run(NULL, &err, "provision -f - --volume '%s' %s <'%s'", dir,
	        fx.urls, bad),
	    1);
	ctltest_assert_has(err, "preallocctl: <stdin>:4:1: ");
	free(err);
	// config check and apply read FILE '-' the same way.
	fresh(cfg, sizeof(cfg), "cfg.yaml");
	testlib_write_text(cfg, config_yaml);
	assert_int_equal(
	    run(&out, NULL, "config check - -o json <'%s'", cfg), 0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "file"), "<stdin>");
	assert_true(json_is_true(json_object_get(root, "valid")));
	json_decref(root);
	free(out);
	assert_int_equal(run(NULL, &err, "config check - <'%s'", bad), 1);
	ctltest_assert_has(err, "preallocctl: <stdin>:");
	free(err);
	assert_int_equal(
	    run(&out, NULL, "config apply - %s -o json <'%s'", fx.urls, cfg),
	    0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "file"), "<stdin>");
	assert_true(json_is_true(json_object_get(root, "applied")));
	json_decref(root);
	free(out);
}

/* ---- config ---------------------------------------------------------- */

static void
test_preallocctl__config_get_shows_a_cdiconfig(void **state)
{
	char               *out = NULL, *v;
	json_t             *root, *spec;
	yaml_scalar_style_t style;

	assert_int_equal(run(&out, NULL, "%s -o json config get", fx.urls), 0);
	root = ctltest_json(out);
	assert_string_equal(ctltest_json_str(root, "kind"), "CDIConfig");
	spec = json_object_get(root, "spec");
	assert_true(json_is_true(json_object_get(
	    json_object_get(
	        json_object_get(spec, "preallocation"), "storageClass"),
	    "fast")));
	assert_true(json_is_true(
	    json_object_get(json_object_get(root, "status"), "fromFile")));
	json_decref(root);
	free(out);
	assert_int_equal(run(&out, NULL, "%s -o yaml config get", fx.urls), 0);
	v = yaml_value(out, "kind", &style);
	assert_string_equal(v, "CDIConfig");
	free(v);
	free(out);
	assert_int_equal(run(&out, NULL, "%s config get", fx.urls), 0);
	ctltest_assert_has(out, "Storage Classes:");
	ctltest_assert_has(out, "fast");
	free(out);
}

static void
test_preallocctl__config_check_works_with_no_daemon(void **state)
{
	const char *nowhere = "--timeout 1s --policy ipc:///nonexistent/p "
	                      "--agent ipc:///nonexistent/a";
	char        good[700], bad[700], typo[700], *out = NULL, *err = NULL;

	fresh(good, sizeof(good), "good.yaml");
	testlib_write_text(good, config_yaml);
	assert_int_equal(
	    run(&out, NULL, "%s config check '%s'", nowhere, good), 0);
	ctltest_assert_has(out, "Valid:");
	free(out);
	fresh(bad, sizeof(bad), "bad.yaml");
	testlib_write_text(bad,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "metadata:\n"
	    "  name: config\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: maybe\n");
	assert_int_equal(
	    run(NULL, &err, "%s config check '%s'", nowhere, bad), 1);
	ctltest_assert_has(err, "bad.yaml:7:");
	ctltest_assert_has(err, "(INVALID_ARGUMENT)");
	free(err);
	// An unknown field warns; with --strict it is an error.
	fresh(typo, sizeof(typo), "typo.yaml");
	testlib_write_text(typo,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "metadata:\n"
	    "  name: config\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    globl: true\n");
	assert_int_equal(
	    run(&out, NULL, "%s -o json config check '%s'", nowhere, typo), 0);
	ctltest_assert_has(out, "globl");
	free(out);
	assert_int_equal(
	    run(NULL, &err, "%s config check --strict '%s'", nowhere, typo), 1);
	ctltest_assert_has(err, "typo.yaml:7:");
	free(err);
}

// Provision a Filesystem volume of storage class gold: the decision.
static json_t *
provision_gold(const char *dv)
{
	char    dir[700], *out = NULL;
	json_t *root;

	volume_dir(dir, sizeof(dir));
	assert_int_equal(run(&out, NULL,
	                     "%s -o json provision -f '%s' "
	                     "--volume '%s'",
	                     fx.urls, dv, dir),
	    0);
	root = ctltest_json(out);
	free(out);
	return root;
}

static void
test_preallocctl__config_apply_changes_the_next_decision(void **state)
{
	char    dv[700], cfg[700], yaml[1024], *out = NULL, *err = NULL, *tail;
	json_t *r, *d;
	json_int_t gen0;

	write_dv(dv, sizeof(dv), "", "gold", "64Mi", "Filesystem");
	r = provision_gold(dv);
	d = json_object_get(r, "decision");
	assert_string_equal(ctltest_json_str(d, "decidedBy"), "global");
	assert_true(json_is_false(json_object_get(r, "preallocated")));
	// Not preallocated: no storage.preallocation annotation; the
	// .requested one CDI sets on every PVC says the decision: false.
	assert_null(json_object_get(json_object_get(r, "annotations"),
	    "cdi.kubevirt.io/storage.preallocation"));
	assert_string_equal(ctltest_json_str(json_object_get(r, "annotations"),
	                        "cdi.kubevirt.io/storage.preallocation."
	                        "requested"),
	    "false");
	gen0 = json_integer_value(json_object_get(d, "generation"));
	json_decref(r);

	// The same config with one more class, so later tests see fast too.
	snprintf(yaml, sizeof(yaml), "%s", config_yaml);
	tail =
	    strstr(yaml, "      fast: true\n") + strlen("      fast: true\n");
	snprintf(tail, sizeof(yaml) - (size_t) (tail - yaml),
	    "      gold: true\n%s",
	    strstr(config_yaml, "  filesystemOverhead:"));
	fresh(cfg, sizeof(cfg), "gold.yaml");
	testlib_write_text(cfg, yaml);
	assert_int_equal(
	    run(&out, NULL, "%s config apply '%s' --generation %lld --strict",
	        fx.urls, cfg, (long long) gen0),
	    0);
	ctltest_assert_has(out, "Generation:");
	free(out);
	// The generation has moved on: the same apply is refused.
	assert_int_equal(
	    run(NULL, &err, "%s config apply '%s' --generation %lld", fx.urls,
	        cfg, (long long) gen0),
	    1);
	ctltest_assert_has(err, "(ABORTED)");
	free(err);

	r = provision_gold(dv);
	d = json_object_get(r, "decision");
	assert_string_equal(ctltest_json_str(d, "decidedBy"), "storageClass");
	assert_true(
	    json_integer_value(json_object_get(d, "generation")) > gen0);
	assert_true(json_is_true(json_object_get(r, "preallocated")));
	assert_string_equal(ctltest_json_str(json_object_get(r, "annotations"),
	                        "cdi.kubevirt.io/storage.preallocation"),
	    "true");
	json_decref(r);
}

/* ---- the agent ------------------------------------------------------- */

static void
test_preallocctl__preallocate_probe_jobs_job_cancel(void **state)
{
	char   *path = loopfs_path(fx.ext4, "plain.img"), *out = NULL, *id;
	char   *err = NULL;
	json_t *job, *list, *probe;

	assert_int_equal(run(&out, NULL,
	                     "%s -o json preallocate '%s' --size "
	                     "16Mi --method falloc",
	                     fx.urls, path),
	    0);
	job = ctltest_json(out);
	free(out);
	assert_string_equal(ctltest_json_str(job, "state"), "succeeded");
	assert_string_equal(ctltest_json_str(job, "methodUsed"), "falloc");
	assert_string_equal(ctltest_json_str(job, "mechanism"), "fallocate");
	assert_string_equal(ctltest_json_str(job, "lane"), "fast");
	assert_int_equal(
	    json_integer_value(json_object_get(job, "bytesTotal")), 16 * MiB);
	id = strdup(ctltest_json_str(job, "id"));
	json_decref(job);
	assert_int_equal(testlib_file_size(path), 16 * MiB);

	assert_int_equal(
	    run(&out, NULL, "%s -o json probe '%s'", fx.urls, path), 0);
	probe = ctltest_json(out);
	free(out);
	assert_string_equal(ctltest_json_str(probe, "kind"), "file");
	assert_string_equal(ctltest_json_str(probe, "filesystem"), "ext4");
	assert_true(json_is_true(json_object_get(probe, "fallocate")));
	json_decref(probe);
	assert_int_equal(
	    run(&out, NULL, "%s probe '%s'", fx.urls, fx.dev->dev), 0);
	ctltest_assert_has(out, "Logical Sector Size:");
	free(out);

	assert_int_equal(run(&out, NULL, "%s jobs", fx.urls), 0);
	ctltest_assert_has(out, "ID");
	ctltest_assert_has(out, id);
	free(out);
	assert_int_equal(run(&out, NULL, "%s -o json jobs", fx.urls), 0);
	list = ctltest_json(out);
	free(out);
	assert_true(json_array_size(json_object_get(list, "jobs")) >= 1);
	assert_non_null(json_object_get(
	    json_array_get(json_object_get(list, "jobs"), 0), "bytesDone"));
	json_decref(list);

	assert_int_equal(run(&out, NULL, "%s job %s --wait", fx.urls, id), 0);
	ctltest_assert_has(out, "succeeded");
	free(out);
	assert_int_equal(
	    run(&out, &err, "%s -o yaml cancel %s", fx.urls, id), 0);
	ctltest_assert_has(out, id); // a finished job stays as it ended
	ctltest_assert_has(err, "had already finished (succeeded)");
	free(out);
	free(err);
	// An id the agent never gave out is named as such, by both.
	assert_int_equal(run(NULL, &err, "%s job job-nope", fx.urls), 1);
	ctltest_assert_has(err, "no job with id job-nope");
	free(err);
	assert_int_equal(run(NULL, &err, "%s cancel job-nope", fx.urls), 1);
	ctltest_assert_has(err, "no job with id job-nope");
	free(err);
	free(id);
	free(path);
}

// A job that failed before it wrote anything is not shown as done: its
// progress is what it did.
static void
test_preallocctl__a_failed_job_is_not_shown_at_100_percent(void **state)
{
	char   *path = loopfs_path(fx.ext4, "too-big.img"), *out = NULL, *id;
	json_t *job;

	// More than the filesystem holds: refused before any byte.
	assert_int_equal(run(&out, NULL,
	                     "%s -o json preallocate '%s' --size 64Gi "
	                     "--method full",
	                     fx.urls, path),
	    1);
	job = ctltest_json(out);
	free(out);
	assert_string_equal(ctltest_json_str(job, "state"), "failed");
	assert_string_equal(ctltest_json_str(job, "lane"), "writer"); // zeros
	id = strdup(ctltest_json_str(job, "id"));
	json_decref(job);
	assert_int_equal(run(&out, NULL, "%s jobs", fx.urls), 0);
	{
		const char *row = strstr(out, id);

		if (row == NULL)
			fail_msg("job %s not listed:\n%s", id, out);
		if (strstr(row, "100%") != NULL &&
		    strstr(row, "100%") < strchrnul(row, '\n'))
			fail_msg("a failed job shown at 100%%:\n%s", out);
	}
	free(out);
	free(id);
	free(path);
}

static void
test_preallocctl__preallocate_no_wait_returns_the_job(void **state)
{
	char   *path = loopfs_path(fx.ext4, "nowait.img"), *out = NULL;
	json_t *job;

	assert_int_equal(
	    run(&out, NULL, "%s -o json preallocate '%s' --size 8Mi --no-wait",
	        fx.urls, path),
	    0);
	job = ctltest_json(out);
	free(out);
	assert_int_equal(run(&out, NULL, "%s job %s --wait", fx.urls,
	                     ctltest_json_str(job, "id")),
	    0);
	ctltest_assert_has(out, "succeeded");
	free(out);
	json_decref(job);
	free(path);
}

// A request's own rate, capped by the agent's (1Gi here), which also
// stands in for none.
static void
test_preallocctl__preallocate_max_write_rate_is_capped_by_the_agent(
    void **state)
{
	static const struct {
		const char *flag;
		long long   want;
	} cases[] = {
		{ "--max-write-rate 64Mi", 64LL << 20 },
		{ "--max-write-rate=8Gi", 1LL << 30 },
		{ "", 1LL << 30 },
	};
	char *path = loopfs_path(fx.ext4, "rate.img"), *out = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *job;

		assert_int_equal(run(&out, NULL,
		                     "%s preallocate '%s' --size 4Mi -m full "
		                     "%s -o json",
		                     fx.urls, path, cases[i].flag),
		    0);
		job = ctltest_json(out);
		free(out);
		assert_int_equal(
		    json_integer_value(json_object_get(job, "maxWriteRate")),
		    cases[i].want);
		json_decref(job);
	}
	assert_int_equal(run(&out, NULL,
	                     "%s preallocate '%s' --size 4Mi "
	                     "--max-write-rate fast",
	                     fx.urls, path),
	    2);
	free(out);
	free(path);
}

static void
test_preallocctl__provision_block_volume_sets_the_annotation(void **state)
{
	char dv[700], image[700], *out = NULL;

	write_dv(dv, sizeof(dv), "", "fast", "32Mi", "Block");
	fresh(image, sizeof(image), "image.raw");
	assert_int_equal(testlib_write_random(image, 0, MiB + 7, 5), 0);
	assert_int_equal(
	    run(&out, NULL, "%s provision -f '%s' --volume '%s' --image '%s'",
	        fx.urls, dv, fx.dev->dev, image),
	    0);
	ctltest_assert_has(
	    out, "cdi.kubevirt.io/storage.preallocation: \"true\"");
	// The class decided, not the DataVolume: requested is the decision.
	ctltest_assert_has(
	    out, "cdi.kubevirt.io/storage.preallocation.requested: \"true\"");
	ctltest_assert_has(out, "Decided By:");
	ctltest_assert_has(out, "storageClass");
	ctltest_assert_has(out, "Mechanism:");
	ctltest_assert_has(out, "Image Bytes:");
	free(out);
}

/* ---- the progress bar and Ctrl-C -------------------------------------- */

static void
test_preallocctl__progress_bar_only_on_a_terminal(void **state)
{
	char *a   = loopfs_path(fx.ext4, "bar-tty.img");
	char *b   = loopfs_path(fx.ext4, "bar-pipe.img");
	char *out = NULL;

	if (!testlib_have_program("script"))
		loopfs_skip("script(1) is missing (apt-get install bsdutils)");
	// script(1) gives the command a pseudo-terminal; its output is ours.
	assert_int_equal(testlib_capture(&out,
	                     "script -qec \"'%s' %s preallocate '%s' --size "
	                     "128Mi --method full\" /dev/null",
	                     fx.bin, fx.urls, a),
	    0);
	ctltest_assert_has(out, "\r[");
	ctltest_assert_has(out, "ETA");
	ctltest_assert_has(out, "128Mi");
	free(out);
	assert_int_equal(testlib_capture(&out,
	                     "'%s' %s preallocate '%s' --size 128Mi --method "
	                     "full 2>&1 | cat",
	                     fx.bin, fx.urls, b),
	    0);
	assert_null(strchr(out, '\r'));
	assert_null(strstr(out, "ETA"));
	ctltest_assert_has(out, "succeeded");
	free(out);
	free(a);
	free(b);
}

// Start a large full preallocate of @p path, send SIGINT once its file
// grows, and return the exit status; its stderr goes to @p errfile.
static int
interrupt_preallocate(const char *path, const char *errfile, off_t before)
{
	char *argv[] = { fx.bin, "--policy", fx.policy_url, "--agent",
		fx.agent_url, "preallocate", (char *) path, "--size", BIG_SIZE,
		"--method", "full", NULL };
	pid_t pid;
	int   st = 0;

	if ((pid = fork()) == 0) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, STDERR_FILENO);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_true(pid > 0);
	// The job has started once its file grows: the CLI is waiting.
	for (int i = 0; i < 1000; i++) {
		if (testlib_allocated_bytes(path) > before + (int64_t) MiB)
			break;
		usleep(10 * 1000);
	}
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("preallocctl died of signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

static void
test_preallocctl__ctrl_c_cancels_and_restores_the_file(void **state)
{
	char *fresh_path = loopfs_path(fx.ext4, "ctrlc-new.img");
	char *old_path   = loopfs_path(fx.ext4, "ctrlc-old.img");
	char  errfile[700], want[65], got[65], *err;

	fresh(errfile, sizeof(errfile), "ctrlc.err");
	// A file the agent creates is removed.
	assert_int_equal(interrupt_preallocate(fresh_path, errfile, 0), 1);
	err = ctltest_slurp(errfile);
	ctltest_assert_has(err, "cancel");
	ctltest_assert_has(err, "(CANCELLED)");
	free(err);
	assert_int_equal(access(fresh_path, F_OK), -1);
	// A file that was there keeps its size and bytes.
	assert_int_equal(testlib_write_random(old_path, 0, MiB + 3, 9), 0);
	assert_int_equal(testlib_sha256(want, old_path), 0);
	assert_int_equal(interrupt_preallocate(old_path, errfile,
	                     testlib_allocated_bytes(old_path)),
	    1);
	assert_int_equal(testlib_file_size(old_path), MiB + 3);
	assert_int_equal(testlib_sha256(got, old_path), 0);
	assert_string_equal(got, want);
	free(fresh_path);
	free(old_path);
}

/* ---- exit codes ------------------------------------------------------ */

static void
test_preallocctl__usage_errors_exit_2_with_a_hint(void **state)
{
	char *err = NULL;

	assert_int_equal(run(NULL, &err, "bogus"), 2);
	ctltest_assert_has(err, "unknown command 'bogus'");
	ctltest_assert_has(err, "Try 'preallocctl --help'.");
	free(err);
	assert_int_equal(run(NULL, &err, "--bogus jobs"), 2);
	ctltest_assert_has(err, "unknown option '--bogus'");
	free(err);
	assert_int_equal(run(NULL, &err, "jobs --bogus"), 2);
	ctltest_assert_has(err, "Try 'preallocctl jobs --help'.");
	free(err);
	assert_int_equal(run(NULL, &err, "preallocate /x --size 10Qi"), 2);
	ctltest_assert_has(err, "10Qi");
	free(err);
	assert_int_equal(run(NULL, &err, "preallocate /x --size"), 2);
	ctltest_assert_has(err, "needs an argument");
	free(err);
	assert_int_equal(run(NULL, &err, "job"), 2);
	ctltest_assert_has(err, "missing job ID");
	free(err);
	assert_int_equal(run(NULL, &err, "%s", ""), 2);
	ctltest_assert_has(err, "no command given");
	free(err);
	assert_int_equal(run(NULL, &err, "-o xml jobs"), 2);
	free(err);
}

static void
test_preallocctl__bad_values_found_after_parsing_exit_2(void **state)
{
	char dv[700], *err = NULL;

	// The service finds the name invalid; it came from a flag.
	assert_int_equal(
	    run(NULL, &err, "%s resolve --storage-class Bad_Name", fx.urls), 2);
	ctltest_assert_has(err, "preallocctl resolve: --storage-class: ");
	ctltest_assert_has(err, "Bad_Name");
	ctltest_assert_has(err, "Try 'preallocctl resolve --help'.");
	free(err);
	assert_int_equal(run(NULL, &err, "jobs -a bogus://x"), 2);
	ctltest_assert_has(err, "bogus://x");
	ctltest_assert_has(err, "Try 'preallocctl --help'.");
	free(err);
	assert_int_equal(run(NULL, &err, "%s jobs -o xml", fx.urls), 2);
	ctltest_assert_has(err, "--output: unknown format 'xml'");
	free(err);
	assert_int_equal(
	    run(NULL, &err, "resolve -s fast %s --timeout 5x", fx.urls), 2);
	ctltest_assert_has(err, "is not a duration");
	free(err);
	// The same name from a manifest is one that does not validate: 1.
	write_dv(dv, sizeof(dv), "", "Bad_Name", "1Gi", "Filesystem");
	assert_int_equal(run(NULL, &err, "%s resolve -f '%s'", fx.urls, dv), 1);
	ctltest_assert_has(err, "Bad_Name");
	ctltest_assert_has(err, "(INVALID_ARGUMENT)");
	free(err);
}

static void
test_preallocctl__help_goes_to_stdout_and_exits_0(void **state)
{
	static const char *const cmds[] = { "resolve", "config", "preallocate",
		"probe", "jobs", "job", "cancel", "provision" };
	char                    *out    = NULL;

	assert_int_equal(run(&out, NULL, "--help"), 0);
	ctltest_assert_has(out, "Usage: preallocctl");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		ctltest_assert_has(out, cmds[i]);
	free(out);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(run(&out, NULL, "%s --help", cmds[i]), 0);
		ctltest_assert_has(out, "Usage: preallocctl");
		free(out);
	}
}

static void
test_preallocctl__no_daemon_is_unavailable_and_exits_1(void **state)
{
	char *err = NULL;

	assert_int_equal(run(NULL, &err,
	                     "--timeout 2s --policy 'ipc://%s/none.sock' "
	                     "resolve",
	                     fx.dir),
	    1);
	ctltest_assert_has(err, "preallocctl: ");
	ctltest_assert_has(err, "(UNAVAILABLE)");
	free(err);
	// The URLs also come from the environment.
	assert_int_equal(run(NULL, &err, "--timeout 2s jobs"), 1);
	ctltest_assert_has(err, "(UNAVAILABLE)");
	free(err);
	assert_int_equal(run(NULL, &err, "%s job no-such-job", fx.urls), 1);
	ctltest_assert_has(err, "(NOT_FOUND)");
	free(err);
}

// Run one README.md command line as written, with the URLs after it: it
// must parse (no usage error); what it does may fail, as "job ID" does.
// A line that names an existing absolute path outside /dev is left out,
// so that the test writes nothing of the machine's.
static void
readme_run(const char *cmdline)
{
	char        words[512], *save = NULL, *err = NULL;
	const char *args = cmdline + strlen("preallocctl ");
	int         st;

	if (strncmp(cmdline, "preallocctl ", strlen("preallocctl ")) != 0)
		fail_msg(
		    "README.md: \"%s\" is not a preallocctl line", cmdline);
	snprintf(words, sizeof(words), "%s", args);
	for (char *w = strtok_r(words, " ", &save); w != NULL;
	     w       = strtok_r(NULL, " ", &save))
                if (w[0] == '/' && strncmp(w, "/dev/", 5) != 0 &&
                    access(w, F_OK) == 0) {
			      fprintf(stderr, "README.md: left out, %s exists: %s\n",
			          w, cmdline);
			      return;
                }
	st = run(NULL, &err, "%s %s", args, fx.urls);
	if (st == 2 || strstr(err, "Try 'preallocctl") != NULL)
		fail_msg(
		    "README.md: \"%s\" is a usage error:\n%s", cmdline, err);
	free(err);
}

static void
test_preallocctl__readme_command_lines_run_as_written(void **state)
{
	const char *src  = getenv("PREALLOC_SOURCE_DIR");
	dvtest_spec spec = { "http", "", "", "16Mi", "Filesystem", "pvc" };
	char        path[700], cwd[4096], yaml[1024], *readme, *save = NULL;
	int         n = 0;

	if (src == NULL)
		skip(); // only ctest says where the sources are
	snprintf(path, sizeof(path), "%s/README.md", src);
	readme = ctltest_slurp(path);
	// The files its lines name, in the directory they run in.
	snprintf(path, sizeof(path), "%s/datavolume.yaml", fx.dir);
	testlib_write_text(path, dvtest_yaml(yaml, sizeof(yaml), &spec));
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml", fx.dir);
	testlib_write_text(path, config_yaml);
	snprintf(path, sizeof(path), "%s/disk.raw", fx.dir);
	assert_int_equal(testlib_write_random(path, 0, MiB, 3), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx.dir), 0);
	for (char *line = strtok_r(readme, "\n", &save); line != NULL;
	     line       = strtok_r(NULL, "\n", &save)) {
		char *comment = strstr(line, "  #"), *next;

		if (strncmp(line, "preallocctl ", strlen("preallocctl ")) != 0)
			continue;
		if (comment != NULL)
			*comment = '\0';
		// "preallocctl probe X; preallocctl jobs": one at a time.
		for (char *cmd = line; cmd != NULL; cmd = next, n++) {
			if ((next = strstr(cmd, "; ")) != NULL) {
				*next = '\0';
				next += strlen("; ");
			}
			readme_run(cmd);
		}
	}
	assert_int_equal(chdir(cwd), 0);
	if (n < 10)
		fail_msg("README.md shows %d preallocctl lines, not 10", n);
	free(readme);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_preallocctl__resolve_prints_a_table_by_default),
		cmocka_unit_test(
		    test_preallocctl__resolve_json_has_lower_camel_case_keys),
		cmocka_unit_test(
		    test_preallocctl__resolve_yaml_parses_with_libyaml),
		cmocka_unit_test(
		    test_preallocctl__resolve_reads_a_datavolume_file),
		cmocka_unit_test(
		    test_preallocctl__bad_datavolume_file_names_its_position),
		cmocka_unit_test(
		    test_preallocctl__global_options_go_after_the_command),
		cmocka_unit_test(
		    test_preallocctl__dash_f_dash_reads_standard_input),
		cmocka_unit_test(
		    test_preallocctl__config_get_shows_a_cdiconfig),
		cmocka_unit_test(
		    test_preallocctl__config_check_works_with_no_daemon),
		cmocka_unit_test(
		    test_preallocctl__config_apply_changes_the_next_decision),
		cmocka_unit_test(
		    test_preallocctl__preallocate_probe_jobs_job_cancel),
		cmocka_unit_test(
		    test_preallocctl__a_failed_job_is_not_shown_at_100_percent),
		cmocka_unit_test(
		    test_preallocctl__preallocate_no_wait_returns_the_job),
		cmocka_unit_test(
		    test_preallocctl__preallocate_max_write_rate_is_capped_by_the_agent),
		cmocka_unit_test(
		    test_preallocctl__provision_block_volume_sets_the_annotation),
		cmocka_unit_test(
		    test_preallocctl__progress_bar_only_on_a_terminal),
		cmocka_unit_test(
		    test_preallocctl__ctrl_c_cancels_and_restores_the_file),
		cmocka_unit_test(
		    test_preallocctl__usage_errors_exit_2_with_a_hint),
		cmocka_unit_test(
		    test_preallocctl__bad_values_found_after_parsing_exit_2),
		cmocka_unit_test(
		    test_preallocctl__help_goes_to_stdout_and_exits_0),
		cmocka_unit_test(
		    test_preallocctl__no_daemon_is_unavailable_and_exits_1),
		cmocka_unit_test(
		    test_preallocctl__readme_command_lines_run_as_written),
	};
	struct loopfs *lf = NULL;
	char           why[256];
	int            failed;

	if (access(testlib_built("clients/preallocctl/preallocctl"), X_OK) ||
	    access(testlib_built("agent/prealloc-agentd"), X_OK))
		testlib_skip_all("preallocctl or prealloc-agentd not built");
	// A machine without loop devices or mkfs skips the file, visibly.
	if (loopfs_new(&lf, why, "ext4", MiB * 16) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	// The URLs of the environment test: nothing listens there.
	setenv("PREALLOC_POLICY", "ipc:///nonexistent/policy.sock", 1);
	setenv("PREALLOC_AGENT", "ipc:///nonexistent/agent.sock", 1);
	failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
	return loopfs_exit_status(failed);
}
