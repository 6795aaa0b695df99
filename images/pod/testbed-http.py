#!/usr/bin/python3
"""The pod server of testbed labs.

Checks use it to prove who answered and whether the source address was
rewritten on the way. Over HTTP (HTTP/1.0, one request per connection, so
every probe is a new connection and takes the path a new connection takes):
  GET /hostname     the pod's name
  GET /clientip     the client's address and port, as this server sees them
  GET /echo?msg=X   X
  GET /             JSON with name, node, this connection's local address, client
  GET any other     the pod's name, as Kubernetes' agnhost serve-hostname answers
                    every path: a backend behind an Ingress's path (/shop/cart)
                    is asked that path and still says who it is
HEAD answers like GET without a body. Over UDP, one
datagram per request: "hostname", "clientip" or "echo X" (the commands of
Kubernetes' agnhost netexec, which its network tests send).

Two ways to run:
  testbed-http --port 8000 [--tcp P]... [--udp P]... [--name N] [--node N]
      serves in this process.
  testbed-http --pool FD
      the pool of a lab's image: imports everything once, then for each
      request on the SOCK_SEQPACKET socket FD (from testbed up) forks a
      server into the namespaces of the machine whose init's pidfd came with
      it (server-start.c, in C, loaded from /usr/local/lib/testbed-http).
      Every pod's server is then a copy-on-write fork of one warm
      interpreter: it compiles and imports nothing, and shares most of its
      memory. See docs/performance.md.
"""
import gc
import json
import os
import select
import signal
import socket
import struct
import _socket
import sys
import time

IDLE_SECONDS = 10  # a connection that sends no request in this time is closed
MAX_REQUEST = 8192
MAX_CONNECTIONS = 4096


def tcp_listener(port):
    """A listening socket as the pool's servers get theirs (server-start.c)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accept() returns once the request has come: most connections are
    # then answered at once, without a turn through epoll.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
    s.bind(("0.0.0.0", port))
    # A full-mesh check opens many connections at once; a SYN dropped by a
    # short backlog costs the client a 1 s retransmission.
    s.listen(1024)
    s.setblocking(False)
    return s


def udp_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    return s


def describe(name, tcp_ports, udp_ports):
    """The first line of a server's log."""
    ports = ["%d/tcp" % port for port in tcp_ports] + ["%d/udp" % port for port in udp_ports]
    return "testbed-http: %s serving on %s\n" % (name, ", ".join(ports))


