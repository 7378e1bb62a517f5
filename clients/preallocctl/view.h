// SPDX-License-Identifier: Apache-2.0
// view.h: libprealloc's results as output trees, the same in every command
// that shows them (a job in preallocate, job, jobs, cancel and provision).
#ifndef PREALLOC_VIEW_H
#define PREALLOC_VIEW_H

#include <stdbool.h>

#include "output.h"
#include "prealloc/prealloc.h"

/**
 * A job. @p brief keeps, in a table, the columns a list of jobs shows.
 * @return a new reference, or NULL when memory runs out.
 */
json_t *view_job(const pa_job *job, output_format f, bool brief);

/** A list of jobs: {"jobs": [...]}. */
json_t *view_jobs(const pa_job_list *list, output_format f);

/** A policy decision. */
json_t *view_decision(const pa_decision *d);

/** What the agent found at a path. */
json_t *view_probe(const pa_probe *p, output_format f);

/**
 * The effective config as a CDIConfig object (apiVersion, kind, metadata,
 * spec, status), so that `-o yaml` output can be edited and applied; in a
 * table, its status and its storage classes as rows.
 */
json_t *view_config(const pa_config *cfg, output_format f);

#endif // PREALLOC_VIEW_H
