// SPDX-License-Identifier: Apache-2.0
// daemon.h: what both daemons' thin mains share: the common options, signal
// set-up, listening, and the HTTP side.
#ifndef PREALLOC_DAEMON_H
#define PREALLOC_DAEMON_H

#include <getopt.h>
#include <signal.h>

#include "httpd.h"
#include "metrics.h"
#include "prealloc/status.h"
#include "rpc_server.h"

#define DAEMON_MAX_LISTEN 8

// getopt_long values of the common options (above any short option).
enum {
	DAEMON_OPT_LISTEN = 'l',
	DAEMON_OPT_HTTP   = 256,
	DAEMON_OPT_IPC,
	DAEMON_OPT_CERT,
	DAEMON_OPT_KEY,
	DAEMON_OPT_CA,
	DAEMON_OPT_LOG,
};

/** The common options' entries, for a daemon's longopts table. */
#define DAEMON_LONGOPTS                                               \
	{ "listen", required_argument, NULL, DAEMON_OPT_LISTEN },     \
	    { "http", required_argument, NULL, DAEMON_OPT_HTTP },     \
	    { "ipc-mode", required_argument, NULL, DAEMON_OPT_IPC },  \
	    { "tls-cert", required_argument, NULL, DAEMON_OPT_CERT }, \
	    { "tls-key", required_argument, NULL, DAEMON_OPT_KEY },   \
	    { "tls-ca", required_argument, NULL, DAEMON_OPT_CA },     \
	{                                                             \
		"log-level", required_argument, NULL, DAEMON_OPT_LOG  \
	}

/** The common options' help, to end a daemon's usage text. */
#define DAEMON_USAGE                                                           \
	"  -l, --listen URL        ipc://, tcp:// or tls+tcp:// "              \
	"(repeatable)\n"                                                       \
	"      --http HOST:PORT    /healthz, /readyz, /metrics ('none': "      \
	"off)\n"                                                               \
	"      --ipc-mode MODE     ipc socket file mode, octal\n"              \
	"      --tls-cert FILE     server certificate (PEM)\n"                 \
	"      --tls-key FILE      its key (PEM)\n"                            \
	"      --tls-ca FILE       require client certificates from this CA\n" \
	"      --log-level LVL     debug, info, warn or error\n"               \
	"  -h, --help              show this help\n"

/** The options every daemon has. Start from daemon_opts_init(). */
typedef struct daemon_opts {
	const char     *prog;  // "prealloc-policyd", for messages
	const char     *event; // log event prefix: "policyd"
	const char     *listen[DAEMON_MAX_LISTEN];
	int             nlisten;
	const char     *default_listen;
	const char     *http; // NULL: no HTTP side
	rpc_server_opts rpc;
} daemon_opts;

/** Fill @p o with its defaults. Strings are borrowed. */
void daemon_opts_init(daemon_opts *o, const char *prog, const char *event,
    const char *default_listen, const char *default_http);

/**
 * Take common option @p ch (its argument in optarg).
 * @return 1 when @p ch is a common option, 0 when it is not.
 * Exits 2 through daemon_usage_error() for a bad value.
 */
int daemon_parse_opt(daemon_opts *o, int ch, const char *arg);

/** After parsing: no --listen means the default one. */
void daemon_opts_finish(daemon_opts *o);

/** Print "<prog>: <message>" and the --help hint to stderr, exit 2. */
void daemon_usage_error(const daemon_opts *o, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/**
 * Block SIGHUP, SIGTERM and SIGINT in this thread and every thread it
 * starts later, so that only sigwait() on @p set sees them; ignore SIGPIPE.
 * Call before any thread starts.
 */
void daemon_block_signals(sigset_t *set);

/**
 * Listen on every --listen URL and log "<event>.listening url=..." with
 * the address really bound.
 * @return PA_OK or rpc_server_listen()'s failure.
 */
int daemon_listen(rpc_server *srv, const daemon_opts *o, pa_err *err);

/**
 * Start the HTTP side when --http is not "none", and log
 * "<event>.http_listening addr=...".
 * @param[out] out  NULL when there is no HTTP side; else free with
 *                  httpd_free().
 * @return PA_OK or httpd_start()'s failure.
 */
int daemon_http(httpd **out, const daemon_opts *o, metrics *m,
    const httpd_hooks *hooks, pa_err *err);

/** Log "<event>.start_failed" and print the message on stderr. */
void daemon_start_failed(const daemon_opts *o, int rc, const pa_err *err);

#endif // PREALLOC_DAEMON_H
