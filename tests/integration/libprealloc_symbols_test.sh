#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# libprealloc_symbols_test.sh: libprealloc.a and libprealloc.so define no
# global symbol but the public pa_ API, so that nothing of ours (rpc_*,
# yamldoc_*, arena_*, the protobuf descriptors) can clash with a name of
# the program that links them; and they carry no RPC server code at all.
#
# Usage: libprealloc_symbols_test.sh LIBPREALLOC_A LIBPREALLOC_SO
set -euo pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ASan gives an exported variable a companion "__odr_asan.<name>".
public='^(__odr_asan\.)?pa_'

for lib in "$@"; do
	[ -f "$lib" ] || fail "$lib not built"
	globals=$(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}')
	[ -n "$(grep -E "$public" <<<"$globals" || true)" ] ||
		fail "$lib defines no pa_ symbol"
	others=$(grep -Ev "$public" <<<"$globals" || true)
	[ -z "$others" ] ||
		fail "$lib defines global symbols outside pa_:" $others
	server=$(nm "$lib" |
		grep -E ' (rpc_server|rpc_conns|rpc_ipc|rpc_listeners|rpc_tls_server)_' || true)
	[ -z "$server" ] || fail "$lib carries server code: $server"
done
echo "only pa_ symbols are global in: $*"
