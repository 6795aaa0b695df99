# shellcheck shell=bash
# Helpers shared by the bench scripts (sourced, not run).

# Microseconds since the epoch, without a fork: bash's EPOCHREALTIME.
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$t"
}

# Milliseconds between two now_us readings, with one decimal.
elapsed_ms() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

# Sum of Pss (KiB) of the given PIDs' smaps_rollup; a process that exited
# meanwhile counts as 0. Prints "KIB COUNT" (COUNT: processes read).
pss_kib() {
	local pid total=0 n=0 kib
	for pid in "$@"; do
		kib=$(awk '/^Pss:/ { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
		[ -n "$kib" ] || continue
		total=$((total + kib))
		n=$((n + 1))
	done
	echo "$total $n"
}

# The PIDs, read from FILE (a cgroup's cgroup.procs), that share a PID
# namespace with one of ROOTS: a pod's init and its server, which the image's
# server pool forks into the pod's PID namespace as the pool's own child (not
# the init's). One stat for all: a namespace is its /proc/PID/ns/pid's inode.
#   in_pid_namespaces FILE ROOTS...
in_pid_namespaces() {
	local file=$1
	shift
	{
		printf '/proc/%s/ns/pid\n' "$@" | xargs -r stat -L -c 'root %i' 2>/dev/null || true
		sed 's|.*|/proc/&/ns/pid|' "$file" | xargs -r stat -L -c 'proc %i %n' 2>/dev/null || true
	} | awk '$1 == "root" { want[$2] = 1; next } $2 in want { split($3, p, "/"); print p[3] }'
}

# The cgroup2 mount point, from our own mountinfo (not assumed: hybrid
# hosts mount it at /sys/fs/cgroup/unified).
cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' \
		/proc/self/mountinfo | head -n 1
}

# Lab NAME's cgroup, as orchestrator/lab/cgroup.c names it: NAME-FNV1a(realpath
# of the state root, TESTBED_STATE_DIR), under testbed/ in the cgroup2 hierarchy.
lab_cgroup() {
	local root h=2166136261 i c
	root=$(realpath "$TESTBED_STATE_DIR")
	for ((i = 0; i < ${#root}; i++)); do
		printf -v c '%d' "'${root:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
	done
	printf '%s/testbed/%s-%08x\n' "$(cgroup2_mount)" "$1" "$h"
}

# The CPU time a lab's cgroup (its path) has used, in milliseconds; null when unknown.
cpu_usage_ms() {
	awk '$1 == "usage_usec" { printf "%.0f", $2 / 1000 }' "$1/cpu.stat" 2>/dev/null || echo null
}

# What a lab could leave in this (scratch) namespace: named netns, links, mounts.
scratch_snapshot() {
	echo "== netns"; ip netns list 2>/dev/null
	echo "== links"; ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
	echo "== mounts"; findmnt -rn -o TARGET | sort
}

die() {
	echo "bench: $*" >&2
	exit 2
}

# check_turn LAB FILE WORK: one `testbed check LAB --expect FILE`, timed:
# {ok, exit, wallMs, probes, passed, failed, probesPerSec, failures}, or
# {ok: false, wallMs, exit, error} when check itself fails. $TB is testbed;
# WORK holds its output.
check_turn() {
	local lab=$1 file=$2 work=$3 rc=0 t0 t1 wall
	t0=$(now_us)
	"$TB" check "$lab" --expect "$file" --format json >"$work/check.json" 2>"$work/check.err" || rc=$?
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

# check_turns LAB WORK A B: checks of WORK/A.json and WORK/B.json in the
# order A, B, B, A (so that neither always runs on a warmer lab), as
# {A: [turn, turn], B: [turn, turn]}.
check_turns() {
	local lab=$1 work=$2 a=$3 b=$4 turns kind
	turns=$(jq -nc --arg a "$a" --arg b "$b" '{($a): [], ($b): []}')
	for kind in "$a" "$b" "$b" "$a"; do
		turns=$(jq -c --arg k "$kind" --argjson r "$(check_turn "$lab" "$work/$kind.json" "$work")" '.[$k] += [$r]' <<<"$turns")
	done
	printf '%s\n' "$turns"
}
