// SPDX-License-Identifier: Apache-2.0
// output.c: render one jansson tree as a table, as JSON or as YAML.
#include <ctype.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "output.h"

// Room for a key made readable ("bytesDone" is "Bytes Done").
#define OUTPUT_KEY_SIZE 128
// Room for a scalar as a table shows it.
#define OUTPUT_CELL_SIZE 512

int
output_format_parse(output_format *out, const char *name)
{
	static const char *const names[] = { "table", "json", "yaml" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (output_format) i;
			return 0;
		}
	return -1;
}

char *
output_bytes(char buf[OUTPUT_BYTES_SIZE], uint64_t bytes)
{
	static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi",
		"Ei" };
	size_t                   u       = 0;

	// The largest unit that fits; exact when it divides ("120Mi").
	while (u + 1 < sizeof(units) / sizeof(units[0]) &&
	    bytes >> (10 * (u + 1)) != 0)
		u++;
	if (u == 0 || bytes % (1ULL << (10 * u)) == 0)
		snprintf(buf, OUTPUT_BYTES_SIZE, "%llu%s",
		    (unsigned long long) (bytes >> (10 * u)), units[u]);
	else
		snprintf(buf, OUTPUT_BYTES_SIZE, "%.1f%s",
		    (double) bytes / (double) (1ULL << (10 * u)), units[u]);
	return buf;
}

void
output_set(json_t *obj, const char *key, json_t *child)
{
	if (child != NULL)
		json_object_set_new(obj, key, child);
}

void
output_str(json_t *obj, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		output_set(obj, key, json_string(s));
}

void
output_u64(json_t *obj, const char *key, uint64_t v)
{
	// json_int_t is signed 64-bit: no size or count of ours reaches 2^63.
	output_set(obj, key, json_integer((json_int_t) v));
}

void
output_bool(json_t *obj, const char *key, bool v)
{
	output_set(obj, key, json_boolean(v));
}

void
output_tristate(json_t *obj, const char *key, pa_tristate v)
{
	if (v != PA_UNSET)
		output_bool(obj, key, v == PA_TRUE);
}

void
output_size(json_t *obj, output_format f, const char *key, uint64_t v)
{
	char buf[OUTPUT_BYTES_SIZE];

	if (f == OUTPUT_TABLE)
		output_str(obj, key, output_bytes(buf, v));
	else
		output_u64(obj, key, v);
}

void
output_time(json_t *obj, const char *key, int64_t unix_ms)
{
	time_t    t = (time_t) (unix_ms / 1000);
	struct tm tm;
	char      buf[32];

	if (unix_ms <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	output_str(obj, key, buf);
}

bool
output_needs_quotes(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on",
		"off", "y", "n", "null", "~" };
	char                    *end     = NULL;

	// A number, and a time a YAML 1.1 reader would turn into a timestamp.
	if (s[0] == '\0' || strchr("0123456789+-.", s[0]) != NULL)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	strtod(s, &end);
	return *end == '\0';
}

/* ---- the error object ---------------------------------------------- */

// The digits at @p s as a positive int, with where they end in @p end;
// 0 when there are none or they do not fit.
static int
output_digits(const char *s, const char **end)
{
	long v = 0;

	*end = s;
	while (**end >= '0' && **end <= '9') {
		v = v * 10 + (**end - '0');
		if (v > INT_MAX)
			return 0;
		(*end)++;
	}
	return (int) v;
}

bool
output_error_position(output_position *pos, const char *msg)
{
	for (const char *colon = strchr(msg, ':'); colon != NULL;
	     colon             = strchr(colon + 1, ':')) {
		const char *p;
		int         line, column;
		size_t      flen = (size_t) (colon - msg);

		if (flen == 0 || flen >= sizeof(pos->file) ||
		    (line = output_digits(colon + 1, &p)) == 0 || *p != ':' ||
		    (column = output_digits(p + 1, &p)) == 0 || *p != ':' ||
		    (p[1] != ' ' && p[1] != '\0'))
			continue;
		memcpy(pos->file, msg, flen);
		pos->file[flen] = '\0';
		pos->line       = line;
		pos->column     = column;
		pos->sentence   = p[1] == ' ' ? p + 2 : p + 1;
		return true;
	}
	return false;
}

