// SPDX-License-Identifier: Apache-2.0
// yamldoc_test.c: the YAML tree, its positions, its typed getters and errors.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "yamldoc.h"

// parse_ok parses @text and fails the test when it does not parse.
static yamldoc_stream *
parse_ok(const char *text)
{
	yamldoc_stream *s   = NULL;
	pa_err          err = PA_ERR_INIT;

	if (yamldoc_parse(&s, text, strlen(text), "t.yaml", NULL, &err) !=
	    PA_OK)
		fail_msg("parse failed: %s", err.msg);
	return s;
}

// field is a key of the first document's top-level map.
static const yamldoc_node *
field(const yamldoc_stream *s, const char *key)
{
	return yamldoc_map_get(yamldoc_stream_doc(s, 0), key);
}

// expect_error parses @text and checks the code, position and message.
static void
expect_error(const char *text, int line, int column, const char *msg)
{
	yamldoc_stream *s     = NULL;
	pa_err          err   = PA_ERR_INIT;
	yamldoc_pos     where = { -1, -1 };

	assert_int_equal(
	    yamldoc_parse(&s, text, strlen(text), "t.yaml", &where, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(s);
	assert_int_equal(err.code, PA_INVALID_ARGUMENT);
	assert_int_equal(where.line, line);
	assert_int_equal(where.column, column);
	assert_string_equal(err.msg, msg);
}

static void
test_yamldoc__block_and_flow_with_comments(void **state)
{
	yamldoc_stream     *s = parse_ok("# a comment\n"
	                                     "a: 1 # trailing\n"
	                                     "b:\n"
	                                     "  - x\n"
	                                     "  - {c: \"q\", d: [1, 2]}\n"
	                                     "---\n"
	                                     "second: doc\n");
	const yamldoc_node *root, *b, *c;

	assert_int_equal(yamldoc_stream_count(s), 2);
	assert_string_equal(yamldoc_stream_file(s), "t.yaml");
	root = yamldoc_stream_doc(s, 0);
	assert_int_equal(root->kind, YAMLDOC_MAP);
	assert_int_equal(root->count, 2);
	assert_true(yamldoc_is(yamldoc_map_get(root, "a"), "1"));
	b = yamldoc_map_get(root, "b");
	assert_int_equal(b->kind, YAMLDOC_SEQ);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->items[0]->line, 4);
	assert_int_equal(b->items[0]->column, 5);
	c = yamldoc_map_get(b->items[1], "c");
	assert_true(yamldoc_is(c, "q"));
	assert_false(c->plain);
	assert_int_equal(c->line, 5);
	assert_int_equal(c->column, 9);
	assert_int_equal(yamldoc_map_get(b->items[1], "d")->count, 2);
	assert_true(yamldoc_is(
	    yamldoc_map_get(yamldoc_stream_doc(s, 1), "second"), "doc"));
	assert_null(yamldoc_stream_doc(s, 2));
	assert_null(yamldoc_map_get(root, "missing"));
	assert_null(yamldoc_map_get(b, "a")); // not a map
	yamldoc_stream_free(s);
}

static void
test_yamldoc__empty_stream_has_no_documents(void **state)
{
	yamldoc_stream *s = parse_ok("# only a comment\n");

	assert_int_equal(yamldoc_stream_count(s), 0);
	yamldoc_stream_free(s);
	yamldoc_stream_free(NULL);
}

static void
test_yamldoc__only_plain_true_and_false_are_booleans(void **state)
{
	static const char *const not_bools[] = { "yes", "no", "on", "off",
		"True", "TRUE", "1", "y" };
	yamldoc_stream          *s;
	pa_err                   err   = PA_ERR_INIT;
	yamldoc_pos              where = { 0, 0 };
	bool                     v     = false;
	char                     text[64];

	s = parse_ok("t: true\nf: false\nq: \"true\"\n");
	assert_int_equal(
	    yamldoc_bool(&v, field(s, "t"), "t", NULL, NULL), PA_OK);
	assert_true(v);
	assert_int_equal(
	    yamldoc_bool(&v, field(s, "f"), "f", NULL, NULL), PA_OK);
	assert_false(v);
	assert_int_equal(yamldoc_bool(&v, field(s, "q"), "x.q", &where, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml:3:4: x.q: expected a boolean "
	    "(true or false), got string \"true\"");
	assert_int_equal(where.line, 3);
	assert_int_equal(where.column, 4);
	yamldoc_stream_free(s);
	for (size_t i = 0; i < sizeof(not_bools) / sizeof(not_bools[0]); i++) {
		snprintf(text, sizeof(text), "v: %s\n", not_bools[i]);
		s = parse_ok(text);
		assert_int_equal(
		    yamldoc_bool(&v, field(s, "v"), "v", NULL, NULL),
		    PA_INVALID_ARGUMENT);
		yamldoc_stream_free(s);
	}
}

static void
test_yamldoc__string_refuses_numbers_null_and_collections(void **state)
{
	yamldoc_stream     *s   = parse_ok("n: 0.06\nq: \"0.06\"\nz: ~\n"
	                                         "l: [a]\nw: word\nt: !!str true\n");
	const yamldoc_node *doc = yamldoc_stream_doc(s, 0);
	const char         *v   = NULL;
	pa_err              err = PA_ERR_INIT;

	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "n"), "n", NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml:1:4: n: expected a string, got "
	    "number 0.06 (quote it: \"0.06\")");
	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "q"), "q", NULL, NULL),
	    PA_OK);
	assert_string_equal(v, "0.06");
	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "z"), "z", NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:3:4: z: expected a string, got null");
	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "l"), "l", NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:4:4: l: expected a string, got a list");
	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "w"), "w", NULL, NULL),
	    PA_OK);
	assert_string_equal(v, "word");
	assert_int_equal(
	    yamldoc_string(&v, yamldoc_map_get(doc, "t"), "t", NULL, NULL),
	    PA_OK);
	assert_string_equal(v, "true");
	assert_int_equal(
	    yamldoc_string(&v, NULL, "a.b", NULL, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "a.b: missing");
	yamldoc_stream_free(s);
}

