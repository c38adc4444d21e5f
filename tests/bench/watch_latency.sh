#!/bin/bash
# watch_latency.sh [BIN]: time from a writer in another process to the
# API server's watchers: an event 'secretctl exec' records (Events watch),
# a Role tests/tools/rbacobj writes (Roles watch); 20 each, from the moment
# the writer exits (negative: the line came before the process had exited).
# Needs root (the server's store), kubectl-free: python's http.client.
set -eu
export BIN=${1:-$PWD/bin} T=$(mktemp -d /tmp/watch-latency.XXXXXX)
cd "$(dirname "$0")/../.."
trap 'stop_api >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
source tests/e2e/lib.sh
source tests/e2e/api.sh
start_api
ctl create secret generic db --from-literal=1BAD=x >/dev/null
printf '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"NAME","namespace":"default"},"rules":[]}' >"$T/role.tmpl"
PORT=$API_PORT PKI=$T/pki CTL="$BIN/secretctl -c $T/secretfs.ini" RBAC="$BIN/test/rbacobj $T/secretfs.ini" TT=$T /usr/bin/python3 - <<'EOF'
import os, ssl, subprocess, time, threading, http.client, json, statistics
ctx = ssl.create_default_context(cafile=os.environ["PKI"] + "/ca.crt")
ctx.load_cert_chain(os.environ["PKI"] + "/admin.crt", os.environ["PKI"] + "/admin.key")
def stream(path, q):
  try:
    c = http.client.HTTPSConnection("127.0.0.1", int(os.environ["PORT"]), context=ctx)
    c.request("GET", path)
    r = c.getresponse()
    while True:
        line = r.fp.readline() if False else r.readline()
        if not line: return
        if line.strip():
            q.append((time.monotonic(), json.loads(line)))
  except Exception as e:
    print("stream:", repr(e))
for what, path in (("event", "/api/v1/namespaces/default/events?watch=1&resourceVersion=1"),
                   ("role", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles?watch=1&resourceVersion=1")):
    q = []
    threading.Thread(target=stream, args=(path, q), daemon=True).start()
    time.sleep(0.5)
    lat = []
    for i in range(20):
        n = len(q)
        if what == "event":
            subprocess.run(os.environ["CTL"].split() + ["exec", "--from", "db", "--", "true"], stderr=subprocess.DEVNULL)
        else:
            p = os.environ["TT"] + "/r.json"
            open(p, "w").write(open(os.environ["TT"] + "/role.tmpl").read().replace("NAME", "r%d" % i))
            subprocess.run(os.environ["RBAC"].split() + ["put", p], stdout=subprocess.DEVNULL, check=True)
        t0 = time.monotonic()
        while len(q) == n and time.monotonic() - t0 < 5:
            time.sleep(0.0005)
        lat.append((q[n][0] - t0) * 1000 if len(q) > n else 5000)
    print("%s: median %.1f ms, max %.1f ms (n=20, from the writer's exit)" % (what, statistics.median(lat), max(lat)))
EOF
