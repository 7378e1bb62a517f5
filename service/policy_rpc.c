// SPDX-License-Identifier: Apache-2.0
// policy_rpc.c: ResolvePreallocation, GetConfig and ApplyConfig handlers.
//
// Each handler takes one snapshot reference and answers from it alone, so
// an answer never mixes two configs even while a reload swaps them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_rpc.h"
#include "prealloc/log.h"
#include "prealloc/v1/policy.pb-c.h"
#include "resolver.h"

typedef Cdi__Prealloc__V1__ResolvePreallocationRequest  resolve_req;
typedef Cdi__Prealloc__V1__ResolvePreallocationResponse resolve_resp;
typedef Cdi__Prealloc__V1__GetConfigResponse            getconfig_resp;
typedef Cdi__Prealloc__V1__ApplyConfigRequest           apply_req;
typedef Cdi__Prealloc__V1__ApplyConfigResponse          apply_resp;

// The wire's tri-state and the engine's share numbers; check, not assume.
_Static_assert((int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_UNSET ==
            (int) CDICONFIG_UNSET &&
        (int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_TRUE ==
            (int) CDICONFIG_TRUE &&
        (int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE ==
            (int) CDICONFIG_FALSE,
    "tri-state numbering differs between wire and engine");

static Cdi__Prealloc__V1__DecidedBy
policy_decided_by_pb(resolver_decided_by d)
{
	switch (d) {
	case RESOLVER_DATA_VOLUME:
		return CDI__PREALLOC__V1__DECIDED_BY__DECIDED_BY_DATA_VOLUME;
	case RESOLVER_STORAGE_CLASS:
		return CDI__PREALLOC__V1__DECIDED_BY__DECIDED_BY_STORAGE_CLASS;
	case RESOLVER_GLOBAL:
		return CDI__PREALLOC__V1__DECIDED_BY__DECIDED_BY_GLOBAL;
	default:
		return CDI__PREALLOC__V1__DECIDED_BY__DECIDED_BY_DEFAULT;
	}
}

static void
policy_resolve(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const resolve_req *req = (const resolve_req *) msg;
	policy_rpc        *p   = arg;
	resolve_resp       resp =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_RESPONSE__INIT;
	cdiconfig      *snap = store_snapshot(p->st);
	resolver_result r;
	char            labels[64];
	pa_err          err;

	if (resolver_resolve(&r, snap, (cdiconfig_tristate) req->preallocation,
	        req->storage_class, &err) != PA_OK) {
		rpc_call_fail_err(call, &err);
	} else {
		resp.preallocate = r.preallocate;
		resp.decided_by  = policy_decided_by_pb(r.decided_by);
		resp.decided_by_name =
		    (char *) resolver_decided_by_name(r.decided_by);
		resp.filesystem_overhead = r.overhead;
		resp.generation          = r.generation;
		// Counted before the answer leaves, so that whoever got it
		// finds it in /metrics, as with the request counters.
		snprintf(labels, sizeof(labels), "%s,%s", resp.decided_by_name,
		    r.preallocate ? "true" : "false");
		metrics_add(p->decisions, labels, 1);
		rpc_call_reply(call, &resp.base);
	}
	cdiconfig_unref(snap);
}

// The storage classes as fields; names and overheads are borrowed from
// the snapshot. The caller frees the two arrays with policy_free_classes().
static int
policy_classes(getconfig_resp *resp, const cdiconfig *snap)
{
	size_t                                  n = cdiconfig_class_count(snap);
	Cdi__Prealloc__V1__StorageClassSetting *items, **ptrs;

	resp->n_storage_classes = 0;
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
		const char              *name = NULL;
		const cdiconfig_setting *s = cdiconfig_class_at(snap, i, &name);
		Cdi__Prealloc__V1__StorageClassSetting init =
		    CDI__PREALLOC__V1__STORAGE_CLASS_SETTING__INIT;

		items[i]      = init;
		items[i].name = (char *) name;
		items[i].preallocation =
		    (Cdi__Prealloc__V1__Preallocation) s->preallocation;
		items[i].filesystem_overhead = (char *) s->overhead;
		ptrs[i]                      = &items[i];
	}
	resp->storage_classes   = ptrs;
	resp->n_storage_classes = n;
	return PA_OK;
}

static void
policy_free_classes(getconfig_resp *resp)
{
	if (resp->n_storage_classes > 0)
		free(resp->storage_classes[0]); // the items array
	free(resp->storage_classes);
}

// Warnings are borrowed from the snapshot for the length of the answer.
static char **
policy_warnings(const cdiconfig *snap, size_t *n_out)
{
	size_t n = cdiconfig_warning_count(snap);
	char **w = n > 0 ? calloc(n, sizeof(*w)) : NULL;

	for (size_t i = 0; w != NULL && i < n; i++)
		w[i] = (char *) cdiconfig_warning(snap, i);
	*n_out = w != NULL ? n : 0;
	return w;
}

static void
policy_get_config(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	store         *st   = ((policy_rpc *) arg)->st;
	getconfig_resp resp = CDI__PREALLOC__V1__GET_CONFIG_RESPONSE__INIT;
	cdiconfig     *snap = store_snapshot(st);
	const cdiconfig_setting *g = cdiconfig_global(snap);
	store_status             status;
	char                    *yaml = NULL;
	pa_err                   err;

	store_get_status(&status, st);
	if (cdiconfig_to_yaml(&yaml, snap, &err) != PA_OK) {
		rpc_call_fail_err(call, &err);
		goto done;
	}
	if (policy_classes(&resp, snap) != PA_OK) {
		rpc_call_fail(call, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	resp.yaml       = yaml;
	resp.generation = cdiconfig_generation(snap);
	resp.path       = (char *) store_path(st);
	resp.last_error = status.last_error;
	resp.warnings   = policy_warnings(snap, &resp.n_warnings);
	resp.global_preallocation =
	    (Cdi__Prealloc__V1__Preallocation) g->preallocation;
	resp.global_filesystem_overhead = (char *) g->overhead;
	resp.from_file                  = status.from_file;
	resp.loaded_unix_ms             = status.loaded_unix_ms;
	rpc_call_reply(call, &resp.base);
	free(resp.warnings);
	policy_free_classes(&resp);
done:
	free(yaml);
	cdiconfig_unref(snap);
}

static void
policy_apply_config(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const apply_req *req  = (const apply_req *) msg;
	apply_resp       resp = CDI__PREALLOC__V1__APPLY_CONFIG_RESPONSE__INIT;
	cdiconfig       *snap = NULL;
	policy_rpc      *p    = arg;
	rpc_peer         peer;
	char             why[256];
	pa_err           err;
	int              rc;

	rpc_call_peer(call, &peer); // unknown peers are refused below
	if (authz_check_apply(p->apply_authz, &peer, why, sizeof(why)) !=
	    PA_OK) {
		pa_log(PA_LOG_WARN, "policy.apply_denied", "uid=%lld pid=%llu",
		    peer.has_cred ? (long long) peer.uid : -1LL,
		    (unsigned long long) peer.pid);
		rpc_call_fail(call, PA_PERMISSION_DENIED, "%s", why);
		return;
	}
	rc = store_apply(&snap, p->st, req->yaml, strlen(req->yaml),
	    req->expected_generation, req->strict, &err);
	if (rc != PA_OK) {
		pa_log(PA_LOG_WARN, "policy.apply_rejected", "code=%s",
		    pa_status_name(rc));
		rpc_call_fail_err(call, &err);
		return;
	}
	pa_log(PA_LOG_INFO, "policy.config_applied", "generation=%llu",
	    (unsigned long long) cdiconfig_generation(snap));
	resp.generation = cdiconfig_generation(snap);
	resp.warnings   = policy_warnings(snap, &resp.n_warnings);
	rpc_call_reply(call, &resp.base);
	free(resp.warnings);
	cdiconfig_unref(snap);
}

int
policy_rpc_bind(policy_rpc *p, rpc_server *srv, store *st, metrics *m,
    const authz *az, pa_err *err)
{
	const ProtobufCServiceDescriptor *svc =
	    &cdi__prealloc__v1__preallocation_policy__descriptor;
	int rc;

	p->st          = st;
	p->apply_authz = az;
	p->decisions   = m == NULL
	      ? NULL
	      : metrics_counter(m, "prealloc_policy_decisions_total",
	            "Preallocation decisions, by the step that decided",
	            "decided_by,preallocate");
	// Resolve answers from memory at once; GetConfig emits YAML (10,000
	// classes take milliseconds) and ApplyConfig fsyncs, so those two run
	// on the server's pool instead of nng's callback threads.
	if ((rc = rpc_server_bind(srv, svc, "ResolvePreallocation",
	         policy_resolve, p, err)) != PA_OK ||
	    (rc = rpc_server_bind_blocking(
	         srv, svc, "GetConfig", policy_get_config, p, err)) != PA_OK)
		return rc;
	return rpc_server_bind_blocking(
	    srv, svc, "ApplyConfig", policy_apply_config, p, err);
}
