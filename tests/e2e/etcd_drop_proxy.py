#!/usr/bin/env python3
"""etcd_drop_proxy.py PORT UPSTREAM ARMFILE - an HTTP proxy in front of one
etcd member's JSON gateway that, while ARMFILE exists, forwards the next
/v3/kv/txn, lets etcd commit it, and then drops the reply (the connection
closes with no answer), removing ARMFILE: what a client sees when a loaded
member answers too late.  If ARMFILE holds "leader N", the next N requests
get etcd's answer during an election ("etcdserver: leader changed", not
forwarded) instead.  Everything else is relayed as it is."""
import http.client
import http.server
import os
import sys

port, upstream, arm = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host, uport = upstream.rsplit(":", 1)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.election():
            return
        conn = http.client.HTTPConnection(host, int(uport), timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "expect")}
        conn.request("POST", self.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if self.path == "/v3/kv/txn" and os.path.exists(arm):
            os.unlink(arm)
            self.close_connection = True  # committed upstream; no reply here
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def election(self):
        try:
            with open(arm) as f:
                words = f.read().split()
        except FileNotFoundError:
            return False
        if len(words) != 2 or words[0] != "leader":
            return False
        left = int(words[1]) - 1
        if left > 0:
            with open(arm, "w") as f:
                f.write("leader %d" % left)
        else:
            os.unlink(arm)
        data = b'{"error":"etcdserver: leader changed","code":14,"message":"etcdserver: leader changed"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
