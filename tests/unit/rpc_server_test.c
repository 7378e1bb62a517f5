// SPDX-License-Identifier: Apache-2.0
// rpc_server_test.c: dispatch, bad requests, deadlines and draining, over ipc.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "prealloc/v1/policy.pb-c.h"
#include "rpc_envelope.h"
#include "rpctest.h"
#include "testlib.h"

typedef struct fixture {
	char          *dir;
	rpctest_server srv;
	rpc_client    *cli;
	int            observed;
	int            observed_code;
} fixture;

static void
observe(void *arg, const char *method, int code, uint64_t ns)
{
	fixture *f = arg;

	__atomic_fetch_add(&f->observed, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&f->observed_code, code, __ATOMIC_RELAXED);
}

static int
fixture_start(fixture *f, size_t max_msg)
{
	rpc_server_opts opts  = RPC_SERVER_OPTS_INIT;
	rpc_client_opts copts = RPC_CLIENT_OPTS_INIT;
	char            url[512];

	opts.max_msg     = max_msg;
	opts.observe     = observe;
	opts.observe_arg = f;
	opts.ipc_mode    = 0600;
	copts.max_msg    = 8 * MiB; // let oversized requests reach the server
	rpctest_ipc_url(url, sizeof(url), f->dir, "srv");
	rpctest_start(&f->srv, url, &opts);
	assert_int_equal(
	    rpc_client_new(&f->cli, f->srv.url, &copts, NULL), PA_OK);
	// Let the connection finish: nng 1.5 can leak a pipe that is still
	// being accepted when its socket closes (a test that makes no call
	// would otherwise close mid-accept).
	while (rpc_client_connected(f->cli) == 0)
		usleep(1000);
	return 0;
}

static int
rpc_server_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("rpcsrv");
	fixture_start(f, RPC_DEFAULT_MAX_MSG);
	*state = f;
	return 0;
}

