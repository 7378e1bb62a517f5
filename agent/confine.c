// SPDX-License-Identifier: Apache-2.0
// confine.c: accept a target only beneath an allowed root or as an allowed
// block device, and name it by a path with no symlink left in it.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "confine.h"

#define CONFINE_MAX_DEPTH 256 // components the O_NOFOLLOW walk goes down
#define CONFINE_RETRIES 8     // openat2 EAGAIN: a rename raced a ".."

struct confine_root {
	char *given; // as the operator wrote it, without a trailing '/'
	char *canon; // realpath() of it
	int   fd;    // O_PATH directory: every resolution starts here
};

struct confine {
	struct confine_root *roots;
	size_t               nroots;
	char               **globs;
	size_t               nglobs;
};

static bool confine_walk_only;

void
confine_force_walk(bool on)
{
	confine_walk_only = on;
}

int
confine_new(confine **out, pa_err *err)
{
	confine *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return pa_err_errno(err, ENOMEM, "confine");
	*out = c;
	return PA_OK;
}

void
confine_free(confine *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nroots; i++) {
		free(c->roots[i].given);
		free(c->roots[i].canon);
		close(c->roots[i].fd);
	}
	for (size_t i = 0; i < c->nglobs; i++)
		free(c->globs[i]);
	free(c->roots);
	free(c->globs);
	free(c);
}

size_t
confine_root_count(const confine *c)
{
	return c->nroots;
}

size_t
confine_glob_count(const confine *c)
{
	return c->nglobs;
}

static int
confine_root_open(struct confine_root *r, const char *dir, pa_err *err)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if ((r->given = strndup(dir, n)) == NULL)
		return pa_err_errno(err, ENOMEM, "root %s", dir);
	if ((r->canon = realpath(dir, NULL)) == NULL)
		return pa_err_errno(err, errno, "root %s", dir);
	r->fd = open(r->canon, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0 && errno == ENOTDIR)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "root %s is not a directory", dir);
	if (r->fd < 0)
		return pa_err_errno(err, errno, "root %s", dir);
	return PA_OK;
}

int
confine_add_root(confine *c, const char *dir, pa_err *err)
{
	struct confine_root  r = { NULL, NULL, -1 };
	struct confine_root *grown;
	int                  rc;

	if (dir == NULL || dir[0] != '/')
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "root %s is not an absolute path", dir ? dir : "(null)");
	if ((rc = confine_root_open(&r, dir, err)) != PA_OK)
		goto done;
	grown = realloc(c->roots, (c->nroots + 1) * sizeof(*grown));
	if (grown == NULL) {
		rc = pa_err_errno(err, ENOMEM, "root %s", dir);
		goto done;
	}
	c->roots              = grown;
	c->roots[c->nroots++] = r;
	return PA_OK;
done:
	free(r.given);
	free(r.canon);
	if (r.fd >= 0)
		close(r.fd);
	return rc;
}

int
confine_add_device_glob(confine *c, const char *glob, pa_err *err)
{
	char **grown;
	char  *copy;

	if (glob == NULL || glob[0] != '/')
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "device glob %s is not an absolute pattern",
		    glob ? glob : "(null)");
	if ((copy = strdup(glob)) == NULL)
		return pa_err_errno(err, ENOMEM, "device glob %s", glob);
	grown = realloc(c->globs, (c->nglobs + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return pa_err_errno(err, ENOMEM, "device glob %s", glob);
	}
	c->globs              = grown;
	c->globs[c->nglobs++] = copy;
	return PA_OK;
}

// The kernel's own node for block device @p rdev: "/dev/" and the
// DEVNAME its uevent gives. @return false when /sys does not know it.
static bool
confine_kernel_node(char *buf, size_t size, dev_t rdev)
{
	char   path[96], *line = NULL;
	size_t cap   = 0;
	bool   found = false;
	FILE  *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(rdev),
	    minor(rdev));
	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		if (strncmp(line, "DEVNAME=", 8) == 0 && line[8] != '\0')
			found = snprintf(buf, size, "/dev/%s", line + 8) <
			    (int) size;
	}
	free(line);
	fclose(f);
	return found;
}

// Whether @p match, a name a glob expanded to, names block device @p rdev:
// it is the kernel's node for it, or a link in /dev (udev's, as in
// /dev/disk/by-id) to that node. A node made by hand with the same
// numbers is not the kernel's node, and a link outside /dev may be
// anyone's: neither names anything.
static bool
confine_names_device(const char *match, dev_t rdev)
{
	struct stat st, lst;
	char        node[PATH_MAX];
	char       *real;
	bool        ok;

	if (lstat(match, &lst) != 0 || stat(match, &st) != 0 ||
	    !S_ISBLK(st.st_mode) || st.st_rdev != rdev ||
	    (S_ISLNK(lst.st_mode) && strncmp(match, "/dev/", 5) != 0) ||
	    !confine_kernel_node(node, sizeof(node), rdev))
		return false;
	if ((real = realpath(match, NULL)) == NULL)
		return false;
	ok = strcmp(real, node) == 0;
	free(real);
	return ok;
}

