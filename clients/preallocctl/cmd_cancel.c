// SPDX-License-Identifier: Apache-2.0
// cmd_cancel.c: `preallocctl cancel`: ask the agent to stop a job.
#include "ctl.h"

static int
cancel_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_client        *cl      = NULL;
	pa_job           *job     = NULL;
	pa_err            err     = PA_ERR_INIT;
	pa_cancel_outcome outcome = PA_CANCEL_UNKNOWN;
	const char       *id;
	int               rc, ex = CTL_EXIT_FAILURE;

	ctl_only_help(cmd, argc, argv);
	id = ctl_args(cmd, argc, argv, 1, 1, "job ID");
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK ||
	    (rc = pa_cancel_job_outcome(&job, &outcome, cl, id, &err)) != PA_OK)
		goto done;
	// Not an error: what the user wanted stopped has stopped.
	if (outcome == PA_CANCEL_HAD_ENDED)
		fprintf(stderr,
		    "preallocctl: job %s had already finished (%s); nothing "
		    "to cancel\n",
		    job->id, pa_job_state_name(job->state));
	// The job as the agent answered: it may still be stopping.
	ex = ctl_print(c, view_job(job, c->format, false));
done:
	pa_job_free(job);
	pa_client_free(cl);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_cancel = {
	.name      = "cancel",
	.summary   = "cancel a job",
	.optstring = ":h",
	.longopts  = ctl_help_only,
	.help      = "Usage: preallocctl cancel ID\n\n"
	             "Ask the node agent to stop job ID at its next chunk; it puts "
	             "the\nfile back as it was. A job that had already finished "
	             "is shown as\nit ended, with a note, and the exit status is "
	             "0.\n\n"
	             "Options:\n"
	             "  -h, --help   show this help\n",
	.run       = cancel_run,
};
