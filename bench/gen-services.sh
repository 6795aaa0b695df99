#!/usr/bin/env bash
# Prints a lab of NODES nodes whose pods come from DEPLOYMENTS Deployments of
# REPLICAS replicas each (app=app1..., container port 8000 named http),
# behind SERVICES ClusterIP Services, all inline in "objects", for what
# Services cost (issue #25):
#   bench/gen-services.sh NAME NODES DEPLOYMENTS REPLICAS SERVICES
# Service svcK (K from 1) selects app(K mod DEPLOYMENTS + 1) on port 80,
# targetPort http: each has REPLICAS endpoints. With SERVICES 0 the lab has
# the same pods and no Service, the baseline of what Services add. The
# scheduler spreads the replicas over the nodes (fewest pods first), so
# DEPLOYMENTS x REPLICAS a multiple of NODES puts as many on every node.
set -euo pipefail
usage='usage: gen-services.sh NAME NODES DEPLOYMENTS REPLICAS SERVICES'
name=${1:?$usage} nodes=${2:?$usage} deployments=${3:?$usage} replicas=${4:?$usage} services=${5:?$usage}
repo=$(cd "$(dirname "$0")/.." && pwd)
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson deployments "$deployments" \
	--argjson replicas "$replicas" --argjson services "$services" --arg repo "$repo" '{
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
	}])
}'
