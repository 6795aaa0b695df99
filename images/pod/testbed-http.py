#!/usr/bin/python3
"""The pod server of testbed labs.

Checks use it to prove who answered and whether the source address was
rewritten on the way. Over HTTP (HTTP/1.0, one request per connection, so
every probe is a new connection and takes the path a new connection takes):
  GET /hostname     the pod's name
  GET /clientip     the client's address and port, as this server sees them
  GET /echo?msg=X   X
  GET /             JSON with name, node, this connection's local address, client
Anything else is 404; HEAD answers like GET without a body. Over UDP, one
datagram per request: "hostname", "clientip" or "echo X" (the commands of
Kubernetes' agnhost netexec, which its network tests send).

Two ways to run:
  testbed-http --port 8000 [--tcp P]... [--udp P]... [--name N] [--node N]
      serves in this process.
  testbed-http --pool FD
      the pool of a lab's image: imports everything once, then for each
      request on the SOCK_SEQPACKET socket FD (from testbed up) forks a
      server into the namespaces of the machine whose init's pidfd came with
      it. Every pod's server is then a copy-on-write fork of one warm
      interpreter: it starts in about a millisecond and shares most of its
      memory. See docs/performance.md.
"""
import gc
import json
import os
import select
import signal
import socket
import sys
import time
from urllib.parse import unquote_plus

IDLE_SECONDS = 10  # a connection that sends no request in this time is closed
MAX_REQUEST = 8192
MAX_CONNECTIONS = 4096


class Server:
    """One machine's server: every port on one epoll loop, no threads."""

    def __init__(self, name, node, tcp_ports, udp_ports):
        self.name = name
        self.node = node
        self.tcp = {}
        self.udp = {}
        self.conns = {}  # fd -> [socket, bytearray, deadline]
        self.poller = select.epoll()
        for port in tcp_ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            # A full-mesh check opens many connections at once; a SYN dropped
            # by a short backlog costs the client a 1 s retransmission.
            s.listen(1024)
            s.setblocking(False)
            self.tcp[s.fileno()] = s
            self.poller.register(s.fileno(), select.EPOLLIN)
        for port in udp_ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            s.setblocking(False)
            self.udp[s.fileno()] = s
            self.poller.register(s.fileno(), select.EPOLLIN)

    def describe(self):
        ports = ["%d/tcp" % s.getsockname()[1] for s in self.tcp.values()]
        ports += ["%d/udp" % s.getsockname()[1] for s in self.udp.values()]
        return "testbed-http: %s serving on %s\n" % (self.name, ", ".join(ports))

    def answer_http(self, conn, request):
        line = bytes(request).split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        method = parts[0] if parts else ""
        path = parts[1] if len(parts) > 1 else ""
        try:
            peer = conn.getpeername()
            client = "%s:%d" % peer[:2]
        except OSError:
            client = "?"
        status, reason, kind = 200, "OK", "text/plain"
        if method not in ("GET", "HEAD"):
            status, reason, body = 405, "Method Not Allowed", "method not allowed\n"
        elif path == "/hostname":
            body = self.name + "\n"
        elif path == "/clientip":
            body = client + "\n"
        elif path.startswith("/echo?msg="):
            body = unquote_plus(path[len("/echo?msg="):])
        elif path == "/":
            local = conn.getsockname()[0]
            body = json.dumps({"name": self.name, "node": self.node, "address": local,
                               "client": client}) + "\n"
            kind = "application/json"
        else:
            status, reason, body = 404, "Not Found", "not found\n"
        data = body.encode("utf-8")
        head = ("HTTP/1.0 %d %s\r\nServer: testbed-http/2\r\nContent-Type: %s; charset=utf-8\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, reason, kind, len(data)))
        reply = head.encode("latin-1") + (data if method != "HEAD" else b"")
        try:
            conn.sendall(reply)
        except OSError:
            pass

    def answer_udp(self, sock):
        while True:
            try:
                data, peer = sock.recvfrom(MAX_REQUEST)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            text = data.decode("utf-8", "replace").strip()
            if text == "hostname":
                reply = self.name
            elif text == "clientip":
                reply = "%s:%d" % peer[:2]
            elif text.startswith("echo "):
                reply = text[5:]
            else:
                reply = "unknown command: expected hostname, clientip or echo TEXT"
            try:
                sock.sendto(reply.encode("utf-8"), peer)
            except OSError:
                pass

    def accept(self, listener):
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(self.conns) >= MAX_CONNECTIONS:
                self.close_oldest()
            conn.setblocking(False)
            fd = conn.fileno()
            self.conns[fd] = [conn, bytearray(), time.monotonic() + IDLE_SECONDS]
            self.poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)

    def close(self, fd):
        entry = self.conns.pop(fd, None)
        if entry:
            self.poller.unregister(fd)
            entry[0].close()

    def close_oldest(self):
        oldest = min(self.conns, key=lambda fd: self.conns[fd][2])
        self.close(oldest)

    def read(self, fd):
        entry = self.conns[fd]
        conn, buf = entry[0], entry[1]
        try:
            chunk = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close(fd)
            return
        if not chunk:
            self.close(fd)
            return
        buf += chunk
        if b"\r\n\r\n" in buf or b"\n\n" in buf or len(buf) >= MAX_REQUEST:
            conn.setblocking(True)
            conn.settimeout(2)
            self.answer_http(conn, buf)
            self.close(fd)

    def sweep(self):
        now = time.monotonic()
        for fd in [fd for fd, entry in self.conns.items() if entry[2] < now]:
            self.close(fd)

    def run(self):
        last_sweep = time.monotonic()
        while True:
            try:
                events = self.poller.poll(1.0)
            except InterruptedError:
                continue
            for fd, _ in events:
                if fd in self.conns:
                    self.read(fd)
                elif fd in self.tcp:
                    self.accept(self.tcp[fd])
                elif fd in self.udp:
                    self.answer_udp(self.udp[fd])
            if self.conns and time.monotonic() - last_sweep >= 1.0:
                self.sweep()
                last_sweep = time.monotonic()


