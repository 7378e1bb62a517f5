// SPDX-License-Identifier: Apache-2.0
// agent_rpc.c: PreallocateVolume, GetJob, CancelJob, ListJobs and
// ProbeTarget handlers over the job table.
//
// No handler blocks on a job: a request is checked, confined and queued
// at once (on the server's pool for the two that open targets), and the
// answer that waits for the job is sent later by the job table's waiter,
// from a worker or the timer thread. What the agent logs and counts about
// jobs themselves is jobevents.c's.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_rpc.h"
#include "prealloc/log.h"
#include "prealloc/v1/agent.pb-c.h"
#include "probe.h"

#define AGENT_REPLY_MARGIN_MS 200u // answer this long before the deadline

typedef Cdi__Prealloc__V1__PreallocateVolumeRequest prealloc_req;
typedef Cdi__Prealloc__V1__Job                      job_pb;
typedef Cdi__Prealloc__V1__ProbeTargetResponse      probe_resp;

// The wire's job states are the table's, number for number.
_Static_assert(
    (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_QUEUED == (int) JOBS_QUEUED &&
        (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_RUNNING ==
            (int) JOBS_RUNNING &&
        (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_SUCCEEDED ==
            (int) JOBS_SUCCEEDED &&
        (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_FAILED ==
            (int) JOBS_FAILED &&
        (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_CANCELLED ==
            (int) JOBS_CANCELLED,
    "job states differ between wire and engine");

// ---- mapping between the wire and the engine ----

static int
agent_method_from_pb(enum fill_method *out, int m, pa_err *err)
{
	switch (m) {
	case CDI__PREALLOC__V1__METHOD__METHOD_AUTO:
		*out = FILL_AUTO;
		return PA_OK;
	case CDI__PREALLOC__V1__METHOD__METHOD_FALLOC:
		*out = FILL_FALLOC;
		return PA_OK;
	case CDI__PREALLOC__V1__METHOD__METHOD_FULL:
		*out = FILL_FULL;
		return PA_OK;
	default:
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "method %d is unknown (auto 0, falloc 1, full 2)", m);
	}
}

static Cdi__Prealloc__V1__Method
agent_method_pb(enum fill_method m)
{
	switch (m) {
	case FILL_FALLOC:
		return CDI__PREALLOC__V1__METHOD__METHOD_FALLOC;
	case FILL_FULL:
		return CDI__PREALLOC__V1__METHOD__METHOD_FULL;
	default:
		return CDI__PREALLOC__V1__METHOD__METHOD_AUTO;
	}
}

// The method a job used: known once it has succeeded.
static Cdi__Prealloc__V1__MethodUsed
agent_method_used_pb(const struct jobs_info *job)
{
	if (job->state == JOBS_SUCCEEDED && job->result.method == FILL_FALLOC)
		return CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_FALLOC;
	if (job->state == JOBS_SUCCEEDED && job->result.method == FILL_FULL)
		return CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_FULL;
	return CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_UNSPECIFIED;
}

static Cdi__Prealloc__V1__Mechanism
agent_mechanism_pb(enum fill_mechanism m)
{
	switch (m) {
	case FILL_MECH_FALLOCATE:
		return CDI__PREALLOC__V1__MECHANISM__MECHANISM_FALLOCATE;
	case FILL_MECH_WRITE_ZEROES:
		return CDI__PREALLOC__V1__MECHANISM__MECHANISM_WRITE_ZEROES;
	case FILL_MECH_BLKZEROOUT:
		return CDI__PREALLOC__V1__MECHANISM__MECHANISM_BLKZEROOUT;
	default:
		return CDI__PREALLOC__V1__MECHANISM__MECHANISM_UNSPECIFIED;
	}
}

// The deprecated string field: "" until the mechanism is known, as before.
static const char *
agent_mechanism_string(enum fill_mechanism m)
{
	return m == FILL_MECH_NONE ? "" : fill_mechanism_name(m);
}

static Cdi__Prealloc__V1__JobState
agent_state_pb(enum jobs_state s)
{
	switch (s) {
	case JOBS_QUEUED:
	case JOBS_RUNNING:
	case JOBS_SUCCEEDED:
	case JOBS_FAILED:
	case JOBS_CANCELLED:
		return (Cdi__Prealloc__V1__JobState) s; // asserted above
	default:
		return CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
	}
}

// @p pb borrows every string from @p job.
static void
agent_job_pb(job_pb *pb, const struct jobs_info *job)
{
	bool ok = job->state == JOBS_SUCCEEDED;

	cdi__prealloc__v1__job__init(pb);
	pb->id               = (char *) job->id;
	pb->request_id       = (char *) job->req.request_id;
	pb->path             = (char *) job->req.target.path;
	pb->size             = job->req.target.size;
	pb->offset           = job->req.target.offset;
	pb->requested_method = agent_method_pb(job->req.target.method);
	pb->force            = job->req.target.force;
	pb->state            = agent_state_pb(job->state);
	pb->method_used =
	    ok ? (char *) fill_method_name(job->result.method) : (char *) "";
	pb->mechanism = (char *) agent_mechanism_string(job->result.mechanism);
	pb->mechanism_used   = agent_mechanism_pb(job->result.mechanism);
	pb->used_method      = agent_method_used_pb(job);
	pb->max_write_rate   = job->req.target.max_write_rate;
	pb->queue_position   = job->position;
	pb->disk             = (char *) job->req.disk_name;
	pb->lane             = job->req.lane == JOBS_LANE_FAST
	                ? CDI__PREALLOC__V1__JOB_LANE__JOB_LANE_FAST
	                : CDI__PREALLOC__V1__JOB_LANE__JOB_LANE_WRITER;
	pb->filesystem       = (char *) job->result.target;
	pb->bytes_done       = job->done;
	pb->bytes_total      = job->total;
	pb->error_code       = (Cdi__Prealloc__V1__Code) job->error_code;
	pb->error_message    = (char *) job->error;
	pb->fallback_note    = (char *) job->result.note;
	pb->allocated_before = job->result.allocated_before;
	pb->allocated_after  = job->result.allocated_after;
	pb->bytes_written    = job->result.bytes_written;
	pb->created_unix_ms  = job->created_ms;
	pb->started_unix_ms  = job->started_ms;
	pb->finished_unix_ms = job->finished_ms;
	pb->duration_ms      = job->duration_ms;
	// An estimate, made when the snapshot was taken (jobs.h).
	pb->expected_start_unix_ms = job->expected_start_ms;
}

void
agent_rpc_init(agent_rpc *a, confine *conf)
{
	memset(a, 0, sizeof(*a));
	a->conf = conf;
}

// ---- answering later: the waiter's side ----

enum agent_answer { AGENT_PREALLOCATE, AGENT_GET_JOB };

struct agent_wait {
	rpc_call         *call;
	enum agent_answer kind;
};

static void
agent_reply_job(
    rpc_call *call, enum agent_answer kind, const struct jobs_info *job)
{
	job_pb pb;

	agent_job_pb(&pb, job);
	if (kind == AGENT_PREALLOCATE) {
		Cdi__Prealloc__V1__PreallocateVolumeResponse r =
		    CDI__PREALLOC__V1__PREALLOCATE_VOLUME_RESPONSE__INIT;

		r.job = &pb;
		rpc_call_reply(call, &r.base);
	} else {
		Cdi__Prealloc__V1__GetJobResponse r =
		    CDI__PREALLOC__V1__GET_JOB_RESPONSE__INIT;

		r.job = &pb;
		rpc_call_reply(call, &r.base);
	}
}

static void
agent_wait_done(void *arg, const struct jobs_info *job)
{
	struct agent_wait *w = arg;

	agent_reply_job(w->call, w->kind, job);
	free(w);
}

// Answer @p call when job @p id ends, or in time for the caller's
// deadline, whichever is first.
static void
agent_answer_later(rpc_call *call, jobs *j, const char *id, uint32_t wait_ms,
    enum agent_answer kind)
{
	struct agent_wait *w    = malloc(sizeof(*w));
	uint32_t           left = rpc_call_remaining_ms(call);
	pa_err             err  = PA_ERR_INIT;

	if (w == NULL) {
		rpc_call_fail(call, PA_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	if (left != UINT32_MAX)
		left = left > 2 * AGENT_REPLY_MARGIN_MS
		    ? left - AGENT_REPLY_MARGIN_MS
		    : left / 2;
	w->call = call;
	w->kind = kind;
	if (jobs_wait(j, id, wait_ms < left ? wait_ms : left, 0,
	        agent_wait_done, w, &err) != PA_OK) {
		free(w);
		rpc_call_fail_err(call, &err);
	}
}

// ---- PreallocateVolume ----

// The range's checks before a job is queued, so that a bad target or
// range is the caller's error and not a failed job. They are made on what
// confinement opened (read-only: the worker claims it for writing).
static int
agent_check_target(struct confine_target *t, const agent_rpc *a,
    const char *path, struct jobs_request *jr, pa_err *err)
{
	int rc;

	if ((rc = confine_open(t, a->conf, path, CONFINE_READ, err)))
		return rc;
	if ((rc = jobs_check_target(t, jr, err)) == PA_OK)
		jobs_classify(jr, t);
	confine_target_close(t);
	return rc;
}

// Turn the wire's request into a job request for a confined target.
static int
agent_job_request(struct jobs_request *out, const agent_rpc *a,
    const prealloc_req *req, pa_err *err)
{
	struct confine_target t = CONFINE_TARGET_INIT;
	int                   rc;

	memset(out, 0, sizeof(*out));
	if ((rc = agent_method_from_pb(&out->target.method, req->method, err)))
		return rc;
	if (strlen(req->request_id) >= sizeof(out->request_id))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "request_id is longer than %zu bytes",
		    sizeof(out->request_id) - 1);
	snprintf(
	    out->request_id, sizeof(out->request_id), "%s", req->request_id);
	out->target.size           = req->size;
	out->target.offset         = req->offset;
	out->target.force          = req->force;
	out->target.max_write_rate = req->max_write_rate;
	if ((rc = agent_check_target(&t, a, req->path, out, err)) != PA_OK)
		return rc;
	memcpy(out->target.path, t.path, sizeof(out->target.path));
	return PA_OK;
}

static void
agent_preallocate(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const prealloc_req *req = (const prealloc_req *) msg;
	agent_rpc          *a   = arg;
	struct jobs_request jr;
	struct jobs_info    job;
	pa_err              err = PA_ERR_INIT;

	if (agent_job_request(&jr, a, req, &err) != PA_OK ||
	    jobs_submit(&job, NULL, a->jobs, &jr, &err) != PA_OK) {
		pa_log(PA_LOG_INFO, "agent.request_refused",
		    "method=PreallocateVolume code=%s",
		    pa_status_name(err.code));
		rpc_call_fail_err(call, &err);
		return;
	}
	agent_answer_later(
	    call, a->jobs, job.id, req->wait_ms, AGENT_PREALLOCATE);
}

// ---- GetJob, CancelJob, ListJobs ----

static void
agent_get_job(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Cdi__Prealloc__V1__GetJobRequest *req =
	    (const Cdi__Prealloc__V1__GetJobRequest *) msg;

	if (req->id[0] == '\0') {
		rpc_call_fail(call, PA_INVALID_ARGUMENT, "id is empty");
		return;
	}
	agent_answer_later(call, ((agent_rpc *) arg)->jobs, req->id,
	    req->wait_ms, AGENT_GET_JOB);
}

static void
agent_cancel_job(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Cdi__Prealloc__V1__CancelJobRequest *req =
	    (const Cdi__Prealloc__V1__CancelJobRequest *) msg;
	Cdi__Prealloc__V1__CancelJobResponse resp =
	    CDI__PREALLOC__V1__CANCEL_JOB_RESPONSE__INIT;
	struct jobs_info         job;
	enum jobs_cancel_outcome outcome;
	job_pb                   pb;
	pa_err                   err = PA_ERR_INIT;

	if (req->id[0] == '\0') {
		rpc_call_fail(call, PA_INVALID_ARGUMENT, "id is empty");
		return;
	}
	if (jobs_cancel(
	        &job, &outcome, ((agent_rpc *) arg)->jobs, req->id, &err)) {
		rpc_call_fail_err(call, &err);
		return;
	}
	pa_log(PA_LOG_INFO, "job.cancel_requested", "job=%s state=%s", job.id,
	    jobs_state_name(job.state));
	agent_job_pb(&pb, &job);
	resp.job = &pb;
	// The wire's values are the engine's.
	resp.outcome = (Cdi__Prealloc__V1__CancelOutcome) outcome;
	rpc_call_reply(call, &resp.base);
}

static void
agent_list_jobs(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	Cdi__Prealloc__V1__ListJobsResponse resp =
	    CDI__PREALLOC__V1__LIST_JOBS_RESPONSE__INIT;
	struct jobs_info *all = NULL;
	job_pb           *pbs = NULL, **ptrs = NULL;
	size_t            n   = 0;
	pa_err            err = PA_ERR_INIT;

	if (jobs_list(&all, &n, ((agent_rpc *) arg)->jobs, &err) != PA_OK) {
		rpc_call_fail_err(call, &err);
		return;
	}
	if (n > 0 &&
	    ((pbs = calloc(n, sizeof(*pbs))) == NULL ||
	        (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		rpc_call_fail(call, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		agent_job_pb(&pbs[i], &all[i]);
		ptrs[i] = &pbs[i];
	}
	resp.jobs   = ptrs;
	resp.n_jobs = n;
	rpc_call_reply(call, &resp.base);
done:
	free(ptrs);
	free(pbs);
	free(all);
}

// ---- ProbeTarget ----

static Cdi__Prealloc__V1__Support
agent_support_pb(enum probe_falloc f)
{
	switch (f) {
	case PROBE_FALLOC_YES:
		return CDI__PREALLOC__V1__SUPPORT__SUPPORT_YES;
	case PROBE_FALLOC_NO:
		return CDI__PREALLOC__V1__SUPPORT__SUPPORT_NO;
	default:
		return CDI__PREALLOC__V1__SUPPORT__SUPPORT_UNKNOWN;
	}
}

// The signatures as fields, borrowing from @p info; the caller frees the
// two arrays.
static int
agent_sigs_pb(probe_resp *resp, const struct probe_info *info,
    Cdi__Prealloc__V1__Signature **items_out)
{
	size_t n = info->nsigs < PROBE_MAX_SIGNATURES ? info->nsigs
	                                              : PROBE_MAX_SIGNATURES;
	Cdi__Prealloc__V1__Signature *items, **ptrs;

	*items_out = NULL;
	if (n == 0)
		return PA_OK;
	items = calloc(n, sizeof(*items));
	ptrs  = calloc(n, sizeof(*ptrs));
	if (items == NULL || ptrs == NULL) {
		free(items);
		free(ptrs);
		return PA_RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < n; i++) {
		cdi__prealloc__v1__signature__init(&items[i]);
		items[i].type   = (char *) info->sigs[i].type;
		items[i].usage  = (char *) info->sigs[i].usage;
		items[i].uuid   = (char *) info->sigs[i].uuid;
		items[i].label  = (char *) info->sigs[i].label;
		items[i].offset = info->sigs[i].offset;
		ptrs[i]         = &items[i];
	}
	resp->signatures   = ptrs;
	resp->n_signatures = n;
	*items_out         = items;
	return PA_OK;
}

static void
agent_probe_fill(probe_resp *r, const struct probe_info *info)
{
	bool block = info->kind == PROBE_BLOCK;

	r->kind   = block ? "block" : "file";
	r->exists = info->kind != PROBE_NEW_FILE;
	r->size   = info->size;
	if (!block) {
		r->filesystem = (char *) info->fs;
		r->allocated  = info->allocated;
		r->free       = info->free_bytes;
		r->fallocate  = agent_support_pb(info->falloc);
		return;
	}
	r->fallocate              = CDI__PREALLOC__V1__SUPPORT__SUPPORT_NO;
	r->logical_sector_size    = info->logical_sector;
	r->physical_sector_size   = info->physical_sector;
	r->optimal_io_size        = info->optimal_io;
	r->alignment_offset       = (uint64_t) info->alignment_offset;
	r->busy                   = info->busy;
	r->write_zeroes_max_bytes = info->write_zeroes_max;
}

// Probing reads a few sectors at most and writes nothing; it is quick
// enough to answer on the callback thread.
static void
agent_probe(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Cdi__Prealloc__V1__ProbeTargetRequest *req =
	    (const Cdi__Prealloc__V1__ProbeTargetRequest *) msg;
	probe_resp resp = CDI__PREALLOC__V1__PROBE_TARGET_RESPONSE__INIT;
	struct confine_target         t;
	struct probe_info             info;
	Cdi__Prealloc__V1__Signature *items = NULL;
	char                          desc[48];
	pa_err                        err = PA_ERR_INIT;

	if (confine_resolve(&t, ((agent_rpc *) arg)->conf, req->path, &err) ||
	    probe_path(&info, t.path, &err) != PA_OK) {
		rpc_call_fail_err(call, &err);
		return;
	}
	resp.path = t.path;
	agent_probe_fill(&resp, &info);
	if (info.kind == PROBE_BLOCK) {
		snprintf(desc, sizeof(desc), "block device %u:%u", info.major,
		    info.minor);
		resp.filesystem = desc;
	}
	if (agent_sigs_pb(&resp, &info, &items) != PA_OK) {
		rpc_call_fail(call, PA_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	rpc_call_reply(call, &resp.base);
	free(resp.signatures);
	free(items);
}

int
agent_rpc_bind(agent_rpc *a, rpc_server *srv, jobs *j, pa_err *err)
{
	const ProtobufCServiceDescriptor *svc =
	    &cdi__prealloc__v1__preallocation_agent__descriptor;
	static const struct {
		const char    *name;
		rpc_handler_fn fn;
	} methods[] = {
		{ "GetJob", agent_get_job },
		{ "CancelJob", agent_cancel_job },
		{ "ListJobs", agent_list_jobs },
	};
	int rc;

	a->jobs = j;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if ((rc = rpc_server_bind(srv, svc, methods[i].name,
		         methods[i].fn, a, err)) != PA_OK)
			return rc;
	// Confinement opens the target and reads /dev and /sys, and a probe
	// reads the device with libblkid: both may wait on a slow disk, so
	// they run on the server's pool, never on nng's callback threads.
	if ((rc = rpc_server_bind_blocking(srv, svc, "PreallocateVolume",
	         agent_preallocate, a, err)) != PA_OK)
		return rc;
	return rpc_server_bind_blocking(
	    srv, svc, "ProbeTarget", agent_probe, a, err);
}
