// SPDX-License-Identifier: Apache-2.0
// cmd_job.c: `preallocctl job`: one job, or wait for it to end.
#include "ctl.h"
#include "progress.h"

static const struct option job_options[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
job_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_client  *cl   = NULL;
	pa_job     *job  = NULL;
	pa_err      err  = PA_ERR_INIT;
	bool        wait = false;
	progress    bar;
	const char *id;
	int         rc, ex = CTL_EXIT_FAILURE;

	while (ctl_getopt(cmd, argc, argv) != -1)
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

const ctl_command cmd_job = {
	.name      = "job",
	.summary   = "show one job, or wait for it to end",
	.optstring = ":wh",
	.longopts  = job_options,
	.help =
	    "Usage: preallocctl job ID [--wait]\n\n"
	    "Show job ID. With --wait, wait for it to end (with a progress\n"
	    "bar on a terminal); the exit status is then the job's.\n\n"
	    "Options:\n"
	    "  -w, --wait   wait for the job to end\n"
	    "  -h, --help   show this help\n",
	.run = job_run,
};
