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
#include <string.h>

#include "arena.h"
#include "k8sname.h"
#include "prealloc/prealloc.h"
#include "quantity.h"
#include "yamldoc.h"

#define DV_API_VERSION "cdi.kubevirt.io/v1beta1"
#define DV_KIND "DataVolume"

static const char *const dv_sources[] = { "http", "registry", "s3", "gcs",
	"imageio", "vddk", "upload", "blank", "pvc" };

#define DV_NSOURCES (sizeof(dv_sources) / sizeof(dv_sources[0]))

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

// A required child of @p parent: missing is reported at the parent.
static int
dv_need(const yamldoc_node **out, const yamldoc_node *parent, const char *key,
    const char *path, pa_err *err)
{
	const yamldoc_node *n = yamldoc_map_get(parent, key);

	if (n == NULL || yamldoc_is_null(n))
		return yamldoc_fail(err, NULL, parent, "%s: missing", path);
	*out = n;
	return PA_OK;
}

// A required map child of @p parent.
static int
dv_need_map(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, pa_err *err)
{
	const yamldoc_node *n  = NULL;
	int                 rc = dv_need(&n, parent, key, path, err);

	if (rc == PA_OK)
		rc = yamldoc_expect(n, YAMLDOC_MAP, path, NULL, err);
	if (rc == PA_OK)
		*out = n;
	return rc;
}

// A name checked with @p check, its message placed at the node.
static int
dv_name(const char **out, const yamldoc_node *n, const char *path,
    int (*check)(const char *, size_t, pa_err *), pa_err *err)
{
	const char *s  = NULL;
	pa_err      e  = PA_ERR_INIT;
	int         rc = yamldoc_string(&s, n, path, NULL, err);

	if (rc == PA_OK && check(s, strlen(s), &e) != PA_OK)
		rc = yamldoc_fail(err, NULL, n, "%s: %s", path, e.msg);
	if (rc == PA_OK)
		*out = s;
	return rc;
}

