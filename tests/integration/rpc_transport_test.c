// SPDX-License-Identifier: Apache-2.0
// rpc_transport_test.c: the RPC layer over ipc, tcp and tls+tcp, with
// certificates made by openssl(1) at test time.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpctest.h"
#include "tlscerts.h"
#include "testlib.h"

static char *dir; // certificates for the whole group

static char *
path(const char *name)
{
	static char buf[8][512];
	static int  next;
	char       *p = buf[next++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static int
group_setup(void **state)
{
	if (!testlib_have_program("openssl"))
		testlib_skip_all(
		    "openssl(1) is missing: apt-get install openssl");
	dir = testlib_tmpdir("rpctls");
	if (tlscerts_make(dir) != 0) {
		fprintf(stderr, "openssl could not make test certificates\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}

// Start a server on @p url, call it once with @p copts, and return the code.
static int
echo_once(const char *url, const rpc_server_opts *sopts,
    const rpc_client_opts *copts, pa_err *err)
{
	rpctest_server s;
	rpc_client    *c        = NULL;
	char           echo[32] = "";
	int            rc;

	rpctest_start(&s, url, sopts);
	if (copts != NULL && copts->tls.ca != NULL) {
		// mbedTLS 2.28 matches DNS names only, not IP addresses in
		// subjectAltName, so name the server as its certificate does.
		rpc_client_opts named = *copts;

		named.tls_server_name = "localhost";
		assert_int_equal(rpc_client_new(&c, s.url, &named, err), PA_OK);
	} else {
		assert_int_equal(rpc_client_new(&c, s.url, copts, err), PA_OK);
	}
	rc = rpctest_echo(c, "hello", "", 3000, echo, sizeof(echo), err);
	if (rc == PA_OK)
		assert_string_equal(echo, "hello");
	rpc_client_free(c);
	rpctest_stop(&s);
	return rc;
}

static void
test_rpc_transport__ipc(void **state)
{
	char url[600];

	rpctest_ipc_url(url, sizeof(url), dir, "t");
	assert_int_equal(echo_once(url, NULL, NULL, NULL), PA_OK);
}

static void
test_rpc_transport__tcp(void **state)
{
	assert_int_equal(
	    echo_once("tcp://127.0.0.1:0", NULL, NULL, NULL), PA_OK);
}

static void
test_rpc_transport__tls_verifies_the_server(void **state)
{
	rpc_server_opts s = RPC_SERVER_OPTS_INIT;
	rpc_client_opts c = RPC_CLIENT_OPTS_INIT;

	s.tls =
	    (rpc_tls_files) { path("server.crt"), path("server.key"), NULL };
	c.tls = (rpc_tls_files) { NULL, NULL, path("ca.crt") };
	assert_int_equal(
	    echo_once("tls+tcp://127.0.0.1:0", &s, &c, NULL), PA_OK);
}

static void
test_rpc_transport__tls_refuses_a_server_from_another_ca(void **state)
{
	rpc_server_opts s = RPC_SERVER_OPTS_INIT;
	rpc_client_opts c = RPC_CLIENT_OPTS_INIT;

	s.tls = (rpc_tls_files) { path("stranger.crt"), path("stranger.key"),
		NULL };
	c.tls = (rpc_tls_files) { NULL, NULL, path("ca.crt") };
	c.connect_ms = 500;
	assert_int_equal(
	    echo_once("tls+tcp://127.0.0.1:0", &s, &c, NULL), PA_UNAVAILABLE);
}

static void
test_rpc_transport__mutual_tls_accepts_a_signed_client(void **state)
{
	rpc_server_opts s = RPC_SERVER_OPTS_INIT;
	rpc_client_opts c = RPC_CLIENT_OPTS_INIT;

	s.tls = (rpc_tls_files) { path("server.crt"), path("server.key"),
		path("ca.crt") };
	c.tls = (rpc_tls_files) { path("client.crt"), path("client.key"),
		path("ca.crt") };
	assert_int_equal(
	    echo_once("tls+tcp://127.0.0.1:0", &s, &c, NULL), PA_OK);
}

static void
test_rpc_transport__mutual_tls_refuses_a_client_without_cert(void **state)
{
	rpc_server_opts s   = RPC_SERVER_OPTS_INIT;
	rpc_client_opts c   = RPC_CLIENT_OPTS_INIT;
	pa_err          err = PA_ERR_INIT;

	s.tls        = (rpc_tls_files) { path("server.crt"), path("server.key"),
		       path("ca.crt") };
	c.tls        = (rpc_tls_files) { NULL, NULL, path("ca.crt") };
	c.connect_ms = 500;
	assert_int_equal(
	    echo_once("tls+tcp://127.0.0.1:0", &s, &c, &err), PA_UNAVAILABLE);
}

static void
test_rpc_transport__mutual_tls_refuses_a_client_from_another_ca(void **state)
{
	rpc_server_opts s = RPC_SERVER_OPTS_INIT;
	rpc_client_opts c = RPC_CLIENT_OPTS_INIT;

	s.tls = (rpc_tls_files) { path("server.crt"), path("server.key"),
		path("ca.crt") };
	c.tls = (rpc_tls_files) { path("stranger.crt"), path("stranger.key"),
		path("ca.crt") };
	c.connect_ms = 500;
	assert_int_equal(
	    echo_once("tls+tcp://127.0.0.1:0", &s, &c, NULL), PA_UNAVAILABLE);
}

static void
test_rpc_transport__tls_listener_needs_cert_and_key(void **state)
{
	rpc_server_opts opts = RPC_SERVER_OPTS_INIT;
	rpc_server     *s    = NULL;
	pa_err          err  = PA_ERR_INIT;

	assert_int_equal(rpc_server_new(&s, &opts, NULL), PA_OK);
	assert_int_equal(rpc_server_listen(s, "tls+tcp://127.0.0.1:0", &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "certificate"));
	rpc_server_free(s);

	opts.tls =
	    (rpc_tls_files) { path("missing.crt"), path("server.key"), NULL };
	assert_int_equal(rpc_server_new(&s, &opts, NULL), PA_OK);
	assert_int_equal(
	    rpc_server_listen(s, "tls+tcp://127.0.0.1:0", &err), PA_NOT_FOUND);
	assert_non_null(strstr(err.msg, "missing.crt"));
	rpc_server_free(s);
}

// An idle connection as a flood makes one: TCP, the SP greeting of a REQ
// peer, and then nothing. @return the socket.
static int
flood_open(unsigned port)
{
	static const unsigned char req0[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
	struct sockaddr_in         sa      = { .sin_family = AF_INET,
		             .sin_port                     = htons((uint16_t) port),
		             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int                        fd      = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req0, sizeof(req0)), (ssize_t) sizeof(req0));
	return fd;
}

// Did the server close @p fd? Its greeting may come first.
static int
flood_closed(int fd)
{
	char    buf[64];
	ssize_t n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void
assert_echo(rpc_client *c, const char *who)
{
	char   echo[32] = "";
	pa_err err      = PA_ERR_INIT;

	if (rpctest_echo(c, who, "", 3000, echo, sizeof(echo), &err) != PA_OK)
		fail_msg("%s got no answer: %s", who, err.msg);
	assert_string_equal(echo, who);
}

// The cap evicts the idle connection that stopped changing first, so an
// idle flood cannot hold every slot: a client that was there before it
// keeps getting answers (it reconnects when it is the one evicted), and
// a client arriving after it gets one too.
static void
test_rpc_transport__idle_flood_is_capped_and_good_clients_answered(void **state)
{
	rpc_server_opts  opts = RPC_SERVER_OPTS_INIT;
	rpctest_server   s;
	rpc_server_stats st;
	rpc_client      *good = NULL, *late = NULL;
	unsigned         port = 0;
	int              fds[200], closed = 0;
	uint64_t         most = 0;

	opts.max_conns = 50;
	rpctest_start(&s, "tcp://127.0.0.1:0", &opts);
	assert_int_equal(sscanf(s.url, "tcp://127.0.0.1:%u", &port), 1);
	assert_int_equal(rpc_client_new(&good, s.url, NULL, NULL), PA_OK);
	assert_echo(good, "good");
	for (int i = 0; i < 200; i++) {
		fds[i] = flood_open(port);
		if (i % 20 == 19) {
			assert_echo(good, "good");
			rpc_server_get_stats(&st, s.srv);
			most = st.conns > most ? st.conns : most;
		}
	}
	usleep(300 * 1000); // the last handshakes reach the server
	rpc_server_get_stats(&st, s.srv);
	most = st.conns > most ? st.conns : most;
	assert_true(most <= 50);
	assert_true(st.conns > 0);
	// 201 connections came for 50 places; the flood's own have gone.
	assert_true(st.conns_refused >= 151);
	assert_echo(good, "good");
	assert_int_equal(rpc_client_new(&late, s.url, NULL, NULL), PA_OK);
	assert_echo(late, "late");
	for (int i = 0; i < 200; i++) {
		closed += flood_closed(fds[i]);
		close(fds[i]);
	}
	fprintf(stderr,
	    "idle flood: at most %" PRIu64 " open, %" PRIu64
	    " closed by the cap, %d flood connections closed\n",
	    most, st.conns_refused, closed);
	assert_true(closed >= 150);
	rpc_server_get_stats(&st, s.srv);
	assert_true(st.conns <= 50);
	rpc_client_free(late);
	rpc_client_free(good);
	rpctest_stop(&s);
}

static void
test_rpc_transport__url_host_for_name_checks(void **state)
{
	char buf[64];

	assert_string_equal(
	    rpc_tls_url_host(buf, sizeof(buf), "tls+tcp://node-1:9651"),
	    "node-1");
	assert_string_equal(
	    rpc_tls_url_host(buf, sizeof(buf), "tls+tcp://[::1]:9651"), "::1");
	assert_true(rpc_tls_url("tls+tcp://x:1"));
	assert_false(rpc_tls_url("tcp://x:1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpc_transport__ipc),
		cmocka_unit_test(test_rpc_transport__tcp),
		cmocka_unit_test(test_rpc_transport__tls_verifies_the_server),
		cmocka_unit_test(
		    test_rpc_transport__tls_refuses_a_server_from_another_ca),
		cmocka_unit_test(
		    test_rpc_transport__mutual_tls_accepts_a_signed_client),
		cmocka_unit_test(
		    test_rpc_transport__mutual_tls_refuses_a_client_without_cert),
		cmocka_unit_test(
		    test_rpc_transport__mutual_tls_refuses_a_client_from_another_ca),
		cmocka_unit_test(
		    test_rpc_transport__tls_listener_needs_cert_and_key),
		cmocka_unit_test(
		    test_rpc_transport__idle_flood_is_capped_and_good_clients_answered),
		cmocka_unit_test(test_rpc_transport__url_host_for_name_checks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
