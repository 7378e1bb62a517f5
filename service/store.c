// SPDX-License-Identifier: Apache-2.0
// store.c: load, watch, reload and persist the CDIConfig; swap snapshots.
//
// Readers take the current snapshot under a mutex held only for a pointer
// copy and a reference, so a request never waits for a parse. Writers
// (reload, apply) are serialized by a second mutex and parse outside the
// first. A snapshot is immutable, so no answer can mix two configs.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "prealloc/util.h"

// A CDIConfig with 10,000 storage classes is under 1 MiB.
// A file over CDI_CONFIG_MAX_BYTES is refused in cdiconfig_check_size()'s
// words, as apply and check refuse it: store_read() looks at its size first,
// and reads one byte more so that a file growing meanwhile reaches the
// parser's own size check rather than pa_file_read()'s.
#define STORE_MAX_FILE (CDI_CONFIG_MAX_BYTES + 1)

// ApplyConfig writes "<config>.tmp" and mkstemp's six letters or digits.
#define STORE_TEMP_SUFFIX ".tmp"
#define STORE_TEMP_RANDOM 6

struct store {
	char            path[PATH_MAX];
	char            dir[PATH_MAX];
	char            base[NAME_MAX + 1]; // the config's name in dir
	pthread_mutex_t snap_mtx;           // guards snap
	pthread_mutex_t write_mtx; // serializes reload and apply; guards below
	cdiconfig      *snap;
	uint64_t        generation;
	uint64_t        content_hash; // of the bytes behind snap; 0: default
	store_status    status;
	int             inotify_fd;
	int             dir_wd; // the config's directory, or -1 while missing
	int             parent_wd; // its nearest existing ancestor, meanwhile
	int             stop_pipe[2];
	pthread_t       watcher;
	bool            watching;
	void (*on_reload)(void *, int, bool, const pa_err *);
	void *on_reload_arg;
};

// Serve @p next; the caller holds write_mtx. Takes @p next's reference.
static void
store_swap(store *s, cdiconfig *next, uint64_t hash, bool from_file)
{
	cdiconfig *old;

	pthread_mutex_lock(&s->snap_mtx);
	old     = s->snap;
	s->snap = next;
	pthread_mutex_unlock(&s->snap_mtx);
	cdiconfig_unref(old);
	s->content_hash     = hash;
	s->generation       = cdiconfig_generation(next);
	s->status.from_file = from_file;
	s->status.ever_loaded |= from_file;
	s->status.loaded_unix_ms = pa_clock_unix_ms();
	s->status.last_error[0]  = '\0';
	s->status.reloads++;
}

static void
store_record_failure(store *s, const pa_err *err)
{
	snprintf(
	    s->status.last_error, sizeof(s->status.last_error), "%s", err->msg);
	s->status.reload_failures++;
}

// Parse @p buf as the next generation. The caller holds write_mtx.
static int
store_parse(cdiconfig **out, store *s, const char *buf, size_t len, bool strict,
    pa_err *err)
{
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;

	opts.generation = s->generation + 1;
	opts.strict     = strict;
	return cdiconfig_parse(out, buf, len, s->path, &opts, err);
}

// Read the config file into @p buf_out, refusing one over the size limit.
static int
store_read(char **buf_out, size_t *len_out, const store *s, pa_err *err)
{
	struct stat st;

	if (stat(s->path, &st) == 0 && st.st_size > CDI_CONFIG_MAX_BYTES)
		return cdiconfig_check_size((size_t) st.st_size, s->path, err);
	return pa_file_read(buf_out, len_out, s->path, STORE_MAX_FILE, err);
}

