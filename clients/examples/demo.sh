#!/usr/bin/env bash
# demo.sh: the newcomer's first command. Installs what is missing, builds,
# starts prealloc-policyd and prealloc-agentd, and provisions example
# DataVolumes the way CDI's importer would, on a small loop filesystem and
# a loop block device (a temp dir when loop devices are missing). Every
# decision and result is printed; daemons and devices are cleaned up.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

bash .ci/deps
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/demo -j"$(nproc)" --target prealloc-policyd \
	prealloc-agentd preallocctl >/dev/null

bin=$top/build/demo
work=$(mktemp -d /tmp/prealloc-demo.XXXXXX)
pids=()
mnt="" fsloop="" blkloop=""

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	[ -n "$fsloop" ] && losetup -d "$fsloop" 2>/dev/null
	[ -n "$blkloop" ] && losetup -d "$blkloop" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Wait until a daemon's log says it is ready.
wait_ready() {
	for _ in $(seq 1 100); do
		grep -q "event=$2" "$1" && return 0
		sleep 0.1
	done
	echo "demo: $2 did not come up:" >&2
	cat "$1" >&2
	return 1
}

say "volumes"
mnt=$work/volumes
mkdir -p "$mnt"
if [ "$(id -u)" -eq 0 ] && losetup -f >/dev/null 2>&1; then
	truncate -s 256M "$work/fs.img"
	fsloop=$(losetup --find --show "$work/fs.img")
	mkfs.ext4 -q "$fsloop"
	mount "$fsloop" "$mnt"
	truncate -s 64M "$work/blk.img"
	blkloop=$(losetup --find --show "$work/blk.img")
	echo "Filesystem volumes on ext4 $fsloop mounted at $mnt"
	echo "Block volume: $blkloop (64 MiB)"
else
	echo "no loop devices here: Filesystem volumes in $mnt, no Block volume"
fi

say "daemons (policy on the embedded default config: no file yet)"
policy=ipc://$work/policy.sock
agent=ipc://$work/agent.sock
"$bin/service/prealloc-policyd" --config "$work/cdiconfig.yaml" \
	--listen "$policy" --http none 2>"$work/policyd.log" &
pids+=($!)
agent_args=(--root "$mnt" --listen "$agent" --http none)
[ -n "$blkloop" ] && agent_args+=(--device-allow "$blkloop")
"$bin/agent/prealloc-agentd" "${agent_args[@]}" 2>"$work/agentd.log" &
pids+=($!)
wait_ready "$work/policyd.log" policyd.ready
wait_ready "$work/agentd.log" agentd.ready
grep -h "event=store.default_config\|event=.*\.ready" "$work"/*.log

ctl() { "$bin/clients/preallocctl/preallocctl" --policy "$policy" --agent "$agent" "$@"; }

# A DataVolume manifest: name, storage class, size, volume mode, and the
# spec.preallocation line ("" leaves it unset).
datavolume() {
	cat >"$work/$1.yaml" <<DV
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata:
  name: $1
spec:
  source:
    blank: {}
  pvc:
    storageClassName: $2
    volumeMode: $4
    accessModes: [ReadWriteOnce]
    resources:
      requests:
        storage: $3
${5:+  preallocation: $5}
DV
	echo "$work/$1.yaml"
}

provision_fs() {
	mkdir -p "$mnt/$1"
	echo "--- $1 (Filesystem, storageClassName $2${3:+, preallocation: $3})"
	ctl provision -f "$(datavolume "$1" "$2" 64Mi Filesystem "$3")" --volume "$mnt/$1"
}

say "with nothing configured, the answer is the default: false"
ctl resolve --storage-class standard
provision_fs dv-default standard ""

say "apply a CDIConfig: global true, storage classes fast-ssd true and slow-hdd false"
cat >"$work/demo-cdiconfig.yaml" <<'CFG'
apiVersion: cdi.kubevirt.io/v1beta1
kind: CDIConfig
metadata:
  name: config
spec:
  preallocation:
    global: true
    storageClass:
      fast-ssd: true
      slow-hdd: false
  filesystemOverhead:
    global: "0.06"
    storageClass:
      fast-ssd: "0.055"
CFG
ctl config apply "$work/demo-cdiconfig.yaml"
ctl config get

say "the DataVolume's own setting wins"
provision_fs dv-own-false fast-ssd false
say "then the storage class entry"
provision_fs dv-class-fast fast-ssd ""
provision_fs dv-class-slow slow-hdd ""
say "then the global setting"
provision_fs dv-global standard ""

provision_block() {
	echo "--- $1 (Block, storageClassName $2${3:+, preallocation: $3}), 1 MiB image first"
	ctl provision -f "$(datavolume "$1" "$2" 64Mi Block "$3")" \
		--volume "$blkloop" --image "$work/image.raw"
	cmp -n 1048576 "$work/image.raw" "$blkloop" && echo "image bytes intact on $blkloop"
}

if [ -n "$blkloop" ]; then
	say "the same three steps on a Block volume: the device is zeroed after the image"
	head -c 1M /dev/urandom >"$work/image.raw"
	provision_block dv-block-own slow-hdd true
	provision_block dv-block-class fast-ssd ""
	provision_block dv-block-global standard ""
fi

say "what the agent did"
ctl jobs
say "done: stopping the daemons and removing the volumes"
