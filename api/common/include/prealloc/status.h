// SPDX-License-Identifier: Apache-2.0
// status.h: gRPC canonical status codes and the per-call error detail.
#ifndef PREALLOC_STATUS_H
#define PREALLOC_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef PA_EXPORT
#define PA_EXPORT __attribute__((visibility("default")))
#endif

/** gRPC's canonical status codes, with gRPC's numbers. */
enum pa_status {
	PA_OK                  = 0,
	PA_CANCELLED           = 1,
	PA_UNKNOWN             = 2,
	PA_INVALID_ARGUMENT    = 3,
	PA_DEADLINE_EXCEEDED   = 4,
	PA_NOT_FOUND           = 5,
	PA_ALREADY_EXISTS      = 6,
	PA_PERMISSION_DENIED   = 7,
	PA_RESOURCE_EXHAUSTED  = 8,
	PA_FAILED_PRECONDITION = 9,
	PA_ABORTED             = 10,
	PA_OUT_OF_RANGE        = 11,
	PA_UNIMPLEMENTED       = 12,
	PA_INTERNAL            = 13,
	PA_UNAVAILABLE         = 14,
	PA_DATA_LOSS           = 15,
	PA_UNAUTHENTICATED     = 16,
};

#define PA_STATUS_MAX 16
#define PA_ERR_MSG_SIZE 256

/**
 * The detail of a failed call: its code and a one-line message. It is a
 * fixed-size value so that reporting a failure never allocates.
 */
typedef struct pa_err {
	int  code;
	char msg[PA_ERR_MSG_SIZE];
} pa_err;

#define PA_ERR_INIT                         \
	{                                   \
		.code = PA_OK, .msg = { 0 } \
	}

/**
 * The canonical name of a status code, as gRPC spells it ("OK",
 * "INVALID_ARGUMENT", ...).
 * @return a static string; "UNKNOWN" for a number outside the table.
 */
PA_EXPORT const char *pa_status_name(int code);

/**
 * Look a status up by its canonical name.
 * @return the code, or -1 when the name is not one of gRPC's.
 */
PA_EXPORT int pa_status_from_name(const char *name);

/**
 * Fill @p err (which may be NULL) with @p code and a formatted message.
 * A message longer than the buffer is cut.
 * @return @p code, so that `return pa_err_set(err, ...)` reads naturally.
 */
PA_EXPORT int pa_err_set(pa_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** pa_err_set() with a va_list. @return @p code. */
PA_EXPORT int pa_err_vset(pa_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/**
 * Map an errno value to a status code, at the system call that failed.
 * ENOSPC/EDQUOT/ENOMEM: RESOURCE_EXHAUSTED; EACCES/EPERM:
 * PERMISSION_DENIED; ENOENT: NOT_FOUND; EEXIST: ALREADY_EXISTS;
 * EINVAL: INVALID_ARGUMENT; EBUSY and EROFS (a read-only filesystem is
 * a state of the system, not a lack of rights): FAILED_PRECONDITION;
 * ETIMEDOUT: DEADLINE_EXCEEDED; ECANCELED: CANCELLED; others INTERNAL.
 * @return the code.
 */
PA_EXPORT int pa_status_from_errno(int errnum);

/**
 * Fill @p err with the code for @p errnum and "<formatted what>: <strerror>".
 * @return the code, as pa_status_from_errno() maps it.
 */
PA_EXPORT int pa_err_errno(pa_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Reset @p err (may be NULL) to PA_OK with an empty message. */
PA_EXPORT void pa_err_clear(pa_err *err);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_STATUS_H
