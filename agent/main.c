// SPDX-License-Identifier: Apache-2.0
// main.c: prealloc-agentd, a thin main around confinement, the job table,
// its log lines and metrics, and the RPC handlers.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "agent_rpc.h"
#include "confine.h"
#include "daemon.h"
#include "jobevents.h"
#include "jobs.h"
#include "quantity.h"
#include "prealloc/log.h"
#include "rpc_server.h"
#include "rpcmetrics.h"

#define AGENTD_DEFAULT_LISTEN "tcp://127.0.0.1:9651"
#define AGENTD_DEFAULT_HTTP "127.0.0.1:9661"
#define AGENTD_MAX_PATHS 64
#define AGENTD_DRAIN_MS 5000
#define AGENTD_DEFAULT_GRACE_S 30

typedef struct agentd_opts {
	daemon_opts      d;
	const char      *roots[AGENTD_MAX_PATHS];
	int              nroots;
	const char      *globs[AGENTD_MAX_PATHS];
	int              nglobs;
	unsigned         grace_s;
	struct jobs_opts jobs;
} agentd_opts;

// Everything the daemon runs, so one teardown frees it in order.
typedef struct agentd {
	confine    *conf;
	jobs       *jobs;
	rpc_server *srv;
	metrics    *m;
	httpd      *http;
	rpcmetrics  rpcm;
	jobevents   events;
	agent_rpc   handlers;
} agentd;

static void __attribute__((noreturn)) usage(void)
{
	printf(
	    "Usage: prealloc-agentd --root DIR... [--device-allow GLOB]... "
	    "[options]\n\n"
	    "Preallocates files beneath the roots and allowed block "
	    "devices.\n"
	    "Listens on " AGENTD_DEFAULT_LISTEN
	    " and serves HTTP on " AGENTD_DEFAULT_HTTP
	    " unless told otherwise.\n\n"
	    "Options:\n"
	    "  -r, --root DIR          files beneath DIR may be targets "
	    "(repeatable)\n"
	    "  -d, --device-allow GLOB block devices that GLOB names in "
	    "/dev may be\n"
	    "                          targets (repeatable)\n"
	    "  -j, --max-jobs N        jobs that write data running at once "
	    "(default 2)\n"
	    "      --writers-per-disk N  of those, at most N on one disk "
	    "(default 1;\n"
	    "                          0: no cap); disks go on in parallel\n"
	    "      --fast-jobs N       fallocate jobs running at once, never "
	    "behind\n"
	    "                          jobs that write data (default 2; 0: "
	    "they queue\n"
	    "                          with them)\n"
	    "      --max-write-rate Q  bytes a job writes per second at most, "
	    "as a\n"
	    "                          Kubernetes quantity (200Mi); caps a "
	    "request's own\n"
	    "                          (default: no limit)\n"
	    "      --io-class CLASS    the I/O class fills write at: "
	    "best-effort\n"
	    "                          (its lowest level, the default) or "
	    "idle\n"
	    "  -q, --queue N           jobs waiting at most (default 64)\n"
	    "      --grace SECONDS     on SIGTERM, how long running jobs "
	    "may\n"
	    "                          finish before they are cancelled "
	    "(default 30)\n" DAEMON_USAGE
	    "\nSafety rules (decided on what is opened, never on the path):\n"
	    "  - a file is resolved beneath its --root (openat2 "
	    "RESOLVE_BENEATH): '..',\n"
	    "    symlinks out and /proc magic links are refused; it must be "
	    "a regular\n"
	    "    file with one hard link; its bytes never change and it "
	    "never shrinks\n"
	    "  - a block device is allowed by its device number: a GLOB "
	    "names a device\n"
	    "    when what it matches is the kernel's node (/dev/NAME) or a "
	    "symlink in\n"
	    "    /dev to it; nodes made by hand, bind mounts and links "
	    "outside /dev\n"
	    "    name nothing; a busy (mounted, claimed) device is refused\n"
	    "  - a path holding a NUL byte or longer than PATH_MAX is "
	    "INVALID_ARGUMENT\n"
	    "  - a failed or cancelled fill puts the file back; a file it "
	    "created and\n"
	    "    could not remove (read-only filesystem) is removed once "
	    "writable\n");
	exit(0);
}

