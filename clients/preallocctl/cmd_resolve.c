// SPDX-License-Identifier: Apache-2.0
// cmd_resolve.c: `preallocctl resolve`: ask the policy service for a
// decision, from flags or from a DataVolume manifest.
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

typedef struct resolve_opts {
	const char *storage_class;
	pa_tristate preallocation;
	const char *file;
	bool        strict;
} resolve_opts;

enum { OPT_STRICT = 256 };

static const struct option resolve_options[] = {
	{ "storage-class", required_argument, NULL, 's' },
	{ "preallocation", required_argument, NULL, 'P' },
	{ "filename", required_argument, NULL, 'f' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
resolve_parse(resolve_opts *o, const ctl_command *cmd, int argc, char **argv)
{
	int opt;

	while ((opt = ctl_getopt(cmd, argc, argv)) != -1) {
		if (opt == 's')
			o->storage_class = optarg;
		else if (opt == 'f')
			o->file = optarg;
		else if (opt == OPT_STRICT)
			o->strict = true;
		else if (strcmp(optarg, "true") == 0)
			o->preallocation = PA_TRUE;
		else if (strcmp(optarg, "false") == 0)
			o->preallocation = PA_FALSE;
		else
			ctl_usage_error(cmd,
			    "--preallocation: \"%s\" is not true or false",
			    optarg);
	}
	ctl_args(cmd, argc, argv, 0, 0, "");
	if (o->file != NULL &&
	    (o->storage_class != NULL || o->preallocation != PA_UNSET))
		ctl_usage_error(cmd,
		    "-f takes both settings from the DataVolume; give it "
		    "alone");
	if (o->strict && o->file == NULL)
		ctl_usage_error(cmd, "--strict checks a DataVolume; give -f");
}

// The decision, with what it was asked about.
static json_t *
resolve_view(const pa_decision *d, const pa_volume *vol)
{
	json_t *o = view_decision(d);

	if (o != NULL) {
		output_str(o, "dataVolume", vol->name);
		output_str(o, "namespace", vol->namespace_);
		output_str(o, "storageClass", vol->storage_class);
	}
	return o;
}

static int
resolve_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	resolve_opts   o   = { NULL, PA_UNSET, NULL, false };
	pa_volume      vol = { 0 };
	pa_datavolume *dv  = NULL;
	pa_client     *cl  = NULL;
	pa_decision   *d   = NULL;
	pa_err         err = PA_ERR_INIT;
	int            rc, ex = CTL_EXIT_FAILURE;

	resolve_parse(&o, cmd, argc, argv);
	vol.preallocation = o.preallocation;
	vol.storage_class = o.storage_class;
	if (o.file != NULL) {
		if ((rc = ctl_datavolume(&dv, o.file, o.strict, &err)) != PA_OK)
			goto done;
		vol.name          = dv->name;
		vol.namespace_    = dv->namespace_;
		vol.preallocation = dv->preallocation;
		vol.storage_class = dv->storage_class;
	}
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK ||
	    (rc = pa_resolve(&d, cl, &vol, &err)) != PA_OK)
		goto done;
	ex = ctl_print(c, resolve_view(d, &vol));
done:
	pa_decision_free(d);
	pa_client_free(cl);
	pa_datavolume_free(dv);
	// Without -f all the service was asked came from the flags: a name it
	// finds invalid (--storage-class Bad_Name) is a bad value given here.
	// From a manifest it is one that does not validate: a failure.
	if (rc == PA_INVALID_ARGUMENT && o.file == NULL)
		ctl_usage_error(cmd, "--storage-class: %s", err.msg);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_resolve = {
	.name      = "resolve",
	.summary   = "ask the policy service whether a volume is preallocated",
	.optstring = ":s:P:f:h",
	.longopts  = resolve_options,
	.help      = "Usage: preallocctl resolve [--storage-class SC] "
	             "[--preallocation true|false]\n"
	             "       preallocctl resolve -f DV.yaml [--strict]\n\n"
	             "Ask the policy service whether a volume is preallocated, and\n"
	             "which setting decided it.\n\n"
	             "Options:\n"
	             "  -s, --storage-class SC     the volume's storage class\n"
	             "  -P, --preallocation BOOL   the DataVolume's "
	             "spec.preallocation\n"
	             "  -f, --filename DV.yaml     read both from a DataVolume "
	             "('-': stdin)\n"
	             "      --strict               fields CDI does not define "
	             "are errors,\n"
	             "                             not warnings\n"
	             "  -h, --help                 show this help\n",
	.run       = resolve_run,
};
