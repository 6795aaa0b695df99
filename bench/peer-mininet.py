#!/usr/bin/python3
"""The Mininet peer: what `mn --switch lxbr --controller none --topo single,N
--test none` does (N hosts on one Linux bridge, no controller), timed as
build (construct and start) and teardown (stop), optionally with pingAll
(after static ARP entries, as `mn --arp` sets them).

    bench/peer-mininet.py N [--pingall]      prints one JSON object

Python because Mininet is a Python API, and because the part of it that
changes host-wide settings (mininet.util.fixLimits) has to be replaced:
it must run inside the bench's scratch network namespace, and it refuses
to run anywhere else. fixLimits' own source is read to learn what it
would write; of that, only rlimits (this process and its children) and
net.* sysctls that belong to the network namespace (writable in a
non-initial namespace's /proc/sys) are applied, saved first and restored
after. Everything else (fs.*, kernel.*, net.* settings that only the
initial namespace has, such as the neighbour table's gc_thresh) would
change the whole machine: it is not written, and the output lists it.
Mininet's own cleanup (mn -c) is never used: it kills processes by name
machine-wide. Leftovers are found and removed here, by PID and link name.
"""
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import time

import mininet.net
import mininet.util
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import NullController
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo


def die(msg):
    print("peer-mininet: " + msg, file=sys.stderr)
    sys.exit(2)


def in_initial_netns():
    # Only the initial namespace has the neighbour table's global limits in
    # its /proc/sys; when PID 1's namespace is readable, compare with it too.
    if os.path.exists("/proc/sys/net/ipv4/neigh/default/gc_thresh3"):
        return True
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino
    except PermissionError:
        return False
    except OSError as e:
        die("cannot tell which network namespace this is: %s" % e)


def fixlimits_writes():
    """What mininet.util.fixLimits would set, read from its source:
    ([(sysctl name, value)], [(RLIMIT_X, value)])."""
    src = inspect.getsource(mininet.util.fixLimits)
    sysctls = re.findall(r"sysctlTestAndSet\(\s*'([^']+)'\s*,\s*('[^']*'|\d+)\s*\)", src)
    rlimits = re.findall(r"rlimitTestAndSet\(\s*(RLIMIT_\w+)\s*,\s*(\d+)\s*\)", src)
    # Anything else that writes would go unnoticed: refuse rather than guess.
    if src.count("TestAndSet(") != len(sysctls) + len(rlimits):
        die("mininet.util.fixLimits changed: cannot tell what it writes")
    return ([(n, v.strip("'") if v.startswith("'") else int(v)) for n, v in sysctls],
            [(getattr(mininet.util, n), int(v)) for n, v in rlimits])


def proc_sys(name):
    return "/proc/sys/" + name.replace(".", "/")


class Limits:
    """fixLimits' replacement: applies what stays in this namespace or
    process, remembers what it changed, and can put it back."""

    def __init__(self):
        self.sysctls, self.rlimits = fixlimits_writes()
        self.saved = {}
        self.applied, self.skipped = [], []

    def apply(self):
        for res, value in self.rlimits:
            mininet.util.rlimitTestAndSet(res, value)
        for name, value in self.sysctls:
            path = proc_sys(name)
            # A child namespace shows some machine-wide net.* settings
            # read-only (net.core.wmem_max here): writable means its own.
            if not name.startswith("net.") or not os.access(path, os.W_OK):
                self.skipped.append(name)
                continue
            with open(path) as f:
                self.saved[path] = f.read()
            mininet.util.sysctlTestAndSet(name, value)
            self.applied.append(name)

    def restore(self):
        for path, value in self.saved.items():
            with open(path, "w") as f:
                f.write(value)


def link_names():
    out = subprocess.run(["ip", "-o", "link", "show"], check=True, capture_output=True, text=True).stdout
    return {line.split(": ")[1].split("@")[0] for line in out.splitlines()}


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def children_of(root):
    """Every live descendant of PID root."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    # "pid (comm) state ppid ...": comm may hold spaces.
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found = set()
    for pid in parent:
        p = pid
        while p in parent and p > 1:
            p = parent[p]
            if p == root:
                found.add(pid)
                break
    return found


def main():
    args = sys.argv[1:]
    if not args or not args[0].isdigit() or any(a != "--pingall" for a in args[1:]):
        die("usage: peer-mininet.py N [--pingall]")
    hosts = int(args[0])
    if in_initial_netns():
        die("refusing to run in the machine's own network namespace; run it in a scratch one "
            "(unshare --net --mount)")
    # Mininet and its commands print on stdout; the JSON goes to the real one.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    setLogLevel("error")

    limits = Limits()
    mininet.net.fixLimits = limits.apply
    mininet.util.fixLimits = limits.apply
    links_before = link_names()
    result = {"hosts": hosts}
    net = None
    try:
        t0 = time.monotonic()
        net = Mininet(topo=SingleSwitchTopo(k=hosts), switch=LinuxBridge, controller=NullController)
        net.start()
        t1 = time.monotonic()
        result["buildMs"] = round((t1 - t0) * 1000, 1)
        shells = [h.pid for h in net.hosts]
        procs = set(shells)
        for pid in shells:
            procs |= children_of(pid)
        result["pssKiBPerHost"] = pss_kib(procs) // hosts
        result["hostProcesses"] = len(procs)
        if "--pingall" in args:
            # Permanent neighbour entries first (mn --arp), untimed as build:
            # a full mesh's learned ones would overflow the kernel's neighbour
            # table, which every namespace on the machine shares (1024 by
            # default; fixLimits' raise of it is not applied here).
            t0 = time.monotonic()
            net.staticArp()
            result["staticArpMs"] = round((time.monotonic() - t0) * 1000, 1)
            t0 = time.monotonic()
            loss = net.pingAll(timeout="1")
            result["pingall"] = {"ms": round((time.monotonic() - t0) * 1000, 1),
                                 "pings": hosts * (hosts - 1), "lossPct": loss}
        t0 = time.monotonic()
        net.stop()
        result["stopMs"] = round((time.monotonic() - t0) * 1000, 1)
        net = None
    finally:
        if net is not None:
            # Interrupted midway: stop what can be stopped; what cannot is
            # found and removed below.
            try:
                net.stop()
            except Exception as e:  # pylint: disable=broad-except
                print("peer-mininet: stopping after a failure: %r" % e, file=sys.stderr)
        # Whatever Mininet left: our own descendants and the links it made.
        left = []
        for pid in sorted(children_of(os.getpid())):
            left.append("process %d" % pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for name in sorted(link_names() - links_before):
            left.append("link " + name)
            subprocess.run(["ip", "link", "del", name], check=False, capture_output=True)
        limits.restore()
        result.update({"clean": not left, "leftovers": left,
                       "limitsApplied": limits.applied, "limitsSkipped": limits.skipped})
    json.dump(result, out)
    out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
