#!/usr/bin/env bash
# A DNS probe against an HTTP probe, on one running lab with cluster DNS
# (bench/gen-services.sh ... ingress), for bench/measure-dns.sh (run by
# measure-testbed.sh --during):
#   bench/dns-probes.sh NAME       prints one JSON object
# Two expectation files, checked with `testbed check NAME --expect`: every
# pod of namespace default to each of the lab's first K Services of that
# namespace by name over DNS ({"from": "default/", "to": "svcK.default",
# "proto": "dns", "addresses": [its cluster IP]}: the pod's own resolver,
# its search list and kube-dns's DNAT to the DNS pod, and the answer must be
# exactly the Service's address), and the same pods to each of their first
# K pods over http. K = BENCH_PROBE_TARGETS (default 50), or fewer when the
# lab has fewer Services or pods. The same sources, as many targets: the
# probes differ in what they ask alone. Each is checked twice, in the order
# http, dns, dns, http; a kind's figure is its faster turn among those where
# every probe passed (a failing probe, often a timeout, must not count as
# fast); a turn with failures is reported with them (bench/summary.jq
# counts them as problems). Needs TB and TESTBED_STATE_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
name=${1:?usage: dns-probes.sh NAME}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
want=${BENCH_PROBE_TARGETS:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$TB" plan "$name" --format json >"$work/plan.json"
jq --argjson want "$want" '
	[.services[] | select(.namespace == "default" and .clusterIP)] as $svc |
	[.machines[] | select(.kind == "pod" and .namespace == "default")] as $pods |
	([$want, ($svc | length), ($pods | length)] | min) as $k |
	{dns: $svc[:$k] | map({from: "default/", to: "\(.name).\(.namespace)", proto: "dns", addresses: [.clusterIP]}),
	 http: $pods[:$k] | map({from: "default/", to: "default/\(.name)", proto: "http"}),
	 sources: ($pods | length)}' \
	"$work/plan.json" >"$work/expect.json"
jq '.dns' "$work/expect.json" >"$work/dns.json"
jq '.http' "$work/expect.json" >"$work/http.json"
targets=$(jq '.http | length' "$work/expect.json")
if [ "$targets" = 0 ] || [ "$(jq '.dns | length' "$work/expect.json")" != "$targets" ]; then
	die "$name: no Services or pods to probe"
fi

turns=$(check_turns "$name" "$work" http dns)
jq -c --argjson targets "$targets" --argjson sources "$(jq .sources "$work/expect.json")" '{
	targets: $targets, sources: $sources, order: ["http", "dns", "dns", "http"], turns: .,
	http: ([.http[] | select(.ok == true)] | min_by(.wallMs)),
	dns: ([.dns[] | select(.ok == true)] | min_by(.wallMs))
}' <<<"$turns"
