// SPDX-License-Identifier: Apache-2.0
// agentd_test.c: the real prealloc-agentd over ipc, tcp and mutual TLS, on
// loop filesystems (ext4, and ext3 where fallocate is missing) and a bare
// loop device made by the test.
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agentcall.h"
#include "daemon.h"
#include "loopfs.h"
#include "prealloc/v1/agent.pb-c.h"
#include "promtext.h"
#include "rpc_client.h"
#include "rpc_envelope.h"
#include "testlib.h"
#include "tlscerts.h"

#define SVC AGENTCALL_SVC
#define AUTO CDI__PREALLOC__V1__METHOD__METHOD_AUTO
#define FALLOC CDI__PREALLOC__V1__METHOD__METHOD_FALLOC
#define FULL CDI__PREALLOC__V1__METHOD__METHOD_FULL
#define ST(x) CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_##x
#define CALL_MS 60000

typedef agentcall_job                          job_pb;
typedef Cdi__Prealloc__V1__ProbeTargetResponse probe_resp;

// Made once for the group: the filesystems and device are slow to make.
static struct loopfs *ext4, *ext3, *bare;
static char          *certs;

typedef struct fixture {
	char          *dir;        // logs, sockets, a root outside the loops
	char           root[600];  // <ext4>/tN: the test's --root
	char           root3[600]; // <ext3>/tN
	char           ipc[700];
	char           http[64];
	testlib_daemon d;
	rpc_client    *cli;
} fixture;

// ---- the group: loop filesystems and certificates ----

static struct loopfs *
group_loopfs(const char *fstype, uint64_t size)
{
	struct loopfs *lf = NULL;
	char           why[256];

	switch (loopfs_new(&lf, why, fstype, size)) {
	case LOOPFS_OK:
		return lf;
	case LOOPFS_CANNOT:
		testlib_skip_all("%s", why);
	default:
		return NULL;
	}
}

static int
group_setup(void **state)
{
	if ((ext4 = group_loopfs("ext4", 3 * GiB)) == NULL ||
	    (ext3 = group_loopfs("ext3", 256 * MiB)) == NULL ||
	    (bare = group_loopfs(NULL, 64 * MiB)) == NULL)
		return -1;
	certs = testlib_tmpdir("agentd-certs");
	return 0;
}

static int
group_teardown(void **state)
{
	loopfs_free(ext4);
	loopfs_free(ext3);
	loopfs_free(bare);
	testlib_rm_rf(certs);
	free(certs);
	return 0;
}

