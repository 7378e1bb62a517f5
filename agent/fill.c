// SPDX-License-Identifier: Apache-2.0
// fill.c: turn a byte range of a file or block device into allocated zeros.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <limits.h>
#include <pthread.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "extent.h"
#include "fill.h"
#include "ratelimit.h"
#include "probe.h"
#include "prealloc/util.h"

// The longest sleep of the rate limit between two looks at cancel.
#define FILL_PACE_SLICE_NS (50u * 1000u * 1000u)

// One fill in progress.
struct fill_ctx {
	const struct fill_request *req;
	struct fill_result         res;
	int                        fd;
	int                        dirfd;  // new files: their directory
	bool                       own_fd; // opened here, so closed here
	bool                       own_dirfd;
	char                      *dirpath; // malloc'd, for dirfd
	const char                *base;    // the name in dirfd
	char                      *basepath;
	bool                       created;
	uint64_t                   orig_size;
	void                      *zeros;     // FILL_CHUNK bytes, aligned
	bool                       direct_ok; // O_DIRECT still worth trying
	bool                       direct_on; // fd has O_DIRECT set now
	uint64_t                   done, total;
	struct ratelimit           rate; // target.max_write_rate
};

static const char *const fill_method_names[] = { "auto", "falloc", "full" };
#define FILL_METHOD_COUNT \
	(sizeof(fill_method_names) / sizeof(fill_method_names[0]))

static const char *const fill_mechanism_names[FILL_MECH_COUNT] = { "none",
	"fallocate", "write-zeroes", "blkzeroout" };

// The index of @p name in @p names, or -1.
static int
fill_name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int) i;
	return -1;
}

const char *
fill_method_name(enum fill_method m)
{
	if ((unsigned) m >= FILL_METHOD_COUNT)
		return "unknown";
	return fill_method_names[m];
}

int
fill_method_from_name(enum fill_method *out, const char *name, pa_err *err)
{
	int i = fill_name_index(fill_method_names, FILL_METHOD_COUNT, name);

	if (i < 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "method %s is not auto, falloc or full",
		    name ? name : "(null)");
	*out = (enum fill_method) i;
	return PA_OK;
}

const char *
fill_mechanism_name(enum fill_mechanism m)
{
	if ((unsigned) m >= FILL_MECH_COUNT)
		return "unknown";
	return fill_mechanism_names[m];
}

int
fill_mechanism_from_name(
    enum fill_mechanism *out, const char *name, pa_err *err)
{
	int i = fill_name_index(fill_mechanism_names, FILL_MECH_COUNT, name);

	if (i < 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "mechanism %s is not none, fallocate, write-zeroes or "
		    "blkzeroout",
		    name ? name : "(null)");
	*out = (enum fill_mechanism) i;
	return PA_OK;
}

static bool
fill_cancelled(const struct fill_ctx *c)
{
	return c->req->cancel != NULL && atomic_load(c->req->cancel);
}

// Wait out the rate limit's debt, in slices so that a cancel is seen
// within one.
static void
fill_pace(struct fill_ctx *c, uint64_t n)
{
	uint64_t wait = ratelimit_take(&c->rate, n, pa_clock_ns());

	while (wait > 0 && !fill_cancelled(c)) {
		uint64_t slice =
		    wait < FILL_PACE_SLICE_NS ? wait : FILL_PACE_SLICE_NS;
		struct timespec ts = { .tv_sec = (time_t) (slice / 1000000000u),
			.tv_nsec               = (long) (slice % 1000000000u) };

		nanosleep(&ts, NULL);
		wait -= slice;
	}
}

static void
fill_advance(struct fill_ctx *c, uint64_t n)
{
	c->done += n;
	c->res.bytes_written += n;
	if (c->req->progress != NULL)
		c->req->progress(c->req->progress_arg, c->done, c->total);
	fill_pace(c, n);
}

