// SPDX-License-Identifier: Apache-2.0
// metrics.h: counters, gauges and histograms, rendered as Prometheus text.
#ifndef PREALLOC_METRICS_H
#define PREALLOC_METRICS_H

#include <stddef.h>

#include "prealloc/status.h"

#define METRICS_MAX_COLLECTORS 8

typedef struct metrics        metrics;
typedef struct metrics_family metrics_family;

/**
 * Make an empty registry.
 * @param[out] out  set only on PA_OK; free it with metrics_free().
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int metrics_new(metrics **out, pa_err *err);

/** Free the registry and every family in it; NULL is a no-op. */
void metrics_free(metrics *m);

/**
 * Register a family. Families live as long as the registry, which owns
 * them; call these at start-up, before other threads use the registry.
 * @param name    a Prometheus metric name, "prealloc_..."; copied.
 * @param help    one line; copied.
 * @param labels  label names separated by commas ("method,code"), or NULL.
 * @return the family, or NULL when memory runs out.
 */
metrics_family *metrics_counter(
    metrics *m, const char *name, const char *help, const char *labels);

/** As metrics_counter(), for a value that goes up and down. */
metrics_family *metrics_gauge(
    metrics *m, const char *name, const char *help, const char *labels);

/**
 * As metrics_counter(), for a histogram with @p n upper bounds in
 * increasing order (copied); +Inf is added.
 */
metrics_family *metrics_histogram(metrics *m, const char *name,
    const char *help, const char *labels, const double *bounds, size_t n);

/**
 * Add @p v to a counter or gauge series. @p values are the label values
 * separated by commas, in the family's label order ("" without labels).
 * Thread-safe. A NULL family is ignored, so metrics stay optional.
 */
void metrics_add(metrics_family *f, const char *values, double v);

/** Set a gauge series to @p v. Thread-safe; NULL is ignored. */
void metrics_set(metrics_family *f, const char *values, double v);

/** Record @p v in a histogram series. Thread-safe; NULL is ignored. */
void metrics_observe(metrics_family *f, const char *values, double v);

/**
 * @return the current value of a counter or gauge series, 0 when it has
 *         never been touched.
 */
double metrics_value(metrics_family *f, const char *values);

/**
 * Have @p fn called with @p arg at the start of every metrics_render(), to
 * set series read on demand (a server's connection counts). It runs on the
 * rendering thread, outside the registry lock, so it may call
 * metrics_set(). Register at start-up, as families are.
 * @return PA_OK, or PA_RESOURCE_EXHAUSTED when METRICS_MAX_COLLECTORS are
 *         registered already.
 */
int metrics_collector(
    metrics *m, void (*fn)(void *arg), void *arg, pa_err *err);

/**
 * Run the collectors, then render every family in the Prometheus text
 * exposition format (0.0.4).
 * @param[out] out  malloc'd, NUL-terminated; the caller frees it. Set only
 *                  on PA_OK.
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int metrics_render(char **out, metrics *m, pa_err *err);

#endif // PREALLOC_METRICS_H
