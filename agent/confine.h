// SPDX-License-Identifier: Apache-2.0
// confine.h: accept a target only beneath an allowed root or as an allowed
// block device, and name it by a path with no symlink left in it.
#ifndef PREALLOC_AGENT_CONFINE_H
#define PREALLOC_AGENT_CONFINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prealloc/status.h"

typedef struct confine confine;

/** What a vetted target is. */
enum confine_kind {
	CONFINE_FILE   = 0, ///< a regular file beneath a root (may not exist)
	CONFINE_DEVICE = 1, ///< a block device matching a --device-allow glob
};

/** A vetted target. Plain data: nothing to free. */
struct confine_target {
	enum confine_kind kind;
	bool              exists; ///< files: the file is there already
	/**
	 * The canonical path: no symlink, no "." or ".." in it. A file's is
	 * beneath the canonical root; a device's is its real node.
	 */
	char path[PATH_MAX];
};

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
 * Allow block devices whose path, as given or as resolved to the real
 * node, matches the fnmatch(3) @p glob ("/dev/disk/by-id/virtio-*").
 * Symlinks in the given path are thus trusted as far as the glob is: name
 * directories only root can write (/dev) in a glob.
 * @param glob  an absolute pattern; copied.
 * @return PA_OK, PA_INVALID_ARGUMENT, PA_RESOURCE_EXHAUSTED.
 */
int confine_add_device_glob(confine *c, const char *glob, pa_err *err);

/** @return how many roots were added. */
size_t confine_root_count(const confine *c);

/** @return how many device globs were added. */
size_t confine_glob_count(const confine *c);

/**
 * Vet @p path. A block device is allowed when it matches a glob. Anything
 * else must resolve beneath a root: the path must start with a root, and
 * the rest is resolved from the root's open directory with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (or, where the kernel has no
 * openat2, a component walk with O_NOFOLLOW that refuses every symlink),
 * so "..", symlinks leading out and /proc magic links never escape. The
 * file's directory must exist; the file need not. A symlink as the last
 * component that leads nowhere is refused, since creating through it
 * could land anywhere.
 *
 * The answer is a check at one moment (TOCTOU): someone who can write
 * beneath the root could swap a directory for a symlink afterwards. The
 * canonical path has no symlink in it, the fill engine opens it by that
 * path at once, and the jobs layer vets it again right before the fill,
 * which keeps the window small; roots should not be writable by the
 * untrusted side while the agent works in them.
 * @param[out] out  set only on PA_OK.
 * @param path      absolute; read, not kept.
 * @return PA_OK; PA_INVALID_ARGUMENT for an empty or relative path, a
 *         path that names a root itself, a directory or another non-file;
 *         PA_NOT_FOUND when the file's directory does not exist;
 *         PA_PERMISSION_DENIED when the path leads out of every root and
 *         is no allowed device.
 */
int confine_resolve(struct confine_target *out, const confine *c,
    const char *path, pa_err *err);

/**
 * Whether every root is still there and a directory, for /readyz.
 * @return PA_OK, or PA_UNAVAILABLE naming the first root that is not.
 */
int confine_check_roots(const confine *c, pa_err *err);

/**
 * For tests: take the O_NOFOLLOW walk even where openat2 works.
 * Not thread-safe; call before confine_resolve() is used.
 */
void confine_force_walk(bool on);

#endif // PREALLOC_AGENT_CONFINE_H
