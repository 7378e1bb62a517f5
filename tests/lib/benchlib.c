// SPDX-License-Identifier: Apache-2.0
// benchlib.c: client loops with latency percentiles, and the raw nng echo.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "benchlib.h"
#include "rpc_envelope.h"
#include "testlib.h"

#define BENCH_MAX_CLIENTS 64
#define BENCH_MAX_SAMPLES (4 * 1000 * 1000)
#define ECHO_WORKERS 64

typedef struct bench_client {
	bench_call_fn fn;
	bench_done_fn done;
	void         *arg;
	uint64_t      until_ns;
	uint64_t     *lat;
	size_t        n, cap;
	long          errors;
} bench_client;

static void *
bench_client_run(void *arg)
{
	bench_client *c   = arg;
	void         *tls = NULL;

	while (testlib_now_ns() < c->until_ns) {
		uint64_t t0 = testlib_now_ns();

		if (c->fn(c->arg, &tls) != 0) {
			c->errors++;
			continue;
		}
		if (c->n < c->cap)
			c->lat[c->n] = testlib_now_ns() - t0;
		c->n++;
	}
	if (c->done != NULL)
		c->done(tls);
	return NULL;
}

static int
bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

bench_result
bench_run(int nclients, double seconds, bench_call_fn fn, bench_done_fn done,
    void *arg)
{
	pthread_t    th[BENCH_MAX_CLIENTS];
	bench_client c[BENCH_MAX_CLIENTS];
	bench_result r     = { 0, 0, 0, 0 };
	size_t       total = 0, k = 0;
	uint64_t    *all, t0      = testlib_now_ns();

	if (nclients > BENCH_MAX_CLIENTS)
		nclients = BENCH_MAX_CLIENTS;
	for (int i = 0; i < nclients; i++) {
		c[i] = (bench_client) { fn, done, arg,
			t0 + (uint64_t) (seconds * 1e9), NULL, 0,
			BENCH_MAX_SAMPLES / (size_t) nclients, 0 };
		if ((c[i].lat = malloc(c[i].cap * sizeof(uint64_t))) == NULL)
			abort();
		pthread_create(&th[i], NULL, bench_client_run, &c[i]);
	}
	for (int i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		total += c[i].n;
		r.errors += c[i].errors;
	}
	r.rate = (double) total / ((double) (testlib_now_ns() - t0) / 1e9);
	if ((all = malloc((total + 1) * sizeof(uint64_t))) == NULL)
		abort();
	for (int i = 0; i < nclients; i++) {
		size_t n = c[i].n < c[i].cap ? c[i].n : c[i].cap;

		memcpy(all + k, c[i].lat, n * sizeof(uint64_t));
		k += n;
		free(c[i].lat);
	}
	qsort(all, k, sizeof(uint64_t), bench_cmp);
	if (k > 0) {
		r.p50_us = (double) all[k / 2] / 1000.0;
		r.p99_us = (double) all[(size_t) ((double) k * 0.99)] / 1000.0;
	}
	free(all);
	return r;
}

bench_result
bench_best(bench_result a, bench_result b)
{
	return a.rate >= b.rate ? a : b;
}

typedef struct echo_worker {
	nng_ctx  ctx;
	nng_aio *aio;
	int      sending;
} echo_worker;

struct bench_echo {
	nng_socket  rep, req;
	echo_worker w[ECHO_WORKERS];
	size_t      payload;
};

static void
echo_cb(void *arg)
{
	echo_worker *w  = arg;
	int          rv = nng_aio_result(w->aio);

	if (rv != 0 && w->sending)
		nng_msg_free(nng_aio_get_msg(w->aio));
	if (rv == NNG_ECLOSED)
		return;
	if (rv == 0 && !w->sending) {
		w->sending = 1; // send the very message back
		nng_ctx_send(w->ctx, w->aio);
		return;
	}
	w->sending = 0;
	nng_ctx_recv(w->ctx, w->aio);
}

bench_echo *
bench_echo_start(const char *url, size_t payload)
{
	bench_echo  *e = calloc(1, sizeof(*e));
	nng_listener l;
	nng_sockaddr sa;
	char         real[256];

	if (e == NULL || nng_rep0_open(&e->rep) != 0 ||
	    nng_listen(e->rep, url, &l, 0) != 0)
		abort();
	e->payload = payload;
	snprintf(real, sizeof(real), "%s", url);
	if (nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) == 0 &&
	    sa.s_family == NNG_AF_INET)
		snprintf(real, sizeof(real), "tcp://127.0.0.1:%u",
		    (unsigned) (((sa.s_in.sa_port & 0xff) << 8) |
		        (sa.s_in.sa_port >> 8)));
	for (int i = 0; i < ECHO_WORKERS; i++) {
		echo_worker *w = &e->w[i];

		if (nng_ctx_open(&w->ctx, e->rep) != 0 ||
		    nng_aio_alloc(&w->aio, echo_cb, w) != 0)
			abort();
		nng_ctx_recv(w->ctx, w->aio);
	}
	if (nng_req0_open(&e->req) != 0 || nng_dial(e->req, real, NULL, 0) != 0)
		abort();
	return e;
}

void
bench_echo_stop(bench_echo *e)
{
	if (e == NULL)
		return;
	nng_close(e->req);
	nng_close(e->rep);
	for (int i = 0; i < ECHO_WORKERS; i++) {
		nng_aio_stop(e->w[i].aio);
		nng_aio_free(e->w[i].aio);
	}
	free(e);
}

typedef struct echo_client {
	nng_ctx  ctx;
	nng_aio *aio;
} echo_client;

int
bench_echo_call(void *arg, void **tls)
{
	bench_echo  *e = arg;
	echo_client *c = *tls;
	nng_msg     *msg;

	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    nng_ctx_open(&c->ctx, e->req) != 0 ||
		    nng_aio_alloc(&c->aio, NULL, NULL) != 0)
			abort();
		nng_aio_set_timeout(c->aio, 10000);
		*tls = c;
	}
	if (nng_msg_alloc(&msg, e->payload) != 0)
		return -1;
	memset(nng_msg_body(msg), 'x', e->payload);
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	nng_aio_wait(c->aio);
	if (nng_aio_result(c->aio) != 0) {
		nng_msg_free(msg);
		return -1;
	}
	nng_ctx_recv(c->ctx, c->aio);
	nng_aio_wait(c->aio);
	if (nng_aio_result(c->aio) != 0)
		return -1;
	nng_msg_free(nng_aio_get_msg(c->aio));
	return 0;
}

void
bench_echo_done(void *tls)
{
	echo_client *c = tls;

	if (c == NULL)
		return;
	nng_aio_free(c->aio);
	nng_ctx_close(c->ctx);
	free(c);
}

size_t
bench_envelope_size(const char *method, const ProtobufCMessage *req)
{
	nng_msg *msg = NULL;
	size_t   n;

	// The id and deadline are varints: take values as wide as real ones.
	if (rpc_envelope_pack_request(&msg, method, 123456, 10000, req, NULL) !=
	    PA_OK)
		abort();
	n = nng_msg_len(msg);
	nng_msg_free(msg);
	return n;
}

double
bench_peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_maxrss / 1024.0;
}
