// SPDX-License-Identifier: Apache-2.0
// dispatch.c: preallocctl's global options, its help made from the command
// descriptors, and the choice of the command to run.
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "duration.h"

// Far above the 256 and up that commands give their long-only options, so
// that a value says whose option it is (check_command() makes sure).
enum { OPT_TLS_CERT = 0x1000, OPT_TLS_KEY, OPT_TLS_CA };

// Room for one command's options and the global ones together.
#define MERGED_MAX_OPTS 48
#define MERGED_MAX_CHARS 128

static const struct option global_options[] = {
	{ "policy", required_argument, NULL, 'p' },
	{ "agent", required_argument, NULL, 'a' },
	{ "output", required_argument, NULL, 'o' },
	{ "timeout", required_argument, NULL, 't' },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

// The program's own options, as a descriptor with no name: usage errors
// then name no command, and --help comes back as 'h' (the help is made
// from the table). Parsing stops at the command ('+'); after it they are
// taken out of the command's words by split_globals().
static const ctl_command globals = {
	.optstring = "+:p:a:o:t:Vh",
	.longopts  = global_options,
};

// One command's options and the global ones, for split_globals(): its
// name and help, so that errors and --help are the command's.
typedef struct merged {
	ctl_command   cmd;
	char          optstring[MERGED_MAX_CHARS];
	struct option longopts[MERGED_MAX_OPTS];
} merged;

static void __attribute__((noreturn))
usage(const ctl_command *const *cmds, size_t ncmds)
{
	printf("Usage: preallocctl [options] <command> [<args>]\n\n"
	       "Operate DataVolume preallocation: the policy service and the "
	       "node agents.\n\n"
	       "Options, before or after the command ('--' ends them):\n"
	       "  -p, --policy URL      policy service (or PREALLOC_POLICY; "
	       "default %s)\n"
	       "  -a, --agent URL       node agent (or PREALLOC_AGENT; else "
	       "ipc://%s\n"
	       "                        if that socket is there, else %s)\n"
	       "  -o, --output FORMAT   table (default), json or yaml\n"
	       "  -t, --timeout DUR     budget of one call: 30s, 500ms, 2m\n"
	       "      --tls-cert FILE   our certificate, for tls+tcp:// URLs\n"
	       "      --tls-key FILE    its key\n"
	       "      --tls-ca FILE     the CA the services' certificates "
	       "carry\n"
	       "  -V, --version         show the version\n"
	       "  -h, --help            show this help\n\n"
	       "Commands:\n",
	    PA_DEFAULT_POLICY_TCP, PA_AGENT_NODE_SOCKET, PA_DEFAULT_AGENT_TCP);
	for (size_t i = 0; i < ncmds; i++)
		printf("  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	printf("\nRun 'preallocctl <command> --help' for its options.\n"
	       "Exit status: 0 success; 1 the operation or a call failed, "
	       "a manifest\nthat does not validate too; 2 a usage error, a bad "
	       "value too.\n");
	exit(CTL_EXIT_OK);
}

// One global option into @p c; a bad value is a usage error, --version
// prints @p version and exits.
static void
global_option(ctl *c, int opt, const char *arg, const char *version)
{
	switch (opt) {
	case 'V':
		printf("preallocctl %s\n", version);
		exit(CTL_EXIT_OK);
	case 'p':
		c->policy_url = arg;
		break;
	case 'a':
		c->agent_url = arg;
		break;
	case 'o':
		if (output_format_parse(&c->format, arg) != 0) {
			ctl_set_error_format(OUTPUT_TABLE); // none to report in
			ctl_usage_error(NULL,
			    "--output: unknown format '%s' (table, json or "
			    "yaml)",
			    arg);
		}
		ctl_set_error_format(c->format);
		break;
	case 't':
		if ((c->timeout_ms = ctl_duration_ms(arg)) == 0)
			ctl_usage_error(NULL,
			    "--timeout: \"%s\" is not a duration (30s, 500ms, "
			    "2m)",
			    arg);
		break;
	case OPT_TLS_CERT:
		c->tls_cert = arg;
		break;
	case OPT_TLS_KEY:
		c->tls_key = arg;
		break;
	case OPT_TLS_CA:
		c->tls_ca = arg;
		break;
	}
}

// The format of the last "-o F", "-oF", "--output F" or "--output=F" up
// to "--", looked for before any parsing: a usage error found before the
// parse reaches -o ("jobs --bogus -o json") is then reported in it too.
// A value that is no format means stderr alone, as its parse then says.
static void
error_format_early(int argc, char **argv)
{
	output_format f = OUTPUT_TABLE, any;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *v = NULL;

		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			v = i + 1 < argc ? argv[++i] : NULL;
		else if (strncmp(a, "--output=", 9) == 0)
			v = a + 9;
		else if (strncmp(a, "-o", 2) == 0)
			v = a + 2;
		if (v != NULL)
			f = output_format_parse(&any, v) == 0 ? any
			                                      : OUTPUT_TABLE;
	}
	ctl_set_error_format(f);
}

