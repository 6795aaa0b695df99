# The bats helpers users load (bats/testbed/load.bash, installed as
# $(PREFIX)/lib/bats/testbed/load.bash): the example suite passes and leaves
# no lab, and each assertion's failure names what was expected and what
# happened.
bats_require_minimum_version 1.5.0
load helpers
load ../../bats/testbed/load

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	testbed_up "$REPO/topologies/veth-pair.json" --quiet
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

# Runs a suite with nested bats, the helpers found through BATS_LIB_PATH as
# an installed copy would be, with a state directory of its own.
nested_bats() {
	TESTBED_STATE_DIR=$BATS_TEST_TMPDIR/state TESTBED_LAB='' TESTBED_LABS='' \
		BATS_LIB_PATH="$REPO/bats:${BATS_LIB_PATH:-/usr/lib/bats}" bats "$@"
}

@test "testbed_up recorded the lab, its output, and that it is up" {
	assert_equal "$TESTBED_LAB" veth-pair
	assert_equal "$TESTBED_LABS" veth-pair
	run cat "$TESTBED_UP_OUTPUT"
	assert_success
	# A fresh file of mktemp's in the suite's own folder, not named after the lab.
	[[ $TESTBED_UP_OUTPUT == "$BATS_FILE_TMPDIR"/* ]]
	[[ $(basename "$TESTBED_UP_OUTPUT") != *veth-pair* ]]
	run "$TESTBED" status --json veth-pair
	assert_success
	run jq -r '.labs[0].phase' <<<"$output"
	assert_output up
}

@test "the example suite passes under bats and leaves no lab" {
	run nested_bats "$REPO/examples/bats/reachability.bats"
	assert_success
	assert_line "ok 1 pods reach each other across nodes"
	assert_line "ok 2 nodes serve nothing on the pods' port"
	assert_line "ok 3 pod-c answers itself and sees pod-a's own address"
	run env TESTBED_STATE_DIR="$BATS_TEST_TMPDIR/state" "$TESTBED" status --json
	assert_success
	run jq -r '.labs | length' <<<"$output"
	assert_output 0
}

@test "a suite with no teardown_file gets one that takes its lab down" {
	# Another lab than the outer suite's, which stays up meanwhile.
	jq --arg pod "$REPO/images/pod.tar.zst" '.name = "auto-down" | .images.pod = $pod' \
		"$REPO/topologies/veth-pair.json" >"$BATS_TEST_TMPDIR/auto.json"
	# Written line by line: bats would take a test line inside a here-document for its own.
	printf '%s\n' 'bats_load_library testbed' \
		"setup_file() { testbed_up $BATS_TEST_TMPDIR/auto.json --quiet; }" \
		'@''test "up" { testbed_exec net0 true; [ "$TESTBED_LAB" = auto-down ]; }' >"$BATS_TEST_TMPDIR/auto.bats"
	run nested_bats "$BATS_TEST_TMPDIR/auto.bats"
	assert_success
	assert_line "ok 1 up"
	run env TESTBED_STATE_DIR="$BATS_TEST_TMPDIR/state" "$TESTBED" status --json
	run jq -r '.labs | length' <<<"$output"
	assert_output 0
}

@test "the assertions pass where the lab says they should" {
	assert_reachable net0 net1
	assert_reachable net1 net0 ping
	assert_reachable net0 net1 tcp:8000
	refute_reachable net0 net1 tcp:9
	# Nothing listens on UDP here: the port is unreachable.
	refute_reachable net0 net1 udp:9
	assert_answered_by net0 net1 net1
	assert_answered_by net0 net1 net1 8000
	assert_client_ip net0 net1
	assert_client_ip net0 net1 10.0.1.2
}

@test "testbed_exec runs in the lab's machine and returns the command's status" {
	run testbed_exec net1 hostname
	assert_success
	assert_output net1
	run testbed_exec net0 sh -c 'exit 3'
	assert_failure 3
}

@test "assert_reachable's failure names from, to, proto, expected, got and check's reason" {
	run assert_reachable net0 net1 tcp:9
	assert_failure
	assert_line "-- assert_reachable: net0 -> net1 (tcp:9) is not reachable --"
	assert_line --regexp '^from +: net0$'
	assert_line --regexp '^to +: net1$'
	assert_line --regexp '^proto +: tcp:9$'
	assert_line --regexp '^expected +: reachable \(pass\)$'
	assert_line --regexp '^got +: fail: .*[Rr]efused'
}

@test "refute_reachable's failure says who answered" {
	run refute_reachable net0 net1
	assert_failure
	assert_line "-- refute_reachable: net0 -> net1 (http) is not unreachable --"
	assert_line --regexp '^expected +: unreachable \(fail\)$'
	assert_line --regexp '^got +: pass \(answered by net1\)$'
}

@test "assert_answered_by's failure names the expected and the actual answerer" {
	run assert_answered_by net0 net1 someone-else
	assert_failure
	assert_line "-- assert_answered_by: net0 -> net1 was not answered by someone-else --"
	assert_line --regexp '^expected +: answered by someone-else$'
	assert_line --regexp '^got +: answered by net1$'
	run assert_answered_by net0 net1 net1 9
	assert_failure
	assert_line --regexp '^got +: no answer$'
	assert_line --regexp '^reason +: fail: .*[Rr]efused'
}

@test "assert_client_ip's failure names the expected address and the one the server saw" {
	run assert_client_ip net0 net1 10.9.9.9
	assert_failure
	assert_line "-- assert_client_ip: the server at net1 did not see 10.9.9.9 --"
	assert_line --regexp '^expected +: 10\.9\.9\.9$'
	assert_line --regexp '^got +: server saw 10\.0\.1\.2:[0-9]+$'
}

@test "helpers refuse bad input and a lab that is not up, saying why" {
	run assert_reachable net0 net1 sctp
	assert_failure
	assert_output --partial 'testbed check probes http, tcp, udp or ping, not "sctp"'
	run assert_reachable net0
	assert_failure
	assert_output --partial "usage: assert_reachable FROM TO [PROTO[:PORT]]"
	run assert_reachable net0 nosuch
	assert_failure
	assert_line "-- assert_reachable: testbed check could not run the probe --"
	assert_line --regexp '^reason +: .*nosuch'
	TESTBED_LAB=not-up run assert_reachable net0 net1
	assert_failure
	assert_line --regexp '^reason +: lab not-up is not up'
	run testbed_up "$BATS_TEST_TMPDIR/missing.json"
	assert_failure
	assert_line --regexp '^file +: .*/missing\.json$'
	# Already up: up's refusal is shown, and the lab is not taken over.
	run testbed_up "$REPO/topologies/veth-pair.json"
	assert_failure
	assert_line "-- testbed_up: testbed up failed --"
	assert_line --regexp '^status +: 2$'
	assert_output --partial "already up"
}

@test "assert_resolves and refute_resolves say their usage, and why a machine cannot resolve" {
	run assert_resolves net0
	assert_failure
	assert_output --partial "usage: assert_resolves FROM NAME [ADDRESS...]"
	run refute_resolves
	assert_failure
	assert_output --partial "usage: refute_resolves FROM NAME"
	# A host of the article's sections has no cluster DNS: no resolv.conf.
	run assert_resolves net0 web.shop 10.96.0.2
	assert_failure
	assert_line "-- assert_resolves: net0 does not resolve web.shop to exactly 10.96.0.2 --"
	assert_line --regexp '^got +: fail: net0 cannot resolve web\.shop: .*/etc/resolv\.conf'
	run refute_resolves net0 web.shop
	assert_failure
	assert_line "-- refute_resolves: net0 resolves web.shop, or fails otherwise --"
}

@test "testbed_up outside a bats test's folders writes up's output to a mktemp file under TMPDIR" {
	jq --arg pod "$REPO/images/pod.tar.zst" '.name = "up-tmp" | .images.pod = $pod' \
		"$REPO/topologies/veth-pair.json" >"$BATS_TEST_TMPDIR/up-tmp.json"
	local tmp=$BATS_TEST_TMPDIR/tmp
	mkdir "$tmp"
	# As in a setup_suite, where bats sets neither folder.
	BATS_FILE_TMPDIR='' BATS_TEST_TMPDIR='' TMPDIR=$tmp testbed_up "$BATS_TEST_TMPDIR/up-tmp.json" --quiet
	out=$TESTBED_UP_OUTPUT
	testbed_down up-tmp
	assert_equal "$TESTBED_LAB" up-tmp
	[[ $out == "$tmp/"* ]]
	[[ $(basename "$out") != *up-tmp* ]]
	[ -f "$out" ] && [ ! -L "$out" ]
}

@test "testbed_up refuses a topology testbed refuses, and prints nothing of it raw" {
	jq '.name = "\u001b]0;x\u0007"' "$REPO/topologies/veth-pair.json" >"$BATS_TEST_TMPDIR/bad.json"
	run testbed_up "$BATS_TEST_TMPDIR/bad.json"
	assert_failure
	assert_line "-- testbed_up: testbed refused the topology --"
	assert_output --partial 'is not a valid lab name'
	refute_output --partial $'\e'
	refute_output --partial $'\a'
}

# A pod whose server answers /hostname with NAME, on port 8001 of net1,
# until the test ends (teardown ends it).
start_hostile() {
	HOSTILE=$(testbed_exec net1 sh -c '
		testbed-http --port 8001 --name "$1" >/dev/null 2>&1 &
		echo $!
		for i in $(seq 50); do timeout 1 wget -q -O /dev/null http://127.0.0.1:8001/hostname 2>/dev/null && exit 0; sleep 0.1; done
		exit 1' sh "$1")
}

teardown() {
	[ -z "${HOSTILE:-}" ] || testbed_exec net1 kill "$HOSTILE"
}

@test "a pod's answer with terminal escapes reaches the failure message escaped as the CLI escapes it" {
	start_hostile $'\e]0;pwned\a\e[2Jx\\y'
	run assert_answered_by net0 net1 net1 8001
	assert_failure
	refute_output --partial $'\e'
	refute_output --partial $'\a'
	assert_line --regexp '^got +: answered by \\x1b\]0;pwned\\x07\\x1b\[2Jx\\\\y$'
	assert_line --regexp '^reason +: fail: answered by "\\x1b\]0;pwned'
	run assert_reachable net0 net1 http:8001
	assert_failure
	refute_output --partial $'\e'
	refute_output --partial $'\a'
	assert_line --regexp '^got +: fail: answered by "\\x1b\]0;pwned\\x07\\x1b\[2Jx\\\\y", not net1 \(answered by \\x1b'
}

@test "the helpers escape DEL and C1 controls as the CLI does, and leave the CLI's own escapes alone" {
	_tb_probe='{"got":"fail","error":"a\u007fb\u0085c\\x1bd\u001be","answeredBy":"x\u009by"}'
	run _tb_got
	assert_output 'fail: a\x7fb\xc2\x85c\x1bd\x1be (answered by x\xc2\x9by)'
	run _tb_field answeredBy
	assert_output 'x\xc2\x9by'
	run _tb_field client
	assert_output ''
}
