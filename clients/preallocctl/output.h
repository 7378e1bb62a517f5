// SPDX-License-Identifier: Apache-2.0
// output.h: one result, rendered as a readable table, as JSON (jansson) or
// as YAML (libyaml's emitter). Commands build a jansson tree with the
// output_ setters, which know the format: a size is a number of bytes in
// JSON and YAML and "120Mi" in a table.
#ifndef PREALLOC_OUTPUT_H
#define PREALLOC_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "prealloc/prealloc.h"

typedef enum output_format {
	OUTPUT_TABLE = 0,
	OUTPUT_JSON  = 1,
	OUTPUT_YAML  = 2,
} output_format;

/** Room for output_bytes(): "1023.9Ki" or 20 digits, and a NUL. */
#define OUTPUT_BYTES_SIZE 32

/** Parse "table", "json" or "yaml". @return 0, or -1 for anything else. */
int output_format_parse(output_format *out, const char *name);

/**
 * @p bytes for a person: the exact quantity when a binary unit divides it
 * ("120Mi"), else one decimal of the largest unit ("3.0Mi").
 * @return @p buf.
 */
char *output_bytes(char buf[OUTPUT_BYTES_SIZE], uint64_t bytes);

/** Set @p key to @p s; NULL and "" leave it out (omitempty). */
void output_str(json_t *obj, const char *key, const char *s);

/** Set @p key to a whole number. */
void output_u64(json_t *obj, const char *key, uint64_t v);

/** Set @p key to a boolean. */
void output_bool(json_t *obj, const char *key, bool v);

/** Set @p key to a boolean, or leave it out when PA_UNSET. */
void output_tristate(json_t *obj, const char *key, pa_tristate v);

/** Set @p key to bytes: a number, or "120Mi" in a table. */
void output_size(json_t *obj, output_format f, const char *key, uint64_t v);

/** Set @p key to an RFC 3339 UTC time; 0 leaves it out. */
void output_time(json_t *obj, const char *key, int64_t unix_ms);

/** Set @p key to @p child, taking its reference (NULL is ignored). */
void output_set(json_t *obj, const char *key, json_t *child);

/**
 * Write @p root to @p fp. A table shows an object as aligned
 * "Key:  value" lines (nested objects indented), an array of objects as
 * columns, and an object whose only member is such an array as those
 * columns alone.
 * @return 0, or -1 when writing failed.
 */
int output_print(FILE *fp, output_format f, const json_t *root);

/** Where a manifest error points: output_error_position() fills it. */
typedef struct output_position {
	char file[PA_ERR_MSG_SIZE]; // as the message names it: "<stdin>" too
	int  line, column;          // 1-based, as yamldoc gives them
	const char *sentence;       // in the message, after "file:l:c: "
} output_position;

/**
 * Find the position a message starts with, "file:line:column: sentence"
 * (how manifest errors read): the first ":<digits>:<digits>:" after a
 * file name that is not empty, followed by a blank or the end. A path
 * holding such a run itself is cut there; any other text has none.
 * @param[out] pos  filled only when there is one; sentence borrows @p msg.
 * @return true when @p msg names a position.
 */
bool output_error_position(output_position *pos, const char *msg);

/**
 * The object a failure prints on stdout under -o json and -o yaml:
 * {"error": {"code": "NOT_FOUND", "message": "..."}}, with "file", "line"
 * and "column" when @p msg names a position (the message is then the
 * sentence after it).
 * @param code  a PA_ status, named as pa_status_name() names it.
 * @return a new reference, or NULL when out of memory.
 */
json_t *output_error(int code, const char *msg);

/**
 * True when YAML would read @p s as something other than a string (a
 * number, a boolean, null, ""), so that it must be quoted.
 */
bool output_needs_quotes(const char *s);

#endif // PREALLOC_OUTPUT_H
