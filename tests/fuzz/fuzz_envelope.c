// SPDX-License-Identifier: Apache-2.0
// fuzz_envelope.c: any bytes where a server reads a request: the envelope,
// then its payload as each method's request type, as the dispatcher
// decodes them. A message or INVALID_ARGUMENT, never a crash or a leak.
#include <stdint.h>

#include "prealloc/v1/agent.pb-c.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const requests[] = {
	&cdi__prealloc__v1__resolve_preallocation_request__descriptor,
	&cdi__prealloc__v1__apply_config_request__descriptor,
	&cdi__prealloc__v1__preallocate_volume_request__descriptor,
	&cdi__prealloc__v1__get_job_request__descriptor,
	&cdi__prealloc__v1__cancel_job_request__descriptor,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rpc_request_pb *env = NULL;

	if (rpc_envelope_unpack_request(&env, data, size, NULL) != PA_OK)
		return 0;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		ProtobufCMessage *m = NULL;

		if (rpc_envelope_unpack_payload(
		        &m, requests[i], &env->payload, NULL) == PA_OK)
			rpc_envelope_free(m);
	}
	rpc_envelope_free(env);
	return 0;
}
