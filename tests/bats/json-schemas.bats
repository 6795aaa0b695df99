# status --json, check --format json and trace --json against their JSON
# Schemas (docs/schemas), on real labs: a kubenet lab, a lab of hosts on a
# bridge, and one whose expectations partly fail. Each schema must also
# refuse a broken document, so that no test here passes vacuously.
bats_require_minimum_version 1.5.0
load helpers

KUBENET=kubenet-two
HOSTS=bridge
NEGATIVE=check-neg
LABS=("$REPO/topologies/kubenet-two-nodes.json" "$REPO/topologies/bridge.json" "$REPO/tests/labs/check-negative.json")
# The distribution's python, whose jsonschema ci/deps.sh installs.
PYTHON=/usr/bin/python3

setup_file() {
	require_lab_sandbox
	"$PYTHON" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null ||
		skip "python3-jsonschema here has no draft 2020-12 (it needs 4.0 or later)"
	use_lab_dirs
	local lab
	for lab in "${LABS[@]}"; do
		"$TESTBED" up --quiet "$lab"
	done
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	local lab
	for lab in "$KUBENET" "$HOSTS" "$NEGATIVE"; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

# validate SCHEMA FILE...: the validator, through bats' run.
validate() {
	run "$PYTHON" "$REPO/tests/validate-json.py" "$@"
}

# save NAME CMD...: CMD's stdout into the test's NAME.json; its exit code is kept in $saved.
save() {
	local name=$1
	shift
	saved=0
	"$@" >"$BATS_TEST_TMPDIR/$name.json" || saved=$?
}

# refuses SCHEMA FILE JQ MESSAGE: FILE changed by JQ must fail SCHEMA, saying MESSAGE.
refuses() {
	local schema=$1 file=$2 filter=$3 message=$4
	jq "$filter" "$file" >"$BATS_TEST_TMPDIR/mutated.json"
	validate "$schema" "$BATS_TEST_TMPDIR/mutated.json"
	assert_failure 1
	assert_output --partial "$message"
}

@test "the schemas are valid draft 2020-12 schemas" {
	validate --check-schema status check trace
	assert_success
	assert_equal "$(grep -c '^ok ' <<<"$output")" 3
	# And the metaschema is no rubber stamp: a wrong keyword type fails it.
	jq '.properties.labs.type = 5' "$REPO/docs/schemas/status.schema.json" >"$BATS_TEST_TMPDIR/bad.schema.json"
	validate --check-schema "$BATS_TEST_TMPDIR/bad.schema.json"
	assert_failure 2
	assert_output --partial "invalid schema"
}

@test "status --json of every lab and of one lab matches status.schema.json" {
	save all "$TESTBED" status --json
	save one "$TESTBED" status --json "$HOSTS"
	validate status "$BATS_TEST_TMPDIR/all.json" "$BATS_TEST_TMPDIR/one.json"
	assert_success
	run jq -r '[.labs[].name] | join(" ")' "$BATS_TEST_TMPDIR/all.json"
	assert_output "$HOSTS $NEGATIVE $KUBENET"
	# Every kind of machine was there to be checked.
	run jq -r '[.labs[].machines[].kind] | unique | join(" ")' "$BATS_TEST_TMPDIR/all.json"
	assert_output "external gateway host lab node pod pool"
	run jq -r '.labs | length' "$BATS_TEST_TMPDIR/one.json"
	assert_output 1
}

@test "status --json with no lab up is an empty list, and matches too" {
	TESTBED_STATE_DIR=$BATS_TEST_TMPDIR/none save none "$TESTBED" status --json
	validate status "$BATS_TEST_TMPDIR/none.json"
	assert_success
	run jq -c . "$BATS_TEST_TMPDIR/none.json"
	assert_output '{"labs":[]}'
}

@test "status.schema.json refuses an unknown field, an unknown kind, a missing field, a string port" {
	save all "$TESTBED" status --json
	local f=$BATS_TEST_TMPDIR/all.json
	refuses status "$f" '.labs[0].extra = 1' "'extra' was unexpected"
	refuses status "$f" '.labs[0].machines[0].kind = "vm"' "'vm' is not one of"
	refuses status "$f" 'del(.labs[0].machines[0].running)' "'running' is a required property"
	refuses status "$f" '(.labs[].machines[] | select(.http != false) | .http) |= tostring' "labs[0].machines[1].http"
	refuses status "$f" '.labs[0].phase = "down"' "'down' is not one of"
}

@test "check --format json of passing labs matches check.schema.json" {
	save kubenet "$TESTBED" check --format json "$KUBENET"
	assert_equal "$saved" 0
	save hosts "$TESTBED" check --format json "$HOSTS"
	assert_equal "$saved" 0
	validate check "$BATS_TEST_TMPDIR/kubenet.json" "$BATS_TEST_TMPDIR/hosts.json"
	assert_success
	for f in kubenet hosts; do
		run jq -r '"\(.summary.failed) \(.summary.total == (.probes | length)) \([.probes[].proto] | unique | join(","))"' \
			"$BATS_TEST_TMPDIR/$f.json"
		assert_output "0 true http,ping"
	done
	run jq -r .model "$BATS_TEST_TMPDIR/kubenet.json"
	assert_output kubernetes
}

@test "check --format json of failing expectations matches, failures with their reasons" {
	save neg "$TESTBED" check --format json "$NEGATIVE"
	assert_equal "$saved" 1
	# --verbose adds each failing probe's path.
	save verbose "$TESTBED" check --verbose --format json "$NEGATIVE"
	assert_equal "$saved" 1
	validate check "$BATS_TEST_TMPDIR/neg.json" "$BATS_TEST_TMPDIR/verbose.json"
	assert_success
	local f=$BATS_TEST_TMPDIR/neg.json
	run jq -r '"\(.summary.failed) \(.summary.passed + .summary.failed == (.probes | length))"' "$f"
	assert_output "5 true"
	run jq -r '.probes[] | select(.ok | not) | "\(.from) \(.to) \(.proto) \(.expected) \(.got): \(.error)"' "$f"
	assert_line "pod-a quiet http pass fail: connection refused"
	assert_line 'pod-c impostor http pass fail: answered by "pod-a", not impostor'
	assert_line "pod-c pod-a tcp fail pass: null"
	run jq -r '.probes[] | select(.to == "impostor" and .proto == "http") | .answeredBy' "$f"
	assert_output pod-a
	# Every failing probe but the one to lonely, which has no address to trace to.
	run jq -r '.probes[] | select(.ok | not) | select(has("path") | not) | "\(.from) \(.to)"' \
		"$BATS_TEST_TMPDIR/verbose.json"
	assert_output "pod-a lonely"
}

@test "check.schema.json refuses a wrong outcome, an ok that contradicts it, a port on ping, an unknown field" {
	save neg "$TESTBED" check --format json "$NEGATIVE"
	local f=$BATS_TEST_TMPDIR/neg.json
	refuses check "$f" '.probes[0].got = "maybe"' "'maybe' is not one of"
	refuses check "$f" '.probes[0].ok = (.probes[0].ok | not)' "probes[0]"
	refuses check "$f" '(.probes[] | select(.proto == "ping")).port = 8000' "port"
	refuses check "$f" '.summary.skipped = 0' "'skipped' was unexpected"
	refuses check "$f" '(.probes[] | select(.got == "fail")).error = null' "error"
	refuses check "$f" '.build.images[0].sha256 = "abc"' "sha256"
	refuses check "$f" '.truthTables[0].cells[0][0] = "maybe"' "'maybe' is not one of"
	refuses check "$f" 'del(.truthTables[0].rows)' "'rows' is a required property"
	refuses check "$f" 'del(.truthTables)' "'truthTables' is a required property"
}

@test "check --format json's truth tables: one per protocol, each cell its probe's mark" {
	save neg "$TESTBED" check --format json "$NEGATIVE"
	local f=$BATS_TEST_TMPDIR/neg.json
	run jq -r '[.truthTables[] | "\(.title):\(.port)"] | join(" ")' "$f"
	assert_output "$(jq -r '[.probes[].proto] | unique as $p | ["http", "tcp", "udp", "ping", "dns"] |
		map(select(. as $x | $p | index($x))) | map("\(.):null") | join(" ")' "$f")"
	# Each probe's cell: its mark, or a bad one where several share it (the
	# first bad one shows).
	run jq -r '. as $r | [$r.probes[] | . as $p | ($r.truthTables[] | select(.proto == $p.proto)) as $t |
		($t.rows | index($p.from)) as $i | ($t.columns | index($p.to)) as $j | $t.cells[$i][$j] as $c |
		if $p.ok then ($c == (if $p.expected == "pass" then "allowed" else "expected-denied" end) or
			($c | IN("denied", "unexpectedly-allowed", "failed")))
		else ($c | IN("denied", "unexpectedly-allowed", "failed")) end] | all' "$f"
	assert_output true
	run jq -r '[.truthTables[].notAsExpected] | add' "$f"
	assert_output 5
}

