// SPDX-License-Identifier: Apache-2.0
// policyd_test.c: the real prealloc-policyd over ipc and tcp, with its
// config file rewritten, broken, swapped as a ConfigMap and applied.
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "daemon.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_client.h"
#include "rpc_envelope.h"
#include "testlib.h"
#include "tlscerts.h"

#define SVC "/cdi.prealloc.v1.PreallocationPolicy/"
#define UNSET CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_UNSET
#define PTRUE CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_TRUE
#define PFALSE CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE

typedef Cdi__Prealloc__V1__ResolvePreallocationResponse resolve_resp;
typedef Cdi__Prealloc__V1__GetConfigResponse            getconfig_resp;
typedef Cdi__Prealloc__V1__ApplyConfigResponse          apply_resp;

static const char *config_a = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                              "kind: CDIConfig\n"
                              "metadata:\n"
                              "  name: config\n"
                              "spec:\n"
                              "  preallocation:\n"
                              "    global: true\n"
                              "    storageClass:\n"
                              "      fast: true\n"
                              "      slow: false\n"
                              "  filesystemOverhead:\n"
                              "    global: \"0.1\"\n"
                              "    storageClass:\n"
                              "      fast: \"0.055\"\n";

typedef struct fixture {
	char          *dir;
	char           config[600];
	char           ipc[600];
	char           http[64];
	testlib_daemon d;
	rpc_client    *cli;
} fixture;