class Server:
    """One machine's server: every port on one epoll loop, no threads.

    Written for the pool: every server is a fork of one interpreter, and on
    this kind of machine each page a server first writes costs it a
    copy-on-write fault, so the common path (a request already waiting when
    the connection is accepted) uses few objects and few calls."""

    def __init__(self, name, node, tcp_sockets, udp_sockets):
        """TCP_SOCKETS listen already, UDP_SOCKETS are bound (see
        tcp_listener and udp_socket); all are non-blocking."""
        self.name = name
        self.node = node
        self.tcp = {}
        self.udp = {}
        self.conns = {}  # fd -> [socket, bytearray, deadline, peer]
        self.json_head = None  # the start of GET /'s answer, made on first use
        self.poller = select.epoll()
        for s in tcp_sockets:
            self.tcp[s.fileno()] = s
            self.poller.register(s.fileno(), select.EPOLLIN)
        for s in udp_sockets:
            self.udp[s.fileno()] = s
            self.poller.register(s.fileno(), select.EPOLLIN)

    def describe(self):
        return describe(self.name, [s.getsockname()[1] for s in self.tcp.values()],
                        [s.getsockname()[1] for s in self.udp.values()])

    def answer_http(self, conn, request, peer):
        line = bytes(request).split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        method = parts[0] if parts else ""
        path = parts[1] if len(parts) > 1 else ""
        client = "%s:%d" % peer[:2] if peer else "?"
        status, reason, kind = 200, "OK", "text/plain"
        if method not in ("GET", "HEAD"):
            status, reason, body = 405, "Method Not Allowed", "method not allowed\n"
        elif path == "/hostname":
            body = self.name + "\n"
        elif path == "/clientip":
            body = client + "\n"
        elif path.startswith("/echo?msg="):
            # Imported on the first echo only: the pool's memory, which every
            # server maps and tears down, stays smaller without it.
            from urllib.parse import unquote_plus
            body = unquote_plus(path[len("/echo?msg="):])
        elif path == "/":
            try:
                local = conn.getsockname()[0]
            except OSError:
                local = "?"
            if self.json_head is None:
                # Names are the only part that may need escaping; addresses
                # never do. The same text json.dumps gives for all four.
                self.json_head = json.dumps({"name": self.name, "node": self.node})[:-1]
            body = '%s, "address": "%s", "client": "%s"}\n' % (self.json_head, local, client)
            kind = "application/json"
        elif path.startswith("/"):
            body = self.name + "\n"
        else:
            status, reason, body = 400, "Bad Request", "bad request\n"
        data = body.encode("utf-8")
        head = ("HTTP/1.0 %d %s\r\nServer: testbed-http/2\r\nContent-Type: %s; charset=utf-8\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, reason, kind, len(data)))
        reply = head.encode("latin-1") + (data if method != "HEAD" else b"")
        try:
            # A fresh connection's send buffer takes a reply this size at
            # once; only a client that stopped reading gets the slow path.
            sent = conn.send(reply, socket.MSG_DONTWAIT)
            if sent < len(reply):
                conn.settimeout(2)
                conn.sendall(reply[sent:])
        except OSError:
            pass

    def answer_udp(self, sock):
        # One datagram per wakeup: epoll reports the socket again while more
        # wait, and a loop would end each time in an exception (EAGAIN),
        # which costs Python more than the wakeup does.
        try:
            data, peer = sock.recvfrom(MAX_REQUEST)
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
        # One connection per wakeup, as answer_udp takes one datagram.
        try:
            # Not accept(): it also sets the new socket's mode, and wraps it
            # in the module's Python class; a connection needs neither, as
            # every call on it passes MSG_DONTWAIT.
            fd, peer = listener._accept()
        except OSError:
            return
        conn = _socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd)
        if self.read(conn, bytearray(), peer):
            conn.close()
            return
        if len(self.conns) >= MAX_CONNECTIONS:
            self.close_oldest()
        self.conns[fd] = [conn, bytearray(), time.monotonic() + IDLE_SECONDS, peer]
        self.poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)

    def close(self, fd):
        entry = self.conns.pop(fd, None)
        if entry:
            self.poller.unregister(fd)
            entry[0].close()

    def close_oldest(self):
        oldest = min(self.conns, key=lambda fd: self.conns[fd][2])
        self.close(oldest)

    def read(self, conn, buf, peer):
        """Reads what CONN has, and answers once the request is whole. Says
        whether CONN is done with (answered, or closed by the client)."""
        try:
            chunk = conn.recv(4096, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        if not chunk:
            return True
        buf += chunk
        if b"\r\n\r\n" in buf or b"\n\n" in buf or len(buf) >= MAX_REQUEST:
            self.answer_http(conn, buf, peer)
            return True
        return False

    def read_waiting(self, fd):
        entry = self.conns[fd]
        if self.read(entry[0], entry[1], entry[3]):
            self.close(fd)

    def sweep(self):
        now = time.monotonic()
        for fd in [fd for fd, entry in self.conns.items() if entry[2] < now]:
            self.close(fd)

    def run(self):
        last_sweep = time.monotonic()
        while True:
            try:
                # Woken each second only while connections wait, for the
                # idle sweep: a thousand idle servers then cost nothing.
                events = self.poller.poll(1.0 if self.conns else -1)
            except InterruptedError:
                continue
            for fd, _ in events:
                if fd in self.conns:
                    self.read_waiting(fd)
                elif fd in self.tcp:
                    self.accept(self.tcp[fd])
                elif fd in self.udp:
                    self.answer_udp(self.udp[fd])
            if self.conns and time.monotonic() - last_sweep >= 1.0:
                self.sweep()
                last_sweep = time.monotonic()


# --- the pool ---------------------------------------------------------------

LINUX_CAPABILITY_VERSION_3 = 0x20080522
PR_SET_PDEATHSIG = 1
# The servers' start, in C (images/pod/server-start.c): forked, inside
# its machine and listening before it runs any Python.
START_LIBRARY = "/usr/local/lib/testbed-http/server-start.so"

_ctypes = None  # loaded by the pool only
_libc = None  # libc through ctypes
_start = None  # server-start.so
_pool_bounding = (1 << 64) - 1  # the pool's bounding set
_pool_args = (0, 0)  # where the pool's argument area lives: each server's title goes there
_capability_plans = {}  # capability set -> what a server with it drops and sets
_StartJob = None  # server-start.c's struct start_job
_fork_hooks = None  # server-start.c's struct fork_hooks: the interpreter's own


def _read_pool_facts():
    """What every server needs, read once before the first fork: the
    start library, the pool's bounding set and where its arguments live."""
    global _ctypes, _libc, _start, _pool_bounding, _pool_args, _StartJob, _fork_hooks
    import ctypes
    _ctypes = ctypes
    _libc = ctypes.CDLL(None, use_errno=True)
    # PyDLL: the call keeps the interpreter's lock, which a server, a copy
    # made inside the call, then holds as the pool did.
    _start = ctypes.PyDLL(START_LIBRARY)
    _start.tb_start_servers.restype = ctypes.c_int

    class ForkHooks(ctypes.Structure):
        _fields_ = [("before", ctypes.c_void_p), ("after_in_parent", ctypes.c_void_p),
                    ("after_in_child", ctypes.c_void_p)]
    api = ctypes.pythonapi
    _fork_hooks = ForkHooks(*(ctypes.cast(getattr(api, name), ctypes.c_void_p).value for name in
                              ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child")))

    class StartJob(ctypes.Structure):
        _fields_ = [("pidfd", ctypes.c_int), ("log_fd", ctypes.c_int), ("n_tcp", ctypes.c_int),
                    ("n_udp", ctypes.c_int), ("ports", ctypes.POINTER(ctypes.c_uint16)),
                    ("listen_fds", ctypes.POINTER(ctypes.c_int)), ("drop", ctypes.c_uint64),
                    ("cap_header", ctypes.c_char_p), ("cap_data", ctypes.c_char_p),
                    ("title_at", ctypes.c_void_p), ("title", ctypes.c_char_p), ("title_len", ctypes.c_size_t),
                    ("failed", ctypes.c_char_p), ("describe", ctypes.c_char_p), ("describe_len", ctypes.c_size_t),
                    ("pid", ctypes.c_int)]
    _StartJob = StartJob
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                _pool_bounding = int(line.split()[1], 16)
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    _pool_args = (int(fields[45]), int(fields[46]))  # arg_start, arg_end: fields 48 and 49


def capability_plan(caps):
    """For a server that keeps only CAPS: the bounding-set entries to drop
    (only what the pool itself holds needs dropping) and capset()'s
    arguments, made once per set. No-new-privs (set by testbed before the
    pool started) keeps anything run later from gaining them back."""
    plan = _capability_plans.get(caps)
    if plan is None:
        drop = _pool_bounding & ~caps & ((1 << 64) - 1)
        header = struct.pack("=Ii", LINUX_CAPABILITY_VERSION_3, 0)
        low, high = caps & 0xFFFFFFFF, caps >> 32
        data = struct.pack("=6I", low, low, 0, high, high, 0)  # effective, permitted, inheritable x2
        plan = _capability_plans[caps] = (drop, header, data)
    return plan


def title_for(request):
    """The command line a server shows (ps, /proc/PID/cmdline), padded with
    NULs to the length of the pool's own argument area, which the server
    overwrites (testbed up made it long enough with --title-room): a server
    would otherwise show the pool's."""
    start, end = _pool_args
    if end <= start:
        return b""
    words = ["/usr/local/bin/testbed-http"]
    for port in request.get("tcp", []):
        words += ["--port", str(port)]
    for port in request.get("udp", []):
        words += ["--udp", str(port)]
    words += ["--name", request["name"], "--node", request.get("node", "")]
    title = b"\0".join(w.encode("utf-8", "replace") for w in words)[:end - start - 1]
    return title + b"\0" * (end - start - len(title))


def start_job(request, pidfd, log_fd, keep):
    """server-start.c's job for REQUEST; KEEP holds the buffers it points
    to until the batch is forked."""
    c = _ctypes
    tcp, udp = request.get("tcp", []), request.get("udp", [])
    drop, header, data = capability_plan(request["caps"])
    title = title_for(request)
    failed = ("failed %d " % request["id"]).encode()
    text = describe(request["name"], tcp, udp).encode("utf-8", "replace")
    ports = (c.c_uint16 * max(1, len(tcp) + len(udp)))(*(tcp + udp))
    fds = (c.c_int * max(1, len(tcp) + len(udp)))()
    keep += [ports, fds, header, data, title, failed, text]
    return _StartJob(pidfd, log_fd, len(tcp), len(udp), ports, fds, drop, header, data, _pool_args[0], title,
                     len(title), failed, text, len(text), 0)


def serve_started(job, ready, reply_fd):
    """A server that server-start.c made: inside its machine, listening,
    the interpreter's after-fork work done. It reports READY once the
    Python server is made, so that up returns with every server able to
    answer at once, and it does as little as it can before: every object
    it touches costs it a page. Never returns."""
    signal.set_wakeup_fd(-1)  # the pool's wakeup pipe is closed
    n_tcp = job.n_tcp
    tcp, udp = [], []
    for i in range(n_tcp + job.n_udp):
        (tcp if i < n_tcp else udp).append(_socket.socket(fileno=job.listen_fds[i]))
    server = Server(ready[1], ready[2], tcp, udp)
    try:
        os.write(reply_fd, ready[0])
    except OSError:
        pass  # testbed up is gone: the lab is committed, the log says it
    os.close(reply_fd)
    try:
        server.run()
    except Exception as err:  # noqa: BLE001
        os.write(2, ("testbed-http: %s: %s\n" % (server.name, err)).encode("utf-8", "replace"))
        os._exit(1)
    os._exit(0)


def _report(sock, text):
    try:
        sock.send(text.encode("utf-8", "replace")[:4000])
    except OSError:
        pass  # testbed up is gone: the lab is committed, the log says it


BATCH = 16  # requests a forker takes at once: forked in one call


def run_pool(fd):
    sock = socket.socket(fileno=fd)
    # Everything a server needs is imported and frozen out of the collector
    # before the first fork, so that the children share those pages.
    _read_pool_facts()
    gc.collect()
    gc.freeze()
    # One forker per CPU: a fork costs the forker too (its page tables are
    # copied, its pages turn copy-on-write again), so several share the
    # requests, each taking whichever comes next on the socket. The others
    # end with the first.
    forkers = max(1, min(len(os.sched_getaffinity(0)), 8))
    for _ in range(forkers - 1):
        if os.fork() == 0:
            _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
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
    """Forks the batch's servers in one call to server-start.c: everything
    they need is made before, so that the forks follow each other with
    nothing written in between, which each fork would make the pool pay
    for again."""
    if not batch:
        return
    keep = []
    jobs = (_StartJob * len(batch))(*(start_job(request, pidfd, log_fd, keep) for request, pidfd, log_fd in batch))
    readies = [(("ready %d" % request["id"]).encode(), request["name"], request.get("node", ""))
               for request, _, _ in batch]
    index = _start.tb_start_servers(jobs, len(batch), sock.fileno(), _ctypes.byref(_fork_hooks))
    if index >= 0:
        serve_started(jobs[index], readies[index], sock.fileno())
    for (request, pidfd, log_fd), job in zip(batch, jobs):
        os.close(pidfd)
        os.close(log_fd)
        if job.pid > 0:
            servers[job.pid] = (request["id"], request["name"])
        else:
            _report(sock, "failed %d starting its server in %s: %s" % (request["id"], request["name"],
                                                                      os.strerror(-job.pid)))


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
    # The pool, as testbed up starts it (--pool FD --title-room ROOM), reads
    # its arguments itself: argparse would stay in the memory of every
    # server forked from it.
    if len(sys.argv) in (3, 5) and sys.argv[1] == "--pool" and sys.argv[2].isdigit() and \
            (len(sys.argv) == 3 or sys.argv[3] == "--title-room"):
        run_pool(int(sys.argv[2]))
        return 0
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
    server = Server(args.name, args.node, [tcp_listener(port) for port in tcp], [udp_socket(port) for port in args.udp])
    sys.stderr.write(server.describe())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
