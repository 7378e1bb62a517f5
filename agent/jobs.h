// SPDX-License-Identifier: Apache-2.0
// jobs.h: the agent's job table: a bounded worker pool and queue over
// fill_run, idempotent by request id, with waiters for long polls.
#ifndef PREALLOC_AGENT_JOBS_H
#define PREALLOC_AGENT_JOBS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confine.h"
#include "fill.h"
#include "ioprio.h"
#include "prealloc/status.h"

typedef struct jobs jobs;

/** Where a job is. The numbers are the wire's JobState numbers. */
enum jobs_state {
	JOBS_QUEUED    = 1,
	JOBS_RUNNING   = 2,
	JOBS_SUCCEEDED = 3,
	JOBS_FAILED    = 4,
	JOBS_CANCELLED = 5,
};
#define JOBS_NSTATES 6 // index by enum jobs_state; 0 unused

#define JOBS_ID_SIZE 40
#define JOBS_REQUEST_ID_SIZE 128

/** What to do. Plain data. */
/**
 * A job's cost class, decided before it is queued (jobs_classify()): jobs
 * whose cost does not grow with size never wait behind jobs that write
 * data, which may take minutes.
 */
enum jobs_lane {
	JOBS_LANE_WRITER = 0, ///< writes data: zeros, or a device zeroed
	JOBS_LANE_FAST   = 1, ///< fallocate on a filesystem that has it
};

struct jobs_request {
	char               request_id[JOBS_REQUEST_ID_SIZE]; ///< "" for none
	struct fill_target target; ///< its path vetted by the caller
	enum jobs_lane     lane;   ///< which pool runs it
	dev_t              disk;   ///< the disk it writes to (disk_of()); 0:
	                           ///< not known, not limited per disk
	char disk_name[24]; ///< "MAJ:MIN" of @c disk, for the wire; "" for 0
};

/** A job as it is at one moment. Plain data: nothing to free. */
struct jobs_info {
	char                id[JOBS_ID_SIZE];
	struct jobs_request req;
	enum jobs_state     state;
	struct fill_result  result; ///< what the fill did; set on SUCCEEDED
	uint64_t            done, total; ///< progress as the fill reports it
	int                 error_code;  ///< PA_OK unless FAILED or CANCELLED
	char                error[PA_ERR_MSG_SIZE];
	int64_t  created_ms, started_ms, finished_ms; ///< Unix ms; 0 not yet
	uint64_t duration_ms; ///< running time, once finished
	/** While QUEUED and waiting: 1 for the next to start in its queue
	 *  (the fast lane's, or its disk's for a writer); 0 otherwise. */
	unsigned position;
	/** While QUEUED and waiting: when it is expected to start, Unix ms;
	 *  0 when not known. An estimate made when the snapshot is taken:
	 *  the bytes ahead of it on its disk (what the running writers have
	 *  left, then the jobs before it) at the disk's write rate (a
	 *  running writer's own pace, else the last finished writer's on
	 *  that disk, else the rate limit), shared by writers_per_disk;
	 *  on the fast lane, the jobs before it at the last fast job's
	 *  duration. It knows nothing of --max-jobs across disks. */
	int64_t expected_start_ms;
};

/** One queue of the agent: a lane, and for writers a disk. */
struct jobs_queue {
	enum jobs_lane lane;
	dev_t          disk;    ///< writers: the disk; 0 for the fast lane
	unsigned       queued;  ///< waiting
	unsigned       running; ///< writers: running on the disk now
};

/**
 * A job started (state RUNNING) or ended (SUCCEEDED, FAILED, CANCELLED).
 * Called from a worker, or from the thread that cancelled a queued job,
 * with no lock held, before the job's waiters are told; it must be quick.
 * For RUNNING it is called on the worker before the fill begins.
 */
typedef void (*jobs_event_fn)(void *arg, const struct jobs_info *job);

