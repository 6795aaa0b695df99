#!/usr/bin/python3
"""Dump and compare the kernel network state of named network namespaces.

The core of the replay test: a lab built by testbed and the same lab built by
a shell script of iproute2 commands must leave identical kernel state behind,
except for what the kernel picks at random (MAC addresses, ifindexes, nsids).

  netstate.py dump [--strip-prefix P] [--settle S] NS...
      JSON on stdout (sorted keys, indent 1), one entry per namespace, keyed
      by its name without the prefix P, so that labs named up-node1 and
      sh-node1 compare equal.
  netstate.py compare A.json B.json
      exit 0 when equal; else one line per difference (namespace, section,
      what differs) and exit 1.  Exit 2 on usage or I/O errors.

The document:
  {"format": "testbed-netstate/1",
   "namespaces": {NAME: {"links": {IFNAME: {...}}, "addresses": [...],
                         "routes": [...], "rules": [...], "neighbours": [...],
                         "fdb": [...], "sysctls": {KEY: VALUE}, "nft": TEXT}}}
Lists hold one normalized line per kernel object and are sorted, so that a
difference reads like `ip` output.  Only the Python standard library is used.
"""

import argparse
import difflib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time

FORMAT = "testbed-netstate/1"
PROG = "netstate"

# Sysctls recorded per namespace, as paths under /proc/sys (shell globs,
# expanded inside the namespace).  The set is explicit rather than `sysctl -a`
# because most of the thousand net.* keys are kernel defaults nobody sets and
# some are not deterministic at all (e.g. net.ipv4.route.* counters, random
# hash seeds).  These are the knobs a network lab sets and a replay script
# must reproduce: forwarding, reverse-path filtering, redirects, proxy ARP,
# route_localnet (DNAT to 127.0.0.1), IPv6 on or off, and the br_netfilter
# switches (net.bridge.*, present only when that module is loaded).
# net/ipv4/conf/* covers all, default and every link of the namespace.
SYSCTL_GLOBS = (
    "net/ipv4/ip_forward",
    "net/ipv4/conf/*/forwarding",
    "net/ipv4/conf/*/rp_filter",
    "net/ipv4/conf/*/send_redirects",
    "net/ipv4/conf/*/accept_redirects",
    "net/ipv4/conf/*/proxy_arp",
    "net/ipv4/conf/*/route_localnet",
    "net/ipv6/conf/all/disable_ipv6",
    "net/ipv6/conf/default/disable_ipv6",
    "net/ipv6/conf/all/forwarding",
    "net/bridge/*",
)

# Per-kind link attributes worth comparing, from `ip -d` linkinfo.  Anything
# else there is either a kernel default or differs between two builds of the
# same lab (bridge_id/root_id hold the bridge's random MAC, *_timer count
# down, a bridge port's state and number depend on timing and order).
BRIDGE_KEYS = ("stp_state", "vlan_filtering")
BRIDGE_PORT_KEYS = ("hairpin", "learning", "flood", "mcast_flood", "bcast_flood",
                    "isolated", "neigh_suppress", "proxy_arp", "guard", "root_block")
VXLAN_KEYS = ("id", "group", "remote", "local", "port", "learning",
              "proxy", "l2miss", "l3miss", "gbp")
VLAN_KEYS = ("protocol", "id")

# Route flags the kernel derives from the link's carrier (linkdown, dead):
# the carrier of a freshly built lab settles asynchronously (linkwatch), so
# these would make two identical builds differ depending on when we look.
ROUTE_TRANSIENT_FLAGS = {"linkdown", "dead"}
# Address flags and fields that are states or clocks, not configuration:
# tentative lasts until duplicate address detection ends, lifetimes count down.
ADDR_TRANSIENT = {"tentative", "dadfailed", "deprecated",
                  "valid_life_time", "preferred_life_time"}

# /sys/class/net/*/addr_assign_type: 3 means the MAC was set explicitly
# (at creation or later), i.e. it is configuration and compares as written.
NET_ADDR_SET = "3"

FE80 = ipaddress.ip_network("fe80::/10")


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def die(msg, status=2):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(status)


# iproute2 and nftables live in sbin, which a non-login root shell or CI may
# not have in PATH; and the shell run inside a namespace needs grep.
os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"


def tool(name):
    return shutil.which(name)


