// SPDX-License-Identifier: Apache-2.0
// fill.h: turn a byte range of a file or block device into allocated zeros.
#ifndef PREALLOC_AGENT_FILL_H
#define PREALLOC_AGENT_FILL_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prealloc/status.h"

/** Zeros are written this many bytes at a time; progress and cancel per chunk.
 */
#define FILL_CHUNK (4u * 1024u * 1024u)

/** A job's file offset is a multiple of this (a page, as fill writes). */
#define FILL_ALIGN 4096u

/** BLKZEROOUT is asked for this many bytes at a time. */
#define FILL_DEVICE_CHUNK (64u * 1024u * 1024u)

/** How to preallocate. */
enum fill_method {
	FILL_AUTO   = 0, ///< files: fallocate where it works, else full
	FILL_FALLOC = 1, ///< fallocate(2) only
	FILL_FULL   = 2, ///< real zeros into holes and unwritten extents
};

/**
 * How the bytes were made allocated. Names are turned into strings only at
 * the edges (wire, logs, metrics) by fill_mechanism_name().
 */
enum fill_mechanism {
	FILL_MECH_NONE         = 0, ///< not known: the fill has not succeeded
	FILL_MECH_FALLOCATE    = 1, ///< fallocate(2)
	FILL_MECH_WRITE_ZEROES = 2, ///< zeros written by pwrite(2)
	FILL_MECH_BLKZEROOUT   = 3, ///< the BLKZEROOUT ioctl
};
#define FILL_MECH_COUNT 4 // one past the last fill_mechanism

/**
 * Progress: @p done of @p total bytes. Called from the filling thread
 * after each chunk; it must not block for long.
 */
typedef void (*fill_progress_fn)(void *arg, uint64_t done, uint64_t total);

/**
 * What is filled and how: the one shape of a preallocation request, from
 * the wire's decoding through the job table (jobs_request embeds it) to
 * the fill (fill_request embeds it). Plain data, copied whole; what was
 * opened of the target belongs to one run and stays in fill_request.
 */
struct fill_target {
	char     path[PATH_MAX]; ///< the target (canonical in the agent)
	uint64_t size;           ///< final file size; device: end, 0 = whole
	uint64_t offset;         ///< work starts here; bytes before it are kept
	enum fill_method method;
	bool             force; ///< devices: write over signatures in range
	/** Zeros written (or zeroed by the kernel) per second, at most; 0:
	 *  no limit. A token bucket paces the writer, a chunk at a time. */
	uint64_t max_write_rate;
};

/**
 * One fill of a target. Start from FILL_REQUEST_INIT.
 *
 * The target is given opened (what the agent does: every decision was
 * made on these descriptors, see confine.h): @c fd, an existing regular
 * file opened O_RDWR or a block device opened O_RDWR | O_EXCL; or, for a
 * file to create, @c dirfd and @c name. With neither, the fill opens
 * @c target.path itself (tools, tests and benchmarks).
 */
struct fill_request {
	struct fill_target target;   ///< its path names it in messages
	int                fd;       ///< the opened target, or -1
	int                dirfd;    ///< a file to create: its directory, or -1
	const char        *name;     ///< a file to create: its name in @c dirfd
	fill_progress_fn   progress; ///< optional
	void              *progress_arg; ///< passed to @c progress
	const atomic_bool *cancel;       ///< optional; true stops at next chunk
};

#define FILL_REQUEST_INIT                                              \
	{                                                              \
		.target = { .path       = "",                          \
			.size           = 0,                           \
			.offset         = 0,                           \
			.method         = FILL_AUTO,                   \
			.force          = false,                       \
			.max_write_rate = 0 },                         \
		.fd = -1, .dirfd = -1, .name = NULL, .progress = NULL, \
		.progress_arg = NULL, .cancel = NULL                   \
	}

/** What a fill did (see fill_run()). Plain data: nothing to free. */
struct fill_result {
	enum fill_method    method;     ///< FILL_FALLOC or FILL_FULL
	enum fill_mechanism mechanism;  ///< never FILL_MECH_NONE on success
	char                target[64]; ///< "ext4", "block device 7:0"
	uint64_t allocated_before;      ///< st_blocks * 512; 0 for a device
	uint64_t allocated_after;
	uint64_t bytes_written; ///< zeros written (or zeroed by ioctl)
	uint64_t duration_ns;
	char     note[160]; ///< why auto fell back, or ""
};

