// SPDX-License-Identifier: Apache-2.0
// datavolume.c: read what provisioning needs from a DataVolume manifest,
// with "file:line:column: sentence" errors.
//
// A stream may hold other objects (a StorageClass, a Secret); they are
// skipped, and exactly one DataVolume must be there. spec.sourceRef (a
// DataSource) is refused: resolving it needs the cluster, and the source
// kind would not change the decision anyway. Fields that do not concern
// provisioning (accessModes, contentType, checkpoints...) are ignored.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datavolume.h"
#include "k8sname.h"
#include "quantity.h"

static const char *const dv_sources[] = { "http", "registry", "s3", "gcs",
	"imageio", "vddk", "upload", "blank", "pvc" };

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

static int
dv_metadata(datavolume *dv, const yamldoc_node *doc, pa_err *err)
{
	const yamldoc_node *md = NULL, *n = NULL, *ns;
	const char         *name = NULL, *nspace = "";
	int                 rc;

	if ((rc = yamldoc_need_map(
	         &md, doc, "metadata", "metadata", NULL, err)) ||
	    (rc = yamldoc_need(&n, md, "name", "metadata.name", NULL, err)) ||
	    (rc = yamldoc_name(
	         &name, n, "metadata.name", k8sname_subdomain, NULL, err)))
		return rc;
	ns = yamldoc_map_get(md, "namespace");
	if (!yamldoc_is_null(ns) &&
	    (rc = yamldoc_name(&nspace, ns, "metadata.namespace", k8sname_label,
	         NULL, err)) != PA_OK)
		return rc;
	dv->name       = name;
	dv->namespace_ = nspace;
	return PA_OK;
}

// spec.pvc or spec.storage: the class, the size and the volume mode.
static int
dv_claim(datavolume *dv, const yamldoc_node *spec, pa_err *err)
{
	const yamldoc_node *pvc = yamldoc_map_get(spec, "pvc");
	const yamldoc_node *sto = yamldoc_map_get(spec, "storage");
	const yamldoc_node *claim, *res = NULL, *reqs = NULL, *size = NULL, *n;
	const char         *which = "spec.pvc", *sc = "", *mode = NULL;
	char                path[64];
	pa_err              e = PA_ERR_INIT;
	int                 rc;

	if (!yamldoc_is_null(pvc) && !yamldoc_is_null(sto))
		return yamldoc_fail(err, NULL, dv_key(spec, "storage"),
		    "spec.storage: give spec.pvc or spec.storage, not both");
	if (yamldoc_is_null(pvc) && yamldoc_is_null(sto))
		return yamldoc_fail(
		    err, NULL, spec, "spec: missing pvc or storage");
	claim = yamldoc_is_null(pvc) ? sto : pvc;
	if (claim == sto)
		which = "spec.storage";
	if ((rc = yamldoc_expect(claim, YAMLDOC_MAP, which, NULL, err)))
		return rc;
	snprintf(path, sizeof(path), "%s.storageClassName", which);
	n = yamldoc_map_get(claim, "storageClassName");
	if (!yamldoc_is_null(n) && !yamldoc_is(n, "") &&
	    (rc = yamldoc_name(&sc, n, path, k8sname_subdomain, NULL, err)) !=
	        PA_OK)
		return rc;
	snprintf(path, sizeof(path), "%s.resources", which);
	if ((rc = yamldoc_need_map(&res, claim, "resources", path, NULL, err)))
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests", which);
	if ((rc = yamldoc_need_map(&reqs, res, "requests", path, NULL, err)))
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests.storage", which);
	if ((rc = yamldoc_need(&size, reqs, "storage", path, NULL, err)))
		return rc;
	if (size->kind != YAMLDOC_SCALAR)
		return yamldoc_expect(size, YAMLDOC_SCALAR, path, NULL, err);
	if (quantity_parse(&dv->size, size->str, &e) != PA_OK)
		return yamldoc_fail(err, NULL, size, "%s: %s", path, e.msg);
	if (dv->size == 0)
		return yamldoc_fail(
		    err, NULL, size, "%s: must be more than 0 bytes", path);
	snprintf(path, sizeof(path), "%s.volumeMode", which);
	n = yamldoc_map_get(claim, "volumeMode");
	if (!yamldoc_is_null(n) &&
	    (rc = yamldoc_string(&mode, n, path, NULL, err)) != PA_OK)
		return rc;
	if (mode == NULL || strcmp(mode, "Filesystem") == 0)
		dv->volume_mode = DATAVOLUME_FILESYSTEM;
	else if (strcmp(mode, "Block") == 0)
		dv->volume_mode = DATAVOLUME_BLOCK;
	else
		return yamldoc_fail(err, NULL, n,
		    "%s: expected Filesystem or Block, got \"%s\"", path, mode);
	dv->storage_class = sc;
	return PA_OK;
}

