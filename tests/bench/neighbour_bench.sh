#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# neighbour_bench.sh: what a full fill leaves to a VM writing on the same
# disk, under mq-deadline and bfq, with the agent's --io-class and
# --max-write-rate.
#
# A loop device with direct I/O on a file of the machine's disk carries an
# ext4; the "VM" is dd writing 512 MiB with O_DIRECT to it, alone and
# while prealloc-agentd fills another 3 GiB file there. Each line prints
# the VM's throughput as a ratio of its throughput alone, measured in the
# same round: median and spread over the rounds.
#
# Usage (as root): tests/bench/neighbour_bench.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail

build=${1:-build}
rounds=${2:-3}
agentd=$build/agent/prealloc-agentd
ctl=$build/clients/preallocctl/preallocctl
[ -x "$agentd" ] && [ -x "$ctl" ] || {
	echo "build first: $agentd and $ctl" >&2
	exit 2
}

# On the machine's own disk, not a tmpfs /tmp: the loop device's I/O
# must reach a real queue.
dir=$(mktemp -d /var/tmp/prealloc-nbench-XXXXXX)
dev=""
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	mountpoint -q "$dir/mnt" && umount "$dir/mnt"
	[ -n "$dev" ] && losetup -d "$dev"
	rm -rf "$dir"
}
trap cleanup EXIT

mkdir "$dir/mnt"
truncate -s 6G "$dir/img"
dev=$(losetup --direct-io=on -f --show "$dir/img")
mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$dev"
mount "$dev" "$dir/mnt"
queue=/sys/block/$(basename "$dev")/queue/scheduler
sock="ipc://$dir/agent.sock"

# The VM's write throughput, MB/s.
vm_write() {
	dd if=/dev/zero of="$dir/mnt/vm.img" bs=1M count=512 oflag=direct \
		conv=fsync 2>&1 | awk '/copied/ { print $(NF-1) * ($NF ~ /^GB/ ? 1000 : 1) }'
	rm -f "$dir/mnt/vm.img"
}

start_agent() {
	"$agentd" --root "$dir/mnt" --listen "$sock" --http none "$@" \
		>"$dir/agent.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q agentd.ready "$dir/agent.log" && return 0
		sleep 0.05
	done
	echo "agentd did not start:" >&2
	cat "$dir/agent.log" >&2
	exit 1
}

stop_agent() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=""
	rm -f "$dir/mnt/fill.img"
}

# The VM's throughput while a fill runs with agent options "$@".
vm_beside_fill() {
	local id
	start_agent "$@"
	id=$("$ctl" -a "$sock" -o json preallocate "$dir/mnt/fill.img" \
		--size 3Gi --method full --no-wait |
		awk -F'"' '/"id"/ { print $4; exit }')
	sleep 0.5 # the fill is under way
	vm_write
	"$ctl" -a "$sock" cancel "$id" >/dev/null 2>&1 || true
	stop_agent
}

# Median and spread of the numbers on stdin.
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "median %.2f (spread %.2f-%.2f, %d rounds)", m, v[1], v[NR], NR }'
}

echo "VM: dd 512 MiB O_DIRECT beside a 3 GiB full fill, on a loop device" \
	"(direct I/O) on $(df --output=source /var/tmp | tail -1)"
for sched in mq-deadline bfq; do
	if ! echo "$sched" >"$queue" 2>/dev/null; then
		echo "SKIP $sched: the kernel has no such scheduler here"
		continue
	fi
	declare -A ratios=()
	for _ in $(seq "$rounds"); do
		alone=$(vm_write)
		for mode in best-effort idle rate-64Mi; do
			case $mode in
			rate-64Mi) r=$(vm_beside_fill --max-write-rate 64Mi) ;;
			*) r=$(vm_beside_fill --io-class "$mode") ;;
			esac
			ratios[$mode]+="$(awk -v a="$alone" -v b="$r" \
				'BEGIN { printf "%.3f", b / a }') "
		done
	done
	for mode in best-effort idle rate-64Mi; do
		printf '%-12s %-12s VM throughput / alone: %s\n' "$sched" \
			"$mode" "$(tr ' ' '\n' <<<"${ratios[$mode]}" | grep . | stats)"
	done
	unset ratios
done
