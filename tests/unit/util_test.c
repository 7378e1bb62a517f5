// SPDX-License-Identifier: Apache-2.0
// util_test.c: the ground floor: clocks, the content hash, whole-file
// reads with a limit and whole-buffer writes, on real files and pipes.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopfs.h"
#include "prealloc/util.h"
#include "testlib.h"

static char *dir;

static int
util_setup(void **state)
{
	dir = testlib_tmpdir("util");
	return 0;
}

static int
util_teardown(void **state)
{
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}

// A file of @p len bytes 'a'..'z' repeated. @return its path (static).
static const char *
make_file(const char *name, size_t len)
{
	static char path[600];
	FILE       *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	for (size_t i = 0; i < len; i++)
		fputc('a' + (int) (i % 26), f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
test_util__clocks_move_forward(void **state)
{
	uint64_t t0 = pa_clock_ns();

	usleep(2000);
	assert_true(pa_clock_ns() - t0 >= 2000000ULL);
	assert_true(pa_clock_unix_ms() > 1700000000000LL); // after 2023
}

static void
test_util__hash_tells_bytes_apart_and_is_never_0(void **state)
{
	assert_int_equal(pa_hash_bytes("abc", 3), pa_hash_bytes("abc", 3));
	assert_true(pa_hash_bytes("abc", 3) != pa_hash_bytes("abd", 3));
	assert_true(pa_hash_bytes("", 0) != 0);
	// FNV-1a 64 of "a", the published test vector.
	assert_true(pa_hash_bytes("a", 1) == 0xaf63dc4c8601ec8cULL);
}

static void
test_util__read_whole_files_up_to_the_limit(void **state)
{
	const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000 };
	char        *buf     = NULL;
	size_t       len     = 0;
	pa_err       err     = PA_ERR_INIT;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *p = make_file("f", sizes[i]);

		assert_int_equal(
		    pa_file_read(&buf, &len, p, sizes[i], &err), PA_OK);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(buf[len], '\0');
		assert_int_equal(strlen(buf), sizes[i]);
		if (len > 0)
			assert_int_equal(buf[len - 1], 'a' + (len - 1) % 26);
		free(buf);
		if (sizes[i] == 0)
			continue;
		// One byte over the limit is refused, whole.
		buf = NULL;
		assert_int_equal(
		    pa_file_read(&buf, &len, p, sizes[i] - 1, &err),
		    PA_RESOURCE_EXHAUSTED);
		assert_null(buf);
		assert_non_null(strstr(err.msg, "is larger than"));
	}
	assert_int_equal(
	    pa_file_read(&buf, &len, "/nonexistent/x", 10, &err), PA_NOT_FOUND);
	assert_non_null(strstr(err.msg, "open /nonexistent/x"));
}

static void
test_util__write_all_with_and_without_an_offset(void **state)
{
	char        path[600], *buf = NULL;
	size_t      len = 0, done = 0;
	int         fd, p[2], st = 0;
	pid_t       child;
	static char big[256 * 1024];

	snprintf(path, sizeof(path), "%s/w", dir);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(pa_write_all(fd, "hello", 5, -1, &done), 0);
	assert_int_equal(done, 5);
	assert_int_equal(pa_write_all(fd, "J", 1, 0, NULL), 0);
	assert_int_equal(pa_write_all(fd, "!", 1, 10, NULL), 0);
	close(fd);
	assert_int_equal(pa_file_read(&buf, &len, path, 64, NULL), PA_OK);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "Jello\0\0\0\0\0!", 11);
	free(buf);
	// A pipe takes a large buffer in many short writes.
	memset(big, 'x', sizeof(big));
	assert_int_equal(pipe(p), 0);
	if ((child = fork()) == 0) {
		char    sink[8192];
		ssize_t n;
		size_t  got = 0;

		close(p[1]);
		while ((n = read(p[0], sink, sizeof(sink))) > 0)
			got += (size_t) n;
		_exit(got == sizeof(big) ? 0 : 1);
	}
	close(p[0]);
	assert_int_equal(pa_write_all(p[1], big, sizeof(big), -1, &done), 0);
	assert_int_equal(done, sizeof(big));
	close(p[1]);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	// A closed reader fails the write and says how far it got.
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pa_write_all(p[1], "x", 1, -1, &done), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(done, 0);
	close(p[1]);
}

static void
test_util__blkdev_size_of_a_device_and_of_a_file(void **state)
{
	struct loopfs *lf = NULL;
	char           path[600], why[256];
	uint64_t       size = 7;
	pa_err         err  = PA_ERR_INIT;
	int            fd;

	snprintf(path, sizeof(path), "%s/notadev", dir);
	assert_int_equal(testlib_run("truncate -s 1M '%s'", path), 0);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(pa_blkdev_size(&size, fd, path, &err),
	    pa_status_from_errno(ENOTTY));
	assert_non_null(strstr(err.msg, "notadev: size ioctl"));
	assert_int_equal(size, 7);
	close(fd);
	if (loopfs_new(&lf, why, NULL, 3 * 1024 * 1024) != LOOPFS_OK) {
		printf("SKIP: the device half: %s\n", why);
		return;
	}
	assert_true((fd = open(lf->dev, O_RDONLY)) >= 0);
	assert_int_equal(pa_blkdev_size(&size, fd, lf->dev, &err), PA_OK);
	assert_int_equal(size, 3 * 1024 * 1024);
	close(fd);
	loopfs_free(lf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__clocks_move_forward),
		cmocka_unit_test(
		    test_util__hash_tells_bytes_apart_and_is_never_0),
		cmocka_unit_test(test_util__read_whole_files_up_to_the_limit),
		cmocka_unit_test(
		    test_util__write_all_with_and_without_an_offset),
		cmocka_unit_test(
		    test_util__blkdev_size_of_a_device_and_of_a_file),
	};

	return cmocka_run_group_tests(tests, util_setup, util_teardown);
}