// spec.source: a map with exactly one of the known kinds.
static int
dv_source(datavolume *dv, const yamldoc_node *spec, pa_err *err)
{
	const yamldoc_node *src = NULL, *key;
	int                 rc;

	if ((key = dv_key(spec, "sourceRef")) != NULL)
		return yamldoc_fail(err, NULL, key,
		    "spec.sourceRef: DataSource references need the cluster "
		    "to resolve; name the source under spec.source");
	if ((rc = yamldoc_need_map(
	         &src, spec, "source", "spec.source", NULL, err)))
		return rc;
	if (src->count == 0)
		return yamldoc_fail(err, NULL, src,
		    "spec.source: expected one of http, registry, s3, gcs, "
		    "imageio, vddk, upload, blank or pvc");
	if (src->count > 1)
		return yamldoc_fail(err, NULL, src->items[2],
		    "spec.source: \"%s\" is a second source (after \"%s\"); "
		    "give exactly one",
		    src->items[2]->str, src->items[0]->str);
	key = src->items[0];
	for (size_t i = 0; i < DV_NSOURCES; i++) {
		const yamldoc_node *v = src->items[1];
		char                path[32];

		if (!yamldoc_is(key, dv_sources[i]))
			continue;
		snprintf(path, sizeof(path), "spec.source.%s", dv_sources[i]);
		if (!yamldoc_is_null(v) &&
		    (rc = yamldoc_expect(v, YAMLDOC_MAP, path, NULL, err)))
			return rc;
		dv->source = dv_sources[i];
		return PA_OK;
	}
	return yamldoc_fail(err, NULL, key,
	    "spec.source: unknown source \"%s\" (expected http, registry, s3, "
	    "gcs, imageio, vddk, upload, blank or pvc)",
	    key->str);
}

static int
dv_spec(datavolume *dv, const yamldoc_node *doc, pa_err *err)
{
	const yamldoc_node *spec = NULL, *pre;
	bool                v    = false;
	int                 rc;

	if ((rc = yamldoc_need_map(&spec, doc, "spec", "spec", NULL, err)))
		return rc;
	pre = yamldoc_map_get(spec, "preallocation");
	if (!yamldoc_is_null(pre)) {
		if ((rc = yamldoc_bool(
		         &v, pre, "spec.preallocation", NULL, err)) != PA_OK)
			return rc;
		dv->preallocation = v ? CDICONFIG_TRUE : CDICONFIG_FALSE;
	}
	if ((rc = dv_source(dv, spec, err)) != PA_OK)
		return rc;
	return dv_claim(dv, spec, err);
}

int
datavolume_parse(datavolume **out, const char *yaml, size_t len,
    const char *filename, pa_err *err)
{
	datavolume         *dv  = NULL;
	const yamldoc_node *doc = NULL;
	int                 rc;

	if ((dv = calloc(1, sizeof(*dv))) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	if ((rc = yamldoc_parse(&dv->stream, yaml, len, filename, NULL, err)) !=
	        PA_OK ||
	    (rc = yamldoc_find(&doc, dv->stream, &dv_object, NULL, err)) !=
	        PA_OK ||
	    (rc = dv_metadata(dv, doc, err)) != PA_OK ||
	    (rc = dv_spec(dv, doc, err)) != PA_OK)
		goto done;
	*out = dv;
	dv   = NULL;
done:
	datavolume_free(dv);
	return rc;
}

void
datavolume_free(datavolume *dv)
{
	if (dv == NULL)
		return;
	yamldoc_stream_free(dv->stream);
	free(dv);
}
