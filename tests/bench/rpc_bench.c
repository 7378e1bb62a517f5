// SPDX-License-Identifier: Apache-2.0
// rpc_bench.c: an empty RPC through the layer against a raw nng REQ/REP echo
// of the same bytes, same client count, same transport, in one run.
//
// Usage: rpc_bench [--seconds S] [--rounds R]
// Prints calls/s, p50 and p99 for each, and the layer's share of the raw
// rate. Target: the layer keeps at least 0.9 of the raw rate.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpctest.h"
#include "testlib.h"

static int
layer_call(void *cli, void **tls)
{
	return rpctest_echo(cli, "", "", 10000, NULL, 0, NULL) != PA_OK;
}

// The bytes one empty layer call puts on the wire, for the raw echo.
static size_t
layer_request_size(void)
{
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;

	return bench_envelope_size(RPCTEST_ECHO, &req.base);
}

static void
print_pair(const char *what, int clients, bench_result raw, bench_result got)
{
	printf("%-4s %2d client%s  raw %8.0f/s p50 %6.1fus p99 %7.1fus | "
	       "layer %8.0f/s p50 %6.1fus p99 %7.1fus | ratio %.2f%s\n",
	    what, clients, clients == 1 ? " " : "s", raw.rate, raw.p50_us,
	    raw.p99_us, got.rate, got.p50_us, got.p99_us, got.rate / raw.rate,
	    raw.errors + got.errors ? "  (errors!)" : "");
	fflush(stdout);
}

static double
bench_pair(const char *transport, const char *url_raw, const char *url_layer,
    int clients, double seconds, int rounds)
{
	bench_echo    *echo = bench_echo_start(url_raw, layer_request_size());
	rpctest_server srv;
	rpc_client    *cli = NULL;
	bench_result   raw = { 0, 0, 0, 0 }, got = { 0, 0, 0, 0 };

	rpctest_start(&srv, url_layer, NULL);
	if (rpc_client_new(&cli, srv.url, NULL, NULL) != PA_OK)
		abort();
	// Interleave so that both sides see the same machine weather.
	for (int i = 0; i < rounds; i++) {
		raw = bench_best(raw,
		    bench_run(clients, seconds, bench_echo_call,
		        bench_echo_done, echo));
		got = bench_best(
		    got, bench_run(clients, seconds, layer_call, NULL, cli));
	}
	print_pair(transport, clients, raw, got);
	rpc_client_free(cli);
	rpctest_stop(&srv);
	bench_echo_stop(echo);
	return got.rate / raw.rate;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 2.0, worst = 1e9;
	int    rounds = 2, ch;
	char  *dir, raw_ipc[512], layer_ipc[512];

	while ((ch = getopt_long(argc, argv, "s:r:", longopts, NULL)) != -1) {
		if (ch == 's')
			seconds = atof(optarg);
		else if (ch == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	dir = testlib_tmpdir("rpcbench");
	rpctest_ipc_url(raw_ipc, sizeof(raw_ipc), dir, "raw");
	rpctest_ipc_url(layer_ipc, sizeof(layer_ipc), dir, "layer");
	printf("rpc_bench: empty RPC vs raw nng echo of %zu bytes, best of %d "
	       "x %.1fs each, interleaved\n",
	    layer_request_size(), rounds, seconds);
	for (int clients = 1; clients <= 8; clients *= 8) {
		double a = bench_pair(
		    "ipc", raw_ipc, layer_ipc, clients, seconds, rounds);
		double b = bench_pair("tcp", "tcp://127.0.0.1:0",
		    "tcp://127.0.0.1:0", clients, seconds, rounds);

		worst = a < worst ? a : worst;
		worst = b < worst ? b : worst;
	}
	printf("lowest ratio %.2f (target >= 0.90): %s\n", worst,
	    worst >= 0.9 ? "met" : "missed");
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}