static int
agentd_setup(void **state)
{
	static int n;
	fixture   *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("agentd");
	snprintf(f->root, sizeof(f->root), "%s/t%d", ext4->mnt, ++n);
	snprintf(f->root3, sizeof(f->root3), "%s/t%d", ext3->mnt, n);
	snprintf(f->ipc, sizeof(f->ipc), "ipc://%s/agent.sock", f->dir);
	if (mkdir(f->root, 0755) != 0 || mkdir(f->root3, 0755) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
agentd_teardown(void **state)
{
	fixture *f  = *state;
	int      rc = 0;

	rpc_client_free(f->cli);
	// A clean SIGTERM exit is part of every test: under ASan a leak or
	// an error would make it non-zero.
	if (f->d.pid > 0 && testlib_daemon_stop(&f->d) != 0) {
		testlib_run("echo '--- %s:'; cat '%s' >&2", f->d.log, f->d.log);
		rc = -1;
	}
	testlib_rm_rf(f->root);
	testlib_rm_rf(f->root3);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return rc;
}

// ---- the daemon and its client ----

// Start the agent with the fixture's roots, the bare device allowed, ipc
// and an HTTP port, and @p extra arguments (NULL-terminated).
static int
start_agent(fixture *f, const char *const *extra)
{
	char        logpath[800], dev[64];
	const char *argv[40] = { testlib_built("agent/prealloc-agentd"),
		"--root", f->root, "--root", f->root3, "--device-allow", dev,
		"--listen", f->ipc, "--http", "127.0.0.1:0", "--grace", "2" };
	int         n        = 13;

	snprintf(dev, sizeof(dev), "%s", bare->dev);
	for (; extra != NULL && *extra != NULL && n < 39; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	snprintf(logpath, sizeof(logpath), "%s/agentd.log", f->dir);
	if (testlib_daemon_start(
	        &f->d, logpath, "agentd.ready", (char *const *) argv) != 0)
		return -1;
	assert_int_equal(
	    testlib_daemon_log_value(&f->d, "event=agentd.http_listening",
	        "addr", f->http, sizeof(f->http)),
	    0);
	return 0;
}

static void
connect_client(fixture *f, const char *url)
{
	rpc_client_free(f->cli);
	f->cli = NULL;
	assert_int_equal(rpc_client_new(&f->cli, url, NULL, NULL), PA_OK);
}

static void
start_and_connect(fixture *f, const char *const *extra)
{
	assert_int_equal(start_agent(f, extra), 0);
	connect_client(f, f->ipc);
}

static char *
in(const char *root, const char *name)
{
	static char buf[8][1024];
	static int  next;
	char       *p = buf[next++ % 8];

	snprintf(p, 1024, "%s/%s", root, name);
	return p;
}

typedef struct agentcall_req preq;

// PreallocateVolume that must be answered OK; the job's state is returned
// and the job freed unless @p out takes it.
static int
prealloc_ok(rpc_client *c, const preq *p, job_pb **out)
{
	job_pb *j   = NULL;
	pa_err  err = PA_ERR_INIT;
	int     state;

	if (agentcall_prealloc(&j, c, p, &err) != PA_OK)
		fail_msg("PreallocateVolume %s: %s", p->path, err.msg);
	state = j->state;
	if (out != NULL)
		*out = j;
	else
		agentcall_job_free(j);
	return state;
}

// Long-poll job @p id until it ends; fails the test after 100 s.
static job_pb *
await_end(rpc_client *c, const char *id)
{
	for (int i = 0; i < 10; i++) {
		job_pb *j   = NULL;
		pa_err  err = PA_ERR_INIT;

		if (agentcall_get_job(&j, c, id, 10000, &err) != PA_OK)
			fail_msg("GetJob %s: %s", id, err.msg);
		if (j->state >= ST(SUCCEEDED))
			return j;
		agentcall_job_free(j);
	}
	fail_msg("job %s never ended", id);
	return NULL;
}

static Cdi__Prealloc__V1__ListJobsResponse *
list_jobs(rpc_client *c)
{
	Cdi__Prealloc__V1__ListJobsRequest req =
	    CDI__PREALLOC__V1__LIST_JOBS_REQUEST__INIT;
	Cdi__Prealloc__V1__ListJobsResponse *resp = NULL;

	assert_int_equal(
	    rpc_client_call((ProtobufCMessage **) &resp, c, SVC "ListJobs",
	        &req.base, &cdi__prealloc__v1__list_jobs_response__descriptor,
	        CALL_MS, NULL),
	    PA_OK);
	return resp;
}

static int
probe(rpc_client *c, const char *path, probe_resp **out, pa_err *err)
{
	Cdi__Prealloc__V1__ProbeTargetRequest req =
	    CDI__PREALLOC__V1__PROBE_TARGET_REQUEST__INIT;

	req.path = (char *) path;
	return rpc_client_call((ProtobufCMessage **) out, c, SVC "ProbeTarget",
	    &req.base, &cdi__prealloc__v1__probe_target_response__descriptor,
	    CALL_MS, err);
}

// The SHA-256 of @p len bytes at @p off of @p path.
static void
range_sha(char hex[65], const char *path, uint64_t off, uint64_t len)
{
	char *out = NULL;

	assert_int_equal(
	    testlib_capture(&out,
	        "tail -c +%llu '%s' | head -c %llu | sha256sum",
	        (unsigned long long) off + 1, path, (unsigned long long) len),
	    0);
	snprintf(hex, 65, "%s", out);
	free(out);
}

static void
zeros_sha(char hex[65], uint64_t len)
{
	char *out = NULL;

	assert_int_equal(testlib_capture(&out,
	                     "head -c %llu /dev/zero | "
	                     "sha256sum",
	                     (unsigned long long) len),
	    0);
	snprintf(hex, 65, "%s", out);
	free(out);
}

// ---- every method ----

static void
check_methods(fixture *f, const char *rid)
{
	const char *path = in(f->root, "disk.img");
	preq        p    = { path, 64 * MiB, 0, AUTO, rid, 30000, false };
	job_pb     *j = NULL, *g = NULL, *c = NULL;
	probe_resp *pr = NULL;
	Cdi__Prealloc__V1__ListJobsResponse *l;

	assert_int_equal(probe(f->cli, path, &pr, NULL), PA_OK);
	assert_false(pr->exists);
	assert_string_equal(pr->kind, "file");
	assert_string_equal(pr->filesystem, "ext4");
	protobuf_c_message_free_unpacked(&pr->base, NULL);
	assert_int_equal(testlib_file_size(path), -1); // probe wrote nothing

	assert_int_equal(prealloc_ok(f->cli, &p, &j), ST(SUCCEEDED));
	assert_string_equal(j->method_used, "falloc");
	assert_int_equal(
	    j->used_method, CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_FALLOC);
	assert_string_equal(j->mechanism, "fallocate");
	assert_int_equal(j->mechanism_used,
	    CDI__PREALLOC__V1__MECHANISM__MECHANISM_FALLOCATE);
	assert_string_equal(j->filesystem, "ext4");
	assert_string_equal(j->request_id, rid);
	assert_string_equal(j->path, path);
	assert_int_equal(testlib_file_size(path), (int64_t) (64 * MiB));
	assert_true(testlib_allocated_bytes(path) >= (int64_t) (64 * MiB));

	assert_int_equal(agentcall_get_job(&g, f->cli, j->id, 0, NULL), PA_OK);
	assert_string_equal(g->id, j->id);
	assert_int_equal(g->state, ST(SUCCEEDED));
	assert_int_equal(agentcall_cancel_job(&c, f->cli, j->id, NULL), PA_OK);
	assert_int_equal(c->state, ST(SUCCEEDED)); // a finished job stays
	l = list_jobs(f->cli);
	assert_true(l->n_jobs >= 1);
	assert_string_equal(l->jobs[l->n_jobs - 1]->id, j->id);
	protobuf_c_message_free_unpacked(&l->base, NULL);

	assert_int_equal(probe(f->cli, path, &pr, NULL), PA_OK);
	assert_true(pr->exists);
	assert_int_equal(pr->size, 64 * MiB);
	assert_int_equal(
	    pr->fallocate, CDI__PREALLOC__V1__SUPPORT__SUPPORT_YES);
	protobuf_c_message_free_unpacked(&pr->base, NULL);
	agentcall_job_free(j);
	agentcall_job_free(g);
	agentcall_job_free(c);
	assert_int_equal(unlink(path), 0);
}

static void
test_agentd__every_method_over_ipc_and_tcp(void **state)
{
	fixture          *f       = *state;
	const char *const extra[] = { "--listen", "tcp://127.0.0.1:0", NULL };
	char              url[128];

	start_and_connect(f, extra);
	check_methods(f, "req-1");
	assert_int_equal(testlib_daemon_log_value(
	                     &f->d, "url=tcp://", "url", url, sizeof(url)),
	    0);
	connect_client(f, url);
	check_methods(f, "req-2");
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.started"), 2);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.finished"), 2);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "request_id=req-1 target="), 2);
	assert_true(testlib_daemon_count_log(&f->d,
	                "mechanism=fallocate "
	                "filesystem=ext4 bytes=67108864") >= 2);
}

// ---- every error and its code ----

static void
expect_refused(fixture *f, const preq *p, int code, const char *words)
{
	job_pb *j   = NULL;
	pa_err  err = PA_ERR_INIT;
	int     rc  = agentcall_prealloc(&j, f->cli, p, &err);

	if (rc != code || (words != NULL && strstr(err.msg, words) == NULL))
		fail_msg("%s size %llu offset %llu: got %s '%s', want %s '%s'",
		    p->path, (unsigned long long) p->size,
		    (unsigned long long) p->offset, pa_status_name(rc), err.msg,
		    pa_status_name(code), words ? words : "");
	agentcall_job_free(j);
}

// A request that is queued and then fails as a job, with @p code.
static void
expect_job_fails(fixture *f, const preq *p, int code, const char *words)
{
	job_pb *j = NULL;

	assert_int_equal(prealloc_ok(f->cli, p, &j), ST(FAILED));
	if ((int) j->error_code != code || strstr(j->error_message, words) == 0)
		fail_msg("%s: job failed with %s '%s', want %s '%s'", p->path,
		    pa_status_name((int) j->error_code), j->error_message,
		    pa_status_name(code), words);
	agentcall_job_free(j);
}

