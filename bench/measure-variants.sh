#!/usr/bin/env bash
# One run of the same pods written three ways, inside the bench's scratch
# namespace, for what manifests and ports cost (issue #24):
#   - MANIFESTS: the pods from a folder of YAML Deployments (gen-manifests.sh);
#   - INLINE: the same number of pods written inline, one port each
#     (gen-topology.sh);
#   - PORTS: INLINE with 4 TCP and 2 UDP ports per pod (gen-topology.sh ... ports).
# First, `testbed validate` and `testbed plan --format json` of MANIFESTS and
# of INLINE, once untimed, then 7 times timed (milliseconds: one run says
# little). Then `testbed up`, memory and down of each lab, back to back
# (bench/measure-testbed.sh --no-check), twice, in the order inline,
# manifests, ports, ports, manifests, inline: each lab has an early and a
# late turn, so that a load that grows or fades during the run (the kernel
# still freeing the namespaces of the labs before, a neighbour's job) weighs
# on every lab alike, and summary.jq keeps each lab's faster up, since such
# a load only ever slows an up down.
#   bench/measure-variants.sh MANIFESTS INLINE PORTS PODS    prints one JSON object
# Needs TB (the testbed binary) and TESTBED_STATE_DIR in the environment. A
# failed validate, plan or up is a result (bench/summary.jq counts it as a
# problem); only a broken bench exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage='usage: measure-variants.sh MANIFESTS INLINE PORTS PODS'
declare -A topology=([manifests]=${1:?$usage} [inline]=${2:?$usage} [ports]=${3:?$usage})
pods=${4:?$usage}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
settle=${BENCH_SETTLE:-1}
load_runs=7
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs "$@" (output to $work/out, $work/err) once untimed, which also reads
# the files into the page cache, then load_runs times, timed. Prints
# {ok, exit, error, ms: [each timed run]}; after a failure, no timed runs.
timed() {
	local rc=0 i t0 t1 ms=()
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	if [ "$rc" = 0 ]; then
		for ((i = 0; i < load_runs; i++)); do
			t0=$(now_us)
			"$@" >"$work/out" 2>"$work/err" || rc=$?
			t1=$(now_us)
			[ "$rc" = 0 ] || break
			ms+=("$(elapsed_ms "$t0" "$t1")")
		done
	fi
	jq -nc --argjson rc "$rc" --arg err "$(tail -n 3 "$work/err")" \
		--argjson ms "$(printf '%s\n' "${ms[@]}" | jq -Rsc 'split("\n") | map(select(. != "") | tonumber)')" \
		'{ok: ($rc == 0), exit: $rc, error: (if $rc == 0 then null else $err end), ms: $ms}'
}

# validate, then plan as JSON (to a file, as a user's would go: writing the
# plan out is part of planning). What the last plan said is kept: the pods
# it has, and how many went on each node (the scheduler's spread).
load() {
	local validate plan pods=null bytes=null
	validate=$(timed "$TB" validate "$1")
	plan=$(timed "$TB" plan "$1" --format json)
	if jq -e .ok <<<"$plan" >/dev/null; then
		bytes=$(stat -c %s "$work/out")
		pods=$(jq -c '[.machines[] | select(.kind == "pod") | .node] | group_by(.) | map(length) |
			{pods: add, nodes: length, minPerNode: min, maxPerNode: max}' "$work/out")
	fi
	jq -nc --argjson v "$validate" --argjson p "$plan" --argjson bytes "$bytes" --argjson pods "$pods" \
		'{validate: $v, plan: ($p + {bytes: $bytes}), pods: $pods}'
}

load_manifests=$(load "${topology[manifests]}")
load_inline=$(load "${topology[inline]}")

labs=(inline manifests ports ports manifests inline)
results='{"inline": [], "manifests": [], "ports": []}'
for ((i = 0; i < ${#labs[@]}; i++)); do
	lab=${labs[i]}
	[ "$i" = 0 ] || sleep "$settle"
	result=$("$here/measure-testbed.sh" "${topology[$lab]}" "$(jq -r .name "${topology[$lab]}")" "$pods" --no-check)
	results=$(jq -c --arg lab "$lab" --argjson r "$result" '.[$lab] += [$r]' <<<"$results")
done

# Each lab: its two turns, in the order they ran.
jq -nc --argjson lm "$load_manifests" --argjson li "$load_inline" --argjson r "$results" \
	--argjson order "$(printf '%s\n' "${labs[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')" '{
		load: {manifests: $lm, inline: $li},
		order: $order, inline: $r.inline, manifests: $r.manifests, ports: $r.ports,
		labCpuMs: ([$r[][] | .labCpuMs // 0] | add)
	}'
