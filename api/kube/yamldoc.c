// SPDX-License-Identifier: Apache-2.0
// yamldoc.c: build a position-keeping node tree from libyaml's events.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yamldoc.h"

#define YAMLDOC_SHOW_MAX 40   // scalar bytes quoted in a message
#define YAMLDOC_WARN_SIZE 512 // one warning about a skipped document

struct yamldoc_stream {
	char          *file;
	yamldoc_node **docs;
	size_t         ndocs;
	size_t         docs_cap;
	yamldoc_node **all; // every node, so freeing never recurses
	size_t         nall;
	size_t         all_cap;
};

// The open collections while events arrive; depth is bounded, so a fixed
// array does.
typedef struct builder {
	yamldoc_stream *s;
	yamldoc_node   *open[YAMLDOC_MAX_DEPTH];
	size_t          cap[YAMLDOC_MAX_DEPTH];
	int             depth;
	yamldoc_node   *root;
	yamldoc_pos    *where;
	pa_err         *err;
} builder;

static int __attribute__((format(printf, 6, 0)))
vfail_at(pa_err *err, yamldoc_pos *where, const char *file, int line,
    int column, const char *fmt, va_list ap)
{
	char what[PA_ERR_MSG_SIZE];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (where != NULL) {
		where->line   = line;
		where->column = column;
	}
	return pa_err_set(
	    err, PA_INVALID_ARGUMENT, "%s:%d:%d: %s", file, line, column, what);
}

