// SPDX-License-Identifier: Apache-2.0
// ctl_test.c: preallocctl's dispatch and option handling with made-up
// commands, no daemon: global options, help made from the descriptors,
// usage errors and exit codes, the error object of -o json and yaml; that
// preallocctl.1 and the help name every command and subcommand the code
// accepts, and no other; that each daemon's man page has every long
// option of its --help, and no other; and that every page renders
// without a warning.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "dispatch.h"
#include "duration.h"
#include "testlib.h"

static const struct option alpha_options[] = {
	{ "xray", required_argument, NULL, 'x' },
	{ "yank", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define ALPHA_HELP "Usage: preallocctl alpha THING [--xray X]\n"

// Prints what it was given, so that a test sees what dispatch passed on.
static int
alpha_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	const char *x = "-", *thing;
	int         opt;

	while ((opt = ctl_getopt(cmd, argc, argv)) != -1)
		if (opt == 'x')
			x = optarg; // -y only has to be taken
	thing = ctl_args(cmd, argc, argv, 1, 1, "THING");
	printf("alpha x=%s thing=%s format=%d policy=%s agent=%s "
	       "timeout=%u\n",
	    x, thing, (int) c->format, c->policy_url, c->agent_url,
	    c->timeout_ms);
	return 7;
}

static const ctl_command alpha = {
	.name      = "alpha",
	.summary   = "the first command",
	.optstring = ":x:yh",
	.longopts  = alpha_options,
	.help      = ALPHA_HELP,
	.run       = alpha_run,
};

// Fails as a library call would.
static int
fail_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_err err = PA_ERR_INIT;

	(void) c;
	ctl_only_help(cmd, argc, argv);
	ctl_args(cmd, argc, argv, 0, 0, "");
	return ctl_exit(
	    pa_err_set(&err, PA_NOT_FOUND, "no such thing"), &err, CTL_EXIT_OK);
}

static const ctl_command fail = {
	.name      = "fail",
	.summary   = "the second command",
	.optstring = ":h",
	.longopts  = ctl_help_only,
	.help      = "Usage: preallocctl fail\n",
	.run       = fail_run,
};

static const ctl_command *const table[] = { &alpha, &fail };

// What dispatch() runs: table, but for one test.
static const ctl_command *const *tab = table;

typedef struct result {
	int  status;
	char out[8192], err[8192];
} result;

static void
read_into(char *buf, size_t size, int fd)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

// Run dispatch_run() on "preallocctl" and the NULL-terminated words in a
// child, as the program would: it may exit().
static result *
dispatch(const char *word, ...)
{
	static result r;
	char         *argv[32] = { "preallocctl" };
	int           argc = 1, st = 0;
	FILE         *o = tmpfile(), *e = tmpfile();
	va_list       ap;
	pid_t         pid;

	va_start(ap, word);
	for (const char *w = word; w != NULL; w = va_arg(ap, const char *))
		argv[argc++] = (char *) w;
	va_end(ap);
	argv[argc] = NULL;
	assert_non_null(o);
	assert_non_null(e);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		dup2(fileno(o), STDOUT_FILENO);
		dup2(fileno(e), STDERR_FILENO);
		st = dispatch_run(tab, 2, "9.9", argc, argv);
		fflush(stdout);
		_exit(st);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	r.status = WEXITSTATUS(st);
	read_into(r.out, sizeof(r.out), dup(fileno(o)));
	read_into(r.err, sizeof(r.err), dup(fileno(e)));
	fclose(o);
	fclose(e);
	return &r;
}

static void
test_ctl__runs_the_named_command_with_the_global_options(void **state)
{
	result *r;

	(void) state;
	r = dispatch("-o", "json", "--policy", "ipc://p", "-a", "ipc://a",
	    "--timeout=500ms", "alpha", "--xray", "1", "t", NULL);
	assert_int_equal(r->status, 7);
	assert_string_equal(r->out,
	    "alpha x=1 thing=t format=1 policy=ipc://p agent=ipc://a "
	    "timeout=500\n");
	assert_string_equal(r->err, "");
	r = dispatch("-t", "2m", "-o", "yaml", "alpha", "t", NULL);
	assert_int_equal(r->status, 7);
	assert_non_null(strstr(r->out, "format=2 "));
	assert_non_null(strstr(r->out, "timeout=120000\n"));
}

