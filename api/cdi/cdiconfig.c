// SPDX-License-Identifier: Apache-2.0
// cdiconfig.c: validate a CDIConfig tree and index its storage classes.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cdiconfig.h"
#include "overhead.h"
#include "k8sname.h"
#include "prealloc/util.h"

#define CDICONFIG_PATH_SIZE 320 // "spec.preallocation.storageClass." + name

typedef struct cdiconfig_entry {
	char             *name;
	size_t            len;
	uint64_t          hash;
	cdiconfig_setting s;
} cdiconfig_entry;

struct cdiconfig {
	atomic_uint       refs;
	uint64_t          generation;
	char             *filename;
	char             *name; // metadata.name, NULL when absent
	cdiconfig_setting global;
	cdiconfig_entry  *classes; // in the order first seen
	size_t            nclasses;
	size_t            classes_cap;
	uint32_t         *table;      // open addressing: index + 1, 0 is empty
	size_t            table_size; // a power of two, at least 2 * nclasses
	char            **warnings;
	size_t            nwarnings;
	size_t            warnings_cap;
};

typedef struct parse_ctx {
	cdiconfig   *c;
	bool         strict;
	yamldoc_pos *where;
	pa_err      *err;
} parse_ctx;

typedef struct level_field level_field;

// A level-shaped field of spec (preallocation, filesystemOverhead): a
// `{global: v, storageClass: {name: v, ...}}` map, stored in each level's
// cdiconfig_setting at the row's offsets. The functions are the value's
// type's, so a new field of a known type is one row in level_fields.
struct level_field {
	const char *name; // under spec
	// Non-NULL: a bare scalar is the global value, as real CDI's
	// `preallocation: true`; it names the type in "expected X or a map".
	const char *bare;
	// Read one value from the tree into a level.
	int (*set)(parse_ctx *ctx, const level_field *f, cdiconfig_setting *s,
	    const yamldoc_node *value, const char *path);
	// Whether a level sets the field, and its value as emitted.
	bool (*has)(const level_field *f, const cdiconfig_setting *s);
	const char *(*show)(const level_field *f, const cdiconfig_setting *s);
	yaml_scalar_style_t style;    // of emitted values
	size_t              at;       // offsetof the value in cdiconfig_setting
	size_t              at_milli; // overhead: offsetof its thousandths
};

// Fields of real CDI's CDIConfigSpec that have nothing to do with
// preallocation: accepted as they are, never checked.
static const char *const cdiconfig_foreign_spec[] = {
	"uploadProxyURLOverride",
	"importProxy",
	"scratchSpaceStorageClass",
	"podResourceRequirements",
	"featureGates",
	"insecureRegistries",
	"dataVolumeTTLSeconds",
	"tlsSecurityProfile",
	"imagePullSecrets",
	"logVerbosity",
};

static const char cdiconfig_default_yaml[] = "apiVersion: " CDI_API_VERSION "\n"
                                             "kind: " CDI_KIND_CDICONFIG "\n"
                                             "metadata:\n"
                                             "  name: config\n"
                                             "spec: {}\n";

static void
setting_init(cdiconfig_setting *s)
{
	memset(s, 0, sizeof(*s));
	s->preallocation  = CDICONFIG_UNSET;
	s->overhead_milli = -1;
}

