#!/usr/bin/env bash
# Writes a lab of NODES nodes and PODS pods whose pods come from Kubernetes
# YAML, as a cluster's repository keeps it: DIR/k8s/ holds DEPLOYMENTS
# Deployments of PODS / DEPLOYMENTS replicas, one file each, and DIR/NAME.json
# the topology (the nodes, without pods, and "manifests": ["k8s/"]).
#   bench/gen-manifests.sh NAME NODES PODS DEPLOYMENTS DIR
# The scheduler spreads the replicas over the nodes (fewest pods first), so
# that the lab has the pods bench/gen-topology.sh NAME NODES PODS/NODES
# writes inline: as many, one TCP port each (8000, named http, as an inline
# pod's default), behind the same gateway, with the same images.
set -euo pipefail
usage='usage: gen-manifests.sh NAME NODES PODS DEPLOYMENTS DIR'
name=${1:?$usage} nodes=${2:?} pods=${3:?} deployments=${4:?} dir=${5:?}
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ $((pods % deployments)) != 0 ]; then
	echo "gen-manifests.sh: $pods pods do not split evenly into $deployments Deployments" >&2
	exit 2
fi
replicas=$((pods / deployments))
mkdir -p "$dir/k8s"
for ((d = 1; d <= deployments; d++)); do
	# Fields a real Deployment carries that testbed stands in for (the
	# image, resources, a probe) are there too: reading them is part of
	# what loading manifests costs.
	printf -v app 'web%02d' "$d"
	cat >"$dir/k8s/$app.yaml" <<-EOF
		apiVersion: apps/v1
		kind: Deployment
		metadata:
		  name: $app
		  labels:
		    app: $app
		spec:
		  replicas: $replicas
		  selector:
		    matchLabels:
		      app: $app
		  template:
		    metadata:
		      labels:
		        app: $app
		        tier: web
		    spec:
		      containers:
		        - name: web
		          image: registry.example/bench/web:1.0
		          ports:
		            - name: http
		              containerPort: 8000
		          readinessProbe:
		            httpGet:
		              path: /
		              port: http
		          resources:
		            requests:
		              cpu: 10m
		              memory: 16Mi
	EOF
done
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson pods "$pods" --argjson deployments "$deployments" \
	--arg repo "$repo" '{
	name: $name,
	description: "\($nodes) nodes, \($pods) pods from \($deployments) Deployments in k8s/, generated for make bench",
	images: {node: "\($repo)/images/node.tar.zst", pod: "\($repo)/images/pod.tar.zst"},
	nodes: [range(1; $nodes + 1) as $n | {name: "node\($n)"}],
	manifests: ["k8s/"]
}' >"$dir/$name.json"
