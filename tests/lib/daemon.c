// SPDX-License-Identifier: Apache-2.0
// daemon.c: spawn daemons for integration tests, read their logs, talk HTTP.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "testlib.h"

// The build directory: $PREALLOC_BUILD_DIR (ctest sets it), else the
// part of this program's own path before "/tests/", so that benchmarks
// run by hand find the daemons too.
static void
testlib_build_dir(char *buf, size_t size)
{
	const char *env = getenv("PREALLOC_BUILD_DIR");
	char        self[1024];
	ssize_t     n;
	char       *tests;

	if (env != NULL) {
		snprintf(buf, size, "%s", env);
		return;
	}
	snprintf(buf, size, ".");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((tests = strstr(self, "/tests/")) != NULL) {
		*tests = '\0';
		snprintf(buf, size, "%s", self);
	}
}

const char *
testlib_built(const char *rel)
{
	static char path[2048];
	char        dir[1024];

	testlib_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return path;
}

// What this run of @p d logged; the caller frees it.
static char *
daemon_read_log(testlib_daemon *d)
{
	char *out = NULL;

	if (testlib_capture(&out, "tail -c +%ld '%s' 2>/dev/null",
	        d->log_from + 1, d->log) < 0)
		return NULL;
	return out;
}

int
testlib_daemon_count_log(testlib_daemon *d, const char *needle)
{
	char *log = daemon_read_log(d);
	int   n   = 0;

	for (char *p = log; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(log);
	return n;
}

int
testlib_daemon_wait_log(testlib_daemon *d, const char *needle, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		if (testlib_daemon_count_log(d, needle) > 0)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

int
testlib_daemon_log_value(testlib_daemon *d, const char *needle, const char *key,
    char *buf, size_t size)
{
	char *log = daemon_read_log(d), *line, *k;
	char  pat[128];
	int   rc = -1;

	snprintf(pat, sizeof(pat), " %s=", key);
	if (log != NULL && (line = strstr(log, needle)) != NULL) {
		char *eol = strchr(line, '\n');

		if (eol != NULL)
			*eol = '\0';
		while (line > log && line[-1] != '\n')
			line--;
		if ((k = strstr(line, pat)) != NULL) {
			k += strlen(pat);
			snprintf(buf, size, "%.*s", (int) strcspn(k, " \n"), k);
			rc = 0;
		}
	}
	free(log);
	return rc;
}

int
testlib_daemon_start(testlib_daemon *d, const char *log,
    const char *ready_event, char *const argv[])
{
	struct stat st_log;
	char        needle[128];
	int         fd, st;

	snprintf(d->log, sizeof(d->log), "%s", log);
	d->log_from = stat(log, &st_log) == 0 ? (long) st_log.st_size : 0;
	if ((d->pid = fork()) < 0)
		return -1;
	if (d->pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	snprintf(needle, sizeof(needle), "event=%s", ready_event);
	for (int waited = 0; waited < 10000; waited += 20) {
		if (testlib_daemon_count_log(d, needle) > 0)
			return 0;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			break;
		}
		usleep(20 * 1000);
	}
	testlib_run("echo '--- %s:'; cat '%s' >&2", log, log);
	testlib_daemon_kill(d);
	return -1;
}

void
testlib_daemon_signal(testlib_daemon *d, int sig)
{
	if (d->pid > 0)
		kill(d->pid, sig);
}

int
testlib_daemon_stop(testlib_daemon *d)
{
	int st;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int waited = 0; waited < 15000; waited += 10) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			return 128 + WTERMSIG(st);
		}
		usleep(10 * 1000);
	}
	testlib_daemon_kill(d);
	return -1;
}

void
testlib_daemon_kill(testlib_daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

int
testlib_http_get(const char *hostport, const char *path, char **body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char               host[64], req[512], *buf = NULL, *sp;
	size_t             len = 0, cap = 0;
	ssize_t            n;
	int                fd, status = -1;

	snprintf(host, sizeof(host), "%s", hostport);
	if ((sp = strrchr(host, ':')) == NULL)
		return -1;
	*sp         = '\0';
	sa.sin_port = htons((uint16_t) atoi(sp + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
		goto done;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path,
	    hostport);
	if (write(fd, req, strlen(req)) != (ssize_t) strlen(req))
		goto done;
	for (;;) {
		if (len + 4096 + 1 > cap &&
		    (buf = realloc(buf, cap += 65536)) == NULL)
			abort();
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t) n;
	}
	if (buf == NULL)
		goto done;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/%*s %d", &status) != 1)
		status = -1;
	if (body != NULL && (sp = strstr(buf, "\r\n\r\n")) != NULL)
		*body = strdup(sp + 4);
	else if (body != NULL)
		*body = strdup("");
done:
	free(buf);
	close(fd);
	return status;
}
