// SPDX-License-Identifier: Apache-2.0
// rpc_envelope.c: the envelope codec, packing straight into nng messages.
#include <stdlib.h>
#include <string.h>

#include "rpc_envelope.h"

// Payloads up to this size are packed on the stack; most requests are tiny.
#define ENVELOPE_STACK_PAYLOAD 4096

// Pack @p env into a new nng message sized exactly for it.
static int
envelope_to_msg(nng_msg **out, const ProtobufCMessage *env, pa_err *err)
{
	size_t   len = protobuf_c_message_get_packed_size(env);
	nng_msg *msg = NULL;

	if (nng_msg_alloc(&msg, len) != 0)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "cannot allocate a %zu-byte message", len);
	protobuf_c_message_pack(env, nng_msg_body(msg));
	*out = msg;
	return PA_OK;
}

// Serialize @p payload into @p bytes, using @p stack when it fits. The
// caller frees bytes->data when it is not @p stack.
static int
envelope_payload(ProtobufCBinaryData *bytes, uint8_t *stack,
    const ProtobufCMessage *payload, pa_err *err)
{
	size_t len;

	bytes->len  = 0;
	bytes->data = NULL;
	if (payload == NULL)
		return PA_OK;
	len = protobuf_c_message_get_packed_size(payload);
	if (len <= ENVELOPE_STACK_PAYLOAD)
		bytes->data = stack;
	else if ((bytes->data = malloc(len)) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "cannot allocate a %zu-byte payload", len);
	bytes->len = protobuf_c_message_pack(payload, bytes->data);
	return PA_OK;
}

int
rpc_envelope_pack_request(nng_msg **out, const char *method,
    uint64_t request_id, uint32_t deadline_ms, const ProtobufCMessage *payload,
    pa_err *err)
{
	rpc_request_pb env = CDI__PREALLOC__V1__RPC_REQUEST__INIT;
	uint8_t        stack[ENVELOPE_STACK_PAYLOAD];
	int            rc;

	if ((rc = envelope_payload(&env.payload, stack, payload, err)) != PA_OK)
		return rc;
	env.method      = (char *) method;
	env.request_id  = request_id;
	env.deadline_ms = deadline_ms;
	rc              = envelope_to_msg(out, &env.base, err);
	if (env.payload.data != stack)
		free(env.payload.data);
	return rc;
}

int
rpc_envelope_pack_response(nng_msg **out, int code, const char *message,
    uint64_t request_id, const ProtobufCMessage *payload, pa_err *err)
{
	rpc_response_pb env = CDI__PREALLOC__V1__RPC_RESPONSE__INIT;
	uint8_t         stack[ENVELOPE_STACK_PAYLOAD];
	int             rc;

	if ((rc = envelope_payload(&env.payload, stack, payload, err)) != PA_OK)
		return rc;
	env.code       = (Cdi__Prealloc__V1__Code) code;
	env.message    = (char *) (message != NULL ? message : "");
	env.request_id = request_id;
	rc             = envelope_to_msg(out, &env.base, err);
	if (env.payload.data != stack)
		free(env.payload.data);
	return rc;
}

static int
envelope_unpack(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc,
    const void *buf, size_t len, pa_err *err)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf);

	if (m == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%zu bytes do not decode as %s", len, desc->name);
	*out = m;
	return PA_OK;
}

int
rpc_envelope_unpack_request(
    rpc_request_pb **out, const void *buf, size_t len, pa_err *err)
{
	return envelope_unpack((ProtobufCMessage **) out,
	    &cdi__prealloc__v1__rpc_request__descriptor, buf, len, err);
}

int
rpc_envelope_unpack_response(
    rpc_response_pb **out, const void *buf, size_t len, pa_err *err)
{
	return envelope_unpack((ProtobufCMessage **) out,
	    &cdi__prealloc__v1__rpc_response__descriptor, buf, len, err);
}

int
rpc_envelope_unpack_payload(ProtobufCMessage **out,
    const ProtobufCMessageDescriptor *desc, const ProtobufCBinaryData *bytes,
    pa_err *err)
{
	return envelope_unpack(out, desc, bytes->data, bytes->len, err);
}

void
rpc_envelope_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}