// Turn O_DIRECT on or off for the next write. A filesystem that refuses
// it (tmpfs, some FUSE) is written buffered from then on.
static void
fill_set_direct(struct fill_ctx *c, bool on)
{
	int fl;

	on = on && c->direct_ok;
	if (on == c->direct_on || (fl = fcntl(c->fd, F_GETFL)) < 0)
		return;
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	if (fcntl(c->fd, F_SETFL, fl) == 0)
		c->direct_on = on;
	else if (on)
		c->direct_ok = false;
}

static int
fill_alloc_zeros(struct fill_ctx *c, pa_err *err)
{
	if ((c->zeros = aligned_alloc(FILL_ALIGN, FILL_CHUNK)) == NULL)
		return pa_err_errno(err, ENOMEM, "zero buffer");
	memset(c->zeros, 0, FILL_CHUNK);
	return PA_OK;
}

// Write zeros over [off, off + len), a chunk at a time, checking cancel
// before each chunk.
static int
fill_write_zeros(
    struct fill_ctx *c, uint64_t off, uint64_t len, bool direct, pa_err *err)
{
	fill_set_direct(c, direct);
	while (len > 0) {
		size_t  n = len < FILL_CHUNK ? (size_t) len : FILL_CHUNK;
		ssize_t w;

		if (fill_cancelled(c))
			return pa_err_set(err, PA_CANCELLED,
			    "cancelled after %" PRIu64 " of %" PRIu64 " bytes",
			    c->done, c->total);
		w = pwrite(c->fd, c->zeros, n, (off_t) off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EINVAL && c->direct_on) {
			// O_DIRECT refused at write time: go on buffered
			c->direct_ok = false;
			fill_set_direct(c, false);
			continue;
		}
		if (w < 0)
			return pa_err_errno(
			    err, errno, "write zeros at %" PRIu64, off);
		off += (uint64_t) w;
		len -= (uint64_t) w;
		fill_advance(c, (uint64_t) w);
	}
	return PA_OK;
}

// Zeros into one gap: an unaligned head and tail buffered, the aligned
// middle with O_DIRECT.
static int
fill_gap(struct fill_ctx *c, uint64_t off, uint64_t len, pa_err *err)
{
	uint64_t end = off + len;
	uint64_t a   = (off + FILL_ALIGN - 1) / FILL_ALIGN * FILL_ALIGN;
	uint64_t b   = end / FILL_ALIGN * FILL_ALIGN;
	int      rc;

	if (a >= b)
		return fill_write_zeros(c, off, len, false, err);
	if ((rc = fill_write_zeros(c, off, a - off, false, err)) != PA_OK ||
	    (rc = fill_write_zeros(c, a, b - a, true, err)) != PA_OK)
		return rc;
	return fill_write_zeros(c, b, end - b, false, err);
}

// full: zeros into every hole and unwritten extent of [offset, size).
static int
fill_file_full(struct fill_ctx *c, pa_err *err)
{
	uint64_t pos = c->req->target.offset, end = c->req->target.size;
	int      rc;

	// Delayed writes must reach their extents before the walk, or a
	// cached page over an unwritten extent would look like a gap.
	if (fdatasync(c->fd) != 0)
		return pa_err_errno(
		    err, errno, "fdatasync %s", c->req->target.path);
	if ((rc = extent_gap_bytes(&c->total, c->fd, pos, end, err)) != PA_OK ||
	    (rc = fill_alloc_zeros(c, err)) != PA_OK)
		return rc;
	c->res.method    = FILL_FULL;
	c->res.mechanism = FILL_MECH_WRITE_ZEROES;
	while (pos < end) {
		uint64_t off = 0, len = 0;

		if ((rc = extent_next_gap(&off, &len, c->fd, pos, end, err)) !=
		    PA_OK)
			return rc;
		if (len == 0)
			break;
		if ((rc = fill_gap(c, off, len, err)) != PA_OK)
			return rc;
		pos = off + len;
	}
	return PA_OK;
}

