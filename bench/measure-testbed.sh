#!/usr/bin/env bash
# One run of testbed on one lab, inside the bench's scratch namespace:
# up, check of the full mesh, memory, down, and what down left behind.
#   bench/measure-testbed.sh TOPOLOGY NAME PODS [--no-check] [--during CMD]
# prints one JSON object. --no-check leaves the check out ("check": null),
# for labs measured for their up and memory alone (bench/measure-variants.sh).
# --during runs CMD NAME while the lab is up, after the memory is read and
# before down; what it prints, a JSON value, is "during" (null without it;
# an {"error": ...} when it fails), for figures taken on a running lab
# (bench/measure-services.sh).
# Needs TB (the testbed binary) and TESTBED_STATE_DIR in the environment.
# A failed up is a result, not an error: it is recorded, the lab is taken
# down, and the script still succeeds; only a broken bench exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
topology=${1:?usage: measure-testbed.sh TOPOLOGY NAME PODS [--no-check] [--during CMD]} name=${2:?} pods=${3:?}
shift 3
run_check=true during_cmd=
while [ $# -gt 0 ]; do
	case "$1" in
	--no-check) run_check=false ;;
	--during) during_cmd=${2:?measure-testbed.sh: --during needs a command}; shift ;;
	*) die "measure-testbed.sh: $1: unknown option" ;;
	esac
	shift
done
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
up_timeout=${BENCH_UP_TIMEOUT:-900}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Computed here so that it is known even when up fails before status can say.
cgroup=$(lab_cgroup "$name")

before=$(scratch_snapshot)

# up
t0=$(now_us)
up_rc=0
timeout --kill-after=30 "$up_timeout" "$TB" up "$topology" >"$work/up.log" 2>&1 || up_rc=$?
t1=$(now_us)
up_ms=$(elapsed_ms "$t0" "$t1")
up_error=null
[ "$up_rc" = 0 ] || up_error=$(tail -n 3 "$work/up.log" | jq -Rs '.')

timings=null check=null memory=null during=null lab_cpu_ms=null lab_pids=()
if [ "$up_rc" = 0 ]; then
	"$TB" status "$name" --json >"$work/status.json"
	timings=$(jq -c '.labs[0].plan.timings' "$work/status.json")
	# The cgroup a machine is really in, to catch a drift from the name above.
	first=$(jq -r '.labs[0].machines[0].pid' "$work/status.json")
	seen=$(awk -F: '$1 == "0" { print $3 }' "/proc/$first/cgroup")
	[ "$(cgroup2_mount)$seen" = "$cgroup" ] ||
		die "the lab's processes are in cgroup $seen, not $cgroup as computed"

	# check: the Kubernetes model's full mesh (the generated topology has no
	# expect list). Exit 1 means probes failed, which is a result.
	if [ "$run_check" = true ]; then
		t0=$(now_us)
		check_rc=0
		"$TB" check "$name" --format json >"$work/check.json" 2>"$work/check.err" || check_rc=$?
		t1=$(now_us)
		check_ms=$(elapsed_ms "$t0" "$t1")
		if [ "$check_rc" -le 1 ] && jq -e .summary "$work/check.json" >/dev/null 2>&1; then
			check=$(jq -c --argjson wall "$check_ms" --argjson rc "$check_rc" '{
				ok: ($rc == 0), wallMs: $wall, durationMs: .durationMs,
				probes: .summary.total, passed: .summary.passed, failed: .summary.failed,
				probesPerSec: (if $wall > 0 then (.summary.total * 1000 / $wall | floor) else null end)
			}' "$work/check.json")
		else
			check=$(jq -nc --argjson wall "$check_ms" --argjson rc "$check_rc" --arg err "$(tail -n 3 "$work/check.err")" \
				'{ok: false, wallMs: $wall, exit: $rc, error: $err}')
		fi
	fi

	# memory: every process of the lab's cgroup, and the pods' alone (each
	# pod's init and what runs in its PID namespace: its server).
	mapfile -t lab_pids <"$cgroup/cgroup.procs"
	read -r lab_kib lab_n < <(pss_kib "${lab_pids[@]}")
	mapfile -t pod_roots < <(jq -r '.labs[0].machines[] | select(.kind == "pod") | .pid' "$work/status.json")
	mapfile -t pod_pids < <(in_pid_namespaces "$cgroup/cgroup.procs" "${pod_roots[@]}")
	read -r pod_kib pod_n < <(pss_kib "${pod_pids[@]}")
	memory=$(jq -nc --argjson lk "$lab_kib" --argjson ln "$lab_n" --argjson pk "$pod_kib" --argjson pn "$pod_n" \
		--argjson pods "$pods" --argjson pm "${#pod_roots[@]}" '{
			labPssKiB: $lk, labProcesses: $ln, podPssKiB: $pk, podProcesses: $pn, podMachines: $pm,
			pssKiBPerPod: ($lk / $pods | floor), podPssKiBPerPod: ($pk / $pods | floor)
		}')
	if [ -n "$during_cmd" ]; then
		during_rc=0
		"$during_cmd" "$name" >"$work/during.json" 2>"$work/during.err" || during_rc=$?
		if [ "$during_rc" = 0 ] && jq -e . "$work/during.json" >/dev/null 2>&1; then
			during=$(jq -c . "$work/during.json")
		else
			during=$(jq -nc --arg cmd "${during_cmd##*/}" --argjson rc "$during_rc" \
				--arg err "$(tail -n 3 "$work/during.err")" '{error: "\($cmd): exit \($rc): \($err)"}')
		fi
	fi
	lab_cpu_ms=$(cpu_usage_ms "$cgroup")
fi

# down: after a failed up there should be nothing to take down (up removes
# what it made); down is still run, so that a leftover cannot survive the bench.
t0=$(now_us)
down_rc=0
"$TB" down "$name" >"$work/down.log" 2>&1 || down_rc=$?
t1=$(now_us)
down_ms=$(elapsed_ms "$t0" "$t1")

# What is left: named netns, links and mounts of the scratch namespace,
# processes of the lab, its cgroup, its state.
after=$(scratch_snapshot)
left=()
[ "$before" = "$after" ] ||
	left+=("scratch namespace: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')")
for pid in "${lab_pids[@]}"; do
	if [ -e "/proc/$pid" ] && [ "$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)" = "${cgroup#"$(cgroup2_mount)"}" ]; then
		left+=("process $pid")
	fi
done
[ ! -d "$cgroup" ] || left+=("cgroup $cgroup")
[ ! -e "$TESTBED_STATE_DIR/$name" ] || left+=("state $TESTBED_STATE_DIR/$name")
if [ "$up_rc" = 0 ]; then
	down_ok=$([ "$down_rc" = 0 ] && echo true || echo false)
else
	down_ok=null
fi

jq -nc --argjson upRc "$up_rc" --argjson upMs "$up_ms" --argjson upErr "$up_error" --argjson timings "$timings" \
	--argjson check "$check" --argjson memory "$memory" --argjson downMs "$down_ms" --argjson downRc "$down_rc" \
	--argjson downOk "$down_ok" --argjson labCpuMs "$lab_cpu_ms" --argjson during "$during" \
	--argjson left "$(printf '%s\n' "${left[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')" '{
		up: {ok: ($upRc == 0), exit: $upRc, wallMs: $upMs, timingsMs: $timings, error: $upErr},
		check: $check, memory: $memory, during: $during,
		down: {ok: $downOk, exit: $downRc, wallMs: $downMs, clean: ($left | length == 0), leftovers: $left},
		labCpuMs: $labCpuMs
	}'
