// SPDX-License-Identifier: Apache-2.0
// jobevents.c: what the agent says about jobs: a log line when one starts
// and ends, and the job metrics.
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "jobevents.h"
#include "prealloc/log.h"

// A job's method as logs and the duration histogram name it: what the
// fill used once it succeeded, what was asked for otherwise.
static const char *
jobevents_method_label(const struct jobs_info *job)
{
	return job->state == JOBS_SUCCEEDED
	    ? fill_method_name(job->result.method)
	    : fill_method_name(job->req.target.method);
}

// Bytes this job made allocated: a fallocate's growth in st_blocks, or
// the zeros written.
static uint64_t
jobevents_bytes(const struct jobs_info *job)
{
	const struct fill_result *r = &job->result;

	if (r->mechanism == FILL_MECH_FALLOCATE)
		return r->allocated_after > r->allocated_before
		    ? r->allocated_after - r->allocated_before
		    : 0;
	return r->bytes_written;
}

static void
jobevents_count_end(jobevents *e, const struct jobs_info *job)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "%s,%s",
	    fill_method_name(job->req.target.method),
	    jobs_state_name(job->state));
	metrics_add(e->jobs_total, labels, 1);
	metrics_observe(e->duration, jobevents_method_label(job),
	    (double) job->duration_ms / 1000.0);
	if (job->state != JOBS_SUCCEEDED)
		return;
	metrics_add(e->bytes, fill_mechanism_name(job->result.mechanism),
	    (double) jobevents_bytes(job));
	if (job->req.target.method == FILL_AUTO && job->result.note[0] != '\0')
		metrics_add(e->fallbacks, "", 1);
}

static void
jobevents_log_start(const struct jobs_info *job)
{
	char rid[JOBS_REQUEST_ID_SIZE + 16], target[PATH_MAX + 16];

	pa_log(PA_LOG_INFO, "job.started",
	    "job=%s request_id=%s target=%s method=%s size=%" PRIu64
	    " offset=%" PRIu64 " lane=%s",
	    job->id, pa_log_quote(rid, sizeof(rid), job->req.request_id),
	    pa_log_quote(target, sizeof(target), job->req.target.path),
	    fill_method_name(job->req.target.method), job->req.target.size,
	    job->req.target.offset, jobs_lane_name(job->req.lane));
}

static void
jobevents_log_end(const struct jobs_info *job)
{
	char rid[JOBS_REQUEST_ID_SIZE + 16], target[PATH_MAX + 16];
	char fs[80], msg[PA_ERR_MSG_SIZE + 16];

	pa_log(job->state == JOBS_FAILED ? PA_LOG_WARN : PA_LOG_INFO,
	    "job.finished",
	    "job=%s request_id=%s target=%s state=%s method=%s "
	    "mechanism=%s filesystem=%s bytes=%" PRIu64 " ms=%" PRIu64
	    " code=%s error=%s",
	    job->id, pa_log_quote(rid, sizeof(rid), job->req.request_id),
	    pa_log_quote(target, sizeof(target), job->req.target.path),
	    jobs_state_name(job->state), jobevents_method_label(job),
	    fill_mechanism_name(job->result.mechanism),
	    pa_log_quote(fs, sizeof(fs), job->result.target),
	    jobevents_bytes(job), job->duration_ms,
	    pa_status_name(job->error_code),
	    pa_log_quote(msg, sizeof(msg), job->error));
}

void
jobevents_on_event(void *arg, const struct jobs_info *job)
{
	if (job->state == JOBS_RUNNING) {
		jobevents_log_start(job);
		return;
	}
	jobevents_log_end(job);
	jobevents_count_end(arg, job);
}

// Remember @p labels as shown. @return false when the table is full.
static bool
jobevents_seen(jobevents *e, const char *labels)
{
	for (size_t i = 0; i < e->nseen; i++)
		if (strcmp(e->seen[i], labels) == 0)
			return true;
	if (e->nseen == JOBEVENTS_MAX_QUEUES)
		return false;
	snprintf(e->seen[e->nseen++], sizeof(e->seen[0]), "%s", labels);
	return true;
}

