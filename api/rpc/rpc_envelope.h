// SPDX-License-Identifier: Apache-2.0
// rpc_envelope.h: pack and unpack the RpcRequest/RpcResponse envelope.
#ifndef PREALLOC_RPC_ENVELOPE_H
#define PREALLOC_RPC_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

#include "prealloc/status.h"
#include "prealloc/v1/rpc.pb-c.h"

typedef Cdi__Prealloc__V1__RpcRequest  rpc_request_pb;
typedef Cdi__Prealloc__V1__RpcResponse rpc_response_pb;

/**
 * Pack a request envelope into a new nng message.
 * @param[out] out   the message, set only on PA_OK; the caller owns it
 *                   (nng_msg_free, or hand it to nng on a successful send).
 * @param method     gRPC's full method name; borrowed.
 * @param payload    the method's request; NULL sends an empty payload.
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED when memory runs out.
 */
int rpc_envelope_pack_request(nng_msg **out, const char *method,
    uint64_t request_id, uint32_t deadline_ms, const ProtobufCMessage *payload,
    pa_err *err);

/**
 * Pack a response envelope into a new nng message.
 * @param[out] out  as for rpc_envelope_pack_request().
 * @param message   one line for a failure; NULL or "" on PA_OK.
 * @param payload   the method's response on PA_OK; NULL otherwise.
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED when memory runs out.
 */
int rpc_envelope_pack_response(nng_msg **out, int code, const char *message,
    uint64_t request_id, const ProtobufCMessage *payload, pa_err *err);

/**
 * Unpack a request envelope from @p len bytes at @p buf. Every unpack
 * function refuses a string field, at any depth, that holds a 0 byte: C
 * would see only the part before it.
 * @param[out] out  set only on PA_OK; free it with rpc_envelope_free().
 * @return PA_OK, or PA_INVALID_ARGUMENT when the bytes are not an envelope
 *         ("N bytes do not decode as TYPE") or a string field holds a 0
 *         byte ("field NAME holds a NUL byte", NAME dotted when nested).
 */
int rpc_envelope_unpack_request(
    rpc_request_pb **out, const void *buf, size_t len, pa_err *err);

/** As rpc_envelope_unpack_request(), for a response envelope. */
int rpc_envelope_unpack_response(
    rpc_response_pb **out, const void *buf, size_t len, pa_err *err);

/**
 * Unpack a method's message from an envelope's payload bytes.
 * @param[out] out  set only on PA_OK; free it with rpc_envelope_free().
 * @param desc      the message type expected.
 * @return PA_OK, or PA_INVALID_ARGUMENT naming the type when undecodable
 *         or the field when a string holds a 0 byte.
 */
int rpc_envelope_unpack_payload(ProtobufCMessage **out,
    const ProtobufCMessageDescriptor *desc, const ProtobufCBinaryData *bytes,
    pa_err *err);

/** Free anything the unpack functions returned; NULL is a no-op. */
void rpc_envelope_free(void *msg);

#endif // PREALLOC_RPC_ENVELOPE_H
