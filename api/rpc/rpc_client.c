// SPDX-License-Identifier: Apache-2.0
// rpc_client.c: REQ socket with a pool of contexts, deadlines, reconnects.
//
// One REQ socket dials every URL; nng spreads requests over the connected
// pipes and sends a request again when its pipe closes. Each call borrows a
// context from a pool, so calls from many threads run at once. The caller
// waits on a condition variable rather than nng_aio_wait() so that it can
// notice that every server went away and answer UNAVAILABLE early.
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "rpc_client.h"
#include "rpc_envelope.h"
#include "prealloc/util.h"

#define CLIENT_MAX_URLS 8
// Answers are trusted more than requests, but still bounded.
#define CLIENT_MAX_ANSWER (64 * 1024 * 1024)
// How often a waiting caller looks at the connection while waiting.
#define CLIENT_WATCH_NS (50 * 1000000ULL)
// nng counts in int32 milliseconds (24 days): a call's deadline is cut to
// less than that, and the resend timer is set beyond it, so it never fires.
#define CLIENT_MAX_DEADLINE_MS ((uint32_t) INT32_MAX - 1000)
#define CLIENT_RESEND_MS ((nng_duration) INT32_MAX)

typedef struct client_slot {
	nng_ctx             ctx;
	nng_aio            *aio;
	pthread_mutex_t     mtx;
	pthread_cond_t      cv;
	bool                done;
	struct client_slot *next;
} client_slot;

struct rpc_client {
	nng_socket           sock;
	rpc_client_opts      opts;
	char                 urls[1024];
	nng_dialer           dialers[CLIENT_MAX_URLS];
	nng_tls_config      *tls[CLIENT_MAX_URLS];
	unsigned             ndialers;
	pthread_mutex_t      mtx; // guards what follows
	pthread_cond_t       conn_cv;
	int                  pipes;
	uint64_t             lost_ns; // when the last pipe closed
	client_slot         *free_slots;
	atomic_uint_fast64_t next_id;
};

// Condition variables wait on CLOCK_MONOTONIC, so a clock step never
// stretches or cuts a deadline.
static void
client_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
}

static struct timespec
client_abstime(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec  = (time_t) (ns / 1000000000ULL),
		.tv_nsec = (long) (ns % 1000000000ULL),
	};
	return ts;
}

static void
client_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	rpc_client *c = arg;

	pthread_mutex_lock(&c->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST)
		c->pipes++;
	else if (ev == NNG_PIPE_EV_REM_POST && --c->pipes == 0)
		c->lost_ns = pa_clock_ns();
	pthread_cond_broadcast(&c->conn_cv);
	pthread_mutex_unlock(&c->mtx);
}