/**
 * Preallocate @p req->target.
 *
 * A file: [offset, size) is allocated by fallocate or by zeros written
 * into holes and unwritten extents only, so no byte of data changes. A
 * size below the current one is refused. Free space is checked before
 * anything is touched. On failure or cancel the file gets back its
 * original size, or is removed when this call created it; ranges inside
 * the original size that were holes may stay allocated (they still read
 * as zeros). Success is durable (fdatasync; the directory is fsynced for
 * a new file).
 *
 * A block device: opened O_EXCL; [offset, size or end) must be
 * sector-aligned, hold no signature unless @c force, and is zeroed by
 * BLKZEROOUT, or by O_DIRECT zero writes where the ioctl is refused.
 *
 * @param[out] out  on PA_OK, what the fill did; on a failure or a cancel
 *                  once the request was checked, what it had done before
 *                  it put the target back (allocated_before, bytes_written,
 *                  duration_ns; allocated_after as the target is now). A
 *                  request refused before any check leaves it untouched.
 * @param req       read during the call, not kept.
 * @param err       optional; on failure the code and a message.
 * @return PA_OK; PA_INVALID_ARGUMENT (bad request, misaligned or
 *         out-of-device range); PA_FAILED_PRECONDITION (shrink, busy
 *         device, signature in range, falloc unsupported or on a device);
 *         PA_RESOURCE_EXHAUSTED (not enough free space, ENOSPC);
 *         PA_CANCELLED; PA_NOT_FOUND; PA_PERMISSION_DENIED; PA_INTERNAL.
 */
int fill_run(
    struct fill_result *out, const struct fill_request *req, pa_err *err);

/** What a target opened for a fill is. */
enum fill_kind {
	FILL_KIND_FILE   = 0, ///< a regular file, or a file to create
	FILL_KIND_DEVICE = 1, ///< a block device
};

/**
 * The agent's rules for a job's range, decided on what was opened: one
 * function, asked by the RPC handler before a job is queued (so that a
 * bad range is the caller's INVALID_ARGUMENT) and by the worker again on
 * the descriptor it fills. A device: as fill_device_range(). A file: a
 * size above 0 and an offset that is a multiple of FILL_ALIGN and not
 * past the size. It reads nothing but a device's size and sector ioctls.
 * fill_run() itself is laxer for files (tools and tests may fill from
 * any offset), and keeps only the offset-past-size rule.
 * @param[out] end_out  where the fill would end; set only on PA_OK.
 * @param fd    the opened device; unused for a file.
 * @param path  for messages.
 * @return PA_OK, PA_INVALID_ARGUMENT, or the size ioctl's errno code.
 */
int fill_check(uint64_t *end_out, enum fill_kind kind, int fd, const char *path,
    uint64_t size, uint64_t offset, pa_err *err);

/**
 * The range [offset, end) a fill of the open block device @p fd would
 * zero, after every check that needs no write: the end is @p size, or
 * the device's size when @p size is 0, and both ends are whole sectors
 * inside the device. The agent asks before it queues a job, so that a bad
 * range is the caller's error, and the fill asks again on its own fd.
 * @param[out] end_out  set only on PA_OK.
 * @param path          for messages.
 * @return PA_OK, PA_INVALID_ARGUMENT, or the size ioctl's errno code.
 */
int fill_device_range(uint64_t *end_out, int fd, const char *path,
    uint64_t size, uint64_t offset, pa_err *err);

/**
 * Try again to remove the files that failed fills created and could not
 * remove (their filesystem had turned read-only). A file is removed only
 * while its name still holds the very inode the fill created. Thread-safe;
 * the agent calls it about once a second.
 * @return how many were removed by this call.
 */
size_t fill_retry_removals(void);

/** @return how many created files are still waiting for removal. */
size_t fill_pending_removals(void);

/** @return "auto", "falloc" or "full"; "unknown" for another value. */
const char *fill_method_name(enum fill_method m);

/**
 * Parse a method name ("auto", "falloc", "full").
 * @param[out] out  written only on PA_OK.
 * @return PA_OK or PA_INVALID_ARGUMENT.
 */
int fill_method_from_name(enum fill_method *out, const char *name, pa_err *err);

/**
 * @return "none", "fallocate", "write-zeroes" or "blkzeroout" (the wire's
 *         and the metrics' names); "unknown" for another value. Static.
 */
const char *fill_mechanism_name(enum fill_mechanism m);

/**
 * Parse a name fill_mechanism_name() gives.
 * @param[out] out  written only on PA_OK.
 * @return PA_OK or PA_INVALID_ARGUMENT.
 */
int fill_mechanism_from_name(
    enum fill_mechanism *out, const char *name, pa_err *err);

#endif // PREALLOC_AGENT_FILL_H