// Load the file, holding write_mtx. ENOENT serves the default.
static int
store_load_locked(store *s, bool *changed_out, bool *missing_out, pa_err *err)
{
	cdiconfig     *next = NULL;
	cdiconfig_opts opts = CDICONFIG_OPTS_INIT;
	char          *buf  = NULL;
	size_t         len  = 0;
	uint64_t       hash;
	int            rc;

	*changed_out = false;
	rc           = store_read(&buf, &len, s, err);
	if (rc == PA_NOT_FOUND && s->snap != NULL && !s->status.from_file)
		return PA_OK; // still missing: the default stays, quietly
	if (rc == PA_NOT_FOUND && s->snap == NULL) {
		*missing_out    = true;
		opts.generation = 1;
		if ((rc = cdiconfig_default(&next, &opts, err)) == PA_OK) {
			store_swap(s, next, 0, false);
			*changed_out = true;
		}
		return rc;
	}
	if (rc != PA_OK)
		goto done;
	hash = pa_hash_bytes(buf, len);
	if (hash == s->content_hash) {
		// The bytes already served: the file is good again after a
		// failed load (a bad edit undone), so that failure is over.
		s->status.last_error[0] = '\0';
		goto done;
	}
	if ((rc = store_parse(&next, s, buf, len, false, err)) != PA_OK)
		goto done;
	store_swap(s, next, hash, true);
	*changed_out = true;
done:
	if (rc != PA_OK && err != NULL)
		store_record_failure(s, err);
	free(buf);
	return rc;
}

int
store_open(store **out, bool *missing_out, const char *path, pa_err *err)
{
	store *s = NULL;
	bool   changed, missing = false;
	char   tmp[PATH_MAX];
	pa_err local;
	int    rc;

	if (path == NULL || strlen(path) >= sizeof(s->path))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "config path missing or too long");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(s->dir, sizeof(s->dir), "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(s->base, sizeof(s->base), "%s", basename(tmp));
	s->inotify_fd   = -1;
	s->dir_wd       = -1;
	s->parent_wd    = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->snap_mtx, NULL);
	pthread_mutex_init(&s->write_mtx, NULL);
	pthread_mutex_lock(&s->write_mtx);
	rc = store_load_locked(s, &changed, &missing, err ? err : &local);
	pthread_mutex_unlock(&s->write_mtx);
	if (rc != PA_OK) {
		store_free(s);
		return rc;
	}
	if (missing_out != NULL)
		*missing_out = missing;
	*out = s;
	return PA_OK;
}

cdiconfig *
store_snapshot(store *s)
{
	cdiconfig *c;

	pthread_mutex_lock(&s->snap_mtx);
	c = cdiconfig_ref(s->snap);
	pthread_mutex_unlock(&s->snap_mtx);
	return c;
}

int
store_reload(store *s, bool *changed_out, pa_err *err)
{
	bool   changed = false, missing = false;
	pa_err local;
	int    rc;

	pthread_mutex_lock(&s->write_mtx);
	rc = store_load_locked(s, &changed, &missing, err ? err : &local);
	pthread_mutex_unlock(&s->write_mtx);
	if (changed_out != NULL)
		*changed_out = changed;
	return rc;
}

// Write @p buf to a temp file beside the config, fsync it, rename it over
// the config and fsync the directory: a crash leaves the old or the new,
// and perhaps the temp file, which store_remove_stale_temps() takes away.
// The temp file is flock()ed from just after its creation until it is
// renamed or removed, so that no other store takes it for a stale one.
// Make the config's directory and its missing parents (0755), as a first
// apply on a node where it was never made needs. @return 0 or -1, errno.
static int
store_make_dir(const store *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", s->dir);
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		if (end)
			return 0;
		*p = '/';
	}
}

// ApplyConfig writes a new file over the config's name. Where that name
// is a link, the write would replace the link: in kubelet's ConfigMap
// layout (NAME -> ..data/NAME, ..data -> ..<version>), the next update of
// the ConfigMap would then never reach the daemon. Refuse instead, and
// name what to change.
static int
store_check_writable_layout(const store *s, pa_err *err)
{
	char        data[PATH_MAX + 8];
	struct stat st;

	snprintf(data, sizeof(data), "%s/..data", s->dir);
	if (lstat(data, &st) == 0 && S_ISLNK(st.st_mode))
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "config %s is a Kubernetes ConfigMap mount (%s): change "
		    "the ConfigMap instead, which every replica reads",
		    s->path, data);
	if (lstat(s->path, &st) == 0 && S_ISLNK(st.st_mode))
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "config %s is a symbolic link: writing it would replace "
		    "the link; change what it points to instead",
		    s->path);
	return PA_OK;
}