static int
client_dial(rpc_client *c, const char *url, pa_err *err)
{
	nng_dialer d;
	unsigned   i = c->ndialers;
	char       host[256];
	int        nrv, rc = PA_OK;

	if (i == CLIENT_MAX_URLS)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "more than %d URLs",
		    CLIENT_MAX_URLS);
	if ((nrv = nng_dialer_create(&d, c->sock, url)) != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "URL %s: %s", url,
		    nng_strerror(nrv));
	if (rpc_tls_url(url)) {
		const char *name = c->opts.tls_server_name;

		if (name == NULL)
			name = rpc_tls_url_host(host, sizeof(host), url);
		rc = rpc_tls_client_config(&c->tls[i], name, &c->opts.tls, err);
		if (rc == PA_OK &&
		    nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c->tls[i]) != 0)
			rc = pa_err_set(err, PA_INVALID_ARGUMENT,
			    "cannot set TLS for %s", url);
	}
	nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 50);
	nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 1000);
	if (rc == PA_OK && (nrv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
		rc = pa_err_set(err, PA_INVALID_ARGUMENT, "dial %s: %s", url,
		    nng_strerror(nrv));
	if (rc != PA_OK) {
		nng_dialer_close(d);
		return rc;
	}
	c->dialers[c->ndialers++] = d;
	return PA_OK;
}

static int
client_dial_all(rpc_client *c, const char *urls, pa_err *err)
{
	char  list[sizeof(c->urls)];
	char *save = NULL;
	int   rc   = PA_OK;

	snprintf(list, sizeof(list), "%s", urls);
	for (char *u = strtok_r(list, ",", &save); u != NULL && rc == PA_OK;
	     u       = strtok_r(NULL, ",", &save))
                rc = client_dial(c, u, err);
	if (rc == PA_OK && c->ndialers == 0)
		rc = pa_err_set(err, PA_INVALID_ARGUMENT, "no URL given");
	return rc;
}

int
rpc_client_new(rpc_client **out, const char *urls, const rpc_client_opts *opts,
    pa_err *err)
{
	rpc_client_opts defaults = RPC_CLIENT_OPTS_INIT;
	rpc_client     *c        = NULL;
	int             nrv, rc;

	if (urls == NULL || strlen(urls) >= sizeof(c->urls))
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "missing or over-long URL list");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	c->opts = opts != NULL ? *opts : defaults;
	snprintf(c->urls, sizeof(c->urls), "%s", urls);
	pthread_mutex_init(&c->mtx, NULL);
	client_cond_init(&c->conn_cv);
	atomic_init(&c->next_id, 1);
	if ((nrv = nng_req0_open(&c->sock)) != 0) {
		pthread_cond_destroy(&c->conn_cv);
		pthread_mutex_destroy(&c->mtx);
		free(c);
		return pa_err_set(
		    err, PA_INTERNAL, "open REQ socket: %s", nng_strerror(nrv));
	}
	// A slow call (a long poll) must never be sent twice by a timer, but
	// a request whose connection closes before its answer must be sent
	// again on the next one: a server at its connection cap evicts only
	// connections with nothing read, so the request never reached it.
	// nng 1.5.2 does that only while a resend time is set (an infinite
	// one fails the call with ECONNRESET instead), so the time is set
	// far beyond any deadline.
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, CLIENT_RESEND_MS);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, CLIENT_MAX_ANSWER);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, client_pipe_event, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, client_pipe_event, c);
	if ((rc = client_dial_all(c, urls, err)) != PA_OK) {
		rpc_client_free(c);
		return rc;
	}
	*out = c;
	return PA_OK;
}

static void
slot_free(client_slot *s)
{
	nng_aio_free(s->aio);
	nng_ctx_close(s->ctx);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

void
rpc_client_free(rpc_client *c)
{
	client_slot *s;

	if (c == NULL)
		return;
	// Contexts first: nng 1.5's nng_close() can wait forever on a REQ
	// context whose request timed out and was never answered.
	while ((s = c->free_slots) != NULL) {
		c->free_slots = s->next;
		slot_free(s);
	}
	nng_close(c->sock);
	for (unsigned i = 0; i < c->ndialers; i++)
		if (c->tls[i] != NULL)
			nng_tls_config_free(c->tls[i]);
	pthread_cond_destroy(&c->conn_cv);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

static void
slot_done(void *arg)
{
	client_slot *s = arg;

	pthread_mutex_lock(&s->mtx);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mtx);
}

static int
slot_get(client_slot **out, rpc_client *c, pa_err *err)
{
	client_slot *s;
	int          nrv;

	pthread_mutex_lock(&c->mtx);
	if ((s = c->free_slots) != NULL)
		c->free_slots = s->next;
	pthread_mutex_unlock(&c->mtx);
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return pa_err_set(
			    err, PA_RESOURCE_EXHAUSTED, "out of memory");
		pthread_mutex_init(&s->mtx, NULL);
		client_cond_init(&s->cv);
		if ((nrv = nng_ctx_open(&s->ctx, c->sock)) != 0 ||
		    (nrv = nng_aio_alloc(&s->aio, slot_done, s)) != 0) {
			if (nrv != NNG_ECLOSED)
				nng_ctx_close(s->ctx);
			pthread_cond_destroy(&s->cv);
			pthread_mutex_destroy(&s->mtx);
			free(s);
			return pa_err_set(err, PA_INTERNAL,
			    "client context: %s", nng_strerror(nrv));
		}
	}
	*out = s;
	return PA_OK;
}

