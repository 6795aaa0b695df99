#!/usr/bin/env bash
# make bench: testbed against the tools people would pick instead, in the
# same run on this machine. See docs/bench.md.
#   bench/run.sh        as root; BENCH_SIZES, BENCH_RUNS, BENCH_OUT, ... below
# Every lab, Mininet's and ip -batch's included, is built inside one scratch
# network and mount namespace: the machine's own network is never touched,
# and the script checks that afterwards as tests/run-bats.sh does.
# Exit status: 0 when every figure could be taken (slow figures and a failed
# `testbed up` are results, shown as such), 1 when something was left behind
# or a measurement broke, 2 on bad usage.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
here=$repo/bench
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

sizes=${BENCH_SIZES:-10 100 1000}
out=${BENCH_OUT:-$repo/build/bench.json}
export TB=${TB:-$repo/bin/testbed}
pingall_max=${BENCH_PINGALL_MAX:-10}
netpol_max=${BENCH_NETPOL_MAX:-100}
settle=${BENCH_SETTLE:-1}

# Pods as nodes x pods-per-node: up to 10 pods on 2 nodes, more on 20.
layout() {
	local pods=$1 nodes=20
	[ "$pods" -gt 10 ] || nodes=2
	if [ $((pods % nodes)) != 0 ] || [ "$pods" -lt "$nodes" ]; then
		die "BENCH_SIZES: $pods pods do not split evenly over $nodes nodes"
	fi
	echo "$nodes $((pods / nodes))"
}

# Deployments for the manifests lab: 10 when they split the pods evenly,
# else the most up to 10 that do.
deployments_for() {
	local d=10
	while [ $(($1 % d)) != 0 ]; do d=$((d - 1)); done
	echo "$d"
}

# Replicas per Deployment for the labs with and without Services: 5 when
# they split the pods evenly, else the most up to 5 that do.
replicas_for() {
	local r=5
	while [ $(($1 % r)) != 0 ]; do r=$((r - 1)); done
	echo "$r"
}

runs_for() {
	if [ -n "${BENCH_RUNS:-}" ]; then echo "$BENCH_RUNS"; elif [ "$1" -le 100 ]; then echo 3; else echo 1; fi
}

# One peer's JSON, or {"error": ...} when the peer script itself failed.
peer() {
	local json rc=0
	json=$("$@" 2>"$work/peer.err") || rc=$?
	if [ "$rc" = 0 ] && jq -e . >/dev/null 2>&1 <<<"$json"; then
		echo "$json"
	else
		jq -nc --arg cmd "${*##*/}" --argjson rc "$rc" --arg err "$(tail -n 5 "$work/peer.err")" \
			'{error: "\($cmd): exit \($rc): \($err)"}'
	fi
}