static void
test_ctl__urls_come_from_the_environment_else_the_defaults(void **state)
{
	result *r;
	char    want[600];

	(void) state;
	setenv("PREALLOC_POLICY", "ipc://env-p", 1);
	setenv("PREALLOC_AGENT", "", 1);
	r = dispatch("alpha", "t", NULL);
	snprintf(want, sizeof(want), "policy=ipc://env-p agent=%s ",
	    pa_default_agent_url());
	assert_non_null(strstr(r->out, want));
	setenv("PREALLOC_AGENT", "ipc://env-a", 1);
	r = dispatch("alpha", "t", NULL);
	assert_non_null(strstr(r->out, "agent=ipc://env-a "));
	unsetenv("PREALLOC_POLICY");
	unsetenv("PREALLOC_AGENT");
	r = dispatch("alpha", "t", NULL);
	assert_non_null(strstr(r->out, "policy=" PA_DEFAULT_POLICY_TCP " "));
}

static void
test_ctl__command_flags_go_before_or_after_its_arguments(void **state)
{
	result *r;

	(void) state;
	r = dispatch("alpha", "t", "-x", "2", NULL);
	assert_int_equal(r->status, 7);
	assert_non_null(strstr(r->out, "alpha x=2 thing=t "));
	// After "--" a word that looks like an option is an argument.
	r = dispatch("alpha", "--", "-x", NULL);
	assert_int_equal(r->status, 7);
	assert_non_null(strstr(r->out, "alpha x=- thing=-x "));
}

static void
test_ctl__global_options_go_anywhere_on_the_line(void **state)
{
	result *r;
	char    want[600];

	(void) state;
	// As kubectl: before, between and after the command's words.
	r = dispatch("alpha", "-o", "json", "t", NULL);
	assert_int_equal(r->status, 7);
	snprintf(want, sizeof(want),
	    "alpha x=- thing=t format=1 policy=" PA_DEFAULT_POLICY_TCP
	    " agent=%s timeout=0\n",
	    pa_default_agent_url());
	assert_string_equal(r->out, want);
	assert_string_equal(r->err, "");
	r = dispatch("--policy=ipc://p", "alpha", "-x", "1", "t", "-oyaml",
	    "--agent", "ipc://a", "--timeout", "2m", NULL);
	assert_int_equal(r->status, 7);
	assert_string_equal(r->out,
	    "alpha x=1 thing=t format=2 policy=ipc://p agent=ipc://a "
	    "timeout=120000\n");
	// A command's option's argument is not taken for a global option.
	r = dispatch("alpha", "-x", "-o", "t", NULL);
	assert_non_null(strstr(r->out, "alpha x=-o thing=t format=0 "));
	// After "--" every word is an argument, global-looking or not.
	r = dispatch("alpha", "--", "-o", NULL);
	assert_int_equal(r->status, 7);
	assert_non_null(strstr(r->out, "alpha x=- thing=-o format=0 "));
	r = dispatch("alpha", "-o", "json", "--", "--policy", NULL);
	assert_non_null(strstr(r->out, "thing=--policy format=1 "));
	// A bad value after the command is the same usage error as before.
	r = dispatch("alpha", "t", "-o", "xml", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl: --output: unknown format 'xml' (table, json or "
	    "yaml)\nTry 'preallocctl --help'.\n");
	r = dispatch("alpha", "t", "--version", NULL);
	assert_string_equal(r->out, "preallocctl 9.9\n");
	// One word may not hold both kinds.
	r = dispatch("alpha", "-yo", "json", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "'-yo' holds global and command"));
	r = dispatch("alpha", "-yx", "1", "t", NULL);
	assert_non_null(strstr(r->out, "alpha x=1 thing=t "));
}

