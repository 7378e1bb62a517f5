// SPDX-License-Identifier: Apache-2.0
// status.c: the status code table and the pa_err helpers.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prealloc/status.h"

static const char *const status_names[PA_STATUS_MAX + 1] = {
	[PA_OK]                  = "OK",
	[PA_CANCELLED]           = "CANCELLED",
	[PA_UNKNOWN]             = "UNKNOWN",
	[PA_INVALID_ARGUMENT]    = "INVALID_ARGUMENT",
	[PA_DEADLINE_EXCEEDED]   = "DEADLINE_EXCEEDED",
	[PA_NOT_FOUND]           = "NOT_FOUND",
	[PA_ALREADY_EXISTS]      = "ALREADY_EXISTS",
	[PA_PERMISSION_DENIED]   = "PERMISSION_DENIED",
	[PA_RESOURCE_EXHAUSTED]  = "RESOURCE_EXHAUSTED",
	[PA_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[PA_ABORTED]             = "ABORTED",
	[PA_OUT_OF_RANGE]        = "OUT_OF_RANGE",
	[PA_UNIMPLEMENTED]       = "UNIMPLEMENTED",
	[PA_INTERNAL]            = "INTERNAL",
	[PA_UNAVAILABLE]         = "UNAVAILABLE",
	[PA_DATA_LOSS]           = "DATA_LOSS",
	[PA_UNAUTHENTICATED]     = "UNAUTHENTICATED",
};

const char *
pa_status_name(int code)
{
	if (code < 0 || code > PA_STATUS_MAX)
		return "UNKNOWN";
	return status_names[code];
}

int
pa_status_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i <= PA_STATUS_MAX; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -1;
}

int
pa_err_vset(pa_err *err, int code, const char *fmt, va_list ap)
{
	if (err != NULL) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

int
pa_err_set(pa_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pa_err_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int
pa_status_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return PA_OK;
	case ENOSPC:
	case EDQUOT:
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		return PA_RESOURCE_EXHAUSTED;
	case EACCES:
	case EPERM:
		return PA_PERMISSION_DENIED;
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return PA_NOT_FOUND;
	case EEXIST:
		return PA_ALREADY_EXISTS;
	case EINVAL:
	case ENAMETOOLONG:
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case EXDEV:
		return PA_INVALID_ARGUMENT;
	case EBUSY:
	case EOPNOTSUPP:
	case EFBIG:
	case EROFS: // the filesystem's state, not the caller's rights
		return PA_FAILED_PRECONDITION;
	case ETIMEDOUT:
		return PA_DEADLINE_EXCEEDED;
	case ECANCELED:
		return PA_CANCELLED;
	case ECONNREFUSED:
	case ECONNRESET:
	case EAGAIN:
		return PA_UNAVAILABLE;
	default:
		return PA_INTERNAL;
	}
}

int
pa_err_errno(pa_err *err, int errnum, const char *fmt, ...)
{
	int     code = pa_status_from_errno(errnum);
	va_list ap;

	if (err != NULL) {
		char   what[PA_ERR_MSG_SIZE];
		size_t n;

		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		n = strlen(what);
		if (n > sizeof(what) - 64)
			n = sizeof(what) - 64; // leave room for strerror
		what[n] = '\0';
		pa_err_set(err, code, "%s: %s", what, strerror(errnum));
	}
	return code;
}

void
pa_err_clear(pa_err *err)
{
	if (err != NULL) {
		err->code   = PA_OK;
		err->msg[0] = '\0';
	}
}
