// SPDX-License-Identifier: Apache-2.0
// ratelimit.c: a token bucket; the clock is the caller's, so that tests
// need no sleeping.
#include "ratelimit.h"

void
ratelimit_init(
    struct ratelimit *r, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	r->rate    = rate;
	r->burst   = (double) burst;
	r->tokens  = (double) burst;
	r->last_ns = now_ns;
}

uint64_t
ratelimit_take(struct ratelimit *r, uint64_t n, uint64_t now_ns)
{
	if (r->rate == 0)
		return 0;
	if (now_ns > r->last_ns) {
		r->tokens +=
		    (double) (now_ns - r->last_ns) * 1e-9 * (double) r->rate;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		r->last_ns = now_ns;
	}
	r->tokens -= (double) n;
	if (r->tokens >= 0)
		return 0;
	return (uint64_t) (-r->tokens / (double) r->rate * 1e9);
}
