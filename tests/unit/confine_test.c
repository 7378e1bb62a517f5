// SPDX-License-Identifier: Apache-2.0
// confine_test.c: targets beneath roots and allowed devices; every escape
// refused, with openat2 and with the O_NOFOLLOW walk.
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "confine.h"
#include "loopfs.h"
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

// Two real loop devices, A and B, and names for them in a directory of
// /dev made for the test: dev/by-id/disk-a, a link to A's node; imp, a
// node made by hand with B's numbers; bind, a file B's node is bind-mounted
// on; chr, a character node. And out/disk-b, a link to B outside /dev.
struct devfx {
	struct loopfs *a, *b;
	char           dir[128]; // /dev/prealloc-confine-<pid>
	char           out[1024];
	bool           bound;
};

static char *
devfx_path(const struct devfx *d, const char *rel)
{
	static char buf[4][1100];
	static int  next;
	char       *p = buf[next++ % 4];

	snprintf(p, 1100, "%s/%s", d->dir, rel);
	return p;
}

static void
devfx_make(struct devfx *d, const struct fx *f)
{
	struct stat st;

	d->a = loopfs_new_or_skip(NULL, 8 * MiB);
	d->b = loopfs_new_or_skip(NULL, 8 * MiB);
	snprintf(d->dir, sizeof(d->dir), "/dev/prealloc-confine-%ld",
	    (long) getpid());
	snprintf(d->out, sizeof(d->out), "%s/out", f->dir);
	assert_int_equal(stat(d->b->dev, &st), 0);
	assert_int_equal(
	    testlib_run("mkdir -p '%s/by-id' '%s' && ln -s '%s' "
	                "'%s/by-id/disk-a' && ln -s '%s' '%s/disk-b' && "
	                "touch '%s/bind' && mount --bind '%s' '%s/bind'",
	        d->dir, d->out, d->a->dev, d->dir, d->b->dev, d->out, d->dir,
	        d->b->dev, d->dir),
	    0);
	d->bound = true;
	assert_int_equal(
	    mknod(devfx_path(d, "imp"), S_IFBLK | 0600, st.st_rdev), 0);
	assert_int_equal(
	    mknod(devfx_path(d, "chr"), S_IFCHR | 0600, makedev(1, 3)), 0);
}

static void
devfx_free(struct devfx *d)
{
	if (d->bound)
		testlib_run("umount '%s/bind'", d->dir);
	testlib_run("rm -rf '%s'", d->dir);
	loopfs_free(d->a);
	loopfs_free(d->b);
}

static void
allow(const struct fx *f, const char *glob)
{
	assert_int_equal(confine_add_device_glob(f->c, glob, NULL), PA_OK);
}

static void
expect_device(const struct fx *f, const char *path, int code)
{
	struct confine_target t;
	pa_err                err = PA_ERR_INIT;
	int                   rc  = resolve(f, path, &t, &err);

	if (rc != code)
		fail_msg("%s: got %s (%s), want %s", path, pa_status_name(rc),
		    err.msg, pa_status_name(code));
}

static void
test_confine__devices_are_allowed_by_identity(void **state)
{
	struct fx            *f = *state;
	struct devfx          d = { 0 };
	struct confine_target t;
	char                  glob[256];

	devfx_make(&d, f);
	snprintf(glob, sizeof(glob), "%s/by-id/disk-*", d.dir);
	allow(f, glob);
	// The link names A: A is allowed by any path that reaches it.
	assert_int_equal(
	    resolve(f, devfx_path(&d, "by-id/disk-a"), &t, NULL), PA_OK);
	assert_int_equal(t.kind, CONFINE_DEVICE);
	assert_string_equal(t.path, d.a->dev);
	assert_int_equal(t.fd, -1);
	expect_device(f, d.a->dev, PA_OK);
	// B is named by nothing, whatever reaches it.
	expect_device(f, d.b->dev, PA_PERMISSION_DENIED);
	expect_device(f, devfx_path(&d, "imp"), PA_PERMISSION_DENIED);
	expect_device(f, devfx_path(&d, "bind"), PA_PERMISSION_DENIED);
	expect_device(f, d.out, PA_PERMISSION_DENIED);
	devfx_free(&d);
}

// A glob that matches the hand-made node, the bind mount, the character
// node and the link outside /dev still allows nothing: none of them is
// the kernel's node or a link in /dev to it.
static void
test_confine__names_made_by_hand_allow_nothing(void **state)
{
	struct fx   *f = *state;
	struct devfx d = { 0 };
	char         glob[1100];
	char         before[65], after[65];

	devfx_make(&d, f);
	assert_int_equal(testlib_sha256(before, d.b->dev), 0);
	snprintf(glob, sizeof(glob), "%s/*", d.dir);
	allow(f, glob);
	snprintf(glob, sizeof(glob), "%s/*", d.out);
	allow(f, glob);
	expect_device(f, devfx_path(&d, "imp"), PA_PERMISSION_DENIED);
	expect_device(f, devfx_path(&d, "bind"), PA_PERMISSION_DENIED);
	expect_device(f, devfx_path(&d, "chr"), PA_PERMISSION_DENIED);
	expect_device(f, d.out, PA_PERMISSION_DENIED);
	expect_device(f, d.b->dev, PA_PERMISSION_DENIED);
	// "*" stops at "/": by-id/disk-a is not matched, so A is not named.
	expect_device(f, devfx_path(&d, "by-id/disk-a"), PA_PERMISSION_DENIED);
	assert_int_equal(testlib_sha256(after, d.b->dev), 0);
	assert_string_equal(before, after);
	devfx_free(&d);
}