// falloc: fallocate(2) over [offset, size), never posix_fallocate.
// @return PA_UNIMPLEMENTED, with nothing written, where it is unsupported.
static int
fill_file_falloc(struct fill_ctx *c, pa_err *err)
{
	uint64_t off = c->req->target.offset,
	         len = c->req->target.size - c->req->target.offset;
	int r;

	c->total = len;
	if (len > 0) {
		do
			r = fallocate(c->fd, 0, (off_t) off, (off_t) len);
		while (r != 0 && errno == EINTR);
		if (r != 0 && errno == EOPNOTSUPP) {
			probe_falloc_learnt(c->fd, PROBE_FALLOC_NO);
			return pa_err_set(err, PA_UNIMPLEMENTED,
			    "fallocate is not supported on %s", c->res.target);
		}
		if (r != 0)
			return pa_err_errno(
			    err, errno, "fallocate %s", c->req->target.path);
		probe_falloc_learnt(c->fd, PROBE_FALLOC_YES);
	}
	c->res.method    = FILL_FALLOC;
	c->res.mechanism = FILL_MECH_FALLOCATE;
	c->done          = len;
	if (c->req->progress != NULL)
		c->req->progress(c->req->progress_arg, len, len);
	return PA_OK;
}

static int
fill_file_method(struct fill_ctx *c, pa_err *err)
{
	int rc;

	if (fill_cancelled(c))
		return pa_err_set(err, PA_CANCELLED, "cancelled before start");
	if (c->req->target.method == FILL_FULL)
		return fill_file_full(c, err);
	rc = fill_file_falloc(c, err);
	if (rc == PA_UNIMPLEMENTED && c->req->target.method == FILL_FALLOC)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "fallocate is not supported on %s; use method full",
		    c->res.target);
	if (rc != PA_UNIMPLEMENTED)
		return rc;
	snprintf(c->res.note, sizeof(c->res.note),
	    "fallocate is not supported on %s; wrote zeros", c->res.target);
	return fill_file_full(c, err);
}

// Not enough free space is refused before the file is touched. Allocated
// bytes already cover part of the range (an image written before, or an
// earlier run), so only the rest is needed.
static int
fill_check_space(const struct fill_ctx *c, uint64_t allocated, pa_err *err)
{
	const struct fill_request *req = c->req;
	struct statfs              sfs;
	uint64_t                   need, free_bytes;

	if (fstatfs(c->fd >= 0 ? c->fd : c->dirfd, &sfs) != 0)
		return pa_err_errno(err, errno, "statfs %s", req->target.path);
	need = req->target.size > allocated ? req->target.size - allocated : 0;
	if (need > req->target.size - req->target.offset)
		need = req->target.size - req->target.offset;
	free_bytes = (uint64_t) sfs.f_bavail * (uint64_t) sfs.f_bsize;
	if (need > free_bytes)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "%s needs %" PRIu64 " bytes, %" PRIu64 " free on %s",
		    req->target.path, need, free_bytes, c->res.target);
	return PA_OK;
}

// ---- files this agent created and could not remove yet ----

// One file a failed fill created, kept by its directory's path and its
// identity, so that a later try removes exactly that file and nothing that
// has taken its name since. A path, not a descriptor: a descriptor would
// keep the read-only filesystem busy, and the operator must be able to
// unmount it, check it and mount it again.
struct fill_leftover {
	char                  dir[PATH_MAX];
	char                  name[NAME_MAX + 1];
	dev_t                 dev;
	ino_t                 ino;
	struct fill_leftover *next;
};

static struct fill_leftover *fill_leftovers;
static pthread_mutex_t       fill_leftovers_lock = PTHREAD_MUTEX_INITIALIZER;

// @return 0 when the file is remembered, -1 when it cannot be.
static int
fill_remove_later(const struct fill_ctx *c)
{
	struct fill_leftover *l     = calloc(1, sizeof(*l));
	const char           *slash = strrchr(c->req->target.path, '/');
	struct stat           st;

	if (l == NULL || slash == NULL || fstat(c->fd, &st) != 0 ||
	    snprintf(l->dir, sizeof(l->dir), "%.*s",
	        (int) (slash - c->req->target.path),
	        c->req->target.path) >= (int) sizeof(l->dir) ||
	    snprintf(l->name, sizeof(l->name), "%s", c->base) >=
	        (int) sizeof(l->name)) {
		free(l);
		return -1;
	}
	if (l->dir[0] == '\0')
		snprintf(l->dir, sizeof(l->dir), "/");
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	pthread_mutex_lock(&fill_leftovers_lock);
	l->next        = fill_leftovers;
	fill_leftovers = l;
	pthread_mutex_unlock(&fill_leftovers_lock);
	return 0;
}