// table_slot finds the slot holding @name, or the empty one where it goes.
static size_t
table_slot(const cdiconfig *c, const char *name, size_t len, uint64_t h)
{
	size_t mask = c->table_size - 1;
	size_t i    = (size_t) h & mask;

	for (;; i = (i + 1) & mask) {
		const cdiconfig_entry *e;

		if (c->table[i] == 0)
			return i;
		e = &c->classes[c->table[i] - 1];
		if (e->hash == h && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			return i;
	}
}

static int
table_grow(cdiconfig *c)
{
	size_t    size = c->table_size == 0 ? 16 : c->table_size * 2;
	uint32_t *old  = c->table;

	if ((c->table = calloc(size, sizeof(*c->table))) == NULL) {
		c->table = old;
		return -1;
	}
	c->table_size = size;
	for (size_t i = 0; i < c->nclasses; i++) {
		cdiconfig_entry *e = &c->classes[i];

		c->table[table_slot(c, e->name, e->len, e->hash)] =
		    (uint32_t) i + 1;
	}
	free(old);
	return 0;
}

static int
classes_grow(cdiconfig *c)
{
	size_t           want = c->classes_cap == 0 ? 16 : c->classes_cap * 2;
	cdiconfig_entry *bigger;

	if (c->nclasses < c->classes_cap)
		return 0;
	if ((bigger = realloc(c->classes, want * sizeof(*bigger))) == NULL)
		return -1;
	c->classes     = bigger;
	c->classes_cap = want;
	return 0;
}

// class_entry finds a storage class's entry, adding it when new.
static int
class_entry(cdiconfig_setting **out, cdiconfig *c, const char *name, size_t len)
{
	uint64_t         h = pa_hash_bytes(name, len);
	size_t           slot;
	cdiconfig_entry *e;

	if ((c->nclasses + 1) * 2 > c->table_size && table_grow(c) != 0)
		return -1;
	slot = table_slot(c, name, len, h);
	if (c->table[slot] == 0) {
		if (classes_grow(c) != 0)
			return -1;
		e = &c->classes[c->nclasses];
		if ((e->name = strndup(name, len)) == NULL)
			return -1;
		e->len  = len;
		e->hash = h;
		setting_init(&e->s);
		c->table[slot] = (uint32_t) ++c->nclasses;
	}
	*out = &c->classes[c->table[slot] - 1].s;
	return 0;
}

static int
nomem(parse_ctx *ctx)
{
	return pa_err_set(ctx->err, PA_RESOURCE_EXHAUSTED, "%s: out of memory",
	    ctx->c->filename);
}

// add_warning keeps a positioned warning in the snapshot; it is also the
// yamldoc_warn_fn for documents the stream holds besides the CDIConfig.
static int
add_warning(void *arg, const char *msg)
{
	parse_ctx *ctx = arg;
	cdiconfig *c   = ctx->c;

	if (c->nwarnings == c->warnings_cap) {
		size_t want   = c->warnings_cap == 0 ? 4 : c->warnings_cap * 2;
		char **bigger = realloc(c->warnings, want * sizeof(*bigger));

		if (bigger == NULL)
			return nomem(ctx);
		c->warnings     = bigger;
		c->warnings_cap = want;
	}
	if ((c->warnings[c->nwarnings] = strdup(msg)) == NULL)
		return nomem(ctx);
	c->nwarnings++;
	return PA_OK;
}

// unknown_field warns about a field this parser does not know, or, when
// strict, refuses it, so a typo such as `preallocaton` is never silent.
static int
unknown_field(parse_ctx *ctx, const yamldoc_node *key, const char *parent)
{
	const yamldoc_unknown u = {
		.strict   = ctx->strict,
		.warn     = add_warning,
		.warn_arg = ctx,
		.where    = ctx->where,
	};

	return yamldoc_unknown_field(&u, key, parent, ctx->err);
}

#define LEVEL_SLOT(type, s, off) ((type *) (void *) ((char *) (s) + (off)))
#define LEVEL_CSLOT(type, s, off) \
	((const type *) (const void *) ((const char *) (s) + (off)))

static int
set_tristate(parse_ctx *ctx, const level_field *f, cdiconfig_setting *s,
    const yamldoc_node *n, const char *path)
{
	bool v  = false;
	int  rc = yamldoc_bool(&v, n, path, ctx->where, ctx->err);

	if (rc == PA_OK)
		*LEVEL_SLOT(cdiconfig_tristate, s, f->at) =
		    v ? CDICONFIG_TRUE : CDICONFIG_FALSE;
	return rc;
}

static bool
has_tristate(const level_field *f, const cdiconfig_setting *s)
{
	return *LEVEL_CSLOT(cdiconfig_tristate, s, f->at) != CDICONFIG_UNSET;
}

static const char *
show_tristate(const level_field *f, const cdiconfig_setting *s)
{
	return *LEVEL_CSLOT(cdiconfig_tristate, s, f->at) == CDICONFIG_TRUE
	    ? "true"
	    : "false";
}

static int
set_overhead(parse_ctx *ctx, const level_field *f, cdiconfig_setting *s,
    const yamldoc_node *n, const char *path)
{
	const char *str = NULL;
	int         rc  = yamldoc_string(&str, n, path, ctx->where, ctx->err);
	int         milli;

	if (rc != PA_OK)
		return rc;
	if ((milli = overhead_milli(str)) < 0)
		return yamldoc_fail(ctx->err, ctx->where, n, "%s: \"%s\" %s",
		    path, str, overhead_problem(str));
	snprintf(
	    LEVEL_SLOT(char, s, f->at), CDICONFIG_OVERHEAD_SIZE, "%s", str);
	*LEVEL_SLOT(int, s, f->at_milli) = milli;
	return PA_OK;
}

static bool
has_overhead(const level_field *f, const cdiconfig_setting *s)
{
	return *LEVEL_CSLOT(int, s, f->at_milli) >= 0;
}

static const char *
show_overhead(const level_field *f, const cdiconfig_setting *s)
{
	return LEVEL_CSLOT(char, s, f->at);
}

static const level_field level_fields[] = {
	{
	    .name  = "preallocation",
	    .bare  = "a boolean",
	    .set   = set_tristate,
	    .has   = has_tristate,
	    .show  = show_tristate,
	    .style = YAML_PLAIN_SCALAR_STYLE,
	    .at    = offsetof(cdiconfig_setting, preallocation),
	},
	{
	    .name     = "filesystemOverhead",
	    .set      = set_overhead,
	    .has      = has_overhead,
	    .show     = show_overhead,
	    .style    = YAML_DOUBLE_QUOTED_SCALAR_STYLE,
	    .at       = offsetof(cdiconfig_setting, overhead),
	    .at_milli = offsetof(cdiconfig_setting, overhead_milli),
	},
};

#define LEVEL_NFIELDS (sizeof(level_fields) / sizeof(level_fields[0]))

// join_path writes "parent.key", cut to fit, for messages.
static void
join_path(char buf[CDICONFIG_PATH_SIZE], const char *parent, const char *key)
{
	size_t a = strnlen(parent, CDICONFIG_PATH_SIZE - 2);
	size_t b = strnlen(key, CDICONFIG_PATH_SIZE - 2 - a);

	memcpy(buf, parent, a);
	buf[a] = '.';
	memcpy(buf + a + 1, key, b);
	buf[a + 1 + b] = '\0';
}

// parse_class_map reads `storageClass: {name: value, ...}`.
static int
parse_class_map(parse_ctx *ctx, const yamldoc_node *map, const char *path,
    const level_field *f)
{
	char path_name[CDICONFIG_PATH_SIZE];
	int  rc;

	if (yamldoc_is_null(map))
		return PA_OK;
	if ((rc = yamldoc_expect(
	         map, YAMLDOC_MAP, path, ctx->where, ctx->err)) != PA_OK)
		return rc;
	for (size_t i = 0; i < map->count; i++) {
		const yamldoc_node *key = map->items[2 * i];
		cdiconfig_setting  *s   = NULL;

		if ((rc = yamldoc_check_name(key, path, "storage class",
		         k8sname_subdomain, ctx->where, ctx->err)) != PA_OK)
			return rc;
		if (class_entry(&s, ctx->c, key->str, key->len) != 0)
			return nomem(ctx);
		join_path(path_name, path, key->str);
		if ((rc = f->set(
		         ctx, f, s, map->items[2 * i + 1], path_name)) != PA_OK)
			return rc;
	}
	return PA_OK;
}

// parse_levels reads a `{global: v, storageClass: {...}}` map, the shape
// both spec.preallocation and spec.filesystemOverhead have.
static int
parse_levels(parse_ctx *ctx, const yamldoc_node *map, const char *path,
    const level_field *f)
{
	char sub[CDICONFIG_PATH_SIZE];
	int  rc = PA_OK;

	for (size_t i = 0; i < map->count && rc == PA_OK; i++) {
		const yamldoc_node *key   = map->items[2 * i];
		const yamldoc_node *value = map->items[2 * i + 1];

		join_path(sub, path, key->str);
		if (yamldoc_is(key, "global"))
			rc = yamldoc_is_null(value)
			    ? PA_OK
			    : f->set(ctx, f, &ctx->c->global, value, sub);
		else if (yamldoc_is(key, "storageClass"))
			rc = parse_class_map(ctx, value, sub, f);
		else
			rc = unknown_field(ctx, key, path);
	}
	return rc;
}

// parse_field reads one level-shaped field of spec.
static int
parse_field(parse_ctx *ctx, const level_field *f, const yamldoc_node *n)
{
	char path[CDICONFIG_PATH_SIZE];
	int  rc;

	join_path(path, "spec", f->name);
	if (yamldoc_is_null(n))
		return PA_OK;
	if (f->bare != NULL && n->kind == YAMLDOC_SCALAR)
		return f->set(ctx, f, &ctx->c->global, n, path);
	if (f->bare != NULL && n->kind == YAMLDOC_SEQ)
		return yamldoc_fail(ctx->err, ctx->where, n,
		    "%s: expected %s or a map, got a list", path, f->bare);
	if ((rc = yamldoc_expect(n, YAMLDOC_MAP, path, ctx->where, ctx->err)) !=
	    PA_OK)
		return rc;
	return parse_levels(ctx, n, path, f);
}

static const level_field *
level_field_named(const yamldoc_node *key)
{
	for (size_t i = 0; i < LEVEL_NFIELDS; i++)
		if (yamldoc_is(key, level_fields[i].name))
			return &level_fields[i];
	return NULL;
}

static bool
is_foreign_spec(const yamldoc_node *key)
{
	size_t n =
	    sizeof(cdiconfig_foreign_spec) / sizeof(cdiconfig_foreign_spec[0]);

	for (size_t i = 0; i < n; i++)
		if (yamldoc_is(key, cdiconfig_foreign_spec[i]))
			return true;
	return false;
}

static int
parse_spec(parse_ctx *ctx, const yamldoc_node *spec)
{
	int rc;

	if (yamldoc_is_null(spec))
		return PA_OK;
	if ((rc = yamldoc_expect(
	         spec, YAMLDOC_MAP, "spec", ctx->where, ctx->err)) != PA_OK)
		return rc;
	for (size_t i = 0; i < spec->count && rc == PA_OK; i++) {
		const yamldoc_node *key   = spec->items[2 * i];
		const yamldoc_node *value = spec->items[2 * i + 1];

		const level_field *f = level_field_named(key);

		if (f != NULL)
			rc = parse_field(ctx, f, value);
		else if (!is_foreign_spec(key))
			rc = unknown_field(ctx, key, "spec");
	}
	return rc;
}

// parse_object reads the CDIConfig document. metadata and status are what
// a cluster export carries (managedFields, resourceVersion, ...): ignored.
static int
parse_object(parse_ctx *ctx, const yamldoc_node *doc)
{
	const yamldoc_node *name;
	int                 rc = PA_OK;

	name = yamldoc_map_get(yamldoc_map_get(doc, "metadata"), "name");
	if (name != NULL && name->kind == YAMLDOC_SCALAR &&
	    (ctx->c->name = strdup(name->str)) == NULL)
		return nomem(ctx);
	for (size_t i = 0; i < doc->count && rc == PA_OK; i++) {
		const yamldoc_node *key = doc->items[2 * i];

		if (yamldoc_is(key, "spec"))
			rc = parse_spec(ctx, doc->items[2 * i + 1]);
		else if (!yamldoc_is(key, "apiVersion") &&
		    !yamldoc_is(key, "kind") && !yamldoc_is(key, "metadata") &&
		    !yamldoc_is(key, "status"))
			rc = unknown_field(ctx, key, "");
	}
	return rc;
}

// find_cdiconfig picks the one CDIConfig document out of a stream. Other
// documents (a ConfigMap wrapped around it, a list) leave a warning.
static int
find_cdiconfig(
    const yamldoc_node **out, parse_ctx *ctx, const yamldoc_stream *s)
{
	const yamldoc_object want = {
		.api_version = CDI_API_VERSION,
		.kind        = CDI_KIND_CDICONFIG,
		.noun        = CDI_KIND_CDICONFIG " document",
		.advice      = "the stream must hold exactly one",
		.warn        = add_warning,
		.warn_arg    = ctx,
	};

	return yamldoc_find(out, s, &want, ctx->where, ctx->err);
}

static void
cdiconfig_free(cdiconfig *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nclasses; i++)
		free(c->classes[i].name);
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->classes);
	free(c->table);
	free(c->warnings);
	free(c->filename);
	free(c->name);
	free(c);
}

