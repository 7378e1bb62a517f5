// SPDX-License-Identifier: Apache-2.0
// authz.h: who may change the policy (ApplyConfig), decided from the peer.
#ifndef PREALLOC_AUTHZ_H
#define PREALLOC_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc_server.h"

#define AUTHZ_MAX_IDS 32

/**
 * The callers allowed to apply, besides root and the daemon's own euid.
 * Plain data; zero it (AUTHZ_INIT) and fill it with authz_allow_*().
 */
typedef struct authz {
	uint64_t self_uid; // the daemon's effective uid, always allowed
	uint64_t uids[AUTHZ_MAX_IDS];
	unsigned nuids;
	uint64_t gids[AUTHZ_MAX_IDS];
	unsigned ngids;
} authz;

/**
 * Add @p id to the allowed uids (@p gid false) or gids (@p gid true).
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED past AUTHZ_MAX_IDS of a kind.
 */
int authz_allow(authz *a, bool gid, uint64_t id, pa_err *err);

/**
 * Decide whether @p peer may apply a config. Over ipc:// a peer whose
 * uid is 0, a->self_uid or an allowed uid, or whose primary gid is an
 * allowed gid, may. Nothing else may: plain tcp:// names no one, and
 * nng 1.5.2 cannot name a tls+tcp:// client's certificate.
 * @param why  set on refusal to a one-line reason for the caller.
 * @return PA_OK, or PA_PERMISSION_DENIED.
 */
int authz_check_apply(
    const authz *a, const rpc_peer *peer, char *why, size_t size);

#endif // PREALLOC_AUTHZ_H