@test "trace --json across nodes, on one node, between hosts and to a drop matches trace.schema.json" {
	tbx "$KUBENET" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
	save across "$TESTBED" trace --json "$KUBENET" pod-a pod-c
	save same "$TESTBED" trace --json "$KUBENET" pod-a pod-b
	save hosts "$TESTBED" trace --json "$HOSTS" net0 net2
	# As lab-trace.bats: with node1's default route gone, pod-a's packet dies there.
	tbx "$KUBENET" node1 ip route del default
	save drop "$TESTBED" trace --json "$KUBENET" pod-a pod-c
	tbx "$KUBENET" node1 ip route add default via 10.10.0.1
	validate trace "$BATS_TEST_TMPDIR"/{across,same,hosts,drop}.json
	assert_success
	run jq -r '"\(.delivered) \(.hops | length) \(.hops[-1].kind)"' "$BATS_TEST_TMPDIR/across.json"
	assert_output "true 9 deliver"
	run jq -r '"\(.delivered) \(.hops | length) \(.hops[-1].kind)"' "$BATS_TEST_TMPDIR/same.json"
	assert_output "true 3 deliver"
	run jq -r '"\(.delivered) \(.hops | length) \(.hops[-1].kind)"' "$BATS_TEST_TMPDIR/hosts.json"
	assert_output "true 3 deliver"
	run jq -r '"\(.delivered) \(.hops[-1].kind) \(.hops[-1].machine): \(.hops[-1].reason)"' "$BATS_TEST_TMPDIR/drop.json"
	assert_output "false drop node1: Network is unreachable"
}