static unsigned
parse_count(
    const agentd_opts *o, const char *opt, const char *arg, unsigned min)
{
	char         *end = NULL;
	unsigned long v   = strtoul(arg, &end, 10);

	if (arg[0] == '\0' || *end != '\0' || v < min || v > 100000)
		daemon_usage_error(&o->d, "%s wants a number from %u, not '%s'",
		    opt, min, arg);
	return (unsigned) v;
}

static void
parse_rate(agentd_opts *o, const char *arg)
{
	pa_err err = PA_ERR_INIT;

	if (quantity_parse(&o->jobs.max_write_rate, arg, &err) != PA_OK)
		daemon_usage_error(&o->d, "--max-write-rate: %s", err.msg);
}

static void
add_path(
    agentd_opts *o, const char **list, int *n, const char *opt, const char *arg)
{
	if (*n == AGENTD_MAX_PATHS)
		daemon_usage_error(
		    &o->d, "more than %d %s", AGENTD_MAX_PATHS, opt);
	list[(*n)++] = arg;
}

static void
parse_opt(agentd_opts *o, int ch)
{
	pa_err err = PA_ERR_INIT;

	switch (ch) {
	case 'r':
		add_path(o, o->roots, &o->nroots, "--root", optarg);
		break;
	case 'd':
		add_path(o, o->globs, &o->nglobs, "--device-allow", optarg);
		break;
	case 'j':
		o->jobs.max_running = parse_count(o, "--max-jobs", optarg, 1);
		break;
	case 'q':
		o->jobs.max_queue = parse_count(o, "--queue", optarg, 1);
		break;
	case 'g':
		o->grace_s = parse_count(o, "--grace", optarg, 0);
		break;
	case 'W':
		o->jobs.writers_per_disk =
		    parse_count(o, "--writers-per-disk", optarg, 0);
		break;
	case 'F':
		o->jobs.max_fast = parse_count(o, "--fast-jobs", optarg, 0);
		break;
	case 'R':
		parse_rate(o, optarg);
		break;
	case 'I':
		if (io_class_parse(&o->jobs.io_class, optarg, &err) != PA_OK)
			daemon_usage_error(&o->d, "--io-class: %s", err.msg);
		break;
	case 'h':
		usage();
	default:
		if (!daemon_parse_opt(&o->d, ch, optarg))
			daemon_usage_error(&o->d, "unknown option %d", ch);
	}
}

static void
parse_args(agentd_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "device-allow", required_argument, NULL, 'd' },
		{ "max-jobs", required_argument, NULL, 'j' },
		{ "queue", required_argument, NULL, 'q' },
		{ "grace", required_argument, NULL, 'g' },
		{ "writers-per-disk", required_argument, NULL, 'W' },
		{ "fast-jobs", required_argument, NULL, 'F' },
		{ "max-write-rate", required_argument, NULL, 'R' },
		{ "io-class", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		DAEMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "r:d:l:j:q:h", longopts, NULL)) != -1)
		parse_opt(o, ch);
	if (optind < argc)
		daemon_usage_error(
		    &o->d, "unexpected argument '%s'", argv[optind]);
	if (o->nroots == 0 && o->nglobs == 0)
		daemon_usage_error(&o->d,
		    "nothing to serve: give at least one --root DIR or "
		    "--device-allow GLOB");
	daemon_opts_finish(&o->d);
}

static int
agentd_ready(void *arg, char *why, size_t size)
{
	agentd *d   = arg;
	pa_err  err = PA_ERR_INIT;

	if (confine_check_roots(d->conf, &err) == PA_OK)
		return 1;
	snprintf(why, size, "%s", err.msg);
	return 0;
}

static void
agentd_collect(void *arg)
{
	agentd *d = arg;

	jobevents_collect(&d->events, d->jobs);
}

static int
agentd_confine(agentd *d, const agentd_opts *o, pa_err *err)
{
	int rc;

	if ((rc = confine_new(&d->conf, err)) != PA_OK)
		return rc;
	for (int i = 0; i < o->nroots; i++)
		if ((rc = confine_add_root(d->conf, o->roots[i], err)))
			return rc;
	for (int i = 0; i < o->nglobs; i++)
		if ((rc = confine_add_device_glob(d->conf, o->globs[i], err)))
			return rc;
	return PA_OK;
}

