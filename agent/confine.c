// SPDX-License-Identifier: Apache-2.0
// confine.c: accept a target only beneath an allowed root or as an allowed
// block device, and name it by a path with no symlink left in it.
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static bool
confine_glob_match(const confine *c, const char *path)
{
	for (size_t i = 0; i < c->nglobs; i++)
		if (fnmatch(c->globs[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

// A block device: allowed when the given path or its real node matches a
// glob. The engine is handed the real node, so a by-id link that udev
// moves later cannot redirect the job.
static int
confine_device(struct confine_target *t, const confine *c, const char *path,
    const struct stat *st, pa_err *err)
{
	struct stat real_st;
	char       *real = realpath(path, NULL);
	int         rc   = PA_OK;

	if (real == NULL) {
		rc = pa_err_errno(err, errno, "resolve %s", path);
		goto done;
	}
	if (stat(real, &real_st) != 0 || !S_ISBLK(real_st.st_mode) ||
	    real_st.st_rdev != st->st_rdev) {
		rc = pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s changed while it was checked", path);
		goto done;
	}
	if (!confine_glob_match(c, path) && !confine_glob_match(c, real)) {
		rc = pa_err_set(err, PA_PERMISSION_DENIED,
		    "block device %s (%s) matches no --device-allow", path,
		    real);
		goto done;
	}
	t->kind   = CONFINE_DEVICE;
	t->exists = true;
	if (snprintf(t->path, sizeof(t->path), "%s", real) >=
	    (int) sizeof(t->path))
		rc = pa_err_set(err, PA_INVALID_ARGUMENT, "path too long");
done:
	free(real);
	return rc;
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

// What an existing target beneath a root is: only a regular file will do.
static int
confine_existing(
    struct confine_target *t, int fd, const char *path, pa_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return pa_err_errno(err, errno, "stat %s", path);
	if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s is a device node beneath a root; devices need "
		    "--device-allow",
		    path);
	if (!S_ISREG(st.st_mode))
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "%s is not a regular file", path);
	t->exists = true;
	return confine_fd_path(t->path, sizeof(t->path), fd, err);
}

// A new file: its directory, resolved beneath the root, plus its name.
// A name that is a symlink leading nowhere is refused.
static int
confine_new_file(struct confine_target *t, int dirfd, const char *base,
    const char *path, pa_err *err)
{
	struct stat st;
	size_t      n;
	int         rc;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return pa_err_set(err, PA_PERMISSION_DENIED,
		    "%s is a symlink that leads nowhere beneath its root",
		    path);
	if ((rc = confine_fd_path(t->path, sizeof(t->path), dirfd, err)))
		return rc;
	n = strlen(t->path);
	if (snprintf(t->path + n, sizeof(t->path) - n, "%s%s", n > 1 ? "/" : "",
	        base) >= (int) (sizeof(t->path) - n))
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path too long");
	t->exists = false;
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
    const char *rel, const char *path, pa_err *err)
{
	const char *base  = NULL;
	char       *dir   = malloc(PATH_MAX);
	int         dirfd = -1, fd = -1, rc;

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
		rc = confine_existing(t, fd, path, err);
	t->kind = CONFINE_FILE;
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
confine_beneath_roots(
    struct confine_target *t, const confine *c, const char *path, pa_err *err)
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
		if ((rc = confine_file(t, r, rel, path, err)) != PA_OK)
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

int
confine_resolve(
    struct confine_target *out, const confine *c, const char *path, pa_err *err)
{
	struct confine_target t;
	struct stat           st;
	int                   rc;

	if (path == NULL || path[0] == '\0')
		return pa_err_set(err, PA_INVALID_ARGUMENT, "path is empty");
	if (path[0] != '/')
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "path %s is not absolute", path);
	memset(&t, 0, sizeof(t));
	// stat() follows links outside any root, but only to learn whether
	// this is a device; nothing is opened for writing by that path.
	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
		rc = confine_device(&t, c, path, &st, err);
	else
		rc = confine_beneath_roots(&t, c, path, err);
	if (rc == PA_OK)
		*out = t;
	return rc;
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
