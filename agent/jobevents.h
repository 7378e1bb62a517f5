// SPDX-License-Identifier: Apache-2.0
// jobevents.h: what the agent says about jobs: their log lines and their
// metrics.
#ifndef PREALLOC_AGENT_JOBEVENTS_H
#define PREALLOC_AGENT_JOBEVENTS_H

#include "jobs.h"
#include "metrics.h"
#include "prealloc/status.h"

#define JOBEVENTS_MAX_QUEUES 64

/**
 * The agent's job metric families. Plain data: the registry owns the
 * families, so there is nothing to free; a family is NULL without a
 * registry, and the metrics calls ignore it.
 */
typedef struct jobevents {
	metrics_family *jobs_now;    // prealloc_agent_jobs{state}
	metrics_family *jobs_total;  // prealloc_agent_jobs_total{method,state}
	metrics_family *bytes;       // ..._preallocated_bytes_total{mechanism}
	metrics_family *fallbacks;   // prealloc_agent_auto_fallbacks_total
	metrics_family *queue_depth; // prealloc_agent_queue_depth
	metrics_family *duration;    // prealloc_agent_job_duration_seconds
	metrics_family *queued;      // prealloc_agent_queued_jobs{lane,disk}
	metrics_family *writers;     // prealloc_agent_disk_writers{disk}
	// Queues shown before, so that one that emptied shows 0, not its
	// last figure.
	char   seen[JOBEVENTS_MAX_QUEUES][48];
	size_t nseen;
} jobevents;

/**
 * Set up @p e and register the job metric families in @p m.
 * @param m  optional (no metrics then); borrowed, it must outlive @p e.
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int jobevents_init(jobevents *e, metrics *m, pa_err *err);

/**
 * A jobs_opts.on_event hook (@p arg is the jobevents): one log line per
 * job start (event=job.started) and end (event=job.finished), and the
 * counters of ended jobs. @p job is read during the call, not kept.
 */
void jobevents_on_event(void *arg, const struct jobs_info *job);

/**
 * Set the gauges read on demand (jobs by state, queue depth) from @p j;
 * call it from the metrics render hook. @p j is borrowed for the call.
 */
void jobevents_collect(jobevents *e, jobs *j);

#endif // PREALLOC_AGENT_JOBEVENTS_H
