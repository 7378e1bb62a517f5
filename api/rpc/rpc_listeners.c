// SPDX-License-Identifier: Apache-2.0
// rpc_listeners.c: a server's listeners, and the guard that keeps them
// accepting (see rpc_listeners.h for the nng defect it works around).
//
// An accept error that may have stopped a listener shows in nng's
// per-listener statistics as "other" (NNG_ECLOSED lands there, and so do
// errors after which nng backs off 100 ms and accepts again, such as a
// TCP peer that closes before its handshake, as a kubelet tcpSocket probe
// does). Restarting on the counter alone would drop every client at each
// probe, so the guard first lets nng's back-off pass, then asks whether
// the listener handed over a connection since; if nobody connected, it
// dials the listener itself. Only a listener that takes no connection,
// not even its own server's, is restarted.
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "prealloc/log.h"
#include "prealloc/util.h"
#include "rpc_ipc.h"
#include "rpc_listeners.h"
#include "rpc_tls_server.h"

// How often the guard reads the statistics.
#define GUARD_PERIOD_MS 200
// Longer than nng's 100 ms back-off after an accept error.
#define GUARD_SETTLE_MS 150
// How long a listener has to hand over the guard's own connection.
#define GUARD_PROBE_MS 1000
// A restart that keeps failing is logged once, then every this many
// tries (one a look: every 10 s).
#define GUARD_LOG_EVERY 50
// The TLS files are looked at every this many looks (once a second).
#define GUARD_TLS_EVERY 5

// What a TLS file is now: a change of any of these is a renewal (kubelet
// swaps a Secret's files by a symlink, which stat follows).
typedef struct tls_stamp {
	dev_t           dev;
	ino_t           ino;
	off_t           size;
	struct timespec mtime;
	bool            present;
} tls_stamp;

typedef struct listener_slot {
	nng_listener l;
	char         url[256];    // as given
	char         rebind[256]; // what a restart listens on (port resolved)
	bool         open;        // false after a restart that failed
	unsigned     failures;    // restarts failed in a row
	uint64_t     pipes;       // connections it handed over
	uint64_t     aborted;     // accept errors that may stop it, last seen
} listener_slot;

struct rpc_listeners {
	nng_socket             sock;
	const rpc_server_opts *opts;
	nng_tls_config        *tls;
	tls_stamp              tls_loaded[3]; // cert, key, ca of ls->tls
	tls_stamp              tls_tried[3];  // of the last reload tried
	uint64_t               tls_reloads;   // under mtx
	pthread_mutex_t        mtx;           // guards slots, n and restarts
	listener_slot          slots[RPC_LISTENERS_MAX];
	unsigned               n;
	uint64_t               restarts;
	pthread_t              guard;
	bool                   guarding;
	pthread_mutex_t        stop_mtx;
	pthread_cond_t         stop_cv;
	bool                   stopping;
};

int
rpc_listeners_new(rpc_listeners **out, nng_socket sock,
    const rpc_server_opts *opts, pa_err *err)
{
	rpc_listeners *ls = calloc(1, sizeof(*ls));

	if (ls == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	ls->sock = sock;
	ls->opts = opts;
	pthread_mutex_init(&ls->mtx, NULL);
	pthread_mutex_init(&ls->stop_mtx, NULL);
	pthread_cond_init(&ls->stop_cv, NULL);
	*out = ls;
	return PA_OK;
}

// ---- TLS files ----

static void
tls_stamps(tls_stamp out[3], const rpc_tls_files *f)
{
	const char *paths[3] = { f->cert, f->key, f->ca };

	memset(out, 0, 3 * sizeof(*out));
	for (int i = 0; i < 3; i++) {
		struct stat st;

		if (paths[i] == NULL || stat(paths[i], &st) != 0)
			continue;
		out[i] = (tls_stamp) { .dev = st.st_dev,
			.ino                = st.st_ino,
			.size               = st.st_size,
			.mtime              = st.st_mtim,
			.present            = true };
	}
}

static bool
tls_stamps_equal(const tls_stamp a[3], const tls_stamp b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i].present != b[i].present || a[i].dev != b[i].dev ||
		    a[i].ino != b[i].ino || a[i].size != b[i].size ||
		    a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
		    a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
			return false;
	return true;
}

// ---- opening one listener ----

static int
listener_set_tls(rpc_listeners *ls, nng_listener l, pa_err *err)
{
	int rc;

	if (ls->tls == NULL) {
		tls_stamps(ls->tls_loaded, &ls->opts->tls);
		memcpy(ls->tls_tried, ls->tls_loaded, sizeof(ls->tls_tried));
		if ((rc = rpc_tls_server_config(
		         &ls->tls, &ls->opts->tls, err)) != PA_OK)
			return rc;
	}
	if (nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, ls->tls) != 0)
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "cannot set TLS on the listener");
	return PA_OK;
}

