// SPDX-License-Identifier: Apache-2.0
// rpc_ipc.c: make an ipc:// socket path safe to bind, and set its owner and
// mode once bound.
//
// nng 1.5.2 binds an ipc path and, when the bind fails with EADDRINUSE,
// connects to whatever is there and unlinks it on ECONNREFUSED: a regular
// file or a symlink to one is deleted and replaced (posix_ipclisten.c,
// ipc_remove_stale). That probe also connects and closes at once; a live
// nng 1.5.2 listener whose greeting then fails with EPIPE takes it as its
// own close and stops accepting for good (nng issue #1518, fixed in
// 1.6.0). So nng must only ever bind a path that is absent: this file
// decides what is there first, and greets a live listener properly.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc_ipc.h"

// How long to wait for another starting server's directory lock; it holds
// it only from its check to its bind.
#define IPC_LOCK_WAIT_MS 5000
// How long a live listener has to send its SP greeting.
#define IPC_GREET_MS 1000
#define IPC_SP_HEADER 8

static const char *
ipc_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFLNK:
		return "symbolic link";
	case S_IFDIR:
		return "directory";
	case S_IFIFO:
		return "fifo";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	default:
		return "file of unknown type";
	}
}

// Split @p path into its directory and last component.
static int
ipc_split(rpc_ipc_path *p, const char *path, pa_err *err)
{
	const char *slash;
	size_t      len = strlen(path);

	if (len == 0 || len >= sizeof(p->path))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "ipc path '%s' is empty or longer than %d bytes", path,
		    RPC_IPC_PATH_MAX - 1);
	memcpy(p->path, path, len + 1);
	if ((slash = strrchr(path, '/')) == NULL) {
		snprintf(p->dir, sizeof(p->dir), ".");
		snprintf(p->name, sizeof(p->name), "%s", path);
	} else {
		snprintf(p->dir, sizeof(p->dir), "%.*s",
		    slash == path ? 1 : (int) (slash - path), path);
		snprintf(p->name, sizeof(p->name), "%s", slash + 1);
	}
	if (p->name[0] == '\0')
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "ipc path %s names a directory, not a socket", path);
	return PA_OK;
}

// The directory must be one that nobody but us (or root) can change
// entries in, so that the socket cannot be swapped under us and nobody
// can reach it before its owner and mode are set.
static int
ipc_dir_check(const rpc_ipc_path *p, pa_err *err)
{
	struct stat st;

	if (fstat(p->dirfd, &st) != 0)
		return pa_err_errno(
		    err, errno, "stat ipc directory %s", p->dir);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "ipc directory %s is owned by uid %u, not by us (uid %u) "
		    "or root",
		    p->dir, (unsigned) st.st_uid, (unsigned) geteuid());
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "ipc directory %s is writable by group or others without "
		    "the sticky bit (mode %04o)",
		    p->dir, (unsigned) (st.st_mode & 07777));
	return PA_OK;
}

// Open the socket's directory, making it when missing.
static int
ipc_dir_open(rpc_ipc_path *p, long gid, pa_err *err)
{
	bool made = mkdir(p->dir, 0700) == 0; // no wider than this until set

	if (!made && errno != EEXIST)
		return pa_err_errno(
		    err, errno, "create ipc directory %s", p->dir);
	p->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0 && errno == ENOTDIR)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "ipc directory %s is not a directory", p->dir);
	if (p->dirfd < 0)
		return pa_err_errno(
		    err, errno, "open ipc directory %s", p->dir);
	if (made && gid >= 0 && fchown(p->dirfd, (uid_t) -1, (gid_t) gid) != 0)
		return pa_err_errno(err, errno,
		    "set group %ld on ipc directory %s", gid, p->dir);
	// Group members need to search it to reach the socket.
	if (made && fchmod(p->dirfd, RPC_IPC_DIR_MODE) != 0)
		return pa_err_errno(
		    err, errno, "set mode on ipc directory %s", p->dir);
	return ipc_dir_check(p, err);
}

static int
ipc_dir_lock(const rpc_ipc_path *p, pa_err *err)
{
	for (int waited = 0;; waited += 10) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (flock(p->dirfd, LOCK_EX | LOCK_NB) == 0)
			return PA_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return pa_err_errno(
			    err, errno, "lock ipc directory %s", p->dir);
		if (waited >= IPC_LOCK_WAIT_MS)
			return pa_err_set(err, PA_UNAVAILABLE,
			    "another process holds the lock on ipc directory "
			    "%s",
			    p->dir);
		nanosleep(&ts, NULL);
	}
}

