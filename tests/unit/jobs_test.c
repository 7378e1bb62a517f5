// SPDX-License-Identifier: Apache-2.0
// jobs_test.c: the job table on plain files: idempotency, joining, the
// bounded pool and queue, cancel, waiters and shutdown.
#include <fcntl.h>
#include <linux/ioprio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"
#include "jobs.h"
#include "prealloc/util.h"
#include "probe.h"
#include "testlib.h"

// Holds every job in its start event (on the worker, before the fill)
// until opened, and counts how many are inside at once: the pool's bound,
// seen from the jobs' side.
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            open;
	int             inside, max_inside, started, ended;
	int             ioprio_at_end; // the worker's, as the kernel says
};

struct fx {
	char       *dir;
	struct gate g;
	jobs       *j;
};

static void
gate_event(void *arg, const struct jobs_info *job)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->mu);
	if (job->state != JOBS_RUNNING) {
		g->ended++;
		g->ioprio_at_end =
		    (int) syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
		pthread_mutex_unlock(&g->mu);
		return;
	}
	g->started++;
	if (++g->inside > g->max_inside)
		g->max_inside = g->inside;
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->inside--;
	pthread_mutex_unlock(&g->mu);
}

static void
gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static int
jobs_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("jobs");
	pthread_mutex_init(&f->g.mu, NULL);
	pthread_cond_init(&f->g.cv, NULL);
	*state = f;
	return 0;
}