bool
confine_device_allowed(const confine *c, dev_t rdev)
{
	bool found = false;

	for (size_t i = 0; !found && i < c->nglobs; i++) {
		glob_t g;

		if (glob(c->globs[i], GLOB_NOSORT, NULL, &g) != 0)
			continue; // GLOB_NOMATCH, or nothing readable
		for (size_t k = 0; !found && k < g.gl_pathc; k++)
			found = confine_names_device(g.gl_pathv[k], rdev);
		globfree(&g);
	}
	return found;
}

size_t
confine_device_count(const confine *c)
{
	DIR           *d = opendir("/sys/dev/block");
	struct dirent *e;
	size_t         n = 0;

	if (d == NULL || c->nglobs == 0) {
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		unsigned int maj, min;

		if (sscanf(e->d_name, "%u:%u", &maj, &min) == 2 &&
		    confine_device_allowed(c, makedev(maj, min)))
			n++;
	}
	closedir(d);
	return n;
}

void
confine_target_close(struct confine_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->fd    = -1;
	t->dirfd = -1;
}

// The path the kernel has for an open fd: canonical, no symlinks.
static int
confine_fd_path(char *buf, size_t size, int fd, pa_err *err)
{
	char    link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, size - 1)) < 0)
		return pa_err_errno(err, errno, "readlink %s", link);
	if ((size_t) n >= size - 1)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path too long");
	buf[n] = '\0';
	return PA_OK;
}

// Open again what the O_PATH descriptor @p opath names, for real: the same
// inode, whatever has happened to its path since. @return an fd or -1.
static int
confine_reopen(int opath, int flags)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", opath);
	return open(link, flags | O_CLOEXEC);
}

static bool
confine_same_inode(int fd, const struct stat *want)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == want->st_dev &&
	    st.st_ino == want->st_ino && st.st_rdev == want->st_rdev;
}

// A block device, decided by the device @p opath opened, not by the path
// that reached it.
static int
confine_device(struct confine_target *t, const confine *c, const char *path,
    int opath, const struct stat *st, enum confine_access access, pa_err *err)
{
	int flags =
	    access == CONFINE_WRITE ? O_RDWR | O_EXCL : O_RDONLY | O_NONBLOCK;
	int rc;

	if (!confine_device_allowed(c, st->st_rdev))
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "block device %s (%u:%u) is none of the devices that "
		    "--device-allow names",
		    path, major(st->st_rdev), minor(st->st_rdev));
	if ((rc = confine_fd_path(t->path, sizeof(t->path), opath, err)))
		return rc;
	t->kind   = CONFINE_DEVICE;
	t->exists = true;
	// O_EXCL claims the device as mount and the kernel do: EBUSY means
	// someone else holds it.
	if ((t->fd = confine_reopen(opath, flags)) < 0 && errno == EBUSY)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is busy: mounted or held open by another user",
		    t->path);
	if (t->fd < 0)
		return pa_err_errno(err, errno, "open %s", t->path);
	if (!confine_same_inode(t->fd, st))
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s changed while it was checked", path);
	return PA_OK;
}

// The part of @p path beneath @p root ("" for the root itself), or NULL.
static const char *
confine_rel(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path + 1;
	if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	while (path[n] == '/')
		n++;
	return path + n;
}

// The O_NOFOLLOW walk, for kernels without openat2: a component at a
// time from the root, ".." popping what the walk went down and never
// above the root, every symlink refused. errno as openat2 would set it.
static int
confine_walk(int rootfd, const char *rel, int flags)
{
	int   stack[CONFINE_MAX_DEPTH];
	int   depth = 0, fd = -1, saved;
	bool  dir  = true;
	char *copy = strdup(rel), *save = NULL, *comp;

	if (copy == NULL)
		return -1;
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	     comp = strtok_r(NULL, "/", &save)) {
		int         cur = depth > 0 ? stack[depth - 1] : rootfd;
		struct stat st;

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (depth == 0) {
				errno = EXDEV;
				goto fail;
			}
			close(stack[--depth]);
			dir = true;
			continue;
		}
		if (depth == CONFINE_MAX_DEPTH) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if ((fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC)) <
		    0)
			goto fail;
		stack[depth++] = fd;
		if (fstat(fd, &st) != 0)
			goto fail;
		// openat() below a non-directory fails with ENOTDIR itself.
		if (S_ISLNK(st.st_mode)) {
			errno = ELOOP;
			goto fail;
		}
		dir = S_ISDIR(st.st_mode);
	}
	if ((flags & O_DIRECTORY) && depth > 0 && !dir) {
		errno = ENOTDIR;
		goto fail;
	}
	free(copy);
	fd = depth > 0 ? stack[--depth]
	               : openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (depth > 0)
		close(stack[--depth]);
	return fd;