static void
slot_put(rpc_client *c, client_slot *s)
{
	pthread_mutex_lock(&c->mtx);
	s->next       = c->free_slots;
	c->free_slots = s;
	pthread_mutex_unlock(&c->mtx);
}

// True when no server has been connected for longer than connect_ms.
static bool
client_lost(rpc_client *c, uint64_t now)
{
	bool lost;

	pthread_mutex_lock(&c->mtx);
	lost = c->pipes == 0 &&
	    now - c->lost_ns > (uint64_t) c->opts.connect_ms * 1000000ULL;
	pthread_mutex_unlock(&c->mtx);
	return lost;
}

// Wait for the slot's operation; cancel it when every server is gone.
// Returns the nng result, with NNG_ECONNREFUSED for "gone".
static int
slot_wait(rpc_client *c, client_slot *s)
{
	bool gone = false;
	int  rv;

	pthread_mutex_lock(&s->mtx);
	while (!s->done) {
		uint64_t        now  = pa_clock_ns();
		struct timespec when = client_abstime(now + CLIENT_WATCH_NS);

		pthread_cond_timedwait(&s->cv, &s->mtx, &when);
		if (!s->done && !gone && client_lost(c, pa_clock_ns())) {
			gone = true;
			nng_aio_cancel(s->aio);
		}
	}
	s->done = false;
	pthread_mutex_unlock(&s->mtx);
	rv = nng_aio_result(s->aio);
	return gone && rv != 0 ? NNG_ECONNREFUSED : rv;
}

// Wait until some server is connected or @p limit_ns passes.
static bool
client_wait_connected(rpc_client *c, uint64_t limit_ns)
{
	struct timespec when = client_abstime(limit_ns);
	bool            up;

	pthread_mutex_lock(&c->mtx);
	while (c->pipes == 0 && pa_clock_ns() < limit_ns)
		pthread_cond_timedwait(&c->conn_cv, &c->mtx, &when);
	up = c->pipes > 0;
	pthread_mutex_unlock(&c->mtx);
	return up;
}

static int
client_fail_nng(rpc_client *c, int rv, uint32_t deadline_ms, pa_err *err)
{
	if (rv == NNG_ETIMEDOUT && rpc_client_connected(c) > 0)
		return pa_err_set(err, PA_DEADLINE_EXCEEDED,
		    "no answer from %s within %u ms", c->urls, deadline_ms);
	switch (rv) {
	case NNG_ETIMEDOUT: // and no server connected
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
	case NNG_ECLOSED:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return pa_err_set(err, PA_UNAVAILABLE,
		    "connection to %s lost: %s", c->urls, nng_strerror(rv));
	default:
		break;
	}
	return pa_err_set(
	    err, PA_INTERNAL, "call to %s: %s", c->urls, nng_strerror(rv));
}

// Send on the slot and receive the answer, both within @p deadline_ms.
static int
slot_exchange(nng_msg **out, rpc_client *c, client_slot *s, nng_msg *msg,
    uint64_t end_ns, uint32_t deadline_ms, pa_err *err)
{
	int rv;

	nng_aio_set_msg(s->aio, msg);
	nng_aio_set_timeout(
	    s->aio, (nng_duration) ((end_ns - pa_clock_ns()) / 1000000ULL) + 1);
	nng_ctx_send(s->ctx, s->aio);
	if ((rv = slot_wait(c, s)) != 0) {
		nng_msg_free(nng_aio_get_msg(s->aio));
		return client_fail_nng(c, rv, deadline_ms, err);
	}
	nng_aio_set_timeout(
	    s->aio, (nng_duration) ((end_ns - pa_clock_ns()) / 1000000ULL) + 1);
	nng_ctx_recv(s->ctx, s->aio);
	if ((rv = slot_wait(c, s)) != 0)
		return client_fail_nng(c, rv, deadline_ms, err);
	*out = nng_aio_get_msg(s->aio);
	return PA_OK;
}

