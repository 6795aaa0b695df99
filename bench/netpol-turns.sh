#!/usr/bin/env bash
# The NetworkPolicy figures on one running lab without policies, for
# bench/measure-netpol.sh (run by measure-testbed.sh --during):
#   bench/netpol-turns.sh NAME       prints one JSON object
# NETPOL_DIR holds policies.json (the policies, a List), policy-one.json
# (the first alone) and plain-expect.json (every pod to every other on the
# conformance check's ports). See measure-netpol.sh for what is measured.
# Needs TB and TESTBED_STATE_DIR; BENCH_NETPOL_CHECKS conformance checks
# (default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
name=${1:?usage: netpol-turns.sh NAME}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}" "${NETPOL_DIR:?}"
checks=${BENCH_NETPOL_CHECKS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every machine's PID, as status records them.
pids() {
	"$TB" status --json "$name" | jq -c '[.. | objects | select(has("pid")) | .pid]'
}

# apply_turn FILE: one timed `testbed apply NAME FILE`: {ok, exit, wallMs, error}.
apply_turn() {
	local rc=0 t0 t1
	t0=$(now_us)
	"$TB" apply "$name" "$1" >"$work/apply.out" 2>"$work/apply.err" || rc=$?
	t1=$(now_us)
	jq -nc --argjson rc "$rc" --argjson wall "$(elapsed_ms "$t0" "$t1")" --arg err "$(tail -n 3 "$work/apply.err")" \
		'{ok: ($rc == 0), exit: $rc, wallMs: $wall, error: (if $rc == 0 then null else $err end)}'
}

# undo FILE: `testbed delete NAME FILE`, untimed; false when it failed.
undo() {
	"$TB" delete "$name" "$1" >"$work/delete.out" 2>"$work/delete.err"
}

# The machines outside the cluster, whose egress probes are no cells of the table.
"$TB" plan "$name" --format json | jq -c '[.machines[] | select(.kind == "external") | .name]' >"$work/external.json"
before=$(pids)
turns='{"one": [], "twenty": []}'
order=(one twenty twenty one)
undone=true
for ((i = 0; i < ${#order[@]}; i++)); do
	kind=${order[i]}
	file=$NETPOL_DIR/policies.json
	[ "$kind" = twenty ] || file=$NETPOL_DIR/policy-one.json
	turn=$(apply_turn "$file")
	turns=$(jq -c --arg k "$kind" --argjson t "$turn" '.[$k] += [$t]' <<<"$turns")
	if jq -e .ok <<<"$turn" >/dev/null; then
		undo "$file" || undone=false
	fi
done
if "$TB" apply "$name" "$NETPOL_DIR/policies.json" >"$work/apply.out" 2>"$work/apply.err"; then
	# The policies are in: the conformance check, as often as asked.
	runs='[]'
	for ((k = 1; k <= checks; k++)); do
		rc=0
		t0=$(now_us)
		"$TB" check "$name" --format json >"$work/check.json" 2>"$work/check.err" || rc=$?
		t1=$(now_us)
		wall=$(elapsed_ms "$t0" "$t1")
		if [ "$rc" -le 1 ] && jq -e .summary "$work/check.json" >/dev/null 2>&1; then
			run=$(jq -c --argjson wall "$wall" --argjson rc "$rc" --slurpfile ext "$work/external.json" '
				def cell: .proto != "ping" and (.to as $to | $ext[0] | index([$to]) | not);
				{
				ok: ($rc == 0 and .summary.failed == 0), exit: $rc, wallMs: $wall, probes: .summary.total,
				passed: .summary.passed, failed: .summary.failed,
				cells: ([.probes[] | select(cell)] | length),
				denied: ([.probes[] | select(cell and .expected == "fail")] | length),
				failures: [.probes[] | select(.ok == false) | "\(.from) -> \(.to) \(.proto):\(.port): \(.error // .got)"][:3]
			}' "$work/check.json")
		else
			run=$(jq -nc --argjson wall "$wall" --argjson rc "$rc" --arg err "$(tail -n 3 "$work/check.err")" \
				'{ok: false, wallMs: $wall, exit: $rc, error: $err}')
		fi
		runs=$(jq -c --argjson r "$run" '. + [$r]' <<<"$runs")
	done
	undo "$NETPOL_DIR/policies.json" || undone=false
else
	runs=$(jq -nc --arg err "$(tail -n 3 "$work/apply.err")" '{error: "apply of the policies for the checks: \($err)"}')
fi
# Plain probes on the same ports, the policies gone.
after=$(pids)
cp "$NETPOL_DIR/plain-expect.json" "$work/plain.json"
plain='[]'
for k in 1 2; do
	plain=$(jq -c --argjson r "$(check_turn "$name" "$work/plain.json" "$work")" '. + [$r]' <<<"$plain")
done

jq -nc --argjson turns "$turns" --argjson checks "$runs" --argjson plain "$plain" \
	--argjson before "$before" --argjson after "$after" --argjson undone "$undone" '{
	apply: ($turns + {order: ["one", "twenty", "twenty", "one"], pidsUnchanged: ($before == $after),
		machines: ($before | length), undone: $undone}),
	checks: $checks, plain: $plain
}'
