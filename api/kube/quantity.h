// SPDX-License-Identifier: Apache-2.0
// quantity.h: Kubernetes resource quantities ("10Gi", "1.5G", "1e9") as bytes.
#ifndef PREALLOC_QUANTITY_H
#define PREALLOC_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room for any quantity_format() result: "18446744073709551615" and NUL. */
#define QUANTITY_BUF_SIZE 24

/**
 * Parse a quantity as Kubernetes writes one: a number (digits, an optional
 * fraction) and one optional suffix: binary Ki Mi Gi Ti Pi Ei, decimal
 * n u m k M G T P E, or an exponent e<n>/E<n>. A result that is not a whole
 * number of bytes rounds up, as Kubernetes' Quantity.Value() does ("0.5"
 * is 1).
 * @param[out] out  bytes; set only on PA_OK.
 * @param s         the text; NUL-terminated.
 * @param err       optional; names the input and what is wrong with it.
 * @return PA_OK, or PA_INVALID_ARGUMENT for junk, a negative value, or one
 *         above 2^64 - 1 bytes.
 */
int quantity_parse(uint64_t *out, const char *s, pa_err *err);

/**
 * Write @p bytes in the shortest exact binary form: "10Gi", "512Mi", or
 * plain bytes ("1000") when no binary unit divides it.
 * @param buf   at least QUANTITY_BUF_SIZE bytes for a full result; a smaller
 *              buffer gets a cut, NUL-terminated one.
 * @return @p buf.
 */
char *quantity_format(char *buf, size_t size, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_QUANTITY_H
