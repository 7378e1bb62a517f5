// SPDX-License-Identifier: Apache-2.0
// httpd.c: health, readiness and metrics over libmicrohttpd, driven by one
// thread of ours that accepts, enforces the cap and the header deadline,
// and runs libmicrohttpd's epoll set.
//
// We accept ourselves (MHD_USE_NO_LISTEN_SOCKET) because libmicrohttpd at
// its limit stops accepting, and the kernel then holds new clients in the
// backlog with nothing said; we close the one over the cap at once and
// count it. libmicrohttpd's own timeout is an idle one, which a client
// sending a byte now and then keeps alive; the header deadline is ours,
// enforced in the same thread that runs libmicrohttpd, so no descriptor
// can be closed under us.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "prealloc/util.h"

#define HTTPD_ACCEPT_BATCH 64      // accepts per turn, so MHD_run keeps up
#define HTTPD_BACKOFF_NS 100000000 // after EMFILE, retry accept in 100 ms
#define HTTPD_MAX_WAIT_MS 1000     // wake at least this often

// One open connection. While it owes a header it waits in the httpd's
// queue; every deadline is "now + timeout" when set, so appending keeps
// the queue in deadline order and the loop looks at its head only.
typedef struct httpd_conn {
	struct httpd_conn *prev, *next; // in the queue, while queued
	bool               queued;
	int                fd;
	uint64_t           deadline_ns; // for the header it owes
	unsigned           requests;    // requests whose header arrived
} httpd_conn;

struct httpd {
	struct MHD_Daemon *mhd;
	metrics           *m;
	httpd_hooks        hooks;
	httpd_opts         opts;
	int                lfd;  // our listening socket
	int                wake; // eventfd: httpd_free() stops the loop
	pthread_t          thread;
	bool               started;
	httpd_conn        *head, *tail; // owing a header; loop thread only
	unsigned           nconns;
	uint64_t           backoff_until_ns;
	metrics_family    *f_conns;    // prealloc_http_connections
	metrics_family    *f_refused;  // ..._connections_refused_total
	metrics_family    *f_max;      // prealloc_http_max_connections
	metrics_family    *f_timeouts; // ..._header_timeouts_total
	metrics_family    *f_fds;      // prealloc_process_open_fds
	metrics_family    *f_max_fds;  // prealloc_process_max_fds
};

// ---- replies ----

// Queue @p status with a text body; an owned body is freed by the reply.
static enum MHD_Result
httpd_reply(struct MHD_Connection *c, unsigned status, const char *type,
    char *body, size_t len, bool owned, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result      rv = MHD_NO;

	if (owned)
		r = MHD_create_response_from_buffer_with_free_callback(
		    len, body, free);
	else
		r = MHD_create_response_from_buffer(
		    len, body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO; // libmicrohttpd closes the connection
	}
	if (MHD_add_response_header(r, "Content-Type", type) == MHD_YES &&
	    (allow == NULL ||
	        MHD_add_response_header(r, "Allow", allow) == MHD_YES))
		rv = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rv;
}

static enum MHD_Result
httpd_text(struct MHD_Connection *c, unsigned status, const char *body)
{
	return httpd_reply(
	    c, status, "text/plain", (char *) body, strlen(body), false, NULL);
}