static int
jobs_teardown(void **state)
{
	struct fx *f = *state;

	gate_open(&f->g);
	jobs_free(f->j);
	pthread_cond_destroy(&f->g.cv);
	pthread_mutex_destroy(&f->g.mu);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
start(struct fx *f, unsigned running, unsigned queue, bool gated)
{
	struct jobs_opts o = JOBS_OPTS_INIT;

	o.max_running = running;
	o.max_queue   = queue;
	o.on_event    = gate_event;
	o.arg         = &f->g;
	f->g.open     = !gated;
	assert_int_equal(jobs_new(&f->j, &o, NULL), PA_OK);
}

static struct jobs_request
request(const struct fx *f, const char *name, uint64_t size, enum fill_method m,
    const char *rid)
{
	struct jobs_request r;

	memset(&r, 0, sizeof(r));
	snprintf(r.target.path, sizeof(r.target.path), "%s/%s", f->dir, name);
	snprintf(r.request_id, sizeof(r.request_id), "%s", rid);
	r.target.size   = size;
	r.target.method = m;
	return r;
}

static struct jobs_info
submit(struct fx *f, const struct jobs_request *r, enum jobs_how *how)
{
	struct jobs_info info;
	pa_err           err = PA_ERR_INIT;

	if (jobs_submit(&info, how, f->j, r, &err) != PA_OK)
		fail_msg("submit %s: %s", r->target.path, err.msg);
	return info;
}

// Poll until job @p id is in @p state (10 s at most).
static struct jobs_info
await_state(struct fx *f, const char *id, enum jobs_state state)
{
	struct jobs_info info;

	for (int i = 0; i < 1000; i++) {
		assert_int_equal(jobs_get(&info, f->j, id, NULL), PA_OK);
		if (info.state == state)
			return info;
		usleep(10 * 1000);
	}
	fail_msg("job %s stayed %s", id, jobs_state_name(info.state));
	return info;
}

static void
test_jobs__a_job_runs_to_success(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", 8 * MiB, FILL_AUTO, "r1");
	struct jobs_info    info;

	start(f, 2, 4, false);
	info = submit(f, &r, NULL);
	assert_true(info.state == JOBS_QUEUED || info.state == JOBS_RUNNING);
	assert_non_null(strstr(info.id, "job-"));
	info = await_state(f, info.id, JOBS_SUCCEEDED);
	assert_int_equal(info.error_code, PA_OK);
	assert_int_equal(info.result.mechanism, FILL_MECH_FALLOCATE);
	assert_true(info.finished_ms >= info.started_ms);
	assert_int_equal(testlib_file_size(r.target.path), (int64_t) (8 * MiB));
	assert_true(
	    testlib_allocated_bytes(r.target.path) >= (int64_t) (8 * MiB));
	usleep(100 * 1000); // the end event follows the state by a moment
	assert_int_equal(f->g.started, 1);
	assert_int_equal(f->g.ended, 1);
}

static void
test_jobs__same_request_id_is_the_same_job(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", 4 * MiB, FILL_AUTO, "rid");
	struct jobs_info    a, b;
	enum jobs_how       how = JOBS_CREATED;
	pa_err              err = PA_ERR_INIT;

	start(f, 1, 4, false);
	a = submit(f, &r, &how);
	assert_int_equal(how, JOBS_CREATED);
	await_state(f, a.id, JOBS_SUCCEEDED);
	b = submit(f, &r, &how); // finished: still the same job, not a rerun
	assert_int_equal(how, JOBS_SAME_ID);
	assert_string_equal(a.id, b.id);
	assert_int_equal(b.state, JOBS_SUCCEEDED);
	r.target.size = 8 * MiB;
	assert_int_equal(
	    jobs_submit(&b, NULL, f->j, &r, &err), PA_ALREADY_EXISTS);
	assert_non_null(strstr(err.msg, a.id));
	assert_int_equal(f->g.started, 1);
}

static void
test_jobs__same_target_joins_or_is_aborted(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", 4 * MiB, FILL_FULL, "one");
	struct jobs_request s = request(f, "a.img", 4 * MiB, FILL_FULL, "two");
	struct jobs_info    a, b;
	enum jobs_how       how;
	pa_err              err = PA_ERR_INIT;

	start(f, 1, 4, true);
	a = submit(f, &r, NULL);
	await_state(f, a.id, JOBS_RUNNING);
	b = submit(f, &s, &how);
	assert_int_equal(how, JOBS_JOINED);
	assert_string_equal(a.id, b.id);
	s.target.method = FILL_FALLOC;
	snprintf(s.request_id, sizeof(s.request_id), "other");
	assert_int_equal(jobs_submit(&b, NULL, f->j, &s, &err), PA_ABORTED);
	assert_non_null(strstr(err.msg, a.id));
	gate_open(&f->g);
	await_state(f, a.id, JOBS_SUCCEEDED);
	// The joiner's request id names the job it joined.
	s.target.method = FILL_FULL;
	snprintf(s.request_id, sizeof(s.request_id), "two");
	b = submit(f, &s, &how);
	assert_int_equal(how, JOBS_SAME_ID);
	assert_string_equal(a.id, b.id);
	// Once it ended, the target is free for a new job.
	s.target.method = FILL_FALLOC;
	snprintf(s.request_id, sizeof(s.request_id), "three");
	b = submit(f, &s, &how);
	assert_int_equal(how, JOBS_CREATED);
	assert_string_not_equal(a.id, b.id);
	await_state(f, b.id, JOBS_SUCCEEDED);
}

static void
test_jobs__full_queue_is_resource_exhausted(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r[3];
	struct jobs_info    info[2], x;
	pa_err              err = PA_ERR_INIT;

	start(f, 1, 1, true);
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%d.img", i);
		r[i] = request(f, name, MiB, FILL_AUTO, "");
	}
	info[0] = submit(f, &r[0], NULL);
	await_state(f, info[0].id, JOBS_RUNNING);
	info[1] = submit(f, &r[1], NULL);
	assert_int_equal(info[1].state, JOBS_QUEUED);
	assert_int_equal(
	    jobs_submit(&x, NULL, f->j, &r[2], &err), PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "queue is full"));
	gate_open(&f->g);
	await_state(f, info[1].id, JOBS_SUCCEEDED);
}

