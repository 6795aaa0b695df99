# Routing modes (cluster.routing): flannel's host-gw and vxlan backends
# beside the article's default gateway.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	"$TESTBED" up --quiet "$REPO/topologies/kubenet-host-gw.json"
	"$TESTBED" up --quiet "$REPO/topologies/kubenet-vxlan.json"
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	for lab in host-gw vxlan gone; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

@test "host-gw: nodes route each other's pod CIDRs via their underlay addresses; the gateway knows none" {
	run tbx host-gw node1 ip route
	assert_success
	assert_line --regexp '^10\.0\.2\.0/24 via 10\.10\.0\.3 dev eth0 *$'
	assert_line --regexp '^10\.0\.3\.0/24 via 10\.10\.0\.4 dev eth0 *$'
	run tbx host-gw gateway ip route
	assert_success
	refute_line --regexp '^10\.0\.'
	assert_output --partial "10.10.0.0/24 dev eth0"
	run tbx host-gw pod-a wget -q -O - http://10.0.3.2:8000/hostname
	assert_success
	assert_output "pod-d"
	run tbx host-gw pod-d wget -q -O - http://10.0.1.3:8000/clientip
	assert_output --regexp '^10\.0\.3\.2:[0-9]+$'
}

@test "host-gw: cross-node traffic goes straight from node to node, not through the gateway" {
	run "$TESTBED" trace host-gw pod-a pod-c
	assert_success
	assert_line --partial "node1: route 10.0.2.0/24 via 10.10.0.3 dev eth0"
	refute_output --partial "gateway"
	assert_line --regexp 'pod-c: 10\.0\.2\.2 is local: delivered$'
}

@test "vxlan: flannel.1 on each node as flannel's vxlan backend makes it" {
	run tbx vxlan node1 ip -d link show flannel.1
	assert_success
	assert_output --partial "mtu 1450"
	assert_output --partial "link/ether 0a:58:0a:0a:00:02"
	assert_output --regexp "vxlan id 1 local 10\.10\.0\.2 dev eth0 .*dstport 8472 nolearning"
	run tbx vxlan node1 ip route show dev flannel.1
	assert_line --regexp '^10\.0\.2\.0/24 via 10\.0\.2\.0 onlink *$'
	assert_line --regexp '^10\.0\.3\.0/24 via 10\.0\.3\.0 onlink *$'
	run tbx vxlan node1 ip neigh show dev flannel.1
	assert_line --regexp '^10\.0\.2\.0 lladdr 0a:58:0a:0a:00:03 PERMANENT *$'
	run tbx vxlan node1 bridge fdb show dev flannel.1
	assert_line --partial "0a:58:0a:0a:00:03 dst 10.10.0.3 self permanent"
	run tbx vxlan pod-a ip link show eth0
	assert_output --partial "mtu 1450"
	run tbx vxlan gateway ip route
	refute_line --regexp '^10\.0\.'
	assert_output --partial "10.10.0.0/24 dev eth0"
}

# IPv4 only: the underlay also carries the links' own IPv6 and IGMP chatter.
# tcpdump decodes port 8472 as OTV and prints the inner packet on a line of
# its own, without a timestamp: the outer packets are the timestamped lines.
@test "vxlan: the underlay carries only UDP between node addresses, never a bare pod address" {
	cap=$BATS_TEST_TMPDIR/underlay
	pid=$(capture_start "$cap" "$TESTBED" exec vxlan lab -- tcpdump -l -n -c 8 -i tb-underlay 'ip and not igmp')
	bare=$BATS_TEST_TMPDIR/bare
	bare_pid=$(capture_start "$bare" "$TESTBED" exec vxlan lab -- timeout 5 tcpdump -l -n -i tb-underlay 'net 10.0.0.0/16')
	tbx vxlan pod-a wget -q -O /dev/null http://10.0.2.2:8000/hostname
	tbx vxlan pod-a ping -c 2 -W 2 10.0.3.2 >/dev/null
	capture_wait "$pid"
	run grep -c -E '^[0-9]{2}:' "$cap"
	assert_output 8
	other=$(grep -E '^[0-9]{2}:' "$cap" | grep -v -E '^[0-9:.]+ IP 10\.10\.0\.[234]\.[0-9]+ > 10\.10\.0\.[234]\.8472: OTV' || true)
	assert_equal "$other" ""
	# Inside the tunnel, the pods' own packets.
	assert_equal "$(grep -c -E '^IP 10\.0\.' "$cap")" 8
	# Outside it, on the wire, no packet with a pod address at all.
	while kill -0 "$bare_pid" 2>/dev/null; do sleep 0.2; done
	wait "$bare_pid" 2>/dev/null || true
	run cat "$bare"
	assert_output ""
}

@test "vxlan: trace shows the tunnel hop with its outer addresses" {
	run "$TESTBED" trace vxlan pod-a pod-c
	assert_success
	assert_line --partial "node1: route 10.0.2.0/24 via 10.0.2.0 dev flannel.1"
	assert_line --partial "node1 flannel.1 -> vxlan 1: UDP 10.10.0.2 -> 10.10.0.3:8472 over eth0 -> node2 flannel.1"
	assert_line --regexp 'pod-c: 10\.0\.2\.2 is local: delivered$'
	run "$TESTBED" trace --json vxlan pod-a pod-c
	run jq -r '.hops[] | select(.vxlan) | "\(.vxlan.vni) \(.vxlan.port) \(.vxlan.outerSource) \(.vxlan.outerDestination)"' <<<"$output"
	assert_output "1 8472 10.10.0.2 10.10.0.3"
}

@test "check passes in every routing mode" {
	for lab in host-gw vxlan; do
		run "$TESTBED" check "$lab"
		assert_success
		assert_line "32 passed, 0 failed"
	done
}

@test "after up, the topology file is not needed: status, check, trace, graph, plan and down use the saved plan" {
	jq --arg repo "$REPO" '.name = "gone" | .images |= map_values($repo + "/images/" + (split("/") | last))' \
		"$REPO/topologies/kubenet-vxlan.json" >"$BATS_TEST_TMPDIR/gone.json"
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/gone.json"
	expected_plan=$("$TESTBED" plan "$BATS_TEST_TMPDIR/gone.json")
	rm "$BATS_TEST_TMPDIR/gone.json"
	run "$TESTBED" status gone
	assert_success
	assert_line --regexp '^  pod-d +pod +node3 +10\.0\.3\.2 +8000 +[0-9]+ +running$'
	run "$TESTBED" check gone
	assert_success
	assert_line "32 passed, 0 failed"
	run "$TESTBED" trace gone pod-a pod-d
	assert_success
	assert_line --regexp 'delivered$'
	run "$TESTBED" graph gone --format dot
	assert_success
	assert_output --partial "pod-d"
	run "$TESTBED" plan gone
	assert_success
	assert_output "$expected_plan"
	run "$TESTBED" down gone
	assert_success
	assert_output "lab gone is down"
}
