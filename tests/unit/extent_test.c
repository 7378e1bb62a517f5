// SPDX-License-Identifier: Apache-2.0
// extent_test.c: the gap walk finds holes and unwritten extents, and
// nothing that holds data.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extent.h"
#include "testlib.h"

#define MiB (1024ULL * 1024ULL)

struct extent_test {
	char *dir;
	char *path;
	int   fd;
};

static int
extent_setup(void **state)
{
	struct extent_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->dir = testlib_tmpdir("extent");
	if (asprintf(&t->path, "%s/f.img", t->dir) < 0)
		return -1;
	t->fd  = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	*state = t;
	return t->fd < 0 ? -1 : 0;
}

static int
extent_teardown(void **state)
{
	struct extent_test *t = *state;

	if (t->fd >= 0)
		close(t->fd);
	testlib_rm_rf(t->dir);
	free(t->dir);
	free(t->path);
	free(t);
	return 0;
}

// Write @p len bytes of 0xab at @p off, and flush them to their extents.
static void
extent_write_data(const struct extent_test *t, uint64_t off, uint64_t len)
{
	char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, 0xab, len);
	assert_int_equal(pwrite(t->fd, buf, len, (off_t) off), (ssize_t) len);
	assert_int_equal(fdatasync(t->fd), 0);
	free(buf);
}

// A filesystem without SEEK_HOLE calls a sparse file all data; the walk
// then finds nothing, which is right for it but tells these tests nothing.
static void
extent_need_holes(const struct extent_test *t)
{
	assert_int_equal(ftruncate(t->fd, (off_t) (4 * MiB)), 0);
	if (lseek(t->fd, 0, SEEK_DATA) == 0)
		skip();
}

static void
extent_assert_gap(const struct extent_test *t, uint64_t pos, uint64_t end,
    uint64_t want_off, uint64_t want_len)
{
	uint64_t off = 1, len = 1;
	pa_err   err = PA_ERR_INIT;

	if (extent_next_gap(&off, &len, t->fd, pos, end, &err) != PA_OK)
		fail_msg("next gap from %llu: %s", (unsigned long long) pos,
		    err.msg);
	assert_int_equal(off, want_off);
	assert_int_equal(len, want_len);
}

static void
test_extent__gaps_are_the_holes_around_data(void **state)
{
	struct extent_test *t = *state;

	extent_need_holes(t);
	extent_write_data(t, MiB, MiB); // data in [1, 2) MiB of a 4 MiB file
	extent_assert_gap(t, 0, 4 * MiB, 0, MiB);
	extent_assert_gap(t, MiB, 4 * MiB, 2 * MiB, 2 * MiB);
	extent_assert_gap(t, 3 * MiB, 4 * MiB, 3 * MiB, MiB);
}

static void
test_extent__a_gap_stops_at_end(void **state)
{
	struct extent_test *t = *state;

	extent_need_holes(t);
	extent_write_data(t, 2 * MiB, MiB);
	extent_assert_gap(t, 0, MiB / 2, 0, MiB / 2);
	extent_assert_gap(t, MiB, 3 * MiB, MiB, MiB); // ends where data starts
}

static void
test_extent__nothing_left_is_end_and_zero(void **state)
{
	struct extent_test *t = *state;

	extent_need_holes(t);
	extent_write_data(t, 0, 2 * MiB);
	extent_assert_gap(t, 0, 2 * MiB, 2 * MiB, 0);       // all data
	extent_assert_gap(t, 3 * MiB, 3 * MiB, 3 * MiB, 0); // empty range
	extent_assert_gap(t, 3 * MiB, MiB, MiB, 0);         // pos past end
}

// Past the end of the file there is no data (lseek says ENXIO): a gap.
static void
test_extent__past_eof_is_a_gap(void **state)
{
	struct extent_test *t = *state;

	extent_need_holes(t);
	extent_write_data(t, 0, MiB);
	assert_int_equal(ftruncate(t->fd, (off_t) MiB), 0);
	extent_assert_gap(t, 0, 3 * MiB, MiB, 2 * MiB);
	extent_assert_gap(t, 2 * MiB, 3 * MiB, 2 * MiB, MiB);
}

static void
test_extent__gap_bytes_sums_every_gap(void **state)
{
	struct extent_test *t   = *state;
	uint64_t            sum = 1;

	extent_need_holes(t);
	extent_write_data(t, MiB, MiB);
	extent_write_data(t, 3 * MiB, MiB / 2);
	assert_int_equal(
	    extent_gap_bytes(&sum, t->fd, 0, 4 * MiB, NULL), PA_OK);
	assert_int_equal(sum, 4 * MiB - MiB - MiB / 2);
	assert_int_equal(
	    extent_gap_bytes(&sum, t->fd, MiB, 2 * MiB, NULL), PA_OK);
	assert_int_equal(sum, 0);
	assert_int_equal(
	    extent_gap_bytes(&sum, t->fd, 2 * MiB, 2 * MiB, NULL), PA_OK);
	assert_int_equal(sum, 0);
}

// Allocated but never written (fallocate): it reads as zeros, so it is a
// gap, whether the filesystem reports it as a hole or as unwritten data.
static void
test_extent__fallocated_range_is_a_gap(void **state)
{
	struct extent_test *t   = *state;
	uint64_t            sum = 0;

	extent_need_holes(t);
	if (fallocate(t->fd, 0, (off_t) MiB, (off_t) MiB) != 0)
		skip(); // EOPNOTSUPP: this filesystem has no unwritten extents
	assert_int_equal(fdatasync(t->fd), 0);
	extent_assert_gap(t, MiB, 2 * MiB, MiB, MiB);
	assert_int_equal(
	    extent_gap_bytes(&sum, t->fd, 0, 4 * MiB, NULL), PA_OK);
	assert_int_equal(sum, 4 * MiB);
}

// A descriptor that cannot seek: the lseek's code, outputs untouched.
static void
test_extent__bad_descriptor_is_the_seek_error(void **state)
{
	uint64_t off = 7, len = 7, sum = 7;
	pa_err   err = PA_ERR_INIT;
	int      p[2];

	(void) state;
	assert_int_equal(extent_next_gap(&off, &len, -1, 0, MiB, &err),
	    pa_status_from_errno(EBADF));
	assert_int_equal(err.code, pa_status_from_errno(EBADF));
	assert_non_null(strstr(err.msg, "seek data at 0"));
	assert_int_equal(off, 7);
	assert_int_equal(len, 7);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(extent_gap_bytes(&sum, p[0], 0, MiB, NULL),
	    pa_status_from_errno(ESPIPE));
	assert_int_equal(sum, 7);
	close(p[0]);
	close(p[1]);
}

#define EXTENT_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, extent_setup, extent_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		EXTENT_TEST(test_extent__gaps_are_the_holes_around_data),
		EXTENT_TEST(test_extent__a_gap_stops_at_end),
		EXTENT_TEST(test_extent__nothing_left_is_end_and_zero),
		EXTENT_TEST(test_extent__past_eof_is_a_gap),
		EXTENT_TEST(test_extent__gap_bytes_sums_every_gap),
		EXTENT_TEST(test_extent__fallocated_range_is_a_gap),
		EXTENT_TEST(test_extent__bad_descriptor_is_the_seek_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
