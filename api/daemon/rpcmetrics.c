// SPDX-License-Identifier: Apache-2.0
// rpcmetrics.c: count and time every answered RPC, and show the server's
// connections against its cap.
#include <stdio.h>
#include <string.h>

#include "rpcmetrics.h"

// Read at render time: the server counts, the registry only shows.
static void
rpcmetrics_collect(void *arg)
{
	rpcmetrics      *r  = arg;
	rpc_server_stats st = { 0 };

	if (r->srv == NULL)
		return;
	rpc_server_get_stats(&st, r->srv);
	metrics_set(r->conns, "", (double) st.conns);
	// A counter the server keeps; set, not added, at render.
	metrics_set(r->refused, "", (double) st.conns_refused);
	metrics_set(r->restarts, "", (double) st.listener_restarts);
	metrics_set(r->tls_reloads, "", (double) st.tls_reloads);
}

int
rpcmetrics_init(rpcmetrics *out, metrics *m, pa_err *err)
{
	// From 100 us (a resolve) to 10 s (a long poll).
	static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
		0.005, 0.01, 0.05, 0.25, 1, 10 };

	memset(out, 0, sizeof(*out));
	out->requests = metrics_counter(m, "prealloc_rpc_requests_total",
	    "RPC requests answered, by method and status code", "method,code");
	out->latency =
	    metrics_histogram(m, "prealloc_rpc_request_duration_seconds",
	        "Time from receiving an RPC to answering it", "method", bounds,
	        sizeof(bounds) / sizeof(bounds[0]));
	out->conns = metrics_gauge(
	    m, "prealloc_rpc_connections", "RPC connections open now", NULL);
	out->refused   = metrics_counter(m,
	      "prealloc_rpc_connections_refused_total",
	      "RPC connections closed at once because the cap was reached", NULL);
	out->max_conns = metrics_gauge(m, "prealloc_rpc_max_connections",
	    "The cap on RPC connections open at once (0: none)", NULL);
	out->restarts =
	    metrics_counter(m, "prealloc_rpc_listener_restarts_total",
	        "RPC listeners that stopped accepting and were started again",
	        NULL);
	out->tls_reloads = metrics_counter(m, "prealloc_rpc_tls_reloads_total",
	    "Renewed TLS certificates loaded by the tls+tcp:// listeners",
	    NULL);
	if (out->requests == NULL || out->latency == NULL ||
	    out->conns == NULL || out->refused == NULL ||
	    out->max_conns == NULL || out->restarts == NULL ||
	    out->tls_reloads == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	return metrics_collector(m, rpcmetrics_collect, out, err);
}

void
rpcmetrics_attach(rpcmetrics *r, rpc_server *srv, unsigned max_conns)
{
	r->srv = srv;
	metrics_set(r->max_conns, "", (double) max_conns);
	// Present from the first render, before anything connects.
	metrics_add(r->conns, "", 0);
	metrics_add(r->refused, "", 0);
	metrics_add(r->restarts, "", 0);
	metrics_add(r->tls_reloads, "", 0);
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
