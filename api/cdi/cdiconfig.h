// SPDX-License-Identifier: Apache-2.0
// cdiconfig.h: a CDIConfig YAML stream, validated into an immutable snapshot.
#ifndef PREALLOC_CDICONFIG_H
#define PREALLOC_CDICONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdi.h"
#include "overhead.h" // CDI's filesystemOverhead rules: overhead_milli()
#include "prealloc/status.h"
#include "yamldoc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room for an overhead as written: "0.999" and a NUL, with spare. */
#define CDICONFIG_OVERHEAD_SIZE 8

/** What one level (global, or one storage class) sets. */
typedef struct cdiconfig_setting {
	cdiconfig_tristate preallocation;
	/** filesystemOverhead as written ("0.06"); "" when unset. */
	char overhead[CDICONFIG_OVERHEAD_SIZE];
	/** the overhead in thousandths (60 for "0.06"); -1 when unset. */
	int overhead_milli;
} cdiconfig_setting;

/** An immutable, reference-counted snapshot of one CDIConfig. */
typedef struct cdiconfig cdiconfig;

/** How to parse. Start from CDICONFIG_OPTS_INIT. */
typedef struct cdiconfig_opts {
	/** stored in the snapshot as is; the store counts loads with it. */
	uint64_t generation;
	/** unknown fields are errors, not warnings (a typo never passes). */
	bool strict;
	/** optional; on failure, where the error is (0, 0 when nowhere). */
	yamldoc_pos *error_pos;
} cdiconfig_opts;

#define CDICONFIG_OPTS_INIT                                         \
	{                                                           \
		.generation = 0, .strict = false, .error_pos = NULL \
	}

/**
 * Parse and validate a YAML stream holding exactly one CDIConfig document
 * (apiVersion cdi.kubevirt.io/v1beta1, kind CDIConfig). Other documents are
 * ignored with a warning; `status` and `metadata` quietly; fields of real
 * CDI's CDIConfigSpec that do not concern preallocation quietly too.
 *
 * @param[out] out   the snapshot, set only on PA_OK, with one reference
 *                   the caller owns: release it with cdiconfig_unref().
 * @param yaml       the text; read during the call, not kept.
 * @param len        its length in bytes.
 * @param filename   the name for messages; copied. NULL means "<input>".
 * @param opts       optional (NULL means CDICONFIG_OPTS_INIT).
 * @param err        optional; on failure, "file:line:column: sentence".
 * @return PA_OK; PA_INVALID_ARGUMENT for anything wrong in the text;
 *         PA_RESOURCE_EXHAUSTED when memory runs out, or as
 *         cdiconfig_check_size() when @p len is over CDI_CONFIG_MAX_BYTES.
 */
int cdiconfig_parse(cdiconfig **out, const char *yaml, size_t len,
    const char *filename, const cdiconfig_opts *opts, pa_err *err);

/**
 * The one size rule for a configuration, so that every path that takes one
 * (check, apply on either side, the watched file) refuses the same texts
 * with the same words.
 * @param len       the text's length in bytes; a reader that stopped at
 *                  the limit passes CDI_CONFIG_MAX_BYTES + 1.
 * @param filename  the name for the message; NULL means "<input>".
 * @param err       optional; "FILE: larger than 524288 bytes, the limit of
 *                  a configuration (CDI_CONFIG_MAX_BYTES)".
 * @return PA_OK when @p len <= CDI_CONFIG_MAX_BYTES, else
 *         PA_RESOURCE_EXHAUSTED.
 */
int cdiconfig_check_size(size_t len, const char *filename, pa_err *err);

/**
 * The embedded default: a CDIConfig that sets nothing, so every answer is
 * false and every overhead "0.06". Its file name is "<default>".
 * @param[out] out  as cdiconfig_parse().
 * @return PA_OK or PA_RESOURCE_EXHAUSTED.
 */
int cdiconfig_default(cdiconfig **out, const cdiconfig_opts *opts, pa_err *err);

/**
 * Take one more reference, for a reader that keeps the snapshot while the
 * store may swap in another. Thread-safe.
 * @return @p c.
 */
cdiconfig *cdiconfig_ref(cdiconfig *c);

/**
 * Drop one reference; the last one frees the snapshot. NULL is a no-op.
 * Thread-safe.
 */
void cdiconfig_unref(cdiconfig *c);

/** @return the global setting (borrowed; lives as long as @p c). */
const cdiconfig_setting *cdiconfig_global(const cdiconfig *c);

/**
 * Look a storage class up, in constant time however many are listed.
 * @param name  the class; NUL-terminated.
 * @return its setting (borrowed; lives as long as @p c), or NULL when the
 *         class is not listed under preallocation or filesystemOverhead.
 */
const cdiconfig_setting *cdiconfig_class(const cdiconfig *c, const char *name);

/** @return how many storage classes are listed (both maps together). */
size_t cdiconfig_class_count(const cdiconfig *c);

/**
 * The @p i-th storage class, in the order first seen in the document.
 * @param[out] name_out  the class name (borrowed; lives as long as @p c).
 * @return its setting (borrowed), or NULL when @p i >= the class count.
 */
const cdiconfig_setting *cdiconfig_class_at(
    const cdiconfig *c, size_t i, const char **name_out);

/** @return the generation from the options given to the parse. */
uint64_t cdiconfig_generation(const cdiconfig *c);

/** @return the file name given to the parse (borrowed). */
const char *cdiconfig_filename(const cdiconfig *c);

/** @return how many warnings the parse left. */
size_t cdiconfig_warning_count(const cdiconfig *c);

/**
 * @return warning @p i as "file:line:column: sentence" (borrowed), or
 *         NULL when @p i is out of range.
 */
const char *cdiconfig_warning(const cdiconfig *c, size_t i);

/**
 * Write the effective config as one CDIConfig YAML document (libyaml's
 * emitter), storage classes sorted by name as kubectl prints maps.
 * @param[out] out  malloc'd, NUL-terminated; the caller frees it with
 *                  free(). Set only on PA_OK.
 * @return PA_OK, PA_RESOURCE_EXHAUSTED or PA_INTERNAL.
 */
int cdiconfig_to_yaml(char **out, const cdiconfig *c, pa_err *err);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_CDICONFIG_H
