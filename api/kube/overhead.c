// SPDX-License-Identifier: Apache-2.0
// overhead.c: parse and explain CDI's filesystemOverhead decimal strings.
#include <stdbool.h>
#include <string.h>

#include "overhead.h"

int
overhead_milli(const char *s)
{
	int    milli = 0;
	size_t nfrac;

	if (strcmp(s, "0") == 0)
		return 0;
	if (s[0] != '0' || s[1] != '.')
		return -1;
	nfrac = strspn(s + 2, "0123456789");
	if (nfrac == 0 || nfrac > 3 || s[2 + nfrac] != '\0')
		return -1;
	for (size_t i = 0; i < 3; i++)
		milli = milli * 10 + (i < nfrac ? s[2 + i] - '0' : 0);
	return milli;
}

const char *
overhead_problem(const char *s)
{
	const char *p    = s + (*s == '-' || *s == '+');
	size_t      ip   = strspn(p, "0123456789");
	size_t      frac = p[ip] == '.' ? strspn(p + ip + 1, "0123456789") : 0;
	bool num = ip > 0 && p[ip + (p[ip] == '.' ? 1 + frac : 0)] == '\0' &&
	    (p[ip] != '.' || frac > 0);

	if (!num)
		return "is not a decimal such as \"0.06\"";
	if (*s == '-' || strspn(p, "0") < ip)
		return "is out of range: an overhead must be at least 0 and "
		       "less than 1";
	if (frac > 3)
		return "has more than 3 decimals";
	return "is not a decimal such as \"0.06\"";
}
