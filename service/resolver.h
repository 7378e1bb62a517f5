// SPDX-License-Identifier: Apache-2.0
// resolver.h: decide whether a DataVolume is preallocated, from a snapshot.
#ifndef PREALLOC_RESOLVER_H
#define PREALLOC_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>

#include "cdiconfig.h"
#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The filesystem overhead when nothing sets one. */
#define RESOLVER_DEFAULT_OVERHEAD "0.06"

/** Which step of the precedence gave the answer. */
typedef enum resolver_decided_by {
	RESOLVER_DATA_VOLUME   = 0, /**< "dataVolume": the DataVolume's spec */
	RESOLVER_STORAGE_CLASS = 1, /**< "storageClass": its class's entry */
	RESOLVER_GLOBAL        = 2, /**< "global": CDIConfig's global */
	RESOLVER_DEFAULT       = 3, /**< "default": nothing set, so false */
} resolver_decided_by;

/** The answer. It owns no memory: the overhead is copied in. */
typedef struct resolver_result {
	bool                preallocate;
	resolver_decided_by decided_by;
	/** storage class -> global -> "0.06", as written in the config. */
	char overhead[CDICONFIG_OVERHEAD_SIZE];
	/** the overhead in thousandths (60 for "0.06"). */
	int overhead_milli;
	/** the snapshot's generation, so a caller can tell configs apart. */
	uint64_t generation;
} resolver_result;

/**
 * Resolve preallocation: the DataVolume's own setting, then the CDIConfig
 * entry for its storage class, then CDIConfig's global, then false. The
 * filesystem overhead follows the same order without the DataVolume step.
 * A pure function: it reads @p c and allocates nothing.
 * @param[out] out       set only on PA_OK.
 * @param c              the snapshot; borrowed, may be shared by threads.
 * @param dv             the DataVolume's spec.preallocation.
 * @param storage_class  its storage class; NULL or "" skips that step.
 * @param err            optional.
 * @return PA_OK, or PA_INVALID_ARGUMENT when @p storage_class is not a
 *         DNS-1123 subdomain or @p dv is not a cdiconfig_tristate.
 */
int resolver_resolve(resolver_result *out, const cdiconfig *c,
    cdiconfig_tristate dv, const char *storage_class, pa_err *err);

/**
 * @return "dataVolume", "storageClass", "global" or "default"; "unknown"
 *         for anything else. A static string.
 */
const char *resolver_decided_by_name(resolver_decided_by d);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_RESOLVER_H
