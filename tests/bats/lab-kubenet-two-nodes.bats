# Article sections 3.2 and 3.3: pods on two nodes behind a default gateway.
bats_require_minimum_version 1.5.0
load helpers

LAB=kubenet-two
FILE=$REPO/topologies/kubenet-two-nodes.json

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	host_snapshot >"$BATS_FILE_TMPDIR/host.before"
	testbed_up "$FILE"
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

@test "up builds the lab and prints what runs where" {
	# setup_file brought it up (testbed_up fails unless up succeeds); what up printed:
	assert_equal "$TESTBED_LAB" "$LAB"
	run cat "$TESTBED_UP_OUTPUT"
	assert_line --regexp '^pod-a +pod +node1 +10\.0\.1\.2 +[0-9]+$'
	assert_line --regexp '^pod-b +pod +node1 +10\.0\.1\.3 +[0-9]+$'
	assert_line --regexp '^pod-c +pod +node2 +10\.0\.2\.2 +[0-9]+$'
	assert_line --regexp '^pod-d +pod +node2 +10\.0\.2\.3 +[0-9]+$'
	assert_line --regexp '^node1 +node +- +10\.10\.0\.2 +[0-9]+$'
	assert_line --regexp '^node2 +node +- +10\.10\.0\.3 +[0-9]+$'
	assert_line --regexp '^gateway +gateway +- +10\.10\.0\.1 +[0-9]+$'
}

@test "status shows every machine running, with its node and address" {
	run "$TESTBED" status --json "$LAB"
	assert_success
	# Nine machines (the lab's internet among them), and the pool their pod servers are forked from.
	run jq -r '.labs[0] | .phase, ([.machines[] | select(.kind != "pool")] | length), ([.machines[] | select(.running)] | length),
		([.machines[] | select(.kind == "pool")] | map(.name) | join(" "))' <<<"$output"
	assert_output $'up\n9\n10\nservers:pod'
	# The saved plan's record of the build: images by sha256, the phases of up.
	sha=$(sha256sum "$REPO/images/pod.tar.zst" | cut -d' ' -f1)
	run jq -r --arg sha "$sha" '.labs[0].plan | .format, .routing, (.images[] | select(.name == "pod") | .sha256 == $sha),
		(.timings | [.images, .machines, .network, .servers] | all(. >= 0)), (.timings.total > 0)' \
		< <("$TESTBED" status --json "$LAB")
	assert_output $'1\ngateway\ntrue\ntrue\ntrue'
	run jq -r '.labs[0].machines[] | select(.name == "pod-c") | "\(.kind) \(.node) \(.address) \(.http)"' \
		< <("$TESTBED" status --json "$LAB")
	assert_output "pod node2 10.0.2.2 8000"
	run "$TESTBED" status "$LAB"
	assert_success
	assert_line --regexp '^  pod-d +pod +node2 +10\.0\.2\.3 +8000 +[0-9]+ +running$'
}

@test "a pod reaches a pod on the other node over HTTP; the answer names that pod" {
	run tbx "$LAB" pod-a wget -q -O - http://10.0.2.2:8000/hostname
	assert_success
	assert_output "pod-c"
	run tbx "$LAB" pod-a wget -q -O - http://10.0.2.2:8000/
	assert_success
	run jq -r '"\(.name) \(.node) \(.address)"' <<<"$output"
	assert_output "pod-c node2 10.0.2.2"
}

@test "pod to pod across nodes keeps the client pod's address (no NAT)" {
	run tbx "$LAB" pod-a wget -q -O - http://10.0.2.3:8000/clientip
	assert_success
	assert_output --regexp '^10\.0\.1\.2:[0-9]+$'
	run tbx "$LAB" pod-d wget -q -O - http://10.0.1.3:8000/clientip
	assert_success
	assert_output --regexp '^10\.0\.2\.3:[0-9]+$'
}

@test "pods on the same node talk through cbr0" {
	run tbx "$LAB" pod-a wget -q -O - http://10.0.1.3:8000/hostname
	assert_success
	assert_output "pod-b"
	run tbx "$LAB" pod-a ping -c 1 -W 2 10.0.1.3
	assert_success
	assert_output --partial "ttl=64"
}

@test "a ping across nodes takes three hops: node1, the gateway, node2" {
	run tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2
	assert_success
	assert_output --partial "1 packets received"
	# 64 minus one for each router on the way.
	assert_output --partial "ttl=61"
}

