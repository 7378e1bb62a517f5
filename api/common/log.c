// SPDX-License-Identifier: Apache-2.0
// log.c: logfmt lines to stderr, whole lines with one write(2).
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prealloc/log.h"

#define LOG_LINE_MAX 2048

static atomic_int log_min_level = PA_LOG_INFO;
static atomic_int log_fd        = STDERR_FILENO;

static const char *const log_level_names[] = {
	"debug",
	"info",
	"warn",
	"error",
	"off",
};

void
pa_log_set_level(int level)
{
	if (level >= PA_LOG_DEBUG && level <= PA_LOG_OFF)
		atomic_store(&log_min_level, level);
}

int
pa_log_level(void)
{
	return atomic_load(&log_min_level);
}

int
pa_log_level_parse(const char *name)
{
	for (int i = PA_LOG_DEBUG; name != NULL && i <= PA_LOG_OFF; i++)
		if (strcmp(log_level_names[i], name) == 0)
			return i;
	return -1;
}

void
pa_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

static size_t
log_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm       tm;
	size_t          n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t) snprintf(
	    buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return n;
}

void
pa_log(int level, const char *event, const char *fmt, ...)
{
	char    line[LOG_LINE_MAX];
	char    ts[40];
	int     n;
	va_list ap;

	if (level < atomic_load(&log_min_level) || level >= PA_LOG_OFF)
		return;
	log_timestamp(ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts,
	    log_level_names[level], event);
	if (fmt != NULL && fmt[0] != '\0' && n < (int) sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - (size_t) n, fmt, ap);
		va_end(ap);
	}
	if (n > (int) sizeof(line) - 2)
		n = (int) sizeof(line) - 2; // cut, but keep the newline
	line[n++] = '\n';
	if (write(atomic_load(&log_fd), line, (size_t) n) < 0)
		return; // nowhere left to report it
}

static int
log_needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v != '\0'; v++)
		if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' ||
		    *v == 0x7f)
			return 1;
	return 0;
}

const char *
pa_log_quote(char *buf, unsigned size, const char *value)
{
	unsigned o = 0;

	if (size == 0)
		return buf;
	if (value == NULL)
		value = "";
	if (!log_needs_quotes(value)) {
		snprintf(buf, size, "%s", value);
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value; *p != '\0' && o + 4 < size; p++) {
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char) c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c < ' ' || c == 0x7f) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char) c;
		}
	}
	if (o < size - 1)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
