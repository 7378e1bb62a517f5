// SPDX-License-Identifier: Apache-2.0
// agent.h: what other parts of libprealloc borrow from agent.c.
#ifndef PREALLOC_AGENT_H
#define PREALLOC_AGENT_H

#include <stdbool.h>

#include "prealloc/prealloc.h"

/**
 * Copy @p src into @p dst, its strings into the arena of @p root, so that
 * a job can live inside another result.
 * @return false when memory runs out.
 */
bool agent_job_clone(void *root, pa_job *dst, const pa_job *src);

#endif // PREALLOC_AGENT_H
