// SPDX-License-Identifier: Apache-2.0
// fill_fs_test.c: the fill engine on one real filesystem on a loop device.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fill.h"
#include "fillcheck.h"
#include "loopfs.h"
#include "testlib.h"

static struct loopfs *fsx;      // the filesystem every test uses
static const char    *fsx_type; // ext4, ext3, xfs, btrfs, tmpfs

#ifndef FSX_TYPE // each build of this file names its filesystem
#define FSX_TYPE "ext4"
#endif

struct fsx_run {
	struct fillcheck fc;
};

static bool
fsx_is(const char *a)
{
	return strcmp(fsx_type, a) == 0;
}

// ext3's extent-less files have no fallocate; the others all have it.
static bool
fsx_has_falloc(void)
{
	return !fsx_is("ext3");
}

static int
fsx_setup(void **state)
{
	struct fsx_run *r = calloc(1, sizeof(*r));

	if (r != NULL)
		fillcheck_init(&r->fc);
	*state = r;
	return r == NULL ? -1 : 0;
}

static int
fsx_teardown(void **state)
{
	free(*state);
	testlib_run("find '%s' -mindepth 1 -maxdepth 1 ! -name lost+found "
	            "-exec rm -rf {} + && sync",
	    fsx->mnt);
	return 0;
}

// Use up every free byte of the filesystem: fallocate, then writes.
static void
fsx_fill_disk(void *arg)
{
	const char *path = arg;

	static const char zeros[256 * 1024];
	uint64_t          off = 0;
	int               fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	for (uint64_t step = 64 * MiB; step >= 64 * KiB;) {
		if (fallocate(fd, 0, (off_t) off, (off_t) step) == 0)
			off += step;
		else if (errno == EOPNOTSUPP)
			break;
		else
			step /= 2;
	}
	for (ssize_t w = 1; w > 0; off += (uint64_t) w)
		w = pwrite(fd, zeros, sizeof(zeros), (off_t) off);
	fsync(fd);
	close(fd);
}

static struct fill_request
fsx_request(
    struct fsx_run *r, const char *path, uint64_t size, enum fill_method m)
{
	struct fill_request req = FILL_REQUEST_INIT;

	snprintf(req.target.path, sizeof(req.target.path), "%s", path);
	req.target.size   = size;
	req.target.method = m;
	req.progress      = fillcheck_progress;
	req.progress_arg  = &r->fc;
	req.cancel        = &r->fc.cancel;
	return req;
}

static uint64_t
fsx_free_bytes(void)
{
	struct statvfs sv;

	assert_int_equal(statvfs(fsx->mnt, &sv), 0);
	return (uint64_t) sv.f_bavail * sv.f_frsize;
}

// CDI's own check: qemu-img sees the whole image allocated.
static void
fsx_assert_qemu_allocated(const char *path)
{
	char              *out = NULL;
	const char        *a, *v;
	unsigned long long actual = 0, virt = 0;

	if (!testlib_have_program("qemu-img"))
		loopfs_skip("qemu-img not installed (qemu-utils)");
	assert_int_equal(testlib_capture(&out,
	                     "qemu-img info -f raw --output=json '%s'", path),
	    0);
	assert_non_null(a = strstr(out, "\"actual-size\":"));
	assert_non_null(v = strstr(out, "\"virtual-size\":"));
	sscanf(a + strlen("\"actual-size\":"), " %llu", &actual);
	sscanf(v + strlen("\"virtual-size\":"), " %llu", &virt);
	free(out);
	assert_true(virt > 0);
	assert_true(actual >= virt);
}

// filefrag -v flags the extents that fallocate left unwritten.
static int
fsx_unwritten_extents(const char *path)
{
	char *out = NULL;
	int   n;

	if (!testlib_have_program("filefrag"))
		loopfs_skip("filefrag not installed (e2fsprogs)");
	assert_int_equal(testlib_capture(&out, "filefrag -v '%s'", path), 0);
	n = strstr(out, "unwritten") != NULL;
	free(out);
	return n;
}

static bool
fsx_has_fiemap_oracle(void)
{
	return fsx_is("ext4") || fsx_is("xfs");
}