static const struct option clash_name_options[] = {
	{ "output", required_argument, NULL, 256 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option clash_value_options[] = {
	{ "agentless", no_argument, NULL, 'a' }, // --agent's value
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static ctl_command clash;

static const ctl_command *const clash_table[] = { &alpha, &clash };

static void
test_ctl__a_command_may_not_redefine_a_global_option(void **state)
{
	result *r;

	(void) state;
	clash      = alpha;
	clash.name = "clash";
	// Any command with one fails every run, so that no test misses it.
	tab             = clash_table;
	clash.optstring = ":o:h"; // -o is --output's
	r               = dispatch("alpha", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->err,
	    "preallocctl: bug: command 'clash' has '-o', a global option\n");
	assert_string_equal(r->out, "");
	clash.optstring = ":h";
	clash.longopts  = clash_name_options;
	r               = dispatch("alpha", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->err,
	    "preallocctl: bug: command 'clash' has '--output', a global "
	    "option\n");
	clash.longopts = clash_value_options;
	r              = dispatch("--help", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_non_null(strstr(r->err, "gives '--agentless' the value of"));
	// --help is every command's own.
	clash.longopts = ctl_help_only;
	assert_int_equal(dispatch("clash", "t", NULL)->status, 7);
	tab = table;
}

static void
test_ctl__help_is_made_from_the_descriptors(void **state)
{
	char    first[sizeof(((result *) 0)->out)];
	result *r;

	(void) state;
	r = dispatch("--help", NULL);
	assert_int_equal(r->status, CTL_EXIT_OK);
	assert_non_null(strstr(
	    r->out, "Usage: preallocctl [options] <command> [<args>]\n"));
	assert_non_null(strstr(r->out,
	    "Commands:\n"
	    "  alpha        the first command\n"
	    "  fail         the second command\n\n"
	    "Run 'preallocctl <command> --help' for its options.\n"));
	assert_string_equal(r->err, "");
	snprintf(first, sizeof(first), "%s", r->out);
	// -h, "help", and --help before a command print the same.
	assert_string_equal(dispatch("-h", NULL)->out, first);
	assert_string_equal(dispatch("help", NULL)->out, first);
	assert_string_equal(dispatch("--help", "alpha", NULL)->out, first);
}

static void
test_ctl__command_help_prints_its_text_and_runs_nothing(void **state)
{
	result *r;

	(void) state;
	r = dispatch("-o", "json", "alpha", "--help", NULL);
	assert_int_equal(r->status, CTL_EXIT_OK);
	assert_string_equal(r->out, ALPHA_HELP);
	// --help wins over what else is wrong on the line.
	r = dispatch("fail", "-h", "extra", NULL);
	assert_int_equal(r->status, CTL_EXIT_OK);
	assert_string_equal(r->out, "Usage: preallocctl fail\n");
}

static void
test_ctl__help_with_a_command_prints_its_help(void **state)
{
	result *r;

	(void) state;
	r = dispatch("help", "alpha", NULL);
	assert_int_equal(r->status, CTL_EXIT_OK);
	assert_string_equal(r->out, ALPHA_HELP);
	r = dispatch("help", "bogus", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl: unknown command 'bogus'\n"
	    "Try 'preallocctl --help'.\n");
	assert_string_equal(r->out, "");
}

static void
test_ctl__unknown_or_missing_command_is_a_usage_error(void **state)
{
	result *r;

	(void) state;
	r = dispatch("bogus", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl: unknown command 'bogus'\n"
	    "Try 'preallocctl --help'.\n");
	r = dispatch(NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl: no command given\nTry 'preallocctl --help'.\n");
}

static void
test_ctl__option_errors_name_the_command(void **state)
{
	result *r;

	(void) state;
	r = dispatch("alpha", "t", "-x", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl alpha: option '-x' needs an argument\n"
	    "Try 'preallocctl alpha --help'.\n");
	r = dispatch("alpha", "--bogus", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "unknown option '--bogus'\n"));
	r = dispatch("alpha", "-q", "t", NULL);
	assert_non_null(strstr(r->err, "unknown option '-q'\n"));
	r = dispatch("--bogus", "alpha", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl: unknown option '--bogus'\n"
	    "Try 'preallocctl --help'.\n");
	r = dispatch("--policy", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "option '--policy' needs an argument"));
}

static void
test_ctl__bad_global_values_are_usage_errors(void **state)
{
	static const char *const bad_timeouts[] = { "0", "abc", "5x", "-1s",
		"9999999999" };
	result                  *r;

	(void) state;
	r = dispatch("-o", "xml", "alpha", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "--output: unknown format 'xml'"));
	for (size_t i = 0; i < sizeof(bad_timeouts) / sizeof(bad_timeouts[0]);
	     i++) {
		r = dispatch("-t", bad_timeouts[i], "alpha", "t", NULL);
		assert_int_equal(r->status, CTL_EXIT_USAGE);
		assert_non_null(strstr(r->err, "is not a duration"));
	}
}

static void
test_ctl__positional_arguments_are_counted(void **state)
{
	result *r;

	(void) state;
	r = dispatch("alpha", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl alpha: missing THING\n"
	    "Try 'preallocctl alpha --help'.\n");
	r = dispatch("alpha", "a", "b", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "unexpected argument 'b'\n"));
}

static void
test_ctl__a_failed_status_exits_1_with_its_code_name(void **state)
{
	result *r;

	(void) state;
	r = dispatch("fail", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->err, "preallocctl: no such thing (NOT_FOUND)\n");
	assert_string_equal(r->out, "");
}

static void
test_ctl__version_prints_the_one_given(void **state)
{
	result *r;

	(void) state;
	r = dispatch("--version", "alpha", NULL);
	assert_int_equal(r->status, CTL_EXIT_OK);
	assert_string_equal(r->out, "preallocctl 9.9\n");
	assert_string_equal(dispatch("-V", NULL)->out, "preallocctl 9.9\n");
}

/* ---- the error object under -o json and -o yaml ---------------------- */

// output_error() for @p code and @p msg, printed in @p f into @p buf.
static void
render_error(char *buf, size_t size, output_format f, int code, const char *msg)
{
	FILE   *fp  = tmpfile();
	json_t *obj = output_error(code, msg);

	assert_non_null(fp);
	assert_non_null(obj);
	assert_int_equal(output_print(fp, f, obj), 0);
	json_decref(obj);
	read_into(buf, size, dup(fileno(fp)));
	fclose(fp);
}

static void
test_ctl__error_object_holds_a_manifests_position(void **state)
{
	char buf[1024];

	(void) state;
	render_error(buf, sizeof(buf), OUTPUT_JSON, PA_INVALID_ARGUMENT,
	    "dv.yaml:3:5: spec.storage: expected a map");
	assert_string_equal(buf,
	    "{\n"
	    "  \"error\": {\n"
	    "    \"code\": \"INVALID_ARGUMENT\",\n"
	    "    \"message\": \"spec.storage: expected a map\",\n"
	    "    \"file\": \"dv.yaml\",\n"
	    "    \"line\": 3,\n"
	    "    \"column\": 5\n"
	    "  }\n"
	    "}\n");
	// The same object in YAML; "<stdin>" is the name of standard input.
	render_error(buf, sizeof(buf), OUTPUT_YAML, PA_INVALID_ARGUMENT,
	    "<stdin>:12:1: metadata.name: missing");
	assert_string_equal(buf,
	    "error:\n"
	    "  code: INVALID_ARGUMENT\n"
	    "  message: 'metadata.name: missing'\n"
	    "  file: <stdin>\n"
	    "  line: 12\n"
	    "  column: 1\n");
}

static void
test_ctl__error_object_without_a_position(void **state)
{
	char buf[1024];

	(void) state;
	render_error(buf, sizeof(buf), OUTPUT_JSON, PA_UNAVAILABLE,
	    "cannot connect to ipc:///x (after 5 attempts)");
	assert_string_equal(buf,
	    "{\n"
	    "  \"error\": {\n"
	    "    \"code\": \"UNAVAILABLE\",\n"
	    "    \"message\": \"cannot connect to ipc:///x (after 5 "
	    "attempts)\"\n"
	    "  }\n"
	    "}\n");
	render_error(buf, sizeof(buf), OUTPUT_YAML, PA_NOT_FOUND,
	    "open dv.yaml: No such file or directory");
	assert_string_equal(buf,
	    "error:\n"
	    "  code: NOT_FOUND\n"
	    "  message: 'open dv.yaml: No such file or directory'\n");
}

static void
test_ctl__error_position_is_parsed_strictly(void **state)
{
	// Text that only looks like a position names none.
	static const char *const none[] = { "", ":", ":3:5: no file",
		"dv.yaml:3: one number", "dv.yaml:3:5 no colon after",
		"dv.yaml:0:5: line 0", "dv.yaml:3:x: column not a number",
		"dv.yaml:99999999999:5: too big", "dv.yaml:3:5:x glued on",
		"job 1:2:3 failed", "a:b:c" };
	output_position          pos;
	char                     longname[400];

	(void) state;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (output_error_position(&pos, none[i]))
			fail_msg("\"%s\" taken for %s:%d:%d", none[i], pos.file,
			    pos.line, pos.column);
	// A path with colons: the first run of two numbers ends it.
	assert_true(output_error_position(&pos, "a:b/dv.yaml:7:9: bad"));
	assert_string_equal(pos.file, "a:b/dv.yaml");
	assert_int_equal(pos.line, 7);
	assert_int_equal(pos.column, 9);
	assert_string_equal(pos.sentence, "bad");
	// The end of the message right after the column.
	assert_true(output_error_position(&pos, "dv.yaml:1:2:"));
	assert_string_equal(pos.sentence, "");
	// A file name longer than any message holds: no position, no crash.
	memset(longname, 'f', sizeof(longname));
	snprintf(longname + 300, sizeof(longname) - 300, ":1:2: x");
	assert_false(output_error_position(&pos, longname));
}

static void
test_ctl__failures_print_an_error_object_under_json_and_yaml(void **state)
{
	result *r;
	json_t *root;

	(void) state;
	// A call that fails: the line on stderr, the object on stdout.
	r = dispatch("fail", "-o", "json", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->err, "preallocctl: no such thing (NOT_FOUND)\n");
	assert_non_null(root = json_loads(r->out, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "error"), "code")),
	    "NOT_FOUND");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "error"), "message")),
	    "no such thing");
	json_decref(root);
	// A usage error, in YAML, -o before the command.
	r = dispatch("--output=yaml", "alpha", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->err,
	    "preallocctl alpha: missing THING\n"
	    "Try 'preallocctl alpha --help'.\n");
	assert_string_equal(r->out,
	    "error:\n"
	    "  code: INVALID_ARGUMENT\n"
	    "  message: missing THING\n");
	// One found before the parse reaches -o, and a bad global value.
	r = dispatch("alpha", "--bogus", "t", "-ojson", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->out,
	    "\"message\": \"unknown option "
	    "'--bogus'\""));
	r = dispatch("-o", "json", "-t", "5x", "alpha", "t", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->out, "\"code\": \"INVALID_ARGUMENT\""));
	// Without -o json or yaml, stdout stays empty.
	assert_string_equal(dispatch("fail", NULL)->out, "");
	assert_string_equal(dispatch("-o", "table", "fail", NULL)->out, "");
}

