# Teardown by cgroup: each lab's processes live in a cgroup v2 of the lab's
# own, so down ends exactly them, whatever the state files say: deleted,
# truncated or forged. Exec sessions join the cgroup too.
bats_require_minimum_version 1.5.0
load helpers

LAB=teardown

setup_file() {
	require_lab_sandbox
	[ -n "$(awk '$9 == "cgroup2" {print $5}' /proc/self/mountinfo)" ] || skip "no cgroup2 mounted"
}

setup() {
	use_lab_dirs
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "$LAB", "images": {"pod": "$REPO/images/pod.tar.zst", "node": "$REPO/images/node.tar.zst"},
	 "nodes": [{"name": "n1", "pods": [{"name": "pod-a"}, {"name": "pod-b"}]}]}
	JSON
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	PIDS=$(lab_pids "$LAB")
	# A process of our own, outside the lab, that nothing may touch.
	sleep 600 &
	OUTSIDER=$!
}

teardown() {
	kill "$OUTSIDER" 2>/dev/null || true
	wait "$OUTSIDER" 2>/dev/null || true
	[ -z "${SESSION:-}" ] || { kill "$SESSION" 2>/dev/null; wait "$SESSION" 2>/dev/null; } || true
	"$TESTBED" down "$LAB" >/dev/null 2>&1 || true
	"$TESTBED" down "$LAB-2" >/dev/null 2>&1 || true
}

lab_cgroup_path() {
	local mount
	mount=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	ls -d "$mount"/testbed/"$1"-* 2>/dev/null
}

@test "the lab's machines and its exec sessions are in the lab's cgroup, and nothing else is" {
	cg=$(lab_cgroup_path "$LAB")
	[ -n "$cg" ]
	tbx "$LAB" pod-a sleep 600 &
	SESSION=$!
	for i in $(seq 50); do [ "$(wc -l <"$cg/cgroup.procs")" -gt "$(wc -w <<<"$PIDS")" ] && break; sleep 0.1; done
	for pid in $PIDS; do grep -qx "$pid" "$cg/cgroup.procs"; done
	run grep -qx "$OUTSIDER" "$cg/cgroup.procs"
	assert_failure
	run grep -qx "$$" "$cg/cgroup.procs"
	assert_failure
	# The session's sleep is there too: down will end it.
	"$TESTBED" down "$LAB"
	wait "$SESSION" || true
	SESSION=
	assert_pids_gone $PIDS
	[ ! -e "$cg" ]
	kill -0 "$OUTSIDER"
}

@test "down with the lab's state deleted ends exactly the lab's processes" {
	rm -rf "${TESTBED_STATE_DIR:?}/$LAB"
	run "$TESTBED" down "$LAB"
	assert_success
	assert_output "lab $LAB is down"
	assert_pids_gone $PIDS
	kill -0 "$OUTSIDER"
	[ -z "$(lab_cgroup_path "$LAB")" ]
}

@test "down with truncated state still ends every machine" {
	truncate -s 7 "$TESTBED_STATE_DIR/$LAB/lab.json"
	: >"$TESTBED_STATE_DIR/$LAB/machines.jsonl"
	run "$TESTBED" down "$LAB"
	assert_success
	assert_pids_gone $PIDS
	[ ! -e "$TESTBED_STATE_DIR/$LAB" ]
}

@test "a forged record cannot make exec enter, or down end, a process outside the lab" {
	journal=$TESTBED_STATE_DIR/$LAB/machines.jsonl
	start=$(awk '{print $22}' "/proc/$OUTSIDER/stat")
	jq -c --argjson pid "$OUTSIDER" --arg start "$start" \
		'if .name == "pod-a" then .pid = $pid | .start = $start else . end' "$journal" >"$journal.new"
	mv "$journal.new" "$journal"
	run "$TESTBED" exec "$LAB" pod-a -- true
	assert_failure 3
	assert_output --partial "its record names process $OUTSIDER, which is not the lab's"
	run "$TESTBED" check "$LAB"
	assert_failure 1
	run "$TESTBED" down "$LAB"
	assert_success
	kill -0 "$OUTSIDER"
	assert_pids_gone $PIDS
}

@test "gc takes down a lab whose state is gone, from its cgroup alone; down --all takes every lab" {
	rm -rf "${TESTBED_STATE_DIR:?}/$LAB"
	run "$TESTBED" gc
	assert_success
	assert_output "lab $LAB is down"
	assert_pids_gone $PIDS
	run "$TESTBED" gc
	assert_output "no lab to collect"
	# A lab that is up is not garbage; down --all takes it too.
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	jq '.name = "teardown-2"' "$BATS_TEST_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/lab2.json"
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab2.json"
	run "$TESTBED" gc
	assert_output "no lab to collect"
	pids=$(lab_pids "$LAB"; lab_pids "$LAB-2")
	run "$TESTBED" down --all
	assert_success
	assert_line "lab $LAB is down"
	assert_line "lab $LAB-2 is down"
	assert_pids_gone $pids
	kill -0 "$OUTSIDER"
	[ ! -e "$TESTBED_STATE_DIR" ]
}

@test "a state root open to others, or a lab directory testbed did not make, is refused" {
	"$TESTBED" down "$LAB" >/dev/null
	kill "$OUTSIDER"
	open=$BATS_TEST_TMPDIR/open
	mkdir -m 0777 "$open"
	chmod 0777 "$open"
	run env TESTBED_STATE_DIR="$open" "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "$open is writable by others: refusing it as testbed's state"
	run env TESTBED_STATE_DIR="$open" "$TESTBED" status
	assert_failure 3
	[ -z "$(ls -A "$open")" ]
	# A lab directory someone else made, and one that is a link.
	mkdir -p "$TESTBED_STATE_DIR/evil"
	chown 65534 "$TESTBED_STATE_DIR/evil"
	run "$TESTBED" down evil
	assert_failure 3
	assert_output --partial "is owned by uid 65534"
	ln -s "$BATS_TEST_TMPDIR" "$TESTBED_STATE_DIR/link"
	run "$TESTBED" down link
	assert_failure 3
	assert_output --partial "not a directory (or a symlink)"
	rm -rf "${TESTBED_STATE_DIR:?}/evil" "$TESTBED_STATE_DIR/link"
}
