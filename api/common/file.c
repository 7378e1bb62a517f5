// SPDX-License-Identifier: Apache-2.0
// file.c: read a whole file with a limit; write a whole buffer; the size
// of a block device.
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "prealloc/util.h"

// The first buffer; it doubles as the file proves longer.
#define FILE_FIRST_CHUNK 4096

// Make room for at least one more byte past @p len (and the NUL), up to
// @p limit + 1 so that a file longer than the limit is seen to be.
static int
file_grow(char **buf, size_t *cap, size_t len, size_t limit)
{
	size_t want = *cap != 0 ? *cap * 2 : FILE_FIRST_CHUNK;
	char  *more;

	if (want > limit + 2)
		want = limit + 2;
	if (want <= len + 1)
		return 0; // already at the limit's size
	if ((more = realloc(*buf, want)) == NULL)
		return -1;
	*buf = more;
	*cap = want;
	return 0;
}

int
pa_file_read(
    char **out, size_t *len_out, const char *path, size_t limit, pa_err *err)
{
	char   *buf = NULL;
	size_t  len = 0, cap = 0;
	ssize_t n = 0;
	int     fd, rc = PA_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pa_err_errno(err, errno, "open %s", path);
	for (;;) {
		if (len + 1 >= cap && file_grow(&buf, &cap, len, limit) != 0) {
			rc = pa_err_errno(err, ENOMEM, "read %s", path);
			goto done;
		}
		if (len > limit || len + 1 >= cap)
			break;
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
	}
	if (n < 0) {
		rc = pa_err_errno(err, errno, "read %s", path);
		goto done;
	}
	if (len > limit) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "%s is larger than %zu bytes", path, limit);
		goto done;
	}
	buf[len] = '\0';
	*out     = buf;
	*len_out = len;
	buf      = NULL;
done:
	free(buf);
	close(fd);
	return rc;
}

int
pa_write_all(
    int fd, const void *buf, size_t len, off_t offset, size_t *done_out)
{
	const char *p    = buf;
	size_t      done = 0;
	int         rc   = 0;

	while (done < len) {
		ssize_t n = offset >= 0
		    ? pwrite(fd, p + done, len - done, offset + (off_t) done)
		    : write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; // no progress: never loop forever
			rc = -1;
			break;
		}
		done += (size_t) n;
	}
	if (done_out != NULL)
		*done_out = done;
	return rc;
}

int
pa_blkdev_size(uint64_t *out, int fd, const char *path, pa_err *err)
{
	uint64_t size = 0;

	if (ioctl(fd, BLKGETSIZE64, &size) != 0)
		return pa_err_errno(err, errno, "%s: size ioctl", path);
	*out = size;
	return PA_OK;
}
