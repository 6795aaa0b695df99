#!/usr/bin/env bash
# One run of what NetworkPolicies cost (issue #27), inside the bench's
# scratch namespace:
#   bench/measure-netpol.sh PLAIN WITH    prints one JSON object
# PLAIN: the size's pods in 4 namespaces, each serving 2 TCP and 2 UDP
# ports, without policies; WITH: the same with 20 NetworkPolicies
# (bench/gen-netpol.sh). PLAIN comes up (measure-testbed.sh --no-check:
# up, memory, down and what it left) and, while it is up
# (bench/netpol-turns.sh):
#  1. `testbed apply` of WITH's 20 policies against the apply of its first
#     one alone, in the order one, twenty, twenty, one (each undone by an
#     untimed `testbed delete`), and whether every machine kept its PID
#     (from before the first apply to after the last delete);
#  2. the 20 applied again (untimed) and the conformance check (`testbed
#     check NAME`, no expect list: every pod to every other on each of the
#     4 ports, expected as the policies say), BENCH_NETPOL_CHECKS times
#     (default 3), each failure a false one: the evaluator and the rules
#     agree, so only the probing can fail; then the policies deleted;
#  3. against plain probes: the policies deleted, every pod to every other
#     on the same 4 ports, all passing (`check --expect`), twice.
# Needs TB and TESTBED_STATE_DIR. A failed up, apply or check is a result
# (bench/summary.jq counts it as a problem); only a broken bench exits
# non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage='usage: measure-netpol.sh PLAIN WITH'
plain=${1:?$usage} with=${2:?$usage}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pods=$(jq '[.nodes[].pods | length] | add' "$plain")
# The policies as a file apply reads (a List), and the first alone.
jq '{apiVersion: "v1", kind: "List", items: [.objects[] | select(.kind == "NetworkPolicy")]}' "$with" \
	>"$work/policies.json"
jq '.items |= .[:1]' "$work/policies.json" >"$work/policy-one.json"
policies=$(jq '.items | length' "$work/policies.json")
[ "$policies" -gt 0 ] || die "$with: no NetworkPolicy"
# Plain probes: the 4 ports of the conformance check, every pod to every other.
jq -n '[{proto: "http", port: 8000}, {proto: "http", port: 8001}, {proto: "udp", port: 5353},
	{proto: "udp", port: 5354}] | map({from: "*", to: "*"} + .)' >"$work/plain-expect.json"

result=$(NETPOL_DIR=$work "$here/measure-testbed.sh" "$plain" "$(jq -r .name "$plain")" "$pods" --no-check \
	--during "$here/netpol-turns.sh")
jq -nc --argjson pods "$pods" --argjson policies "$policies" --argjson r "$result" '{
	pods: $pods, policies: $policies, lab: ($r | del(.during)), during: $r.during, labCpuMs: $r.labCpuMs
}'