// Prints a result, then fails: as a job that failed does.
static int
half_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	pa_err  err = PA_ERR_INIT;
	json_t *res = json_object();

	ctl_only_help(cmd, argc, argv);
	output_str(res, "state", "failed");
	if (ctl_print(c, res) != CTL_EXIT_OK)
		return CTL_EXIT_FAILURE;
	return ctl_exit(
	    pa_err_set(&err, PA_DATA_LOSS, "job 1 failed"), &err, CTL_EXIT_OK);
}

static const ctl_command half = {
	.name      = "half",
	.summary   = "prints, then fails",
	.optstring = ":h",
	.longopts  = ctl_help_only,
	.help      = "Usage: preallocctl half\n",
	.run       = half_run,
};

static const ctl_command *const half_table[] = { &alpha, &half };

static void
test_ctl__after_a_result_no_error_object_follows(void **state)
{
	result *r;

	(void) state;
	tab = half_table;
	// stdout holds one document: the result; stderr says why it failed.
	r = dispatch("half", "-o", "json", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->out, "{\n  \"state\": \"failed\"\n}\n");
	assert_string_equal(r->err, "preallocctl: job 1 failed (DATA_LOSS)\n");
	r = dispatch("-o", "yaml", "half", NULL);
	assert_int_equal(r->status, CTL_EXIT_FAILURE);
	assert_string_equal(r->out, "state: failed\n");
	tab = table;
}

