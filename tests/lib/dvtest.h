// SPDX-License-Identifier: Apache-2.0
// dvtest.h: DataVolume manifests for tests of libprealloc, and a checksum
// of the head of a file or device.
#ifndef PREALLOC_DVTEST_H
#define PREALLOC_DVTEST_H

#include <stddef.h>
#include <stdint.h>

/** The source kinds a DataVolume may name, in the reference's order. */
extern const char *const dvtest_source_kinds[];
#define DVTEST_NKINDS 9

/** What a made DataVolume says; "" leaves a field out. */
typedef struct dvtest_spec {
	const char *source;        // "http", ... ("dv-<source>" is its name)
	const char *preallocation; // "true", "false" or ""
	const char *storage_class; // or ""
	const char *size;          // a quantity: "1Gi"
	const char *mode;          // "Filesystem" or "Block"
	const char *claim;         // "pvc" or "storage"
} dvtest_spec;

/**
 * Write the DataVolume @p s describes into @p buf. Fails the test when it
 * does not fit.
 * @return @p buf.
 */
char *dvtest_yaml(char *buf, size_t size, const dvtest_spec *s);

struct pa_datavolume;

/**
 * Make the DataVolume @p s describes and parse it with libprealloc (the
 * test links prealloc_client). Fails the test when it does not parse.
 * @return the DataVolume; free it with pa_datavolume_free().
 */
struct pa_datavolume *dvtest_parse(const dvtest_spec *s);

/**
 * The SHA-256 of the first @p n bytes of @p path, by head(1) and
 * sha256sum(1). Fails the test when they fail.
 * @param[out] hex  64 hex digits and a NUL.
 */
void dvtest_head_sha256(char hex[65], const char *path, uint64_t n);

#endif // PREALLOC_DVTEST_H