static void
write_file(const char *path, const char *text)
{
	char  tmp[700];
	FILE *f;

	// Replace atomically, as an editor or kubectl would.
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_non_null(f = fopen(tmp, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

// Start the daemon on f->ipc with @p extra options (NULL-terminated).
static int
start_daemon_with(fixture *f, const char *const *extra)
{
	char  logpath[700];
	char *argv[32] = { (char *) testlib_built("service/prealloc-policyd"),
		"--config", f->config, "--listen", f->ipc, "--http",
		"127.0.0.1:0" };
	int   n        = 7;

	for (; extra != NULL && *extra != NULL && n < 31; extra++)
		argv[n++] = (char *) *extra;
	argv[n] = NULL;
	snprintf(logpath, sizeof(logpath), "%s/policyd.log", f->dir);
	if (testlib_daemon_start(&f->d, logpath, "policyd.ready", argv) != 0)
		return -1;
	assert_int_equal(
	    testlib_daemon_log_value(&f->d, "event=policyd.http_listening",
	        "addr", f->http, sizeof(f->http)),
	    0);
	return 0;
}

static int
start_daemon(fixture *f, const char *extra_listen)
{
	const char *extra[] = { "--listen", extra_listen, NULL };

	return start_daemon_with(f, extra_listen != NULL ? extra : NULL);
}

static int
policyd_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("policyd");
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", f->dir);
	snprintf(f->ipc, sizeof(f->ipc), "ipc://%s/policy.sock", f->dir);
	*state = f;
	return 0;
}

static int
policyd_teardown(void **state)
{
	fixture *f = *state;

	rpc_client_free(f->cli);
	testlib_daemon_kill(&f->d);
	testlib_run("umount -q '%s/ro' 2>/dev/null", f->dir);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
connect_client(fixture *f, const char *url)
{
	rpc_client_free(f->cli);
	f->cli = NULL;
	assert_int_equal(rpc_client_new(&f->cli, url, NULL, NULL), PA_OK);
}

static int
resolve(
    rpc_client *c, int pref, const char *sc, resolve_resp **out, pa_err *err)
{
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;

	req.data_volume   = "dv";
	req.preallocation = (Cdi__Prealloc__V1__Preallocation) pref;
	req.storage_class = (char *) sc;
	return rpc_client_call((ProtobufCMessage **) out, c,
	    SVC "ResolvePreallocation", &req.base,
	    &cdi__prealloc__v1__resolve_preallocation_response__descriptor,
	    5000, err);
}

static void
expect(rpc_client *c, int pref, const char *sc, int preallocate,
    const char *decided_by)
{
	resolve_resp *r   = NULL;
	pa_err        err = PA_ERR_INIT;

	if (resolve(c, pref, sc, &r, &err) != PA_OK)
		fail_msg("resolve(%d, %s): %s", pref, sc, err.msg);
	if (r->preallocate != preallocate ||
	    strcmp(r->decided_by_name, decided_by) != 0)
		fail_msg("resolve(%d, '%s'): got %d by %s, want %d by %s", pref,
		    sc, r->preallocate, r->decided_by_name, preallocate,
		    decided_by);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static getconfig_resp *
get_config(rpc_client *c)
{
	Cdi__Prealloc__V1__GetConfigRequest req =
	    CDI__PREALLOC__V1__GET_CONFIG_REQUEST__INIT;
	getconfig_resp *out = NULL;

	assert_int_equal(
	    rpc_client_call((ProtobufCMessage **) &out, c, SVC "GetConfig",
	        &req.base, &cdi__prealloc__v1__get_config_response__descriptor,
	        5000, NULL),
	    PA_OK);
	return out;
}

static int
apply(rpc_client *c, const char *yaml, uint64_t gen, apply_resp **out,
    pa_err *err)
{
	Cdi__Prealloc__V1__ApplyConfigRequest req =
	    CDI__PREALLOC__V1__APPLY_CONFIG_REQUEST__INIT;

	req.yaml                = (char *) yaml;
	req.expected_generation = gen;
	// An apply parses, writes and fsyncs: on a loaded CI disk the fsync
	// alone has been seen to take seconds.
	return rpc_client_call((ProtobufCMessage **) out, c, SVC "ApplyConfig",
	    &req.base, &cdi__prealloc__v1__apply_config_response__descriptor,
	    30000, err);
}

// Wait until the daemon serves a generation above @p gen.
static uint64_t
wait_generation_above(rpc_client *c, uint64_t gen)
{
	for (int i = 0; i < 250; i++) {
		getconfig_resp *g   = get_config(c);
		uint64_t        now = g->generation;

		protobuf_c_message_free_unpacked(&g->base, NULL);
		if (now > gen)
			return now;
		usleep(20 * 1000);
	}
	fail_msg("generation stayed at %llu", (unsigned long long) gen);
	return 0;
}

// Wait until GetConfig shows no last_error.
static void
wait_last_error_cleared(rpc_client *c)
{
	char last[PA_ERR_MSG_SIZE] = "";

	for (int i = 0; i < 250; i++) {
		getconfig_resp *g = get_config(c);

		snprintf(last, sizeof(last), "%s", g->last_error);
		protobuf_c_message_free_unpacked(&g->base, NULL);
		if (last[0] == '\0')
			return;
		usleep(20 * 1000);
	}
	fail_msg("last_error stayed: %s", last);
}

// The whole precedence table on config_a.
static void
check_precedence(rpc_client *c)
{
	expect(c, PTRUE, "slow", 1, "dataVolume");
	expect(c, PFALSE, "fast", 0, "dataVolume");
	expect(c, PFALSE, "", 0, "dataVolume");
	expect(c, UNSET, "fast", 1, "storageClass");
	expect(c, UNSET, "slow", 0, "storageClass");
	expect(c, UNSET, "other", 1, "global");
	expect(c, UNSET, "", 1, "global");
}

static void
test_policyd__precedence_over_ipc_and_tcp(void **state)
{
	fixture *f = *state;
	char     url[128];

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, "tcp://127.0.0.1:0"), 0);
	connect_client(f, f->ipc);
	check_precedence(f->cli);
	assert_int_equal(testlib_daemon_log_value(
	                     &f->d, "url=tcp://", "url", url, sizeof(url)),
	    0);
	connect_client(f, url);
	check_precedence(f->cli);
}

static void
test_policyd__invalid_storage_class_is_invalid_argument(void **state)
{
	fixture      *f   = *state;
	resolve_resp *r   = NULL;
	pa_err        err = PA_ERR_INIT;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(resolve(f->cli, UNSET, "Not_A_Name", &r, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "Not_A_Name"));
}

static void
test_policyd__missing_file_serves_the_default(void **state)
{
	fixture        *f    = *state;
	char           *body = NULL;
	getconfig_resp *g;

	assert_int_equal(start_daemon(f, NULL), 0);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=store.default_config"), 1);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "fast", 0, "default");
	expect(f->cli, UNSET, "", 0, "default");
	expect(f->cli, PTRUE, "", 1, "dataVolume");
	g = get_config(f->cli);
	assert_false(g->from_file);
	protobuf_c_message_free_unpacked(&g->base, NULL);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 503);
	free(body);
	assert_int_equal(testlib_http_get(f->http, "/healthz", &body), 200);
	free(body);
	// The file appears: it is picked up, and the daemon becomes ready.
	write_file(f->config, config_a);
	wait_generation_above(f->cli, 1);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 200);
	free(body);
}