static int
store_persist(store *s, const char *buf, size_t len, pa_err *err)
{
	char tmp[PATH_MAX + 16];
	int  fd = -1, dfd = -1, rc = PA_OK;

	if ((rc = store_check_writable_layout(s, err)) != PA_OK)
		return rc;
	if (store_make_dir(s) != 0)
		return pa_err_errno(err, errno, "make %s", s->dir);
	snprintf(tmp, sizeof(tmp), "%s" STORE_TEMP_SUFFIX "XXXXXX", s->path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		if (errno == EROFS || errno == EACCES || errno == EPERM)
			return pa_err_set(err, PA_FAILED_PRECONDITION,
			    "config %s is read-only (a ConfigMap mount?): "
			    "change the ConfigMap instead",
			    s->path);
		return pa_err_errno(err, errno, "create a file in %s", s->dir);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		rc = pa_err_errno(err, errno, "lock %s", tmp);
	if (rc == PA_OK && pa_write_all(fd, buf, len, -1, NULL) != 0)
		rc = pa_err_errno(err, errno, "write %s", tmp);
	if (rc == PA_OK && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		rc = pa_err_errno(err, errno, "sync %s", tmp);
	if (rc == PA_OK && rename(tmp, s->path) != 0)
		rc = pa_err_errno(err, errno, "rename over %s", s->path);
	if (rc != PA_OK)
		unlink(tmp);
	if (close(fd) != 0 && rc == PA_OK)
		rc = pa_err_errno(err, errno, "close %s", s->path);
	if (rc != PA_OK)
		return rc;
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) != 0)
			rc = pa_err_errno(err, errno, "sync %s", s->dir);
		close(dfd);
	}
	return rc;
}

// Is @p name one of ApplyConfig's temp names for this store's config?
static bool
store_is_temp_name(const store *s, const char *name)
{
	size_t      base = strlen(s->base), suffix = strlen(STORE_TEMP_SUFFIX);
	const char *rnd = name + base + suffix;

	if (strlen(name) != base + suffix + STORE_TEMP_RANDOM ||
	    strncmp(name, s->base, base) != 0 ||
	    strncmp(name + base, STORE_TEMP_SUFFIX, suffix) != 0)
		return false;
	for (size_t i = 0; i < STORE_TEMP_RANDOM; i++)
		if (!((rnd[i] >= 'a' && rnd[i] <= 'z') ||
		        (rnd[i] >= 'A' && rnd[i] <= 'Z') ||
		        (rnd[i] >= '0' && rnd[i] <= '9')))
			return false;
	return true;
}

// Remove the temp file @p name in @p dfd if it is one ApplyConfig left:
// a regular file of ours with one link that no live writer holds locked.
// The decision is made on what was opened, and the name is unlinked only
// while it still names that file.
static int
store_remove_temp(int dfd, const char *path, const char *name, pa_err *err)
{
	struct stat seen, again;
	int         fd, rc = PA_OK;

	if (fstatat(dfd, name, &seen, AT_SYMLINK_NOFOLLOW) != 0)
		return pa_err_errno(err, errno, "stat %s", path);
	if (!S_ISREG(seen.st_mode))
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is not a regular file", path);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return pa_err_errno(err, errno, "open %s", path);
	if (fstat(fd, &seen) != 0)
		rc = pa_err_errno(err, errno, "stat %s", path);
	else if (!S_ISREG(seen.st_mode) || seen.st_nlink != 1 ||
	    seen.st_uid != geteuid())
		rc = pa_err_set(err, PA_FAILED_PRECONDITION,
		    "%s is not a file this daemon wrote (%ju links, owner %ju)",
		    path, (uintmax_t) seen.st_nlink, (uintmax_t) seen.st_uid);
	else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		rc = errno == EWOULDBLOCK
		    ? pa_err_set(err, PA_ABORTED,
		          "%s is being written by a running apply", path)
		    : pa_err_errno(err, errno, "lock %s", path);
	else if (fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) != 0 ||
	    again.st_dev != seen.st_dev || again.st_ino != seen.st_ino)
		rc = pa_err_set(
		    err, PA_ABORTED, "%s changed while it was checked", path);
	else if (unlinkat(dfd, name, 0) != 0)
		rc = pa_err_errno(err, errno, "remove %s", path);
	close(fd);
	return rc;
}

