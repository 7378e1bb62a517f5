// SPDX-License-Identifier: Apache-2.0
// daemon.h: what both daemons' thin mains share: the common options, signal
// set-up, listening, and the HTTP side.
#ifndef PREALLOC_DAEMON_H
#define PREALLOC_DAEMON_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "fdbudget.h"
#include "httpd.h"
#include "metrics.h"
#include "prealloc/status.h"
#include "rpc_server.h"

#define DAEMON_MAX_LISTEN 8

/** The largest --max-conns and --http-max-conns. */
#define DAEMON_MAX_CAP 1048576u
/** The largest --http-timeout, in seconds. */
#define DAEMON_MAX_HTTP_TIMEOUT_S 3600u

// getopt_long values of the common options (above any short option).
enum {
	DAEMON_OPT_LISTEN = 'l',
	DAEMON_OPT_HTTP   = 256,
	DAEMON_OPT_IPC,
	DAEMON_OPT_CERT,
	DAEMON_OPT_KEY,
	DAEMON_OPT_CA,
	DAEMON_OPT_LOG,
	DAEMON_OPT_MAX_CONNS,
	DAEMON_OPT_HTTP_MAX_CONNS,
	DAEMON_OPT_HTTP_TIMEOUT,
	DAEMON_OPT_IPC_GROUP,
};

/** The common options' entries, for a daemon's longopts table. */
#define DAEMON_LONGOPTS                                                     \
	{ "listen", required_argument, NULL, DAEMON_OPT_LISTEN },           \
	    { "http", required_argument, NULL, DAEMON_OPT_HTTP },           \
	    { "ipc-mode", required_argument, NULL, DAEMON_OPT_IPC },        \
	    { "ipc-group", required_argument, NULL, DAEMON_OPT_IPC_GROUP }, \
	    { "max-conns", required_argument, NULL, DAEMON_OPT_MAX_CONNS }, \
	    { "http-max-conns", required_argument, NULL,                    \
		    DAEMON_OPT_HTTP_MAX_CONNS },                            \
	    { "http-timeout", required_argument, NULL,                      \
		    DAEMON_OPT_HTTP_TIMEOUT },                              \
	    { "tls-cert", required_argument, NULL, DAEMON_OPT_CERT },       \
	    { "tls-key", required_argument, NULL, DAEMON_OPT_KEY },         \
	    { "tls-ca", required_argument, NULL, DAEMON_OPT_CA },           \
	{                                                                   \
		"log-level", required_argument, NULL, DAEMON_OPT_LOG        \
	}

/** The common options' help, to end a daemon's usage text. */
#define DAEMON_USAGE                                                           \
	"  -l, --listen URL        ipc://, tcp:// or tls+tcp:// "              \
	"(repeatable)\n"                                                       \
	"      --http HOST:PORT    /healthz, /readyz, /metrics ('none': "      \
	"off)\n"                                                               \
	"      --ipc-mode MODE     ipc socket file mode, octal\n"              \
	"      --ipc-group GROUP   ipc socket file group, a name or a gid\n"   \
	"      --max-conns N       RPC connections open at once (default "     \
	"1024)\n"                                                              \
	"      --http-max-conns N  HTTP connections open at once (default "    \
	"64)\n"                                                                \
	"      --http-timeout SECS seconds an HTTP client has to send a "      \
	"request's\n"                                                          \
	"                          header, and may stay idle (default 10)\n"   \
	"      --tls-cert FILE     server certificate (PEM)\n"                 \
	"      --tls-key FILE      its key (PEM)\n"                            \
	"      --tls-ca FILE       require client certificates from this CA\n" \
	"      --log-level LVL     debug, info, warn or error\n"               \
	"  -h, --help              show this help\n\n"                         \
	"At start the descriptor limit is raised to its hard limit; the two\n" \
	"caps plus 64 descriptors kept back must fit in it. Defaults shrink\n" \
	"to fit; caps given that do not fit are refused.\n"

/** The options every daemon has. Start from daemon_opts_init(). */
typedef struct daemon_opts {
	const char     *prog;  // "prealloc-policyd", for messages
	const char     *event; // log event prefix: "policyd"
	const char     *listen[DAEMON_MAX_LISTEN];
	int             nlisten;
	const char     *default_listen;
	const char     *http;      // NULL: no HTTP side
	httpd_opts      http_opts; // max_conns 0 until daemon_opts_finish()
	rpc_server_opts rpc;       // max_conns 0 until daemon_opts_finish()
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

/**
 * After parsing: no --listen means the default one. Raise the soft
 * RLIMIT_NOFILE to the hard one, fill rpc.max_conns and
 * http_opts.max_conns with fdbudget_fit(), and log
 * "<event>.limits nofile=... max_conns=... http_max_conns=...
 * http_timeout_s=...". Exits 2 through daemon_usage_error() when the caps
 * given do not fit, 1 when the limit fits no connection at all.
 */
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
 * the address really bound. When the server's observer is
 * rpcmetrics_observe(), attach its rpcmetrics to @p srv, so that /metrics
 * shows the server's connections and cap.
 * @return PA_OK or rpc_server_listen()'s failure.
 */
int daemon_listen(rpc_server *srv, const daemon_opts *o, pa_err *err);

/**
 * Start the HTTP side when --http is not "none", with the HTTP cap and
 * timeout of @p o, and log "<event>.http_listening addr=...".
 * @param[out] out  NULL when there is no HTTP side; else free with
 *                  httpd_free().
 * @return PA_OK or httpd_start()'s failure.
 */
int daemon_http(httpd **out, const daemon_opts *o, metrics *m,
    const httpd_hooks *hooks, pa_err *err);

/** Log "<event>.start_failed" and print the message on stderr. */
void daemon_start_failed(const daemon_opts *o, int rc, const pa_err *err);

#endif // PREALLOC_DAEMON_H
