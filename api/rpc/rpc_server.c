// SPDX-License-Identifier: Apache-2.0
// rpc_server.c: REP socket, one nng context per worker, dispatch by method.
//
// Each worker is a small state machine on its context: receive, decode,
// hand the call to a handler, send the answer, receive again. A call has up
// to four holders (the dispatch, the handler, the deadline timer, the send)
// and the worker takes its next request only when all have let go, so a
// late handler never writes into a reused call. The timer is armed only
// when the handler returns without answering: most answers are immediate,
// and a timer per call would cost an extra callback each.
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "prealloc/log.h"
#include "rpc_conns.h"
#include "rpc_envelope.h"
#include "rpc_ipc.h"
#include "rpc_listeners.h"
#include "rpc_server.h"
#include "prealloc/util.h"
#include "prealloc/taskq.h"

#define SERVER_MAX_METHODS 32
// The transport accepts this many times the cap, so that a request a little
// over the cap gets a RESOURCE_EXHAUSTED answer; far larger ones drop the
// connection without nng buffering them whole.
#define SERVER_TRANSPORT_SLACK 4

typedef struct server_method {
	char                              full_name[160];
	const ProtobufCMessageDescriptor *input;
	rpc_handler_fn                    fn;
	void                             *arg;
	bool                              blocking; // runs on the server's pool
} server_method;

typedef enum {
	WORKER_IDLE, // not receiving: before start, or stopped
	WORKER_RECV, // waiting for a request
	WORKER_BUSY, // a call is open
} worker_state;

struct rpc_call {
	struct server_worker *w;
	pa_task               task; // on the pool, when blocking
	const server_method  *method;
	rpc_request_pb       *env;
	ProtobufCMessage     *req;
	uint64_t              start_ns;
	uint64_t              deadline_ns; // 0: none
	nng_pipe              pipe;        // the request's connection
};

typedef struct server_worker {
	rpc_server     *srv;
	nng_ctx         ctx;
	nng_aio        *aio;   // receives requests and sends answers
	nng_aio        *timer; // the call's deadline
	pthread_mutex_t mtx;
	worker_state    state;
	int             holders; // of the open call
	bool            answered;
	bool            timer_armed;
	rpc_call        call;
} server_worker;

struct rpc_server {
	nng_socket      sock;
	rpc_server_opts opts;
	server_method   methods[SERVER_MAX_METHODS];
	unsigned        nmethods;
	rpc_listeners  *lst;   // its listeners, and their guard
	rpc_conns      *conns; // open connections, against max_conns
	server_worker  *workers;
	pthread_mutex_t
	         mtx; // guards stopping, closing, the idle and send counts
	unsigned idle;
	bool     stopping;
	bool     started;
	// nng 1.5.2 panics ("pthread_mutex_lock: Invalid argument") when a
	// context's send runs while its socket closes, as a blocking
	// handler's late answer can: a send counts itself in `sending`, and
	// the close waits for none to be in flight, after which answers are
	// dropped (their client's call was ending with the server anyway).
	unsigned       sending;
	bool           closing;
	pthread_cond_t sent;
	// The pool that runs blocking handlers, off nng's callback threads.
	pa_taskq *pool;
};

static void worker_recv_done(void *arg);
static void worker_timer_done(void *arg);

// ---- connections and the max_conns cap ----

