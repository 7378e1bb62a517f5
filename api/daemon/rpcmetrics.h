// SPDX-License-Identifier: Apache-2.0
// rpcmetrics.h: RPC requests by method and code, and their latency, for both
// daemons.
#ifndef PREALLOC_RPCMETRICS_H
#define PREALLOC_RPCMETRICS_H

#include <stdint.h>

#include "metrics.h"

typedef struct rpcmetrics {
	metrics_family *requests; // prealloc_rpc_requests_total{method,code}
	metrics_family
	    *latency; // prealloc_rpc_request_duration_seconds{method}
} rpcmetrics;

/** Register the two families in @p m. @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int rpcmetrics_init(rpcmetrics *out, metrics *m, pa_err *err);

/**
 * An rpc_server_opts.observe callback: @p arg is the rpcmetrics. The method
 * label is the short name ("ResolvePreallocation").
 */
void rpcmetrics_observe(
    void *arg, const char *method, int code, uint64_t elapsed_ns);

#endif // PREALLOC_RPCMETRICS_H
