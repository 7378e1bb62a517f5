// SPDX-License-Identifier: Apache-2.0
// k8sname.c: DNS-1123 checks that say which character is wrong and why.
#include <stdbool.h>
#include <stdio.h>

#include "k8sname.h"

#define K8SNAME_SHOW_MAX 64 // name bytes quoted in a message

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// show copies a name for a message: cut long, control bytes escaped.
static const char *
show(char *buf, size_t size, const char *name, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < K8SNAME_SHOW_MAX && o + 5 < size;
	     i++) {
		unsigned char c = (unsigned char) name[i];

		if (c >= 0x20 && c < 0x7f && c != '"')
			buf[o++] = (char) c;
		else
			o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
	}
	if (len > K8SNAME_SHOW_MAX && o + 4 < size)
		o += (size_t) snprintf(buf + o, size - o, "...");
	buf[o] = '\0';
	return buf;
}

static const char *
show_char(char buf[8], char c)
{
	if ((unsigned char) c >= 0x20 && (unsigned char) c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char) c);
	return buf;
}

// check validates a subdomain (labels joined by dots) or, with
// allow_dot false, a single label.
static int
check(const char *name, size_t len, size_t max, bool allow_dot, pa_err *err)
{
	char        shown[K8SNAME_SHOW_MAX * 4 + 8], ch[8];
	const char *allowed = allow_dot
	    ? "lowercase letters, digits, '-' and '.'"
	    : "lowercase letters, digits and '-'";

	if (len == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "\"\" is not a valid name: it is empty");
	show(shown, sizeof(shown), name, len);
	if (len > max)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "\"%s\" is not a valid name: %zu characters, more than %zu",
		    shown, len, max);
	for (size_t i = 0; i < len; i++) {
		char c        = name[i];
		bool boundary = i == 0 || i == len - 1 ||
		    (allow_dot && (name[i - 1] == '.' || name[i + 1] == '.'));

		if (is_alnum(c))
			continue;
		if (c != '-' && (c != '.' || !allow_dot))
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "\"%s\" is not a valid name: %s at position %zu is "
			    "not "
			    "allowed (use %s)",
			    shown, show_char(ch, c), i + 1, allowed);
		if (boundary)
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "\"%s\" is not a valid name: %s at position %zu: "
			    "it must "
			    "start and end with a letter or digit%s",
			    shown, show_char(ch, c), i + 1,
			    allow_dot ? ", and so must each part between dots"
			              : "");
	}
	return PA_OK;
}

int
k8sname_subdomain(const char *name, size_t len, pa_err *err)
{
	return check(name, len, K8SNAME_SUBDOMAIN_MAX, true, err);
}

int
k8sname_label(const char *name, size_t len, pa_err *err)
{
	return check(name, len, K8SNAME_LABEL_MAX, false, err);
}
