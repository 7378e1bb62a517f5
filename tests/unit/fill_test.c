// SPDX-License-Identifier: Apache-2.0
// fill_test.c: the fill engine on plain files in a temp dir.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fill.h"
#include "fillcheck.h"
#include "testlib.h"

struct fill_test {
	char            *dir;
	char            *path; // dir/f, not created
	struct fillcheck fc;
};

static int
fill_setup(void **state)
{
	struct fill_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->dir = testlib_tmpdir("fill");
	if (asprintf(&t->path, "%s/f", t->dir) < 0)
		return -1;
	fillcheck_init(&t->fc);
	*state = t;
	return 0;
}

static int
fill_teardown(void **state)
{
	struct fill_test *t = *state;

	testlib_rm_rf(t->dir);
	free(t->dir);
	free(t->path);
	free(t);
	return 0;
}

static struct fill_request
fill_test_request(struct fill_test *t, uint64_t size, enum fill_method m)
{
	struct fill_request req = FILL_REQUEST_INIT;

	snprintf(req.target.path, sizeof(req.target.path), "%s", t->path);
	req.target.size   = size;
	req.target.method = m;
	req.progress      = fillcheck_progress;
	req.progress_arg  = &t->fc;
	req.cancel        = &t->fc.cancel;
	return req;
}

static void
test_fill__method_names_round_trip(void **state)
{
	enum fill_method m   = FILL_AUTO;
	pa_err           err = PA_ERR_INIT;

	for (int i = FILL_AUTO; i <= FILL_FULL; i++) {
		assert_int_equal(
		    fill_method_from_name(
		        &m, fill_method_name((enum fill_method) i), NULL),
		    PA_OK);
		assert_int_equal(m, i);
	}
	assert_int_equal(
	    fill_method_from_name(&m, "fast", &err), PA_INVALID_ARGUMENT);
	assert_int_equal(m, FILL_FULL); // untouched on failure
	assert_int_equal(
	    fill_method_from_name(&m, NULL, NULL), PA_INVALID_ARGUMENT);
	assert_string_equal(fill_method_name((enum fill_method) 9), "unknown");
}

static void
test_fill__mechanism_names_round_trip(void **state)
{
	static const char *const wire[] = { "none", "fallocate", "write-zeroes",
		"blkzeroout" };
	enum fill_mechanism      m      = FILL_MECH_NONE;
	pa_err                   err    = PA_ERR_INIT;

	for (int i = FILL_MECH_NONE; i < FILL_MECH_COUNT; i++) {
		assert_string_equal(
		    fill_mechanism_name((enum fill_mechanism) i), wire[i]);
		assert_int_equal(
		    fill_mechanism_from_name(&m, wire[i], NULL), PA_OK);
		assert_int_equal(m, i);
	}
	assert_int_equal(
	    fill_mechanism_from_name(&m, "dd", &err), PA_INVALID_ARGUMENT);
	assert_int_equal(err.code, PA_INVALID_ARGUMENT);
	assert_int_equal(m, FILL_MECH_BLKZEROOUT); // untouched on failure
	assert_int_equal(
	    fill_mechanism_from_name(&m, NULL, NULL), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    fill_mechanism_name((enum fill_mechanism) 9), "unknown");
}

static void
test_fill__check_refuses_a_bad_file_range(void **state)
{
	uint64_t end = 7;
	pa_err   err = PA_ERR_INIT;

	(void) state;
	assert_int_equal(fill_check(&end, FILL_KIND_FILE, -1, "/x", 0, 0, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "size must be above 0"));
	assert_int_equal(fill_check(&end, FILL_KIND_FILE, -1, "/x", MiB,
	                     FILL_ALIGN / 2, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "is not a multiple of 4096"));
	assert_int_equal(
	    fill_check(&end, FILL_KIND_FILE, -1, "/x", MiB, 2 * MiB, &err),
	    PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "is past size"));
	assert_int_equal(end, 7); // untouched on failure
	assert_int_equal(
	    fill_check(&end, FILL_KIND_FILE, -1, "/x", MiB, MiB, NULL), PA_OK);
	assert_int_equal(end, MiB);
}

