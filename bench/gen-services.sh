#!/usr/bin/env bash
# Prints a lab of NODES nodes whose pods come from DEPLOYMENTS Deployments of
# REPLICAS replicas each (app=app1..., container port 8000 named http),
# behind SERVICES ClusterIP Services, all inline in "objects", for what
# Services cost (issue #25):
#   bench/gen-services.sh NAME NODES DEPLOYMENTS REPLICAS SERVICES [ingress|nodns]
# Service svcK (K from 1) selects app(K mod DEPLOYMENTS + 1) on port 80,
# targetPort http: each has REPLICAS endpoints. With SERVICES 0 the lab has
# the same pods and no Service, the baseline of what Services add. The
# scheduler spreads the replicas over the nodes (fewest pods first), so
# DEPLOYMENTS x REPLICAS a multiple of NODES puts as many on every node.
# A lab with Services runs cluster DNS (docs/topology.md, Cluster DNS). For
# what DNS and the ingress controller cost (issue #26): "ingress" adds one
# Ingress of class nginx (host bench.example, / to svc1), so that the
# controller runs too; "nodns" sets "cluster": {"dns": false}, so that
# neither runs.
set -euo pipefail
usage='usage: gen-services.sh NAME NODES DEPLOYMENTS REPLICAS SERVICES [ingress|nodns]'
name=${1:?$usage} nodes=${2:?$usage} deployments=${3:?$usage} replicas=${4:?$usage} services=${5:?$usage}
extra=${6:-}
case "$extra" in
'' | nodns) ;;
ingress) [ "$services" -gt 0 ] || { echo "gen-services.sh: an Ingress needs a Service" >&2; exit 2; } ;;
*) echo "$usage" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson deployments "$deployments" \
	--argjson replicas "$replicas" --argjson services "$services" --arg repo "$repo" --arg extra "$extra" '{
	name: $name,
	description: "\($nodes) nodes, \($deployments) Deployments of \($replicas) replicas, \($services) Services, generated for make bench",
	images: {node: "\($repo)/images/node.tar.zst", pod: "\($repo)/images/pod.tar.zst"},
	nodes: [range(1; $nodes + 1) as $n | {name: "node\($n)"}],
	objects: ([range(1; $deployments + 1) as $d | {
		apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "app\($d)"},
		spec: {replicas: $replicas, selector: {matchLabels: {app: "app\($d)"}},
			template: {metadata: {labels: {app: "app\($d)"}},
				spec: {containers: [{name: "web", image: "registry.example/bench/web:1.0",
					ports: [{name: "http", containerPort: 8000}]}]}}}
	}] + [range(1; $services + 1) as $k | {
		apiVersion: "v1", kind: "Service", metadata: {name: "svc\($k)"},
		spec: {selector: {app: "app\($k % $deployments + 1)"},
			ports: [{name: "http", port: 80, targetPort: "http"}]}
	}] + (if $extra == "ingress" then [{
		apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: {name: "bench"},
		spec: {ingressClassName: "nginx", rules: [{host: "bench.example", http: {paths: [{
			path: "/", pathType: "Prefix", backend: {service: {name: "svc1", port: {number: 80}}}}]}}]}
	}] else [] end))
} + (if $extra == "nodns" then {cluster: {dns: false}} else {} end)'
