// SPDX-License-Identifier: Apache-2.0
// rpc_tls_test.c: TLS configurations refuse a key that is not the
// certificate's and a certificate outside its validity, with certificates
// made by openssl(1) at test time.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_tls_server.h"
#include "testlib.h"
#include "tlscerts.h"

static char *dir; // certificates for the whole group

static char *
path(const char *name)
{
	static char buf[8][512];
	static int  next;
	char       *p = buf[next++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static int
group_setup(void **state)
{
	if (!testlib_have_program("openssl"))
		testlib_skip_all(
		    "openssl(1) is missing: apt-get install openssl");
	dir = testlib_tmpdir("rpc_tls");
	if (tlscerts_make(dir) != 0) {
		fprintf(stderr, "openssl could not make test certificates\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	testlib_rm_rf(dir);
	free(dir);
	return 0;
}

// Build a server configuration from <cert>.crt and <key>.key.
static int
server_config(const char *cert, const char *key, pa_err *err)
{
	char            c[64], k[64];
	rpc_tls_files   files;
	nng_tls_config *cfg = NULL;
	int             rc;

	snprintf(c, sizeof(c), "%s.crt", cert);
	snprintf(k, sizeof(k), "%s.key", key);
	files = (rpc_tls_files) { path(c), path(k), NULL };
	rc    = rpc_tls_server_config(&cfg, &files, err);
	if (rc == PA_OK) {
		assert_non_null(cfg);
		nng_tls_config_free(cfg);
	}
	return rc;
}

static void
test_rpc_tls__good_pair_is_accepted(void **state)
{
	pa_err err = PA_ERR_INIT;

	assert_int_equal(server_config("server", "server", &err), PA_OK);
	assert_int_equal(server_config("client", "client", &err), PA_OK);
}

static void
test_rpc_tls__wrong_key_is_invalid_argument(void **state)
{
	pa_err err = PA_ERR_INIT;
	char   want[1200];

	assert_int_equal(
	    server_config("server", "client", &err), PA_INVALID_ARGUMENT);
	snprintf(want, sizeof(want), "key %s does not match certificate %s",
	    path("client.key"), path("server.crt"));
	assert_string_equal(err.msg, want);
}

static void
test_rpc_tls__expired_certificate_is_failed_precondition(void **state)
{
	pa_err err = PA_ERR_INIT;
	char   want[600];

	assert_int_equal(
	    server_config("expired", "expired", &err), PA_FAILED_PRECONDITION);
	snprintf(want, sizeof(want),
	    "certificate %s expired at 2020-01-02T00:00:00Z",
	    path("expired.crt"));
	assert_string_equal(err.msg, want);
}

static void
test_rpc_tls__not_yet_valid_certificate_is_failed_precondition(void **state)
{
	pa_err err = PA_ERR_INIT;
	char   want[600];

	assert_int_equal(
	    server_config("future", "future", &err), PA_FAILED_PRECONDITION);
	snprintf(want, sizeof(want),
	    "certificate %s is not valid before 2040-01-01T00:00:00Z",
	    path("future.crt"));
	assert_string_equal(err.msg, want);
}

static void
test_rpc_tls__key_that_is_not_pem_names_the_file(void **state)
{
	pa_err err = PA_ERR_INIT;

	// A certificate where a key belongs: readable PEM, but not a key.
	testlib_run("cp '%s' '%s'", path("server.crt"), path("cert.key"));
	assert_int_equal(
	    server_config("server", "cert", &err), PA_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, path("cert.key")));
	assert_true(strncmp(err.msg, "key ", 4) == 0);
}

static void
test_rpc_tls__client_with_wrong_key_is_invalid_argument(void **state)
{
	rpc_tls_files   files = { path("client.crt"), path("server.key"),
		  path("ca.crt") };
	nng_tls_config *cfg   = NULL;
	pa_err          err   = PA_ERR_INIT;
	char            want[1200];

	assert_int_equal(rpc_tls_client_config(&cfg, "localhost", &files, &err),
	    PA_INVALID_ARGUMENT);
	assert_null(cfg);
	snprintf(want, sizeof(want), "key %s does not match certificate %s",
	    path("server.key"), path("client.crt"));
	assert_string_equal(err.msg, want);
}

static void
test_rpc_tls__client_with_expired_cert_is_failed_precondition(void **state)
{
	rpc_tls_files   files = { path("expired.crt"), path("expired.key"),
		  NULL };
	nng_tls_config *cfg   = NULL;
	pa_err          err   = PA_ERR_INIT;

	assert_int_equal(rpc_tls_client_config(&cfg, "localhost", &files, &err),
	    PA_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "expired at"));
}

static void
test_rpc_tls__client_without_cert_is_not_checked(void **state)
{
	rpc_tls_files   files = { NULL, NULL, path("ca.crt") };
	nng_tls_config *cfg   = NULL;

	assert_int_equal(
	    rpc_tls_client_config(&cfg, "localhost", &files, NULL), PA_OK);
	nng_tls_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpc_tls__good_pair_is_accepted),
		cmocka_unit_test(test_rpc_tls__wrong_key_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_tls__expired_certificate_is_failed_precondition),
		cmocka_unit_test(
		    test_rpc_tls__not_yet_valid_certificate_is_failed_precondition),
		cmocka_unit_test(
		    test_rpc_tls__key_that_is_not_pem_names_the_file),
		cmocka_unit_test(
		    test_rpc_tls__client_with_wrong_key_is_invalid_argument),
		cmocka_unit_test(
		    test_rpc_tls__client_with_expired_cert_is_failed_precondition),
		cmocka_unit_test(
		    test_rpc_tls__client_without_cert_is_not_checked),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
