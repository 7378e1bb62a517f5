// SPDX-License-Identifier: Apache-2.0
// ioprio.c: ioprio_set(2) for the calling thread; glibc has no wrapper.
#include <errno.h>
#include <linux/ioprio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ioprio.h"

// The lowest of best-effort's eight levels.
#define IO_BEST_EFFORT_LEVEL 7

static const char *const io_class_names[] = { "best-effort", "idle" };

int
io_class_parse(enum io_class *out, const char *name, pa_err *err)
{
	for (int i = 0; name != NULL && i < 2; i++)
		if (strcmp(name, io_class_names[i]) == 0) {
			*out = (enum io_class) i;
			return PA_OK;
		}
	return pa_err_set(err, PA_INVALID_ARGUMENT,
	    "I/O class '%s' is not best-effort or idle",
	    name != NULL ? name : "(null)");
}

const char *
io_class_name(enum io_class c)
{
	return c == IO_CLASS_IDLE ? io_class_names[1] : io_class_names[0];
}

int
io_class_apply(enum io_class c, pa_err *err)
{
	int value = c == IO_CLASS_IDLE
	    ? IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)
	    : IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, IO_BEST_EFFORT_LEVEL);

	// Who 0 with IOPRIO_WHO_PROCESS is the calling thread.
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) != 0)
		return pa_err_errno(
		    err, errno, "ioprio_set %s", io_class_name(c));
	return PA_OK;
}