static void
test_jobs__cancel_queued_at_once_and_running_at_next_chunk(void **state)
{
	struct fx          *f = *state;
	struct jobs_request a = request(f, "a.img", 64 * MiB, FILL_FULL, "");
	struct jobs_request b = request(f, "b.img", 64 * MiB, FILL_FULL, "");
	struct jobs_info    ra, qb, x;
	enum jobs_cancel_outcome how;
	pa_err                   err = PA_ERR_INIT;

	start(f, 1, 4, true);
	ra = submit(f, &a, NULL);
	await_state(f, ra.id, JOBS_RUNNING);
	qb = submit(f, &b, NULL);
	assert_int_equal(jobs_cancel(&x, &how, f->j, qb.id, NULL), PA_OK);
	assert_int_equal(how, JOBS_CANCEL_CANCELLED);
	assert_int_equal(x.state, JOBS_CANCELLED);
	assert_int_equal(x.error_code, PA_CANCELLED);
	assert_int_equal(jobs_cancel(&x, &how, f->j, ra.id, NULL), PA_OK);
	assert_int_equal(how, JOBS_CANCEL_STOPPING);
	assert_int_equal(x.state, JOBS_RUNNING); // it stops at its next chunk
	gate_open(&f->g);
	x = await_state(f, ra.id, JOBS_CANCELLED);
	assert_int_equal(x.error_code, PA_CANCELLED);
	// The fill created a.img and put things back: it is gone.
	assert_int_equal(testlib_file_size(a.target.path), -1);
	assert_int_equal(testlib_file_size(b.target.path), -1);
	// Both have ended: a second cancel changes nothing, and says so.
	assert_int_equal(jobs_cancel(&x, &how, f->j, ra.id, NULL), PA_OK);
	assert_int_equal(how, JOBS_CANCEL_HAD_ENDED);
	assert_int_equal(x.state, JOBS_CANCELLED);
	assert_int_equal(jobs_cancel(&x, &how, f->j, qb.id, NULL), PA_OK);
	assert_int_equal(how, JOBS_CANCEL_HAD_ENDED);
	assert_int_equal(
	    jobs_cancel(&x, &how, f->j, "job-nope", &err), PA_NOT_FOUND);
	assert_string_equal(err.msg, "no job with id job-nope");
	assert_int_equal(jobs_get(&x, f->j, "job-nope", NULL), PA_NOT_FOUND);
}

// A fallocate job does not wait behind jobs that write data: with the
// one writer busy and another writer queued, it starts at once on the
// fast lane.
static void
test_jobs__fast_lane_does_not_wait_behind_writers(void **state)
{
	struct fx          *f  = *state;
	struct jobs_request w1 = request(f, "w1.img", 8 * MiB, FILL_FULL, "");
	struct jobs_request w2 = request(f, "w2.img", 8 * MiB, FILL_FULL, "");
	struct jobs_request fa = request(f, "f.img", 8 * MiB, FILL_FALLOC, "");
	struct jobs_info    a, b, c, x;

	fa.lane = JOBS_LANE_FAST;
	start(f, 1, 8, true);
	a = submit(f, &w1, NULL);
	await_state(f, a.id, JOBS_RUNNING);
	b = submit(f, &w2, NULL);
	c = submit(f, &fa, NULL);
	await_state(f, c.id, JOBS_RUNNING); // held in the gate, but started
	assert_int_equal(jobs_get(&x, f->j, b.id, NULL), PA_OK);
	assert_int_equal(x.state, JOBS_QUEUED);
	gate_open(&f->g);
	await_state(f, a.id, JOBS_SUCCEEDED);
	await_state(f, b.id, JOBS_SUCCEEDED);
	x = await_state(f, c.id, JOBS_SUCCEEDED);
	assert_int_equal(x.req.lane, JOBS_LANE_FAST);
}

// The lane comes from what the job does, never from the caller's wish;
// the disk from what the job writes to.
static void
test_jobs__classify_by_method_and_target(void **state)
{
	struct fx            *f     = *state;
	struct confine_target t     = CONFINE_TARGET_INIT;
	struct jobs_request   r     = request(f, "c.img", MiB, FILL_FULL, "");
	int                   dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	struct stat           st;

	assert_true(dirfd >= 0);
	assert_int_equal(fstat(dirfd, &st), 0);
	t.kind  = CONFINE_FILE;
	t.dirfd = dirfd;
	jobs_classify(&r, &t);
	assert_int_equal(r.lane, JOBS_LANE_WRITER);
	assert_true(r.disk == disk_of(st.st_dev));
	r.target.method = FILL_FALLOC;
	jobs_classify(&r, &t);
	assert_int_equal(r.lane, JOBS_LANE_FAST);
	r.target.method = FILL_AUTO;
	jobs_classify(&r, &t);
	assert_int_equal(r.lane,
	    probe_falloc_works(dirfd) == PROBE_FALLOC_YES ? JOBS_LANE_FAST
	                                                  : JOBS_LANE_WRITER);
	t.kind = CONFINE_DEVICE; // zeroing a device grows with its size
	jobs_classify(&r, &t);
	assert_int_equal(r.lane, JOBS_LANE_WRITER);
	r.target.method = FILL_FALLOC;
	jobs_classify(&r, &t);
	assert_int_equal(r.lane, JOBS_LANE_WRITER);
	assert_string_equal(jobs_lane_name(JOBS_LANE_FAST), "fast");
	assert_string_equal(jobs_lane_name(JOBS_LANE_WRITER), "writer");
	close(dirfd);
}

