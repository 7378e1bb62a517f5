// SPDX-License-Identifier: Apache-2.0
// jobs.c: the agent's job table: a bounded worker pool and queue over
// fill_run, idempotent by request id, with waiters for long polls.
//
// One mutex guards the table, the queue and the waiters. Nothing slow runs
// under it: fills run on workers without it, and waiters and events are
// collected under it and called after it is released, so a waiter may
// answer an RPC (which packs and sends) without holding up the table.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "disk.h"
#include "jobs.h"
#include "probe.h"
#include "prealloc/util.h"
#include "prealloc/taskq.h"

#define JOBS_TICK_MS 1000   // the timer wakes at least this often to prune
#define JOBS_MAX_ALIASES 16 // joiners' request ids remembered per job
#define JOBS_RATES 32       // disks whose last write rate is remembered
// A running writer's own pace counts once it has run this long.
#define JOBS_PACE_MIN_MS 250

struct jobs_job {
	struct jobs_info info;
	atomic_bool      cancel;      // fill_run stops at its next chunk
	uint64_t         end_mono_ms; // when it finished, for keep_ms
	char           **aliases;     // request ids of requests that joined
	size_t           naliases;
	struct jobs_job *next;  // the table, oldest first
	struct jobs_job *qnext; // the queue, while QUEUED
	// Its turn on the worker pool: submitted when queued, and kept (the
	// job is never pruned) until a worker has taken it, even if the job
	// was cancelled meanwhile.
	pa_task task;
	bool    task_pending;
	bool    dispatched; // a writer holding a writer slot and a disk slot
	jobs   *owner;
};

// How many writers a disk has now; the table holds at most max_running.
struct jobs_disk {
	dev_t    disk;
	unsigned writers;
};

// The rate the last writer that finished on a disk wrote at, for the
// estimates of when jobs start.
struct jobs_rate {
	dev_t    disk;
	uint64_t bytes_per_s;
	uint64_t seen_ms; // monotonic: the oldest entry makes room
};

struct jobs_waiter {
	struct jobs_job    *job;
	uint64_t            deadline_ms; // monotonic
	unsigned            flags;
	jobs_wait_fn        fn;
	void               *arg;
	struct jobs_info    snap; // the job as it was when the wait ended
	struct jobs_waiter *next;
};

struct jobs {
	struct jobs_opts    o;
	pthread_mutex_t     mu;
	pthread_cond_t      timer; // a waiter was added, or stopping
	pthread_cond_t      idle;  // a running job ended
	struct jobs_job    *table, *qhead, *qtail;
	struct jobs_waiter *waiters;
	size_t              queued, running, finished;
	bool                draining, stopping;
	uint32_t            id_prefix;
	uint64_t            id_next;
	pa_taskq           *workers; // max_running threads: the writers
	pa_taskq           *fast;    // max_fast threads, or NULL
	unsigned            writing; // writers dispatched (<= max_running)
	struct jobs_disk   *disks;   // max_running entries
	struct jobs_rate    rates[JOBS_RATES];
	uint64_t            fast_ms; // the last fast job's duration
	pthread_t           timer_thread;
	bool                timer_started;
};

static const char *const jobs_state_names[JOBS_NSTATES] = { "unspecified",
	"queued", "running", "succeeded", "failed", "cancelled" };

const char *
jobs_state_name(enum jobs_state s)
{
	return (unsigned) s < JOBS_NSTATES ? jobs_state_names[s] : "unknown";
}

bool
jobs_state_final(enum jobs_state s)
{
	return s == JOBS_SUCCEEDED || s == JOBS_FAILED || s == JOBS_CANCELLED;
}

// Deadlines and ages in jobs are kept in monotonic milliseconds.
static uint64_t
jobs_mono_ms(void)
{
	return pa_clock_ns() / 1000000u;
}

static struct jobs_job *
jobs_find_id(jobs *j, const char *id)
{
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		if (strcmp(x->info.id, id) == 0)
			return x;
	return NULL;
}

static bool
jobs_has_request(const struct jobs_job *x, const char *request_id)
{
	if (strcmp(x->info.req.request_id, request_id) == 0)
		return true;
	for (size_t i = 0; i < x->naliases; i++)
		if (strcmp(x->aliases[i], request_id) == 0)
			return true;
	return false;
}

static struct jobs_job *
jobs_find_request(jobs *j, const char *request_id)
{
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		if (jobs_has_request(x, request_id))
			return x;
	return NULL;
}

