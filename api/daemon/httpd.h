// SPDX-License-Identifier: Apache-2.0
// httpd.h: a daemon's HTTP side: /healthz, /readyz and /metrics on nng's
// server.
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

/**
 * Serve on @p hostport ("127.0.0.1:9660"; port 0 picks one):
 * GET /healthz is 200 while the process answers; GET /readyz is 200 when
 * the ready hook says so, else 503 with its reason; GET /metrics renders
 * @p m after the collect hook.
 * @param[out] out  set only on PA_OK; free it with httpd_free().
 * @param m      borrowed; it must outlive the server.
 * @param hooks  copied; what it points to must outlive the server.
 * @return PA_OK; PA_INVALID_ARGUMENT for a bad address; PA_UNAVAILABLE
 *         when it cannot be bound.
 */
int httpd_start(httpd **out, const char *hostport, metrics *m,
    const httpd_hooks *hooks, pa_err *err);

/** The address really bound, "host:port". @return @p buf. */
const char *httpd_addr(char *buf, size_t size, httpd *h);

/** Stop serving and free; NULL is a no-op. */
void httpd_free(httpd *h);

#endif // PREALLOC_HTTPD_H
