#!/usr/bin/env bash
# One run of what cluster DNS and the ingress controller cost (issue #26),
# inside the bench's scratch namespace:
#   bench/measure-dns.sh WITH PLAIN    prints one JSON object
# WITH: the size's pods from Deployments, half as many Services, and one
# Ingress (bench/gen-services.sh ... ingress), so that up runs the DNS pod
# (dnsmasq) and the ingress controller (nginx) beside them; PLAIN: the same
# pods and Services with "cluster": {"dns": false} and no Ingress, so that
# neither runs. They come up in the order plain, with, with, plain
# (measure-testbed.sh --no-check: up's wall clock and phases, memory, down
# and what it left); each lab's figure is its faster up (a load only ever
# slows an up down). During WITH's first turn, a DNS probe against an HTTP
# probe (bench/dns-probes.sh). Needs TB and TESTBED_STATE_DIR. A failed up
# or probe is a result (bench/summary.jq counts it as a problem); only a
# broken bench exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage='usage: measure-dns.sh WITH PLAIN'
with=${1:?$usage} plain=${2:?$usage}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
settle=${BENCH_SETTLE:-1}

pods_of() { jq '[.objects[] | select(.kind == "Deployment") | .spec.replicas] | add // 0' "$1"; }
services_of() { jq '[.objects[] | select(.kind == "Service")] | length' "$1"; }
name_of() { jq -r .name "$1"; }

labs=(plain with with plain)
results='{"with": [], "plain": []}'
for ((i = 0; i < ${#labs[@]}; i++)); do
	lab=${labs[i]}
	file=$with
	[ "$lab" = with ] || file=$plain
	during=()
	[ "$i" != 1 ] || during=(--during "$here/dns-probes.sh")
	[ "$i" = 0 ] || sleep "$settle"
	result=$("$here/measure-testbed.sh" "$file" "$(name_of "$file")" "$(pods_of "$file")" --no-check \
		${during[@]+"${during[@]}"})
	results=$(jq -c --arg lab "$lab" --argjson r "$result" '.[$lab] += [$r]' <<<"$results")
done

jq -nc --argjson pods "$(pods_of "$with")" --argjson services "$(services_of "$with")" --argjson r "$results" \
	--argjson order "$(printf '%s\n' "${labs[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')" '{
		pods: $pods, services: $services, order: $order, with: $r.with, plain: $r.plain,
		probes: ($r.with[0].during // null),
		labCpuMs: ([$r[][] | .labCpuMs // 0] | add)
	}'
