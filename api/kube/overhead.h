// SPDX-License-Identifier: Apache-2.0
// overhead.h: CDI's filesystemOverhead, a decimal string 0 <= x < 1.
#ifndef PREALLOC_OVERHEAD_H
#define PREALLOC_OVERHEAD_H

/**
 * Read "0", "0.d", "0.dd" or "0.ddd" (CDI's filesystemOverhead, which has
 * at most 3 decimals) in thousandths: "0.06" is 60.
 * @return the thousandths (0 to 999), or -1 for anything else.
 */
int overhead_milli(const char *s);

/**
 * Say why @p s is not an overhead, for an error message that follows the
 * quoted value: "is out of range: ...", "has more than 3 decimals", ...
 * @return a static sentence fragment.
 */
const char *overhead_problem(const char *s);

#endif // PREALLOC_OVERHEAD_H
