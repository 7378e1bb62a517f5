// SPDX-License-Identifier: Apache-2.0
// client_test.c: libprealloc's client: retries on UNAVAILABLE only and only
// for calls safe to repeat, the retry budget, deadlines, many URLs, many
// threads, request ids, and waits that cancel.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prealloc/prealloc.h"
#include "prealloc/v1/agent.pb-c.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_server.h"
#include "rpctest.h"
#include "testlib.h"

typedef Cdi__Prealloc__V1__Job job_pb;

// A fake agent and ApplyConfig, counting what they are asked.
typedef struct fake {
	rpc_server     *srv;
	char            url[512];
	pthread_mutex_t mtx;
	int             applies, preallocs, gets, cancels, resolves;
	bool            resolve_ok; // ResolvePreallocation: else UNAVAILABLE
	int             fail_first; // PreallocateVolume: fail this many
	char            ids[2][64]; // the first two request ids seen
	int             mech;       // the jobs' mechanism_used
	const char     *mech_str;   // and their deprecated string
} fake;

typedef struct fixture {
	char *dir;
	char  url[512];  // the echo server's, when started
	char  dead[512]; // nothing listens there
	fake  fk;
} fixture;

static int
client_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("paclient");
	rpctest_ipc_url(f->url, sizeof(f->url), f->dir, "echo");
	rpctest_ipc_url(f->dead, sizeof(f->dead), f->dir, "dead");
	pthread_mutex_init(&f->fk.mtx, NULL);
	*state = f;
	return 0;
}

