// SPDX-License-Identifier: Apache-2.0
// yamldoc.h: a YAML stream as a small tree that remembers where each node was.
#ifndef PREALLOC_YAMLDOC_H
#define PREALLOC_YAMLDOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Limits that keep a hostile document from costing much memory or stack. */
#define YAMLDOC_MAX_NODES 1000000
#define YAMLDOC_MAX_DEPTH 64

typedef enum yamldoc_kind {
	YAMLDOC_SCALAR = 0,
	YAMLDOC_MAP    = 1,
	YAMLDOC_SEQ    = 2,
} yamldoc_kind;

/**
 * Where an error was found, for callers that report it apart from the
 * message (a log field, an RPC field). 1-based; 0 and 0 when the error has
 * no position (an empty stream, a missing document).
 */
typedef struct yamldoc_pos {
	int line;
	int column;
} yamldoc_pos;

/**
 * One node of a parsed document. Read-only for callers: the stream owns it.
 * A map keeps its pairs in @c items as key, value, key, value...; keys are
 * always scalars and never repeat.
 */
typedef struct yamldoc_node yamldoc_node;
struct yamldoc_node {
	yamldoc_kind   kind;
	int            line;   /**< 1-based */
	int            column; /**< 1-based */
	const char    *file;   /**< the stream's file name, for messages */
	char          *str;    /**< scalar: its bytes, NUL-terminated */
	size_t         len;    /**< scalar: length of @c str */
	bool           plain;  /**< scalar: unquoted, so `true` may be a bool */
	size_t         count;  /**< map: pairs; seq: items */
	yamldoc_node **items;  /**< map: 2 * count; seq: count */
};

/** A parsed stream of documents. */
typedef struct yamldoc_stream yamldoc_stream;

/**
 * Parse a YAML stream held in memory.
 *
 * Aliases (`*name`) are refused outright, wherever they appear: a config
 * never needs them, and refusing them is what makes a billion-laughs
 * document harmless (anchors alone are accepted and ignored). Nodes are
 * capped at YAMLDOC_MAX_NODES and nesting at YAMLDOC_MAX_DEPTH.
 *
 * @param[out] out   the stream, set only on PA_OK; free it with
 *                   yamldoc_stream_free().
 * @param buf        the text; read during the call, not kept.
 * @param len        its length in bytes.
 * @param file       the name used in messages ("file:line:column: ...");
 *                   copied. NULL means "<input>".
 * @param where      optional; on failure, where the error is.
 * @param err        optional; on failure, the code and
 *                   "file:line:column: sentence".
 * @return PA_OK; PA_INVALID_ARGUMENT for a syntax error, a duplicate key,
 *         an alias or a limit; PA_RESOURCE_EXHAUSTED when memory runs out.
 */
int yamldoc_parse(yamldoc_stream **out, const char *buf, size_t len,
    const char *file, yamldoc_pos *where, pa_err *err);

/** Free a stream and every node in it. NULL is a no-op. */
void yamldoc_stream_free(yamldoc_stream *s);

/** @return how many documents the stream holds. */
size_t yamldoc_stream_count(const yamldoc_stream *s);

/**
 * @return the root node of document @p i (borrowed from the stream), or
 *         NULL when @p i is out of range.
 */
const yamldoc_node *yamldoc_stream_doc(const yamldoc_stream *s, size_t i);

/** @return the file name given to yamldoc_parse() (borrowed). */
const char *yamldoc_stream_file(const yamldoc_stream *s);

/**
 * Look a key up in a map (a linear scan: maps in configs are small, and
 * callers that need fast lookups build their own index).
 * @return the value node (borrowed), or NULL when @p map is NULL, not a
 *         map, or has no such key.
 */
const yamldoc_node *yamldoc_map_get(const yamldoc_node *map, const char *key);

/** @return true when @p n is absent, or a plain `null`, `~` or empty. */
bool yamldoc_is_null(const yamldoc_node *n);

/** @return true when @p n is a scalar whose bytes equal @p s. */
bool yamldoc_is(const yamldoc_node *n, const char *s);

/**
 * Read a boolean. Only plain `true` and `false` are booleans, as in
 * Kubernetes; `"true"` quoted, `yes`, `on` and `True` are errors.
 * @param[out] out  set only on PA_OK.
 * @param n         the node; NULL is reported as missing.
 * @param path      the field's dotted path, for the message.
 * @param where     optional; on failure, @p n's position.
 * @param err       optional; on failure, "file:line:column: path: expected
 *                  a boolean (true or false), got ...".
 * @return PA_OK or PA_INVALID_ARGUMENT.
 */
int yamldoc_bool(bool *out, const yamldoc_node *n, const char *path,
    yamldoc_pos *where, pa_err *err);

/**
 * Read a string: a quoted scalar, or a plain one that YAML would not read
 * as null, a boolean or a number (Kubernetes refuses `0.06` for a string
 * field, so this does too, and says to quote it).
 * @param[out] out  borrowed from the stream; set only on PA_OK.
 * @return PA_OK or PA_INVALID_ARGUMENT; the rest as yamldoc_bool().
 */
int yamldoc_string(const char **out, const yamldoc_node *n, const char *path,
    yamldoc_pos *where, pa_err *err);

/**
 * Check that @p n is of @p kind.
 * @return PA_OK or PA_INVALID_ARGUMENT ("path: expected a map, got a
 *         list"); the rest as yamldoc_bool().
 */
int yamldoc_expect(const yamldoc_node *n, yamldoc_kind kind, const char *path,
    yamldoc_pos *where, pa_err *err);

/**
 * Fill @p err with PA_INVALID_ARGUMENT and "file:line:column: <fmt>" at
 * @p n, and @p where (optional) with its position.
 * @return PA_INVALID_ARGUMENT.
 */
int yamldoc_fail(pa_err *err, yamldoc_pos *where, const yamldoc_node *n,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * Format "file:line:column: <fmt>" at @p n into @p buf (cut to @p size).
 * @return @p buf.
 */
char *yamldoc_vformat(char *buf, size_t size, const yamldoc_node *n,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_YAMLDOC_H
