// SPDX-License-Identifier: Apache-2.0
// promtext.h: check a Prometheus text exposition (0.0.4) and read values
// from it, where promtool is not installed.
#ifndef PREALLOC_PROMTEXT_H
#define PREALLOC_PROMTEXT_H

#include <stddef.h>

/**
 * Check @p body line by line: "# HELP name text" and "# TYPE name kind"
 * (counter, gauge, histogram, summary, untyped; at most one per family,
 * before its samples), and samples "name{label=\"value\",...} value" whose
 * family has a TYPE, with valid names, quoted and escaped label values,
 * and a number (or +Inf, -Inf, NaN). A histogram's buckets must not
 * decrease, and its +Inf bucket must equal its _count.
 * @param why  on failure, the line number and what is wrong.
 * @return 0 when it parses, -1 when not.
 */
int promtext_check(char *why, size_t size, const char *body);

/**
 * The value of the sample written exactly as @p series ("name" or
 * "name{a=\"x\"}"). @return 0 with *out set, or -1 when there is none.
 */
int promtext_value(double *out, const char *body, const char *series);

#endif // PREALLOC_PROMTEXT_H