# Inside the scratch namespace: every size, every run, one JSON line each.
inner() {
	work=$1
	# /run private to the bench, so that ip netns's names live and die here.
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir /run/netns
	ip link set lo up
	export TESTBED_STATE_DIR=$work/state
	local pods nodes per runs run name lab deployments services replicas svc dns np
	for pods in $sizes; do
		read -r nodes per < <(layout "$pods")
		runs=$(runs_for "$pods")
		name=bench$pods
		lab=$work/$name.json
		"$here/gen-topology.sh" "$name" "$nodes" "$per" >"$lab"
		# The same lab, its pods answering UDP too, for the meshes per protocol.
		"$here/gen-topology.sh" "${name}u" "$nodes" "$per" udp >"$work/${name}u.json"
		# The same pods from YAML Deployments, and with 4 TCP and 2 UDP ports
		# each, against $lab (one port each) for what manifests and ports cost.
		deployments=$(deployments_for "$pods")
		"$here/gen-manifests.sh" "${name}m" "$nodes" "$pods" "$deployments" "$work/${name}m"
		"$here/gen-topology.sh" "${name}p" "$nodes" "$per" ports >"$work/${name}p.json"
		# What Services cost: many Services of 3 endpoints over the nodes
		# (BENCH_SERVICES, default as many as the pods: 1000 at 1000 pods)
		# and the same pods without them; then the pods with half as many
		# Services as pods, and without.
		# These labs turn cluster DNS off ("nodns"), so that they measure what
		# Services cost alone; what DNS adds is measured on its own below.
		services=${BENCH_SERVICES:-$pods}
		"$here/gen-services.sh" "${name}s" "$nodes" "$nodes" 3 "$services" nodns >"$work/${name}s.json"
		"$here/gen-services.sh" "${name}s0" "$nodes" "$nodes" 3 0 >"$work/${name}s0.json"
		replicas=$(replicas_for "$pods")
		"$here/gen-services.sh" "${name}w" "$nodes" $((pods / replicas)) "$replicas" $(((pods + 1) / 2)) nodns \
			>"$work/${name}w.json"
		"$here/gen-services.sh" "${name}w0" "$nodes" $((pods / replicas)) "$replicas" 0 >"$work/${name}w0.json"
		# What cluster DNS and the ingress controller cost: the pods with
		# Services and an Ingress (DNS and the controller run), and the same
		# without DNS nor Ingress (neither runs).
		"$here/gen-services.sh" "${name}d" "$nodes" $((pods / replicas)) "$replicas" $(((pods + 1) / 2)) ingress \
			>"$work/${name}d.json"
		"$here/gen-services.sh" "${name}d0" "$nodes" $((pods / replicas)) "$replicas" $(((pods + 1) / 2)) nodns \
			>"$work/${name}d0.json"
		# What NetworkPolicies cost (issue #27): the pods in 4 namespaces, 2
		# TCP and 2 UDP ports each, without policies and with 20; up to
		# BENCH_NETPOL_MAX pods (the conformance check grows as the square).
		if [ "$pods" -le "$netpol_max" ]; then
			"$here/gen-netpol.sh" "${name}n" "$nodes" "$per" 0 >"$work/${name}n.json"
			"$here/gen-netpol.sh" "${name}n" "$nodes" "$per" 20 >"$work/${name}n20.json"
		fi
		"$TB" plan "$lab" >"$work/$name.sh"
		for ((run = 1; run <= runs; run++)); do
			echo "bench: $pods pods ($nodes x $per), run $run of $runs" >&2
			tb=$(peer "$here/measure-testbed.sh" "$lab" "$name" "$pods")
			sleep "$settle"
			meshes=$(peer "$here/measure-meshes.sh" "$work/${name}u.json" "${name}u")
			sleep "$settle"
			variants=$(peer "$here/measure-variants.sh" "$work/${name}m/${name}m.json" "$lab" \
				"$work/${name}p.json" "$pods")
			sleep "$settle"
			svc=$(peer "$here/measure-services.sh" "$work/${name}s.json" "$work/${name}s0.json" \
				"$work/${name}w.json" "$work/${name}w0.json")
			sleep "$settle"
			dns=$(peer "$here/measure-dns.sh" "$work/${name}d.json" "$work/${name}d0.json")
			sleep "$settle"
			np=null
			if [ "$pods" -le "$netpol_max" ]; then
				np=$(peer "$here/measure-netpol.sh" "$work/${name}n.json" "$work/${name}n20.json")
				sleep "$settle"
			fi
			ipb=$(peer "$here/peer-ipbatch.sh" "$work/$name.sh")
			sleep "$settle"
			mn_args=("$pods")
			[ "$pods" -gt "$pingall_max" ] || mn_args+=(--pingall)
			mn=$(peer "$here/peer-mininet.py" "${mn_args[@]}")
			sleep "$settle"
			jq -nc --argjson pods "$pods" --argjson nodes "$nodes" --argjson per "$per" --argjson run "$run" \
				--argjson deployments "$deployments" --argjson tb "$tb" --argjson meshes "$meshes" \
				--argjson variants "$variants" --argjson svc "$svc" --argjson dns "$dns" --argjson np "$np" \
				--argjson ipb "$ipb" --argjson mn "$mn" \
				'{pods: $pods, nodes: $nodes, podsPerNode: $per, deployments: $deployments, run: $run,
				  testbed: $tb, meshes: $meshes, variants: $variants, services: $svc, dns: $dns, netpol: $np,
				  ipBatch: $ipb, mininet: $mn}'
		done
	done
}

