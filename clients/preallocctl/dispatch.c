// SPDX-License-Identifier: Apache-2.0
// dispatch.c: preallocctl's global options, its help made from the command
// descriptors, and the choice of the command to run.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

enum { OPT_TLS_CERT = 256, OPT_TLS_KEY, OPT_TLS_CA };

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
// from the table). Parsing stops at the command ('+').
static const ctl_command globals = {
	.optstring = "+:p:a:o:t:Vh",
	.longopts  = global_options,
};

static void __attribute__((noreturn))
usage(const ctl_command *const *cmds, size_t ncmds)
{
	printf("Usage: preallocctl [options] <command> [<args>]\n\n"
	       "Operate DataVolume preallocation: the policy service and the "
	       "node agents.\n\n"
	       "Options:\n"
	       "  -p, --policy URL      policy service (or PREALLOC_POLICY; "
	       "default %s)\n"
	       "  -a, --agent URL       node agent (or PREALLOC_AGENT; "
	       "default %s)\n"
	       "  -o, --output FORMAT   table (default), json or yaml\n"
	       "  -t, --timeout DUR     budget of one call: 30s, 500ms, 2m\n"
	       "      --tls-cert FILE   our certificate, for tls+tcp:// URLs\n"
	       "      --tls-key FILE    its key\n"
	       "      --tls-ca FILE     the CA the services' certificates "
	       "carry\n"
	       "  -V, --version         show the version\n"
	       "  -h, --help            show this help\n\n"
	       "Commands:\n",
	    CTL_DEFAULT_POLICY, CTL_DEFAULT_AGENT);
	for (size_t i = 0; i < ncmds; i++)
		printf("  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	printf("\nRun 'preallocctl <command> --help' for its options.\n"
	       "Exit status: 0 success, 1 the operation failed, 2 usage "
	       "error.\n");
	exit(CTL_EXIT_OK);
}

// "30s", "500ms", "2m" or plain seconds, in ms; 0 when it is not one.
static uint32_t
parse_timeout(const char *s)
{
	char         *end = NULL;
	unsigned long v   = strtoul(s, &end, 10);
	unsigned long mul = 1000;

	if (end == s || s[0] == '-')
		return 0;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return 0;
	if (v == 0 || v > UINT32_MAX / mul)
		return 0;
	return (uint32_t) (v * mul);
}

// One global option into @p c; a bad value is a usage error.
static void
global_option(ctl *c, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		c->policy_url = arg;
		break;
	case 'a':
		c->agent_url = arg;
		break;
	case 'o':
		if (output_format_parse(&c->format, arg) != 0)
			ctl_usage_error(NULL,
			    "--output: unknown format '%s' (table, json or "
			    "yaml)",
			    arg);
		break;
	case 't':
		if ((c->timeout_ms = parse_timeout(arg)) == 0)
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

// The URLs from the environment, else the defaults.
static void
global_defaults(ctl *c)
{
	c->policy_url = getenv("PREALLOC_POLICY");
	c->agent_url  = getenv("PREALLOC_AGENT");
	if (c->policy_url == NULL || c->policy_url[0] == '\0')
		c->policy_url = CTL_DEFAULT_POLICY;
	if (c->agent_url == NULL || c->agent_url[0] == '\0')
		c->agent_url = CTL_DEFAULT_AGENT;
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

int
dispatch_run(const ctl_command *const *cmds, size_t ncmds, const char *version,
    int argc, char **argv)
{
	ctl                c = { 0 };
	const ctl_command *cmd;
	int                opt;

	global_defaults(&c);
	optind = 0; // a fresh scan, also when called again (tests)
	while ((opt = ctl_getopt(&globals, argc, argv)) != -1) {
		if (opt == 'h')
			usage(cmds, ncmds);
		if (opt == 'V') {
			printf("preallocctl %s\n", version);
			exit(CTL_EXIT_OK);
		}
		global_option(&c, opt, optarg);
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
	optind = 0; // the command parses its own options
	return cmd->run(&c, cmd, argc, argv);
}