static void
test_ctl__a_bad_output_format_reports_on_stderr_only(void **state)
{
	result *r;

	(void) state;
	// No format to report in: not even the one an earlier -o gave.
	r = dispatch("-o", "json", "alpha", "t", "-o", "xml", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r->err, "--output: unknown format 'xml'"));
	assert_string_equal(r->out, "");
	r = dispatch("-o", "xml", "fail", NULL);
	assert_int_equal(r->status, CTL_EXIT_USAGE);
	assert_string_equal(r->out, "");
}

// Whether the space-separated list @p list holds the word @p w.
static bool
has_word(const char *list, const char *w)
{
	char key[64];

	snprintf(key, sizeof(key), " %s ", w);
	return strstr(list, key) != NULL;
}

static void
test_ctl__man_page_names_every_command_and_no_other(void **state)
{
	const char *src         = getenv("PREALLOC_SOURCE_DIR");
	char        names[1024] = " ", man_names[1024] = " ", word[64];
	char       *help = NULL, *man = NULL, *p;

	(void) state;
	if (src == NULL)
		skip(); // only ctest says where the sources are
	assert_int_equal(testlib_capture(&help, "'%s' --help",
	                     testlib_built("clients/preallocctl/preallocctl")),
	    0);
	// The command names: the first word of each line under "Commands:".
	assert_non_null(p = strstr(help, "\nCommands:\n"));
	for (p = strchr(p + 1, '\n') + 1;
	     sscanf(p, "  %63s", word) == 1 && strncmp(p, "  ", 2) == 0;
	     p = strchr(p, '\n') + 1) {
		strcat(names, word);
		strcat(names, " ");
	}
	assert_int_equal(testlib_capture(&man,
	                     "sed -n 's/^\\.It Cm \\([a-z]*\\).*/\\1/p' "
	                     "'%s/clients/preallocctl/preallocctl.1' | uniq",
	                     src),
	    0);
	for (char *w = strtok(man, "\n"); w != NULL; w = strtok(NULL, "\n")) {
		if (!has_word(names, w))
			fail_msg("preallocctl.1 has '%s'; --help lists:%s", w,
			    names);
		strcat(man_names, w);
		strcat(man_names, " ");
	}
	for (char *w = strtok(names, " "); w != NULL; w = strtok(NULL, " "))
		if (!has_word(man_names, w))
			fail_msg("preallocctl.1 lacks command '%s'", w);
	free(help);
	free(man);
}

