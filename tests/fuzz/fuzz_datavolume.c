// SPDX-License-Identifier: Apache-2.0
// fuzz_datavolume.c: any bytes as a DataVolume manifest, through the same
// reader preallocctl uses: a DataVolume or an error, never a crash.
#include <stdint.h>

#include "prealloc/prealloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int strict = 0; strict <= 1; strict++) {
		pa_datavolume *dv = NULL;

		if (pa_datavolume_check(&dv, (const char *) data, size, "fuzz",
		        strict, NULL) == PA_OK)
			pa_datavolume_free(dv);
	}
	return 0;
}