@test "trace --json of a routing loop ends in a drop after 16 route and wire pairs, and matches" {
	# The gateway sends node2's pods back to node1, whose default is the gateway.
	tbx "$KUBENET" gateway ip route replace 10.0.2.0/24 via 10.10.0.2
	save loop "$TESTBED" trace --json "$KUBENET" pod-a pod-c
	local rc=$saved
	tbx "$KUBENET" gateway ip route replace 10.0.2.0/24 via 10.10.0.3
	assert_equal "$rc" 0
	validate trace "$BATS_TEST_TMPDIR/loop.json"
	assert_success
	run jq -r '"\(.delivered) \(.hops | length) \(.hops[-1].reason)"' "$BATS_TEST_TMPDIR/loop.json"
	assert_output "false 33 more than 16 hops: a routing loop?"
}

@test "trace.schema.json refuses an unknown hop kind, a delivered drop, a missing neighbour field, a bad address" {
	save across "$TESTBED" trace --json "$KUBENET" pod-a pod-c
	local f=$BATS_TEST_TMPDIR/across.json
	refuses trace "$f" '.hops[0].kind = "teleport"' "hops[0]"
	refuses trace "$f" '.delivered = false' "does not contain items matching"
	refuses trace "$f" 'del(.hops[0].neighbour.resolved)' "hops[0]"
	refuses trace "$f" '.destination = "10.0.2.256"' "destination"
	refuses trace "$f" '.hops[-1].reason = "late"' "hops[8]"
}
