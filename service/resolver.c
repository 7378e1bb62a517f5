// SPDX-License-Identifier: Apache-2.0
// resolver.c: the precedence of DataVolume, storage class, global, default.
#include <stdio.h>
#include <string.h>

#include "k8sname.h"
#include "resolver.h"

static bool
decide(resolver_result *r, cdiconfig_tristate v, resolver_decided_by by)
{
	if (v == CDICONFIG_UNSET)
		return false;
	r->preallocate = v == CDICONFIG_TRUE;
	r->decided_by  = by;
	return true;
}

// overhead copies the first level that sets one.
static void
overhead(resolver_result *r, const cdiconfig_setting *sc,
    const cdiconfig_setting *global)
{
	const cdiconfig_setting *from = NULL;

	if (sc != NULL && sc->overhead_milli >= 0)
		from = sc;
	else if (global->overhead_milli >= 0)
		from = global;
	snprintf(r->overhead, sizeof(r->overhead), "%s",
	    from != NULL ? from->overhead : RESOLVER_DEFAULT_OVERHEAD);
	r->overhead_milli = from != NULL ? from->overhead_milli : 60;
}

int
resolver_resolve(resolver_result *out, const cdiconfig *c,
    cdiconfig_tristate dv, const char *storage_class, pa_err *err)
{
	const cdiconfig_setting *global = cdiconfig_global(c);
	const cdiconfig_setting *sc     = NULL;
	resolver_result          r      = { 0 };
	pa_err                   why    = PA_ERR_INIT;

	if (dv != CDICONFIG_UNSET && dv != CDICONFIG_TRUE &&
	    dv != CDICONFIG_FALSE)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "dataVolume preallocation %d is not unset, true or false",
		    (int) dv);
	if (storage_class != NULL && storage_class[0] != '\0') {
		if (k8sname_subdomain(
		        storage_class, strlen(storage_class), &why) != PA_OK)
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "storage class %s", why.msg);
		sc = cdiconfig_class(c, storage_class);
	}
	if (!decide(&r, dv, RESOLVER_DATA_VOLUME) &&
	    !decide(&r, sc != NULL ? sc->preallocation : CDICONFIG_UNSET,
	        RESOLVER_STORAGE_CLASS) &&
	    !decide(&r, global->preallocation, RESOLVER_GLOBAL))
		decide(&r, CDICONFIG_FALSE, RESOLVER_DEFAULT);
	overhead(&r, sc, global);
	r.generation = cdiconfig_generation(c);
	*out         = r;
	return PA_OK;
}

const char *
resolver_decided_by_name(resolver_decided_by d)
{
	switch (d) {
	case RESOLVER_DATA_VOLUME:
		return "dataVolume";
	case RESOLVER_STORAGE_CLASS:
		return "storageClass";
	case RESOLVER_GLOBAL:
		return "global";
	case RESOLVER_DEFAULT:
		return "default";
	}
	return "unknown";
}
