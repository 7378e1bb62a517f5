# SPDX-License-Identifier: Apache-2.0
# deploy_manifests_test.py: the fields of service/deploy and agent/deploy
# that a deployment depends on, so that none drops out unseen: the probes,
# the security contexts, the mounts, the node-local socket, the metric
# names the alerts use, and every daemon flag the manifests and the systemd
# units pass, as the built daemons' --help shows them.
#
# Usage: deploy_manifests_test.py SOURCE_DIR POLICYD AGENTD
# Prints one line per failure and exits 1 when there is one.
import glob
import os
import re
import shlex
import subprocess
import sys

import yaml

SOCKET_DIR = "/run/prealloc"
SOCKET_URL = "ipc:///run/prealloc/agent.sock"
KUBELET_PODS = "/var/lib/kubelet/pods"

failures = []


def fail(where, sentence):
    failures.append("%s: %s" % (where, sentence))


def rel(src, path):
    return os.path.relpath(path, src)


def load_manifests(src):
    """Every YAML document of both deploy directories, as (file, doc)."""
    docs = []
    for d in ("service/deploy", "agent/deploy"):
        for path in sorted(glob.glob(os.path.join(src, d, "*.yaml"))):
            try:
                with open(path) as f:
                    for doc in yaml.safe_load_all(f):
                        if doc is not None:
                            docs.append((rel(src, path), doc))
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                pos = "%d:%d" % (mark.line + 1, mark.column + 1) if mark else "1:1"
                fail("%s:%s" % (rel(src, path), pos), "does not parse: %s" % e)
    return docs


def find(docs, kind, name=None):
    for path, doc in docs:
        if doc.get("kind") == kind and (
            name is None or doc.get("metadata", {}).get("name") == name
        ):
            return path, doc
    return None, None


def arg_value(args, flag):
    """The values given to --flag in a container's args (--flag=v or --flag v)."""
    out = []
    for i, a in enumerate(args):
        if a.startswith(flag + "="):
            out.append(a[len(flag) + 1 :])
        elif a == flag and i + 1 < len(args):
            out.append(args[i + 1])
    return out


def check_probes(where, c, port_name):
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path:
            fail(where, "%s is not an httpGet of %s" % (probe, path))
        if get.get("port") != port_name:
            fail(where, "%s is not on the %s port" % (probe, port_name))


def http_port(where, c, args):
    """The --http port must be the container's "http" port."""
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    http = arg_value(args, "--http")
    if len(http) != 1 or ":" not in http[0]:
        fail(where, "no --http HOST:PORT in args")
        return None
    port = int(http[0].rsplit(":", 1)[1])
    if ports.get("http") != port:
        fail(where, "--http port %d is not the container's http port" % port)
    if http[0].startswith("127.0.0.1:"):
        fail(where, "--http on 127.0.0.1: kubelet's probes cannot reach it")
    return port


def check_scrape(where, pod, port):
    ann = pod.get("metadata", {}).get("annotations") or {}
    if ann.get("prometheus.io/scrape") != "true":
        fail(where, "no prometheus.io/scrape: \"true\" annotation")
    if port is not None and ann.get("prometheus.io/port") != str(port):
        fail(where, "prometheus.io/port is not the --http port %d" % port)


def check_resources(where, c):
    res = c.get("resources") or {}
    for k in ("requests", "limits"):
        if not {"cpu", "memory"} <= set((res.get(k) or {}).keys()):
            fail(where, "resources.%s lacks cpu or memory" % k)


