// SPDX-License-Identifier: Apache-2.0
// probe.c: learn what a target is (file or device) and what its storage offers.
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

#define PROBE_EXT_MAGIC 0xEF53 // ext2, ext3 and ext4 share it
#define PROBE_CACHE_SIZE 64

static const struct {
	unsigned long magic;
	const char   *name;
} probe_fs_table[] = {
	{ PROBE_EXT_MAGIC, "ext2/3/4" },
	{ 0x58465342, "xfs" },
	{ 0x9123683E, "btrfs" },
	{ 0x01021994, "tmpfs" },
	{ 0x858458f6, "ramfs" },
	{ 0x6969, "nfs" },
	{ 0x794c7630, "overlay" },
	{ 0x4d44, "vfat" },
	{ 0x2011BAB0, "exfat" },
	{ 0x2fc12fc1, "zfs" },
	{ 0xF2F52010, "f2fs" },
	{ 0x00c36400, "ceph" },
	{ 0x65735546, "fuse" },
	{ 0xFF534D42, "cifs" },
	{ 0xFE534D42, "smb2" },
	{ 0x3153464a, "jfs" },
	{ 0x52654973, "reiserfs" },
	{ 0x3434, "nilfs" },
	{ 0x01161970, "gfs2" },
	{ 0x73717368, "squashfs" },
	{ 0x47504653, "gpfs" },
	{ 0x5346544e, "ntfs" },
};

// The fallocate answer per filesystem. st_dev alone is not enough: a
// loop device is reused by the next mkfs, so the statfs type and fsid
// (from the superblock UUID on most filesystems) are part of the key.
struct probe_falloc_entry {
	dev_t             dev;
	unsigned long     type;
	uint64_t          fsid;
	enum probe_falloc works;
};

static struct probe_falloc_entry probe_cache[PROBE_CACHE_SIZE];
static size_t                    probe_cache_used;
static size_t                    probe_cache_next;
static pthread_mutex_t           probe_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void
probe_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

// The mount's fstype from /proc/self/mountinfo, matched on st_dev.
static int
probe_mount_type(char *out, size_t len, dev_t dev)
{
	FILE  *f     = fopen("/proc/self/mountinfo", "re");
	char  *line  = NULL;
	size_t cap   = 0;
	int    found = 0;

	if (f == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char         type[64];
		const char  *sep = strstr(line, " - ");

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 ||
		    sep == NULL || makedev(maj, min) != dev ||
		    sscanf(sep + 3, "%63s", type) != 1)
			continue;
		probe_copy(out, len, type);
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

int
probe_fs_name(char *out, size_t len, int fd, pa_err *err)
{
	struct statfs sfs;
	struct stat   st;
	const char   *name = NULL;

	if (fstatfs(fd, &sfs) != 0 || fstat(fd, &st) != 0)
		return pa_err_errno(err, errno, "statfs");
	for (size_t i = 0; i < sizeof(probe_fs_table) / sizeof(*probe_fs_table);
	     i++)
		if ((unsigned long) sfs.f_type == probe_fs_table[i].magic)
			name = probe_fs_table[i].name;
	if ((unsigned long) sfs.f_type == PROBE_EXT_MAGIC &&
	    probe_mount_type(out, len, st.st_dev))
		return PA_OK;
	if (name != NULL)
		probe_copy(out, len, name);
	else
		snprintf(out, len, "0x%lx", (unsigned long) sfs.f_type);
	return PA_OK;
}

static int
probe_falloc_key(struct probe_falloc_entry *key, int fd)
{
	struct stat   st;
	struct statfs sfs;

	if (fstat(fd, &st) != 0 || fstatfs(fd, &sfs) != 0)
		return -1;
	memset(key, 0, sizeof(*key));
	key->dev  = st.st_dev;
	key->type = (unsigned long) sfs.f_type;
	memcpy(&key->fsid, &sfs.f_fsid, sizeof(key->fsid));
	return 0;
}

static struct probe_falloc_entry *
probe_cache_find(const struct probe_falloc_entry *key)
{
	for (size_t i = 0; i < probe_cache_used; i++)
		if (probe_cache[i].dev == key->dev &&
		    probe_cache[i].type == key->type &&
		    probe_cache[i].fsid == key->fsid)
			return &probe_cache[i];
	return NULL;
}

void
probe_falloc_learnt(int fd, enum probe_falloc works)
{
	struct probe_falloc_entry  key;
	struct probe_falloc_entry *e;

	if (works == PROBE_FALLOC_UNKNOWN || probe_falloc_key(&key, fd) != 0)
		return;
	key.works = works;
	pthread_mutex_lock(&probe_cache_lock);
	if ((e = probe_cache_find(&key)) == NULL) {
		e                = &probe_cache[probe_cache_next];
		probe_cache_next = (probe_cache_next + 1) % PROBE_CACHE_SIZE;
		if (probe_cache_used < PROBE_CACHE_SIZE)
			probe_cache_used++;
	}
	*e = key;
	pthread_mutex_unlock(&probe_cache_lock);
}

// An unnamed file in the directory; a named one, unlinked at once, where
// the filesystem has no O_TMPFILE.
static int
probe_scratch_file(int dirfd)
{
	char name[64];
	int  fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	snprintf(name, sizeof(name), ".prealloc-probe-%ld", (long) getpid());
	fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		unlinkat(dirfd, name, 0);
	return fd;
}

enum probe_falloc
probe_falloc_works(int dirfd)
{
	struct probe_falloc_entry        key;
	const struct probe_falloc_entry *e;
	enum probe_falloc                works = PROBE_FALLOC_UNKNOWN;
	int                              fd;

	if (probe_falloc_key(&key, dirfd) != 0)
		return PROBE_FALLOC_UNKNOWN;
	pthread_mutex_lock(&probe_cache_lock);
	if ((e = probe_cache_find(&key)) != NULL)
		works = e->works;
	pthread_mutex_unlock(&probe_cache_lock);
	if (works != PROBE_FALLOC_UNKNOWN)
		return works;
	if ((fd = probe_scratch_file(dirfd)) < 0)
		return PROBE_FALLOC_UNKNOWN;
	if (fallocate(fd, 0, 0, 4096) == 0)
		works = PROBE_FALLOC_YES;
	else if (errno == EOPNOTSUPP)
		works = PROBE_FALLOC_NO;
	probe_falloc_learnt(fd, works);
	close(fd);
	return works;
}

static void
probe_fill_space(struct probe_info *info, int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) == 0)
		info->free_bytes =
		    (uint64_t) sfs.f_bavail * (uint64_t) sfs.f_bsize;
}

