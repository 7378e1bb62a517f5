// SPDX-License-Identifier: Apache-2.0
// httpd.h: a daemon's HTTP side: /healthz, /readyz and /metrics on
// libmicrohttpd, with a header timeout, an idle timeout and a connection
// cap, so that slow clients cannot take the descriptors the RPC side needs.
#ifndef PREALLOC_HTTPD_H
#define PREALLOC_HTTPD_H

#include <stddef.h>

#include "metrics.h"
#include "prealloc/status.h"

typedef struct httpd httpd;

/**
 * Tell whether the daemon is ready. Write a one-line reason into @p why
 * when it is not.
 * @return 1 when ready, 0 when not.
 */
typedef int (*httpd_ready_fn)(void *arg, char *why, size_t size);

/** What the daemon tells the HTTP side; any member may be NULL. */
typedef struct httpd_hooks {
	httpd_ready_fn ready;
	/** Called before each /metrics render, to set gauges read on demand. */
	void (*collect)(void *arg);
	void *arg;
} httpd_hooks;

#define HTTPD_DEFAULT_MAX_CONNS 64
#define HTTPD_DEFAULT_TIMEOUT_S 10

/** How much the HTTP side lets its clients hold. */
typedef struct httpd_opts {
	/**
	 * Connections open at once. One more is accepted and closed at
	 * once (counted as refused), so it never waits in the backlog.
	 */
	unsigned max_conns;
	/**
	 * Seconds a connection has to send a request's whole header, from
	 * when it is accepted or its last response was sent; and seconds a
	 * connection may stay silent while its response is sent.
	 */
	unsigned timeout_s;
} httpd_opts;

#define HTTPD_OPTS_INIT                               \
	{                                             \
		.max_conns = HTTPD_DEFAULT_MAX_CONNS, \
		.timeout_s = HTTPD_DEFAULT_TIMEOUT_S  \
	}

/**
 * Serve on @p hostport ("127.0.0.1:9660", "[::1]:9660"; port 0 picks one)
 * from a thread of its own: GET (or HEAD) /healthz is 200 while the
 * process answers; /readyz is 200 when the ready hook says so, else 503
 * with its reason; /metrics renders @p m after the collect hook. Another
 * method on these paths is 405, any other path 404. It registers its own
 * families in @p m: prealloc_http_connections,
 * prealloc_http_connections_refused_total, prealloc_http_max_connections,
 * prealloc_http_header_timeouts_total, prealloc_process_open_fds and
 * prealloc_process_max_fds.
 * @param[out] out  set only on PA_OK; free it with httpd_free().
 * @param opts   copied; NULL takes HTTPD_OPTS_INIT.
 * @param m      borrowed; it must outlive the server.
 * @param hooks  copied; what it points to must outlive the server.
 * @return PA_OK; PA_INVALID_ARGUMENT for a bad address or a zero option;
 *         PA_UNAVAILABLE when it cannot be bound; PA_RESOURCE_EXHAUSTED
 *         or PA_INTERNAL when the server cannot be made.
 */
int httpd_start(httpd **out, const char *hostport, const httpd_opts *opts,
    metrics *m, const httpd_hooks *hooks, pa_err *err);

/** The address really bound, "host:port". @return @p buf. */
const char *httpd_addr(char *buf, size_t size, httpd *h);

/**
 * Stop serving: close every connection, join the thread, free; NULL is a
 * no-op.
 */
void httpd_free(httpd *h);

#endif // PREALLOC_HTTPD_H
