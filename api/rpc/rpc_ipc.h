// SPDX-License-Identifier: Apache-2.0
// rpc_ipc.h: make an ipc:// socket path safe to bind, and set its owner and
// mode once bound.
#ifndef PREALLOC_RPC_IPC_H
#define PREALLOC_RPC_IPC_H

#include <stdbool.h>
#include <sys/types.h>

#include "prealloc/status.h"

/** The socket mode when the options give none: owner and group. */
#define RPC_IPC_DEFAULT_MODE 0660
/** The mode of a socket directory rpc_ipc_prepare() creates. */
#define RPC_IPC_DIR_MODE 0750
/** Room for a socket path: sockaddr_un's sun_path, with its NUL. */
#define RPC_IPC_PATH_MAX 108

/**
 * A socket path being bound: the directory stays open and locked from
 * rpc_ipc_prepare() to rpc_ipc_release(). Start it from RPC_IPC_PATH_INIT.
 */
typedef struct rpc_ipc_path {
	int  dirfd; // the socket's directory, flock()ed; -1 when not held
	char path[RPC_IPC_PATH_MAX];
	char dir[RPC_IPC_PATH_MAX];
	char name[RPC_IPC_PATH_MAX]; // the last component, within dir
	bool removed_stale;          // a dead socket was there and is gone
} rpc_ipc_path;

#define RPC_IPC_PATH_INIT                                       \
	{                                                       \
		.dirfd = -1, .path = "", .dir = "", .name = "", \
		.removed_stale = false                          \
	}

/**
 * Make @p path ready for a listener to bind, touching nothing that is not
 * ours. The directory is created (RPC_IPC_DIR_MODE, group @p gid when it
 * is not -1) when missing; an existing one must be owned by us or root and
 * not writable by group or others unless sticky. It is then locked, so
 * that two of our servers starting at once see each other. At @p path
 * itself: nothing is fine; a socket nobody answers on is stale and
 * removed; a socket that answers fails (after a complete greeting, so
 * that nng 1.5.2's listener on the other side does not stop accepting);
 * anything else fails and is left alone.
 * @param[out] p  filled on PA_OK, holding the lock; release it with
 *                rpc_ipc_release() after the bind (also on failure).
 * @param path    the socket path, as in ipc:///run/x.sock; borrowed.
 * @param gid     the group for a directory made here; -1 keeps ours.
 * @return PA_OK; PA_INVALID_ARGUMENT for an empty or too long path;
 *         PA_FAILED_PRECONDITION when the directory is unsafe or the path
 *         holds something other than a socket; PA_UNAVAILABLE when
 *         another process listens there or holds the directory's lock;
 *         PA_NOT_FOUND, PA_PERMISSION_DENIED or PA_INTERNAL when a system
 *         call fails.
 */
int rpc_ipc_prepare(rpc_ipc_path *p, const char *path, long gid, pa_err *err);

/**
 * After the bind: give the socket our uid and group @p gid (-1: our
 * effective group), then mode @p mode, whatever the umask was.
 * @return PA_OK; PA_FAILED_PRECONDITION when the path is no longer our
 *         socket; PA_PERMISSION_DENIED when the group cannot be set.
 */
int rpc_ipc_finish(const rpc_ipc_path *p, int mode, long gid, pa_err *err);

/** Unlock and close what rpc_ipc_prepare() holds; safe to call twice. */
void rpc_ipc_release(rpc_ipc_path *p);

#endif // PREALLOC_RPC_IPC_H
