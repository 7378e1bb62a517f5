// SPDX-License-Identifier: Apache-2.0
// cmd_preallocate.c: `preallocctl preallocate`: have the agent allocate a
// file or a device, with a progress bar, and Ctrl-C to cancel.
#include "ctl.h"
#include "progress.h"

// How long the agent waits before its first answer: a quick job ends
// within it, a long one starts drawing the bar.
#define PREALLOCATE_WAIT_MS 500

enum { OPT_OFFSET = 256, OPT_FORCE, OPT_NO_WAIT, OPT_RATE };

static const struct option preallocate_options[] = {
	{ "size", required_argument, NULL, 's' },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "method", required_argument, NULL, 'm' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "max-write-rate", required_argument, NULL, OPT_RATE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool
preallocate_parse(
    pa_prealloc_req *req, const ctl_command *cmd, int argc, char **argv)
{
	bool have_size = false, wait = true;
	int  opt;

	while ((opt = ctl_getopt(cmd, argc, argv)) != -1) {
		switch (opt) {
		case 's':
			req->size = ctl_quantity(cmd, "--size", optarg);
			have_size = true;
			break;
		case OPT_OFFSET:
			req->offset = ctl_quantity(cmd, "--offset", optarg);
			break;
		case 'm':
			req->method = ctl_method(cmd, optarg);
			break;
		case OPT_FORCE:
			req->force = true;
			break;
		case OPT_NO_WAIT:
			wait = false;
			break;
		case OPT_RATE:
			req->max_write_rate =
			    ctl_quantity(cmd, "--max-write-rate", optarg);
			break;
		}
	}
	req->path = ctl_args(cmd, argc, argv, 1, 1, "PATH or DEVICE");
	if (!have_size)
		ctl_usage_error(cmd, "missing --size");
	return wait;
}

static int
preallocate_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_prealloc_req req = PA_PREALLOC_REQ_INIT;
	pa_client      *cl  = NULL;
	pa_job         *job = NULL;
	pa_err          err = PA_ERR_INIT;
	progress        bar;
	bool            wait;
	int             rc, ex = CTL_EXIT_FAILURE;

	wait = preallocate_parse(&req, cmd, argc, argv);
	if ((rc = ctl_client(&cl, c, &err)) != PA_OK)
		goto done;
	if (!wait) {
		rc = pa_preallocate(&job, cl, &req, &err);
	} else {
		req.wait_ms = PREALLOCATE_WAIT_MS;
		progress_start(&bar, true);
		rc = pa_preallocate_wait(
		    &job, cl, &req, progress_update, &bar, &err);
		progress_stop(&bar);
	}
	if (rc != PA_OK)
		goto done;
	ex = ctl_print_job(c, job);
done:
	pa_job_free(job);
	pa_client_free(cl);
	return ctl_exit(rc, &err, ex);
}

const ctl_command cmd_preallocate = {
	.name      = "preallocate",
	.summary   = "have the agent preallocate a file or a device",
	.optstring = ":s:m:h",
	.longopts  = preallocate_options,
	.help      = "Usage: preallocctl preallocate PATH|DEVICE --size QTY "
	             "[--offset QTY]\n"
	             "           [--method auto|falloc|full] [--force] [--no-wait]\n"
	             "           [--max-write-rate QTY]\n\n"
	             "Have the node agent allocate PATH (a file under one of its "
	             "roots)\nor DEVICE (a block device it allows). Sizes are "
	             "Kubernetes\nquantities: 10Gi, 512Mi, 1G, plain bytes. On a "
	             "terminal a progress\nbar shows; Ctrl-C cancels the job and "
	             "waits until the agent has\nrestored the file.\n\n"
	             "Options:\n"
	             "  -s, --size QTY     file: its final size; device: the end "
	             "(0: all)\n"
	             "      --offset QTY   device: where zeroing starts\n"
	             "  -m, --method M     auto (default), falloc or full\n"
	             "      --force        write over a signature in the range\n"
	             "      --no-wait      print the job as started and return\n"
	             "      --max-write-rate QTY\n"
	             "                     bytes a second it writes at most (the "
	             "agent's\n"
	             "                     own limit caps it)\n"
	             "  -h, --help         show this help\n",
	.run       = preallocate_run,
};
