// SPDX-License-Identifier: Apache-2.0
// dispatch.h: preallocctl's global options, its help made from the command
// descriptors, and the choice of the command to run.
#ifndef PREALLOC_DISPATCH_H
#define PREALLOC_DISPATCH_H

#include <stddef.h>

#include "ctl.h"

/**
 * Parse the global options (defaults from PREALLOC_POLICY and
 * PREALLOC_AGENT), before the command or anywhere after it up to "--",
 * then run the command on its own words. "help" and --help print the
 * help made from the descriptors; "help <command>" and "<command> --help"
 * the command's. Exits only for help, --version, usage errors and a
 * descriptor with a global option of its own (a bug: CTL_EXIT_FAILURE).
 * Under -o json or yaml every failure, a usage error too, also prints an
 * error object on stdout (ctl_error_object()), -o's own bad value aside.
 * @param cmds     @p ncmds descriptors, borrowed, in the order help lists
 *                 them.
 * @param version  what --version prints after "preallocctl ".
 * @return the command's exit code.
 */
int dispatch_run(const ctl_command *const *cmds, size_t ncmds,
    const char *version, int argc, char **argv);

#endif // PREALLOC_DISPATCH_H
