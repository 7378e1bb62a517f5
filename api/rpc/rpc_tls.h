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
 * The TLS configuration both sides build. Our certificate and key, when
 * given, are checked before nng sees them: the first certificate in the
 * file must be valid now and the key must be its private half, so that a
 * bad pair fails here and not at every handshake (checked with mbedTLS,
 * which nng is built on). Given a CA, the peer must present a certificate
 * that chains to it; without one the peer is not verified.
 * @param[out] out    set only on PA_OK; release it with
 *                    nng_tls_config_free().
 * @param mode        NNG_TLS_MODE_CLIENT or NNG_TLS_MODE_SERVER.
 * @param server_name the name the server's certificate must carry; NULL
 *                    or "" for none.
 * @return PA_OK;
 *         PA_INVALID_ARGUMENT when only one of a certificate and a key is
 *         given, when either is not PEM ("certificate F: <mbedTLS
 *         reason>", "key F: <reason>"), or the key is not the
 *         certificate's ("key K does not match certificate C");
 *         PA_FAILED_PRECONDITION when the certificate is sound but the
 *         clock is outside its validity ("certificate C expired at
 *         2020-01-02T00:00:00Z", "certificate C is not valid before
 *         2040-01-01T00:00:00Z"): the files are right, the time is not;
 *         PA_NOT_FOUND or PA_PERMISSION_DENIED when a file cannot be read.
 */
int rpc_tls_config(nng_tls_config **out, nng_tls_mode mode,
    const char *server_name, const rpc_tls_files *files, pa_err *err);

/**
 * A client's TLS configuration. Given a CA, the server's certificate must
 * chain to it and match @p server_name; without one the server is not
 * verified. A certificate and key, when given, are checked as
 * rpc_tls_config() checks them, then presented to the server.
 * @param[out] out  set only on PA_OK; release it with nng_tls_config_free().
 * @return as rpc_tls_config().
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