static void
test_agentd__bad_requests_get_their_codes(void **state)
{
	fixture    *f   = *state;
	char       *img = in(f->root, "a.img");
	job_pb     *j   = NULL;
	probe_resp *pr  = NULL;
	pa_err      err = PA_ERR_INIT;

	start_and_connect(f, NULL);
	expect_refused(f, &(preq) { "", MiB, 0, AUTO, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "path");
	expect_refused(f, &(preq) { "rel/a.img", MiB, 0, AUTO, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "path rel/a.img is not absolute");
	expect_refused(f, &(preq) { img, 0, 0, AUTO, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "size");
	expect_refused(f, &(preq) { img, MiB, 0, 7, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "method 7");
	expect_refused(f, &(preq) { img, MiB, 1000, AUTO, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "offset 1000");
	expect_refused(f,
	    &(preq) { bare->dev, 128 * MiB, 0, FULL, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "size");
	expect_refused(f,
	    &(preq) { bare->dev, 8 * MiB, 100, FULL, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "offset 100");
	expect_refused(f,
	    &(preq) { "/etc/x.img", MiB, 0, AUTO, NULL, 0, false },
	    PA_PERMISSION_DENIED, "outside every --root");
	expect_refused(f,
	    &(preq) {
	        in(f->root, "no/dir/a.img"), MiB, 0, AUTO, NULL, 0, false },
	    PA_NOT_FOUND, "does not exist");
	assert_int_equal(
	    agentcall_get_job(&j, f->cli, "job-x", 0, &err), PA_NOT_FOUND);
	assert_int_equal(
	    agentcall_get_job(&j, f->cli, "", 0, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    agentcall_cancel_job(&j, f->cli, "job-x", &err), PA_NOT_FOUND);
	assert_int_equal(
	    probe(f->cli, "/etc/passwd", &pr, &err), PA_PERMISSION_DENIED);
	// What only the job can learn fails the job, with its code.
	expect_job_fails(f,
	    &(preq) {
	        in(f->root3, "a.img"), MiB, 0, FALLOC, NULL, 30000, false },
	    PA_FAILED_PRECONDITION, "ext3");
	assert_int_equal(testlib_write_random(img, 0, 2 * MiB, 1), 0);
	expect_job_fails(f, &(preq) { img, MiB, 0, AUTO, NULL, 30000, false },
	    PA_FAILED_PRECONDITION, "shrink");
	expect_job_fails(f,
	    &(preq) { in(f->root, "huge.img"), 64 * GiB, 0, FULL, NULL, 30000,
	        false },
	    PA_RESOURCE_EXHAUSTED, "free");
	expect_job_fails(f,
	    &(preq) { bare->dev, 0, 0, FALLOC, NULL, 30000, false },
	    PA_FAILED_PRECONDITION, "fallocate");
}

static void
test_agentd__ext3_auto_falls_back_and_devices_are_zeroed(void **state)
{
	fixture    *f    = *state;
	const char *path = in(f->root3, "b.img");
	job_pb     *j    = NULL;
	probe_resp *pr   = NULL;
	char        got[65], want[65];

	start_and_connect(f, NULL);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { path, 16 * MiB, 0, AUTO, "e3", 30000, false }, &j),
	    ST(SUCCEEDED));
	assert_string_equal(j->method_used, "full");
	assert_int_equal(
	    j->used_method, CDI__PREALLOC__V1__METHOD_USED__METHOD_USED_FULL);
	assert_string_equal(j->mechanism, "write-zeroes");
	assert_int_equal(j->mechanism_used,
	    CDI__PREALLOC__V1__MECHANISM__MECHANISM_WRITE_ZEROES);
	assert_string_equal(j->filesystem, "ext3");
	assert_non_null(strstr(j->fallback_note, "ext3"));
	assert_true(testlib_allocated_bytes(path) >= (int64_t) (16 * MiB));
	agentcall_job_free(j);
	// A bare device, whole: zeroed by the kernel or by writes.
	assert_int_equal(testlib_write_random(bare->dev, 8 * MiB, MiB, 3), 0);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { bare->dev, 0, 0, AUTO, NULL, 30000, false }, &j),
	    ST(SUCCEEDED));
	assert_string_equal(j->method_used, "full");
	agentcall_job_free(j);
	range_sha(got, bare->dev, 0, 64 * MiB);
	zeros_sha(want, 64 * MiB);
	assert_string_equal(got, want);
	// ProbeTarget of the device: what libblkid finds, nothing written.
	assert_int_equal(probe(f->cli, bare->dev, &pr, NULL), PA_OK);
	assert_string_equal(pr->kind, "block");
	assert_int_equal(pr->size, 64 * MiB);
	assert_int_equal(pr->n_signatures, 0);
	assert_true(pr->logical_sector_size >= 512);
	protobuf_c_message_free_unpacked(&pr->base, NULL);
	range_sha(got, bare->dev, 0, 64 * MiB);
	assert_string_equal(got, want);
}

// ---- idempotency and joining ----

typedef struct racer {
	const char *url;
	const char *path;
	const char *rid;
	char        id[64];
	int         rc;
} racer;

static void *
racer_run(void *arg)
{
	racer      *r = arg;
	rpc_client *c = NULL;
	job_pb     *j = NULL;

	r->rc = rpc_client_new(&c, r->url, NULL, NULL);
	if (r->rc == PA_OK)
		r->rc = agentcall_prealloc(&j, c,
		    &(preq) {
		        r->path, 256 * MiB, 0, FULL, r->rid, 60000, false },
		    NULL);
	if (r->rc == PA_OK)
		snprintf(r->id, sizeof(r->id), "%s", j->id);
	agentcall_job_free(j);
	rpc_client_free(c);
	return NULL;
}

static void
test_agentd__same_request_id_and_same_target_are_one_job(void **state)
{
	fixture    *f    = *state;
	const char *path = in(f->root, "shared.img");
	racer       r[2] = { { f->ipc, path, "client-a", "", 0 },
		      { f->ipc, path, "client-b", "", 0 } };
	pthread_t   th[2];
	job_pb     *a = NULL, *b = NULL;
	pa_err      err = PA_ERR_INIT;
	Cdi__Prealloc__V1__ListJobsResponse *l;
	int                                  for_path = 0;

	start_and_connect(f, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, racer_run, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].rc, PA_OK);
	assert_int_equal(r[1].rc, PA_OK);
	assert_string_equal(r[0].id, r[1].id);
	l = list_jobs(f->cli);
	for (size_t i = 0; i < l->n_jobs; i++)
		for_path += strcmp(l->jobs[i]->path, path) == 0;
	protobuf_c_message_free_unpacked(&l->base, NULL);
	assert_int_equal(for_path, 1);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.started"), 1);
	// Either request id again is that job, finished; not a new one.
	for (int i = 0; i < 2; i++) {
		assert_int_equal(prealloc_ok(f->cli,
		                     &(preq) { path, 256 * MiB, 0, FULL,
		                         r[i].rid, 0, false },
		                     &a),
		    ST(SUCCEEDED));
		assert_string_equal(a->id, r[0].id);
		agentcall_job_free(a);
	}
	// A busy target with other parameters is ABORTED, naming the job.
	assert_true(prealloc_ok(f->cli,
	                &(preq) { in(f->root, "busy.img"), 512 * MiB, 0, FULL,
	                    "long", 0, false },
	                &b) <= ST(RUNNING));
	expect_refused(f,
	    &(preq) {
	        in(f->root, "busy.img"), 256 * MiB, 0, FULL, NULL, 0, false },
	    PA_ABORTED, b->id);
	assert_int_equal(
	    agentcall_cancel_job(&a, f->cli, b->id, &err) == PA_OK ? 0 : 1, 0);
	agentcall_job_free(a);
	a = await_end(f->cli, b->id);
	assert_int_equal(a->state, ST(CANCELLED));
	agentcall_job_free(a);
	agentcall_job_free(b);
}

// ---- the pool: 8 files, 2 at a time ----

// The most jobs running at once, from the order of start and end lines.
static int
max_running_in_log(testlib_daemon *d)
{
	char *log = NULL;
	int   now = 0, most = 0;

	assert_int_equal(
	    testlib_capture(
	        &log, "grep -oE 'event=job\\.(started|finished)' '%s'", d->log),
	    0);
	for (char *p = log; (p = strstr(p, "event=job.")) != NULL; p++) {
		now += strncmp(p, "event=job.started", 17) == 0 ? 1 : -1;
		if (now > most)
			most = now;
	}
	free(log);
	return most;
}

// Eight full fills in one root, with the agent's options @p extra: at
// most @p most run at once, as the listings and the log show, and every
// file ends whole.
static void
eight_full_fills(fixture *f, const char *const *extra, int most)
{
	job_pb  *j[8];
	char     want[65], got[65];
	int      most_listed = 0;
	uint32_t most_pos    = 0;

	start_and_connect(f, extra);
	for (int i = 0; i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d.img", i);
		prealloc_ok(f->cli,
		    &(preq) {
		        in(f->root, name), 48 * MiB, 0, FULL, NULL, 0, false },
		    &j[i]);
	}
	for (int round = 0; round < 5000; round++) {
		Cdi__Prealloc__V1__ListJobsResponse *l = list_jobs(f->cli);
		int                                  running = 0, open = 0;

		for (size_t i = 0; i < l->n_jobs; i++) {
			running += l->jobs[i]->state == ST(RUNNING);
			open += l->jobs[i]->state <= ST(RUNNING);
			if (l->jobs[i]->queue_position > most_pos)
				most_pos = l->jobs[i]->queue_position;
			// A writer names its disk, queued or not.
			assert_true(l->jobs[i]->disk[0] != '\0');
		}
		protobuf_c_message_free_unpacked(&l->base, NULL);
		if (running > most_listed)
			most_listed = running;
		if (open == 0)
			break;
		usleep(5 * 1000);
	}
	assert_true(most_listed >= 1 && most_listed <= most);
	// Eight at once on one disk: the waiting ones were numbered.
	assert_true(most_pos >= 2);
	assert_int_equal(max_running_in_log(&f->d), most);
	zeros_sha(want, 48 * MiB);
	for (int i = 0; i < 8; i++) {
		job_pb *e = await_end(f->cli, j[i]->id);

		assert_int_equal(e->state, ST(SUCCEEDED));
		assert_true(
		    testlib_allocated_bytes(e->path) >= (int64_t) (48 * MiB));
		assert_int_equal(testlib_sha256(got, e->path), 0);
		assert_string_equal(got, want);
		agentcall_job_free(e);
		agentcall_job_free(j[i]);
	}
}

// --max-jobs bounds the writers: with no cap per disk, two at a time.
static void
test_agentd__eight_files_two_at_a_time(void **state)
{
	const char *const extra[] = { "--max-jobs", "2", "--writers-per-disk",
		"0", NULL };

	eight_full_fills(*state, extra, 2);
}

// One disk gets one writer by default, a worker free or not: the fills
// take turns rather than fight over the disk.
static void
test_agentd__one_disk_one_writer_by_default(void **state)
{
	const char *const extra[] = { "--max-jobs", "2", NULL };

	eight_full_fills(*state, extra, 1);
}

// ---- cancel, SIGTERM and kill -9 ----

// An existing file with data at a few offsets and holes between.
static void
make_data_file(const char *path, uint64_t size)
{
	assert_int_equal(testlib_write_random(path, 0, MiB, 11), 0);
	assert_int_equal(testlib_write_random(path, size / 3, 4096, 12), 0);
	assert_int_equal(testlib_write_random(path, size - 5000, 5000, 13), 0);
}

// Wait until job @p id reports at least @p bytes done.
static void
await_progress(rpc_client *c, const char *id, uint64_t bytes)
{
	for (int i = 0; i < 3000; i++) {
		job_pb *j = NULL;
		bool    far;

		assert_int_equal(agentcall_get_job(&j, c, id, 0, NULL), PA_OK);
		far = j->bytes_done >= bytes;
		assert_true(j->state <= ST(RUNNING));
		agentcall_job_free(j);
		if (far)
			return;
		usleep(10 * 1000);
	}
	fail_msg(
	    "job %s did not reach %llu bytes", id, (unsigned long long) bytes);
}

static void
test_agentd__cancel_mid_fill_restores_the_file(void **state)
{
	fixture    *f    = *state;
	const char *path = in(f->root, "cancel.img");
	job_pb     *j = NULL, *c = NULL, *e;
	char        before[65], after[65];

	make_data_file(path, 8 * MiB);
	assert_int_equal(testlib_sha256(before, path), 0);
	start_and_connect(f, NULL);
	prealloc_ok(
	    f->cli, &(preq) { path, 512 * MiB, 0, FULL, NULL, 0, false }, &j);
	await_progress(f->cli, j->id, 16 * MiB);
	assert_int_equal(agentcall_cancel_job(&c, f->cli, j->id, NULL), PA_OK);
	e = await_end(f->cli, j->id);
	assert_int_equal(e->state, ST(CANCELLED));
	assert_int_equal(e->error_code, PA_CANCELLED);
	assert_true(e->bytes_done < 512 * MiB);
	assert_int_equal(testlib_file_size(path), (int64_t) (8 * MiB));
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	assert_int_equal(testlib_daemon_count_log(&f->d, "state=cancelled"), 1);
	agentcall_job_free(j);
	agentcall_job_free(c);
	agentcall_job_free(e);
}

static void
test_agentd__sigterm_cancels_after_grace_and_exits_0(void **state)
{
	fixture          *f       = *state;
	const char       *path    = in(f->root, "term.img");
	const char *const extra[] = { "--grace", "0", NULL };
	job_pb           *j       = NULL;

	start_and_connect(f, extra);
	prealloc_ok(
	    f->cli, &(preq) { path, 1 * GiB, 0, FULL, NULL, 0, false }, &j);
	await_progress(f->cli, j->id, 8 * MiB);
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	assert_int_equal(testlib_file_size(path), -1); // it made it: removed
	assert_int_equal(testlib_daemon_count_log(&f->d, "cancelled=1"), 1);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=agentd.stopping"), 1);
	agentcall_job_free(j);
}

static void
test_agentd__sigterm_lets_running_jobs_finish_within_grace(void **state)
{
	fixture          *f       = *state;
	const char       *path    = in(f->root, "grace.img");
	const char *const extra[] = { "--grace", "60", NULL };
	job_pb           *j       = NULL;

	start_and_connect(f, extra);
	prealloc_ok(
	    f->cli, &(preq) { path, 256 * MiB, 0, FULL, NULL, 0, false }, &j);
	await_progress(f->cli, j->id, 4 * MiB);
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	assert_int_equal(testlib_file_size(path), (int64_t) (256 * MiB));
	assert_true(testlib_allocated_bytes(path) >= (int64_t) (256 * MiB));
	assert_int_equal(testlib_daemon_count_log(&f->d, "cancelled=0"), 1);
	assert_int_equal(testlib_daemon_count_log(&f->d, "state=succeeded"), 1);
	agentcall_job_free(j);
}

static void
test_agentd__kill_9_then_repeat_completes_without_changing_data(void **state)
{
	fixture       *f    = *state;
	const char    *path = in(f->root, "restart.img");
	const uint64_t size = 1 * GiB, old = 96 * MiB;
	job_pb        *j = NULL;
	char           sha[3][65], now[65], want[65];

	make_data_file(path, old);
	range_sha(sha[0], path, 0, MiB);
	range_sha(sha[1], path, old / 3, 4096);
	range_sha(sha[2], path, old - 5000, 5000);
	start_and_connect(f, NULL);
	prealloc_ok(
	    f->cli, &(preq) { path, size, 0, FULL, "vol-1", 0, false }, &j);
	await_progress(f->cli, j->id, 128 * MiB);
	testlib_daemon_kill(&f->d);
	agentcall_job_free(j);
	start_and_connect(f, NULL);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { path, size, 0, FULL, "vol-1", 60000, false }, &j),
	    ST(SUCCEEDED));
	agentcall_job_free(j);
	assert_int_equal(testlib_file_size(path), (int64_t) size);
	assert_true(testlib_allocated_bytes(path) >= (int64_t) size);
	range_sha(now, path, 0, MiB);
	assert_string_equal(now, sha[0]);
	range_sha(now, path, old / 3, 4096);
	assert_string_equal(now, sha[1]);
	range_sha(now, path, old - 5000, 5000);
	assert_string_equal(now, sha[2]);
	range_sha(now, path, old, size - old);
	zeros_sha(want, size - old);
	assert_string_equal(now, want);
}

// ---- confinement ----

static void
test_agentd__escapes_are_refused_and_nothing_outside_changes(void **state)
{
	fixture    *f = *state;
	char        outside[700], canary[800], before[65], after[65], p[1200];
	const char *links[] = { "abs", "rel", "dir", "dangling", "magic" };
	probe_resp *pr      = NULL;

	snprintf(outside, sizeof(outside), "%s/outside", ext4->mnt);
	snprintf(canary, sizeof(canary), "%s/canary.img", outside);
	assert_int_equal(testlib_run("mkdir -p '%s' && cd '%s' && "
	                             "ln -s '%s' abs && "
	                             "ln -s ../outside/canary.img rel && "
	                             "ln -s ../outside dir && "
	                             "ln -s ../outside/new.img dangling && "
	                             "ln -s /proc/self/root%s magic",
	                     outside, f->root, canary, canary),
	    0);
	assert_int_equal(testlib_write_random(canary, 0, MiB, 5), 0);
	assert_int_equal(testlib_sha256(before, canary), 0);
	start_and_connect(f, NULL);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		expect_refused(f,
		    &(preq) { in(f->root, links[i]), 2 * MiB, 0, FULL, NULL, 0,
		        false },
		    PA_PERMISSION_DENIED, NULL);
	snprintf(p, sizeof(p), "%s/../outside/canary.img", f->root);
	expect_refused(f, &(preq) { p, 2 * MiB, 0, FULL, NULL, 0, false },
	    PA_PERMISSION_DENIED, NULL);
	snprintf(p, sizeof(p), "%s/dir/new.img", f->root);
	expect_refused(f, &(preq) { p, 2 * MiB, 0, FULL, NULL, 0, false },
	    PA_PERMISSION_DENIED, NULL);
	snprintf(p, sizeof(p), "/proc/self/root%s", canary);
	expect_refused(f, &(preq) { p, 2 * MiB, 0, FULL, NULL, 0, false },
	    PA_PERMISSION_DENIED, NULL);
	expect_refused(f, &(preq) { canary, 2 * MiB, 0, FULL, NULL, 0, false },
	    PA_PERMISSION_DENIED, NULL);
	assert_int_equal(
	    probe(f->cli, in(f->root, "abs"), &pr, NULL), PA_PERMISSION_DENIED);
	assert_int_equal(testlib_sha256(after, canary), 0);
	assert_string_equal(before, after);
	assert_int_equal(testlib_file_size(in(outside, "new.img")), -1);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.started"), 0);
	testlib_rm_rf(outside);
}

// ---- safety: devices by identity, hard links, whole paths, read-only ----

// A second loop device with data on it, and names in a /dev directory of
// the test's: imp, a node made by hand with the victim's numbers; bind, a
// file the victim's node is bind-mounted on. And a link to the victim in
// the test's own directory.
struct victim {
	struct loopfs *lf;
	char           devdir[128];
	char           link[800];
	char           sha[65];
	bool           bound;
};

static void
victim_make(struct victim *v, const fixture *f)
{
	struct stat st;

	v->lf = loopfs_new_or_skip(NULL, 16 * MiB);
	assert_int_equal(testlib_write_random(v->lf->dev, 0, 16 * MiB, 21), 0);
	assert_int_equal(testlib_sha256(v->sha, v->lf->dev), 0);
	snprintf(v->devdir, sizeof(v->devdir), "/dev/prealloc-agentd-%ld",
	    (long) getpid());
	snprintf(v->link, sizeof(v->link), "%s/links/victim", f->dir);
	assert_int_equal(stat(v->lf->dev, &st), 0);
	assert_int_equal(testlib_run("mkdir -p '%s' '%s/links' && "
	                             "mknod '%s/imp' b %u %u && "
	                             "ln -s '%s' '%s' && touch '%s/bind' && "
	                             "mount --bind '%s' '%s/bind'",
	                     v->devdir, f->dir, v->devdir, major(st.st_rdev),
	                     minor(st.st_rdev), v->lf->dev, v->link, v->devdir,
	                     v->lf->dev, v->devdir),
	    0);
	v->bound = true;
}

// The victim's bytes are what they were, and it was never claimed.
static void
victim_check_free(struct victim *v)
{
	char now[65];

	assert_int_equal(testlib_sha256(now, v->lf->dev), 0);
	assert_string_equal(now, v->sha);
	if (v->bound)
		testlib_run("umount '%s/bind'", v->devdir);
	testlib_run("rm -rf '%s'", v->devdir);
	loopfs_free(v->lf);
}

static void
test_agentd__devices_are_allowed_by_identity_not_by_name(void **state)
{
	fixture      *f = *state;
	struct victim v = { 0 };
	char          g1[200], g2[900];
	const char   *extra[] = { "--device-allow", g1, "--device-allow", g2,
		  NULL };
	probe_resp   *pr      = NULL;
	const char   *names[4];

	victim_make(&v, f);
	// Both globs match the names made for the victim; neither names it.
	snprintf(g1, sizeof(g1), "%s/*", v.devdir);
	snprintf(g2, sizeof(g2), "%s/links/*", f->dir);
	start_and_connect(f, extra);
	names[0] = in(v.devdir, "imp");
	names[1] = in(v.devdir, "bind");
	names[2] = v.link;
	names[3] = v.lf->dev;
	for (int i = 0; i < 4; i++) {
		expect_refused(f,
		    &(preq) { names[i], 0, 0, FULL, NULL, 30000, true },
		    PA_PERMISSION_DENIED, "none of the devices");
		assert_int_equal(
		    probe(f->cli, names[i], &pr, NULL), PA_PERMISSION_DENIED);
	}
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.started"), 0);
	// The device the command line names is still allowed, by any path.
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { bare->dev, 0, 0, FULL, NULL, 30000, true }, NULL),
	    ST(SUCCEEDED));
	victim_check_free(&v);
}