int
cdiconfig_check_size(size_t len, const char *filename, pa_err *err)
{
	if (len <= CDI_CONFIG_MAX_BYTES)
		return PA_OK;
	return pa_err_set(err, PA_RESOURCE_EXHAUSTED,
	    "%s: larger than %d bytes, the limit of a configuration "
	    "(CDI_CONFIG_MAX_BYTES)",
	    filename ? filename : "<input>", CDI_CONFIG_MAX_BYTES);
}

int
cdiconfig_parse(cdiconfig **out, const char *yaml, size_t len,
    const char *filename, const cdiconfig_opts *opts, pa_err *err)
{
	static const cdiconfig_opts defaults = CDICONFIG_OPTS_INIT;
	yamldoc_stream             *s        = NULL;
	const yamldoc_node         *doc      = NULL;
	parse_ctx                   ctx      = { 0 };
	int                         rc;

	opts = opts != NULL ? opts : &defaults;
	if ((rc = cdiconfig_check_size(len, filename, err)) != PA_OK)
		return rc;
	if ((ctx.c = calloc(1, sizeof(*ctx.c))) == NULL ||
	    (ctx.c->filename = strdup(filename ? filename : "<input>")) ==
	        NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	atomic_init(&ctx.c->refs, 1);
	ctx.c->generation = opts->generation;
	setting_init(&ctx.c->global);
	ctx.strict = opts->strict;
	ctx.where  = opts->error_pos;
	ctx.err    = err;
	if ((rc = yamldoc_parse(
	         &s, yaml, len, ctx.c->filename, ctx.where, err)) != PA_OK ||
	    (rc = find_cdiconfig(&doc, &ctx, s)) != PA_OK ||
	    (rc = parse_object(&ctx, doc)) != PA_OK)
		goto done;
	*out  = ctx.c;
	ctx.c = NULL;
done:
	yamldoc_stream_free(s);
	cdiconfig_free(ctx.c);
	return rc;
}

int
cdiconfig_default(cdiconfig **out, const cdiconfig_opts *opts, pa_err *err)
{
	return cdiconfig_parse(out, cdiconfig_default_yaml,
	    sizeof(cdiconfig_default_yaml) - 1, "<default>", opts, err);
}

cdiconfig *
cdiconfig_ref(cdiconfig *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void
cdiconfig_unref(cdiconfig *c)
{
	// acq_rel: the last owner must see every other owner's reads done.
	if (c != NULL &&
	    atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		cdiconfig_free(c);
}

const cdiconfig_setting *
cdiconfig_global(const cdiconfig *c)
{
	return &c->global;
}

const cdiconfig_setting *
cdiconfig_class(const cdiconfig *c, const char *name)
{
	size_t len = strlen(name);
	size_t slot;

	if (c->nclasses == 0)
		return NULL;
	slot = table_slot(c, name, len, pa_hash_bytes(name, len));
	return c->table[slot] == 0 ? NULL : &c->classes[c->table[slot] - 1].s;
}

size_t
cdiconfig_class_count(const cdiconfig *c)
{
	return c->nclasses;
}

const cdiconfig_setting *
cdiconfig_class_at(const cdiconfig *c, size_t i, const char **name_out)
{
	if (i >= c->nclasses)
		return NULL;
	*name_out = c->classes[i].name;
	return &c->classes[i].s;
}

uint64_t
cdiconfig_generation(const cdiconfig *c)
{
	return c->generation;
}

const char *
cdiconfig_filename(const cdiconfig *c)
{
	return c->filename;
}

size_t
cdiconfig_warning_count(const cdiconfig *c)
{
	return c->nwarnings;
}

const char *
cdiconfig_warning(const cdiconfig *c, size_t i)
{
	return i < c->nwarnings ? c->warnings[i] : NULL;
}

// The emitter writes into a growing buffer; libyaml calls emit_write.
typedef struct emit_buf {
	char  *data;
	size_t len;
	size_t cap;
	bool   nomem;
} emit_buf;

typedef struct emitter {
	yaml_emitter_t em;
	bool           failed;
} emitter;

static int
emit_write(void *data, unsigned char *bytes, size_t size)
{
	emit_buf *b = data;

	if (b->len + size + 1 > b->cap) {
		size_t want   = (b->len + size + 1) * 2;
		char  *bigger = realloc(b->data, want);

		if (bigger == NULL) {
			b->nomem = true;
			return 0;
		}
		b->data = bigger;
		b->cap  = want;
	}
	memcpy(b->data + b->len, bytes, size);
	b->len += size;
	b->data[b->len] = '\0';
	return 1;
}

// emit hands one event over; after a failure it only drops events, so
// callers check once at the end.
static void
emit(emitter *e, yaml_event_t *ev, int made)
{
	if (!made) {
		e->failed = true;
		return;
	}
	if (e->failed)
		yaml_event_delete(ev);
	else if (!yaml_emitter_emit(&e->em, ev)) // it frees the event
		e->failed = true;
}

static void
emit_scalar(emitter *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	emit(e, &ev,
	    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s,
	        (int) strlen(s), 1, 1, style));
}

static void
emit_map(emitter *e, bool start, bool flow)
{
	yaml_event_t ev;

	if (start)
		emit(e, &ev,
		    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		        flow ? YAML_FLOW_MAPPING_STYLE
		             : YAML_BLOCK_MAPPING_STYLE));
	else
		emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void
emit_pair(
    emitter *e, const char *key, const char *value, yaml_scalar_style_t style)
{
	emit_scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
	emit_scalar(e, value, style);
}

// emit_field writes one level-shaped field, when any level sets it.
static void
emit_field(emitter *e, const cdiconfig *c, const cdiconfig_entry **sorted,
    const level_field *f)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nclasses; i++)
		n += f->has(f, &sorted[i]->s);
	if (n == 0 && !f->has(f, &c->global))
		return;
	emit_scalar(e, f->name, YAML_PLAIN_SCALAR_STYLE);
	emit_map(e, true, false);
	if (f->has(f, &c->global))
		emit_pair(e, "global", f->show(f, &c->global), f->style);
	if (n > 0) {
		emit_scalar(e, "storageClass", YAML_PLAIN_SCALAR_STYLE);
		emit_map(e, true, false);
		for (size_t i = 0; i < c->nclasses; i++)
			if (f->has(f, &sorted[i]->s))
				emit_pair(e, sorted[i]->name,
				    f->show(f, &sorted[i]->s), f->style);
		emit_map(e, false, false);
	}
	emit_map(e, false, false);
}