fail:
	saved = errno;
	while (depth > 0)
		close(stack[--depth]);
	free(copy);
	errno = saved;
	return -1;
}

// Open @p rel beneath @p rootfd, never leaving it. @return an fd, or -1
// with errno (EXDEV or ELOOP for an escape).
static int
confine_open_beneath(int rootfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags   = (uint64_t) (flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = -1;

	if (confine_walk_only)
		return confine_walk(rootfd, rel, flags);
	for (int i = 0; i < CONFINE_RETRIES; i++) {
		fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && errno == ENOSYS)
		return confine_walk(rootfd, rel, flags);
	return (int) fd;
}

static int
confine_open_error(int errnum, const char *path, const char *root, pa_err *err)
{
	switch (errnum) {
	case EXDEV:
	case ELOOP:
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s leads out of root %s (symlink, .. or magic link)", path,
		    root);
	case ENOENT:
		return pa_err_set(err, PA_NOT_FOUND,
		    "the directory of %s does not exist", path);
	case ENOTDIR:
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a component of %s is not a directory", path);
	default:
		return pa_err_errno(err, errnum, "resolve %s", path);
	}
}

// What an existing target beneath a root is: only a regular file with
// no other hard link will do. It is reopened from @p opath for @p access.
static int
confine_existing(struct confine_target *t, int opath, const char *path,
    enum confine_access access, pa_err *err)
{
	struct stat st;
	int         rc;

	if (fstat(opath, &st) != 0)
		return pa_err_errno(err, errno, "stat %s", path);
	if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s is a device node beneath a root; devices need "
		    "--device-allow",
		    path);
	if (!S_ISREG(st.st_mode))
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "%s is not a regular file", path);
	// Another link may sit outside every root: growing the file would
	// change a file that is not the agent's to touch.
	if (st.st_nlink > 1)
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s has %ju hard links; a file also reachable by another "
		    "name is not grown",
		    path, (uintmax_t) st.st_nlink);
	if ((rc = confine_fd_path(t->path, sizeof(t->path), opath, err)))
		return rc;
	t->exists = true;
	t->fd =
	    confine_reopen(opath, access == CONFINE_WRITE ? O_RDWR : O_RDONLY);
	if (t->fd < 0)
		return pa_err_errno(err, errno, "open %s", t->path);
	if (!confine_same_inode(t->fd, &st))
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s changed while it was checked", path);
	return PA_OK;
}

// A new file: its directory, resolved beneath the root and reopened for
// real, plus its name. A name that is a symlink leading nowhere is
// refused.
static int
confine_new_file(struct confine_target *t, int dirpath, const char *base,
    const char *path, pa_err *err)
{
	struct stat st;
	size_t      n;
	int         rc;

	if (fstatat(dirpath, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s is a symlink that leads nowhere beneath its root",
		    path);
	if ((rc = confine_fd_path(t->path, sizeof(t->path), dirpath, err)))
		return rc;
	n = strlen(t->path);
	if (snprintf(t->path + n, sizeof(t->path) - n, "%s%s", n > 1 ? "/" : "",
	        base) >= (int) (sizeof(t->path) - n) ||
	    snprintf(t->name, sizeof(t->name), "%s", base) >=
	        (int) sizeof(t->name))
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path too long");
	t->exists = false;
	if ((t->dirfd = confine_reopen(dirpath, O_RDONLY | O_DIRECTORY)) < 0)
		return pa_err_errno(
		    err, errno, "open the directory of %s", t->path);
	return PA_OK;
}

// Split @p rel into its directory part (in @p dir) and its last name.
static int
confine_split(char *dir, size_t size, const char **base_out, const char *rel,
    const char *path, pa_err *err)
{
	const char *slash = strrchr(rel, '/');
	const char *base  = slash != NULL ? slash + 1 : rel;

	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%s names a directory, not a file", path);
	if (slash == NULL)
		snprintf(dir, size, ".");
	else if (snprintf(dir, size, "%.*s", (int) (slash - rel), rel) >=
	    (int) size)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path too long");
	*base_out = base;
	return PA_OK;
}

// @p rel is beneath root @p r: resolve it there.
static int
confine_file(struct confine_target *t, const struct confine_root *r,
    const char *rel, const char *path, enum confine_access access, pa_err *err)
{
	const char *base  = NULL;
	char       *dir   = malloc(PATH_MAX);
	int         dirfd = -1, fd = -1, rc;

	t->kind = CONFINE_FILE;
	if (dir == NULL)
		return pa_err_errno(err, ENOMEM, "resolve %s", path);
	if ((rc = confine_split(dir, PATH_MAX, &base, rel, path, err)))
		goto done;
	dirfd = confine_open_beneath(r->fd, dir, O_PATH | O_DIRECTORY);
	if (dirfd < 0) {
		rc = confine_open_error(errno, path, r->given, err);
		goto done;
	}
	fd = confine_open_beneath(r->fd, rel, O_PATH);
	if (fd < 0 && errno == ENOENT)
		rc = confine_new_file(t, dirfd, base, path, err);
	else if (fd < 0)
		rc = confine_open_error(errno, path, r->given, err);
	else
		rc = confine_existing(t, fd, path, access, err);
done:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return rc;
}

// The canonical answer must still lie beneath the canonical root.
static bool
confine_beneath_canon(const struct confine_root *r, const char *canon)
{
	const char *rel = confine_rel(r->canon, canon);

	return rel != NULL && rel[0] != '\0';
}

static int
confine_beneath_roots(struct confine_target *t, const confine *c,
    const char *path, enum confine_access access, pa_err *err)
{
	for (size_t i = 0; i < c->nroots; i++) {
		const struct confine_root *r   = &c->roots[i];
		const char                *rel = confine_rel(r->given, path);
		int                        rc;

		if (rel == NULL)
			rel = confine_rel(r->canon, path);
		if (rel == NULL)
			continue;
		if (rel[0] == '\0')
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "%s is the root itself, not a file in it", path);
		if ((rc = confine_file(t, r, rel, path, access, err)) != PA_OK)
			return rc;
		if (!confine_beneath_canon(r, t->path))
			return pa_err_set(err, PA_PERMISSION_DENIED,
			    "%s resolves to %s, outside root %s", path, t->path,
			    r->given);
		return PA_OK;
	}
	return pa_err_set(err, PA_PERMISSION_DENIED,
	    "%s is outside every --root and is no allowed block device", path);
}

