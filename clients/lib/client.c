// SPDX-License-Identifier: Apache-2.0
// client.c: pa_client: two RPC clients, deadlines, retries with backoff and
// jitter on UNAVAILABLE for calls safe to repeat, and a retry budget.
//
// The budget works like gRPC's retry throttling: every retry spends a
// token, every success earns a tenth of one back, and when the bucket is
// empty calls fail at their first UNAVAILABLE, so a dead service costs its
// clients one attempt per call instead of a storm of retries.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "arena.h"
#include "client.h"
#include "prealloc/util.h"

// nng counts milliseconds in an int32: one attempt waits 24 days at most.
#define CLIENT_CALL_MAX_MS ((uint64_t) INT32_MAX / 2)

static void
client_sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec  = (time_t) (ms / 1000),
		.tv_nsec = (long) (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint32_t
client_random(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t) sizeof(r))
		r = (uint32_t) (pa_clock_ns() / 1000000ULL) * 2654435761u;
	return r;
}

int
client_request_id(char buf[33], pa_err *err)
{
	unsigned char bits[16];
	size_t        got = 0;

	while (got < sizeof(bits)) {
		ssize_t n = getrandom(bits + got, sizeof(bits) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pa_err_errno(err, errno, "request id");
		got += (size_t) n;
	}
	for (size_t i = 0; i < sizeof(bits); i++)
		snprintf(buf + 2 * i, 3, "%02x", bits[i]);
	return PA_OK;
}

// The backoff before retry @p n (0-based): base * 2^n capped at 2 s, then
// "equal jitter": half of it fixed, the other half random.
static uint64_t
client_backoff_ms(const pa_client *c, unsigned n)
{
	uint64_t b = c->opts.backoff_ms;

	for (unsigned i = 0; i < n && b < CLIENT_BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > CLIENT_BACKOFF_MAX_MS)
		b = CLIENT_BACKOFF_MAX_MS;
	return b / 2 + client_random() % (b / 2 + 1);
}

// Take one retry from the budget; false when it is spent.
static bool
client_budget_take(pa_client *c)
{
	int have = atomic_load(&c->budget);

	while (have >= CLIENT_BUDGET_RETRY)
		if (atomic_compare_exchange_weak(
		        &c->budget, &have, have - CLIENT_BUDGET_RETRY))
			return true;
	return false;
}

static void
client_budget_earn(pa_client *c)
{
	int have = atomic_load(&c->budget);

	while (have < CLIENT_BUDGET_MAX &&
	    !atomic_compare_exchange_weak(&c->budget, &have, have + 1))
		;
}

int
client_call(ProtobufCMessage **out, pa_client *c, client_service svc,
    const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *resp_type, client_repeat repeat,
    uint32_t extra_ms, pa_err *err)
{
	uint64_t end =
	    (pa_clock_ns() / 1000000ULL) + c->opts.deadline_ms + extra_ms;
	pa_err   last = PA_ERR_INIT;
	unsigned attempt;
	int      rc;

	if (c->rpc[svc] == NULL)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "no %s URL given to the client",
		    svc == CLIENT_POLICY ? "policy service" : "agent");
	for (attempt = 0;; attempt++) {
		uint64_t now = (pa_clock_ns() / 1000000ULL), pause;

		if (now >= end) {
			rc = pa_err_set(&last, PA_DEADLINE_EXCEEDED,
			    "no answer to %s within %llu ms", method,
			    (unsigned long long) c->opts.deadline_ms +
			        extra_ms);
			break;
		}
		rc = rpc_client_call(out, c->rpc[svc], method, req, resp_type,
		    (uint32_t) (end - now < CLIENT_CALL_MAX_MS
		            ? end - now
		            : CLIENT_CALL_MAX_MS),
		    &last);
		if (rc == PA_OK) {
			client_budget_earn(c);
			return PA_OK;
		}
		if (rc != PA_UNAVAILABLE || repeat != CLIENT_REPEAT ||
		    attempt >= c->opts.max_retries)
			break;
		pause = client_backoff_ms(c, attempt);
		if ((pa_clock_ns() / 1000000ULL) + pause >= end ||
		    !client_budget_take(c))
			break;
		client_sleep_ms(pause);
	}
	if (attempt == 0)
		return pa_err_set(err, rc, "%s", last.msg);
	return pa_err_set(
	    err, rc, "%s (after %u attempts)", last.msg, attempt + 1);
}

// Copy the caller's options into the client's arena.
static int
client_copy_opts(pa_client *c, const pa_client_opts *o, pa_err *err)
{
	const char **dst[] = { &c->opts.policy_urls, &c->opts.agent_urls,
		&c->opts.tls_cert, &c->opts.tls_key, &c->opts.tls_ca,
		&c->opts.tls_server_name };
	const char  *src[] = { o->policy_urls, o->agent_urls, o->tls_cert,
		 o->tls_key, o->tls_ca, o->tls_server_name };

	c->opts = *o;
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (src[i] != NULL &&
		    (*dst[i] = arena_strdup(c, src[i])) == NULL)
			return pa_err_set(
			    err, PA_RESOURCE_EXHAUSTED, "out of memory");
	if (c->opts.deadline_ms == 0)
		c->opts.deadline_ms = 30000;
	if (c->opts.connect_ms == 0)
		c->opts.connect_ms = 1000;
	if (c->opts.backoff_ms == 0)
		c->opts.backoff_ms = 1;
	return PA_OK;
}

int
pa_client_new(pa_client **out, const pa_client_opts *opts, pa_err *err)
{
	rpc_client_opts ro = RPC_CLIENT_OPTS_INIT;
	const char     *urls[2];
	pa_client      *c  = NULL;
	int             rc = PA_OK;

	if (out == NULL || opts == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_client_new needs an out pointer and options");
	if (opts->policy_urls == NULL && opts->agent_urls == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "neither a policy service nor an agent URL given");
	if ((c = arena_new(sizeof(*c))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	atomic_init(&c->budget, CLIENT_BUDGET_MAX);
	if ((rc = client_copy_opts(c, opts, err)) != PA_OK)
		goto done;
	ro.deadline_ms      = c->opts.deadline_ms;
	ro.connect_ms       = c->opts.connect_ms;
	ro.tls.cert         = c->opts.tls_cert;
	ro.tls.key          = c->opts.tls_key;
	ro.tls.ca           = c->opts.tls_ca;
	ro.tls_server_name  = c->opts.tls_server_name;
	urls[CLIENT_POLICY] = c->opts.policy_urls;
	urls[CLIENT_AGENT]  = c->opts.agent_urls;
	for (int i = 0; i < 2 && rc == PA_OK; i++)
		if (urls[i] != NULL)
			rc = rpc_client_new(&c->rpc[i], urls[i], &ro, err);
	if (rc != PA_OK)
		goto done;
	*out = c;
	c    = NULL;
done:
	pa_client_free(c);
	return rc;
}

void
pa_client_free(pa_client *c)
{
	if (c == NULL)
		return;
	rpc_client_free(c->rpc[CLIENT_POLICY]);
	rpc_client_free(c->rpc[CLIENT_AGENT]);
	arena_free(c);
}