static int
client_teardown(void **state)
{
	fixture *f = *state;

	rpc_server_free(f->fk.srv);
	pthread_mutex_destroy(&f->fk.mtx);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
fake_apply(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fake *k = arg;

	pthread_mutex_lock(&k->mtx);
	k->applies++;
	pthread_mutex_unlock(&k->mtx);
	rpc_call_fail(call, PA_UNAVAILABLE, "store is reloading");
}

static void
fake_resolve(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fake                                           *k = arg;
	Cdi__Prealloc__V1__ResolvePreallocationResponse resp =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_RESPONSE__INIT;

	pthread_mutex_lock(&k->mtx);
	k->resolves++;
	pthread_mutex_unlock(&k->mtx);
	resp.preallocate = true;
	if (k->resolve_ok)
		rpc_call_reply(call, &resp.base);
	else
		rpc_call_fail(call, PA_UNAVAILABLE, "overloaded");
}

// Jobs run until cancelled, then end CANCELLED at the next GetJob.
static void
fake_reply_job(rpc_call *call, fake *k, const char *method)
{
	job_pb                            j = CDI__PREALLOC__V1__JOB__INIT;
	Cdi__Prealloc__V1__GetJobResponse resp =
	    CDI__PREALLOC__V1__GET_JOB_RESPONSE__INIT; // same shape for all

	j.id             = "job-7";
	j.request_id     = k->ids[0];
	j.state          = k->cancels > 0
	             ? CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_CANCELLED
	             : CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_RUNNING;
	j.bytes_done     = (uint64_t) k->gets * 10;
	j.bytes_total    = 1000;
	j.mechanism_used = (Cdi__Prealloc__V1__Mechanism) k->mech;
	if (k->mech_str != NULL)
		j.mechanism = (char *) k->mech_str;
	(void) method;
	resp.job = &j;
	rpc_call_reply(call, &resp.base);
}

static void
fake_preallocate(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Cdi__Prealloc__V1__PreallocateVolumeRequest *req =
	    (const Cdi__Prealloc__V1__PreallocateVolumeRequest *) msg;
	fake *k = arg;

	pthread_mutex_lock(&k->mtx);
	if (k->preallocs < 2)
		snprintf(k->ids[k->preallocs], sizeof(k->ids[0]), "%s",
		    req->request_id);
	if (k->preallocs++ < k->fail_first)
		rpc_call_fail(call, PA_UNAVAILABLE, "agent restarting");
	else
		fake_reply_job(call, k, "PreallocateVolume");
	pthread_mutex_unlock(&k->mtx);
}

static void
fake_get_job(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fake *k = arg;

	pthread_mutex_lock(&k->mtx);
	k->gets++;
	fake_reply_job(call, k, "GetJob");
	pthread_mutex_unlock(&k->mtx);
}

static void
fake_cancel(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fake *k = arg;

	pthread_mutex_lock(&k->mtx);
	k->cancels++;
	fake_reply_job(call, k, "CancelJob");
	pthread_mutex_unlock(&k->mtx);
}

static void
fake_start(fixture *f)
{
	fake                             *k   = &f->fk;
	pa_err                            err = PA_ERR_INIT;
	const ProtobufCServiceDescriptor *agent =
	    &cdi__prealloc__v1__preallocation_agent__descriptor;

	rpctest_ipc_url(k->url, sizeof(k->url), f->dir, "fake");
	if (rpc_server_new(&k->srv, NULL, &err) != PA_OK ||
	    rpc_server_bind(k->srv,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "ApplyConfig", fake_apply, k, &err) != PA_OK ||
	    rpc_server_bind(k->srv,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "ResolvePreallocation", fake_resolve, k, &err) != PA_OK ||
	    rpc_server_bind(k->srv, agent, "PreallocateVolume",
	        fake_preallocate, k, &err) != PA_OK ||
	    rpc_server_bind(k->srv, agent, "GetJob", fake_get_job, k, &err) ||
	    rpc_server_bind(k->srv, agent, "CancelJob", fake_cancel, k, &err) ||
	    rpc_server_listen(k->srv, k->url, &err) != PA_OK ||
	    rpc_server_start(k->srv, &err) != PA_OK)
		fail_msg("fake server: %s", err.msg);
}

static pa_client *
new_client(const char *policy, const char *agent, uint32_t connect_ms,
    unsigned retries, uint32_t backoff_ms, uint32_t deadline_ms)
{
	pa_client_opts opts = PA_CLIENT_OPTS_INIT;
	pa_client     *c    = NULL;
	pa_err         err  = PA_ERR_INIT;

	opts.policy_urls = policy;
	opts.agent_urls  = agent;
	opts.connect_ms  = connect_ms;
	opts.max_retries = retries;
	opts.backoff_ms  = backoff_ms;
	opts.deadline_ms = deadline_ms;
	if (pa_client_new(&c, &opts, &err) != PA_OK)
		fail_msg("pa_client_new: %s", err.msg);
	return c;
}

// pa_resolve through the echo server: it answers decided_by = the name,
// and the storage class steers it ("fail:C", "sleep:N").
static int
resolve(pa_client *c, const char *name, const char *sc, char *echo, size_t size,
    pa_err *err)
{
	pa_volume    vol = { name, NULL, PA_TRUE, sc };
	pa_decision *d   = NULL;
	int          rc  = pa_resolve(&d, c, &vol, err);

	if (rc == PA_OK && echo != NULL)
		snprintf(echo, size, "%s", d->decided_by);
	if (rc == PA_OK)
		assert_true(d->preallocate);
	pa_decision_free(d);
	return rc;
}

typedef struct late_start {
	rpctest_server *s;
	const char     *url;
} late_start;

static void *
start_later(void *arg)
{
	late_start *l = arg;

	usleep(300 * 1000);
	rpctest_start(l->s, l->url, NULL);
	return NULL;
}

static void
test_client__daemon_that_appears_later_is_reached(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	late_start     l = { &s, f->url };
	pthread_t      th;
	pa_client     *c   = new_client(f->url, NULL, 100, 20, 50, 5000);
	pa_err         err = PA_ERR_INIT;
	char           echo[32];
	uint64_t       t0 = testlib_now_ns(), ms;

	pthread_create(&th, NULL, start_later, &l);
	if (resolve(c, "late", "", echo, sizeof(echo), &err) != PA_OK)
		fail_msg("resolve: %s", err.msg);
	ms = (testlib_now_ns() - t0) / 1000000;
	assert_string_equal(echo, "late");
	assert_true(ms >= 250 && ms < 5000);
	pthread_join(th, NULL);
	pa_client_free(c);
	rpctest_stop(&s);
}

static void
test_client__without_retries_nothing_there_is_unavailable(void **state)
{
	fixture   *f   = *state;
	pa_client *c   = new_client(f->dead, NULL, 100, 0, 50, 5000);
	pa_err     err = PA_ERR_INIT;
	uint64_t   t0  = testlib_now_ns();

	assert_int_equal(resolve(c, "x", "", NULL, 0, &err), PA_UNAVAILABLE);
	assert_true(testlib_now_ns() - t0 < 1000 * 1000000ULL);
	assert_non_null(strstr(err.msg, f->dead));
	assert_null(strstr(err.msg, "attempts"));
	pa_client_free(c);
}

static void
test_client__only_unavailable_is_retried(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	pa_client     *c;
	pa_err         err = PA_ERR_INIT;

	rpctest_start(&s, f->url, NULL);
	c = new_client(s.url, NULL, 1000, 3, 1, 5000);
	assert_int_equal(
	    resolve(c, "x", "fail:3", NULL, 0, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(s.answered, 0); // failures are not "answered"
	assert_string_equal(err.msg, "asked to fail");
	assert_int_equal(
	    resolve(c, "x", "fail:14", NULL, 0, &err), PA_UNAVAILABLE);
	assert_string_equal(err.msg, "asked to fail (after 4 attempts)");
	assert_int_equal(
	    resolve(c, "x", "fail:4", NULL, 0, &err), PA_DEADLINE_EXCEEDED);
	assert_null(strstr(err.msg, "attempts"));
	pa_client_free(c);
	rpctest_stop(&s);
}

static void
test_client__apply_config_is_never_retried(void **state)
{
	fixture   *f = *state;
	pa_client *c;
	pa_err     err = PA_ERR_INIT;
	uint64_t   gen = 99, t0;

	fake_start(f);
	c = new_client(f->fk.url, NULL, 1000, 5, 1, 5000);
	assert_int_equal(
	    pa_apply_config(&gen, c, "kind: CDIConfig\n", 0, false, &err),
	    PA_UNAVAILABLE);
	assert_int_equal(f->fk.applies, 1);
	assert_int_equal(gen, 99);
	assert_string_equal(err.msg, "store is reloading");
	pa_client_free(c);
	// Nor when nothing listens: one attempt, one connect wait.
	c  = new_client(f->dead, NULL, 100, 5, 300, 5000);
	t0 = testlib_now_ns();
	assert_int_equal(
	    pa_apply_config(NULL, c, "x", 0, false, &err), PA_UNAVAILABLE);
	assert_true(testlib_now_ns() - t0 < 300 * 1000000ULL);
	pa_client_free(c);
}

static void
test_client__retry_budget_is_bounded(void **state)
{
	fixture   *f = *state;
	pa_client *c;
	int        want[] = { 5, 5, 3, 1, 1 }, before;

	fake_start(f);
	c = new_client(f->fk.url, NULL, 1000, 4, 1, 5000);
	// The bucket holds 10 retries: 4 + 4 + 2, then none at all.
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		before = f->fk.resolves;
		assert_int_equal(
		    resolve(c, "x", "", NULL, 0, NULL), PA_UNAVAILABLE);
		assert_int_equal(f->fk.resolves - before, want[i]);
	}
	// Ten successes earn one retry back.
	f->fk.resolve_ok = true;
	for (int i = 0; i < 10; i++)
		assert_int_equal(resolve(c, "x", "", NULL, 0, NULL), PA_OK);
	f->fk.resolve_ok = false;
	before           = f->fk.resolves;
	assert_int_equal(resolve(c, "x", "", NULL, 0, NULL), PA_UNAVAILABLE);
	assert_int_equal(f->fk.resolves - before, 2);
	pa_client_free(c);
}

static void
test_client__deadline_bounds_the_retries(void **state)
{
	fixture   *f   = *state;
	pa_client *c   = new_client(f->dead, NULL, 50, 100, 300, 700);
	pa_err     err = PA_ERR_INIT;
	uint64_t   t0  = testlib_now_ns(), ms;

	assert_int_equal(resolve(c, "x", "", NULL, 0, &err), PA_UNAVAILABLE);
	ms = (testlib_now_ns() - t0) / 1000000;
	assert_true(ms >= 200 && ms <= 1200);
	assert_non_null(strstr(err.msg, "attempts)"));
	pa_client_free(c);
}

static void
test_client__one_dead_url_of_many_is_survived(void **state)
{
	fixture       *f = *state;
	rpctest_server a, b;
	pa_client     *c;
	char           urls[2048], url_b[512];

	rpctest_ipc_url(url_b, sizeof(url_b), f->dir, "b");
	rpctest_start(&a, f->url, NULL);
	rpctest_start(&b, url_b, NULL);
	snprintf(urls, sizeof(urls), "%s,%s,%s", f->dead, a.url, b.url);
	c = new_client(urls, NULL, 1000, 4, 20, 5000);
	for (int i = 0; i < 100; i++)
		assert_int_equal(resolve(c, "x", "", NULL, 0, NULL), PA_OK);
	// One of the live two goes away; calls go on.
	rpctest_stop(&a);
	for (int i = 0; i < 100; i++)
		assert_int_equal(resolve(c, "y", "", NULL, 0, NULL), PA_OK);
	assert_true(b.answered >= 100);
	pa_client_free(c);
	rpctest_stop(&b);
}

#define THREADS 8
#define CALLS 200

typedef struct worker {
	pa_client *c;
	int        id, matched, failed;
} worker;

static void *
worker_run(void *arg)
{
	worker *w = arg;
	char    sent[32], echo[32];

	for (int i = 0; i < CALLS; i++) {
		snprintf(sent, sizeof(sent), "t%d-%d", w->id, i);
		if (resolve(w->c, sent, "", echo, sizeof(echo), NULL) != PA_OK)
			w->failed++;
		else if (strcmp(sent, echo) == 0)
			w->matched++;
	}
	return NULL;
}

static void
test_client__many_threads_share_one_client(void **state)
{
	fixture       *f = *state;
	rpctest_server s;
	pa_client     *c;
	pthread_t      th[THREADS];
	worker         w[THREADS];

	rpctest_start(&s, f->url, NULL);
	c = new_client(s.url, NULL, 1000, 4, 20, 10000);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker) { c, i, 0, 0 };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
		assert_int_equal(w[i].matched, CALLS);
	}
	assert_int_equal(s.answered, THREADS * CALLS);
	pa_client_free(c);
	rpctest_stop(&s);
}

