# Article section 3.1: pods on one node, joined by cbr0 (kubenet).
bats_require_minimum_version 1.5.0
load helpers

LAB=kubenet-one
FILE=$REPO/topologies/kubenet-one-node.json

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

@test "up builds one node with three pods from the default pod CIDR" {
	# setup_file brought it up (testbed_up fails unless up succeeds); what up printed:
	assert_equal "$TESTBED_LAB" "$LAB"
	run cat "$TESTBED_UP_OUTPUT"
	assert_line --regexp '^pod-a +pod +node1 +10\.244\.0\.2 +[0-9]+$'
	assert_line --regexp '^pod-c +pod +node1 +10\.244\.0\.4 +[0-9]+$'
}

@test "kubenet wiring: cbr0 holds the first address, pods' veths are its ports with hairpin on" {
	run tbx "$LAB" node1 ip -o addr show dev cbr0
	assert_output --partial "inet 10.244.0.1/24"
	run tbx "$LAB" node1 ip -o link show master cbr0
	assert_equal "${#lines[@]}" 3
	for port in veth0 veth1 veth2; do
		run tbx "$LAB" node1 ip -d link show "$port"
		assert_output --partial "hairpin on"
	done
	run tbx "$LAB" node1 cat /proc/sys/net/ipv4/ip_forward
	assert_output "1"
}

@test "pods on the node reach each other directly and learn each other's MAC" {
	mac=$(tbx "$LAB" pod-c cat /sys/class/net/eth0/address)
	run tbx "$LAB" pod-a ping -c 1 -W 2 10.244.0.4
	assert_success
	run tbx "$LAB" pod-a ip neigh show 10.244.0.4
	assert_output --regexp "^10\.244\.0\.4 dev eth0 lladdr $mac"
	# Learned by ARP, as the article shows: a small lab keeps neighbours "learned".
	refute_output --partial PERMANENT
	run tbx "$LAB" pod-a wget -q -O - http://10.244.0.3:8000/hostname
	assert_output "pod-b"
	run tbx "$LAB" pod-c wget -q -O - http://10.244.0.2:8000/clientip
	assert_output --regexp '^10\.244\.0\.4:[0-9]+$'
}

@test "a capture on cbr0 shows pod to pod traffic" {
	cap=$BATS_TEST_TMPDIR/cbr0
	pid=$(capture_start "$cap" tbx "$LAB" node1 tcpdump -l -n -c 2 -i cbr0 icmp)
	tbx "$LAB" pod-b ping -c 1 -W 2 10.244.0.4 >/dev/null
	capture_wait "$pid"
	run cat "$cap"
	assert_output --partial "10.244.0.3 > 10.244.0.4: ICMP echo request"
	assert_output --partial "10.244.0.4 > 10.244.0.3: ICMP echo reply"
}

@test "the node reaches its pods" {
	run tbx "$LAB" node1 wget -q -O - http://10.244.0.2:8000/hostname
	assert_output "pod-a"
}

@test "exec gives an interactive shell on a terminal and returns its exit code" {
	run bash -c "printf 'echo in-\$(hostname)\ntest -t 0 && echo stdin-is-a-tty\nexit 3\n' |
		script -qefc '$TESTBED exec $LAB pod-b' /dev/null"
	assert_failure 3
	assert_output --partial "in-pod-b"
	assert_output --partial "stdin-is-a-tty"
}

@test "check: the Kubernetes model holds on one node" {
	run "$TESTBED" check "$LAB"
	assert_success
	# 3 pods: 6 pairs over http and ping, then each pod to the internet.
	assert_line "18 passed, 0 failed"
}

@test "down leaves the host as it was" {
	pids=$(lab_pids "$LAB")
	run "$TESTBED" down "$LAB"
	assert_success
	assert_pids_gone $pids
	[ ! -e "$TESTBED_STATE_DIR" ]
	host_snapshot >"$BATS_FILE_TMPDIR/host.after"
	run diff "$BATS_FILE_TMPDIR/host.before" "$BATS_FILE_TMPDIR/host.after"
	assert_success
}
