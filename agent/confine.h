// SPDX-License-Identifier: Apache-2.0
// confine.h: accept a target only beneath an allowed root or as an allowed
// block device, and name it by a path with no symlink left in it.
#ifndef PREALLOC_AGENT_CONFINE_H
#define PREALLOC_AGENT_CONFINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "prealloc/status.h"

typedef struct confine confine;

/** What a vetted target is. */
enum confine_kind {
	CONFINE_FILE   = 0, ///< a regular file beneath a root (may not exist)
	CONFINE_DEVICE = 1, ///< a block device that --device-allow names
};

/** What the opened target is for. */
enum confine_access {
	CONFINE_READ  = 0, ///< checks and probes: read-only, no claim
	CONFINE_WRITE = 1, ///< a fill: read-write; a device claimed O_EXCL
};

/**
 * A vetted target, and what was opened of it: the descriptors are the
 * ones every later decision and write is made on, never the path again.
 * Start from CONFINE_TARGET_INIT; close with confine_target_close().
 */
struct confine_target {
	enum confine_kind kind;
	bool              exists; ///< files: the file is there already
	int  fd;    ///< the target itself; -1 for a file that does not exist
	int  dirfd; ///< a new file: its directory (O_RDONLY); else -1
	char name[NAME_MAX + 1]; ///< a new file: its name in @c dirfd
	/**
	 * The canonical path: no symlink, no "." or ".." in it. A file's is
	 * beneath the canonical root; a device's is its real node.
	 */
	char path[PATH_MAX];
};

#define CONFINE_TARGET_INIT                                                   \
	{                                                                     \
		.kind = CONFINE_FILE, .exists = false, .fd = -1, .dirfd = -1, \
		.name = "", .path = ""                                        \
	}

/**
 * Make an empty policy: it allows nothing until roots or globs are added.
 * @param[out] out  set only on PA_OK; free it with confine_free().
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int confine_new(confine **out, pa_err *err);

/** Free @p c and close its root directories; NULL is a no-op. */
void confine_free(confine *c);

/**
 * Allow regular files beneath @p dir. The root is canonicalised now (its
 * own symlinks are trusted: the operator named it) and kept open.
 * @param dir  an existing directory; copied.
 * @return PA_OK; PA_NOT_FOUND when it does not exist; PA_INVALID_ARGUMENT
 *         when it is not an absolute path to a directory;
 *         PA_RESOURCE_EXHAUSTED.
 */
int confine_add_root(confine *c, const char *dir, pa_err *err);

/**
 * Allow the block devices that the fnmatch(3)/glob(3) pattern @p glob
 * names in /dev ("/dev/disk/by-id/virtio-*", "/dev/loop[0-7]"). A device
 * is then allowed by its identity (st_rdev), reached by any path: what
 * counts is that a name matching the glob is the kernel's own node for
 * that device (/dev/ + DEVNAME in /sys/dev/block/M:m/uevent), or a
 * symlink in /dev (udev's /dev/disk/by-id/...) to that node. A node made
 * with mknod(2) under a matching name, carrying another device's numbers,
 * a bind mount of a node, and a symlink outside /dev name nothing. The set is
 * worked out again at every decision, so a device added, removed or relinked
 * since start is seen.
 * @param glob  an absolute pattern; copied.
 * @return PA_OK, PA_INVALID_ARGUMENT, PA_RESOURCE_EXHAUSTED.
 */
int confine_add_device_glob(confine *c, const char *glob, pa_err *err);

/**
 * Whether block device @p rdev is one that the device globs name now.
 * @return true or false; false when there are no globs.
 */
bool confine_device_allowed(const confine *c, dev_t rdev);

/**
 * @return how many block devices the system has now that
 *         confine_device_allowed() allows (for the start-up log).
 */
size_t confine_device_count(const confine *c);

/** @return how many roots were added. */
size_t confine_root_count(const confine *c);

/** @return how many device globs were added. */
size_t confine_glob_count(const confine *c);

/**
 * Vet @p path and open it. A path that opens to a block device is allowed
 * when confine_device_allowed() says so for the device it opened. Anything
 * else must resolve beneath a root: the path must start with a root, and
 * the rest is resolved from the root's open directory with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (or, where the kernel has no
 * openat2, a component walk with O_NOFOLLOW that refuses every symlink),
 * so "..", symlinks leading out and /proc magic links never escape. The
 * file's directory must exist; the file need not. A symlink as the last
 * component that leads nowhere is refused, since creating through it
 * could land anywhere. An existing file must be a regular file with one
 * link: a file that another hard link makes reachable from outside the
 * root is not ours to grow.
 *
 * Every check is made on a descriptor opened with O_PATH (which has no
 * side effect on any kind of file), and the target is then reopened
 * through that descriptor for @p access, so what was checked is what is
 * written: a path swapped afterwards changes nothing.
 * @param[out] out  set only on PA_OK; the caller closes it with
 *                  confine_target_close().
 * @param path      absolute, shorter than PATH_MAX; read, not kept.
 * @return PA_OK; PA_INVALID_ARGUMENT for an empty, relative or too long
 *         path, a path that names a root itself, a directory or another
 *         non-file; PA_NOT_FOUND when the file's directory does not
 *         exist; PA_PERMISSION_DENIED when the path leads out of every
 *         root and is no allowed device, or the file has other hard links;
 *         PA_FAILED_PRECONDITION when CONFINE_WRITE finds a device busy
 *         (mounted or claimed: O_EXCL gives EBUSY).
 */
int confine_open(struct confine_target *out, const confine *c, const char *path,
    enum confine_access access, pa_err *err);

/**
 * Vet @p path as confine_open(CONFINE_READ) does, and close what it
 * opened: @p out keeps the kind, whether it exists and the canonical path,
 * and no descriptor (its fd and dirfd are -1).
 * @return as confine_open().
 */
int confine_resolve(struct confine_target *out, const confine *c,
    const char *path, pa_err *err);

/**
 * Open a target vetted before (a job's, right before its fill) for
 * writing, and make sure it still resolves to the same canonical @p path.
 * @param[out] out  set only on PA_OK; close it with confine_target_close().
 * @return as confine_open(); PA_PERMISSION_DENIED when @p path now
 *         resolves elsewhere.
 */
int confine_recheck(struct confine_target *out, const confine *c,
    const char *path, pa_err *err);

/** Close what @p t holds open; safe to call twice. */
void confine_target_close(struct confine_target *t);

/**
 * Whether every root is still there and a directory, for /readyz.
 * @return PA_OK, or PA_UNAVAILABLE naming the first root that is not.
 */
int confine_check_roots(const confine *c, pa_err *err);

/**
 * For tests: take the O_NOFOLLOW walk even where openat2 works.
 * Not thread-safe; call before confine_open() is used.
 */
void confine_force_walk(bool on);

#endif // PREALLOC_AGENT_CONFINE_H