@test "across nodes only the gateway side is learned by ARP" {
	tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
	run tbx "$LAB" pod-a ip neigh show
	assert_success
	assert_line --regexp '^10\.0\.1\.1 dev eth0 lladdr'
	refute_output --partial "10.0.2.2"
	run tbx "$LAB" node1 ip neigh show dev eth0
	assert_success
	assert_line --regexp '^10\.10\.0\.1 lladdr'
	refute_output --partial "10.10.0.3"
}

@test "the gateway routes each node's pod CIDR to that node" {
	run tbx "$LAB" gateway ip route show
	assert_success
	assert_line --regexp '^10\.0\.1\.0/24 via 10\.10\.0\.2 dev eth0'
	assert_line --regexp '^10\.0\.2\.0/24 via 10\.10\.0\.3 dev eth0'
	run tbx "$LAB" node1 ip route show default
	assert_output --regexp '^default via 10\.10\.0\.1 dev eth0'
	run tbx "$LAB" pod-c ip route show default
	assert_output --regexp '^default via 10\.0\.2\.1 dev eth0'
}

@test "a capture on the underlay shows the packet twice: to the gateway, then to node2" {
	cap=$BATS_TEST_TMPDIR/underlay
	pid=$(capture_start "$cap" tbx "$LAB" lab tcpdump -l -n -e -c 2 -i tb-underlay 'icmp[icmptype] == icmp-echo')
	tbx "$LAB" pod-a ping -c 1 -W 2 10.0.2.2 >/dev/null
	capture_wait "$pid"
	run grep -c "10.0.1.2 > 10.0.2.2: ICMP echo request" "$cap"
	assert_output "2"
	# Two different hops: the destination MACs differ (gateway, node2).
	run bash -c "awk '{print \$4}' '$cap' | sort -u | wc -l"
	assert_output "2"
}

@test "a capture on node2's cbr0 shows the request arriving for pod-c" {
	cap=$BATS_TEST_TMPDIR/cbr0
	pid=$(capture_start "$cap" tbx "$LAB" node2 tcpdump -l -n -c 1 -i cbr0 'icmp[icmptype] == icmp-echo')
	tbx "$LAB" pod-b ping -c 1 -W 2 10.0.2.2 >/dev/null
	capture_wait "$pid"
	run cat "$cap"
	assert_output --partial "10.0.1.3 > 10.0.2.2: ICMP echo request"
}

@test "pods have their own hostname and PID namespace, nested in their node's" {
	run tbx "$LAB" pod-c hostname
	assert_output "pod-c"
	run tbx "$LAB" pod-c cat /proc/1/cmdline
	assert_output --partial "testbed-init: pod-c"
	# The node sees its pods' processes; the pod sees only its own.
	run tbx "$LAB" node2 ps
	assert_output --partial "--name pod-c"
	assert_output --partial "--name pod-d"
	run tbx "$LAB" pod-c ps
	refute_output --partial "--name pod-d"
}

@test "exec returns the command's exit code" {
	run tbx "$LAB" pod-a sh -c "exit 7"
	assert_failure 7
	run -127 "$TESTBED" exec "$LAB" pod-a -- nosuchcommand
	assert_failure 127
}

@test "up of a lab that is already up exits 2 and says so" {
	run "$TESTBED" up "$FILE"
	assert_failure 2
	assert_output --partial "already up"
}

@test "exec into an unknown target exits 2" {
	run "$TESTBED" exec "$LAB" pod-zz -- true
	assert_failure 2
	assert_output --partial 'no pod, node or host "pod-zz"'
}

@test "check: the Kubernetes model holds: every pod reaches every other over http and ping, unNATed" {
	run "$TESTBED" check "$LAB"
	assert_success
	# 4 pods: 12 pairs over http and ping, then each pod to the internet.
	assert_line "32 passed, 0 failed"
}

@test "down removes every trace: processes, state, and the host is as before" {
	pids=$(lab_pids "$LAB")
	[ -n "$pids" ]
	run "$TESTBED" down "$FILE"
	assert_success
	assert_output "lab $LAB is down"
	assert_pids_gone $pids
	[ ! -e "$TESTBED_STATE_DIR" ]
	host_snapshot >"$BATS_FILE_TMPDIR/host.after"
	run diff "$BATS_FILE_TMPDIR/host.before" "$BATS_FILE_TMPDIR/host.after"
	assert_success
	run "$TESTBED" down "$LAB"
	assert_success
	assert_output "lab $LAB is not up: nothing to do"
}
