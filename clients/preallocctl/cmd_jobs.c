// SPDX-License-Identifier: Apache-2.0
// cmd_jobs.c: `preallocctl jobs`: the agent's running, queued and recently
// finished jobs.
#include "ctl.h"

int
cmd_jobs(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_client   *cl   = NULL;
	pa_job_list *list = NULL;
	pa_err       err  = PA_ERR_INIT;
	int          rc, ex = PA_EXIT_FAIL;

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
