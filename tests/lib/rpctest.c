// SPDX-License-Identifier: Apache-2.0
// rpctest.c: the echo server behind the RPC layer tests and rpc_bench.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prealloc/v1/policy.pb-c.h"
#include "rpctest.h"
#include "testlib.h"

typedef Cdi__Prealloc__V1__ResolvePreallocationRequest  echo_req;
typedef Cdi__Prealloc__V1__ResolvePreallocationResponse echo_resp;

static atomic_int rpctest_late; // answers still to come from threads

typedef struct late_answer {
	rpc_call       *call;
	const echo_req *req;
	unsigned        ms;
	rpctest_server *t;
} late_answer;

static void
echo_answer(rpc_call *call, const echo_req *req, rpctest_server *t)
{
	echo_resp resp =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_RESPONSE__INIT;

	resp.decided_by_name = req->data_volume;
	resp.preallocate     = req->preallocation ==
	    CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_TRUE;
	__atomic_fetch_add(&t->answered, 1, __ATOMIC_RELAXED);
	rpc_call_reply(call, &resp.base);
}

static void *
echo_later(void *arg)
{
	late_answer *l = arg;

	usleep(l->ms * 1000u);
	echo_answer(l->call, l->req, l->t);
	free(l);
	atomic_fetch_sub(&rpctest_late, 1);
	return NULL;
}

static void
echo_handler(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const echo_req *req = (const echo_req *) msg;
	const char     *sc  = req->storage_class;
	late_answer    *l;
	pthread_t       th;

	if (strncmp(sc, "fail:", 5) == 0) {
		rpc_call_fail(call, atoi(sc + 5), "asked to fail");
		return;
	}
	if (strncmp(sc, "sleep:", 6) != 0) {
		echo_answer(call, req, arg);
		return;
	}
	if ((l = malloc(sizeof(*l))) == NULL)
		abort();
	*l = (late_answer) { call, req, (unsigned) atoi(sc + 6), arg };
	atomic_fetch_add(&rpctest_late, 1);
	if (pthread_create(&th, NULL, echo_later, l) != 0)
		abort();
	pthread_detach(th);
}

// Blocks its thread on purpose: it runs on the server's pool.
static void
block_handler(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Cdi__Prealloc__V1__ApplyConfigRequest *req =
	    (const Cdi__Prealloc__V1__ApplyConfigRequest *) msg;
	Cdi__Prealloc__V1__ApplyConfigResponse resp =
	    CDI__PREALLOC__V1__APPLY_CONFIG_RESPONSE__INIT;

	resp.generation = (uint64_t) atoi(req->yaml);
	usleep((useconds_t) resp.generation * 1000u);
	rpc_call_reply(call, &resp.base);
}

void
rpctest_start(rpctest_server *t, const char *url, const rpc_server_opts *opts)
{
	pa_err err = PA_ERR_INIT;

	memset(t, 0, sizeof(*t));
	if (rpc_server_new(&t->srv, opts, &err) != PA_OK ||
	    rpc_server_bind(t->srv,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "ResolvePreallocation", echo_handler, t, &err) != PA_OK ||
	    rpc_server_bind_blocking(t->srv,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "ApplyConfig", block_handler, t, &err) != PA_OK ||
	    rpc_server_listen(t->srv, url, &err) != PA_OK ||
	    rpc_server_url(t->url, sizeof(t->url), t->srv, 0, &err) != PA_OK ||
	    rpc_server_start(t->srv, &err) != PA_OK)
		fail_msg("test server on %s: %s", url, err.msg);
}

void
rpctest_stop(rpctest_server *t)
{
	while (atomic_load(&rpctest_late) > 0)
		usleep(1000);
	rpc_server_free(t->srv);
	t->srv = NULL;
}

int
rpctest_echo(rpc_client *c, const char *data_volume, const char *storage_class,
    uint32_t deadline_ms, char *echo, size_t echo_size, pa_err *err)
{
	echo_req   req = CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	echo_resp *resp = NULL;
	int        rc;

	req.data_volume   = (char *) data_volume;
	req.storage_class = (char *) storage_class;
	rc = rpc_client_call((ProtobufCMessage **) &resp, c, RPCTEST_ECHO,
	    &req.base,
	    &cdi__prealloc__v1__resolve_preallocation_response__descriptor,
	    deadline_ms, err);
	if (rc == PA_OK && echo != NULL)
		snprintf(echo, echo_size, "%s", resp->decided_by_name);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

int
rpctest_block(
    rpc_client *c, unsigned sleep_ms, uint32_t deadline_ms, pa_err *err)
{
	Cdi__Prealloc__V1__ApplyConfigRequest req =
	    CDI__PREALLOC__V1__APPLY_CONFIG_REQUEST__INIT;
	Cdi__Prealloc__V1__ApplyConfigResponse *resp = NULL;
	char                                    ms[16];
	int                                     rc;

	snprintf(ms, sizeof(ms), "%u", sleep_ms);
	req.yaml = ms;
	rc = rpc_client_call((ProtobufCMessage **) &resp, c, RPCTEST_BLOCKING,
	    &req.base, &cdi__prealloc__v1__apply_config_response__descriptor,
	    deadline_ms, err);
	if (rc == PA_OK && resp->generation != sleep_ms)
		rc = pa_err_set(err, PA_INTERNAL, "wrong answer");
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

void
rpctest_ipc_url(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "ipc://%s/%s.sock", dir, name);
}