// Collect nng's per-pipe counters for the pipes of @p s. nng 1.5.2 keeps
// them when built with statistics (Debian's is); without them nothing is
// collected and the cap refuses newcomers instead of evicting.
static void
server_usage_walk(
    nng_stat *st, int sock_id, rpc_conns_usage **v, size_t *n, size_t *size)
{
	for (; st != NULL; st = nng_stat_next(st)) {
		rpc_conns_usage u    = { 0 };
		int             sock = -1;

		if (nng_stat_type(st) != NNG_STAT_SCOPE)
			continue;
		if (strcmp(nng_stat_name(st), "pipe") != 0) {
			server_usage_walk(
			    nng_stat_child(st), sock_id, v, n, size);
			continue;
		}
		for (nng_stat *c = nng_stat_child(st); c;
		     c           = nng_stat_next(c)) {
			const char *name = nng_stat_name(c);

			if (strcmp(name, "id") == 0)
				u.pipe = (uint32_t) nng_stat_value(c);
			else if (strcmp(name, "socket") == 0)
				sock = (int) nng_stat_value(c);
			else if (strcmp(name, "rx_msgs") == 0)
				u.rx_msgs = nng_stat_value(c);
			else if (strcmp(name, "tx_msgs") == 0)
				u.tx_msgs = nng_stat_value(c);
		}
		if (sock != sock_id || u.pipe == 0)
			continue;
		if (*n == *size) {
			size_t           grown = *size != 0 ? *size * 2 : 64;
			rpc_conns_usage *nv = realloc(*v, grown * sizeof(**v));

			if (nv == NULL)
				return; // fewer candidates, never a wrong one
			*v    = nv;
			*size = grown;
		}
		(*v)[(*n)++] = u;
	}
}

static void
server_usage(rpc_server *s, rpc_conns_usage **v_out, size_t *n_out)
{
	nng_stat *root = NULL;
	size_t    size = 0;

	*v_out = NULL;
	*n_out = 0;
	if (nng_stats_get(&root) != 0)
		return;
	server_usage_walk(root, nng_socket_id(s->sock), v_out, n_out, &size);
	nng_stats_free(root);
}

// nng 1.5.2 (socket.c, pipe.c): every pipe gets ADD_PRE first; one closed
// in ADD_PRE never gets ADD_POST, nor does one whose protocol fails to
// start, but every pipe that got ADD_PRE gets exactly one REM_POST, which
// may even run before ADD_POST. So the table admits in ADD_PRE and
// forgets in REM_POST, and ignores REM_POST for pipes it already let go.
static void
server_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	rpc_server       *s      = arg;
	rpc_conns_usage  *usage  = NULL;
	size_t            nusage = 0;
	uint32_t          victim = 0;
	rpc_conns_verdict verdict;

	if (ev == NNG_PIPE_EV_REM_POST) {
		rpc_conns_remove(s->conns, nng_pipe_id(p));
		return;
	}
	rpc_listeners_saw_pipe(s->lst, p);
	if (rpc_conns_full(s->conns))
		server_usage(s, &usage, &nusage);
	verdict = rpc_conns_admit(
	    s->conns, nng_pipe_id(p), pa_clock_ns(), usage, nusage, &victim);
	free(usage);
	if (verdict == RPC_CONNS_EVICT) {
		nng_pipe v = NNG_PIPE_INITIALIZER;

		v.id = victim;
		nng_pipe_close(v); // it may have closed already: no matter
	} else if (verdict == RPC_CONNS_REFUSE) {
		nng_pipe_close(p);
	}
}

static int
server_check_opts(const rpc_server_opts *opts, pa_err *err)
{
	if (opts->workers == 0 || opts->max_msg == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a server needs at least one worker and a message cap");
	if (opts->ipc_mode < 0 || opts->ipc_mode > 0777)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "ipc mode %o is not a permission mode (0 to 0777)",
		    (unsigned) opts->ipc_mode);
	if (opts->ipc_gid < -1 || opts->ipc_gid > (long) UINT32_MAX - 1)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "ipc group %ld is not a group id", opts->ipc_gid);
	return PA_OK;
}

static int
server_open_socket(rpc_server *s, pa_err *err)
{
	int nrv;

	if ((nrv = nng_rep0_open(&s->sock)) != 0)
		return pa_err_set(
		    err, PA_INTERNAL, "open REP socket: %s", nng_strerror(nrv));
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	    s->opts.max_msg * SERVER_TRANSPORT_SLACK);
	if ((nrv = nng_pipe_notify(
	         s->sock, NNG_PIPE_EV_ADD_PRE, server_pipe_event, s)) != 0 ||
	    (nrv = nng_pipe_notify(
	         s->sock, NNG_PIPE_EV_REM_POST, server_pipe_event, s)) != 0) {
		nng_close(s->sock);
		return pa_err_set(err, PA_INTERNAL, "pipe notifications: %s",
		    nng_strerror(nrv));
	}
	return PA_OK;
}

