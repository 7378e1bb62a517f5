// SPDX-License-Identifier: Apache-2.0
// ctl.c: what preallocctl's commands share: usage errors, argument
// parsing, the client, files, printing and a job's outcome.
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

// What failures are reported in on stdout, and whether a result is there
// already: one process runs one command, so this is the process's.
static output_format error_format = OUTPUT_TABLE;
static bool          printed;

void
ctl_set_error_format(output_format f)
{
	error_format = f;
}

void
ctl_error_object(int code, const char *msg)
{
	json_t *obj;

	if (error_format == OUTPUT_TABLE || printed)
		return;
	printed = true;
	// Out of memory or stdout gone: the line on stderr still says it.
	if ((obj = output_error(code, msg)) != NULL)
		(void) output_print(stdout, error_format, obj);
	json_decref(obj);
}

void
ctl_usage_error(const ctl_command *cmd, const char *fmt, ...)
{
	char   *msg = NULL;
	va_list ap;
	int     n;

	if (cmd != NULL && cmd->name == NULL)
		cmd = NULL; // the global options
	// Whole, however long the argument it quotes: stderr and the
	// object say the same.
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = NULL;
	fprintf(stderr, "preallocctl%s%s: %s\nTry 'preallocctl%s%s --help'.\n",
	    cmd ? " " : "", cmd ? cmd->name : "", msg ? msg : "out of memory",
	    cmd ? " " : "", cmd ? cmd->name : "");
	ctl_error_object(PA_INVALID_ARGUMENT, msg ? msg : "out of memory");
	free(msg);
	exit(CTL_EXIT_USAGE);
}

int
ctl_getopt(const ctl_command *cmd, int argc, char **argv)
{
	int opt;

	opterr = 0; // our own messages, naming the command
	opt    = getopt_long(argc, argv, cmd->optstring, cmd->longopts, NULL);
	if (opt == 'h' && cmd->help != NULL) {
		fputs(cmd->help, stdout);
		exit(CTL_EXIT_OK);
	}
	if (opt == ':')
		ctl_usage_error(
		    cmd, "option '%s' needs an argument", argv[optind - 1]);
	// optopt is a short option's letter, or a long one's value.
	if (opt == '?' && optopt > 0 && optopt < 128 && isalnum(optopt))
		ctl_usage_error(cmd, "unknown option '-%c'", optopt);
	if (opt == '?')
		ctl_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
	return opt;
}

const struct option ctl_help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void
ctl_only_help(const ctl_command *cmd, int argc, char **argv)
{
	while (ctl_getopt(cmd, argc, argv) != -1)
		; // ctl_getopt handles --help and errors itself
}

char *
ctl_args(const ctl_command *cmd, int argc, char **argv, int min, int max,
    const char *what)
{
	int n = argc - optind;

	if (n < min)
		ctl_usage_error(cmd, "missing %s", what);
	if (n > max)
		ctl_usage_error(
		    cmd, "unexpected argument '%s'", argv[optind + max]);
	return n > 0 ? argv[optind] : NULL;
}

int
ctl_subcommand(const ctl_command *cmd, int argc, char **argv)
{
	const char *const *subs      = cmd->subcommands;
	char               list[256] = "";
	size_t             n, len;

	assert(subs != NULL && subs[0] != NULL);
	for (n = 0; subs[n] != NULL; n++) { // "get, apply or check"
		const char *sep = n == 0 ? "" : subs[n + 1] ? ", " : " or ";

		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", sep, subs[n]);
	}
	if (optind >= argc)
		ctl_usage_error(cmd, "missing %s", list);
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[optind], subs[i]) == 0)
			return (int) i;
	ctl_usage_error(
	    cmd, "unknown subcommand '%s' (%s)", argv[optind], list);
}

uint64_t
ctl_quantity(const ctl_command *cmd, const char *opt, const char *s)
{
	pa_err   err = PA_ERR_INIT;
	uint64_t v   = 0;

	if (pa_parse_quantity(&v, s, &err) != PA_OK)
		ctl_usage_error(cmd, "%s: %s", opt, err.msg);
	return v;
}

uint64_t
ctl_number(const ctl_command *cmd, const char *opt, const char *s)
{
	char              *end = NULL;
	unsigned long long v;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0)
		ctl_usage_error(
		    cmd, "%s: \"%s\" is not a whole number", opt, s);
	return v;
}

pa_method
ctl_method(const ctl_command *cmd, const char *s)
{
	pa_err    err = PA_ERR_INIT;
	pa_method m   = PA_METHOD_AUTO;

	if (pa_method_parse(&m, s, &err) != PA_OK)
		ctl_usage_error(cmd, "--method: %s", err.msg);
	return m;
}