static enum MHD_Result
httpd_healthz(httpd *h, struct MHD_Connection *c)
{
	(void) h;
	return httpd_text(c, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result
httpd_readyz(httpd *h, struct MHD_Connection *c)
{
	char why[512], *body;

	why[0] = '\0';
	if (h->hooks.ready == NULL ||
	    h->hooks.ready(h->hooks.arg, why, sizeof(why)))
		return httpd_text(c, MHD_HTTP_OK, "ok\n");
	if (asprintf(&body, "not ready: %s\n", why) < 0)
		return MHD_NO;
	return httpd_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", body,
	    strlen(body), true, NULL);
}

// Descriptors open now, less the one that reads the directory.
static int
httpd_open_fds(void)
{
	DIR           *d = opendir("/proc/self/fd");
	struct dirent *e;
	int            n = -1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
httpd_collect_fds(httpd *h)
{
	struct rlimit rl;
	int           n = httpd_open_fds();

	if (n >= 0)
		metrics_set(h->f_fds, "", n);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		metrics_set(h->f_max_fds, "", (double) rl.rlim_cur);
}

static enum MHD_Result
httpd_metrics(httpd *h, struct MHD_Connection *c)
{
	char *text = NULL;

	httpd_collect_fds(h);
	if (h->hooks.collect != NULL)
		h->hooks.collect(h->hooks.arg);
	if (metrics_render(&text, h->m, NULL) != PA_OK)
		return httpd_text(
		    c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return httpd_reply(c, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", text, strlen(text),
	    true, NULL);
}

typedef struct httpd_route {
	const char *path;
	enum MHD_Result (*fn)(httpd *h, struct MHD_Connection *c);
} httpd_route;

static const httpd_route httpd_routes[] = {
	{ "/healthz", httpd_healthz },
	{ "/readyz", httpd_readyz },
	{ "/metrics", httpd_metrics },
};

// The route for @p url; a trailing slash is ignored, as it was before.
static const httpd_route *
httpd_route_of(const char *url)
{
	size_t n = strlen(url);

	if (n > 1 && url[n - 1] == '/')
		n--;
	for (size_t i = 0; i < sizeof(httpd_routes) / sizeof(httpd_routes[0]);
	     i++)
		if (strlen(httpd_routes[i].path) == n &&
		    strncmp(httpd_routes[i].path, url, n) == 0)
			return &httpd_routes[i];
	return NULL;
}

static httpd_conn *
httpd_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

// ---- the header deadline ----

static void
httpd_dequeue(httpd *h, httpd_conn *hc)
{
	if (!hc->queued)
		return;
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		h->head = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	else
		h->tail = hc->prev;
	hc->prev = hc->next = NULL;
	hc->queued          = false;
}

// From now, @p hc owes a whole header within the timeout.
static void
httpd_enqueue(httpd *h, httpd_conn *hc)
{
	httpd_dequeue(h, hc);
	hc->deadline_ns =
	    pa_clock_ns() + (uint64_t) h->opts.timeout_s * 1000000000u;
	hc->prev = h->tail;
	if (h->tail != NULL)
		h->tail->next = hc;
	else
		h->head = hc;
	h->tail    = hc;
	hc->queued = true;
}

// libmicrohttpd calls this once a request's whole header has arrived,
// again for each piece of a body, and once more when the request is all
// in. GET and HEAD are answered then, so the connection can be kept
// alive; anything else at once, and libmicrohttpd closes the connection
// rather than read a body nobody wants.
static enum MHD_Result
httpd_on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	static const char  not_allowed[] = "method not allowed\n";
	static int         header_seen; // *req's mark: only its address
	httpd             *h = cls;
	httpd_conn        *hc;
	const httpd_route *r;

	if (*req == NULL) {
		if ((hc = httpd_conn_of(c)) != NULL) {
			httpd_dequeue(h, hc);
			hc->requests++;
		}
		*req = &header_seen;
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
			return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; // a GET's body is read and dropped
		return MHD_YES;
	}
	if ((r = httpd_route_of(url)) == NULL)
		return httpd_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    (char *) not_allowed, strlen(not_allowed), false,
		    "GET, HEAD");
	return r->fn(h, c);
}

// ---- connections ----

// A response was sent (or the request ended): the next header is due
// within the timeout too.
static void
httpd_on_done(void *cls, struct MHD_Connection *c, void **req,
    enum MHD_RequestTerminationCode toe)
{
	httpd_conn *hc = httpd_conn_of(c);

	if (hc != NULL)
		httpd_enqueue(cls, hc);
}

// A connection that never sent a whole header in time. One idle between
// kept-alive requests is closed the same way, but is no header timeout.
static bool
httpd_timed_out(const httpd_conn *hc, uint64_t now)
{
	return hc->requests == 0 && now >= hc->deadline_ns;
}

// Shut down each connection past its header deadline; libmicrohttpd sees
// the end of the stream and closes it in its next run.
static void
httpd_reap(httpd *h, uint64_t now)
{
	httpd_conn *hc;

	while ((hc = h->head) != NULL && now >= hc->deadline_ns) {
		httpd_dequeue(h, hc);
		if (httpd_timed_out(hc, now))
			metrics_add(h->f_timeouts, "", 1);
		shutdown(hc->fd, SHUT_RDWR);
	}
}

static void
httpd_conn_started(httpd *h, struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	httpd_conn *hc = calloc(1, sizeof(*hc));

	h->nconns++;
	metrics_set(h->f_conns, "", h->nconns);
	// Without memory for it, the connection has only the idle timeout.
	if (hc == NULL || ci == NULL) {
		free(hc);
		return;
	}
	hc->fd = ci->connect_fd;
	httpd_enqueue(h, hc);
	*ctx = hc;
}

static void
httpd_conn_closed(httpd *h, httpd_conn *hc)
{
	h->nconns--;
	metrics_set(h->f_conns, "", h->nconns);
	if (hc == NULL)
		return;
	// Still queued: libmicrohttpd's idle timer, as long as ours, won.
	if (hc->queued && httpd_timed_out(hc, pa_clock_ns()))
		metrics_add(h->f_timeouts, "", 1);
	httpd_dequeue(h, hc);
	free(hc);
}

static void
httpd_on_conn(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		httpd_conn_started(cls, c, ctx);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		httpd_conn_closed(cls, *ctx);
}

// Accept what is waiting: up to the cap into libmicrohttpd, past it
// closed at once, so a flood costs no descriptor for longer than that.
static void
httpd_accept(httpd *h)
{
	for (int i = 0; i < HTTPD_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t               len = sizeof(ss);
		struct linger           rst = { .l_onoff = 1, .l_linger = 0 };
		int fd = accept4(h->lfd, (struct sockaddr *) &ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				h->backoff_until_ns =
				    pa_clock_ns() + HTTPD_BACKOFF_NS;
			return; // EAGAIN: nothing more waits
		}
		if (h->nconns >= h->opts.max_conns) {
			// A reset, so the client knows at once.
			setsockopt(
			    fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
			close(fd);
			metrics_add(h->f_refused, "", 1);
			continue;
		}
		// On failure libmicrohttpd has closed it.
		if (MHD_add_connection(
		        h->mhd, fd, (struct sockaddr *) &ss, len) != MHD_YES)
			metrics_add(h->f_refused, "", 1);
	}
}

// How long the loop may sleep: libmicrohttpd's own timeout, the nearest
// header deadline, the accept back-off, and HTTPD_MAX_WAIT_MS at most.
static int
httpd_wait_ms(httpd *h, uint64_t now)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
	uint64_t               wait   = HTTPD_MAX_WAIT_MS * 1000000ull;

	if (MHD_get_timeout(h->mhd, &mhd_ms) == MHD_YES &&
	    mhd_ms * 1000000ull < wait)
		wait = mhd_ms * 1000000ull;
	if (h->head != NULL) {
		uint64_t left =
		    h->head->deadline_ns > now ? h->head->deadline_ns - now : 0;

		if (left < wait)
			wait = left;
	}
	if (h->backoff_until_ns > now && h->backoff_until_ns - now < wait)
		wait = h->backoff_until_ns - now;
	return (int) ((wait + 999999) / 1000000); // round up: no busy loop
}

static void *
httpd_loop(void *arg)
{
	httpd                      *h = arg;
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd p[3];

	p[0] = (struct pollfd) { .fd = h->wake, .events = POLLIN };
	p[1] = (struct pollfd) { .fd = di->epoll_fd, .events = POLLIN };
	p[2] = (struct pollfd) { .fd = h->lfd, .events = POLLIN };
	for (;;) {
		uint64_t now = pa_clock_ns();
		nfds_t   n   = now >= h->backoff_until_ns ? 3 : 2;

		p[2].revents = 0;
		if (poll(p, n, httpd_wait_ms(h, now)) < 0 && errno != EINTR &&
		    errno != ENOMEM)
			break;
		if (p[0].revents != 0)
			break;
		// Closes first, so that the slots they free take new ones.
		MHD_run(h->mhd);
		httpd_reap(h, pa_clock_ns());
		if (p[2].revents != 0)
			httpd_accept(h);
	}
	return NULL;
}

// ---- start and stop ----

// Split "host:port", "[v6]:port" or ":port" and resolve it numerically.
static int
httpd_resolve(struct sockaddr_storage *ss_out, socklen_t *len_out,
    const char *hostport, pa_err *err)
{
	struct addrinfo  hints = { .ai_socktype = SOCK_STREAM,
		 .ai_flags                      = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res   = NULL;
	char             host[256], *colon, *end = NULL;
	const char      *node = host;
	long             port;
	int              rv;

	if (snprintf(host, sizeof(host), "%s", hostport) >=
	        (int) sizeof(host) ||
	    (colon = strrchr(host, ':')) == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "HTTP address %s: want HOST:PORT", hostport);
	*colon = '\0';
	port   = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "HTTP address %s: bad port", hostport);
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		node      = host + 1;
	}
	if (node[0] == '\0')
		node = NULL; // every address
	if ((rv = getaddrinfo(node, colon + 1, &hints, &res)) != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "HTTP address %s: %s", hostport, gai_strerror(rv));
	memcpy(ss_out, res->ai_addr, res->ai_addrlen);
	*len_out = res->ai_addrlen;
	freeaddrinfo(res);
	return PA_OK;
}

