// SPDX-License-Identifier: Apache-2.0
// ioprio.h: the I/O priority a worker writes at, so that the VMs on the
// node keep their I/O while a fill runs.
#ifndef PREALLOC_IOPRIO_H
#define PREALLOC_IOPRIO_H

#include "prealloc/status.h"

/** A writer's I/O scheduling class (ioprio_set(2)). */
enum io_class {
	IO_CLASS_BEST_EFFORT = 0, ///< best-effort at its lowest level, 7
	IO_CLASS_IDLE        = 1, ///< only when the disk has nothing else
};

/**
 * Parse "best-effort" or "idle".
 * @return PA_OK, or PA_INVALID_ARGUMENT naming the input.
 */
int io_class_parse(enum io_class *out, const char *name, pa_err *err);

/** @return "best-effort" or "idle". */
const char *io_class_name(enum io_class c);

/**
 * Put the calling thread in class @p c (Linux keeps I/O priorities per
 * thread). Schedulers that use them (bfq, and mq-deadline's classes)
 * serve a busy disk's other users first; "none" ignores them.
 * @return PA_OK, or the errno's code (a seccomp filter may refuse it).
 */
int io_class_apply(enum io_class c, pa_err *err);

#endif // PREALLOC_IOPRIO_H
