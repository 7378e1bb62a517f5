// SPDX-License-Identifier: Apache-2.0
// cmd_probe.c: `preallocctl probe`: what the agent finds at a path.
#include "ctl.h"

static int
probe_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_client  *cl  = NULL;
	pa_probe   *p   = NULL;
	pa_err      err = PA_ERR_INIT;
	const char *path;
	int         rc, ex = CTL_EXIT_FAILURE;

	ctl_only_help(cmd, argc, argv);
	path = ctl_args(cmd, argc, argv, 1, 1, "PATH or DEVICE");
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK ||
	    (rc = pa_probe_target(&p, cl, path, &err)) != PA_OK)
		goto done;
	ex = ctl_print(c, view_probe(p, c->format));
done:
	pa_probe_free(p);
	pa_client_free(cl);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_probe = {
	.name      = "probe",
	.summary   = "show what the agent finds at a path",
	.optstring = ":h",
	.longopts  = ctl_help_only,
	.help =
	    "Usage: preallocctl probe PATH|DEVICE\n\n"
	    "Show what the node agent finds at PATH or DEVICE: kind, size,\n"
	    "allocation, free space, fallocate support, sectors and "
	    "signatures.\nNothing is written.\n\n"
	    "Options:\n"
	    "  -h, --help   show this help\n",
	.run = probe_run,
};