static int
httpd_listen(httpd *h, const char *hostport, pa_err *err)
{
	struct sockaddr_storage ss;
	socklen_t               len = 0;
	int                     one = 1, rc;

	if ((rc = httpd_resolve(&ss, &len, hostport, err)) != PA_OK)
		return rc;
	h->lfd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0)
		return pa_err_errno(err, errno, "HTTP socket for %s", hostport);
	setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->lfd, (struct sockaddr *) &ss, len) != 0 ||
	    listen(h->lfd, SOMAXCONN) != 0)
		return pa_err_set(err, PA_UNAVAILABLE, "HTTP on %s: %s",
		    hostport, strerror(errno));
	return PA_OK;
}

static int
httpd_families(httpd *h, metrics *m, pa_err *err)
{
	h->f_conns = metrics_gauge(
	    m, "prealloc_http_connections", "HTTP connections open now", NULL);
	h->f_refused =
	    metrics_counter(m, "prealloc_http_connections_refused_total",
	        "HTTP connections closed at once because the cap was reached",
	        NULL);
	h->f_max = metrics_gauge(m, "prealloc_http_max_connections",
	    "The cap on HTTP connections open at once", NULL);
	h->f_timeouts =
	    metrics_counter(m, "prealloc_http_header_timeouts_total",
	        "HTTP connections closed because no whole request header "
	        "arrived within the timeout",
	        NULL);
	h->f_fds     = metrics_gauge(m, "prealloc_process_open_fds",
	        "File descriptors the process has open", NULL);
	h->f_max_fds = metrics_gauge(m, "prealloc_process_max_fds",
	    "The process's descriptor limit (RLIMIT_NOFILE, soft)", NULL);
	if (h->f_conns == NULL || h->f_refused == NULL || h->f_max == NULL ||
	    h->f_timeouts == NULL || h->f_fds == NULL || h->f_max_fds == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	// Present from the first render.
	metrics_set(h->f_max, "", h->opts.max_conns);
	metrics_add(h->f_conns, "", 0);
	metrics_add(h->f_refused, "", 0);
	metrics_add(h->f_timeouts, "", 0);
	return PA_OK;
}

static int
httpd_mhd(httpd *h, pa_err *err)
{
	// External polling with epoll: our loop thread runs it.
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0,
	    NULL, NULL, httpd_on_request, h, MHD_OPTION_CONNECTION_LIMIT,
	    h->opts.max_conns, MHD_OPTION_CONNECTION_TIMEOUT, h->opts.timeout_s,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_on_conn, h,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_on_done, h, MHD_OPTION_END);
	if (h->mhd == NULL)
		return pa_err_set(
		    err, PA_INTERNAL, "HTTP server: cannot start");
	if ((h->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return pa_err_errno(err, errno, "HTTP server wake-up");
	if (pthread_create(&h->thread, NULL, httpd_loop, h) != 0)
		return pa_err_set(
		    err, PA_RESOURCE_EXHAUSTED, "HTTP server: no thread");
	h->started = true;
	return PA_OK;
}

int
httpd_start(httpd **out, const char *hostport, const httpd_opts *opts,
    metrics *m, const httpd_hooks *hooks, pa_err *err)
{
	httpd_opts defaults = HTTPD_OPTS_INIT;
	httpd     *h        = NULL;
	int        rc       = PA_OK;

	if (opts == NULL)
		opts = &defaults;
	if (opts->max_conns == 0 || opts->timeout_s == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "HTTP max_conns and timeout_s must not be 0");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	h->lfd  = -1;
	h->wake = -1;
	h->m    = m;
	h->opts = *opts;
	if (hooks != NULL)
		h->hooks = *hooks;
	if ((rc = httpd_listen(h, hostport, err)) != PA_OK ||
	    (rc = httpd_families(h, m, err)) != PA_OK ||
	    (rc = httpd_mhd(h, err)) != PA_OK) {
		httpd_free(h);
		return rc;
	}
	*out = h;
	return PA_OK;
}

const char *
httpd_addr(char *buf, size_t size, httpd *h)
{
	struct sockaddr_storage ss;
	socklen_t               len                    = sizeof(ss);
	char                    host[INET6_ADDRSTRLEN] = "";

	buf[0] = '\0';
	if (getsockname(h->lfd, (struct sockaddr *) &ss, &len) != 0)
		return buf;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *) &ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	}
	return buf;
}

void
httpd_free(httpd *h)
{
	uint64_t one = 1;

	if (h == NULL)
		return;
	if (h->started) {
		if (write(h->wake, &one, sizeof(one)) != sizeof(one))
			abort(); // an eventfd write cannot fail here
		pthread_join(h->thread, NULL);
	}
	// Closes every connection; each one's close notice frees its record.
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->wake >= 0)
		close(h->wake);
	if (h->lfd >= 0)
		close(h->lfd);
	free(h);
}
