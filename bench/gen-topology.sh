#!/usr/bin/env bash
# Prints a lab of NODES nodes with PODS pods each, behind the default
# gateway, using the bundled images: bench/gen-topology.sh NAME NODES PODS [udp|ports]
# Each pod serves HTTP on 8000 (the default, port "http"). With udp, its
# server answers UDP on port 5353 too (port "dns"); with ports, it serves
# 4 TCP ports (8000-8003) and 2 UDP ports (5353, 5354), for what ports cost.
set -euo pipefail
name=${1:?usage: gen-topology.sh NAME NODES PODS [udp|ports]} nodes=${2:?} pods=${3:?} mode=${4:-}
case "$mode" in
"" | udp | ports) ;;
*) echo "gen-topology.sh: $mode: not udp or ports" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson pods "$pods" --arg repo "$repo" --arg mode "$mode" '{
	name: $name,
	description: "\($nodes) nodes with \($pods) pods each, generated for make bench",
	images: {node: "\($repo)/images/node.tar.zst", pod: "\($repo)/images/pod.tar.zst"},
	nodes: [range(1; $nodes + 1) as $n | {
		name: "node\($n)",
		pods: [range(1; $pods + 1) as $p | {name: "p\($n)-\($p)"} +
			(if $mode == "udp" then {ports: [{name: "http", containerPort: 8000},
				{name: "dns", containerPort: 5353, protocol: "UDP"}]}
			elif $mode == "ports" then {ports: [{name: "http", containerPort: 8000},
				{name: "admin", containerPort: 8001}, {name: "metrics", containerPort: 8002},
				{name: "grpc", containerPort: 8003},
				{name: "dns", containerPort: 5353, protocol: "UDP"},
				{name: "syslog", containerPort: 5354, protocol: "UDP"}]}
			else {} end)]
	}]
}'
