// SPDX-License-Identifier: Apache-2.0
// duration.c: "30s", "500ms", "2m" or plain seconds, in ms.
#include <stdlib.h>
#include <string.h>

#include "duration.h"

uint32_t
ctl_duration_ms(const char *s)
{
	char         *end = NULL;
	unsigned long v   = strtoul(s, &end, 10);
	unsigned long mul = 1000;

	// strtoul takes leading blanks and a sign: a duration has neither.
	if (end == s || s[0] < '0' || s[0] > '9')
		return 0;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return 0;
	if (v == 0 || v > UINT32_MAX / mul)
		return 0;
	return (uint32_t) (v * mul);
}
