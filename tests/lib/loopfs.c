// SPDX-License-Identifier: Apache-2.0
// loopfs.c: make and tear down loop devices and filesystems for system tests.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loopfs.h"

#define LOOPFS_MAX 8

static struct loopfs *loopfs_live[LOOPFS_MAX];
static int            loopfs_skips;
static int            loopfs_hooked;

static void
loopfs_teardown(struct loopfs *lf)
{
	if (lf->mnt != NULL)
		loopfs_umount(lf);
	if (lf->dev[0] != '\0')
		testlib_run("losetup -d %s 2>/dev/null", lf->dev);
	testlib_rm_rf(lf->dir);
}

// A test that dies (assert, abort, signal) still gives back the devices
// and mounts it made: they are machine-wide.
static void
loopfs_cleanup_all(void)
{
	for (int i = 0; i < LOOPFS_MAX; i++)
		if (loopfs_live[i] != NULL) {
			loopfs_teardown(loopfs_live[i]);
			loopfs_live[i] = NULL;
		}
}

static void
loopfs_on_signal(int sig)
{
	loopfs_cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
loopfs_hook(void)
{
	if (loopfs_hooked)
		return;
	loopfs_hooked = 1;
	atexit(loopfs_cleanup_all);
	signal(SIGTERM, loopfs_on_signal);
	signal(SIGINT, loopfs_on_signal);
	signal(SIGABRT, loopfs_on_signal);
	// devices left by a run that was killed (SIGKILL): image deleted
	testlib_run("losetup -nO NAME,BACK-FILE 2>/dev/null | "
	            "awk '/prealloc-loopfs-.*\\(deleted\\)/ {print $1}' | "
	            "xargs -r -n1 losetup -d 2>/dev/null");
}

static void
loopfs_track(struct loopfs *lf, struct loopfs *replace)
{
	for (int i = 0; i < LOOPFS_MAX; i++)
		if (loopfs_live[i] == replace) {
			loopfs_live[i] = lf;
			return;
		}
}

static int __attribute__((format(printf, 2, 3)))
loopfs_cannot(char why[256], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, 256, fmt, ap);
	va_end(ap);
	return LOOPFS_CANNOT;
}

static int
loopfs_machine_can(char why[256], const char *fstype)
{
	char prog[64];

	if (geteuid() != 0)
		return loopfs_cannot(why, "%s: needs root", "loop devices");
	if (fstype != NULL && strcmp(fstype, "tmpfs") == 0)
		return LOOPFS_OK;
	if (access("/dev/loop-control", F_OK) != 0)
		return loopfs_cannot(
		    why, "no %s: no loop support", "/dev/loop-control");
	if (!testlib_have_program("losetup"))
		return loopfs_cannot(
		    why, "%s not installed (util-linux)", "losetup");
	snprintf(prog, sizeof(prog), "mkfs.%s", fstype ? fstype : "ext4");
	if (fstype != NULL && !testlib_have_program(prog))
		return loopfs_cannot(why, "%s not installed", prog);
	return LOOPFS_OK;
}