// The leftover's directory, by a path in which no symlink is followed: the
// path was canonical when the fill ran, and a symlink swapped in since
// cannot lead the removal elsewhere. @return an O_PATH fd, or -1.
static int
fill_leftover_dir(const struct fill_leftover *l)
{
	struct open_how how = {
		.flags   = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int) syscall(SYS_openat2, AT_FDCWD, l->dir, &how, sizeof(how));
}

// @return 1 when @p l was removed now, 0 when it is done with otherwise
// (gone, or its name is another file's now), -1 to try again later.
static int
fill_leftover_settle(const struct fill_leftover *l)
{
	struct stat st;
	int         dirfd = fill_leftover_dir(l), r = -1;

	if (dirfd < 0)
		return -1; // unmounted, or a symlink in the way: later
	if (fstatat(dirfd, l->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		r = errno == ENOENT ? 0 : -1;
	else if (st.st_dev != l->dev || st.st_ino != l->ino)
		r = 0; // another file has the name now: not ours
	else if (unlinkat(dirfd, l->name, 0) == 0)
		r = 1;
	else
		r = errno == ENOENT ? 0 : -1;
	close(dirfd);
	return r;
}

size_t
fill_retry_removals(void)
{
	struct fill_leftover **pp;
	size_t                 removed = 0;
	int                    r;

	pthread_mutex_lock(&fill_leftovers_lock);
	for (pp = &fill_leftovers; *pp != NULL;) {
		struct fill_leftover *l = *pp;

		if ((r = fill_leftover_settle(l)) < 0) {
			pp = &l->next;
			continue;
		}
		removed += (size_t) r;
		*pp = l->next;
		free(l);
	}
	pthread_mutex_unlock(&fill_leftovers_lock);
	return removed;
}

size_t
fill_pending_removals(void)
{
	size_t n = 0;

	pthread_mutex_lock(&fill_leftovers_lock);
	for (const struct fill_leftover *l = fill_leftovers; l != NULL;
	     l                             = l->next)
                n++;
	pthread_mutex_unlock(&fill_leftovers_lock);
	return n;
}

// Put the file back as it was: removed when this fill created it, else
// its original size. Holes filled inside that size keep their blocks but
// still read as zeros. A file this fill created that cannot be removed now
// (the filesystem turned read-only) is removed later, by
// fill_retry_removals().
static void
fill_restore(struct fill_ctx *c, pa_err *err)
{
	const char *later = "";
	int         r     = 0, e;

	if (c->created)
		r = unlinkat(c->dirfd, c->base, 0);
	else if (c->fd >= 0)
		r = ftruncate(c->fd, (off_t) c->orig_size);
	if (r == 0)
		return;
	e = errno;
	if (c->created && fill_remove_later(c) == 0)
		later = "; it is removed once the filesystem is writable again";
	if (err != NULL) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n,
		    "; restoring %s failed: %s%s", c->req->target.path,
		    strerror(e), later);
	}
}

static int
fill_stat_file(struct fill_ctx *c, struct stat *st, pa_err *err)
{
	if (fstat(c->fd, st) != 0)
		return pa_err_errno(err, errno, "stat %s", c->req->target.path);
	if (!S_ISREG(st->st_mode))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%s is not a regular file", c->req->target.path);
	return probe_fs_name(c->res.target, sizeof(c->res.target), c->fd, err);
}

