// SPDX-License-Identifier: Apache-2.0
// loopfs.h: throwaway loop devices and filesystems (ext4, ext3, xfs, btrfs,
// tmpfs).
#ifndef PREALLOC_LOOPFS_H
#define PREALLOC_LOOPFS_H

#include <stdint.h>

#include "testlib.h"

/** What loopfs_new() says. */
enum loopfs_rc {
	LOOPFS_OK     = 0,
	LOOPFS_CANNOT = 1, ///< this machine cannot: no loop, no mkfs, not root
	LOOPFS_ERROR  = 2, ///< it should have worked and did not
};

/** A loop device, maybe with a mounted filesystem, in a temp dir. */
struct loopfs {
	char    *dir;        ///< the temp dir: image and mount point
	char    *image;      ///< backing image; NULL for tmpfs
	char     dev[32];    ///< "/dev/loopN"; "" for tmpfs
	char    *mnt;        ///< mount point; NULL while not mounted
	char     fstype[16]; ///< "" for a bare device
	uint64_t size;
};

/**
 * Make a sparse image of @p size bytes, attach it to a loop device, and
 * unless @p fstype is NULL make that filesystem on it and mount it.
 * "tmpfs" mounts a tmpfs of @p size bytes with no device.
 * Everything is torn down by loopfs_free(), or at exit if a test dies.
 * @param[out] out  set only on LOOPFS_OK; free with loopfs_free().
 * @param why       on failure, why (also printed to stderr).
 * @return LOOPFS_OK, LOOPFS_CANNOT or LOOPFS_ERROR.
 */
int loopfs_new(
    struct loopfs **out, char why[256], const char *fstype, uint64_t size);

/**
 * Have @p lf's loop device read and write its backing file with direct
 * I/O, so that what a benchmark times reaches the disk and not the page
 * cache of the image. @return 0, or -1 where the kernel refuses.
 */
int loopfs_direct_io(const struct loopfs *lf);

/** Mount @p lf again after loopfs_umount(). @return 0 or -1. */
int loopfs_mount(struct loopfs *lf);

/** Unmount @p lf (the loop device stays). @return 0 or -1. */
int loopfs_umount(struct loopfs *lf);

/** Unmount, detach, remove. NULL is a no-op. */
void loopfs_free(struct loopfs *lf);

/** @return malloc'd "<mnt>/<name>"; the caller frees it. */
char *loopfs_path(const struct loopfs *lf, const char *name);

/**
 * Make a loopfs or skip the current cmocka test visibly: a LOOPFS_CANNOT
 * prints "SKIP: <why>" and calls skip(); a LOOPFS_ERROR fails the test.
 * @return the loopfs (never NULL when it returns).
 */
struct loopfs *loopfs_new_or_skip(const char *fstype, uint64_t size);

/** Skip the current cmocka test, printing "SKIP: <why>" and counting it. */
void loopfs_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * The exit status for main(): the failure count when any failed, else
 * TESTLIB_SKIP_EXIT when any test skipped (ctest shows a SKIP, not a
 * pass), else 0.
 */
int loopfs_exit_status(int failed);

#endif // PREALLOC_LOOPFS_H
