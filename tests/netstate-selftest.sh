#!/usr/bin/env bash
# Self-test of tests/netstate.py: builds one small lab twice, under the
# namespace prefixes a- and b-, checks that `netstate.py compare` finds the
# two dumps equal, then rebuilds b with one change at a time and checks that
# compare finds (exit 1) and names that change.
#
# Everything happens inside `unshare --net --mount`: the lab's named
# namespaces live on a tmpfs mounted over /run/netns in that private mount
# namespace, so they never show up on the machine, and the scratch network
# namespace plays the host.  Afterwards the machine's `ip netns list` and
# `ip link` must be exactly as before.  Needs root, iproute2 and nftables.
#   tests/netstate-selftest.sh
set -uo pipefail
cd "$(dirname "$0")/.."
netstate=$PWD/tests/netstate.py
export PATH=$PATH:/usr/sbin:/sbin

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "netstate-selftest: needs root (it creates network namespaces)" >&2
		exit 2
	fi
	for t in ip bridge nft unshare; do
		if ! command -v "$t" >/dev/null; then
			echo "netstate-selftest: $t is missing (apt-get install iproute2 nftables util-linux)" >&2
			exit 2
		fi
	done
	snapshot() {
		echo "== netns"; ip netns list
		echo "== links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
		echo "== /run/netns"; ls -d /run/netns 2>/dev/null || true
	}
	before=$(snapshot)
	# The tmpfs needs a mount point; a directory made here is removed below.
	made_dir=0
	if [ ! -d /run/netns ]; then
		mkdir -p /run/netns
		made_dir=1
	fi
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	unshare --net --mount --propagation private -- "$BASH" "$0" --inside | tee "$log"
	inside=${PIPESTATUS[0]}
	[ "$made_dir" = 0 ] || rmdir /run/netns
	after=$(snapshot)
	if [ "$before" = "$after" ]; then
		echo "ok - the machine's namespaces and links are as before" | tee -a "$log"
	else
		{ echo "not ok - the test left something behind on the machine:"
		  diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'; } | tee -a "$log"
	fi
	passed=$(grep -c '^ok ' "$log")
	failed=$(grep -c '^not ok ' "$log")
	if [ "$inside" != 0 ] && [ "$failed" = 0 ]; then
		echo "not ok - the sandboxed part exited with status $inside"
		failed=1
	fi
	echo "netstate-selftest: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
fi

# ---- inside the sandbox ------------------------------------------------------

mount -t tmpfs tmpfs /run/netns || exit 1
ip link set lo up || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'
}

mac_of() {   # mac_of NS IFNAME
	ip -n "$1" -br link show dev "$2" | awk '{print $3}'
}

# build PREFIX [CHANGE]: the lab, with at most one change, named CHANGE.
# A subshell, so that set -e stops at the first failing command.
build() (
	set -e
	p=$1 change=${2:-}
	for n in node1 node2 pod1; do
		ip netns add "$p$n"
		ip -n "$p$n" link set lo up
	done
	n1=${p}node1 n2=${p}node2 pod=${p}pod1

	# node1: the pod bridge and the pod's veth, hairpin on the bridge side.
	ip -n "$n1" link add cbr0 type bridge
	ip -n "$n1" addr add 10.244.1.1/24 dev cbr0
	ip -n "$n1" link set cbr0 up
	ip -n "$n1" link add veth0 type veth peer name eth0 netns "$pod"
	ip -n "$n1" link set veth0 master cbr0
	[ "$change" = no-hairpin ] || bridge -n "$n1" link set dev veth0 hairpin on
	ip -n "$n1" link set veth0 up
	pod_addr=10.244.1.2/24
	[ "$change" != address ] || pod_addr=10.244.1.3/24
	ip -n "$pod" addr add "$pod_addr" dev eth0
	ip -n "$pod" link set eth0 up
	ip -n "$pod" route add default via 10.244.1.1
	# A hand-made static fdb entry on the bridge port, for the pod's MAC.
	# replace, not add: the bridge may have learned that MAC already.
	bridge -n "$n1" fdb replace "$(mac_of "$pod" eth0)" dev veth0 master static

	# node1 <-> node2, the underlay.  With peer-ns, node1's end has its
	# peer in pod1 instead (as eth1, pod1 has an eth0 already).
	if [ "$change" = peer-ns ]; then
		ip -n "$n1" link add eth0 type veth peer name eth1 netns "$pod"
		ip -n "$pod" addr add 192.168.100.2/24 dev eth1
		ip -n "$pod" addr add fd00:100::2/64 dev eth1
		ip -n "$pod" link set eth1 up
	else
		ip -n "$n1" link add eth0 type veth peer name eth0 netns "$n2"
		ip -n "$n2" addr add 192.168.100.2/24 dev eth0
		ip -n "$n2" addr add fd00:100::2/64 dev eth0
		ip -n "$n2" link set eth0 up
	fi
	# IPv6 too: its local routes only appear once duplicate address
	# detection is over, which the dump waits for.
	ip -n "$n1" addr add 192.168.100.1/24 dev eth0
	ip -n "$n1" addr add fd00:100::1/64 dev eth0
	ip -n "$n1" link set eth0 up
	# A static ARP entry for a kernel-chosen MAC: compares by its owner.
	if [ "$change" != peer-ns ]; then
		owner=eth0
		[ "$change" != neighbour-owner ] || owner=veth0
		ip -n "$n2" neigh add 192.168.100.1 lladdr "$(mac_of "$n1" "$owner")" dev eth0 nud permanent
	fi

	# node1's flannel-style vxlan, with a MAC set on purpose.
	learning=nolearning
	[ "$change" != vxlan-learning ] || learning=learning
	ip -n "$n1" link add flannel.1 type vxlan id 1 dstport 8472 local 192.168.100.1 dev eth0 "$learning"
	ip -n "$n1" link set flannel.1 mtu 1450 address 0a:58:0a:0a:00:02 up
	ip -n "$n1" addr add 10.244.1.0/32 dev flannel.1
	ip -n "$n1" neigh add 10.244.2.0 lladdr 0a:58:0a:0a:00:03 dev flannel.1 nud permanent
	vtep=192.168.100.2
	[ "$change" != fdb-dst ] || vtep=192.168.100.3
	bridge -n "$n1" fdb append 0a:58:0a:0a:00:03 dev flannel.1 dst "$vtep"
	ip -n "$n1" route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
	[ "$change" != route-table ] || ip -n "$n1" route add 10.96.0.0/12 dev eth0 table 100

	ip netns exec "$n1" sysctl -qw net.ipv4.ip_forward=1
	[ "$change" != sysctl ] || ip netns exec "$n2" sysctl -qw net.ipv4.conf.all.rp_filter=1

	port=22
	[ "$change" != nft ] || port=2222
	ip netns exec "$n2" nft -f - <<-EOF
		table inet lab {
			chain input {
				type filter hook input priority filter; policy accept;
				tcp dport $port counter accept
			}
		}
	EOF
)