def run(argv, check=True):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if check and proc.returncode != 0:
        die(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def run_json(argv):
    out = run(argv).stdout.strip()
    # Some iproute2 versions print nothing rather than [] for an empty table.
    return json.loads(out) if out else []


class Namespace:
    """The raw iproute2 output of one named namespace, fetched lazily."""

    def __init__(self, dumper, name):
        self.d = dumper
        self.name = name
        self._links = None
        self._nsids = None

    def ip(self, *args):
        return run_json([self.d.ip_cmd, "-n", self.name, "-j", *args])

    @property
    def links(self):
        if self._links is None:
            self._links = self.ip("-d", "link", "show")
        return self._links

    @property
    def nsids(self):
        """nsid -> namespace name, as this namespace numbers its peers."""
        if self._nsids is None:
            self._nsids = {e["nsid"]: e["name"]
                           for e in self.ip("netns", "list-id") if "name" in e}
        return self._nsids

    def exec(self, *argv, check=True):
        return run([self.d.ip_cmd, "netns", "exec", self.name, *argv], check=check)


class Dumper:
    def __init__(self, names, prefix):
        self.ip_cmd = tool("ip")
        self.bridge_cmd = tool("bridge")
        self.nft_cmd = tool("nft")
        if not self.ip_cmd or not self.bridge_cmd:
            die("needs ip and bridge from iproute2 (apt-get install iproute2)")
        if not self.nft_cmd:
            warn("nft is not installed; the nft ruleset is recorded as null")
        self.prefix = prefix
        self.ns = {}         # full name -> Namespace, including peers' namespaces
        for name in names:
            if not os.path.exists(os.path.join("/run/netns", name)):
                die(f"no network namespace named {name} (see ip netns list)")
            self.ns[name] = Namespace(self, name)
        self.dumped = list(names)

    def short(self, name):
        if self.prefix and name.startswith(self.prefix):
            return name[len(self.prefix):]
        return name

    def namespace(self, name):
        if name not in self.ns:
            self.ns[name] = Namespace(self, name)
        return self.ns[name]

    # --- waiting for the kernel to settle ----------------------------------

    def settle(self, seconds):
        """Wait while an IPv6 address (other than link-local) on a link that
        is up with carrier is still tentative: until duplicate address
        detection ends the kernel has not installed its local route, so the
        routes of two identical builds would differ by timing alone."""
        deadline = time.monotonic() + seconds
        while True:
            pending = []
            for name in self.dumped:
                for link in self.ns[name].ip("addr", "show"):
                    if not {"UP", "LOWER_UP"} <= set(link.get("flags", [])):
                        continue
                    for a in link.get("addr_info", []):
                        if a.get("tentative") and a.get("family") == "inet6" \
                                and ipaddress.ip_address(a["local"]) not in FE80:
                            pending.append(f"{name}/{link['ifname']} {a['local']}")
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if pending:
            warn("still tentative (duplicate address detection): " + ", ".join(pending))

    # --- MAC normalization --------------------------------------------------

    def collect_macs(self):
        """Map every random MAC of a dumped link to "mac:NS/IFNAME".

        Kernel-chosen MACs differ between two builds of the same lab, so a
        reference to one (a static neighbour or fdb entry) is recorded by its
        owner.  A MAC set explicitly (addr_assign_type 3, e.g. the
        0a:58:0a:0a:00:02 testbed gives a vxlan device) is configuration: it
        is not mapped and compares as written.  A bridge takes the lowest MAC
        of its ports, so two links can share one; the owner then names them
        all ("mac:node1/cbr0|node1/veth0")."""
        owners, explicit = {}, set()
        self.local_macs = {}  # full ns name -> set of its links' MACs
        for name in self.dumped:
            local = self.local_macs[name] = set()
            for link in self.ns[name].links:
                mac = link.get("address", "").lower()
                if link.get("link_type") != "ether" or mac in ("", "00:00:00:00:00:00"):
                    continue
                local.add(mac)
                owners.setdefault(mac, []).append(f"{self.short(name)}/{link['ifname']}")
                if self.sysfs[name].get(link["ifname"]) == NET_ADDR_SET:
                    explicit.add(mac)
        self.mac_names = {mac: "mac:" + "|".join(sorted(o))
                          for mac, o in owners.items() if mac not in explicit}

    def mac(self, mac):
        mac = mac.lower()
        return self.mac_names.get(mac, mac)

    # --- sections -----------------------------------------------------------

    def read_proc(self, ns):
        """Sysctls and addr_assign_type, read inside the namespace in one
        exec: /proc/sys/net and /sys/class/net show the reader's namespace
        (`ip netns exec` remounts /sys for it).  grep -H prints PATH:VALUE;
        -s skips globs that match nothing (e.g. no br_netfilter)."""
        script = ("cd /proc/sys && grep -sH . " + " ".join(SYSCTL_GLOBS) +
                  "; cd /sys/class/net && grep -sH . */addr_assign_type; true")
        out = ns.exec("/bin/sh", "-c", script).stdout
        sysctls, assign = {}, {}
        for line in out.splitlines():
            path, _, value = line.partition(":")
            if path.endswith("/addr_assign_type"):
                assign[path[:-len("/addr_assign_type")]] = value
            else:
                # Dotted like sysctl(8), but an ifname keeps its own dots
                # (net.ipv4.conf.flannel.1.forwarding).
                sysctls[path.replace("/", ".")] = value
        if "net.ipv4.ip_forward" not in sysctls:
            die(f"{ns.name}: could not read /proc/sys/net inside the namespace")
        return sysctls, assign

    def links(self, ns):
        out = {}
        for link in ns.links:
            info = link.get("linkinfo", {})
            kind = info.get("info_kind") or link.get("link_type", "unknown")
            e = {
                "kind": kind,
                "up": "UP" in link.get("flags", []),   # IFF_UP, not the carrier
                "mtu": link.get("mtu"),
            }
            if "master" in link:
                e["master"] = link["master"]
            if self.sysfs[ns.name].get(link["ifname"]) == NET_ADDR_SET:
                e["address"] = link["address"]   # set on purpose: compare as is
            data = info.get("info_data", {})
            if kind == "veth":
                e["peer"] = self.veth_peer(ns, link)
            elif "link" in link:
                # An underlay in this namespace (vlan, macvlan, ...).
                e["dev"] = link["link"]
            if kind == "bridge":
                e["bridge"] = {k: data[k] for k in BRIDGE_KEYS if k in data}
            elif kind == "vxlan":
                v = {k: data[k] for k in VXLAN_KEYS if k in data}
                if "link" in data:
                    v["dev"] = data["link"]      # the underlay, by name
                e["vxlan"] = v
            elif kind == "vlan":
                e["vlan"] = {k: data[k] for k in VLAN_KEYS if k in data}
            if info.get("info_slave_kind") == "bridge":
                slave = info.get("info_slave_data", {})
                e["bridge_port"] = {k: slave[k] for k in BRIDGE_PORT_KEYS if k in slave}
            out[link["ifname"]] = e
        return out

    def veth_peer(self, ns, link):
        """The other end of a veth as "NS/IFNAME".

        link_index is the peer's ifindex in the peer's namespace, and
        link_netnsid says which namespace that is, as numbered by this one
        (absent when the peer is in the same namespace).  Ifindexes repeat
        across namespaces, so a candidate must also point back at us: its
        own link_index must be our ifindex."""
        if "link_index" not in link:
            if "link" in link:
                return f"{self.short(ns.name)}/{link['link']}"
            warn(f"{ns.name}/{link['ifname']}: veth without a peer index")
            return "?"

        def points_back(other):
            return (other.get("ifindex") == link["link_index"]
                    and other.get("link_index") == link["ifindex"]
                    and other.get("linkinfo", {}).get("info_kind") == "veth")

        nsid = link.get("link_netnsid")
        if nsid is not None and nsid in ns.nsids:
            peer_ns = self.namespace(ns.nsids[nsid])
            for other in peer_ns.links:
                if points_back(other):
                    return f"{self.short(peer_ns.name)}/{other['ifname']}"
        # No name for that nsid (or it did not check out): look through the
        # dumped namespaces for the one end that points back.
        found = [(name, other["ifname"]) for name in self.dumped if name != ns.name
                 for other in self.ns[name].links if points_back(other)]
        if len(found) == 1:
            return f"{self.short(found[0][0])}/{found[0][1]}"
        warn(f"{ns.name}/{link['ifname']}: cannot tell which namespace its veth peer is in")
        return "?"

    def addresses(self, ns):
        out = []
        for link in ns.ip("addr", "show"):
            for a in link.get("addr_info", []):
                addr = ipaddress.ip_address(a["local"])
                if a.get("family") == "inet6" and addr in FE80:
                    continue   # link-local: derived from the random MAC
                s = f"{link['ifname']} {a['local']}/{a['prefixlen']}"
                if a.get("scope", "global") != "global":
                    s += f" scope {a['scope']}"
                if "address" in a:
                    s += f" peer {a['address']}"
                if "broadcast" in a:
                    s += f" brd {a['broadcast']}"
                if a.get("label", link["ifname"]) != link["ifname"]:
                    s += f" label {a['label']}"
                handled = {"family", "local", "prefixlen", "scope", "address",
                           "broadcast", "label"}
                s += extras(a, handled | ADDR_TRANSIENT)
                out.append(s)
        return sorted(out)

    def routes(self, ns):
        out = []
        # -d makes ip print type, table, protocol and scope even when they
        # are the defaults, so that every line spells them out.
        for family in ("-4", "-6"):
            for r in ns.ip(family, "-d", "route", "show", "table", "all"):
                if family == "-6" and automatic_ipv6_route(r):
                    continue
                out.append(route_line(r))
        return sorted(out)

    def rules(self, ns):
        # Policy routing rules decide when the numbered tables are used at all.
        out = []
        for family in ("-4", "-6"):
            for r in ns.ip(family, "-d", "rule", "show"):
                out.append(f"{family[1:]} {r.get('priority', '?')}:" +
                           extras(r, {"priority"}))
        return sorted(out)

    def neighbours(self, ns):
        out = []
        for n in ns.ip("neigh", "show"):
            # Only entries someone configured: reachable, stale, failed...
            # come and go with traffic; NOARP entries the kernel makes itself.
            if "PERMANENT" not in n.get("state", []):
                continue
            s = f"{n.get('dev', '?')} {n['dst']}"
            if "lladdr" in n:
                s += f" lladdr {self.mac(n['lladdr'])}"
            out.append(s + extras(n, {"dev", "dst", "lladdr", "state"}))
        return sorted(out)

    def fdb(self, ns):
        out = []
        local = self.local_macs[ns.name]
        for f in run_json([self.bridge_cmd, "-n", ns.name, "-j", "fdb", "show"]):
            mac = f.get("mac", "").lower()
            # Learned entries (no state) come and go with traffic.
            if f.get("state") not in ("permanent", "static"):
                continue
            # IPv6/IPv4 multicast group addresses on each link's own list.
            if mac.startswith("33:33:") or mac.startswith("01:00:5e:"):
                continue
            # A bridge's entries for its own and its ports' MACs are automatic.
            if mac in local:
                continue
            s = f"{f.get('ifname', '?')} {self.mac(mac)}"
            for k in ("vlan", "master", "dst", "port", "vni", "src_vni", "via", "nhid"):
                if k in f:
                    s += f" {k} {f[k]}"
            s += "".join(f" {flag}" for flag in f.get("flags", []))
            s += f" {f['state']}"
            # Ages (used, updated) only appear with -s, which we do not pass.
            s += extras(f, {"mac", "ifname", "vlan", "master", "dst", "port", "vni",
                            "src_vni", "via", "nhid", "flags", "state"})
            out.append(s)
        return sorted(out)

    def nft(self, ns):
        if not self.nft_cmd:
            return None
        # -s (stateless) leaves out counters and quotas, which count traffic.
        proc = ns.exec(self.nft_cmd, "-s", "list", "ruleset", check=False)
        if proc.returncode != 0:
            warn(f"{ns.name}: nft list ruleset failed: {proc.stderr.strip()}")
            return None
        return proc.stdout

    # --- the whole document -------------------------------------------------

    def dump(self, settle):
        self.settle(settle)
        self.sysfs = {}
        sysctls = {}
        for name in self.dumped:
            sysctls[name], self.sysfs[name] = self.read_proc(self.ns[name])
        self.collect_macs()
        doc = {"format": FORMAT, "namespaces": {}}
        for name in self.dumped:
            ns = self.ns[name]
            key = self.short(name)
            if key in doc["namespaces"]:
                die(f"two namespaces are both {key} once the prefix is stripped")
            if self.prefix and key == name:
                warn(f"{name} does not start with the prefix {self.prefix}")
            doc["namespaces"][key] = {
                "links": self.links(ns),
                "addresses": self.addresses(ns),
                "routes": self.routes(ns),
                "rules": self.rules(ns),
                "neighbours": self.neighbours(ns),
                "fdb": self.fdb(ns),
                "sysctls": sysctls[name],
                "nft": self.nft(ns),
            }
        return doc


def extras(obj, handled):
    """The remaining fields of an iproute2 JSON object as " key value" pairs,
    in key order, so that an attribute this script does not know about still
    shows up in a comparison instead of vanishing silently."""
    s = ""
    for k in sorted(obj):
        if k in handled:
            continue
        v = obj[k]
        if v is True:
            s += f" {k}"
        elif v is False or v in ([], {}, ""):
            continue
        elif isinstance(v, (list, dict)):
            s += f" {k} {json.dumps(v, sort_keys=True, separators=(',', ':'))}"
        else:
            s += f" {k} {v}"
    return s


def automatic_ipv6_route(r):
    """The IPv6 routes the kernel gives every link by itself: fe80::/64 in
    main, ff00::/8 multicast in local, and the local (and, with forwarding,
    anycast) routes of link-local addresses, which derive from random MACs."""
    if r.get("protocol") != "kernel" or r.get("dst", "default") == "default":
        return False
    net = ipaddress.ip_network(r["dst"], strict=False)
    return net.subnet_of(FE80) or (r.get("type") == "multicast" and str(net) == "ff00::/8")


def route_line(r):
    s = f"table {r.get('table', 'main')} {r.get('type', 'unicast')} {r.get('dst', 'default')}"
    if "gateway" in r:
        s += f" via {r['gateway']}"
    if "dev" in r:
        s += f" dev {r['dev']}"
    for k, word in (("protocol", "proto"), ("scope", "scope"), ("prefsrc", "src"),
                    ("metric", "metric"), ("pref", "pref")):
        if k in r:
            s += f" {word} {r[k]}"
    s += "".join(f" {f}" for f in r.get("flags", []) if f not in ROUTE_TRANSIENT_FLAGS)
    for nh in r.get("nexthops", []):
        nh = dict(nh, flags=[f for f in nh.get("flags", []) if f not in ROUTE_TRANSIENT_FLAGS])
        s += " nexthop" + extras(nh, set())
    # "expires" counts down (IPv6 routes learned from router advertisements).
    return s + extras(r, {"table", "type", "dst", "gateway", "dev", "protocol", "scope",
                          "prefsrc", "metric", "pref", "flags", "nexthops", "expires"})


# --- compare ------------------------------------------------------------------

def show(v):
    return json.dumps(v, sort_keys=True)


def diff(a, b, path, out):
    """Append one line per difference between a and b to out."""
    where = " ".join(path) if path else "namespaces"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append(f"{where}: only in A: {k}" +
                           (f" = {show(a[k])}" if path else ""))
            elif k not in a:
                out.append(f"{where}: only in B: {k}" +
                           (f" = {show(b[k])}" if path else ""))
            else:
                diff(a[k], b[k], path + [k], out)
    elif isinstance(a, list) and isinstance(b, list):
        # Lists are sorted multisets of lines: report what each side lacks.
        rest_b = list(b)
        only_a = []
        for item in a:
            if item in rest_b:
                rest_b.remove(item)
            else:
                only_a.append(item)
        out.extend(f"{where}: only in A: {x if isinstance(x, str) else show(x)}" for x in only_a)
        out.extend(f"{where}: only in B: {x if isinstance(x, str) else show(x)}" for x in rest_b)
    elif a != b:
        if isinstance(a, str) and isinstance(b, str) and ("\n" in a or "\n" in b):
            # One difference, shown as an indented unified diff.
            out.append("\n".join([f"{where}: differs:"] + [
                "  " + line for line in difflib.unified_diff(
                    a.splitlines(), b.splitlines(), "A", "B", lineterm="", n=1)]))
        else:
            out.append(f"{where}: A {show(a)}, B {show(b)}")


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read {path}: {e}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        die(f"{path} is not a {FORMAT} dump")
    return doc


def compare(path_a, path_b):
    a, b = load(path_a), load(path_b)
    out = []
    diff(a["namespaces"], b["namespaces"], [], out)
    if not out:
        return 0
    print(f"{PROG}: A = {path_a}, B = {path_b}: {len(out)} difference(s)")
    for line in out:
        print(line)
    return 1


def main():
    ap = argparse.ArgumentParser(prog="netstate.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="dump named namespaces as JSON on stdout")
    d.add_argument("--strip-prefix", default="", metavar="P",
                   help="key each namespace by its name without this prefix")
    d.add_argument("--settle", type=float, default=5.0, metavar="S",
                   help="wait at most S seconds for IPv6 duplicate address detection (default 5)")
    d.add_argument("namespaces", nargs="+", metavar="NS")
    c = sub.add_parser("compare", help="compare two dumps; exit 1 when they differ")
    c.add_argument("a", metavar="A.json")
    c.add_argument("b", metavar="B.json")
    args = ap.parse_args()

    if args.cmd == "compare":
        sys.exit(compare(args.a, args.b))
    if len(set(args.namespaces)) != len(args.namespaces):
        die("a namespace is named twice")
    doc = Dumper(args.namespaces, args.strip_prefix).dump(args.settle)
    json.dump(doc, sys.stdout, sort_keys=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
