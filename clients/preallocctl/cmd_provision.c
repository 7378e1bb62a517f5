// SPDX-License-Identifier: Apache-2.0
// cmd_provision.c: `preallocctl provision`: what CDI's importer does for one
// DataVolume, and the outcome with the annotation CDI sets.
#include <string.h>

#include "ctl.h"
#include "progress.h"

#define PROVISION_ANNOTATION "cdi.kubevirt.io/storage.preallocation"
// CDI's controller sets it on every PVC it makes for a DataVolume.
#define PROVISION_REQUESTED PROVISION_ANNOTATION ".requested"

enum { OPT_FORCE = 256, OPT_STRICT, OPT_RATE };

static const struct option provision_options[] = {
	{ "filename", required_argument, NULL, 'f' },
	{ "volume", required_argument, NULL, 'v' },
	{ "image", required_argument, NULL, 'i' },
	{ "method", required_argument, NULL, 'm' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "max-write-rate", required_argument, NULL, OPT_RATE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
provision_parse(pa_provision_req *req, const char **file, bool *strict,
    const ctl_command *cmd, int argc, char **argv)
{
	int opt;

	while ((opt = ctl_getopt(cmd, argc, argv)) != -1) {
		if (opt == 'f')
			*file = optarg;
		else if (opt == 'v')
			req->volume = optarg;
		else if (opt == 'i')
			req->image = optarg;
		else if (opt == 'm')
			req->method = ctl_method(cmd, optarg);
		else if (opt == OPT_STRICT)
			*strict = true;
		else if (opt == OPT_RATE)
			req->max_write_rate =
			    ctl_quantity(cmd, "--max-write-rate", optarg);
		else
			req->force = true;
	}
	ctl_args(cmd, argc, argv, 0, 0, "");
	if (*file == NULL)
		ctl_usage_error(cmd, "missing -f DV.yaml");
	if (req->volume == NULL)
		ctl_usage_error(cmd, "missing --volume DIR|DEVICE");
}

// What the DataVolume asked for.
static json_t *
provision_dv_view(const pa_datavolume *dv, output_format f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	output_str(o, "name", dv->name);
	output_str(o, "namespace", dv->namespace_);
	output_str(o, "source", dv->source);
	output_str(o, "volumeMode",
	    dv->volume_mode == PA_VOLUME_BLOCK ? "Block" : "Filesystem");
	output_str(o, "storageClass", dv->storage_class);
	output_tristate(o, "preallocation", dv->preallocation);
	if (dv->size != 0) // 0: none given; the outcome's capacity says
		output_size(o, f, "size", dv->size);
	return o;
}

// The outcome: the decision and who decided it, sizes, the annotation,
// and the method and mechanism the agent used.
static json_t *
provision_view(
    const pa_provision_result *r, const pa_datavolume *dv, output_format f)
{
	json_t *o = json_object(), *ann;

	if (o == NULL)
		return NULL;
	output_set(o, "dataVolume", provision_dv_view(dv, f));
	output_set(o, "decision", view_decision(&r->decision));
	output_str(o, "target", r->target);
	output_size(o, f, "capacity", r->capacity);
	output_str(o, "sizeSource", r->size_source);
	output_size(o, f, "targetSize", r->target_size);
	output_size(o, f, "imageBytes", r->image_bytes);
	output_bool(o, "preallocated", r->preallocated);
	if ((ann = json_object()) != NULL) {
		if (r->annotation_value != NULL)
			output_str(
			    ann, PROVISION_ANNOTATION, r->annotation_value);
		output_str(
		    ann, PROVISION_REQUESTED, r->requested_annotation_value);
		output_set(o, "annotations", ann);
	}
	if (r->job != NULL) {
		output_str(o, "method", r->job->method_used);
		output_str(o, "mechanism", r->job->mechanism);
		output_set(o, "job", view_job(r->job, f, false));
	}
	return o;
}

static int
provision_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_provision_req     req    = { 0 };
	pa_provision_result *r      = NULL;
	pa_datavolume       *dv     = NULL;
	pa_client           *cl     = NULL;
	pa_err               err    = PA_ERR_INIT;
	const char          *file   = NULL;
	bool                 strict = false;
	progress             bar;
	int                  rc, ex = CTL_EXIT_FAILURE;

	provision_parse(&req, &file, &strict, cmd, argc, argv);
	if ((rc = ctl_datavolume(&dv, file, strict, &err)) != PA_OK ||
	    (rc = ctl_client(&cl, c, &err)) != PA_OK)
		goto done;
	req.dv = dv;
	progress_start(&bar, true);
	rc = pa_provision(&r, cl, &req, progress_update, &bar, &err);
	progress_stop(&bar);
	if (rc != PA_OK)
		goto done;
	ex = ctl_print(c, provision_view(r, dv, c->format));
done:
	pa_provision_result_free(r);
	pa_client_free(cl);
	pa_datavolume_free(dv);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_provision = {
	.name      = "provision",
	.summary   = "do what an importer does for one DataVolume",
	.optstring = ":f:v:i:m:h",
	.longopts  = provision_options,
	.help =
	    "Usage: preallocctl provision -f DV.yaml --volume DIR|DEVICE "
	    "[--image FILE]\n"
	    "           [--method auto|falloc|full] [--force] [--strict]\n"
	    "           [--max-write-rate QTY]\n\n"
	    "Do what CDI's importer does for one volume: resolve the "
	    "decision,\nsize DIR/disk.img (Filesystem) or use DEVICE "
	    "(Block), write the\nraw image FILE first, and when the decision "
	    "is true have the agent\npreallocate the rest. Without a size in "
	    "the DataVolume (a clone),\nthe volume's is used: the "
	    "filesystem's under DIR, or DEVICE's;\nSize Source says which. "
	    "Prints the outcome, with the annotations\ncdi.kubevirt.io/"
	    "storage.preallocation: \"true\" when preallocated, and\n"
	    "cdi.kubevirt.io/storage.preallocation.requested: \"true\" or "
	    "\"false\",\nthe decision, as CDI's controller writes it on "
	    "every PVC.\n\n"
	    "Options:\n"
	    "  -f, --filename DV.yaml   the DataVolume manifest ('-': "
	    "stdin)\n"
	    "  -v, --volume DIR|DEV     the volume's mount directory or "
	    "device\n"
	    "  -i, --image FILE         raw image data to write first\n"
	    "  -m, --method M           auto (default), falloc or full\n"
	    "      --force              write over a signature on the "
	    "device\n"
	    "      --strict             fields CDI does not define are "
	    "errors\n"
	    "      --max-write-rate QTY bytes a second the agent writes at "
	    "most\n"
	    "  -h, --help               show this help\n",
	.run = provision_run,
};
