// SPDX-License-Identifier: Apache-2.0
// hash.c: FNV-1a, to recognise bytes already seen.
#include "prealloc/util.h"

uint64_t
pa_hash_bytes(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t             h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h != 0 ? h : 1;
}
