// SPDX-License-Identifier: Apache-2.0
// arena.h: one result struct and everything it points to, freed at once.
#ifndef PREALLOC_ARENA_H
#define PREALLOC_ARENA_H

#include <stddef.h>

/**
 * Make an arena whose first allocation is a zeroed root of @p size bytes
 * (a result struct). Its strings and arrays come from arena_alloc() and
 * arena_strdup() on the root, and arena_free(root) frees them all.
 * @return the root, or NULL when memory runs out.
 */
void *arena_new(size_t size);

/** @return @p n zeroed, aligned bytes owned by @p root's arena, or NULL. */
void *arena_alloc(void *root, size_t n);

/** @return a copy of @p s (NULL reads as "") owned by the arena, or NULL. */
char *arena_strdup(void *root, const char *s);

/** Free the arena of @p root and every allocation in it; NULL is a no-op. */
void arena_free(void *root);

#endif // PREALLOC_ARENA_H
