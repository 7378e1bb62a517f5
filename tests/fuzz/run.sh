#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: run every fuzz target for a bounded time from a copy of its seed
# corpus (the repository's corpus is never written). A crash, a leak or a
# timeout fails, and the input is printed, in hex, for a regression test.
#
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/prealloc-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

for corpus in "$here"/corpus/*/; do
	name=$(basename "$corpus")
	target=$build/tests/fuzz/fuzz_$name
	[ -x "$target" ] || {
		echo "FAIL $name: $target not built" >&2
		failed=1
		continue
	}
	cp -r "$corpus" "$work/$name"
	mkdir -p "$work/$name.crash"
	echo "=== fuzz_$name for ${seconds}s"
	if "$target" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$name.crash/" "$work/$name" \
		>"$work/$name.log" 2>&1; then
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' \
			"$work/$name.log" || true
	else
		failed=1
		tail -40 "$work/$name.log"
		for f in "$work/$name.crash"/*; do
			[ -f "$f" ] || continue
			echo "FAIL $name: input $(basename "$f"), $(stat -c %s "$f") bytes:"
			od -An -tx1 -v "$f" | head -64
		done
	fi
done
exit "$failed"