static void
test_client__preallocate_retry_keeps_its_request_id(void **state)
{
	fixture        *f   = *state;
	pa_prealloc_req req = PA_PREALLOC_REQ_INIT;
	pa_job         *job = NULL;
	pa_client      *c;
	pa_err          err = PA_ERR_INIT;

	fake_start(f);
	f->fk.fail_first = 1;
	c                = new_client(NULL, f->fk.url, 1000, 3, 1, 5000);
	req.path         = "/var/lib/vol/disk.img";
	req.size         = MiB;
	if (pa_preallocate(&job, c, &req, &err) != PA_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(f->fk.preallocs, 2);
	assert_int_equal(strlen(f->fk.ids[0]), 32);
	assert_string_equal(f->fk.ids[0], f->fk.ids[1]);
	assert_string_equal(job->request_id, f->fk.ids[0]);
	assert_int_equal(job->state, PA_JOB_RUNNING);
	pa_job_free(job);
	// A caller's own id is sent as it is.
	req.request_id = "mine";
	assert_int_equal(pa_preallocate(&job, c, &req, &err), PA_OK);
	pa_job_free(job);
	pa_client_free(c);
}

// The mechanism comes from the enum; the deprecated string only where
// the enum says nothing this library knows (an older or newer agent).
static void
test_client__job_mechanism_is_read_from_the_enum(void **state)
{
	static const struct {
		int         mech;
		const char *str, *want;
	} cases[] = {
		{ CDI__PREALLOC__V1__MECHANISM__MECHANISM_BLKZEROOUT, "",
		    "blkzeroout" },
		{ CDI__PREALLOC__V1__MECHANISM__MECHANISM_FALLOCATE, "stale",
		    "fallocate" },
		{ CDI__PREALLOC__V1__MECHANISM__MECHANISM_WRITE_ZEROES, NULL,
		    "write-zeroes" },
		{ CDI__PREALLOC__V1__MECHANISM__MECHANISM_UNSPECIFIED,
		    "fallocate", "fallocate" },       // an older agent
		{ 99, "a-newer-one", "a-newer-one" }, // a newer agent
	};
	fixture   *f = *state;
	pa_job    *job;
	pa_client *c;
	pa_err     err = PA_ERR_INIT;

	fake_start(f);
	c = new_client(NULL, f->fk.url, 1000, 3, 1, 5000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->fk.mech     = cases[i].mech;
		f->fk.mech_str = cases[i].str;
		if (pa_get_job(&job, c, "job-7", 0, &err) != PA_OK)
			fail_msg("%s", err.msg);
		assert_string_equal(job->mechanism, cases[i].want);
		pa_job_free(job);
	}
	pa_client_free(c);
}

// In a child with its own mount namespace and an empty /run, so that the
// host's /run is never touched: the socket fallback, and what is not one.
static int
defaults_in_private_run(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int                fd;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "size=1m") != 0)
		return 77;
	unsetenv("PREALLOC_AGENT");
	if (strcmp(pa_default_agent_url(), PA_DEFAULT_AGENT_TCP) != 0 ||
	    mkdir("/run/prealloc", 0755) != 0)
		return 1;
	// A regular file at the path is not an agent.
	if ((fd = open(PA_AGENT_NODE_SOCKET, O_CREAT | O_WRONLY, 0600)) < 0)
		return 2;
	close(fd);
	if (strcmp(pa_default_agent_url(), PA_DEFAULT_AGENT_TCP) != 0 ||
	    unlink(PA_AGENT_NODE_SOCKET) != 0)
		return 3;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", PA_AGENT_NODE_SOCKET);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
		return 4;
	if (strcmp(pa_default_agent_url(), "ipc://" PA_AGENT_NODE_SOCKET) != 0)
		return 5;
	// The environment still comes first.
	setenv("PREALLOC_AGENT", "tcp://10.0.0.1:9651", 1);
	if (strcmp(pa_default_agent_url(), "tcp://10.0.0.1:9651") != 0)
		return 6;
	return 0;
}

