// SPDX-License-Identifier: Apache-2.0
// probe.h: what a preallocation target is: file or block device, and its
// storage.
#ifndef PREALLOC_AGENT_PROBE_H
#define PREALLOC_AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "prealloc/status.h"

/** The most signatures probe_info keeps; more are counted, not kept. */
#define PROBE_MAX_SIGNATURES 16

/** What a path names. */
enum probe_kind {
	PROBE_FILE     = 0, ///< an existing regular file
	PROBE_NEW_FILE = 1, ///< no file yet; its directory exists
	PROBE_BLOCK    = 2, ///< a block device
};

/** Whether fallocate(2) works on a filesystem, as learnt by trying it. */
enum probe_falloc {
	PROBE_FALLOC_UNKNOWN = 0, ///< the try failed for another reason
	PROBE_FALLOC_YES     = 1,
	PROBE_FALLOC_NO      = 2, ///< EOPNOTSUPP
};

/**
 * One structure libblkid found on a device: a superblock (filesystem,
 * raid, crypto, ...), a partition table, or one partition of it. Each
 * covers an extent of the device that writing must leave alone.
 */
struct probe_signature {
	/** "filesystem", "partition table", "partition", "raid", "other" */
	char usage[24];
	/** "ext4", "dos", "gpt"; a partition's type: "0x83", a GPT GUID */
	char type[40];
	char uuid[64];  ///< "" when the signature has none
	char label[64]; ///< "" when none; a GPT partition: its name
	/** Byte offset of the magic on the device; a partition: its start. */
	uint64_t offset;
	uint64_t magic_len;    ///< length of the magic; 0 for a partition
	uint64_t extent_start; ///< first byte of the device it covers
	uint64_t extent_len;   ///< bytes it covers from extent_start
	/** Its size could not be read: the extent is the whole device. */
	bool         extent_unknown;
	unsigned int partno; ///< a partition's number; 0 for the others
};

/** What probe_path() learns. Plain data: nothing to free. */
struct probe_info {
	enum probe_kind kind;
	// files (PROBE_FILE and PROBE_NEW_FILE)
	char              fs[32];     ///< "ext4", "xfs", "tmpfs", "0x1234abcd"
	uint64_t          size;       ///< st_size; 0 for a new file
	uint64_t          allocated;  ///< st_blocks * 512
	uint64_t          free_bytes; ///< f_bavail * f_bsize
	enum probe_falloc falloc;
	// block devices (PROBE_BLOCK); size is the device size
	unsigned int           major, minor;
	uint32_t               logical_sector;
	uint32_t               physical_sector;
	uint64_t               min_io;           ///< libblkid topology
	uint64_t               optimal_io;       ///< 0 when not reported
	int64_t                alignment_offset; ///< libblkid topology
	bool                   busy;             ///< O_EXCL gave EBUSY
	uint64_t               write_zeroes_max; ///< 0: no offload
	size_t                 nsigs;            ///< signatures found
	struct probe_signature sigs[PROBE_MAX_SIGNATURES];
};

/** A block device's size and sectors, as the kernel reports them. */
struct probe_geometry {
	uint64_t size;            ///< bytes (BLKGETSIZE64)
	uint32_t logical_sector;  ///< bytes (BLKSSZGET), above 0
	uint32_t physical_sector; ///< bytes (BLKPBSZGET)
};

/**
 * Read the size and sector sizes of the open block device @p fd: the one
 * place the agent asks the kernel for them.
 * @param[out] out  filled only on PA_OK.
 * @param path      for messages.
 * @return PA_OK, the failed ioctl's errno code, or PA_INTERNAL for a
 *         logical sector size that is not above 0.
 */
int probe_device_geometry(
    struct probe_geometry *out, int fd, const char *path, pa_err *err);

/**
 * Probe what @p path names, without writing to it.
 * @param[out] out  filled only on PA_OK.
 * @param path      a regular file (which may not exist yet, if its
 *                  directory does) or a block device; read, not kept.
 * @param err       optional; on failure the code and a message.
 * @return PA_OK; PA_INVALID_ARGUMENT for another kind of file;
 *         PA_NOT_FOUND when neither the path nor its directory exists;
 *         PA_PERMISSION_DENIED; PA_INTERNAL when libblkid fails.
 */
int probe_path(struct probe_info *out, const char *path, pa_err *err);

/**
 * Name the filesystem that holds the open file @p fd, from statfs f_type,
 * and for ext2/3/4 (one magic) from the mount's type in mountinfo.
 * @param[out] out  filled only on PA_OK, NUL-terminated.
 * @param len       size of @p out.
 * @return PA_OK, or the fstatfs error's code.
 */
int probe_fs_name(char *out, size_t len, int fd, pa_err *err);

/**
 * Whether fallocate works on the filesystem of directory @p dirfd: the
 * answer cached for that filesystem, else a 4 KiB fallocate of an
 * unnamed temporary file there. Thread-safe.
 * @return the answer; PROBE_FALLOC_UNKNOWN when the try could not tell.
 */
enum probe_falloc probe_falloc_works(int dirfd);

/**
 * Record what a real fallocate on the open file @p fd taught, so that
 * later probes of that filesystem report it. Thread-safe.
 */
void probe_falloc_learnt(int fd, enum probe_falloc works);

/**
 * Every structure libblkid finds on the open block device @p fd, with the
 * extent each one covers: superblocks, partition tables, then the
 * partitions of the table.
 *
 * Extents: ext2/3/4, xfs, btrfs, swap and vfat cover [start, start + size)
 * with the size read from their superblock; any other superblock, or one
 * whose size is unreadable or runs past the device, covers the whole
 * device (extent_unknown). A dos table covers its sector and the gap up
 * to its first partition, where boot loaders embed themselves; a gpt one
 * is two entries, each header with its entry array (the primary with the
 * protective MBR); another table type, or one whose partitions libblkid
 * does not list, covers the whole device. Each partition (extended and
 * logical ones too) covers its own extent.
 *
 * @param[out] sigs     up to @p max structures, in that order; its
 *                      contents are unspecified on failure.
 * @param[out] n_out    how many were found (may exceed @p max); written
 *                      only on PA_OK.
 * @return PA_OK, or PA_INTERNAL when libblkid fails.
 */
int probe_signatures(struct probe_signature *sigs, size_t *n_out, size_t max,
    int fd, pa_err *err);

/**
 * Refuse to write [@p off, @p end) of the block device @p fd when that
 * range overlaps the extent of any structure probe_signatures() finds.
 * blkid_do_safeprobe() decides first: nothing found is fine; a found or
 * an ambivalent result (several superblocks) is checked structure by
 * structure, each with its own extent, so ambivalence can only protect
 * more; a probe error refuses. More than PROBE_MAX_SIGNATURES structures
 * are refused too: they cannot all be checked. An empty range is fine.
 * @return PA_OK; PA_FAILED_PRECONDITION naming the structure, its type
 *         and UUID, its extent and the range; PA_INTERNAL when the device
 *         cannot be probed.
 */
int probe_check_range(int fd, uint64_t off, uint64_t end, pa_err *err);

#endif // PREALLOC_AGENT_PROBE_H
