# A 50-pod full mesh: 2,450 http and 2,450 ping probes (and each pod's
# egress to the internet), twenty times in a row, with no false failure.
bats_require_minimum_version 1.5.0
load helpers

LAB=mesh-50
FILE=$REPO/tests/labs/mesh-50.json

lab_suite "$FILE"

@test "the full mesh is 2,450 http and 2,450 ping probes, all passing" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/mesh.json" --quiet "$LAB"
	assert_success
	run jq -r '[.probes[] | select(.proto == "http" and .to != "internet")] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 2450
	run jq -r '[.probes[] | select(.proto == "ping" and .to != "internet")] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 2450
	# Then each pod reaches the internet, which sees its node's address.
	run jq -r '[.probes[] | select(.to == "internet") | "\(.proto) \(.clientIP // "-")"] | group_by(.) |
		map("\(length) \(.[0])") | join(", ")' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output --regexp '^(5 http node[0-9]+, ){9}5 http node[0-9]+, 50 ping -$'
	run jq -r '[.probes[] | select(.ok | not)] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 0
	# Every http probe was answered by its target and saw the client's own address.
	run jq -r '[.probes[] | select(.proto == "http" and .to != "internet" and (.answeredBy != .to or .client == null))] | length' \
		"$BATS_TEST_TMPDIR/mesh.json"
	assert_output 0
}

@test "twenty consecutive full-mesh checks have no false failure" {
	local i
	for i in $(seq 20); do
		run "$TESTBED" check "$LAB"
		if [ "$status" -ne 0 ]; then
			echo "run $i failed:" >&2
			echo "$output" | grep -v '^ *$' | tail -30 >&2
			return 1
		fi
		assert_line "5000 passed, 0 failed"
	done
}