static int
agentd_engine(agentd *d, agentd_opts *o, pa_err *err)
{
	int rc;

	if ((rc = agentd_confine(d, o, err)) != PA_OK ||
	    (rc = metrics_new(&d->m, err)) != PA_OK ||
	    (rc = rpcmetrics_init(&d->rpcm, d->m, err)) != PA_OK ||
	    (rc = jobevents_init(&d->events, d->m, err)) != PA_OK)
		return rc;
	agent_rpc_init(&d->handlers, d->conf);
	o->jobs.on_event     = jobevents_on_event;
	o->jobs.arg          = &d->events;
	o->jobs.conf         = d->conf;
	o->d.rpc.observe     = rpcmetrics_observe;
	o->d.rpc.observe_arg = &d->rpcm;
	return jobs_new(&d->jobs, &o->jobs, err);
}

static int
agentd_start(agentd *d, agentd_opts *o, pa_err *err)
{
	httpd_hooks hooks = { agentd_ready, agentd_collect, d };
	int         rc;

	if ((rc = agentd_engine(d, o, err)) ||
	    (rc = rpc_server_new(&d->srv, &o->d.rpc, err)) ||
	    (rc = agent_rpc_bind(&d->handlers, d->srv, d->jobs, err)) ||
	    (rc = daemon_listen(d->srv, &o->d, err)) ||
	    (rc = daemon_http(&d->http, &o->d, d->m, &hooks, err)))
		return rc;
	return rpc_server_start(d->srv, err);
}

// Wait for SIGTERM or SIGINT, then stop taking jobs, give running ones
// the grace period, cancel the rest (their files are put back) and drain.
static void
agentd_serve(agentd *d, const agentd_opts *o, const sigset_t *set)
{
	unsigned cancelled;
	int      sig = 0;

	pa_log(PA_LOG_INFO, "agentd.ready",
	    "roots=%zu device_globs=%zu devices=%zu max_jobs=%u queue=%u "
	    "writers_per_disk=%u fast_jobs=%u max_write_rate=%" PRIu64
	    " io_class=%s",
	    confine_root_count(d->conf), confine_glob_count(d->conf),
	    confine_device_count(d->conf), o->jobs.max_running,
	    o->jobs.max_queue, o->jobs.writers_per_disk, o->jobs.max_fast,
	    o->jobs.max_write_rate, io_class_name(o->jobs.io_class));
	while (sigwait(set, &sig) != 0 || sig == SIGHUP)
		;
	pa_log(PA_LOG_INFO, "agentd.stopping", "signal=%d grace_s=%u", sig,
	    o->grace_s);
	cancelled = jobs_shutdown(d->jobs, o->grace_s * 1000u);
	pa_log(PA_LOG_INFO, "agentd.jobs_stopped", "cancelled=%u", cancelled);
	if (rpc_server_stop(d->srv, AGENTD_DRAIN_MS) != PA_OK)
		pa_log(PA_LOG_WARN, "agentd.drain_timeout", "ms=%d",
		    AGENTD_DRAIN_MS);
}

int
main(int argc, char **argv)
{
	agentd_opts opts = { .grace_s = AGENTD_DEFAULT_GRACE_S,
		.jobs                 = JOBS_OPTS_INIT };
	agentd      d    = { 0 };
	sigset_t    set;
	pa_err      err = PA_ERR_INIT;
	int         rc;

	daemon_opts_init(&opts.d, "prealloc-agentd", "agentd",
	    AGENTD_DEFAULT_LISTEN, AGENTD_DEFAULT_HTTP);
	parse_args(&opts, argc, argv);
	// Signals go to sigwait() in main only, never to nng's or the
	// workers' threads.
	daemon_block_signals(&set);
	if ((rc = agentd_start(&d, &opts, &err)) == PA_OK)
		agentd_serve(&d, &opts, &set);
	else
		daemon_start_failed(&opts.d, rc, &err);
	httpd_free(d.http);
	jobs_free(d.jobs); // answers any waiter left, before the server goes
	rpc_server_free(d.srv);
	confine_free(d.conf);
	metrics_free(d.m);
	nng_fini(); // wait for nng's reaper, so no pipe is left half-freed
	return rc == PA_OK ? 0 : 1;
}
