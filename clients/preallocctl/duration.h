// SPDX-License-Identifier: Apache-2.0
// duration.h: the durations preallocctl's options take.
#ifndef PREALLOC_CTL_DURATION_H
#define PREALLOC_CTL_DURATION_H

#include <stdint.h>

/**
 * Parse "30s", "500ms", "2m" or plain seconds ("45").
 * @return the duration in ms, from 1 to UINT32_MAX; 0 when @p s is not
 *         one (junk, a sign, zero, or too long to hold in ms).
 */
uint32_t ctl_duration_ms(const char *s);

#endif // PREALLOC_CTL_DURATION_H