// The socket path of an ipc:// or unix:// URL, as nng reads it, into
// @p buf; empty for other schemes.
static void
listener_ipc_path(char *buf, size_t size, const char *url)
{
	nng_url *u = NULL;

	buf[0] = '\0';
	if (nng_url_parse(&u, url) != 0)
		return;
	if (strcmp(u->u_scheme, "ipc") == 0 || strcmp(u->u_scheme, "unix") == 0)
		snprintf(buf, size, "%s", u->u_path);
	nng_url_free(u);
}

// Start @p l on an ipc path made safe first (rpc_ipc.c). nng applies an
// owner-only mode before listen(), so nobody connects before the group
// and the real mode are set just after.
static int
listener_start_ipc(rpc_listeners *ls, nng_listener l, const char *url,
    const char *path, pa_err *err)
{
	rpc_ipc_path ip = RPC_IPC_PATH_INIT;
	char         qp[RPC_IPC_PATH_MAX + 8];
	int          nrv, rc;

	if ((rc = rpc_ipc_prepare(&ip, path, ls->opts->ipc_gid, err)) != PA_OK)
		return rc;
	if (ip.removed_stale)
		pa_log(PA_LOG_INFO, "rpc.ipc_stale_removed", "path=%s",
		    pa_log_quote(qp, sizeof(qp), path));
	if ((nrv = nng_listener_set_int(
	         l, NNG_OPT_IPC_PERMISSIONS, S_IRUSR | S_IWUSR)) != 0)
		rc = pa_err_set(err, PA_INVALID_ARGUMENT,
		    "ipc permissions on %s: %s", path, nng_strerror(nrv));
	else if ((nrv = nng_listener_start(l, 0)) != 0)
		rc = pa_err_set(err, PA_UNAVAILABLE, "listen on %s: %s", url,
		    nng_strerror(nrv));
	else
		rc = rpc_ipc_finish(
		    &ip, ls->opts->ipc_mode, ls->opts->ipc_gid, err);
	rpc_ipc_release(&ip);
	return rc;
}

// Create and start a listener on @p url. @return PA_OK with *out set, or
// an error with nothing left open.
static int
listener_open(
    rpc_listeners *ls, const char *url, nng_listener *out, pa_err *err)
{
	nng_listener l;
	char         ipc[RPC_IPC_PATH_MAX * 2];
	int          nrv, rc = PA_OK;

	if ((nrv = nng_listener_create(&l, ls->sock, url)) != 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT, "listen URL %s: %s",
		    url, nng_strerror(nrv));
	listener_ipc_path(ipc, sizeof(ipc), url);
	if (rpc_tls_url(url))
		rc = listener_set_tls(ls, l, err);
	if (rc == PA_OK && ipc[0] != '\0')
		rc = listener_start_ipc(ls, l, url, ipc, err);
	else if (rc == PA_OK && (nrv = nng_listener_start(l, 0)) != 0)
		rc = pa_err_set(err, PA_UNAVAILABLE, "listen on %s: %s", url,
		    nng_strerror(nrv));
	if (rc != PA_OK) {
		nng_listener_close(l); // unlinks only a socket it bound
		return rc;
	}
	*out = l;
	return PA_OK;
}

// The real URL of @p l, given as @p url, into @p buf.
static int
listener_real_url(char *buf, size_t size, nng_listener l, const char *url)
{
	nng_sockaddr sa;
	const char  *scheme = rpc_tls_url(url) ? "tls+tcp" : "tcp";
	char         host[INET6_ADDRSTRLEN];

	if (nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) != 0)
		return -1;
	switch (sa.s_family) {
	case NNG_AF_INET:
		inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof(host));
		snprintf(buf, size, "%s://%s:%u", scheme, host,
		    ntohs(sa.s_in.sa_port));
		break;
	case NNG_AF_INET6:
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof(host));
		snprintf(buf, size, "%s://[%s]:%u", scheme, host,
		    ntohs(sa.s_in6.sa_port));
		break;
	default:
		snprintf(buf, size, "%s", url);
	}
	return 0;
}

