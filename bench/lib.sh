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
