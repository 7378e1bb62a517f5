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

#include "prealloc/util.h"
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

static uint64_t
probe_lookup_u64(blkid_probe pr, const char *name)
{
	const char *val = NULL;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) != 0)
		return 0;
	return strtoull(val, NULL, 10);
}

// Superblock fields, in the byte order the on-disk format fixes.
static uint16_t
probe_le16(const unsigned char *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
probe_le32(const unsigned char *p)
{
	return (uint32_t) probe_le16(p) | (uint32_t) probe_le16(p + 2) << 16;
}

static uint64_t
probe_le64(const unsigned char *p)
{
	return (uint64_t) probe_le32(p) | (uint64_t) probe_le32(p + 4) << 32;
}

static uint32_t
probe_be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
	    (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
probe_be64(const unsigned char *p)
{
	return (uint64_t) probe_be32(p) << 32 | probe_be32(p + 4);
}

static bool
probe_pow2_between(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static bool
probe_mul(uint64_t *out, uint64_t a, uint64_t b)
{
	return !__builtin_mul_overflow(a, b, out);
}

static bool
probe_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r;

		if (off + got > (uint64_t) INT64_MAX)
			return false;
		r = pread(
		    fd, (char *) buf + got, len - got, (off_t) (off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t) r;
	}
	return true;
}

// One look at a device: the structures on it and the extent of each.
struct probe_scan {
	int                     fd;
	uint64_t                devsize;
	uint64_t                sector;     // logical sector size
	blkid_partlist          parts;      // NULL when libblkid lists none
	const char             *parts_type; // the table those belong to
	struct probe_signature *sigs;
	size_t                  max;
	size_t                  n; // found, may exceed max
};

static void
probe_scan_add(struct probe_scan *s, const struct probe_signature *sig)
{
	if (s->n < s->max)
		s->sigs[s->n] = *sig;
	s->n++;
}

static void
probe_whole_device(struct probe_signature *sig, const struct probe_scan *s)
{
	sig->extent_start   = 0;
	sig->extent_len     = s->devsize;
	sig->extent_unknown = true;
}

// [start, start + len) when it is a sane part of the device; a size of
// nothing or one past the end means the structure was misread, so it
// guards the whole device.
static void
probe_set_extent(struct probe_signature *sig, const struct probe_scan *s,
    uint64_t start, uint64_t len)
{
	if (len == 0 || start > s->devsize || len > s->devsize - start) {
		probe_whole_device(sig, s);
		return;
	}
	sig->extent_start   = start;
	sig->extent_len     = len;
	sig->extent_unknown = false;
}

// Where a filesystem starts and the size its superblock gives, from the
// byte @p magic where libblkid found its magic. False when unreadable.
typedef bool (*probe_fs_size_fn)(
    uint64_t *start, uint64_t *len, int fd, uint64_t magic);

#define PROBE_EXT_SB 1024u      // the superblock's offset in the filesystem
#define PROBE_EXT_MAGIC_AT 0x38 // the magic's offset in the superblock
#define PROBE_EXT_64BIT 0x80u   // INCOMPAT_64BIT: a high word of blocks

static bool
probe_ext_size(uint64_t *start, uint64_t *len, int fd, uint64_t magic)
{
	unsigned char sb[0x154];
	uint64_t      blocks;
	uint32_t      log_block;

	if (magic < PROBE_EXT_SB + PROBE_EXT_MAGIC_AT ||
	    !probe_pread(fd, sb, sizeof(sb), magic - PROBE_EXT_MAGIC_AT))
		return false;
	blocks    = probe_le32(sb + 0x04);
	log_block = probe_le32(sb + 0x18);
	if (probe_le32(sb + 0x60) & PROBE_EXT_64BIT)
		blocks |= (uint64_t) probe_le32(sb + 0x150) << 32;
	if (log_block > 6) // blocks are 1 KiB to 64 KiB
		return false;
	*start = magic - PROBE_EXT_MAGIC_AT - PROBE_EXT_SB;
	return probe_mul(len, blocks, (uint64_t) 1024 << log_block);
}

// The superblock starts the filesystem: sb_blocksize, then sb_dblocks.
static bool
probe_xfs_size(uint64_t *start, uint64_t *len, int fd, uint64_t magic)
{
	unsigned char sb[16];
	uint32_t      block;

	if (!probe_pread(fd, sb, sizeof(sb), magic))
		return false;
	block = probe_be32(sb + 4);
	if (!probe_pow2_between(block, 512, 65536))
		return false;
	*start = magic;
	return probe_mul(len, probe_be64(sb + 8), block);
}

#define PROBE_BTRFS_SB 0x10000u   // the first superblock's offset
#define PROBE_BTRFS_MAGIC_AT 0x40 // the magic's offset in it

// This device's share (dev_item.total_bytes); a single-device filesystem
// may not claim less than its total_bytes.
static bool
probe_btrfs_size(uint64_t *start, uint64_t *len, int fd, uint64_t magic)
{
	unsigned char sb[0xd9];
	uint64_t      size;

	if (magic < PROBE_BTRFS_SB + PROBE_BTRFS_MAGIC_AT ||
	    !probe_pread(fd, sb, sizeof(sb), magic - PROBE_BTRFS_MAGIC_AT))
		return false;
	size = probe_le64(sb + 0xd1);
	if (probe_le64(sb + 0x88) == 1 && probe_le64(sb + 0x70) > size)
		size = probe_le64(sb + 0x70);
	*start = magic - PROBE_BTRFS_MAGIC_AT - PROBE_BTRFS_SB;
	*len   = size;
	return true;
}

// The 10-byte magic ends the first page; a version 1 header at 1 KiB
// gives the last page.
static bool
probe_swap_size(uint64_t *start, uint64_t *len, int fd, uint64_t magic)
{
	unsigned char hdr[8];
	uint64_t      page = magic + 10;

	if (!probe_pow2_between(page, 4096, 65536) ||
	    !probe_pread(fd, hdr, sizeof(hdr), 1024) || probe_le32(hdr) != 1)
		return false;
	*start = 0;
	return probe_mul(len, (uint64_t) probe_le32(hdr + 4) + 1, page);
}

// The boot sector's BPB: bytes per sector, then 16- or 32-bit sectors.
static bool
probe_vfat_size(uint64_t *start, uint64_t *len, int fd, uint64_t magic)
{
	unsigned char bs[0x24];
	uint64_t      sectors;
	uint16_t      bytes;

	if (magic >= 512 || !probe_pread(fd, bs, sizeof(bs), 0))
		return false;
	bytes   = probe_le16(bs + 0x0b);
	sectors = probe_le16(bs + 0x13);
	if (sectors == 0)
		sectors = probe_le32(bs + 0x20);
	if (!probe_pow2_between(bytes, 512, 4096))
		return false;
	*start = 0;
	return probe_mul(len, sectors, bytes);
}

// The filesystems nodes hold, sized from their own superblock. Not from
// libblkid's FSSIZE (2.39 on; 2.38 has none): it leaves out xfs's
// internal log and ext4's high word of the blocks count, so it can end
// before the last block the filesystem uses.
static const struct {
	const char      *type;
	probe_fs_size_fn size;
} probe_fs_sizes[] = {
	{ "ext2", probe_ext_size },
	{ "ext3", probe_ext_size },
	{ "ext4", probe_ext_size },
	{ "ext4dev", probe_ext_size },
	{ "xfs", probe_xfs_size },
	{ "btrfs", probe_btrfs_size },
	{ "swap", probe_swap_size },
	{ "vfat", probe_vfat_size },
};

static void
probe_superblock_extent(struct probe_signature *sig, const struct probe_scan *s)
{
	uint64_t start = 0, len = 0;

	for (size_t i = 0; i < sizeof(probe_fs_sizes) / sizeof(*probe_fs_sizes);
	     i++)
		if (strcmp(sig->type, probe_fs_sizes[i].type) == 0 &&
		    probe_fs_sizes[i].size(&start, &len, s->fd, sig->offset)) {
			probe_set_extent(sig, s, start, len);
			return;
		}
	probe_whole_device(sig, s); // a raid, LVM, LUKS, another fs
}

static void
probe_take_superblock(struct probe_signature *sig, blkid_probe pr)
{
	size_t len = 0;

	memset(sig, 0, sizeof(*sig));
	probe_lookup(pr, "USAGE", sig->usage, sizeof(sig->usage));
	probe_lookup(pr, "TYPE", sig->type, sizeof(sig->type));
	probe_lookup(pr, "UUID", sig->uuid, sizeof(sig->uuid));
	probe_lookup(pr, "LABEL", sig->label, sizeof(sig->label));
	sig->offset = probe_lookup_u64(pr, "SBMAGIC_OFFSET");
	if (blkid_probe_lookup_value(pr, "SBMAGIC", NULL, &len) == 0)
		sig->magic_len = len;
}

// The lowest start of a partition of the top-level table, or 0.
static uint64_t
probe_first_partition(const struct probe_scan *s)
{
	blkid_parttable top   = blkid_partlist_get_table(s->parts);
	uint64_t        first = 0;
	int             n     = blkid_partlist_numof_partitions(s->parts);

	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(s->parts, i);
		blkid_loff_t    start = blkid_partition_get_start(par);

		if (blkid_partition_get_table(par) == top && start > 0 &&
		    (first == 0 || (uint64_t) start * 512 < first))
			first = (uint64_t) start * 512;
	}
	return first;
}

#define PROBE_DOS_MAGIC_AT 510     // 0x55aa ends the MBR
#define PROBE_EMBED_MAX (1u << 20) // the most a boot loader embeds

// The MBR sector, and the gap after it up to the first partition (at most
// 1 MiB), where boot loaders embed their core.
static void
probe_dos_extent(struct probe_signature *sig, const struct probe_scan *s)
{
	uint64_t start, end, first = probe_first_partition(s);

	if (sig->offset < PROBE_DOS_MAGIC_AT) {
		probe_whole_device(sig, s);
		return;
	}
	start = sig->offset - PROBE_DOS_MAGIC_AT;
	end   = start + s->sector;
	if (first > end)
		end = first < start + PROBE_EMBED_MAX ? first
		                                      : start + PROBE_EMBED_MAX;
	probe_set_extent(sig, s, start, end - start);
}

// What a gpt header says about both copies of the table.
struct probe_gpt {
	uint64_t my, alt, first, last; // LBAs
	uint64_t entries;              // sectors of one entry array
};

static bool
probe_gpt_read(struct probe_gpt *h, const struct probe_scan *s, uint64_t at)
{
	unsigned char b[92];
	uint64_t      lo, hi, bytes;

	if (!probe_pread(s->fd, b, sizeof(b), at) ||
	    memcmp(b, "EFI PART", 8) != 0 || probe_le32(b + 12) < sizeof(b) ||
	    probe_le32(b + 84) < 128)
		return false;
	h->my      = probe_le64(b + 24);
	h->alt     = probe_le64(b + 32);
	h->first   = probe_le64(b + 40);
	h->last    = probe_le64(b + 48);
	bytes      = (uint64_t) probe_le32(b + 80) * probe_le32(b + 84);
	h->entries = (bytes + s->sector - 1) / s->sector;
	lo         = h->my < h->alt ? h->my : h->alt;
	hi         = h->my < h->alt ? h->alt : h->my;
	// Every LBA inside the device, so that no product below overflows.
	return lo == 1 && hi < s->devsize / s->sector &&
	    h->my * s->sector == at && h->last < hi &&
	    h->first <= h->last + 1 && h->entries < hi - lo;
}

// The area around the header at @p lba: at the start, the protective MBR,
// the header and its entries up to the first usable LBA; at the end, the
// entries and the header down from the last usable one.
static void
probe_gpt_area(struct probe_signature *sig, const struct probe_scan *s,
    const struct probe_gpt *h, uint64_t lba)
{
	uint64_t lo = h->my < h->alt ? h->my : h->alt, from, to;

	if (lba == lo) {
		from = 0;
		to   = h->first > lo + 1 + h->entries ? h->first
		                                      : lo + 1 + h->entries;
	} else {
		from = h->last + 1 < lba - h->entries ? h->last + 1
		                                      : lba - h->entries;
		to   = lba + 1;
	}
	sig->offset = lba * s->sector;
	probe_set_extent(sig, s, from * s->sector, (to - from) * s->sector);
}

// A gpt is two entries: the header libblkid found, then its other copy.
static void
probe_add_gpt(struct probe_scan *s, struct probe_signature *sig)
{
	struct probe_gpt h;

	if (!probe_gpt_read(&h, s, sig->offset)) {
		probe_whole_device(sig, s);
		probe_scan_add(s, sig);
		return;
	}
	probe_gpt_area(sig, s, &h, h.my);
	probe_scan_add(s, sig);
	probe_gpt_area(sig, s, &h, h.alt);
	probe_scan_add(s, sig);
}

static void
probe_add_table(struct probe_scan *s, blkid_probe pr)
{
	struct probe_signature sig;
	size_t                 len = 0;

	memset(&sig, 0, sizeof(sig));
	probe_copy(sig.usage, sizeof(sig.usage), "partition table");
	probe_lookup(pr, "PTTYPE", sig.type, sizeof(sig.type));
	probe_lookup(pr, "PTUUID", sig.uuid, sizeof(sig.uuid));
	sig.offset = probe_lookup_u64(pr, "PTMAGIC_OFFSET");
	if (blkid_probe_lookup_value(pr, "PTMAGIC", NULL, &len) == 0)
		sig.magic_len = len;
	// A table whose partitions libblkid does not list could have any.
	if (s->parts_type == NULL || strcmp(sig.type, s->parts_type) != 0)
		probe_whole_device(&sig, s);
	else if (strcmp(sig.type, "gpt") == 0) {
		probe_add_gpt(s, &sig);
		return;
	} else if (strcmp(sig.type, "dos") == 0)
		probe_dos_extent(&sig, s);
	else
		probe_whole_device(&sig, s);
	probe_scan_add(s, &sig);
}

static void
probe_take_partition(struct probe_signature *sig, const struct probe_scan *s,
    blkid_partition par)
{
	blkid_loff_t start = blkid_partition_get_start(par);
	blkid_loff_t size  = blkid_partition_get_size(par);
	const char  *type  = blkid_partition_get_type_string(par);

	memset(sig, 0, sizeof(*sig));
	probe_copy(sig->usage, sizeof(sig->usage), "partition");
	if (type != NULL)
		probe_copy(sig->type, sizeof(sig->type), type);
	else
		snprintf(sig->type, sizeof(sig->type), "0x%02x",
		    (unsigned) blkid_partition_get_type(par));
	probe_copy(sig->uuid, sizeof(sig->uuid), blkid_partition_get_uuid(par));
	probe_copy(
	    sig->label, sizeof(sig->label), blkid_partition_get_name(par));
	sig->partno = (unsigned) blkid_partition_get_partno(par);
	if (start < 0 || size <= 0) {
		probe_whole_device(sig, s);
		return;
	}
	// libblkid counts partitions in 512-byte sectors whatever the device
	sig->offset = (uint64_t) start * 512;
	probe_set_extent(sig, s, sig->offset, (uint64_t) size * 512);
}

static void
probe_add_partitions(struct probe_scan *s)
{
	struct probe_signature sig;
	int                    n =
            s->parts != NULL ? blkid_partlist_numof_partitions(s->parts) : 0;

	for (int i = 0; i < n; i++) {
		probe_take_partition(
		    &sig, s, blkid_partlist_get_partition(s->parts, i));
		probe_scan_add(s, &sig);
	}
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
probe_walk(struct probe_scan *s, blkid_probe pr, pa_err *err)
{
	struct probe_signature sig;
	int                    r;

	blkid_reset_probe(pr);
	while ((r = blkid_do_probe(pr)) == 0) {
		if (blkid_probe_has_value(pr, "PTTYPE")) {
			probe_add_table(s, pr);
			continue;
		}
		probe_take_superblock(&sig, pr);
		probe_superblock_extent(&sig, s);
		probe_scan_add(s, &sig);
	}
	if (r < 0)
		return pa_err_set(err, PA_INTERNAL, "libblkid probe failed");
	return PA_OK;
}

// Every structure on the device behind @p pr, into @p sigs. The partition
// list comes from a probe of its own: asking @p pr for it would reset the
// walk.
static int
probe_scan(size_t *n_out, struct probe_signature *sigs, size_t max,
    blkid_probe pr, int fd, pa_err *err)
{
	struct probe_scan s    = { .fd = fd, .sigs = sigs, .max = max };
	blkid_probe       pp   = NULL;
	blkid_loff_t      size = blkid_probe_get_size(pr);
	int               rc;

	if (size < 0)
		return pa_err_set(err, PA_INTERNAL, "libblkid has no size");
	s.devsize = (uint64_t) size;
	s.sector  = blkid_probe_get_sectorsize(pr);
	if (s.sector < 512)
		s.sector = 512;
	if ((rc = probe_new_blkid(&pp, fd, err)) != PA_OK)
		return rc;
	if ((s.parts = blkid_probe_get_partitions(pp)) != NULL)
		s.parts_type =
		    blkid_parttable_get_type(blkid_partlist_get_table(s.parts));
	if ((rc = probe_walk(&s, pr, err)) == PA_OK) {
		probe_add_partitions(&s);
		*n_out = s.n;
	}
	blkid_free_probe(pp);
	return rc;
}

int
probe_signatures(struct probe_signature *sigs, size_t *n_out, size_t max,
    int fd, pa_err *err)
{
	blkid_probe pr = NULL;
	int         rc;

	if ((rc = probe_new_blkid(&pr, fd, err)) != PA_OK)
		goto done;
	rc = probe_scan(n_out, sigs, max, pr, fd, err);
done:
	blkid_free_probe(pr);
	return rc;
}

static bool
probe_overlaps(const struct probe_signature *sig, uint64_t off, uint64_t end)
{
	return sig->extent_start < end &&
	    sig->extent_start + sig->extent_len > off;
}

// One line a user can act on: what is there, where, and the range asked.
static int
probe_refuse(
    const struct probe_signature *sig, uint64_t off, uint64_t end, pa_err *err)
{
	const char *uuid = sig->uuid[0] != '\0' ? sig->uuid : "none";
	const char *whole =
	    sig->extent_unknown ? " (size unknown: the whole device)" : "";
	uint64_t to = sig->extent_start + sig->extent_len;

	if (strcmp(sig->usage, "partition") == 0)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "partition %u (type %s, uuid %s) covers [%" PRIu64
		    ", %" PRIu64 ")%s, which overlaps the requested [%" PRIu64
		    ", %" PRIu64 ")",
		    sig->partno, sig->type, uuid, sig->extent_start, to, whole,
		    off, end);
	return pa_err_set(err, PA_FAILED_PRECONDITION,
	    "%s %s (uuid %s) at byte %" PRIu64 " covers [%" PRIu64 ", %" PRIu64
	    ")%s, which overlaps the requested [%" PRIu64 ", %" PRIu64 ")",
	    sig->type, sig->usage, uuid, sig->offset, sig->extent_start, to,
	    whole, off, end);
}

static int
probe_refuse_overlap(
    blkid_probe pr, int fd, uint64_t off, uint64_t end, pa_err *err)
{
	struct probe_signature sigs[PROBE_MAX_SIGNATURES];
	size_t                 n = 0;
	int                    rc;

	if ((rc = probe_scan(&n, sigs, PROBE_MAX_SIGNATURES, pr, fd, err)) !=
	    PA_OK)
		return rc;
	if (n > PROBE_MAX_SIGNATURES)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "the device holds %zu structures, more than the %d that "
		    "can be checked",
		    n, PROBE_MAX_SIGNATURES);
	for (size_t i = 0; i < n; i++)
		if (probe_overlaps(&sigs[i], off, end))
			return probe_refuse(&sigs[i], off, end, err);
	return PA_OK;
}

