// SPDX-License-Identifier: Apache-2.0
// util.h: the ground floor every part shares: clocks, a content hash, and
// whole-file and whole-buffer I/O. Modelled on nng's src/core (nni_clock,
// nni_file_get) and util-linux's include/all-io.h.
#ifndef PREALLOC_UTIL_H
#define PREALLOC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @return CLOCK_MONOTONIC in nanoseconds: for deadlines and durations. */
uint64_t pa_clock_ns(void);

/** @return CLOCK_REALTIME in milliseconds since the epoch: for people. */
int64_t pa_clock_unix_ms(void);

/**
 * FNV-1a over @p len bytes: enough to tell whether bytes are the ones seen
 * before, not a defence against anyone choosing them.
 * @return the hash, never 0 (callers may keep 0 for "none").
 */
uint64_t pa_hash_bytes(const void *buf, size_t len);

/**
 * Read the whole file at @p path. The buffer grows with what is read, so
 * a small file costs a small buffer whatever @p limit is.
 * @param[out] out      set only on PA_OK: malloc'd, NUL-terminated (so a
 *                      text file is a C string); the caller frees it.
 * @param[out] len_out  the file's length, without the NUL.
 * @param limit         the most bytes accepted.
 * @return PA_OK; the errno's code from pa_err_errno() when it cannot be
 *         opened or read ("open PATH: ...", "read PATH: ..."); or
 *         PA_RESOURCE_EXHAUSTED "PATH is larger than LIMIT bytes".
 */
int pa_file_read(
    char **out, size_t *len_out, const char *path, size_t limit, pa_err *err);

/**
 * Write all @p len bytes of @p buf to @p fd, at @p offset with pwrite(2)
 * when @p offset >= 0, else at the file position with write(2); short
 * writes and EINTR are retried.
 * @return 0, or -1 with errno set by the write that failed; @p done_out,
 *         when given, says how many bytes were written before it.
 */
int pa_write_all(
    int fd, const void *buf, size_t len, off_t offset, size_t *done_out);

/**
 * The size of the block device open on @p fd (BLKGETSIZE64): the one
 * place the project asks it.
 * @param[out] out  bytes; set only on PA_OK.
 * @param path      names the device in the message.
 * @return PA_OK, or the errno's code from pa_err_errno() with
 *         "PATH: size ioctl: ..." (ENOTTY for what is not a device).
 */
int pa_blkdev_size(uint64_t *out, int fd, const char *path, pa_err *err);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_UTIL_H
