// SPDX-License-Identifier: Apache-2.0
// progress.h: a progress bar on stderr while a job runs, and Ctrl-C as a
// request to cancel the job.
#ifndef PREALLOC_PROGRESS_H
#define PREALLOC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "prealloc/prealloc.h"

/** The state of one bar; start it with progress_start(). */
typedef struct progress {
	bool     tty;      // stderr is a terminal: draw
	bool     drawn;    // a line is on the screen, to end with '\n'
	bool     told;     // the cancel was announced
	uint64_t start_ns; // when the first answer came
	uint64_t start_bytes;
} progress;

/**
 * Start a bar. With @p cancel_on_sigint, catch SIGINT so that the next
 * callback asks for the job to be cancelled; a second SIGINT ends the
 * program as usual.
 */
void progress_start(progress *p, bool cancel_on_sigint);

/**
 * A pa_progress_fn: draw @p job on stderr when it is a terminal.
 * @param arg  the progress.
 * @return nonzero once SIGINT came: libprealloc cancels the job and waits
 *         for the agent to report its end.
 */
int progress_update(void *arg, const pa_job *job);

/** End the bar's line and let SIGINT end the program again. */
void progress_stop(progress *p);

#endif // PREALLOC_PROGRESS_H