// The URLs libprealloc's defaults give: the environment, the node's
// agent socket, the daemons' default listeners.
static void
global_defaults(ctl *c)
{
	c->policy_url = pa_default_policy_url();
	c->agent_url  = pa_default_agent_url();
}

// The descriptor named @p name; an unknown one is a usage error.
static const ctl_command *
find_command(const ctl_command *const *cmds, size_t ncmds, const char *name)
{
	for (size_t i = 0; i < ncmds; i++)
		if (strcmp(name, cmds[i]->name) == 0)
			return cmds[i];
	ctl_usage_error(NULL, "unknown command '%s'", name);
}

// Whether @p v is what getopt returns for a global option other than
// --help (which every command has as its own).
static bool
is_global(int v)
{
	if (v == 'h' || v == ':' || v == '+')
		return false;
	if (v > 0 && v < 128 && strchr(globals.optstring, v) != NULL)
		return true;
	for (const struct option *o = global_options; o->name != NULL; o++)
		if (o->val == v && o->flag == NULL)
			return true;
	return false;
}

// Whether @p name is a global long option other than "help".
static bool
is_global_name(const char *name)
{
	for (const struct option *o = global_options; o->name != NULL; o++)
		if (strcmp(o->name, "help") != 0 && strcmp(o->name, name) == 0)
			return true;
	return false;
}

// A descriptor that breaks ctl_command's rules: not the user's error, so
// exit CTL_EXIT_FAILURE, not CTL_EXIT_USAGE.
static void __attribute__((noreturn, format(printf, 2, 3)))
bug(const ctl_command *cmd, const char *fmt, ...)
{
	char    msg[PA_ERR_MSG_SIZE];
	int     n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "bug: command '%s' ", cmd->name);
	if (n < 0 || (size_t) n >= sizeof(msg))
		n = 0; // a name that long: the message alone
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t) n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "preallocctl: %s\n", msg);
	ctl_error_object(PA_INTERNAL, msg);
	exit(CTL_EXIT_FAILURE);
}

// A command's option that a global one also is would be taken by
// whichever split_globals() looks at first: a descriptor may not have one.
static void
check_command(const ctl_command *cmd)
{
	for (const char *p = cmd->optstring; *p != '\0'; p++)
		if (is_global((unsigned char) *p))
			bug(cmd, "has '-%c', a global option", *p);
	for (const struct option *o = cmd->longopts; o->name != NULL; o++) {
		if (is_global_name(o->name))
			bug(cmd, "has '--%s', a global option", o->name);
		if (o->flag == NULL && is_global(o->val))
			bug(cmd, "gives '--%s' the value of a global option",
			    o->name);
	}
}