// Whether @p text has a line other than its first that is @p start, or
// starts with it and a space.
static bool
has_line(const char *text, const char *start)
{
	char   needle[160];
	size_t n = (size_t) snprintf(needle, sizeof(needle), "\n%s", start);

	for (const char *p = strstr(text, needle); p != NULL;
	     p             = strstr(p + 1, needle))
                if (p[n] == ' ' || p[n] == '\n')
                        return true;
	return false;
}

// Whether @p sub is one of @p cmd's subcommands.
static bool
is_subcommand(const ctl_command *cmd, const char *sub)
{
	for (const char *const *s = cmd->subcommands; s && *s; s++)
		if (strcmp(*s, sub) == 0)
			return true;
	return false;
}

// The words the man page puts after ".It Cm <cmd>" must be ones the code
// accepts, and each it accepts must be there, in the summary that
// --help lists and in the command's own help.
static void
check_subcommands(const ctl_command *cmd, const char *man)
{
	char        want[128], word[64];
	const char *p;

	for (const char *const *s = cmd->subcommands; s && *s; s++) {
		snprintf(want, sizeof(want), ".It Cm %s %s", cmd->name, *s);
		if (!has_line(man, want))
			fail_msg("preallocctl.1 lacks '%s'", want);
		if (strstr(cmd->summary, *s) == NULL)
			fail_msg("'%s' summary \"%s\" does not name '%s'",
			    cmd->name, cmd->summary, *s);
		snprintf(
		    want, sizeof(want), "preallocctl %s %s", cmd->name, *s);
		if (strstr(cmd->help, want) == NULL)
			fail_msg(
			    "'%s --help' does not show '%s'", cmd->name, want);
	}
	snprintf(want, sizeof(want), "\n.It Cm %s ", cmd->name);
	for (p = strstr(man, want); p != NULL; p = strstr(p + 1, want)) {
		if (sscanf(p + strlen(want), "%63[a-z-]", word) != 1)
			continue; // an option or an argument follows
		if (cmd->subcommands == NULL)
			fail_msg("preallocctl.1 has '%s %s'; '%s' takes no "
			         "subcommand",
			    cmd->name, word, cmd->name);
		if (!is_subcommand(cmd, word))
			fail_msg("preallocctl.1 has '%s %s', which the code "
			         "does not accept",
			    cmd->name, word);
	}
}

