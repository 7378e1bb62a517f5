// SPDX-License-Identifier: Apache-2.0
// cmd_jobs.c: `preallocctl jobs`: the agent's running, queued and recently
// finished jobs.
#include "ctl.h"

static int
jobs_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_client   *cl   = NULL;
	pa_job_list *list = NULL;
	pa_err       err  = PA_ERR_INIT;
	int          rc, ex = CTL_EXIT_FAILURE;

	ctl_only_help(cmd, argc, argv);
	ctl_args(cmd, argc, argv, 0, 0, "");
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK ||
	    (rc = pa_list_jobs(&list, cl, &err)) != PA_OK)
		goto done;
	ex = ctl_print(c, view_jobs(list, c->format));
done:
	pa_job_list_free(list);
	pa_client_free(cl);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_jobs = {
	.name      = "jobs",
	.summary   = "list the agent's jobs",
	.optstring = ":h",
	.longopts  = ctl_help_only,
	.help      = "Usage: preallocctl jobs\n\n"
	             "List the node agent's running, queued and recently finished "
	             "jobs.\n\n"
	             "Options:\n"
	             "  -h, --help   show this help\n",
	.run       = jobs_run,
};