// The queue per lane and disk, and each disk's writers.
static void
jobevents_collect_queues(jobevents *e, jobs *j)
{
	struct jobs_queue q[JOBEVENTS_MAX_QUEUES];
	size_t            n = jobs_queues(q, JOBEVENTS_MAX_QUEUES, j);
	char              labels[48];

	for (size_t i = 0; i < e->nseen; i++) {
		metrics_set(e->queued, e->seen[i], 0);
		if (strncmp(e->seen[i], "writer,", 7) == 0)
			metrics_set(e->writers, e->seen[i] + 7, 0);
	}
	for (size_t i = 0; i < n; i++) {
		char disk[24] = "";

		if (q[i].lane == JOBS_LANE_WRITER)
			snprintf(disk, sizeof(disk), "%u:%u", major(q[i].disk),
			    minor(q[i].disk));
		snprintf(labels, sizeof(labels), "%s,%s",
		    jobs_lane_name(q[i].lane), disk);
		if (!jobevents_seen(e, labels))
			continue; // a bound on series, far above real nodes
		metrics_set(e->queued, labels, (double) q[i].queued);
		if (q[i].lane == JOBS_LANE_WRITER)
			metrics_set(e->writers, disk, (double) q[i].running);
	}
}

void
jobevents_collect(jobevents *e, jobs *j)
{
	size_t counts[JOBS_NSTATES];

	jobs_counts(counts, j);
	for (int s = JOBS_QUEUED; s < JOBS_NSTATES; s++)
		metrics_set(e->jobs_now, jobs_state_name((enum jobs_state) s),
		    (double) counts[s]);
	metrics_set(e->queue_depth, "", (double) counts[JOBS_QUEUED]);
	jobevents_collect_queues(e, j);
}

int
jobevents_init(jobevents *e, metrics *m, pa_err *err)
{
	// From a fallocate (milliseconds) to a full fill of a large disk.
	static const double bounds[] = { 0.01, 0.05, 0.25, 1, 5, 30, 120, 600,
		3600 };

	memset(e, 0, sizeof(*e));
	if (m == NULL)
		return PA_OK;
	e->jobs_now = metrics_gauge(
	    m, "prealloc_agent_jobs", "Jobs in the table, by state", "state");
	e->jobs_total = metrics_counter(m, "prealloc_agent_jobs_total",
	    "Jobs ended, by requested method and final state", "method,state");
	e->bytes = metrics_counter(m, "prealloc_agent_preallocated_bytes_total",
	    "Bytes made allocated by finished jobs, by mechanism", "mechanism");
	e->fallbacks = metrics_counter(m, "prealloc_agent_auto_fallbacks_total",
	    "Auto jobs that wrote zeros because fallocate was not supported",
	    NULL);
	e->queue_depth = metrics_gauge(
	    m, "prealloc_agent_queue_depth", "Jobs waiting for a worker", NULL);
	e->duration =
	    metrics_histogram(m, "prealloc_agent_job_duration_seconds",
	        "Running time of ended jobs, by method", "method", bounds,
	        sizeof(bounds) / sizeof(bounds[0]));
	e->queued  = metrics_gauge(m, "prealloc_agent_queued_jobs",
	     "Jobs waiting, by lane and, for writers, disk (MAJ:MIN)",
	     "lane,disk");
	e->writers = metrics_gauge(m, "prealloc_agent_disk_writers",
	    "Jobs writing to each disk now", "disk");
	if (e->jobs_now == NULL || e->jobs_total == NULL || e->bytes == NULL ||
	    e->fallbacks == NULL || e->queue_depth == NULL ||
	    e->duration == NULL || e->queued == NULL || e->writers == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	return PA_OK;
}
