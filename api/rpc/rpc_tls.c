// SPDX-License-Identifier: Apache-2.0
// rpc_tls.c: build nng TLS configurations from PEM files: the checks both
// sides make, and the client's configuration. The server's is in
// rpc_tls_server.c, so that libprealloc carries no server code.
//
// nng takes a certificate and a key without checking that they belong
// together or that the certificate is valid now; a server so configured
// starts, says it is ready, and fails every handshake. The checks here
// use mbedTLS, which nng 1.5.2 is built on, so they read the files the
// way nng's handshakes will.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "rpc_tls.h"
#include "prealloc/util.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#error "rpc_tls.c uses the mbedTLS 2.x API that nng 1.5.2 is built on"
#endif

// PEM files are small; anything larger is not a certificate.
#define TLS_PEM_MAX (1024 * 1024)

// Read a whole PEM file into a NUL-terminated buffer the caller frees.
static int
tls_slurp(char **out, const char *path, pa_err *err)
{
	size_t len = 0;
	int    rc  = pa_file_read(out, &len, path, TLS_PEM_MAX, err);

	if (rc == PA_RESOURCE_EXHAUSTED) // a setup mistake, not a load
		rc = pa_err_set(err, PA_INVALID_ARGUMENT,
		    "%s is larger than %d bytes: not a PEM file", path,
		    TLS_PEM_MAX);
	return rc;
}

static int
tls_nng_fail(pa_err *err, int nrv, const char *what, const char *path)
{
	return pa_err_set(err, PA_INVALID_ARGUMENT, "%s %s: %s", what,
	    path != NULL ? path : "", nng_strerror(nrv));
}

static int
tls_mbed_fail(pa_err *err, int mrv, const char *what, const char *path)
{
	char text[160];

	mbedtls_strerror(mrv, text, sizeof(text));
	return pa_err_set(
	    err, PA_INVALID_ARGUMENT, "%s %s: %s", what, path, text);
}

// @return @p t, a UTC time from a certificate, as seconds since the epoch.
static time_t
tls_time(const mbedtls_x509_time *t)
{
	struct tm tm = { .tm_year = t->year - 1900,
		.tm_mon           = t->mon - 1,
		.tm_mday          = t->day,
		.tm_hour          = t->hour,
		.tm_min           = t->min,
		.tm_sec           = t->sec };

	return timegm(&tm);
}

static const char *
tls_time_text(char *buf, size_t size, const mbedtls_x509_time *t)
{
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", t->year, t->mon,
	    t->day, t->hour, t->min, t->sec);
	return buf;
}

// The first certificate in @p files->cert must be valid now and carry the
// public half of @p files->key.
static int
tls_check_pair(const char *cert_pem, const char *key_pem,
    const rpc_tls_files *files, pa_err *err)
{
	mbedtls_x509_crt   crt;
	mbedtls_pk_context key;
	time_t             now = time(NULL);
	char               when[32];
	int                mrv, rc = PA_OK;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	// PEM lengths count the terminating NUL.
	if ((mrv = mbedtls_x509_crt_parse(&crt,
	         (const unsigned char *) cert_pem, strlen(cert_pem) + 1)) != 0)
		rc = tls_mbed_fail(err, mrv, "certificate", files->cert);
	else if ((mrv = mbedtls_pk_parse_key(&key,
	              (const unsigned char *) key_pem, strlen(key_pem) + 1,
	              NULL, 0)) != 0)
		rc = tls_mbed_fail(err, mrv, "key", files->key);
	else if (mbedtls_pk_check_pair(&crt.pk, &key) != 0)
		rc = pa_err_set(err, PA_INVALID_ARGUMENT,
		    "key %s does not match certificate %s", files->key,
		    files->cert);
	else if (now < tls_time(&crt.valid_from))
		rc = pa_err_set(err, PA_FAILED_PRECONDITION,
		    "certificate %s is not valid before %s", files->cert,
		    tls_time_text(when, sizeof(when), &crt.valid_from));
	else if (now > tls_time(&crt.valid_to))
		rc = pa_err_set(err, PA_FAILED_PRECONDITION,
		    "certificate %s expired at %s", files->cert,
		    tls_time_text(when, sizeof(when), &crt.valid_to));
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	return rc;
}

// Check our own certificate and key, then load them into @p cfg.
static int
tls_own_cert(nng_tls_config *cfg, const rpc_tls_files *files, pa_err *err)
{
	char *cert = NULL, *key = NULL;
	int   rc, nrv;

	if ((rc = tls_slurp(&cert, files->cert, err)) != PA_OK ||
	    (rc = tls_slurp(&key, files->key, err)) != PA_OK ||
	    (rc = tls_check_pair(cert, key, files, err)) != PA_OK)
		goto done;
	if ((nrv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0)
		rc = tls_nng_fail(err, nrv, "certificate", files->cert);
done:
	free(cert);
	free(key);
	return rc;
}

// Trust @p ca and require the peer to prove itself with it.
static int
tls_require_peer(nng_tls_config *cfg, const char *ca, pa_err *err)
{
	char *pem = NULL;
	int   rc, nrv;

	if ((rc = tls_slurp(&pem, ca, err)) != PA_OK)
		return rc;
	if ((nrv = nng_tls_config_ca_chain(cfg, pem, NULL)) != 0)
		rc = tls_nng_fail(err, nrv, "CA", ca);
	else if ((nrv = nng_tls_config_auth_mode(
	              cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		rc = tls_nng_fail(err, nrv, "auth mode for", ca);
	free(pem);
	return rc;
}

int
rpc_tls_config(nng_tls_config **out, nng_tls_mode mode, const char *server_name,
    const rpc_tls_files *files, pa_err *err)
{
	nng_tls_config *cfg = NULL;
	int             rc  = PA_OK, nrv;

	if ((files->cert == NULL) != (files->key == NULL))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a TLS certificate needs its key, and a key its "
		    "certificate");
	if ((nrv = nng_tls_config_alloc(&cfg, mode)) != 0)
		return tls_nng_fail(err, nrv, "TLS config", NULL);
	if (server_name != NULL && server_name[0] != '\0' &&
	    (nrv = nng_tls_config_server_name(cfg, server_name)) != 0) {
		rc = tls_nng_fail(err, nrv, "server name", server_name);
		goto done;
	}
	if (files->cert != NULL && (rc = tls_own_cert(cfg, files, err)) != 0)
		goto done;
	if (files->ca != NULL)
		rc = tls_require_peer(cfg, files->ca, err);
	else
		nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
done:
	if (rc != PA_OK)
		nng_tls_config_free(cfg);
	else
		*out = cfg;
	return rc;
}

int
rpc_tls_client_config(nng_tls_config **out, const char *server_name,
    const rpc_tls_files *files, pa_err *err)
{
	return rpc_tls_config(
	    out, NNG_TLS_MODE_CLIENT, server_name, files, err);
}

int
rpc_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+", 4) == 0;
}

const char *
rpc_tls_url_host(char *buf, size_t size, const char *url)
{
	const char *h = strstr(url, "://");
	const char *end;
	size_t      n;

	buf[0] = '\0';
	if (h == NULL)
		return buf;
	h += 3;
	if (*h == '[') { // an IPv6 literal
		h++;
		end = strchr(h, ']');
	} else {
		end = strrchr(h, ':');
	}
	n = end != NULL ? (size_t) (end - h) : strlen(h);
	if (n >= size)
		n = size - 1;
	memcpy(buf, h, n);
	buf[n] = '\0';
	return buf;
}
