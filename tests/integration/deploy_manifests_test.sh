#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy_manifests_test.sh: the deployment files keep what a cluster and a
# systemd node depend on. deploy_manifests_test.py checks the fields and the
# daemons' flags; then the same check must fail on copies with one field
# taken out each (so that it cannot pass by checking nothing); the
# daemons are started with the manifests' args (paths and ports moved to a
# temp dir and 127.0.0.1) and must answer their probes; then
# `kubectl kustomize` renders both kustomizations and `systemd-analyze
# verify` reads both units, each a visible SKIP where the tool is missing.
#
# Usage: deploy_manifests_test.sh SOURCE_DIR POLICYD AGENTD [BUILD_DIR]
# With BUILD_DIR, `cmake --install` into a temp prefix must install the
# units, their user and directory, and the example environment files.
set -euo pipefail

src=$1
policyd=$(realpath "$2")
agentd=$(realpath "$3")
build=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
check="$here/deploy_manifests_test.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Debian's interpreter, which python3-yaml is for; another python3 first
# on PATH (pyenv) may lack PyYAML.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -c 'import yaml' 2>/dev/null ||
	fail "python3 with PyYAML (Debian: python3-yaml) is needed to parse the manifests"

echo "== the fields and flags"
"$python" "$check" "$src" "$policyd" "$agentd" || fail "deploy files (above)"