// Read the listener's SP greeting, then answer it as a REQ peer would, so
// that its negotiation completes before we close (see the top).
static void
ipc_greet(int fd)
{
	static const unsigned char req0[IPC_SP_HEADER] = { 0, 'S', 'P', 0, 0,
		0x30, 0, 0 };
	unsigned char              hdr[IPC_SP_HEADER];
	size_t                     got = 0;
	struct pollfd              pfd = { .fd = fd, .events = POLLIN };

	while (got < sizeof(hdr) && poll(&pfd, 1, IPC_GREET_MS) == 1) {
		ssize_t n = read(fd, hdr + got, sizeof(hdr) - got);

		if (n <= 0)
			return;
		got += (size_t) n;
	}
	if (got == sizeof(hdr) && hdr[0] == 0 && hdr[1] == 'S' &&
	    hdr[2] == 'P' && hdr[3] == 0 &&
	    write(fd, req0, sizeof(req0)) != (ssize_t) sizeof(req0))
		return; // it has gone: nothing more to be polite about
}

// Does a process listen on the socket at @p p->path?
static int
ipc_probe(bool *live_out, const rpc_ipc_path *p, pa_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int                fd, rc = PA_OK;

	memcpy(sa.sun_path, p->path, strlen(p->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pa_err_errno(err, errno, "socket for %s", p->path);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
		ipc_greet(fd);
		*live_out = true;
	} else if (errno == EAGAIN) { // its backlog is full: it is there
		*live_out = true;
	} else if (errno == ECONNREFUSED) {
		*live_out = false;
	} else {
		rc = pa_err_errno(err, errno,
		    "cannot tell whether a process listens on %s", p->path);
	}
	close(fd);
	return rc;
}

// Remove the stale socket seen as @p seen, if it is still that one.
static int
ipc_remove_stale(const rpc_ipc_path *p, const struct stat *seen, pa_err *err)
{
	struct stat st;

	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT
		    ? PA_OK
		    : pa_err_errno(err, errno, "stat %s", p->path);
	if (st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)
		return pa_err_set(err, PA_UNAVAILABLE,
		    "%s changed while it was checked", p->path);
	if (unlinkat(p->dirfd, p->name, 0) != 0 && errno != ENOENT)
		return pa_err_errno(
		    err, errno, "remove stale socket %s", p->path);
	return PA_OK;
}

// Decide what is at the path: nothing, a stale socket, or a refusal.
static int
ipc_clear_path(bool *removed_out, const rpc_ipc_path *p, pa_err *err)
{
	struct stat st;
	bool        live = false;
	int         rc;

	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT
		    ? PA_OK
		    : pa_err_errno(err, errno, "stat %s", p->path);
	if (!S_ISSOCK(st.st_mode))
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is a %s, not a socket; it is left alone", p->path,
		    ipc_kind(st.st_mode));
	if ((rc = ipc_probe(&live, p, err)) != PA_OK)
		return rc;
	if (live)
		return pa_err_set(err, PA_UNAVAILABLE,
		    "another process listens on %s", p->path);
	if ((rc = ipc_remove_stale(p, &st, err)) == PA_OK)
		*removed_out = true;
	return rc;
}

int
rpc_ipc_prepare(rpc_ipc_path *p, const char *path, long gid, pa_err *err)
{
	rpc_ipc_path tmp     = RPC_IPC_PATH_INIT;
	bool         removed = false;
	int          rc;

	if ((rc = ipc_split(&tmp, path, err)) != PA_OK ||
	    (rc = ipc_dir_open(&tmp, gid, err)) != PA_OK ||
	    (rc = ipc_dir_lock(&tmp, err)) != PA_OK ||
	    (rc = ipc_clear_path(&removed, &tmp, err)) != PA_OK) {
		rpc_ipc_release(&tmp);
		return rc;
	}
	tmp.removed_stale = removed;
	*p                = tmp;
	return PA_OK;
}

int
rpc_ipc_finish(const rpc_ipc_path *p, int mode, long gid, pa_err *err)
{
	gid_t       g = gid >= 0 ? (gid_t) gid : getegid();
	struct stat st;

	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return pa_err_errno(err, errno, "stat %s", p->path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is no longer the socket we bound", p->path);
	if (fchownat(p->dirfd, p->name, geteuid(), g, AT_SYMLINK_NOFOLLOW) != 0)
		return pa_err_errno(
		    err, errno, "set group %u on %s", (unsigned) g, p->path);
	if (fchmodat(p->dirfd, p->name, (mode_t) mode, 0) != 0)
		return pa_err_errno(err, errno, "set mode %04o on %s",
		    (unsigned) mode, p->path);
	return PA_OK;
}

void
rpc_ipc_release(rpc_ipc_path *p)
{
	if (p->dirfd < 0)
		return;
	flock(p->dirfd, LOCK_UN);
	close(p->dirfd);
	p->dirfd = -1;
}