// A request that joined keeps its own id too, so that repeating it later
// finds this job. Past JOBS_MAX_ALIASES (or out of memory) it is not
// remembered, and a repeat after the job ends runs a harmless second fill.
static void
jobs_add_alias(struct jobs_job *x, const char *request_id)
{
	char **grown;

	if (request_id[0] == '\0' || jobs_has_request(x, request_id) ||
	    x->naliases == JOBS_MAX_ALIASES)
		return;
	grown = realloc(x->aliases, (x->naliases + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	x->aliases = grown;
	if ((x->aliases[x->naliases] = strdup(request_id)) != NULL)
		x->naliases++;
}

static void
jobs_job_free(struct jobs_job *x)
{
	for (size_t i = 0; i < x->naliases; i++)
		free(x->aliases[i]);
	free(x->aliases);
	free(x);
}

static struct jobs_job *
jobs_find_active(jobs *j, const char *path)
{
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		if (!jobs_state_final(x->info.state) &&
		    strcmp(x->info.req.target.path, path) == 0)
			return x;
	return NULL;
}

static bool
jobs_same_params(const struct jobs_request *a, const struct jobs_request *b)
{
	const struct fill_target *x = &a->target, *y = &b->target;

	return strcmp(x->path, y->path) == 0 && x->size == y->size &&
	    x->offset == y->offset && x->method == y->method &&
	    x->force == y->force;
}

// ---- when queued jobs are expected to start (see jobs_info) ----

static bool jobs_on_fast_lane(const jobs *j, const struct jobs_job *x);

// Bytes a writer has yet to write, as far as it is known: 0 when not (a
// whole device before its fill has begun).
static uint64_t
jobs_bytes_left(const struct jobs_info *i)
{
	const struct fill_target *t     = &i->req.target;
	uint64_t                  total = i->total != 0 ? i->total
	                     : t->size > t->offset      ? t->size - t->offset
	                                                : 0;

	return total > i->done ? total - i->done : 0;
}

// Remember the rate a writer on @p disk wrote at; the oldest entry
// makes room.
static void
jobs_rate_note(jobs *j, const struct jobs_info *i)
{
	struct jobs_rate *slot = &j->rates[0];

	if (i->req.disk == 0 || i->result.bytes_written == 0 ||
	    i->duration_ms == 0)
		return;
	for (int k = 0; k < JOBS_RATES; k++) {
		if (j->rates[k].disk == i->req.disk) {
			slot = &j->rates[k];
			break;
		}
		if (j->rates[k].seen_ms < slot->seen_ms)
			slot = &j->rates[k];
	}
	slot->disk        = i->req.disk;
	slot->bytes_per_s = i->result.bytes_written * 1000 / i->duration_ms;
	slot->seen_ms     = jobs_mono_ms();
}

// The rate @p disk's writers are expected to write at: a running
// writer's own pace, else the last finished writer's, else the limit;
// 0 when none is known.
static uint64_t
jobs_disk_rate(const jobs *j, dev_t disk, int64_t now)
{
	for (const struct jobs_job *x = j->table; x != NULL; x = x->next) {
		const struct jobs_info *i = &x->info;

		if (i->state == JOBS_RUNNING && !jobs_on_fast_lane(j, x) &&
		    i->req.disk == disk && i->started_ms != 0 &&
		    now - i->started_ms >= JOBS_PACE_MIN_MS && i->done > 0)
			return i->done * 1000 /
			    (uint64_t) (now - i->started_ms);
	}
	for (int k = 0; k < JOBS_RATES; k++)
		if (j->rates[k].disk == disk && j->rates[k].bytes_per_s > 0)
			return j->rates[k].bytes_per_s;
	return j->o.max_write_rate;
}

// How long @p i writes at @p rate, or its own lower limit; < 0 when
// not known.
static double
jobs_write_ms(const struct jobs_info *i, uint64_t rate)
{
	uint64_t cap   = i->req.target.max_write_rate;
	uint64_t bytes = jobs_bytes_left(i);

	if (cap != 0 && (rate == 0 || cap < rate))
		rate = cap;
	if (rate == 0 || (bytes == 0 && i->state == JOBS_QUEUED))
		return -1;
	return (double) bytes * 1000.0 / (double) rate;
}

// One queue's estimate as the pass goes: the work before its next job.
struct jobs_eta {
	enum jobs_lane lane;
	dev_t          disk;
	uint64_t       rate;     // writers: bytes per second
	double         ahead_ms; // < 0: not known from here on
	double         slots;    // jobs of this queue that run at once
};

// A writer queue's start: what its disk's running writers have left.
static void
jobs_eta_start(const jobs *j, struct jobs_eta *e, int64_t now)
{
	unsigned per_disk = j->o.writers_per_disk;

	e->rate  = jobs_disk_rate(j, e->disk, now);
	e->slots = per_disk != 0 && per_disk < j->o.max_running
	    ? per_disk
	    : j->o.max_running;
	for (const struct jobs_job *x = j->table; x != NULL; x = x->next) {
		double ms;

		if (x->info.state != JOBS_RUNNING || jobs_on_fast_lane(j, x) ||
		    x->info.req.disk != e->disk || e->ahead_ms < 0)
			continue;
		ms          = jobs_write_ms(&x->info, e->rate);
		e->ahead_ms = ms < 0 ? -1 : e->ahead_ms + ms / e->slots;
	}
}

static struct jobs_eta *
jobs_eta_entry(const jobs *j, struct jobs_eta *e, size_t *n, size_t max,
    const struct jobs_job *q, int64_t now)
{
	bool           fast = jobs_on_fast_lane(j, q);
	enum jobs_lane lane = fast ? JOBS_LANE_FAST : JOBS_LANE_WRITER;
	dev_t          disk = fast ? 0 : q->info.req.disk;

	for (size_t i = 0; i < *n; i++)
		if (e[i].lane == lane && e[i].disk == disk)
			return &e[i];
	if (*n == max)
		return NULL;
	e[*n] = (struct jobs_eta) { .lane = lane, .disk = disk, .slots = 1 };
	if (fast)
		e[*n].slots = j->o.max_fast;
	else
		jobs_eta_start(j, &e[*n], now);
	return &e[(*n)++];
}

// Set expected_start_ms on every queued job, in one pass over the queue.
// Called with the lock, when a snapshot is taken.
static void
jobs_estimate(jobs *j)
{
	int64_t          now = pa_clock_unix_ms();
	size_t           max = j->queued + 1, n = 0;
	struct jobs_eta *e = calloc(max, sizeof(*e));

	for (struct jobs_job *q = j->qhead; q != NULL; q = q->qnext) {
		struct jobs_eta *t = NULL;
		double           ms;

		q->info.expected_start_ms = 0;
		if (q->info.state != JOBS_QUEUED)
			continue;
		if (q->dispatched) { // a worker is taking it
			q->info.expected_start_ms = now;
			continue;
		}
		if (e == NULL ||
		    (t = jobs_eta_entry(j, e, &n, max, q, now)) == NULL ||
		    t->ahead_ms < 0)
			continue;
		q->info.expected_start_ms = now + (int64_t) t->ahead_ms;
		ms                        = t->lane == JOBS_LANE_FAST
		                           ? (double) j->fast_ms
		                           : jobs_write_ms(&q->info, t->rate);
		t->ahead_ms = ms < 0 ? -1 : t->ahead_ms + ms / t->slots;
	}
	free(e);
}

// @p x's info; an estimate only while it waits (one made then stays in
// x->info).
static struct jobs_info
jobs_copy(const struct jobs_job *x)
{
	struct jobs_info i = x->info;

	if (i.state != JOBS_QUEUED)
		i.expected_start_ms = 0;
	return i;
}

// @p x as it is now, its estimate made if it waits.
static struct jobs_info
jobs_snapshot(jobs *j, struct jobs_job *x)
{
	if (x->info.state == JOBS_QUEUED)
		jobs_estimate(j);
	return jobs_copy(x);
}

// ---- waiters: collected under the lock, called after it ----

// Move the waiters that @p pick chooses onto @p fire, with a snapshot.
static void
jobs_take_waiters(jobs *j, struct jobs_waiter                         **fire,
    bool (*pick)(const struct jobs_waiter *, const void *), const void *ctx)
{
	struct jobs_waiter **pp = &j->waiters;

	while (*pp != NULL) {
		struct jobs_waiter *w = *pp;

		if (!pick(w, ctx)) {
			pp = &w->next;
			continue;
		}
		*pp     = w->next;
		w->snap = jobs_snapshot(j, w->job);
		w->next = *fire;
		*fire   = w;
	}
}

static void
jobs_fire(struct jobs_waiter *fire)
{
	while (fire != NULL) {
		struct jobs_waiter *w = fire;

		fire = w->next;
		w->fn(w->arg, &w->snap);
		free(w);
	}
}

static bool
jobs_pick_job(const struct jobs_waiter *w, const void *job)
{
	return w->job == job;
}

static bool
jobs_pick_progress(const struct jobs_waiter *w, const void *job)
{
	return w->job == job && (w->flags & JOBS_WAIT_PROGRESS);
}

static bool
jobs_pick_expired(const struct jobs_waiter *w, const void *now)
{
	return w->deadline_ms <= *(const uint64_t *) now;
}

static bool
jobs_pick_all(const struct jobs_waiter *w, const void *unused)
{
	return true;
}

// ---- the table ----

// Drop finished jobs beyond keep_finished, or older than keep_ms.
static void
jobs_prune(jobs *j, uint64_t now)
{
	struct jobs_job **pp   = &j->table;
	size_t            over = j->finished > j->o.keep_finished
	               ? j->finished - j->o.keep_finished
	               : 0;

	while (*pp != NULL) {
		struct jobs_job *x = *pp;

		if (jobs_state_final(x->info.state) && !x->task_pending &&
		    !x->dispatched &&
		    (over > 0 || now - x->end_mono_ms >= j->o.keep_ms)) {
			*pp = x->next;
			jobs_job_free(x);
			j->finished--;
			if (over > 0)
				over--;
			continue;
		}
		pp = &x->next;
	}
}

// End @p x in @p state; its waiters go onto @p fire.
static void
jobs_end_locked(jobs *j, struct jobs_job *x, enum jobs_state state, int code,
    const char *msg, struct jobs_waiter **fire)
{
	uint64_t now = jobs_mono_ms();

	if (x->info.state == JOBS_RUNNING)
		j->running--;
	x->info.state       = state;
	x->info.error_code  = code;
	x->info.finished_ms = pa_clock_unix_ms();
	x->end_mono_ms      = now;
	if (x->info.started_ms != 0)
		x->info.duration_ms =
		    (uint64_t) (x->info.finished_ms - x->info.started_ms);
	snprintf(x->info.error, sizeof(x->info.error), "%s", msg);
	j->finished++;
	jobs_take_waiters(j, fire, jobs_pick_job, x);
	pthread_cond_broadcast(&j->idle);
}

static void jobs_renumber(jobs *j);

static void
jobs_unqueue(jobs *j, struct jobs_job *x)
{
	struct jobs_job **pp = &j->qhead;

	while (*pp != NULL && *pp != x)
		pp = &(*pp)->qnext;
	if (*pp == NULL)
		return;
	*pp = x->qnext;
	if (j->qtail == x) {
		j->qtail = NULL;
		for (struct jobs_job *q = j->qhead; q != NULL; q = q->qnext)
			j->qtail = q;
	}
	x->qnext         = NULL;
	x->info.position = 0;
	j->queued--;
	jobs_renumber(j);
}

// Cancel a queued job at once: it never started, so nothing to restore.
// Called with the lock; drops and retakes it to tell the waiters.
// @p snap gets the job as it ended: @p x may be pruned once unlocked.
static void
jobs_cancel_queued(
    jobs *j, struct jobs_job *x, const char *why, struct jobs_info *snap)
{
	struct jobs_waiter *fire = NULL;

	jobs_unqueue(j, x);
	jobs_end_locked(j, x, JOBS_CANCELLED, PA_CANCELLED, why, &fire);
	*snap = jobs_copy(x);
	pthread_mutex_unlock(&j->mu);
	if (j->o.on_event != NULL)
		j->o.on_event(j->o.arg, snap);
	jobs_fire(fire);
	pthread_mutex_lock(&j->mu);
}

static int
jobs_new_job(struct jobs_job **out, jobs *j, const struct jobs_request *req)
{
	struct jobs_job *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return PA_RESOURCE_EXHAUSTED;
	x->info.req        = *req;
	x->info.state      = JOBS_QUEUED;
	x->info.created_ms = pa_clock_unix_ms();
	snprintf(x->info.id, sizeof(x->info.id), "job-%08x-%llu", j->id_prefix,
	    (unsigned long long) ++j->id_next);
	atomic_init(&x->cancel, false);
	*out = x;
	return PA_OK;
}

static void jobs_task_run(void *arg);

// ---- the writers' scheduler ----
//
// Writers are queued per disk: at most writers_per_disk run on one disk,
// and different disks go on in parallel up to max_running. Within a disk
// the order is FIFO, the order requests came in: the fast lane already
// takes the jobs whose cost does not grow with size, and shortest first
// would let a stream of small imports starve a large one for ever.

static bool
jobs_on_fast_lane(const jobs *j, const struct jobs_job *x)
{
	return x->info.req.lane == JOBS_LANE_FAST && j->fast != NULL;
}

// Do @p a and @p b wait in the same queue?
static bool
jobs_same_queue(
    const jobs *j, const struct jobs_job *a, const struct jobs_job *b)
{
	bool fast = jobs_on_fast_lane(j, a);

	return fast == jobs_on_fast_lane(j, b) &&
	    (fast || a->info.req.disk == b->info.req.disk);
}

// The entry of @p lane and @p disk in @p out[0..*n), made when missing
// and there is room; NULL when there is none.
static struct jobs_queue *
jobs_queue_entry(struct jobs_queue *out, size_t *n, size_t max,
    enum jobs_lane lane, dev_t disk)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i].lane == lane && out[i].disk == disk)
			return &out[i];
	if (*n == max)
		return NULL;
	out[*n] = (struct jobs_queue) { .lane = lane, .disk = disk };
	return &out[(*n)++];
}