int
ctl_exit(int rc, const pa_err *err, int ex)
{
	if (rc == PA_OK)
		return ex;
	fprintf(stderr, "preallocctl: %s (%s)\n", err->msg,
	    pa_status_name(err->code));
	ctl_error_object(err->code, err->msg);
	return CTL_EXIT_FAILURE;
}

int
ctl_client(pa_client **out, const ctl *c, pa_err *err)
{
	pa_client_opts opts  = PA_CLIENT_OPTS_INIT;
	pa_err         local = PA_ERR_INIT;
	int            rc;

	opts.policy_urls = c->policy_url;
	opts.agent_urls  = c->agent_url;
	opts.tls_cert    = c->tls_cert;
	opts.tls_key     = c->tls_key;
	opts.tls_ca      = c->tls_ca;
	if (c->timeout_ms != 0) {
		opts.deadline_ms = c->timeout_ms;
		if (opts.connect_ms > c->timeout_ms)
			opts.connect_ms = c->timeout_ms;
	}
	if (err == NULL)
		err = &local;
	// All it is given are the global options: one it cannot use (a URL
	// of no known scheme) is a bad value on the command line.
	if ((rc = pa_client_new(out, &opts, err)) == PA_INVALID_ARGUMENT)
		ctl_usage_error(NULL, "%s", err->msg);
	return rc;
}

const char *
ctl_file_name(const char *path)
{
	return strcmp(path, CTL_STDIN) == 0 ? "<stdin>" : path;
}

int
ctl_read_file(char **out, size_t *len_out, const char *path, pa_err *err)
{
	bool   in  = strcmp(path, CTL_STDIN) == 0;
	FILE  *f   = in ? stdin : NULL;
	char  *buf = NULL;
	size_t len = 0, cap = 0, n;
	int    rc = PA_OK;

	path = ctl_file_name(path);
	if (f == NULL && (f = fopen(path, "rb")) == NULL) {
		rc = pa_err_errno(err, errno, "open %s", path);
		goto done;
	}
	do {
		if (len + 1 >= cap) {
			char *more = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (more == NULL) {
				rc = pa_err_errno(err, ENOMEM, "read %s", path);
				goto done;
			}
			buf = more;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		rc = pa_err_errno(err, errno, "read %s", path);
		goto done;
	}
	buf[len] = '\0';
	*out     = buf;
	*len_out = len;
	buf      = NULL;
done:
	free(buf);
	if (f != NULL && !in)
		fclose(f);
	return rc;
}

int
ctl_datavolume(pa_datavolume **out, const char *path, bool strict, pa_err *err)
{
	char  *yaml = NULL;
	size_t len  = 0;
	int    rc;

	if ((rc = ctl_read_file(&yaml, &len, path, err)) != PA_OK)
		return rc;
	rc = pa_datavolume_check(
	    out, yaml, len, ctl_file_name(path), strict, err);
	free(yaml);
	for (size_t i = 0; rc == PA_OK && i < (*out)->n_warnings; i++)
		fprintf(
		    stderr, "preallocctl: warning: %s\n", (*out)->warnings[i]);
	return rc;
}

int
ctl_print(const ctl *c, json_t *root)
{
	pa_err err = PA_ERR_INIT;
	int    rc  = PA_OK;

	if (root == NULL) {
		rc = pa_err_set(&err, PA_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		printed = true; // even half written: no second document
		if (output_print(stdout, c->format, root) != 0)
			rc = pa_err_set(&err, PA_INTERNAL,
			    "cannot write the output: %s", strerror(errno));
	}
	json_decref(root);
	return ctl_exit(rc, &err, CTL_EXIT_OK);
}

int
ctl_print_job(const ctl *c, const pa_job *job)
{
	pa_err err = PA_ERR_INIT;
	int    rc;

	if (ctl_print(c, view_job(job, c->format, false)) != CTL_EXIT_OK)
		return CTL_EXIT_FAILURE;
	switch (job->state) {
	case PA_JOB_SUCCEEDED:
		return CTL_EXIT_OK;
	case PA_JOB_CANCELLED:
		rc = pa_err_set(&err, PA_CANCELLED,
		    "job %s cancelled; the agent restored %s as it was",
		    job->id, job->path);
		break;
	case PA_JOB_FAILED:
		rc = pa_err_set(&err,
		    job->error_code != PA_OK ? job->error_code : PA_UNKNOWN,
		    "job %s failed: %s", job->id, job->error_message);
		break;
	default: // --no-wait: queued or running is what was asked for
		return CTL_EXIT_OK;
	}
	return ctl_exit(rc, &err, CTL_EXIT_OK);
}
