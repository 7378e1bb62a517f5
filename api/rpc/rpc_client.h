// SPDX-License-Identifier: Apache-2.0
// rpc_client.h: call gRPC-style methods over nng REQ, safe from many threads.
#ifndef PREALLOC_RPC_CLIENT_H
#define PREALLOC_RPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

#include "prealloc/status.h"
#include "rpc_tls.h"

typedef struct rpc_client rpc_client;

typedef struct rpc_client_opts {
	size_t        max_msg;         // larger requests fail locally
	uint32_t      deadline_ms;     // for calls that pass 0
	uint32_t      connect_ms;      // how long a call waits for a connection
	rpc_tls_files tls;             // for tls+tcp:// URLs
	const char   *tls_server_name; // NULL: the URL's host
} rpc_client_opts;

#define RPC_CLIENT_OPTS_INIT                                                  \
	{                                                                     \
		.max_msg = 1024 * 1024, .deadline_ms = 30000,                 \
		.connect_ms      = 1000,                                      \
		.tls             = { .cert = NULL, .key = NULL, .ca = NULL }, \
		.tls_server_name = NULL                                       \
	}

/**
 * Make a client for one or more servers. It dials in the background and
 * reconnects by itself; calls spread over the connected servers, and a
 * request whose server goes away is sent again to another.
 * @param[out] out  set only on PA_OK; free it with rpc_client_free().
 * @param urls      one URL, or several separated by commas; copied.
 * @param opts      copied; NULL takes the defaults.
 * @return PA_OK, PA_INVALID_ARGUMENT for a bad URL or TLS files,
 *         PA_INTERNAL when nng cannot make the socket.
 */
int rpc_client_new(rpc_client **out, const char *urls,
    const rpc_client_opts *opts, pa_err *err);

/** Close the client and free it; NULL is a no-op. Calls must be done. */
void rpc_client_free(rpc_client *c);

/**
 * Call @p method and wait for its answer.
 * @param[out] out      the decoded response, set only on PA_OK; free it
 *                      with protobuf_c_message_free_unpacked(out, NULL).
 * @param method        gRPC's full name: "/cdi.prealloc.v1.Service/Method".
 * @param req           the request; read during the call, not kept.
 * @param resp_type     the response message type.
 * @param deadline_ms   the whole call's budget; 0 takes the client default.
 * @return PA_OK or the server's status (with its message in @p err);
 *         PA_UNAVAILABLE when no server is connected (refused, gone);
 *         PA_DEADLINE_EXCEEDED when the budget runs out;
 *         PA_RESOURCE_EXHAUSTED when the request exceeds max_msg;
 *         PA_INTERNAL when the answer cannot be decoded.
 */
int rpc_client_call(ProtobufCMessage **out, rpc_client *c, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
    uint32_t deadline_ms, pa_err *err);

/**
 * Send @p msg as it is and return the raw answer, for tests and tools
 * that speak the envelope themselves.
 * @param[out] out  the answer, set only on PA_OK; the caller frees it
 *                  with nng_msg_free().
 * @param msg       taken on every return (sent or freed).
 * @return PA_OK, PA_UNAVAILABLE, PA_DEADLINE_EXCEEDED, or
 *         PA_RESOURCE_EXHAUSTED for a message over max_msg.
 */
int rpc_client_call_msg(nng_msg **out, rpc_client *c, nng_msg *msg,
    uint32_t deadline_ms, pa_err *err);

/** @return how many servers the client is connected to now. */
int rpc_client_connected(rpc_client *c);

#endif // PREALLOC_RPC_CLIENT_H