def check_policy(docs):
    path, dep = find(docs, "Deployment", "prealloc-policy")
    if dep is None:
        fail("service/deploy", "no Deployment prealloc-policy")
        return {}
    spec = dep["spec"]
    pod = spec["template"]
    ps = pod["spec"]
    where = path + ": Deployment prealloc-policy"
    if spec.get("replicas") != 2:
        fail(where, "replicas is not 2")
    if ps.get("automountServiceAccountToken") is not False:
        fail(where, "automountServiceAccountToken is not false")
    if (ps.get("securityContext") or {}).get("runAsNonRoot") is not True:
        fail(where, "the pod's runAsNonRoot is not true")
    c = ps["containers"][0]
    args = c.get("args", [])
    sc = c.get("securityContext") or {}
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(where, "readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(where, "allowPrivilegeEscalation is not false")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        fail(where, "capabilities do not drop ALL")
    check_probes(where, c, "http")
    check_resources(where, c)
    check_scrape(where, pod, http_port(where, c, args))
    # The ConfigMap as a directory, holding the --config file: a subPath
    # mount is never updated by kubelet, so the ..data swap would be lost.
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    config = arg_value(args, "--config")
    cm_name = None
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if "configMap" not in v:
            continue
        cm_name = v["configMap"]["name"]
        if "subPath" in m or "subPathExpr" in m:
            fail(where, "the ConfigMap is mounted with a subPath")
        if not config or os.path.dirname(config[0]) != m["mountPath"].rstrip("/"):
            fail(where, "--config is not a file directly in the ConfigMap's mount")
        if m.get("readOnly") is not True:
            fail(where, "the ConfigMap's mount is not readOnly")
    if cm_name is None:
        fail(where, "no ConfigMap mounted")
    else:
        cpath, cm = find(docs, "ConfigMap", cm_name)
        key = os.path.basename(config[0]) if config else None
        if cm is None:
            fail(where, "the ConfigMap %s is not in the manifests" % cm_name)
        elif key not in (cm.get("data") or {}):
            fail(cpath, "the ConfigMap has no key %s" % key)
        else:
            try:
                kind = (yaml.safe_load(cm["data"][key]) or {}).get("kind")
            except yaml.YAMLError as e:
                fail(cpath, "the ConfigMap's %s does not parse: %s" % (key, e))
                kind = "CDIConfig"
            if kind != "CDIConfig":
                fail(cpath, "%s is not a CDIConfig" % key)
    # mTLS: the TLS files come from one Secret's mount.
    tls = [s for s in vols.values() if "secret" in s]
    for flag in ("--tls-cert", "--tls-key", "--tls-ca"):
        if len(arg_value(args, flag)) != 1:
            fail(where, "no %s in args" % flag)
    if not any(u.startswith("tls+tcp://") for u in arg_value(args, "--listen")):
        fail(where, "no tls+tcp:// listener")
    if any(u.startswith("ipc://") for u in arg_value(args, "--listen")):
        fail(where, "an ipc:// listener would let ApplyConfig change one replica")
    if not tls:
        fail(where, "no Secret volume for the TLS files")
    spath, svc = find(docs, "Service", "prealloc-policy")
    if svc is None:
        fail("service/deploy", "no Service prealloc-policy")
    elif svc["spec"].get("selector") != spec["selector"]["matchLabels"]:
        fail(spath, "the Service does not select the Deployment's pods")
    return {"args": args, "tls_secrets": [s["secret"]["secretName"] for s in tls]}


def check_agent(docs):
    path, ds = find(docs, "DaemonSet", "prealloc-agent")
    if ds is None:
        fail("agent/deploy", "no DaemonSet prealloc-agent")
        return {}
    pod = ds["spec"]["template"]
    ps = pod["spec"]
    where = path + ": DaemonSet prealloc-agent"
    if ps.get("hostNetwork", False) is not False:
        fail(where, "hostNetwork is not off")
    if ps.get("automountServiceAccountToken") is not False:
        fail(where, "automountServiceAccountToken is not false")
    if not any(t.get("operator") == "Exists" and "key" not in t
               for t in ps.get("tolerations", [])):
        fail(where, "no toleration of every taint (operator: Exists)")
    c = ps["containers"][0]
    args = c.get("args", [])
    sc = c.get("securityContext") or {}
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(where, "readOnlyRootFilesystem is not true")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        fail(where, "capabilities do not drop ALL")
    extra = set(caps.get("add") or []) - {"CHOWN", "DAC_OVERRIDE"}
    if extra:
        fail(where, "capabilities added beyond CHOWN and DAC_OVERRIDE: %s"
             % ", ".join(sorted(extra)))
    check_probes(where, c, "http")
    check_resources(where, c)
    check_scrape(where, pod, http_port(where, c, args))
    env = {e["name"]: e for e in c.get("env", [])}
    ref = ((env.get("NODE_NAME") or {}).get("valueFrom") or {}).get("fieldRef") or {}
    if ref.get("fieldPath") != "spec.nodeName":
        fail(where, "NODE_NAME is not spec.nodeName from the downward API")
    hostpaths = {v["name"]: v["hostPath"]["path"]
                 for v in ps.get("volumes", []) if "hostPath" in v}
    mounts = {}
    for m in c.get("volumeMounts", []):
        if m["name"] in hostpaths:
            mounts[hostpaths[m["name"]]] = m
    for hp, why in ((KUBELET_PODS, "the kubelet's pod volumes"), ("/dev", "/dev"),
                    (SOCKET_DIR, "the node-local socket's directory")):
        m = mounts.get(hp)
        if m is None:
            fail(where, "no hostPath %s (%s) mounted" % (hp, why))
        elif m["mountPath"].rstrip("/") != hp:
            fail(where, "hostPath %s is mounted at %s, not at itself" % (hp, m["mountPath"]))
    m = mounts.get(KUBELET_PODS)
    if m is not None and m.get("mountPropagation") != "HostToContainer":
        fail(where, "%s is not mounted with HostToContainer propagation" % KUBELET_PODS)
    if KUBELET_PODS not in arg_value(args, "--root"):
        fail(where, "--root is not %s" % KUBELET_PODS)
    if SOCKET_URL not in arg_value(args, "--listen"):
        fail(where, "--listen is not %s, the node-local socket" % SOCKET_URL)
    return {"args": args}


def source_metric_names(src):
    names = set()
    for d in ("agent", "service", "api"):
        for path in glob.glob(os.path.join(src, d, "**", "*.c"), recursive=True):
            with open(path, errors="replace") as f:
                names.update(re.findall(r'"(prealloc_[a-z_]+)"', f.read()))
    return names


def check_rules(src, docs):
    path, rule = find(docs, "PrometheusRule")
    if rule is None:
        fail("service/deploy", "no PrometheusRule")
        return
    known = source_metric_names(src) | {"up"}
    alerts = {}
    for g in rule["spec"]["groups"]:
        for r in g["rules"]:
            alerts[r.get("alert")] = r["expr"]
            for name in re.findall(r"\b(prealloc_[a-z_]+)", r["expr"]):
                if name not in known:
                    fail(path, "alert %s uses %s, which no daemon exports"
                         % (r.get("alert"), name))
    wanted = {
        "failed jobs": r'prealloc_agent_jobs_total\{[^}]*state="failed"',
        "rejected reloads": r"prealloc_policy_config_load_error|"
                            r'prealloc_policy_reloads_total\{[^}]*result="error"',
        "agent down": r'\bup\{[^}]*prealloc-agent',
    }
    for what, pattern in wanted.items():
        if not any(re.search(pattern, e) for e in alerts.values()):
            fail(path, "no alert on %s" % what)


def check_certificate(docs, policy):
    servers = [d for _, d in docs if d.get("kind") == "Certificate"
               and "server auth" in d["spec"].get("usages", [])]
    if not servers:
        fail("service/deploy", "no cert-manager Certificate for the server")
    elif not any(s["spec"]["secretName"] in policy.get("tls_secrets", [])
                 for s in servers):
        fail("service/deploy", "no server Certificate makes the Secret the Deployment mounts")


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    if out.returncode != 0:
        fail(binary, "--help exits %d" % out.returncode)
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out.stdout))


