// SPDX-License-Identifier: Apache-2.0
// main.c: prealloc-policyd, a thin main around the store and the RPC handlers.
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <unistd.h>

#include "authz.h"
#include "daemon.h"
#include "policy_rpc.h"
#include "prealloc/log.h"
#include "rpc_server.h"
#include "rpcmetrics.h"
#include "store.h"

#define POLICYD_DEFAULT_LISTEN "tcp://127.0.0.1:9650"
#define POLICYD_DEFAULT_HTTP "127.0.0.1:9660"
#define POLICYD_DRAIN_MS 5000

typedef struct policyd_opts {
	daemon_opts d;
	const char *config;
	authz       apply; // who may ApplyConfig
} policyd_opts;

enum {
	POLICYD_OPT_ALLOW_UID = 1024, // above the common options
	POLICYD_OPT_ALLOW_GID,
};

// Everything the daemon runs, so one teardown frees it in order.
typedef struct policyd {
	store          *st;
	rpc_server     *srv;
	metrics        *m;
	httpd          *http;
	rpcmetrics      rpcm;
	policy_rpc      handlers;
	metrics_family *reloads;    // prealloc_policy_reloads_total{result}
	metrics_family *generation; // prealloc_policy_config_generation
	metrics_family *load_error; // prealloc_policy_config_load_error
} policyd;

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage: prealloc-policyd --config FILE [options]\n\n"
	       "Answers ResolvePreallocation from a stored CDIConfig.\n"
	       "Listens on " POLICYD_DEFAULT_LISTEN
	       " and serves HTTP on " POLICYD_DEFAULT_HTTP
	       " unless told otherwise.\n\n"
	       "Options:\n"
	       "  -c, --config FILE       the CDIConfig YAML (may be "
	       "missing)\n"
	       "      --apply-allow-uid USER  may ApplyConfig over ipc://, "
	       "a name or a uid\n"
	       "                          (repeatable; root and our own "
	       "uid always may)\n"
	       "      --apply-allow-gid GROUP may ApplyConfig over ipc:// "
	       "when it is the\n"
	       "                          caller's primary group "
	       "(repeatable)\n" DAEMON_USAGE
	       "\nApplyConfig changes what every node's VMs get, so it is "
	       "PERMISSION_DENIED\nunless the caller's ipc:// peer "
	       "credentials are allowed (above). It is\nrefused over tcp:// "
	       "and over tls+tcp://, even with a client certificate:\nthe "
	       "TLS library (nng 1.5.2) cannot name the certificate "
	       "(neither subject\nnor CN). ResolvePreallocation and "
	       "GetConfig are open on every listener.\n");
	exit(0);
}

// A user (group when @p gid) name, else a number, allowed to apply.
static void
parse_allow(policyd_opts *o, bool gid, const char *arg)
{
	struct passwd *pw  = gid ? NULL : getpwnam(arg);
	struct group  *gr  = gid ? getgrnam(arg) : NULL;
	char          *end = NULL;
	unsigned long  id;
	pa_err         err = PA_ERR_INIT;

	errno = 0;
	id    = strtoul(arg, &end, 10);
	if (pw != NULL)
		id = pw->pw_uid;
	else if (gr != NULL)
		id = gr->gr_gid;
	else if (!isdigit((unsigned char) arg[0]) || *end != '\0' ||
	    errno != 0 || id >= (unsigned long) (uid_t) -1)
		daemon_usage_error(&o->d, "--apply-allow-%s: no %s '%s'",
		    gid ? "gid" : "uid", gid ? "group" : "user", arg);
	if (authz_allow(&o->apply, gid, id, &err) != PA_OK)
		daemon_usage_error(&o->d, "%s", err.msg);
}

static void
parse_args(policyd_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "apply-allow-uid", required_argument, NULL,
		    POLICYD_OPT_ALLOW_UID },
		{ "apply-allow-gid", required_argument, NULL,
		    POLICYD_OPT_ALLOW_GID },
		{ "help", no_argument, NULL, 'h' },
		DAEMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:l:h", longopts, NULL)) != -1) {
		if (daemon_parse_opt(&o->d, ch, optarg))
			continue;
		if (ch == 'c')
			o->config = optarg;
		else if (ch == POLICYD_OPT_ALLOW_UID ||
		    ch == POLICYD_OPT_ALLOW_GID)
			parse_allow(o, ch == POLICYD_OPT_ALLOW_GID, optarg);
		else if (ch == 'h')
			usage();
		else
			daemon_usage_error(&o->d, "unknown option %d", ch);
	}
	if (optind < argc)
		daemon_usage_error(
		    &o->d, "unexpected argument '%s'", argv[optind]);
	if (o->config == NULL)
		daemon_usage_error(&o->d, "--config is required");
	daemon_opts_finish(&o->d);
}

static void
policyd_on_reload(void *arg, int rc, bool changed, const pa_err *err)
{
	char q[PA_ERR_MSG_SIZE + 16];

	if (rc != PA_OK)
		pa_log(PA_LOG_ERROR, "store.reload_rejected",
		    "code=%s error=%s", pa_status_name(rc),
		    pa_log_quote(q, sizeof(q), err->msg));
	else if (changed)
		pa_log(PA_LOG_INFO, "store.reloaded", "source=%s",
		    (const char *) arg);
}

static void
policyd_on_stale_temp(void *arg, const char *path, int rc, const pa_err *err)
{
	char q[PA_ERR_MSG_SIZE + 16], file[PATH_MAX * 2];

	(void) arg;
	pa_log_quote(file, sizeof(file), path);
	if (rc == PA_OK)
		pa_log(
		    PA_LOG_INFO, "store.stale_temp_removed", "file=%s", file);
	else
		pa_log(PA_LOG_WARN, "store.stale_temp_kept",
		    "file=%s code=%s reason=%s", file, pa_status_name(rc),
		    pa_log_quote(q, sizeof(q), err->msg));
}

