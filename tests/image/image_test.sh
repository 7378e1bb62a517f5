#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# image_test.sh: build both images with service/deploy/build-images.sh,
# then run each daemon inside its image's filesystem (buildah mount, then
# unshare + chroot, as a container runtime would: its own mount and PID
# namespaces, /proc, /dev and /sys) and call it over TCP with preallocctl
# from outside. This proves an image holds everything its binary needs.
#
#   image_test.sh BUILD_DIR SOURCE_DIR SANITIZED
set -euo pipefail

build=$(readlink -f "$1")
src=$(readlink -f "$2")
sanitized=$3
ctl=$build/clients/preallocctl/preallocctl

skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ "$sanitized" != 1 ] && [ "$sanitized" != ON ] ||
	skip "images are made of the plain build's daemons, not sanitized ones"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in debootstrap buildah unshare chroot; do
	command -v "$p" >/dev/null || skip "needs $p"
done
# debootstrap needs the Debian archive; a machine without one cannot run
# this, which is not a failure of the images.
mirror=$(grep -h -m1 -o '^URIs: *[^ ]*' /etc/apt/sources.list.d/*.sources \
	2>/dev/null | head -n1 | sed 's/^URIs: *//')
mirror=${mirror:-http://deb.debian.org/debian}
python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] +
	'/dists/bookworm/Release', timeout=10)" "$mirror" 2>/dev/null ||
	skip "the Debian archive ($mirror) is not reachable"

tmp=$(mktemp -d /tmp/prealloc-image.XXXXXX)
buildah=(buildah --root "$tmp/storage/root" --runroot "$tmp/storage/run")
pids=()
containers=()
mounts=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for c in "${containers[@]}"; do
		"${buildah[@]}" rm "$c" >/dev/null 2>&1 || true
	done
	"${buildah[@]}" rmi --all --force >/dev/null 2>&1 || true
	# buildah's vfs layers hold files owned by the image's users.
	rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s)
images=$(bash "$src/service/deploy/build-images.sh" --build-dir "$build" \
	--storage "$tmp/storage" --mirror "$mirror" --tag test)
echo "built in $(($(date +%s) - start)) s: $(echo $images)"
for i in prealloc-policyd prealloc-agentd; do
	echo "$images" | grep -qx "localhost/$i:test" || fail "no image $i"
done

# What the image says of itself.
user=$("${buildah[@]}" inspect --format '{{.OCIv1.Config.User}}' \
	localhost/prealloc-policyd:test)
[ "$user" = 65532:65532 ] || fail "the policy image runs as '$user'"
entry=$("${buildah[@]}" inspect --format '{{.OCIv1.Config.Entrypoint}}' \
	localhost/prealloc-agentd:test)
[ "$entry" = "[/usr/sbin/prealloc-agentd]" ] || fail "agent entrypoint $entry"

# A port nobody holds.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

# mount_image IMAGE: its filesystem, through a working container.
mount_image() {
	local c
	c=$("${buildah[@]}" from --name "test-$1-$$" "localhost/$1:test")
	containers+=("$c")
	"${buildah[@]}" mount "$c"
}

# run_in ROOT USER LOG ARGS...: the daemon ARGS inside ROOT, in the
# background, as a container runtime would start it.
run_in() {
	local root=$1 user=$2 log=$3
	shift 3
	unshare --mount --pid --fork --propagation private sh -c '
		root=$1; user=$2; shift 2
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --rbind /sys "$root/sys"
		exec chroot --userspec="$user" "$root" "$@"' sh "$root" "$user" \
		"$@" >"$log" 2>&1 &
	pids+=($!)
}

# wait_ready LOG EVENT
wait_ready() {
	for _ in $(seq 100); do
		grep -q "event=$2" "$1" && return 0
		sleep 0.1
	done
	cat "$1" >&2
	fail "no $2 in $1"
}

# 1. The policy service, non-root, with a config in its image's path.
proot=$(mount_image prealloc-policyd)
mkdir -p "$proot/etc/prealloc/config"
cat >"$proot/etc/prealloc/config/cdiconfig.yaml" <<'EOF'
apiVersion: cdi.kubevirt.io/v1beta1
kind: CDIConfig
metadata:
  name: config
spec:
  preallocation:
    global: false
    storageClass:
      ceph-rbd: true
EOF
pport=$(free_port)
run_in "$proot" 65532:65532 "$tmp/policyd.log" /usr/sbin/prealloc-policyd \
	--config /etc/prealloc/config/cdiconfig.yaml \
	--listen "tcp://127.0.0.1:$pport" --http none
wait_ready "$tmp/policyd.log" policyd.ready
out=$("$ctl" -p "tcp://127.0.0.1:$pport" -o json resolve -s ceph-rbd)
echo "$out" | grep -q '"preallocation": *true' || fail "resolve: $out"
echo "$out" | grep -q '"decidedBy": *"storageClass"' || fail "resolve: $out"
out=$("$ctl" -p "tcp://127.0.0.1:$pport" -o json resolve -s local-path)
echo "$out" | grep -q '"preallocation": *false' || fail "resolve: $out"
echo "$out" | grep -q '"decidedBy": *"global"' || fail "resolve: $out"
echo "policy image: resolves over tcp as uid 65532"

# 2. The agent, root, preallocating a file beneath a root in its image.
aroot=$(mount_image prealloc-agentd)
mkdir -p "$aroot/data"
aport=$(free_port)
run_in "$aroot" 0:0 "$tmp/agentd.log" /usr/sbin/prealloc-agentd \
	--root /data --listen "tcp://127.0.0.1:$aport" --http none
wait_ready "$tmp/agentd.log" agentd.ready
"$ctl" -a "tcp://127.0.0.1:$aport" -o json preallocate /data/disk.img \
	--size 64Mi --method full >"$tmp/job.json" || {
	cat "$tmp/job.json" "$tmp/agentd.log" >&2
	fail "preallocate in the agent image"
}
grep -q '"state": *"succeeded"' "$tmp/job.json" || fail "job: $(cat "$tmp/job.json")"
size=$(stat -c %s "$aroot/data/disk.img")
alloc=$(($(stat -c %b "$aroot/data/disk.img") * $(stat -c %B "$aroot/data/disk.img")))
[ "$size" -eq $((64 << 20)) ] || fail "disk.img is $size bytes"
[ "$alloc" -ge "$size" ] || fail "disk.img has $alloc of $size bytes allocated"
echo "agent image: 64 MiB preallocated over tcp, $alloc bytes allocated"

# 3. The images as a container engine runs them, where it may.
if command -v podman >/dev/null; then
	if podman --root "$tmp/storage/root" --runroot "$tmp/storage/run" \
		run --rm --network host localhost/prealloc-policyd:test --help \
		>"$tmp/podman.log" 2>&1; then
		grep -q 'Usage: prealloc-policyd' "$tmp/podman.log" ||
			fail "podman run: $(cat "$tmp/podman.log")"
		echo "podman run: prealloc-policyd --help works"
	else
		echo "SKIP: podman run refused here: $(tail -n1 "$tmp/podman.log")"
	fi
else
	echo "SKIP: podman run: podman is not installed (chroot runs above)"
fi
echo "PASS"
