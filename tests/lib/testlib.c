// SPDX-License-Identifier: Apache-2.0
// testlib.c: temp dirs, shell commands and file oracles for tests.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "testlib.h"
#include "prealloc/util.h"

// nng frees closed pipes from a reaper thread; nng_fini() waits for it.
// It must run before LeakSanitizer's exit check, which a destructor would
// not: atexit() handlers run in reverse order, and this one is registered
// after the sanitizer's, from a constructor.
__attribute__((constructor)) static void
testlib_fini_nng_at_exit(void)
{
	atexit(nng_fini);
}

char *
testlib_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char       *path = NULL;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/prealloc-%s-XXXXXX", base, tag) < 0)
		abort();
	if (mkdtemp(path) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", path, strerror(errno));
		abort();
	}
	return path;
}

void
testlib_rm_rf(const char *path)
{
	if (path != NULL && path[0] == '/' && strcmp(path, "/") != 0)
		testlib_run("rm -rf -- '%s'", path);
}

static int
testlib_vrun(const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int   st;

	if (vasprintf(&cmd, fmt, ap) < 0)
		return -1;
	st = system(cmd);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
testlib_run(const char *fmt, ...)
{
	va_list ap;
	int     rc;

	va_start(ap, fmt);
	rc = testlib_vrun(fmt, ap);
	va_end(ap);
	return rc;
}

int
testlib_capture(char **out, const char *fmt, ...)
{
	char   *cmd = NULL, *buf = NULL;
	size_t  len = 0, cap = 0;
	FILE   *p;
	va_list ap;
	int     st;

	va_start(ap, fmt);
	st = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (st < 0 || (p = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	free(cmd);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		size_t n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		abort();
	buf[len] = '\0';
	st       = pclose(p);
	*out     = buf;
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
testlib_have_program(const char *prog)
{
	return testlib_run("command -v '%s' >/dev/null 2>&1", prog) == 0;
}

int64_t
testlib_allocated_bytes(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int64_t) st.st_blocks * 512;
}

int64_t
testlib_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int64_t) st.st_size;
}

int
testlib_sha256(char hex[65], const char *path)
{
	char *out = NULL;
	int   rc  = -1;

	if (testlib_capture(&out, "sha256sum -- '%s'", path) == 0 &&
	    strlen(out) >= 64) {
		memcpy(hex, out, 64);
		hex[64] = '\0';
		rc      = 0;
	}
	free(out);
	return rc;
}

void
testlib_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

int
testlib_write_random(
    const char *path, uint64_t off, uint64_t len, unsigned seed)
{
	unsigned char buf[65536];
	uint64_t      x = seed * 2654435761u + 1;
	int           fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		return -1;
	while (len > 0 && rc == 0) {
		size_t n = len < sizeof(buf) ? (size_t) len : sizeof(buf);

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; // xorshift64: fast, repeatable bytes
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char) x;
		}
		if (pwrite(fd, buf, n, (off_t) off) != (ssize_t) n)
			rc = -1;
		off += n;
		len -= n;
	}
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

// At a test program's exit, before LeakSanitizer looks: nng frees the
// last pipes and dialers of closed sockets on a reaper thread, so a client
// closed just before exit (one whose daemon was killed, still redialling)
// can leave them unfreed and be reported as leaked. nng_fini() waits for
// all of it. testlib.c is in every test program, so this runs in each.
__attribute__((destructor)) static void
testlib_nng_fini(void)
{
	nng_fini();
}

uint64_t
testlib_now_ns(void)
{
	return pa_clock_ns();
}

void
testlib_skip_all(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(TESTLIB_SKIP_EXIT);
}
