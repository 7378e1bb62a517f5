// SPDX-License-Identifier: Apache-2.0
// fillcheck.h: oracles and a progress recorder for tests of the fill engine.
#ifndef PREALLOC_FILLCHECK_H
#define PREALLOC_FILLCHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * Records the progress a fill reports, and asks it to stop or does
 * something once it gets far enough. Pass fillcheck_progress() as the
 * callback and the struct as its argument.
 */
struct fillcheck {
	atomic_bool cancel;      ///< give the fill a pointer to this
	uint64_t    cancel_at;   ///< set cancel once done reaches this; 0 never
	uint64_t    done_at_set; ///< done when cancel was set
	uint64_t    last_done, last_total;
	int         calls;
	void (*at_half)(void *arg); ///< called once at half way; may be NULL
	void *at_half_arg;
	bool  halfway_done;
};

/** Zero @p fc and its cancel flag. */
void fillcheck_init(struct fillcheck *fc);

/** A fill progress callback; @p arg is a struct fillcheck. */
void fillcheck_progress(void *arg, uint64_t done, uint64_t total);

/**
 * Make @p path a @p size-byte file of random data and holes: a hole at
 * the start, data in [size/6, size/3), a hole, 5000 bytes at size/2 (an
 * unaligned end), a hole to the end. Synced.
 * @return 0, or -1 on an I/O error.
 */
int fillcheck_holey_file(const char *path, uint64_t size);

/** @return where the first hole of @p path is (its size when none), or -1. */
off_t fillcheck_first_hole(const char *path);

#endif // PREALLOC_FILLCHECK_H
