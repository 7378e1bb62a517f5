// SPDX-License-Identifier: Apache-2.0
// authz.c: who may change the policy (ApplyConfig), decided from the peer.
#include <stdio.h>

#include "authz.h"

int
authz_allow(authz *a, bool gid, uint64_t id, pa_err *err)
{
	unsigned *n   = gid ? &a->ngids : &a->nuids;
	uint64_t *ids = gid ? a->gids : a->uids;

	if (*n >= AUTHZ_MAX_IDS)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "more than %d allowed %s", AUTHZ_MAX_IDS,
		    gid ? "gids" : "uids");
	ids[(*n)++] = id;
	return PA_OK;
}

static bool
authz_listed(const uint64_t *ids, unsigned n, uint64_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool
authz_ipc_allowed(const authz *a, const rpc_peer *p)
{
	return p->has_cred &&
	    (p->uid == 0 || p->uid == a->self_uid ||
	        authz_listed(a->uids, a->nuids, p->uid) ||
	        authz_listed(a->gids, a->ngids, p->gid));
}

int
authz_check_apply(const authz *a, const rpc_peer *peer, char *why, size_t size)
{
	switch (peer->transport) {
	case RPC_TRANSPORT_IPC:
		if (authz_ipc_allowed(a, peer))
			return PA_OK;
		if (!peer->has_cred)
			snprintf(why, size,
			    "ApplyConfig: the ipc:// caller's credentials "
			    "are unknown");
		else
			snprintf(why, size,
			    "ApplyConfig: uid %llu (gid %llu) is not "
			    "allowed; see --apply-allow-uid and "
			    "--apply-allow-gid",
			    (unsigned long long) peer->uid,
			    (unsigned long long) peer->gid);
		break;
	case RPC_TRANSPORT_TLS:
		snprintf(why, size,
		    "ApplyConfig over tls+tcp:// is refused: the client "
		    "certificate cannot be named; use ipc://");
		break;
	default:
		snprintf(why, size,
		    "ApplyConfig over tcp:// is refused: anyone can connect; "
		    "use ipc:// as an allowed user");
		break;
	}
	return PA_PERMISSION_DENIED;
}