int
rpc_server_new(rpc_server **out, const rpc_server_opts *opts, pa_err *err)
{
	rpc_server_opts defaults = RPC_SERVER_OPTS_INIT;
	rpc_server     *s        = NULL;
	int             rc;

	if (opts == NULL)
		opts = &defaults;
	if ((rc = server_check_opts(opts, err)) != PA_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	s->opts = *opts;
	if (s->opts.ipc_mode == 0)
		s->opts.ipc_mode = RPC_IPC_DEFAULT_MODE;
	if ((rc = rpc_conns_new(&s->conns, opts->max_conns, err)) != PA_OK) {
		free(s);
		return rc;
	}
	if ((rc = server_open_socket(s, err)) != PA_OK) {
		rpc_conns_free(s->conns);
		free(s);
		return rc;
	}
	if ((rc = rpc_listeners_new(&s->lst, s->sock, &s->opts, err)) !=
	    PA_OK) {
		nng_close(s->sock);
		rpc_conns_free(s->conns);
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->sent, NULL);
	*out = s;
	return PA_OK;
}

static int
server_bind(rpc_server *s, const ProtobufCServiceDescriptor *service,
    const char *method, rpc_handler_fn fn, void *arg, bool blocking,
    pa_err *err)
{
	const ProtobufCMethodDescriptor *md;
	server_method                   *m;

	md = protobuf_c_service_descriptor_get_method_by_name(service, method);
	if (md == NULL)
		return pa_err_set(err, PA_NOT_FOUND, "%s has no method %s",
		    service->name, method);
	if (s->nmethods == SERVER_MAX_METHODS)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "more than %d methods", SERVER_MAX_METHODS);
	m = &s->methods[s->nmethods];
	snprintf(m->full_name, sizeof(m->full_name), "/%s/%s", service->name,
	    md->name);
	for (unsigned i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i].full_name, m->full_name) == 0)
			return pa_err_set(err, PA_ALREADY_EXISTS,
			    "%s is bound twice", m->full_name);
	m->input    = md->input;
	m->fn       = fn;
	m->arg      = arg;
	m->blocking = blocking;
	s->nmethods++;
	return PA_OK;
}

int
rpc_server_bind(rpc_server *s, const ProtobufCServiceDescriptor *service,
    const char *method, rpc_handler_fn fn, void *arg, pa_err *err)
{
	return server_bind(s, service, method, fn, arg, false, err);
}

int
rpc_server_bind_blocking(rpc_server  *s,
    const ProtobufCServiceDescriptor *service, const char *method,
    rpc_handler_fn fn, void *arg, pa_err *err)
{
	return server_bind(s, service, method, fn, arg, true, err);
}

int
rpc_server_listen(rpc_server *s, const char *url, pa_err *err)
{
	return rpc_listeners_add(s->lst, url, err);
}

int
rpc_server_url(
    char *buf, size_t size, rpc_server *s, unsigned index, pa_err *err)
{
	return rpc_listeners_url(buf, size, s->lst, index, err);
}

static const server_method *
server_lookup(const rpc_server *s, const char *full_name)
{
	for (unsigned i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i].full_name, full_name) == 0)
			return &s->methods[i];
	return NULL;
}

// Receive the next request, or go idle when the server is stopping.
static void
worker_next(server_worker *w)
{
	rpc_server *s = w->srv;
	bool        stop;

	pthread_mutex_lock(&s->mtx);
	stop = s->stopping;
	if (stop)
		s->idle++;
	pthread_mutex_unlock(&s->mtx);
	pthread_mutex_lock(&w->mtx);
	w->state = stop ? WORKER_IDLE : WORKER_RECV;
	pthread_mutex_unlock(&w->mtx);
	if (!stop)
		nng_ctx_recv(w->ctx, w->aio);
}

