// SPDX-License-Identifier: Apache-2.0
// fillcheck.c: oracles and a progress recorder for tests of the fill engine.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fillcheck.h"
#include "testlib.h"

void
fillcheck_init(struct fillcheck *fc)
{
	memset(fc, 0, sizeof(*fc));
	atomic_init(&fc->cancel, false);
}

void
fillcheck_progress(void *arg, uint64_t done, uint64_t total)
{
	struct fillcheck *fc = arg;

	assert_true(done <= total);
	assert_true(done >= fc->last_done);
	fc->last_done  = done;
	fc->last_total = total;
	fc->calls++;
	if (fc->cancel_at > 0 && done >= fc->cancel_at &&
	    !atomic_load(&fc->cancel)) {
		fc->done_at_set = done;
		atomic_store(&fc->cancel, true);
	}
	if (fc->at_half != NULL && !fc->halfway_done && done >= total / 2) {
		fc->halfway_done = true;
		fc->at_half(fc->at_half_arg);
	}
}

int
fillcheck_holey_file(const char *path, uint64_t size)
{
	int fd, rc = 0;

	if (testlib_write_random(path, size / 6, size / 6, 7) != 0 ||
	    testlib_write_random(path, size / 2, 5000, 8) != 0)
		return -1;
	if ((fd = open(path, O_WRONLY)) < 0)
		return -1;
	if (ftruncate(fd, (off_t) size) != 0 || fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

off_t
fillcheck_first_hole(const char *path)
{
	int   fd = open(path, O_RDONLY);
	off_t h;

	if (fd < 0)
		return -1;
	h = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	return h;
}
