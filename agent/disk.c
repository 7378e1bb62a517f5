// SPDX-License-Identifier: Apache-2.0
// disk.c: which disk a device is on, from /sys/dev/block.
//
// /sys/dev/block/MAJ:MIN links to the device's directory; a partition's
// holds a "partition" file and sits inside its disk's directory, and a
// loop device's has loop/backing_file. ".." after a sysfs link resolves
// in the directory the link points to, so "MAJ:MIN/../dev" is the disk.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"

// A loop device on a file on a loop device on...: deep enough for real
// setups, and a bound on a loop that should not exist.
#define DISK_MAX_DEPTH 4

// Read /sys/dev/block/MAJ:MIN/@p rel into @p buf, one line, no newline.
// @return 0, or -1 when it is not there.
static int
disk_sysfs_read(char *buf, size_t size, dev_t dev, const char *rel)
{
	char  path[128];
	FILE *f;
	bool  ok;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(dev),
	    minor(dev), rel);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	ok = fgets(buf, (int) size, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool
disk_sysfs_has(dev_t dev, const char *rel)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(dev),
	    minor(dev), rel);
	return access(path, F_OK) == 0;
}

// The next device down: a partition's disk, a loop device's backing
// file's filesystem. @return true when there is one.
static bool
disk_below(dev_t *next, dev_t dev)
{
	char        buf[4096];
	unsigned    maj, min;
	struct stat st;

	if (disk_sysfs_read(buf, sizeof(buf), dev, "loop/backing_file") == 0)
		return buf[0] == '/' && stat(buf, &st) == 0 &&
		    (*next = st.st_dev, true);
	if (disk_sysfs_has(dev, "partition") &&
	    disk_sysfs_read(buf, sizeof(buf), dev, "../dev") == 0 &&
	    sscanf(buf, "%u:%u", &maj, &min) == 2) {
		*next = makedev(maj, min);
		return true;
	}
	return false;
}

dev_t
disk_of(dev_t dev)
{
	dev_t next;

	for (int i = 0; i < DISK_MAX_DEPTH && major(dev) != 0; i++) {
		if (!disk_below(&next, dev) || next == dev)
			break;
		dev = next;
	}
	return dev;
}