int
probe_check_range(int fd, uint64_t off, uint64_t end, pa_err *err)
{
	blkid_probe pr = NULL;
	int         rc;

	if (off >= end) // nothing will be written
		return PA_OK;
	if ((rc = probe_new_blkid(&pr, fd, err)) != PA_OK)
		goto done;
	switch (blkid_do_safeprobe(pr)) {
	case 1: // nothing found
		break;
	case 0:  // a filesystem, a partition table or both
	case -2: // ambivalent: several superblocks; each guards its extent
		rc = probe_refuse_overlap(pr, fd, off, end, err);
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
	rc = probe_scan(
	    &info->nsigs, info->sigs, PROBE_MAX_SIGNATURES, pr, fd, err);
done:
	blkid_free_probe(pr);
	return rc;
}

int
probe_device_geometry(
    struct probe_geometry *out, int fd, const char *path, pa_err *err)
{
	uint64_t     size = 0;
	unsigned int pbsz = 0;
	int          lbsz = 0;
	int          rc;

	if ((rc = pa_blkdev_size(&size, fd, path, err)) != PA_OK)
		return rc;
	if (ioctl(fd, BLKSSZGET, &lbsz) != 0 ||
	    ioctl(fd, BLKPBSZGET, &pbsz) != 0)
		return pa_err_errno(err, errno, "%s: size ioctl", path);
	if (lbsz <= 0)
		return pa_err_set(err, PA_INTERNAL,
		    "%s: size ioctl: logical sector size %d", path, lbsz);
	out->size            = size;
	out->logical_sector  = (uint32_t) lbsz;
	out->physical_sector = pbsz;
	return PA_OK;
}

static int
probe_block(struct probe_info *info, const char *path, int fd,
    const struct stat *st, pa_err *err)
{
	struct probe_geometry g;
	int                   xfd, rc;

	info->kind  = PROBE_BLOCK;
	info->major = major(st->st_rdev);
	info->minor = minor(st->st_rdev);
	if ((rc = probe_device_geometry(&g, fd, path, err)) != PA_OK)
		return rc;
	info->size            = g.size;
	info->logical_sector  = g.logical_sector;
	info->physical_sector = g.physical_sector;
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
