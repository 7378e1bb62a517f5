// SPDX-License-Identifier: Apache-2.0
// fdbudget.h: share the descriptor limit between the RPC and HTTP
// connection caps, so that no flood of clients can take the descriptors
// the rest of the daemon needs.
#ifndef PREALLOC_FDBUDGET_H
#define PREALLOC_FDBUDGET_H

#include <stdbool.h>

#include "httpd.h"
#include "prealloc/status.h"

/**
 * Descriptors kept back from the connection caps: the listeners, the
 * config file and its watch, running fills, logging and what nng and
 * libmicrohttpd open for themselves (a daemon at rest holds about 20).
 * DAEMON_USAGE says this number too.
 */
#define FDBUDGET_RESERVE 64
/** RPC connections open at once when none is asked for. */
#define FDBUDGET_DEFAULT_RPC_CONNS 1024
/** HTTP connections open at once when none is asked for. */
#define FDBUDGET_DEFAULT_HTTP_CONNS HTTPD_DEFAULT_MAX_CONNS

/** Connection caps that fit a descriptor limit. */
typedef struct fdbudget {
	unsigned long nofile;         // the limit they fit in
	unsigned      rpc_max_conns;  // >= 1
	unsigned      http_max_conns; // >= 1; 0 when there is no HTTP side
} fdbudget;

/**
 * Choose caps so that rpc + http + FDBUDGET_RESERVE <= @p nofile. A cap
 * asked for (non-zero) is kept; one not asked for takes its default, or
 * what is left when less; when neither is asked for and both defaults do
 * not fit, both shrink in proportion.
 * @param[out] out  set only on PA_OK.
 * @param rpc      the RPC cap asked for, 0 for none.
 * @param http     the HTTP cap asked for, 0 for none.
 * @param http_on  false when there is no HTTP side (its cap is then 0).
 * @return PA_OK; PA_INVALID_ARGUMENT when the caps asked for do not fit
 *         (the message names the options and the numbers);
 *         PA_RESOURCE_EXHAUSTED when @p nofile leaves no room for even one
 *         connection of each.
 */
int fdbudget_fit(fdbudget *out, unsigned long nofile, unsigned rpc,
    unsigned http, bool http_on, pa_err *err);

/**
 * Raise the soft RLIMIT_NOFILE to the hard one, as systemd-era daemons do
 * (nothing in prealloc uses select(), so a limit past FD_SETSIZE is safe).
 * @param[out] was_out  the soft limit before.
 * @return the soft limit now in force.
 */
unsigned long fdbudget_raise_nofile(unsigned long *was_out);

#endif // PREALLOC_FDBUDGET_H