// One writer per disk: a second job on a busy disk waits even with a
// worker free, and a job on another disk passes it in the queue. Within
// the disk, the order is the order of the requests.
static void
test_jobs__one_writer_per_disk_and_disks_in_parallel(void **state)
{
	struct fx          *f  = *state;
	struct jobs_request a1 = request(f, "a1.img", 4 * MiB, FILL_FULL, "");
	struct jobs_request a2 = request(f, "a2.img", 4 * MiB, FILL_FULL, "");
	struct jobs_request b1 = request(f, "b1.img", 4 * MiB, FILL_FULL, "");
	struct jobs_info    x1, x2, y1, x;

	a1.disk = a2.disk = makedev(250, 1); // as jobs_classify() sets them
	b1.disk           = makedev(250, 2);
	start(f, 3, 8, true);
	x1 = submit(f, &a1, NULL);
	x2 = submit(f, &a2, NULL);
	y1 = submit(f, &b1, NULL);
	await_state(f, x1.id, JOBS_RUNNING);
	await_state(f, y1.id, JOBS_RUNNING);
	usleep(100 * 1000); // a worker is free: a2 must still not start
	assert_int_equal(jobs_get(&x, f->j, x2.id, NULL), PA_OK);
	assert_int_equal(x.state, JOBS_QUEUED);
	gate_open(&f->g);
	x1 = await_state(f, x1.id, JOBS_SUCCEEDED);
	x2 = await_state(f, x2.id, JOBS_SUCCEEDED);
	await_state(f, y1.id, JOBS_SUCCEEDED);
	assert_true(x2.started_ms >= x1.finished_ms);
}

// The agent's rate caps a request's own, and fills in for none; the
// worker writes at the agent's I/O class.
static void
test_jobs__write_rate_is_capped_and_the_io_class_applied(void **state)
{
	struct fx          *f = *state;
	struct jobs_opts    o = JOBS_OPTS_INIT;
	struct jobs_request r[3];
	const uint64_t      asked[3] = { 0, 64 * MiB, 4096 * MiB };
	const uint64_t      want[3]  = { 512 * MiB, 64 * MiB, 512 * MiB };
	struct jobs_info    x;

	o.on_event       = gate_event;
	o.arg            = &f->g;
	o.max_write_rate = 512 * MiB;
	o.io_class       = IO_CLASS_IDLE;
	f->g.open        = true;
	assert_int_equal(jobs_new(&f->j, &o, NULL), PA_OK);
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%d.img", i);
		r[i] = request(f, name, MiB, FILL_FULL, "");
		r[i].target.max_write_rate = asked[i];
		x                          = submit(f, &r[i], NULL);
		assert_int_equal(x.req.target.max_write_rate, want[i]);
		await_state(f, x.id, JOBS_SUCCEEDED);
	}
	pthread_mutex_lock(&f->g.mu);
	assert_int_equal(
	    IOPRIO_PRIO_CLASS(f->g.ioprio_at_end), IOPRIO_CLASS_IDLE);
	pthread_mutex_unlock(&f->g.mu);
}

