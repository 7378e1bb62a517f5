// SPDX-License-Identifier: Apache-2.0
// httpd_test.c: the HTTP side over real sockets: routes, methods, the header
// timeout, the connection cap and the figures /metrics shows of them.
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h" // tests/lib: testlib_http_get
#include "httpd.h"
#include "promtext.h"
#include "testlib.h"

typedef struct fixture {
	metrics *m;
	httpd   *h;
	char     addr[64];
	int      ready;     // what the ready hook answers
	int      collected; // collect hook calls
	int      held[8];   // connections a test holds open
	int      nheld;
} fixture;

static int
fixture_ready(void *arg, char *why, size_t size)
{
	fixture *f = arg;

	if (!f->ready)
		snprintf(why, size, "the test says wait");
	return f->ready;
}

static void
fixture_collect(void *arg)
{
	((fixture *) arg)->collected++;
}

static void
fixture_start(fixture *f, unsigned max_conns, unsigned timeout_s)
{
	httpd_opts  opts  = HTTPD_OPTS_INIT;
	httpd_hooks hooks = { fixture_ready, fixture_collect, f };
	pa_err      err   = PA_ERR_INIT;

	opts.max_conns = max_conns;
	opts.timeout_s = timeout_s;
	if (httpd_start(&f->h, "127.0.0.1:0", &opts, f->m, &hooks, &err) !=
	    PA_OK)
		fail_msg("httpd_start: %s", err.msg);
	httpd_addr(f->addr, sizeof(f->addr), f->h);
}

static int
httpd_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(metrics_new(&f->m, NULL), PA_OK);
	*state = f;
	return 0;
}

static int
httpd_teardown(void **state)
{
	fixture *f = *state;

	for (int i = 0; i < f->nheld; i++)
		close(f->held[i]);
	httpd_free(f->h);
	metrics_free(f->m);
	free(f);
	return 0;
}

