// SPDX-License-Identifier: Apache-2.0
// fuzz_quantity.c: any string as a Kubernetes quantity and as a duration:
// a value or a refusal. A quantity that parses, printed in bytes, parses
// to the same.
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char    *s = malloc(size + 1);
	uint64_t v = 0, again = 0;
	char     text[32];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (quantity_parse(&v, s, NULL) == PA_OK) {
		snprintf(text, sizeof(text), "%" PRIu64, v);
		if (quantity_parse(&again, text, NULL) != PA_OK || again != v)
			abort();
	}
	(void) ctl_duration_ms(s);
	free(s);
	return 0;
}
