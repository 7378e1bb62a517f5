// SPDX-License-Identifier: Apache-2.0
// confine_test.c: targets beneath roots and allowed devices; every escape
// refused, with openat2 and with the O_NOFOLLOW walk.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "confine.h"
#include "testlib.h"

struct fx {
	char    *dir; // holds root/, outside/ and dev/
	char     root[512];
	char     canary[512]; // outside/canary
	confine *c;
};

static char *
fx_path(const struct fx *f, const char *rel)
{
	static char buf[4][1024];
	static int  next;
	char       *p = buf[next++ % 4];

	snprintf(p, 1024, "%s/%s", f->dir, rel);
	return p;
}

static int
confine_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("confine");
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	snprintf(f->canary, sizeof(f->canary), "%s/outside/canary", f->dir);
	// root/sub/in.img, root/link-in -> sub/in.img, links that lead out,
	// a magic link, and outside/canary.
	if (testlib_run("cd '%s' && mkdir -p root/sub outside dev by-id && "
	                "echo canary > outside/canary && "
	                "echo data > root/sub/in.img && "
	                "ln -s sub/in.img root/link-in && "
	                "ln -s sub root/subdir-link && "
	                "ln -s '%s/outside/canary' root/abs-out && "
	                "ln -s ../outside/canary root/rel-out && "
	                "ln -s ../outside root/dir-out && "
	                "ln -s ../outside/new.img root/dangling-out && "
	                "ln -s /proc/self/root%s/outside/canary root/magic && "
	                "ln -s /proc/self/cwd root/cwd",
	        f->dir, f->dir, f->dir) != 0)
		return -1;
	// A block device node (loop major 7) and a by-id style link to it.
	if (mknod(fx_path(f, "dev/blk0"), S_IFBLK | 0600, makedev(7, 250)) ||
	    symlink("../dev/blk0", fx_path(f, "by-id/disk-a")) ||
	    mknod(fx_path(f, "root/node"), S_IFBLK | 0600, makedev(7, 251)))
		return -1;
	assert_int_equal(confine_new(&f->c, NULL), PA_OK);
	assert_int_equal(confine_add_root(f->c, f->root, NULL), PA_OK);
	*state = f;
	return 0;
}

static int
confine_teardown(void **state)
{
	struct fx *f = *state;

	confine_force_walk(false);
	confine_free(f->c);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int
resolve(
    const struct fx *f, const char *path, struct confine_target *t, pa_err *err)
{
	return confine_resolve(t, f->c, path, err);
}

static void
expect_code(const struct fx *f, const char *rel_to_dir, int code)
{
	struct confine_target t;
	pa_err                err = PA_ERR_INIT;
	int                   rc = resolve(f, fx_path(f, rel_to_dir), &t, &err);

	if (rc != code)
		fail_msg("%s: got %s (%s), want %s", rel_to_dir,
		    pa_status_name(rc), err.msg, pa_status_name(code));
}

static void
check_escapes(const struct fx *f)
{
	char before[65], after[65];

	assert_int_equal(testlib_sha256(before, f->canary), 0);
	expect_code(f, "root/../outside/canary", PA_PERMISSION_DENIED);
	expect_code(f, "root/sub/../../outside/new.img", PA_PERMISSION_DENIED);
	expect_code(f, "root/abs-out", PA_PERMISSION_DENIED);
	expect_code(f, "root/rel-out", PA_PERMISSION_DENIED);
	expect_code(f, "root/dir-out/canary", PA_PERMISSION_DENIED);
	expect_code(f, "root/dir-out/new.img", PA_PERMISSION_DENIED);
	expect_code(f, "root/dangling-out", PA_PERMISSION_DENIED);
	expect_code(f, "root/magic", PA_PERMISSION_DENIED);
	expect_code(f, "root/cwd/x.img", PA_PERMISSION_DENIED);
	expect_code(f, "outside/canary", PA_PERMISSION_DENIED);
	expect_code(f, "root/node", PA_PERMISSION_DENIED);
	assert_int_equal(testlib_sha256(after, f->canary), 0);
	assert_string_equal(before, after);
}

static void
test_confine__escapes_are_refused(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	char                  p[1100];

	check_escapes(f);
	snprintf(p, sizeof(p), "/proc/self/root%s/outside/canary", f->dir);
	assert_int_equal(resolve(f, p, &t, NULL), PA_PERMISSION_DENIED);
	snprintf(p, sizeof(p), "/proc/self/root%s/sub/in.img", f->root);
	assert_int_equal(resolve(f, p, &t, NULL), PA_PERMISSION_DENIED);
}

static void
test_confine__walk_refuses_escapes_too(void **state)
{
	confine_force_walk(true);
	check_escapes(*state);
}

static void
check_inside(const struct fx *f)
{
	struct confine_target t;
	char                  want[1100];

	snprintf(want, sizeof(want), "%s/sub/in.img", f->root);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/sub/in.img"), &t, NULL), PA_OK);
	assert_int_equal(t.kind, CONFINE_FILE);
	assert_true(t.exists);
	assert_string_equal(t.path, want);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/sub/../sub/./in.img"), &t, NULL),
	    PA_OK);
	assert_string_equal(t.path, want);
	snprintf(want, sizeof(want), "%s/sub/new.img", f->root);
	assert_int_equal(
	    resolve(f, fx_path(f, "root//sub/new.img"), &t, NULL), PA_OK);
	assert_false(t.exists);
	assert_string_equal(t.path, want);
}

