// SPDX-License-Identifier: Apache-2.0
// listen_test.c: the real daemons at start: what they do with what is at
// an ipc:// path, with a second daemon on the same path, with a loose
// umask, and with a TLS key that is not the certificate's.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_client.h"
#include "testlib.h"
#include "tlscerts.h"

#define SVC "/cdi.prealloc.v1.PreallocationPolicy/"

static char *certs; // certificates for the whole group

typedef struct fixture {
	char          *dir;
	char           config[600];
	char           sock[600]; // the ipc path
	char           url[620];  // ipc://<sock>
	testlib_daemon a;
} fixture;

static int
group_setup(void **state)
{
	certs = testlib_tmpdir("listen_certs");
	if (!testlib_have_program("openssl") || tlscerts_make(certs) != 0) {
		fprintf(stderr, "openssl could not make test certificates\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	testlib_rm_rf(certs);
	free(certs);
	return 0;
}

static int
listen_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("listen");
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/policy.sock", f->dir);
	snprintf(f->url, sizeof(f->url), "ipc://%s", f->sock);
	*state = f;
	return 0;
}

static int
listen_teardown(void **state)
{
	fixture *f = *state;

	testlib_daemon_kill(&f->a);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static const char *
policyd(void)
{
	return testlib_built("service/prealloc-policyd");
}

// Run prealloc-policyd on @p url until it exits (10 s at most: one that
// starts instead is killed), its stderr in @p out. @return its status.
static int
policyd_run(fixture *f, const char *url, const char *extra, char **out)
{
	return testlib_capture(out,
	    "timeout 10 '%s' --config '%s' --listen '%s' --http none %s 2>&1",
	    policyd(), f->config, url, extra != NULL ? extra : "");
}

static void
policyd_start(fixture *f, testlib_daemon *d, const char *logname)
{
	char  log[700];
	char *argv[] = { (char *) policyd(), "--config", f->config, "--listen",
		f->url, "--http", "none", NULL };

	snprintf(log, sizeof(log), "%s/%s", f->dir, logname);
	assert_int_equal(
	    testlib_daemon_start(d, log, "policyd.ready", argv), 0);
}

// One GetConfig over @p url. @return its status.
static int
get_config(const char *url)
{
	Cdi__Prealloc__V1__GetConfigRequest req =
	    CDI__PREALLOC__V1__GET_CONFIG_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	rpc_client       *c    = NULL;
	pa_err            err  = PA_ERR_INIT;
	int               rc;

	assert_int_equal(rpc_client_new(&c, url, NULL, NULL), PA_OK);
	rc = rpc_client_call(&resp, c, SVC "GetConfig", &req.base,
	    &cdi__prealloc__v1__get_config_response__descriptor, 3000, &err);
	if (rc != PA_OK)
		fprintf(stderr, "GetConfig on %s: %s\n", url, err.msg);
	else
		protobuf_c_message_free_unpacked(resp, NULL);
	rpc_client_free(c);
	return rc;
}

static char *
read_text(const char *path)
{
	char *out = NULL;

	assert_int_equal(testlib_capture(&out, "cat '%s'", path), 0);
	return out;
}

// Assert a failed start: status 1, @p want in its output, never ready.
static void
assert_start_failed(int status, char *out, const char *want)
{
	if (strstr(out, want) == NULL)
		fail_msg("wanted \"%s\" in:\n%s", want, out);
	assert_int_equal(status, 1);
	assert_null(strstr(out, "event=policyd.ready"));
	assert_non_null(strstr(out, "event=policyd.start_failed"));
	free(out);
}

static void
test_listen__regular_file_at_the_ipc_path_is_left_alone(void **state)
{
	fixture *f   = *state;
	char    *out = NULL, *kept;
	char     want[700];
	int      rc;

	testlib_write_text(f->sock, "precious\n");
	rc = policyd_run(f, f->url, NULL, &out);
	snprintf(want, sizeof(want),
	    "%s is a regular file, not a socket; it is left alone", f->sock);
	assert_start_failed(rc, out, want);
	kept = read_text(f->sock);
	assert_string_equal(kept, "precious\n");
	free(kept);
}

static void
test_listen__symlink_at_the_ipc_path_is_left_alone(void **state)
{
	fixture    *f = *state;
	char        target[700], want[700], *out = NULL, *kept;
	struct stat st;
	int         rc;

	snprintf(target, sizeof(target), "%s/target", f->dir);
	testlib_write_text(target, "precious\n");
	assert_int_equal(symlink(target, f->sock), 0);
	rc = policyd_run(f, f->url, NULL, &out);
	snprintf(want, sizeof(want),
	    "%s is a symbolic link, not a socket; it is left alone", f->sock);
	assert_start_failed(rc, out, want);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	kept = read_text(target);
	assert_string_equal(kept, "precious\n");
	free(kept);
}

static void
test_listen__directory_at_the_ipc_path_is_left_alone(void **state)
{
	fixture    *f = *state;
	char        want[700], *out = NULL;
	struct stat st;
	int         rc;

	assert_int_equal(mkdir(f->sock, 0755), 0);
	snprintf(want, sizeof(want),
	    "%s is a directory, not a socket; it is left alone", f->sock);
	rc = policyd_run(f, f->url, NULL, &out);
	assert_start_failed(rc, out, want);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void
test_listen__agentd_leaves_a_regular_file_alone_too(void **state)
{
	fixture *f   = *state;
	char    *out = NULL, *kept;
	int      rc;

	testlib_write_text(f->sock, "precious\n");
	rc = testlib_capture(&out,
	    "timeout 10 '%s' --root '%s' --listen '%s' --http none 2>&1",
	    testlib_built("agent/prealloc-agentd"), f->dir, f->url);
	if (strstr(out, "is a regular file, not a socket") == NULL)
		fail_msg("agentd said:\n%s", out);
	assert_int_equal(rc, 1);
	assert_null(strstr(out, "event=agentd.ready"));
	free(out);
	kept = read_text(f->sock);
	assert_string_equal(kept, "precious\n");
	free(kept);
}

static void
test_listen__stale_socket_is_replaced(void **state)
{
	fixture           *f  = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat        st;
	int                fd;

	// A socket whose process has gone: bound, never listened, closed.
	assert_true(strlen(f->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->sock, strlen(f->sock) + 1);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	policyd_start(f, &f->a, "a.log");
	assert_int_equal(
	    testlib_daemon_count_log(&f->a, "event=rpc.ipc_stale_removed"), 1);
	assert_int_equal(get_config(f->url), PA_OK);
}

static void
test_listen__second_daemon_leaves_the_first_one_answering(void **state)
{
	fixture    *f   = *state;
	char       *out = NULL, want[700];
	struct stat before, after;
	int         rc;

	policyd_start(f, &f->a, "a.log");
	assert_int_equal(get_config(f->url), PA_OK);
	assert_int_equal(lstat(f->sock, &before), 0);
	snprintf(want, sizeof(want), "another process listens on %s", f->sock);
	rc = policyd_run(f, f->url, NULL, &out);
	assert_start_failed(rc, out, want);
	// The first keeps its very socket, and it still answers: a new
	// connection and a call on it.
	assert_int_equal(lstat(f->sock, &after), 0);
	assert_true(S_ISSOCK(after.st_mode));
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(get_config(f->url), PA_OK);
	assert_int_equal(get_config(f->url), PA_OK);
}

static void
test_listen__socket_mode_does_not_follow_the_umask(void **state)
{
	fixture    *f = *state;
	char        sub[300], log[700];
	struct stat st;
	char       *argv[] = { "/bin/sh", "-c", "umask 000; exec \"$0\" \"$@\"",
		      (char *) policyd(), "--config", f->config, "--listen", f->url,
		      "--http", "none", NULL };

	// In a directory the daemon makes, under umask 000.
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/policy.sock", sub);
	snprintf(f->url, sizeof(f->url), "ipc://%s", f->sock);
	snprintf(log, sizeof(log), "%s/a.log", f->dir);
	assert_int_equal(
	    testlib_daemon_start(&f->a, log, "policyd.ready", argv), 0);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(lstat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(get_config(f->url), PA_OK);
}

static void
test_listen__unsafe_directory_fails_the_start(void **state)
{
	fixture *f = *state;
	char     sub[700], url[800], want[800], *out = NULL;
	int      rc;

	snprintf(sub, sizeof(sub), "%s/open", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(url, sizeof(url), "ipc://%s/policy.sock", sub);
	snprintf(want, sizeof(want),
	    "ipc directory %s is writable by group or others without the "
	    "sticky bit (mode 0777)",
	    sub);
	rc = policyd_run(f, url, NULL, &out);
	assert_start_failed(rc, out, want);
}

static void
test_listen__wrong_tls_key_fails_the_start(void **state)
{
	fixture *f = *state;
	char     extra[1400], want[1400], *out = NULL;
	int      rc;

	snprintf(extra, sizeof(extra),
	    "--listen tls+tcp://127.0.0.1:0 --tls-cert '%s/server.crt' "
	    "--tls-key '%s/client.key'",
	    certs, certs);
	snprintf(want, sizeof(want),
	    "key %s/client.key does not match certificate %s/server.crt", certs,
	    certs);
	rc = policyd_run(f, f->url, extra, &out);
	assert_start_failed(rc, out, want);
	// The ipc listener it had opened first is gone with it.
	assert_int_equal(access(f->sock, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_listen__expired_tls_certificate_fails_the_start(void **state)
{
	fixture *f = *state;
	char     extra[1400], want[1400], *out = NULL;
	int      rc;

	snprintf(extra, sizeof(extra),
	    "--listen tls+tcp://127.0.0.1:0 --tls-cert '%s/expired.crt' "
	    "--tls-key '%s/expired.key'",
	    certs, certs);
	snprintf(want, sizeof(want),
	    "code=FAILED_PRECONDITION error=\"certificate %s/expired.crt "
	    "expired at 2020-01-02T00:00:00Z\"",
	    certs);
	rc = policyd_run(f, f->url, extra, &out);
	assert_start_failed(rc, out, want);
}

// The SHA-256 fingerprint of the certificate tls+tcp://127.0.0.1:@p port
// presents, as openssl s_client sees it, into @p fp ("" when none).
static void
served_fingerprint(char *fp, size_t size, const char *port)
{
	char *out = NULL;

	fp[0] = '\0';
	if (testlib_capture(&out,
	        "openssl s_client -connect 127.0.0.1:%s -CAfile '%s/ca.crt' "
	        "-cert '%s/client.crt' -key '%s/client.key' </dev/null "
	        "2>/dev/null | openssl x509 -noout -fingerprint -sha256",
	        port, certs, certs, certs) == 0)
		snprintf(fp, size, "%s", out);
	free(out);
}

static void
file_fingerprint(char *fp, size_t size, const char *name)
{
	char *out = NULL;

	assert_int_equal(testlib_capture(&out,
	                     "openssl x509 -in '%s/%s.crt' -noout -fingerprint "
	                     "-sha256",
	                     certs, name),
	    0);
	snprintf(fp, size, "%s", out);
	free(out);
}

// Wait up to 10 s for the daemon to serve the certificate whose
// fingerprint is @p want.
static bool
await_served(const char *port, const char *want)
{
	char fp[200];

	for (int i = 0; i < 100; i++) {
		served_fingerprint(fp, sizeof(fp), port);
		if (strcmp(fp, want) == 0)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

// kubelet's layout of a Secret: NAME -> ..data/NAME, ..data -> ..vN.
static void
secret_write(const char *dir, int v, const char *crt, const char *key)
{
	assert_int_equal(
	    testlib_run(
	        "mkdir -p '%s/..v%d' && "
	        "cp '%s/%s.crt' '%s/..v%d/tls.crt' && "
	        "cp '%s/%s.key' '%s/..v%d/tls.key' && cd '%s' && "
	        "ln -sfn ..v%d ..data_tmp && mv -T ..data_tmp ..data && "
	        "{ [ -L tls.crt ] || ln -s ..data/tls.crt tls.crt; } && "
	        "{ [ -L tls.key ] || ln -s ..data/tls.key tls.key; }",
	        dir, v, certs, crt, dir, v, certs, key, dir, v, dir, v),
	    0);
}

// cert-manager renews a Secret and kubelet swaps its files: new
// connections get the new certificate with no restart, and a renewal
// whose key is not its certificate's is refused while the old one stays.
static void
test_listen__renewed_certificate_is_loaded_without_a_restart(void **state)
{
	fixture *f = *state;
	char     tls[700], crt[800], key[800], ca[800], log[800], url[300];
	char     fp_server[200], fp_client[200], fp[200], *port;
	char *argv[] = { (char *) policyd(), "--config", f->config, "--listen",
		"tls+tcp://127.0.0.1:0", "--tls-cert", crt, "--tls-key", key,
		"--tls-ca", ca, "--http", "none", NULL };

	snprintf(tls, sizeof(tls), "%s/tls", f->dir);
	snprintf(crt, sizeof(crt), "%s/tls.crt", tls);
	snprintf(key, sizeof(key), "%s/tls.key", tls);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(log, sizeof(log), "%s/policyd.log", f->dir);
	secret_write(tls, 1, "server", "server");
	assert_int_equal(
	    testlib_daemon_start(&f->a, log, "policyd.ready", argv), 0);
	assert_int_equal(testlib_daemon_log_value(&f->a, "policyd.listening",
	                     "url", url, sizeof(url)),
	    0);
	assert_non_null(port = strrchr(url, ':'));
	port++;
	file_fingerprint(fp_server, sizeof(fp_server), "server");
	file_fingerprint(fp_client, sizeof(fp_client), "client");
	assert_true(await_served(port, fp_server));
	// A renewal that does not check out: logged, the old one kept.
	secret_write(tls, 2, "client", "server");
	assert_int_equal(
	    testlib_daemon_wait_log(&f->a, "event=rpc.tls_reload_failed", 5000),
	    0);
	served_fingerprint(fp, sizeof(fp), port);
	assert_string_equal(fp, fp_server);
	// A good one: served on the same port, the daemon never restarted.
	secret_write(tls, 3, "client", "client");
	assert_int_equal(
	    testlib_daemon_wait_log(&f->a, "event=rpc.tls_reloaded", 5000), 0);
	assert_true(await_served(port, fp_client));
	assert_int_equal(testlib_daemon_count_log(&f->a, "policyd.ready"), 1);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, listen_setup, listen_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_listen__regular_file_at_the_ipc_path_is_left_alone),
		T(test_listen__symlink_at_the_ipc_path_is_left_alone),
		T(test_listen__directory_at_the_ipc_path_is_left_alone),
		T(test_listen__agentd_leaves_a_regular_file_alone_too),
		T(test_listen__stale_socket_is_replaced),
		T(test_listen__second_daemon_leaves_the_first_one_answering),
		T(test_listen__socket_mode_does_not_follow_the_umask),
		T(test_listen__unsafe_directory_fails_the_start),
		T(test_listen__wrong_tls_key_fails_the_start),
		T(test_listen__expired_tls_certificate_fails_the_start),
		T(test_listen__renewed_certificate_is_loaded_without_a_restart),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
