// SPDX-License-Identifier: Apache-2.0
// rpc_conns.c: the table of a server's open connections, and the cap on them.
//
// At the cap, the connection idle the longest is evicted rather than the
// newcomer refused: refusing would let a flood of idle connections hold
// every slot and lock good clients out for as long as it lasts. Eviction
// is safe only for a connection with no request in flight, and nng 1.5.2's
// REP contexts do not say which pipe a request came on, so "in flight" is
// read from nng's own per-pipe counters (requests received against
// answers sent). A request still in the kernel's buffer is not counted;
// closing its pipe drops it unread, and the client's REQ socket sends it
// again on its next connection, as it does after any lost connection
// (libprealloc's client keeps a resend time set for that).
#include <pthread.h>
#include <stdlib.h>

#include "rpc_conns.h"

typedef struct conns_entry {
	uint32_t pipe;
	uint64_t connected_ns;
	uint64_t active_ns; // when its counts last changed, as seen here
	uint64_t rx_msgs, tx_msgs;
} conns_entry;

struct rpc_conns {
	pthread_mutex_t mtx;
	unsigned        cap; // 0: none
	conns_entry    *v;
	size_t          n, size;
	uint64_t        refused;
};

int
rpc_conns_new(rpc_conns **out, unsigned cap, pa_err *err)
{
	rpc_conns *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	c->cap = cap;
	pthread_mutex_init(&c->mtx, NULL);
	*out = c;
	return PA_OK;
}

void
rpc_conns_free(rpc_conns *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mtx);
	free(c->v);
	free(c);
}

bool
rpc_conns_full(rpc_conns *c)
{
	bool full;

	pthread_mutex_lock(&c->mtx);
	full = c->cap != 0 && c->n >= c->cap;
	pthread_mutex_unlock(&c->mtx);
	return full;
}

static int
conns_usage_cmp(const void *a, const void *b)
{
	const rpc_conns_usage *x = a, *y = b;

	return (x->pipe > y->pipe) - (x->pipe < y->pipe);
}

// Is @p a idle for longer than @p b? The oldest activity, then the oldest
// connection, then the lowest pipe id, so that the choice is stable.
static bool
conns_older(const conns_entry *a, const conns_entry *b)
{
	if (a->active_ns != b->active_ns)
		return a->active_ns < b->active_ns;
	if (a->connected_ns != b->connected_ns)
		return a->connected_ns < b->connected_ns;
	return a->pipe < b->pipe;
}

// Refresh each entry's activity from @p usage (sorted by pipe) and return
// the index of the idle one to evict, or n when there is none.
static size_t
conns_pick_victim(
    rpc_conns *c, uint64_t now_ns, const rpc_conns_usage *usage, size_t nusage)
{
	size_t victim = c->n;

	for (size_t i = 0; i < c->n; i++) {
		conns_entry           *e   = &c->v[i];
		rpc_conns_usage        key = { .pipe = e->pipe };
		const rpc_conns_usage *u   = NULL;

		if (nusage > 0)
			u = bsearch(&key, usage, nusage, sizeof(*usage),
			    conns_usage_cmp);
		if (u == NULL)
			continue; // not counted by nng yet: never a victim
		if (u->rx_msgs != e->rx_msgs || u->tx_msgs != e->tx_msgs) {
			e->rx_msgs   = u->rx_msgs;
			e->tx_msgs   = u->tx_msgs;
			e->active_ns = now_ns;
		}
		if (u->rx_msgs != u->tx_msgs)
			continue; // a request is in flight
		if (victim == c->n || conns_older(e, &c->v[victim]))
			victim = i;
	}
	return victim;
}

static bool
conns_append(rpc_conns *c, uint32_t pipe, uint64_t now_ns)
{
	if (c->n == c->size) {
		size_t       size = c->size != 0 ? c->size * 2 : 64;
		conns_entry *v    = realloc(c->v, size * sizeof(*v));

		if (v == NULL)
			return false;
		c->v    = v;
		c->size = size;
	}
	c->v[c->n++] = (conns_entry) {
		.pipe = pipe, .connected_ns = now_ns, .active_ns = now_ns
	};
	return true;
}

rpc_conns_verdict
rpc_conns_admit(rpc_conns *c, uint32_t pipe, uint64_t now_ns,
    rpc_conns_usage *usage, size_t nusage, uint32_t *victim_out)
{
	rpc_conns_verdict verdict = RPC_CONNS_ADMIT;
	size_t            victim;

	if (usage != NULL && nusage > 1)
		qsort(usage, nusage, sizeof(*usage), conns_usage_cmp);
	pthread_mutex_lock(&c->mtx);
	if (c->cap != 0 && c->n >= c->cap) {
		victim = conns_pick_victim(c, now_ns, usage, nusage);
		if (victim == c->n) {
			verdict = RPC_CONNS_REFUSE;
			goto done;
		}
		*victim_out  = c->v[victim].pipe;
		c->v[victim] = c->v[--c->n];
		verdict      = RPC_CONNS_EVICT;
	}
	if (!conns_append(c, pipe, now_ns))
		verdict = RPC_CONNS_REFUSE; // untracked, it would drift
done:
	if (verdict != RPC_CONNS_ADMIT)
		c->refused++;
	pthread_mutex_unlock(&c->mtx);
	return verdict;
}

void
rpc_conns_remove(rpc_conns *c, uint32_t pipe)
{
	pthread_mutex_lock(&c->mtx);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].pipe == pipe) {
			c->v[i] = c->v[--c->n];
			break;
		}
	pthread_mutex_unlock(&c->mtx);
}

void
rpc_conns_counts(rpc_conns *c, uint64_t *open_out, uint64_t *refused_out)
{
	pthread_mutex_lock(&c->mtx);
	*open_out    = c->n;
	*refused_out = c->refused;
	pthread_mutex_unlock(&c->mtx);
}
