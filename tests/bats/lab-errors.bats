# What up, down, status and exec do when things go wrong: nothing may be
# left behind, and the exit code says what kind of failure it was.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
}

setup() {
	use_lab_dirs
	host_snapshot >"$BATS_TEST_TMPDIR/host.before"
	# Topologies written here use the real images by absolute path.
	IMAGES="\"images\": {\"pod\": \"$REPO/images/pod.tar.zst\", \"node\": \"$REPO/images/node.tar.zst\"}"
}

teardown() {
	for lab in errs killed intr noserve; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

assert_nothing_left() {
	[ ! -e "$TESTBED_STATE_DIR" ] || { ls -R "$TESTBED_STATE_DIR" >&2; return 1; }
	host_snapshot >"$BATS_TEST_TMPDIR/host.after"
	diff "$BATS_TEST_TMPDIR/host.before" "$BATS_TEST_TMPDIR/host.after"
}

@test "up with a missing image file exits 2 and creates nothing" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "errs", "images": {"pod": "missing/pod.tar.zst"}, "hosts": [{"name": "h1"}]}
	JSON
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 2
	assert_output --partial 'images.pod: "missing/pod.tar.zst": No such file or directory'
	assert_nothing_left
}

@test "up of an invalid topology exits 2 with every error" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "errs", $IMAGES, "nodes": [{"name": "web"}, {"name": "web", "podCidr": "x"}]}
	JSON
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 2
	assert_output --partial 'nodes[1].podCidr: unknown key (did you mean "podCIDR"?)'
	assert_nothing_left
}

@test "a lab saved in another plan format is refused naming both versions; down still removes it" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "errs", $IMAGES, "nodes": [{"name": "n1", "pods": [{"name": "p1", "http": false}]}]}
	JSON
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	plan=$TESTBED_STATE_DIR/errs/plan.json
	jq '.format = 0 | .testbed = "0.0.9"' "$plan" >"$plan.new" && mv "$plan.new" "$plan"
	version=$("$TESTBED" --version | cut -d' ' -f2)
	want="lab errs: it was saved by testbed 0.0.9 in plan format 0; this is testbed $version, which reads plan format 1"
	for cmd in "status errs" "check errs" "trace errs p1 n1" "graph errs" "plan errs"; do
		run $TESTBED $cmd
		assert_failure 2
		assert_output --partial "$want"
	done
	run "$TESTBED" down errs
	assert_success
	assert_output "lab errs is down"
	assert_nothing_left
}

@test "up refuses a state directory with a comma before creating anything" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "errs", $IMAGES, "hosts": [{"name": "h1"}]}
	JSON
	run "$TESTBED" up --state-dir "$BATS_TEST_TMPDIR/a,b" "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 2
	assert_output "testbed up: state directory $BATS_TEST_TMPDIR/a,b: may not contain ',' (overlayfs mount options cannot quote it)"
	[ ! -e "$BATS_TEST_TMPDIR/a,b" ]
	TESTBED_STATE_DIR=$BATS_TEST_TMPDIR/c,d run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 2
	assert_output --partial "state directory $BATS_TEST_TMPDIR/c,d: may not contain ','"
	[ ! -e "$BATS_TEST_TMPDIR/c,d" ]
	assert_nothing_left
}

@test "up reads its topology from standard input; down finds the lab from a pipe" {
	run "$TESTBED" up --quiet - <<-JSON
	{"name": "errs", $IMAGES, "hosts": [{"name": "h1", "http": false}]}
	JSON
	assert_success
	run "$TESTBED" status --json errs
	assert_success
	[ "$(jq -r '.labs[0].topology' <<<"$output")" = "<stdin>" ]
	run "$TESTBED" down <(echo '{"name": "errs"}')
	assert_success
	assert_output "lab errs is down"
	assert_nothing_left
}

@test "down of an unknown lab exits 0 and says there is nothing to do" {
	run "$TESTBED" down nosuchlab
	assert_success
	assert_output "lab nosuchlab is not up: nothing to do"
	run "$TESTBED" down ../etc
	assert_failure 2
}

