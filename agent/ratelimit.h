// SPDX-License-Identifier: Apache-2.0
// ratelimit.h: a token bucket for the bytes a fill writes.
#ifndef PREALLOC_RATELIMIT_H
#define PREALLOC_RATELIMIT_H

#include <stdint.h>

/**
 * Bytes per second, with a burst of at most @c burst bytes saved up while
 * idle. Plain data; start with ratelimit_init(). A take larger than the
 * burst is allowed and paid for afterwards (the bucket goes into debt), so
 * any chunk size keeps the average rate.
 */
struct ratelimit {
	uint64_t rate;    ///< bytes per second; 0: no limit
	double   burst;   ///< the most tokens saved up
	double   tokens;  ///< may go below 0: a debt to wait out
	uint64_t last_ns; ///< when tokens were last counted
};

/** Start full, at @p now_ns; @p rate 0 is no limit. */
void ratelimit_init(
    struct ratelimit *r, uint64_t rate, uint64_t burst, uint64_t now_ns);

/**
 * Take @p n bytes at @p now_ns (a monotonic clock).
 * @return how many ns to wait before writing more (0: none), so that the
 *         bytes taken so far stay within the rate.
 */
uint64_t ratelimit_take(struct ratelimit *r, uint64_t n, uint64_t now_ns);

#endif // PREALLOC_RATELIMIT_H
