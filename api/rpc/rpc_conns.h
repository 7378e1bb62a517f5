// SPDX-License-Identifier: Apache-2.0
// rpc_conns.h: the table of a server's open connections, and the cap on them.
#ifndef PREALLOC_RPC_CONNS_H
#define PREALLOC_RPC_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prealloc/status.h"

typedef struct rpc_conns rpc_conns;

/** What nng's statistics say of one open connection (pipe). */
typedef struct rpc_conns_usage {
	uint32_t pipe;
	uint64_t rx_msgs; // requests received
	uint64_t tx_msgs; // answers sent
} rpc_conns_usage;

/** What to do with a new connection. */
typedef enum rpc_conns_verdict {
	RPC_CONNS_ADMIT,  // below the cap: keep it
	RPC_CONNS_EVICT,  // keep it, and close the idle one named
	RPC_CONNS_REFUSE, // close it: every open one is busy or unknown
} rpc_conns_verdict;

/**
 * Make a table for at most @p cap connections at once (0: no cap).
 * @param[out] out  set only on PA_OK; free it with rpc_conns_free().
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED.
 */
int rpc_conns_new(rpc_conns **out, unsigned cap, pa_err *err);

/** Free the table; NULL is a no-op. */
void rpc_conns_free(rpc_conns *c);

/** @return true when a new connection would need a victim or a refusal. */
bool rpc_conns_full(rpc_conns *c);

/**
 * Decide for new connection @p pipe. Below the cap it is admitted. At the
 * cap, the open connection idle the longest is evicted for it: one whose
 * @p usage shows every request answered (rx_msgs == tx_msgs), and whose
 * counts stopped changing first, as seen by these calls (a connection
 * never seen busy is idle since it connected). Connections absent from
 * @p usage are never evicted. With no victim, the newcomer is refused.
 * Thread-safe.
 * @param usage      what nng counts per open pipe, in any order (sorted
 *                   here); may be NULL below the cap.
 * @param[out] victim_out  on RPC_CONNS_EVICT, the pipe to close; it is
 *                   already forgotten, as a refused newcomer is.
 * @return the verdict.
 */
rpc_conns_verdict rpc_conns_admit(rpc_conns *c, uint32_t pipe, uint64_t now_ns,
    rpc_conns_usage *usage, size_t nusage, uint32_t *victim_out);

/**
 * Forget @p pipe, which has closed. A pipe already forgotten (evicted or
 * refused) or never seen is ignored, so the count never drifts.
 */
void rpc_conns_remove(rpc_conns *c, uint32_t pipe);

/**
 * @param[out] open_out     connections open now.
 * @param[out] refused_out  connections the cap closed: newcomers refused
 *                          and idle ones evicted, since the table was made.
 */
void rpc_conns_counts(rpc_conns *c, uint64_t *open_out, uint64_t *refused_out);

#endif // PREALLOC_RPC_CONNS_H
