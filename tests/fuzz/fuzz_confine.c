// SPDX-License-Identifier: Apache-2.0
// fuzz_confine.c: any path string through confine_open(), over a tree the
// harness builds with every escape it knows of: symlinks out (relative,
// absolute, through "..", into /proc), a hard link to a file outside,
// symlink loops, a fifo. The oracle: whatever is accepted was opened
// beneath the root, is a regular file with one link (or a new file's
// directory beneath the root), and is never the file outside.
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char     top[PATH_MAX], root[PATH_MAX];
static confine *conf;
static dev_t    secret_dev;
static ino_t    secret_ino;

static void
must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		abort();
	}
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) flag;
	(void) f;
	return remove(p);
}

static void
tree_remove(void)
{
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
make_file(const char *rel)
{
	char p[PATH_MAX];
	int  fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	must((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0, p);
	must(write(fd, "data", 4) == 4, p);
	close(fd);
}

static void
make_link(const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	must(symlink(target, p) == 0, p);
}

static void
tree_build(void)
{
	char        p[PATH_MAX], q[PATH_MAX];
	struct stat st;

	snprintf(top, sizeof(top), "/tmp/prealloc-fuzz-confine-%ld",
	    (long) getpid());
	snprintf(root, sizeof(root), "%s/root", top);
	must(mkdir(top, 0700) == 0, top);
	atexit(tree_remove);
	must(mkdir(root, 0700) == 0, root);
	snprintf(p, sizeof(p), "%s/outside", top);
	must(mkdir(p, 0700) == 0, p);
	snprintf(p, sizeof(p), "%s/root/sub", top);
	must(mkdir(p, 0700) == 0, p);
	snprintf(p, sizeof(p), "%s/root/sub/deep", top);
	must(mkdir(p, 0700) == 0, p);
	make_file("outside/secret");
	make_file("root/a.img");
	make_file("root/sub/b.img");
	make_link("../outside", "root/up");
	snprintf(q, sizeof(q), "%s/outside/secret", top);
	make_link(q, "root/abs");
	make_link("../../outside/secret", "root/sub/dotdot");
	make_link(".", "root/self");
	make_link("loop2", "root/loop1");
	make_link("loop1", "root/loop2");
	make_link("/proc/self/root/etc", "root/proc");
	make_link("/dev/null", "root/null");
	make_link("a.img", "root/in");
	snprintf(p, sizeof(p), "%s/root/hard", top);
	must(link(q, p) == 0, p);
	snprintf(p, sizeof(p), "%s/root/fifo", top);
	must(mkfifo(p, 0600) == 0, p);
	must(stat(q, &st) == 0, q);
	secret_dev = st.st_dev;
	secret_ino = st.st_ino;
	must(confine_new(&conf, NULL) == PA_OK, "confine_new");
	must(confine_add_root(conf, root, NULL) == PA_OK, "confine_add_root");
}

// Where @p fd really is, as the kernel says.
static void
fd_path(char *buf, size_t size, int fd)
{
	char    proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, size - 1);
	must(n > 0, proc);
	buf[n] = '\0';
}

static int
beneath(const char *path, int or_equal)
{
	size_t n = strlen(root);

	return strncmp(path, root, n) == 0 &&
	    (path[n] == '/' || (or_equal && path[n] == '\0'));
}

static void
check(const struct confine_target *t)
{
	char        where[PATH_MAX];
	struct stat st;

	if (t->kind != CONFINE_FILE || !beneath(t->path, 0))
		abort(); // no devices are allowed here
	if (t->fd >= 0) {
		must(fstat(t->fd, &st) == 0, "fstat");
		fd_path(where, sizeof(where), t->fd);
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		    (st.st_dev == secret_dev && st.st_ino == secret_ino) ||
		    !beneath(where, 0))
			abort();
	} else {
		fd_path(where, sizeof(where), t->dirfd);
		if (!beneath(where, 1))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct confine_target t = CONFINE_TARGET_INIT;
	char                  path[PATH_MAX + 64];
	size_t                n = 0;

	if (conf == NULL)
		tree_build();
	// Most inputs start beneath the root, where the escapes are.
	if (size > 0 && (data[0] & 1)) {
		n = (size_t) snprintf(path, sizeof(path), "%s/", root);
		data++;
		size--;
	}
	for (size_t i = 0; i < size && n + 1 < sizeof(path) && data[i]; i++)
		path[n++] = (char) data[i];
	path[n] = '\0';
	if (confine_open(&t, conf, path, CONFINE_READ, NULL) == PA_OK) {
		check(&t);
		confine_target_close(&t);
	}
	return 0;
}