// One holder of the open call lets go; the last one recycles the worker.
static void
worker_release(server_worker *w)
{
	bool last;

	pthread_mutex_lock(&w->mtx);
	last = --w->holders == 0;
	pthread_mutex_unlock(&w->mtx);
	if (!last)
		return;
	rpc_envelope_free(w->call.req);
	rpc_envelope_free(w->call.env);
	w->call.req = NULL;
	w->call.env = NULL;
	worker_next(w);
}

// Send the call's one answer. Returns false when it was already answered.
// Send @p msg on the worker's context, unless the socket is closing.
static void
worker_send(server_worker *w, nng_msg *msg)
{
	rpc_server *s = w->srv;
	bool        closing;

	pthread_mutex_lock(&s->mtx);
	if (!(closing = s->closing))
		s->sending++;
	pthread_mutex_unlock(&s->mtx);
	if (closing) {
		nng_msg_free(msg);
		worker_release(w); // the send that will not happen
		return;
	}
	nng_aio_set_msg(w->aio, msg);
	nng_ctx_send(w->ctx, w->aio);
	pthread_mutex_lock(&s->mtx);
	if (--s->sending == 0)
		pthread_cond_broadcast(&s->sent);
	pthread_mutex_unlock(&s->mtx);
}

static bool
worker_answer(server_worker *w, int code, const char *text,
    const ProtobufCMessage *payload)
{
	rpc_call   *c  = &w->call;
	rpc_server *s  = w->srv;
	uint64_t    id = c->env != NULL ? c->env->request_id : 0;
	nng_msg    *msg;
	pa_err      err;

	bool armed;

	pthread_mutex_lock(&w->mtx);
	if (w->answered) {
		pthread_mutex_unlock(&w->mtx);
		return false;
	}
	w->answered = true;
	armed       = w->timer_armed;
	w->holders++; // the send
	pthread_mutex_unlock(&w->mtx);
	if (code == PA_OK && c->deadline_ns != 0 &&
	    pa_clock_ns() > c->deadline_ns) {
		code    = PA_DEADLINE_EXCEEDED; // too late to be of use
		text    = "deadline exceeded before the answer";
		payload = NULL;
	}

	if (rpc_envelope_pack_response(&msg, code, text, id, payload, &err) !=
	    PA_OK) {
		code = err.code;
		if (rpc_envelope_pack_response(
		        &msg, code, err.msg, id, NULL, NULL) != PA_OK) {
			worker_release(w); // nothing can be sent at all
			return true;
		}
	}
	if (s->opts.observe != NULL)
		s->opts.observe(s->opts.observe_arg,
		    c->method != NULL ? c->method->full_name : "unknown", code,
		    pa_clock_ns() - c->start_ns);
	if (armed)
		nng_aio_cancel(w->timer); // the answer beat the deadline
	worker_send(w, msg);
	return true;
}

// Answer a request that never reached a handler.
static void
worker_reject(server_worker *w, int code, const char *text)
{
	char qt[300];

	pa_log(PA_LOG_WARN, "rpc.request_rejected", "code=%s msg=%s",
	    pa_status_name(code), pa_log_quote(qt, sizeof(qt), text));
	worker_answer(w, code, text, NULL);
}

// Decode the envelope and the payload; on failure answer and return false.
static bool
worker_decode(server_worker *w, nng_msg *msg)
{
	rpc_call   *c   = &w->call;
	rpc_server *s   = w->srv;
	size_t      len = nng_msg_len(msg);
	char        text[512];
	pa_err      err;

	if (len > s->opts.max_msg) {
		snprintf(text, sizeof(text),
		    "request of %zu bytes exceeds the %zu-byte limit", len,
		    s->opts.max_msg);
		worker_reject(w, PA_RESOURCE_EXHAUSTED, text);
		return false;
	}
	if (rpc_envelope_unpack_request(
	        &c->env, nng_msg_body(msg), len, &err)) {
		worker_reject(w, PA_INVALID_ARGUMENT, err.msg);
		return false;
	}
	if (c->env->method[0] == '\0') {
		worker_reject(
		    w, PA_INVALID_ARGUMENT, "request names no method");
		return false;
	}
	if ((c->method = server_lookup(s, c->env->method)) == NULL) {
		snprintf(text, sizeof(text), "unknown method %.200s",
		    c->env->method);
		worker_reject(w, PA_UNIMPLEMENTED, text);
		return false;
	}
	if (rpc_envelope_unpack_payload(
	        &c->req, c->method->input, &c->env->payload, &err) != PA_OK) {
		snprintf(text, sizeof(text), "%s: %s", c->method->full_name,
		    err.msg);
		worker_reject(w, PA_INVALID_ARGUMENT, text);
		return false;
	}
	return true;
}

