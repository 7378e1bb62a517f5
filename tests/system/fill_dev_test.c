// SPDX-License-Identifier: Apache-2.0
// fill_dev_test.c: probe and fill on real loop block devices.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fill.h"
#include "fillcheck.h"
#include "loopfs.h"
#include "probe.h"
#include "testlib.h"

#define DEV_SIZE (64 * MiB)

struct devx {
	struct loopfs   *lf;
	struct fillcheck fc;
};

static int
devx_setup(void **state)
{
	struct devx *d = calloc(1, sizeof(*d));

	if (d != NULL)
		fillcheck_init(&d->fc);
	*state = d;
	return d == NULL ? -1 : 0;
}

static int
devx_teardown(void **state)
{
	struct devx *d = *state;

	loopfs_free(d->lf);
	free(d);
	return 0;
}

// A bare loop device of DEV_SIZE bytes full of random bytes.
static struct loopfs *
devx_device(struct devx *d)
{
	d->lf = loopfs_new_or_skip(NULL, DEV_SIZE);
	assert_int_equal(testlib_write_random(d->lf->dev, 0, DEV_SIZE, 21), 0);
	return d->lf;
}

// A larger sparse one: several BLKZEROOUT chunks.
static struct loopfs *
devx_big_device(struct devx *d)
{
	d->lf = loopfs_new_or_skip(NULL, 4 * (uint64_t) FILL_DEVICE_CHUNK);
	return d->lf;
}

static struct fill_request
devx_request(struct devx *d, uint64_t offset)
{
	struct fill_request req = FILL_REQUEST_INIT;

	snprintf(req.target.path, sizeof(req.target.path), "%s", d->lf->dev);
	req.target.offset = offset;
	req.progress      = fillcheck_progress;
	req.progress_arg  = &d->fc;
	req.cancel        = &d->fc.cancel;
	return req;
}

// [off, off + len) of the device reads back as zeros.
static int
devx_zeros(const char *dev, uint64_t off, uint64_t len)
{
	return testlib_run("cmp -s -i %llu:0 -n %llu %s /dev/zero",
	    (unsigned long long) off, (unsigned long long) len, dev);
}

static int
devx_prefix_sha(char hex[65], const char *dev, uint64_t len)
{
	char *out = NULL;
	int   rc  = testlib_capture(
	       &out, "head -c %llu %s | sha256sum", (unsigned long long) len, dev);

	if (rc == 0 && strlen(out) >= 64) {
		memcpy(hex, out, 64);
		hex[64] = '\0';
	}
	free(out);
	return rc;
}

// An MBR with one Linux partition [1 MiB, 2 MiB), over whatever else
// sector 0 holds: the partition table an image brings with it.
static void
devx_write_mbr(const char *dev)
{
	unsigned char sector[512];
	int           fd = open(dev, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, sector, 512, 0), 512);
	memset(sector + 446, 0, 64);
	sector[446 + 4]      = 0x83; // type: Linux
	sector[446 + 8 + 1]  = 0x08; // first LBA 2048
	sector[446 + 12 + 1] = 0x08; // 2048 sectors
	sector[510]          = 0x55;
	sector[511]          = 0xaa;
	assert_int_equal(pwrite(fd, sector, 512, 0), 512);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static void
test_fill_dev__ext4_is_refused_without_force(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;
	struct probe_info   info;
	pa_err              err  = PA_ERR_INIT;
	char               *uuid = NULL;

	devx_device(d);
	assert_int_equal(testlib_run("mkfs.ext4 -q -F %s", d->lf->dev), 0);
	assert_int_equal(
	    testlib_capture(&uuid, "blkid -p -s UUID -o value %s", d->lf->dev),
	    0);
	uuid[strcspn(uuid, "\n")] = '\0';
	req                       = devx_request(d, 0);
	assert_int_equal(fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "ext4"));
	assert_non_null(strstr(err.msg, uuid));
	assert_int_equal(d->fc.last_done, 0);
	// probe says the same
	assert_int_equal(probe_path(&info, d->lf->dev, NULL), PA_OK);
	assert_int_equal(info.kind, PROBE_BLOCK);
	assert_int_equal(info.size, DEV_SIZE);
	assert_int_equal(info.logical_sector, 512);
	assert_true(info.physical_sector >= 512);
	assert_false(info.busy);
	assert_true(info.nsigs >= 1);
	assert_string_equal(info.sigs[0].type, "ext4");
	assert_string_equal(info.sigs[0].uuid, uuid);
	assert_int_equal(info.sigs[0].offset, 1080);
	// force writes over it
	req.target.force = true;
	assert_int_equal(fill_run(&res, &req, &err), PA_OK);
	assert_int_equal(devx_zeros(d->lf->dev, 0, DEV_SIZE), 0);
	assert_int_equal(probe_path(&info, d->lf->dev, NULL), PA_OK);
	assert_int_equal(info.nsigs, 0);
	free(uuid);
}

