// SPDX-License-Identifier: Apache-2.0
// probe_dev_test.c: fill_run on loop devices keeps every filesystem and
// partition whole, and zeros only what lies past them.
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

struct pdev {
	struct loopfs   *lf;
	struct fillcheck fc;
};

static int
pdev_setup(void **state)
{
	struct pdev *d = calloc(1, sizeof(*d));

	if (d != NULL)
		fillcheck_init(&d->fc);
	*state = d;
	return d == NULL ? -1 : 0;
}

static int
pdev_teardown(void **state)
{
	struct pdev *d = *state;

	loopfs_free(d->lf);
	free(d);
	return 0;
}

static void
pdev_need(const char *prog)
{
	if (!testlib_have_program(prog))
		loopfs_skip("%s is not installed", prog);
}

// A bare loop device of @p size bytes.
static const char *
pdev_device(struct pdev *d, uint64_t size)
{
	d->lf = loopfs_new_or_skip(NULL, size);
	return d->lf->dev;
}

// Write zeros over [offset, end) through the whole fill path, as the
// agent does for a PreallocateVolume request.
static int
pdev_fill(struct pdev *d, uint64_t offset, uint64_t end, bool force,
    struct fill_result *res, pa_err *err)
{
	struct fill_request req = FILL_REQUEST_INIT;

	snprintf(req.target.path, sizeof(req.target.path), "%s", d->lf->dev);
	req.target.offset = offset;
	req.target.size   = end;
	req.target.force  = force;
	req.progress      = fillcheck_progress;
	req.progress_arg  = &d->fc;
	fillcheck_init(&d->fc); // progress starts again for each fill
	pa_err_clear(err);
	memset(res, 0, sizeof(*res));
	return fill_run(res, &req, err);
}

// The SHA-256 of [off, off + len) of @p dev, as a user would take it.
static void
pdev_sha(char hex[65], const char *dev, uint64_t off, uint64_t len)
{
	char *out = NULL;

	assert_int_equal(
	    testlib_capture(&out,
	        "dd if=%s bs=1M iflag=skip_bytes,count_bytes "
	        "skip=%llu count=%llu status=none | sha256sum",
	        dev, (unsigned long long) off, (unsigned long long) len),
	    0);
	assert_true(strlen(out) >= 64);
	memcpy(hex, out, 64);
	hex[64] = '\0';
	free(out);
}

static int
pdev_zeros(const char *dev, uint64_t off, uint64_t len)
{
	return testlib_run("cmp -s -i %llu:0 -n %llu %s /dev/zero",
	    (unsigned long long) off, (unsigned long long) len, dev);
}

static char *
pdev_uuid(const char *dev)
{
	char *uuid = NULL;

	assert_int_equal(
	    testlib_capture(&uuid, "blkid -p -s UUID -o value %s", dev), 0);
	uuid[strcspn(uuid, "\n")] = '\0';
	assert_true(uuid[0] != '\0');
	return uuid;
}

static void
pdev_assert_msg(const pa_err *err, const char *want)
{
	if (strstr(err->msg, want) == NULL)
		fail_msg("'%s' is not in '%s'", want, err->msg);
}

// "<what> [a, b)" is in the message.
static void
pdev_assert_range_msg(
    const pa_err *err, const char *what, uint64_t a, uint64_t b)
{
	char want[96];

	snprintf(want, sizeof(want), "%s [%llu, %llu)", what,
	    (unsigned long long) a, (unsigned long long) b);
	pdev_assert_msg(err, want);
}

