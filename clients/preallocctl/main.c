// SPDX-License-Identifier: Apache-2.0
// main.c: preallocctl's table of commands. A command is its cmd_<name>.c;
// adding one is that file, a line here, one in CMakeLists.txt and its
// entry in preallocctl.1.
#include "dispatch.h"

#ifndef PREALLOC_VERSION
#define PREALLOC_VERSION "unknown"
#endif

// In the order 'preallocctl --help' lists them.
static const ctl_command *const commands[] = {
	&cmd_resolve,
	&cmd_config,
	&cmd_preallocate,
	&cmd_probe,
	&cmd_jobs,
	&cmd_job,
	&cmd_cancel,
	&cmd_provision,
};

int
main(int argc, char **argv)
{
	return dispatch_run(commands, sizeof(commands) / sizeof(commands[0]),
	    PREALLOC_VERSION, argc, argv);
}
