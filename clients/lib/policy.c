// SPDX-License-Identifier: Apache-2.0
// policy.c: the policy service's calls: ResolvePreallocation, GetConfig
// and ApplyConfig.
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "client.h"
#include "prealloc/v1/policy.pb-c.h"

#define POLICY_SVC "/cdi.prealloc.v1.PreallocationPolicy/"

typedef Cdi__Prealloc__V1__ResolvePreallocationRequest  resolve_req;
typedef Cdi__Prealloc__V1__ResolvePreallocationResponse resolve_resp;
typedef Cdi__Prealloc__V1__GetConfigRequest             getconfig_req;
typedef Cdi__Prealloc__V1__GetConfigResponse            getconfig_resp;
typedef Cdi__Prealloc__V1__ApplyConfigRequest           apply_req;
typedef Cdi__Prealloc__V1__ApplyConfigResponse          apply_resp;

_Static_assert((int) PA_UNSET ==
            (int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_UNSET &&
        (int) PA_TRUE ==
            (int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_TRUE &&
        (int) PA_FALSE ==
            (int) CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE,
    "pa_tristate and the wire's Preallocation differ");

static pa_tristate
policy_tristate(Cdi__Prealloc__V1__Preallocation p)
{
	return p == CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_TRUE
	    ? PA_TRUE
	    : p == CDI__PREALLOC__V1__PREALLOCATION__PREALLOCATION_FALSE
	    ? PA_FALSE
	    : PA_UNSET;
}

int
pa_resolve(pa_decision **out, pa_client *c, const pa_volume *vol, pa_err *err)
{
	resolve_req req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	resolve_resp *resp = NULL;
	pa_decision  *d    = NULL;
	int           rc;

	if (out == NULL || c == NULL || vol == NULL ||
	    (unsigned) vol->preallocation > PA_FALSE)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_resolve needs an out pointer, a client and a volume");
	req.data_volume = (char *) (vol->name != NULL ? vol->name : "");
	req.namespace_ =
	    (char *) (vol->namespace_ != NULL ? vol->namespace_ : "");
	req.preallocation =
	    (Cdi__Prealloc__V1__Preallocation) vol->preallocation;
	req.storage_class =
	    (char *) (vol->storage_class != NULL ? vol->storage_class : "");
	rc = client_call((ProtobufCMessage **) &resp, c, CLIENT_POLICY,
	    POLICY_SVC "ResolvePreallocation", &req.base,
	    &cdi__prealloc__v1__resolve_preallocation_response__descriptor,
	    CLIENT_REPEAT, 0, err);
	if (rc != PA_OK)
		goto done;
	if ((d = arena_new(sizeof(*d))) == NULL ||
	    (d->decided_by = arena_strdup(d, resp->decided_by_name)) == NULL ||
	    (d->filesystem_overhead =
	            arena_strdup(d, resp->filesystem_overhead)) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	d->preallocate = resp->preallocate;
	d->generation  = resp->generation;
	*out           = d;
	d              = NULL;
done:
	pa_decision_free(d);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

void
pa_decision_free(pa_decision *d)
{
	arena_free(d);
}

// Copy a GetConfig answer into one arena; false when memory runs out.
static bool
policy_config_copy(pa_config *cfg, const getconfig_resp *r)
{
	char            **warnings = NULL;
	pa_class_setting *classes  = NULL;

	if ((cfg->yaml = arena_strdup(cfg, r->yaml)) == NULL ||
	    (cfg->path = arena_strdup(cfg, r->path)) == NULL ||
	    (cfg->last_error = arena_strdup(cfg, r->last_error)) == NULL ||
	    (cfg->global_filesystem_overhead =
	            arena_strdup(cfg, r->global_filesystem_overhead)) == NULL ||
	    (warnings = arena_alloc(cfg, r->n_warnings * sizeof(char *))) ==
	        NULL ||
	    (classes = arena_alloc(
	         cfg, r->n_storage_classes * sizeof(pa_class_setting))) == NULL)
		return false;
	for (size_t i = 0; i < r->n_warnings; i++)
		if ((warnings[i] = arena_strdup(cfg, r->warnings[i])) == NULL)
			return false;
	for (size_t i = 0; i < r->n_storage_classes; i++) {
		const Cdi__Prealloc__V1__StorageClassSetting *s =
		    r->storage_classes[i];

		classes[i].preallocation = policy_tristate(s->preallocation);
		if ((classes[i].name = arena_strdup(cfg, s->name)) == NULL ||
		    (classes[i].filesystem_overhead =
		            arena_strdup(cfg, s->filesystem_overhead)) == NULL)
			return false;
	}
	cfg->warnings             = (const char *const *) warnings;
	cfg->n_warnings           = r->n_warnings;
	cfg->classes              = classes;
	cfg->n_classes            = r->n_storage_classes;
	cfg->generation           = r->generation;
	cfg->global_preallocation = policy_tristate(r->global_preallocation);
	cfg->from_file            = r->from_file;
	cfg->loaded_unix_ms       = r->loaded_unix_ms;
	return true;
}

int
pa_get_config(pa_config **out, pa_client *c, pa_err *err)
{
	getconfig_req   req  = CDI__PREALLOC__V1__GET_CONFIG_REQUEST__INIT;
	getconfig_resp *resp = NULL;
	pa_config      *cfg  = NULL;
	int             rc;

	if (out == NULL || c == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_get_config needs an out pointer and a client");
	rc = client_call((ProtobufCMessage **) &resp, c, CLIENT_POLICY,
	    POLICY_SVC "GetConfig", &req.base,
	    &cdi__prealloc__v1__get_config_response__descriptor, CLIENT_REPEAT,
	    0, err);
	if (rc != PA_OK)
		goto done;
	if ((cfg = arena_new(sizeof(*cfg))) == NULL ||
	    !policy_config_copy(cfg, resp)) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	*out = cfg;
	cfg  = NULL;
done:
	pa_config_free(cfg);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

void
pa_config_free(pa_config *cfg)
{
	arena_free(cfg);
}

int
pa_apply_config(uint64_t *generation_out, pa_client *c, const char *yaml,
    uint64_t expected_generation, bool strict, pa_err *err)
{
	apply_req   req  = CDI__PREALLOC__V1__APPLY_CONFIG_REQUEST__INIT;
	apply_resp *resp = NULL;
	int         rc;

	if (c == NULL || yaml == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_apply_config needs a client and a YAML text");
	req.yaml                = (char *) yaml;
	req.expected_generation = expected_generation;
	req.strict              = strict;
	rc = client_call((ProtobufCMessage **) &resp, c, CLIENT_POLICY,
	    POLICY_SVC "ApplyConfig", &req.base,
	    &cdi__prealloc__v1__apply_config_response__descriptor, CLIENT_ONCE,
	    0, err);
	if (rc == PA_OK && generation_out != NULL)
		*generation_out = resp->generation;
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}