static void
test_ctl__help_and_man_page_name_the_real_subcommands(void **state)
{
	const char *src = getenv("PREALLOC_SOURCE_DIR");
	char        path[4096], want[128], *man = NULL;
	size_t      len = 0;
	pa_err      err = PA_ERR_INIT;

	(void) state;
	if (src == NULL)
		skip(); // only ctest says where the sources are
	snprintf(
	    path, sizeof(path), "%s/clients/preallocctl/preallocctl.1", src);
	assert_int_equal(ctl_read_file(&man, &len, path, &err), PA_OK);
	for (size_t i = 0; i < ctl_ncommands; i++) {
		const ctl_command *cmd = ctl_commands[i];

		snprintf(
		    want, sizeof(want), "Usage: preallocctl %s", cmd->name);
		if (strncmp(cmd->help, want, strlen(want)) != 0 ||
		    strchr(" \n", cmd->help[strlen(want)]) == NULL)
			fail_msg("'%s --help' starts \"%.40s\"", cmd->name,
			    cmd->help);
		check_subcommands(cmd, man);
	}
	free(man);
}

/* ---- the daemons' man pages ----------------------------------------- */

// A daemon and its man page, both from the top of the tree.
static const char *const daemon_pages[][2] = {
	{ "service/prealloc-policyd", "service/prealloc-policyd.8" },
	{ "agent/prealloc-agentd", "agent/prealloc-agentd.8" },
};
#define NDAEMONS (sizeof(daemon_pages) / sizeof(daemon_pages[0]))

static void
test_ctl__daemon_man_pages_have_every_long_option_and_no_other(void **state)
{
	const char *src = getenv("PREALLOC_SOURCE_DIR");

	(void) state;
	if (src == NULL)
		skip(); // only ctest says where the sources are
	for (size_t i = 0; i < NDAEMONS; i++) {
		char *help = NULL, *man = NULL;

		// --help: each line that starts with an option, after blanks.
		assert_int_equal(
		    testlib_capture(&help,
		        "'%s' --help | sed -n 's/^ "
		        "*\\(-[a-zA-Z], *\\)\\{0,1\\}\\(--[a-z][a-z-]"
		        "*\\).*/\\2/p' | sort -u",
		        testlib_built(daemon_pages[i][0])),
		    0);
		// The man page: the tag after each .TP under .SH OPTIONS.
		assert_int_equal(
		    testlib_capture(&man,
		        "awk '/^\\.SH/ { o = ($2 == \"OPTIONS\") } "
		        "o && t { print; t = 0 } /^\\.TP/ { t = o }' "
		        "'%s/%s' | sed 's/\\\\-/-/g' | grep -o -- "
		        "'--[a-z][a-z-]*' | sort -u",
		        src, daemon_pages[i][1]),
		    0);
		if (strstr(help, "--help\n") == NULL || strcmp(help, man) != 0)
			fail_msg("%s: --help has\n%sbut its OPTIONS have\n%s",
			    daemon_pages[i][1], help, man);
		free(help);
		free(man);
	}
}