// ---- the pool for blocking handlers ----

static void
server_run_blocking(void *arg)
{
	rpc_call *c = arg;

	c->method->fn(c, c->req, c->method->arg);
}

static void
server_pool_push(rpc_server *s, rpc_call *c)
{
	c->task.fn  = server_run_blocking;
	c->task.arg = c;
	pa_taskq_submit(s->pool, &c->task);
}

static int
server_pool_start(rpc_server *s, pa_err *err)
{
	bool any = false;

	for (unsigned i = 0; i < s->nmethods; i++)
		any |= s->methods[i].blocking;
	if (!any)
		return PA_OK;
	// A blocking method with no thread to run it would never answer.
	return pa_taskq_new(&s->pool,
	    s->opts.blocking_threads != 0 ? s->opts.blocking_threads : 1, err);
}

// Run what is queued (every call taken from nng is answered), then stop.
static void
server_pool_stop(rpc_server *s)
{
	pa_taskq_free(s->pool);
	s->pool = NULL;
}

// The handler returned without answering: arm the deadline timer. An
// answer racing with the arming cancels the timer on either side.
static void
worker_arm_timer(server_worker *w)
{
	rpc_call *c   = &w->call;
	uint64_t  now = pa_clock_ns();
	bool      answered;

	pthread_mutex_lock(&w->mtx);
	answered = w->answered;
	if (!answered) {
		w->timer_armed = true;
		w->holders++; // the timer
	}
	pthread_mutex_unlock(&w->mtx);
	if (answered)
		return;
	nng_sleep_aio(now >= c->deadline_ns
	        ? 0
	        : (nng_duration) ((c->deadline_ns - now) / 1000000ULL) + 1,
	    w->timer);
	pthread_mutex_lock(&w->mtx);
	answered = w->answered;
	pthread_mutex_unlock(&w->mtx);
	if (answered)
		nng_aio_cancel(w->timer);
}

// ---- the caller ----

// Read what the request's connection says of its peer, when a handler
// asks (only ApplyConfig does: every other call skips the lookups); a
// pipe that has closed since leaves the peer unknown, which callers treat
// as a stranger.
static void
server_read_peer(rpc_peer *out, rpc_server *s, nng_pipe p)
{
	rpc_peer peer = { .transport = RPC_TRANSPORT_UNKNOWN };
	bool     b    = false;

	if (nng_pipe_id(p) > 0)
		peer.transport = rpc_listeners_transport(s->lst, p);
	if (peer.transport == RPC_TRANSPORT_IPC)
		peer.has_cred = nng_pipe_get_uint64(
		                    p, NNG_OPT_IPC_PEER_UID, &peer.uid) == 0 &&
		    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_GID, &peer.gid) ==
		        0;
	if (peer.has_cred &&
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &peer.pid) != 0)
		peer.pid = 0;
	if (peer.transport == RPC_TRANSPORT_TLS &&
	    nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &b) == 0)
		peer.tls_verified = b;
	*out = peer;
}

