// SPDX-License-Identifier: Apache-2.0
// metrics.c: a small Prometheus registry. Series are found by their label
// values under one mutex; daemons have few series and the lock is short.
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_BOUNDS 16

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metrics_kind;

typedef struct metrics_series {
	struct metrics_series *next;
	char                  *values; // "a,b" as given
	double                 value;  // counters and gauges; histogram sum
	unsigned long long     count;  // histogram observations
	unsigned long long     buckets[METRICS_MAX_BOUNDS];
} metrics_series;

struct metrics_family {
	struct metrics_family *next;
	metrics               *reg;
	metrics_kind           kind;
	char                  *name;
	char                  *help;
	char                  *labels[METRICS_MAX_LABELS];
	size_t                 nlabels;
	double                 bounds[METRICS_MAX_BOUNDS];
	size_t                 nbounds;
	metrics_series        *series;
};

typedef struct metrics_collect {
	void (*fn)(void *arg);
	void *arg;
} metrics_collect;

struct metrics {
	pthread_mutex_t mtx;
	metrics_family *first, *last;
	metrics_collect collect[METRICS_MAX_COLLECTORS];
	size_t          ncollect;
};

int
metrics_new(metrics **out, pa_err *err)
{
	metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	pthread_mutex_init(&m->mtx, NULL);
	*out = m;
	return PA_OK;
}

static void
family_free(metrics_family *f)
{
	metrics_series *s, *next;

	for (s = f->series; s != NULL; s = next) {
		next = s->next;
		free(s->values);
		free(s);
	}
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

void
metrics_free(metrics *m)
{
	metrics_family *f, *next;

	if (m == NULL)
		return;
	for (f = m->first; f != NULL; f = next) {
		next = f->next;
		family_free(f);
	}
	pthread_mutex_destroy(&m->mtx);
	free(m);
}

static int
family_split_labels(metrics_family *f, const char *labels)
{
	char  copy[256];
	char *save = NULL;

	if (labels == NULL || labels[0] == '\0')
		return 0;
	snprintf(copy, sizeof(copy), "%s", labels);
	for (char *l = strtok_r(copy, ",", &save); l != NULL;
	     l       = strtok_r(NULL, ",", &save)) {
		if (f->nlabels == METRICS_MAX_LABELS ||
		    (f->labels[f->nlabels++] = strdup(l)) == NULL)
			return -1;
	}
	return 0;
}

static metrics_family *
family_new(metrics *m, metrics_kind kind, const char *name, const char *help,
    const char *labels)
{
	metrics_family *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->reg  = m;
	f->kind = kind;
	f->name = strdup(name);
	f->help = strdup(help);
	if (f->name == NULL || f->help == NULL ||
	    family_split_labels(f, labels) != 0) {
		family_free(f);
		return NULL;
	}
	pthread_mutex_lock(&m->mtx);
	if (m->last != NULL)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->mtx);
	return f;
}

metrics_family *
metrics_counter(
    metrics *m, const char *name, const char *help, const char *labels)
{
	return family_new(m, KIND_COUNTER, name, help, labels);
}

metrics_family *
metrics_gauge(
    metrics *m, const char *name, const char *help, const char *labels)
{
	return family_new(m, KIND_GAUGE, name, help, labels);
}

metrics_family *
metrics_histogram(metrics *m, const char *name, const char *help,
    const char *labels, const double *bounds, size_t n)
{
	metrics_family *f;

	if (n > METRICS_MAX_BOUNDS)
		n = METRICS_MAX_BOUNDS;
	if ((f = family_new(m, KIND_HISTOGRAM, name, help, labels)) != NULL) {
		memcpy(f->bounds, bounds, n * sizeof(double));
		f->nbounds = n;
	}
	return f;
}

// Find or make the series for @p values; the caller holds the lock.
static metrics_series *
family_series(metrics_family *f, const char *values)
{
	metrics_series *s;

	if (values == NULL)
		values = "";
	for (s = f->series; s != NULL; s = s->next)
		if (strcmp(s->values, values) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->values = strdup(values)) == NULL) {
		free(s);
		return NULL;
	}
	s->next   = f->series;
	f->series = s;
	return s;
}

// Apply @p op to the series under the registry lock.
static void
family_update(metrics_family *f, const char *values, double v, int op)
{
	metrics_series *s;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->reg->mtx);
	if ((s = family_series(f, values)) != NULL) {
		if (op == 0) {
			s->value += v;
		} else if (op == 1) {
			s->value = v;
		} else {
			s->value += v;
			s->count++;
			for (size_t i = 0; i < f->nbounds; i++)
				if (v <= f->bounds[i])
					s->buckets[i]++;
		}
	}
	pthread_mutex_unlock(&f->reg->mtx);
}

void
metrics_add(metrics_family *f, const char *values, double v)
{
	family_update(f, values, v, 0);
}