int
rpc_client_call_msg(nng_msg **out, rpc_client *c, nng_msg *msg,
    uint32_t deadline_ms, pa_err *err)
{
	uint64_t     start = pa_clock_ns(), end, connect_end;
	client_slot *s     = NULL;
	int          rc;

	if (deadline_ms == 0)
		deadline_ms = c->opts.deadline_ms;
	if (deadline_ms > CLIENT_MAX_DEADLINE_MS)
		deadline_ms = CLIENT_MAX_DEADLINE_MS;
	end         = start + (uint64_t) deadline_ms * 1000000ULL;
	connect_end = start + (uint64_t) c->opts.connect_ms * 1000000ULL;
	if (nng_msg_len(msg) > c->opts.max_msg) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "request of %zu bytes exceeds the %zu-byte limit",
		    nng_msg_len(msg), c->opts.max_msg);
		nng_msg_free(msg);
		return rc;
	}
	if (!client_wait_connected(c, connect_end < end ? connect_end : end)) {
		nng_msg_free(msg);
		return pa_err_set(
		    err, PA_UNAVAILABLE, "cannot connect to %s", c->urls);
	}
	if ((rc = slot_get(&s, c, err)) != PA_OK) {
		nng_msg_free(msg);
		return rc;
	}
	rc = slot_exchange(out, c, s, msg, end, deadline_ms, err);
	if (rc == PA_OK)
		slot_put(c, s);
	else
		slot_free(s); // its context may still wait for an answer
	return rc;
}

// Decode an answer envelope and, on PA_OK, its payload.
static int
client_decode(ProtobufCMessage **out, nng_msg *answer,
    const ProtobufCMessageDescriptor *resp_type, pa_err *err)
{
	rpc_response_pb *env = NULL;
	int              rc;

	rc = rpc_envelope_unpack_response(
	    &env, nng_msg_body(answer), nng_msg_len(answer), err);
	if (rc != PA_OK) {
		rc = pa_err_set(err, PA_INTERNAL, "undecodable answer: %s",
		    err != NULL ? err->msg : "");
		goto done;
	}
	if ((int) env->code != PA_OK) {
		rc = pa_err_set(err, (int) env->code, "%s", env->message);
		goto done;
	}
	if (rpc_envelope_unpack_payload(out, resp_type, &env->payload, err))
		rc = pa_err_set(
		    err, PA_INTERNAL, "undecodable %s answer", resp_type->name);
done:
	rpc_envelope_free(env);
	return rc;
}

static uint32_t
client_server_budget(uint32_t deadline_ms)
{
	uint32_t margin = deadline_ms / 10;

	if (margin < 20)
		margin = 20;
	if (margin > 1000)
		margin = 1000;
	return deadline_ms > 2 * margin ? deadline_ms - margin : deadline_ms;
}

int
rpc_client_call(ProtobufCMessage **out, rpc_client *c, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
    uint32_t deadline_ms, pa_err *err)
{
	nng_msg *msg = NULL, *answer = NULL;
	uint64_t id = atomic_fetch_add(&c->next_id, 1);
	int      rc;

	if (deadline_ms == 0)
		deadline_ms = c->opts.deadline_ms;
	if (deadline_ms > CLIENT_MAX_DEADLINE_MS)
		deadline_ms = CLIENT_MAX_DEADLINE_MS;
	// The server is told a little less than our own wait, so that its
	// DEADLINE_EXCEEDED reaches us before we give up: a REQ context closed
	// while its answer is arriving can hang nng 1.5's nng_close().
	rc = rpc_envelope_pack_request(
	    &msg, method, id, client_server_budget(deadline_ms), req, err);
	if (rc != PA_OK)
		return rc;
	if ((rc = rpc_client_call_msg(&answer, c, msg, deadline_ms, err)))
		return rc;
	rc = client_decode(out, answer, resp_type, err);
	nng_msg_free(answer);
	return rc;
}

int
rpc_client_connected(rpc_client *c)
{
	int n;

	pthread_mutex_lock(&c->mtx);
	n = c->pipes;
	pthread_mutex_unlock(&c->mtx);
	return n;
}