static void
test_confine__a_device_opened_for_writing_is_claimed(void **state)
{
	struct fx            *f = *state;
	struct devfx          d = { 0 };
	struct confine_target t, t2;
	pa_err                err = PA_ERR_INIT;
	struct stat           st, want;
	int                   fd;

	devfx_make(&d, f);
	allow(f, d.a->dev);
	assert_int_equal(
	    confine_open(&t, f->c, d.a->dev, CONFINE_WRITE, &err), PA_OK);
	assert_true(t.fd >= 0);
	assert_int_equal(fstat(t.fd, &st), 0);
	assert_int_equal(stat(d.a->dev, &want), 0);
	assert_true(st.st_rdev == want.st_rdev);
	// O_EXCL: nobody else claims it, and a second writer is refused.
	assert_true((fd = open(d.a->dev, O_RDONLY | O_EXCL)) < 0);
	assert_int_equal(confine_open(&t2, f->c, d.a->dev, CONFINE_WRITE, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "busy"));
	confine_target_close(&t);
	confine_target_close(&t); // twice is fine
	assert_true((fd = open(d.a->dev, O_RDONLY | O_EXCL)) >= 0);
	close(fd);
	devfx_free(&d);
}

static void
test_confine__device_globs_must_be_absolute(void **state)
{
	struct fx *f = *state;

	expect_code(f, "dev/blk0", PA_PERMISSION_DENIED);
	expect_code(f, "by-id/disk-a", PA_PERMISSION_DENIED);
	assert_int_equal(
	    confine_add_device_glob(f->c, "dev/*", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(confine_glob_count(f->c), 0);
	assert_false(confine_device_allowed(f->c, makedev(7, 0)));
}

// A file with another hard link may be reachable from outside the root:
// it is refused, and neither name's bytes change.
static void
test_confine__a_file_with_other_links_is_refused(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	pa_err                err = PA_ERR_INIT;

	assert_int_equal(testlib_run("cd '%s' && echo x > outside/shared && "
	                             "ln outside/shared root/sub/shared.img",
	                     f->dir),
	    0);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/sub/shared.img"), &t, &err),
	    PA_PERMISSION_DENIED);
	assert_non_null(strstr(err.msg, "2 hard links"));
	assert_int_equal(
	    confine_open(&t, f->c, fx_path(f, "root/sub/shared.img"),
	        CONFINE_WRITE, NULL),
	    PA_PERMISSION_DENIED);
	assert_int_equal(testlib_file_size(fx_path(f, "outside/shared")), 2);
	// With the outside name gone, the file is the root's alone.
	assert_int_equal(unlink(fx_path(f, "outside/shared")), 0);
	assert_int_equal(
	    resolve(f, fx_path(f, "root/sub/shared.img"), &t, NULL), PA_OK);
}

static void
test_confine__long_paths_are_invalid(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	pa_err                err = PA_ERR_INIT;
	size_t                n   = PATH_MAX + 100;
	char                 *p   = malloc(n + 1);

	snprintf(p, n + 1, "%s/", f->root);
	for (size_t i = strlen(p); i < n; i++)
		p[i] = (i % 200 == 0) ? '/' : 'a';
	p[n] = '\0';
	assert_int_equal(resolve(f, p, &t, &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "PATH_MAX"));
	p[PATH_MAX - 1] = '\0'; // 4095 bytes: no longer the length's fault
	assert_int_not_equal(resolve(f, p, &t, &err), PA_OK);
	assert_null(strstr(err.msg, "PATH_MAX"));
	free(p);
}

// Opened for writing, an existing file's fd is the file that was checked;
// a new file comes back as its directory and name.
static void
test_confine__open_gives_what_was_checked(void **state)
{
	struct fx            *f = *state;
	struct confine_target t;
	struct stat           st, want;

	assert_int_equal(confine_open(&t, f->c, fx_path(f, "root/link-in"),
	                     CONFINE_WRITE, NULL),
	    PA_OK);
	assert_true(t.exists);
	assert_int_equal(fstat(t.fd, &st), 0);
	assert_int_equal(stat(fx_path(f, "root/sub/in.img"), &want), 0);
	assert_true(st.st_ino == want.st_ino);
	assert_int_equal(t.dirfd, -1);
	confine_target_close(&t);
	assert_int_equal(confine_open(&t, f->c, fx_path(f, "root/sub/new.img"),
	                     CONFINE_WRITE, NULL),
	    PA_OK);
	assert_false(t.exists);
	assert_int_equal(t.fd, -1);
	assert_true(t.dirfd >= 0);
	assert_string_equal(t.name, "new.img");
	assert_int_equal(fstat(t.dirfd, &st), 0);
	assert_int_equal(stat(fx_path(f, "root/sub"), &want), 0);
	assert_true(st.st_ino == want.st_ino);
	confine_target_close(&t);
	assert_int_equal(
	    confine_recheck(&t, f->c, fx_path(f, "root/link-in"), NULL),
	    PA_PERMISSION_DENIED); // it resolves to sub/in.img now
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
		T(test_confine__devices_are_allowed_by_identity),
		T(test_confine__names_made_by_hand_allow_nothing),
		T(test_confine__a_device_opened_for_writing_is_claimed),
		T(test_confine__device_globs_must_be_absolute),
		T(test_confine__a_file_with_other_links_is_refused),
		T(test_confine__long_paths_are_invalid),
		T(test_confine__open_gives_what_was_checked),
		T(test_confine__roots_must_exist_and_stay),
	};

	if (geteuid() != 0)
		testlib_skip_all(
		    "confine_test makes device nodes: run as root");
	return loopfs_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
