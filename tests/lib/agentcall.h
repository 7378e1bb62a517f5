// SPDX-License-Identifier: Apache-2.0
// agentcall.h: call prealloc-agentd's job methods from tests and benchmarks.
#ifndef PREALLOC_AGENTCALL_H
#define PREALLOC_AGENTCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "prealloc/v1/agent.pb-c.h"
#include "rpc_client.h"

#define AGENTCALL_SVC "/cdi.prealloc.v1.PreallocationAgent/"

typedef Cdi__Prealloc__V1__Job agentcall_job;

/** A PreallocateVolume request; NULL strings are sent empty. */
struct agentcall_req {
	const char *path;
	uint64_t    size, offset;
	int         method; // Cdi__Prealloc__V1__Method
	const char *rid;    // request_id
	uint32_t    wait_ms;
	bool        force;
};

/**
 * PreallocateVolume. The call's deadline is wait_ms plus a minute.
 * @param[out] out  the job, set only on PA_OK; free it with
 *                  agentcall_job_free().
 * @return the call's status.
 */
int agentcall_prealloc(agentcall_job **out, rpc_client *c,
    const struct agentcall_req *req, pa_err *err);

/** GetJob, long-polling up to @p wait_ms. @return as agentcall_prealloc(). */
int agentcall_get_job(agentcall_job **out, rpc_client *c, const char *id,
    uint32_t wait_ms, pa_err *err);

/** CancelJob. @return as agentcall_prealloc(). */
int agentcall_cancel_job(
    agentcall_job **out, rpc_client *c, const char *id, pa_err *err);

/** Free a job from the calls above; NULL is a no-op. */
void agentcall_job_free(agentcall_job *job);

#endif // PREALLOC_AGENTCALL_H
