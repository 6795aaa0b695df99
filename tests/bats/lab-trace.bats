# testbed trace: the path a packet takes, from the kernel's own tables,
# checked against what captures on each hop see.
bats_require_minimum_version 1.5.0
load helpers

LAB=kubenet-two
FILE=$REPO/topologies/kubenet-two-nodes.json

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	testbed_up "$FILE" --quiet
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

@test "a fresh node has not resolved the gateway: the trace says ARP needed, as ip neigh does" {
	run tbx "$LAB" node2 ip neigh show 10.10.0.1
	assert_output ""
	run "$TESTBED" trace "$LAB" node2 pod-a
	assert_success
	assert_line "      neighbour 10.10.0.1 on eth0: ARP needed"
}

@test "pod to pod across nodes goes the article's way: cbr0, node1, the gateway, node2, cbr0" {
	tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
	run "$TESTBED" trace "$LAB" pod-a pod-c
	assert_success
	assert_line --index 0 "trace kubenet-two: pod-a (10.0.1.2) -> pod-c (10.0.2.2)"
	assert_line --index 1 " 1. pod-a: route default via 10.0.1.1 dev eth0"
	assert_line --index 3 " 2. pod-a eth0 -> node1 veth0 -> bridge cbr0 (node1)"
	assert_line --index 4 " 3. node1: route default via 10.10.0.1 dev eth0"
	assert_line --index 6 " 4. node1 eth0 -> lab tb-n0 -> bridge tb-underlay (lab) -> lab tb-gw -> gateway eth0"
	assert_line --index 7 " 5. gateway: route 10.0.2.0/24 via 10.10.0.3 dev eth0"
	assert_line --index 9 " 6. gateway eth0 -> lab tb-gw -> bridge tb-underlay (lab) -> lab tb-n1 -> node2 eth0"
	assert_line --index 10 " 7. node2: route 10.0.2.0/24 dev cbr0 (directly connected)"
	assert_line --index 12 " 8. node2 -> bridge cbr0 (node2) -> node2 veth0 -> pod-c eth0"
	assert_line --index 13 " 9. pod-c: 10.0.2.2 is local: delivered"
	# After the ping every neighbour on the way is resolved.
	refute_output --partial "ARP needed"
}

@test "pod to pod on one node stays on cbr0, without the gateway" {
	run "$TESTBED" trace "$LAB" pod-a pod-b
	assert_success
	assert_line " 2. pod-a eth0 -> node1 veth0 -> bridge cbr0 (node1) -> node1 veth1 -> pod-b eth0"
	assert_line " 3. pod-b: 10.0.1.3 is local: delivered"
	refute_output --partial "gateway"
}

@test "each routed hop's next-hop MAC is the destination MAC a capture sees leaving there" {
	tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
	run "$TESTBED" trace --json "$LAB" pod-a pod-c
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/trace.json"
	run jq -r '.delivered' "$BATS_TEST_TMPDIR/trace.json"
	assert_output true
	local hops n=0
	hops=$(jq -r '.hops[] | select(.kind == "route") | "\(.machine) \(.dev) \(.neighbour.mac)"' \
		"$BATS_TEST_TMPDIR/trace.json")
	while read -r machine dev mac; do
		n=$((n + 1))
		cap=$BATS_TEST_TMPDIR/cap-$n
		pid=$(capture_start "$cap" nsenter -t "$(machine_pid "$LAB" "$machine")" -n \
			tcpdump -l -n -e -Q out -c 1 -i "$dev" 'icmp[icmptype] == icmp-echo and dst host 10.0.2.2')
		tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
		capture_wait "$pid"
		seen=$(awk '{print $4}' "$cap" | tr -d ,)
		[ "$seen" = "$mac" ] || { echo "$machine $dev: trace says $mac, capture saw '$seen'" >&2; cat "$cap" >&2; return 1; }
	done <<<"$hops"
	assert_equal "$n" 4
}

@test "a packet the kernel cannot route is traced to where it is dropped" {
	tbx "$LAB" node1 ip route del default
	run "$TESTBED" trace "$LAB" pod-a pod-c
	tbx "$LAB" node1 ip route add default via 10.10.0.1
	assert_success
	assert_line " 3. node1: dropped: Network is unreachable"
	run "$TESTBED" trace --json "$LAB" pod-a pod-c
	run jq -r '.delivered' <<<"$output"
	assert_output true
}

@test "unknown lab, unknown target, a target without address: exit 2" {
	run "$TESTBED" trace no-such-lab pod-a pod-c
	assert_failure 2
	assert_output --partial "lab no-such-lab is not up"
	run "$TESTBED" trace "$LAB" pod-a pod-x
	assert_failure 2
	assert_output --partial 'no pod, node, host, external machine or gateway "pod-x"'
	run "$TESTBED" trace "$LAB" pod-a lab
	assert_failure 2
	run "$TESTBED" trace "$LAB" pod-a
	assert_failure 2
}
