// SPDX-License-Identifier: Apache-2.0
// fill.h: turn a byte range of a file or block device into allocated zeros.
#ifndef PREALLOC_AGENT_FILL_H
#define PREALLOC_AGENT_FILL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "prealloc/status.h"

/** Zeros are written this many bytes at a time; progress and cancel per chunk.
 */
#define FILL_CHUNK (4u * 1024u * 1024u)

/** BLKZEROOUT is asked for this many bytes at a time. */
#define FILL_DEVICE_CHUNK (64u * 1024u * 1024u)

/** How to preallocate. */
enum fill_method {
	FILL_AUTO   = 0, ///< files: fallocate where it works, else full
	FILL_FALLOC = 1, ///< fallocate(2) only
	FILL_FULL   = 2, ///< real zeros into holes and unwritten extents
};

/**
 * Progress: @p done of @p total bytes. Called from the filling thread
 * after each chunk; it must not block for long.
 */
typedef void (*fill_progress_fn)(void *arg, uint64_t done, uint64_t total);

/** What to preallocate. Start from FILL_REQUEST_INIT. */
struct fill_request {
	const char      *path; ///< regular file (created if missing) or device
	uint64_t         size; ///< final file size; device: end, 0 = whole
	uint64_t         offset; ///< work starts here; bytes before it are kept
	enum fill_method method;
	bool             force;    ///< devices: write over signatures in range
	fill_progress_fn progress; ///< optional
	void            *progress_arg; ///< passed to @c progress
	const atomic_bool *cancel;     ///< optional; true stops at next chunk
};

#define FILL_REQUEST_INIT                                      \
	{                                                      \
		NULL, 0, 0, FILL_AUTO, false, NULL, NULL, NULL \
	}

/** What a successful fill did. Plain data: nothing to free. */
struct fill_result {
	enum fill_method method; ///< FILL_FALLOC or FILL_FULL
	char     mechanism[16];  ///< "fallocate", "write-zeroes", "blkzeroout"
	char     target[64];     ///< "ext4", "block device 7:0"
	uint64_t allocated_before; ///< st_blocks * 512; 0 for a device
	uint64_t allocated_after;
	uint64_t bytes_written; ///< zeros written (or zeroed by ioctl)
	uint64_t duration_ns;
	char     note[160]; ///< why auto fell back, or ""
};

/**
 * Preallocate @p req->path.
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
 * @param[out] out  filled only on PA_OK.
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

/** @return "auto", "falloc" or "full"; "unknown" for another value. */
const char *fill_method_name(enum fill_method m);

/**
 * Parse a method name ("auto", "falloc", "full").
 * @param[out] out  written only on PA_OK.
 * @return PA_OK or PA_INVALID_ARGUMENT.
 */
int fill_method_from_name(enum fill_method *out, const char *name, pa_err *err);

#endif // PREALLOC_AGENT_FILL_H