static int
probe_open_dir(int *fd_out, const char *path, pa_err *err)
{
	char *copy = strdup(path);
	int   fd;

	if (copy == NULL)
		return pa_err_errno(err, ENOMEM, "probe %s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return pa_err_errno(err, errno, "directory of %s", path);
	*fd_out = fd;
	return PA_OK;
}

// What a file's filesystem offers: its name, free space, fallocate.
static int
probe_file_fs(struct probe_info *info, const char *path, int fd, pa_err *err)
{
	int dirfd = -1;
	int rc;

	if ((rc = probe_fs_name(info->fs, sizeof(info->fs), fd, err)) !=
	        PA_OK ||
	    (rc = probe_open_dir(&dirfd, path, err)) != PA_OK)
		return rc;
	probe_fill_space(info, fd);
	info->falloc = probe_falloc_works(dirfd);
	close(dirfd);
	return PA_OK;
}

static int
probe_file(struct probe_info *info, const char *path, int fd,
    const struct stat *st, pa_err *err)
{
	info->kind      = PROBE_FILE;
	info->size      = (uint64_t) st->st_size;
	info->allocated = (uint64_t) st->st_blocks * 512;
	return probe_file_fs(info, path, fd, err);
}

static int
probe_new_file(struct probe_info *info, const char *path, pa_err *err)
{
	int fd = -1;
	int rc;

	if ((rc = probe_open_dir(&fd, path, err)) != PA_OK)
		return rc;
	info->kind = PROBE_NEW_FILE;
	rc         = probe_file_fs(info, path, fd, err);
	close(fd);
	return rc;
}

static void
probe_lookup(blkid_probe pr, const char *name, char *out, size_t len)
{
	const char *val = NULL;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) == 0)
		probe_copy(out, len, val);
}