static void
test_ctl__man_pages_render_without_warnings(void **state)
{
	const char *src = getenv("PREALLOC_SOURCE_DIR");
	char       *out = NULL;

	(void) state;
	if (src == NULL)
		skip(); // only ctest says where the sources are
	if (!testlib_have_program("groff"))
		fail_msg("no groff: .ci/deps installs groff-base");
	for (size_t i = 0; i <= NDAEMONS; i++) {
		const char *page = i < NDAEMONS ? daemon_pages[i][1]
		                                : "clients/preallocctl/"
		                                  "preallocctl.1";

		// -ww: every warning; the page's own macros (man or mdoc).
		assert_int_equal(testlib_capture(&out,
		                     "LC_ALL=C.UTF-8 groff -m%s -Tutf8 -ww -z "
		                     "'%s/%s' 2>&1",
		                     i < NDAEMONS ? "an" : "doc", src, page),
		    0);
		if (out[0] != '\0')
			fail_msg("%s:\n%s", page, out);
		free(out);
	}
}

// --timeout's durations: the units kubectl users type, and nothing else.
static void
test_ctl__durations_in_ms(void **state)
{
	static const struct {
		const char *in;
		uint32_t    ms;
	} cases[] = {
		{ "30s", 30000 },
		{ "500ms", 500 },
		{ "2m", 120000 },
		{ "45", 45000 },
		{ "4294967295ms", UINT32_MAX },
		{ "0", 0 },
		{ "0ms", 0 },
		{ "-5s", 0 },
		{ "+5s", 0 },
		{ " 5s", 0 },
		{ "5h", 0 },
		{ "5 s", 0 },
		{ "s", 0 },
		{ "", 0 },
		{ "4294968s", 0 },
		{ "99999999999999999999ms", 0 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ctl_duration_ms(cases[i].in) != cases[i].ms)
			fail_msg("\"%s\": %u ms, want %u", cases[i].in,
			    ctl_duration_ms(cases[i].in), cases[i].ms);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ctl__runs_the_named_command_with_the_global_options),
		cmocka_unit_test(
		    test_ctl__urls_come_from_the_environment_else_the_defaults),
		cmocka_unit_test(
		    test_ctl__command_flags_go_before_or_after_its_arguments),
		cmocka_unit_test(
		    test_ctl__global_options_go_anywhere_on_the_line),
		cmocka_unit_test(
		    test_ctl__a_command_may_not_redefine_a_global_option),
		cmocka_unit_test(test_ctl__durations_in_ms),
		cmocka_unit_test(test_ctl__help_is_made_from_the_descriptors),
		cmocka_unit_test(
		    test_ctl__command_help_prints_its_text_and_runs_nothing),
		cmocka_unit_test(test_ctl__help_with_a_command_prints_its_help),
		cmocka_unit_test(
		    test_ctl__unknown_or_missing_command_is_a_usage_error),
		cmocka_unit_test(test_ctl__option_errors_name_the_command),
		cmocka_unit_test(test_ctl__bad_global_values_are_usage_errors),
		cmocka_unit_test(test_ctl__positional_arguments_are_counted),
		cmocka_unit_test(
		    test_ctl__a_failed_status_exits_1_with_its_code_name),
		cmocka_unit_test(test_ctl__version_prints_the_one_given),
		cmocka_unit_test(
		    test_ctl__error_object_holds_a_manifests_position),
		cmocka_unit_test(test_ctl__error_object_without_a_position),
		cmocka_unit_test(test_ctl__error_position_is_parsed_strictly),
		cmocka_unit_test(
		    test_ctl__failures_print_an_error_object_under_json_and_yaml),
		cmocka_unit_test(
		    test_ctl__a_bad_output_format_reports_on_stderr_only),
		cmocka_unit_test(
		    test_ctl__after_a_result_no_error_object_follows),
		cmocka_unit_test(
		    test_ctl__man_page_names_every_command_and_no_other),
		cmocka_unit_test(
		    test_ctl__help_and_man_page_name_the_real_subcommands),
		cmocka_unit_test(
		    test_ctl__daemon_man_pages_have_every_long_option_and_no_other),
		cmocka_unit_test(test_ctl__man_pages_render_without_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