static void
test_agentd__a_file_with_another_hard_link_is_not_grown(void **state)
{
	fixture    *f = *state;
	char        outside[700], shared[800], before[65], after[65];
	const char *linked = in(f->root, "linked.img");

	snprintf(outside, sizeof(outside), "%s/outside-links", ext4->mnt);
	snprintf(shared, sizeof(shared), "%s/shared.img", outside);
	assert_int_equal(testlib_run("mkdir -p '%s'", outside), 0);
	assert_int_equal(testlib_write_random(shared, 0, MiB, 8), 0);
	assert_int_equal(link(shared, linked), 0);
	assert_int_equal(testlib_sha256(before, shared), 0);
	start_and_connect(f, NULL);
	for (int m = AUTO; m <= FULL; m++)
		expect_refused(f,
		    &(preq) { linked, 4 * MiB, 0, m, NULL, 30000, false },
		    PA_PERMISSION_DENIED, "hard links");
	assert_int_equal(testlib_file_size(shared), (int64_t) MiB);
	assert_int_equal(testlib_sha256(after, shared), 0);
	assert_string_equal(before, after);
	// Once the other name is gone the file is the root's to grow.
	assert_int_equal(unlink(shared), 0);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { linked, 4 * MiB, 0, FULL, NULL, 30000, false }, NULL),
	    ST(SUCCEEDED));
	assert_int_equal(testlib_file_size(linked), (int64_t) (4 * MiB));
	testlib_rm_rf(outside);
}

