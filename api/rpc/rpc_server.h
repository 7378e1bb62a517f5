// SPDX-License-Identifier: Apache-2.0
// rpc_server.h: serve gRPC-style methods over nng REP with contexts and aio.
#ifndef PREALLOC_RPC_SERVER_H
#define PREALLOC_RPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "prealloc/status.h"
#include "rpc_tls.h"

typedef struct rpc_server rpc_server;
typedef struct rpc_call   rpc_call;

/**
 * A method's handler. It runs on one of nng's callback threads and must not
 * block: it answers with rpc_call_reply() or rpc_call_fail(), at once or
 * later from any thread. Until it answers, @p call and @p req stay valid;
 * after it answers, neither may be touched. Every call must be answered
 * exactly once.
 * @param req  the decoded request, of the method's input type; owned by
 *             the server.
 */
typedef void (*rpc_handler_fn)(
    rpc_call *call, const ProtobufCMessage *req, void *arg);

/**
 * Called once per answered call (for metrics): the method's full name, or
 * "unknown" for one that did not resolve, its code, and the time from
 * receipt to answer. It runs on the answering thread and must be quick.
 */
typedef void (*rpc_observe_fn)(
    void *arg, const char *method, int code, uint64_t elapsed_ns);

typedef struct rpc_server_opts {
	size_t   max_msg;          // larger requests are RESOURCE_EXHAUSTED
	unsigned workers;          // requests served at once (nng contexts)
	unsigned blocking_threads; // the pool for blocking handlers (0: 1)
	// ipc:// socket file mode, 0 to 0777, set exactly whatever the umask
	// (0 means the default, 0660).
	int ipc_mode;
	// ipc:// socket group, and the group of a socket directory made for
	// it; -1: the daemon's effective group.
	long ipc_gid;
	// Connections open at once, over every listener; 0: no cap. At the
	// cap the connection idle the longest is closed for a newcomer, or
	// the newcomer when none is idle (see rpc_server_get_stats()).
	unsigned       max_conns;
	rpc_tls_files  tls; // for tls+tcp:// listeners
	rpc_observe_fn observe;
	void          *observe_arg;
} rpc_server_opts;

#define RPC_DEFAULT_MAX_MSG (1024 * 1024)
#define RPC_SERVER_OPTS_INIT                                            \
	{                                                               \
		.max_msg = RPC_DEFAULT_MAX_MSG, .workers = 64,          \
		.blocking_threads = 4, .ipc_mode = 0660, .ipc_gid = -1, \
		.max_conns = 0,                                         \
		.tls       = { .cert = NULL, .key = NULL, .ca = NULL }, \
		.observe = NULL, .observe_arg = NULL                    \
	}

/**
 * Make a server. It listens nowhere and serves nothing until
 * rpc_server_listen() and rpc_server_start().
 * @param[out] out  set only on PA_OK; free it with rpc_server_free().
 * @param opts      copied; NULL takes the defaults. Strings in it are
 *                  borrowed until the last rpc_server_listen().
 * @return PA_OK, PA_INVALID_ARGUMENT for bad options (no worker, no
 *         message cap, an ipc_mode outside 0 to 0777, an ipc_gid below
 *         -1), PA_INTERNAL when nng cannot make the socket.
 */
int rpc_server_new(rpc_server **out, const rpc_server_opts *opts, pa_err *err);

/**
 * Route @p method of @p service to @p fn. Call before rpc_server_start().
 * @param service  a protobuf-c service descriptor; borrowed for the
 *                 server's life (generated descriptors are static).
 * @param method   the method's short name, such as "GetConfig".
 * @return PA_OK, PA_NOT_FOUND when the service has no such method,
 *         PA_ALREADY_EXISTS when it is bound, PA_RESOURCE_EXHAUSTED when
 *         the table is full.
 */
int rpc_server_bind(rpc_server *s, const ProtobufCServiceDescriptor *service,
    const char *method, rpc_handler_fn fn, void *arg, pa_err *err);

/**
 * Route like rpc_server_bind(), for a handler that may block on disk or
 * devices (fsync, libblkid): it runs on one of the server's own threads
 * (blocking_threads of them), never on nng's, so that other calls go on.
 * The call's deadline still holds: a handler that overruns it finds the
 * call already answered DEADLINE_EXCEEDED.
 * @return as rpc_server_bind().
 */
int rpc_server_bind_blocking(rpc_server *s,
    const ProtobufCServiceDescriptor *service, const char *method,
    rpc_handler_fn fn, void *arg, pa_err *err);

