// SPDX-License-Identifier: Apache-2.0
// rpc_tls_server.h: TLS configuration for tls+tcp:// listeners.
#ifndef PREALLOC_RPC_TLS_SERVER_H
#define PREALLOC_RPC_TLS_SERVER_H

#include "rpc_tls.h"

/**
 * A server's TLS configuration. A certificate and key are required. Given
 * a CA, clients must present a certificate signed by it; others are refused.
 * @param[out] out  set only on PA_OK; release it with nng_tls_config_free().
 * @return as rpc_tls_config(); PA_INVALID_ARGUMENT too when the certificate
 *         or the key is missing.
 */
int rpc_tls_server_config(
    nng_tls_config **out, const rpc_tls_files *files, pa_err *err);

#endif // PREALLOC_RPC_TLS_SERVER_H