static int
rpc_server_teardown(void **state)
{
	fixture *f = *state;

	rpc_client_free(f->cli);
	rpctest_stop(&f->srv);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

// Send raw bytes as a request; return the answer's code and message.
static int
send_raw(fixture *f, const void *bytes, size_t len, uint32_t wait_ms,
    char *text, size_t text_size)
{
	nng_msg         *msg = NULL, *answer = NULL;
	rpc_response_pb *env = NULL;
	int              code;

	assert_int_equal(nng_msg_alloc(&msg, len), 0);
	if (len > 0)
		memcpy(nng_msg_body(msg), bytes, len);
	assert_int_equal(
	    rpc_client_call_msg(&answer, f->cli, msg, wait_ms, NULL), PA_OK);
	assert_int_equal(rpc_envelope_unpack_response(&env,
	                     nng_msg_body(answer), nng_msg_len(answer), NULL),
	    PA_OK);
	code = (int) env->code;
	snprintf(text, text_size, "%s", env->message);
	rpc_envelope_free(env);
	nng_msg_free(answer);
	return code;
}

// Send an envelope for the echo method with a raw payload and deadline.
static int
send_envelope(fixture *f, const char *method, const void *payload, size_t len,
    uint32_t deadline_ms, uint32_t wait_ms, char *text, size_t text_size)
{
	rpc_request_pb env = CDI__PREALLOC__V1__RPC_REQUEST__INIT;
	uint8_t       *buf;
	size_t         n;
	int            code;

	env.method       = (char *) method;
	env.request_id   = 5;
	env.deadline_ms  = deadline_ms;
	env.payload.data = (uint8_t *) payload;
	env.payload.len  = len;
	n                = protobuf_c_message_get_packed_size(&env.base);
	buf              = malloc(n);
	protobuf_c_message_pack(&env.base, buf);
	code = send_raw(f, buf, n, wait_ms, text, text_size);
	free(buf);
	return code;
}

static void
test_rpc_server__known_method_answers(void **state)
{
	fixture *f = *state;
	char     echo[64];

	assert_int_equal(
	    rpctest_echo(f->cli, "dv-1", "", 2000, echo, sizeof(echo), NULL),
	    PA_OK);
	assert_string_equal(echo, "dv-1");
	assert_int_equal(f->observed, 1);
	assert_int_equal(f->observed_code, PA_OK);
}

static void
test_rpc_server__unknown_method_is_unimplemented(void **state)
{
	fixture *f = *state;
	char     text[256];

	assert_int_equal(
	    send_envelope(f, "/cdi.prealloc.v1.PreallocationPolicy/Nope", NULL,
	        0, 0, 2000, text, sizeof(text)),
	    PA_UNIMPLEMENTED);
	assert_non_null(strstr(text, "Nope"));
}

static void
test_rpc_server__garbage_is_invalid_and_server_goes_on(void **state)
{
	fixture *f      = *state;
	char     junk[] = "\xff\xff\xff\xff\xff this is not protobuf";
	char     text[256], echo[64];

	assert_int_equal(
	    send_raw(f, junk, sizeof(junk), 2000, text, sizeof(text)),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(
	    rpctest_echo(f->cli, "after", "", 2000, echo, sizeof(echo), NULL),
	    PA_OK);
	assert_string_equal(echo, "after");
}

static void
test_rpc_server__empty_message_is_invalid(void **state)
{
	fixture *f = *state;
	char     text[256];

	assert_int_equal(send_raw(f, NULL, 0, 2000, text, sizeof(text)),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(text, "request names no method");
}

static void
test_rpc_server__undecodable_payload_is_invalid(void **state)
{
	fixture *f = *state;
	char     text[256];

	assert_int_equal(send_envelope(f, RPCTEST_ECHO, "\xff\xff\xff", 3, 0,
	                     2000, text, sizeof(text)),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(text, "ResolvePreallocationRequest"));
}

static void
test_rpc_server__oversized_message_is_refused(void **state)
{
	fixture *f   = *state;
	size_t   len = RPC_DEFAULT_MAX_MSG + 4096;
	char    *big = calloc(1, len);
	char     text[256], echo[64];

	assert_int_equal(send_envelope(f, RPCTEST_ECHO, big, len, 0, 5000, text,
	                     sizeof(text)),
	    PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(text, "exceeds"));
	free(big);
	assert_int_equal(
	    rpctest_echo(f->cli, "small", "", 2000, echo, sizeof(echo), NULL),
	    PA_OK);
}

static void
test_rpc_server__late_answer_past_deadline_is_deadline_exceeded(void **state)
{
	fixture                                       *f = *state;
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	uint8_t  buf[128];
	size_t   n;
	char     text[256];
	uint64_t t0 = testlib_now_ns(), ms;

	// The server's own deadline answers, while the client waits longer.
	req.storage_class = "sleep:600";
	n                 = protobuf_c_message_pack(&req.base, buf);
	assert_int_equal(send_envelope(f, RPCTEST_ECHO, buf, n, 100, 5000, text,
	                     sizeof(text)),
	    PA_DEADLINE_EXCEEDED);
	ms = (testlib_now_ns() - t0) / 1000000;
	assert_true(ms >= 90 && ms < 550);
	assert_int_equal(f->observed_code, PA_DEADLINE_EXCEEDED);
}

static void
test_rpc_server__late_answer_within_deadline_is_ok(void **state)
{
	fixture *f = *state;
	char     echo[64];

	assert_int_equal(rpctest_echo(f->cli, "late", "sleep:150", 3000, echo,
	                     sizeof(echo), NULL),
	    PA_OK);
	assert_string_equal(echo, "late");
}

static void
test_rpc_server__handler_status_reaches_client(void **state)
{
	fixture *f   = *state;
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(
	    rpctest_echo(f->cli, "x", "fail:9", 2000, NULL, 0, &err),
	    PA_FAILED_PRECONDITION);
	assert_string_equal(err.msg, "asked to fail");
}

typedef struct slow_call {
	fixture *f;
	int      rc;
} slow_call;

static void *
call_slowly(void *arg)
{
	slow_call *s = arg;

	s->rc =
	    rpctest_echo(s->f->cli, "slow", "sleep:300", 5000, NULL, 0, NULL);
	return NULL;
}

static void
test_rpc_server__stop_drains_calls_in_flight(void **state)
{
	fixture  *f = *state;
	slow_call s = { f, -1 };
	pthread_t th;

	pthread_create(&th, NULL, call_slowly, &s);
	while (__atomic_load_n(&f->srv.answered, __ATOMIC_RELAXED) == 0 &&
	    f->observed == 0 && rpc_client_connected(f->cli) == 0)
		usleep(1000);
	usleep(100 * 1000); // the call is now in its handler
	assert_int_equal(rpc_server_stop(f->srv.srv, 3000), PA_OK);
	pthread_join(th, NULL);
	assert_int_equal(s.rc, PA_OK);
}

static void
test_rpc_server__bind_refuses_unknown_and_twice(void **state)
{
	rpc_server *s = NULL;
	pa_err      err;

	assert_int_equal(rpc_server_new(&s, NULL, NULL), PA_OK);
	assert_int_equal(
	    rpc_server_bind(s,
	        &cdi__prealloc__v1__preallocation_policy__descriptor, "Nope",
	        NULL, NULL, &err),
	    PA_NOT_FOUND);
	assert_int_equal(
	    rpc_server_bind(s,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "GetConfig", NULL, NULL, NULL),
	    PA_OK);
	assert_int_equal(
	    rpc_server_bind(s,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "GetConfig", NULL, NULL, NULL),
	    PA_ALREADY_EXISTS);
	assert_int_equal(
	    rpc_server_listen(s, "bogus://x", &err), PA_INVALID_ARGUMENT);
	// A taken tcp address. (Not the fixture's ipc path: nng probes a
	// live ipc socket by connecting to it, which this test need not do.)
	{
		rpc_server *other = NULL;
		char        url[128];

		assert_int_equal(rpc_server_new(&other, NULL, NULL), PA_OK);
		assert_int_equal(
		    rpc_server_listen(other, "tcp://127.0.0.1:0", NULL), PA_OK);
		assert_int_equal(
		    rpc_server_url(url, sizeof(url), other, 0, NULL), PA_OK);
		assert_int_equal(
		    rpc_server_listen(s, url, &err), PA_UNAVAILABLE);
		rpc_server_free(other);
	}
	rpc_server_free(s);
	rpc_server_free(NULL);
}

static void
test_rpc_server__ipc_socket_mode_is_set(void **state)
{
	fixture    *f = *state;
	struct stat st;
	char        path[512];

	snprintf(path, sizeof(path), "%s/srv.sock", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

// Listen on ipc://@p path with @p opts in a fresh server, then free it.
static int
listen_ipc_once(const rpc_server_opts *opts, const char *path, pa_err *err)
{
	rpc_server *s = NULL;
	char        url[600];
	int         rc;

	snprintf(url, sizeof(url), "ipc://%s", path);
	assert_int_equal(rpc_server_new(&s, opts, NULL), PA_OK);
	rc = rpc_server_listen(s, url, err);
	rpc_server_free(s);
	return rc;
}

static void
test_rpc_server__default_ipc_mode_is_0660(void **state)
{
	fixture        *f    = *state;
	rpc_server_opts opts = RPC_SERVER_OPTS_INIT;
	rpc_server     *s    = NULL;
	struct stat     st;
	char            path[512], url[600];
	mode_t          old = umask(0);

	snprintf(path, sizeof(path), "%s/default.sock", f->dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	assert_int_equal(rpc_server_new(&s, &opts, NULL), PA_OK);
	assert_int_equal(rpc_server_listen(s, url, NULL), PA_OK);
	umask(old);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
	rpc_server_free(s);
	// nng removes its own socket when the listener closes.
	assert_int_equal(lstat(path, &st), -1);
}

static void
test_rpc_server__ipc_group_reaches_socket_and_new_directory(void **state)
{
	fixture        *f    = *state;
	rpc_server_opts opts = RPC_SERVER_OPTS_INIT;
	rpc_server     *s    = NULL;
	struct stat     st;
	char            dir[512], path[600], url[700];

	if (geteuid() != 0)
		skip(); // only root may give a file a group it is not in
	opts.ipc_gid  = 4242;
	opts.ipc_mode = 0640;
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	snprintf(path, sizeof(path), "%s/grp.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	assert_int_equal(rpc_server_new(&s, &opts, NULL), PA_OK);
	assert_int_equal(rpc_server_listen(s, url, NULL), PA_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_gid, 4242);
	assert_int_equal(lstat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_gid, 4242);
	rpc_server_free(s);
}

static void
test_rpc_server__ipc_directory_of_another_user_is_refused(void **state)
{
	fixture *f = *state;
	char     dir[512], path[600], want[700];
	pa_err   err = PA_ERR_INIT;

	if (geteuid() != 0)
		skip(); // making a directory another user's takes root
	snprintf(dir, sizeof(dir), "%s/theirs", f->dir);
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chown(dir, 4242, 4242), 0);
	assert_int_equal(
	    listen_ipc_once(NULL, path, &err), PA_FAILED_PRECONDITION);
	snprintf(want, sizeof(want),
	    "ipc directory %s is owned by uid 4242, not by us (uid %u) or "
	    "root",
	    dir, (unsigned) geteuid());
	assert_string_equal(err.msg, want);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_rpc_server__ipc_directory_writable_by_others_needs_sticky(void **state)
{
	fixture *f = *state;
	char     dir[512], path[600];
	pa_err   err = PA_ERR_INIT;

	snprintf(dir, sizeof(dir), "%s/shared", f->dir);
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(
	    listen_ipc_once(NULL, path, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_non_null(strstr(err.msg, "(mode 0775)"));
	// As /tmp is: others may write, but not remove what is ours.
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(listen_ipc_once(NULL, path, &err), PA_OK);
}

static void
test_rpc_server__ipc_path_in_use_is_unavailable_and_keeps_answering(
    void **state)
{
	fixture    *f     = *state;
	rpc_client *fresh = NULL;
	char        path[512], want[600], echo[16];
	pa_err      err = PA_ERR_INIT;

	snprintf(path, sizeof(path), "%s/srv.sock", f->dir);
	assert_int_equal(listen_ipc_once(NULL, path, &err), PA_UNAVAILABLE);
	snprintf(want, sizeof(want), "another process listens on %s", path);
	assert_string_equal(err.msg, want);
	// The fixture's server still accepts connections and answers.
	assert_int_equal(rpc_client_new(&fresh, f->srv.url, NULL, NULL), PA_OK);
	assert_int_equal(
	    rpctest_echo(fresh, "again", "", 2000, echo, sizeof(echo), NULL),
	    PA_OK);
	assert_string_equal(echo, "again");
	rpc_client_free(fresh);
}

static void
test_rpc_server__bad_ipc_options_are_invalid(void **state)
{
	rpc_server_opts opts = RPC_SERVER_OPTS_INIT;
	rpc_server     *s    = NULL;
	pa_err          err  = PA_ERR_INIT;

	opts.ipc_mode = 04755;
	assert_int_equal(rpc_server_new(&s, &opts, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "ipc mode 4755 is not a permission mode (0 to 0777)");
	opts.ipc_mode = 0660;
	opts.ipc_gid  = -2;
	assert_int_equal(rpc_server_new(&s, &opts, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "ipc group -2 is not a group id");
	assert_null(s);
}

static void
test_rpc_server__stats_count_open_connections(void **state)
{
	fixture         *f     = *state;
	rpc_client      *other = NULL;
	rpc_server_stats st    = { 9, 9, 9, 9 };

	rpc_server_get_stats(&st, f->srv.srv);
	assert_int_equal(st.conns, 1); // the fixture's client
	assert_int_equal(st.conns_refused, 0);
	assert_int_equal(st.tls_reloads, 0);
	assert_int_equal(rpc_client_new(&other, f->srv.url, NULL, NULL), PA_OK);
	assert_int_equal(
	    rpctest_echo(other, "x", "", 2000, NULL, 0, NULL), PA_OK);
	rpc_server_get_stats(&st, f->srv.srv);
	assert_int_equal(st.conns, 2);
	rpc_client_free(other);
	for (int i = 0; i < 200 && st.conns != 1; i++) {
		usleep(10 * 1000); // nng reaps the closed pipe on its own time
		rpc_server_get_stats(&st, f->srv.srv);
	}
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.conns_refused, 0);
}

typedef struct blocked_call {
	fixture *f;
	unsigned ms;
	int      rc;
} blocked_call;

static void *
call_blocking(void *arg)
{
	blocked_call *b = arg;

	b->rc = rpctest_block(b->f->cli, b->ms, 5000, NULL);
	return NULL;
}

static void
test_rpc_server__blocking_handlers_leave_others_served(void **state)
{
	fixture     *f = *state;
	blocked_call b[8];
	pthread_t    th[8];
	uint64_t     t0;

	// More sleeping handlers than nng has callback threads: inline, they
	// would hold every one of them.
	for (int i = 0; i < 8; i++) {
		b[i] = (blocked_call) { f, 600, -1 };
		pthread_create(&th[i], NULL, call_blocking, &b[i]);
	}
	usleep(100 * 1000); // the handlers now sleep, or wait, on the pool
	t0 = testlib_now_ns();
	for (int i = 0; i < 20; i++)
		assert_int_equal(
		    rpctest_echo(f->cli, "quick", "", 2000, NULL, 0, NULL),
		    PA_OK);
	// Twenty quick calls are not held behind the 600 ms handlers.
	assert_true(testlib_now_ns() - t0 < 400 * 1000000ULL);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(b[i].rc, PA_OK);
	}
}

static void
test_rpc_server__blocking_handler_past_deadline(void **state)
{
	fixture *f   = *state;
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(
	    rpctest_block(f->cli, 500, 150, &err), PA_DEADLINE_EXCEEDED);
	usleep(450 * 1000); // the late answer is dropped, the server goes on
	assert_int_equal(rpctest_block(f->cli, 10, 2000, NULL), PA_OK);
}

#define T(name)                          \
	cmocka_unit_test_setup_teardown( \
	    name, rpc_server_setup, rpc_server_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rpc_server__known_method_answers),
		T(test_rpc_server__unknown_method_is_unimplemented),
		T(test_rpc_server__garbage_is_invalid_and_server_goes_on),
		T(test_rpc_server__empty_message_is_invalid),
		T(test_rpc_server__undecodable_payload_is_invalid),
		T(test_rpc_server__oversized_message_is_refused),
		T(test_rpc_server__late_answer_past_deadline_is_deadline_exceeded),
		T(test_rpc_server__late_answer_within_deadline_is_ok),
		T(test_rpc_server__handler_status_reaches_client),
		T(test_rpc_server__stop_drains_calls_in_flight),
		T(test_rpc_server__blocking_handlers_leave_others_served),
		T(test_rpc_server__blocking_handler_past_deadline),
		T(test_rpc_server__bind_refuses_unknown_and_twice),
		T(test_rpc_server__ipc_socket_mode_is_set),
		T(test_rpc_server__default_ipc_mode_is_0660),
		T(test_rpc_server__ipc_group_reaches_socket_and_new_directory),
		T(test_rpc_server__ipc_directory_of_another_user_is_refused),
		T(test_rpc_server__ipc_directory_writable_by_others_needs_sticky),
		T(test_rpc_server__ipc_path_in_use_is_unavailable_and_keeps_answering),
		T(test_rpc_server__bad_ipc_options_are_invalid),
		T(test_rpc_server__stats_count_open_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
