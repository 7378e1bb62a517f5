// SPDX-License-Identifier: Apache-2.0
// main.c: preallocctl's global options and its table of commands.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#ifndef PREALLOC_VERSION
#define PREALLOC_VERSION "unknown"
#endif

static const ctl_command ctl_commands[] = {
	{ "resolve", "ask the policy service whether a volume is preallocated",
	    "Usage: preallocctl resolve [--storage-class SC] "
	    "[--preallocation true|false]\n"
	    "       preallocctl resolve -f DV.yaml\n\n"
	    "Ask the policy service whether a volume is preallocated, and\n"
	    "which setting decided it.\n\n"
	    "Options:\n"
	    "  -s, --storage-class SC     the volume's storage class\n"
	    "  -P, --preallocation BOOL   the DataVolume's "
	    "spec.preallocation\n"
	    "  -f, --filename DV.yaml     read both from a DataVolume\n"
	    "  -h, --help                 show this help\n",
	    cmd_resolve },
	{ "config", "show, apply or check the CDIConfig",
	    "Usage: preallocctl config get\n"
	    "       preallocctl config apply FILE [--generation N] [--strict]\n"
	    "       preallocctl config check FILE [--strict]\n\n"
	    "get     show the policy service's effective CDIConfig\n"
	    "apply   replace it with FILE; with --generation, only when the\n"
	    "        service still holds generation N\n"
	    "check   validate FILE here, with no service; errors name\n"
	    "        file:line:column\n\n"
	    "Options:\n"
	    "  -g, --generation N   the generation 'config get' showed\n"
	    "      --strict         unknown fields are errors\n"
	    "  -h, --help           show this help\n",
	    cmd_config },
	{ "preallocate", "have the agent preallocate a file or a device",
	    "Usage: preallocctl preallocate PATH|DEVICE --size QTY "
	    "[--offset QTY]\n"
	    "           [--method auto|falloc|full] [--force] [--no-wait]\n\n"
	    "Have the node agent allocate PATH (a file under one of its "
	    "roots)\nor DEVICE (a block device it allows). Sizes are "
	    "Kubernetes\nquantities: 10Gi, 512Mi, 1G, plain bytes. On a "
	    "terminal a progress\nbar shows; Ctrl-C cancels the job and "
	    "waits until the agent has\nrestored the file.\n\n"
	    "Options:\n"
	    "  -s, --size QTY     file: its final size; device: the end "
	    "(0: all)\n"
	    "      --offset QTY   device: where zeroing starts\n"
	    "  -m, --method M     auto (default), falloc or full\n"
	    "      --force        write over a signature in the range\n"
	    "      --no-wait      print the job as started and return\n"
	    "  -h, --help         show this help\n",
	    cmd_preallocate },
	{ "probe", "show what the agent finds at a path",
	    "Usage: preallocctl probe PATH|DEVICE\n\n"
	    "Show what the node agent finds at PATH or DEVICE: kind, size,\n"
	    "allocation, free space, fallocate support, sectors and "
	    "signatures.\nNothing is written.\n\n"
	    "Options:\n"
	    "  -h, --help   show this help\n",
	    cmd_probe },
	{ "jobs", "list the agent's jobs",
	    "Usage: preallocctl jobs\n\n"
	    "List the node agent's running, queued and recently finished "
	    "jobs.\n\n"
	    "Options:\n"
	    "  -h, --help   show this help\n",
	    cmd_jobs },
	{ "job", "show one job, or wait for it to end",
	    "Usage: preallocctl job ID [--wait]\n\n"
	    "Show job ID. With --wait, wait for it to end (with a progress\n"
	    "bar on a terminal); the exit status is then the job's.\n\n"
	    "Options:\n"
	    "  -w, --wait   wait for the job to end\n"
	    "  -h, --help   show this help\n",
	    cmd_job },
	{ "cancel", "cancel a job",
	    "Usage: preallocctl cancel ID\n\n"
	    "Ask the node agent to stop job ID at its next chunk; it puts "
	    "the\nfile back as it was.\n\n"
	    "Options:\n"
	    "  -h, --help   show this help\n",
	    cmd_cancel },
	{ "provision", "do what an importer does for one DataVolume",
	    "Usage: preallocctl provision -f DV.yaml --volume DIR|DEVICE "
	    "[--image FILE]\n"
	    "           [--method auto|falloc|full] [--force]\n\n"
	    "Do what CDI's importer does for one volume: resolve the "
	    "decision,\nsize DIR/disk.img (Filesystem) or use DEVICE "
	    "(Block), write the\nraw image FILE first, and when the decision "
	    "is true have the agent\npreallocate the rest. Prints the "
	    "outcome, with the annotation\ncdi.kubevirt.io/storage."
	    "preallocation: \"true\" when preallocated.\n\n"
	    "Options:\n"
	    "  -f, --filename DV.yaml   the DataVolume manifest\n"
	    "  -v, --volume DIR|DEV     the volume's mount directory or "
	    "device\n"
	    "  -i, --image FILE         raw image data to write first\n"
	    "  -m, --method M           auto (default), falloc or full\n"
	    "      --force              write over a signature on the "
	    "device\n"
	    "  -h, --help               show this help\n",
	    cmd_provision },
};

#define CTL_NCOMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void __attribute__((noreturn)) usage(void)
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
	for (size_t i = 0; i < CTL_NCOMMANDS; i++)
		printf("  %-12s %s\n", ctl_commands[i].name,
		    ctl_commands[i].summary);
	printf("\nRun 'preallocctl <command> --help' for its options.\n"
	       "Exit status: 0 success, 1 the operation failed, 2 usage "
	       "error.\n");
	exit(PA_EXIT_OK);
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

// Parse the global options; parsing stops at the command ('+').
static void
parse_globals(ctl *c, int argc, char **argv)
{
	int opt;

	while ((opt = ctl_getopt(
	            NULL, argc, argv, "+:p:a:o:t:Vh", global_options)) != -1) {
		if (opt == 'h')
			usage();
		if (opt == 'V') {
			printf("preallocctl %s\n", PREALLOC_VERSION);
			exit(PA_EXIT_OK);
		}
		global_option(c, opt, optarg);
	}
}

int
main(int argc, char **argv)
{
	ctl         c    = { 0 };
	const char *name = NULL;

	c.policy_url = getenv("PREALLOC_POLICY");
	c.agent_url  = getenv("PREALLOC_AGENT");
	if (c.policy_url == NULL || c.policy_url[0] == '\0')
		c.policy_url = CTL_DEFAULT_POLICY;
	if (c.agent_url == NULL || c.agent_url[0] == '\0')
		c.agent_url = CTL_DEFAULT_AGENT;
	parse_globals(&c, argc, argv);
	if (optind >= argc)
		ctl_usage_error(NULL, "no command given");
	name = argv[optind];
	if (strcmp(name, "help") == 0)
		usage();
	for (size_t i = 0; i < CTL_NCOMMANDS; i++)
		if (strcmp(name, ctl_commands[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 0; // the command parses its own options
			return ctl_commands[i].run(
			    &c, &ctl_commands[i], argc, argv);
		}
	ctl_usage_error(NULL, "unknown command '%s'", name);
}
