// SPDX-License-Identifier: Apache-2.0
// k8sname.h: Kubernetes object names: DNS-1123 subdomains and labels.
#ifndef PREALLOC_K8SNAME_H
#define PREALLOC_K8SNAME_H

#include <stddef.h>

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define K8SNAME_SUBDOMAIN_MAX 253
#define K8SNAME_LABEL_MAX 63

/**
 * Check a DNS-1123 subdomain, the form of most object names (storage
 * classes among them): at most 253 characters of lowercase letters, digits,
 * '-' and '.', where each dot-separated label starts and ends with a
 * letter or digit.
 * @param name  the bytes to check; may hold a NUL, which is refused.
 * @param len   how many bytes.
 * @param err   optional; on failure, "\"<name>\" is not a valid name:
 *              <what is wrong, and at which position>".
 * @return PA_OK or PA_INVALID_ARGUMENT.
 */
int k8sname_subdomain(const char *name, size_t len, pa_err *err);

/**
 * Check a DNS-1123 label: as a subdomain, but at most 63 characters and
 * no '.'.
 * @return PA_OK or PA_INVALID_ARGUMENT; the rest as k8sname_subdomain().
 */
int k8sname_label(const char *name, size_t len, pa_err *err);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_K8SNAME_H