static int fail_at(pa_err *err, yamldoc_pos *where, const char *file, int line,
    int column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
fail_at(pa_err *err, yamldoc_pos *where, const char *file, int line, int column,
    const char *fmt, ...)
{
	va_list ap;
	int     rc;

	va_start(ap, fmt);
	rc = vfail_at(err, where, file, line, column, fmt, ap);
	va_end(ap);
	return rc;
}

int
yamldoc_fail(pa_err *err, yamldoc_pos *where, const yamldoc_node *n,
    const char *fmt, ...)
{
	va_list ap;
	int     rc;

	va_start(ap, fmt);
	rc = vfail_at(err, where, n->file, n->line, n->column, fmt, ap);
	va_end(ap);
	return rc;
}

char *
yamldoc_vformat(
    char *buf, size_t size, const yamldoc_node *n, const char *fmt, va_list ap)
{
	int used =
	    snprintf(buf, size, "%s:%d:%d: ", n->file, n->line, n->column);

	if (used >= 0 && (size_t) used < size)
		vsnprintf(buf + used, size - (size_t) used, fmt, ap);
	return buf;
}

int
yamldoc_unknown_field(const yamldoc_unknown *u, const yamldoc_node *key,
    const char *parent, pa_err *err)
{
	const char *dot = parent[0] != '\0' ? "." : "";
	char        buf[YAMLDOC_WARN_SIZE];

	if (u->strict)
		return yamldoc_fail(err, u->where, key, "unknown field %s%s%s",
		    parent, dot, key->str);
	if (u->warn == NULL)
		return PA_OK;
	snprintf(buf, sizeof(buf), "%s:%d:%d: unknown field %s%s%s (ignored)",
	    key->file, key->line, key->column, parent, dot, key->str);
	return u->warn(u->warn_arg, buf);
}

static bool
is_known(const yamldoc_node *key, const char *const *known)
{
	for (; *known != NULL; known++)
		if (yamldoc_is(key, *known))
			return true;
	return false;
}

int
yamldoc_check_fields(const yamldoc_unknown *u, const yamldoc_node *map,
    const char *path, const char *const *known, pa_err *err)
{
	int rc = PA_OK;

	if (map == NULL || map->kind != YAMLDOC_MAP)
		return PA_OK;
	for (size_t i = 0; i < map->count && rc == PA_OK; i++)
		if (!is_known(map->items[2 * i], known))
			rc = yamldoc_unknown_field(
			    u, map->items[2 * i], path, err);
	return rc;
}

// grow makes room for one more pointer in *arr, doubling its capacity.
static int
grow(yamldoc_node ***arr, size_t n, size_t *cap)
{
	yamldoc_node **bigger;
	size_t         want;

	if (n < *cap)
		return 0;
	want   = *cap == 0 ? 4 : *cap * 2;
	bigger = realloc(*arr, want * sizeof(**arr));
	if (bigger == NULL)
		return -1;
	*arr = bigger;
	*cap = want;
	return 0;
}

static int
builder_nomem(builder *b)
{
	return pa_err_set(b->err, PA_RESOURCE_EXHAUSTED,
	    "%s: out of memory while parsing", b->s->file);
}

static int
builder_new_node(
    yamldoc_node **out, builder *b, yamldoc_kind kind, const yaml_event_t *ev)
{
	yamldoc_stream *s = b->s;
	yamldoc_node   *n;

	if (s->nall >= YAMLDOC_MAX_NODES)
		return fail_at(b->err, b->where, s->file,
		    (int) ev->start_mark.line + 1,
		    (int) ev->start_mark.column + 1,
		    "more than %d nodes in the stream", YAMLDOC_MAX_NODES);
	if (grow(&s->all, s->nall, &s->all_cap) != 0 ||
	    (n = calloc(1, sizeof(*n))) == NULL)
		return builder_nomem(b);
	s->all[s->nall++] = n;
	n->kind           = kind;
	n->line           = (int) ev->start_mark.line + 1;
	n->column         = (int) ev->start_mark.column + 1;
	n->file           = s->file;
	*out              = n;
	return PA_OK;
}

// builder_attach puts @n under the innermost open collection, or makes it
// the document's root.
static int
builder_attach(builder *b, yamldoc_node *n)
{
	yamldoc_node *parent;
	size_t       *cap;

	if (b->depth == 0) {
		b->root = n;
		return PA_OK;
	}
	parent = b->open[b->depth - 1];
	cap    = &b->cap[b->depth - 1];
	if (parent->kind == YAMLDOC_MAP && parent->count % 2 == 0 &&
	    n->kind != YAMLDOC_SCALAR)
		return yamldoc_fail(b->err, b->where, n,
		    "a map key must be a scalar, not a %s",
		    n->kind == YAMLDOC_MAP ? "map" : "list");
	if (grow(&parent->items, parent->count, cap) != 0)
		return builder_nomem(b);
	parent->items[parent->count++] = n; // a map counts items until it ends
	return PA_OK;
}

static int
builder_scalar(builder *b, const yaml_event_t *ev)
{
	yamldoc_node *n  = NULL;
	const char   *tg = (const char *) ev->data.scalar.tag;
	int           rc;

	if ((rc = builder_new_node(&n, b, YAMLDOC_SCALAR, ev)) != PA_OK)
		return rc;
	n->len = ev->data.scalar.length;
	if ((n->str = malloc(n->len + 1)) == NULL)
		return builder_nomem(b);
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	// `!!str true` is a string, as if it were quoted.
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (tg == NULL || strcmp(tg, YAML_STR_TAG) != 0);
	return builder_attach(b, n);
}

static int
builder_open(builder *b, yamldoc_kind kind, const yaml_event_t *ev)
{
	yamldoc_node *n = NULL;
	int           rc;

	if (b->depth >= YAMLDOC_MAX_DEPTH)
		return fail_at(b->err, b->where, b->s->file,
		    (int) ev->start_mark.line + 1,
		    (int) ev->start_mark.column + 1,
		    "nested more than %d levels deep", YAMLDOC_MAX_DEPTH);
	if ((rc = builder_new_node(&n, b, kind, ev)) != PA_OK ||
	    (rc = builder_attach(b, n)) != PA_OK)
		return rc;
	b->open[b->depth] = n;
	b->cap[b->depth]  = 0;
	b->depth++;
	return PA_OK;
}

// Keys sort by bytes, then by position, so that in a run of equal keys
// the first is the one written first.
static int
key_cmp(const void *pa, const void *pb)
{
	const yamldoc_node *a = *(const yamldoc_node *const *) pa;
	const yamldoc_node *b = *(const yamldoc_node *const *) pb;
	size_t              n = a->len < b->len ? a->len : b->len;
	int                 c = memcmp(a->str, b->str, n);

	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->column < b->column ? -1 : a->column > b->column;
}

static bool
pos_before(const yamldoc_node *a, const yamldoc_node *b)
{
	return a->line < b->line ||
	    (a->line == b->line && a->column < b->column);
}

// check_duplicates sorts a copy of the keys, so a map of 10,000 storage
// classes costs n log n, not n squared. It names the repeat written first.
static int
check_duplicates(builder *b, const yamldoc_node *map)
{
	yamldoc_node **keys  = NULL;
	yamldoc_node  *first = NULL, *again = NULL;
	int            rc = PA_OK;

	if (map->count < 2)
		return PA_OK;
	if ((keys = malloc(map->count * sizeof(*keys))) == NULL)
		return builder_nomem(b);
	for (size_t i = 0; i < map->count; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, map->count, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < map->count; i++) {
		if (keys[i]->len != keys[i - 1]->len ||
		    memcmp(keys[i]->str, keys[i - 1]->str, keys[i]->len) != 0)
			continue;
		if (again == NULL || pos_before(keys[i], again)) {
			first = keys[i - 1];
			again = keys[i];
		}
	}
	if (again != NULL)
		rc = yamldoc_fail(b->err, b->where, again,
		    "duplicate key \"%.*s\" (first at line %d, column %d)",
		    YAMLDOC_SHOW_MAX, again->str, first->line, first->column);
	free(keys);
	return rc;
}

static int
builder_close(builder *b)
{
	yamldoc_node *n = b->open[--b->depth];

	if (n->kind != YAMLDOC_MAP)
		return PA_OK;
	n->count /= 2; // items counted keys and values; count is pairs
	return check_duplicates(b, n);
}

static int
builder_end_document(builder *b)
{
	yamldoc_stream *s = b->s;

	if (grow(&s->docs, s->ndocs, &s->docs_cap) != 0)
		return builder_nomem(b);
	s->docs[s->ndocs++] = b->root;
	b->root             = NULL;
	return PA_OK;
}

static int
builder_event(builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return builder_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return builder_open(b, YAMLDOC_SEQ, ev);
	case YAML_MAPPING_START_EVENT:
		return builder_open(b, YAMLDOC_MAP, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return builder_close(b);
	case YAML_DOCUMENT_END_EVENT:
		return builder_end_document(b);
	case YAML_ALIAS_EVENT:
		return fail_at(b->err, b->where, b->s->file,
		    (int) ev->start_mark.line + 1,
		    (int) ev->start_mark.column + 1,
		    "alias *%s is not supported: aliases can blow up a "
		    "document's size; write the value out",
		    (const char *) ev->data.alias.anchor);
	default:
		return PA_OK;
	}
}

// A reader error (bad UTF-8) has only a byte offset; count lines to it.
static void
offset_to_pos(int *line, int *column, const char *buf, size_t len, size_t off)
{
	*line   = 1;
	*column = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

static int
syntax_error(builder *b, const yaml_parser_t *p, const char *buf, size_t len)
{
	int line   = (int) p->problem_mark.line + 1;
	int column = (int) p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return builder_nomem(b);
	if (p->error == YAML_READER_ERROR) {
		offset_to_pos(&line, &column, buf, len, p->problem_offset);
		return fail_at(b->err, b->where, b->s->file, line, column, "%s",
		    p->problem);
	}
	if (p->context == NULL)
		return fail_at(b->err, b->where, b->s->file, line, column, "%s",
		    p->problem);
	return fail_at(b->err, b->where, b->s->file, line, column,
	    "%s (%s that starts at line %d, column %d)", p->problem, p->context,
	    (int) p->context_mark.line + 1, (int) p->context_mark.column + 1);
}

static int
builder_run(builder *b, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t  ev;
	int           rc   = PA_OK;
	bool          last = false;

	if (!yaml_parser_initialize(&p))
		return builder_nomem(b);
	yaml_parser_set_input_string(&p, (const unsigned char *) buf, len);
	while (rc == PA_OK && !last) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(b, &p, buf, len);
			break;
		}
		rc   = builder_event(b, &ev);
		last = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int
yamldoc_parse(yamldoc_stream **out, const char *buf, size_t len,
    const char *file, yamldoc_pos *where, pa_err *err)
{
	builder         b = { 0 };
	yamldoc_stream *s = NULL;
	int             rc;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->file = strdup(file != NULL ? file : "<input>")) == NULL) {
		rc = pa_err_set(
		    err, PA_RESOURCE_EXHAUSTED, "out of memory while parsing");
		goto done;
	}
	b.s     = s;
	b.where = where;
	b.err   = err;
	if ((rc = builder_run(&b, buf != NULL ? buf : "", len)) != PA_OK)
		goto done;
	*out = s;
	s    = NULL;
done:
	yamldoc_stream_free(s);
	return rc;
}