// A node where the config's directory is made after the daemon starts:
// it serves the default, says so, and loads the file when the directory
// and the file appear; the same when the directory is removed and made
// again.
static void
test_policyd__config_directory_made_after_start(void **state)
{
	fixture        *f    = *state;
	char           *body = NULL;
	char            etc[400];
	getconfig_resp *g;
	uint64_t        gen;

	snprintf(etc, sizeof(etc), "%s/etc/prealloc", f->dir);
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", etc);
	assert_int_equal(start_daemon(f, NULL), 0);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=store.config_dir_missing"),
	    1);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "fast", 0, "default");
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 503);
	assert_non_null(strstr(body, "directory does not exist"));
	assert_non_null(strstr(body, "default"));
	free(body);
	// mkdir -p, then the file: each step is one the watch must follow.
	assert_int_equal(testlib_run("mkdir -p '%s'", etc), 0);
	write_file(f->config, config_a);
	gen = wait_generation_above(f->cli, 1);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 200);
	free(body);
	// The directory goes away (the last good config stays), then comes
	// back with another config, which is loaded.
	assert_int_equal(testlib_run("rm -rf '%s'", etc), 0);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_run("mkdir -p '%s'", etc), 0);
	write_file(f->config,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: false\n");
	wait_generation_above(f->cli, gen);
	expect(f->cli, UNSET, "fast", 0, "global");
	g = get_config(f->cli);
	assert_true(g->from_file);
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

// The first apply on a node where the config's directory was never made
// makes it, and the file is there for the next start.
static void
test_policyd__apply_makes_the_config_directory(void **state)
{
	fixture    *f = *state;
	apply_resp *a = NULL;
	char        etc[400];

	snprintf(etc, sizeof(etc), "%s/etc/prealloc", f->dir);
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", etc);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(apply(f->cli, config_a, 0, &a, NULL), PA_OK);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	assert_int_equal(access(f->config, R_OK), 0);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
}

static void
test_policyd__rewrite_changes_the_answer(void **state)
{
	fixture *f = *state;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "", 1, "global");
	write_file(f->config,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation: false\n");
	wait_generation_above(f->cli, 1);
	expect(f->cli, UNSET, "fast", 0, "global");
}

static void
test_policyd__broken_file_keeps_last_good(void **state)
{
	fixture        *f    = *state;
	char           *body = NULL;
	getconfig_resp *g;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 200);
	free(body);
	write_file(f->config,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: \"yes\"\n");
	assert_int_equal(
	    testlib_daemon_wait_log(&f->d, "event=store.reload_rejected", 5000),
	    0);
	check_precedence(f->cli);
	g = get_config(f->cli);
	assert_int_equal(g->generation, 1);
	assert_non_null(strstr(g->last_error, "cdiconfig.yaml:5:13"));
	protobuf_c_message_free_unpacked(&g->base, NULL);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 503);
	assert_non_null(strstr(body, "cdiconfig.yaml:5:13"));
	free(body);
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	assert_non_null(strstr(body, "prealloc_policy_config_load_error 1"));
	assert_non_null(
	    strstr(body, "prealloc_policy_reloads_total{result=\"error\"} 1"));
	free(body);
	// The bad edit undone: the bytes served are on disk again, so the
	// failure is over, with no new generation.
	write_file(f->config, config_a);
	wait_last_error_cleared(f->cli);
	g = get_config(f->cli);
	assert_int_equal(g->generation, 1);
	protobuf_c_message_free_unpacked(&g->base, NULL);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 200);
	free(body);
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	assert_non_null(strstr(body, "prealloc_policy_config_load_error 0"));
	free(body);
}

static void
test_policyd__config_removed_and_restored_clears_the_error(void **state)
{
	fixture        *f = *state;
	getconfig_resp *g;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(unlink(f->config), 0);
	testlib_daemon_signal(&f->d, SIGHUP);
	for (int i = 0; i < 250; i++) {
		g = get_config(f->cli);
		if (g->last_error[0] != '\0')
			break;
		protobuf_c_message_free_unpacked(&g->base, NULL);
		g = NULL;
		usleep(20 * 1000);
	}
	assert_non_null(g);
	assert_non_null(strstr(g->last_error, "cdiconfig.yaml"));
	protobuf_c_message_free_unpacked(&g->base, NULL);
	expect(f->cli, UNSET, "fast", 1, "storageClass"); // the last good
	write_file(f->config, config_a);
	wait_last_error_cleared(f->cli);
}

static void
test_policyd__configmap_symlink_swap(void **state)
{
	fixture *f = *state;

	// The kubelet's layout: config.yaml -> ..data/config.yaml,
	// ..data -> ..<timestamp>, swapped by renaming a new ..data link.
	assert_int_equal(
	    testlib_run("cd '%s' && mkdir ..t1 ..t2 && "
	                "ln -s ..t1 ..data && "
	                "ln -s ..data/cdiconfig.yaml cdiconfig.yaml",
	        f->dir),
	    0);
	{
		char p[700];

		snprintf(p, sizeof(p), "%s/..t1/cdiconfig.yaml", f->dir);
		write_file(p, config_a);
		snprintf(p, sizeof(p), "%s/..t2/cdiconfig.yaml", f->dir);
		write_file(p,
		    "apiVersion: cdi.kubevirt.io/v1beta1\n"
		    "kind: CDIConfig\n"
		    "spec:\n"
		    "  preallocation:\n"
		    "    storageClass:\n"
		    "      fast: false\n");
	}
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_run("cd '%s' && ln -s ..t2 ..data_tmp && "
	                             "mv -T ..data_tmp ..data",
	                     f->dir),
	    0);
	wait_generation_above(f->cli, 1);
	expect(f->cli, UNSET, "fast", 0, "storageClass");
	expect(f->cli, UNSET, "other", 0, "default");
}