teardown() {
	for n in node1 node2 pod1; do
		ip netns del "$1$n" 2>/dev/null
	done
	return 0
}

dump() {   # dump PREFIX: write $work/PREFIX.json
	"$netstate" dump --strip-prefix "$1" "${1}node1" "${1}node2" "${1}pod1" >"$work/$1.json"
}

# ---- the two identical builds ---------------------------------------------------

# build runs set -e in a subshell, which a condition (if, &&, !) would turn
# off: so its status is always taken from a plain call.
build a-; rc_a=$?
build b-; rc_b=$?
if [ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]; then
	ok "build the lab twice (a-, b-)"
else
	not_ok "build the lab twice (a-, b-)"
	exit 1
fi
if dump a- && dump b-; then
	ok "dump both builds"
else
	not_ok "dump both builds"
	exit 1
fi
if out=$("$netstate" compare "$work/a-.json" "$work/b-.json" 2>&1); then
	ok "two builds of the same lab compare equal"
else
	not_ok "two builds of the same lab compare equal" "$out"
fi
cp "$work/a-.json" "$work/a-first.json"
if dump a- && cmp -s "$work/a-.json" "$work/a-first.json"; then
	ok "dumping the same lab twice gives the same bytes"
else
	not_ok "dumping the same lab twice gives the same bytes" \
		"$(diff "$work/a-first.json" "$work/a-.json")"
fi