// A "device" that is a regular file has no size: the ioctl's code.
static void
test_fill__check_of_a_device_asks_its_size(void **state)
{
	struct fill_test *t   = *state;
	uint64_t          end = 7;
	pa_err            err = PA_ERR_INIT;
	int               fd  = open(t->path, O_RDWR | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(
	    fill_check(&end, FILL_KIND_DEVICE, fd, t->path, 0, 0, &err),
	    pa_status_from_errno(ENOTTY));
	assert_non_null(strstr(err.msg, "size ioctl"));
	assert_int_equal(end, 7);
	close(fd);
}

static void
test_fill__bad_request_is_invalid_argument(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, MiB, FILL_FULL);
	struct fill_result  res;

	assert_int_equal(fill_run(&res, NULL, NULL), PA_INVALID_ARGUMENT);
	req.target.method = (enum fill_method) 7;
	assert_int_equal(fill_run(&res, &req, NULL), PA_INVALID_ARGUMENT);
	req               = fill_test_request(t, MiB, FILL_FULL);
	req.target.offset = 2 * MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(testlib_file_size(t->path), -1);
	snprintf(req.target.path, sizeof(req.target.path), "%s", "/dev/null");
	assert_int_equal(fill_run(&res, &req, NULL), PA_INVALID_ARGUMENT);
}

static void
test_fill__full_new_file_is_written_and_durable(void **state)
{
	struct fill_test   *t   = *state;
	uint64_t            sz  = 9 * MiB + 123; // unaligned tail
	struct fill_request req = fill_test_request(t, sz, FILL_FULL);
	struct fill_result  res;

	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(res.method, FILL_FULL);
	assert_int_equal(res.mechanism, FILL_MECH_WRITE_ZEROES);
	assert_int_equal(res.bytes_written, sz);
	assert_int_equal(res.allocated_before, 0);
	assert_true(res.allocated_after >= sz);
	assert_int_equal(testlib_file_size(t->path), sz);
	assert_true((uint64_t) testlib_allocated_bytes(t->path) >= sz);
	assert_int_equal(t->fc.last_done, sz);
	assert_int_equal(t->fc.last_total, sz);
	assert_int_equal(fillcheck_first_hole(t->path), (off_t) sz);
	assert_int_equal(testlib_run("cmp -s -n %llu '%s' /dev/zero",
	                     (unsigned long long) sz, t->path),
	    0);
}

static void
test_fill__full_keeps_data_and_fills_every_hole(void **state)
{
	struct fill_test   *t   = *state;
	uint64_t            sz  = 6 * MiB;
	struct fill_request req = fill_test_request(t, sz, FILL_FULL);
	struct fill_result  res;
	char                before[65], after[65];

	assert_int_equal(fillcheck_holey_file(t->path, sz), 0);
	assert_int_equal(testlib_sha256(before, t->path), 0);
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(testlib_sha256(after, t->path), 0);
	assert_string_equal(before, after);
	assert_int_equal(fillcheck_first_hole(t->path), (off_t) sz);
	// only the holes were written: 6 MiB less the data's blocks
	assert_true(res.bytes_written <= sz - MiB - 4096);
	assert_true(res.bytes_written >= sz - MiB - 8192);
	// a second run finds nothing left to do (a restarted request)
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(res.bytes_written, 0);
}

static void
test_fill__falloc_keeps_data_and_allocates(void **state)
{
	struct fill_test   *t   = *state;
	uint64_t            sz  = 6 * MiB;
	struct fill_request req = fill_test_request(t, 8 * MiB, FILL_FALLOC);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];
	int                 rc;

	assert_int_equal(fillcheck_holey_file(t->path, sz), 0);
	assert_int_equal(testlib_sha256(before, t->path), 0);
	rc = fill_run(&res, &req, &err);
	if (rc == PA_FAILED_PRECONDITION) { // $TMPDIR has no fallocate
		assert_non_null(strstr(err.msg, "not supported"));
		assert_int_equal(testlib_file_size(t->path), sz);
		return;
	}
	assert_int_equal(rc, PA_OK);
	assert_int_equal(res.method, FILL_FALLOC);
	assert_int_equal(res.mechanism, FILL_MECH_FALLOCATE);
	assert_int_equal(testlib_file_size(t->path), 8 * MiB);
	assert_true((uint64_t) testlib_allocated_bytes(t->path) >= 8 * MiB);
	assert_int_equal(testlib_run("head -c %llu '%s' | sha256sum | "
	                             "grep -q %s",
	                     (unsigned long long) sz, t->path, before),
	    0);
	(void) after;
}