static void
worker_dispatch(server_worker *w, nng_msg *msg)
{
	rpc_call *c = &w->call;
	bool      ok;

	pthread_mutex_lock(&w->mtx);
	w->state       = WORKER_BUSY;
	w->answered    = false;
	w->timer_armed = false;
	w->holders     = 1; // the dispatch itself
	pthread_mutex_unlock(&w->mtx);
	c->method      = NULL;
	c->start_ns    = pa_clock_ns();
	c->deadline_ns = 0;
	c->pipe        = nng_msg_get_pipe(msg);
	ok             = worker_decode(w, msg);
	nng_msg_free(msg);
	if (ok) {
		if (c->env->deadline_ms > 0)
			c->deadline_ns = c->start_ns +
			    (uint64_t) c->env->deadline_ms * 1000000ULL;
		pthread_mutex_lock(&w->mtx);
		w->holders++; // the handler, until it answers
		pthread_mutex_unlock(&w->mtx);
		if (c->method->blocking)
			server_pool_push(w->srv, c);
		else
			c->method->fn(c, c->req, c->method->arg);
		if (c->deadline_ns != 0)
			worker_arm_timer(w);
	}
	worker_release(w); // the dispatch
}

static void
worker_recv_done(void *arg)
{
	server_worker *w = arg;
	int            rv;

	pthread_mutex_lock(&w->mtx);
	if (w->state == WORKER_BUSY) { // a send finished
		pthread_mutex_unlock(&w->mtx);
		if (nng_aio_result(w->aio) != 0)
			nng_msg_free(nng_aio_get_msg(w->aio));
		worker_release(w);
		return;
	}
	pthread_mutex_unlock(&w->mtx);
	if ((rv = nng_aio_result(w->aio)) != 0) {
		if (rv == NNG_ECLOSED) {
			pthread_mutex_lock(&w->mtx);
			w->state = WORKER_IDLE;
			pthread_mutex_unlock(&w->mtx);
			return;
		}
		worker_next(w); // cancelled by stop, or a transient failure
		return;
	}
	worker_dispatch(w, nng_aio_get_msg(w->aio));
}

static void
worker_timer_done(void *arg)
{
	server_worker *w = arg;
	char           text[80];

	if (nng_aio_result(w->timer) == 0) {
		snprintf(text, sizeof(text), "deadline of %u ms exceeded",
		    w->call.env->deadline_ms);
		worker_answer(w, PA_DEADLINE_EXCEEDED, text, NULL);
	}
	worker_release(w);
}

static int
worker_init(server_worker *w, rpc_server *s, pa_err *err)
{
	int nrv;

	w->srv    = s;
	w->state  = WORKER_IDLE;
	w->call.w = w;
	pthread_mutex_init(&w->mtx, NULL);
	if ((nrv = nng_ctx_open(&w->ctx, s->sock)) != 0 ||
	    (nrv = nng_aio_alloc(&w->aio, worker_recv_done, w)) != 0 ||
	    (nrv = nng_aio_alloc(&w->timer, worker_timer_done, w)) != 0)
		return pa_err_set(
		    err, PA_INTERNAL, "server context: %s", nng_strerror(nrv));
	return PA_OK;
}

