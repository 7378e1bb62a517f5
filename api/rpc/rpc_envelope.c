// SPDX-License-Identifier: Apache-2.0
// rpc_envelope.c: the envelope codec, packing straight into nng messages.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_envelope.h"

// Payloads up to this size are packed on the stack; most requests are tiny.
#define ENVELOPE_STACK_PAYLOAD 4096

// Our messages nest two deep; a descriptor that nests deeper than this is
// a bug or a recursive type fed hostile bytes.
#define ENVELOPE_MAX_DEPTH 32

// Room for a dotted field name in an error ("storage_classes.name").
#define ENVELOPE_FIELD_NAME 128

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

// A cursor over protobuf wire bytes.
typedef struct envelope_wire {
	const uint8_t *p;
	const uint8_t *end;
} envelope_wire;

static bool
envelope_wire_varint(envelope_wire *w, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && w->p < w->end; shift += 7) {
		uint8_t b = *w->p++;

		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

static bool
envelope_wire_skip(envelope_wire *w, uint64_t n)
{
	if (n > (uint64_t) (w->end - w->p))
		return false;
	w->p += n;
	return true;
}

// Read one field's tag and find where its value lies. @return false when
// the bytes are not wire format (or use groups, which protobuf-c refuses).
static bool
envelope_wire_field(envelope_wire *w, uint32_t *number_out,
    const uint8_t **value_out, size_t *len_out, bool *delimited_out)
{
	const uint8_t *start;
	uint64_t       tag, n = 0;
	bool           ok;

	if (!envelope_wire_varint(w, &tag) || (tag >> 3) == 0 ||
	    (tag >> 3) > UINT32_MAX)
		return false;
	start = w->p;
	switch (tag & 7) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		ok = envelope_wire_varint(w, &n);
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		ok = envelope_wire_skip(w, 8);
		break;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		ok = envelope_wire_skip(w, 4);
		break;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		ok    = envelope_wire_varint(w, &n);
		start = w->p;
		ok    = ok && envelope_wire_skip(w, n);
		break;
	default:
		return false;
	}
	*number_out    = (uint32_t) (tag >> 3);
	*value_out     = start;
	*len_out       = (size_t) (w->p - start);
	*delimited_out = (tag & 7) == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	return ok;
}

// Refuse a string field of @p desc, at any depth, that holds a 0 byte.
// protobuf-c keeps such a string whole, but C reads it up to the 0, so a
// path "a\0/../x" would be taken as "a": a string is taken whole or not at
// all. @p prefix is the dotted name of the field that holds this message.
static int
envelope_check_strings(const ProtobufCMessageDescriptor *desc,
    const uint8_t *buf, size_t len, const char *prefix, unsigned depth,
    pa_err *err)
{
	envelope_wire wire = { buf, buf };
	int           rc   = PA_OK;

	if (len == 0) // an empty payload may come as NULL
		return PA_OK;
	wire.end = buf + len;
	if (depth > ENVELOPE_MAX_DEPTH)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "field %s nests deeper than %d messages", prefix,
		    ENVELOPE_MAX_DEPTH);
	while (rc == PA_OK && wire.p < wire.end) {
		const ProtobufCFieldDescriptor *f;
		const uint8_t                  *value;
		uint32_t                        number;
		size_t                          n;
		bool                            delimited;
		char                            name[ENVELOPE_FIELD_NAME];

		if (!envelope_wire_field(
		        &wire, &number, &value, &n, &delimited))
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "%zu bytes do not decode as %s", len, desc->name);
		f = protobuf_c_message_descriptor_get_field(desc, number);
		if (f == NULL || !delimited)
			continue; // an unknown field, a number or a fixed value
		snprintf(name, sizeof(name), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", f->name);
		if (f->type == PROTOBUF_C_TYPE_STRING &&
		    memchr(value, '\0', n) != NULL)
			rc = pa_err_set(err, PA_INVALID_ARGUMENT,
			    "field %s holds a NUL byte", name);
		else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			rc = envelope_check_strings(
			    f->descriptor, value, n, name, depth + 1, err);
	}
	return rc;
}

static int
envelope_unpack(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc,
    const void *buf, size_t len, pa_err *err)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf);
	int               rc;

	// protobuf-c decides what is well-formed, so malformed bytes get the
	// same answer as ever; the string check then walks bytes known good.
	if (m == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%zu bytes do not decode as %s", len, desc->name);
	if ((rc = envelope_check_strings(desc, buf, len, "", 0, err)) !=
	    PA_OK) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
	}
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