# --- the pool ---------------------------------------------------------------

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_CAPBSET_DROP = 24
LINUX_CAPABILITY_VERSION_3 = 0x20080522


_ctypes = None  # (ctypes, libc, capability header and data types), loaded by the pool


def _libc():
    global _ctypes
    if _ctypes is None:
        import ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        _ctypes = (ctypes, ctypes.CDLL(None, use_errno=True), Header, Data)
    return _ctypes


def _check(rc, what):
    if rc < 0:
        err = _libc()[0].get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def keep_only_capabilities(caps):
    """Drops every capability but CAPS from the bounding, permitted and
    effective sets; no-new-privs (set by testbed before the pool started)
    keeps anything run later from gaining them back. Only what the pool
    itself holds needs dropping from the bounding set."""
    ctypes, libc, Header, Data = _libc()
    for cap in range(64):
        if _pool_bounding & (1 << cap) and not caps & (1 << cap):
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping capability %d" % cap)
    header = Header(LINUX_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    data[0].effective = data[0].permitted = caps & 0xFFFFFFFF
    data[1].effective = data[1].permitted = caps >> 32
    _check(libc.capset(ctypes.byref(header), data), "setting capabilities")


def set_title(words):
    """Shows WORDS as this process's command line (ps, /proc/PID/cmdline):
    a server forked from the pool would otherwise show the pool's. Writes
    over the pool's own argument area, which testbed up made long enough
    (--title-room), NUL-padded."""
    start, end = _pool_args
    if end <= start:
        return
    title = b"\0".join(w.encode("utf-8", "replace") for w in words)[:end - start - 1]
    _libc()[0].memmove(start, title + b"\0" * (end - start - len(title)), end - start)


def _read_pool_facts():
    """What every server needs to know about the pool, read once before
    the first fork: its bounding set and where its arguments live."""
    global _pool_bounding, _pool_args
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                _pool_bounding = int(line.split()[1], 16)
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    _pool_args = (int(fields[45]), int(fields[46]))  # arg_start, arg_end: fields 48 and 49


_pool_bounding = (1 << 64) - 1
_pool_args = (0, 0)


def serve_in_machine(request, pidfd, log_fd, reply_sock):
    """The fork of the pool that becomes one machine's server. The pool made
    it in the machine's PID namespace; it enters the machine's other
    namespaces itself, keeps only the machine's capabilities, listens, and
    reports. Never returns."""
    name = request["name"]
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in _pool_fds:
        os.close(fd)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC
        _check(_libc()[1].setns(pidfd, flags), "entering the namespaces of %s" % name)
        os.close(pidfd)
        os.chdir("/")
        os.setsid()
        keep_only_capabilities(request["caps"])
        words = ["/usr/local/bin/testbed-http"]
        for port in request.get("tcp", []):
            words += ["--port", str(port)]
        for port in request.get("udp", []):
            words += ["--udp", str(port)]
        set_title(words + ["--name", name, "--node", request.get("node", "")])
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "HOME": "/root", "LANG": "C.UTF-8", "HOSTNAME": name,
                           "TESTBED_NODE": request.get("node", "")})
        server = Server(name, request.get("node", ""), request.get("tcp", []), request.get("udp", []))
    except Exception as err:  # noqa: BLE001 - the reason goes to testbed up
        _report(reply_sock, "failed %d %s" % (request["id"], err))
        os._exit(1)
    sys.stderr.write(server.describe())
    _report(reply_sock, "ready %d" % request["id"])
    reply_sock.close()
    try:
        server.run()
    except Exception as err:  # noqa: BLE001
        sys.stderr.write("testbed-http: %s: %s\n" % (name, err))
        os._exit(1)
    os._exit(0)


