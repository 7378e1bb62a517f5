// SPDX-License-Identifier: Apache-2.0
// promtext.c: check a Prometheus text exposition (0.0.4) and read values
// from it, where promtool is not installed.
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

#define PT_MAX_FAMILIES 256
#define PT_LINE 4096

struct pt_family {
	char name[128];
	char kind[16];
	bool sampled;
};

// What a check has seen so far.
struct pt_state {
	struct pt_family fam[PT_MAX_FAMILIES];
	int              nfam;
	char   bucket_key[PT_LINE]; // series of the last bucket, no le
	double bucket_val;
	char   inf_key[PT_LINE]; // series of the last +Inf bucket
	double inf_val;
};

static bool
pt_name_char(int c, bool first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

// Read a metric or label name at *p. @return its length (0: none).
static size_t
pt_name(const char *p, bool label)
{
	size_t n = 0;

	while (pt_name_char((unsigned char) p[n], n == 0) &&
	    !(label && p[n] == ':'))
		n++;
	return n;
}

static struct pt_family *
pt_find(struct pt_state *s, const char *name, size_t len)
{
	for (int i = 0; i < s->nfam; i++)
		if (strlen(s->fam[i].name) == len &&
		    strncmp(s->fam[i].name, name, len) == 0)
			return &s->fam[i];
	return NULL;
}

// The family a sample name belongs to: itself, or a histogram's or
// summary's with a _bucket, _sum or _count suffix.
static struct pt_family *
pt_family_of(
    struct pt_state *s, const char *name, size_t len, const char **suffix)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct pt_family        *f     = pt_find(s, name, len);

	*suffix = "";
	if (f != NULL)
		return f;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(sfx[i]);

		if (len > n && strncmp(name + len - n, sfx[i], n) == 0 &&
		    (f = pt_find(s, name, len - n)) != NULL &&
		    strcmp(f->kind, "untyped") != 0 &&
		    (strcmp(f->kind, "histogram") == 0 ||
		        strcmp(f->kind, "summary") == 0)) {
			*suffix = sfx[i];
			return f;
		}
	}
	return NULL;
}

static int
pt_comment(struct pt_state *s, const char *line, char *why, size_t size)
{
	static const char *const kinds[] = { "counter", "gauge", "histogram",
		"summary", "untyped" };
	const char              *p       = line + 7;
	size_t                   n;
	struct pt_family        *f;

	if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7))
		return 0; // any other comment
	if ((n = pt_name(p, false)) == 0 || p[n] != ' ')
		return snprintf(why, size, "bad name after # HELP/TYPE"), -1;
	if (line[2] == 'H')
		return 0;
	f = pt_find(s, p, n);
	if (f != NULL && f->kind[0] != '\0')
		return snprintf(why, size, "second TYPE for %.*s", (int) n, p),
		       -1;
	if (f == NULL && s->nfam == PT_MAX_FAMILIES)
		return snprintf(why, size, "too many families"), -1;
	if (f == NULL)
		f = &s->fam[s->nfam++];
	snprintf(f->name, sizeof(f->name), "%.*s", (int) n, p);
	for (int i = 0; i < 5; i++)
		if (strcmp(p + n + 1, kinds[i]) == 0) {
			snprintf(f->kind, sizeof(f->kind), "%s", kinds[i]);
			return 0;
		}
	return snprintf(why, size, "unknown type '%s'", p + n + 1), -1;
}

// Append @p n bytes of @p s to @p key (PT_LINE bytes), cutting what
// does not fit. @return @p key.
static char *
pt_append(char *key, const char *s, size_t n)
{
	size_t have = strlen(key);

	snprintf(key + have, PT_LINE - have, "%.*s", (int) n, s);
	return key;
}

// Parse {a="x",b="y"} at *pp; the label set without "le" goes to @p key,
// the le value to @p le.
static int
pt_labels(const char **pp, char *key, char *le, char *why, size_t size)
{
	const char *p = *pp + 1;

	while (*p != '}') {
		size_t n = pt_name(p, true);
		bool   is_le;
		char   val[PT_LINE];
		size_t v = 0;

		if (n == 0 || p[n] != '=' || p[n + 1] != '"')
			return snprintf(why, size, "bad label at '%.20s'", p),
			       -1;
		is_le = n == 2 && strncmp(p, "le", 2) == 0;
		if (!is_le)
			pt_append(key, p, n + 2);
		for (p += n + 2; *p != '"'; p++) {
			if (*p == '\0' || v + 2 >= sizeof(val))
				return snprintf(why, size, "open label value"),
				       -1;
			if (*p == '\\' && strchr("\\\"n", p[1]) == NULL)
				return snprintf(why, size, "bad escape"), -1;
			if (*p == '\\')
				val[v++] = *p++;
			val[v++] = *p;
		}
		val[v] = '\0';
		if (is_le)
			snprintf(le, 64, "%.63s", val);
		else
			pt_append(pt_append(key, val, v), "\",", 2);
		if (*++p == ',')
			p++;
		else if (*p != '}')
			return snprintf(why, size, "expected , or }"), -1;
	}
	*pp = p + 1;
	return 0;
}

