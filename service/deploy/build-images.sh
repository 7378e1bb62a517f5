#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build-images.sh: build the prealloc-policyd and prealloc-agentd images
# with no registry and no RUN step, from daemons already built here.
#
# The Containerfiles need a builder that may run RUN steps. Where none may
# (a locked-down CI runner, a builder in a container), this makes the
# same images another way: a Debian 12 root filesystem from debootstrap
# --variant=minbase holding the Debian packages of the libraries the
# daemons link (found by ldd and dpkg -S, so a new dependency is never
# forgotten), then buildah from scratch, copy, config and commit.
#
#   bash service/deploy/build-images.sh [options]
#
# Options:
#   -b, --build-dir DIR   where the daemons were built (default: build)
#   -r, --rootfs DIR      reuse or make the root filesystem there
#                         (default: a temporary directory, removed)
#   -s, --storage DIR     buildah's storage (--root) instead of its default
#   -m, --mirror URL      the Debian mirror (default: the first of apt's)
#   -t, --tag TAG         the images' tag (default: latest)
#   -h, --help            show this help
#
# Prints the two image names. Needs root, debootstrap and buildah.
set -euo pipefail

build=build
rootfs=""
storage=""
mirror=""
tag=latest

usage() {
	sed -n '/^#   bash/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

die() {
	echo "build-images.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	-b | --build-dir) build=$2; shift 2 ;;
	-r | --rootfs) rootfs=$2; shift 2 ;;
	-s | --storage) storage=$2; shift 2 ;;
	-m | --mirror) mirror=$2; shift 2 ;;
	-t | --tag) tag=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "build-images.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
	esac
done

policyd=$build/service/prealloc-policyd
agentd=$build/agent/prealloc-agentd
for b in "$policyd" "$agentd"; do
	[ -x "$b" ] || die "$b is not built (cmake --build $build first)"
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and buildah mount)"
for p in debootstrap buildah dpkg-query; do
	command -v "$p" >/dev/null || die "needs $p (apt-get install $p)"
done

# The mirror apt uses here, so that a machine limited to its own archive
# builds from it.
default_mirror() {
	local m
	m=$(grep -h -m1 -o '^URIs: *[^ ]*' /etc/apt/sources.list.d/*.sources \
		2>/dev/null | head -n1 | sed 's/^URIs: *//') || true
	[ -n "$m" ] || m=$(awk '$1 == "deb" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null) || true
	echo "${m:-http://deb.debian.org/debian}"
}
[ -n "$mirror" ] || mirror=$(default_mirror)

# The Debian packages that hold the shared libraries @1 loads.
runtime_packages() {
	ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
		real=$(readlink -f "$lib")
		dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$real" 2>/dev/null ||
			die "no Debian package holds $lib, which $1 needs"
	done | cut -d: -f1 | sort -u
}

packages=$( { runtime_packages "$policyd"; runtime_packages "$agentd"; } |
	sort -u | paste -sd, -)

cleanup_rootfs=false
if [ -z "$rootfs" ]; then
	rootfs=$(mktemp -d /tmp/prealloc-rootfs.XXXXXX)
	cleanup_rootfs=true
fi
buildah=(buildah)
[ -z "$storage" ] || buildah+=(--root "$storage/root" --runroot "$storage/run")
containers=()
cleanup() {
	for c in "${containers[@]}"; do
		"${buildah[@]}" rm "$c" >/dev/null 2>&1 || true
	done
	if $cleanup_rootfs; then rm -rf "$rootfs"; fi
}
trap cleanup EXIT

if [ ! -x "$rootfs/usr/bin/env" ]; then
	echo "debootstrap: bookworm minbase from $mirror with $packages" >&2
	debootstrap --variant=minbase --include="$packages" bookworm \
		"$rootfs" "$mirror" >&2 ||
		die "debootstrap failed (see above); is $mirror reachable?"
	# Nothing in the image ever installs a package: no apt lists, caches
	# or docs.
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
		"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
fi

# image NAME BINARY USER PORTS CMD_JSON [PASSWD_LINE]: one image from the
# root filesystem and one daemon; a user of its own in its passwd.
image() {
	local name=$1 binary=$2 user=$3 ports=$4 cmd=$5 pw=${6:-} c mnt

	c=$("${buildah[@]}" from --name "$name-build-$$" scratch)
	containers+=("$c")
	mnt=$("${buildah[@]}" mount "$c")
	cp -a "$rootfs"/. "$mnt"/
	if [ -n "$pw" ]; then
		echo "$pw" >>"$mnt/etc/passwd"
		echo "${pw%%:*}:x:${user#*:}:" >>"$mnt/etc/group"
	fi
	install -m 0755 "$binary" "$mnt/usr/sbin/$name"
	strip "$mnt/usr/sbin/$name" 2>/dev/null || true
	"${buildah[@]}" umount "$c" >/dev/null
	"${buildah[@]}" config --user "$user" --entrypoint "[\"/usr/sbin/$name\"]" \
		--cmd "$cmd" --label org.opencontainers.image.title="$name" \
		--label org.opencontainers.image.source=prealloc "$c"
	for p in $ports; do "${buildah[@]}" config --port "$p" "$c"; done
	"${buildah[@]}" commit --quiet "$c" "localhost/$name:$tag" >/dev/null
	echo "localhost/$name:$tag"
}

# The policy service runs as 65532, as its Containerfile says.
image prealloc-policyd "$policyd" 65532:65532 "9650 9660" \
	'["--config", "/etc/prealloc/config/cdiconfig.yaml", "--listen", "tcp://0.0.0.0:9650", "--http", "0.0.0.0:9660"]' \
	'prealloc:x:65532:65532:prealloc:/nonexistent:/usr/sbin/nologin'
# Root, for the reasons agent/deploy/Containerfile gives.
image prealloc-agentd "$agentd" 0:0 9661 \
	'["--root", "/var/lib/kubelet/pods", "--listen", "ipc:///run/prealloc/agent.sock", "--http", "0.0.0.0:9661"]'
