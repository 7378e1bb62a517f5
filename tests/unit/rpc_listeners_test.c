// SPDX-License-Identifier: Apache-2.0
// rpc_listeners_test.c: a peer that closes during its handshake does not
// leave a listener deaf, and a TCP health probe restarts nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpctest.h"
#include "testlib.h"

#define STORM 50

typedef struct fixture {
	char          *dir;
	rpctest_server srv;
	rpc_client    *cli; // connected before the storm
} fixture;

static int
listeners_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("rpc-listeners");
	*state = f;
	return 0;
}

static int
listeners_teardown(void **state)
{
	fixture *f = *state;

	rpc_client_free(f->cli);
	if (f->srv.srv != NULL)
		rpctest_stop(&f->srv);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
start(fixture *f, const char *url)
{
	pa_err err = PA_ERR_INIT;

	rpctest_start(&f->srv, url, NULL);
	assert_int_equal(
	    rpc_client_new(&f->cli, f->srv.url, NULL, &err), PA_OK);
	assert_int_equal(
	    rpctest_echo(f->cli, "before", "", 5000, NULL, 0, &err), PA_OK);
}

// Connect to @p sa and close at once, @p n times, as a crashed client or
// a port probe does: half of them with a reset, half with a FIN.
static void
storm(const struct sockaddr *sa, socklen_t len, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = socket(sa->sa_family, SOCK_STREAM, 0);

		assert_true(fd >= 0);
		if (connect(fd, sa, len) == 0 && i % 2 == 1 &&
		    sa->sa_family == AF_INET) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(fd);
	}
}

static uint64_t
restarts(fixture *f)
{
	rpc_server_stats st;

	rpc_server_get_stats(&st, f->srv.srv);
	return st.listener_restarts;
}

// A fresh client gets its answer within @p ms.
static void
fresh_call_within(fixture *f, unsigned ms)
{
	rpc_client *c   = NULL;
	pa_err      err = PA_ERR_INIT;
	uint64_t    t0  = testlib_now_ns();
	char        echo[32];

	assert_int_equal(rpc_client_new(&c, f->srv.url, NULL, &err), PA_OK);
	if (rpctest_echo(c, "fresh", "", ms, echo, sizeof(echo), &err) != PA_OK)
		fail_msg(
		    "a new client got no answer in %u ms: %s", ms, err.msg);
	assert_string_equal(echo, "fresh");
	print_message("a new client answered %.0f ms after the storm\n",
	    (double) (testlib_now_ns() - t0) / 1e6);
	rpc_client_free(c);
}

// Over ipc://, one client that closes before the server's greeting stops
// an nng 1.5.2 listener for good; the guard listens again, and both new
// clients and the ones connected before get their answers. Whether a
// close lands before the greeting is a race, so storms go on until one
// has stopped the listener, each followed by a new client's call.
static void
test_rpc_listeners__ipc_peers_closing_mid_handshake_do_not_deafen(void **state)
{
	fixture           *f  = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char               url[512];
	pa_err             err    = PA_ERR_INIT;
	int                storms = 0;

	rpctest_ipc_url(url, sizeof(url), f->dir, "srv");
	start(f, url);
	assert_true(strlen(url) - strlen("ipc://") < sizeof(sa.sun_path));
	memcpy(sa.sun_path, url + strlen("ipc://"),
	    strlen(url) - strlen("ipc://") + 1);
	while (restarts(f) == 0 && storms++ < 20) {
		storm((struct sockaddr *) &sa, sizeof(sa), STORM);
		fresh_call_within(f, 5000);
	}
	print_message("%d storms of %d connections; %llu restarts\n", storms,
	    STORM, (unsigned long long) restarts(f));
	if (restarts(f) == 0)
		fail_msg("no storm stopped the listener: nothing was tested");
	// The client connected before reconnects and is answered too.
	assert_int_equal(
	    rpctest_echo(f->cli, "after", "", 5000, NULL, 0, &err), PA_OK);
	// The path is a socket again, ours, with the mode it was given.
	assert_int_equal(testlib_run("test -S '%s' && test \"$(stat -c %%u:%%a "
	                             "'%s')\" = 0:660",
	                     sa.sun_path, sa.sun_path),
	    0);
}

// Over tcp://, nng backs off and accepts again by itself: probes that
// connect and close (a kubelet tcpSocket check) restart nothing, so the
// connections open meanwhile are never dropped.
static void
test_rpc_listeners__tcp_probes_restart_nothing(void **state)
{
	fixture           *f   = *state;
	struct sockaddr_in sa  = { .sin_family = AF_INET };
	pa_err             err = PA_ERR_INIT;
	unsigned           port;

	start(f, "tcp://127.0.0.1:0");
	assert_int_equal(sscanf(f->srv.url, "tcp://127.0.0.1:%u", &port), 1);
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	storm((struct sockaddr *) &sa, sizeof(sa), STORM);
	fresh_call_within(f, 5000);
	usleep(1500 * 1000); // more than a guard's look and its probe
	assert_int_equal(restarts(f), 0);
	assert_int_equal(
	    rpctest_echo(f->cli, "after", "", 5000, NULL, 0, &err), PA_OK);
}

#define T(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, listeners_setup, listeners_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rpc_listeners__ipc_peers_closing_mid_handshake_do_not_deafen),
		T(test_rpc_listeners__tcp_probes_restart_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