// The values of the signature libblkid has just found, superblock or
// partition table.
static void
probe_take_signature(struct probe_signature *sig, blkid_probe pr)
{
	const char *val = NULL;
	size_t      len = 0;

	memset(sig, 0, sizeof(*sig));
	if (blkid_probe_has_value(pr, "PTTYPE")) {
		probe_copy(sig->usage, sizeof(sig->usage), "partition table");
		probe_lookup(pr, "PTTYPE", sig->type, sizeof(sig->type));
		probe_lookup(pr, "PTUUID", sig->uuid, sizeof(sig->uuid));
		if (blkid_probe_lookup_value(
		        pr, "PTMAGIC_OFFSET", &val, NULL) == 0)
			sig->offset = strtoull(val, NULL, 10);
		if (blkid_probe_lookup_value(pr, "PTMAGIC", NULL, &len) == 0)
			sig->magic_len = len;
		return;
	}
	probe_lookup(pr, "USAGE", sig->usage, sizeof(sig->usage));
	probe_lookup(pr, "TYPE", sig->type, sizeof(sig->type));
	probe_lookup(pr, "UUID", sig->uuid, sizeof(sig->uuid));
	probe_lookup(pr, "LABEL", sig->label, sizeof(sig->label));
	if (blkid_probe_lookup_value(pr, "SBMAGIC_OFFSET", &val, NULL) == 0)
		sig->offset = strtoull(val, NULL, 10);
	if (blkid_probe_lookup_value(pr, "SBMAGIC", NULL, &len) == 0)
		sig->magic_len = len;
}

static int
probe_new_blkid(blkid_probe *out, int fd, pa_err *err)
{
	blkid_probe pr = blkid_new_probe();

	if (pr == NULL || blkid_probe_set_device(pr, fd, 0, 0) != 0) {
		blkid_free_probe(pr);
		return pa_err_set(
		    err, PA_INTERNAL, "libblkid cannot open the device");
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr,
	    BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
	        BLKID_SUBLKS_USAGE | BLKID_SUBLKS_MAGIC);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	*out = pr;
	return PA_OK;
}

// Each blkid_do_probe() call returns the next signature of any chain, as
// wipefs(8) walks them.
static int
probe_walk(struct probe_signature *sigs, size_t *n_out, size_t max,
    blkid_probe pr, pa_err *err)
{
	size_t n = 0;
	int    r;

	while ((r = blkid_do_probe(pr)) == 0) {
		if (n < max)
			probe_take_signature(&sigs[n], pr);
		n++;
	}
	if (r < 0)
		return pa_err_set(err, PA_INTERNAL, "libblkid probe failed");
	*n_out = n;
	return PA_OK;
}

int
probe_signatures(struct probe_signature *sigs, size_t *n_out, size_t max,
    int fd, pa_err *err)
{
	blkid_probe pr = NULL;
	int         rc;

	if ((rc = probe_new_blkid(&pr, fd, err)) != PA_OK)
		goto done;
	rc = probe_walk(sigs, n_out, max, pr, err);
done:
	blkid_free_probe(pr);
	return rc;
}

static bool
probe_in_range(const struct probe_signature *sig, uint64_t off, uint64_t end)
{
	uint64_t len = sig->magic_len > 0 ? sig->magic_len : 1;

	return sig->offset < end && sig->offset + len > off;
}

static int
probe_refuse_in_range(blkid_probe pr, uint64_t off, uint64_t end, pa_err *err)
{
	struct probe_signature sigs[PROBE_MAX_SIGNATURES];
	size_t                 n = 0;
	int                    rc;

	blkid_reset_probe(pr);
	if ((rc = probe_walk(sigs, &n, PROBE_MAX_SIGNATURES, pr, err)) != PA_OK)
		return rc;
	if (n > PROBE_MAX_SIGNATURES)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "device holds %zu signatures, too many to check", n);
	for (size_t i = 0; i < n; i++)
		if (probe_in_range(&sigs[i], off, end))
			return pa_err_set(err, PA_FAILED_PRECONDITION,
			    "%s %s signature (uuid %s) at byte %" PRIu64
			    " lies inside [%" PRIu64 ", %" PRIu64 ")",
			    sigs[i].type, sigs[i].usage,
			    sigs[i].uuid[0] ? sigs[i].uuid : "none",
			    sigs[i].offset, off, end);
	return PA_OK;
}