static void
test_confine__paths_inside_resolve_to_canonical(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	char                  want[1100];

	check_inside(f);
	// Symlinks that stay inside are followed, to a path without them.
	snprintf(want, sizeof(want), "%s/sub/in.img", f->root);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/link-in"), &t, NULL), PA_OK);
	assert_string_equal(t.path, want);
	snprintf(want, sizeof(want), "%s/sub/x.img", f->root);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/subdir-link/x.img"), &t, NULL), PA_OK);
	assert_string_equal(t.path, want);
}

static void
test_confine__walk_resolves_plain_paths_and_refuses_links(void **state)
{
	struct fx *f = *state;

	confine_force_walk(true);
	check_inside(f);
	expect_code(f, "root/link-in", PA_PERMISSION_DENIED);
}

static void
test_confine__bad_paths_are_invalid_or_not_found(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	pa_err                err = PA_ERR_INIT;

	assert_int_equal(resolve(f, "", &t, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "path"));
	assert_int_equal(
	    resolve(f, "root/sub/in.img", &t, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "not absolute"));
	assert_int_equal(resolve(f, f->root, &t, NULL), PA_INVALID_ARGUMENT);
	expect_code(f, "root/sub", PA_INVALID_ARGUMENT);
	expect_code(f, "root/sub/", PA_INVALID_ARGUMENT);
	expect_code(f, "root/sub/..", PA_INVALID_ARGUMENT);
	expect_code(f, "root/missing/x.img", PA_NOT_FOUND);
	expect_code(f, "root/sub/in.img/x", PA_INVALID_ARGUMENT);
}

static void
test_confine__devices_need_a_matching_glob(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	char                  glob[1100];

	expect_code(f, "dev/blk0", PA_PERMISSION_DENIED);
	expect_code(f, "by-id/disk-a", PA_PERMISSION_DENIED);
	// A glob on the real node allows it by any link to it.
	snprintf(glob, sizeof(glob), "%s/dev/blk*", f->dir);
	assert_int_equal(confine_add_device_glob(f->c, glob, NULL), PA_OK);
	assert_int_equal(
	    resolve(f, fx_path(f, "by-id/disk-a"), &t, NULL), PA_OK);
	assert_int_equal(t.kind, CONFINE_DEVICE);
	assert_string_equal(t.path, fx_path(f, "dev/blk0"));
	// The glob does not match other devices, nor a node beneath a root.
	expect_code(f, "root/node", PA_PERMISSION_DENIED);
	assert_int_equal(
	    confine_add_device_glob(f->c, "dev/*", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(confine_glob_count(f->c), 1);
}

static void
test_confine__glob_on_the_link_name_allows_the_device(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	char                  glob[1100];

	snprintf(glob, sizeof(glob), "%s/by-id/disk-*", f->dir);
	assert_int_equal(confine_add_device_glob(f->c, glob, NULL), PA_OK);
	assert_int_equal(
	    resolve(f, fx_path(f, "by-id/disk-a"), &t, NULL), PA_OK);
	assert_string_equal(t.path, fx_path(f, "dev/blk0"));
	expect_code(f, "dev/blk0", PA_PERMISSION_DENIED);
}

static void
test_confine__roots_must_exist_and_stay(void **state)
{
	struct fx *f   = *state;
	pa_err     err = PA_ERR_INIT;
	confine   *c   = NULL;

	assert_int_equal(
	    confine_add_root(f->c, fx_path(f, "nope"), &err), PA_NOT_FOUND);
	assert_int_equal(
	    confine_add_root(f->c, "rel", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    confine_add_root(f->c, f->canary, NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(confine_root_count(f->c), 1);
	assert_int_equal(confine_new(&c, NULL), PA_OK);
	assert_int_equal(
	    confine_add_root(c, fx_path(f, "outside"), NULL), PA_OK);
	assert_int_equal(confine_check_roots(c, NULL), PA_OK);
	assert_int_equal(testlib_run("rm -rf '%s/outside'", f->dir), 0);
	assert_int_equal(confine_check_roots(c, &err), PA_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "outside"));
	confine_free(c);
	confine_free(NULL);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, confine_setup, confine_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_confine__escapes_are_refused),
		T(test_confine__walk_refuses_escapes_too),
		T(test_confine__paths_inside_resolve_to_canonical),
		T(test_confine__walk_resolves_plain_paths_and_refuses_links),
		T(test_confine__bad_paths_are_invalid_or_not_found),
		T(test_confine__devices_need_a_matching_glob),
		T(test_confine__glob_on_the_link_name_allows_the_device),
		T(test_confine__roots_must_exist_and_stay),
	};

	if (geteuid() != 0)
		testlib_skip_all(
		    "confine_test makes device nodes: run as root");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
