# Article section 1.3: several namespaces on one bridge, br0.
bats_require_minimum_version 1.5.0
load helpers

LAB=bridge
FILE=$REPO/topologies/bridge.json

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

@test "up builds three hosts on br0" {
	# setup_file brought it up (testbed_up fails unless up succeeds); what up printed:
	assert_equal "$TESTBED_LAB" "$LAB"
	run cat "$TESTBED_UP_OUTPUT"
	assert_line --regexp '^net2 +host +- +10\.0\.1\.4 +[0-9]+$'
	# br0 lives in the lab namespace, with one port per host.
	run tbx "$LAB" lab ip -o link show master br0
	assert_success
	assert_equal "${#lines[@]}" 3
}

@test "every host reaches every other through the bridge" {
	for pair in "net0 10.0.1.3" "net0 10.0.1.4" "net1 10.0.1.2" "net2 10.0.1.3"; do
		set -- $pair
		run tbx "$LAB" "$1" ping -c 1 -W 2 "$2"
		assert_success
	done
	run tbx "$LAB" net2 wget -q -O - http://10.0.1.2:8000/hostname
	assert_output "net0"
	run tbx "$LAB" net2 wget -q -O - http://10.0.1.2:8000/clientip
	assert_output --regexp '^10\.0\.1\.4:[0-9]+$'
}

@test "tcpdump on br0 shows the ping and the ARP exchange before it" {
	tbx "$LAB" net1 ip neigh flush dev eth0
	tbx "$LAB" net0 ip neigh flush dev eth0
	cap=$BATS_TEST_TMPDIR/br0
	pid=$(capture_start "$cap" tbx "$LAB" lab tcpdump -l -n -c 4 -i br0 'arp or icmp')
	tbx "$LAB" net0 ping -c 1 -W 2 10.0.1.3 >/dev/null
	capture_wait "$pid"
	run cat "$cap"
	assert_output --partial "Request who-has 10.0.1.3 tell 10.0.1.2"
	assert_output --partial "Reply 10.0.1.3 is-at"
	assert_output --partial "10.0.1.2 > 10.0.1.3: ICMP echo request"
	assert_output --partial "10.0.1.3 > 10.0.1.2: ICMP echo reply"
	mac=$(tbx "$LAB" net1 cat /sys/class/net/eth0/address)
	run tbx "$LAB" net0 ip neigh show 10.0.1.3
	assert_output --regexp "lladdr $mac"
}

@test "check: the expectations in bridge.json hold" {
	run "$TESTBED" check "$FILE"
	assert_success
	assert_line "12 passed, 0 failed"
}

@test "down leaves the host as it was" {
	pids=$(lab_pids "$LAB")
	run "$TESTBED" down "$FILE"
	assert_success
	assert_pids_gone $pids
	[ ! -e "$TESTBED_STATE_DIR" ]
	host_snapshot >"$BATS_FILE_TMPDIR/host.after"
	run diff "$BATS_FILE_TMPDIR/host.before" "$BATS_FILE_TMPDIR/host.after"
	assert_success
}
