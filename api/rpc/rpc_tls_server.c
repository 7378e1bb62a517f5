// SPDX-License-Identifier: Apache-2.0
// rpc_tls_server.c: the server's TLS configuration, apart from rpc_tls.c so
// that the client library carries no server code.
#include "rpc_tls_server.h"

int
rpc_tls_server_config(
    nng_tls_config **out, const rpc_tls_files *files, pa_err *err)
{
	if (files->cert == NULL || files->key == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a TLS listener needs a certificate and a key");
	return rpc_tls_config(out, NNG_TLS_MODE_SERVER, NULL, files, err);
}
