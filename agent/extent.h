// SPDX-License-Identifier: Apache-2.0
// extent.h: find the ranges of a file that hold no written data yet.
#ifndef PREALLOC_AGENT_EXTENT_H
#define PREALLOC_AGENT_EXTENT_H

#include <stdint.h>

#include "prealloc/status.h"

/**
 * Find the first range at or after @p pos and before @p end that holds no
 * written data: a hole (SEEK_DATA/SEEK_HOLE) or an unwritten extent
 * (FIEMAP_EXTENT_UNWRITTEN, where the filesystem reports one as data).
 * Every byte of such a range reads as zero, so writing zeros there
 * changes no content. Flush the file (fdatasync) before walking, so that
 * delayed writes show as data.
 * @param[out] off_out  start of the range; written only on PA_OK.
 * @param[out] len_out  its length; 0 when none is left before @p end.
 * @param fd   an open regular file; borrowed.
 * @return PA_OK, or the code of the failed lseek/ioctl.
 */
int extent_next_gap(uint64_t *off_out, uint64_t *len_out, int fd, uint64_t pos,
    uint64_t end, pa_err *err);

/**
 * Sum the lengths of the ranges extent_next_gap() finds in [@p pos, @p end).
 * @param[out] out  the sum; written only on PA_OK.
 * @return PA_OK, or the code of the failed lseek/ioctl.
 */
int extent_gap_bytes(
    uint64_t *out, int fd, uint64_t pos, uint64_t end, pa_err *err);

#endif // PREALLOC_AGENT_EXTENT_H
