// SPDX-License-Identifier: Apache-2.0
// commands.c: preallocctl's table of commands, apart from main() so that
// tests/unit/ctl_test.c checks the real descriptors against the man page.
#include "ctl.h"

const ctl_command *const ctl_commands[] = {
	&cmd_resolve,
	&cmd_config,
	&cmd_preallocate,
	&cmd_probe,
	&cmd_jobs,
	&cmd_job,
	&cmd_cancel,
	&cmd_provision,
};

const size_t ctl_ncommands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);