/** Settings; start from JOBS_OPTS_INIT. */
struct jobs_opts {
	unsigned max_running;      ///< workers: fills that write data
	unsigned max_fast;         ///< workers of the fast lane (0: none)
	unsigned writers_per_disk; ///< writers on one disk (0: no cap)
	/** Bytes per second a job writes at most (0: no limit); a
	 *  request's own target.max_write_rate is capped by it. */
	uint64_t max_write_rate;
	/** The I/O class each worker writes at (set on its thread before
	 *  each fill). */
	enum io_class io_class;
	unsigned      max_queue;     ///< queued jobs; more are refused
	unsigned      keep_finished; ///< finished jobs kept, newest first
	uint32_t      keep_ms;       ///< and for at most this long
	jobs_event_fn on_event;      ///< optional
	void         *arg;           ///< passed to on_event
	/**
	 * Optional, borrowed for the table's life. With it, a job's target
	 * is opened by confine_recheck() right before its fill, and the fill
	 * works on what that opened: a target that no longer passes fails
	 * the job with the check's code. Without it, fills open paths
	 * themselves (tests).
	 */
	const confine *conf;
};

#define JOBS_OPTS_INIT                                                   \
	{                                                                \
		.max_running = 2, .max_fast = 2, .writers_per_disk = 1,  \
		.max_write_rate = 0, .io_class = IO_CLASS_BEST_EFFORT,   \
		.max_queue = 64, .keep_finished = 256,                   \
		.keep_ms = 3600u * 1000u, .on_event = NULL, .arg = NULL, \
		.conf = NULL                                             \
	}

/** How jobs_submit() found its job. */
enum jobs_how {
	JOBS_CREATED = 0, ///< a new job
	JOBS_SAME_ID = 1, ///< the job that has this request id already
	JOBS_JOINED  = 2, ///< the running or queued job for this target
};

/**
 * Whether @p req's range fits the target confinement opened for it, by
 * fill_check(): the RPC handler asks before it submits, and the worker
 * asks again on what confine_recheck() opened, right before the fill.
 * @param t  opened by confine_open() or confine_recheck(); borrowed.
 * @return as fill_check().
 */
int jobs_check_target(const struct confine_target *t,
    const struct jobs_request *req, pa_err *err);

/**
 * Make the table and start its workers and timer thread.
 * @param[out] out  set only on PA_OK; free it with jobs_free().
 * @param opts      copied.
 * @return PA_OK, PA_INVALID_ARGUMENT for zero workers, PA_INTERNAL when
 *         a thread cannot start, PA_RESOURCE_EXHAUSTED.
 */
int jobs_new(jobs **out, const struct jobs_opts *opts, pa_err *err);

/**
 * Shut down (as jobs_shutdown() with no grace), answer every waiter, and
 * free; NULL is a no-op.
 */
void jobs_free(jobs *j);

/**
 * Start a job for @p req, or find the one it repeats. The same request id
 * gives the same job, never a second; a target with a queued or running
 * job joins it when the parameters are the same, and the joiner's request
 * id then names that job too.
 * @param[out] out      the job as it is now; set only on PA_OK.
 * @param[out] how_out  optional; set only on PA_OK.
 * @param req           copied.
 * @return PA_OK; PA_ALREADY_EXISTS when the request id names a job with
 *         other parameters; PA_ABORTED when the target is busy with a job
 *         with other parameters (the message names it);
 *         PA_RESOURCE_EXHAUSTED when the queue is full; PA_UNAVAILABLE
 *         while shutting down.
 */
int jobs_submit(struct jobs_info *out, enum jobs_how *how_out, jobs *j,
    const struct jobs_request *req, pa_err *err);

/**
 * @param[out] out  the job as it is now; set only on PA_OK.
 * @return PA_OK or PA_NOT_FOUND.
 */
int jobs_get(struct jobs_info *out, jobs *j, const char *id, pa_err *err);

