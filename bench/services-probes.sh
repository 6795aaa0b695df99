#!/usr/bin/env bash
# A service probe against a pod probe, on one running lab with Services
# (bench/gen-services.sh), for bench/measure-services.sh (run by
# measure-testbed.sh --during):
#   bench/services-probes.sh NAME       prints one JSON object
# Two expectation files, checked with `testbed check NAME --expect`: every
# pod of namespace default to each of the lab's first T Services there over
# http ({"from": "default/", "to": "service:default/svcK"}), and every such
# pod to each of its first T pods (plan order), T = BENCH_PROBE_TARGETS
# (default 50) or fewer when the lab has fewer Services or pods. The lab's
# own pods and Services alone: a lab with cluster DNS or an ingress
# controller has theirs in other namespaces (kube-dns has no http port, its
# pod no HTTP server). The same sources, as many
# targets, so that the probes differ in what they reach alone: a pod's
# address, or a cluster IP that kube-proxy's rules DNAT to an endpoint
# (whose answer must come from one of the Service's pods). Each is checked
# twice, in the order pods, services, services, pods; a kind's figure is
# its faster turn (bench/lib.sh: check_turns).
# Needs TB and TESTBED_STATE_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
name=${1:?usage: services-probes.sh NAME}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
want=${BENCH_PROBE_TARGETS:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$TB" plan "$name" --format json >"$work/plan.json"
jq --argjson want "$want" '
	[.services[] | select(.namespace == "default" and .clusterIP)] as $svc |
	[.machines[] | select(.kind == "pod" and .namespace == "default")] as $pods |
	([$want, ($svc | length), ($pods | length)] | min) as $t |
	{service: $svc[:$t] | map({from: "default/", to: "service:\(.namespace)/\(.name)", proto: "http"}),
	 pod: $pods[:$t] | map({from: "default/", to: "default/\(.name)", proto: "http"})}' \
	"$work/plan.json" >"$work/expect.json"
jq '.service' "$work/expect.json" >"$work/service.json"
jq '.pod' "$work/expect.json" >"$work/pod.json"
targets=$(jq '.pod | length' "$work/expect.json")
if [ "$targets" = 0 ] || [ "$(jq '.service | length' "$work/expect.json")" != "$targets" ]; then
	die "$name: no Services or pods to probe"
fi

turns=$(check_turns "$name" "$work" pod service)
jq -c --argjson targets "$targets" '{
	targets: $targets, order: ["pod", "service", "service", "pod"], turns: .,
	pod: ([.pod[] | select(.wallMs and .error == null)] | min_by(.wallMs)),
	service: ([.service[] | select(.wallMs and .error == null)] | min_by(.wallMs))
}' <<<"$turns"