static int
pt_number(double *out, const char *p, char *why, size_t size)
{
	char *end = NULL;

	if (strncmp(p, "+Inf", 4) == 0 || strncmp(p, "-Inf", 4) == 0 ||
	    strncmp(p, "NaN", 3) == 0) {
		*out = p[0] == '-' ? -INFINITY : p[0] == 'N' ? NAN : INFINITY;
		return 0;
	}
	*out = strtod(p, &end);
	if (end == p || (*end != '\0' && *end != ' '))
		return snprintf(why, size, "bad value '%s'", p), -1;
	return 0;
}

// Buckets never decrease, and the +Inf bucket is the count.
static int
pt_histogram(struct pt_state *s, const char *suffix, const char *key,
    const char *le, double v, char *why, size_t size)
{
	if (strcmp(suffix, "_bucket") == 0) {
		if (le[0] == '\0')
			return snprintf(why, size, "bucket without le"), -1;
		if (strcmp(key, s->bucket_key) == 0 && v < s->bucket_val)
			return snprintf(
			           why, size, "bucket le=%s decreases", le),
			       -1;
		snprintf(s->bucket_key, sizeof(s->bucket_key), "%s", key);
		s->bucket_val = v;
		if (strcmp(le, "+Inf") == 0) {
			snprintf(s->inf_key, sizeof(s->inf_key), "%s", key);
			s->inf_val = v;
		}
	} else if (strcmp(suffix, "_count") == 0 &&
	    (strcmp(key, s->inf_key) != 0 || v != s->inf_val)) {
		return snprintf(why, size, "_count is not the +Inf bucket"), -1;
	}
	return 0;
}

static int
pt_sample(struct pt_state *s, const char *line, char *why, size_t size)
{
	size_t            n = pt_name(line, false);
	const char       *p = line + n, *suffix;
	char              key[PT_LINE], le[64] = "";
	struct pt_family *f;
	double            v;

	if (n == 0)
		return snprintf(why, size, "bad metric name"), -1;
	if ((f = pt_family_of(s, line, n, &suffix)) == NULL)
		return snprintf(why, size, "%.*s has no TYPE", (int) n, line),
		       -1;
	snprintf(key, sizeof(key), "%.*s{", (int) n, line);
	if (*p == '{' && pt_labels(&p, key, le, why, size) != 0)
		return -1;
	if (*p != ' ')
		return snprintf(why, size, "no space before the value"), -1;
	if (pt_number(&v, p + 1, why, size) != 0)
		return -1;
	f->sampled = true;
	if (strcmp(f->kind, "histogram") != 0)
		return 0;
	// The key names the series without its suffix and le.
	memmove(key + n - strlen(suffix), key + n, strlen(key + n) + 1);
	return pt_histogram(s, suffix, key, le, v, why, size);
}

int
promtext_check(char *why, size_t size, const char *body)
{
	struct pt_state *s  = calloc(1, sizeof(*s));
	int              rc = 0, lineno = 0;
	char             line[PT_LINE], msg[200];

	if (s == NULL)
		return snprintf(why, size, "out of memory"), -1;
	for (const char *p = body; rc == 0 && *p != '\0';) {
		size_t n = strcspn(p, "\n");

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int) n, p);
		p += n + (p[n] == '\n');
		if (line[0] == '\0')
			continue;
		rc = line[0] == '#' ? pt_comment(s, line, msg, sizeof(msg))
		                    : pt_sample(s, line, msg, sizeof(msg));
		if (rc != 0)
			snprintf(
			    why, size, "line %d: %s: %.60s", lineno, msg, line);
	}
	free(s);
	return rc;
}

int
promtext_value(double *out, const char *body, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = body; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			*out = strtod(p + n + 1, NULL);
			return 0;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return -1;
}
