// SPDX-License-Identifier: Apache-2.0
// ctl.h: what preallocctl's commands share: the global options, exit codes,
// the command descriptor, option parsing with usage errors, and the
// descriptors each cmd_<name>.c exports.
#ifndef PREALLOC_CTL_H
#define PREALLOC_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "view.h"
#include "prealloc/prealloc.h"

/**
 * preallocctl's exit codes. A library status becomes one only in
 * ctl_exit(); usage errors are CTL_EXIT_USAGE, from ctl_usage_error().
 */
enum {
	CTL_EXIT_OK      = 0, // success, or --help
	CTL_EXIT_FAILURE = 1, // the operation, a call or the job failed
	CTL_EXIT_USAGE   = 2, // unknown command or option, bad argument
};

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

/**
 * One command, complete: each cmd_<name>.c exports one as cmd_<name>, and
 * main.c lists them. The global help is made from name and summary.
 */
typedef struct ctl_command {
	const char *name;    // the word on the command line
	const char *summary; // one line in 'preallocctl --help'
	// NULL, or the words that may follow name ("config get"), NULL
	// ended: what ctl_subcommand() accepts, the summary names each and
	// the help and the man page show each (tests/unit/ctl_test.c).
	const char *const *subcommands;
	// getopt_long's options: optstring starts with ':' (after any '+')
	// and holds 'h'; longopts holds "help" and ends with a zero entry.
	// None but --help may be a global option's letter, name or value:
	// dispatch_run() refuses to run any command when one is.
	const char          *optstring;
	const struct option *longopts;
	// Printed as is by --help. NULL only for the global options, whose
	// help dispatch.c makes: ctl_getopt() then returns 'h'.
	const char *help;
	/**
	 * Run the command; argv[0] is its name, the global options are
	 * taken out of the rest (up to "--"), and optind is 0, so that it
	 * parses its own options with ctl_getopt().
	 * @return a CTL_EXIT_ code.
	 */
	int (*run)(
	    const ctl *c, const struct ctl_command *cmd, int argc, char **argv);
} ctl_command;

/** The options of a command that has only --help. */
extern const struct option ctl_help_only[];

/**
 * The format failures are also reported in, on stdout: dispatch_run()
 * sets it from -o as soon as it knows it, OUTPUT_TABLE (stderr only)
 * until then and when -o's value is the bad one.
 */
void ctl_set_error_format(output_format f);

/**
 * The one place a failure becomes machine-readable: under -o json or
 * yaml, print output_error()'s object for @p code and @p msg on stdout,
 * unless a result was printed there already (stdout holds one document);
 * otherwise nothing. The line on stderr is the caller's.
 */
void ctl_error_object(int code, const char *msg);

/**
 * Print "preallocctl[ <cmd>]: <message>" and the --help hint on stderr,
 * and the error object (INVALID_ARGUMENT) on stdout under -o json or
 * yaml, and exit CTL_EXIT_USAGE. Option parsing calls it, and a command whose
 * value from the command line a library or service call found invalid
 * (a URL, a storage class name): any bad value is a usage error.
 * @param cmd  NULL, or a descriptor with no name, for the global options.
 */
void ctl_usage_error(const ctl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/**
 * getopt_long over @p cmd's options: --help prints its help and exits
 * CTL_EXIT_OK (a descriptor with no help gets 'h' back); an unknown option
 * or a missing argument is a usage error.
 * @return the next option's value, or -1 at the end.
 */
int ctl_getopt(const ctl_command *cmd, int argc, char **argv);

/** Parse the options of a command that has only --help. */
void ctl_only_help(const ctl_command *cmd, int argc, char **argv);

/**
 * Check that @p argc - optind positional arguments are left, between
 * @p min and @p max, naming @p what when not (a usage error).
 * @return the first of them (NULL when none).
 */
char *ctl_args(const ctl_command *cmd, int argc, char **argv, int min, int max,
    const char *what);

/**
 * The subcommand at argv[optind], one of @p cmd's subcommands; a missing
 * or unknown one is a usage error that lists them.
 * @return its index in cmd->subcommands.
 */
int ctl_subcommand(const ctl_command *cmd, int argc, char **argv);

/** Parse a quantity for option @p opt, or a usage error naming it. */
uint64_t ctl_quantity(const ctl_command *cmd, const char *opt, const char *s);

/** Parse a whole number for option @p opt, or a usage error naming it. */
uint64_t ctl_number(const ctl_command *cmd, const char *opt, const char *s);

/** Parse a method (auto, falloc, full), or a usage error naming it. */
pa_method ctl_method(const ctl_command *cmd, const char *s);

/**
 * The one place a library status becomes an exit code.
 * @param rc   a PA_ status.
 * @param err  read when @p rc is not PA_OK: its message and code name go
 *             to stderr as "preallocctl: <message> (<CODE_NAME>)", and
 *             to ctl_error_object().
 * @param ex   the exit code to give when @p rc is PA_OK.
 * @return @p ex for PA_OK, else CTL_EXIT_FAILURE.
 */
int ctl_exit(int rc, const pa_err *err, int ex);

/**
 * Make a client for the global options' URLs and TLS files. A value it
 * cannot use (PA_INVALID_ARGUMENT) is a usage error: it exits.
 * @return PA_OK, or pa_client_new()'s status (a TLS file not found).
 */
int ctl_client(pa_client **out, const ctl *c, pa_err *err);

/** The path a manifest argument names: "-" is standard input, as kubectl's. */
#define CTL_STDIN "-"

/**
 * What messages call the file @p path names.
 * @return "<stdin>" for CTL_STDIN, else @p path; static or borrowed.
 */
const char *ctl_file_name(const char *path);

/**
 * Read a whole file, NUL-terminated; CTL_STDIN reads standard input.
 * @param[out] out  malloc'd; the caller frees it. Set only on PA_OK.
 */
int ctl_read_file(char **out, size_t *len_out, const char *path, pa_err *err);

/**
 * Read and parse a DataVolume manifest, CTL_STDIN for standard input;
 * errors say "<file>:line:column" with the name ctl_file_name() gives.
 * Fields CDI does not define are warnings on stderr, or, when @p strict,
 * the error (--strict of resolve and provision).
 */
int ctl_datavolume(
    pa_datavolume **out, const char *path, bool strict, pa_err *err);

/**
 * Print @p root in the global format and release it: the result that
 * ctl_error_object() then does not follow with an error object.
 * @return CTL_EXIT_OK, or CTL_EXIT_FAILURE when it could not be written.
 */
int ctl_print(const ctl *c, json_t *root);

/**
 * Print @p job in the global format; then the exit code for it: 0 when it
 * succeeded or is still running (--no-wait), else its error (or
 * "cancelled") on stderr and 1.
 */
int ctl_print_job(const ctl *c, const pa_job *job);

/** Every command, in the order 'preallocctl --help' lists them. */
extern const ctl_command *const ctl_commands[];
extern const size_t             ctl_ncommands;

// The commands, one per cmd_<name>.c.
extern const ctl_command cmd_resolve;
extern const ctl_command cmd_config;
extern const ctl_command cmd_preallocate;
extern const ctl_command cmd_probe;
extern const ctl_command cmd_jobs;
extern const ctl_command cmd_job;
extern const ctl_command cmd_cancel;
extern const ctl_command cmd_provision;

#endif // PREALLOC_CTL_H