// How many wait before @p q in its queue, counted the long way: for when
// there is no memory to count them all at once.
static unsigned
jobs_ahead(jobs *j, const struct jobs_job *q)
{
	unsigned ahead = 0;

	for (struct jobs_job *p = j->qhead; p != q; p = p->qnext)
		ahead += !p->dispatched && jobs_same_queue(j, p, q);
	return ahead;
}

// Number the waiting jobs, 1 for the next to start in its queue. Called
// with the lock whenever the queue changes, so every snapshot has it:
// one pass, a counter per queue (the fast lane, each disk).
static void
jobs_renumber(jobs *j)
{
	size_t             max = j->queued + 1, n = 0;
	struct jobs_queue *seen = calloc(max, sizeof(*seen));

	for (struct jobs_job *q = j->qhead; q != NULL; q = q->qnext) {
		bool               fast = jobs_on_fast_lane(j, q);
		struct jobs_queue *e    = NULL;

		q->info.position = 0;
		if (q->dispatched)
			continue; // a worker is taking it
		if (seen != NULL)
			e = jobs_queue_entry(seen, &n, max,
			    fast ? JOBS_LANE_FAST : JOBS_LANE_WRITER,
			    fast ? 0 : q->info.req.disk);
		q->info.position =
		    e != NULL ? ++e->queued : jobs_ahead(j, q) + 1;
	}
	free(seen);
}