static void
test_fill__auto_says_what_it_did(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 4 * MiB, FILL_AUTO);
	struct fill_result  res;

	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	if (res.method == FILL_FALLOC) {
		assert_string_equal(res.note, "");
		assert_int_equal(res.mechanism, FILL_MECH_FALLOCATE);
	} else {
		assert_non_null(strstr(res.note, "not supported"));
		assert_int_equal(res.mechanism, FILL_MECH_WRITE_ZEROES);
	}
	assert_true(res.target[0] != '\0');
	assert_true((uint64_t) testlib_allocated_bytes(t->path) >= 4 * MiB);
}

static void
test_fill__shrink_is_refused(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, MiB, FILL_FULL);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(t->path, 0, 2 * MiB, 3), 0);
	assert_int_equal(testlib_sha256(before, t->path), 0);
	for (int m = FILL_AUTO; m <= FILL_FULL; m++) {
		req.target.method = (enum fill_method) m;
		assert_int_equal(
		    fill_run(&res, &req, &err), PA_FAILED_PRECONDITION);
		assert_non_null(strstr(err.msg, "shrink"));
	}
	assert_int_equal(testlib_sha256(after, t->path), 0);
	assert_string_equal(before, after);
}

static void
test_fill__more_than_free_is_refused_untouched(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 1ULL << 60, FILL_AUTO);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	// a new file is not even created
	assert_int_equal(fill_run(&res, &req, &err), PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "free"));
	assert_int_equal(testlib_file_size(t->path), -1);
	assert_int_equal(testlib_write_random(t->path, 0, MiB, 4), 0);
	assert_int_equal(testlib_sha256(before, t->path), 0);
	assert_int_equal(fill_run(&res, &req, &err), PA_RESOURCE_EXHAUSTED);
	assert_int_equal(testlib_sha256(after, t->path), 0);
	assert_string_equal(before, after);
	assert_int_equal(testlib_file_size(t->path), MiB);
}

static void
test_fill__cancel_stops_within_a_chunk_and_restores(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 64 * MiB, FILL_FULL);
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	char                before[65], after[65];

	assert_int_equal(testlib_write_random(t->path, 0, MiB + 77, 5), 0);
	assert_int_equal(testlib_sha256(before, t->path), 0);
	t->fc.cancel_at = 8 * MiB;
	assert_int_equal(fill_run(&res, &req, &err), PA_CANCELLED);
	assert_non_null(strstr(err.msg, "cancelled"));
	assert_true(t->fc.last_done <= t->fc.done_at_set + FILL_CHUNK);
	assert_int_equal(testlib_file_size(t->path), MiB + 77);
	assert_int_equal(testlib_sha256(after, t->path), 0);
	assert_string_equal(before, after);
}

// A write rate paces the zeros: 12 MiB at 16 MiB/s, the first 4 MiB
// chunk free (the burst), take at least 0.5 s; the bytes are all there.
static void
test_fill__max_write_rate_paces_the_writer(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 12 * MiB, FILL_FULL);
	struct fill_result  res;
	uint64_t            t0 = testlib_now_ns();
	double              s;

	req.target.max_write_rate = 16 * MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	s = (double) (testlib_now_ns() - t0) / 1e9;
	print_message("12 MiB at 16 MiB/s took %.2f s\n", s);
	assert_true(s >= 0.45);
	assert_int_equal(res.bytes_written, 12 * MiB);
	assert_int_equal(testlib_file_size(t->path), 12 * MiB);
}