static int
fill_split_path(struct fill_ctx *c, pa_err *err)
{
	char *copy = strdup(c->req->target.path);

	c->basepath = strdup(c->req->target.path);
	if (copy == NULL || c->basepath == NULL) {
		free(copy);
		return pa_err_errno(
		    err, ENOMEM, "path %s", c->req->target.path);
	}
	c->base    = basename(c->basepath);
	c->dirpath = copy;
	c->dirfd   = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return pa_err_errno(
		    err, errno, "directory of %s", c->req->target.path);
	return PA_OK;
}

// Open the file, or learn enough about its directory to check the request
// before creating it. Nothing is created here. A target given opened is
// taken as it is.
static int
fill_open_file(struct fill_ctx *c, struct stat *st, pa_err *err)
{
	int rc;

	memset(st, 0, sizeof(*st));
	if (c->fd >= 0)
		return fill_stat_file(c, st, err);
	if (c->dirfd >= 0)
		return probe_fs_name(
		    c->res.target, sizeof(c->res.target), c->dirfd, err);
	c->own_dirfd = true;
	if ((rc = fill_split_path(c, err)) != PA_OK)
		return rc;
	c->fd = openat(c->dirfd, c->base, O_RDWR | O_CLOEXEC);
	if (c->fd < 0 && errno == ENOENT)
		return probe_fs_name(
		    c->res.target, sizeof(c->res.target), c->dirfd, err);
	if (c->fd < 0)
		return pa_err_errno(err, errno, "open %s", c->req->target.path);
	c->own_fd = true;
	return fill_stat_file(c, st, err);
}

static int
fill_create_file(struct fill_ctx *c, pa_err *err)
{
	c->fd = openat(
	    c->dirfd, c->base, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (c->fd < 0)
		return pa_err_errno(
		    err, errno, "create %s", c->req->target.path);
	c->own_fd  = true;
	c->created = true;
	return PA_OK;
}

// Success is durable: the data and size, and for a new file its name.
static int
fill_sync(struct fill_ctx *c, pa_err *err)
{
	struct stat st;

	if (fstat(c->fd, &st) != 0)
		return pa_err_errno(err, errno, "stat %s", c->req->target.path);
	if ((uint64_t) st.st_size < c->req->target.size &&
	    ftruncate(c->fd, (off_t) c->req->target.size) != 0)
		return pa_err_errno(
		    err, errno, "extend %s", c->req->target.path);
	if (fdatasync(c->fd) != 0)
		return pa_err_errno(
		    err, errno, "fdatasync %s", c->req->target.path);
	if (c->created && fsync(c->dirfd) != 0)
		return pa_err_errno(
		    err, errno, "fsync directory of %s", c->req->target.path);
	if (fstat(c->fd, &st) != 0)
		return pa_err_errno(err, errno, "stat %s", c->req->target.path);
	c->res.allocated_after = (uint64_t) st.st_blocks * 512;
	return PA_OK;
}

static int
fill_check_offset(uint64_t offset, uint64_t size, pa_err *err)
{
	if (offset > size)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "offset %" PRIu64 " is past size %" PRIu64, offset, size);
	return PA_OK;
}

static int
fill_file(struct fill_ctx *c, pa_err *err)
{
	const struct fill_request *req = c->req;
	struct stat                st;
	int                        rc;

	if ((rc = fill_open_file(c, &st, err)) != PA_OK)
		return rc;
	c->orig_size            = (uint64_t) st.st_size;
	c->res.allocated_before = (uint64_t) st.st_blocks * 512;
	if (req->target.size < c->orig_size)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is %" PRIu64 " bytes; size %" PRIu64 " would shrink it",
		    req->target.path, c->orig_size, req->target.size);
	if ((rc = fill_check_offset(
	         req->target.offset, req->target.size, err)) != PA_OK)
		return rc;
	if ((rc = fill_check_space(c, c->res.allocated_before, err)) != PA_OK)
		return rc;
	if (c->fd < 0 && (rc = fill_create_file(c, err)) != PA_OK)
		return rc;
	c->direct_ok = true;
	if ((rc = fill_file_method(c, err)) == PA_OK &&
	    (rc = fill_sync(c, err)) == PA_OK)
		return PA_OK;
	fill_restore(c, err);
	return rc;
}