int
rpc_server_start(rpc_server *s, pa_err *err)
{
	int rc;

	if (s->started)
		return PA_OK;
	if ((s->workers = calloc(s->opts.workers, sizeof(*s->workers))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	for (unsigned i = 0; i < s->opts.workers; i++)
		if ((rc = worker_init(&s->workers[i], s, err)) != PA_OK)
			return rc;
	if ((rc = server_pool_start(s, err)) != PA_OK ||
	    (rc = rpc_listeners_guard(s->lst, err)) != PA_OK)
		return rc;
	s->started = true;
	for (unsigned i = 0; i < s->opts.workers; i++)
		worker_next(&s->workers[i]);
	return PA_OK;
}

// Cancel every worker that waits for a request; their callbacks go idle.
static void
server_cancel_receivers(rpc_server *s)
{
	for (unsigned i = 0; i < s->opts.workers; i++) {
		server_worker *w = &s->workers[i];
		bool           receiving;

		pthread_mutex_lock(&w->mtx);
		receiving = w->state == WORKER_RECV;
		pthread_mutex_unlock(&w->mtx);
		if (receiving)
			nng_aio_cancel(w->aio);
	}
}

int
rpc_server_stop(rpc_server *s, uint32_t drain_ms)
{
	uint64_t until = pa_clock_ns() + (uint64_t) drain_ms * 1000000ULL;
	bool     drained;

	pthread_mutex_lock(&s->mtx);
	s->stopping = true;
	pthread_mutex_unlock(&s->mtx);
	if (!s->started)
		return PA_OK;
	// A worker finishing a call while the flag flips may start one more
	// receive after a cancel pass, so cancel again until all are idle.
	for (;;) {
		server_cancel_receivers(s);
		pthread_mutex_lock(&s->mtx);
		drained = s->idle >= s->opts.workers;
		pthread_mutex_unlock(&s->mtx);
		if (drained || pa_clock_ns() >= until)
			break;
		nng_msleep(5);
	}
	return drained ? PA_OK : PA_DEADLINE_EXCEEDED;
}

void
rpc_server_free(rpc_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stopping = true;
	s->closing  = true; // no send starts from here on
	while (s->sending > 0)
		pthread_cond_wait(&s->sent, &s->mtx);
	pthread_mutex_unlock(&s->mtx);
	rpc_listeners_stop(s->lst); // it must not listen again meanwhile
	nng_close(s->sock);         // fails every pending operation
	server_pool_stop(s); // runs what is queued; its answers go nowhere
	for (unsigned i = 0; s->workers != NULL && i < s->opts.workers; i++) {
		server_worker *w = &s->workers[i];

		nng_aio_stop(w->timer); // waits for its callback
		nng_aio_stop(w->aio);
		nng_aio_free(w->timer);
		nng_aio_free(w->aio);
		rpc_envelope_free(w->call.req);
		rpc_envelope_free(w->call.env);
		pthread_mutex_destroy(&w->mtx);
	}
	rpc_listeners_free(s->lst); // after the close: its TLS config
	rpc_conns_free(s->conns);   // nng_close() ran every REM_POST
	free(s->workers);
	pthread_cond_destroy(&s->sent);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

int
rpc_call_reply(rpc_call *call, const ProtobufCMessage *resp)
{
	server_worker *w  = call->w;
	bool           ok = worker_answer(w, PA_OK, NULL, resp);

	worker_release(w);
	return ok ? PA_OK : PA_DEADLINE_EXCEEDED;
}

int
rpc_call_fail(rpc_call *call, int code, const char *fmt, ...)
{
	server_worker *w = call->w;
	char           text[PA_ERR_MSG_SIZE];
	va_list        ap;
	bool           ok;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ok = worker_answer(w, code, text, NULL);
	worker_release(w);
	return ok ? PA_OK : PA_DEADLINE_EXCEEDED;
}

int
rpc_call_fail_err(rpc_call *call, const pa_err *err)
{
	return rpc_call_fail(call, err->code, "%s", err->msg);
}

void
rpc_server_get_stats(rpc_server_stats *out, rpc_server *s)
{
	rpc_server_stats st = { 0 };

	rpc_conns_counts(s->conns, &st.conns, &st.conns_refused);
	st.listener_restarts = rpc_listeners_restarts(s->lst);
	st.tls_reloads       = rpc_listeners_tls_reloads(s->lst);
	*out                 = st;
}

const char *
rpc_call_method(const rpc_call *call)
{
	return call->method->full_name;
}

uint64_t
rpc_call_request_id(const rpc_call *call)
{
	return call->env->request_id;
}

int
rpc_call_peer(const rpc_call *call, rpc_peer *out)
{
	server_read_peer(out, call->w->srv, call->pipe);
	return out->transport == RPC_TRANSPORT_UNKNOWN ? PA_NOT_FOUND : PA_OK;
}

uint32_t
rpc_call_remaining_ms(const rpc_call *call)
{
	uint64_t now = pa_clock_ns();

	if (call->deadline_ns == 0)
		return UINT32_MAX;
	if (now >= call->deadline_ns)
		return 0;
	return (uint32_t) ((call->deadline_ns - now) / 1000000ULL);
}
