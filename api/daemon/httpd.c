// SPDX-License-Identifier: Apache-2.0
// httpd.c: health, readiness and metrics over nng's HTTP server.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "httpd.h"

struct httpd {
	nng_http_server *srv;
	metrics         *m;
	httpd_hooks      hooks;
};

// Answer the request in @p aio with @p status and a text body.
static void
httpd_reply(nng_aio *aio, uint16_t status, const char *type, const char *body,
    size_t len)
{
	nng_http_res *res = NULL;

	if (nng_http_res_alloc(&res) != 0 ||
	    nng_http_res_set_status(res, status) != 0 ||
	    nng_http_res_set_header(res, "Content-Type", type) != 0 ||
	    nng_http_res_copy_data(res, body, len) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static httpd *
httpd_of(nng_aio *aio)
{
	return nng_http_handler_get_data(nng_aio_get_input(aio, 1));
}

static void
httpd_healthz(nng_aio *aio)
{
	httpd_reply(aio, 200, "text/plain", "ok\n", 3);
}

static void
httpd_readyz(nng_aio *aio)
{
	httpd *h = httpd_of(aio);
	char   why[512], body[600];

	why[0] = '\0';
	if (h->hooks.ready == NULL ||
	    h->hooks.ready(h->hooks.arg, why, sizeof(why))) {
		httpd_reply(aio, 200, "text/plain", "ok\n", 3);
		return;
	}
	snprintf(body, sizeof(body), "not ready: %s\n", why);
	httpd_reply(aio, 503, "text/plain", body, strlen(body));
}

static void
httpd_metrics(nng_aio *aio)
{
	httpd *h    = httpd_of(aio);
	char  *text = NULL;

	if (h->hooks.collect != NULL)
		h->hooks.collect(h->hooks.arg);
	if (metrics_render(&text, h->m, NULL) != PA_OK) {
		httpd_reply(aio, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	httpd_reply(aio, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    strlen(text));
	free(text);
}

static int
httpd_route(httpd *h, const char *path, void (*fn)(nng_aio *), pa_err *err)
{
	nng_http_handler *hh = NULL;
	int               rv;

	if ((rv = nng_http_handler_alloc(&hh, path, fn)) != 0 ||
	    (rv = nng_http_handler_set_method(hh, "GET")) != 0 ||
	    (rv = nng_http_handler_set_data(hh, h, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(h->srv, hh)) != 0) {
		if (hh != NULL)
			nng_http_handler_free(hh);
		return pa_err_set(err, PA_INTERNAL, "HTTP route %s: %s", path,
		    nng_strerror(rv));
	}
	return PA_OK;
}

int
httpd_start(httpd **out, const char *hostport, metrics *m,
    const httpd_hooks *hooks, pa_err *err)
{
	httpd   *h   = NULL;
	nng_url *url = NULL;
	char     text[300];
	int      rv, rc = PA_OK;

	snprintf(text, sizeof(text), "http://%s", hostport);
	if ((rv = nng_url_parse(&url, text)) != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "HTTP address %s: %s", hostport, nng_strerror(rv));
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	h->m = m;
	if (hooks != NULL)
		h->hooks = *hooks;
	if ((rv = nng_http_server_hold(&h->srv, url)) != 0) {
		rc = pa_err_set(err, PA_INVALID_ARGUMENT, "HTTP address %s: %s",
		    hostport, nng_strerror(rv));
		goto done;
	}
	if ((rc = httpd_route(h, "/healthz", httpd_healthz, err)) != PA_OK ||
	    (rc = httpd_route(h, "/readyz", httpd_readyz, err)) != PA_OK ||
	    (rc = httpd_route(h, "/metrics", httpd_metrics, err)) != PA_OK)
		goto done;
	if ((rv = nng_http_server_start(h->srv)) != 0)
		rc = pa_err_set(err, PA_UNAVAILABLE, "HTTP on %s: %s", hostport,
		    nng_strerror(rv));
done:
	nng_url_free(url);
	if (rc != PA_OK) {
		httpd_free(h);
		return rc;
	}
	*out = h;
	return PA_OK;
}

const char *
httpd_addr(char *buf, size_t size, httpd *h)
{
	nng_sockaddr sa;
	char         host[INET6_ADDRSTRLEN] = "";

	buf[0] = '\0';
	if (nng_http_server_get_addr(h->srv, &sa) != 0)
		return buf;
	if (sa.s_family == NNG_AF_INET) {
		inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sa.s_in.sa_port));
	} else if (sa.s_family == NNG_AF_INET6) {
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sa.s_in6.sa_port));
	}
	return buf;
}

void
httpd_free(httpd *h)
{
	if (h == NULL)
		return;
	if (h->srv != NULL) {
		nng_http_server_stop(h->srv);
		nng_http_server_release(h->srv);
	}
	free(h);
}
