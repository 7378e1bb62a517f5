// SPDX-License-Identifier: Apache-2.0
// rpc_envelope_test.c: the envelope codec round-trips and refuses garbage.
#include <stdlib.h>
#include <string.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