// PreallocateVolume with @p path sent as it is, but with every 0x01 byte
// of the request turned into a NUL on the wire, which a C string cannot
// say. @return the answer's code; its message in @p msg.
static int
prealloc_with_nul(fixture *f, const char *path, char *msg, size_t size)
{
	Cdi__Prealloc__V1__PreallocateVolumeRequest req =
	    CDI__PREALLOC__V1__PREALLOCATE_VOLUME_REQUEST__INIT;
	nng_msg         *m = NULL, *ans = NULL;
	rpc_response_pb *resp = NULL;
	unsigned char   *body;
	int              code;

	req.path = (char *) path;
	req.size = MiB;
	assert_int_equal(rpc_envelope_pack_request(&m, SVC "PreallocateVolume",
	                     1, CALL_MS, &req.base, NULL),
	    PA_OK);
	body = nng_msg_body(m);
	for (size_t i = 0; i < nng_msg_len(m); i++)
		if (body[i] == 0x01)
			body[i] = 0;
	assert_int_equal(
	    rpc_client_call_msg(&ans, f->cli, m, CALL_MS, NULL), PA_OK);
	assert_int_equal(rpc_envelope_unpack_response(
	                     &resp, nng_msg_body(ans), nng_msg_len(ans), NULL),
	    PA_OK);
	code = (int) resp->code;
	snprintf(msg, size, "%s", resp->message);
	rpc_envelope_free(resp);
	nng_msg_free(ans);
	return code;
}

