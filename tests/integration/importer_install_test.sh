#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# importer_install_test.sh: install the build into a temp prefix, build
# clients/examples/importer.c against it with pkg-config and with CMake's
# find_package(prealloc), and run it against the installed
# prealloc-policyd and prealloc-agentd.
#
# Usage: importer_install_test.sh BUILD_DIR SOURCE_DIR [SANITIZE]
# SANITIZE 1: the build uses ASan and UBSan, so the importer must too.
set -euo pipefail

build=$1
src=$2
sanitize=()
if [ "${3:-0}" = 1 ]; then
	sanitize=(-fsanitize=address,undefined)
fi
tmp=$(mktemp -d /tmp/prealloc-importer.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# wait_ready LOG EVENT: wait up to 10 s for "event=EVENT" in LOG.
wait_ready() {
	for _ in $(seq 200); do
		grep -q "event=$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$1" >&2
	fail "no event=$2 in $1"
}

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
	{ cat "$tmp/install.log" >&2; fail "cmake --install"; }

pc=$(find "$prefix" -name prealloc.pc)
[ -n "$pc" ] || fail "prealloc.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$prefix/include/prealloc/prealloc.h" ] || fail "prealloc.h not installed"
[ -f "$prefix/include/prealloc/status.h" ] || fail "status.h not installed"
[ -f "$libdir/libprealloc.a" ] || fail "libprealloc.a not installed"

# Only the public API is exported.
others=$(nm -D --defined-only "$libdir/libprealloc.so" |
	awk '{print $3}' | grep -v '^pa_' || true)
[ -z "$others" ] || fail "libprealloc.so exports more than pa_*: $others"
[ "$(readelf -d "$libdir/libprealloc.so" | grep -o 'libprealloc.so.1')" ] ||
	fail "soname is not libprealloc.so.1"

export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" -o "$tmp/importer" \
	"$src/clients/examples/importer.c" \
	$(pkg-config --cflags --libs prealloc) ||
	fail "importer.c does not build against the installed tree"
# The static library links on its own too.
cc -std=c11 "${sanitize[@]}" -o "$tmp/importer-static" "$src/clients/examples/importer.c" \
	$(pkg-config --cflags prealloc) "$libdir/libprealloc.a" \
	$(pkg-config --static --libs-only-l prealloc | sed 's/-lprealloc//') ||
	fail "importer.c does not link against libprealloc.a"

# find_package(prealloc) gives targets that carry the include directory
# and the link dependencies, for the shared and the static library.
[ -f "$libdir/cmake/prealloc/preallocConfig.cmake" ] ||
	fail "preallocConfig.cmake not installed"
[ -f "$libdir/cmake/prealloc/preallocConfigVersion.cmake" ] ||
	fail "preallocConfigVersion.cmake not installed"
mkdir -p "$tmp/cmake"
cat >"$tmp/cmake/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(importer C)
set(CMAKE_C_STANDARD 11)
find_package(prealloc 0.1 REQUIRED CONFIG)
add_executable(importer-cmake "$src/clients/examples/importer.c")
target_link_libraries(importer-cmake PRIVATE prealloc::prealloc)
add_executable(importer-cmake-static "$src/clients/examples/importer.c")
target_link_libraries(importer-cmake-static PRIVATE prealloc::prealloc_static)
CMAKE
cmake -S "$tmp/cmake" -B "$tmp/cmake/build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror ${sanitize[*]}" \
	-DCMAKE_EXE_LINKER_FLAGS="${sanitize[*]}" >"$tmp/cmake.log" 2>&1 &&
	cmake --build "$tmp/cmake/build" >>"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; fail "find_package(prealloc) build"; }
export LD_LIBRARY_PATH=$libdir

# The installed daemons. The agent may not be installed yet.
policyd=$(find "$prefix" -name prealloc-policyd -type f)
agentd=$(find "$prefix" -name prealloc-agentd -type f)
[ -n "$policyd" ] || fail "prealloc-policyd not installed"
mkdir -p "$tmp/vol" "$tmp/vol2"
cat >"$tmp/cdiconfig.yaml" <<'YAML'
apiVersion: cdi.kubevirt.io/v1beta1
kind: CDIConfig
metadata:
  name: config