int
fill_device_range(uint64_t *end_out, int fd, const char *path, uint64_t size,
    uint64_t offset, pa_err *err)
{
	struct probe_geometry g;
	uint64_t              devsize, end, lbsz;
	int                   rc;

	if ((rc = probe_device_geometry(&g, fd, path, err)) != PA_OK)
		return rc;
	devsize = g.size;
	lbsz    = g.logical_sector;
	end     = size != 0 ? size : devsize;
	if (end > devsize)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "size %" PRIu64 " is past the end of %s (%" PRIu64
		    " bytes)",
		    end, path, devsize);
	if (offset > end)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "offset %" PRIu64 " is past the end %" PRIu64, offset, end);
	if (offset % lbsz != 0 || end % lbsz != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "offset %" PRIu64 " and end %" PRIu64
		    " must be multiples of the %" PRIu64 "-byte sector of %s",
		    offset, end, lbsz, path);
	*end_out = end;
	return PA_OK;
}

int
fill_check(uint64_t *end_out, enum fill_kind kind, int fd, const char *path,
    uint64_t size, uint64_t offset, pa_err *err)
{
	int rc;

	if (kind == FILL_KIND_DEVICE)
		return fill_device_range(end_out, fd, path, size, offset, err);
	if (size == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "size must be above 0 for a file");
	if (offset % FILL_ALIGN != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "offset %" PRIu64 " is not a multiple of %u", offset,
		    FILL_ALIGN);
	if ((rc = fill_check_offset(offset, size, err)) != PA_OK)
		return rc;
	*end_out = size;
	return PA_OK;
}

// Zeros by the kernel, a chunk per ioctl so that progress and cancel
// work. @return PA_UNIMPLEMENTED where the ioctl is refused at once.
static int
fill_blkzeroout(struct fill_ctx *c, uint64_t pos, uint64_t end, pa_err *err)
{
	c->res.mechanism = FILL_MECH_BLKZEROOUT;
	while (pos < end) {
		uint64_t n        = end - pos < FILL_DEVICE_CHUNK ? end - pos
		                                                  : FILL_DEVICE_CHUNK;
		uint64_t range[2] = { pos, n };

		if (fill_cancelled(c))
			return pa_err_set(err, PA_CANCELLED,
			    "cancelled after %" PRIu64 " of %" PRIu64 " bytes",
			    c->done, c->total);
		if (ioctl(c->fd, BLKZEROOUT, range) != 0) {
			if (c->done == 0 &&
			    (errno == EOPNOTSUPP || errno == ENOTTY ||
			        errno == EINVAL))
				return PA_UNIMPLEMENTED;
			return pa_err_errno(
			    err, errno, "BLKZEROOUT at %" PRIu64, pos);
		}
		pos += n;
		fill_advance(c, n);
	}
	return PA_OK;
}

static int
fill_device_zero(struct fill_ctx *c, uint64_t end, pa_err *err)
{
	int rc;

	c->total      = end - c->req->target.offset;
	c->res.method = FILL_FULL;
	rc            = fill_blkzeroout(c, c->req->target.offset, end, err);
	if (rc != PA_UNIMPLEMENTED)
		return rc;
	snprintf(c->res.note, sizeof(c->res.note),
	    "BLKZEROOUT is not supported on %s; wrote zeros", c->res.target);
	c->res.mechanism = FILL_MECH_WRITE_ZEROES;
	c->direct_ok     = true;
	if ((rc = fill_alloc_zeros(c, err)) != PA_OK)
		return rc;
	return fill_write_zeros(c, c->req->target.offset, c->total, true, err);
}

// A device given opened was claimed by its opener; one opened here is
// claimed here. O_EXCL fails with EBUSY while it is mounted or claimed.
static int
fill_open_device(struct fill_ctx *c, pa_err *err)
{
	const char *path = c->req->target.path;

	if (c->fd >= 0)
		return PA_OK;
	if ((c->fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC)) < 0 &&
	    errno == EBUSY)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is busy: mounted or held open by another user", path);
	if (c->fd < 0)
		return pa_err_errno(err, errno, "open %s", path);
	c->own_fd = true;
	return PA_OK;
}

