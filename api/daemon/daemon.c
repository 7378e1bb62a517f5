// SPDX-License-Identifier: Apache-2.0
// daemon.c: the common options, signals, listeners and HTTP side of both
// daemons.
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "prealloc/log.h"
#include "rpcmetrics.h"

void
daemon_opts_init(daemon_opts *o, const char *prog, const char *event,
    const char *default_listen, const char *default_http)
{
	rpc_server_opts rpc  = RPC_SERVER_OPTS_INIT;
	httpd_opts      http = HTTPD_OPTS_INIT;

	memset(o, 0, sizeof(*o));
	o->prog           = prog;
	o->event          = event;
	o->default_listen = default_listen;
	o->http           = default_http;
	o->rpc            = rpc;
	o->http_opts      = http;
	// Not given yet: daemon_opts_finish() fits them to the limit.
	o->rpc.max_conns       = 0;
	o->http_opts.max_conns = 0;
}

void
daemon_usage_error(const daemon_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", o->prog);
	exit(2);
}

static int
daemon_parse_mode(const daemon_opts *o, const char *arg)
{
	char *end  = NULL;
	long  mode = strtol(arg, &end, 8);

	if (arg[0] == '\0' || *end != '\0' || mode <= 0 || mode > 0777)
		daemon_usage_error(o,
		    "--ipc-mode wants an octal mode such as "
		    "0660, not '%s'",
		    arg);
	return (int) mode;
}

static unsigned
daemon_parse_count(
    const daemon_opts *o, const char *opt, const char *arg, unsigned max)
{
	char         *end = NULL;
	unsigned long v;

	errno = 0;
	v     = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char) arg[0]) || *end != '\0' || errno != 0 ||
	    v < 1 || v > max)
		daemon_usage_error(o,
		    "%s wants a number from 1 to %u, not '%s'", opt, max, arg);
	return (unsigned) v;
}

// A group name, else a numeric gid (which need not be in /etc/group).
static long
daemon_parse_group(const daemon_opts *o, const char *arg)
{
	struct group *gr  = getgrnam(arg);
	char         *end = NULL;
	unsigned long gid;

	if (gr != NULL)
		return (long) gr->gr_gid;
	errno = 0;
	gid   = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char) arg[0]) || *end != '\0' || errno != 0 ||
	    gid >= (unsigned long) (gid_t) -1)
		daemon_usage_error(o, "--ipc-group: no group '%s'", arg);
	return (long) gid;
}

int
daemon_parse_opt(daemon_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case DAEMON_OPT_LISTEN:
		if (o->nlisten == DAEMON_MAX_LISTEN)
			daemon_usage_error(
			    o, "more than %d --listen URLs", DAEMON_MAX_LISTEN);
		o->listen[o->nlisten++] = arg;
		return 1;
	case DAEMON_OPT_HTTP:
		o->http = strcmp(arg, "none") == 0 ? NULL : arg;
		return 1;
	case DAEMON_OPT_IPC:
		o->rpc.ipc_mode = daemon_parse_mode(o, arg);
		return 1;
	case DAEMON_OPT_IPC_GROUP:
		o->rpc.ipc_gid = daemon_parse_group(o, arg);
		return 1;
	case DAEMON_OPT_MAX_CONNS:
		o->rpc.max_conns =
		    daemon_parse_count(o, "--max-conns", arg, DAEMON_MAX_CAP);
		return 1;
	case DAEMON_OPT_HTTP_MAX_CONNS:
		o->http_opts.max_conns = daemon_parse_count(
		    o, "--http-max-conns", arg, DAEMON_MAX_CAP);
		return 1;
	case DAEMON_OPT_HTTP_TIMEOUT:
		o->http_opts.timeout_s = daemon_parse_count(
		    o, "--http-timeout", arg, DAEMON_MAX_HTTP_TIMEOUT_S);
		return 1;
	case DAEMON_OPT_CERT:
		o->rpc.tls.cert = arg;
		return 1;
	case DAEMON_OPT_KEY:
		o->rpc.tls.key = arg;
		return 1;
	case DAEMON_OPT_CA:
		o->rpc.tls.ca = arg;
		return 1;
	case DAEMON_OPT_LOG:
		if (pa_log_level_parse(arg) < 0)
			daemon_usage_error(o, "unknown log level '%s'", arg);
		pa_log_set_level(pa_log_level_parse(arg));
		return 1;
	case '?': // getopt_long has said what is wrong
		fprintf(stderr, "Try '%s --help'.\n", o->prog);
		exit(2);
	default:
		return 0;
	}
}

