// SPDX-License-Identifier: Apache-2.0
// authz_test.c: who may ApplyConfig, by transport and peer credentials.
#include <string.h>

#include "authz.h"
#include "testlib.h"

static rpc_peer
ipc_peer(uint64_t uid, uint64_t gid)
{
	rpc_peer p = { .transport = RPC_TRANSPORT_IPC,
		.has_cred         = true,
		.uid              = uid,
		.gid              = gid,
		.pid              = 42 };
	return p;
}

static int
check(const authz *a, rpc_peer p, char *why, size_t size)
{
	why[0] = '\0';
	return authz_check_apply(a, &p, why, size);
}

static void
test_authz__root_and_self_by_default(void **state)
{
	authz a = { .self_uid = 1000 };
	char  why[256];

	(void) state;
	assert_int_equal(check(&a, ipc_peer(0, 0), why, sizeof(why)), PA_OK);
	assert_int_equal(
	    check(&a, ipc_peer(1000, 1000), why, sizeof(why)), PA_OK);
	assert_int_equal(check(&a, ipc_peer(65534, 65534), why, sizeof(why)),
	    PA_PERMISSION_DENIED);
	assert_non_null(strstr(why, "uid 65534 (gid 65534) is not allowed"));
	assert_non_null(strstr(why, "--apply-allow-uid"));
}

static void
test_authz__allowed_uid_or_primary_gid(void **state)
{
	authz  a   = { .self_uid = 0 };
	pa_err err = PA_ERR_INIT;
	char   why[256];

	(void) state;
	assert_int_equal(authz_allow(&a, false, 65534, &err), PA_OK);
	assert_int_equal(authz_allow(&a, true, 4242, &err), PA_OK);
	assert_int_equal(
	    check(&a, ipc_peer(65534, 100), why, sizeof(why)), PA_OK);
	assert_int_equal(
	    check(&a, ipc_peer(2000, 4242), why, sizeof(why)), PA_OK);
	assert_int_equal(check(&a, ipc_peer(2000, 2000), why, sizeof(why)),
	    PA_PERMISSION_DENIED);
}

static void
test_authz__tcp_tls_and_unknown_are_refused(void **state)
{
	authz    a    = { .self_uid = 0 };
	rpc_peer tcp  = ipc_peer(0, 0);
	rpc_peer tls  = ipc_peer(0, 0);
	rpc_peer none = { .transport = RPC_TRANSPORT_UNKNOWN };
	rpc_peer nocr = { .transport = RPC_TRANSPORT_IPC };
	char     why[256];

	(void) state;
	// Credentials a transport cannot have are never trusted.
	tcp.transport    = RPC_TRANSPORT_TCP;
	tls.transport    = RPC_TRANSPORT_TLS;
	tls.tls_verified = true;
	assert_int_equal(
	    check(&a, tcp, why, sizeof(why)), PA_PERMISSION_DENIED);
	assert_non_null(strstr(why, "tcp:// is refused"));
	assert_non_null(strstr(why, "ipc://"));
	assert_int_equal(
	    check(&a, tls, why, sizeof(why)), PA_PERMISSION_DENIED);
	assert_non_null(strstr(why, "tls+tcp:// is refused"));
	assert_int_equal(
	    check(&a, none, why, sizeof(why)), PA_PERMISSION_DENIED);
	assert_int_equal(
	    check(&a, nocr, why, sizeof(why)), PA_PERMISSION_DENIED);
	assert_non_null(strstr(why, "credentials are unknown"));
}

static void
test_authz__allow_list_is_bounded(void **state)
{
	authz  a   = { .self_uid = 0 };
	pa_err err = PA_ERR_INIT;

	(void) state;
	for (unsigned i = 0; i < AUTHZ_MAX_IDS; i++)
		assert_int_equal(authz_allow(&a, false, i + 1, &err), PA_OK);
	assert_int_equal(
	    authz_allow(&a, false, 99, &err), PA_RESOURCE_EXHAUSTED);
	assert_int_equal(authz_allow(&a, true, 99, &err), PA_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authz__root_and_self_by_default),
		cmocka_unit_test(test_authz__allowed_uid_or_primary_gid),
		cmocka_unit_test(test_authz__tcp_tls_and_unknown_are_refused),
		cmocka_unit_test(test_authz__allow_list_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
