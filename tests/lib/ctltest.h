// SPDX-License-Identifier: Apache-2.0
// ctltest.h: what tests that run preallocctl check its output with.
#ifndef PREALLOC_CTLTEST_H
#define PREALLOC_CTLTEST_H

#include <jansson.h>

#include "testlib.h"

/** Fail the test unless @p s holds @p needle, showing what it held. */
void ctltest_assert_has(const char *s, const char *needle);

/** Parse @p text as JSON; fails the test, with the text, when it is not.
 *  @return a new reference: json_decref() it. */
json_t *ctltest_json(const char *text);

/** @return the string at @p key of @p obj; fails the test when none. */
const char *ctltest_json_str(const json_t *obj, const char *key);

/** @return the integer at @p key of @p obj; fails the test when none. */
json_int_t ctltest_json_int(const json_t *obj, const char *key);

/** @return the whole of @p path, malloc'd and NUL-terminated ("" when
 *  empty); fails the test when it cannot be read. */
char *ctltest_slurp(const char *path);

#endif // PREALLOC_CTLTEST_H