// What a restart listens on: the URL as given, unless it asked for any
// port, which must then stay the one clients were told.
static void
listener_rebind_url(char *buf, size_t size, nng_listener l, const char *url)
{
	nng_url *u   = NULL;
	bool     any = false;

	if (nng_url_parse(&u, url) == 0) {
		any = u->u_port != NULL &&
		    (u->u_port[0] == '\0' || strcmp(u->u_port, "0") == 0) &&
		    strncmp(u->u_scheme, "ipc", 3) != 0 &&
		    strcmp(u->u_scheme, "unix") != 0;
		nng_url_free(u);
	}
	if (!any || listener_real_url(buf, size, l, url) != 0)
		snprintf(buf, size, "%s", url);
}

int
rpc_listeners_add(rpc_listeners *ls, const char *url, pa_err *err)
{
	listener_slot *slot;
	nng_listener   l;
	int            rc;

	pthread_mutex_lock(&ls->mtx);
	rc = ls->n == RPC_LISTENERS_MAX ? PA_RESOURCE_EXHAUSTED : PA_OK;
	pthread_mutex_unlock(&ls->mtx);
	if (rc != PA_OK)
		return pa_err_set(
		    err, rc, "more than %d listen URLs", RPC_LISTENERS_MAX);
	if ((rc = listener_open(ls, url, &l, err)) != PA_OK)
		return rc;
	pthread_mutex_lock(&ls->mtx);
	slot = &ls->slots[ls->n];
	memset(slot, 0, sizeof(*slot));
	slot->l    = l;
	slot->open = true;
	snprintf(slot->url, sizeof(slot->url), "%s", url);
	listener_rebind_url(slot->rebind, sizeof(slot->rebind), l, url);
	ls->n++;
	pthread_mutex_unlock(&ls->mtx);
	return PA_OK;
}

int
rpc_listeners_url(
    char *buf, size_t size, rpc_listeners *ls, unsigned index, pa_err *err)
{
	int rc = PA_OK;

	pthread_mutex_lock(&ls->mtx);
	if (index >= ls->n)
		rc = pa_err_set(err, PA_NOT_FOUND, "no listener %u", index);
	else if (listener_real_url(
	             buf, size, ls->slots[index].l, ls->slots[index].url) != 0)
		rc = pa_err_set(
		    err, PA_NOT_FOUND, "listener %u has no address", index);
	pthread_mutex_unlock(&ls->mtx);
	return rc;
}

// The slot of the listener with nng id @p id, or NULL; call locked.
static listener_slot *
listener_find(rpc_listeners *ls, int id)
{
	for (unsigned i = 0; i < ls->n && id > 0; i++)
		if (nng_listener_id(ls->slots[i].l) == id)
			return &ls->slots[i];
	return NULL;
}

rpc_transport
rpc_listeners_transport(rpc_listeners *ls, nng_pipe p)
{
	rpc_transport  t = RPC_TRANSPORT_UNKNOWN;
	listener_slot *slot;

	pthread_mutex_lock(&ls->mtx);
	slot = listener_find(ls, nng_listener_id(nng_pipe_listener(p)));
	if (slot != NULL && strncmp(slot->url, "ipc://", 6) == 0)
		t = RPC_TRANSPORT_IPC;
	else if (slot != NULL)
		t = rpc_tls_url(slot->url) ? RPC_TRANSPORT_TLS
		                           : RPC_TRANSPORT_TCP;
	pthread_mutex_unlock(&ls->mtx);
	return t;
}

void
rpc_listeners_saw_pipe(rpc_listeners *ls, nng_pipe p)
{
	listener_slot *slot;

	pthread_mutex_lock(&ls->mtx);
	slot = listener_find(ls, nng_listener_id(nng_pipe_listener(p)));
	if (slot != NULL)
		slot->pipes++;
	pthread_mutex_unlock(&ls->mtx);
}

// ---- the guard ----

// Sleep @p ms unless the guard is told to stop. @return true to stop.
static bool
guard_sleep(rpc_listeners *ls, unsigned ms)
{
	struct timespec until;
	bool            stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ls->stop_mtx);
	while (!ls->stopping &&
	    pthread_cond_timedwait(&ls->stop_cv, &ls->stop_mtx, &until) == 0)
		;
	stop = ls->stopping;
	pthread_mutex_unlock(&ls->stop_mtx);
	return stop;
}

static uint64_t
guard_pipes(rpc_listeners *ls, unsigned i)
{
	uint64_t n;

	pthread_mutex_lock(&ls->mtx);
	n = ls->slots[i].pipes;
	pthread_mutex_unlock(&ls->mtx);
	return n;
}

