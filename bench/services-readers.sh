#!/usr/bin/env bash
# What reading a running lab's saved plan costs the commands that read it,
# for bench/measure-services.sh (run by measure-testbed.sh --during):
#   bench/services-readers.sh NAME      prints one JSON object
# `testbed status NAME`, `status NAME --json` and `check NAME --expect` of a
# single ping (from the lab's first pod to its second: the probe is nothing,
# reading the plan and opening the lab is all), 3 times each, the median of
# each, and the saved plan's size. Needs TB and TESTBED_STATE_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
name=${1:?usage: services-readers.sh NAME}
: "${TB:?TB must name the testbed binary}" "${TESTBED_STATE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The median of 3 timed runs of "$@" (output discarded), in milliseconds;
# a failure stops the script.
median3() {
	local i t0 t1 ms=()
	for i in 1 2 3; do
		t0=$(now_us)
		"$@" >/dev/null 2>"$work/err" || die "$*: $(tail -n 1 "$work/err")"
		t1=$(now_us)
		ms+=("$(elapsed_ms "$t0" "$t1")")
	done
	printf '%s\n' "${ms[@]}" | sort -n | sed -n 2p
}

mapfile -t pods < <("$TB" status "$name" --json | jq -r '.labs[0].machines[] | select(.kind == "pod") | .name' | head -n 2)
[ "${#pods[@]}" = 2 ] || die "$name: fewer than two pods"
jq -n --arg a "${pods[0]}" --arg b "${pods[1]}" '[{from: $a, to: $b, proto: "ping"}]' >"$work/one.json"
status=$(median3 "$TB" status "$name")
status_json=$(median3 "$TB" status "$name" --json)
check=$(median3 "$TB" check "$name" --expect "$work/one.json")
jq -n --argjson status "$status" --argjson statusJson "$status_json" --argjson check "$check" \
	--argjson bytes "$(stat -c %s "$TESTBED_STATE_DIR/$name/plan.json")" \
	'{statusMs: $status, statusJsonMs: $statusJson, checkOneProbeMs: $check, planBytes: $bytes}'