// A cancel is seen while the writer waits on its rate, not a chunk later.
static void
test_fill__cancel_is_seen_while_paced(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 64 * MiB, FILL_FULL);
	struct fill_result  res;
	uint64_t            t0 = testlib_now_ns();

	req.target.max_write_rate = MiB; // 60 s for all of it
	t->fc.cancel_at           = 4 * MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_CANCELLED);
	assert_true(testlib_now_ns() - t0 < 2000000000ull);
	assert_int_equal(testlib_file_size(t->path), -1);
}

// A cancelled fill still says what it did: the allocation it found and
// the zeros it wrote before it put the file back.
static void
test_fill__cancel_reports_what_it_did_before_the_rollback(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 64 * MiB, FILL_FULL);
	struct fill_result  res;
	struct stat         st;

	assert_int_equal(testlib_write_random(t->path, 0, MiB, 9), 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(st.st_blocks > 0);
	memset(&res, 0xff, sizeof(res));
	t->fc.cancel_at = 8 * MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_CANCELLED);
	assert_int_equal(res.allocated_before, (uint64_t) st.st_blocks * 512);
	assert_true(res.bytes_written >= 8 * MiB - MiB);
	assert_true(res.bytes_written <= t->fc.last_done);
	assert_true(res.duration_ns > 0);
	// Back to 1 MiB: its allocation is what it was.
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(res.allocated_after, (uint64_t) st.st_blocks * 512);
	assert_int_equal(res.mechanism, FILL_MECH_NONE);
}

static void
test_fill__cancel_removes_a_file_it_created(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 64 * MiB, FILL_FULL);
	struct fill_result  res;

	atomic_store(&t->fc.cancel, true); // before the first chunk
	assert_int_equal(fill_run(&res, &req, NULL), PA_CANCELLED);
	assert_int_equal(testlib_file_size(t->path), -1);
	assert_int_equal(t->fc.calls, 0);
}

static void
test_fill__offset_leaves_the_prefix_alone(void **state)
{
	struct fill_test   *t   = *state;
	struct fill_request req = fill_test_request(t, 4 * MiB, FILL_FULL);
	struct fill_result  res;
	int                 fd;

	// a hole in the prefix stays a hole: only [offset, size) is filled
	assert_true((fd = open(t->path, O_RDWR | O_CREAT, 0644)) >= 0);
	assert_int_equal(ftruncate(fd, (off_t) MiB), 0);
	close(fd);
	req.target.offset = MiB;
	assert_int_equal(fill_run(&res, &req, NULL), PA_OK);
	assert_int_equal(res.bytes_written, 3 * MiB);
	assert_true((fd = open(t->path, O_RDONLY)) >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_DATA), (off_t) MiB);
	close(fd);
}

#define FILL_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, fill_setup, fill_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FILL_TEST(test_fill__method_names_round_trip),
		FILL_TEST(test_fill__mechanism_names_round_trip),
		FILL_TEST(test_fill__check_refuses_a_bad_file_range),
		FILL_TEST(test_fill__check_of_a_device_asks_its_size),
		FILL_TEST(test_fill__bad_request_is_invalid_argument),
		FILL_TEST(test_fill__full_new_file_is_written_and_durable),
		FILL_TEST(test_fill__full_keeps_data_and_fills_every_hole),
		FILL_TEST(test_fill__falloc_keeps_data_and_allocates),
		FILL_TEST(test_fill__auto_says_what_it_did),
		FILL_TEST(test_fill__shrink_is_refused),
		FILL_TEST(test_fill__more_than_free_is_refused_untouched),
		FILL_TEST(test_fill__cancel_stops_within_a_chunk_and_restores),
		FILL_TEST(
		    test_fill__cancel_reports_what_it_did_before_the_rollback),
		FILL_TEST(test_fill__cancel_removes_a_file_it_created),
		FILL_TEST(test_fill__max_write_rate_paces_the_writer),
		FILL_TEST(test_fill__cancel_is_seen_while_paced),
		FILL_TEST(test_fill__offset_leaves_the_prefix_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