static void
test_fill_dev__offset_past_the_partition_table_keeps_the_prefix(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;
	struct probe_info   info;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	devx_device(d);
	devx_write_mbr(d->lf->dev);
	assert_int_equal(probe_path(&info, d->lf->dev, NULL), PA_OK);
	assert_true(info.nsigs >= 1);
	assert_string_equal(info.sigs[0].type, "dos");
	assert_int_equal(info.sigs[0].offset, 510);
	assert_string_equal(info.sigs[1].usage, "partition");
	assert_int_equal(info.sigs[1].extent_start, MiB);
	assert_int_equal(info.sigs[1].extent_len, MiB);
	// the table lies in [0, end): refused
	req = devx_request(d, 0);
	assert_int_equal(fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "dos"));
	// its partition [1 MiB, 2 MiB) is guarded as well as the table
	req = devx_request(d, MiB);
	assert_int_equal(fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "partition 1"));
	assert_int_equal(d->fc.last_done, 0);
	// past both: only [2 MiB, end) is zeroed
	assert_int_equal(devx_prefix_sha(before, d->lf->dev, 2 * MiB), 0);
	req = devx_request(d, 2 * MiB);
	assert_int_equal(fill_run(&res, &req, &err), PA_OK);
	assert_int_equal(res.method, FILL_FULL);
	assert_int_equal(res.bytes_written, DEV_SIZE - 2 * MiB);
	assert_int_equal(d->fc.last_done, DEV_SIZE - 2 * MiB);
	assert_non_null(strstr(res.target, "block device"));
	assert_int_equal(devx_prefix_sha(after, d->lf->dev, 2 * MiB), 0);
	assert_string_equal(before, after);
	assert_int_equal(
	    devx_zeros(d->lf->dev, 2 * MiB, DEV_SIZE - 2 * MiB), 0);
}

static void
test_fill_dev__whole_device_reads_back_as_zeros(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;

	devx_device(d);
	assert_int_not_equal(devx_zeros(d->lf->dev, 0, DEV_SIZE), 0);
	req = devx_request(d, 0); // size 0: the whole device
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_true(res.mechanism == FILL_MECH_BLKZEROOUT ||
	    res.mechanism == FILL_MECH_WRITE_ZEROES);
	assert_int_equal(res.bytes_written, DEV_SIZE);
	assert_int_equal(testlib_run("cmp -s -n %llu %s /dev/zero",
	                     (unsigned long long) DEV_SIZE, d->lf->dev),
	    0);
}

static void
test_fill_dev__mounted_device_is_busy(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;
	struct probe_info   info;
	pa_err              err = PA_ERR_INIT;

	d->lf            = loopfs_new_or_skip("ext4", DEV_SIZE);
	req              = devx_request(d, 0);
	req.target.force = true; // busy wins even over force
	assert_int_equal(fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "busy"));
	assert_int_equal(probe_path(&info, d->lf->dev, NULL), PA_OK);
	assert_true(info.busy);
}

static void
test_fill_dev__bad_ranges_and_falloc_are_refused(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;

	devx_device(d);
	req               = devx_request(d, 0);
	req.target.method = FILL_FALLOC;
	assert_int_equal(fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "fallocate"));
	req = devx_request(d, 100); // not a sector multiple
	assert_int_equal(fill_run(&res, &req, &err), PA_INVALID_ARGUMENT);
	req             = devx_request(d, 0);
	req.target.size = DEV_SIZE - 1;
	assert_int_equal(fill_run(&res, &req, &err), PA_INVALID_ARGUMENT);
	req.target.size = DEV_SIZE + 512; // past the end
	assert_int_equal(fill_run(&res, &req, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "past the end"));
	req             = devx_request(d, 2 * MiB);
	req.target.size = MiB; // offset past the end of the range
	assert_int_equal(fill_run(&res, &req, &err), PA_INVALID_ARGUMENT);
	assert_int_equal(d->fc.last_done, 0);
}

static void
test_fill_dev__cancel_stops_within_a_chunk(void **state)
{
	struct devx        *d = *state;
	struct fill_request req;
	struct fill_result  res;

	devx_big_device(d);
	req             = devx_request(d, 0);
	d->fc.cancel_at = 1;
	assert_int_equal(fill_run(&res, &req, NULL), PA_CANCELLED);
	assert_true(d->fc.last_done <= d->fc.done_at_set + FILL_DEVICE_CHUNK);
	assert_true(d->fc.last_done < d->lf->size);
}

#define DEVX_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, devx_setup, devx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		DEVX_TEST(test_fill_dev__ext4_is_refused_without_force),
		DEVX_TEST(
		    test_fill_dev__offset_past_the_partition_table_keeps_the_prefix),
		DEVX_TEST(test_fill_dev__whole_device_reads_back_as_zeros),
		DEVX_TEST(test_fill_dev__mounted_device_is_busy),
		DEVX_TEST(test_fill_dev__bad_ranges_and_falloc_are_refused),
		DEVX_TEST(test_fill_dev__cancel_stops_within_a_chunk),
	};
	struct loopfs *lf = NULL;
	char           why[256];

	// a machine without loop devices skips the whole file, visibly
	if (loopfs_new(&lf, why, NULL, MiB) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	return loopfs_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
