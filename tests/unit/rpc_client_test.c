// SPDX-License-Identifier: Apache-2.0
// rpc_client_test.c: refused and lost servers, deadlines, reconnects, many
// threads and many URLs.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "rpc_envelope.h"
#include "rpctest.h"
#include "testlib.h"

typedef struct fixture {
	char *dir;
	char  url[512];
} fixture;

static int
rpc_client_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("rpccli");
	rpctest_ipc_url(f->url, sizeof(f->url), f->dir, "srv");
	*state = f;
	return 0;
}

static int
rpc_client_teardown(void **state)
{
	fixture *f = *state;

	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
test_rpc_client__refused_is_unavailable(void **state)
{
	fixture        *f    = *state;
	rpc_client_opts opts = RPC_CLIENT_OPTS_INIT;
	rpc_client     *c    = NULL;
	pa_err          err  = PA_ERR_INIT;
	uint64_t        t0;

	opts.connect_ms = 200;
	assert_int_equal(rpc_client_new(&c, f->url, &opts, NULL), PA_OK);
	t0 = testlib_now_ns();
	assert_int_equal(
	    rpctest_echo(c, "x", "", 5000, NULL, 0, &err), PA_UNAVAILABLE);
	assert_true(testlib_now_ns() - t0 < 2000 * 1000000ULL);
	assert_non_null(strstr(err.msg, f->url));
	rpc_client_free(c);
}

static void
test_rpc_client__bad_url_is_invalid_argument(void **state)
{
	rpc_client *c = NULL;

	assert_int_equal(
	    rpc_client_new(&c, "nope://x", NULL, NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    rpc_client_new(&c, "", NULL, NULL), PA_INVALID_ARGUMENT);
	assert_null(c);
	rpc_client_free(NULL);
}

static void
test_rpc_client__slow_server_is_deadline_exceeded(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	rpc_client    *c   = NULL;
	pa_err         err = PA_ERR_INIT;
	uint64_t       t0;

	rpctest_start(&s, f->url, NULL);
	assert_int_equal(rpc_client_new(&c, s.url, NULL, NULL), PA_OK);
	t0 = testlib_now_ns();
	assert_int_equal(rpctest_echo(c, "x", "sleep:1000", 150, NULL, 0, &err),
	    PA_DEADLINE_EXCEEDED);
	assert_true(testlib_now_ns() - t0 < 900 * 1000000ULL);
	rpc_client_free(c);
	rpctest_stop(&s);
}

typedef struct lost_call {
	rpc_client *c;
	int         rc;
} lost_call;

static void *
lost_call_run(void *arg)
{
	lost_call *l = arg;

	pa_err err = PA_ERR_INIT;

	l->rc = rpctest_echo(l->c, "x", "", 20000, NULL, 0, &err);
	if (l->rc != PA_OK)
		fprintf(stderr, "lost call: %s\n", err.msg);
	return NULL;
}

static void
test_rpc_client__server_closing_mid_call_is_unavailable(void **state)
{
	fixture        *f    = *state;
	rpc_client_opts opts = RPC_CLIENT_OPTS_INIT;
	nng_socket      rep;
	nng_msg        *msg = NULL;
	lost_call       l   = { NULL, -1 };
	pthread_t       th;
	uint64_t        t0;

	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listen(rep, f->url, NULL, 0), 0);
	opts.connect_ms = 300;
	assert_int_equal(rpc_client_new(&l.c, f->url, &opts, NULL), PA_OK);
	t0 = testlib_now_ns();
	pthread_create(&th, NULL, lost_call_run, &l);
	assert_int_equal(nng_recvmsg(rep, &msg, 0), 0); // the call arrived
	nng_msg_free(msg);
	nng_close(rep); // and its server went away without answering
	pthread_join(th, NULL);
	assert_int_equal(l.rc, PA_UNAVAILABLE);
	// Well before the 20 s deadline: connect_ms after the loss.
	assert_true(testlib_now_ns() - t0 < 5000 * 1000000ULL);
	rpc_client_free(l.c);
}

typedef struct drop_server {
	nng_socket rep;
	unsigned   dropped; // connections closed with a request unanswered
} drop_server;

// Close the connection of the first request unanswered, as a server at
// its cap evicts one with nothing read yet; answer the one sent again.
static void *
drop_server_run(void *arg)
{
	drop_server    *d   = arg;
	nng_msg        *msg = NULL, *answer = NULL;
	rpc_request_pb *req = NULL;

	assert_int_equal(nng_recvmsg(d->rep, &msg, 0), 0);
	nng_pipe_close(nng_msg_get_pipe(msg));
	nng_msg_free(msg);
	d->dropped++;
	assert_int_equal(nng_recvmsg(d->rep, &msg, 0), 0);
	assert_int_equal(rpc_envelope_unpack_request(
	                     &req, nng_msg_body(msg), nng_msg_len(msg), NULL),
	    PA_OK);
	assert_int_equal(rpc_envelope_pack_response(&answer, PA_NOT_FOUND,
	                     "answered again", req->request_id, NULL, NULL),
	    PA_OK);
	rpc_envelope_free(req);
	nng_msg_free(msg);
	assert_int_equal(nng_sendmsg(d->rep, answer, 0), 0);
	return NULL;
}

static void
test_rpc_client__request_on_a_closed_connection_is_sent_again(void **state)
{
	fixture    *f   = *state;
	rpc_client *c   = NULL;
	drop_server d   = { .dropped = 0 };
	pa_err      err = PA_ERR_INIT;
	pthread_t   th;

	assert_int_equal(nng_rep0_open(&d.rep), 0);
	assert_int_equal(nng_listen(d.rep, f->url, NULL, 0), 0);
	assert_int_equal(rpc_client_new(&c, f->url, NULL, NULL), PA_OK);
	pthread_create(&th, NULL, drop_server_run, &d);
	// The server's answer, not a lost connection: the call went again.
	assert_int_equal(
	    rpctest_echo(c, "x", "", 10000, NULL, 0, &err), PA_NOT_FOUND);
	assert_string_equal(err.msg, "answered again");
	pthread_join(th, NULL);
	assert_int_equal(d.dropped, 1);
	rpc_client_free(c);
	nng_close(d.rep);
}

static void
test_rpc_client__reconnects_after_restart(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	rpc_client    *c = NULL;
	char           echo[32];

	rpctest_start(&s, f->url, NULL);
	assert_int_equal(rpc_client_new(&c, s.url, NULL, NULL), PA_OK);
	assert_int_equal(
	    rpctest_echo(c, "one", "", 2000, echo, sizeof(echo), NULL), PA_OK);
	rpctest_stop(&s);
	// A call racing the loss may fail UNAVAILABLE (the layer never
	// resends a request on its own; libprealloc retries what is safe).
	while (rpc_client_connected(c) > 0)
		usleep(1000);
	rpctest_start(&s, f->url, NULL);
	assert_int_equal(
	    rpctest_echo(c, "two", "", 5000, echo, sizeof(echo), NULL), PA_OK);
	assert_string_equal(echo, "two");
	rpc_client_free(c);
	rpctest_stop(&s);
}

static void
test_rpc_client__oversized_request_fails_locally(void **state)
{
	fixture        *f    = *state;
	rpc_client_opts opts = RPC_CLIENT_OPTS_INIT;
	rpc_client     *c    = NULL;
	char           *big  = malloc(2 * MiB);
	pa_err          err  = PA_ERR_INIT;

	memset(big, 'a', 2 * MiB - 1);
	big[2 * MiB - 1] = '\0';
	opts.max_msg     = MiB;
	assert_int_equal(rpc_client_new(&c, f->url, &opts, NULL), PA_OK);
	assert_int_equal(rpctest_echo(c, big, "", 1000, NULL, 0, &err),
	    PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "exceeds"));
	rpc_client_free(c);
	free(big);
}

