// SPDX-License-Identifier: Apache-2.0
// rpc_listeners.h: a server's listeners, and a guard that keeps them
// accepting.
//
// nng 1.5.2 (Debian 12's) stops a listener for good when a peer closes
// during the SP handshake and the transport reports it as NNG_ECLOSED
// (listener.c takes that for its own close; nng issue #1518, fixed in
// 1.6.0). Over ipc:// a single client that connects and closes at once
// is enough, and the daemon goes on running but never answers a new
// connection again. The guard watches each listener's accept errors in
// nng's statistics; after one it checks that the listener still hands
// over connections (it dials it when nobody else did) and, when it does
// not, closes it and listens again on the same address.
#ifndef PREALLOC_RPC_LISTENERS_H
#define PREALLOC_RPC_LISTENERS_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "rpc_server.h"

#define RPC_LISTENERS_MAX 8

typedef struct rpc_listeners rpc_listeners;

/**
 * Make an empty table of listeners for @p sock.
 * @param opts  the server's options (ipc mode and group, TLS files); held,
 *              not copied: they must outlive the table.
 * @param[out] out  set only on PA_OK; free it with rpc_listeners_free().
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED.
 */
int rpc_listeners_new(rpc_listeners **out, nng_socket sock,
    const rpc_server_opts *opts, pa_err *err);

/**
 * Listen on @p url, as rpc_server_listen() documents.
 * @return PA_OK, or as rpc_server_listen().
 */
int rpc_listeners_add(rpc_listeners *ls, const char *url, pa_err *err);

/**
 * The real URL of listener @p index (tcp port 0 resolved) into @p buf.
 * @return PA_OK, or PA_NOT_FOUND.
 */
int rpc_listeners_url(
    char *buf, size_t size, rpc_listeners *ls, unsigned index, pa_err *err);

/** @return the transport of the listener that accepted @p p. */
rpc_transport rpc_listeners_transport(rpc_listeners *ls, nng_pipe p);

/** Count @p p, a connection nng has just handed over (NNG_PIPE_EV_ADD_PRE). */
void rpc_listeners_saw_pipe(rpc_listeners *ls, nng_pipe p);

/**
 * Start the guard: a thread that looks at every listener's accept errors
 * five times a second and restarts a listener that stopped accepting.
 * A restart closes the listener's open connections too; their clients'
 * REQ sockets reconnect and send their calls again. Each restart is
 * logged (rpc.listener_restarted) and counted. Without nng statistics the
 * guard logs rpc.listener_guard_off and does nothing.
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED when no thread can start.
 */
int rpc_listeners_guard(rpc_listeners *ls, pa_err *err);

/** Stop the guard, waiting for a check in progress; idempotent. */
void rpc_listeners_stop(rpc_listeners *ls);

/** @return how many times the guard has restarted a listener. */
uint64_t rpc_listeners_restarts(rpc_listeners *ls);

/**
 * @return how many times the guard has loaded renewed TLS files and
 * started the tls+tcp:// listeners again with them. It looks at the
 * files' identity (device, inode, size, mtime, through symlinks) once a
 * second; renewed files are checked as at start, and files that do not
 * check out are logged (rpc.tls_reload_failed) and not loaded.
 */
uint64_t rpc_listeners_tls_reloads(rpc_listeners *ls);

/**
 * Stop the guard and free the table and its TLS configuration. Close the
 * socket first (that closes the listeners); NULL is a no-op.
 */
void rpc_listeners_free(rpc_listeners *ls);

#endif // PREALLOC_RPC_LISTENERS_H