// Say once at start that the config's directory is not there yet: the
// daemon serves the default and waits for it.
static void
policyd_log_dir_missing(policyd *d)
{
	store_status st;

	store_get_status(&st, d->st);
	if (st.dir_missing)
		pa_log(PA_LOG_WARN, "store.config_dir_missing",
		    "file=%s reason=\"its directory does not exist yet; "
		    "watching for it\"",
		    store_path(d->st));
}

// Ready once a valid config has loaded from the file, and while the
// newest load did not fail.
static int
policyd_ready(void *arg, char *why, size_t size)
{
	policyd     *d = arg;
	store_status st;

	store_get_status(&st, d->st);
	if (!st.ever_loaded)
		snprintf(why, size,
		    "no valid config has loaded from %s yet%s: serving the "
		    "default (preallocation false)",
		    store_path(d->st),
		    st.dir_missing ? " (its directory does not exist)" : "");
	else if (st.last_error[0] != '\0')
		snprintf(
		    why, size, "the last reload failed: %s", st.last_error);
	else
		return 1;
	return 0;
}

static void
policyd_collect(void *arg)
{
	policyd     *d    = arg;
	cdiconfig   *snap = store_snapshot(d->st);
	store_status st;

	store_get_status(&st, d->st);
	metrics_set(d->reloads, "ok", (double) st.reloads);
	metrics_set(d->reloads, "error", (double) st.reload_failures);
	metrics_set(d->generation, "", (double) cdiconfig_generation(snap));
	metrics_set(d->load_error, "", st.last_error[0] != '\0');
	cdiconfig_unref(snap);
}

static int
policyd_metrics(policyd *d, policyd_opts *o, pa_err *err)
{
	int rc;

	if ((rc = metrics_new(&d->m, err)) != PA_OK ||
	    (rc = rpcmetrics_init(&d->rpcm, d->m, err)) != PA_OK)
		return rc;
	// Counted by the store; a counter that is set, not added, at render.
	d->reloads    = metrics_counter(d->m, "prealloc_policy_reloads_total",
	       "Config loads and applies, by result", "result");
	d->generation = metrics_gauge(d->m, "prealloc_policy_config_generation",
	    "Generation of the config served", NULL);
	d->load_error = metrics_gauge(d->m, "prealloc_policy_config_load_error",
	    "1 when the newest load or apply failed", NULL);
	o->d.rpc.observe     = rpcmetrics_observe;
	o->d.rpc.observe_arg = &d->rpcm;
	return PA_OK;
}

static int
policyd_start(policyd *d, policyd_opts *o, pa_err *err)
{
	httpd_hooks hooks   = { policyd_ready, policyd_collect, d };
	bool        missing = false;
	int         rc;

	if ((rc = store_open(&d->st, &missing, o->config, err)) != PA_OK)
		return rc;
	if (missing)
		pa_log(PA_LOG_WARN, "store.default_config",
		    "file=%s reason=missing", o->config);
	store_remove_stale_temps(d->st, policyd_on_stale_temp, NULL);
	if ((rc = store_watch(d->st, policyd_on_reload, "watch", err)))
		return rc;
	policyd_log_dir_missing(d);
	if ((rc = policyd_metrics(d, o, err)) ||
	    (rc = rpc_server_new(&d->srv, &o->d.rpc, err)) ||
	    (rc = policy_rpc_bind(
	         &d->handlers, d->srv, d->st, d->m, &o->apply, err)) ||
	    (rc = daemon_listen(d->srv, &o->d, err)) ||
	    (rc = daemon_http(&d->http, &o->d, d->m, &hooks, err)))
		return rc;
	return rpc_server_start(d->srv, err);
}

// Wait for signals: SIGHUP reloads, SIGTERM and SIGINT drain and stop.
static void
policyd_serve(policyd *d, const sigset_t *set)
{
	int sig = 0;

	pa_log(PA_LOG_INFO, "policyd.ready", "config=%s", store_path(d->st));
	for (;;) {
		bool   changed = false;
		pa_err err     = PA_ERR_INIT;
		int    rc;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		rc = store_reload(d->st, &changed, &err);
		policyd_on_reload("sighup", rc, changed, &err);
	}
	pa_log(PA_LOG_INFO, "policyd.stopping", "signal=%d", sig);
	if (rpc_server_stop(d->srv, POLICYD_DRAIN_MS) != PA_OK)
		pa_log(PA_LOG_WARN, "policyd.drain_timeout", "ms=%d",
		    POLICYD_DRAIN_MS);
}

int
main(int argc, char **argv)
{
	policyd_opts opts = { .config = NULL,
		.apply                = { .self_uid = geteuid() } };
	policyd      d    = { 0 };
	sigset_t     set;
	pa_err       err = PA_ERR_INIT;
	int          rc;

	daemon_opts_init(&opts.d, "prealloc-policyd", "policyd",
	    POLICYD_DEFAULT_LISTEN, POLICYD_DEFAULT_HTTP);
	parse_args(&opts, argc, argv);
	daemon_block_signals(&set); // before any thread starts
	if ((rc = policyd_start(&d, &opts, &err)) == PA_OK)
		policyd_serve(&d, &set);
	else
		daemon_start_failed(&opts.d, rc, &err);
	httpd_free(d.http);
	rpc_server_free(d.srv);
	store_free(d.st);
	metrics_free(d.m);
	nng_fini(); // wait for nng's reaper, so no pipe is left half-freed
	return rc == PA_OK ? 0 : 1;
}