static int
confine_check_path(const char *path, pa_err *err)
{
	size_t n;

	if (path == NULL || path[0] == '\0')
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path is empty");
	if ((n = strnlen(path, PATH_MAX)) >= PATH_MAX)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "path is longer than PATH_MAX (%d bytes)", PATH_MAX - 1);
	if (path[0] != '/')
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "path %s is not absolute", path);
	return PA_OK;
}

// Whatever the path reaches, opened for its identity only: O_PATH has no
// side effect on a device, a fifo or a tape. -1 when nothing is there.
static int
confine_peek(struct stat *st, const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, st) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
confine_open(struct confine_target *out, const confine *c, const char *path,
    enum confine_access access, pa_err *err)
{
	struct confine_target t = CONFINE_TARGET_INIT;
	struct stat           st;
	int                   peek = -1, rc;

	if ((rc = confine_check_path(path, err)) != PA_OK)
		return rc;
	// The peek follows links outside any root, but only to learn whether
	// this is a device; a file is resolved beneath its root from scratch.
	if ((peek = confine_peek(&st, path)) >= 0 && S_ISBLK(st.st_mode))
		rc = confine_device(&t, c, path, peek, &st, access, err);
	else
		rc = confine_beneath_roots(&t, c, path, access, err);
	if (peek >= 0)
		close(peek);
	if (rc != PA_OK) {
		confine_target_close(&t);
		return rc;
	}
	*out = t;
	return PA_OK;
}

int
confine_resolve(
    struct confine_target *out, const confine *c, const char *path, pa_err *err)
{
	struct confine_target t;
	int                   rc;

	if ((rc = confine_open(&t, c, path, CONFINE_READ, err)) != PA_OK)
		return rc;
	confine_target_close(&t);
	*out = t;
	return PA_OK;
}

int
confine_recheck(
    struct confine_target *out, const confine *c, const char *path, pa_err *err)
{
	struct confine_target t;
	int                   rc;

	if ((rc = confine_open(&t, c, path, CONFINE_WRITE, err)) != PA_OK)
		return rc;
	if (strcmp(t.path, path) != 0) {
		rc = pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s now resolves to %s; it changed after it was checked",
		    path, t.path);
		confine_target_close(&t);
		return rc;
	}
	*out = t;
	return PA_OK;
}

int
confine_check_roots(const confine *c, pa_err *err)
{
	for (size_t i = 0; i < c->nroots; i++) {
		const struct confine_root *r = &c->roots[i];
		struct stat                now, kept;

		if (stat(r->canon, &now) != 0 || !S_ISDIR(now.st_mode) ||
		    fstat(r->fd, &kept) != 0 || now.st_dev != kept.st_dev ||
		    now.st_ino != kept.st_ino)
			return pa_err_set(err, PA_UNAVAILABLE,
			    "root %s is gone or replaced", r->given);
	}
	return PA_OK;
}
