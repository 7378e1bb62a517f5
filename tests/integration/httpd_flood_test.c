// SPDX-License-Identifier: Apache-2.0
// httpd_flood_test.c: a real prealloc-policyd under a 1,024-descriptor
// limit against 1,100 slow HTTP clients, and the limits options around it.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h" // tests/lib: start, log, HTTP
#include "fdbudget.h"
#include "promtext.h"
#include "rpc_client.h"
#include "rpctest.h"
#include "testlib.h"

#define FLOOD 1100       // slow clients, more than the limit
#define NOFILE 1024      // the daemon's limit, soft and hard
#define HTTP_TIMEOUT_S 5 // --http-timeout for the flood
#define FRESH_CLIENTS 20 // RPC clients that connect during the flood
#define CALLS_PER_CLIENT 5

typedef struct fixture {
	char          *dir;
	char           config[600];
	char           prlimit[256];
	char           http[64];
	char           rpc[300];
	testlib_daemon d;
	int            flood[FLOOD];
	int            nflood;
} fixture;

static void
raise_own_nofile(rlim_t want)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want)
		rl.rlim_max = want; // root may raise the hard limit
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		testlib_skip_all("this test needs %lu descriptors of its own",
		    (unsigned long) want);
}

static int
httpd_flood_setup(void **state)
{
	fixture *f   = calloc(1, sizeof(*f));
	char    *out = NULL;

	if (testlib_capture(&out, "command -v prlimit") != 0)
		testlib_skip_all("prlimit (util-linux) is not installed");
	snprintf(f->prlimit, sizeof(f->prlimit), "%.*s",
	    (int) strcspn(out, "\n"), out);
	free(out);
	raise_own_nofile(FLOOD + 512);
	f->dir = testlib_tmpdir("httpd_flood");
	// Missing: the daemon serves its embedded default config.
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", f->dir);
	for (int i = 0; i < FLOOD; i++)
		f->flood[i] = -1;
	*state = f;
	return 0;
}