static void
test_policyd__sighup_reloads(void **state)
{
	fixture *f = *state;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	testlib_daemon_signal(&f->d, SIGHUP);
	// Same bytes: nothing changes, and nothing fails.
	usleep(200 * 1000);
	expect(f->cli, UNSET, "", 1, "global");
	assert_int_equal(testlib_daemon_count_log(&f->d, "reload_rejected"), 0);
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=policyd.stopping"), 1);
}

static void
test_policyd__apply_config_with_generations(void **state)
{
	fixture        *f    = *state;
	apply_resp     *a    = NULL;
	getconfig_resp *g    = NULL;
	pa_err          err  = PA_ERR_INIT;
	const char     *next = "apiVersion: cdi.kubevirt.io/v1beta1\n"
	                       "kind: CDIConfig\n"
	                       "spec:\n"
	                       "  preallocation:\n"
	                       "    global: false\n"
	                       "    storageClass:\n"
	                       "      gold: true\n";

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(apply(f->cli, next, 7, &a, &err), PA_ABORTED);
	assert_non_null(strstr(err.msg, "generation is 1"));
	assert_int_equal(
	    apply(f->cli, "spec: [", 1, &a, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, ":1:"));
	assert_int_equal(apply(f->cli, next, 1, &a, &err), PA_OK);
	assert_int_equal(a->generation, 2);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	expect(f->cli, UNSET, "gold", 1, "storageClass");
	expect(f->cli, UNSET, "fast", 0, "global");
	// A restart serves what was applied: it was persisted.
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "gold", 1, "storageClass");
	g = get_config(f->cli);
	assert_non_null(strstr(g->yaml, "gold: true"));
	assert_int_equal(g->n_storage_classes, 1);
	assert_string_equal(g->storage_classes[0]->name, "gold");
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

static void
test_policyd__apply_to_read_only_file_is_failed_precondition(void **state)
{
	fixture    *f   = *state;
	apply_resp *a   = NULL;
	pa_err      err = PA_ERR_INIT;
	char        mnt[400];

	snprintf(mnt, sizeof(mnt), "%s/ro", f->dir);
	if (testlib_run("mkdir -p '%s' && mount -t tmpfs -o size=1m tmpfs '%s'",
	        mnt, mnt) != 0) {
		fprintf(stderr, "SKIP: cannot mount tmpfs at %s\n", mnt);
		skip();
	}
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", mnt);
	write_file(f->config, config_a);
	assert_int_equal(testlib_run("mount -o remount,ro '%s'", mnt), 0);
	assert_int_equal(start_daemon(f, NULL), 0); // teardown unmounts
	connect_client(f, f->ipc);
	assert_int_equal(
	    apply(f->cli, config_a, 0, &a, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "read-only"));
	expect(f->cli, UNSET, "fast", 1, "storageClass");
}

