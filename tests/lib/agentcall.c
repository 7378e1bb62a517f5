// SPDX-License-Identifier: Apache-2.0
// agentcall.c: call prealloc-agentd's job methods from tests and benchmarks.
#include "agentcall.h"

#define AGENTCALL_SLACK_MS 60000u

// Call @p method and take the "job" field out of its answer: the three
// job methods answer with a message holding only that.
static int
agentcall_job_of(agentcall_job **out, rpc_client *c, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *type,
    uint32_t deadline_ms, pa_err *err)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(type, "job");
	ProtobufCMessage *resp = NULL;
	agentcall_job   **slot;
	int               rc;

	rc = rpc_client_call(&resp, c, method, req, type, deadline_ms, err);
	if (rc != PA_OK)
		return rc;
	slot = (agentcall_job **) (void *) ((char *) resp + fd->offset);
	if (*slot == NULL)
		rc = pa_err_set(err, PA_INTERNAL, "%s answered no job", method);
	else
		*out = *slot;
	*slot = NULL;
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

int
agentcall_prealloc(agentcall_job **out, rpc_client *c,
    const struct agentcall_req *p, pa_err *err)
{
	Cdi__Prealloc__V1__PreallocateVolumeRequest req =
	    CDI__PREALLOC__V1__PREALLOCATE_VOLUME_REQUEST__INIT;

	req.path       = (char *) (p->path ? p->path : "");
	req.size       = p->size;
	req.offset     = p->offset;
	req.method     = (Cdi__Prealloc__V1__Method) p->method;
	req.request_id = (char *) (p->rid ? p->rid : "");
	req.wait_ms    = p->wait_ms;
	req.force      = p->force;
	return agentcall_job_of(out, c, AGENTCALL_SVC "PreallocateVolume",
	    &req.base,
	    &cdi__prealloc__v1__preallocate_volume_response__descriptor,
	    p->wait_ms + AGENTCALL_SLACK_MS, err);
}

int
agentcall_get_job(agentcall_job **out, rpc_client *c, const char *id,
    uint32_t wait_ms, pa_err *err)
{
	Cdi__Prealloc__V1__GetJobRequest req =
	    CDI__PREALLOC__V1__GET_JOB_REQUEST__INIT;

	req.id      = (char *) id;
	req.wait_ms = wait_ms;
	return agentcall_job_of(out, c, AGENTCALL_SVC "GetJob", &req.base,
	    &cdi__prealloc__v1__get_job_response__descriptor,
	    wait_ms + AGENTCALL_SLACK_MS, err);
}

int
agentcall_cancel_job(
    agentcall_job **out, rpc_client *c, const char *id, pa_err *err)
{
	Cdi__Prealloc__V1__CancelJobRequest req =
	    CDI__PREALLOC__V1__CANCEL_JOB_REQUEST__INIT;

	req.id = (char *) id;
	return agentcall_job_of(out, c, AGENTCALL_SVC "CancelJob", &req.base,
	    &cdi__prealloc__v1__cancel_job_response__descriptor,
	    AGENTCALL_SLACK_MS, err);
}

void
agentcall_job_free(agentcall_job *job)
{
	if (job != NULL)
		protobuf_c_message_free_unpacked(&job->base, NULL);
}