if [ "${1:-}" = --inner ]; then
	inner "$2"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (sudo make bench): the labs need namespaces"
[ -x "$TB" ] || die "$TB: not built (make)"
for tool in jq ip bridge mn brctl ping unshare findmnt nsenter nft; do
	command -v "$tool" >/dev/null || die "$tool: not installed (./ci/deps.sh)"
done
for pods in $sizes; do layout "$pods" >/dev/null; done

# What the bench must leave as it found it: the machine's own network, and
# the host-wide settings Mininet's fixLimits would raise.
mininet_sysctls=(fs.file-max net.core.wmem_max net.core.rmem_max net.ipv4.tcp_rmem net.ipv4.tcp_wmem
	net.core.netdev_max_backlog net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2
	net.ipv4.neigh.default.gc_thresh3 net.ipv4.route.max_size kernel.pty.max)
host_snapshot() {
	echo "== netns"; ip netns list 2>/dev/null
	echo "== links"; ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
	echo "== mounts"; findmnt -rn -o TARGET | sort
	echo "== addresses"; ip -o addr show | awk '{ print $2, $3, $4 }' | sort
	echo "== routes"; ip route show table all | sort
	echo "== rules"; ip rule show
	echo "== sysctls"; sysctl net.ipv4.ip_forward "${mininet_sysctls[@]}" 2>&1
}

# CPU time of the whole machine (all CPUs, busy jiffies) from /proc/stat.
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

work=$(mktemp -d /var/tmp/testbed-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$out")"
before=$(host_snapshot)
load_before=$(cat /proc/loadavg)
ticks_before=$(busy_ticks)
t0=$(now_us)
status=0
unshare --net --mount --propagation private -- "$0" --inner "$work" >"$work/runs.jsonl" || status=$?
t1=$(now_us)
ticks_after=$(busy_ticks)
load_after=$(cat /proc/loadavg)
after=$(host_snapshot)

# The bench's own CPU: its waited-for descendants (bash's `times`, second
# line), plus the labs' processes, which are not testbed's children
# (their cgroups' usage, read before each down).
# `times` in a pipe would run in a subshell, which has no children.
times >"$work/times"
read -r child_user child_sys < <(tail -n 1 "$work/times")
to_s() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub(/s$/, "", a[2]); printf "%.2f", a[1] * 60 + a[2] }'; }
bench_cpu=$(awk -v u="$(to_s "$child_user")" -v s="$(to_s "$child_sys")" \
	-v lab="$(jq -s '[.[] | .testbed.labCpuMs // 0, .meshes.labCpuMs // 0, .variants.labCpuMs // 0,
		.services.labCpuMs // 0, .dns.labCpuMs // 0, .netpol.labCpuMs // 0] | add // 0' \
		"$work/runs.jsonl")" \
	'BEGIN { printf "%.2f", u + s + lab / 1000 }')
hz=$(getconf CLK_TCK)

jq -s --arg lb "$load_before" --arg la "$load_after" --argjson cpus "$(nproc)" --arg kernel "$(uname -r)" \
	--argjson wall "$(elapsed_ms "$t0" "$t1")" --argjson total "$(( ticks_after - ticks_before ))" --argjson hz "$hz" \
	--argjson bench "$bench_cpu" --arg sizeList "$sizes" --arg testbed "$("$TB" --version 2>&1 | head -n 1)" \
	--arg mininet "$(dpkg-query -W -f='${Version}' mininet 2>/dev/null || echo unknown)" \
	--arg iproute "$(ip -V 2>&1 | grep -o 'iproute2-[^,]*' || echo unknown)" \
	-f "$here/summary.jq" "$work/runs.jsonl" >"$out"
"$here/report.sh" "$out"
echo "bench: figures in $out"

if [ "$status" != 0 ]; then
	echo "bench: the run inside the scratch namespace failed (exit $status)" >&2
	status=1
fi
if [ "$before" != "$after" ]; then
	echo "bench: the machine's network or settings changed during the bench:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	status=1
fi
if jq -e '.problems | length > 0' "$out" >/dev/null; then
	jq -r '.problems[] | "bench: " + .' "$out" >&2
	status=1
fi
exit "$status"
