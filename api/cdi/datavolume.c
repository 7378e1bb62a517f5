// SPDX-License-Identifier: Apache-2.0
// datavolume.c: read what provisioning needs from a DataVolume manifest,
// with "file:line:column: sentence" errors.
//
// A stream may hold other objects (a StorageClass, a Secret); they are
// skipped, and exactly one DataVolume must be there. Every DataVolume
// CDI's webhook admits parses: the decision never depends on the source,
// so a snapshot, a DataSource reference (spec.sourceRef, not resolved) or
// an external populator (a dataSourceRef in the claim) is only named. The
// fields CDI defines are accepted whether read or not; any other is
// reported through yamldoc_unknown_field(), as CDIConfig's are.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datavolume.h"
#include "k8sname.h"
#include "quantity.h"

#define DV_PATH_SIZE 64
#define DV_SUB_SIZE (DV_PATH_SIZE + 16) // a path and one more key
#define DV_SOURCE_LIST                                                   \
	"http, registry, s3, gcs, imageio, vddk, upload, blank, pvc or " \
	"snapshot"

// The fields of CDI's types (DataVolumeSpec, StorageSpec, the sources) and
// of Kubernetes' PersistentVolumeClaimSpec, NULL-terminated.
static const char *const dv_top_fields[]  = { "apiVersion", "kind", "metadata",
	 "spec", "status", NULL };
static const char *const dv_spec_fields[] = { "source", "sourceRef", "pvc",
	"storage", "priorityClassName", "serviceAccountName", "contentType",
	"checkpoints", "finalCheckpoint", "preallocation", NULL };
static const char *const dv_storage_fields[]   = { "accessModes", "selector",
	  "resources", "volumeName", "storageClassName", "volumeMode",
	  "dataSource", "dataSourceRef", NULL };
static const char *const dv_pvc_fields[]       = { "accessModes", "selector",
	      "resources", "volumeName", "storageClassName", "volumeMode",
	      "dataSource", "dataSourceRef", "volumeAttributesClassName", NULL };
static const char *const dv_resources_fields[] = { "limits", "requests", NULL };
static const char *const dv_ref_fields[]       = { "apiGroup", "kind", "name",
	      "namespace", NULL };
static const char *const dv_source_ref_fields[] = { "kind", "namespace", "name",
	NULL };
static const char *const dv_url_fields[]        = { "url", "secretRef",
	       "certConfigMap", NULL };
static const char *const dv_http_fields[]       = { "url", "secretRef",
	      "certConfigMap", "extraHeaders", "secretExtraHeaders", "checksum",
	      "insecureSkipVerify", NULL };
static const char *const dv_registry_fields[]   = { "url", "imageStream",
	  "pullMethod", "secretRef", "certConfigMap", "platform", NULL };
static const char *const dv_gcs_fields[]        = { "url", "secretRef", NULL };
static const char *const dv_imageio_fields[] = { "url", "diskId", "secretRef",
	"certConfigMap", "insecureSkipVerify", NULL };
static const char *const dv_vddk_fields[]    = { "url", "uuid", "backingFile",
	   "thumbprint", "secretRef", "certConfigMap", "initImageURL", "extraArgs",
	   NULL };
static const char *const dv_object_ref_fields[] = { "namespace", "name", NULL };
static const char *const dv_no_fields[]         = { NULL };

// One kind of spec.source. A clone takes its size from its source.
typedef struct dv_source_kind {
	const char        *name;
	const char *const *fields;
	bool               clone;
} dv_source_kind;

static const dv_source_kind dv_sources[] = {
	{ "http", dv_http_fields, false },
	{ "registry", dv_registry_fields, false },
	{ "s3", dv_url_fields, false },
	{ "gcs", dv_gcs_fields, false },
	{ "imageio", dv_imageio_fields, false },
	{ "vddk", dv_vddk_fields, false },
	{ "upload", dv_no_fields, false },
	{ "blank", dv_no_fields, false },
	{ "pvc", dv_object_ref_fields, true },
	{ "snapshot", dv_object_ref_fields, true },
};

#define DV_NSOURCES (sizeof(dv_sources) / sizeof(dv_sources[0]))

// Other objects in the stream are skipped quietly; when none is a
// DataVolume, the first one is told why, as `kubectl apply` would.
static const yamldoc_object dv_object = {
	.api_version   = CDI_API_VERSION,
	.kind          = CDI_KIND_DATAVOLUME,
	.kind_only     = true,
	.explain_first = true,
	.noun          = CDI_KIND_DATAVOLUME,
	.advice        = "give one " CDI_KIND_DATAVOLUME,
};