static int
httpd_flood_teardown(void **state)
{
	fixture *f = *state;

	for (int i = 0; i < f->nflood; i++)
		if (f->flood[i] >= 0)
			close(f->flood[i]);
	testlib_daemon_kill(&f->d);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

// Start policyd under `prlimit --nofile=@p nofile`, with @p extra options
// (NULL-terminated, at most 8), and read where it listens.
static void
start_daemon(fixture *f, const char *nofile, const char *const *extra)
{
	char        logpath[700], limit[64];
	const char *argv[32] = { f->prlimit, limit, "--",
		testlib_built("service/prealloc-policyd"), "--config",
		f->config, "--listen", "tcp://127.0.0.1:0", "--http",
		"127.0.0.1:0" };
	int         n        = 10;

	snprintf(limit, sizeof(limit), "--nofile=%s", nofile);
	for (int i = 0; extra != NULL && extra[i] != NULL && i < 8; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(logpath, sizeof(logpath), "%s/policyd.log", f->dir);
	if (testlib_daemon_start(
	        &f->d, logpath, "policyd.ready", (char *const *) argv) != 0)
		fail_msg("prealloc-policyd did not start");
	assert_int_equal(
	    testlib_daemon_log_value(&f->d, "event=policyd.http_listening",
	        "addr", f->http, sizeof(f->http)),
	    0);
	assert_int_equal(
	    testlib_daemon_log_value(&f->d, "event=policyd.listening", "url",
	        f->rpc, sizeof(f->rpc)),
	    0);
}

// A number from the daemon's "event=policyd.limits" line.
static long
limits_value(fixture *f, const char *key)
{
	char buf[64];

	if (testlib_daemon_log_value(
	        &f->d, "event=policyd.limits", key, buf, sizeof(buf)) != 0)
		fail_msg("no %s= on the policyd.limits line", key);
	return atol(buf);
}

// @return how many descriptors process @p pid has open.
static int
open_fds(pid_t pid)
{
	char           path[64];
	DIR           *d;
	struct dirent *e;
	int            n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

// Connect and send part of a request header, then nothing: a slow client.
// One the daemon refuses is reset; it is kept all the same, as a flood's
// client would keep trying.
static int
slow_client(const char *hostport)
{
	static const char  part[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	struct sockaddr_in sa     = { .sin_family = AF_INET };
	int                fd     = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_port        = htons((uint16_t) atoi(strrchr(hostport, ':') + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	// A reset can come before connect() returns: refused all the same.
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 &&
	    errno != ECONNRESET)
		fail_msg("connect to %s: %s", hostport, strerror(errno));
	(void) send(fd, part, strlen(part), MSG_NOSIGNAL);
	return fd;
}

static double
metric(const char *body, const char *series)
{
	double v = -1;

	if (promtext_value(&v, body, series) != 0)
		fail_msg("/metrics has no %s", series);
	return v;
}

// One call on a client made for it, as an importer would.
static void
fresh_client_call(fixture *f, int i)
{
	rpc_client *c   = NULL;
	pa_err      err = PA_ERR_INIT;
	char        dv[32], echo[64];

	snprintf(dv, sizeof(dv), "dv-%d", i);
	assert_int_equal(rpc_client_new(&c, f->rpc, NULL, &err), PA_OK);
	if (rpctest_echo(c, dv, "", 5000, echo, sizeof(echo), &err) != PA_OK)
		fail_msg("RPC %d during the flood: %s", i, err.msg);
	rpc_client_free(c);
}

static void
test_httpd_flood__rpc_and_health_survive_slow_clients(void **state)
{
	static const char *const extra[] = { "--http-timeout", "5", NULL };
	fixture                 *f       = *state;
	rpc_client              *c       = NULL;
	pa_err                   err     = PA_ERR_INIT;
	char                    *body    = NULL, why[256];
	long                     rpc_cap, http_cap;
	int                      base, most = 0, healthy = -1;
	uint64_t                 flooded;

	start_daemon(f, "1024:1024", extra);
	// The defaults shrank to fit 1,024 less the reserve.
	assert_int_equal(limits_value(f, "nofile"), NOFILE);
	rpc_cap  = limits_value(f, "max_conns");
	http_cap = limits_value(f, "http_max_conns");
	assert_true(rpc_cap >= 1 && http_cap >= 1);
	assert_true(rpc_cap + http_cap <= NOFILE - FDBUDGET_RESERVE);
	assert_int_equal(rpc_client_new(&c, f->rpc, NULL, &err), PA_OK);
	base = open_fds(f->d.pid);

	for (f->nflood = 0; f->nflood < FLOOD; f->nflood++)
		f->flood[f->nflood] = slow_client(f->http);
	flooded = testlib_now_ns();
	usleep(200 * 1000); // let the daemon take what it will
	// The flood holds the HTTP cap's worth of descriptors, no more.
	most = open_fds(f->d.pid);
	assert_true(most >= base + http_cap);
	assert_true(most < NOFILE);

	for (int i = 0; i < FRESH_CLIENTS; i++) {
		int n;

		fresh_client_call(f, i);
		for (int k = 0; k < CALLS_PER_CLIENT; k++)
			assert_int_equal(
			    rpctest_echo(c, "dv", "", 5000, NULL, 0, &err),
			    PA_OK);
		if ((n = open_fds(f->d.pid)) > most)
			most = n;
		assert_true(most < NOFILE);
	}
	// All of it while the slow clients still held their connections.
	assert_true(
	    testlib_now_ns() - flooded < HTTP_TIMEOUT_S * 1000000000ull);

	// The header timeout frees the cap, and /healthz answers again.
	while (
	    testlib_now_ns() - flooded < (HTTP_TIMEOUT_S + 1) * 1000000000ull) {
		if (testlib_http_get(f->http, "/healthz", &body) == 200) {
			healthy = 1;
			break;
		}
		free(body);
		body = NULL;
		usleep(100 * 1000);
	}
	free(body);
	if (healthy != 1)
		fail_msg("/healthz still down %.1f s after the flood",
		    (double) (testlib_now_ns() - flooded) / 1e9);

	// The first timeout freed a slot for /healthz; the rest of the cap's
	// connections time out within moments (they were opened one by one).
	for (int tries = 0;; tries++) {
		assert_int_equal(
		    testlib_http_get(f->http, "/metrics", &body), 200);
		if (metric(body, "prealloc_http_header_timeouts_total") >=
		        http_cap ||
		    tries == 20)
			break;
		free(body);
		usleep(100 * 1000);
	}
	if (promtext_check(why, sizeof(why), body) != 0)
		fail_msg("/metrics does not parse: %s", why);
	assert_int_equal(
	    metric(body, "prealloc_http_max_connections"), http_cap);
	assert_int_equal(metric(body, "prealloc_rpc_max_connections"), rpc_cap);
	assert_true(metric(body, "prealloc_http_connections_refused_total") >=
	    FLOOD - http_cap);
	assert_int_equal(
	    metric(body, "prealloc_http_header_timeouts_total"), http_cap);
	assert_true(metric(body, "prealloc_http_connections") >= 1);
	// The RPC side's figures come from the RPC layer; here only that
	// /metrics carries them.
	assert_true(metric(body, "prealloc_rpc_connections") >= 0);
	assert_true(
	    metric(body, "prealloc_rpc_connections_refused_total") >= 0);
	assert_int_equal(metric(body, "prealloc_process_max_fds"), NOFILE);
	assert_true(metric(body, "prealloc_process_open_fds") < NOFILE);
	free(body);
	print_message("open descriptors: %d at rest, %d at most during the "
	              "flood (limit %d, caps rpc %ld http %ld)\n",
	    base, most, NOFILE, rpc_cap, http_cap);
	rpc_client_free(c);
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
}

// Run policyd under `prlimit --nofile=1024:1024` with @p opts and no wait.
// @return its exit status; *out holds what it printed.
static int
run_policyd(fixture *f, char **out, const char *opts)
{
	char *text = NULL;
	int   rc;

	assert_int_equal(
	    testlib_capture(&text,
	        "%s --nofile=1024:1024 -- '%s' --config '%s' "
	        "--listen tcp://127.0.0.1:0 --http 127.0.0.1:0 "
	        "%s 2>&1; echo \"exit=$?\"",
	        f->prlimit, testlib_built("service/prealloc-policyd"),
	        f->config, opts),
	    0);
	assert_non_null(strstr(text, "exit="));
	rc   = atoi(strstr(text, "exit=") + 5);
	*out = text;
	return rc;
}

static void
test_httpd_flood__caps_that_do_not_fit_exit_2(void **state)
{
	fixture *f   = *state;
	char    *out = NULL;

	assert_int_equal(
	    run_policyd(f, &out, "--max-conns 1000 --http-max-conns 100"), 2);
	assert_non_null(strstr(out,
	    "--max-conns 1000 and --http-max-conns "
	    "100 need 1100 descriptors"));
	assert_non_null(strstr(out, "the limit 1024 leaves 960 after 64"));
	assert_non_null(strstr(out, "Try 'prealloc-policyd --help'."));
	free(out);
	// Alone, a cap still needs one connection of the other side.
	assert_int_equal(run_policyd(f, &out, "--max-conns 960"), 2);
	assert_non_null(strstr(out, "--max-conns 960 needs 961 descriptors"));
	free(out);
	assert_int_equal(run_policyd(f, &out, "--http-max-conns 5000"), 2);
	assert_non_null(strstr(out, "--http-max-conns 5000 needs 5001"));
	free(out);
}

static void
test_httpd_flood__bad_values_exit_2(void **state)
{
	fixture *f   = *state;
	char    *out = NULL;

	assert_int_equal(run_policyd(f, &out, "--max-conns 0"), 2);
	assert_non_null(strstr(out, "--max-conns wants a number from 1"));
	free(out);
	assert_int_equal(run_policyd(f, &out, "--http-timeout x"), 2);
	assert_non_null(strstr(out, "--http-timeout wants a number from 1"));
	free(out);
	assert_int_equal(
	    run_policyd(f, &out, "--ipc-group no-such-group-here"), 2);
	assert_non_null(
	    strstr(out, "--ipc-group: no group 'no-such-group-here'"));
	free(out);
}

static void
test_httpd_flood__soft_limit_is_raised_to_the_hard_one(void **state)
{
	static const char *const extra[] = { "--ipc-group", "0", NULL };
	fixture                 *f       = *state;
	char                    *body    = NULL;

	start_daemon(f, "256:2048", extra);
	assert_int_equal(limits_value(f, "nofile_was"), 256);
	assert_int_equal(limits_value(f, "nofile"), 2048);
	// 2,048 holds both defaults.
	assert_int_equal(
	    limits_value(f, "max_conns"), FDBUDGET_DEFAULT_RPC_CONNS);
	assert_int_equal(
	    limits_value(f, "http_max_conns"), FDBUDGET_DEFAULT_HTTP_CONNS);
	assert_int_equal(limits_value(f, "http_timeout_s"), 10);
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	assert_int_equal(metric(body, "prealloc_process_max_fds"), 2048);
	free(body);
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
}

static void
test_httpd_flood__help_lists_the_limits_options(void **state)
{
	char *out = NULL;

	(void) state;
	assert_int_equal(testlib_capture(&out, "'%s' --help",
	                     testlib_built("service/prealloc-policyd")),
	    0);
	assert_non_null(strstr(out, "--max-conns N"));
	assert_non_null(strstr(out, "--http-max-conns N"));
	assert_non_null(strstr(out, "--http-timeout SECS"));
	assert_non_null(strstr(out, "--ipc-group GROUP"));
	assert_non_null(strstr(out, "64 descriptors kept back"));
	free(out);
}

#define T(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, httpd_flood_setup, httpd_flood_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_httpd_flood__rpc_and_health_survive_slow_clients),
		T(test_httpd_flood__caps_that_do_not_fit_exit_2),
		T(test_httpd_flood__bad_values_exit_2),
		T(test_httpd_flood__soft_limit_is_raised_to_the_hard_one),
		T(test_httpd_flood__help_lists_the_limits_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