// Each waiting job knows its place in its own queue, and the queues show
// per lane and per disk.
static void
test_jobs__positions_and_queues_per_disk(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r[4];
	struct jobs_info    x[4], y;
	struct jobs_queue   q[8];
	const dev_t         disk[4] = { makedev(250, 1), makedev(250, 1),
		        makedev(250, 1), makedev(250, 2) };
	const unsigned      pos[4]  = { 0, 1, 2, 1 };
	size_t              n;

	start(f, 1, 8, true);
	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d.img", i);
		r[i]      = request(f, name, MiB, FILL_FULL, "");
		r[i].disk = disk[i];
		x[i]      = submit(f, &r[i], NULL);
		if (i == 0)
			await_state(f, x[0].id, JOBS_RUNNING);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs_get(&y, f->j, x[i].id, NULL), PA_OK);
		assert_int_equal(y.position, pos[i]);
	}
	n = jobs_queues(q, 8, f->j);
	assert_int_equal(n, 3); // the fast lane, and two disks
	assert_int_equal(q[0].lane, JOBS_LANE_FAST);
	assert_int_equal(q[0].queued, 0);
	assert_true(q[1].lane == JOBS_LANE_WRITER && q[1].disk == disk[0]);
	assert_int_equal(q[1].running, 1);
	assert_int_equal(q[1].queued, 2);
	assert_true(q[2].disk == disk[3] && q[2].queued == 1);
	gate_open(&f->g);
	for (int i = 0; i < 4; i++) {
		y = await_state(f, x[i].id, JOBS_SUCCEEDED);
		assert_int_equal(y.position, 0);
	}
}

// A waiting job's expected start: the bytes ahead of it on its disk at
// the disk's rate (here the agent's limit, as nothing has run yet).
static void
test_jobs__expected_start_from_the_bytes_ahead(void **state)
{
	struct fx          *f = *state;
	struct jobs_opts    o = JOBS_OPTS_INIT;
	struct jobs_request r[4];
	const uint64_t      size[4] = { 4 * MiB, 2 * MiB, MiB, MiB };
	const dev_t         disk[4] = { makedev(250, 1), makedev(250, 1),
		        makedev(250, 1), makedev(250, 2) };
	// ms after now: a runs; b waits for a's 4 MiB, c for a's and b's;
	// d's disk is idle.
	const int64_t    want[4] = { 0, 4000, 6000, 0 };
	struct jobs_info x[4], y;
	int64_t          now;

	o.max_running    = 1;
	o.on_event       = gate_event;
	o.arg            = &f->g;
	o.max_write_rate = MiB; // a MiB a second
	assert_int_equal(jobs_new(&f->j, &o, NULL), PA_OK);
	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "e%d.img", i);
		r[i]      = request(f, name, size[i], FILL_FULL, "");
		r[i].disk = disk[i];
		x[i]      = submit(f, &r[i], NULL);
		if (i == 0)
			await_state(f, x[0].id, JOBS_RUNNING);
	}
	now = pa_clock_unix_ms();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs_get(&y, f->j, x[i].id, NULL), PA_OK);
		if (i == 0) {
			assert_int_equal(y.expected_start_ms, 0); // it runs
			continue;
		}
		assert_int_equal(y.state, JOBS_QUEUED);
		if (y.expected_start_ms < now + want[i] - 300 ||
		    y.expected_start_ms > now + want[i] + 300)
			fail_msg("job %d: expected in %lld ms, want %lld", i,
			    (long long) (y.expected_start_ms - now),
			    (long long) want[i]);
	}
	gate_open(&f->g);
	for (int i = 0; i < 4; i++) {
		y = await_state(f, x[i].id, JOBS_SUCCEEDED);
		assert_int_equal(y.expected_start_ms, 0);
	}
}

static void
test_jobs__at_most_max_running_at_once(void **state)
{
	struct fx       *f = *state;
	struct jobs_info info[6];

	start(f, 2, 8, true);
	for (int i = 0; i < 6; i++) {
		char                name[16];
		struct jobs_request r;

		snprintf(name, sizeof(name), "%d.img", i);
		r       = request(f, name, 2 * MiB, FILL_FULL, "");
		info[i] = submit(f, &r, NULL);
	}
	usleep(200 * 1000);
	pthread_mutex_lock(&f->g.mu);
	assert_int_equal(f->g.inside, 2);
	pthread_mutex_unlock(&f->g.mu);
	gate_open(&f->g);
	for (int i = 0; i < 6; i++)
		await_state(f, info[i].id, JOBS_SUCCEEDED);
	assert_int_equal(f->g.max_inside, 2);
}

