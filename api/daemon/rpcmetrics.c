// SPDX-License-Identifier: Apache-2.0
// rpcmetrics.c: count and time every answered RPC.
#include <stdio.h>
#include <string.h>

#include "rpcmetrics.h"

int
rpcmetrics_init(rpcmetrics *out, metrics *m, pa_err *err)
{
	// From 100 us (a resolve) to 10 s (a long poll).
	static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
		0.005, 0.01, 0.05, 0.25, 1, 10 };

	out->requests = metrics_counter(m, "prealloc_rpc_requests_total",
	    "RPC requests answered, by method and status code", "method,code");
	out->latency =
	    metrics_histogram(m, "prealloc_rpc_request_duration_seconds",
	        "Time from receiving an RPC to answering it", "method", bounds,
	        sizeof(bounds) / sizeof(bounds[0]));
	if (out->requests == NULL || out->latency == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	return PA_OK;
}

void
rpcmetrics_observe(void *arg, const char *method, int code, uint64_t elapsed_ns)
{
	rpcmetrics *r     = arg;
	const char *slash = strrchr(method, '/');
	char        labels[200];

	if (slash != NULL)
		method = slash + 1;
	snprintf(labels, sizeof(labels), "%s,%s", method, pa_status_name(code));
	metrics_add(r->requests, labels, 1);
	metrics_observe(r->latency, method, (double) elapsed_ns / 1e9);
}