// A connected socket to "127.0.0.1:port".
static int
dial(const char *addr)
{
	struct sockaddr_in sa    = { .sin_family = AF_INET };
	const char        *colon = strrchr(addr, ':');
	int                fd    = socket(AF_INET, SOCK_STREAM, 0);

	assert_non_null(colon);
	assert_true(fd >= 0);
	sa.sin_port        = htons((uint16_t) atoi(colon + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	return fd;
}

// Hold a connection that sent part of a request header, then nothing.
static int
hold_slow(fixture *f)
{
	static const char part[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int               fd     = dial(f->addr);

	// One over the cap may be reset before this: what is sent is moot.
	(void) send(fd, part, strlen(part), MSG_NOSIGNAL);
	assert_true(f->nheld < 8);
	f->held[f->nheld++] = fd;
	return fd;
}

// Read until the server closes or resets @p fd.
// @return ms waited, or -1 when still open after @p max_ms.
static int
wait_closed(int fd, int max_ms)
{
	uint64_t start = testlib_now_ns();
	char     buf[4096];

	for (;;) {
		int left =
		    max_ms - (int) ((testlib_now_ns() - start) / 1000000);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			return (int) ((testlib_now_ns() - start) / 1000000);
	}
}

// Send @p req whole on a fresh connection and read the answer to the end.
// @return the status; *resp (malloc'd) holds headers and body.
static int
request(const char *addr, const char *req, char **resp)
{
	int     fd = dial(addr), status = -1;
	size_t  len = 0, cap = 65536;
	char   *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(
	    send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t) strlen(req));
	while ((n = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += (size_t) n;
		if (len + 1 == cap)
			assert_non_null(buf = realloc(buf, cap *= 2));
	}
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	*resp = buf;
	return status;
}

static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b != NULL ? b + 4 : "";
}

// The value of @p series on /metrics now.
static double
scrape(fixture *f, const char *series)
{
	char  *body = NULL, why[256];
	double v    = -1;

	assert_int_equal(testlib_http_get(f->addr, "/metrics", &body), 200);
	if (promtext_check(why, sizeof(why), body) != 0)
		fail_msg("/metrics does not parse: %s", why);
	if (promtext_value(&v, body, series) != 0)
		fail_msg("/metrics has no %s", series);
	free(body);
	return v;
}

// Wait up to 1 s for @p series to reach @p want: a connection's close and
// its figures land in the server a moment after the client sees it.
static double
scrape_until(fixture *f, const char *series, double want)
{
	double v = scrape(f, series);

	for (int i = 0; i < 100 && v != want; i++) {
		usleep(10 * 1000);
		v = scrape(f, series);
	}
	return v;
}

static void
test_httpd__healthz_and_readyz_answer(void **state)
{
	fixture *f    = *state;
	char    *body = NULL;

	fixture_start(f, 8, 10);
	assert_int_equal(testlib_http_get(f->addr, "/healthz", &body), 200);
	assert_string_equal(body, "ok\n");
	free(body);
	assert_int_equal(testlib_http_get(f->addr, "/readyz", &body), 503);
	assert_string_equal(body, "not ready: the test says wait\n");
	free(body);
	f->ready = 1;
	assert_int_equal(testlib_http_get(f->addr, "/readyz", &body), 200);
	assert_string_equal(body, "ok\n");
	free(body);
	// A trailing slash and a query string reach the same route.
	assert_int_equal(testlib_http_get(f->addr, "/healthz/", &body), 200);
	free(body);
	assert_int_equal(testlib_http_get(f->addr, "/healthz?x=1", &body), 200);
	free(body);
}

static void
test_httpd__metrics_renders_after_collect(void **state)
{
	fixture *f    = *state;
	char    *resp = NULL;

	fixture_start(f, 8, 10);
	assert_int_equal(
	    request(f->addr, "GET /metrics HTTP/1.0\r\n\r\n", &resp), 200);
	assert_non_null(strstr(resp,
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(
	    strstr(body_of(resp), "prealloc_http_max_connections 8"));
	assert_int_equal(f->collected, 1);
	free(resp);
}

static void
test_httpd__unknown_path_is_404(void **state)
{
	fixture *f    = *state;
	char    *body = NULL;

	fixture_start(f, 8, 10);
	assert_int_equal(testlib_http_get(f->addr, "/", &body), 404);
	free(body);
	assert_int_equal(testlib_http_get(f->addr, "/healthzz", &body), 404);
	free(body);
	assert_int_equal(testlib_http_get(f->addr, "/metrics/x", &body), 404);
	free(body);
}

static void
test_httpd__other_methods_are_405(void **state)
{
	fixture *f    = *state;
	char    *resp = NULL;

	fixture_start(f, 8, 10);
	assert_int_equal(request(f->addr,
	                     "POST /healthz HTTP/1.1\r\nHost: x\r\n"
	                     "Content-Length: 4\r\n\r\nabcd",
	                     &resp),
	    405);
	assert_non_null(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
	free(resp);
	assert_int_equal(
	    request(f->addr, "DELETE /metrics HTTP/1.0\r\n\r\n", &resp), 405);
	free(resp);
	// HEAD is GET without the body.
	assert_int_equal(
	    request(f->addr, "HEAD /healthz HTTP/1.0\r\n\r\n", &resp), 200);
	assert_string_equal(body_of(resp), "");
	free(resp);
}

static void
test_httpd__keep_alive_serves_two_requests(void **state)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	fixture          *f     = *state;
	int               fd;
	char              buf[1024];

	fixture_start(f, 8, 10);
	fd = dial(f->addr);
	for (int i = 0; i < 2; i++) {
		ssize_t n;

		assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
		    (ssize_t) strlen(req));
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
		assert_non_null(strstr(buf, "\r\n\r\nok\n"));
	}
	close(fd);
}

static void
test_httpd__header_timeout_closes_a_silent_connection(void **state)
{
	fixture *f = *state;
	int      fd, ms;

	fixture_start(f, 8, 1);
	fd = hold_slow(f);
	ms = wait_closed(fd, 2000); // timeout + 1 s
	assert_true(ms >= 900);
	assert_true(ms >= 0 && ms <= 2000);
	assert_int_equal(
	    scrape_until(f, "prealloc_http_header_timeouts_total", 1), 1);
}

static void
test_httpd__header_timeout_closes_a_trickling_connection(void **state)
{
	fixture *f = *state;
	uint64_t start;
	int      fd, ms = -1;

	// A byte every 300 ms keeps an idle timer alive, not the deadline.
	fixture_start(f, 8, 1);
	start = testlib_now_ns();
	fd    = hold_slow(f);
	for (int i = 0; i < 7 && ms < 0; i++) {
		send(fd, "X", 1, MSG_NOSIGNAL);
		ms = wait_closed(fd, 300);
	}
	assert_true(ms >= 0);
	assert_true(testlib_now_ns() - start <= 2000 * 1000000ull);
	assert_int_equal(
	    scrape_until(f, "prealloc_http_header_timeouts_total", 1), 1);
}

static void
test_httpd__cap_refuses_the_next_connection(void **state)
{
	fixture *f    = *state;
	char    *body = NULL;
	int      extra, ms;

	fixture_start(f, 2, 30);
	hold_slow(f);
	hold_slow(f);
	usleep(100 * 1000); // let the server take both
	extra = hold_slow(f);
	// Closed at once, long before the 30 s timeout.
	ms = wait_closed(extra, 1000);
	assert_true(ms >= 0);
	// A slot freed is a slot served again.
	close(f->held[0]);
	f->held[0] = -1;
	usleep(100 * 1000);
	assert_int_equal(testlib_http_get(f->addr, "/healthz", &body), 200);
	free(body);
	assert_int_equal(
	    scrape(f, "prealloc_http_connections_refused_total"), 1);
	assert_int_equal(scrape(f, "prealloc_http_max_connections"), 2);
}

static void
test_httpd__metrics_count_open_connections(void **state)
{
	fixture *f = *state;

	fixture_start(f, 8, 30);
	// Only the scrape itself.
	assert_int_equal(scrape(f, "prealloc_http_connections"), 1);
	hold_slow(f);
	hold_slow(f);
	usleep(100 * 1000);
	assert_int_equal(scrape_until(f, "prealloc_http_connections", 3), 3);
	assert_true(scrape(f, "prealloc_process_open_fds") >= 3);
	assert_true(scrape(f, "prealloc_process_max_fds") >=
	    scrape(f, "prealloc_process_open_fds"));
	assert_int_equal(scrape(f, "prealloc_http_header_timeouts_total"), 0);
	assert_int_equal(
	    scrape(f, "prealloc_http_connections_refused_total"), 0);
}

static void
test_httpd__bad_options_are_invalid_argument(void **state)
{
	fixture   *f    = *state;
	httpd_opts opts = HTTPD_OPTS_INIT;
	httpd     *h    = NULL;
	pa_err     err  = PA_ERR_INIT;

	opts.max_conns = 0;
	assert_int_equal(
	    httpd_start(&h, "127.0.0.1:0", &opts, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	opts           = (httpd_opts) HTTPD_OPTS_INIT;
	opts.timeout_s = 0;
	assert_int_equal(
	    httpd_start(&h, "127.0.0.1:0", &opts, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(httpd_start(&h, "127.0.0.1", NULL, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(
	    httpd_start(&h, "127.0.0.1:99999", NULL, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(httpd_start(&h, "127.0.0.1:", NULL, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(
	    httpd_start(&h, "127.0.0.1:80x", NULL, f->m, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "127.0.0.1:80x"));
	assert_null(h);
}

static void
test_httpd__address_in_use_is_unavailable(void **state)
{
	fixture *f   = *state;
	httpd   *h   = NULL;
	pa_err   err = PA_ERR_INIT;

	fixture_start(f, 8, 10);
	assert_int_equal(
	    httpd_start(&h, f->addr, NULL, f->m, NULL, &err), PA_UNAVAILABLE);
	assert_null(h);
}

static void
test_httpd__ipv6_loopback_serves(void **state)
{
	fixture            *f   = *state;
	httpd              *h   = NULL;
	pa_err              err = PA_ERR_INIT;
	char                addr[64];
	int                 fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
		.sin6_addr                      = IN6ADDR_LOOPBACK_INIT };

	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		skip(); // no IPv6 loopback on this machine
	}
	close(fd);
	assert_int_equal(
	    httpd_start(&h, "[::1]:0", NULL, f->m, NULL, &err), PA_OK);
	httpd_addr(addr, sizeof(addr), h);
	assert_int_equal(strncmp(addr, "[::1]:", 6), 0);
	assert_true(atoi(addr + 6) > 0);
	httpd_free(h);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, httpd_setup, httpd_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_httpd__healthz_and_readyz_answer),
		T(test_httpd__metrics_renders_after_collect),
		T(test_httpd__unknown_path_is_404),
		T(test_httpd__other_methods_are_405),
		T(test_httpd__keep_alive_serves_two_requests),
		T(test_httpd__header_timeout_closes_a_silent_connection),
		T(test_httpd__header_timeout_closes_a_trickling_connection),
		T(test_httpd__cap_refuses_the_next_connection),
		T(test_httpd__metrics_count_open_connections),
		T(test_httpd__bad_options_are_invalid_argument),
		T(test_httpd__address_in_use_is_unavailable),
		T(test_httpd__ipv6_loopback_serves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