def check_flags(where, words, known):
    for w in words:
        if w.startswith("--"):
            flag = w.split("=", 1)[0]
            if flag not in known:
                fail(where, "%s is not an option of the daemon's --help" % flag)


def unit_words(src, unit, env_file):
    """ExecStart's words, with $VARs from Environment= and every
    assignment (set or commented out) of the example environment file."""
    env, variants = {}, []
    with open(unit) as f:
        text = f.read()
    for line in text.splitlines():
        if line.startswith("Environment="):
            for kv in shlex.split(line[len("Environment="):]):
                k, v = kv.split("=", 1)
                env[k] = v
    with open(env_file) as f:
        for line in f:
            m = re.match(r"#?([A-Z_]+)=(.*)$", line.strip())
            if m:
                # One value, as systemd unquotes it, then split at blanks
                # as ExecStart's unquoted $VAR is.
                variants.append(" ".join(shlex.split(m.group(2))).split())
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    if m is None:
        fail(rel(src, unit), "no ExecStart=")
        return [], []
    words = []
    for w in m.group(1).split():
        if w.startswith("$"):
            words += env.get(w[1:], "").split()
        else:
            words.append(w)
    return words, [w for v in variants for w in v]


def check_units(src, policyd, agentd):
    for unit, env_file, binary in (
        ("service/deploy/prealloc-policyd.service", "service/deploy/prealloc-policyd.env", policyd),
        ("agent/deploy/prealloc-agentd.service", "agent/deploy/prealloc-agentd.env", agentd),
    ):
        path = os.path.join(src, unit)
        with open(path) as f:
            text = f.read()
        for key in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                    "CapabilityBoundingSet=", "ReadWritePaths="):
            if not re.search(r"^" + re.escape(key), text, re.M):
                fail(unit, "no %s" % key)
        if "agentd" in unit:
            if not re.search(r"^DevicePolicy=closed", text, re.M):
                fail(unit, "no DevicePolicy=closed")
            if not re.search(r"^DeviceAllow=", text, re.M):
                fail(unit, "no DeviceAllow=")
        words, examples = unit_words(src, path, os.path.join(src, env_file))
        known = help_flags(binary)
        check_flags(unit + ": ExecStart", words, known)
        check_flags(env_file, examples, known)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tls(d):
    """A CA and a server certificate signed by it, ECDSA P-256 as
    certificate.example.yaml asks cert-manager for, in the Secret's names."""
    def run(*a):
        subprocess.run(a, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", d + "/ca.key", "-out",
        d + "/ca.crt", "-subj", "/CN=prealloc-ca", "-days", "2")
    run("openssl", "req", *ec, "-keyout", d + "/tls.key", "-out", d + "/tls.csr",
        "-subj", "/CN=prealloc-policy.prealloc.svc")
    run("openssl", "x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.crt",
        "-CAkey", d + "/ca.key", "-CAcreateserial", "-out", d + "/tls.crt",
        "-days", "2")


