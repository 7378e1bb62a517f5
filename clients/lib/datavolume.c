// SPDX-License-Identifier: Apache-2.0
// datavolume.c: libprealloc's pa_datavolume_parse() and
// pa_datavolume_check(): the DataVolume parser of api/cdi, its result
// copied into one arena for pa_datavolume_free();
// and pa_parse_quantity(), the quantities its size is written in.
#include "arena.h"
#include "datavolume.h"
#include "prealloc/prealloc.h"

// The public volume modes carry the wire's values, as datavolume.h's do
// (config.c checks the tristate).
_Static_assert((int) PA_VOLUME_FILESYSTEM == (int) DATAVOLUME_FILESYSTEM &&
        (int) PA_VOLUME_BLOCK == (int) DATAVOLUME_BLOCK,
    "pa_volume_mode and datavolume_mode differ");

// Copy @p parsed's warnings into @p dv's arena.
static bool
datavolume_copy_warnings(pa_datavolume *dv, const datavolume *parsed)
{
	const char **w;

	if (parsed->nwarnings == 0)
		return true;
	if ((w = arena_alloc(dv, parsed->nwarnings * sizeof(*w))) == NULL)
		return false;
	for (size_t i = 0; i < parsed->nwarnings; i++)
		if ((w[i] = arena_strdup(dv, parsed->warnings[i])) == NULL)
			return false;
	dv->warnings   = w;
	dv->n_warnings = parsed->nwarnings;
	return true;
}

int
pa_datavolume_check(pa_datavolume **out, const char *yaml, size_t len,
    const char *filename, bool strict, pa_err *err)
{
	datavolume_opts opts   = DATAVOLUME_OPTS_INIT;
	datavolume     *parsed = NULL;
	pa_datavolume  *dv     = NULL;
	int             rc;

	if (out == NULL || (yaml == NULL && len > 0))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_datavolume_parse needs an out pointer and a text");
	opts.strict = strict;
	if ((rc = datavolume_parse(&parsed, yaml, len, filename, &opts, err)) !=
	    PA_OK)
		goto done;
	if ((dv = arena_new(sizeof(*dv))) == NULL ||
	    (dv->name = arena_strdup(dv, parsed->name)) == NULL ||
	    (dv->namespace_ = arena_strdup(dv, parsed->namespace_)) == NULL ||
	    (dv->storage_class = arena_strdup(dv, parsed->storage_class)) ==
	        NULL ||
	    (dv->source = arena_strdup(dv, parsed->source)) == NULL ||
	    !datavolume_copy_warnings(dv, parsed)) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	dv->preallocation = (pa_tristate) parsed->preallocation;
	dv->size          = parsed->size;
	dv->volume_mode   = (pa_volume_mode) parsed->volume_mode;
	*out              = dv;
	dv                = NULL;
done:
	pa_datavolume_free(dv);
	datavolume_free(parsed);
	return rc;
}

int
pa_datavolume_parse(pa_datavolume **out, const char *yaml, size_t len,
    const char *filename, pa_err *err)
{
	return pa_datavolume_check(out, yaml, len, filename, false, err);
}

void
pa_datavolume_free(pa_datavolume *dv)
{
	arena_free(dv);
}

int
pa_parse_quantity(uint64_t *out, const char *s, pa_err *err)
{
	if (out == NULL || s == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_parse_quantity needs an out pointer and a text");
	return quantity_parse(out, s, err);
}
