#!/usr/bin/env bash
# The main job on a bundled example lab: install, build, build the images,
# then walk through the article's two-node lab (or the topology given):
# bring it up, look around as the article does, trace a packet, check what
# reaches what, and take it down again.
#   sudo ./ci/demo.sh [TOPOLOGY]
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-topologies/kubenet-two-nodes.json}
if [ "$(id -u)" != 0 ]; then
	echo "ci/demo.sh: run as root (sudo ./ci/demo.sh): it installs packages and builds namespaces" >&2
	exit 2
fi
./ci/deps.sh
make -j"$(nproc)" >/dev/null
make images

bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$'\033[1m' plain=$'\033[0m'
fi
step() {
	printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"
	"$@"
}

lab=$(jq -r .name "$file")
trap 'bin/testbed down "$lab" >/dev/null 2>&1 || true' EXIT
step bin/testbed validate "$file"
step bin/testbed up "$file"
step bin/testbed status "$lab"
echo
echo "# What up did, as the commands that build the same network by hand (the saved plan):"
printf '\n%s$ bin/testbed plan %s | grep -v "^#" | head -n 30%s\n' "$bold" "$lab" "$plain"
plan=$(bin/testbed plan "$lab")
grep -v '^#' <<<"$plan" | grep . | head -n 30
echo
echo "# The lab as a picture, for Markdown (mermaid) or Graphviz (--format dot):"
step bin/testbed graph "$lab"

if [ "$lab" = kubenet-two ]; then
	echo
	echo "# Section 3.2: pod-a (node1) to pod-c (node2) goes pod-a -> cbr0 -> node1 eth0 ->"
	echo "# default gateway -> node2 -> cbr0 -> pod-c: three routers, so TTL 64 arrives as 61."
	step bin/testbed exec "$lab" pod-a -- ping -c 2 10.0.2.2
	echo
	echo "# The answer names the pod that served it, and the client address it saw: no NAT."
	step bin/testbed exec "$lab" pod-a -- wget -q -O - http://10.0.2.2:8000/
	echo
	echo "# ARP: pod-a only learned cbr0's address (its default gateway), never pod-c's."
	step bin/testbed exec "$lab" pod-a -- ip neigh
	echo
	echo "# Figure 3.3: the gateway routes each node's pod CIDR to that node."
	step bin/testbed exec "$lab" gateway -- ip route
	echo
	echo "# The same path, hop by hop, from each namespace's route and neighbour tables."
	step bin/testbed trace "$lab" pod-a pod-c
fi

echo
echo "# Proof: the lab's expectations (without any, the Kubernetes model: every pod reaches"
echo "# every other pod over http and ping, unNATed), probed from inside the namespaces."
step bin/testbed check "$lab"

step bin/testbed down "$file"
trap - EXIT
