// SPDX-License-Identifier: Apache-2.0
// client.h: libprealloc's client handle and its one calling path, with
// deadlines, retries and a retry budget.
#ifndef PREALLOC_CLIENT_H
#define PREALLOC_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "prealloc/prealloc.h"
#include "rpc_client.h"

/** The retry budget, in tenths of a retry: a retry costs 10, a success
    gives 1 back, and the bucket holds at most 10 retries. */
#define CLIENT_BUDGET_MAX 100
#define CLIENT_BUDGET_RETRY 10
/** The longest backoff between two attempts. */
#define CLIENT_BACKOFF_MAX_MS 2000

typedef enum client_service {
	CLIENT_POLICY = 0,
	CLIENT_AGENT  = 1,
} client_service;

/** Whether a method may be sent again after UNAVAILABLE. */
typedef enum client_repeat {
	CLIENT_ONCE   = 0, // a lost answer may mean it was done
	CLIENT_REPEAT = 1, // idempotent: retried on UNAVAILABLE
} client_repeat;

struct pa_client {
	rpc_client    *rpc[2]; // by client_service; NULL when not given
	pa_client_opts opts;   // strings point into this struct's arena
	atomic_int     budget; // tenths of a retry, see CLIENT_BUDGET_MAX
};

/**
 * Call @p method of @p svc within the client's deadline plus @p extra_ms
 * (the time a long poll may wait on the server), retrying UNAVAILABLE
 * with exponential backoff and jitter when @p repeat allows and the
 * budget has retries left.
 * @param[out] out  the response, set only on PA_OK; free it with
 *                  protobuf_c_message_free_unpacked(out, NULL).
 * @return PA_OK, PA_FAILED_PRECONDITION when the client has no URL for
 *         @p svc, or the call's status.
 */
int client_call(ProtobufCMessage **out, pa_client *c, client_service svc,
    const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *resp_type, client_repeat repeat,
    uint32_t extra_ms, pa_err *err);

/**
 * Fill @p buf with 32 hex digits of 128 random bits (a request id).
 * @return PA_OK, or PA_INTERNAL when the kernel gives no randomness.
 */
int client_request_id(char buf[33], pa_err *err);

#endif // PREALLOC_CLIENT_H