struct waited {
	pthread_mutex_t  mu;
	int              calls;
	pthread_t        thread;
	uint64_t         at_ns;
	struct jobs_info job;
};

static void
waited_init(struct waited *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
}

static void
on_waited(void *arg, const struct jobs_info *job)
{
	struct waited *w = arg;

	pthread_mutex_lock(&w->mu);
	w->calls++;
	w->thread = pthread_self();
	w->at_ns  = testlib_now_ns();
	w->job    = *job;
	pthread_mutex_unlock(&w->mu);
}

static int
waited_calls(struct waited *w, int ms)
{
	int n = 0;

	for (int i = 0; i <= ms / 5; i++) {
		pthread_mutex_lock(&w->mu);
		n = w->calls;
		pthread_mutex_unlock(&w->mu);
		if (n > 0)
			break;
		usleep(5 * 1000);
	}
	return n;
}

static void
test_jobs__waiters_end_on_deadline_or_job_end(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", 4 * MiB, FILL_FULL, "");
	struct waited       w, e, n;
	struct jobs_info    info;
	uint64_t            t0;

	waited_init(&w);
	waited_init(&e);
	waited_init(&n);
	start(f, 1, 4, true);
	info = submit(f, &r, NULL);
	await_state(f, info.id, JOBS_RUNNING);
	// wait_ms 0 answers at once, on this thread.
	assert_int_equal(
	    jobs_wait(f->j, info.id, 0, 0, on_waited, &n, NULL), PA_OK);
	assert_int_equal(n.calls, 1);
	assert_true(pthread_equal(n.thread, pthread_self()));
	// A deadline ends a wait without blocking the caller.
	t0 = testlib_now_ns();
	assert_int_equal(
	    jobs_wait(f->j, info.id, 150, 0, on_waited, &w, NULL), PA_OK);
	assert_int_equal(
	    jobs_wait(f->j, info.id, 60000, 0, on_waited, &e, NULL), PA_OK);
	assert_true(testlib_now_ns() - t0 < 50 * 1000000ULL);
	assert_int_equal(waited_calls(&w, 3000), 1);
	assert_true(w.at_ns - t0 >= 140 * 1000000ULL);
	assert_int_equal(w.job.state, JOBS_RUNNING);
	assert_false(pthread_equal(w.thread, pthread_self()));
	assert_int_equal(e.calls, 0);
	// The job's end ends the other.
	gate_open(&f->g);
	assert_int_equal(waited_calls(&e, 10000), 1);
	assert_int_equal(e.job.state, JOBS_SUCCEEDED);
	assert_int_equal(
	    jobs_wait(f->j, "job-nope", 10, 0, on_waited, &e, NULL),
	    PA_NOT_FOUND);
	assert_int_equal(e.calls, 1);
}

static void
test_jobs__progress_waiter_sees_progress(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", 256 * MiB, FILL_FULL, "");
	struct waited       w;
	struct jobs_info    info;

	waited_init(&w);
	start(f, 1, 4, true);
	info = submit(f, &r, NULL);
	await_state(f, info.id, JOBS_RUNNING);
	assert_int_equal(jobs_wait(f->j, info.id, 60000, JOBS_WAIT_PROGRESS,
	                     on_waited, &w, NULL),
	    PA_OK);
	gate_open(&f->g);
	assert_int_equal(waited_calls(&w, 10000), 1);
	assert_true(w.job.done > 0);
	assert_int_equal(w.job.total, 256 * MiB);
	await_state(f, info.id, JOBS_SUCCEEDED);
}

static void
test_jobs__finished_jobs_are_kept_up_to_a_count(void **state)
{
	struct fx        *f   = *state;
	struct jobs_opts  o   = JOBS_OPTS_INIT;
	struct jobs_info *all = NULL, last;
	size_t            n   = 0, counts[JOBS_NSTATES];

	o.keep_finished = 2;
	assert_int_equal(jobs_new(&f->j, &o, NULL), PA_OK);
	for (int i = 0; i < 4; i++) {
		char                name[16];
		struct jobs_request r;

		snprintf(name, sizeof(name), "%d.img", i);
		r    = request(f, name, MiB, FILL_AUTO, "");
		last = submit(f, &r, NULL);
		await_state(f, last.id, JOBS_SUCCEEDED);
	}
	assert_int_equal(jobs_list(&all, &n, f->j, NULL), PA_OK);
	assert_int_equal(n, 2);
	assert_string_equal(all[1].id, last.id);
	free(all);
	jobs_counts(counts, f->j);
	assert_int_equal(counts[JOBS_SUCCEEDED], 2);
	assert_int_equal(counts[JOBS_RUNNING], 0);
}

