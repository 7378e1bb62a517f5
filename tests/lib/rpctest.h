// SPDX-License-Identifier: Apache-2.0
// rpctest.h: a test server on the real RPC layer, with an echo method.
#ifndef PREALLOC_RPCTEST_H
#define PREALLOC_RPCTEST_H

#include <stdint.h>

#include "rpc_client.h"
#include "rpc_server.h"

// The echo method: ResolvePreallocation of PreallocationPolicy. The answer's
// decided_by_name is the request's data_volume. Its storage_class steers it:
//   ""          answer at once
//   "sleep:N"   answer N ms later, from another thread
//   "fail:C"    fail with status C
#define RPCTEST_ECHO "/cdi.prealloc.v1.PreallocationPolicy/ResolvePreallocation"

// The blocking method: ApplyConfig of PreallocationPolicy, bound with
// rpc_server_bind_blocking(). Its handler sleeps for the number of ms in
// the request's yaml field ("250") on the server's pool, then answers
// with that number as the generation.
#define RPCTEST_BLOCKING "/cdi.prealloc.v1.PreallocationPolicy/ApplyConfig"

typedef struct rpctest_server {
	rpc_server *srv;
	char        url[256]; // the first listener's real URL
	int         answered; // calls answered by the echo handler
} rpctest_server;

/**
 * Start a server with the echo method on @p url (tcp port 0 is fine).
 * @p opts may be NULL. Fails the test when it cannot start.
 */
void rpctest_start(
    rpctest_server *t, const char *url, const rpc_server_opts *opts);

/** Stop and free the test server; waits for late answers first. */
void rpctest_stop(rpctest_server *t);

/**
 * Call the echo method.
 * @param[out] echo  the answer's decided_by_name, when not NULL (PA_OK).
 * @return the call's status.
 */
int rpctest_echo(rpc_client *c, const char *data_volume,
    const char *storage_class, uint32_t deadline_ms, char *echo,
    size_t echo_size, pa_err *err);

/**
 * Call the blocking method, which sleeps @p sleep_ms on the server.
 * @return the call's status.
 */
int rpctest_block(
    rpc_client *c, unsigned sleep_ms, uint32_t deadline_ms, pa_err *err);

/** A fresh ipc:// URL in @p dir. */
void rpctest_ipc_url(char *buf, size_t size, const char *dir, const char *name);

#endif // PREALLOC_RPCTEST_H
