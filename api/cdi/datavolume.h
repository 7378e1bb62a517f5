// SPDX-License-Identifier: Apache-2.0
// datavolume.h: what provisioning needs from a DataVolume manifest.
#ifndef PREALLOC_DATAVOLUME_H
#define PREALLOC_DATAVOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "cdi.h"
#include "prealloc/status.h"
#include "quantity.h" // a DataVolume's size is a quantity: quantity_parse()
#include "yamldoc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** spec.pvc.volumeMode or spec.storage.volumeMode; the values are the wire's.
 */
typedef enum datavolume_mode {
	DATAVOLUME_FILESYSTEM = 0,
	DATAVOLUME_BLOCK      = 1,
} datavolume_mode;

/** A parsed DataVolume. Its strings live as long as it does. */
typedef struct datavolume {
	const char        *name;
	const char        *namespace_; /**< "" when absent */
	cdiconfig_tristate preallocation;
	const char        *storage_class; /**< "" when absent */
	uint64_t           size; /**< resources.requests.storage, in bytes */
	datavolume_mode    volume_mode;
	/** http, registry, s3, gcs, imageio, vddk, upload, blank or pvc */
	const char *source;
	/** private: the parsed text the strings above point into. */
	yamldoc_stream *stream;
} datavolume;

/**
 * Parse a YAML stream holding exactly one DataVolume (apiVersion
 * cdi.kubevirt.io/v1beta1, kind DataVolume). Objects of other kinds are
 * skipped; spec.sourceRef is refused (resolving it needs the cluster);
 * fields that do not concern provisioning are ignored.
 * @param[out] out   set only on PA_OK; the caller owns it and frees it
 *                   with datavolume_free().
 * @param yaml       the text; read during the call, not kept.
 * @param len        its length in bytes.
 * @param filename   the name for messages; copied. NULL means "<input>".
 * @param err        optional; on failure, "file:line:column: sentence".
 * @return PA_OK; PA_INVALID_ARGUMENT for anything wrong in the text;
 *         PA_RESOURCE_EXHAUSTED when memory runs out.
 */
int datavolume_parse(datavolume **out, const char *yaml, size_t len,
    const char *filename, pa_err *err);

/** Free a DataVolume and its strings; NULL is a no-op. */
void datavolume_free(datavolume *dv);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_DATAVOLUME_H
