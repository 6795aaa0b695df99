#!/usr/bin/env python3
"""A TCP endpoint and client for tests/bats/kubeproxy.bats' packet test.

    kubeproxy-peer.py serve NAME PORT          answer each connection with
                                                "NAME PEER-ADDRESS", then close
    kubeproxy-peer.py connect HOST PORT [SECONDS]
                                                print the answer, or "refused"
                                                (a reset or ICMP port
                                                unreachable) or "timeout"

Only for scratch namespaces: it listens on every address of its own.
"""
import socket
import sys


def serve(name, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        conn, peer = s.accept()
        with conn:
            conn.sendall(("%s %s\n" % (name, peer[0])).encode())


def connect(host, port, seconds):
    try:
        with socket.create_connection((host, port), timeout=seconds) as c:
            c.settimeout(seconds)
            print(c.makefile().readline().strip())
    except ConnectionRefusedError:
        print("refused")
    except (socket.timeout, TimeoutError):
        print("timeout")
    except OSError as e:
        print("error %s" % e.strerror)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "connect":
        connect(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) == 5 else 2.0)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
