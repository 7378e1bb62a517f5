// SPDX-License-Identifier: Apache-2.0
// rpc_bench.c: an empty RPC through the layer against a raw nng REQ/REP echo
// of the same bytes, same client count, same transport, in one run.
//
// Usage: rpc_bench [--seconds S] [--rounds R]
// Prints calls/s, p50 and p99 for each, and the layer's share of the raw
// rate. Target: the layer keeps at least 0.9 of the raw rate.
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "prealloc/v1/policy.pb-c.h"
#include "rpc_envelope.h"
#include "rpctest.h"
#include "testlib.h"

#define RAW_WORKERS 64
#define MAX_SAMPLES (4 * 1000 * 1000)

typedef struct result {
	double rate; // calls per second
	double p50_us;
	double p99_us;
} result;

// ---- the raw echo server: REP contexts that send back what they get ----

typedef struct raw_worker {
	nng_ctx  ctx;
	nng_aio *aio;
	int      sending;
} raw_worker;

typedef struct raw_server {
	nng_socket sock;
	raw_worker w[RAW_WORKERS];
	char       url[256];
} raw_server;

static void
raw_cb(void *arg)
{
	raw_worker *w = arg;

	if (nng_aio_result(w->aio) != 0) {
		if (w->sending)
			nng_msg_free(nng_aio_get_msg(w->aio));
		if (nng_aio_result(w->aio) == NNG_ECLOSED)
			return;
		w->sending = 0;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (w->sending) {
		w->sending = 0;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	w->sending = 1; // echo the very message back
	nng_ctx_send(w->ctx, w->aio);
}

static void
raw_start(raw_server *s, const char *url)
{
	nng_listener l;
	nng_sockaddr sa;

	memset(s, 0, sizeof(*s));
	if (nng_rep0_open(&s->sock) != 0 ||
	    nng_listen(s->sock, url, &l, 0) != 0)
		abort();
	nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa);
	if (sa.s_family == NNG_AF_INET)
		snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%u",
		    (unsigned) ((sa.s_in.sa_port >> 8) |
			((sa.s_in.sa_port & 0xff) << 8)));
	else
		snprintf(s->url, sizeof(s->url), "%s", url);
	for (int i = 0; i < RAW_WORKERS; i++) {
		raw_worker *w = &s->w[i];

		if (nng_ctx_open(&w->ctx, s->sock) != 0 ||
		    nng_aio_alloc(&w->aio, raw_cb, w) != 0)
			abort();
		nng_ctx_recv(w->ctx, w->aio);
	}
}

static void
raw_stop(raw_server *s)
{
	nng_close(s->sock);
	for (int i = 0; i < RAW_WORKERS; i++) {
		nng_aio_stop(s->w[i].aio);
		nng_aio_free(s->w[i].aio);
	}
}

// ---- the clients ----

typedef struct run {
	int         layer; // 1: through rpc_client, 0: raw REQ context
	rpc_client *cli;
	nng_socket  req;
	size_t      payload;
	uint64_t    until_ns;
} run;

typedef struct client {
	run      *r;
	uint64_t *lat; // nanoseconds per call
	size_t    n, cap;
	int       errors;
} client;

static void
client_record(client *c, uint64_t ns)
{
	if (c->n < c->cap)
		c->lat[c->n] = ns;
	c->n++;
}

static void *
client_raw(void *arg)
{
	client  *c = arg;
	nng_ctx  ctx;
	nng_aio *aio;
	nng_msg *msg;

	if (nng_ctx_open(&ctx, c->r->req) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0)
		abort();
	nng_aio_set_timeout(aio, 10000);
	while (testlib_now_ns() < c->r->until_ns) {
		uint64_t t0 = testlib_now_ns();

		if (nng_msg_alloc(&msg, c->r->payload) != 0)
			abort();
		memset(nng_msg_body(msg), 'x', c->r->payload);
		nng_aio_set_msg(aio, msg);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			nng_msg_free(msg);
			c->errors++;
			continue;
		}
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			c->errors++;
			continue;
		}
		nng_msg_free(nng_aio_get_msg(aio));
		client_record(c, testlib_now_ns() - t0);
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return NULL;
}

