#!/usr/bin/env bash
# One run of the full mesh over each of http and udp, on a lab whose pods
# serve both (bench/gen-topology.sh ... udp), inside the bench's scratch
# namespace: up, one check per protocol (check NAME --expect, every pod to
# every other pod), down.
#   bench/measure-meshes.sh TOPOLOGY NAME     prints one JSON object
# Needs TB (the testbed binary) and TESTBED_STATE_DIR in the environment.
# As in measure-testbed.sh, a failed up or check is a result; only a broken
# bench exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
topology=${1:?usage: measure-meshes.sh TOPOLOGY NAME} name=${2:?}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
up_timeout=${BENCH_UP_TIMEOUT:-900}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cgroup=$(lab_cgroup "$name")

up_rc=0
timeout --kill-after=30 "$up_timeout" "$TB" up --quiet "$topology" >"$work/up.log" 2>&1 || up_rc=$?
meshes='{}' lab_cpu_ms=null
if [ "$up_rc" = 0 ]; then
	for proto in http udp; do
		printf '[{"from": "*", "to": "*", "proto": "%s"}]\n' "$proto" >"$work/$proto.json"
		t0=$(now_us)
		check_rc=0
		"$TB" check "$name" --expect "$work/$proto.json" --format json >"$work/check.json" 2>"$work/check.err" ||
			check_rc=$?
		t1=$(now_us)
		wall=$(elapsed_ms "$t0" "$t1")
		if [ "$check_rc" -le 1 ] && jq -e .summary "$work/check.json" >/dev/null 2>&1; then
			mesh=$(jq -c --argjson wall "$wall" --argjson rc "$check_rc" '{
				ok: ($rc == 0), wallMs: $wall, durationMs: .durationMs,
				probes: .summary.total, passed: .summary.passed, failed: .summary.failed,
				probesPerSec: (if $wall > 0 then (.summary.total * 1000 / $wall | floor) else null end)
			}' "$work/check.json")
		else
			mesh=$(jq -nc --argjson wall "$wall" --argjson rc "$check_rc" --arg err "$(tail -n 3 "$work/check.err")" \
				'{ok: false, wallMs: $wall, exit: $rc, error: $err}')
		fi
		meshes=$(jq -c --arg p "$proto" --argjson m "$mesh" '.[$p] = $m' <<<"$meshes")
	done
	lab_cpu_ms=$(cpu_usage_ms "$cgroup")
fi
down_rc=0
"$TB" down "$name" >"$work/down.log" 2>&1 || down_rc=$?
up_error=null
[ "$up_rc" = 0 ] || up_error=$(tail -n 3 "$work/up.log" | jq -Rs '.')
left=false
[ ! -d "$cgroup" ] && [ ! -e "$TESTBED_STATE_DIR/$name" ] || left=true

jq -nc --argjson upRc "$up_rc" --argjson upErr "$up_error" --argjson meshes "$meshes" --argjson downRc "$down_rc" \
	--argjson left "$left" --argjson labCpuMs "$lab_cpu_ms" '{
		up: {ok: ($upRc == 0), exit: $upRc, error: $upErr},
		http: $meshes.http, udp: $meshes.udp,
		down: {ok: ($downRc == 0), exit: $downRc, clean: ($left | not)},
		labCpuMs: $labCpuMs
	}'