static void
test_yamldoc__expect_names_both_kinds(void **state)
{
	yamldoc_stream     *s   = parse_ok("m:\n  - 1\n");
	const yamldoc_node *m   = field(s, "m");
	pa_err              err = PA_ERR_INIT;
	yamldoc_pos         w   = { 0, 0 };

	assert_int_equal(
	    yamldoc_expect(m, YAMLDOC_SEQ, "m", NULL, NULL), PA_OK);
	assert_int_equal(
	    yamldoc_expect(m, YAMLDOC_MAP, "m", &w, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:2:3: m: expected a map, got a list");
	assert_int_equal(w.line, 2);
	assert_int_equal(w.column, 3);
	yamldoc_stream_free(s);
}

static void
test_yamldoc__null_spellings(void **state)
{
	yamldoc_stream     *s = parse_ok("a:\nb: ~\nc: null\nd: \"\"\ne: x\n");
	const yamldoc_node *d = yamldoc_stream_doc(s, 0);

	assert_true(yamldoc_is_null(NULL));
	assert_true(yamldoc_is_null(yamldoc_map_get(d, "a")));
	assert_true(yamldoc_is_null(yamldoc_map_get(d, "b")));
	assert_true(yamldoc_is_null(yamldoc_map_get(d, "c")));
	assert_false(yamldoc_is_null(yamldoc_map_get(d, "d"))); // quoted ""
	assert_false(yamldoc_is_null(yamldoc_map_get(d, "e")));
	assert_false(yamldoc_is_null(d));
	yamldoc_stream_free(s);
}

static void
test_yamldoc__syntax_errors_have_positions(void **state)
{
	expect_error("a:\n  b: 1\n c: 2\n", 3, 2,
	    "t.yaml:3:2: did not find expected key (while parsing a block "
	    "mapping that starts at line 1, column 1)");
	expect_error("a: \"open\n", 2, 1,
	    "t.yaml:2:1: found unexpected end of stream (while scanning a "
	    "quoted scalar that starts at line 1, column 4)");
	expect_error("a:\n\tb: 1\n", 2, 1,
	    "t.yaml:2:1: found character that cannot start any token (while "
	    "scanning for the next token that starts at line 2, column 1)");
	expect_error("ok: 1\nbad: \xff\n", 2, 6,
	    "t.yaml:2:6: invalid leading UTF-8 octet");
}

static void
test_yamldoc__duplicate_key_names_both_positions(void **state)
{
	expect_error("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n", 5, 3,
	    "t.yaml:5:3: duplicate key \"x\" (first at line 3, column 3)");
	expect_error("{k: 1, j: 2, k: 3}\n", 1, 14,
	    "t.yaml:1:14: duplicate key \"k\" (first at line 1, column 2)");
}

static void
test_yamldoc__duplicate_key_in_a_large_map_is_found(void **state)
{
	size_t cap = 20000 * 16, used = 0;
	char  *text = malloc(cap);

	assert_non_null(text);
	for (int i = 0; i < 20000; i++)
		used +=
		    (size_t) snprintf(text + used, cap - used, "k%d: 1\n", i);
	snprintf(text + used, cap - used, "k17: 2\n");
	expect_error(text, 20001, 1,
	    "t.yaml:20001:1: duplicate key \"k17\" (first at line 18, column "
	    "1)");
	free(text);
}

static void
test_yamldoc__aliases_are_refused(void **state)
{
	// The first lines of a billion-laughs document: refused at the
	// first alias, before anything is expanded.
	expect_error("a: &a [\"lol\", \"lol\", \"lol\"]\n"
	             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
	    2, 8,
	    "t.yaml:2:8: alias *a is not supported: aliases can blow up a "
	    "document's size; write the value out");
}

static void
test_yamldoc__anchors_alone_are_accepted(void **state)
{
	yamldoc_stream *s = parse_ok("a: &x 1\n");

	assert_true(yamldoc_is(field(s, "a"), "1"));
	yamldoc_stream_free(s);
}

static void
test_yamldoc__nesting_is_capped(void **state)
{
	char text[YAMLDOC_MAX_DEPTH * 2 + 8];
	int  n = 0;

	for (int i = 0; i <= YAMLDOC_MAX_DEPTH; i++)
		text[n++] = '[';
	text[n] = '\0';
	expect_error(text, 1, YAMLDOC_MAX_DEPTH + 1,
	    "t.yaml:1:65: nested more than 64 levels deep");
}

static void
test_yamldoc__node_count_is_capped(void **state)
{
	size_t n    = YAMLDOC_MAX_NODES + 1; // the list itself is one node
	char  *text = malloc(2 * n + 2);
	size_t used = 0;

	assert_non_null(text);
	text[used++] = '[';
	for (size_t i = 0; i < n; i++) {
		text[used++] = '0';
		text[used++] = ',';
	}
	text[used - 1] = ']';
	text[used]     = '\0';
	expect_error(text, 1, 2 * YAMLDOC_MAX_NODES,
	    "t.yaml:1:2000000: more than 1000000 nodes in the stream");
	free(text);
}

static void
test_yamldoc__complex_keys_are_refused(void **state)
{
	expect_error("? [a, b]\n: 1\n", 1, 3,
	    "t.yaml:1:3: a map key must be a scalar, not a list");
}

static void
test_yamldoc__fail_and_format_prefix_the_position(void **state)
{
	yamldoc_stream     *s   = parse_ok("\n  key: v\n");
	const yamldoc_node *k   = yamldoc_stream_doc(s, 0)->items[0];
	pa_err              err = PA_ERR_INIT;

	assert_int_equal(yamldoc_fail(&err, NULL, k, "bad %s", "thing"),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "t.yaml:2:3: bad thing");
	yamldoc_stream_free(s);
}

static void
test_yamldoc__need_reports_a_missing_child_at_its_parent(void **state)
{
	yamldoc_stream     *s = parse_ok("a:\n  b: 1\n  n: ~\n  l: [x]\n");
	const yamldoc_node *a = field(s, "a"), *n = NULL;
	pa_err              err = PA_ERR_INIT;
	yamldoc_pos         at  = { -1, -1 };

	assert_int_equal(yamldoc_need(&n, a, "b", "a.b", NULL, &err), PA_OK);
	assert_string_equal(n->str, "1");
	assert_int_equal(
	    yamldoc_need(&n, a, "c", "a.c", &at, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "t.yaml:2:3: a.c: missing");
	assert_int_equal(at.line, 2);
	assert_int_equal(at.column, 3);
	assert_int_equal(
	    yamldoc_need(&n, a, "n", "a.n", NULL, &err), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "t.yaml:2:3: a.n: missing");
	assert_int_equal(yamldoc_need_map(&n, a, "l", "a.l", NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:4:6: a.l: expected a map, got a list");
	yamldoc_stream_free(s);
}

// only_lowercase is a name rule: lowercase letters only.
static int
only_lowercase(const char *name, size_t len, pa_err *err)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] < 'a' || name[i] > 'z')
			return pa_err_set(err, PA_INVALID_ARGUMENT,
			    "\"%.*s\" is not lowercase", (int) len, name);
	return PA_OK;
}

static void
test_yamldoc__names_are_checked_at_their_node(void **state)
{
	yamldoc_stream *s    = parse_ok("good: abc\nbad: aBc\nnum: 12\n");
	const char     *name = NULL;
	pa_err          err  = PA_ERR_INIT;

	assert_int_equal(yamldoc_name(&name, field(s, "good"), "good",
	                     only_lowercase, NULL, &err),
	    PA_OK);
	assert_string_equal(name, "abc");
	assert_int_equal(yamldoc_name(&name, field(s, "bad"), "bad",
	                     only_lowercase, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:2:6: bad: \"aBc\" is not lowercase");
	// yamldoc_name wants a string; yamldoc_check_name takes any scalar.
	assert_int_equal(yamldoc_name(&name, field(s, "num"), "num",
	                     only_lowercase, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml:3:6: num: expected a string, got number 12 (quote it: "
	    "\"12\")");
	assert_int_equal(yamldoc_check_name(field(s, "num"), "num", "class",
	                     only_lowercase, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:3:6: num: class \"12\" is not lowercase");
	yamldoc_stream_free(s);
}

// find_in parses @text and looks for a Thing of g/v1 in it.
static int
find_in(const char *text, const yamldoc_object *want, yamldoc_pos *at,
    pa_err *err, int *line_out)
{
	yamldoc_stream     *s   = parse_ok(text);
	const yamldoc_node *doc = NULL;
	int                 rc  = yamldoc_find(&doc, s, want, at, err);

	if (rc == PA_OK)
		*line_out = doc->line;
	yamldoc_stream_free(s);
	return rc;
}

static int
count_warning(void *arg, const char *msg)
{
	char *last = arg;

	snprintf(last, 256, "%s", msg);
	return PA_OK;
}

static void
test_yamldoc__find_takes_the_one_object_and_warns_of_others(void **state)
{
	char           last[256] = "";
	yamldoc_object want      = {
		     .api_version = "g/v1",
		     .kind        = "Thing",
		     .noun        = "Thing document",
		     .advice      = "give one",
		     .warn        = count_warning,
		     .warn_arg    = last,
	};
	pa_err      err  = PA_ERR_INIT;
	yamldoc_pos at   = { -1, -1 };
	int         line = 0;

	assert_int_equal(find_in("---\n---\nkind: Other\napiVersion: v1\n---\n"
	                         "kind: Thing\napiVersion: g/v1\n",
	                     &want, NULL, &err, &line),
	    PA_OK);
	assert_int_equal(line, 6);
	assert_string_equal(last,
	    "t.yaml:3:1: document 2 ignored: kind Other, apiVersion v1 is not "
	    "a "
	    "Thing of g/v1");
	// The wrong apiVersion is another document, not the object.
	assert_int_equal(
	    find_in("kind: Thing\napiVersion: g/v2\n", &want, &at, &err, &line),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml: no Thing document (apiVersion: g/v1, kind: Thing)");
	assert_int_equal(at.line, 0);
	assert_int_equal(at.column, 0);
	assert_int_equal(find_in("kind: Thing\napiVersion: g/v1\n---\n"
	                         "kind: Thing\napiVersion: g/v1\n",
	                     &want, &at, &err, &line),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml:4:1: a second Thing document (the first starts at line 1); "
	    "give one");
	assert_int_equal(at.line, 4);
}

static void
test_yamldoc__find_by_kind_explains_the_first_document(void **state)
{
	yamldoc_object want = {
		.api_version   = "g/v1",
		.kind          = "Thing",
		.kind_only     = true,
		.explain_first = true,
		.noun          = "Thing",
		.advice        = "give one",
	};
	pa_err err  = PA_ERR_INIT;
	int    line = 0;

	assert_int_equal(find_in("kind: Other\n---\nkind: Thing\napiVersion: "
	                         "g/v1\n",
	                     &want, NULL, &err, &line),
	    PA_OK);
	assert_int_equal(line, 3);
	assert_int_equal(find_in("kind: Other\n", &want, NULL, &err, &line),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:1:7: kind: expected Thing, got \"Other\"");
	assert_int_equal(
	    find_in("a: 1\n", &want, NULL, &err, &line), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "t.yaml:1:1: kind: missing");
	assert_int_equal(
	    find_in("- x\n", &want, NULL, &err, &line), PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:1:1: Thing: expected a map, got a list");
	assert_int_equal(find_in("kind: Thing\napiVersion: g/v2\n", &want, NULL,
	                     &err, &line),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(
	    err.msg, "t.yaml:2:13: apiVersion: expected g/v1, got \"g/v2\"");
	assert_int_equal(find_in("kind: Thing\n", &want, NULL, &err, &line),
	    PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg, "t.yaml:1:1: apiVersion: missing");
	assert_int_equal(
	    find_in("", &want, NULL, &err, &line), PA_INVALID_ARGUMENT);
	assert_string_equal(err.msg,
	    "t.yaml: no Thing document (apiVersion: g/v1, kind: Thing)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yamldoc__block_and_flow_with_comments),
		cmocka_unit_test(test_yamldoc__empty_stream_has_no_documents),
		cmocka_unit_test(
		    test_yamldoc__only_plain_true_and_false_are_booleans),
		cmocka_unit_test(
		    test_yamldoc__string_refuses_numbers_null_and_collections),
		cmocka_unit_test(test_yamldoc__expect_names_both_kinds),
		cmocka_unit_test(test_yamldoc__null_spellings),
		cmocka_unit_test(test_yamldoc__syntax_errors_have_positions),
		cmocka_unit_test(
		    test_yamldoc__duplicate_key_names_both_positions),
		cmocka_unit_test(
		    test_yamldoc__duplicate_key_in_a_large_map_is_found),
		cmocka_unit_test(test_yamldoc__aliases_are_refused),
		cmocka_unit_test(test_yamldoc__anchors_alone_are_accepted),
		cmocka_unit_test(test_yamldoc__nesting_is_capped),
		cmocka_unit_test(test_yamldoc__node_count_is_capped),
		cmocka_unit_test(test_yamldoc__complex_keys_are_refused),
		cmocka_unit_test(
		    test_yamldoc__fail_and_format_prefix_the_position),
		cmocka_unit_test(
		    test_yamldoc__need_reports_a_missing_child_at_its_parent),
		cmocka_unit_test(test_yamldoc__names_are_checked_at_their_node),
		cmocka_unit_test(
		    test_yamldoc__find_takes_the_one_object_and_warns_of_others),
		cmocka_unit_test(
		    test_yamldoc__find_by_kind_explains_the_first_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
