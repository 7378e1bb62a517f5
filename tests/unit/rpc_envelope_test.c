// SPDX-License-Identifier: Apache-2.0
// rpc_envelope_test.c: the envelope codec round-trips and refuses garbage
// and strings with a 0 byte in them.
#include <stdlib.h>
#include <string.h>

#include "prealloc/v1/agent.pb-c.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_envelope.h"
#include "testlib.h"

#define ECHO "/cdi.prealloc.v1.PreallocationPolicy/ResolvePreallocation"

static void
test_rpc_envelope__request_round_trips(void **state)
{
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	Cdi__Prealloc__V1__ResolvePreallocationRequest *back = NULL;
	rpc_request_pb                                 *env  = NULL;
	nng_msg                                        *msg  = NULL;

	req.storage_class = "fast-ssd";
	req.preallocation =
	    CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE;
	assert_int_equal(
	    rpc_envelope_pack_request(&msg, ECHO, 77, 1500, &req.base, NULL),
	    PA_OK);
	assert_int_equal(rpc_envelope_unpack_request(
	                     &env, nng_msg_body(msg), nng_msg_len(msg), NULL),
	    PA_OK);
	assert_string_equal(env->method, ECHO);
	assert_int_equal(env->request_id, 77);
	assert_int_equal(env->deadline_ms, 1500);
	assert_int_equal(
	    rpc_envelope_unpack_payload((ProtobufCMessage **) &back,
	        &cdi__prealloc__v1__resolve_preallocation_request__descriptor,
	        &env->payload, NULL),
	    PA_OK);
	assert_string_equal(back->storage_class, "fast-ssd");
	// An explicit false must survive the wire: it is not "unset".
	assert_int_equal(back->preallocation,
	    CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE);
	rpc_envelope_free(back);
	rpc_envelope_free(env);
	nng_msg_free(msg);
}

static void
test_rpc_envelope__response_carries_code_and_message(void **state)
{
	rpc_response_pb *env = NULL;
	nng_msg         *msg = NULL;

	assert_int_equal(rpc_envelope_pack_response(&msg, PA_ABORTED,
	                     "generation 3 is stale", 9, NULL, NULL),
	    PA_OK);
	assert_int_equal(rpc_envelope_unpack_response(
	                     &env, nng_msg_body(msg), nng_msg_len(msg), NULL),
	    PA_OK);
	assert_int_equal(env->code, PA_ABORTED);
	assert_string_equal(env->message, "generation 3 is stale");
	assert_int_equal(env->request_id, 9);
	assert_int_equal(env->payload.len, 0);
	rpc_envelope_free(env);
	nng_msg_free(msg);
}

static void
test_rpc_envelope__large_payload_round_trips(void **state)
{
	Cdi__Prealloc__V1__ApplyConfigRequest req =
	    CDI__PREALLOC__V1__APPLY_CONFIG_REQUEST__INIT;
	Cdi__Prealloc__V1__ApplyConfigRequest *back = NULL;
	rpc_request_pb                        *env  = NULL;
	nng_msg                               *msg  = NULL;
	char                                  *yaml = malloc(100000);

	memset(yaml, 'y', 99999); // past the stack buffer: the heap path
	yaml[99999] = '\0';
	req.yaml    = yaml;
	assert_int_equal(
	    rpc_envelope_pack_request(&msg, "/x/y", 1, 0, &req.base, NULL),
	    PA_OK);
	assert_int_equal(rpc_envelope_unpack_request(
	                     &env, nng_msg_body(msg), nng_msg_len(msg), NULL),
	    PA_OK);
	assert_int_equal(
	    rpc_envelope_unpack_payload((ProtobufCMessage **) &back,
	        &cdi__prealloc__v1__apply_config_request__descriptor,
	        &env->payload, NULL),
	    PA_OK);
	assert_string_equal(back->yaml, yaml);
	rpc_envelope_free(back);
	rpc_envelope_free(env);
	nng_msg_free(msg);
	free(yaml);
}

static void
test_rpc_envelope__garbage_is_invalid_argument(void **state)
{
	static const unsigned char junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	rpc_request_pb            *env    = NULL;
	pa_err                     err    = PA_ERR_INIT;

	assert_int_equal(
	    rpc_envelope_unpack_request(&env, junk, sizeof(junk), &err),
	    PA_INVALID_ARGUMENT);
	assert_null(env);
	assert_non_null(strstr(err.msg, "RpcRequest"));
}

static void
test_rpc_envelope__empty_bytes_are_an_empty_request(void **state)
{
	rpc_request_pb *env = NULL;

	// protobuf decodes zero bytes as all defaults; the server then
	// refuses it for naming no method.
	assert_int_equal(rpc_envelope_unpack_request(&env, "", 0, NULL), PA_OK);
	assert_string_equal(env->method, "");
	rpc_envelope_free(env);
	rpc_envelope_free(NULL);
}

