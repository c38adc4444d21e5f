#!/usr/bin/env python3
"""fake_apiserver.py LIST.json - serve the Secrets of a kind: List (as
`secretctl get secrets -A -o json` prints it) read-only to kubectl, so that
kubectl's own printers (-o jsonpath, custom-columns, --sort-by) can be run
on exactly the objects secretctl prints.  Prints its port, then serves
until killed.  Only what `kubectl get secrets` asks for: discovery, the
list of a namespace or of all, one secret by name."""
import http.server
import json
import sys
import urllib.parse

items = json.load(open(sys.argv[1]))["items"]


def secret_list(ns):
    return {"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
            "items": [i for i in items if ns is None or i["metadata"]["namespace"] == ns]}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path.rstrip("/").split("/")[1:]
        if path == ["api"]:
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == ["apis"]:
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if path == ["api", "v1"]:
            return self.reply(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": ["get", "list"]}]})
        if path == ["api", "v1", "secrets"]:
            return self.reply(200, secret_list(None))
        if len(path) == 5 and path[:3] == ["api", "v1", "namespaces"] and path[4] == "secrets":
            return self.reply(200, secret_list(path[3]))
        if len(path) == 6 and path[:3] == ["api", "v1", "namespaces"] and path[4] == "secrets":
            for i in items:
                if i["metadata"]["namespace"] == path[3] and i["metadata"]["name"] == path[5]:
                    return self.reply(200, i)
            return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                                    "message": 'secrets "%s" not found' % path[5],
                                    "details": {"name": path[5], "kind": "secrets"}})
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
