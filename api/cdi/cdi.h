// SPDX-License-Identifier: Apache-2.0
// cdi.h: the names CDI's objects share: API group, version and kinds.
#ifndef PREALLOC_CDI_H
#define PREALLOC_CDI_H

/** The API group of every CDI object, and of its annotations. */
#define CDI_GROUP "cdi.kubevirt.io"

/** The one apiVersion both parsers accept and the emitter writes. */
#define CDI_API_VERSION CDI_GROUP "/v1beta1"

#define CDI_KIND_CDICONFIG "CDIConfig"
#define CDI_KIND_DATAVOLUME "DataVolume"

/**
 * A CDI boolean that may be absent: absent is not the same as false. A
 * CDIConfig level and a DataVolume's spec.preallocation both are one, and
 * the resolver takes them as they are. The values are the wire's.
 */
typedef enum cdiconfig_tristate {
	CDICONFIG_UNSET = 0,
	CDICONFIG_TRUE  = 1,
	CDICONFIG_FALSE = 2,
} cdiconfig_tristate;

#endif // PREALLOC_CDI_H