#define THREADS 16
#define CALLS 1000

typedef struct worker {
	rpc_client *c;
	int         id;
	int         matched;
	int         failed;
} worker;

static void *
worker_run(void *arg)
{
	worker *w = arg;
	char    sent[32], echo[32];

	for (int i = 0; i < CALLS; i++) {
		snprintf(sent, sizeof(sent), "t%d-%d", w->id, i);
		if (rpctest_echo(w->c, sent, "", 10000, echo, sizeof(echo),
		        NULL) != PA_OK)
			w->failed++;
		else if (strcmp(sent, echo) == 0)
			w->matched++;
	}
	return NULL;
}

static void
test_rpc_client__many_threads_each_answer_matches(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	rpc_client    *c = NULL;
	pthread_t      th[THREADS];
	worker         w[THREADS];

	rpctest_start(&s, f->url, NULL);
	assert_int_equal(rpc_client_new(&c, s.url, NULL, NULL), PA_OK);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker) { c, i, 0, 0 };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
		assert_int_equal(w[i].matched, CALLS);
	}
	assert_int_equal(s.answered, THREADS * CALLS);
	rpc_client_free(c);
	rpctest_stop(&s);
}

static void
test_rpc_client__many_urls_spread_and_survive_one_loss(void **state)
{
	fixture       *f = *state;
	rpctest_server a, b;
	rpc_client    *c = NULL;
	char           urls[1100], url_b[512];

	rpctest_ipc_url(url_b, sizeof(url_b), f->dir, "b");
	rpctest_start(&a, f->url, NULL);
	rpctest_start(&b, url_b, NULL);
	snprintf(urls, sizeof(urls), "%s,%s", a.url, b.url);
	assert_int_equal(rpc_client_new(&c, urls, NULL, NULL), PA_OK);
	while (rpc_client_connected(c) < 2)
		usleep(1000);
	for (int i = 0; i < 200; i++)
		assert_int_equal(
		    rpctest_echo(c, "x", "", 2000, NULL, 0, NULL), PA_OK);
	assert_true(a.answered > 0 && b.answered > 0);
	rpctest_stop(&a);
	// A call already on the closing pipe is sent again on b; once the
	// loss is seen, every call goes to b.
	while (rpc_client_connected(c) > 1)
		usleep(1000);
	for (int i = 0; i < 50; i++)
		assert_int_equal(
		    rpctest_echo(c, "y", "", 3000, NULL, 0, NULL), PA_OK);
	rpc_client_free(c);
	rpctest_stop(&b);
}

#define T(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, rpc_client_setup, rpc_client_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rpc_client__refused_is_unavailable),
		T(test_rpc_client__bad_url_is_invalid_argument),
		T(test_rpc_client__slow_server_is_deadline_exceeded),
		T(test_rpc_client__server_closing_mid_call_is_unavailable),
		T(test_rpc_client__request_on_a_closed_connection_is_sent_again),
		T(test_rpc_client__reconnects_after_restart),
		T(test_rpc_client__oversized_request_fails_locally),
		T(test_rpc_client__many_threads_each_answer_matches),
		T(test_rpc_client__many_urls_spread_and_survive_one_loss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