@test "status with no labs, and exec into a lab that is not up" {
	run "$TESTBED" status
	assert_success
	assert_output "no labs are up"
	run "$TESTBED" status nosuchlab
	assert_failure 2
	run "$TESTBED" exec nosuchlab pod-a -- true
	assert_failure 2
	assert_output --partial "lab nosuchlab is not up"
}

@test "a server that never listens fails up with exit 3, and up removes all it made" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "noserve", $IMAGES, "nodes": [{"name": "n1", "pods": [
	  {"name": "ok"}, {"name": "mute", "command": ["sleep", "600"], "http": 8000}]}]}
	JSON
	run "$TESTBED" up --timeout 2 "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "mute (10.244.0.3:8000: Connection refused)"
	# The evidence is kept, where the message says, until down.
	assert_output --partial "(the machines' output is kept in $TESTBED_STATE_DIR/.failed-noserve)"
	[ -f "$TESTBED_STATE_DIR/.failed-noserve/mute.log" ]
	run pgrep -f "sleep 600"
	assert_failure
	run "$TESTBED" down noserve
	assert_success
	assert_nothing_left
}

@test "a workload that exits fails up at once, not after the timeout, saying its last line; its output is kept" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "noserve", $IMAGES, "nodes": [{"name": "n1", "pods": [
	  {"name": "ok"}, {"name": "quits", "command": ["sh", "-c", "echo about to give up; exit 7"], "http": 8000}]}]}
	JSON
	start=$(date +%s)
	run "$TESTBED" up --timeout 60 "$BATS_TEST_TMPDIR/lab.json"
	took=$(( $(date +%s) - start ))
	assert_failure 3
	# With the workload's own last word, from its log.
	assert_output --partial "quits: workload exited with status 7: about to give up"
	[ "$took" -lt 20 ] || { echo "up took $took s: it waited for the timeout" >&2; return 1; }
	run cat "$TESTBED_STATE_DIR/.failed-noserve/quits.log"
	assert_output --partial "about to give up"
	# A later successful up of the same lab forgets the old evidence; down removes the lab.
	jq '.nodes[0].pods |= map(select(.name != "quits"))' "$BATS_TEST_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/ok.json"
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/ok.json"
	[ ! -e "$TESTBED_STATE_DIR/.failed-noserve" ]
	"$TESTBED" down noserve
	assert_nothing_left
}

@test "up killed with SIGKILL midway, then down: nothing is left" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "killed", $IMAGES, "cluster": {"podCIDR": "10.0.0.0/16"}, "nodes": [
	  {"name": "n1", "pods": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
	  {"name": "n2", "pods": [{"name": "d"}, {"name": "e"}, {"name": "f"}]}]}
	JSON
	"$TESTBED" up "$BATS_TEST_TMPDIR/lab.json" >/dev/null 2>&1 &
	up=$!
	journal=$TESTBED_STATE_DIR/killed/machines.jsonl
	for i in $(seq 1000); do
		[ "$(wc -l <"$journal" 2>/dev/null || echo 0)" -ge 4 ] && break
		sleep 0.01
	done
	kill -9 "$up"
	wait "$up" || true
	pids=$(jq -r .pid "$journal")
	[ -n "$pids" ]
	run "$TESTBED" status killed
	assert_output --partial "lab killed: starting"
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 2
	assert_output --partial "leftovers of an interrupted up"
	run "$TESTBED" down killed
	assert_success
	assert_pids_gone $pids
	assert_nothing_left
}

@test "Ctrl-C during up cleans up and exits 3" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "intr", $IMAGES, "nodes": [{"name": "n1", "pods": [
	  {"name": "slow", "command": ["sleep", "600"], "http": 8000}]}]}
	JSON
	"$TESTBED" up --timeout 30 "$BATS_TEST_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	up=$!
	journal=$TESTBED_STATE_DIR/intr/machines.jsonl
	for i in $(seq 1000); do
		[ "$(wc -l <"$journal" 2>/dev/null || echo 0)" -ge 3 ] && break
		sleep 0.01
	done
	sleep 0.3
	pids=$(jq -r .pid "$journal")
	kill -INT "$up"
	status=0
	wait "$up" || status=$?
	assert_equal "$status" 3
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --partial "interrupted"
	assert_pids_gone $pids
	assert_nothing_left
}
