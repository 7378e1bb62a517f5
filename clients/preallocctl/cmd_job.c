// SPDX-License-Identifier: Apache-2.0
// cmd_job.c: `preallocctl job`: one job, or wait for it to end.
#include "ctl.h"
#include "progress.h"

int
cmd_job(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pa_client  *cl   = NULL;
	pa_job     *job  = NULL;
	pa_err      err  = PA_ERR_INIT;
	bool        wait = false;
	progress    bar;
	const char *id;
	int         rc, ex = PA_EXIT_FAIL;

	while (ctl_getopt(cmd, argc, argv, ":wh", longopts) != -1)
		wait = true; // 'w', the only option left
	id = ctl_args(cmd, argc, argv, 1, 1, "job ID");
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK)
		goto done;
	if (wait) {
		// Ctrl-C stops watching; it does not cancel a job we only
		// look at.
		progress_start(&bar, false);
		rc = pa_wait_job(&job, cl, id, progress_update, &bar, &err);
		progress_stop(&bar);
	} else {
		rc = pa_get_job(&job, cl, id, 0, &err);
	}
	if (rc != PA_OK)
		goto done;
	// Without --wait, a failed job is shown, not an error of this call.
	ex = wait ? ctl_print_job(c, job)
	          : ctl_print(c, view_job(job, c->format, false));
done:
	pa_job_free(job);
	pa_client_free(cl);
	return ctl_exit(rc, &err, ex);
}
