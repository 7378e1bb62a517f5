// SPDX-License-Identifier: Apache-2.0
// extent.c: walk holes (SEEK_HOLE) and unwritten extents (FIEMAP) of a file.
#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "extent.h"

#define EXTENT_BATCH 32

static uint64_t
extent_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

// The first unwritten extent inside the data range [pos, end). ext4, xfs,
// btrfs and tmpfs already report unwritten extents as holes; this catches
// a filesystem that calls them data. No FIEMAP: nothing is unwritten.
static int
extent_unwritten(uint64_t *off_out, uint64_t *len_out, int fd, uint64_t pos,
    uint64_t end, pa_err *err)
{
	union {
		struct fiemap fm;
		char          buf[sizeof(struct fiemap) +
                    EXTENT_BATCH * sizeof(struct fiemap_extent)];
	} req;

	while (pos < end) {
		uint64_t next = pos;
		int      last = 0;

		memset(&req, 0, sizeof(req));
		req.fm.fm_start        = pos;
		req.fm.fm_length       = end - pos;
		req.fm.fm_extent_count = EXTENT_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, &req.fm) != 0) {
			if (errno == EOPNOTSUPP || errno == ENOTTY)
				break;
			return pa_err_errno(err, errno, "fiemap at %llu",
			    (unsigned long long) pos);
		}
		for (uint32_t i = 0; i < req.fm.fm_mapped_extents; i++) {
			const struct fiemap_extent *e  = &req.fm.fm_extents[i];
			uint64_t                    lo = e->fe_logical;
			uint64_t hi = extent_min(lo + e->fe_length, end);

			lo = lo > pos ? lo : pos;
			if ((e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) &&
			    hi > lo) {
				*off_out = lo;
				*len_out = hi - lo;
				return PA_OK;
			}
			next = e->fe_logical + e->fe_length;
			last = (e->fe_flags & FIEMAP_EXTENT_LAST) != 0;
		}
		if (req.fm.fm_mapped_extents == 0 || last || next <= pos)
			break;
		pos = next;
	}
	*len_out = 0;
	return PA_OK;
}

int
extent_next_gap(uint64_t *off_out, uint64_t *len_out, int fd, uint64_t pos,
    uint64_t end, pa_err *err)
{
	while (pos < end) {
		off_t    d = lseek(fd, (off_t) pos, SEEK_DATA);
		off_t    h;
		uint64_t uoff = 0, ulen = 0;
		int      rc;

		if (d < 0 && errno == ENXIO) // no data from pos to EOF
			d = (off_t) end;
		else if (d < 0)
			return pa_err_errno(err, errno, "seek data at %llu",
			    (unsigned long long) pos);
		if ((uint64_t) d > pos) {
			*off_out = pos;
			*len_out = extent_min((uint64_t) d, end) - pos;
			return PA_OK;
		}
		if ((h = lseek(fd, (off_t) pos, SEEK_HOLE)) < 0)
			return pa_err_errno(err, errno, "seek hole at %llu",
			    (unsigned long long) pos);
		h  = (off_t) extent_min((uint64_t) h, end);
		rc = extent_unwritten(&uoff, &ulen, fd, pos, (uint64_t) h, err);
		if (rc != PA_OK)
			return rc;
		if (ulen > 0) {
			*off_out = uoff;
			*len_out = ulen;
			return PA_OK;
		}
		pos = (uint64_t) h;
	}
	*off_out = end;
	*len_out = 0;
	return PA_OK;
}

int
extent_gap_bytes(uint64_t *out, int fd, uint64_t pos, uint64_t end, pa_err *err)
{
	uint64_t sum = 0;

	while (pos < end) {
		uint64_t off = 0, len = 0;
		int      rc = extent_next_gap(&off, &len, fd, pos, end, err);

		if (rc != PA_OK)
			return rc;
		if (len == 0)
			break;
		sum += len;
		pos = off + len;
	}
	*out = sum;
	return PA_OK;
}