// @p s as a JSON string; bytes that are not UTF-8 (a file name's) would
// make jansson refuse it, so then every byte above ASCII becomes '?'.
static json_t *
output_text(const char *s)
{
	json_t *j = json_string(s);
	char   *copy;

	if (j != NULL || (copy = strdup(s)) == NULL)
		return j;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char) *p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *
output_error(int code, const char *msg)
{
	json_t         *root = json_object(), *e = json_object();
	output_position pos;
	bool            at = output_error_position(&pos, msg);

	if (root == NULL || e == NULL) {
		json_decref(root);
		json_decref(e);
		return NULL;
	}
	json_object_set_new(e, "code", json_string(pa_status_name(code)));
	// Not output_str(): an empty message is still one.
	json_object_set_new(e, "message", output_text(at ? pos.sentence : msg));
	if (at) {
		json_object_set_new(e, "file", output_text(pos.file));
		output_u64(e, "line", (uint64_t) pos.line);
		output_u64(e, "column", (uint64_t) pos.column);
	}
	json_object_set_new(root, "error", e);
	return root;
}

/* ---- JSON ------------------------------------------------------------ */

static int
output_json(FILE *fp, const json_t *root)
{
	if (json_dumpf(root, fp, JSON_INDENT(2)) != 0)
		return -1;
	return fputc('\n', fp) == EOF ? -1 : 0;
}

/* ---- YAML ------------------------------------------------------------ */

// Emit one scalar with libyaml, quoted when YAML would not read it back
// as the same type.
static int
output_yaml_scalar(yaml_emitter_t *em, const char *text, bool quote)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text,
	    (int) strlen(text), 1, 1,
	    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int output_yaml_node(yaml_emitter_t *em, const json_t *node);

