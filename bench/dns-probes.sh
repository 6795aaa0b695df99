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

# One check of KIND's file: {ok, wallMs, probes, passed, failed,
# probesPerSec, failures}, or {ok: false, error} when check itself fails.
check() {
	local kind=$1 rc=0 t0 t1 wall
	t0=$(now_us)
	"$TB" check "$name" --expect "$work/$kind.json" --format json >"$work/check.json" 2>"$work/check.err" || rc=$?
	t1=$(now_us)
	wall=$(elapsed_ms "$t0" "$t1")
	if [ "$rc" -le 1 ] && jq -e .summary "$work/check.json" >/dev/null 2>&1; then
		jq -c --argjson wall "$wall" --argjson rc "$rc" '{
			ok: ($rc == 0 and .summary.failed == 0), exit: $rc, wallMs: $wall, probes: .summary.total,
			passed: .summary.passed, failed: .summary.failed,
			probesPerSec: (if $wall > 0 then (.summary.total * 1000 / $wall | floor) else null end),
			failures: [.probes[]? | select(.ok == false) | "\(.from) -> \(.to): \(.error // .got)"][:3]
		}' "$work/check.json"
	else
		jq -nc --argjson wall "$wall" --argjson rc "$rc" --arg err "$(tail -n 3 "$work/check.err")" \
			'{ok: false, wallMs: $wall, exit: $rc, error: $err}'
	fi
}

turns='{"http": [], "dns": []}'
for kind in http dns dns http; do
	turns=$(jq -c --arg k "$kind" --argjson r "$(check "$kind")" '.[$k] += [$r]' <<<"$turns")
done
jq -c --argjson targets "$targets" --argjson sources "$(jq .sources "$work/expect.json")" '{
	targets: $targets, sources: $sources, order: ["http", "dns", "dns", "http"], turns: .,
	http: ([.http[] | select(.ok == true)] | min_by(.wallMs)),
	dns: ([.dns[] | select(.ok == true)] | min_by(.wallMs))
}' <<<"$turns"