void
yamldoc_stream_free(yamldoc_stream *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nall; i++) {
		free(s->all[i]->str);
		free(s->all[i]->items);
		free(s->all[i]);
	}
	free(s->all);
	free(s->docs);
	free(s->file);
	free(s);
}

size_t
yamldoc_stream_count(const yamldoc_stream *s)
{
	return s->ndocs;
}

const yamldoc_node *
yamldoc_stream_doc(const yamldoc_stream *s, size_t i)
{
	return i < s->ndocs ? s->docs[i] : NULL;
}

const char *
yamldoc_stream_file(const yamldoc_stream *s)
{
	return s->file;
}

const yamldoc_node *
yamldoc_map_get(const yamldoc_node *map, const char *key)
{
	size_t klen;

	if (map == NULL || map->kind != YAMLDOC_MAP)
		return NULL;
	klen = strlen(key);
	for (size_t i = 0; i < map->count; i++) {
		const yamldoc_node *k = map->items[2 * i];

		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

bool
yamldoc_is(const yamldoc_node *n, const char *s)
{
	return n != NULL && n->kind == YAMLDOC_SCALAR && strlen(s) == n->len &&
	    memcmp(n->str, s, n->len) == 0;
}

bool
yamldoc_is_null(const yamldoc_node *n)
{
	if (n == NULL)
		return true;
	if (n->kind != YAMLDOC_SCALAR || !n->plain)
		return false;
	return n->len == 0 || yamldoc_is(n, "~") || yamldoc_is(n, "null") ||
	    yamldoc_is(n, "Null") || yamldoc_is(n, "NULL");
}

static bool
is_bool(const yamldoc_node *n)
{
	return n->plain && (yamldoc_is(n, "true") || yamldoc_is(n, "false"));
}

static size_t
span(const char *s, const char *set)
{
	return strspn(s, set);
}

// is_float follows YAML 1.2's core schema:
// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
static bool
is_float(const char *s)
{
	size_t ip, fp = 0;

	s += *s == '-' || *s == '+';
	ip = span(s, "0123456789");
	s += ip;
	if (*s == '.') {
		fp = span(s + 1, "0123456789");
		s += 1 + fp;
	}
	if (ip == 0 && fp == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if (span(s, "0123456789") == 0)
			return false;
		s += span(s, "0123456789");
	}
	return *s == '\0';
}

static bool
is_number(const yamldoc_node *n)
{
	const char *s = n->str;
	const char *t = s + (*s == '-' || *s == '+');

	if (!n->plain || n->len == 0 || strlen(s) != n->len)
		return false;
	if (strncmp(s, "0x", 2) == 0)
		return s[2] != '\0' &&
		    s[2 + span(s + 2, "0123456789abcdefABCDEF")] == '\0';
	if (strncmp(s, "0o", 2) == 0)
		return s[2] != '\0' && s[2 + span(s + 2, "01234567")] == '\0';
	if (strcmp(t, ".inf") == 0 || strcmp(t, ".Inf") == 0 ||
	    strcmp(t, ".INF") == 0 || strcmp(s, ".nan") == 0 ||
	    strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)
		return true;
	return is_float(s);
}

// describe says what a node is, for "expected X, got Y".
static const char *
describe(char *buf, size_t size, const yamldoc_node *n)
{
	const char *what = "string";
	int show = n->len > YAMLDOC_SHOW_MAX ? YAMLDOC_SHOW_MAX : (int) n->len;

	if (n->kind == YAMLDOC_MAP)
		return "a map";
	if (n->kind == YAMLDOC_SEQ)
		return "a list";
	if (yamldoc_is_null(n))
		return "null";
	if (is_bool(n))
		what = "boolean";
	else if (is_number(n))
		what = "number";
	if (!n->plain || strcmp(what, "string") == 0)
		snprintf(buf, size, "string \"%.*s%s\"", show, n->str,
		    show < (int) n->len ? "..." : "");
	else
		snprintf(buf, size, "%s %.*s", what, show, n->str);
	return buf;
}

static int
missing(pa_err *err, yamldoc_pos *where, const char *path)
{
	if (where != NULL)
		where->line = where->column = 0;
	return pa_err_set(err, PA_INVALID_ARGUMENT, "%s: missing", path);
}

int
yamldoc_bool(bool *out, const yamldoc_node *n, const char *path,
    yamldoc_pos *where, pa_err *err)
{
	char got[YAMLDOC_SHOW_MAX + 32];

	if (n == NULL)
		return missing(err, where, path);
	if (n->kind != YAMLDOC_SCALAR || !is_bool(n))
		return yamldoc_fail(err, where, n,
		    "%s: expected a boolean (true or false), got %s", path,
		    describe(got, sizeof(got), n));
	*out = n->str[0] == 't';
	return PA_OK;
}

int
yamldoc_string(const char **out, const yamldoc_node *n, const char *path,
    yamldoc_pos *where, pa_err *err)
{
	char got[YAMLDOC_SHOW_MAX + 32];

	if (n == NULL)
		return missing(err, where, path);
	if (n->kind != YAMLDOC_SCALAR || yamldoc_is_null(n))
		return yamldoc_fail(err, where, n,
		    "%s: expected a string, got %s", path,
		    describe(got, sizeof(got), n));
	if (is_bool(n) || is_number(n))
		return yamldoc_fail(err, where, n,
		    "%s: expected a string, got %s (quote it: \"%s\")", path,
		    describe(got, sizeof(got), n), n->str);
	*out = n->str;
	return PA_OK;
}

int
yamldoc_expect(const yamldoc_node *n, yamldoc_kind kind, const char *path,
    yamldoc_pos *where, pa_err *err)
{
	static const char *const names[] = {
		[YAMLDOC_SCALAR] = "a scalar",
		[YAMLDOC_MAP]    = "a map",
		[YAMLDOC_SEQ]    = "a list",
	};
	char got[YAMLDOC_SHOW_MAX + 32];

	if (n == NULL)
		return missing(err, where, path);
	if (n->kind == kind)
		return PA_OK;
	return yamldoc_fail(err, where, n, "%s: expected %s, got %s", path,
	    names[kind], describe(got, sizeof(got), n));
}

int
yamldoc_need(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, yamldoc_pos *where, pa_err *err)
{
	const yamldoc_node *n = yamldoc_map_get(parent, key);

	if (yamldoc_is_null(n))
		return yamldoc_fail(err, where, parent, "%s: missing", path);
	*out = n;
	return PA_OK;
}

int
yamldoc_need_map(const yamldoc_node **out, const yamldoc_node *parent,
    const char *key, const char *path, yamldoc_pos *where, pa_err *err)
{
	const yamldoc_node *n = NULL;
	int rc                = yamldoc_need(&n, parent, key, path, where, err);

	if (rc == PA_OK)
		rc = yamldoc_expect(n, YAMLDOC_MAP, path, where, err);
	if (rc == PA_OK)
		*out = n;
	return rc;
}

int
yamldoc_check_name(const yamldoc_node *n, const char *path, const char *what,
    yamldoc_name_fn check, yamldoc_pos *where, pa_err *err)
{
	pa_err why = PA_ERR_INIT;

	if (n == NULL)
		return missing(err, where, path);
	if (check(n->str, n->len, &why) == PA_OK)
		return PA_OK;
	return yamldoc_fail(err, where, n, "%s: %s%s%s", path,
	    what != NULL ? what : "", what != NULL ? " " : "", why.msg);
}

int
yamldoc_name(const char **out, const yamldoc_node *n, const char *path,
    yamldoc_name_fn check, yamldoc_pos *where, pa_err *err)
{
	const char *s  = NULL;
	int         rc = yamldoc_string(&s, n, path, where, err);

	if (rc == PA_OK)
		rc = yamldoc_check_name(n, path, NULL, check, where, err);
	if (rc == PA_OK)
		*out = s;
	return rc;
}

static const char *
scalar_or(const yamldoc_node *n, const char *otherwise)
{
	return n != NULL && n->kind == YAMLDOC_SCALAR ? n->str : otherwise;
}

static bool
find_matches(const yamldoc_object *want, const yamldoc_node *doc)
{
	return yamldoc_is(yamldoc_map_get(doc, "kind"), want->kind) &&
	    (want->kind_only ||
	        yamldoc_is(
	            yamldoc_map_get(doc, "apiVersion"), want->api_version));
}

static int find_warn(const yamldoc_object *want, const yamldoc_node *doc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
find_warn(
    const yamldoc_object *want, const yamldoc_node *doc, const char *fmt, ...)
{
	char    buf[YAMLDOC_WARN_SIZE];
	va_list ap;

	va_start(ap, fmt);
	yamldoc_vformat(buf, sizeof(buf), doc, fmt, ap);
	va_end(ap);
	return want->warn(want->warn_arg, buf);
}

// find_skip tells the caller about document @p i, which is not the object.
static int
find_skip(const yamldoc_object *want, const yamldoc_node *doc, size_t i)
{
	const yamldoc_node *kind = yamldoc_map_get(doc, "kind");

	if (want->warn == NULL)
		return PA_OK;
	if (kind == NULL || kind->kind != YAMLDOC_SCALAR)
		return find_warn(
		    want, doc, "document %zu ignored: it has no kind", i + 1);
	return find_warn(want, doc,
	    "document %zu ignored: kind %s, apiVersion %s is not a %s of %s",
	    i + 1, kind->str,
	    scalar_or(yamldoc_map_get(doc, "apiVersion"), "(none)"), want->kind,
	    want->api_version);
}

// find_explain says why @p doc, the stream's first, is not the object.
static int
find_explain(const yamldoc_object *want, const yamldoc_node *doc,
    yamldoc_pos *where, pa_err *err)
{
	const yamldoc_node *kind = yamldoc_map_get(doc, "kind");

	if (doc->kind != YAMLDOC_MAP)
		return yamldoc_expect(doc, YAMLDOC_MAP, want->kind, where, err);
	if (kind == NULL)
		return yamldoc_fail(err, where, doc, "kind: missing");
	return yamldoc_fail(err, where, kind, "kind: expected %s, got \"%s\"",
	    want->kind, scalar_or(kind, "a collection"));
}

static int
find_check_version(const yamldoc_object *want, const yamldoc_node *doc,
    yamldoc_pos *where, pa_err *err)
{
	const yamldoc_node *api = NULL;
	int                 rc =
	    yamldoc_need(&api, doc, "apiVersion", "apiVersion", where, err);

	if (rc != PA_OK || yamldoc_is(api, want->api_version))
		return rc;
	return yamldoc_fail(err, where, api,
	    "apiVersion: expected %s, got \"%s\"", want->api_version,
	    scalar_or(api, "a collection"));
}

static int
find_none(const yamldoc_object *want, const yamldoc_stream *s,
    const yamldoc_node *first, yamldoc_pos *where, pa_err *err)
{
	if (first != NULL && want->explain_first)
		return find_explain(want, first, where, err);
	if (where != NULL)
		where->line = where->column = 0;
	return pa_err_set(err, PA_INVALID_ARGUMENT,
	    "%s: no %s document (apiVersion: %s, kind: %s)", s->file,
	    want->kind, want->api_version, want->kind);
}

int
yamldoc_find(const yamldoc_node **out, const yamldoc_stream *s,
    const yamldoc_object *want, yamldoc_pos *where, pa_err *err)
{
	const yamldoc_node *found = NULL, *first = NULL;
	int                 rc = PA_OK;

	for (size_t i = 0; i < s->ndocs && rc == PA_OK; i++) {
		const yamldoc_node *doc = s->docs[i];

		if (yamldoc_is_null(doc))
			continue;
		if (first == NULL)
			first = doc;
		if (!find_matches(want, doc))
			rc = find_skip(want, doc, i);
		else if (found != NULL)
			rc = yamldoc_fail(err, where, doc,
			    "a second %s (the first starts at line %d); %s",
			    want->noun, found->line, want->advice);
		else
			found = doc;
	}
	if (rc == PA_OK && found == NULL)
		rc = find_none(want, s, first, where, err);
	if (rc == PA_OK && want->kind_only)
		rc = find_check_version(want, found, where, err);
	if (rc == PA_OK)
		*out = found;
	return rc;
}