static void
test_client__default_urls_env_then_node_socket_then_localhost(void **state)
{
	pid_t child;
	int   st = 0;

	(void) state;
	setenv("PREALLOC_POLICY", "tls+tcp://policy:9650", 1);
	assert_string_equal(pa_default_policy_url(), "tls+tcp://policy:9650");
	setenv("PREALLOC_POLICY", "", 1); // empty is unset, as preallocctl's
	assert_string_equal(pa_default_policy_url(), PA_DEFAULT_POLICY_TCP);
	unsetenv("PREALLOC_POLICY");
	assert_string_equal(pa_default_policy_url(), PA_DEFAULT_POLICY_TCP);
	setenv("PREALLOC_AGENT", "ipc:///x.sock", 1);
	assert_string_equal(pa_default_agent_url(), "ipc:///x.sock");
	unsetenv("PREALLOC_AGENT");
	if ((child = fork()) == 0)
		_exit(defaults_in_private_run());
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		printf(
		    "SKIP: the socket half needs a mount namespace (root)\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int cancel_after;

static int
cancel_progress(void *arg, const pa_job *job)
{
	int *calls = arg;

	return ++*calls >= cancel_after;
}

static void
test_client__progress_that_asks_cancels_and_waits_for_the_end(void **state)
{
	fixture        *f   = *state;
	pa_prealloc_req req = PA_PREALLOC_REQ_INIT;
	pa_job         *job = NULL;
	pa_client      *c;
	pa_err          err   = PA_ERR_INIT;
	int             calls = 0;

	fake_start(f);
	c            = new_client(NULL, f->fk.url, 1000, 3, 1, 5000);
	req.path     = "/var/lib/vol/disk.img";
	cancel_after = 3;
	if (pa_preallocate_wait(&job, c, &req, cancel_progress, &calls, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(job->state, PA_JOB_CANCELLED);
	assert_int_equal(f->fk.cancels, 1); // asked once, however often told
	assert_int_equal(calls, 4);         // told of the end too
	pa_job_free(job);
	// pa_wait_job on a job that already ended answers at once.
	assert_int_equal(
	    pa_wait_job(&job, c, "job-7", NULL, NULL, &err), PA_OK);
	assert_int_equal(job->state, PA_JOB_CANCELLED);
	pa_job_free(job);
	pa_client_free(c);
}

static void
test_client__bad_arguments_and_missing_services(void **state)
{
	fixture       *f    = *state;
	pa_client_opts opts = PA_CLIENT_OPTS_INIT;
	pa_client     *c    = NULL;
	pa_err         err  = PA_ERR_INIT;
	pa_job        *job  = NULL;
	pa_decision   *d    = NULL;
	pa_volume      vol  = { 0 };
	pa_method      m    = PA_METHOD_FULL;

	assert_int_equal(pa_client_new(&c, &opts, &err), PA_INVALID_ARGUMENT);
	opts.policy_urls = "nope://x";
	assert_int_equal(pa_client_new(&c, &opts, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(pa_client_new(NULL, &opts, &err), PA_INVALID_ARGUMENT);
	assert_null(c);
	pa_client_free(NULL);
	// A client for the policy service alone has no agent.
	c = new_client(f->dead, NULL, 100, 0, 1, 1000);
	assert_int_equal(
	    pa_get_job(&job, c, "j", 0, &err), PA_FAILED_PRECONDITION);
	assert_string_equal(err.msg, "no agent URL given to the client");
	assert_int_equal(pa_resolve(NULL, c, &vol, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(pa_resolve(&d, c, NULL, &err), PA_INVALID_ARGUMENT);
	vol.preallocation = (pa_tristate) 7;
	assert_int_equal(pa_resolve(&d, c, &vol, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(pa_apply_config(NULL, c, NULL, 0, false, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(d);
	pa_client_free(c);
	c = new_client(NULL, f->dead, 100, 0, 1, 1000);
	assert_int_equal(pa_get_config(NULL, c, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_preallocate(&job, c, NULL, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_cancel_job(NULL, c, NULL, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_probe_target(NULL, c, "/x", &err), PA_INVALID_ARGUMENT);
	assert_int_equal(pa_list_jobs(NULL, c, &err), PA_INVALID_ARGUMENT);
	assert_null(job);
	pa_client_free(c);
	pa_decision_free(NULL);
	pa_config_free(NULL);
	pa_job_free(NULL);
	pa_job_list_free(NULL);
	pa_probe_free(NULL);
	// The name helpers.
	assert_int_equal(pa_method_parse(&m, "falloc", &err), PA_OK);
	assert_int_equal(m, PA_METHOD_FALLOC);
	assert_int_equal(
	    pa_method_parse(&m, "fast", &err), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "unknown method \"fast\" (expected auto, falloc or full)");
	assert_int_equal(m, PA_METHOD_FALLOC);
	assert_string_equal(pa_method_name(PA_METHOD_FULL), "full");
	assert_string_equal(pa_method_name((pa_method) 9), "unknown");
	assert_string_equal(pa_job_state_name(PA_JOB_CANCELLED), "cancelled");
	assert_string_equal(pa_job_state_name((pa_job_state) 42), "unknown");
	assert_true(pa_job_state_done(PA_JOB_FAILED));
	assert_false(pa_job_state_done(PA_JOB_RUNNING));
}

#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, client_setup, client_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_client__daemon_that_appears_later_is_reached),
		TEST(test_client__without_retries_nothing_there_is_unavailable),
		TEST(test_client__only_unavailable_is_retried),
		TEST(test_client__apply_config_is_never_retried),
		TEST(test_client__retry_budget_is_bounded),
		TEST(test_client__deadline_bounds_the_retries),
		TEST(test_client__one_dead_url_of_many_is_survived),
		TEST(test_client__many_threads_share_one_client),
		TEST(test_client__preallocate_retry_keeps_its_request_id),
		TEST(
		    test_client__progress_that_asks_cancels_and_waits_for_the_end),
		TEST(test_client__bad_arguments_and_missing_services),
		TEST(test_client__job_mechanism_is_read_from_the_enum),
		TEST(
		    test_client__default_urls_env_then_node_socket_then_localhost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
