#!/usr/bin/env python3
"""tcp_relay.py PORT UPSTREAM - relay every TCP connection to 127.0.0.1:PORT
to UPSTREAM (host:port), bytes as they are, both ways.  A node whose
[cluster] endpoints name only the relay is cut off from etcd while the test
holds the relay with SIGSTOP (its connections stay open, nothing moves: a
lagging mirror) and catches up after SIGCONT."""
import socket
import sys
import threading

port, upstream = int(sys.argv[1]), sys.argv[2]
host, uport = upstream.rsplit(":", 1)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)
while True:
    c, _ = srv.accept()
    try:
        u = socket.create_connection((host, int(uport)), timeout=5)
        u.settimeout(None)
    except OSError:
        c.close()
        continue
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
