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
 * A required child: @p key of the map @p parent.
 * @param[out] out  the value (borrowed from the stream); set only on PA_OK.
 * @param path      the child's dotted path, for the message.
 * @return PA_OK, or PA_INVALID_ARGUMENT ("path: missing", placed at
 *         @p parent) when the key is absent or null; the rest as
 *         yamldoc_bool().
 */
int yamldoc_need(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, yamldoc_pos *where, pa_err *err);

/**
 * A required child that must be a map: yamldoc_need(), then
 * yamldoc_expect(YAMLDOC_MAP).
 * @return as those two.
 */
int yamldoc_need_map(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, yamldoc_pos *where, pa_err *err);

/**
 * A name rule, such as k8sname_subdomain(): PA_OK, or an error whose
 * message says what is wrong with the @p len bytes at @p name.
 */
typedef int (*yamldoc_name_fn)(const char *name, size_t len, pa_err *err);

/**
 * Check a scalar's bytes against a name rule. Unlike yamldoc_name(), any
 * scalar is taken as written, so a map key such as `123` is a name.
 * @param what  optional; put before the rule's message ("storage class").
 * @return PA_OK, or PA_INVALID_ARGUMENT with "path: [what ]<the rule's
 *         message>" at @p n; the rest as yamldoc_bool().
 */
int yamldoc_check_name(const yamldoc_node *n, const char *path,
    const char *what, yamldoc_name_fn check, yamldoc_pos *where, pa_err *err);

/**
 * Read a name: yamldoc_string(), then yamldoc_check_name() with no
 * @p what.
 * @param[out] out  borrowed from the stream; set only on PA_OK.
 * @return as those two.
 */
int yamldoc_name(const char **out, const yamldoc_node *n, const char *path,
    yamldoc_name_fn check, yamldoc_pos *where, pa_err *err);

/**
 * Told of a warning, "file:line:column: sentence" (borrowed for the call):
 * a document yamldoc_find() skips ("document N ignored: ..."), or a field
 * yamldoc_unknown_field() ignores ("unknown field P.K (ignored)").
 * @return PA_OK to go on; any other status stops the parse with it.
 */
typedef int (*yamldoc_warn_fn)(void *arg, const char *msg);

/**
 * How a parser treats a field it does not know: a warning, or in strict
 * mode an error, so that a typo such as `prealocation` is never silent.
 * Every parser of our manifests (CDIConfig, DataVolume) goes through it.
 */
typedef struct yamldoc_unknown {
	bool            strict;   /**< unknown fields are errors */
	yamldoc_warn_fn warn;     /**< not strict: told of each; NULL: quiet */
	void           *warn_arg; /**< given to @c warn */
	yamldoc_pos    *where;    /**< optional; strict: the field's place */
} yamldoc_unknown;

/**
 * Report the unknown field @p key of the map at @p parent.
 * @param parent  the map's dotted path ("spec"); "" at the top level.
 * @return strict: PA_INVALID_ARGUMENT with "file:line:column: unknown
 *         field parent.key" at @p key in @p err; otherwise what @c warn
 *         returns for "file:line:column: unknown field parent.key
 *         (ignored)", or PA_OK when there is no @c warn.
 */
int yamldoc_unknown_field(const yamldoc_unknown *u, const yamldoc_node *key,
    const char *parent, pa_err *err);

/**
 * Report, with yamldoc_unknown_field(), every key of the map @p map that
 * is not in @p known. A null or absent @p map, or one that is not a map,
 * has no fields to report: checking its type is the caller's.
 * @param known  the field names, NULL-terminated.
 * @return PA_OK, or the first status yamldoc_unknown_field() returns.
 */
int yamldoc_check_fields(const yamldoc_unknown *u, const yamldoc_node *map,
    const char *path, const char *const *known, pa_err *err);

/** The one object yamldoc_find() looks for, and how it reports. */
typedef struct yamldoc_object {
	/** what a document must say to be the object. */
	const char *api_version;
	const char *kind;
	/**
	 * Match on kind alone. The one found must then have api_version,
	 * or it is an error at its apiVersion ("apiVersion: missing",
	 * "apiVersion: expected <api_version>, got ...").
	 */
	bool kind_only;
	/**
	 * When nothing matches but the stream is not empty, fail at the
	 * first document saying why it is not the object ("kind: expected
	 * <kind>, got ..."), instead of "no <kind> document".
	 */
	bool explain_first;
	/** "a second <noun> (the first starts at line N); <advice>". */
	const char *noun;
	const char *advice;
	/** optional: told of each document that is not the object. */
	yamldoc_warn_fn warn;
	void           *warn_arg;
} yamldoc_object;

/**
 * Find the one document of a stream that is @p want. Documents that are
 * null (a `---` with nothing after it) do not count.
 * @param[out] out  the document (borrowed from @p s); set only on PA_OK.
 * @param where     optional; on failure, where the error is (0, 0 for
 *                  "no <kind> document").
 * @return PA_OK; PA_INVALID_ARGUMENT for "<file>: no <kind> document
 *         (apiVersion: <api_version>, kind: <kind>)", a second one, or
 *         what kind_only and explain_first add; the status of @p want's
 *         warn when it fails.
 */
int yamldoc_find(const yamldoc_node **out, const yamldoc_stream *s,
    const yamldoc_object *want, yamldoc_pos *where, pa_err *err);

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
