// SPDX-License-Identifier: Apache-2.0
// disk_test.c: disk_of() finds the disk under a loop device, its
// filesystem and its partitions, as sysfs tells, on real loop devices.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"
#include "loopfs.h"

static dev_t
dev_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
}

// A loop device, the filesystem on it and a file in that filesystem are
// all on the disk that holds the loop device's backing file.
static void
test_disk__a_loop_device_is_on_its_backing_files_disk(void **state)
{
	struct loopfs *lf   = loopfs_new_or_skip("ext4", 64 << 20);
	char          *file = loopfs_path(lf, "f.img");
	dev_t          home = disk_of(dev_of(lf->dir));
	FILE          *f;

	(void) state;
	assert_non_null(f = fopen(file, "w"));
	fclose(f);
	assert_true(dev_of(file) == dev_of(lf->dev)); // the fs is on the loop
	assert_true(disk_of(dev_of(lf->dev)) == home);
	assert_true(disk_of(dev_of(file)) == home);
	assert_true(disk_of(dev_of(lf->dev)) != dev_of(lf->dev));
	free(file);
	loopfs_free(lf);
}

// A partition is on its disk; a whole disk is its own.
static void
test_disk__a_partition_is_on_its_disk(void **state)
{
	struct loopfs *lf = loopfs_new_or_skip(NULL, 64 << 20);
	char           part[48];
	dev_t          loop = dev_of(lf->dev);

	(void) state;
	if (testlib_run(
	        "echo 'start=2048, size=40960' | sfdisk -q '%s' && "
	        "partx -a '%s' 2>/dev/null; udevadm settle 2>/dev/null; "
	        "true",
	        lf->dev, lf->dev) != 0)
		fail_msg("sfdisk %s failed", lf->dev);
	snprintf(part, sizeof(part), "%sp1", lf->dev);
	if (access(part, F_OK) != 0) {
		loopfs_free(lf);
		loopfs_skip("%s: the kernel made no partition node", part);
		return;
	}
	assert_true(disk_of(dev_of(part)) == disk_of(loop));
	assert_true(disk_of(dev_of(part)) != dev_of(part));
	testlib_run("partx -d '%s' 2>/dev/null", lf->dev);
	loopfs_free(lf);
}

// No disk to find: an anonymous device is its own.
static void
test_disk__an_anonymous_device_is_its_own(void **state)
{
	(void) state;
	assert_true(disk_of(makedev(0, 42)) == makedev(0, 42));
	assert_true(disk_of(makedev(259, 999999)) == makedev(259, 999999));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_disk__a_loop_device_is_on_its_backing_files_disk),
		cmocka_unit_test(test_disk__a_partition_is_on_its_disk),
		cmocka_unit_test(test_disk__an_anonymous_device_is_its_own),
	};

	return loopfs_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