static void
test_probe_dev__ext4_is_kept_whole_when_the_offset_is_inside_it(void **state)
{
	struct pdev       *d   = *state;
	const char        *dev = pdev_device(d, 64 * MiB);
	struct fill_result res;
	pa_err             err = PA_ERR_INIT;
	char               before[65], after[65], *uuid;

	pdev_need("e2fsck");
	assert_int_equal(testlib_write_random(dev, 0, 64 * MiB, 31), 0);
	assert_int_equal(testlib_run("mkfs.ext4 -q -F %s", dev), 0);
	uuid = pdev_uuid(dev);
	pdev_sha(before, dev, 0, 64 * MiB);
	// the magic lies before 1 MiB; the filesystem goes on to the end
	assert_int_equal(
	    pdev_fill(d, MiB, 0, false, &res, &err), PA_FAILED_PRECONDITION);
	assert_int_equal(err.code, PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, "ext4 filesystem");
	pdev_assert_msg(&err, uuid);
	pdev_assert_range_msg(&err, "covers", 0, 64 * MiB);
	pdev_assert_range_msg(&err, "requested", MiB, 64 * MiB);
	assert_int_equal(d->fc.last_done, 0);
	pdev_sha(after, dev, 0, 64 * MiB);
	assert_string_equal(before, after);
	assert_int_equal(testlib_run("e2fsck -fn %s >/dev/null 2>&1", dev), 0);
	// force writes anyway, and the filesystem is gone as asked
	assert_int_equal(pdev_fill(d, MiB, 0, true, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, 63 * MiB);
	assert_int_equal(pdev_zeros(dev, MiB, 63 * MiB), 0);
	assert_int_not_equal(
	    testlib_run("e2fsck -fn %s >/dev/null 2>&1", dev), 0);
	free(uuid);
}

// A filesystem made smaller than its device, with old data past it.
struct pdev_fs {
	const char *type;
	const char *mkfs;      // the command before the device
	const char *mkfs_tail; // and after it
	const char *check;     // exit 0 when clean, given the device
	const char *need[2];
	uint64_t    fs_size, dev_size;
};

// Old data past the filesystem, at both ends of the tail.
static void
pdev_dirty_tail(const char *dev, const struct pdev_fs *fs)
{
	assert_int_equal(
	    testlib_write_random(dev, fs->fs_size, 16 * MiB, 32), 0);
	assert_int_equal(
	    testlib_write_random(dev, fs->dev_size - MiB, MiB, 33), 0);
}

static void
pdev_assert_clean(const char *dev, const struct pdev_fs *fs)
{
	if (testlib_run("%s %s >/dev/null 2>&1", fs->check, dev) != 0)
		fail_msg("%s is not clean on %s", fs->type, dev);
}

// Inside the filesystem is refused and nothing changes; from its end on
// the device is zeroed and the filesystem is still clean.
static void
pdev_small_fs(struct pdev *d, const struct pdev_fs *fs)
{
	struct fill_result res;
	pa_err             err = PA_ERR_INIT;
	char               fs_before[65], fs_after[65], all_before[65];
	char               all_after[65], *uuid;
	const char        *dev;

	for (size_t i = 0; i < 2; i++)
		pdev_need(fs->need[i]);
	dev = pdev_device(d, fs->dev_size);
	assert_int_equal(
	    testlib_run("%s %s %s", fs->mkfs, dev, fs->mkfs_tail), 0);
	pdev_dirty_tail(dev, fs);
	uuid = pdev_uuid(dev);
	pdev_sha(fs_before, dev, 0, fs->fs_size);
	pdev_sha(all_before, dev, 0, fs->dev_size);
	assert_int_equal(pdev_fill(d, fs->fs_size / 2, 0, false, &res, &err),
	    PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, fs->type);
	pdev_assert_msg(&err, uuid);
	pdev_assert_range_msg(&err, "covers", 0, fs->fs_size);
	pdev_assert_range_msg(&err, "requested", fs->fs_size / 2, fs->dev_size);
	assert_int_equal(d->fc.last_done, 0);
	pdev_sha(all_after, dev, 0, fs->dev_size);
	assert_string_equal(all_before, all_after);
	// the tail: what provisioning a raw image onto a bigger volume fills
	assert_int_equal(
	    pdev_fill(d, fs->fs_size, 0, false, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, fs->dev_size - fs->fs_size);
	assert_int_equal(
	    pdev_zeros(dev, fs->fs_size, fs->dev_size - fs->fs_size), 0);
	pdev_sha(fs_after, dev, 0, fs->fs_size);
	assert_string_equal(fs_before, fs_after);
	pdev_assert_clean(dev, fs);
	free(uuid);
}

static void
test_probe_dev__ext4_tail_is_zeroed_and_inside_refused(void **state)
{
	static const struct pdev_fs fs = {
		.type      = "ext4",
		.mkfs      = "mkfs.ext4 -q -F",
		.mkfs_tail = "16M",
		.check     = "e2fsck -fn",
		.need      = { "mkfs.ext4", "e2fsck" },
		.fs_size   = 16 * MiB,
		.dev_size  = 64 * MiB,
	};

	pdev_small_fs(*state, &fs);
}

static void
test_probe_dev__xfs_tail_is_zeroed_and_inside_refused(void **state)
{
	static const struct pdev_fs fs = {
		.type      = "xfs",
		.mkfs      = "mkfs.xfs -q -f -d size=320m", // 300 MB at least
		.mkfs_tail = "",
		.check     = "xfs_repair -n",
		.need      = { "mkfs.xfs", "xfs_repair" },
		.fs_size   = 320 * MiB,
		.dev_size  = 512 * MiB,
	};

	pdev_small_fs(*state, &fs);
}

static void
test_probe_dev__btrfs_tail_is_zeroed_and_inside_refused(void **state)
{
	static const struct pdev_fs fs = {
		.type      = "btrfs",
		.mkfs      = "mkfs.btrfs -q -f -b 128m",
		.mkfs_tail = ">/dev/null",
		.check     = "btrfs check --readonly",
		.need      = { "mkfs.btrfs", "btrfs" },
		.fs_size   = 128 * MiB,
		.dev_size  = 192 * MiB,
	};

	pdev_small_fs(*state, &fs);
}

#define PDEV_P1 (1 * MiB) // pdev_table's partitions, 8 MiB each
#define PDEV_P2 (10 * MiB)
#define PDEV_PLEN (8 * MiB)
#define PDEV_GPT_TAIL (16 * KiB + 512) // backup entries and header

// Two partitions on @p target (a device or an image file), told to no
// kernel: only the bytes matter here.
static void
pdev_table(const char *target, const char *label)
{
	pdev_need("sfdisk");
	assert_int_equal(testlib_run("printf 'label: %s\\nstart=2048, "
	                             "size=16384\\nstart=20480, size=16384\\n' "
	                             "| sfdisk -q --no-reread --no-tell-kernel "
	                             "%s >/dev/null",
	                     label, target),
	    0);
}

static void
test_probe_dev__dos_partitions_are_kept_and_the_gap_after_zeroed(void **state)
{
	struct pdev       *d   = *state;
	const char        *dev = pdev_device(d, 64 * MiB);
	struct fill_result res;
	struct probe_info  info;
	pa_err             err  = PA_ERR_INIT;
	uint64_t           last = PDEV_P2 + PDEV_PLEN;
	char               before[65], after[65];

	assert_int_equal(testlib_write_random(dev, 0, 64 * MiB, 34), 0);
	pdev_table(dev, "dos");
	pdev_sha(before, dev, 0, 64 * MiB);
	// a range inside the first partition, then inside the second
	assert_int_equal(pdev_fill(d, 2 * MiB, 4 * MiB, false, &res, &err),
	    PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, "partition 1 (type 0x83");
	pdev_assert_range_msg(&err, "covers", PDEV_P1, PDEV_P1 + PDEV_PLEN);
	assert_int_equal(pdev_fill(d, 12 * MiB, 14 * MiB, false, &res, &err),
	    PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, "partition 2 (type 0x83");
	pdev_assert_range_msg(&err, "requested", 12 * MiB, 14 * MiB);
	assert_int_equal(d->fc.last_done, 0);
	pdev_sha(after, dev, 0, 64 * MiB);
	assert_string_equal(before, after);
	// past the last partition is free
	pdev_sha(before, dev, 0, last);
	assert_int_equal(pdev_fill(d, last, 0, false, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, 64 * MiB - last);
	assert_int_equal(pdev_zeros(dev, last, 64 * MiB - last), 0);
	pdev_sha(after, dev, 0, last);
	assert_string_equal(before, after);
	assert_int_equal(probe_path(&info, dev, NULL), PA_OK);
	assert_int_equal(info.nsigs, 3); // the table and both partitions
}

static void
test_probe_dev__gpt_backup_header_is_refused_unless_forced(void **state)
{
	struct pdev       *d    = *state;
	const char        *dev  = pdev_device(d, 64 * MiB);
	uint64_t           tail = 64 * MiB - PDEV_GPT_TAIL;
	struct fill_result res;
	struct probe_info  info;
	pa_err             err = PA_ERR_INIT;
	char               before[65], after[65];

	assert_int_equal(testlib_write_random(dev, 0, 64 * MiB, 35), 0);
	pdev_table(dev, "gpt");
	assert_int_equal(probe_path(&info, dev, NULL), PA_OK);
	assert_int_equal(info.nsigs, 4);
	assert_int_equal(info.sigs[1].extent_start, tail);
	pdev_sha(before, dev, 0, 64 * MiB);
	assert_int_equal(pdev_fill(d, 63 * MiB, 0, false, &res, &err),
	    PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, "gpt partition table");
	pdev_assert_msg(&err, info.sigs[1].uuid);
	pdev_assert_range_msg(&err, "covers", tail, 64 * MiB);
	pdev_sha(after, dev, 0, 64 * MiB);
	assert_string_equal(before, after);
	assert_int_equal(
	    testlib_run("sfdisk --verify %s >/dev/null 2>&1", dev), 0);
	// the free space between the last partition and the backup entries
	assert_int_equal(
	    pdev_fill(d, PDEV_P2 + PDEV_PLEN, tail, false, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, tail - PDEV_P2 - PDEV_PLEN);
	// force writes over the backup table
	assert_int_equal(pdev_fill(d, 63 * MiB, 0, true, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, MiB);
	assert_int_equal(pdev_zeros(dev, 63 * MiB, MiB), 0);
}

// What provisioning does: a raw disk image (a gpt of 32 MiB) written onto
// a bigger volume, then the rest zeroed. The image's backup table ends at
// 32 MiB, so the fill may start there and no earlier.
static void
test_probe_dev__gpt_image_on_a_bigger_volume_keeps_the_image(void **state)
{
	struct pdev       *d   = *state;
	const char        *dev = pdev_device(d, 64 * MiB);
	struct fill_result res;
	pa_err             err = PA_ERR_INIT;
	char              *img = NULL, want[65], got[65];

	if (asprintf(&img, "%s/disk.raw", d->lf->dir) < 0)
		abort();
	assert_int_equal(testlib_write_random(dev, 0, 64 * MiB, 36), 0);
	assert_int_equal(testlib_run("truncate -s 32M %s", img), 0);
	pdev_table(img, "gpt");
	assert_int_equal(testlib_sha256(want, img), 0);
	assert_int_equal(testlib_run("dd if=%s of=%s bs=1M conv=fsync "
	                             "status=none",
	                     img, dev),
	    0);
	assert_int_equal(pdev_fill(d, 31 * MiB, 0, false, &res, &err),
	    PA_FAILED_PRECONDITION);
	pdev_assert_msg(&err, "gpt partition table");
	assert_int_equal(pdev_fill(d, 32 * MiB, 0, false, &res, &err), PA_OK);
	assert_int_equal(res.bytes_written, 32 * MiB);
	assert_int_equal(pdev_zeros(dev, 32 * MiB, 32 * MiB), 0);
	pdev_sha(got, dev, 0, 32 * MiB);
	assert_string_equal(got, want);
	free(img);
}

// A loop device's size and sectors, as fill and probe both read them.
static void
test_probe_dev__geometry_is_the_loop_device_size_and_sectors(void **state)
{
	const char           *dev = pdev_device(*state, 64 * MiB);
	struct probe_geometry g;
	pa_err                err = PA_ERR_INIT;
	int                   fd  = open(dev, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (probe_device_geometry(&g, fd, dev, &err) != PA_OK)
		fail_msg("geometry of %s: %s", dev, err.msg);
	close(fd);
	assert_int_equal(g.size, 64 * MiB);
	assert_int_equal(g.logical_sector, 512);
	assert_true(g.physical_sector >= g.logical_sector);
}

#define PDEV_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, pdev_setup, pdev_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PDEV_TEST(
		    test_probe_dev__geometry_is_the_loop_device_size_and_sectors),
		PDEV_TEST(
		    test_probe_dev__ext4_is_kept_whole_when_the_offset_is_inside_it),
		PDEV_TEST(
		    test_probe_dev__ext4_tail_is_zeroed_and_inside_refused),
		PDEV_TEST(
		    test_probe_dev__xfs_tail_is_zeroed_and_inside_refused),
		PDEV_TEST(
		    test_probe_dev__btrfs_tail_is_zeroed_and_inside_refused),
		PDEV_TEST(
		    test_probe_dev__dos_partitions_are_kept_and_the_gap_after_zeroed),
		PDEV_TEST(
		    test_probe_dev__gpt_backup_header_is_refused_unless_forced),
		PDEV_TEST(
		    test_probe_dev__gpt_image_on_a_bigger_volume_keeps_the_image),
	};
	struct loopfs *lf = NULL;
	char           why[256];

	// a machine without loop devices skips the whole file, visibly
	if (loopfs_new(&lf, why, NULL, MiB) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	return loopfs_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
