# Article section 1.2: two namespaces joined directly by one veth pair.
bats_require_minimum_version 1.5.0
load helpers

LAB=veth-pair
FILE=$REPO/topologies/veth-pair.json

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

@test "up builds two hosts" {
	# setup_file brought it up (testbed_up fails unless up succeeds); what up printed:
	assert_equal "$TESTBED_LAB" "$LAB"
	run cat "$TESTBED_UP_OUTPUT"
	assert_line --regexp '^net0 +host +- +10\.0\.1\.2 +[0-9]+$'
	assert_line --regexp '^net1 +host +- +10\.0\.1\.3 +[0-9]+$'
}

@test "each end of the pair is in its own namespace, up, with its address" {
	run tbx "$LAB" net0 ip -o addr show dev veth0
	assert_output --partial "inet 10.0.1.2/24"
	run tbx "$LAB" net1 ip -o addr show dev veth1
	assert_output --partial "inet 10.0.1.3/24"
	run tbx "$LAB" net1 ip link show veth1
	assert_output --regexp "<[A-Z,_]*,UP,LOWER_UP>"
	# A direct pair: nothing of it lives in the lab namespace.
	run tbx "$LAB" lab ip -o link show
	assert_output --regexp '^1: lo:'
	assert_equal "${#lines[@]}" 1
}

@test "net0 pings net1 and learns its MAC by ARP" {
	mac=$(tbx "$LAB" net1 cat /sys/class/net/veth1/address)
	run tbx "$LAB" net0 ping -c 1 -W 2 10.0.1.3
	assert_success
	assert_output --partial "1 packets received"
	run tbx "$LAB" net0 ip neigh show 10.0.1.3
	assert_output --regexp "^10\.0\.1\.3 dev veth0 lladdr $mac"
}

@test "tcpdump on net1's veth1 sees the echo request and reply" {
	pid=$(machine_pid "$LAB" net1)
	cap=$BATS_TEST_TMPDIR/veth1
	cpid=$(capture_start "$cap" nsenter --net=/proc/"$pid"/ns/net tcpdump -l -n -c 2 -i veth1 icmp)
	tbx "$LAB" net0 ping -c 1 -W 2 10.0.1.3 >/dev/null
	capture_wait "$cpid"
	run cat "$cap"
	assert_output --partial "10.0.1.2 > 10.0.1.3: ICMP echo request"
	assert_output --partial "10.0.1.3 > 10.0.1.2: ICMP echo reply"
}

@test "HTTP works too, and the server sees net0's address" {
	run tbx "$LAB" net0 wget -q -O - http://10.0.1.3:8000/hostname
	assert_output "net1"
	run tbx "$LAB" net0 wget -q -O - http://10.0.1.3:8000/clientip
	assert_output --regexp '^10\.0\.1\.2:[0-9]+$'
}

@test "check: the expectations in veth-pair.json hold" {
	run "$TESTBED" check "$FILE"
	assert_success
	assert_line "4 passed, 0 failed"
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
