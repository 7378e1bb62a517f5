// SPDX-License-Identifier: Apache-2.0
// datavolume.h: what provisioning needs from a DataVolume manifest.
#ifndef PREALLOC_DATAVOLUME_H
#define PREALLOC_DATAVOLUME_H

#include <stdbool.h>
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
	/**
	 * resources.requests.storage, in bytes; 0 when the manifest gives
	 * none, which CDI allows only for spec.storage with a clone source
	 * (spec.source.pvc, spec.source.snapshot or spec.sourceRef): the
	 * size is then the source's, known on the volume, not here.
	 */
	uint64_t        size;
	datavolume_mode volume_mode;
	/**
	 * The kind under spec.source (http, registry, s3, gcs, imageio, vddk,
	 * upload, blank, pvc or snapshot); "sourceRef" for a DataSource
	 * reference (accepted, not resolved: that needs the cluster); or
	 * "dataSourceRef" / "dataSource" for an external populator named
	 * in the claim, with no spec.source at all.
	 */
	const char *source;
	/** "file:line:column: unknown field P.K (ignored)", in order. */
	char **warnings;
	size_t nwarnings;
	/** private: the parsed text the strings above point into. */
	yamldoc_stream *stream;
} datavolume;

/** How to parse. Start from DATAVOLUME_OPTS_INIT. */
typedef struct datavolume_opts {
	/** unknown fields are errors, not warnings, as cdiconfig_opts'. */
	bool strict;
} datavolume_opts;

#define DATAVOLUME_OPTS_INIT    \
	{                       \
		.strict = false \
	}

/**
 * Parse a YAML stream holding exactly one DataVolume (apiVersion
 * cdi.kubevirt.io/v1beta1, kind DataVolume). Objects of other kinds are
 * skipped. Every shape CDI's webhook accepts parses, whatever the source:
 * the decision never depends on it. Fields CDI defines but provisioning
 * does not need (accessModes, contentType, checkpoints...) are accepted
 * and not read; fields CDI does not define, in the top level, spec, the
 * claim, its resources, spec.sourceRef and spec.source.<kind>, are
 * warnings in the result, or errors when @p opts says strict (metadata
 * and status are free-form and never looked at).
 * @param[out] out   set only on PA_OK; the caller owns it and frees it
 *                   with datavolume_free().
 * @param yaml       the text; read during the call, not kept.
 * @param len        its length in bytes.
 * @param filename   the name for messages; copied. NULL means "<input>".
 * @param opts       optional (NULL means DATAVOLUME_OPTS_INIT).
 * @param err        optional; on failure, "file:line:column: sentence".
 * @return PA_OK; PA_INVALID_ARGUMENT for anything wrong in the text;
 *         PA_RESOURCE_EXHAUSTED when memory runs out.
 */
int datavolume_parse(datavolume **out, const char *yaml, size_t len,
    const char *filename, const datavolume_opts *opts, pa_err *err);

/** Free a DataVolume and its strings; NULL is a no-op. */
void datavolume_free(datavolume *dv);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_DATAVOLUME_H