typedef struct dv_ctx {
	datavolume     *dv;
	yamldoc_unknown unknown;
	pa_err         *err;
	bool            clone; // the size may come from the source
} dv_ctx;

// dv_warn keeps a warning in the DataVolume: the yamldoc_warn_fn of
// unknown fields.
static int
dv_warn(void *arg, const char *msg)
{
	dv_ctx *ctx = arg;
	char  **bigger;

	bigger = realloc(ctx->dv->warnings,
	    (ctx->dv->nwarnings + 1) * sizeof(*ctx->dv->warnings));
	if (bigger == NULL)
		return pa_err_set(
		    ctx->err, PA_RESOURCE_EXHAUSTED, "out of memory");
	ctx->dv->warnings = bigger;
	if ((bigger[ctx->dv->nwarnings] = strdup(msg)) == NULL)
		return pa_err_set(
		    ctx->err, PA_RESOURCE_EXHAUSTED, "out of memory");
	ctx->dv->nwarnings++;
	return PA_OK;
}

static int
dv_fields(dv_ctx *ctx, const yamldoc_node *map, const char *path,
    const char *const *known)
{
	return yamldoc_check_fields(&ctx->unknown, map, path, known, ctx->err);
}

// The key node of @p key in @p map, for errors about the key itself.
static const yamldoc_node *
dv_key(const yamldoc_node *map, const char *key)
{
	for (size_t i = 0;
	     map != NULL && map->kind == YAMLDOC_MAP && i < map->count; i++)
		if (yamldoc_is(map->items[2 * i], key))
			return map->items[2 * i];
	return NULL;
}

// An optional map child: *out is NULL when absent or null.
static int
dv_optional_map(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, pa_err *err)
{
	const yamldoc_node *n = yamldoc_map_get(parent, key);

	*out = NULL;
	if (yamldoc_is_null(n))
		return PA_OK;
	*out = n;
	return yamldoc_expect(n, YAMLDOC_MAP, path, NULL, err);
}

// An optional name: "" when absent.
static int
dv_optional_name(const char **out, const yamldoc_node *map, const char *key,
    const char *path, yamldoc_name_fn check, pa_err *err)
{
	const yamldoc_node *n = yamldoc_map_get(map, key);

	*out = "";
	if (yamldoc_is_null(n))
		return PA_OK;
	return yamldoc_name(out, n, path, check, NULL, err);
}

static int
dv_metadata(datavolume *dv, const yamldoc_node *doc, pa_err *err)
{
	const yamldoc_node *md = NULL, *n = NULL;
	const char         *name = NULL, *nspace = "";
	int                 rc;

	if ((rc = yamldoc_need_map(
	         &md, doc, "metadata", "metadata", NULL, err)) ||
	    (rc = yamldoc_need(&n, md, "name", "metadata.name", NULL, err)) ||
	    (rc = yamldoc_name(
	         &name, n, "metadata.name", k8sname_subdomain, NULL, err)) ||
	    (rc = dv_optional_name(&nspace, md, "namespace",
	         "metadata.namespace", k8sname_label, err)))
		return rc;
	dv->name       = name;
	dv->namespace_ = nspace;
	return PA_OK;
}

