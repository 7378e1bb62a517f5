// SPDX-License-Identifier: Apache-2.0
// fuzz_cdiconfig.c: any bytes as a CDIConfig file, strict and not: a
// snapshot or an error with a position, never a crash or a leak; what
// parses writes back as YAML that parses again to the same.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdiconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int strict = 0; strict <= 1; strict++) {
		cdiconfig_opts opts = CDICONFIG_OPTS_INIT;
		cdiconfig     *c = NULL, *again = NULL;
		char          *yaml = NULL, *yaml2 = NULL;
		yamldoc_pos    pos;

		opts.strict    = strict;
		opts.error_pos = &pos;
		if (cdiconfig_parse(&c, (const char *) data, size, "fuzz",
		        &opts, NULL) != PA_OK)
			continue;
		opts.error_pos = NULL;
		if (cdiconfig_to_yaml(&yaml, c, NULL) != PA_OK ||
		    cdiconfig_parse(&again, yaml, strlen(yaml), "again", &opts,
		        NULL) != PA_OK ||
		    cdiconfig_to_yaml(&yaml2, again, NULL) != PA_OK ||
		    strcmp(yaml, yaml2) != 0)
			abort(); // what we write, we must read back the same
		free(yaml);
		free(yaml2);
		cdiconfig_unref(again);
		cdiconfig_unref(c);
	}
	return 0;
}