static void
fsx_assert_allocated(const char *path, uint64_t size)
{
	assert_int_equal(testlib_file_size(path), (int64_t) size);
	assert_true(testlib_allocated_bytes(path) >= (int64_t) size);
	fsx_assert_qemu_allocated(path);
}

// No hole and no unwritten extent: all of [0, size) was written.
static void
fsx_assert_written(const char *path, uint64_t size)
{
	assert_int_equal(fillcheck_first_hole(path), (off_t) size);
	if (fsx_has_fiemap_oracle())
		assert_false(fsx_unwritten_extents(path));
}

static void
test_fill_fs__falloc(void **state)
{
	char               *path = loopfs_path(fsx, "falloc.img");
	struct fill_request req =
	    fsx_request(*state, path, 32 * MiB, FILL_FALLOC);
	struct fill_result res;
	pa_err             err = PA_ERR_INIT;

	if (!fsx_has_falloc()) {
		assert_int_equal(
		    fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
		assert_non_null(strstr(err.msg, fsx_type));
		assert_int_equal(testlib_file_size(path), -1);
		free(path);
		return;
	}
	assert_int_equal(fill_run(&res, &req, &err), PA_OK);
	assert_int_equal(res.method, FILL_FALLOC);
	assert_int_equal(res.mechanism, FILL_MECH_FALLOCATE);
	assert_string_equal(res.target, fsx_type);
	fsx_assert_allocated(path, 32 * MiB);
	if (fsx_has_fiemap_oracle())
		assert_true(fsx_unwritten_extents(path));
	free(path);
}

static void
test_fill_fs__full_writes_over_unwritten_extents(void **state)
{
	char               *path = loopfs_path(fsx, "full.img");
	struct fill_request req =
	    fsx_request(*state, path, 32 * MiB, FILL_FULL);
	struct fill_result res;
	int                fd;

	// half the file fallocated first: unwritten extents to convert
	assert_true((fd = open(path, O_RDWR | O_CREAT, 0644)) >= 0);
	if (fsx_has_falloc())
		assert_int_equal(fallocate(fd, 0, 0, 16 * MiB), 0);
	close(fd);
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(res.method, FILL_FULL);
	assert_int_equal(res.mechanism, FILL_MECH_WRITE_ZEROES);
	assert_int_equal(res.bytes_written, 32 * MiB);
	fsx_assert_allocated(path, 32 * MiB);
	fsx_assert_written(path, 32 * MiB);
	free(path);
}

static void
test_fill_fs__auto_falls_back_only_without_fallocate(void **state)
{
	char               *path = loopfs_path(fsx, "auto.img");
	struct fill_request req =
	    fsx_request(*state, path, 32 * MiB, FILL_AUTO);
	struct fill_result res;

	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	if (fsx_has_falloc()) {
		assert_int_equal(res.method, FILL_FALLOC);
		assert_string_equal(res.note, "");
	} else {
		assert_int_equal(res.method, FILL_FULL);
		assert_non_null(strstr(res.note, fsx_type));
		fsx_assert_written(path, 32 * MiB);
	}
	fsx_assert_allocated(path, 32 * MiB);
	free(path);
}

static void
fsx_check_data_safety(struct fsx_run *r, enum fill_method m, const char *name)
{
	char               *path = loopfs_path(fsx, name);
	struct fill_request req  = fsx_request(r, path, 16 * MiB, m);
	struct fill_result  res;
	char                before[65], after[65];

	fillcheck_init(&r->fc); // a fresh run of the recorder
	assert_int_equal(fillcheck_holey_file(path, 16 * MiB), 0);
	assert_int_equal(testlib_sha256(before, path), 0);
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	fsx_assert_allocated(path, 16 * MiB);
	if (res.method == FILL_FULL)
		fsx_assert_written(path, 16 * MiB);
	free(path);
}

static void
test_fill_fs__data_and_holes_keep_their_checksum(void **state)
{
	fsx_check_data_safety(*state, FILL_AUTO, "safe-auto.img");
	fsx_check_data_safety(*state, FILL_FULL, "safe-full.img");
}

static void
test_fill_fs__shrink_is_refused(void **state)
{
	char               *path = loopfs_path(fsx, "shrink.img");
	struct fill_request req  = fsx_request(*state, path, MiB, FILL_AUTO);
	struct fill_result  res;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(path, 0, 2 * MiB, 13), 0);
	assert_int_equal(testlib_sha256(before, path), 0);
	assert_int_equal(fill_run(&res, &req, NULL), PA_FAILED_PRECONDITION);
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	free(path);
}