static void
test_agentd__paths_are_taken_whole_or_refused(void **state)
{
	fixture *f = *state;
	char     p[1024], msg[PA_ERR_MSG_SIZE], *longp;
	size_t   n = PATH_MAX + 10;

	assert_int_equal(mkdir(in(f->root, "sub"), 0755), 0);
	start_and_connect(f, NULL);
	// root/sub/a\0/../../x: never a job on root/sub/a.
	snprintf(p, sizeof(p), "%s/sub/a\x01/../../x", f->root);
	assert_int_equal(
	    prealloc_with_nul(f, p, msg, sizeof(msg)), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "NUL"));
	assert_int_equal(testlib_file_size(in(f->root, "sub/a")), -1);
	longp = malloc(n + 1);
	snprintf(longp, n + 1, "%s/", f->root);
	for (size_t i = strlen(longp); i < n; i++)
		longp[i] = i % 100 == 0 ? '/' : 'b';
	longp[n] = '\0';
	expect_refused(f, &(preq) { longp, MiB, 0, AUTO, NULL, 0, false },
	    PA_INVALID_ARGUMENT, "PATH_MAX");
	free(longp);
	assert_int_equal(
	    testlib_daemon_count_log(&f->d, "event=job.started"), 0);
}

// The ext4 filesystem a fill writes to turns read-only under it (as
// errors=remount-ro does on an I/O error): the job fails with
// FAILED_PRECONDITION, not a permission error, and the file it created is
// removed once the operator has the filesystem writable again.
static void
test_agentd__a_filesystem_turning_read_only_mid_fill(void **state)
{
	fixture       *f       = *state;
	struct loopfs *lf      = loopfs_new_or_skip("ext4", 1536 * MiB);
	const char    *extra[] = { "--root", lf->dir, NULL };
	char          *target  = loopfs_path(lf, "disk.img");
	char           trigger[128];
	job_pb        *j = NULL, *e;

	snprintf(trigger, sizeof(trigger), "/sys/fs/ext4/%s/trigger_fs_error",
	    lf->dev + strlen("/dev/"));
	if (access(trigger, W_OK) != 0) {
		free(target);
		loopfs_free(lf);
		loopfs_skip("no %s on this kernel", trigger);
		return;
	}
	// The root holds the mount, as the kubelet's pod directory holds a
	// PVC's: the agent keeps nothing open on the volume between jobs.
	assert_int_equal(testlib_run("umount '%s' && tune2fs -e remount-ro "
	                             "%s >/dev/null && mount %s '%s'",
	                     lf->mnt, lf->dev, lf->dev, lf->mnt),
	    0);
	start_and_connect(f, extra);
	prealloc_ok(f->cli,
	    &(preq) { target, 1200 * MiB, 0, FULL, NULL, 0, false }, &j);
	await_progress(f->cli, j->id, 64 * MiB);
	assert_int_equal(
	    testlib_run("sync -f '%s' && echo 1 > %s", lf->mnt, trigger), 0);
	e = await_end(f->cli, j->id);
	assert_int_equal(e->state, ST(FAILED));
	assert_int_equal(e->error_code, PA_FAILED_PRECONDITION);
	assert_non_null(strstr(e->error_message, "Read-only"));
	assert_non_null(strstr(e->error_message, "writable again"));
	// The operator unmounts (nothing of the agent's keeps it busy),
	// checks and mounts the filesystem again: the file goes.
	assert_int_equal(testlib_run("umount '%s' && { e2fsck -fy %s "
	                             ">/dev/null; [ $? -lt 4 ]; } && "
	                             "mount %s '%s'",
	                     lf->mnt, lf->dev, lf->dev, lf->mnt),
	    0);
	for (int i = 0; i < 100 && testlib_file_size(target) >= 0; i++)
		usleep(100 * 1000);
	assert_int_equal(testlib_file_size(target), -1);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { target, 16 * MiB, 0, FULL, NULL, 30000, false },
	        NULL),
	    ST(SUCCEEDED));
	rpc_client_free(f->cli);
	f->cli = NULL;
	assert_int_equal(testlib_daemon_stop(&f->d), 0);
	f->d.pid = 0;
	free(target);
	loopfs_free(lf);
	agentcall_job_free(j);
	agentcall_job_free(e);
}