// @p cmd's options, then the global ones but --help, into @p m.
static void
merge_options(merged *m, const ctl_command *cmd)
{
	const char *own = cmd->optstring + strspn(cmd->optstring, "+:");
	size_t      n   = 0;
	int         len;

	len = snprintf(m->optstring, sizeof(m->optstring), "+:%s%s", own,
	    globals.optstring + strspn(globals.optstring, "+:"));
	if (len < 0 || (size_t) len >= sizeof(m->optstring))
		bug(cmd, "has too many options");
	// The global 'h' is the last letter: drop it, the command has one.
	assert(m->optstring[len - 1] == 'h');
	m->optstring[len - 1] = '\0';
	for (int t = 0; t < 2; t++) {
		const struct option *o =
		    t == 0 ? cmd->longopts : global_options;

		for (; o->name != NULL; o++) {
			if (t == 1 && strcmp(o->name, "help") == 0)
				continue; // the command's own
			if (n + 1 >= MERGED_MAX_OPTS)
				bug(cmd, "has too many options");
			m->longopts[n++] = *o;
		}
	}
	m->longopts[n]   = (struct option) { NULL, 0, NULL, 0 };
	m->cmd           = *cmd;
	m->cmd.optstring = m->optstring;
	m->cmd.longopts  = m->longopts;
}

/**
 * Take the global options out of a command's words, wherever they are up
 * to "--", into @p c. A word that holds both kinds ("-wo json") is a usage
 * error: the command gets its own words as they were.
 * @param[out] cmd_argv  argc + 1 entries: argv[0], the command's words,
 *                       and NULL; it borrows argv's strings.
 * @return the number of words in @p cmd_argv.
 */
static int
split_globals(ctl *c, char **cmd_argv, const ctl_command *cmd, int argc,
    char **argv, const char *version)
{
	merged m;
	int    n = 0, word = 1, opt;
	bool   has_global = false, has_own = false;

	merge_options(&m, cmd);
	cmd_argv[n++] = argv[0];
	optind        = 0; // a fresh scan
	while (word < argc) {
		if ((opt = ctl_getopt(&m.cmd, argc, argv)) == -1) {
			if (optind > word) { // "--": the rest are arguments
				while (word < argc)
					cmd_argv[n++] = argv[word++];
				break;
			}
			if (optind >= argc)
				break;
			cmd_argv[n++] = argv[optind++]; // an argument
			word          = optind;
			continue;
		}
		if (is_global(opt)) {
			global_option(c, opt, optarg, version);
			has_global = true;
		} else {
			has_own = true;
		}
		if (optind == word)
			continue; // more options in the same word
		if (has_global && has_own)
			ctl_usage_error(cmd,
			    "'%s' holds global and command options; give "
			    "them apart",
			    argv[word]);
		while (has_own && word < optind)
			cmd_argv[n++] = argv[word++];
		word       = optind;
		has_global = has_own = false;
	}
	cmd_argv[n] = NULL;
	return n;
}

int
dispatch_run(const ctl_command *const *cmds, size_t ncmds, const char *version,
    int argc, char **argv)
{
	ctl                c        = { 0 };
	char             **cmd_argv = NULL;
	const ctl_command *cmd;
	int                opt, cmd_argc, ex;

	error_format_early(argc, argv);
	for (size_t i = 0; i < ncmds; i++)
		check_command(cmds[i]);
	global_defaults(&c);
	optind = 0; // a fresh scan, also when called again (tests)
	while ((opt = ctl_getopt(&globals, argc, argv)) != -1) {
		if (opt == 'h')
			usage(cmds, ncmds);
		global_option(&c, opt, optarg, version);
	}
	if (optind >= argc)
		ctl_usage_error(NULL, "no command given");
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc)
			usage(cmds, ncmds);
		// "help <command>" is "<command> --help".
		fputs(
		    find_command(cmds, ncmds, argv[optind + 1])->help, stdout);
		exit(CTL_EXIT_OK);
	}
	cmd = find_command(cmds, ncmds, argv[optind]);
	argc -= optind;
	argv += optind;
	if ((cmd_argv = calloc((size_t) argc + 1, sizeof(*cmd_argv))) == NULL) {
		fprintf(stderr, "preallocctl: out of memory\n");
		ctl_error_object(PA_RESOURCE_EXHAUSTED, "out of memory");
		return CTL_EXIT_FAILURE;
	}
	cmd_argc = split_globals(&c, cmd_argv, cmd, argc, argv, version);
	optind   = 0; // the command parses its own options
	ex       = cmd->run(&c, cmd, cmd_argc, cmd_argv);
	free(cmd_argv);
	return ex;
}