static int
output_yaml_object(yaml_emitter_t *em, const json_t *node)
{
	yaml_event_t ev;
	void        *it;

	yaml_mapping_start_event_initialize(
	    &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	for (it = json_object_iter((json_t *) node); it != NULL;
	     it = json_object_iter_next((json_t *) node, it)) {
		const char *key = json_object_iter_key(it);

		if (output_yaml_scalar(em, key, output_needs_quotes(key)) ||
		    output_yaml_node(em, json_object_iter_value(it)))
			return -1;
	}
	yaml_mapping_end_event_initialize(&ev);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
output_yaml_array(yaml_emitter_t *em, const json_t *node)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(
	    &ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	for (size_t i = 0; i < json_array_size(node); i++)
		if (output_yaml_node(em, json_array_get(node, i)))
			return -1;
	yaml_sequence_end_event_initialize(&ev);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

// A scalar as text; @p quote says whether YAML needs it quoted.
static void
output_scalar_text(char buf[OUTPUT_CELL_SIZE], const json_t *node, bool *quote)
{
	*quote = false;
	switch (json_typeof(node)) {
	case JSON_STRING:
		snprintf(buf, OUTPUT_CELL_SIZE, "%s", json_string_value(node));
		*quote = output_needs_quotes(buf);
		break;
	case JSON_INTEGER:
		snprintf(buf, OUTPUT_CELL_SIZE, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(node));
		break;
	case JSON_REAL:
		snprintf(buf, OUTPUT_CELL_SIZE, "%g", json_real_value(node));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(buf, OUTPUT_CELL_SIZE, "%s",
		    json_is_true(node) ? "true" : "false");
		break;
	default:
		snprintf(buf, OUTPUT_CELL_SIZE, "null");
	}
}

static int
output_yaml_node(yaml_emitter_t *em, const json_t *node)
{
	char buf[OUTPUT_CELL_SIZE];
	bool quote;

	if (json_is_object(node))
		return output_yaml_object(em, node);
	if (json_is_array(node))
		return output_yaml_array(em, node);
	if (json_is_string(node)) // not cut to the cell size
		return output_yaml_scalar(em, json_string_value(node),
		    output_needs_quotes(json_string_value(node)));
	output_scalar_text(buf, node, &quote);
	return output_yaml_scalar(em, buf, quote);
}

// Emit one document holding @p root.
static int
output_yaml_document(yaml_emitter_t *em, const json_t *root)
{
	yaml_event_t ev;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (!yaml_emitter_emit(em, &ev) || output_yaml_node(em, root))
		return -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (!yaml_emitter_emit(em, &ev))
		return -1;
	yaml_stream_end_event_initialize(&ev);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
output_yaml(FILE *fp, const json_t *root)
{
	yaml_emitter_t em;
	int            rc;

	if (!yaml_emitter_initialize(&em))
		return -1;
	yaml_emitter_set_output_file(&em, fp);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1); // long paths stay on one line
	rc = output_yaml_document(&em, root);
	if (rc == 0 && !yaml_emitter_flush(&em))
		rc = -1;
	yaml_emitter_delete(&em);
	return rc;
}

/* ---- the table ------------------------------------------------------- */

// A lowerCamelCase key as words: "bytesDone" is "Bytes Done", or "BYTES
// DONE" for a column. A key that is not an identifier (an annotation, a
// storage class) stays as it is.
static const char *
output_key(char buf[OUTPUT_KEY_SIZE], const char *key, bool upper)
{
	size_t n = 0;

	if (!islower((unsigned char) key[0]) ||
	    strspn(key,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678"
	        "9") != strlen(key))
		return key;
	for (size_t i = 0; key[i] != '\0' && n + 3 < OUTPUT_KEY_SIZE; i++) {
		char ch = key[i];

		if (isupper((unsigned char) ch) && i > 0)
			buf[n++] = ' ';
		if (i == 0 || upper || (i > 0 && buf[n - 1] == ' '))
			ch = (char) toupper((unsigned char) ch);
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return buf;
}

// A scalar, or an array of scalars joined, as a table shows it.
static const char *
output_cell(char buf[OUTPUT_CELL_SIZE], const json_t *node)
{
	size_t n = 0;
	bool   quote;
	char   one[OUTPUT_CELL_SIZE];

	if (!json_is_array(node)) {
		output_scalar_text(buf, node, &quote);
		return buf;
	}
	if (json_array_size(node) == 0)
		return "<none>";
	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(node) && n < OUTPUT_CELL_SIZE;
	     i++) {
		output_scalar_text(one, json_array_get(node, i), &quote);
		n += (size_t) snprintf(buf + n, OUTPUT_CELL_SIZE - n, "%s%s",
		    i > 0 ? ", " : "", one);
	}
	return buf;
}

// True when @p node is an array holding objects: it prints as columns.
static bool
output_is_rows(const json_t *node)
{
	return json_is_array(node) && json_array_size(node) > 0 &&
	    json_is_object(json_array_get(node, 0));
}

// The text of column @p key in @p row, or its header when @p row is NULL.
static const char *
output_col_text(char buf[OUTPUT_CELL_SIZE], const json_t *row, const char *key)
{
	const json_t *cell;

	if (row == NULL)
		return output_key(buf, key, true);
	cell = json_object_get(row, key);
	return cell != NULL ? output_cell(buf, cell) : "";
}

// A libsmartcols table of @p rows: a column per key of the first row,
// headed by the key in capitals. @return NULL when memory runs out.
static struct libscols_table *
output_scols(const json_t *rows)
{
	const json_t          *cols = json_array_get(rows, 0);
	struct libscols_table *tb   = scols_new_table();
	char                   buf[OUTPUT_CELL_SIZE];
	void                  *it;
	size_t                 c;

	if (tb == NULL)
		return NULL;
	// As kubectl spaces its columns; never cut to a terminal's width:
	// paths and ids are read whole, and scripts see what a terminal sees.
	scols_table_set_column_separator(tb, "  ");
	scols_table_enable_noencoding(tb, 1);
	for (it = json_object_iter((json_t *) cols); it != NULL;
	     it = json_object_iter_next((json_t *) cols, it))
		if (scols_table_new_column(tb,
		        output_col_text(buf, NULL, json_object_iter_key(it)), 0,
		        0) == NULL)
			goto fail;
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const json_t         *row = json_array_get(rows, i);
		struct libscols_line *ln  = scols_table_new_line(tb, NULL);

		if (ln == NULL)
			goto fail;
		for (it = json_object_iter((json_t *) cols), c = 0; it != NULL;
		     it = json_object_iter_next((json_t *) cols, it), c++)
			if (scols_line_set_data(ln, c,
			        output_col_text(
			            buf, row, json_object_iter_key(it))) != 0)
				goto fail;
	}
	return tb;
fail:
	scols_unref_table(tb);
	return NULL;
}

// Print the rows of @p rows as columns, headed by the first row's keys,
// each line indented by @p indent.
static void
output_columns(FILE *fp, const json_t *rows, int indent)
{
	struct libscols_table *tb   = output_scols(rows);
	char                  *text = NULL, *line, *save = NULL;

	if (tb == NULL)
		return;
	if (scols_print_table_to_string(tb, &text) == 0 && text != NULL)
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			fprintf(fp, "%*s%s\n", indent, "", line);
	free(text);
	scols_unref_table(tb);
}

// Print an object as aligned "Key:  value" lines, nested ones indented.
static void
output_describe(FILE *fp, const json_t *obj, int indent)
{
	int   width = 0;
	void *it;
	char  kb[OUTPUT_KEY_SIZE], cb[OUTPUT_CELL_SIZE];

	for (it = json_object_iter((json_t *) obj); it != NULL;
	     it = json_object_iter_next((json_t *) obj, it)) {
		int w = (int) strlen(
		    output_key(kb, json_object_iter_key(it), false));

		width = w > width ? w : width;
	}
	for (it = json_object_iter((json_t *) obj); it != NULL;
	     it = json_object_iter_next((json_t *) obj, it)) {
		const char *key = json_object_iter_key(it);
		const char *k   = output_key(kb, key, false);
		json_t     *v   = json_object_iter_value(it);
		bool        quote;

		if (json_is_object(v) || output_is_rows(v)) {
			fprintf(fp, "%*s%s:\n", indent, "", k);
			if (json_is_object(v))
				output_describe(fp, v, indent + 2);
			else
				output_columns(fp, v, indent + 2);
			continue;
		}
		if (k == key && json_is_string(v)) { // a map entry: as YAML
			output_scalar_text(cb, v, &quote);
			fprintf(fp, "%*s%s: %s%s%s\n", indent, "", k,
			    quote ? "\"" : "", cb, quote ? "\"" : "");
			continue;
		}
		fprintf(fp, "%*s%s:%*s %s\n", indent, "", k,
		    width - (int) strlen(k), "", output_cell(cb, v));
	}
}

static int
output_table(FILE *fp, const json_t *root)
{
	void   *it   = json_object_iter((json_t *) root);
	json_t *only = NULL;

	// {"jobs": [...]}: the list alone, as kubectl get shows one.
	if (json_is_object(root) && json_object_size(root) == 1 &&
	    json_is_array(json_object_iter_value(it)))
		only = json_object_iter_value(it);
	if (only != NULL && json_array_size(only) == 0) {
		fprintf(fp, "No %s.\n", json_object_iter_key(it));
	} else if (only != NULL) {
		output_columns(fp, only, 0);
	} else if (json_is_object(root)) {
		output_describe(fp, root, 0);
	} else if (output_is_rows(root)) {
		output_columns(fp, root, 0);
	}
	return ferror(fp) ? -1 : 0;
}

int
output_print(FILE *fp, output_format f, const json_t *root)
{
	int rc;

	switch (f) {
	case OUTPUT_JSON:
		rc = output_json(fp, root);
		break;
	case OUTPUT_YAML:
		rc = output_yaml(fp, root);
		break;
	default:
		rc = output_table(fp, root);
	}
	if (fflush(fp) != 0)
		rc = -1;
	return rc;
}
