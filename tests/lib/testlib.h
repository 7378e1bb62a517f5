// SPDX-License-Identifier: Apache-2.0
// testlib.h: small helpers every test uses: temp dirs, commands, file oracles.
#ifndef PREALLOC_TESTLIB_H
#define PREALLOC_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h> // cmocka needs these three before cmocka.h
#include <cmocka.h>

#define KiB (1024ULL)
#define MiB (1024ULL * 1024ULL)
#define GiB (1024ULL * 1024ULL * 1024ULL)

/** The exit status ctest shows as a SKIP (SKIP_RETURN_CODE in CMake). */
#define TESTLIB_SKIP_EXIT 77

/**
 * Make a fresh directory under $TMPDIR (or /tmp) named after @p tag.
 * @return a malloc'd path the caller frees; aborts the test on failure.
 */
char *testlib_tmpdir(const char *tag);

/** Remove @p path and everything beneath it; NULL is a no-op. */
void testlib_rm_rf(const char *path);

/**
 * Run a shell command made from @p fmt, output to the test's own stderr.
 * @return its exit status (0-255), or -1 when it could not run or was killed.
 */
int testlib_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Run a shell command and capture its standard output.
 * @param[out] out  malloc'd, NUL-terminated output; the caller frees it.
 * @return its exit status, or -1 when it could not run.
 */
int testlib_capture(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** @return 1 when a program named @p prog is on $PATH, else 0. */
int testlib_have_program(const char *prog);

/** @return st_blocks * 512 of @p path, or -1 when stat fails. */
int64_t testlib_allocated_bytes(const char *path);

/** @return st_size of @p path, or -1 when stat fails. */
int64_t testlib_file_size(const char *path);

/**
 * The SHA-256 of a file's bytes, by sha256sum(1), as a user would check.
 * @param[out] hex  65 bytes: 64 hex digits and a NUL.
 * @return 0, or -1 when the file cannot be read.
 */
int testlib_sha256(char hex[65], const char *path);

/**
 * Write @p len bytes of pseudo-random data at @p off in @p path (created
 * when missing), seeded by @p seed so the same call makes the same bytes.
 * @return 0, or -1 on an I/O error.
 */
int testlib_write_random(
    const char *path, uint64_t off, uint64_t len, unsigned seed);

/**
 * Write @p text to @p path, created or truncated. Fails the test (cmocka)
 * when it cannot.
 */
void testlib_write_text(const char *path, const char *text);

/** @return monotonic time in nanoseconds. */
uint64_t testlib_now_ns(void);

/** Print "SKIP: <why>" to stderr and exit with TESTLIB_SKIP_EXIT. */
void testlib_skip_all(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif // PREALLOC_TESTLIB_H