// Dial listener @p i as a client would, so that it has a connection to
// hand over. @return the probe socket (close it), or a closed one.
static nng_socket
guard_dial(rpc_listeners *ls, unsigned i)
{
	rpc_tls_files   files = ls->opts->tls;
	nng_socket      sock  = NNG_SOCKET_INITIALIZER;
	nng_dialer      d;
	nng_tls_config *cfg = NULL;
	char            url[256];

	pthread_mutex_lock(&ls->mtx);
	snprintf(url, sizeof(url), "%s", ls->slots[i].rebind);
	pthread_mutex_unlock(&ls->mtx);
	if (nng_req0_open(&sock) != 0)
		return sock;
	if (nng_dialer_create(&d, sock, url) != 0)
		return sock;
	// Our own certificate, in case the listener wants one; the guard
	// does not check the server it is.
	files.ca = NULL;
	if (rpc_tls_url(url) &&
	    rpc_tls_client_config(&cfg, NULL, &files, NULL) == PA_OK) {
		nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); // the dialer holds its own reference
	}
	nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	return sock;
}

// Does listener @p i still hand over connections? Someone else's since
// the error will do; else the guard's own.
static bool
guard_accepts(rpc_listeners *ls, unsigned i)
{
	uint64_t   before = guard_pipes(ls, i);
	uint64_t   waited = 0;
	nng_socket probe;

	if (guard_sleep(ls, GUARD_SETTLE_MS) || guard_pipes(ls, i) != before)
		return true;
	probe = guard_dial(ls, i);
	while (guard_pipes(ls, i) == before && waited < GUARD_PROBE_MS) {
		if (guard_sleep(ls, 10)) {
			nng_close(probe);
			return true;
		}
		waited += 10;
	}
	// Closed only once the listener has its pipe (or never will): a
	// close during the handshake is what stops it.
	nng_close(probe);
	return guard_pipes(ls, i) != before;
}

// Close listener @p i and listen again on its address. One that cannot
// (the port taken meanwhile) is tried again at each look, and logged on
// the first failure and then every GUARD_LOG_EVERY.
static void
guard_restart(rpc_listeners *ls, unsigned i, const char *why)
{
	nng_listener old, l;
	char         url[256], q[300];
	pa_err       err = PA_ERR_INIT;
	unsigned     failures;
	int          rc;

	pthread_mutex_lock(&ls->mtx);
	old = ls->slots[i].l;
	snprintf(url, sizeof(url), "%s", ls->slots[i].rebind);
	pthread_mutex_unlock(&ls->mtx);
	// Not under the lock: closing runs pipe callbacks that take it. One
	// closed by a failed try before just says so.
	nng_listener_close(old);
	rc = listener_open(ls, url, &l, &err);
	pthread_mutex_lock(&ls->mtx);
	ls->slots[i].open     = rc == PA_OK;
	ls->slots[i].aborted  = 0;
	ls->slots[i].failures = rc == PA_OK ? 0 : ls->slots[i].failures + 1;
	failures              = ls->slots[i].failures;
	if (rc == PA_OK) {
		ls->slots[i].l = l;
		ls->restarts++;
	}
	pthread_mutex_unlock(&ls->mtx);
	if (rc == PA_OK)
		pa_log(PA_LOG_WARN, "rpc.listener_restarted",
		    "url=%s reason=%s", pa_log_quote(q, sizeof(q), url), why);
	else if (failures % GUARD_LOG_EVERY == 1)
		pa_log(PA_LOG_ERROR, "rpc.listener_restart_failed",
		    "url=%s code=%s msg=\"%s\" tries=%u retry_ms=%d",
		    pa_log_quote(q, sizeof(q), url), pa_status_name(rc),
		    err.msg, failures, GUARD_PERIOD_MS);
}

// A renewed certificate (cert-manager, or a Secret updated by hand):
// checked as at start (the key is the certificate's, which is valid
// now), then every tls+tcp:// listener listens again with it. Its
// connections close with the old listener and clients dial again; a
// renewal that does not check out is logged, and the old certificate
// stays until the files change again.
static void
guard_tls(rpc_listeners *ls)
{
	tls_stamp       now[3];
	nng_tls_config *cfg = NULL, *old;
	pa_err          err = PA_ERR_INIT;
	unsigned        n;

	if (ls->tls == NULL)
		return;
	tls_stamps(now, &ls->opts->tls);
	if (tls_stamps_equal(now, ls->tls_loaded) ||
	    tls_stamps_equal(now, ls->tls_tried))
		return;
	memcpy(ls->tls_tried, now, sizeof(now));
	if (rpc_tls_server_config(&cfg, &ls->opts->tls, &err) != PA_OK) {
		pa_log(PA_LOG_ERROR, "rpc.tls_reload_failed",
		    "code=%s msg=\"%s\" keeps=\"the certificate loaded "
		    "before\"",
		    pa_status_name(err.code), err.msg);
		return;
	}
	old     = ls->tls;
	ls->tls = cfg; // what the restarts below listen with
	memcpy(ls->tls_loaded, now, sizeof(now));
	pthread_mutex_lock(&ls->mtx);
	n = ls->n;
	ls->tls_reloads++;
	pthread_mutex_unlock(&ls->mtx);
	for (unsigned i = 0; i < n; i++)
		if (rpc_tls_url(ls->slots[i].url))
			guard_restart(ls, i, "\"its certificate was renewed\"");
	nng_tls_config_free(old); // each old listener held its own
	pa_log(PA_LOG_INFO, "rpc.tls_reloaded", "cert=%s",
	    ls->opts->tls.cert != NULL ? ls->opts->tls.cert : "-");
}

