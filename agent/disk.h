// SPDX-License-Identifier: Apache-2.0
// disk.h: which disk a file or device really lives on, for per-disk
// scheduling.
#ifndef PREALLOC_DISK_H
#define PREALLOC_DISK_H

#include <sys/types.h>

/**
 * The whole disk that block device @p dev is on, as sysfs tells: a
 * partition's disk (8:1 is on 8:0), and a loop device's backing file's
 * disk (followed up to a few levels: a loop device on a file on another
 * loop device). A device sysfs says nothing more of (a whole disk, a
 * device-mapper or md device) is its own disk, and so is an anonymous
 * device (major 0: tmpfs, btrfs, overlayfs), which has no disk to find.
 * @return the disk's device number; never fails.
 */
dev_t disk_of(dev_t dev);

#endif // PREALLOC_DISK_H