void
metrics_set(metrics_family *f, const char *values, double v)
{
	family_update(f, values, v, 1);
}

void
metrics_observe(metrics_family *f, const char *values, double v)
{
	family_update(f, values, v, 2);
}

double
metrics_value(metrics_family *f, const char *values)
{
	metrics_series *s;
	double          v = 0;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->reg->mtx);
	for (s = f->series; s != NULL; s = s->next)
		if (strcmp(s->values, values != NULL ? values : "") == 0)
			v = s->value;
	pthread_mutex_unlock(&f->reg->mtx);
	return v;
}

int
metrics_collector(metrics *m, void (*fn)(void *arg), void *arg, pa_err *err)
{
	int rc = PA_OK;

	pthread_mutex_lock(&m->mtx);
	if (m->ncollect == METRICS_MAX_COLLECTORS)
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "more than %d metrics collectors", METRICS_MAX_COLLECTORS);
	else
		m->collect[m->ncollect++] = (metrics_collect) { fn, arg };
	pthread_mutex_unlock(&m->mtx);
	return rc;
}

// Call every collector outside the lock: they set series, which locks.
static void
metrics_run_collectors(metrics *m)
{
	metrics_collect collect[METRICS_MAX_COLLECTORS];
	size_t          n;

	pthread_mutex_lock(&m->mtx);
	n = m->ncollect;
	memcpy(collect, m->collect, n * sizeof(collect[0]));
	pthread_mutex_unlock(&m->mtx);
	for (size_t i = 0; i < n; i++)
		collect[i].fn(collect[i].arg);
}

// A growing text buffer; on allocation failure it stays failed.
typedef struct textbuf {
	char  *buf;
	size_t len, cap;
	int    failed;
} textbuf;

static void __attribute__((format(printf, 2, 3)))
tb_printf(textbuf *t, const char *fmt, ...)
{
	va_list ap;
	int     n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t) n < t->cap - t->len) {
			t->len += (size_t) n;
			return;
		}
		char *nb = realloc(t->buf, t->cap * 2 + (size_t) n + 1);
		if (nb == NULL) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = t->cap * 2 + (size_t) n + 1;
	}
}

// Write `{a="x",b="y"` (no closing brace) for a series' values.
static void
tb_labels(textbuf *t, const metrics_family *f, const char *values)
{
	const char *v = values;

	tb_printf(t, "{");
	for (size_t i = 0; i < f->nlabels; i++) {
		size_t n = strcspn(v, ",");

		tb_printf(t, "%s%s=\"", i ? "," : "", f->labels[i]);
		for (size_t k = 0; k < n; k++) {
			char c = v[k];

			if (c == '\\' || c == '"')
				tb_printf(t, "\\%c", c);
			else if (c == '\n')
				tb_printf(t, "\\n");
			else
				tb_printf(t, "%c", c);
		}
		tb_printf(t, "\"");
		v += n;
		if (*v == ',')
			v++;
	}
}

static void
tb_sample(textbuf *t, const metrics_family *f, const char *suffix,
    const metrics_series *s, const char *extra, double value)
{
	tb_printf(t, "%s%s", f->name, suffix);
	if (f->nlabels > 0 || extra != NULL) {
		tb_labels(t, f, s->values);
		if (extra != NULL)
			tb_printf(t, "%s%s", f->nlabels ? "," : "", extra);
		tb_printf(t, "}");
	}
	tb_printf(t, " %.15g\n", value);
}

static void
tb_histogram(textbuf *t, const metrics_family *f, const metrics_series *s)
{
	char le[64];

	for (size_t i = 0; i < f->nbounds; i++) {
		snprintf(le, sizeof(le), "le=\"%.15g\"", f->bounds[i]);
		tb_sample(t, f, "_bucket", s, le, (double) s->buckets[i]);
	}
	tb_sample(t, f, "_bucket", s, "le=\"+Inf\"", (double) s->count);
	tb_sample(t, f, "_sum", s, NULL, s->value);
	tb_sample(t, f, "_count", s, NULL, (double) s->count);
}

int
metrics_render(char **out, metrics *m, pa_err *err)
{
	static const char *const kinds[] = { "counter", "gauge", "histogram" };
	textbuf                  t       = { malloc(4096), 0, 4096, 0 };

	if (t.buf == NULL)
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	t.buf[0] = '\0';
	metrics_run_collectors(m);
	pthread_mutex_lock(&m->mtx);
	for (metrics_family *f = m->first; f != NULL; f = f->next) {
		tb_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, kinds[f->kind]);
		for (metrics_series *s = f->series; s != NULL; s = s->next)
			if (f->kind == KIND_HISTOGRAM)
				tb_histogram(&t, f, s);
			else
				tb_sample(&t, f, "", s, NULL, s->value);
	}
	pthread_mutex_unlock(&m->mtx);
	if (t.failed) {
		free(t.buf);
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	}
	*out = t.buf;
	return PA_OK;
}