spec:
  preallocation:
    storageClass:
      fast: true
YAML
"$policyd" --config "$tmp/cdiconfig.yaml" --listen "ipc://$tmp/policy.sock" \
	--http none 2>"$tmp/policyd.log" &
pids+=($!)
wait_ready "$tmp/policyd.log" policyd.ready
export PREALLOC_POLICY=ipc://$tmp/policy.sock
export PREALLOC_AGENT=ipc://$tmp/agent.sock

dv() { # dv NAME PREALLOCATION CLASS
	cat <<YAML
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata:
  name: $1
spec:
  preallocation: $2
  source:
    upload: {}
  storage:
    storageClassName: $3
    resources:
      requests:
        storage: 64Mi
YAML
}

# Not preallocated: the policy service alone decides; no agent needed.
head -c 1000000 /dev/urandom >"$tmp/image.raw"
dv sparse false fast >"$tmp/sparse.yaml"
"$tmp/importer" "$tmp/sparse.yaml" "$tmp/vol" "$tmp/image.raw" \
	>"$tmp/out1" || fail "importer (not preallocated)"
grep -q '^preallocate: false$' "$tmp/out1" || fail "$(cat "$tmp/out1")"
grep -q '^decidedBy: dataVolume$' "$tmp/out1" || fail "$(cat "$tmp/out1")"
grep -q '^targetSize: 62914560$' "$tmp/out1" || fail "$(cat "$tmp/out1")"
cmp -n 1000000 "$tmp/image.raw" "$tmp/vol/disk.img" || fail "image bytes"
"$tmp/importer-static" "$tmp/sparse.yaml" "$tmp/vol" >/dev/null ||
	fail "static importer"
for exe in importer-cmake importer-cmake-static; do
	"$tmp/cmake/build/$exe" "$tmp/sparse.yaml" "$tmp/vol" >"$tmp/out-$exe" ||
		fail "$exe"
	grep -q '^decidedBy: dataVolume$' "$tmp/out-$exe" ||
		fail "$(cat "$tmp/out-$exe")"
done

# A bad DataVolume is reported with its position.
printf 'apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\n' >"$tmp/bad.yaml"
if "$tmp/importer" "$tmp/bad.yaml" "$tmp/vol" 2>"$tmp/err"; then
	fail "a bad DataVolume was accepted"
fi
grep -q "bad.yaml:1:1: metadata: missing" "$tmp/err" || fail "$(cat "$tmp/err")"

if [ -z "$agentd" ]; then
	echo "SKIP: prealloc-agentd not installed; preallocated case not run"
	exit 77
fi
"$agentd" --root "$tmp/vol2" --listen "ipc://$tmp/agent.sock" --http none \
	2>"$tmp/agentd.log" &
pids+=($!)
wait_ready "$tmp/agentd.log" agentd.ready

# Preallocated by the storage class entry; the image is kept.
dv full '' fast | sed '/preallocation: $/d' >"$tmp/full.yaml"
"$tmp/importer" "$tmp/full.yaml" "$tmp/vol2" "$tmp/image.raw" \
	>"$tmp/out2" || fail "importer (preallocated)"
grep -q '^preallocate: true$' "$tmp/out2" || fail "$(cat "$tmp/out2")"
grep -q '^decidedBy: storageClass$' "$tmp/out2" || fail "$(cat "$tmp/out2")"
grep -q '^annotation: cdi.kubevirt.io/storage.preallocation=true$' \
	"$tmp/out2" || fail "$(cat "$tmp/out2")"
cmp -n 1000000 "$tmp/image.raw" "$tmp/vol2/disk.img" || fail "image bytes"
[ "$(stat -c %s "$tmp/vol2/disk.img")" = 62914560 ] || fail "disk.img size"
[ $(($(stat -c %b "$tmp/vol2/disk.img") * 512)) -ge 62914560 ] ||
	fail "disk.img is not allocated"
echo "importer built against the installed tree and provisioned"