int
probe_check_range(int fd, uint64_t off, uint64_t end, pa_err *err)
{
	blkid_probe pr = NULL;
	int         rc;

	if ((rc = probe_new_blkid(&pr, fd, err)) != PA_OK)
		goto done;
	switch (blkid_do_safeprobe(pr)) {
	case 1: // nothing found
		break;
	case 0:  // a filesystem or partition table
	case -2: // ambivalent: several; look at where each one lies
		rc = probe_refuse_in_range(pr, off, end, err);
		break;
	default: // -1: an error; never guess
		rc = pa_err_set(err, PA_INTERNAL,
		    "cannot tell what the device holds: libblkid failed");
	}
done:
	blkid_free_probe(pr);
	return rc;
}

static uint64_t
probe_read_u64(const char *path)
{
	unsigned long long v = 0;
	FILE              *f = fopen(path, "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static uint64_t
probe_write_zeroes_max(unsigned int maj, unsigned int min)
{
	char path[128];

	snprintf(path, sizeof(path),
	    "/sys/dev/block/%u:%u/queue/write_zeroes_max_bytes", maj, min);
	if (access(path, R_OK) != 0) // a partition: its disk's queue
		snprintf(path, sizeof(path),
		    "/sys/dev/block/%u:%u/../queue/write_zeroes_max_bytes", maj,
		    min);
	return probe_read_u64(path);
}

static int
probe_topology(struct probe_info *info, int fd, pa_err *err)
{
	blkid_probe    pr = NULL;
	blkid_topology tp;
	int            rc;

	if ((rc = probe_new_blkid(&pr, fd, err)) != PA_OK)
		goto done;
	if ((tp = blkid_probe_get_topology(pr)) != NULL) {
		info->min_io     = blkid_topology_get_minimum_io_size(tp);
		info->optimal_io = blkid_topology_get_optimal_io_size(tp);
		info->alignment_offset =
		    blkid_topology_get_alignment_offset(tp);
	}
	blkid_reset_probe(pr);
	rc =
	    probe_walk(info->sigs, &info->nsigs, PROBE_MAX_SIGNATURES, pr, err);
done:
	blkid_free_probe(pr);
	return rc;
}

static int
probe_block(struct probe_info *info, const char *path, int fd,
    const struct stat *st, pa_err *err)
{
	unsigned int pbsz = 0;
	int          lbsz = 0;
	int          xfd;

	info->kind  = PROBE_BLOCK;
	info->major = major(st->st_rdev);
	info->minor = minor(st->st_rdev);
	if (ioctl(fd, BLKGETSIZE64, &info->size) != 0 ||
	    ioctl(fd, BLKSSZGET, &lbsz) != 0 ||
	    ioctl(fd, BLKPBSZGET, &pbsz) != 0)
		return pa_err_errno(err, errno, "%s: size ioctl", path);
	info->logical_sector  = (uint32_t) lbsz;
	info->physical_sector = pbsz;
	// O_EXCL claims the device the way mount and the kernel do, so EBUSY
	// means someone else holds it.
	if ((xfd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC)) >= 0)
		close(xfd);
	else
		info->busy = errno == EBUSY;
	info->write_zeroes_max =
	    probe_write_zeroes_max(info->major, info->minor);
	return probe_topology(info, fd, err);
}

static int
probe_open(int *fd_out, struct stat *st, const char *path, pa_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return pa_err_errno(err, errno, "%s", path);
	if (fstat(fd, st) != 0) {
		int e = errno;

		close(fd);
		return pa_err_errno(err, e, "stat %s", path);
	}
	*fd_out = fd;
	return PA_OK;
}

int
probe_path(struct probe_info *out, const char *path, pa_err *err)
{
	struct probe_info info;
	struct stat       st;
	int               fd = -1;
	int               rc;

	memset(&info, 0, sizeof(info));
	if (path == NULL || path[0] == '\0')
		return pa_err_set(err, PA_INVALID_ARGUMENT, "empty path");
	rc = probe_open(&fd, &st, path, err);
	if (rc == PA_NOT_FOUND) {
		pa_err_clear(err);
		rc = probe_new_file(&info, path, err);
	} else if (rc != PA_OK)
		goto done;
	else if (S_ISREG(st.st_mode))
		rc = probe_file(&info, path, fd, &st, err);
	else if (S_ISBLK(st.st_mode))
		rc = probe_block(&info, path, fd, &st, err);
	else
		rc = pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%s is neither a regular file nor a block device", path);
	if (rc == PA_OK)
		*out = info;
done:
	if (fd >= 0)
		close(fd);
	return rc;
}