void
daemon_opts_finish(daemon_opts *o)
{
	fdbudget      b   = { 0 };
	pa_err        err = PA_ERR_INIT;
	unsigned long was = 0, nofile;
	char          event[64];
	int           rc;

	if (o->nlisten == 0)
		o->listen[o->nlisten++] = o->default_listen;
	nofile = fdbudget_raise_nofile(&was);
	rc = fdbudget_fit(&b, nofile, o->rpc.max_conns, o->http_opts.max_conns,
	    o->http != NULL, &err);
	if (rc == PA_INVALID_ARGUMENT)
		daemon_usage_error(o, "%s", err.msg);
	if (rc != PA_OK) {
		daemon_start_failed(o, rc, &err);
		exit(1);
	}
	o->rpc.max_conns = b.rpc_max_conns;
	if (o->http != NULL)
		o->http_opts.max_conns = b.http_max_conns;
	snprintf(event, sizeof(event), "%s.limits", o->event);
	pa_log(PA_LOG_INFO, event,
	    "nofile=%lu nofile_was=%lu reserve=%d max_conns=%u "
	    "http_max_conns=%u http_timeout_s=%u",
	    nofile, was, FDBUDGET_RESERVE, b.rpc_max_conns, b.http_max_conns,
	    o->http != NULL ? o->http_opts.timeout_s : 0);
}

void
daemon_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
daemon_listen(rpc_server *srv, const daemon_opts *o, pa_err *err)
{
	char event[64], url[300];
	int  rc;

	// The mains hand their rpcmetrics over as the observer's argument.
	if (o->rpc.observe == rpcmetrics_observe)
		rpcmetrics_attach(o->rpc.observe_arg, srv, o->rpc.max_conns);
	snprintf(event, sizeof(event), "%s.listening", o->event);
	for (int i = 0; i < o->nlisten; i++) {
		if ((rc = rpc_server_listen(srv, o->listen[i], err)) != PA_OK ||
		    (rc = rpc_server_url(
		         url, sizeof(url), srv, (unsigned) i, err)) != PA_OK)
			return rc;
		pa_log(PA_LOG_INFO, event, "url=%s", url);
	}
	return PA_OK;
}

int
daemon_http(httpd **out, const daemon_opts *o, metrics *m,
    const httpd_hooks *hooks, pa_err *err)
{
	char event[64], addr[300];
	int  rc;

	*out = NULL;
	if (o->http == NULL)
		return PA_OK;
	if ((rc = httpd_start(out, o->http, &o->http_opts, m, hooks, err)) !=
	    PA_OK)
		return rc;
	snprintf(event, sizeof(event), "%s.http_listening", o->event);
	pa_log(PA_LOG_INFO, event, "addr=%s",
	    httpd_addr(addr, sizeof(addr), *out));
	return PA_OK;
}

void
daemon_start_failed(const daemon_opts *o, int rc, const pa_err *err)
{
	char event[64], q[PA_ERR_MSG_SIZE + 16];

	snprintf(event, sizeof(event), "%s.start_failed", o->event);
	pa_log(PA_LOG_ERROR, event, "code=%s error=%s", pa_status_name(rc),
	    pa_log_quote(q, sizeof(q), err->msg));
	fprintf(stderr, "%s: %s\n", o->prog, err->msg);
}
