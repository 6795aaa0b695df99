# A 50-pod full mesh: 2,450 http and 2,450 ping probes, twenty times in a
# row, with no false failure.
bats_require_minimum_version 1.5.0
load helpers

LAB=mesh-50
FILE=$REPO/tests/labs/mesh-50.json

lab_suite "$FILE"

@test "the full mesh is 2,450 http and 2,450 ping probes, all passing" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/mesh.json" --quiet "$LAB"
	assert_success
	run jq -r '[.probes[] | select(.proto == "http")] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 2450
	run jq -r '[.probes[] | select(.proto == "ping")] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 2450
	run jq -r '[.probes[] | select(.ok | not)] | length' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output 0
	# Every http probe was answered by its target and saw the client's own address.
	run jq -r '[.probes[] | select(.proto == "http" and (.answeredBy != .to or .client == null))] | length' \
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
		assert_line "4900 passed, 0 failed"
	done
}