// The one DataVolume document of the stream.
static int
dv_find(const yamldoc_node **out, const yamldoc_stream *s, pa_err *err)
{
	const yamldoc_node *found = NULL, *first = NULL, *kind;

	for (size_t i = 0; i < yamldoc_stream_count(s); i++) {
		const yamldoc_node *doc = yamldoc_stream_doc(s, i);

		if (yamldoc_is_null(doc))
			continue;
		if (first == NULL)
			first = doc;
		if (!yamldoc_is(yamldoc_map_get(doc, "kind"), DV_KIND))
			continue;
		if (found != NULL)
			return yamldoc_fail(err, NULL, doc,
			    "a second DataVolume (the first starts at line "
			    "%d); give one DataVolume",
			    found->line);
		found = doc;
	}
	if (found != NULL) {
		*out = found;
		return PA_OK;
	}
	if (first == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%s: no DataVolume document (apiVersion: " DV_API_VERSION
		    ", kind: " DV_KIND ")",
		    yamldoc_stream_file(s));
	if (first->kind != YAMLDOC_MAP)
		return yamldoc_expect(
		    first, YAMLDOC_MAP, "DataVolume", NULL, err);
	if ((kind = yamldoc_map_get(first, "kind")) == NULL)
		return yamldoc_fail(err, NULL, first, "kind: missing");
	return yamldoc_fail(err, NULL, kind,
	    "kind: expected " DV_KIND ", got \"%s\"",
	    kind->kind == YAMLDOC_SCALAR ? kind->str : "a collection");
}

static int
dv_metadata(pa_datavolume *dv, const yamldoc_node *doc, pa_err *err)
{
	const yamldoc_node *md = NULL, *n = NULL, *ns;
	const char         *name = NULL, *nspace = "";
	int                 rc;

	if ((rc = dv_need_map(&md, doc, "metadata", "metadata", err)) ||
	    (rc = dv_need(&n, md, "name", "metadata.name", err)) ||
	    (rc = dv_name(&name, n, "metadata.name", k8sname_subdomain, err)))
		return rc;
	ns = yamldoc_map_get(md, "namespace");
	if (!yamldoc_is_null(ns) &&
	    (rc = dv_name(&nspace, ns, "metadata.namespace", k8sname_label,
	         err)) != PA_OK)
		return rc;
	if ((dv->name = arena_strdup(dv, name)) == NULL ||
	    (dv->namespace_ = arena_strdup(dv, nspace)) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	return PA_OK;
}

// spec.pvc or spec.storage: the class, the size and the volume mode.
static int
dv_claim(pa_datavolume *dv, const yamldoc_node *spec, pa_err *err)
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
	    (rc = dv_name(&sc, n, path, k8sname_subdomain, err)) != PA_OK)
		return rc;
	snprintf(path, sizeof(path), "%s.resources", which);
	if ((rc = dv_need_map(&res, claim, "resources", path, err)))
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests", which);
	if ((rc = dv_need_map(&reqs, res, "requests", path, err)))
		return rc;
	snprintf(path, sizeof(path), "%s.resources.requests.storage", which);
	if ((rc = dv_need(&size, reqs, "storage", path, err)))
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
		dv->volume_mode = PA_VOLUME_FILESYSTEM;
	else if (strcmp(mode, "Block") == 0)
		dv->volume_mode = PA_VOLUME_BLOCK;
	else
		return yamldoc_fail(err, NULL, n,
		    "%s: expected Filesystem or Block, got \"%s\"", path, mode);
	if ((dv->storage_class = arena_strdup(dv, sc)) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	return PA_OK;
}

// spec.source: a map with exactly one of the known kinds.
static int
dv_source(pa_datavolume *dv, const yamldoc_node *spec, pa_err *err)
{
	const yamldoc_node *src = NULL, *key;
	int                 rc;

	if ((key = dv_key(spec, "sourceRef")) != NULL)
		return yamldoc_fail(err, NULL, key,
		    "spec.sourceRef: DataSource references need the cluster "
		    "to resolve; name the source under spec.source");
	if ((rc = dv_need_map(&src, spec, "source", "spec.source", err)))
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
dv_spec(pa_datavolume *dv, const yamldoc_node *doc, pa_err *err)
{
	const yamldoc_node *spec = NULL, *pre;
	bool                v    = false;
	int                 rc;

	if ((rc = dv_need_map(&spec, doc, "spec", "spec", err)))
		return rc;
	pre = yamldoc_map_get(spec, "preallocation");
	if (!yamldoc_is_null(pre)) {
		if ((rc = yamldoc_bool(
		         &v, pre, "spec.preallocation", NULL, err)) != PA_OK)
			return rc;
		dv->preallocation = v ? PA_TRUE : PA_FALSE;
	}
	if ((rc = dv_source(dv, spec, err)) != PA_OK)
		return rc;
	return dv_claim(dv, spec, err);
}

int
pa_datavolume_parse(pa_datavolume **out, const char *yaml, size_t len,
    const char *filename, pa_err *err)
{
	yamldoc_stream     *s   = NULL;
	const yamldoc_node *doc = NULL, *api = NULL;
	pa_datavolume      *dv = NULL;
	int                 rc;

	if (out == NULL || (yaml == NULL && len > 0))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_datavolume_parse needs an out pointer and a text");
	if ((rc = yamldoc_parse(&s, yaml != NULL ? yaml : "", len, filename,
	         NULL, err)) != PA_OK ||
	    (rc = dv_find(&doc, s, err)) != PA_OK)
		goto done;
	if ((rc = dv_need(&api, doc, "apiVersion", "apiVersion", err)))
		goto done;
	if (!yamldoc_is(api, DV_API_VERSION)) {
		rc = yamldoc_fail(err, NULL, api,
		    "apiVersion: expected " DV_API_VERSION ", got \"%s\"",
		    api->kind == YAMLDOC_SCALAR ? api->str : "a collection");
		goto done;
	}
	if ((dv = arena_new(sizeof(*dv))) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	if ((rc = dv_metadata(dv, doc, err)) != PA_OK ||
	    (rc = dv_spec(dv, doc, err)) != PA_OK)
		goto done;
	*out = dv;
	dv   = NULL;
done:
	pa_datavolume_free(dv);
	yamldoc_stream_free(s);
	return rc;
}

void
pa_datavolume_free(pa_datavolume *dv)
{
	arena_free(dv);
}