static struct jobs_disk *
jobs_disk_slot(jobs *j, dev_t disk, bool make)
{
	struct jobs_disk *free_slot = NULL;

	for (unsigned i = 0; i < j->o.max_running; i++) {
		if (j->disks[i].writers > 0 && j->disks[i].disk == disk)
			return &j->disks[i];
		if (j->disks[i].writers == 0 && free_slot == NULL)
			free_slot = &j->disks[i];
	}
	if (make && free_slot != NULL)
		free_slot->disk = disk;
	return make ? free_slot : NULL;
}

static bool
jobs_disk_has_room(jobs *j, dev_t disk)
{
	const struct jobs_disk *d = jobs_disk_slot(j, disk, false);

	// Disk 0 is not known (a caller that did not classify): nothing to
	// share, so only max_running holds it.
	return j->o.writers_per_disk == 0 || disk == 0 || d == NULL ||
	    d->writers < j->o.writers_per_disk;
}

// Hand queued writers to the pool while there are slots: the first in
// the queue whose disk has room, in turn. Called with the lock.
static void
jobs_dispatch(jobs *j)
{
	for (struct jobs_job *q = j->qhead;
	     q != NULL && j->writing < j->o.max_running && !j->stopping;
	     q = q->qnext) {
		if (q->dispatched || jobs_on_fast_lane(j, q) ||
		    !jobs_disk_has_room(j, q->info.req.disk))
			continue;
		q->dispatched = true;
		jobs_disk_slot(j, q->info.req.disk, true)->writers++;
		j->writing++;
		q->task_pending = true;
		pa_taskq_submit(j->workers, &q->task);
	}
	jobs_renumber(j);
}

