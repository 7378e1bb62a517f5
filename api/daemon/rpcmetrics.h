// SPDX-License-Identifier: Apache-2.0
// rpcmetrics.h: RPC requests by method and code, their latency, and the
// server's connections against its cap, for both daemons.
#ifndef PREALLOC_RPCMETRICS_H
#define PREALLOC_RPCMETRICS_H

#include <stdint.h>

#include "metrics.h"
#include "rpc_server.h"

typedef struct rpcmetrics {
	metrics_family *requests; // prealloc_rpc_requests_total{method,code}
	metrics_family
	    *latency;          // prealloc_rpc_request_duration_seconds{method}
	metrics_family *conns; // prealloc_rpc_connections
	metrics_family *refused;     // prealloc_rpc_connections_refused_total
	metrics_family *restarts;    // prealloc_rpc_listener_restarts_total
	metrics_family *tls_reloads; // prealloc_rpc_tls_reloads_total
	metrics_family *max_conns;   // prealloc_rpc_max_connections
	rpc_server     *srv;         // set by rpcmetrics_attach(); borrowed
} rpcmetrics;

/**
 * Register the families in @p m, and a collector that reads the attached
 * server's connection figures at each render.
 * @param out  must stay where it is for the registry's life.
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int rpcmetrics_init(rpcmetrics *out, metrics *m, pa_err *err);

/**
 * Read @p srv's connection figures at each render from now on, and show
 * @p max_conns (0: no cap) as prealloc_rpc_max_connections.
 * @param srv  borrowed; stop rendering (free the HTTP side) before freeing
 *             it.
 */
void rpcmetrics_attach(rpcmetrics *r, rpc_server *srv, unsigned max_conns);

/**
 * An rpc_server_opts.observe callback: @p arg is the rpcmetrics. The method
 * label is the short name ("ResolvePreallocation").
 */
void rpcmetrics_observe(
    void *arg, const char *method, int code, uint64_t elapsed_ns);

#endif // PREALLOC_RPCMETRICS_H
