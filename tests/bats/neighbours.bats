# Neighbour designs (docs/neighbours.md): 100 pods, 50 on each of two
# nodes, get static entries under "auto" and pass a full mesh with no
# failure; their neighbour tables hold every peer as PERMANENT before any
# traffic and learn nothing afterwards.
bats_require_minimum_version 1.5.0
load helpers

LAB=static-100
FILE=$REPO/tests/labs/static-100.json

lab_suite "$FILE"

@test "auto picks static for 100 pods and the saved plan says so" {
	run "$TESTBED" plan "$LAB" --format json
	assert_success
	run jq -c '.neighbours' <<<"$output"
	assert_output '{"design":"static","asked":"auto","fullMesh":5108}'
}

@test "before any pod traffic, a pod holds its 49 peers and cbr0 as PERMANENT, with their own MACs" {
	run tbx "$LAB" pod-1-1 ip -4 neigh show dev eth0
	assert_success
	# iproute2's ip ends a line with a space, busybox's does not.
	[ "$(grep -c ' PERMANENT *$' <<<"$output")" -eq 50 ]
	[ "$(grep -vc ' PERMANENT *$' <<<"$output")" -eq 0 ]
	peer=$(tbx "$LAB" pod-1-2 cat /sys/class/net/eth0/address)
	cbr0=$(tbx "$LAB" node1 cat /sys/class/net/cbr0/address)
	assert_line --regexp "^10\.244\.0\.3 .*lladdr $peer .*PERMANENT *$"
	assert_line --regexp "^10\.244\.0\.1 .*lladdr $cbr0 .*PERMANENT *$"
	# The pod of the other node is routed, not a neighbour.
	refute_line --partial "10.244.1."
	# cbr0 keeps the MAC the plan gave it, not its lowest port's.
	assert_equal "$cbr0" "0a:74:0a:f4:00:01"
}

@test "the full mesh of 9,900 http and 9,900 ping probes passes, and nothing is learned" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/mesh.json" --quiet "$LAB"
	assert_success
	# The mesh, and each pod's egress to the internet (http and ping).
	run jq -r '([.probes[] | select(.ok | not)] | length), (.probes | length)' "$BATS_TEST_TMPDIR/mesh.json"
	assert_output $'0\n20000'
	for m in pod-1-1 pod-2-50 node1 gateway; do
		run tbx "$LAB" "$m" ip -4 neigh show
		assert_success
		[ -n "$output" ]
		refute_output --regexp ' (REACHABLE|STALE|DELAY|PROBE|FAILED|INCOMPLETE)$'
	done
}
