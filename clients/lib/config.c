// SPDX-License-Identifier: Apache-2.0
// config.c: pa_config_check(), a CDIConfig validated here by api/cdi's
// parser, the one the policy service uses, and shown as GetConfig would.
#include <stdlib.h>

#include "arena.h"
#include "cdiconfig.h"
#include "prealloc/prealloc.h"

// The public tristate carries the wire's values, as cdi.h's does.
_Static_assert((int) PA_UNSET == (int) CDICONFIG_UNSET &&
        (int) PA_TRUE == (int) CDICONFIG_TRUE &&
        (int) PA_FALSE == (int) CDICONFIG_FALSE,
    "pa_tristate and cdiconfig_tristate differ");

// config_copy puts @p c into @p cfg's arena; false when memory runs out.
static bool
config_copy(pa_config *cfg, const cdiconfig *c, const char *yaml)
{
	const cdiconfig_setting *g  = cdiconfig_global(c);
	size_t                   nw = cdiconfig_warning_count(c);
	size_t                   nc = cdiconfig_class_count(c);
	const char             **warnings;
	pa_class_setting        *classes;

	if ((cfg->yaml = arena_strdup(cfg, yaml)) == NULL ||
	    (cfg->path = arena_strdup(cfg, cdiconfig_filename(c))) == NULL ||
	    (cfg->last_error = arena_strdup(cfg, "")) == NULL ||
	    (cfg->global_filesystem_overhead =
	            arena_strdup(cfg, g->overhead)) == NULL ||
	    (warnings = arena_alloc(cfg, nw * sizeof(char *))) == NULL ||
	    (classes = arena_alloc(cfg, nc * sizeof(*classes))) == NULL)
		return false;
	for (size_t i = 0; i < nw; i++)
		if ((warnings[i] =
		            arena_strdup(cfg, cdiconfig_warning(c, i))) == NULL)
			return false;
	for (size_t i = 0; i < nc; i++) {
		const char              *name = NULL;
		const cdiconfig_setting *s    = cdiconfig_class_at(c, i, &name);

		if ((classes[i].name = arena_strdup(cfg, name)) == NULL ||
		    (classes[i].filesystem_overhead =
		            arena_strdup(cfg, s->overhead)) == NULL)
			return false;
		classes[i].preallocation = (pa_tristate) s->preallocation;
	}
	cfg->warnings             = warnings;
	cfg->n_warnings           = nw;
	cfg->classes              = classes;
	cfg->n_classes            = nc;
	cfg->global_preallocation = (pa_tristate) g->preallocation;
	cfg->from_file            = true;
	return true;
}

int
pa_config_check(pa_config **out, const char *yaml, size_t len,
    const char *filename, bool strict, pa_err *err)
{
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;
	cdiconfig     *c    = NULL;
	char          *text = NULL;
	pa_config     *cfg  = NULL;
	int            rc;

	if (out == NULL || (yaml == NULL && len > 0))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_config_check needs an out pointer and a text");
	opts.strict = strict;
	if ((rc = cdiconfig_parse(&c, yaml, len, filename, &opts, err)) !=
	        PA_OK ||
	    (rc = cdiconfig_to_yaml(&text, c, err)) != PA_OK)
		goto done;
	if ((cfg = arena_new(sizeof(*cfg))) == NULL ||
	    !config_copy(cfg, c, text)) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	*out = cfg;
	cfg  = NULL;
done:
	pa_config_free(cfg);
	free(text);
	cdiconfig_unref(c);
	return rc;
}