/** What jobs_cancel() found. */
enum jobs_cancel_outcome {
	JOBS_CANCEL_CANCELLED = 1, // it was queued: it ends CANCELLED now
	JOBS_CANCEL_STOPPING  = 2, // it runs: it stops at its next chunk
	JOBS_CANCEL_HAD_ENDED = 3, // it had ended: it stays as it was
};

/**
 * Cancel a job: a queued one ends CANCELLED at once; a running one is
 * asked to stop at its next chunk (the fill then restores its file). A
 * finished job stays as it is.
 * @param[out] out      the job after the request; set only on PA_OK.
 * @param[out] outcome  which of the three it was; set only on PA_OK.
 * @return PA_OK, or PA_NOT_FOUND ("no job with id X").
 */
int jobs_cancel(struct jobs_info *out, enum jobs_cancel_outcome *outcome,
    jobs *j, const char *id, pa_err *err);

/**
 * Decide @p req's lane and disk on @p t, the target confinement opened.
 * The lane: the fast one for fallocate, and for auto where the filesystem
 * is known to have it (probe_falloc_works(), learnt once per filesystem);
 * the writers' lane for full, for devices, and where fallocate support is
 * not known. The disk: disk_of() the file's filesystem or the device.
 */
void jobs_classify(struct jobs_request *req, const struct confine_target *t);

/**
 * The queues as they are now: the fast lane first, then one per disk with
 * a writer queued or running.
 * @param[out] out  up to @p max entries.
 * @return how many were written.
 */
size_t jobs_queues(struct jobs_queue *out, size_t max, jobs *j);

/** @return "fast" or "writer". */
const char *jobs_lane_name(enum jobs_lane lane);

/**
 * Every job in the table: queued, running, and the finished ones kept.
 * @param[out] out    malloc'd array, oldest first; the caller frees it
 *                    with free(). Set only on PA_OK (NULL when empty).
 * @param[out] n_out  its length; set only on PA_OK.
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int jobs_list(struct jobs_info **out, size_t *n_out, jobs *j, pa_err *err);

/** How many jobs are in each state now; @p counts is indexed by state. */
void jobs_counts(size_t counts[JOBS_NSTATES], jobs *j);

/**
 * Called once with the job's state when a wait ends. It may run on the
 * thread that called jobs_wait(), a worker or the timer thread, with no
 * lock held; it must not call jobs_wait() for the same job synchronously
 * in a loop and must be quick.
 */
typedef void (*jobs_wait_fn)(void *arg, const struct jobs_info *job);

/** jobs_wait() flags. */
#define JOBS_WAIT_PROGRESS 1u // also end the wait when progress moves

/**
 * Be told when job @p id ends (or, with JOBS_WAIT_PROGRESS, when its
 * progress moves), or when @p wait_ms runs out, whichever comes first.
 * Nothing blocks: @p fn is called at once, on this thread, when the job
 * has ended already or @p wait_ms is 0; otherwise later, from another
 * thread. Shutdown answers every waiter that is left.
 * @return PA_OK, after which @p fn is called exactly once;
 *         PA_NOT_FOUND (and @p fn is never called).
 */
int jobs_wait(jobs *j, const char *id, uint32_t wait_ms, unsigned flags,
    jobs_wait_fn fn, void *arg, pa_err *err);

/**
 * Stop taking jobs (jobs_submit() is then PA_UNAVAILABLE) and cancel the
 * queued ones at once; let running jobs go on for up to @p grace_ms, then
 * cancel them and wait until their fills have stopped and restored their
 * files. Idempotent.
 * @return how many jobs were cancelled.
 */
unsigned jobs_shutdown(jobs *j, uint32_t grace_ms);

/** @return "queued", "running", "succeeded", "failed", "cancelled". */
const char *jobs_state_name(enum jobs_state s);

/** @return true for SUCCEEDED, FAILED and CANCELLED. */
bool jobs_state_final(enum jobs_state s);

#endif // PREALLOC_AGENT_JOBS_H