static void
test_fill_fs__more_than_free_is_refused_up_front(void **state)
{
	char               *path = loopfs_path(fsx, "big.img");
	struct fill_request req  = fsx_request(*state, path, 0, FILL_FULL);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(path, 0, MiB, 14), 0);
	assert_int_equal(testlib_sha256(before, path), 0);
	req.target.size = fsx_free_bytes() + 64 * MiB;
	assert_int_equal(fill_run(&res, &req, &err), PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "free"));
	assert_int_equal(((struct fsx_run *) *state)->fc.last_done, 0);
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	assert_int_equal(testlib_file_size(path), MiB);
	free(path);
}

static void
test_fill_fs__enospc_part_way_restores_the_size(void **state)
{
	struct fsx_run     *r      = *state;
	char               *path   = loopfs_path(fsx, "enospc.img");
	char               *filler = loopfs_path(fsx, "filler");
	struct fill_request req    = fsx_request(r, path, 0, FILL_FULL);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(path, 0, MiB + 99, 15), 0);
	assert_int_equal(testlib_sha256(before, path), 0);
	req.target.size   = fsx_free_bytes() / 10 * 6 / MiB * MiB;
	r->fc.at_half     = fsx_fill_disk;
	r->fc.at_half_arg = filler;
	assert_int_equal(fill_run(&res, &req, &err), PA_RESOURCE_EXHAUSTED);
	assert_true(r->fc.halfway_done);
	assert_int_equal(testlib_file_size(path), MiB + 99);
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	unlink(filler);
	free(filler);
	free(path);
}

static void
test_fill_fs__cancel_stops_within_a_chunk_and_restores(void **state)
{
	struct fsx_run     *r    = *state;
	char               *path = loopfs_path(fsx, "cancel.img");
	struct fill_request req  = fsx_request(r, path, 96 * MiB, FILL_FULL);
	struct fill_result  res;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(path, 0, 3 * MiB, 16), 0);
	assert_int_equal(testlib_sha256(before, path), 0);
	r->fc.cancel_at = 16 * MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_CANCELLED);
	assert_true(r->fc.last_done <= r->fc.done_at_set + FILL_CHUNK);
	assert_int_equal(testlib_file_size(path), 3 * MiB);
	assert_int_equal(testlib_sha256(after, path), 0);
	assert_string_equal(before, after);
	free(path);
}

#define FSX_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, fsx_setup, fsx_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		FSX_TEST(test_fill_fs__falloc),
		FSX_TEST(test_fill_fs__full_writes_over_unwritten_extents),
		FSX_TEST(test_fill_fs__auto_falls_back_only_without_fallocate),
		FSX_TEST(test_fill_fs__data_and_holes_keep_their_checksum),
		FSX_TEST(test_fill_fs__shrink_is_refused),
		FSX_TEST(test_fill_fs__more_than_free_is_refused_up_front),
		FSX_TEST(test_fill_fs__enospc_part_way_restores_the_size),
		FSX_TEST(
		    test_fill_fs__cancel_stops_within_a_chunk_and_restores),
	};
	char why[256];
	int  failed;

	fsx_type = argc > 1 ? argv[1] : FSX_TYPE;
	// xfs wants 300 MB at least; the rest are happy with less
	switch (loopfs_new(
	    &fsx, why, fsx_type, fsx_is("xfs") ? 320 * MiB : 256 * MiB)) {
	case LOOPFS_OK:
		break;
	case LOOPFS_CANNOT:
		testlib_skip_all("%s", why);
	default:
		fprintf(stderr, "cannot make %s: %s\n", fsx_type, why);
		return 1;
	}
	failed = _cmocka_run_group_tests(
	    fsx_type, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
	loopfs_free(fsx);
	return loopfs_exit_status(failed);
}
