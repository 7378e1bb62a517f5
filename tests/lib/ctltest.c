// SPDX-License-Identifier: Apache-2.0
// ctltest.c: checks on preallocctl's output, shared by the tests that
// run it.
#include <string.h>

#include "ctltest.h"

void
ctltest_assert_has(const char *s, const char *needle)
{
	if (strstr(s, needle) == NULL)
		fail_msg("\"%s\" not found in:\n%s", needle, s);
}

json_t *
ctltest_json(const char *text)
{
	json_error_t je;
	json_t      *root = json_loads(text, 0, &je);

	if (root == NULL)
		fail_msg("not JSON (%s at %d:%d):\n%s", je.text, je.line,
		    je.column, text);
	return root;
}

const char *
ctltest_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("no string \"%s\"", key);
	return json_string_value(v);
}

json_int_t
ctltest_json_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("no integer \"%s\"", key);
	return json_integer_value(v);
}

char *
ctltest_slurp(const char *path)
{
	char *out = NULL;

	if (testlib_capture(&out, "cat '%s' 2>/dev/null", path) < 0)
		fail_msg("cannot read %s", path);
	return out;
}