// ---- TLS, metrics, start-up, readiness ----

static void
test_agentd__mutual_tls(void **state)
{
	fixture          *f = *state;
	char              crt[700], key[700], ca[700], ccrt[700], ckey[700];
	const char *const extra[] = { "--listen", "tls+tcp://127.0.0.1:0",
		"--tls-cert", crt, "--tls-key", key, "--tls-ca", ca, NULL };
	rpc_client_opts   o       = RPC_CLIENT_OPTS_INIT;
	rpc_client       *c       = NULL;
	probe_resp       *pr      = NULL;
	char              url[128];
	pa_err            err = PA_ERR_INIT;

	if (tlscerts_make(certs) != 0) {
		fprintf(stderr, "SKIP: openssl cannot make certificates\n");
		skip();
	}
	snprintf(crt, sizeof(crt), "%s/server.crt", certs);
	snprintf(key, sizeof(key), "%s/server.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(ccrt, sizeof(ccrt), "%s/client.crt", certs);
	snprintf(ckey, sizeof(ckey), "%s/client.key", certs);
	assert_int_equal(start_agent(f, extra), 0);
	assert_int_equal(testlib_daemon_log_value(
	                     &f->d, "url=tls+tcp://", "url", url, sizeof(url)),
	    0);
	// mbedTLS checks DNS names only: name the server as its cert does.
	o.tls_server_name = "localhost";
	o.connect_ms      = 1000;
	o.tls             = (rpc_tls_files) { ccrt, ckey, ca };
	assert_int_equal(rpc_client_new(&c, url, &o, NULL), PA_OK);
	assert_int_equal(probe(c, in(f->root, "x.img"), &pr, NULL), PA_OK);
	assert_false(pr->exists);
	protobuf_c_message_free_unpacked(&pr->base, NULL);
	rpc_client_free(c);
	o.tls = (rpc_tls_files) { NULL, NULL, ca };
	assert_int_equal(rpc_client_new(&c, url, &o, NULL), PA_OK);
	assert_int_equal(
	    probe(c, in(f->root, "x.img"), &pr, &err), PA_UNAVAILABLE);
	rpc_client_free(c);
}

static double
metric(const char *body, const char *series)
{
	double v = -1;

	assert_int_equal(promtext_value(&v, body, series), 0);
	return v;
}

static void
test_agentd__metrics_parse_and_move(void **state)
{
	fixture *f    = *state;
	char    *body = NULL, why[256] = "";

	start_and_connect(f, NULL);
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	if (promtext_check(why, sizeof(why), body) != 0)
		fail_msg("/metrics does not parse: %s", why);
	assert_true(metric(body, "prealloc_agent_queue_depth") == 0);
	free(body);
	prealloc_ok(f->cli,
	    &(preq) {
	        in(f->root, "m1.img"), 8 * MiB, 0, AUTO, NULL, 30000, false },
	    NULL);
	prealloc_ok(f->cli,
	    &(preq) {
	        in(f->root3, "m2.img"), 8 * MiB, 0, AUTO, NULL, 30000, false },
	    NULL);
	prealloc_ok(f->cli,
	    &(preq) { in(f->root3, "m3.img"), 8 * MiB, 0, FALLOC, NULL, 30000,
	        false },
	    NULL);
	assert_int_equal(testlib_http_get(f->http, "/metrics", &body), 200);
	if (promtext_check(why, sizeof(why), body) != 0)
		fail_msg("/metrics does not parse: %s", why);
	assert_true(metric(body,
	                "prealloc_agent_jobs_total{method=\"auto\","
	                "state=\"succeeded\"}") == 2);
	assert_true(metric(body,
	                "prealloc_agent_jobs_total{method=\"falloc\","
	                "state=\"failed\"}") == 1);
	assert_true(
	    metric(body, "prealloc_agent_jobs{state=\"succeeded\"}") == 2);
	assert_true(metric(body, "prealloc_agent_auto_fallbacks_total") == 1);
	assert_true(metric(body,
	                "prealloc_agent_preallocated_bytes_total{mechanism="
	                "\"write-zeroes\"}") >= 8 * MiB);
	assert_true(metric(body,
	                "prealloc_agent_preallocated_bytes_total{mechanism="
	                "\"fallocate\"}") >= 8 * MiB);
	assert_true(metric(body,
	                "prealloc_agent_job_duration_seconds_count{method="
	                "\"full\"}") == 1);
	assert_true(metric(body,
	                "prealloc_rpc_requests_total{method="
	                "\"PreallocateVolume\",code=\"OK\"}") == 3);
	free(body);
}

static void
test_agentd__refuses_to_start_without_roots(void **state)
{
	fixture *f   = *state;
	char    *out = NULL;
	int      rc;

	rc = testlib_capture(&out, "'%s' --listen '%s' 2>&1",
	    testlib_built("agent/prealloc-agentd"), f->ipc);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--root"));
	free(out);
	rc = testlib_capture(&out, "'%s' --root '%s/nope' --listen '%s' 2>&1",
	    testlib_built("agent/prealloc-agentd"), f->dir, f->ipc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "nope"));
	assert_non_null(strstr(out, "No such file"));
	free(out);
}

