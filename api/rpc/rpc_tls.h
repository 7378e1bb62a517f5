// SPDX-License-Identifier: Apache-2.0
// rpc_tls.h: TLS configuration for tls+tcp:// listeners and dialers.
#ifndef PREALLOC_RPC_TLS_H
#define PREALLOC_RPC_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "prealloc/status.h"

/** PEM file paths for one side of a TLS connection; NULL means absent. */
typedef struct rpc_tls_files {
	const char *cert; // our certificate
	const char *key;  // its private key
	const char *ca;   // the CA the peer's certificate must chain to
} rpc_tls_files;

/**
 * A server's TLS configuration. A certificate and key are required. Given
 * a CA, clients must present a certificate signed by it; others are refused.
 * @param[out] out  set only on PA_OK; release it with nng_tls_config_free().
 * @return PA_OK; PA_INVALID_ARGUMENT when the certificate or key is
 *         missing or not PEM; PA_NOT_FOUND or PA_PERMISSION_DENIED when a
 *         file cannot be read.
 */
int rpc_tls_server_config(
    nng_tls_config **out, const rpc_tls_files *files, pa_err *err);

/**
 * A client's TLS configuration. Given a CA, the server's certificate must
 * chain to it and match @p server_name; without one the server is not
 * verified. A certificate and key, when given, are presented to the server.
 * @param[out] out  set only on PA_OK; release it with nng_tls_config_free().
 * @return as rpc_tls_server_config().
 */
int rpc_tls_client_config(nng_tls_config **out, const char *server_name,
    const rpc_tls_files *files, pa_err *err);

/** @return 1 when @p url uses TLS (tls+tcp://, tls+tcp4://, tls+tcp6://). */
int rpc_tls_url(const char *url);

/**
 * The host part of a URL such as "tls+tcp://host:port" or
 * "tls+tcp://[::1]:port", for certificate name checks.
 * @return @p buf, empty when the URL has no host.
 */
const char *rpc_tls_url_host(char *buf, size_t size, const char *url);

#endif // PREALLOC_RPC_TLS_H
