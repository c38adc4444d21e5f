#!/usr/bin/env python3
"""pb-capture.py - record the protobuf request bodies real kubectl sends.

Re-creates the fixtures of tests/unit/data/pb/ (see the README line there):

    tests/tools/pb-capture.py [OUTDIR]      (default tests/unit/data/pb)

A throwaway API server on 127.0.0.1 (plain HTTP, an ephemeral port) serves the
minimal discovery and OpenAPI documents of shared/kubectl-wire.md, answers
every write with a small JSON object, and records each request body.  Each
kubectl command below runs with kubectl.1.31, 1.32 and 1.33
(found on PATH, else in /usr/lib/google-cloud-sdk/bin) under a private HOME
(so no discovery cache is shared with anything), and its one write request
is saved as NAME-1.32.bin / NAME-1.33.bin; kubectl.1.31 sends the same
requests as JSON, saved as NAME-1.31.json: what the decoder must give.  Fails loudly when a kubectl is
missing, a command fails, or a body is not protobuf.  The values used are test
values, not secrets.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/unit/data/pb")
# 1.31 sends the same requests as JSON: kept as the expected decoding
VERSIONS = ["1.31", "1.32", "1.33"]
JSON_VERSION = "1.31"
PB_TYPE = "application/vnd.kubernetes.protobuf"

RESOURCES_V1 = {
    "kind": "APIResourceList", "groupVersion": "v1",
    "resources": [
        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
         "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"]},
    ],
}
GROUPS = [("authorization.k8s.io", [
    {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
     "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
    {"name": "selfsubjectrulesreviews", "singularName": "selfsubjectrulesreview", "namespaced": False,
     "kind": "SelfSubjectRulesReview", "verbs": ["create"]}]),
    ("authentication.k8s.io", [
    {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": False,
     "kind": "SelfSubjectReview", "verbs": ["create"]}])]

DOCS = {
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g, _ in GROUPS]},
    "/api/v1": RESOURCES_V1,
    "/openapi/v3": {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1"}}},
    "/openapi/v3/api/v1": {"paths": {"/api/v1/namespaces/{namespace}/secrets/{name}": {"patch": {
        "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "Secret"},
        "parameters": [{"name": "fieldValidation", "in": "query"}]}}}},
}
for g, res in GROUPS:
    DOCS["/apis/%s/v1" % g] = {"kind": "APIResourceList", "apiVersion": "v1",
                               "groupVersion": g + "/v1", "resources": res}

# what the server answers to each write, by the last path segment
REPLIES = {
    "secrets": {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "namespace": "default"}},
    "namespaces": {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "shop"}},
    "selfsubjectaccessreviews": {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                                 "metadata": {}, "spec": {}, "status": {"allowed": True}},
    "selfsubjectrulesreviews": {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                                "metadata": {}, "spec": {}, "status": {
                                    "resourceRules": [{"verbs": ["get"], "apiGroups": [""],
                                                       "resources": ["secrets"]}],
                                    "nonResourceRules": [], "incomplete": False}},
    "selfsubjectreviews": {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                           "metadata": {}, "status": {"userInfo": {"username": "admin",
                                                                   "groups": ["system:masters"]}}},
}

captured = []  # (method, path, content type, body) of every write


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in DOCS:
            self.reply(200, DOCS[path])
        else:
            name = path.rsplit("/", 1)[-1]
            self.reply(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": '"%s" not found' % name, "reason": "NotFound", "code": 404})

    def write(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        captured.append((self.command, self.path, self.headers.get("Content-Type", ""), body))
        path = self.path.split("?")[0]
        if self.command == "DELETE":
            self.reply(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
            return
        self.reply(201, REPLIES.get(path.rsplit("/", 1)[-1], {}))

    do_POST = do_PUT = do_PATCH = do_DELETE = write


def kubectl(version):
    name = "kubectl." + version
    found = shutil.which(name) or shutil.which(name, path="/usr/lib/google-cloud-sdk/bin")
    if not found:
        sys.exit("pb-capture: %s not found on PATH nor in /usr/lib/google-cloud-sdk/bin" % name)
    return found


def main():
    os.makedirs(OUT, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    work = tempfile.mkdtemp(prefix="pb-capture.")
    try:
        # inputs for the commands: fixed test files, kept beside the fixtures
        tls_crt = os.path.join(OUT, "tls-crt.pem")
        tls_key = os.path.join(OUT, "tls-key.pem")
        if not (os.path.exists(tls_crt) and os.path.exists(tls_key)):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "36500",
                            "-subj", "/CN=pb.test", "-keyout", tls_key, "-out", tls_crt],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        binfile = os.path.join(work, "blob")
        with open(binfile, "wb") as f:
            f.write(b"\x00\x01\xfe\xff bin\n")
        commands = [
            ("secret-generic", ["create", "secret", "generic", "s", "--from-literal=a=b",
                                "--from-literal=c=hello world", "--from-file=blob=" + binfile]),
            ("secret-generic-ns", ["create", "secret", "generic", "db", "-n", "shop",
                                   "--type=example.com/custom", "--from-literal=user=app",
                                   "--save-config"]),
            ("secret-tls", ["create", "secret", "tls", "web", "--cert=" + tls_crt, "--key=" + tls_key]),
            ("secret-docker", ["create", "secret", "docker-registry", "reg",
                               "--docker-server=registry.example.com", "--docker-username=u",
                               "--docker-password=p", "--docker-email=u@example.com"]),
            ("namespace", ["create", "namespace", "shop"]),
            ("can-i", ["auth", "can-i", "get", "secrets", "-n", "x"]),
            ("can-i-name", ["auth", "can-i", "delete", "secret/db", "-n", "shop"]),
            ("can-i-nonresource", ["auth", "can-i", "get", "/healthz"]),
            ("can-i-list", ["auth", "can-i", "--list", "-n", "shop"]),
            ("whoami", ["auth", "whoami"]),
            ("delete", ["delete", "secret", "s", "--wait=false"]),
        ]
        for version in VERSIONS:
            home = os.path.join(work, "home-" + version)
            os.makedirs(home)
            env = dict(os.environ, HOME=home, KUBECONFIG="/dev/null")
            for name, args in commands:
                del captured[:]
                cmd = [kubectl(version), "--server", url, "--insecure-skip-tls-verify"] + args
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                # can-i answers "no" with exit 1; anything else is a failure
                if r.returncode not in (0, 1) or (r.returncode == 1 and "can-i" not in name):
                    sys.exit("pb-capture: %s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
                writes = [c for c in captured if c[0] != "GET"]
                if len(writes) != 1:
                    sys.exit("pb-capture: %s: %d writes, expected one" % (name, len(writes)))
                method, path, ctype, body = writes[0]
                if name == "delete":
                    # DeleteOptions go as JSON in every version: nothing to record
                    print("%-18s %s %s %s (%s, not recorded)" % (name, version, method, path, ctype))
                    if ctype.startswith(PB_TYPE):
                        sys.exit("pb-capture: kubectl %s now sends DeleteOptions as protobuf" % version)
                    continue
                if version == JSON_VERSION:
                    if not ctype.startswith("application/json"):
                        sys.exit("pb-capture: %s %s: body is %r, not JSON" % (name, version, ctype))
                    out = os.path.join(OUT, "%s-%s.json" % (name, version))
                elif not ctype.startswith(PB_TYPE) or body[:4] != b"k8s\x00":
                    sys.exit("pb-capture: %s %s: body is %r, not protobuf" % (name, version, ctype))
                else:
                    out = os.path.join(OUT, "%s-%s.bin" % (name, version))
                with open(out, "wb") as f:
                    f.write(body)
                print("%-18s %s %s %s %d bytes" % (name, version, method, path, len(body)))
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