def remap(args, paths, http_port):
    """The container's args with its paths under a temp dir and the HTTP
    port on 127.0.0.1, so that they run here beside other tests."""
    out = []
    for a in args:
        for old, new in paths.items():
            a = a.replace(old, new)
        if a.startswith("--http="):
            a = "--http=127.0.0.1:%d" % http_port
        if a.startswith("--listen=tls+tcp://") or a.startswith("--listen=tcp://"):
            a = "--listen=%s://127.0.0.1:%d" % (a.split("=", 1)[1].split("://")[0],
                                                 free_port())
        out.append(a)
    return out


def start_as_deployed(where, binary, args, while_up=None):
    """Run the daemon with the manifest's args (remapped): it must start
    and answer /healthz and /readyz 200, as the probes want; then
    while_up(), if given, looks at it running."""
    import tempfile
    import time
    import urllib.request

    port = int(arg_value(args, "--http")[0].rsplit(":", 1)[1])
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([binary] + args, stderr=log, stdout=log)
        try:
            deadline, answered = time.time() + 10, {}
            while time.time() < deadline and len(answered) < 2 and proc.poll() is None:
                for path in ("/healthz", "/readyz"):
                    try:
                        url = "http://127.0.0.1:%d%s" % (port, path)
                        with urllib.request.urlopen(url, timeout=1) as r:
                            answered[path] = r.status
                    except Exception:
                        pass
                time.sleep(0.1)
            if answered != {"/healthz": 200, "/readyz": 200}:
                log.seek(0)
                fail(where, "with the manifest's args it does not answer its "
                     "probes (%s):\n%s" % (answered, log.read()))
            elif while_up is not None:
                while_up()
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def check_start(docs, policy, agent, policyd, agentd):
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        # The policy pod: the ConfigMap's file and the Secret's files.
        os.makedirs(t + "/config")
        os.makedirs(t + "/tls")
        _, cm = find(docs, "ConfigMap", "prealloc-cdiconfig")
        if cm is not None:
            for k, v in (cm.get("data") or {}).items():
                with open(os.path.join(t, "config", k), "w") as f:
                    f.write(v)
        make_tls(t + "/tls")
        args = remap(policy.get("args", []), {"/etc/prealloc": t}, free_port())
        start_as_deployed("service/deploy: Deployment args", policyd, args)
        # The agent pod: the kubelet's pods directory and the socket's.
        os.makedirs(t + "/pods")
        os.makedirs(t + "/run", mode=0o755)
        args = remap(agent.get("args", []),
                     {KUBELET_PODS: t + "/pods", SOCKET_DIR: t + "/run"}, free_port())
        start_as_deployed("agent/deploy: DaemonSet args", agentd, args,
                          lambda: check_socket(t + "/run/agent.sock"))


def check_socket(path):
    import stat
    where = "agent/deploy: DaemonSet args"
    try:
        st = os.stat(path)
    except OSError:
        fail(where, "no socket at the node-local path")
        return
    if not stat.S_ISSOCK(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o660:
        fail(where, "the node-local socket is not a socket of mode 0660")
    if st.st_gid != 107:
        fail(where, "the node-local socket's group is %d, not 107 (the importer's)"
             % st.st_gid)


def main():
    src, policyd, agentd = sys.argv[1:4]
    docs = load_manifests(src)
    policy = check_policy(docs)
    agent = check_agent(docs)
    check_rules(src, docs)
    check_certificate(docs, policy)
    check_flags("service/deploy: Deployment args", policy.get("args", []),
                help_flags(policyd))
    check_flags("agent/deploy: DaemonSet args", agent.get("args", []),
                help_flags(agentd))
    check_units(src, policyd, agentd)
    if not failures:
        check_start(docs, policy, agent, policyd, agentd)
    for f in failures:
        print("FAIL: " + f)
    print("%d manifest documents checked, %d failures" % (len(docs), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
