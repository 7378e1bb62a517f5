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
 * The most bytes a configuration may have, wherever it comes from: `config
 * check`, `config apply` (client and server) and the watched file all
 * refuse more with the same message. A real CDIConfig, even a `kubectl get
 * -o yaml` export with managedFields, is a few KiB; 512 KiB leaves room for
 * hundreds of storage classes and still fits an ApplyConfig request inside
 * the RPC layer's 1 MiB message limit (RPC_DEFAULT_MAX_MSG) with room for
 * its envelope, so the configuration's limit, not the transport's, is the
 * one a user meets.
 */
#define CDI_CONFIG_MAX_BYTES (512 * 1024)

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