unsigned
store_remove_stale_temps(store *s, store_temp_fn on_temp, void *arg)
{
	DIR           *dir;
	struct dirent *e;
	unsigned       removed = 0;

	if ((dir = opendir(s->dir)) == NULL)
		return 0; // nothing can be listed, so nothing is removed
	while ((e = readdir(dir)) != NULL) {
		char   path[PATH_MAX + NAME_MAX + 2];
		pa_err err = PA_ERR_INIT;
		int    rc;

		if (!store_is_temp_name(s, e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
		rc = store_remove_temp(dirfd(dir), path, e->d_name, &err);
		removed += rc == PA_OK;
		if (on_temp != NULL)
			on_temp(arg, path, rc, &err);
	}
	closedir(dir);
	return removed;
}

int
store_apply(cdiconfig **out, store *s, const char *yaml, size_t len,
    uint64_t expected_generation, bool strict, pa_err *err)
{
	cdiconfig *next = NULL;
	int        rc;

	pthread_mutex_lock(&s->write_mtx);
	if (expected_generation != 0 && expected_generation != s->generation) {
		rc = pa_err_set(err, PA_ABORTED,
		    "config generation is %llu, not %llu: get it again and "
		    "reapply",
		    (unsigned long long) s->generation,
		    (unsigned long long) expected_generation);
		goto done;
	}
	if ((rc = store_parse(&next, s, yaml, len, strict, err)) != PA_OK)
		goto done;
	if ((rc = store_persist(s, yaml, len, err)) != PA_OK)
		goto done;
	store_swap(s, cdiconfig_ref(next), pa_hash_bytes(yaml, len), true);
	*out = next;
	next = NULL;
done:
	pthread_mutex_unlock(&s->write_mtx);
	cdiconfig_unref(next);
	return rc;
}

void
store_get_status(store_status *out, store *s)
{
	pthread_mutex_lock(&s->write_mtx);
	*out = s->status;
	pthread_mutex_unlock(&s->write_mtx);
}

const char *
store_path(const store *s)
{
	return s->path;
}

// What the directory watch reports: the config's own entries, and the
// directory itself going away.
#define STORE_DIR_MASK                                              \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
	    IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
// What the ancestor's watch reports: a directory on the way appearing.
#define STORE_PARENT_MASK (IN_CREATE | IN_MOVED_TO)

// Cut @p path at its last '/', leaving at least "/". @return false at "/".
static bool
store_path_up(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == NULL || (slash == path && path[1] == '\0'))
		return false;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	return true;
}

// Watch the config's directory, or, while it does not exist (a node
// where /etc/prealloc is made after the daemon starts), its nearest
// existing ancestor, so that its creation is seen. The caller holds
// write_mtx or is the only thread. @return PA_OK, or the errno's code.
static int
store_arm(store *s, pa_err *err)
{
	char up[PATH_MAX];
	int  wd;

	if (s->dir_wd >= 0)
		return PA_OK;
	if ((wd = inotify_add_watch(s->inotify_fd, s->dir, STORE_DIR_MASK)) >=
	    0) {
		s->dir_wd = wd;
		if (s->parent_wd >= 0)
			inotify_rm_watch(s->inotify_fd, s->parent_wd);
		s->parent_wd          = -1;
		s->status.dir_missing = false;
		return PA_OK;
	}
	if (errno != ENOENT && errno != ENOTDIR)
		return pa_err_errno(err, errno, "watch %s", s->dir);
	snprintf(up, sizeof(up), "%s", s->dir);
	while (store_path_up(up)) {
		wd = inotify_add_watch(s->inotify_fd, up, STORE_PARENT_MASK);
		if (wd >= 0) {
			// inotify gives an ancestor watched twice the same wd.
			if (s->parent_wd >= 0 && s->parent_wd != wd)
				inotify_rm_watch(s->inotify_fd, s->parent_wd);
			s->parent_wd          = wd;
			s->status.dir_missing = true;
			return PA_OK;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return pa_err_errno(err, errno, "watch %s", up);
	}
	return pa_err_errno(err, ENOENT, "watch %s", s->dir);
}

// Read every pending event. @return true when one concerns the config:
// the file itself, or a kubelet ConfigMap entry ("..data", "..<timestamp>").
// Other files in the directory (a socket, an editor's swap file) are not.
// Sets *rearm when the directory went away or an ancestor changed.
static bool
store_drain_events(store *s, bool *rearm)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	bool    ours = false;
	ssize_t n;

	while ((n = read(s->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *) p;

			if (ev->wd == s->dir_wd &&
			    (ev->mask &
			        (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) !=
			        0) {
				inotify_rm_watch(s->inotify_fd, s->dir_wd);
				s->dir_wd = -1; // gone: wait for it again
				*rearm    = true;
			} else if (ev->wd == s->dir_wd && ev->len > 0 &&
			    (strcmp(ev->name, s->base) == 0 ||
			        strncmp(ev->name, "..", 2) == 0)) {
				ours = true;
			} else if (ev->wd == s->parent_wd) {
				*rearm = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	return ours;
}

// Events came: re-arm if needed, and @return whether to reload. A
// directory that has just appeared may hold the file already.
static bool
store_take_events(store *s)
{
	bool   rearm = false, ours = store_drain_events(s, &rearm);
	pa_err err = PA_ERR_INIT;
	bool   had = s->dir_wd >= 0;

	if (!rearm)
		return ours;
	pthread_mutex_lock(&s->write_mtx);
	if (store_arm(s, &err) != PA_OK)
		store_record_failure(s, &err);
	pthread_mutex_unlock(&s->write_mtx);
	return ours || (!had && s->dir_wd >= 0) || s->dir_wd < 0;
}

static void *
store_watch_loop(void *arg)
{
	store        *s      = arg;
	struct pollfd fds[2] = {
		{ .fd = s->inotify_fd, .events = POLLIN },
		{ .fd = s->stop_pipe[0], .events = POLLIN },
	};

	for (;;) {
		bool   changed = false;
		pa_err err     = PA_ERR_INIT;
		int    rc;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents != 0)
			break;
		if ((fds[0].revents & POLLIN) == 0)
			continue;
		if (!store_take_events(s))
			continue;
		// An editor or kubelet writes in several steps: let them land.
		usleep(50 * 1000);
		store_take_events(s);
		rc = store_reload(s, &changed, &err);
		if (s->on_reload != NULL)
			s->on_reload(s->on_reload_arg, rc, changed, &err);
	}
	return NULL;
}

int
store_watch(store *s,
    void (*on_reload)(void *arg, int rc, bool changed, const pa_err *err),
    void *arg, pa_err *err)
{
	int rc;

	s->on_reload     = on_reload;
	s->on_reload_arg = arg;
	if ((s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return pa_err_errno(err, errno, "inotify");
	pthread_mutex_lock(&s->write_mtx);
	rc = store_arm(s, err);
	pthread_mutex_unlock(&s->write_mtx);
	if (rc != PA_OK)
		return rc;
	if (pipe2(s->stop_pipe, O_CLOEXEC) != 0)
		return pa_err_errno(err, errno, "pipe");
	if (pthread_create(&s->watcher, NULL, store_watch_loop, s) != 0)
		return pa_err_set(err, PA_INTERNAL, "cannot start the watcher");
	s->watching = true;
	return PA_OK;
}

void
store_free(store *s)
{
	if (s == NULL)
		return;
	if (s->watching) {
		if (write(s->stop_pipe[1], "x", 1) != 1)
			pthread_cancel(s->watcher);
		pthread_join(s->watcher, NULL);
	}
	if (s->inotify_fd >= 0)
		close(s->inotify_fd);
	if (s->stop_pipe[0] >= 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	cdiconfig_unref(s->snap);
	pthread_mutex_destroy(&s->snap_mtx);
	pthread_mutex_destroy(&s->write_mtx);
	free(s);
}
