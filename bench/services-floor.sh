#!/usr/bin/env bash
# The kernel's floor for loading a lab's rule sets, for
# bench/measure-services.sh: each node's nft rule sets of a saved plan (its
# kube-proxy table and its egress table, one file, one `nft -f`) loaded
# into a fresh network namespace of its own, by the nft command, in the
# bench's scratch namespace. What that costs is libnftables' parsing and
# the kernel's checking and committing: what any tool pays, testbed
# included.
#   bench/services-floor.sh PLAN.json MODE...     prints one JSON object
# MODE is "sequential" (one node after the other) or "parallel" (as many
# at a time as this machine has CPUs, xargs -P); each MODE given is one
# timed round, over namespaces made (untimed) just before it and deleted
# after. Prints {nodes, bytes, jobs, sequentialMs: [...], parallelMs: [...],
# cpuMs: [...]}, cpuMs each round's CPU time over its nft processes, in the
# order the rounds ran.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
plan=${1:?usage: services-floor.sh PLAN.json MODE...}
shift
work=$(mktemp -d)
# The namespaces of a round that failed (rounds run in subshells).
cleanup() {
	local ns
	for ns in /run/netns/bench-floor-*; do
		[ ! -e "$ns" ] || ip netns delete "${ns##*/}" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# One file per machine with nft steps, its rule sets in plan order.
jq -r '[.steps[] | select(.kind == "nft")] | group_by(.machine)[] | .[0].machine' "$plan" >"$work/machines"
mapfile -t machines <"$work/machines"
[ "${#machines[@]}" -gt 0 ] || die "$plan: no nft steps"
for i in "${!machines[@]}"; do
	jq -r --arg m "${machines[i]}" '.steps[] | select(.kind == "nft" and .machine == $m) | .ruleset' "$plan" \
		>"$work/rules$i.nft"
done
bytes=$(cat "$work"/rules*.nft | wc -c)
jobs=$(nproc)

# Loads file I into namespace bench-floor-I.
cat >"$work/load.sh" <<'EOF'
#!/bin/sh
exec nsenter --net=/run/netns/bench-floor-"$1" nft -f "$2/rules$1.nft"
EOF
chmod +x "$work/load.sh"

# The CPU time this shell's waited-for children have used, in milliseconds
# (bash's times: its second line, user then system). `times` itself runs
# here, not in a command substitution, whose subshell has no children.
children_cpu_ms() {
	times >"$work/times"
	tail -n 1 "$work/times" | awk '{ ms = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s$/, "", a[2]); ms += (a[1] * 60 + a[2]) * 1000 }
		printf "%.0f\n", ms }' >"$work/cpu"
}

# One round: "WALL CPU", milliseconds (CPU: the nft processes' user and
# system time, which is libnftables' parsing and the kernel's work).
round() {
	local mode=$1 i t0 t1 c0 c1
	for i in "${!machines[@]}"; do ip netns add "bench-floor-$i"; done
	children_cpu_ms
	c0=$(cat "$work/cpu")
	t0=$(now_us)
	if [ "$mode" = sequential ]; then
		for i in "${!machines[@]}"; do "$work/load.sh" "$i" "$work"; done
	else
		printf '%s\n' "${!machines[@]}" | xargs -P "$jobs" -I{} "$work/load.sh" {} "$work"
	fi
	t1=$(now_us)
	children_cpu_ms
	c1=$(cat "$work/cpu")
	for i in "${!machines[@]}"; do ip netns delete "bench-floor-$i"; done
	echo "$(elapsed_ms "$t0" "$t1") $((c1 - c0))"
}

seq_ms=() par_ms=() cpu_ms=()
for mode in "$@"; do
	case "$mode" in
	sequential | parallel) read -r wall cpu < <(round "$mode") ;;
	*) die "services-floor.sh: $mode: not sequential or parallel" ;;
	esac
	[ -n "${cpu:-}" ] || die "services-floor.sh: a $mode round failed"
	if [ "$mode" = sequential ]; then seq_ms+=("$wall"); else par_ms+=("$wall"); fi
	cpu_ms+=("$cpu")
	unset wall cpu
done
list() { printf '%s\n' "$@" | jq -Rsc 'split("\n") | map(select(. != "") | tonumber)'; }
jq -nc --argjson nodes "${#machines[@]}" --argjson bytes "$bytes" --argjson jobs "$jobs" \
	--argjson seq "$(list "${seq_ms[@]}")" --argjson par "$(list "${par_ms[@]}")" --argjson cpu "$(list "${cpu_ms[@]}")" \
	'{nodes: $nodes, bytes: $bytes, jobs: $jobs, sequentialMs: $seq, parallelMs: $par, cpuMs: $cpu}'