static bool
global_sets_any(const cdiconfig *c)
{
	for (size_t i = 0; i < LEVEL_NFIELDS; i++)
		if (level_fields[i].has(&level_fields[i], &c->global))
			return true;
	return false;
}

static void
emit_document(emitter *e, const cdiconfig *c, const cdiconfig_entry **sorted)
{
	bool         empty = c->nclasses == 0 && !global_sets_any(c);
	yaml_event_t ev;

	emit(e, &ev,
	    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(e, &ev,
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	emit_map(e, true, false);
	emit_pair(e, "apiVersion", CDI_API_VERSION, YAML_PLAIN_SCALAR_STYLE);
	emit_pair(e, "kind", CDI_KIND_CDICONFIG, YAML_PLAIN_SCALAR_STYLE);
	emit_scalar(e, "metadata", YAML_PLAIN_SCALAR_STYLE);
	emit_map(e, true, false);
	emit_pair(e, "name", c->name != NULL ? c->name : "config",
	    YAML_ANY_SCALAR_STYLE);
	emit_map(e, false, false);
	emit_scalar(e, "spec", YAML_PLAIN_SCALAR_STYLE);
	emit_map(e, true, empty); // `spec: {}` when nothing is set
	for (size_t i = 0; i < LEVEL_NFIELDS; i++)
		emit_field(e, c, sorted, &level_fields[i]);
	emit_map(e, false, false);
	emit_map(e, false, false);
	emit(e, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(e, &ev, yaml_stream_end_event_initialize(&ev));
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const cdiconfig_entry *a = *(const cdiconfig_entry *const *) pa;
	const cdiconfig_entry *b = *(const cdiconfig_entry *const *) pb;

	return strcmp(a->name, b->name);
}

int
cdiconfig_to_yaml(char **out, const cdiconfig *c, pa_err *err)
{
	emitter                 e      = { 0 };
	emit_buf                buf    = { 0 };
	const cdiconfig_entry **sorted = NULL;
	bool                    inited = false;
	int                     rc     = PA_OK;

	if ((sorted = calloc(c->nclasses + 1, sizeof(*sorted))) == NULL ||
	    !(inited = yaml_emitter_initialize(&e.em))) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < c->nclasses; i++)
		sorted[i] = &c->classes[i];
	qsort(sorted, c->nclasses, sizeof(*sorted), entry_cmp);
	yaml_emitter_set_output(&e.em, emit_write, &buf);
	yaml_emitter_set_unicode(&e.em, 1);
	emit_document(&e, c, sorted);
	if (!e.failed && !yaml_emitter_flush(&e.em))
		e.failed = true;
	if (e.failed || buf.data == NULL) {
		rc = buf.nomem
		    ? pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory")
		    : pa_err_set(err, PA_INTERNAL,
		          "cannot write the config as YAML: %s",
		          e.em.problem ? e.em.problem : "unknown");
		goto done;
	}
	*out     = buf.data;
	buf.data = NULL;
done:
	if (inited)
		yaml_emitter_delete(&e.em);
	free(buf.data);
	free(sorted);
	return rc;
}