static int
fill_device(struct fill_ctx *c, const struct stat *st, pa_err *err)
{
	const struct fill_request *req = c->req;
	uint64_t                   end = 0;
	int                        rc;

	snprintf(c->res.target, sizeof(c->res.target), "block device %u:%u",
	    major(st->st_rdev), minor(st->st_rdev));
	if (req->target.method == FILL_FALLOC)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "fallocate does not apply to %s (%s); use full or auto",
		    req->target.path, c->res.target);
	if ((rc = fill_open_device(c, err)) != PA_OK)
		return rc;
	if ((rc = fill_device_range(&end, c->fd, req->target.path,
	         req->target.size, req->target.offset, err)) != PA_OK)
		return rc;
	if (!req->target.force &&
	    (rc = probe_check_range(c->fd, req->target.offset, end, err)) !=
	        PA_OK)
		return rc;
	if ((rc = fill_device_zero(c, end, err)) != PA_OK)
		return rc;
	if (fdatasync(c->fd) != 0)
		return pa_err_errno(
		    err, errno, "fdatasync %s", req->target.path);
	return PA_OK;
}

// What the target is: the opened one's, or the path's.
static int
fill_target_stat(const struct fill_ctx *c, struct stat *st)
{
	if (c->fd >= 0)
		return fstat(c->fd, st);
	if (c->dirfd >= 0)
		return -1; // a file to create
	return stat(c->req->target.path, st);
}

static int
fill_check_request(const struct fill_request *req, pa_err *err)
{
	if (req == NULL || req->target.path[0] == '\0')
		return pa_err_set(err, PA_INVALID_ARGUMENT, "no path");
	if (req->fd < 0 && req->dirfd >= 0 &&
	    (req->name == NULL || req->name[0] == '\0' ||
	        strchr(req->name, '/') != NULL))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a file to create needs a plain name in its directory");
	if (req->target.method != FILL_AUTO &&
	    req->target.method != FILL_FALLOC &&
	    req->target.method != FILL_FULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "method %d",
		    (int) req->target.method);
	return PA_OK;
}

// What a fill that failed or was cancelled leaves to report: the
// allocation before it and the bytes it wrote stand; the allocation after
// is the file's once put back (0 for one it created and removed).
static void
fill_result_partial(struct fill_ctx *c)
{
	struct stat st;

	// Known only once a job has succeeded, as the wire says.
	c->res.mechanism       = FILL_MECH_NONE;
	c->res.allocated_after = 0;
	if (!c->created && c->fd >= 0 && fstat(c->fd, &st) == 0 &&
	    S_ISREG(st.st_mode))
		c->res.allocated_after = (uint64_t) st.st_blocks * 512;
}

int
fill_run(struct fill_result *out, const struct fill_request *req, pa_err *err)
{
	struct fill_ctx c;
	struct stat     st;
	uint64_t        t0 = pa_clock_ns();
	int             rc;

	memset(&c, 0, sizeof(c));
	c.req = req;
	if (req != NULL)
		ratelimit_init(&c.rate, req->target.max_write_rate, FILL_CHUNK,
		    pa_clock_ns());
	c.fd    = req != NULL ? req->fd : -1;
	c.dirfd = req != NULL ? req->dirfd : -1;
	c.base  = req != NULL ? req->name : NULL;
	if ((rc = fill_check_request(req, err)) != PA_OK)
		goto done;
	if (fill_target_stat(&c, &st) == 0 && S_ISBLK(st.st_mode))
		rc = fill_device(&c, &st, err);
	else
		rc = fill_file(&c, err);
	c.res.duration_ns = pa_clock_ns() - t0;
	if (rc != PA_OK)
		fill_result_partial(&c);
	*out = c.res;
done:
	if (c.own_fd && c.fd >= 0)
		close(c.fd);
	if (c.own_dirfd && c.dirfd >= 0)
		close(c.dirfd);
	free(c.zeros);
	free(c.dirpath);
	free(c.basepath);
	return rc;
}