static void
test_agentd__ready_while_every_root_is_there(void **state)
{
	fixture          *f = *state;
	char              extra_root[700];
	const char *const extra[] = { "--root", extra_root, NULL };
	char             *body    = NULL;

	snprintf(extra_root, sizeof(extra_root), "%s/r", f->dir);
	assert_int_equal(mkdir(extra_root, 0755), 0);
	start_and_connect(f, extra);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 200);
	free(body);
	testlib_rm_rf(extra_root);
	assert_int_equal(testlib_http_get(f->http, "/readyz", &body), 503);
	assert_non_null(strstr(body, extra_root));
	free(body);
	assert_int_equal(testlib_http_get(f->http, "/healthz", &body), 200);
	free(body);
}

static void
test_agentd__full_queue_is_resource_exhausted(void **state)
{
	fixture          *f       = *state;
	const char *const extra[] = { "--max-jobs", "1", "--queue", "1", NULL };
	job_pb           *a = NULL, *b = NULL, *x = NULL;

	start_and_connect(f, extra);
	prealloc_ok(f->cli,
	    &(preq) { in(f->root, "q1.img"), 1 * GiB, 0, FULL, NULL, 0, false },
	    &a);
	await_progress(f->cli, a->id, 4 * MiB);
	assert_int_equal(
	    prealloc_ok(f->cli,
	        &(preq) { in(f->root, "q2.img"), MiB, 0, FULL, NULL, 0, false },
	        &b),
	    ST(QUEUED));
	expect_refused(f,
	    &(preq) { in(f->root, "q3.img"), MiB, 0, FULL, NULL, 0, false },
	    PA_RESOURCE_EXHAUSTED, "queue is full");
	assert_int_equal(agentcall_cancel_job(&x, f->cli, b->id, NULL), PA_OK);
	assert_int_equal(x->state, ST(CANCELLED));
	agentcall_job_free(x);
	assert_int_equal(agentcall_cancel_job(&x, f->cli, a->id, NULL), PA_OK);
	agentcall_job_free(x);
	x = await_end(f->cli, a->id);
	assert_int_equal(x->state, ST(CANCELLED));
	agentcall_job_free(x);
	agentcall_job_free(a);
	agentcall_job_free(b);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, agentd_setup, agentd_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_agentd__every_method_over_ipc_and_tcp),
		T(test_agentd__bad_requests_get_their_codes),
		T(test_agentd__ext3_auto_falls_back_and_devices_are_zeroed),
		T(test_agentd__same_request_id_and_same_target_are_one_job),
		T(test_agentd__eight_files_two_at_a_time),
		T(test_agentd__one_disk_one_writer_by_default),
		T(test_agentd__cancel_mid_fill_restores_the_file),
		T(test_agentd__sigterm_cancels_after_grace_and_exits_0),
		T(test_agentd__sigterm_lets_running_jobs_finish_within_grace),
		T(test_agentd__kill_9_then_repeat_completes_without_changing_data),
		T(test_agentd__escapes_are_refused_and_nothing_outside_changes),
		T(test_agentd__devices_are_allowed_by_identity_not_by_name),
		T(test_agentd__a_file_with_another_hard_link_is_not_grown),
		T(test_agentd__paths_are_taken_whole_or_refused),
		T(test_agentd__a_filesystem_turning_read_only_mid_fill),
		T(test_agentd__mutual_tls),
		T(test_agentd__metrics_parse_and_move),
		T(test_agentd__refuses_to_start_without_roots),
		T(test_agentd__ready_while_every_root_is_there),
		T(test_agentd__full_queue_is_resource_exhausted),
	};
	int failed;

	failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
	return loopfs_exit_status(failed);
}