# What the dump of build a must say, one check a line (JSON path, expected).
/usr/bin/python3 - "$work/a-.json" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
ns = json.load(open(sys.argv[1]))["namespaces"]
n1, n2, pod = ns.get("node1", {}), ns.get("node2", {}), ns.get("pod1", {})
checks = [
    ("namespaces are keyed without the prefix", sorted(ns), ["node1", "node2", "pod1"]),
    ("node1 veth0's peer", n1["links"]["veth0"].get("peer"), "pod1/eth0"),
    ("pod1 eth0's peer", pod["links"]["eth0"].get("peer"), "node1/veth0"),
    ("node1 eth0's peer", n1["links"]["eth0"].get("peer"), "node2/eth0"),
    ("node2 eth0's peer", n2["links"]["eth0"].get("peer"), "node1/eth0"),
    ("veth0 is a cbr0 port with hairpin",
     (n1["links"]["veth0"].get("master"), n1["links"]["veth0"]["bridge_port"].get("hairpin")),
     ("cbr0", True)),
    ("cbr0 is an up bridge", (n1["links"]["cbr0"]["kind"], n1["links"]["cbr0"]["up"]),
     ("bridge", True)),
    ("flannel.1", n1["links"]["flannel.1"],
     {"kind": "vxlan", "up": True, "mtu": 1450, "address": "0a:58:0a:0a:00:02",
      "vxlan": {"id": 1, "port": 8472, "local": "192.168.100.1", "dev": "eth0",
                "learning": False}}),
    ("node1 addresses", n1["addresses"],
     ["cbr0 10.244.1.1/24", "eth0 192.168.100.1/24", "eth0 fd00:100::1/64",
      "flannel.1 10.244.1.0/32", "lo 127.0.0.1/8 scope host", "lo ::1/128 scope host"]),
    ("node1's IPv6 routes, after duplicate address detection",
     sorted(r for r in n1["routes"] if ":" in r.split()[3]),
     ["table local local ::1 dev lo proto kernel scope global metric 0 pref medium",
      "table local local fd00:100::1 dev eth0 proto kernel scope global metric 0 pref medium",
      "table main unicast fd00:100::/64 dev eth0 proto kernel scope global metric 256 pref medium"]),
    ("the onlink route via flannel.1",
     "table main unicast 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto boot scope global onlink"
     in n1["routes"], True),
    ("pod1's default route",
     "table main unicast default via 10.244.1.1 dev eth0 proto boot scope global"
     in pod["routes"], True),
    ("no automatic IPv6 routes", [r for r in text.split('"') if "fe80" in r or "ff00::" in r], []),
    ("node1 neighbours", n1["neighbours"], ["flannel.1 10.244.2.0 lladdr 0a:58:0a:0a:00:03"]),
    ("node2's static ARP entry names its owner", n2["neighbours"],
     ["eth0 192.168.100.1 lladdr mac:node1/eth0"]),
    ("node1 fdb: the vxlan entry and the hand-made one, nothing automatic", n1["fdb"],
     ["flannel.1 0a:58:0a:0a:00:03 dst 192.168.100.2 self permanent",
      "veth0 mac:pod1/eth0 master cbr0 static"]),
    ("node1 forwards", n1["sysctls"].get("net.ipv4.ip_forward"), "1"),
    ("node2 does not", n2["sysctls"].get("net.ipv4.ip_forward"), "0"),
    ("node2's nft table", "table inet lab" in (n2["nft"] or ""), True),
    ("node1 has no nft ruleset", n1["nft"], ""),
    ("no counters in the nft text", "packets" in (n2["nft"] or ""), False),
    ("the only raw MACs are the ones set on purpose",
     sorted(set(m for m in re.findall(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", text)
                if not m.startswith("0a:58:0a:0a:00:"))), []),
    ("no ifindex or nsid", [k for k in ("ifindex", "link_index", "netnsid") if k in text], []),
]
for name, got, want in checks:
    if got == want:
        print(f"ok - dump: {name}")
    else:
        print(f"not ok - dump: {name}\n#   got  {json.dumps(got)}\n#   want {json.dumps(want)}")
EOF

# ---- one change at a time to build b ---------------------------------------------

# expect_difference CHANGE PATTERN WHAT: rebuild b with CHANGE; compare must
# exit 1 and print a line matching the extended regexp PATTERN.
expect_difference() {
	local change=$1 pattern=$2 what=$3 out rc
	teardown b-
	build b- "$change"
	rc=$?
	if [ "$rc" != 0 ] || ! dump b-; then
		not_ok "$what: building or dumping b with $change failed"
		return
	fi
	out=$("$netstate" compare "$work/a-.json" "$work/b-.json" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -qE -- "$pattern" <<<"$out"; then
		ok "$what"
	else
		not_ok "$what (exit $rc, want 1 and a line matching: $pattern)" "$out"
	fi
}

expect_difference route-table '^node1 routes: only in B: table 100 unicast 10\.96\.0\.0/12 dev eth0' \
	"an extra route in table 100"
expect_difference no-hairpin '^node1 links veth0 bridge_port hairpin: A true, B false$' \
	"a missing hairpin flag"
expect_difference address '^pod1 addresses: only in B: eth0 10\.244\.1\.3/24$' \
	"a different pod address"
expect_difference sysctl '^node2 sysctls net\.ipv4\.conf\.all\.rp_filter: A "0", B "1"$' \
	"a different sysctl"
expect_difference peer-ns '^node1 links eth0 peer: A "node2/eth0", B "pod1/eth1"$' \
	"a veth peer in another namespace"
expect_difference vxlan-learning '^node1 links flannel\.1 vxlan learning: A false, B true$' \
	"vxlan learning on"
expect_difference fdb-dst '^node1 fdb: only in B: flannel\.1 0a:58:0a:0a:00:03 dst 192\.168\.100\.3 self permanent$' \
	"a different vxlan fdb destination"
expect_difference neighbour-owner '^node2 neighbours: only in B: eth0 192\.168\.100\.1 lladdr mac:node1/cbr0\|node1/veth0$' \
	"a static ARP entry for another link's MAC"
expect_difference nft '^  \+\s+tcp dport 2222 counter accept$' \
	"a different nft rule"

# ---- compare's own errors ---------------------------------------------------------

echo '{"not": "a dump"}' >"$work/junk.json"
"$netstate" compare "$work/a-.json" "$work/junk.json" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok "compare rejects a file that is not a dump (exit 2)"; else not_ok "compare rejects a file that is not a dump (exit $rc, want 2)"; fi

teardown a-
teardown b-
exit 0