# mutate FILE SED-SCRIPT EXPECTED: on a copy of the deploy files, edit FILE;
# the check must then fail and say EXPECTED.
mutate() {
	local file=$1 script=$2 expected=$3 out
	rm -rf "$tmp/src"
	mkdir -p "$tmp/src/service" "$tmp/src/agent"
	cp -r "$src/service/deploy" "$tmp/src/service/"
	cp -r "$src/agent/deploy" "$tmp/src/agent/"
	# The metric names the alerts use are looked up in the sources.
	cp -r "$src/api" "$tmp/src/"
	cp "$src"/service/*.c "$tmp/src/service/"
	cp "$src"/agent/*.c "$tmp/src/agent/"
	sed -i "$script" "$tmp/src/$file"
	cmp -s "$src/$file" "$tmp/src/$file" &&
		fail "mutation '$script' changed nothing in $file: update this test"
	if out=$("$python" "$check" "$tmp/src" "$policyd" "$agentd"); then
		fail "the check passes with '$script' applied to $file"
	fi
	grep -qF -- "$expected" <<<"$out" ||
		fail "with '$script' on $file the check does not say '$expected':
$out"
	echo "ok: without it, $file fails: $expected"
}

echo "== the check fails when a field drops out"
mutate service/deploy/deployment.yaml '/readinessProbe:/,/periodSeconds: 5/d' \
	"readinessProbe is not an httpGet of /readyz"
mutate service/deploy/deployment.yaml '/livenessProbe:/,/failureThreshold: 3/d' \
	"livenessProbe is not an httpGet of /healthz"
mutate service/deploy/deployment.yaml 's/runAsNonRoot: true/runAsNonRoot: false/' \
	"runAsNonRoot is not true"
mutate service/deploy/deployment.yaml \
	's|mountPath: /etc/prealloc/config|mountPath: /etc/prealloc/config\n              subPath: cdiconfig.yaml|' \
	"the ConfigMap is mounted with a subPath"
mutate agent/deploy/daemonset.yaml 's|ipc:///run/prealloc/agent.sock|tcp://0.0.0.0:9651|' \
	"the node-local socket"
mutate agent/deploy/daemonset.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' \
	"readOnlyRootFilesystem is not true"
mutate agent/deploy/daemonset.yaml 's/add: \["CHOWN", "DAC_OVERRIDE"\]/add: ["CHOWN", "DAC_OVERRIDE", "SYS_ADMIN"]/' \
	"capabilities added beyond CHOWN and DAC_OVERRIDE: SYS_ADMIN"
mutate agent/deploy/daemonset.yaml 's/mountPropagation: HostToContainer/mountPropagation: None/' \
	"HostToContainer"
mutate agent/deploy/daemonset.yaml 's/--grace=30/--grace-period=30/' \
	"--grace-period is not an option"
# Flags that exist but do not start the daemon: the args are run.
mutate agent/deploy/daemonset.yaml 's/--ipc-mode=0660/--ipc-mode=0999/' \
	"with the manifest's args it does not answer its probes"
mutate service/deploy/deployment.yaml 's|--tls-ca=/etc/prealloc/tls/ca.crt|--tls-ca=/etc/prealloc/tls/no-ca.crt|' \
	"with the manifest's args it does not answer its probes"
mutate service/deploy/configmap.yaml 's/kind: CDIConfig/kind: CDIConfig\n    spec: [/' \
	"does not parse"
mutate service/deploy/configmap.yaml 's/global: false/global: maybe/' \
	"with the manifest's args it does not answer its probes"
mutate agent/deploy/prealloc-agentd.service 's/^ExecStart=\(.*\)$/ExecStart=\1 --no-such-flag/' \
	"--no-such-flag is not an option"
mutate service/deploy/prealloc-policyd.service '/^ProtectSystem=strict/d' \
	"no ProtectSystem=strict"
mutate service/deploy/prometheusrule.yaml 's/prealloc_agent_jobs_total/prealloc_agent_job_total/' \
	"prealloc_agent_job_total, which no daemon exports"

echo "== kubectl kustomize"
if command -v kubectl >/dev/null; then
	for k in agent/deploy service/deploy; do
		kubectl kustomize "$src/$k" >"$tmp/render.yaml" 2>"$tmp/render.err" ||
			fail "kubectl kustomize $k: $(cat "$tmp/render.err")"
		"$python" - "$tmp/render.yaml" "$k" <<'PY' || fail "kubectl kustomize $k renders wrong"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
want = {"agent/deploy": ["DaemonSet"],
        "service/deploy": ["ConfigMap", "DaemonSet", "Deployment", "Namespace", "Service"]}
if kinds != want[sys.argv[2]]:
    sys.exit("renders %s, not %s" % (kinds, want[sys.argv[2]]))
for d in docs:
    if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "prealloc":
        sys.exit("%s %s is not in the prealloc namespace" % (d["kind"], d["metadata"]["name"]))
PY
		echo "ok: kubectl kustomize $k"
	done
else
	echo "SKIP: kubectl not installed; kustomizations not rendered"
fi

echo "== systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
	# The units name /usr/sbin: point them at the built daemons.
	for u in service/deploy/prealloc-policyd.service agent/deploy/prealloc-agentd.service; do
		sed -e "s|/usr/sbin/prealloc-policyd|$policyd|" \
			-e "s|/usr/sbin/prealloc-agentd|$agentd|" \
			"$src/$u" >"$tmp/$(basename "$u")"
	done
	systemd-analyze verify --man=no "$tmp"/prealloc-policyd.service \
		"$tmp"/prealloc-agentd.service >"$tmp/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
	[ ! -s "$tmp/verify.log" ] ||
		fail "systemd-analyze verify is not clean: $(cat "$tmp/verify.log")"
	echo "ok: systemd-analyze verify"
else
	echo "SKIP: systemd-analyze not installed; units not verified"
fi
echo "== cmake --install"
if [ -n "$build" ]; then
	cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
		fail "cmake --install: $(cat "$tmp/install.log")"
	for f in lib/systemd/system/prealloc-policyd.service \
		lib/systemd/system/prealloc-agentd.service \
		lib/sysusers.d/prealloc.conf lib/tmpfiles.d/prealloc.conf \
		share/doc/prealloc/examples/prealloc-policyd.env \
		share/doc/prealloc/examples/prealloc-agentd.env; do
		[ -f "$tmp/prefix/$f" ] || fail "cmake --install does not install $f"
	done
	echo "ok: cmake --install puts the units and examples in place"
else
	echo "SKIP: no build directory given; cmake --install not checked"
fi
echo "deploy files checked"