/**
 * Listen on @p url (ipc://, tcp://, tls+tcp://). TLS takes the options'
 * certificate, key and CA, checked as rpc_tls_server_config()
 * (rpc_tls_server.h) does.
 *
 * An ipc:// path is decided on before nng touches it, and nothing that is
 * not a dead socket is ever removed:
 * - its directory is made when missing (mode 0750, group ipc_gid when
 *   given, so that members can reach the socket; only the last level);
 *   an existing one must be owned by us or root and must not be writable
 *   by group or others unless sticky (PA_FAILED_PRECONDITION, "ipc
 *   directory D is owned by uid U, not by us (uid V) or root", "ipc
 *   directory D is writable by group or others without the sticky bit
 *   (mode M)");
 * - nothing at the path: fine; a socket that refuses connections
 *   (ECONNREFUSED): stale, removed, and logged as rpc.ipc_stale_removed;
 *   a socket that accepts: PA_UNAVAILABLE "another process listens on P",
 *   and that process keeps its socket and goes on answering;
 * - anything else (regular file, symbolic link, directory, fifo, device):
 *   PA_FAILED_PRECONDITION "P is a regular file, not a socket; it is left
 *   alone" (or the kind found), and it is left alone.
 * Servers of ours starting at once in one directory take turns on a lock
 * of it (flock) from this check to the bind, so they cannot race.
 * The socket is bound owner-only, then given our uid and ipc_gid (-1: our
 * effective group) and ipc_mode, before anyone but its owner can connect;
 * the umask plays no part.
 *
 * Every listener counts against max_conns (see rpc_server_get_stats()).
 * Once the server has started, a guard keeps every listener accepting: a
 * peer that closes during its handshake stops a listener of nng 1.5.2 for
 * good, and the guard then listens again on the same address (see
 * rpc_listeners.h).
 * @return PA_OK; PA_INVALID_ARGUMENT for a bad URL, an ipc path longer
 *         than 107 bytes, or bad TLS files; PA_FAILED_PRECONDITION as
 *         above or for an expired or not yet valid certificate;
 *         PA_UNAVAILABLE when the address is in use or cannot be bound;
 *         PA_NOT_FOUND or PA_PERMISSION_DENIED when a file or directory
 *         cannot be reached or its group set.
 */
int rpc_server_listen(rpc_server *s, const char *url, pa_err *err);

/**
 * The URL that listener @p index (in rpc_server_listen() order) really
 * bound: a tcp:// URL asked for port 0 comes back with the port chosen.
 * @return PA_OK, or PA_NOT_FOUND when there is no such listener.
 */
int rpc_server_url(
    char *buf, size_t size, rpc_server *s, unsigned index, pa_err *err);

/** Connection figures of a server, for /metrics. */
typedef struct rpc_server_stats {
	uint64_t conns;             // connections open now
	uint64_t conns_refused;     // closed by the max_conns cap: newcomers
	                            // refused and idle connections evicted
	uint64_t listener_restarts; // listeners that stopped accepting and
	                            // were started again (rpc_listeners.h)
	uint64_t tls_reloads;       // renewed TLS files loaded
} rpc_server_stats;

/**
 * Fill @p out with @p s's connection figures now. A connection counts
 * once nng has finished its SP handshake (a TCP connection that never
 * sends one is dropped by nng after 10 s and never counts). At the cap,
 * the connection evicted is one with every request it sent answered, as
 * nng's own per-connection counters show, and whose counts stopped
 * changing first; its client's REQ socket reconnects and sends its next
 * request as usual. When every open connection has a request in flight,
 * the newcomer is closed instead.
 */
void rpc_server_get_stats(rpc_server_stats *out, rpc_server *s);

/**
 * Start serving: each worker context begins receiving.
 * @return PA_OK, or PA_INTERNAL when nng runs out of resources.
 */
int rpc_server_start(rpc_server *s, pa_err *err);

/**
 * Stop taking requests, then wait up to @p drain_ms for those in flight to
 * be answered and their answers sent.
 * @return PA_OK when everything drained, PA_DEADLINE_EXCEEDED when calls
 *         were still open when the time ran out.
 */
int rpc_server_stop(rpc_server *s, uint32_t drain_ms);

/**
 * Stop (without draining) and free the server; NULL is a no-op. Handlers
 * that answer later must have answered before this is called.
 */
void rpc_server_free(rpc_server *s);

/**
 * Answer @p call with PA_OK and @p resp, which is packed at once and stays
 * the caller's. The call is no longer valid after this returns.
 * @return PA_OK; PA_DEADLINE_EXCEEDED when the deadline had already
 *         answered it (the response is dropped).
 */
int rpc_call_reply(rpc_call *call, const ProtobufCMessage *resp);

/**
 * Answer @p call with a failure @p code and a one-line message.
 * @return as rpc_call_reply().
 */
int rpc_call_fail(rpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Answer with the code and message held in @p err. @return as above. */
int rpc_call_fail_err(rpc_call *call, const pa_err *err);

/** @return the full method name of @p call ("/pkg.Service/Method"). */
const char *rpc_call_method(const rpc_call *call);

/** @return the caller's request id. */
uint64_t rpc_call_request_id(const rpc_call *call);

/**
 * @return milliseconds left before the caller's deadline; UINT32_MAX when
 *         the call has none, 0 when it has passed.
 */
uint32_t rpc_call_remaining_ms(const rpc_call *call);

/** How a call's connection reached the server. */
typedef enum rpc_transport {
	RPC_TRANSPORT_UNKNOWN = 0, // the connection was gone before receipt
	RPC_TRANSPORT_IPC,
	RPC_TRANSPORT_TCP,
	RPC_TRANSPORT_TLS,
} rpc_transport;

/** Who sent a call, as far as its transport tells. */
typedef struct rpc_peer {
	rpc_transport transport;
	// ipc:// only: the peer's credentials, from the kernel (SO_PEERCRED)
	// when the connection was made.
	bool     has_cred;
	uint64_t uid, gid; // the peer's effective uid and primary gid
	uint64_t pid;
	// tls+tcp:// only: whether the peer's certificate was checked against
	// the CA. nng 1.5.2 has no way to name the certificate (no peer CN or
	// subject option), so no name is given.
	bool tls_verified;
} rpc_peer;

/**
 * Fill @p out with the peer that sent @p call, read from its connection
 * now (so that calls that never ask pay nothing).
 * @return PA_OK, or PA_NOT_FOUND when nothing is known, as when the
 *         connection has closed since (transport RPC_TRANSPORT_UNKNOWN,
 *         every other field zero).
 */
int rpc_call_peer(const rpc_call *call, rpc_peer *out);

#endif // PREALLOC_RPC_SERVER_H