def _report(sock, text):
    try:
        sock.send(text.encode("utf-8", "replace")[:4000])
    except OSError:
        pass  # testbed up is gone: the lab is committed, the log says it


_pool_fds = []  # the pool's own descriptors, which no server keeps
BATCH = 16  # requests a forker takes at once: forks back to back, fewer pages touched between them
PR_SET_PDEATHSIG = 1


def run_pool(fd):
    sock = socket.socket(fileno=fd)
    # Everything a server needs is imported and frozen out of the collector
    # before the first fork, so that the children share those pages.
    _libc()
    _read_pool_facts()
    gc.collect()
    gc.freeze()
    # One forker per CPU: a fork costs the forker too (its pages turn
    # copy-on-write again), so several share the requests, each taking
    # whichever comes next on the socket. The others end with the first.
    forkers = max(1, min(len(os.sched_getaffinity(0)), 8))
    for _ in range(forkers - 1):
        if os.fork() == 0:
            _libc()[1].prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() == 1:
                os._exit(0)
            break
    sys.stderr.write("testbed-http pool: forker %d ready\n" % os.getpid())
    servers = {}  # pid -> (request id, name)
    reaper_r, reaper_w = os.pipe()
    os.set_blocking(reaper_w, False)
    signal.set_wakeup_fd(reaper_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    poller = select.epoll()
    poller.register(sock.fileno(), select.EPOLLIN)
    poller.register(reaper_r, select.EPOLLIN)
    _pool_fds.extend([reaper_r, reaper_w, poller.fileno()])
    listening = True
    while True:
        try:
            events = poller.poll()
        except InterruptedError:
            events = []
        for fd, _ in events:
            if fd == reaper_r:
                os.read(reaper_r, 512)
            elif fd == sock.fileno():
                batch, ended = receive(sock)
                spawn_all(sock, batch, servers)
                if ended:
                    # testbed up is done: from now on, server exits only go to the log.
                    poller.unregister(sock.fileno())
                    listening = False
        reap(sock if listening else None, servers)


def _recv_request(sock):
    """One request and its descriptors, without waiting (socket.recv_fds
    of Python 3.11 drops its flags argument, so this is recvmsg itself)."""
    space = socket.CMSG_SPACE(2 * 4)
    data, ancillary, _, _ = sock.recvmsg(65536, space, socket.MSG_DONTWAIT | socket.MSG_CMSG_CLOEXEC)
    fds = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += [int.from_bytes(payload[i:i + 4], sys.byteorder, signed=True) for i in range(0, usable, 4)]
    return data, fds


def receive(sock):
    """Up to BATCH requests that are waiting, and whether up closed its end."""
    batch = []
    while len(batch) < BATCH:
        try:
            data, fds = _recv_request(sock)
        except (BlockingIOError, InterruptedError):
            return batch, False
        except OSError:
            return batch, True
        if not data:
            return batch, True
        request = json.loads(data.decode("utf-8"))
        if len(fds) != 2:
            _report(sock, "failed %d expected a pidfd and a log" % request["id"])
            for fd in fds:
                os.close(fd)
            continue
        batch.append((request, fds[0], fds[1]))
    return batch, False


def spawn_all(sock, batch, servers):
    setns = _libc()[1].setns
    children = []
    for request, pidfd, log_fd in batch:
        # Only our children's PID namespace changes: the fork below starts
        # inside the machine's, as a child of ours, so we reap it ourselves.
        if setns(pidfd, CLONE_NEWPID) < 0:
            children.append(-_libc()[0].get_errno())
            continue
        try:
            child = os.fork()
        except OSError as err:
            child = -err.errno
        if child == 0:
            # Another machine's pidfd would let this server signal that
            # machine's init: keep only our own.
            for other, other_pidfd, other_log in batch:
                if other is not request:
                    os.close(other_pidfd)
                    os.close(other_log)
            serve_in_machine(request, pidfd, log_fd, sock)
        children.append(child)
    for (request, pidfd, log_fd), child in zip(batch, children):
        os.close(pidfd)
        os.close(log_fd)
        if child > 0:
            servers[child] = (request["id"], request["name"])
        else:
            _report(sock, "failed %d starting its server in %s: %s" % (request["id"], request["name"],
                                                                         os.strerror(-child)))


def reap(sock, servers):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        served = servers.pop(pid, None)
        if served is None:
            continue
        ident, name = served
        if os.WIFEXITED(status):
            why = "exited with status %d" % os.WEXITSTATUS(status)
        else:
            why = "killed by signal %d" % os.WTERMSIG(status)
        sys.stderr.write("testbed-http pool: the server of %s %s\n" % (name, why))
        if sock is not None:
            _report(sock, "exited %d %s" % (ident, why))


def main():
    import argparse
    parser = argparse.ArgumentParser(description="testbed's pod server")
    parser.add_argument("--port", type=int, action="append", default=[],
                        help="an HTTP port (same as --tcp)")
    parser.add_argument("--tcp", type=int, action="append", default=[], help="an HTTP port")
    parser.add_argument("--udp", type=int, action="append", default=[], help="a UDP port")
    parser.add_argument("--name", default=socket.gethostname())
    parser.add_argument("--node", default=os.environ.get("TESTBED_NODE", ""))
    parser.add_argument("--pool", type=int, metavar="FD",
                        help="serve machines on testbed up's request (see the module's doc)")
    parser.add_argument("--title-room", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pool is not None:
        run_pool(args.pool)
        return 0
    tcp = args.port + args.tcp
    if not tcp and not args.udp:
        tcp = [8000]
    server = Server(args.name, args.node, tcp, args.udp)
    sys.stderr.write(server.describe())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
