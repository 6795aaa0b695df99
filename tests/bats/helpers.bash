# Shared by the bats suites. Load with: load helpers
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# TESTBED_BIN picks another build of the program, such as the sanitizer
# one (make test-bats-asan); the suites only ever call "$TESTBED".
TESTBED=${TESTBED_BIN:-$REPO/bin/testbed}
export REPO TESTBED
# The helpers users get (make install): the lab suites bring their labs up
# and down through them, so they are exercised on every run.
load "$REPO/bats/testbed/load"

# Lab suites must run in a scratch network namespace (tests/run-bats.sh
# makes one), never in the machine's own: a bug must not be able to reach
# the real network. The scratch namespace plays the host.
require_lab_sandbox() {
	[ "$(id -u)" = 0 ] || skip "lab suites need root; run them with: sudo tests/run-bats.sh"
	if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
		echo "refusing to build labs in the machine's initial network namespace; use tests/run-bats.sh" >&2
		return 1
	fi
	# shellcheck disable=SC2015 # meant: either image missing runs the error branch
	[ -f "$REPO/images/pod.tar.zst" ] && [ -f "$REPO/images/node.tar.zst" ] ||
		{ echo "images missing: run make images first" >&2; return 1; }
}

# Each suite keeps its state apart; images are unpacked once per run.
use_lab_dirs() {
	export TESTBED_STATE_DIR=$BATS_FILE_TMPDIR/state
	export TESTBED_CACHE_DIR=${TESTBED_CACHE_DIR:-$BATS_RUN_TMPDIR/cache}
}

# For a suite about one lab that needs nothing more: brings FILE up once
# (setup_file), gives every test the suite's dirs (setup), and takes the
# lab down at the end (teardown_file). Call it at the top of the suite.
# shellcheck disable=SC2317 # bats calls the functions it defines by name
lab_suite() {
	LAB_SUITE_FILE=$1
	setup_file() {
		require_lab_sandbox
		use_lab_dirs
		testbed_up "$LAB_SUITE_FILE"
	}
	setup() {
		use_lab_dirs
	}
	teardown_file() {
		use_lab_dirs
		testbed_teardown
	}
}

# What a lab must never change in the namespace that plays the host.
host_snapshot() {
	echo "== links"; ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//'
	echo "== addresses"; ip -o addr show
	echo "== routes"; ip route show table all
	echo "== rules"; ip rule show
	echo "== nft"; nft list ruleset 2>/dev/null
	echo "== mounts"; findmnt -rn -o TARGET,FSTYPE | sort
	echo "== forwarding"; cat /proc/sys/net/ipv4/ip_forward
}

# PIDs of a lab's machines, from status --json.
lab_pids() {
	"$TESTBED" status --json "$1" | jq -r '.labs[].machines[].pid'
}

# Asserts that none of the given PIDs runs any more. An exited process
# whose entry waits for the host's init to reap it (state Z) has left
# nothing but that entry, and down does not wait for another init's
# reaping (docs/performance.md).
assert_pids_gone() {
	local pid state
	for pid in "$@"; do
		state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || true
		if [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]; then
			echo "process $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline)) still runs (state $state)" >&2
			return 1
		fi
	done
}

# Runs CMD in TARGET of LAB: testbed exec with bats' run.
tbx() {
	local lab=$1 target=$2
	shift 2
	"$TESTBED" exec "$lab" "$target" -- "$@"
}

# The host-side PID of a lab machine, for tools the image lacks (nsenter).
machine_pid() {
	"$TESTBED" status --json "$1" | jq -r --arg n "$2" '.labs[].machines[] | select(.name == $n) | .pid'
}

# Starts a capture in the background and waits until it listens. Prints
# the capture's PID; its output goes to FILE. Usage:
#   capture_start FILE COUNT CMD...   (CMD runs tcpdump -l -n -c COUNT ...)
capture_start() {
	local file=$1
	shift
	"$@" >"$file" 2>"$file.err" &
	local pid=$! i
	for i in $(seq 100); do
		grep -q "listening on" "$file.err" 2>/dev/null && break
		sleep 0.05
	done
	echo "$pid"
}

# Waits (at most 5 s) for a capture started by capture_start to finish.
capture_wait() {
	local pid=$1 i
	# shellcheck disable=SC2034 # i only counts the tries
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