static int
loopfs_attach(struct loopfs *lf, char why[256])
{
	char *out = NULL;
	int   fd, rc = LOOPFS_OK;

	if (asprintf(&lf->image, "%s/image", lf->dir) < 0)
		abort();
	if ((fd = open(lf->image, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0 ||
	    ftruncate(fd, (off_t) lf->size) != 0) {
		snprintf(why, 256, "image %s: %s", lf->image, strerror(errno));
		rc = LOOPFS_ERROR;
	}
	if (fd >= 0)
		close(fd);
	if (rc == LOOPFS_OK &&
	    (testlib_capture(&out, "losetup --find --show '%s'", lf->image) !=
	            0 ||
	        sscanf(out, "%31s", lf->dev) != 1))
		rc = loopfs_cannot(
		    why, "losetup --find --show %s failed", lf->image);
	free(out);
	return rc;
}

static const char *
loopfs_mkfs_flags(const char *fstype)
{
	if (strcmp(fstype, "xfs") == 0 || strcmp(fstype, "btrfs") == 0)
		return "-q -f";
	return "-q -F";
}

static int
loopfs_make_fs(struct loopfs *lf, char why[256])
{
	if (asprintf(&lf->mnt, "%s/mnt", lf->dir) < 0)
		abort();
	if (mkdir(lf->mnt, 0755) != 0) {
		snprintf(why, 256, "mkdir %s: %s", lf->mnt, strerror(errno));
		return LOOPFS_ERROR;
	}
	if (strcmp(lf->fstype, "tmpfs") == 0) {
		if (testlib_run("mount -t tmpfs -o size=%llu tmpfs '%s'",
		        (unsigned long long) lf->size, lf->mnt) != 0) {
			free(lf->mnt);
			lf->mnt = NULL;
			return loopfs_cannot(
			    why, "mount -t %s failed", "tmpfs");
		}
		return LOOPFS_OK;
	}
	if (testlib_run("mkfs.%s %s %s >/dev/null", lf->fstype,
	        loopfs_mkfs_flags(lf->fstype), lf->dev) != 0) {
		snprintf(why, 256, "mkfs.%s %s failed", lf->fstype, lf->dev);
		return LOOPFS_ERROR;
	}
	if (testlib_run("mount -t %s %s '%s'", lf->fstype, lf->dev, lf->mnt) !=
	    0) {
		free(lf->mnt);
		lf->mnt = NULL;
		return loopfs_cannot(
		    why, "mount -t %s failed: no kernel support?", lf->fstype);
	}
	return LOOPFS_OK;
}

int
loopfs_new(
    struct loopfs **out, char why[256], const char *fstype, uint64_t size)
{
	struct loopfs *lf;
	int            rc;

	why[0] = '\0';
	if ((rc = loopfs_machine_can(why, fstype)) != LOOPFS_OK)
		return rc;
	loopfs_hook();
	if ((lf = calloc(1, sizeof(*lf))) == NULL)
		abort();
	lf->size = size;
	lf->dir  = testlib_tmpdir("loopfs");
	snprintf(lf->fstype, sizeof(lf->fstype), "%s", fstype ? fstype : "");
	loopfs_track(lf, NULL);
	rc = LOOPFS_OK;
	if (fstype == NULL || strcmp(fstype, "tmpfs") != 0)
		rc = loopfs_attach(lf, why);
	if (rc == LOOPFS_OK && fstype != NULL)
		rc = loopfs_make_fs(lf, why);
	if (rc != LOOPFS_OK) {
		fprintf(stderr, "loopfs: %s\n", why);
		loopfs_free(lf);
		return rc;
	}
	*out = lf;
	return LOOPFS_OK;
}

int
loopfs_mount(struct loopfs *lf)
{
	char *mnt = NULL;

	if (lf->mnt != NULL)
		return 0;
	if (asprintf(&mnt, "%s/mnt", lf->dir) < 0)
		abort();
	if (testlib_run("mount -t %s %s '%s'", lf->fstype, lf->dev, mnt) != 0) {
		free(mnt);
		return -1;
	}
	lf->mnt = mnt;
	return 0;
}

int
loopfs_umount(struct loopfs *lf)
{
	if (lf->mnt == NULL)
		return 0;
	// a busy mount (a test's open file) is detached lazily, never left
	if (testlib_run("umount '%s' 2>/dev/null || umount -l '%s'", lf->mnt,
	        lf->mnt) != 0)
		return -1;
	free(lf->mnt);
	lf->mnt = NULL;
	return 0;
}

void
loopfs_free(struct loopfs *lf)
{
	if (lf == NULL)
		return;
	loopfs_track(NULL, lf);
	loopfs_teardown(lf);
	free(lf->mnt);
	free(lf->image);
	free(lf->dir);
	free(lf);
}

char *
loopfs_path(const struct loopfs *lf, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", lf->mnt, name) < 0)
		abort();
	return p;
}

void
loopfs_skip(const char *fmt, ...)
{
	char    why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	print_message("SKIP: %s\n", why);
	loopfs_skips++;
	_skip(__FILE__, __LINE__);
}

struct loopfs *
loopfs_new_or_skip(const char *fstype, uint64_t size)
{
	struct loopfs *lf = NULL;
	char           why[256];
	int            rc = loopfs_new(&lf, why, fstype, size);

	if (rc == LOOPFS_CANNOT)
		loopfs_skip("%s", why);
	if (rc != LOOPFS_OK)
		fail_msg("loopfs %s: %s", fstype ? fstype : "device", why);
	return lf;
}

int
loopfs_exit_status(int failed)
{
	if (failed)
		return failed;
	return loopfs_skips > 0 ? TESTLIB_SKIP_EXIT : 0;
}

int
loopfs_direct_io(const struct loopfs *lf)
{
	if (lf->dev[0] == '\0')
		return -1;
	return testlib_run("losetup --direct-io=on %s", lf->dev) == 0 ? 0 : -1;
}