// ---- strings are taken whole or refused ----

// Wire bytes made by hand: protobuf-c packs a C string up to its first 0,
// so only hand-made bytes carry one, as a hostile client's would.
typedef struct wirebuf {
	uint8_t b[512];
	size_t  n;
} wirebuf;

static void
wire_varint(wirebuf *w, uint64_t v)
{
	do {
		assert_true(w->n < sizeof(w->b));
		w->b[w->n++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

// A length-delimited field @p number holding @p len bytes at @p data.
static void
wire_bytes(wirebuf *w, uint32_t number, const void *data, size_t len)
{
	wire_varint(w, (uint64_t) number << 3 | 2);
	wire_varint(w, len);
	assert_true(w->n + len <= sizeof(w->b));
	memcpy(w->b + w->n, data, len);
	w->n += len;
}

static void
wire_uint(wirebuf *w, uint32_t number, uint64_t v)
{
	wire_varint(w, (uint64_t) number << 3);
	wire_varint(w, v);
}

// Unpack @p w as @p desc; on failure the out-parameter stays NULL.
static int
unpack_wire(
    const ProtobufCMessageDescriptor *desc, const wirebuf *w, pa_err *err)
{
	ProtobufCBinaryData bytes = { w->n, (uint8_t *) w->b };
	ProtobufCMessage   *m     = NULL;
	int rc = rpc_envelope_unpack_payload(&m, desc, &bytes, err);

	if (rc == PA_OK)
		assert_non_null(m);
	else
		assert_null(m);
	rpc_envelope_free(m);
	return rc;
}

static void
test_rpc_envelope__nul_in_a_string_is_invalid_argument(void **state)
{
	wirebuf w   = { .n = 0 };
	pa_err  err = PA_ERR_INIT;

	wire_bytes(&w, 1, "dv", 2);         // data_volume
	wire_uint(&w, 3, 1);                // preallocation
	wire_bytes(&w, 4, "fast\0evil", 9); // storage_class
	assert_int_equal(
	    unpack_wire(
	        &cdi__prealloc__v1__resolve_preallocation_request__descriptor,
	        &w, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(err.code, PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field storage_class holds a NUL byte");
}

static void
test_rpc_envelope__nul_at_a_path_edge_is_invalid_argument(void **state)
{
	static const char                 path[]  = "root/sub/a\0/../../x";
	static const char                 first[] = "\0x";
	static const char                 last[]  = "x\0";
	wirebuf                           w       = { .n = 0 };
	pa_err                            err     = PA_ERR_INIT;
	const ProtobufCMessageDescriptor *d =
	    &cdi__prealloc__v1__preallocate_volume_request__descriptor;

	wire_bytes(&w, 2, path, sizeof(path) - 1);
	wire_uint(&w, 3, 4096);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field path holds a NUL byte");
	// First and last byte, and a string that is one 0 byte.
	w.n = 0;
	wire_bytes(&w, 1, first, 2);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field request_id holds a NUL byte");
	w.n = 0;
	wire_bytes(&w, 1, last, 2);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	w.n = 0;
	wire_bytes(&w, 2, "", 1);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field path holds a NUL byte");
}

static void
test_rpc_envelope__nul_in_a_nested_string_is_invalid_argument(void **state)
{
	wirebuf job = { .n = 0 }, w = { .n = 0 };
	pa_err  err = PA_ERR_INIT;

	wire_bytes(&job, 1, "job-1", 5); // id
	wire_uint(&job, 4, 1 << 20);     // size
	wire_bytes(&job, 3, "a\0b", 3);  // path
	wire_bytes(&w, 1, job.b, job.n); // PreallocateVolumeResponse.job
	assert_int_equal(
	    unpack_wire(
	        &cdi__prealloc__v1__preallocate_volume_response__descriptor, &w,
	        &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field job.path holds a NUL byte");
}

static void
test_rpc_envelope__nul_in_a_repeated_string_is_invalid_argument(void **state)
{
	wirebuf sc = { .n = 0 }, bad = { .n = 0 }, w = { .n = 0 };
	pa_err  err = PA_ERR_INIT;
	const ProtobufCMessageDescriptor *d =
	    &cdi__prealloc__v1__get_config_response__descriptor;

	// warnings: the second of three holds the 0.
	wire_bytes(&w, 1, "spec: {}", 8);
	wire_bytes(&w, 5, "first", 5);
	wire_bytes(&w, 5, "sec\0ond", 7);
	wire_bytes(&w, 5, "third", 5);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "field warnings holds a NUL byte");
	// storage_classes: a repeated message, the second one's name.
	wire_bytes(&sc, 1, "gold", 4);
	wire_bytes(&bad, 1, "si\0lver", 7);
	wire_uint(&bad, 2, 1);
	w.n = 0;
	wire_bytes(&w, 8, sc.b, sc.n);
	wire_bytes(&w, 8, bad.b, bad.n);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "field storage_classes.name holds a NUL byte");
	// The same messages without the 0 decode.
	w.n = 0;
	wire_bytes(&w, 5, "first", 5);
	wire_bytes(&w, 8, sc.b, sc.n);
	wire_bytes(&w, 8, sc.b, sc.n);
	assert_int_equal(unpack_wire(d, &w, &err), PA_OK);
}

static void
test_rpc_envelope__nul_in_the_method_is_invalid_argument(void **state)
{
	wirebuf           w   = { .n = 0 };
	rpc_request_pb   *env = NULL;
	pa_err            err = PA_ERR_INIT;
	static const char method[] =
	    "/cdi.prealloc.v1.PreallocationPolicy/GetConfig\0/evil";

	wire_bytes(&w, 1, method, sizeof(method) - 1);
	wire_uint(&w, 2, 5);
	assert_int_equal(rpc_envelope_unpack_request(&env, w.b, w.n, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(env);
	assert_string_equal(err.msg, "field method holds a NUL byte");
}

static void
test_rpc_envelope__bytes_and_unknown_fields_may_hold_nul(void **state)
{
	static const uint8_t payload[] = { 0, 1, 0, 0, 2, 0 };
	wirebuf              w         = { .n = 0 };
	rpc_request_pb      *env       = NULL;
	rpc_response_pb     *resp      = NULL;
	pa_err               err       = PA_ERR_INIT;

	wire_bytes(&w, 1, "/x/y", 4);
	wire_bytes(&w, 4, payload, sizeof(payload)); // bytes payload
	wire_bytes(&w, 99, "un\0known", 9);          // not in the descriptor
	assert_int_equal(
	    rpc_envelope_unpack_request(&env, w.b, w.n, &err), PA_OK);
	assert_string_equal(env->method, "/x/y");
	assert_int_equal(env->payload.len, sizeof(payload));
	assert_memory_equal(env->payload.data, payload, sizeof(payload));
	rpc_envelope_free(env);
	w.n = 0;
	wire_uint(&w, 1, PA_NOT_FOUND);
	wire_bytes(&w, 3, payload, sizeof(payload));
	assert_int_equal(
	    rpc_envelope_unpack_response(&resp, w.b, w.n, &err), PA_OK);
	assert_int_equal(resp->payload.len, sizeof(payload));
	rpc_envelope_free(resp);
}

static void
test_rpc_envelope__malformed_bytes_keep_their_answer(void **state)
{
	const ProtobufCMessageDescriptor *d =
	    &cdi__prealloc__v1__resolve_preallocation_request__descriptor;
	wirebuf w   = { .n = 0 };
	pa_err  err = PA_ERR_INIT;

	// Truncated inside a string that would hold a 0: the bytes are
	// refused as undecodable, as they were before any string check.
	wire_bytes(&w, 4, "fast\0evil", 9);
	w.n -= 3;
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "bytes do not decode as"));
	assert_non_null(strstr(err.msg, "ResolvePreallocationRequest"));
	// A length that runs past the end.
	w.n = 0;
	wire_varint(&w, 4 << 3 | 2);
	wire_varint(&w, 200);
	wire_bytes(&w, 1, "dv", 2);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "bytes do not decode as"));
	// A group (wire type 3), which protobuf-c does not take.
	w.n = 0;
	wire_varint(&w, 4 << 3 | 3);
	wire_varint(&w, 4 << 3 | 4);
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "bytes do not decode as"));
	// A varint that never ends.
	w.n = 0;
	wire_varint(&w, 3 << 3);
	for (int i = 0; i < 11; i++)
		w.b[w.n++] = 0xff;
	assert_int_equal(unpack_wire(d, &w, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "bytes do not decode as"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpc_envelope__request_round_trips),
		cmocka_unit_test(
		    test_rpc_envelope__response_carries_code_and_message),
		cmocka_unit_test(test_rpc_envelope__large_payload_round_trips),
		cmocka_unit_test(
		    test_rpc_envelope__garbage_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__empty_bytes_are_an_empty_request),
		cmocka_unit_test(
		    test_rpc_envelope__nul_in_a_string_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__nul_at_a_path_edge_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__nul_in_a_nested_string_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__nul_in_a_repeated_string_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__nul_in_the_method_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_envelope__bytes_and_unknown_fields_may_hold_nul),
		cmocka_unit_test(
		    test_rpc_envelope__malformed_bytes_keep_their_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
