#!/usr/bin/env bash
# The iproute2 peer: the same wiring as testbed's lab, built with `ip -batch`
# and deleted again, inside the bench's scratch namespace (whose /run/netns
# must be private to it).
#   bench/peer-ipbatch.sh PLAN.sh       prints one JSON object
# PLAN.sh is `testbed plan TOPOLOGY`: the lab's wiring as shell commands.
# Its `ip -n NS ...` and `bridge -n NS ...` lines become one batch per
# namespace (one ip process each: `ip -batch` has no per-line namespace),
# run so that a namespace's batch comes after the one that creates its
# links; `ip netns add` lines become one batch; sysctl lines run as they are,
# then each nft rule set (a here-document) through nft -f in its namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
plan=${1:?usage: peer-ipbatch.sh PLAN.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Split the script. Any command this converter does not know is an error:
# a silently dropped line would make the peer do less than testbed.
mkdir "$work/ns"
awk -v dir="$work/ns" -v root="$work/root.batch" -v sys="$work/sysctl.sh" -v nft="$work/nft.sh" -v order="$work/order" '
	function emit(ns, line) {
		if (!(ns in seen)) { seen[ns] = 1; depth[ns] = 0 }
		print line > (dir "/" ns)
	}
	# An nft rule set (a here-document): its body to a file of its own, loaded
	# by nft in its namespace after the links, as testbed loads it.
	heredoc != "" { if ($0 == heredoc) { heredoc = ""; close(body) } else print > body; next }
	$1 == "ip" && $2 == "netns" && $3 == "exec" && $5 == "nft" && $6 == "-f" && $7 == "-" && $8 ~ /^<</ {
		heredoc = $8; sub(/^<<\047?/, "", heredoc); sub(/\047$/, "", heredoc)
		body = dir "/../nft." (++rulesets)
		print "ip netns exec " $4 " nft -f " body > nft
		next
	}
	/^[[:space:]]*(#|$)/ || /^set -eu$/ { next }
	$1 == "ip" && $2 == "netns" && $3 == "add" { print "netns add " $4 > root; names[++n] = $4; next }
	$1 == "ip" && $2 == "netns" && $3 == "exec" && $5 == "sysctl" { print > sys; next }
	$1 == "ip" && $2 == "-n" {
		ns = $3; line = $0; sub(/^ip -n [^ ]+ /, "", line)
		# A veth whose peer goes to another namespace: that namespace
		# must wait for this one.
		for (i = 4; i < NF; i++) if ($i == "netns") parent[$(i + 1)] = ns
		emit(ns, line); next
	}
	$1 == "bridge" && $2 == "-n" && $4 == "link" && $5 == "set" && $6 == "dev" && $8 == "hairpin" {
		emit($3, "link set dev " $7 " type bridge_slave hairpin " $9); next
	}
	{ print "peer-ipbatch: cannot convert line " NR ": " $0 > "/dev/stderr"; bad = 1 }
	END {
		if (bad) exit 2
		# Depth: how many creators stand above a namespace; batches run by depth.
		for (ns in seen) { d = 0; for (p = ns; p in parent; p = parent[p]) d++; print d, ns > order }
	}' "$plan"
touch "$work/sysctl.sh" "$work/nft.sh"
sort -n -k1,1 -s "$work/order" | awk '{ print $2 }' >"$work/order.sorted"
mapfile -t namespaces <"$work/order.sorted"
mapfile -t netns_names < <(awk '{ print $3 }' "$work/root.batch")
commands=$(( $(cat "$work/root.batch" "$work/sysctl.sh" "$work/nft.sh" "$work"/ns/* | wc -l) ))

# create
t0=$(now_us)
ip -batch "$work/root.batch"
for ns in "${namespaces[@]}"; do
	ip -n "$ns" -batch "$work/ns/$ns"
done
sh -e "$work/sysctl.sh"
sh -e "$work/nft.sh"
t1=$(now_us)
create_ms=$(elapsed_ms "$t0" "$t1")
processes=$((1 + ${#namespaces[@]} + $(wc -l <"$work/sysctl.sh") + $(wc -l <"$work/nft.sh")))

# It must work, not only exist: the first pod reaches the last one (on
# another node, through the gateway, when there are two nodes or more).
# Pods: namespaces with a default route that create no link of their own.
pods=$(grep -E '^ip -n [^ ]+ route add default via [0-9.]+$' "$plan" | awk '{ print $3 }' | grep -vxF -f <(awk '$1 == "ip" && $2 == "-n" && $4 == "link" && $5 == "add" { print $3 }' "$plan") || true)
src=$(echo "$pods" | head -n 1)
dst_ns=$(echo "$pods" | tail -n 1)
dst=$(awk -v ns="$dst_ns" '$1 == "ip" && $3 == ns && $4 == "addr" && $5 == "add" { sub(/\/.*/, "", $6); print $6; exit }' "$plan")
reachable=false
if [ -n "$src" ] && [ -n "$dst" ] && ip netns exec "$src" ping -c 1 -W 2 "$dst" >/dev/null 2>&1; then
	reachable=true
fi

# delete: the namespaces go, and the kernel takes their links with them.
t0=$(now_us)
printf 'netns delete %s\n' "${netns_names[@]}" | ip -batch -
t1=$(now_us)
delete_ms=$(elapsed_ms "$t0" "$t1")
left=$(ip netns list | wc -l)

jq -nc --argjson c "$create_ms" --argjson d "$delete_ms" --argjson n "$commands" --argjson p "$processes" \
	--argjson ns "${#netns_names[@]}" --argjson r "$reachable" --argjson left "$left" --arg from "$src" --arg to "$dst" \
	'{createMs: $c, deleteMs: $d, commands: $n, ipProcesses: $p, namespaces: $ns,
	  reachable: $r, probe: "\($from) -> \($to)", clean: ($left == 0)}'
