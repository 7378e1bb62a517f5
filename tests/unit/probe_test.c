// SPDX-License-Identifier: Apache-2.0
// probe_test.c: probing plain files, new files and wrong kinds in a temp dir.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "probe.h"
#include "testlib.h"

static int
probe_setup(void **state)
{
	*state = testlib_tmpdir("probe");
	return 0;
}

static int
probe_teardown(void **state)
{
	testlib_rm_rf(*state);
	free(*state);
	return 0;
}

static char *
probe_test_path(void **state, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", (char *) *state, name) < 0)
		abort();
	return p;
}

static void
test_probe__file_reports_size_space_and_fs(void **state)
{
	char             *path = probe_test_path(state, "f");
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(testlib_write_random(path, 0, MiB + 100, 1), 0);
	assert_int_equal(probe_path(&info, path, &err), PA_OK);
	assert_int_equal(info.kind, PROBE_FILE);
	assert_int_equal(info.size, MiB + 100);
	assert_true(info.allocated >= MiB);
	assert_true(info.free_bytes > 0);
	assert_true(info.fs[0] != '\0');
	// $TMPDIR is a real filesystem: the try gives a yes or a no
	assert_int_not_equal(info.falloc, PROBE_FALLOC_UNKNOWN);
	free(path);
}

static void
test_probe__missing_file_is_new(void **state)
{
	char             *path = probe_test_path(state, "new");
	struct probe_info info;

	assert_int_equal(probe_path(&info, path, NULL), PA_OK);
	assert_int_equal(info.kind, PROBE_NEW_FILE);
	assert_int_equal(info.size, 0);
	assert_true(info.fs[0] != '\0');
	assert_int_equal(testlib_file_size(path), -1); // nothing created
	free(path);
}

static void
test_probe__missing_directory_is_not_found(void **state)
{
	char             *path = probe_test_path(state, "no/such/file");
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(probe_path(&info, path, &err), PA_NOT_FOUND);
	assert_int_equal(err.code, PA_NOT_FOUND);
	free(path);
}

static void
test_probe__directory_and_char_device_are_invalid(void **state)
{
	struct probe_info info;
	pa_err            err = PA_ERR_INIT;

	assert_int_equal(probe_path(&info, *state, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "neither"));
	assert_int_equal(
	    probe_path(&info, "/dev/null", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(probe_path(&info, "", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(probe_path(&info, NULL, NULL), PA_INVALID_ARGUMENT);
}

static void
test_probe__out_untouched_on_failure(void **state)
{
	struct probe_info info, before;

	memset(&info, 0xab, sizeof(info));
	before = info;
	assert_int_not_equal(probe_path(&info, "/dev/null", NULL), PA_OK);
	assert_memory_equal(&info, &before, sizeof(info));
}

static void
test_probe__fs_name_tells_tmpfs_and_unknown(void **state)
{
	struct statfs sfs;
	char          name[32];
	int           fd;

	// a magic outside the table is named by its number
	assert_true((fd = open("/proc", O_RDONLY)) >= 0);
	assert_int_equal(probe_fs_name(name, sizeof(name), fd, NULL), PA_OK);
	assert_string_equal(name, "0x9fa0");
	close(fd);
	if (statfs("/dev/shm", &sfs) != 0 || sfs.f_type != 0x01021994) {
		print_message("SKIP: /dev/shm is not a tmpfs here\n");
		skip();
	}
	assert_true((fd = open("/dev/shm", O_RDONLY)) >= 0);
	assert_int_equal(probe_fs_name(name, sizeof(name), fd, NULL), PA_OK);
	assert_string_equal(name, "tmpfs");
	close(fd);
}

static void
test_probe__falloc_answer_is_cached_per_filesystem(void **state)
{
	int               fd = open(*state, O_RDONLY | O_DIRECTORY);
	enum probe_falloc first, again;

	assert_true(fd >= 0);
	first = probe_falloc_works(fd);
	again = probe_falloc_works(fd);
	assert_int_equal(first, again);
	// what a real fallocate taught wins over the try
	probe_falloc_learnt(fd, PROBE_FALLOC_NO);
	assert_int_equal(probe_falloc_works(fd), PROBE_FALLOC_NO);
	probe_falloc_learnt(fd, first);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_probe__file_reports_size_space_and_fs, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(test_probe__missing_file_is_new,
		    probe_setup, probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__missing_directory_is_not_found, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__directory_and_char_device_are_invalid,
		    probe_setup, probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__out_untouched_on_failure, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__fs_name_tells_tmpfs_and_unknown, probe_setup,
		    probe_teardown),
		cmocka_unit_test_setup_teardown(
		    test_probe__falloc_answer_is_cached_per_filesystem,
		    probe_setup, probe_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