static void
test_jobs__shutdown_cancels_after_grace_and_restores(void **state)
{
	struct fx          *f = *state;
	struct jobs_request a = request(f, "big.img", 2 * GiB, FILL_FULL, "");
	struct jobs_request b = request(f, "b.img", MiB, FILL_AUTO, "");
	struct jobs_info    ra, qb, x;
	struct waited       w;
	pa_err              err = PA_ERR_INIT;

	waited_init(&w);
	start(f, 1, 4, false);
	ra = submit(f, &a, NULL);
	await_state(f, ra.id, JOBS_RUNNING);
	qb = submit(f, &b, NULL);
	assert_int_equal(
	    jobs_wait(f->j, ra.id, 60000, 0, on_waited, &w, NULL), PA_OK);
	assert_int_equal(jobs_shutdown(f->j, 100), 2);
	assert_int_equal(jobs_get(&x, f->j, ra.id, NULL), PA_OK);
	assert_int_equal(x.state, JOBS_CANCELLED);
	assert_int_equal(jobs_get(&x, f->j, qb.id, NULL), PA_OK);
	assert_int_equal(x.state, JOBS_CANCELLED);
	assert_int_equal(testlib_file_size(a.target.path), -1);
	assert_int_equal(waited_calls(&w, 1000), 1);
	assert_int_equal(w.job.state, JOBS_CANCELLED);
	assert_int_equal(jobs_submit(&x, NULL, f->j, &b, &err), PA_UNAVAILABLE);
	assert_int_equal(jobs_shutdown(f->j, 0), 0);
}

static void
test_jobs__free_answers_waiters_and_takes_null(void **state)
{
	struct fx          *f = *state;
	struct jobs_request r = request(f, "a.img", MiB, FILL_AUTO, "");
	struct waited       w;
	struct jobs_info    info;
	struct jobs_opts    o    = JOBS_OPTS_INIT;
	jobs               *none = NULL;

	waited_init(&w);
	o.max_running = 0;
	assert_int_equal(jobs_new(&none, &o, NULL), PA_INVALID_ARGUMENT);
	start(f, 1, 4, true);
	info = submit(f, &r, NULL);
	await_state(f, info.id, JOBS_RUNNING);
	assert_int_equal(
	    jobs_wait(f->j, info.id, 60000, 0, on_waited, &w, NULL), PA_OK);
	gate_open(&f->g);
	jobs_free(f->j);
	f->j = NULL;
	assert_int_equal(w.calls, 1);
	jobs_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, jobs_setup, jobs_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_jobs__a_job_runs_to_success),
		T(test_jobs__same_request_id_is_the_same_job),
		T(test_jobs__same_target_joins_or_is_aborted),
		T(test_jobs__full_queue_is_resource_exhausted),
		T(test_jobs__cancel_queued_at_once_and_running_at_next_chunk),
		T(test_jobs__fast_lane_does_not_wait_behind_writers),
		T(test_jobs__classify_by_method_and_target),
		T(test_jobs__one_writer_per_disk_and_disks_in_parallel),
		T(test_jobs__write_rate_is_capped_and_the_io_class_applied),
		T(test_jobs__positions_and_queues_per_disk),
		T(test_jobs__expected_start_from_the_bytes_ahead),
		T(test_jobs__at_most_max_running_at_once),
		T(test_jobs__waiters_end_on_deadline_or_job_end),
		T(test_jobs__progress_waiter_sees_progress),
		T(test_jobs__finished_jobs_are_kept_up_to_a_count),
		T(test_jobs__shutdown_cancels_after_grace_and_restores),
		T(test_jobs__free_answers_waiters_and_takes_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
