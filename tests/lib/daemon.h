// SPDX-License-Identifier: Apache-2.0
// daemon.h: start a real daemon of ours, read its log, signal and stop it.
#ifndef PREALLOC_TESTLIB_DAEMON_H
#define PREALLOC_TESTLIB_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

typedef struct testlib_daemon {
	pid_t pid;
	char  log[512]; // its stderr, a file in the test's directory
	long  log_from; // where this run's lines start in it: a restart appends
} testlib_daemon;

/**
 * The path of a program built by this build: @p rel under
 * $PREALLOC_BUILD_DIR (ctest sets it), or under the build directory this
 * test program runs from. @return a static buffer.
 */
const char *testlib_built(const char *rel);

/**
 * Start @p argv[0] with @p argv, stderr appended to @p log, and wait until
 * it logs a line with "event=@p ready_event" (10 s at most). From then on,
 * the functions below read only what this run logged, so a restarted
 * daemon is never taken for ready on its predecessor's lines.
 * @return 0 when it is ready; -1 when it exited or never got ready (its
 *         log is printed to help).
 */
int testlib_daemon_start(testlib_daemon *d, const char *log,
    const char *ready_event, char *const argv[]);

/**
 * Wait up to @p ms for a log line holding @p needle.
 * @return 0 when found, -1 on time-out.
 */
int testlib_daemon_wait_log(testlib_daemon *d, const char *needle, int ms);

/**
 * The value of `key=` on the first log line holding @p needle, such as
 * the addr= of "event=policyd.http_listening". @return 0, or -1.
 */
int testlib_daemon_log_value(testlib_daemon *d, const char *needle,
    const char *key, char *buf, size_t size);

/** @return how many log lines hold @p needle. */
int testlib_daemon_count_log(testlib_daemon *d, const char *needle);

/** Send @p sig to the daemon. */
void testlib_daemon_signal(testlib_daemon *d, int sig);

/**
 * SIGTERM, then wait up to 15 s (then SIGKILL).
 * @return its exit status, 128 + signal when killed, or -1.
 */
int testlib_daemon_stop(testlib_daemon *d);

/** SIGKILL and reap. */
void testlib_daemon_kill(testlib_daemon *d);

/**
 * GET http://@p hostport@p path over a plain socket.
 * @param[out] body  malloc'd body, NUL-terminated; the caller frees it.
 * @return the HTTP status, or -1 when the request failed.
 */
int testlib_http_get(const char *hostport, const char *path, char **body);

#endif // PREALLOC_TESTLIB_DAEMON_H
