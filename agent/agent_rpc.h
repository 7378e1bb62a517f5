// SPDX-License-Identifier: Apache-2.0
// agent_rpc.h: the PreallocationAgent service's RPC handlers over the job
// table, and the agent's metrics and job log lines.
#ifndef PREALLOC_AGENT_RPC_H
#define PREALLOC_AGENT_RPC_H

#include "confine.h"
#include "jobs.h"
#include "metrics.h"
#include "prealloc/status.h"
#include "rpc_server.h"

/** The handlers' shared state; the caller owns it for the server's life. */
typedef struct agent_rpc {
	confine        *conf;
	jobs           *jobs;
	metrics_family *jobs_now;    // prealloc_agent_jobs{state}
	metrics_family *jobs_total;  // prealloc_agent_jobs_total{method,state}
	metrics_family *bytes;       // ..._preallocated_bytes_total{mechanism}
	metrics_family *fallbacks;   // prealloc_agent_auto_fallbacks_total
	metrics_family *queue_depth; // prealloc_agent_queue_depth
	metrics_family *duration;    // prealloc_agent_job_duration_seconds
} agent_rpc;

/**
 * Set up @p a and register the agent's metric families in @p m.
 * @param conf  borrowed; it must outlive the server.
 * @param m     optional; borrowed for the server's life.
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int agent_rpc_init(agent_rpc *a, confine *conf, metrics *m, pa_err *err);

/**
 * A jobs_opts.on_event hook (@p arg is the agent_rpc): one log line per
 * job start (event=job.started) and end (event=job.finished), and the
 * job counters.
 */
void agent_rpc_job_event(void *arg, const struct jobs_info *job);

/** Set the gauges read on demand (jobs by state, queue depth). */
void agent_rpc_collect(agent_rpc *a);

/**
 * Bind PreallocateVolume, GetJob, CancelJob, ListJobs and ProbeTarget of
 * PreallocationAgent on @p srv, over @p j.
 * @param j  borrowed; it must outlive the server, and jobs_shutdown() must
 *           run before rpc_server_stop() so no long poll is left open.
 * @return PA_OK, or rpc_server_bind()'s failure.
 */
int agent_rpc_bind(agent_rpc *a, rpc_server *srv, jobs *j, pa_err *err);

#endif // PREALLOC_AGENT_RPC_H
