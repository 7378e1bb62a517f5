// SPDX-License-Identifier: Apache-2.0
// rpc_transport_test.c: the RPC layer over ipc, tcp and tls+tcp, with
// certificates made by openssl(1) at test time.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		cmocka_unit_test(test_rpc_transport__url_host_for_name_checks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
