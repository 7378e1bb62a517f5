// SPDX-License-Identifier: Apache-2.0
// cmd_config.c: `preallocctl config get|apply|check`: the policy service's
// CDIConfig, and a local check of a file with no service at all.
#include <stdlib.h>
#include <string.h>

#include "cdiconfig.h"
#include "ctl.h"

enum { OPT_STRICT = 256 };

// In the order of config_subcommands.
enum { CONFIG_GET, CONFIG_APPLY, CONFIG_CHECK };

static const char *const config_subcommands[] = { "get", "apply", "check",
	NULL };

typedef struct config_opts {
	int         sub;  // CONFIG_
	const char *file; // apply and check
	uint64_t    generation;
	bool        have_generation;
	bool        strict;
} config_opts;

static const struct option config_options[] = {
	{ "generation", required_argument, NULL, 'g' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
config_parse(config_opts *o, const ctl_command *cmd, int argc, char **argv)
{
	int opt;

	while ((opt = ctl_getopt(cmd, argc, argv)) != -1) {
		if (opt == 'g') {
			o->generation = ctl_number(cmd, "--generation", optarg);
			o->have_generation = true;
		} else {
			o->strict = true;
		}
	}
	o->sub = ctl_subcommand(cmd, argc, argv);
	if (o->sub == CONFIG_GET) {
		ctl_args(cmd, argc, argv, 1, 1, "");
		if (o->strict || o->have_generation)
			ctl_usage_error(cmd, "'config get' takes no options");
		return;
	}
	ctl_args(cmd, argc, argv, 2, 2, "FILE");
	o->file = argv[optind + 1];
	if (o->have_generation && o->sub == CONFIG_CHECK)
		ctl_usage_error(cmd, "--generation goes with 'config apply'");
}

static int
config_get(const ctl *c, pa_err *err)
{
	pa_client *cl  = NULL;
	pa_config *cfg = NULL;
	int        rc, ex = CTL_EXIT_FAILURE;

	if ((rc = ctl_client(&cl, c, err)) != PA_OK ||
	    (rc = pa_get_config(&cfg, cl, err)) != PA_OK)
		goto done;
	ex = ctl_print(c, view_config(cfg, c->format));
done:
	pa_config_free(cfg);
	pa_client_free(cl);
	return ctl_exit(rc, err, ex);
}

static int
config_apply(const ctl *c, const config_opts *o, pa_err *err)
{
	pa_client *cl   = NULL;
	pa_config *chk  = NULL;
	char      *yaml = NULL;
	size_t     len  = 0;
	uint64_t   gen  = 0;
	json_t    *out  = NULL;
	int        rc, ex = CTL_EXIT_FAILURE;

	// The service parses with the same parser but names its own file in
	// errors; checking here first names the user's FILE at the line and
	// column, and spares sending what would be refused.
	if ((rc = ctl_read_file(&yaml, &len, o->file, err)) != PA_OK ||
	    (rc = cdiconfig_check_size(len, ctl_file_name(o->file), err)) !=
	        PA_OK ||
	    (rc = pa_config_check(&chk, yaml, len, ctl_file_name(o->file),
	         o->strict, err)) != PA_OK ||
	    (rc = ctl_client(&cl, c, err)) != PA_OK ||
	    (rc = pa_apply_config(
	         &gen, cl, yaml, o->generation, o->strict, err)) != PA_OK)
		goto done;
	if ((out = json_object()) != NULL) {
		output_str(out, "file", ctl_file_name(o->file));
		output_bool(out, "applied", true);
		output_u64(out, "generation", gen);
	}
	ex = ctl_print(c, out);
done:
	pa_config_free(chk);
	free(yaml);
	pa_client_free(cl);
	return ctl_exit(rc, err, ex);
}

// What a check found: the file, its storage classes and warnings.
static json_t *
config_check_view(const char *file, const pa_config *cfg)
{
	json_t *o = json_object(), *w = json_array();

	if (o == NULL || w == NULL) {
		json_decref(o);
		json_decref(w);
		return NULL;
	}
	output_str(o, "file", file);
	output_bool(o, "valid", true);
	output_u64(o, "storageClasses", cfg->n_classes);
	for (size_t i = 0; i < cfg->n_warnings; i++)
		json_array_append_new(w, json_string(cfg->warnings[i]));
	output_set(o, "warnings", w);
	return o;
}

// Validate the file here, as the service would, with no service.
static int
config_check(const ctl *c, const config_opts *o, pa_err *err)
{
	pa_config *cfg  = NULL;
	char      *yaml = NULL;
	size_t     len  = 0;
	int        rc, ex = CTL_EXIT_FAILURE;

	if ((rc = ctl_read_file(&yaml, &len, o->file, err)) != PA_OK ||
	    (rc = pa_config_check(&cfg, yaml, len, ctl_file_name(o->file),
	         o->strict, err)) != PA_OK)
		goto done;
	ex = ctl_print(c, config_check_view(ctl_file_name(o->file), cfg));
done:
	pa_config_free(cfg);
	free(yaml);
	return ctl_exit(rc, err, ex);
}

static int
config_run(const ctl *c, const ctl_command *cmd, int argc, char **argv)
{
	config_opts o   = { 0 };
	pa_err      err = PA_ERR_INIT;

	config_parse(&o, cmd, argc, argv);
	if (o.sub == CONFIG_GET)
		return config_get(c, &err);
	if (o.sub == CONFIG_APPLY)
		return config_apply(c, &o, &err);
	return config_check(c, &o, &err);
}

const ctl_command cmd_config = {
	.name        = "config",
	.summary     = "get, apply or check the CDIConfig",
	.subcommands = config_subcommands,
	.optstring   = ":g:h",
	.longopts    = config_options,
	.help =
	    "Usage: preallocctl config get\n"
	    "       preallocctl config apply FILE [--generation N] [--strict]\n"
	    "       preallocctl config check FILE [--strict]\n\n"
	    "get     show the policy service's effective CDIConfig\n"
	    "apply   replace it with FILE; with --generation, only when the\n"
	    "        service still holds generation N\n"
	    "check   validate FILE here, with no service; errors name\n"
	    "        file:line:column\n\n"
	    "FILE '-' is standard input (\"<stdin>\" in messages).\n\n"
	    "Options:\n"
	    "  -g, --generation N   the generation 'config get' showed\n"
	    "      --strict         unknown fields are errors\n"
	    "  -h, --help           show this help\n",
	.run = config_run,
};
