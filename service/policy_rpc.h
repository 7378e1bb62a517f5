// SPDX-License-Identifier: Apache-2.0
// policy_rpc.h: the PreallocationPolicy service's RPC handlers over a store.
#ifndef PREALLOC_POLICY_RPC_H
#define PREALLOC_POLICY_RPC_H

#include "authz.h"
#include "metrics.h"
#include "prealloc/status.h"
#include "rpc_server.h"
#include "store.h"

/** The handlers' shared state; the caller owns it for the server's life. */
typedef struct policy_rpc {
	store          *st;
	metrics_family *decisions;   // prealloc_policy_decisions_total
	const authz    *apply_authz; // who may ApplyConfig
} policy_rpc;

/**
 * Bind ResolvePreallocation, GetConfig and ApplyConfig of
 * PreallocationPolicy on @p srv, answering from @p st.
 * @param p   filled here; it must outlive the server.
 * @param st  borrowed; it must outlive the server.
 * @param m   optional; decisions are counted in it.
 * @param az  who may ApplyConfig (authz_check_apply()); borrowed, it must
 *            outlive the server.
 * @return PA_OK, or rpc_server_bind()'s failure.
 */
int policy_rpc_bind(policy_rpc *p, rpc_server *srv, store *st, metrics *m,
    const authz *az, pa_err *err);

#endif // PREALLOC_POLICY_RPC_H
