// SPDX-License-Identifier: Apache-2.0
// log.h: one `key=value` line per event, to stderr, for daemons and the RPC
// layer.
#ifndef PREALLOC_LOG_H
#define PREALLOC_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum pa_log_level {
	PA_LOG_DEBUG = 0,
	PA_LOG_INFO  = 1,
	PA_LOG_WARN  = 2,
	PA_LOG_ERROR = 3,
	PA_LOG_OFF   = 4,
};

/**
 * Write one line: `ts=... level=<level> event=<event> <fields>` where
 * <fields> is @p fmt formatted, already in `key=value` form. The event is
 * `<module>.<what_happened>` and never changes, so alerts and tests can
 * match it. Lines are written whole with one write(2), so lines from many
 * threads never interleave. Lines below the current level are dropped.
 */
void pa_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Set the lowest level written (PA_LOG_INFO unless changed). */
void pa_log_set_level(int level);

/** @return the current lowest level written. */
int pa_log_level(void);

/**
 * Parse "debug", "info", "warn", "error" or "off".
 * @return the level, or -1 for anything else.
 */
int pa_log_level_parse(const char *name);

/** Send lines to @p fd instead of stderr (the fd is borrowed, not closed). */
void pa_log_set_fd(int fd);

/**
 * Quote @p value for a `key=value` field when it holds spaces, quotes,
 * '=' or control characters (or is empty), escaping as Go's logfmt does.
 * @return @p buf, which holds at most @p size - 1 characters.
 */
const char *pa_log_quote(char *buf, unsigned size, const char *value);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_LOG_H
