// SPDX-License-Identifier: Apache-2.0
// agent.c: the node agent's calls: PreallocateVolume, GetJob (long polls and
// waits with progress), CancelJob, ListJobs and ProbeTarget.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "arena.h"
#include "client.h"
#include "prealloc/v1/agent.pb-c.h"

#define AGENT_SVC "/cdi.prealloc.v1.PreallocationAgent/"
// How long one GetJob of a wait long-polls: how often progress is told.
#define AGENT_POLL_MS 500

typedef Cdi__Prealloc__V1__Job job_pb;

_Static_assert(
    (int) PA_METHOD_FULL == (int) CDI__PREALLOC__V1__METHOD__METHOD_FULL &&
        (int) PA_METHOD_FALLOC ==
            (int) CDI__PREALLOC__V1__METHOD__METHOD_FALLOC &&
        (int) PA_JOB_CANCELLED ==
            (int) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_CANCELLED,
    "pa_method or pa_job_state differ from the wire");

bool
pa_job_state_done(pa_job_state state)
{
	return state == PA_JOB_SUCCEEDED || state == PA_JOB_FAILED ||
	    state == PA_JOB_CANCELLED;
}

const char *
pa_job_state_name(pa_job_state state)
{
	static const char *const names[] = { "unspecified", "queued", "running",
		"succeeded", "failed", "cancelled" };

	if ((unsigned) state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[state];
}

const char *
pa_method_name(pa_method method)
{
	static const char *const names[] = { "auto", "falloc", "full" };

	if ((unsigned) method >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[method];
}

int
pa_method_parse(pa_method *out, const char *name, pa_err *err)
{
	for (pa_method m = PA_METHOD_AUTO; m <= PA_METHOD_FULL; m++)
		if (out != NULL && name != NULL &&
		    strcmp(name, pa_method_name(m)) == 0) {
			*out = m;
			return PA_OK;
		}
	return pa_err_set(err, PA_INVALID_ARGUMENT,
	    "unknown method \"%s\" (expected auto, falloc or full)",
	    name != NULL ? name : "");
}

// The strings of a job, where pa_job and the wire keep them: one list for
// copying from the wire and for cloning a pa_job.
static const struct {
	size_t job, pb;
} agent_job_strings[] = {
#define AGENT_JOB_STRING(f)                              \
	{                                                \
		offsetof(pa_job, f), offsetof(job_pb, f) \
	}
	AGENT_JOB_STRING(id),
	AGENT_JOB_STRING(request_id),
	AGENT_JOB_STRING(path),
	AGENT_JOB_STRING(method_used),
	AGENT_JOB_STRING(mechanism),
	AGENT_JOB_STRING(filesystem),
	AGENT_JOB_STRING(error_message),
	AGENT_JOB_STRING(fallback_note),
	AGENT_JOB_STRING(disk),
#undef AGENT_JOB_STRING
};

#define AGENT_NSTRINGS \
	(sizeof(agent_job_strings) / sizeof(agent_job_strings[0]))

static const char **
agent_job_string(pa_job *job, size_t i)
{
	return (
	    const char **) (void *) ((char *) job + agent_job_strings[i].job);
}

// A static string: nothing to copy into the arena.
static const char *
agent_lane_name(Cdi__Prealloc__V1__JobLane lane)
{
	switch (lane) {
	case CDI__PREALLOC__V1__JOB_LANE__JOB_LANE_FAST:
		return "fast";
	case CDI__PREALLOC__V1__JOB_LANE__JOB_LANE_WRITER:
		return "writer";
	default:
		return "";
	}
}

// The name of a mechanism this library knows, as the agent's deprecated
// string spells it; NULL for UNSPECIFIED or a value from a newer agent,
// whose string is then kept.
static const char *
agent_mechanism_name(Cdi__Prealloc__V1__Mechanism m)
{
	switch (m) {
	case CDI__PREALLOC__V1__MECHANISM__MECHANISM_FALLOCATE:
		return "fallocate";
	case CDI__PREALLOC__V1__MECHANISM__MECHANISM_WRITE_ZEROES:
		return "write-zeroes";
	case CDI__PREALLOC__V1__MECHANISM__MECHANISM_BLKZEROOUT:
		return "blkzeroout";
	default:
		return NULL;
	}
}

// Copy a wire job into @p dst, its strings into @p root's arena.
static bool
agent_job_copy(void *root, pa_job *dst, const job_pb *j)
{
	for (size_t i = 0; i < AGENT_NSTRINGS; i++) {
		const char *src =
		    *(const char *const *) (const void *) ((const char *) j +
		        agent_job_strings[i].pb);

		if ((*agent_job_string(dst, i) = arena_strdup(root, src)) ==
		    NULL)
			return false;
	}
	if (j->used_method !=
	    CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_UNSPECIFIED)
		dst->method_used = pa_method_name(j->used_method ==
		            CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_FALLOC
		        ? PA_METHOD_FALLOC
		        : PA_METHOD_FULL); // else the string, from older agents
	if (agent_mechanism_name(j->mechanism_used) != NULL)
		dst->mechanism = agent_mechanism_name(j->mechanism_used);
	dst->size             = j->size;
	dst->offset           = j->offset;
	dst->requested_method = (pa_method) j->requested_method;
	dst->force            = j->force;
	dst->state            = (pa_job_state) j->state;
	dst->bytes_done       = j->bytes_done;
	dst->bytes_total      = j->bytes_total;
	dst->error_code       = (int) j->error_code;
	dst->allocated_before = j->allocated_before;
	dst->allocated_after  = j->allocated_after;
	dst->bytes_written    = j->bytes_written;
	dst->created_unix_ms  = j->created_unix_ms;
	dst->started_unix_ms  = j->started_unix_ms;
	dst->finished_unix_ms = j->finished_unix_ms;
	dst->duration_ms      = j->duration_ms;
	dst->lane             = agent_lane_name(j->lane);
	dst->queue_position   = j->queue_position;

	dst->expected_start_unix_ms = j->expected_start_unix_ms;
	dst->max_write_rate         = j->max_write_rate;
	return true;
}

bool
agent_job_clone(void *root, pa_job *dst, const pa_job *src)
{
	*dst = *src;
	for (size_t i = 0; i < AGENT_NSTRINGS; i++) {
		const char **str = agent_job_string(dst, i);

		if ((*str = arena_strdup(root, *str)) == NULL)
			return false;
	}
	return true;
}

// A new pa_job from a wire job; the answer must hold one.
static int
agent_job_new(pa_job **out, const job_pb *j, pa_err *err)
{
	pa_job *job;

	if (j == NULL)
		return pa_err_set(
		    err, PA_INTERNAL, "the agent answered no job");
	if ((job = arena_new(sizeof(*job))) == NULL ||
	    !agent_job_copy(job, job, j)) {
		pa_job_free(job);
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	}
	*out = job;
	return PA_OK;
}

void
pa_job_free(pa_job *job)
{
	arena_free(job);
}

// The job answers PreallocateVolume, GetJob and CancelJob share: call,
// then copy the one Job of the answer (and CancelJob's outcome, into
// @p outcome when not NULL).
// The values are the wire's; one this library does not know is unknown.
static pa_cancel_outcome
agent_cancel_outcome(const ProtobufCMessage *resp)
{
	int v = (int) ((const Cdi__Prealloc__V1__CancelJobResponse *) resp)
	            ->outcome;

	return v >= PA_CANCEL_CANCELLED && v <= PA_CANCEL_HAD_ENDED
	    ? (pa_cancel_outcome) v
	    : PA_CANCEL_UNKNOWN;
}

static int
agent_job_call(pa_job **out, pa_cancel_outcome *outcome, pa_client *c,
    const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *resp_type, uint32_t wait_ms, pa_err *err)
{
	ProtobufCMessage *resp = NULL;
	const job_pb     *j    = NULL;
	int               rc;

	rc = client_call(&resp, c, CLIENT_AGENT, method, req, resp_type,
	    CLIENT_REPEAT, wait_ms, err);
	if (rc != PA_OK)
		return rc;
	// The three answers are `Job job = 1;`, CancelJob's with its outcome.
	if (resp_type ==
	    &cdi__prealloc__v1__preallocate_volume_response__descriptor)
		j = ((Cdi__Prealloc__V1__PreallocateVolumeResponse *) resp)
		        ->job;
	else if (resp_type == &cdi__prealloc__v1__get_job_response__descriptor)
		j = ((Cdi__Prealloc__V1__GetJobResponse *) resp)->job;
	else
		j = ((Cdi__Prealloc__V1__CancelJobResponse *) resp)->job;
	if (outcome != NULL)
		*outcome = agent_cancel_outcome(resp);
	rc = agent_job_new(out, j, err);
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

int
pa_preallocate(
    pa_job **out, pa_client *c, const pa_prealloc_req *req, pa_err *err)
{
	Cdi__Prealloc__V1__PreallocateVolumeRequest pb =
	    CDI__PREALLOC__V1__PREALLOCATE_VOLUME_REQUEST__INIT;
	char id[33];
	int  rc;

	if (out == NULL || c == NULL || req == NULL || req->path == NULL ||
	    (unsigned) req->method > PA_METHOD_FULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_preallocate needs an out pointer, a client and a "
		    "request with a path and a known method");
	// A request id of our own makes a retry after UNAVAILABLE join the
	// job the lost answer was about instead of starting another.
	pb.request_id = (char *) req->request_id;
	if (pb.request_id == NULL || pb.request_id[0] == '\0') {
		if ((rc = client_request_id(id, err)) != PA_OK)
			return rc;
		pb.request_id = id;
	}
	pb.path           = (char *) req->path;
	pb.size           = req->size;
	pb.offset         = req->offset;
	pb.method         = (Cdi__Prealloc__V1__Method) req->method;
	pb.force          = req->force;
	pb.wait_ms        = req->wait_ms;
	pb.max_write_rate = req->max_write_rate;
	return agent_job_call(out, NULL, c, AGENT_SVC "PreallocateVolume",
	    &pb.base,
	    &cdi__prealloc__v1__preallocate_volume_response__descriptor,
	    req->wait_ms, err);
}

int
pa_get_job(
    pa_job **out, pa_client *c, const char *id, uint32_t wait_ms, pa_err *err)
{
	Cdi__Prealloc__V1__GetJobRequest pb =
	    CDI__PREALLOC__V1__GET_JOB_REQUEST__INIT;

	if (out == NULL || c == NULL || id == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_get_job needs an out pointer, a client and a job id");
	pb.id      = (char *) id;
	pb.wait_ms = wait_ms;
	return agent_job_call(out, NULL, c, AGENT_SVC "GetJob", &pb.base,
	    &cdi__prealloc__v1__get_job_response__descriptor, wait_ms, err);
}

int
pa_cancel_job(pa_job **out, pa_client *c, const char *id, pa_err *err)
{
	return pa_cancel_job_outcome(out, NULL, c, id, err);
}

int
pa_cancel_job_outcome(pa_job **out, pa_cancel_outcome *outcome, pa_client *c,
    const char *id, pa_err *err)
{
	Cdi__Prealloc__V1__CancelJobRequest pb =
	    CDI__PREALLOC__V1__CANCEL_JOB_REQUEST__INIT;
	pa_job *job = NULL;
	int     rc;

	if (c == NULL || id == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_cancel_job needs a client and a job id");
	pb.id = (char *) id;
	// Cancelling twice is cancelling once, so it is retried.
	rc = agent_job_call(&job, outcome, c, AGENT_SVC "CancelJob", &pb.base,
	    &cdi__prealloc__v1__cancel_job_response__descriptor, 0, err);
	if (rc == PA_OK && out != NULL)
		*out = job;
	else
		pa_job_free(job);
	return rc;
}

// Tell @p progress about @p job (owned) at each answer, cancel once when
// it asks, and long-poll until the job ends.
static int
agent_wait(pa_job **out, pa_client *c, pa_job *job, pa_progress_fn progress,
    void *arg, pa_err *err)
{
	bool cancelled = false;
	int  rc        = PA_OK;

	for (;;) {
		pa_job *next = NULL;
		bool    stop = progress != NULL && progress(arg, job) != 0;

		if (pa_job_state_done(job->state))
			break;
		if (stop && !cancelled) {
			rc = pa_cancel_job(NULL, c, job->id, err);
			if (rc != PA_OK)
				goto done;
			cancelled = true;
		}
		if ((rc = pa_get_job(&next, c, job->id, AGENT_POLL_MS, err)))
			goto done;
		pa_job_free(job);
		job = next;
	}
	*out = job;
	job  = NULL;
done:
	pa_job_free(job);
	return rc;
}

int
pa_preallocate_wait(pa_job **out, pa_client *c, const pa_prealloc_req *req,
    pa_progress_fn progress, void *arg, pa_err *err)
{
	pa_job *job = NULL;
	int     rc;

	if (out == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_preallocate_wait needs an out pointer");
	if ((rc = pa_preallocate(&job, c, req, err)) != PA_OK)
		return rc;
	return agent_wait(out, c, job, progress, arg, err);
}

int
pa_wait_job(pa_job **out, pa_client *c, const char *id, pa_progress_fn progress,
    void *arg, pa_err *err)
{
	pa_job *job = NULL;
	int     rc;

	if (out == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_wait_job needs an out pointer");
	if ((rc = pa_get_job(&job, c, id, 0, err)) != PA_OK)
		return rc;
	return agent_wait(out, c, job, progress, arg, err);
}

int
pa_list_jobs(pa_job_list **out, pa_client *c, pa_err *err)
{
	Cdi__Prealloc__V1__ListJobsRequest pb =
	    CDI__PREALLOC__V1__LIST_JOBS_REQUEST__INIT;
	Cdi__Prealloc__V1__ListJobsResponse *resp = NULL;
	pa_job_list                         *list = NULL;
	pa_job                              *jobs = NULL;
	int                                  rc;

	if (out == NULL || c == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_list_jobs needs an out pointer and a client");
	rc = client_call((ProtobufCMessage **) &resp, c, CLIENT_AGENT,
	    AGENT_SVC "ListJobs", &pb.base,
	    &cdi__prealloc__v1__list_jobs_response__descriptor, CLIENT_REPEAT,
	    0, err);
	if (rc != PA_OK)
		goto done;
	if ((list = arena_new(sizeof(*list))) == NULL ||
	    (jobs = arena_alloc(list, resp->n_jobs * sizeof(*jobs))) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < resp->n_jobs; i++)
		if (!agent_job_copy(list, &jobs[i], resp->jobs[i])) {
			rc = pa_err_set(
			    err, PA_RESOURCE_EXHAUSTED, "out of memory");
			goto done;
		}
	list->jobs = jobs;
	list->n    = resp->n_jobs;
	*out       = list;
	list       = NULL;
done:
	pa_job_list_free(list);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

void
pa_job_list_free(pa_job_list *list)
{
	arena_free(list);
}

// Copy a probe answer into @p p's arena; false when memory runs out.
static bool
agent_probe_copy(pa_probe *p, const Cdi__Prealloc__V1__ProbeTargetResponse *r)
{
	pa_signature *sigs;

	if ((p->path = arena_strdup(p, r->path)) == NULL ||
	    (p->kind = arena_strdup(p, r->kind)) == NULL ||
	    (p->filesystem = arena_strdup(p, r->filesystem)) == NULL ||
	    (sigs = arena_alloc(p, r->n_signatures * sizeof(*sigs))) == NULL)
		return false;
	for (size_t i = 0; i < r->n_signatures; i++) {
		const Cdi__Prealloc__V1__Signature *s = r->signatures[i];

		sigs[i].offset = s->offset;
		if ((sigs[i].type = arena_strdup(p, s->type)) == NULL ||
		    (sigs[i].usage = arena_strdup(p, s->usage)) == NULL ||
		    (sigs[i].uuid = arena_strdup(p, s->uuid)) == NULL ||
		    (sigs[i].label = arena_strdup(p, s->label)) == NULL)
			return false;
	}
	p->signatures   = sigs;
	p->n_signatures = r->n_signatures;
	p->exists       = r->exists;
	p->size         = r->size;
	p->allocated    = r->allocated;
	p->free         = r->free;
	p->fallocate = r->fallocate == CDI__PREALLOC__V1__SUPPORT__SUPPORT_YES
	    ? PA_TRUE
	    : r->fallocate == CDI__PREALLOC__V1__SUPPORT__SUPPORT_NO ? PA_FALSE
	                                                             : PA_UNSET;
	p->logical_sector_size    = r->logical_sector_size;
	p->physical_sector_size   = r->physical_sector_size;
	p->optimal_io_size        = r->optimal_io_size;
	p->alignment_offset       = r->alignment_offset;
	p->busy                   = r->busy;
	p->write_zeroes_max_bytes = r->write_zeroes_max_bytes;
	return true;
}

int
pa_probe_target(pa_probe **out, pa_client *c, const char *path, pa_err *err)
{
	Cdi__Prealloc__V1__ProbeTargetRequest pb =
	    CDI__PREALLOC__V1__PROBE_TARGET_REQUEST__INIT;
	Cdi__Prealloc__V1__ProbeTargetResponse *resp = NULL;
	pa_probe                               *p    = NULL;
	int                                     rc;

	if (out == NULL || c == NULL || path == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_probe_target needs an out pointer, a client and a "
		    "path");
	pb.path = (char *) path;
	rc      = client_call((ProtobufCMessage **) &resp, c, CLIENT_AGENT,
	         AGENT_SVC "ProbeTarget", &pb.base,
	         &cdi__prealloc__v1__probe_target_response__descriptor,
	         CLIENT_REPEAT, 0, err);
	if (rc != PA_OK)
		goto done;
	if ((p = arena_new(sizeof(*p))) == NULL || !agent_probe_copy(p, resp)) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	*out = p;
	p    = NULL;
done:
	pa_probe_free(p);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

void
pa_probe_free(pa_probe *p)
{
	arena_free(p);
}