// A claim's dataSource or dataSourceRef: a typed object reference.
static int
dv_populator_ref(dv_ctx *ctx, const yamldoc_node *claim, const char *which,
    const char *key, bool *found)
{
	const yamldoc_node *ref = NULL, *n = NULL;
	const char         *kind = NULL;
	char                path[DV_PATH_SIZE], sub[DV_SUB_SIZE];
	int                 rc;

	snprintf(path, sizeof(path), "%s.%s", which, key);
	if ((rc = dv_optional_map(&ref, claim, key, path, ctx->err)) ||
	    ref == NULL)
		return rc;
	*found = true;
	if ((rc = dv_fields(ctx, ref, path, dv_ref_fields)) != PA_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s.kind", path);
	if ((rc = yamldoc_need(&n, ref, "kind", sub, NULL, ctx->err)) ||
	    (rc = yamldoc_string(&kind, n, sub, NULL, ctx->err)))
		return rc;
	snprintf(sub, sizeof(sub), "%s.name", path);
	return yamldoc_need(&n, ref, "name", sub, NULL, ctx->err);
}

// The size under a claim's resources.requests.storage. Required unless the
// claim is spec.storage and the source a clone, as CDI's webhook says.
static int
dv_size(dv_ctx *ctx, const yamldoc_node *claim, const yamldoc_node *key,
    const char *which, bool required)
{
	const yamldoc_node *res = NULL, *reqs = NULL, *size = NULL;
	char                path[DV_PATH_SIZE];
	pa_err              e = PA_ERR_INIT;
	int                 rc;

	snprintf(path, sizeof(path), "%s.resources", which);
	if (claim == NULL) // `storage:` with nothing under it
		return required
		    ? yamldoc_fail(ctx->err, NULL, key, "%s: missing", path)
		    : PA_OK;
	rc = required
	    ? yamldoc_need_map(&res, claim, "resources", path, NULL, ctx->err)
	    : dv_optional_map(&res, claim, "resources", path, ctx->err);
	if (rc != PA_OK || res == NULL ||
	    (rc = dv_fields(ctx, res, path, dv_resources_fields)) != PA_OK)
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests", which);
	rc = required
	    ? yamldoc_need_map(&reqs, res, "requests", path, NULL, ctx->err)
	    : dv_optional_map(&reqs, res, "requests", path, ctx->err);
	if (rc != PA_OK || reqs == NULL)
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests.storage", which);
	size = yamldoc_map_get(reqs, "storage");
	if (yamldoc_is_null(size))
		return required
		    ? yamldoc_need(&size, reqs, "storage", path, NULL, ctx->err)
		    : PA_OK;
	if (size->kind != YAMLDOC_SCALAR)
		return yamldoc_expect(
		    size, YAMLDOC_SCALAR, path, NULL, ctx->err);
	if (quantity_parse(&ctx->dv->size, size->str, &e) != PA_OK)
		return yamldoc_fail(
		    ctx->err, NULL, size, "%s: %s", path, e.msg);
	if (ctx->dv->size == 0)
		return yamldoc_fail(ctx->err, NULL, size,
		    "%s: must be more than 0 bytes", path);
	return PA_OK;
}

static int
dv_volume_mode(dv_ctx *ctx, const yamldoc_node *claim, const char *which)
{
	const yamldoc_node *n    = yamldoc_map_get(claim, "volumeMode");
	const char         *mode = NULL;
	char                path[DV_PATH_SIZE];
	int                 rc;

	snprintf(path, sizeof(path), "%s.volumeMode", which);
	if (!yamldoc_is_null(n) &&
	    (rc = yamldoc_string(&mode, n, path, NULL, ctx->err)) != PA_OK)
		return rc;
	if (mode == NULL || strcmp(mode, "Filesystem") == 0)
		ctx->dv->volume_mode = DATAVOLUME_FILESYSTEM;
	else if (strcmp(mode, "Block") == 0)
		ctx->dv->volume_mode = DATAVOLUME_BLOCK;
	else
		return yamldoc_fail(ctx->err, NULL, n,
		    "%s: expected Filesystem or Block, got \"%s\"", path, mode);
	return PA_OK;
}

// spec.pvc or spec.storage: the class, the size and the volume mode. Only
// spec.storage may leave the size out, for a clone (CDI's webhook).
static int
dv_claim(dv_ctx *ctx, const yamldoc_node *spec)
{
	const yamldoc_node *pvc = dv_key(spec, "pvc");
	const yamldoc_node *sto = dv_key(spec, "storage");
	const yamldoc_node *claim;
	const char         *which = pvc != NULL ? "spec.pvc" : "spec.storage";
	char                path[DV_PATH_SIZE];
	int                 rc;

	// A key with nothing under it (`storage:`, as CDI's own clone
	// examples write it) is given: an empty claim.
	if (pvc != NULL && sto != NULL)
		return yamldoc_fail(ctx->err, NULL, sto,
		    "spec.storage: give spec.pvc or spec.storage, not both");
	if (pvc == NULL && sto == NULL)
		return yamldoc_fail(
		    ctx->err, NULL, spec, "spec: missing pvc or storage");
	claim = yamldoc_map_get(spec, pvc != NULL ? "pvc" : "storage");
	if (yamldoc_is_null(claim))
		claim = NULL;
	else if ((rc = yamldoc_expect(
	              claim, YAMLDOC_MAP, which, NULL, ctx->err)) ||
	    (rc = dv_fields(ctx, claim, which,
	         pvc != NULL ? dv_pvc_fields : dv_storage_fields)))
		return rc;
	snprintf(path, sizeof(path), "%s.storageClassName", which);
	if (!yamldoc_is(yamldoc_map_get(claim, "storageClassName"), "") &&
	    (rc = dv_optional_name(&ctx->dv->storage_class, claim,
	         "storageClassName", path, k8sname_subdomain, ctx->err)))
		return rc;
	if ((rc = dv_size(ctx, claim, pvc != NULL ? pvc : sto, which,
	         pvc != NULL || !ctx->clone)))
		return rc;
	return dv_volume_mode(ctx, claim, which);
}

// An external populator: a dataSourceRef (or dataSource) in the claim,
// and then no spec.source or spec.sourceRef.
static int
dv_populator(dv_ctx *ctx, const yamldoc_node *spec, bool *found)
{
	bool                pvc = dv_key(spec, "pvc") != NULL;
	const yamldoc_node *claim =
	    yamldoc_map_get(spec, pvc ? "pvc" : "storage");
	const char *which = pvc ? "spec.pvc" : "spec.storage";
	bool        ref = false, local = false;
	int         rc;

	*found = false;
	if (claim == NULL || claim->kind != YAMLDOC_MAP)
		return PA_OK; // dv_claim says what is wrong with it
	if ((rc = dv_populator_ref(ctx, claim, which, "dataSourceRef", &ref)) ||
	    (rc = dv_populator_ref(ctx, claim, which, "dataSource", &local)))
		return rc;
	if (!ref && !local)
		return PA_OK;
	*found          = true;
	ctx->dv->source = ref ? "dataSourceRef" : "dataSource";
	return PA_OK;
}

// spec.sourceRef: a DataSource, named and not resolved.
static int
dv_source_ref(dv_ctx *ctx, const yamldoc_node *ref)
{
	const yamldoc_node *kind = NULL, *n = NULL;
	const char         *s = NULL;
	int                 rc;

	if ((rc = yamldoc_expect(
	         ref, YAMLDOC_MAP, "spec.sourceRef", NULL, ctx->err)) ||
	    (rc = dv_fields(
	         ctx, ref, "spec.sourceRef", dv_source_ref_fields)) ||
	    (rc = yamldoc_need(
	         &kind, ref, "kind", "spec.sourceRef.kind", NULL, ctx->err)) ||
	    (rc = yamldoc_string(
	         &s, kind, "spec.sourceRef.kind", NULL, ctx->err)))
		return rc;
	if (strcmp(s, "DataSource") != 0)
		return yamldoc_fail(ctx->err, NULL, kind,
		    "spec.sourceRef.kind: expected DataSource, got \"%s\"", s);
	if ((rc = yamldoc_need(
	         &n, ref, "name", "spec.sourceRef.name", NULL, ctx->err)) ||
	    (rc = yamldoc_name(&s, n, "spec.sourceRef.name", k8sname_subdomain,
	         NULL, ctx->err)) ||
	    (rc = dv_optional_name(&s, ref, "namespace",
	         "spec.sourceRef.namespace", k8sname_label, ctx->err)))
		return rc;
	ctx->dv->source = "sourceRef";
	ctx->clone      = true; // a DataSource points at a PVC or a snapshot
	return PA_OK;
}

// One kind under spec.source: its fields, and the names of a clone's.
static int
dv_source_one(dv_ctx *ctx, const dv_source_kind *k, const yamldoc_node *v)
{
	char        path[DV_PATH_SIZE], sub[DV_SUB_SIZE];
	const char *s = NULL;
	int         rc;

	snprintf(path, sizeof(path), "spec.source.%s", k->name);
	ctx->dv->source = k->name;
	ctx->clone      = k->clone;
	if (yamldoc_is_null(v))
		return PA_OK;
	if ((rc = yamldoc_expect(v, YAMLDOC_MAP, path, NULL, ctx->err)) ||
	    (rc = dv_fields(ctx, v, path, k->fields)) || !k->clone)
		return rc;
	snprintf(sub, sizeof(sub), "%s.name", path);
	if ((rc = dv_optional_name(
	         &s, v, "name", sub, k8sname_subdomain, ctx->err)))
		return rc;
	snprintf(sub, sizeof(sub), "%s.namespace", path);
	return dv_optional_name(
	    &s, v, "namespace", sub, k8sname_label, ctx->err);
}

// spec.source: a map with exactly one of the known kinds; or spec.sourceRef;
// or neither, for an external populator.
static int
dv_source(dv_ctx *ctx, const yamldoc_node *spec)
{
	const yamldoc_node *src = yamldoc_map_get(spec, "source");
	const yamldoc_node *ref = yamldoc_map_get(spec, "sourceRef"), *key;
	bool                populator = false;
	int                 rc;

	if ((rc = dv_populator(ctx, spec, &populator)) != PA_OK)
		return rc;
	if (populator && (!yamldoc_is_null(src) || !yamldoc_is_null(ref)))
		return yamldoc_fail(ctx->err, NULL,
		    dv_key(spec, yamldoc_is_null(src) ? "sourceRef" : "source"),
		    "spec: an external populator (%s in the claim) takes no "
		    "spec.source or spec.sourceRef",
		    ctx->dv->source);
	if (populator)
		return PA_OK;
	if (!yamldoc_is_null(src) && !yamldoc_is_null(ref))
		return yamldoc_fail(ctx->err, NULL, dv_key(spec, "sourceRef"),
		    "spec.sourceRef: give spec.source or spec.sourceRef, not "
		    "both");
	if (!yamldoc_is_null(ref))
		return dv_source_ref(ctx, ref);
	if (yamldoc_is_null(src))
		return yamldoc_fail(ctx->err, NULL, spec,
		    "spec.source: missing (give spec.source, spec.sourceRef, "
		    "or "
		    "a dataSourceRef under spec.storage or spec.pvc)");
	if ((rc = yamldoc_expect(
	         src, YAMLDOC_MAP, "spec.source", NULL, ctx->err)))
		return rc;
	if (src->count == 0)
		return yamldoc_fail(ctx->err, NULL, src,
		    "spec.source: expected one of " DV_SOURCE_LIST);
	if (src->count > 1)
		return yamldoc_fail(ctx->err, NULL, src->items[2],
		    "spec.source: \"%s\" is a second source (after \"%s\"); "
		    "give exactly one",
		    src->items[2]->str, src->items[0]->str);
	key = src->items[0];
	for (size_t i = 0; i < DV_NSOURCES; i++)
		if (yamldoc_is(key, dv_sources[i].name))
			return dv_source_one(
			    ctx, &dv_sources[i], src->items[1]);
	return yamldoc_fail(ctx->err, NULL, key,
	    "spec.source: unknown source \"%s\" (expected " DV_SOURCE_LIST ")",
	    key->str);
}

static int
dv_spec(dv_ctx *ctx, const yamldoc_node *doc)
{
	const yamldoc_node *spec = NULL, *pre;
	bool                v    = false;
	int                 rc;

	if ((rc = yamldoc_need_map(
	         &spec, doc, "spec", "spec", NULL, ctx->err)) ||
	    (rc = dv_fields(ctx, spec, "spec", dv_spec_fields)))
		return rc;
	pre = yamldoc_map_get(spec, "preallocation");
	if (!yamldoc_is_null(pre)) {
		if ((rc = yamldoc_bool(&v, pre, "spec.preallocation", NULL,
		         ctx->err)) != PA_OK)
			return rc;
		ctx->dv->preallocation = v ? CDICONFIG_TRUE : CDICONFIG_FALSE;
	}
	if ((rc = dv_source(ctx, spec)) != PA_OK)
		return rc;
	return dv_claim(ctx, spec);
}

int
datavolume_parse(datavolume **out, const char *yaml, size_t len,
    const char *filename, const datavolume_opts *opts, pa_err *err)
{
	static const datavolume_opts defaults = DATAVOLUME_OPTS_INIT;
	const bool strict = (opts != NULL ? opts : &defaults)->strict;
	dv_ctx     ctx    = {
		.unknown = {
			.strict   = strict,
			.warn     = dv_warn,
			.warn_arg = &ctx,
		},
		.err = err,
	};
	const yamldoc_node *doc = NULL;
	int                 rc;

	if ((ctx.dv = calloc(1, sizeof(*ctx.dv))) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	ctx.dv->storage_class = "";
	if ((rc = yamldoc_parse(
	         &ctx.dv->stream, yaml, len, filename, NULL, err)) != PA_OK ||
	    (rc = yamldoc_find(&doc, ctx.dv->stream, &dv_object, NULL, err)) !=
	        PA_OK ||
	    (rc = dv_fields(&ctx, doc, "", dv_top_fields)) != PA_OK ||
	    (rc = dv_metadata(ctx.dv, doc, err)) != PA_OK ||
	    (rc = dv_spec(&ctx, doc)) != PA_OK)
		goto done;
	*out   = ctx.dv;
	ctx.dv = NULL;
done:
	datavolume_free(ctx.dv);
	return rc;
}

void
datavolume_free(datavolume *dv)
{
	if (dv == NULL)
		return;
	for (size_t i = 0; i < dv->nwarnings; i++)
		free(dv->warnings[i]);
	free(dv->warnings);
	yamldoc_stream_free(dv->stream);
	free(dv);
}
