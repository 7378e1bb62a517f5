// SPDX-License-Identifier: Apache-2.0
// agent_rpc.h: the PreallocationAgent service's RPC handlers over the job
// table: the wire's messages to and from the engine's.
#ifndef PREALLOC_AGENT_RPC_H
#define PREALLOC_AGENT_RPC_H

#include "confine.h"
#include "jobs.h"
#include "prealloc/status.h"
#include "rpc_server.h"

/** The handlers' shared state; the caller owns it for the server's life. */
typedef struct agent_rpc {
	confine *conf;
	jobs    *jobs;
} agent_rpc;

/**
 * Set up @p a.
 * @param conf  borrowed; it must outlive the server.
 */
void agent_rpc_init(agent_rpc *a, confine *conf);

/**
 * Bind PreallocateVolume, GetJob, CancelJob, ListJobs and ProbeTarget of
 * PreallocationAgent on @p srv, over @p j.
 * @param j  borrowed; it must outlive the server, and jobs_shutdown() must
 *           run before rpc_server_stop() so no long poll is left open.
 * @return PA_OK, or rpc_server_bind()'s failure.
 */
int agent_rpc_bind(agent_rpc *a, rpc_server *srv, jobs *j, pa_err *err);

#endif // PREALLOC_AGENT_RPC_H
