#!/usr/bin/env bash
# One run of what Services cost (issue #25), inside the bench's scratch
# namespace:
#   bench/measure-services.sh MANY NONE WITH WITHOUT    prints one JSON object
# MANY: a lab of many Services of 3 endpoints each (bench/gen-services.sh;
# 1000 over 20 nodes at 1000 pods), NONE: its pods without Services; WITH:
# PODS pods with PODS/2 Services, WITHOUT: the same pods without them.
#  1. The rules: `testbed validate` and `testbed plan --format json` of MANY
#     (once untimed, then 3 timed runs each), the plan's nft rule sets
#     loaded by `nft -f` into fresh namespaces (bench/services-floor.sh: one
#     node after the other, and as many at a time as CPUs), `testbed up` of
#     MANY (measure-testbed.sh: its phases, "rules" the rule sets' share of
#     network), the floor again in the other order, then what the running
#     lab costs the commands that read its saved plan
#     (bench/services-readers.sh: status, status --json, check of one probe)
#     against the same for NONE.
#  2. WITHOUT and WITH come up in the order without, with, with, without;
#     each lab's figure is its faster up (a load only ever slows an up
#     down). During WITH's first turn, a service probe against a pod probe
#     (bench/services-probes.sh). WITH's rule sets' floor before and after.
# Needs TB and TESTBED_STATE_DIR. A failed up, check or floor is a result
# (bench/summary.jq counts it as a problem); only a broken bench exits
# non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage='usage: measure-services.sh MANY NONE WITH WITHOUT'
many=${1:?$usage} none=${2:?$usage} with=${3:?$usage} without=${4:?$usage}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
settle=${BENCH_SETTLE:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pods_of() { jq '[.objects[] | select(.kind == "Deployment") | .spec.replicas] | add // 0' "$1"; }
services_of() { jq '[.objects[] | select(.kind == "Service")] | length' "$1"; }
name_of() { jq -r .name "$1"; }

# "$@" once untimed (checked), then 3 times timed: {ok, exit, error, ms: [...]}.
timed3() {
	local rc=0 i t0 t1 ms=()
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	if [ "$rc" = 0 ]; then
		for i in 1 2 3; do
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

# The floor of PLAN's rule sets, in the rounds MODE...
floor() {
	local plan=$1 out rc=0
	shift
	out=$("$here/services-floor.sh" "$plan" "$@" 2>"$work/floor.err") || rc=$?
	if [ "$rc" = 0 ]; then
		echo "$out"
	else
		jq -nc --argjson rc "$rc" --arg err "$(tail -n 3 "$work/floor.err")" '{error: "services-floor.sh: exit \($rc): \($err)"}'
	fi
}

# 1. The rules of MANY.
validate=$(timed3 "$TB" validate "$many")
plan=$(timed3 "$TB" plan "$many" --format json)
plan_bytes=null floor_before=null floor_after=null
if jq -e .ok <<<"$plan" >/dev/null; then
	cp "$work/out" "$work/many-plan.json"
	plan_bytes=$(stat -c %s "$work/many-plan.json")
	floor_before=$(floor "$work/many-plan.json" sequential parallel)
	sleep "$settle"
fi
many_run=$("$here/measure-testbed.sh" "$many" "$(name_of "$many")" "$(pods_of "$many")" --no-check \
	--during "$here/services-readers.sh")
if [ -f "$work/many-plan.json" ]; then
	sleep "$settle"
	floor_after=$(floor "$work/many-plan.json" parallel sequential)
fi
sleep "$settle"
none_run=$("$here/measure-testbed.sh" "$none" "$(name_of "$none")" "$(pods_of "$none")" --no-check \
	--during "$here/services-readers.sh")

# 2. The same pods with and without Services, and the probes; the floor of
# WITH's rule sets before and after, as for MANY.
with_floor_before=null with_floor_after=null
if "$TB" plan "$with" --format json >"$work/with-plan.json" 2>"$work/err"; then
	with_floor_before=$(floor "$work/with-plan.json" sequential parallel)
else
	with_floor_before=$(jq -nc --arg err "$(tail -n 3 "$work/err")" '{error: "plan of the lab with Services: \($err)"}')
fi
labs=(without with with without)
results='{"with": [], "without": []}'
for ((i = 0; i < ${#labs[@]}; i++)); do
	lab=${labs[i]}
	file=$with
	[ "$lab" = with ] || file=$without
	during=()
	[ "$i" != 1 ] || during=(--during "$here/services-probes.sh")
	sleep "$settle"
	result=$("$here/measure-testbed.sh" "$file" "$(name_of "$file")" "$(pods_of "$file")" --no-check \
		${during[@]+"${during[@]}"})
	results=$(jq -c --arg lab "$lab" --argjson r "$result" '.[$lab] += [$r]' <<<"$results")
done
if [ -s "$work/with-plan.json" ]; then
	sleep "$settle"
	with_floor_after=$(floor "$work/with-plan.json" parallel sequential)
fi

jq -nc --argjson validate "$validate" --argjson plan "$plan" --argjson planBytes "$plan_bytes" \
	--argjson services "$(services_of "$many")" --argjson nodes "$(jq '.nodes | length' "$many")" \
	--argjson floorBefore "$floor_before" --argjson floorAfter "$floor_after" \
	--argjson withFloorBefore "$with_floor_before" --argjson withFloorAfter "$with_floor_after" \
	--argjson many "$many_run" --argjson none "$none_run" \
	--argjson withServices "$(services_of "$with")" --argjson withPods "$(pods_of "$with")" \
	--argjson r "$results" \
	--argjson order "$(printf '%s\n' "${labs[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')" '
	# Two floor results (before and after) as one, their rounds together.
	def merge($a; $b): if $a == null then null
		elif ($a.error // $b.error) then {error: ($a.error // $b.error)}
		else $a + {sequentialMs: ($a.sequentialMs + ($b.sequentialMs // [])),
			parallelMs: ($a.parallelMs + ($b.parallelMs // []))} end;
	{
		many: {
			services: $services, nodes: $nodes, endpointsPerService: 3,
			validate: $validate, plan: ($plan + {bytes: $planBytes}),
			floor: merge($floorBefore; $floorAfter),
			lab: $many, withoutServices: $none
		},
		upVsPlain: {pods: $withPods, services: $withServices, order: $order, with: $r.with, without: $r.without,
			floor: merge($withFloorBefore; $withFloorAfter)},
		probes: ($r.with[0].during // null),
		labCpuMs: ([$many.labCpuMs // 0, $none.labCpuMs // 0, ($r[][] | .labCpuMs // 0)] | add)
	}'
