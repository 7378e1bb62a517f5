// SPDX-License-Identifier: Apache-2.0
// benchlib.h: timed client loops and the raw nng echo that benchmarks
// compare against in the same run.
#ifndef PREALLOC_BENCHLIB_H
#define PREALLOC_BENCHLIB_H

#include <stddef.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

typedef struct bench_result {
	double rate;   // calls per second, all clients together
	double p50_us; // latency percentiles of one call
	double p99_us;
	long   errors;
} bench_result;

/**
 * One call. @p tls is the calling thread's own slot (NULL at first), for
 * state a thread keeps between calls. @return 0 when the call succeeded.
 */
typedef int (*bench_call_fn)(void *arg, void **tls);

/** Free what a thread kept in its slot; may be NULL. */
typedef void (*bench_done_fn)(void *tls);

/**
 * Run @p nclients threads calling @p fn for @p seconds.
 * @return the rate and the latency percentiles of successful calls.
 */
bench_result bench_run(int nclients, double seconds, bench_call_fn fn,
    bench_done_fn done, void *arg);

/** @return the result with the higher rate. */
bench_result bench_best(bench_result a, bench_result b);

/** The raw echo: REP contexts that send back each message unchanged. */
typedef struct bench_echo bench_echo;

/**
 * Start a raw echo server on @p url (tcp port 0 is fine) and a REQ socket
 * dialed to it, for bench_echo_call().
 * @return the server; aborts when it cannot start.
 */
bench_echo *bench_echo_start(const char *url, size_t payload);

/** Stop and free; NULL is a no-op. */
void bench_echo_stop(bench_echo *e);

/** A bench_call_fn: one raw REQ/REP round trip of the payload size. */
int bench_echo_call(void *echo, void **tls);

/** The bench_done_fn that goes with bench_echo_call(). */
void bench_echo_done(void *tls);

/**
 * The bytes one call of @p method with @p req puts on the wire (its
 * envelope), so that the raw echo carries the same payload.
 */
size_t bench_envelope_size(const char *method, const ProtobufCMessage *req);

/** Peak resident set size of this process, in MiB. */
double bench_peak_rss_mib(void);

#endif // PREALLOC_BENCHLIB_H
