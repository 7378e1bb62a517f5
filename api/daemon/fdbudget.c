// SPDX-License-Identifier: Apache-2.0
// fdbudget.c: fit the connection caps in the descriptor limit.
#include <sys/resource.h>

#include "fdbudget.h"

// Where an unlimited hard limit is raised to (Linux's default nr_open).
#define FDBUDGET_NOFILE_CEILING 1048576ul

int
fdbudget_fit(fdbudget *out, unsigned long nofile, unsigned rpc, unsigned http,
    bool http_on, pa_err *err)
{
	unsigned long room =
	    nofile > FDBUDGET_RESERVE ? nofile - FDBUDGET_RESERVE : 0;
	unsigned long need_http = http_on ? 1 : 0; // one, when not given
	unsigned long r = rpc, h = http_on ? http : 0;

	if (room < 1 + need_http)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "the descriptor limit %lu leaves no room for connections "
		    "after %d kept back; raise it (ulimit -n)",
		    nofile, FDBUDGET_RESERVE);
	// Caps asked for are kept, or refused with the numbers.
	if (r != 0 && h != 0 && r + h > room)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "--max-conns %lu and --http-max-conns %lu need %lu "
		    "descriptors, but the limit %lu leaves %lu after %d kept "
		    "back",
		    r, h, r + h, nofile, room, FDBUDGET_RESERVE);
	if (r != 0 && r + need_http > room)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "--max-conns %lu needs %lu descriptors with the HTTP side, "
		    "but the limit %lu leaves %lu after %d kept back",
		    r, r + need_http, nofile, room, FDBUDGET_RESERVE);
	if (h != 0 && h + 1 > room)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "--http-max-conns %lu needs %lu descriptors with the RPC "
		    "side, but the limit %lu leaves %lu after %d kept back",
		    h, h + 1, nofile, room, FDBUDGET_RESERVE);
	// Neither asked for: in proportion to the defaults.
	if (r == 0 && h == 0 && http_on) {
		unsigned long dr = FDBUDGET_DEFAULT_RPC_CONNS,
		              dh = FDBUDGET_DEFAULT_HTTP_CONNS;

		h = dr + dh <= room ? dh : room * dh / (dr + dh);
		if (h == 0)
			h = 1;
	}
	// One asked for: the other takes its default or what is left.
	if (r == 0)
		r = room - h < FDBUDGET_DEFAULT_RPC_CONNS
		    ? room - h
		    : FDBUDGET_DEFAULT_RPC_CONNS;
	if (h == 0 && http_on)
		h = room - r < FDBUDGET_DEFAULT_HTTP_CONNS
		    ? room - r
		    : FDBUDGET_DEFAULT_HTTP_CONNS;
	*out = (fdbudget) { .nofile = nofile,
		.rpc_max_conns      = (unsigned) r,
		.http_max_conns     = (unsigned) h };
	return PA_OK;
}

unsigned long
fdbudget_raise_nofile(unsigned long *was_out)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return *was_out = 1024; // the kernel's default
	*was_out = rl.rlim_cur == RLIM_INFINITY ? FDBUDGET_NOFILE_CEILING
	                                        : (unsigned long) rl.rlim_cur;
	if (rl.rlim_max == RLIM_INFINITY)
		rl.rlim_max = FDBUDGET_NOFILE_CEILING;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return (unsigned long) rl.rlim_cur;
	}
	return *was_out;
}
