#!/usr/bin/env bash
# Prints a lab of NODES nodes with PODS pods each, behind the default
# gateway, using the bundled images: bench/gen-topology.sh NAME NODES PODS [udp]
# With udp, each pod's server answers UDP on port 5353 too (port "dns"),
# beside HTTP on 8000.
set -euo pipefail
name=${1:?usage: gen-topology.sh NAME NODES PODS [udp]} nodes=${2:?} pods=${3:?} udp=${4:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson pods "$pods" --arg repo "$repo" --arg udp "$udp" '{
	name: $name,
	description: "\($nodes) nodes with \($pods) pods each, generated for make bench",
	images: {node: "\($repo)/images/node.tar.zst", pod: "\($repo)/images/pod.tar.zst"},
	nodes: [range(1; $nodes + 1) as $n | {
		name: "node\($n)",
		pods: [range(1; $pods + 1) as $p | {name: "p\($n)-\($p)"} +
			(if $udp == "udp" then {ports: [{name: "http", containerPort: 8000},
				{name: "dns", containerPort: 5353, protocol: "UDP"}]} else {} end)]
	}]
}'
