#!/usr/bin/python3
"""The pod HTTP server of testbed labs.

Checks use it to prove who answered and whether the source address was
rewritten on the way:
  GET /hostname   the pod's name
  GET /clientip   the client's address and port, as this server sees them
  GET /           JSON with name, node, this connection's local address, client
Anything else is 404. HEAD answers like GET without a body.
"""
import argparse
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    server_version = "testbed-http/1"
    # HTTP/1.0: one request per connection, so every probe is a new
    # connection and sees the path a new connection takes.
    protocol_version = "HTTP/1.0"

    def _answer(self, send_body):
        client = "%s:%d" % self.client_address[:2]
        status = 200
        if self.path == "/hostname":
            body, kind = self.server.pod_name + "\n", "text/plain"
        elif self.path == "/clientip":
            body, kind = client + "\n", "text/plain"
        elif self.path == "/":
            local = self.connection.getsockname()[0]
            body = json.dumps({"name": self.server.pod_name, "node": self.server.node,
                               "address": local, "client": client}) + "\n"
            kind = "application/json"
        else:
            status, body, kind = 404, "not found\n", "text/plain"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when a full-mesh check
    # opens dozens of connections at once; a dropped SYN costs a 1 s retry.
    request_queue_size = 1024


def main():
    parser = argparse.ArgumentParser(description="testbed's pod HTTP server")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--name", default=socket.gethostname())
    parser.add_argument("--node", default=os.environ.get("TESTBED_NODE", ""))
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args()

    server = Server((args.bind, args.port), Handler)
    server.pod_name = args.name
    server.node = args.node

    def stop(signum, frame):
        # shutdown() waits for serve_forever, so it runs in another thread.
        import threading
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    sys.stderr.write("testbed-http: %s serving on %s:%d\n" % (args.name, args.bind, args.port))
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