// A writer is done with its slots (it ended, or was cancelled before it
// ran): give them to the next. Called with the lock.
static void
jobs_release(jobs *j, struct jobs_job *x)
{
	struct jobs_disk *d;

	if (!x->dispatched)
		return;
	x->dispatched = false;
	if ((d = jobs_disk_slot(j, x->info.req.disk, false)) != NULL)
		d->writers--;
	j->writing--;
	jobs_dispatch(j);
}

static void
jobs_enqueue(jobs *j, struct jobs_job *x)
{
	struct jobs_job **pp = &j->table;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = x;
	if (j->qtail != NULL)
		j->qtail->qnext = x;
	else
		j->qhead = x;
	j->qtail = x;
	j->queued++;
	x->owner    = j;
	x->task.fn  = jobs_task_run;
	x->task.arg = x;
	// A fast job never waits behind a writer; writers wait for a slot
	// on their disk.
	if (jobs_on_fast_lane(j, x)) {
		x->task_pending = true;
		pa_taskq_submit(j->fast, &x->task);
		jobs_renumber(j);
	} else {
		jobs_dispatch(j);
	}
}

// The job @p req repeats, if any. @return PA_OK with *found set or NULL.
static int
jobs_match(struct jobs_job **found, enum jobs_how *how, jobs *j,
    const struct jobs_request *req, pa_err *err)
{
	struct jobs_job *x = NULL;

	if (req->request_id[0] != '\0' &&
	    (x = jobs_find_request(j, req->request_id)) != NULL) {
		if (!jobs_same_params(&x->info.req, req))
			return pa_err_set(err, PA_ALREADY_EXISTS,
			    "request id %s is job %s, for other parameters",
			    req->request_id, x->info.id);
		*how = JOBS_SAME_ID;
	} else if ((x = jobs_find_active(j, req->target.path)) != NULL) {
		if (!jobs_same_params(&x->info.req, req))
			return pa_err_set(err, PA_ABORTED,
			    "%s is busy with job %s (%s), which has other "
			    "parameters",
			    req->target.path, x->info.id,
			    jobs_state_name(x->info.state));
		jobs_add_alias(x, req->request_id);
		*how = JOBS_JOINED;
	}
	*found = x;
	return PA_OK;
}

// A request's write rate under the agent's cap; 0 means none asked.
static uint64_t
jobs_write_rate(const jobs *j, uint64_t asked)
{
	uint64_t cap = j->o.max_write_rate;

	if (asked == 0 || (cap != 0 && asked > cap))
		return cap;
	return asked;
}

int
jobs_submit(struct jobs_info *out, enum jobs_how *how_out, jobs *j,
    const struct jobs_request *req, pa_err *err)
{
	struct jobs_job *x   = NULL;
	enum jobs_how    how = JOBS_CREATED;
	int              rc;

	pthread_mutex_lock(&j->mu);
	if ((rc = jobs_match(&x, &how, j, req, err)) != PA_OK || x != NULL)
		goto done;
	if (j->draining) {
		rc = pa_err_set(err, PA_UNAVAILABLE,
		    "the agent is shutting down and takes no new jobs");
		goto done;
	}
	if (j->queued >= j->o.max_queue) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "the job queue is full (%u queued, %zu running)",
		    j->o.max_queue, j->running);
		goto done;
	}
	if ((rc = jobs_new_job(&x, j, req)) != PA_OK) {
		pa_err_set(err, rc, "out of memory for a job");
		goto done;
	}
	x->info.req.target.max_write_rate =
	    jobs_write_rate(j, req->target.max_write_rate);
	jobs_enqueue(j, x);
