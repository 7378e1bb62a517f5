// SPDX-License-Identifier: Apache-2.0
// arena.c: a chain of blocks behind a result struct, so _free is one call.
//
// The arena's header sits just before the root the caller sees, so a
// public struct needs no hidden field to find its memory again.
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK 4096
#define ARENA_ALIGN alignof(max_align_t)

typedef struct arena_block {
	struct arena_block *next;
	size_t              used;
	size_t              cap;
	alignas(max_align_t) unsigned char data[];
} arena_block;

typedef struct arena {
	arena_block *blocks;
	alignas(max_align_t) unsigned char root[];
} arena;

static arena *
arena_of(void *root)
{
	return (arena *) ((unsigned char *) root - offsetof(arena, root));
}

void *
arena_new(size_t size)
{
	arena *a = calloc(1, sizeof(*a) + size);

	return a != NULL ? a->root : NULL;
}

void *
arena_alloc(void *root, size_t n)
{
	arena       *a = arena_of(root);
	arena_block *b = a->blocks;
	void        *p;

	n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used   = 0;
		b->cap    = cap;
		b->next   = a->blocks;
		a->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strdup(void *root, const char *s)
{
	size_t len;
	char  *p;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if ((p = arena_alloc(root, len + 1)) != NULL)
		memcpy(p, s, len + 1);
	return p;
}

void
arena_free(void *root)
{
	arena       *a;
	arena_block *b;

	if (root == NULL)
		return;
	a = arena_of(root);
	while ((b = a->blocks) != NULL) {
		a->blocks = b->next;
		free(b);
	}
	free(a);
}
