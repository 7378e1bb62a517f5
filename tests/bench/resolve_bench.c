// SPDX-License-Identifier: Apache-2.0
// resolve_bench.c: ResolvePreallocation through the real prealloc-policyd
// against a raw nng echo of the same bytes, over ipc, with a 10-class and
// a 10,000-class config, in one run.
//
// Usage: resolve_bench [--seconds S] [--rounds R]
// Targets: at least 0.8 of the raw rate; 10 and 10,000 classes the same
// within noise.
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchlib.h"
#include "daemon.h"
#include "prealloc/v1/policy.pb-c.h"
#include "rpc_client.h"
#include "testlib.h"

#define RESOLVE "/cdi.prealloc.v1.PreallocationPolicy/ResolvePreallocation"

typedef struct target {
	rpc_client *cli;
	int         classes;
	atomic_uint next;
} target;

static void
class_name(char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "class-%05u.storage.example.com", i);
}

static int
resolve_call(void *arg, void **tls)
{
	target                                        *t = arg;
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	Cdi__Prealloc__V1__ResolvePreallocationResponse *resp = NULL;
	char                                             sc[64];
	int                                              rc;

	// Walk the classes, so that a big table cannot hide in a cache line.
	class_name(sc, sizeof(sc),
	    atomic_fetch_add(&t->next, 7919) % (unsigned) t->classes);
	req.data_volume   = "bench";
	req.storage_class = sc;
	rc = rpc_client_call((ProtobufCMessage **) &resp, t->cli, RESOLVE,
	    &req.base,
	    &cdi__prealloc__v1__resolve_preallocation_response__descriptor,
	    10000, NULL);
	if (rc == PA_OK && strcmp(resp->decided_by_name, "storageClass") != 0)
		rc = PA_INTERNAL; // every class is listed: a wrong answer
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

static size_t
resolve_request_size(void)
{
	Cdi__Prealloc__V1__ResolvePreallocationRequest req =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_REQUEST__INIT;
	char sc[64];

	class_name(sc, sizeof(sc), 0);
	req.data_volume   = "bench";
	req.storage_class = sc;
	return bench_envelope_size(RESOLVE, &req.base);
}

static void
write_config(const char *path, int classes)
{
	FILE *f = fopen(path, "w");
	char  sc[64];

	if (f == NULL)
		abort();
	fprintf(f,
	    "apiVersion: cdi.kubevirt.io/v1beta1\nkind: CDIConfig\n"
	    "spec:\n  preallocation:\n    storageClass:\n");
	for (int i = 0; i < classes; i++) {
		class_name(sc, sizeof(sc), (unsigned) i);
		fprintf(f, "      %s: %s\n", sc, i % 2 ? "true" : "false");
	}
	fclose(f);
}

static void
start_policyd(
    testlib_daemon *d, const char *dir, int classes, char *url, size_t size)
{
	char  cfg[600], log[600];
	char *argv[] = { (char *) testlib_built("service/prealloc-policyd"),
		"--config", cfg, "--listen", url, "--http", "none", NULL };

	snprintf(cfg, sizeof(cfg), "%s/classes-%d.yaml", dir, classes);
	snprintf(log, sizeof(log), "%s/policyd-%d.log", dir, classes);
	snprintf(url, size, "ipc://%s/policy-%d.sock", dir, classes);
	write_config(cfg, classes);
	if (testlib_daemon_start(d, log, "policyd.ready", argv) != 0)
		abort();
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const int      sizes[2] = { 10, 10000 };
	double         seconds = 2.0, worst = 1e9;
	int            rounds = 2, ch;
	char          *dir, raw_url[600], url[2][600];
	testlib_daemon d[2];
	target         t[2];
	bench_echo    *echo;

	while ((ch = getopt_long(argc, argv, "s:r:", longopts, NULL)) != -1) {
		if (ch == 's')
			seconds = atof(optarg);
		else if (ch == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	dir = testlib_tmpdir("resolvebench");
	snprintf(raw_url, sizeof(raw_url), "ipc://%s/raw.sock", dir);
	echo = bench_echo_start(raw_url, resolve_request_size());
	for (int i = 0; i < 2; i++) {
		start_policyd(&d[i], dir, sizes[i], url[i], sizeof(url[i]));
		t[i].classes = sizes[i];
		atomic_init(&t[i].next, 0);
		if (rpc_client_new(&t[i].cli, url[i], NULL, NULL) != PA_OK)
			abort();
	}
	printf(
	    "resolve_bench: ResolvePreallocation via prealloc-policyd vs raw "
	    "nng echo of %zu bytes over ipc, best of %d x %.1fs, "
	    "interleaved\n",
	    resolve_request_size(), rounds, seconds);
	for (int clients = 1; clients <= 8; clients *= 8) {
		bench_result raw    = { 0, 0, 0, 0 };
		bench_result got[2] = { { 0, 0, 0, 0 }, { 0, 0, 0, 0 } };

		for (int r = 0; r < rounds; r++) {
			raw = bench_best(raw,
			    bench_run(clients, seconds, bench_echo_call,
			        bench_echo_done, echo));
			for (int i = 0; i < 2; i++)
				got[i] = bench_best(got[i],
				    bench_run(clients, seconds, resolve_call,
				        NULL, &t[i]));
		}
		printf("%d client%s raw %8.0f/s p50 %6.1fus p99 %7.1fus\n",
		    clients, clients == 1 ? " " : "s", raw.rate, raw.p50_us,
		    raw.p99_us);
		for (int i = 0; i < 2; i++) {
			double ratio = got[i].rate / raw.rate;

			printf("  %5d classes %8.0f/s p50 %6.1fus p99 %7.1fus "
			       "ratio %.2f%s\n",
			    sizes[i], got[i].rate, got[i].p50_us, got[i].p99_us,
			    ratio, got[i].errors ? "  (errors!)" : "");
			worst = ratio < worst ? ratio : worst;
		}
		printf("  10,000 vs 10 classes: %.2f of the rate\n",
		    got[1].rate / got[0].rate);
		fflush(stdout);
	}
	printf("lowest ratio to raw %.2f (target >= 0.80): %s\n", worst,
	    worst >= 0.8 ? "met" : "missed");
	for (int i = 0; i < 2; i++) {
		rpc_client_free(t[i].cli);
		testlib_daemon_stop(&d[i]);
	}
	bench_echo_stop(echo);
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}
