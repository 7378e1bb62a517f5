// SPDX-License-Identifier: Apache-2.0
// main.c: preallocctl's entry point. A command is its cmd_<name>.c;
// adding one is that file, a line in commands.c, one in CMakeLists.txt and
// its entry in preallocctl.1.
#include "dispatch.h"

#ifndef PREALLOC_VERSION
#define PREALLOC_VERSION "unknown"
#endif

int
main(int argc, char **argv)
{
	return dispatch_run(
	    ctl_commands, ctl_ncommands, PREALLOC_VERSION, argc, argv);
}