static void *
client_layer(void *arg)
{
	client *c = arg;

	while (testlib_now_ns() < c->r->until_ns) {
		uint64_t t0 = testlib_now_ns();

		if (rpctest_echo(c->r->cli, "", "", 10000, NULL, 0, NULL) !=
		    PA_OK) {
			c->errors++;
			continue;
		}
		client_record(c, testlib_now_ns() - t0);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

static result
run_clients(run *r, int nclients, double seconds)
{
	pthread_t th[64];
	client    c[64];
	uint64_t *all;
	size_t    total = 0, k = 0;
	uint64_t  t0;
	result    res;

	memset(c, 0, sizeof(c));
	t0          = testlib_now_ns();
	r->until_ns = t0 + (uint64_t) (seconds * 1e9);
	for (int i = 0; i < nclients; i++) {
		c[i].r   = r;
		c[i].cap = MAX_SAMPLES / (size_t) nclients;
		c[i].lat = malloc(c[i].cap * sizeof(uint64_t));
		pthread_create(&th[i], NULL, r->layer ? client_layer : client_raw,
		    &c[i]);
	}
	for (int i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		total += c[i].n;
		if (c[i].errors)
			fprintf(stderr, "client %d: %d errors\n", i, c[i].errors);
	}
	res.rate = (double) total / ((double) (testlib_now_ns() - t0) / 1e9);
	all      = malloc(total * sizeof(uint64_t));
	for (int i = 0; i < nclients; i++) {
		size_t n = c[i].n < c[i].cap ? c[i].n : c[i].cap;

		memcpy(all + k, c[i].lat, n * sizeof(uint64_t));
		k += n;
		free(c[i].lat);
	}
	qsort(all, k, sizeof(uint64_t), cmp_u64);
	res.p50_us = k ? (double) all[k / 2] / 1000.0 : 0;
	res.p99_us = k ? (double) all[(size_t) ((double) k * 0.99)] / 1000.0 : 0;
	free(all);
	return res;
}

// The bytes one empty layer call puts on the wire, for the raw echo.
static size_t
layer_request_size(void)
{
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	nng_msg *msg = NULL;
	size_t   n;

	if (rpc_envelope_pack_request(&msg, RPCTEST_ECHO, 123456, 10000,
		&req.base, NULL) != PA_OK)
		abort();
	n = nng_msg_len(msg);
	nng_msg_free(msg);
	return n;
}

static result
best(result a, result b)
{
	return a.rate >= b.rate ? a : b;
}

static double
bench_pair(const char *transport, const char *url_raw, const char *url_layer,
    int nclients, double seconds, int rounds)
{
	raw_server     raw;
	rpctest_server srv;
	run            r;
	result         rr = { 0, 0, 0 }, lr = { 0, 0, 0 };

	raw_start(&raw, url_raw);
	rpctest_start(&srv, url_layer, NULL);
	memset(&r, 0, sizeof(r));
	r.payload = layer_request_size();
	if (nng_req0_open(&r.req) != 0 || nng_dial(r.req, raw.url, NULL, 0) != 0 ||
	    rpc_client_new(&r.cli, srv.url, NULL, NULL) != PA_OK)
		abort();
	// Interleave so that both sides see the same machine weather.
	for (int i = 0; i < rounds; i++) {
		r.layer = 0;
		rr      = best(rr, run_clients(&r, nclients, seconds));
		r.layer = 1;
		lr      = best(lr, run_clients(&r, nclients, seconds));
	}
	printf("%-4s %2d client%s  raw %8.0f/s p50 %6.1fus p99 %7.1fus | "
	       "layer %8.0f/s p50 %6.1fus p99 %7.1fus | ratio %.2f\n",
	    transport, nclients, nclients == 1 ? " " : "s", rr.rate, rr.p50_us,
	    rr.p99_us, lr.rate, lr.p50_us, lr.p99_us, lr.rate / rr.rate);
	fflush(stdout);
	rpc_client_free(r.cli);
	nng_close(r.req);
	rpctest_stop(&srv);
	raw_stop(&raw);
	return lr.rate / rr.rate;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 2.0, worst = 1e9;
	int    rounds  = 2, ch;
	char  *dir, raw_ipc[512], layer_ipc[512];

	while ((ch = getopt_long(argc, argv, "s:r:", longopts, NULL)) != -1) {
		if (ch == 's')
			seconds = atof(optarg);
		else if (ch == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	dir = testlib_tmpdir("rpcbench");
	rpctest_ipc_url(raw_ipc, sizeof(raw_ipc), dir, "raw");
	rpctest_ipc_url(layer_ipc, sizeof(layer_ipc), dir, "layer");
	printf("rpc_bench: empty RPC vs raw nng echo of %zu bytes, best of %d "
	       "x %.1fs each, interleaved\n",
	    layer_request_size(), rounds, seconds);
	for (int clients = 1; clients <= 8; clients *= 8) {
		double a = bench_pair("ipc", raw_ipc, layer_ipc, clients,
		    seconds, rounds);
		double b = bench_pair("tcp", "tcp://127.0.0.1:0",
		    "tcp://127.0.0.1:0", clients, seconds, rounds);

		worst = a < worst ? a : worst;
		worst = b < worst ? b : worst;
	}
	printf("lowest ratio %.2f (target >= 0.90): %s\n", worst,
	    worst >= 0.9 ? "met" : "missed");
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}