static uint64_t
guard_stat(nng_stat *listener, const char *name)
{
	nng_stat *st = nng_stat_find(listener, name);

	return st == NULL ? 0 : nng_stat_value(st);
}

// One look at every listener.
static void
guard_pass(rpc_listeners *ls, nng_stat *root)
{
	unsigned n;

	pthread_mutex_lock(&ls->mtx);
	n = ls->n;
	pthread_mutex_unlock(&ls->mtx);
	for (unsigned i = 0; i < n; i++) {
		nng_listener l;
		nng_stat    *st;
		uint64_t     aborted, seen;
		bool         open;

		pthread_mutex_lock(&ls->mtx);
		l    = ls->slots[i].l;
		open = ls->slots[i].open;
		seen = ls->slots[i].aborted;
		pthread_mutex_unlock(&ls->mtx);
		if (!open) {
			guard_restart(ls, i, "\"its last restart failed\"");
			continue;
		}
		if ((st = nng_stat_find_listener(root, l)) == NULL)
			continue;
		aborted = guard_stat(st, "other") + guard_stat(st, "canceled");
		if (aborted == seen)
			continue;
		pthread_mutex_lock(&ls->mtx);
		ls->slots[i].aborted = aborted;
		pthread_mutex_unlock(&ls->mtx);
		if (!guard_accepts(ls, i))
			guard_restart(ls, i,
			    "\"it stopped accepting after a peer closed during "
			    "the handshake\"");
	}
}

static void *
guard_loop(void *arg)
{
	rpc_listeners *ls = arg;
	nng_stat      *root;
	int            nrv;

	for (unsigned look = 1; !guard_sleep(ls, GUARD_PERIOD_MS); look++) {
		if (look % GUARD_TLS_EVERY == 0)
			guard_tls(ls);
		if ((nrv = nng_stats_get(&root)) != 0) {
			pa_log(PA_LOG_WARN, "rpc.listener_guard_off",
			    "msg=\"no nng statistics: %s\"", nng_strerror(nrv));
			break;
		}
		guard_pass(ls, root);
		nng_stats_free(root);
	}
	return NULL;
}

int
rpc_listeners_guard(rpc_listeners *ls, pa_err *err)
{
	if (ls->guarding)
		return PA_OK;
	if (pthread_create(&ls->guard, NULL, guard_loop, ls) != 0)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "cannot start the listener guard");
	ls->guarding = true;
	return PA_OK;
}

void
rpc_listeners_stop(rpc_listeners *ls)
{
	if (ls == NULL || !ls->guarding)
		return;
	pthread_mutex_lock(&ls->stop_mtx);
	ls->stopping = true;
	pthread_cond_broadcast(&ls->stop_cv);
	pthread_mutex_unlock(&ls->stop_mtx);
	pthread_join(ls->guard, NULL);
	ls->guarding = false;
}

uint64_t
rpc_listeners_restarts(rpc_listeners *ls)
{
	uint64_t n;

	pthread_mutex_lock(&ls->mtx);
	n = ls->restarts;
	pthread_mutex_unlock(&ls->mtx);
	return n;
}

uint64_t
rpc_listeners_tls_reloads(rpc_listeners *ls)
{
	uint64_t n;

	pthread_mutex_lock(&ls->mtx);
	n = ls->tls_reloads;
	pthread_mutex_unlock(&ls->mtx);
	return n;
}

void
rpc_listeners_free(rpc_listeners *ls)
{
	if (ls == NULL)
		return;
	rpc_listeners_stop(ls);
	if (ls->tls != NULL)
		nng_tls_config_free(ls->tls);
	pthread_cond_destroy(&ls->stop_cv);
	pthread_mutex_destroy(&ls->stop_mtx);
	pthread_mutex_destroy(&ls->mtx);
	free(ls);
}
