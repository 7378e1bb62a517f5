// SPDX-License-Identifier: Apache-2.0
// ctl.h: what preallocctl's commands share: the global options, exit codes,
// option parsing with usage errors, and the commands themselves.
#ifndef PREALLOC_CTL_H
#define PREALLOC_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "view.h"
#include "prealloc/prealloc.h"

#define PA_EXIT_OK 0
#define PA_EXIT_FAIL 1
#define PA_EXIT_USAGE 2

#define CTL_DEFAULT_POLICY "tcp://127.0.0.1:9650"
#define CTL_DEFAULT_AGENT "tcp://127.0.0.1:9651"

/** The global options every command sees. */
typedef struct ctl {
	const char   *policy_url;
	const char   *agent_url;
	output_format format;
	uint32_t      timeout_ms; // 0: the library's default
	const char   *tls_cert;
	const char   *tls_key;
	const char   *tls_ca;
} ctl;

/** A command: its name, what it does, its usage text and its function. */
typedef struct ctl_command {
	const char *name;
	const char *summary;
	const char *help; // printed as is by --help
	int (*run)(
	    const ctl *c, const struct ctl_command *cmd, int argc, char **argv);
} ctl_command;

/**
 * Print "preallocctl[ <cmd>]: <message>" and the --help hint on stderr,
 * and exit 2. Only option parsing calls it.
 */
void ctl_usage_error(const ctl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/**
 * getopt_long for a command: --help prints its usage and exits 0; an
 * unknown option or a missing argument is a usage error (exit 2).
 * @p optstring must start with ':' (after any '+') and hold 'h'.
 * @param cmd  NULL for the global options: 'h' is then returned.
 * @return the next option's value, or -1 at the end.
 */
int ctl_getopt(const ctl_command *cmd, int argc, char **argv,
    const char *optstring, const struct option *longopts);

/** Parse the options of a command that has only --help. */
void ctl_only_help(const ctl_command *cmd, int argc, char **argv);

/**
 * Check that @p argc - optind positional arguments are left, between
 * @p min and @p max, naming @p what when not (a usage error).
 * @return the first of them (NULL when none).
 */
char *ctl_args(const ctl_command *cmd, int argc, char **argv, int min, int max,
    const char *what);

/** Parse a quantity for option @p opt, or a usage error naming it. */
uint64_t ctl_quantity(const ctl_command *cmd, const char *opt, const char *s);

/** Parse a whole number for option @p opt, or a usage error naming it. */
uint64_t ctl_number(const ctl_command *cmd, const char *opt, const char *s);

/** Parse a method (auto, falloc, full), or a usage error naming it. */
pa_method ctl_method(const ctl_command *cmd, const char *s);

/**
 * Print "preallocctl: <message> (<CODE_NAME>)" on stderr.
 * @return PA_EXIT_FAIL.
 */
int ctl_fail(const pa_err *err);

/** @return @p ex when @p rc is PA_OK, else ctl_fail(@p err). */
int ctl_exit(int rc, const pa_err *err, int ex);

/** Make a client for the global options' URLs and TLS files. */
int ctl_client(pa_client **out, const ctl *c, pa_err *err);

/**
 * Read a whole file, NUL-terminated.
 * @param[out] out  malloc'd; the caller frees it. Set only on PA_OK.
 */
int ctl_read_file(char **out, size_t *len_out, const char *path, pa_err *err);

/** Read and parse a DataVolume manifest (file:line:column errors). */
int ctl_datavolume(pa_datavolume **out, const char *path, pa_err *err);

/**
 * Print @p root in the global format and release it.
 * @return PA_EXIT_OK, or PA_EXIT_FAIL when it could not be written.
 */
int ctl_print(const ctl *c, json_t *root);

/**
 * Print @p job in the global format; then the exit code for it: 0 when it
 * succeeded or is still running (--no-wait), else its error (or
 * "cancelled") on stderr and 1.
 */
int ctl_print_job(const ctl *c, const pa_job *job);

int cmd_resolve(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_config(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_preallocate(
    const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_probe(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_jobs(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_job(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_cancel(const ctl *c, const ctl_command *cmd, int argc, char **argv);
int cmd_provision(const ctl *c, const ctl_command *cmd, int argc, char **argv);

#endif // PREALLOC_CTL_H