// Applied over kubelet's layout, the new file would replace the
// cdiconfig.yaml link and no later ConfigMap update would reach the
// daemon: refused, naming the ConfigMap, with the layout left whole. A
// plain symlinked config is refused too, the link kept.
static void
test_policyd__apply_to_a_configmap_mount_or_a_link_is_refused(void **state)
{
	fixture    *f   = *state;
	apply_resp *a   = NULL;
	pa_err      err = PA_ERR_INIT;
	char        p[700], *link = NULL;
	const char *other = "apiVersion: cdi.kubevirt.io/v1beta1\n"
	                    "kind: CDIConfig\n"
	                    "spec:\n"
	                    "  preallocation:\n"
	                    "    global: true\n";

	assert_int_equal(
	    testlib_run("cd '%s' && mkdir ..t1 && "
	                "ln -s ..t1 ..data && "
	                "ln -s ..data/cdiconfig.yaml cdiconfig.yaml",
	        f->dir),
	    0);
	snprintf(p, sizeof(p), "%s/..t1/cdiconfig.yaml", f->dir);
	write_file(p, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	assert_int_equal(
	    apply(f->cli, other, 0, &a, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "ConfigMap"));
	assert_non_null(strstr(err.msg, "..data"));
	assert_int_equal(testlib_capture(&link, "readlink '%s'", f->config), 0);
	assert_string_equal(link, "..data/cdiconfig.yaml\n");
	free(link);
	expect(f->cli, UNSET, "fast", 1, "storageClass");
	// Without ..data: a link of any other kind.
	assert_int_equal(testlib_run("rm '%s/..data'", f->dir), 0);
	assert_int_equal(
	    testlib_run("ln -sfn ..t1/cdiconfig.yaml '%s'", f->config), 0);
	assert_int_equal(
	    apply(f->cli, other, 0, &a, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(testlib_capture(&link, "readlink '%s'", f->config), 0);
	assert_string_equal(link, "..t1/cdiconfig.yaml\n");
	free(link);
}

static void
test_policyd__metrics_count_requests_and_decisions(void **state)
{
	fixture *f    = *state;
	char    *body = NULL;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	for (int i = 0; i < 3; i++)
		expect(f->cli, UNSET, "fast", 1, "storageClass");
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	assert_non_null(strstr(body,
	    "prealloc_rpc_requests_total{method="
	    "\"ResolvePreallocation\",code=\"OK\"} 3"));
	assert_non_null(strstr(body,
	    "prealloc_policy_decisions_total{"
	    "decided_by=\"storageClass\","
	    "preallocate=\"true\"} 3"));
	assert_non_null(strstr(body,
	    "prealloc_rpc_request_duration_seconds_count"
	    "{method=\"ResolvePreallocation\"} 3"));
	assert_non_null(strstr(body, "prealloc_policy_config_generation 1"));
	free(body);
}

// Send ResolvePreallocation with @p payload as the request's bytes, made
// by hand: protobuf-c packs a C string only up to its first 0.
static void
raw_resolve(
    fixture *f, const uint8_t *payload, size_t len, rpc_response_pb **out)
{
	rpc_request_pb env = CDI__PREALLOC__V1__RPC_REQUEST__INIT;
	nng_msg       *msg = NULL, *answer = NULL;
	pa_err         err = PA_ERR_INIT;

	env.method       = SVC "ResolvePreallocation";
	env.request_id   = 1;
	env.deadline_ms  = 5000;
	env.payload.data = (uint8_t *) payload;
	env.payload.len  = len;
	assert_int_equal(
	    nng_msg_alloc(&msg, protobuf_c_message_get_packed_size(&env.base)),
	    0);
	protobuf_c_message_pack(&env.base, nng_msg_body(msg));
	if (rpc_client_call_msg(&answer, f->cli, msg, 5000, &err) != PA_OK)
		fail_msg("raw call: %s", err.msg);
	assert_int_equal(rpc_envelope_unpack_response(out, nng_msg_body(answer),
	                     nng_msg_len(answer), &err),
	    PA_OK);
	nng_msg_free(answer);
}

static void
test_policyd__nul_in_a_string_is_invalid_argument(void **state)
{
	// storage_class (field 4) "fast\0evil": C would see "fast", a class
	// config_a names, and answer for it.
	static const uint8_t bad[] = { 0x22, 9, 'f', 'a', 's', 't', 0, 'e', 'v',
		'i', 'l' };
	static const uint8_t good[] = { 0x22, 4, 'f', 'a', 's', 't' };
	fixture             *f      = *state;
	rpc_response_pb     *r      = NULL;

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	raw_resolve(f, bad, sizeof(bad), &r);
	assert_int_equal(r->code, PA_INVALID_ARGUMENT);
	assert_non_null(
	    strstr(r->message, "field storage_class holds a NUL byte"));
	assert_int_equal(r->payload.len, 0);
	rpc_envelope_free(r);
	r = NULL;
	// The same bytes without the 0 and what follows it are answered.
	raw_resolve(f, good, sizeof(good), &r);
	assert_int_equal(r->code, PA_OK);
	rpc_envelope_free(r);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "holds a NUL byte"), 1);
}

// ---- under load: 8 threads resolve while the file is rewritten ----

#define LOAD_THREADS 8

typedef struct loader {
	rpc_client   *c;
	volatile int *stop;
	int           calls, errors, mixed;
} loader;

// Config k: class "sc" has preallocation k%2==0 and overhead "0.1" when
// true, "0.2" when false. An answer that mixed two snapshots would pair
// one config's decision with the other's overhead.
static void
config_k(char *buf, size_t size, int k)
{
	snprintf(buf, size,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    storageClass:\n"
	    "      sc: %s\n"
	    "  filesystemOverhead:\n"
	    "    storageClass:\n"
	    "      sc: \"%s\"\n"
	    "# rewrite %d\n",
	    k % 2 == 0 ? "true" : "false", k % 2 == 0 ? "0.1" : "0.2", k);
}

static void *
loader_run(void *arg)
{
	loader *l = arg;

	while (!*l->stop) {
		resolve_resp *r = NULL;

		if (resolve(l->c, UNSET, "sc", &r, NULL) != PA_OK) {
			l->errors++;
			continue;
		}
		l->calls++;
		if (strcmp(r->decided_by_name, "storageClass") != 0 ||
		    strcmp(r->filesystem_overhead,
		        r->preallocate ? "0.1" : "0.2") != 0)
			l->mixed++;
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	return NULL;
}

static void
test_policyd__answers_stay_whole_under_200_rewrites(void **state)
{
	fixture     *f    = *state;
	volatile int stop = 0;
	pthread_t    th[LOAD_THREADS];
	loader       l[LOAD_THREADS];
	char         text[512];
	int          calls = 0;

	config_k(text, sizeof(text), 0);
	write_file(f->config, text);
	assert_int_equal(start_daemon(f, NULL), 0);
	connect_client(f, f->ipc);
	for (int i = 0; i < LOAD_THREADS; i++) {
		l[i] = (loader) { f->cli, &stop, 0, 0, 0 };
		pthread_create(&th[i], NULL, loader_run, &l[i]);
	}
	for (int k = 1; k <= 200; k++) {
		config_k(text, sizeof(text), k);
		write_file(f->config, text);
		usleep(5 * 1000);
	}
	usleep(300 * 1000);
	stop = 1;
	for (int i = 0; i < LOAD_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(l[i].errors, 0);
		assert_int_equal(l[i].mixed, 0);
		calls += l[i].calls;
	}
	assert_true(calls > 0);
	// The last rewrite (k = 200, even) is what is served at the end, and
	// the rewrites really were loaded along the way.
	assert_true(wait_generation_above(f->cli, 10) > 10);
	expect(f->cli, UNSET, "sc", 1, "storageClass");
	printf("# %d answers during 200 rewrites, none mixed\n", calls);
}

// A config large enough that its write and fsync take a while, so a
// kill can land while its temp file exists: @p n storage classes.
static char *
big_config(int n, bool global)
{
	size_t size = 200 + (size_t) n * 32;
	char  *buf  = malloc(size);
	size_t len;

	assert_non_null(buf);
	len = (size_t) snprintf(buf, size,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: %s\n"
	    "    storageClass:\n",
	    global ? "true" : "false");
	for (int i = 0; i < n; i++)
		len += (size_t) snprintf(
		    buf + len, size - len, "      sc-%05d: true\n", i);
	return buf;
}

// How many entries of @p dir are temp files of the config (named as
// ApplyConfig names them)?
static int
count_temps(const char *dir)
{
	static const char prefix[] = "cdiconfig.yaml.tmp";
	DIR              *d        = opendir(dir);
	struct dirent    *e;
	int               n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strlen(e->d_name) == sizeof(prefix) - 1 + 6 &&
		    strncmp(e->d_name, prefix, sizeof(prefix) - 1) == 0;
	closedir(d);
	return n;
}

typedef struct apply_call {
	rpc_client *c;
	const char *yaml;
	int         rc;
} apply_call;

static void *
apply_call_run(void *arg)
{
	apply_call *a    = arg;
	apply_resp *resp = NULL;

	a->rc = apply(a->c, a->yaml, 0, &resp, NULL);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return NULL;
}

// Apply @p yaml and SIGKILL the daemon the moment its temp file appears.
// @return 1 when the kill left the temp file behind, else 0.
static int
apply_and_kill(fixture *f, const char *yaml)
{
	rpc_client_opts opts = RPC_CLIENT_OPTS_INIT;
	apply_call      a    = { NULL, yaml, -1 };
	struct pollfd   pfd  = { .events = POLLIN };
	char            ev[4096] __attribute__((aligned(8)));
	bool            seen = false;
	pthread_t       th;

	pfd.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	assert_true(pfd.fd >= 0);
	assert_true(inotify_add_watch(pfd.fd, f->dir, IN_CREATE) >= 0);
	opts.connect_ms  = 200; // the call ends soon after the kill
	opts.max_msg     = 2 * 1024 * 1024;
	opts.deadline_ms = 10000;
	assert_int_equal(rpc_client_new(&a.c, f->ipc, &opts, NULL), PA_OK);
	pthread_create(&th, NULL, apply_call_run, &a);
	while (!seen && poll(&pfd, 1, 10000) == 1) {
		ssize_t n = read(pfd.fd, ev, sizeof(ev));

		for (ssize_t off = 0; off < n;) {
			struct inotify_event *e = (void *) (ev + off);

			if (e->len > 0 &&
			    strncmp(e->name, "cdiconfig.yaml.tmp", 18) == 0)
				seen = true;
			off += (ssize_t) (sizeof(*e) + e->len);
		}
	}
	testlib_daemon_kill(&f->d);
	pthread_join(th, NULL);
	rpc_client_free(a.c);
	close(pfd.fd);
	assert_true(seen);
	return count_temps(f->dir) > 0;
}

// Start the daemon: no temp file is left once it is ready.
// @return how many it said it removed.
static int
start_removing_temps(fixture *f, int round)
{
	assert_int_equal(start_daemon(f, NULL), 0);
	if (count_temps(f->dir) != 0)
		fail_msg(
		    "round %d: a temp file is left after the start", round);
	return testlib_daemon_count_log(
	    &f->d, "event=store.stale_temp_removed");
}

// The config file holds @p old or @p new, whole, and the daemon serves
// it (the generation it started on). @return the one it holds.
static const char *
on_disk_old_or_new(fixture *f, const char *old, const char *new)
{
	char       *text = NULL;
	const char *is   = NULL;

	assert_true(testlib_capture(&text, "cat '%s'", f->config) >= 0);
	if (strcmp(text, old) == 0)
		is = old;
	else if (strcmp(text, new) == 0)
		is = new;
	free(text);
	if (is == NULL)
		fail_msg("%s is neither the old config nor the new", f->config);
	connect_client(f, f->ipc);
	expect(f->cli, UNSET, "sc-00042", 1,
	    is == config_a ? "global" : "storageClass");
	return is;
}

// ApplyConfig killed mid-write, 20 times over, with an apply let through
// every fourth round: every start removes the temp file the kill left
// (and logs it), and what is on disk is always the old config or the new
// one, whole.
static void
test_policyd__kill_during_apply_leaves_no_temp_behind(void **state)
{
	fixture    *f = *state;
	char       *yaml[2];
	char        precious[700];
	const char *on_disk = config_a, *next = NULL;
	int         left = 0, logged = 0, kills = 0;
	apply_resp *a = NULL;

	yaml[0] = big_config(20000, true);
	yaml[1] = big_config(20000, false);
	write_file(f->config, config_a);
	// Beside the config, names that are not its temp files are kept.
	snprintf(
	    precious, sizeof(precious), "%s/cdiconfig.yaml.tmpKEEP", f->dir);
	write_file(precious, "not ours\n");
	for (int round = 0; round < 20; round++) {
		logged += start_removing_temps(f, round);
		on_disk = on_disk_old_or_new(f, on_disk, next ? next : on_disk);
		next    = yaml[round % 2];
		if (round % 4 == 3) {
			connect_client(f, f->ipc);
			assert_int_equal(
			    apply(f->cli, next, 0, &a, NULL), PA_OK);
			protobuf_c_message_free_unpacked(&a->base, NULL);
			assert_int_equal(testlib_daemon_stop(&f->d), 0);
			on_disk = next;
			continue;
		}
		left += apply_and_kill(f, next);
		kills++;
	}
	logged += start_removing_temps(f, 20);
	on_disk_old_or_new(f, on_disk, next);
	printf("# %d applies killed mid-write: %d left a temp file, %d "
	       "removed at start\n",
	    kills, left, logged);
	assert_true(left > 0); // else no kill landed mid-write
	assert_int_equal(logged, left);
	assert_int_equal(access(precious, F_OK), 0);
	free(yaml[0]);
	free(yaml[1]);
}

static uint64_t
generation_now(rpc_client *c)
{
	getconfig_resp *g   = get_config(c);
	uint64_t        gen = g->generation;

	protobuf_c_message_free_unpacked(&g->base, NULL);
	return gen;
}

static const char *config_b = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                              "kind: CDIConfig\n"
                              "spec:\n"
                              "  preallocation:\n"
                              "    global: false\n";

// Anyone who can reach a tcp:// port is no one in particular: refused,
// with nothing changed, while reads stay open there.
static void
test_policyd__apply_over_tcp_is_permission_denied(void **state)
{
	fixture    *f   = *state;
	apply_resp *a   = NULL;
	pa_err      err = PA_ERR_INIT;
	char        url[128];

	write_file(f->config, config_a);
	assert_int_equal(start_daemon(f, "tcp://127.0.0.1:0"), 0);
	assert_int_equal(testlib_daemon_log_value(
	                     &f->d, "url=tcp://", "url", url, sizeof(url)),
	    0);
	connect_client(f, url);
	assert_int_equal(generation_now(f->cli), 1);
	assert_int_equal(
	    apply(f->cli, config_b, 0, &a, &err), PA_PERMISSION_DENIED);
	assert_non_null(strstr(err.msg, "tcp:// is refused"));
	assert_non_null(strstr(err.msg, "ipc://"));
	assert_int_equal(generation_now(f->cli), 1);
	expect(f->cli, UNSET, "", 1, "global");
	// The same apply over ipc:// as root goes through.
	connect_client(f, f->ipc);
	assert_int_equal(apply(f->cli, config_b, 1, &a, &err), PA_OK);
	assert_int_equal(a->generation, 2);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=policy.apply_denied"), 1);
}

#define NOBODY 65534

// Run this test program again as uid and gid NOBODY to apply config_b
// over @p url (see apply_as_child()); its one line of output goes to
// @p msg. Exec'd afresh, since a forked copy of a process with nng's
// threads cannot use nng.
static int
apply_as_nobody(const char *url, char *msg, size_t size)
{
	int     fds[2], st = 0;
	ssize_t n;
	pid_t   pid;

	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
		    setuid(NOBODY) != 0)
			_exit(100);
		execl("/proc/self/exe", "policyd_test", "--apply-as-child", url,
		    (char *) NULL);
		_exit(101);
	}
	close(fds[1]);
	n                  = read(fds[0], msg, size - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

// The child's side: apply config_b over @p url, print the error, exit
// with the status code.
static int
apply_as_child(const char *url)
{
	rpc_client *c   = NULL;
	apply_resp *a   = NULL;
	pa_err      err = PA_ERR_INIT;
	int         rc;

	if ((rc = rpc_client_new(&c, url, NULL, &err)) == PA_OK &&
	    (rc = apply(c, config_b, 0, &a, &err)) == PA_OK)
		protobuf_c_message_free_unpacked(&a->base, NULL);
	printf("%s\n", rc == PA_OK ? "ok" : err.msg);
	rpc_client_free(c);
	return rc;
}

// A socket NOBODY can reach: the directory searchable, the socket 0666.
static void
start_for_nobody(fixture *f, const char *allow)
{
	const char *extra[] = { "--ipc-mode", "0666",
		allow ? "--apply-allow-uid" : NULL, allow, NULL };

	assert_int_equal(chmod(f->dir, 0711), 0);
	write_file(f->config, config_a);
	assert_int_equal(start_daemon_with(f, extra), 0);
	connect_client(f, f->ipc);
}

static void
test_policyd__apply_over_ipc_by_another_uid_is_refused(void **state)
{
	fixture *f = *state;
	char     msg[512];

	start_for_nobody(f, NULL);
	assert_int_equal(
	    apply_as_nobody(f->ipc, msg, sizeof(msg)), PA_PERMISSION_DENIED);
	assert_non_null(strstr(msg, "uid 65534 (gid 65534) is not allowed"));
	assert_int_equal(generation_now(f->cli), 1);
	// Reads stay open to it... and root still applies.
	expect(f->cli, UNSET, "", 1, "global");
}

static void
test_policyd__apply_allow_uid_lets_that_uid_apply(void **state)
{
	fixture *f = *state;
	char     msg[512];

	start_for_nobody(f, "65534");
	assert_int_equal(apply_as_nobody(f->ipc, msg, sizeof(msg)), PA_OK);
	assert_string_equal(msg, "ok\n");
	assert_int_equal(generation_now(f->cli), 2);
}

// Mutual TLS proves the client holds a certificate of the CA, but nng
// 1.5.2 cannot say which one, so no certificate is allowed to apply.
static void
test_policyd__apply_over_mutual_tls_is_refused(void **state)
{
	fixture          *f = *state;
	char              crt[700], key[700], ca[700], ccrt[700], ckey[700];
	const char *const extra[] = { "--listen", "tls+tcp://127.0.0.1:0",
		"--tls-cert", crt, "--tls-key", key, "--tls-ca", ca, NULL };
	rpc_client_opts   o       = RPC_CLIENT_OPTS_INIT;
	apply_resp       *a       = NULL;
	pa_err            err     = PA_ERR_INIT;
	char              url[128];

	if (tlscerts_make(f->dir) != 0) {
		fprintf(stderr, "SKIP: openssl cannot make certificates\n");
		skip();
	}
	snprintf(crt, sizeof(crt), "%s/server.crt", f->dir);
	snprintf(key, sizeof(key), "%s/server.key", f->dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", f->dir);
	snprintf(ccrt, sizeof(ccrt), "%s/client.crt", f->dir);
	snprintf(ckey, sizeof(ckey), "%s/client.key", f->dir);
	write_file(f->config, config_a);
	assert_int_equal(start_daemon_with(f, extra), 0);
	assert_int_equal(testlib_daemon_log_value(
	                     &f->d, "url=tls+tcp://", "url", url, sizeof(url)),
	    0);
	o.tls_server_name = "localhost"; // as the server's certificate says
	o.connect_ms      = 1000;
	o.tls             = (rpc_tls_files) { ccrt, ckey, ca };
	assert_int_equal(rpc_client_new(&f->cli, url, &o, NULL), PA_OK);
	assert_int_equal(generation_now(f->cli), 1);
	assert_int_equal(
	    apply(f->cli, config_b, 0, &a, &err), PA_PERMISSION_DENIED);
	assert_non_null(strstr(err.msg, "tls+tcp:// is refused"));
	assert_int_equal(generation_now(f->cli), 1);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, policyd_setup, policyd_teardown)

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--apply-as-child") == 0)
		return apply_as_child(argv[2]);
	const struct CMUnitTest tests[] = {
		T(test_policyd__precedence_over_ipc_and_tcp),
		T(test_policyd__invalid_storage_class_is_invalid_argument),
		T(test_policyd__missing_file_serves_the_default),
		T(test_policyd__config_directory_made_after_start),
		T(test_policyd__apply_makes_the_config_directory),
		T(test_policyd__rewrite_changes_the_answer),
		T(test_policyd__broken_file_keeps_last_good),
		T(test_policyd__config_removed_and_restored_clears_the_error),
		T(test_policyd__configmap_symlink_swap),
		T(test_policyd__apply_to_a_configmap_mount_or_a_link_is_refused),
		T(test_policyd__sighup_reloads),
		T(test_policyd__apply_config_with_generations),
		T(test_policyd__apply_over_tcp_is_permission_denied),
		T(test_policyd__apply_over_ipc_by_another_uid_is_refused),
		T(test_policyd__apply_allow_uid_lets_that_uid_apply),
		T(test_policyd__apply_over_mutual_tls_is_refused),
		T(test_policyd__apply_to_read_only_file_is_failed_precondition),
		T(test_policyd__kill_during_apply_leaves_no_temp_behind),
		T(test_policyd__metrics_count_requests_and_decisions),
		T(test_policyd__nul_in_a_string_is_invalid_argument),
		T(test_policyd__answers_stay_whole_under_200_rewrites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