done:
	if (rc == PA_OK) {
		*out = jobs_snapshot(j, x);
		if (how_out != NULL)
			*how_out = how;
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
jobs_get(struct jobs_info *out, jobs *j, const char *id, pa_err *err)
{
	struct jobs_job *x;
	int              rc = PA_OK;

	pthread_mutex_lock(&j->mu);
	if ((x = jobs_find_id(j, id)) != NULL)
		*out = jobs_snapshot(j, x);
	else
		rc = pa_err_set(err, PA_NOT_FOUND, "no job with id %s", id);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
jobs_cancel(struct jobs_info *out, enum jobs_cancel_outcome *outcome, jobs *j,
    const char *id, pa_err *err)
{
	struct jobs_job *x;
	int              rc = PA_OK;

	pthread_mutex_lock(&j->mu);
	if ((x = jobs_find_id(j, id)) == NULL) {
		rc = pa_err_set(err, PA_NOT_FOUND, "no job with id %s", id);
	} else if (x->info.state == JOBS_QUEUED) {
		jobs_cancel_queued(j, x, "cancelled while queued", out);
		*outcome = JOBS_CANCEL_CANCELLED;
	} else {
		*outcome = JOBS_CANCEL_HAD_ENDED;
		if (x->info.state == JOBS_RUNNING) {
			atomic_store(&x->cancel, true);
			*outcome = JOBS_CANCEL_STOPPING;
		}
		*out = jobs_copy(x);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
jobs_list(struct jobs_info **out, size_t *n_out, jobs *j, pa_err *err)
{
	struct jobs_info *all = NULL;
	size_t            n = 0, i = 0;
	int               rc = PA_OK;

	pthread_mutex_lock(&j->mu);
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		n++;
	if (n > 0 && (all = malloc(n * sizeof(*all))) == NULL) {
		rc = pa_err_errno(err, ENOMEM, "job list");
		goto done;
	}
	jobs_estimate(j);
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		all[i++] = jobs_copy(x);
	*out   = all;
	*n_out = n;
done:
	pthread_mutex_unlock(&j->mu);
	return rc;
}

void
jobs_counts(size_t counts[JOBS_NSTATES], jobs *j)
{
	memset(counts, 0, JOBS_NSTATES * sizeof(counts[0]));
	pthread_mutex_lock(&j->mu);
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		if ((unsigned) x->info.state < JOBS_NSTATES)
			counts[x->info.state]++;
	pthread_mutex_unlock(&j->mu);
}

int
jobs_wait(jobs *j, const char *id, uint32_t wait_ms, unsigned flags,
    jobs_wait_fn fn, void *arg, pa_err *err)
{
	struct jobs_waiter *w = calloc(1, sizeof(*w));
	struct jobs_job    *x;

	if (w == NULL)
		return pa_err_errno(err, ENOMEM, "waiter");
	pthread_mutex_lock(&j->mu);
	if ((x = jobs_find_id(j, id)) == NULL) {
		pthread_mutex_unlock(&j->mu);
		free(w);
		return pa_err_set(err, PA_NOT_FOUND, "no job with id %s", id);
	}
	w->job = x;
	w->fn  = fn;
	w->arg = arg;
	if (wait_ms == 0 || jobs_state_final(x->info.state) || j->stopping) {
		w->snap = jobs_snapshot(j, x);
		pthread_mutex_unlock(&j->mu);
		jobs_fire(w);
		return PA_OK;
	}
	w->deadline_ms = jobs_mono_ms() + wait_ms;
	w->flags       = flags;
	w->next        = j->waiters;
	j->waiters     = w;
	pthread_cond_signal(&j->timer);
	pthread_mutex_unlock(&j->mu);
	return PA_OK;
}

// ---- workers ----

struct jobs_run {
	jobs            *j;
	struct jobs_job *x;
};

// Progress from the fill: recorded under the lock; progress waiters are
// told after it.
static void
jobs_progress(void *arg, uint64_t done, uint64_t total)
{
	struct jobs_run    *r    = arg;
	struct jobs_waiter *fire = NULL;

	pthread_mutex_lock(&r->j->mu);
	r->x->info.done  = done;
	r->x->info.total = total;
	if (r->j->waiters != NULL)
		jobs_take_waiters(r->j, &fire, jobs_pick_progress, r->x);
	pthread_mutex_unlock(&r->j->mu);
	jobs_fire(fire);
}

int
jobs_check_target(
    const struct confine_target *t, const struct jobs_request *req, pa_err *err)
{
	enum fill_kind kind =
	    t->kind == CONFINE_DEVICE ? FILL_KIND_DEVICE : FILL_KIND_FILE;
	uint64_t end = 0;

	return fill_check(&end, kind, t->fd, t->path, req->target.size,
	    req->target.offset, err);
}

// The lane: see jobs.h.
static enum jobs_lane
jobs_lane_of(const struct jobs_request *req, const struct confine_target *t)
{
	enum fill_method m = req->target.method;

	if (t->kind == CONFINE_DEVICE || m == FILL_FULL)
		return JOBS_LANE_WRITER;
	if (m == FILL_FALLOC)
		return JOBS_LANE_FAST; // it falls back to nothing: it fails
	// auto: fast where fallocate is known to work on this filesystem.
	return probe_falloc_works(t->dirfd >= 0 ? t->dirfd : t->fd) ==
	        PROBE_FALLOC_YES
	    ? JOBS_LANE_FAST
	    : JOBS_LANE_WRITER;
}

void
jobs_classify(struct jobs_request *req, const struct confine_target *t)
{
	struct stat st;
	int         fd = t->fd >= 0 ? t->fd : t->dirfd;

	req->lane         = jobs_lane_of(req, t);
	req->disk         = 0;
	req->disk_name[0] = '\0';
	if (fd >= 0 && fstat(fd, &st) == 0)
		req->disk =
		    disk_of(S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev);
	if (req->disk != 0)
		snprintf(req->disk_name, sizeof(req->disk_name), "%u:%u",
		    major(req->disk), minor(req->disk));
}

size_t
jobs_queues(struct jobs_queue *out, size_t max, jobs *j)
{
	struct jobs_queue *e;
	size_t             n = 0;

	pthread_mutex_lock(&j->mu);
	if (j->fast != NULL)
		jobs_queue_entry(out, &n, max, JOBS_LANE_FAST, 0);
	for (unsigned i = 0; i < j->o.max_running; i++)
		if (j->disks[i].writers > 0 &&
		    (e = jobs_queue_entry(out, &n, max, JOBS_LANE_WRITER,
		         j->disks[i].disk)) != NULL)
			e->running = j->disks[i].writers;
	for (struct jobs_job *q = j->qhead; q != NULL; q = q->qnext) {
		bool fast = jobs_on_fast_lane(j, q);

		if ((e = jobs_queue_entry(out, &n, max,
		         fast ? JOBS_LANE_FAST : JOBS_LANE_WRITER,
		         fast ? 0 : q->info.req.disk)) != NULL)
			e->queued++;
	}
	pthread_mutex_unlock(&j->mu);
	return n;
}

const char *
jobs_lane_name(enum jobs_lane lane)
{
	return lane == JOBS_LANE_FAST ? "fast" : "writer";
}

// Run one job's fill, without the lock.
static void
jobs_run_fill(
    jobs *j, struct jobs_job *x, struct fill_result *res, int *rc, pa_err *err)
{
	struct jobs_run       run = { j, x };
	struct fill_request   req = FILL_REQUEST_INIT;
	struct confine_target t   = CONFINE_TARGET_INIT;

	// The fill works on what the check opened, never on the path again.
	if (j->o.conf != NULL &&
	    (*rc = confine_recheck(
	         &t, j->o.conf, x->info.req.target.path, err)))
		return;
	if (j->o.conf != NULL &&
	    (*rc = jobs_check_target(&t, &x->info.req, err)) != PA_OK) {
		confine_target_close(&t);
		return;
	}
	req.fd           = t.fd;
	req.dirfd        = t.dirfd;
	req.name         = t.name;
	req.target       = x->info.req.target;
	req.progress     = jobs_progress;
	req.progress_arg = &run;
	req.cancel       = &x->cancel;
	// Best effort: a container's seccomp filter may refuse it, and the
	// fill is worth doing at the thread's priority all the same.
	(void) io_class_apply(j->o.io_class, NULL);
	*rc = fill_run(res, &req, err);
	confine_target_close(&t);
}

static void
jobs_run_one(jobs *j, struct jobs_job *x)
{
	struct fill_result  res;
	struct jobs_waiter *fire = NULL;
	struct jobs_info    snap;
	pa_err              err = PA_ERR_INIT;
	int                 rc  = PA_OK;
	bool                held;

	memset(&res, 0, sizeof(res));
	jobs_run_fill(j, x, &res, &rc, &err);
	pthread_mutex_lock(&j->mu);
	// A failed or cancelled fill's figures stand too: what it wrote
	// before the rollback, and the allocation it found.
	x->info.result = res;
	if (rc == PA_OK) {
		x->info.done = x->info.total;
		jobs_end_locked(j, x, JOBS_SUCCEEDED, PA_OK, "", &fire);
		if (jobs_on_fast_lane(j, x))
			j->fast_ms = x->info.duration_ms;
		else
			jobs_rate_note(j, &x->info);
	} else {
		jobs_end_locked(j, x,
		    rc == PA_CANCELLED ? JOBS_CANCELLED : JOBS_FAILED, rc,
		    err.msg, &fire);
	}
	snap = x->info;
	held = x->dispatched; // if not, x may be pruned once unlocked
	pthread_mutex_unlock(&j->mu);
	// The event (a log line, counters) comes before the answers, so that
	// whoever is told the job ended sees it logged and counted; and
	// before its slots go to the next writer, so that a disk's next job
	// starts after this one has ended, in the log as on the disk. A job
	// holding its slots is never pruned.
	if (j->o.on_event != NULL)
		j->o.on_event(j->o.arg, &snap);
	pthread_mutex_lock(&j->mu);
	if (held)
		jobs_release(j, x);
	jobs_prune(j, jobs_mono_ms()); // x may be gone from here on
	pthread_mutex_unlock(&j->mu);
	jobs_fire(fire);
}

// A queued job's turn on the pool. Tasks run in the order the jobs were
// queued; one whose job was cancelled while it waited does nothing.
static void
jobs_task_run(void *arg)
{
	struct jobs_job *x = arg;
	jobs            *j = x->owner;
	struct jobs_info snap;

	pthread_mutex_lock(&j->mu);
	x->task_pending = false;
	if (j->stopping || x->info.state != JOBS_QUEUED) {
		jobs_release(j, x); // cancelled while it waited for a worker
		pthread_mutex_unlock(&j->mu);
		return;
	}
	jobs_unqueue(j, x);
	x->info.state      = JOBS_RUNNING;
	x->info.started_ms = pa_clock_unix_ms();
	j->running++;
	snap = x->info;
	pthread_mutex_unlock(&j->mu);
	if (j->o.on_event != NULL)
		j->o.on_event(j->o.arg, &snap);
	jobs_run_one(j, x);
}

// ---- the timer: waiters' deadlines and pruning ----

static uint64_t
jobs_next_deadline(jobs *j, uint64_t now)
{
	uint64_t next = now + JOBS_TICK_MS;

	for (struct jobs_waiter *w = j->waiters; w != NULL; w = w->next)
		if (w->deadline_ms < next)
			next = w->deadline_ms;
	return next;
}

static void
jobs_timed_wait(jobs *j, uint64_t until_mono_ms)
{
	struct timespec ts;

	// The condition variable waits on CLOCK_MONOTONIC (see jobs_new).
	ts.tv_sec  = (time_t) (until_mono_ms / 1000u);
	ts.tv_nsec = (long) (until_mono_ms % 1000u) * 1000000L;
	pthread_cond_timedwait(&j->timer, &j->mu, &ts);
}

static void *
jobs_timer(void *arg)
{
	jobs    *j          = arg;
	uint64_t next_retry = 0;

	pthread_mutex_lock(&j->mu);
	while (!j->stopping) {
		uint64_t            now  = jobs_mono_ms();
		struct jobs_waiter *fire = NULL;

		jobs_take_waiters(j, &fire, jobs_pick_expired, &now);
		jobs_prune(j, now);
		if (now >= next_retry) {
			// Files failed fills created and could not remove.
			pthread_mutex_unlock(&j->mu);
			fill_retry_removals();
			pthread_mutex_lock(&j->mu);
			next_retry = now + JOBS_TICK_MS;
		}
		if (fire != NULL) {
			pthread_mutex_unlock(&j->mu);
			jobs_fire(fire);
			pthread_mutex_lock(&j->mu);
			continue;
		}
		jobs_timed_wait(j, jobs_next_deadline(j, now));
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

// ---- life ----

static int
jobs_init_sync(jobs *j, pa_err *err)
{
	pthread_condattr_t ca;
	int                r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_mutex_init(&j->mu, NULL);
	if (r == 0)
		r = pthread_cond_init(&j->timer, &ca);
	if (r == 0)
		r = pthread_cond_init(&j->idle, &ca);
	pthread_condattr_destroy(&ca);
	return r == 0 ? PA_OK : pa_err_errno(err, r, "job table locks");
}

static int
jobs_start_threads(jobs *j, pa_err *err)
{
	int r;

	if ((j->disks = calloc(j->o.max_running, sizeof(*j->disks))) == NULL)
		return pa_err_errno(err, ENOMEM, "disk table");
	if ((r = pa_taskq_new(&j->workers, j->o.max_running, err)) != PA_OK)
		return r;
	if (j->o.max_fast > 0 &&
	    (r = pa_taskq_new(&j->fast, j->o.max_fast, err)) != PA_OK)
		return r;
	if ((r = pthread_create(&j->timer_thread, NULL, jobs_timer, j)) != 0)
		return pa_err_set(
		    err, PA_INTERNAL, "start the job timer: %s", strerror(r));
	j->timer_started = true;
	return PA_OK;
}

int
jobs_new(jobs **out, const struct jobs_opts *opts, pa_err *err)
{
	jobs *j = NULL;
	int   rc;

	if (opts == NULL || opts->max_running == 0)
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "max_running must be above 0");
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return pa_err_errno(err, ENOMEM, "job table");
	j->o = *opts;
	if (getrandom(&j->id_prefix, sizeof(j->id_prefix), 0) !=
	    (ssize_t) sizeof(j->id_prefix))
		j->id_prefix = (uint32_t) pa_clock_unix_ms();
	if ((rc = jobs_init_sync(j, err)) != PA_OK) {
		free(j);
		return rc;
	}
	if ((rc = jobs_start_threads(j, err)) != PA_OK) {
		jobs_free(j);
		return rc;
	}
	*out = j;
	return PA_OK;
}

// Wait for the running jobs to end, up to @p until (monotonic ms; 0 is
// for ever). Called with the lock.
static void
jobs_wait_idle(jobs *j, uint64_t until)
{
	while (j->running > 0) {
		if (until == 0) {
			pthread_cond_wait(&j->idle, &j->mu);
			continue;
		}
		if (jobs_mono_ms() >= until)
			return;
		{
			struct timespec ts = { (time_t) (until / 1000u),
				(long) (until % 1000u) * 1000000L };

			pthread_cond_timedwait(&j->idle, &j->mu, &ts);
		}
	}
}

unsigned
jobs_shutdown(jobs *j, uint32_t grace_ms)
{
	unsigned n = 0;

	pthread_mutex_lock(&j->mu);
	j->draining = true;
	while (j->qhead != NULL) {
		struct jobs_info snap;

		jobs_cancel_queued(j, j->qhead, "the agent shut down", &snap);
		n++;
	}
	jobs_wait_idle(j, jobs_mono_ms() + grace_ms);
	for (struct jobs_job *x = j->table; x != NULL; x = x->next)
		if (x->info.state == JOBS_RUNNING &&
		    !atomic_exchange(&x->cancel, true))
			n++;
	jobs_wait_idle(j, 0);
	pthread_mutex_unlock(&j->mu);
	return n;
}

void
jobs_free(jobs *j)
{
	struct jobs_waiter *fire = NULL;

	if (j == NULL)
		return;
	if (j->workers != NULL)
		jobs_shutdown(j, 0);
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->timer);
	pthread_mutex_unlock(&j->mu);
	pa_taskq_free(j->workers); // what is left finds it stopping
	pa_taskq_free(j->fast);
	if (j->timer_started)
		pthread_join(j->timer_thread, NULL);
	jobs_take_waiters(j, &fire, jobs_pick_all, NULL);
	jobs_fire(fire);
	while (j->table != NULL) {
		struct jobs_job *x = j->table;

		j->table = x->next;
		jobs_job_free(x);
	}
	pthread_cond_destroy(&j->timer);
	pthread_cond_destroy(&j->idle);
	pthread_mutex_destroy(&j->mu);
	free(j->disks);
	free(j);
}
