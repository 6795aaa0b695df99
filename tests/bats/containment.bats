# What runs in a machine is contained (docs/security.md): capabilities cut
# to the machine's kind, no-new-privs, a seccomp filter against terminal
# injection, host-wide /proc files masked or read-only, a nodev /dev with
# the usual nodes only, a session of its own, and a bounded writable layer.
# Each is proven from inside a pod or node.
bats_require_minimum_version 1.5.0
load helpers

LAB=contain

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	cat >"$BATS_FILE_TMPDIR/lab.json" <<-JSON
	{"name": "contain", "images": {"pod": "$REPO/images/pod.tar.zst", "node": "$REPO/images/node.tar.zst"},
	 "nodes": [{"name": "n1", "pods": [{"name": "web"}, {"name": "small", "disk": "16Mi"}]}]}
	JSON
	testbed_up "$BATS_FILE_TMPDIR/lab.json" --quiet
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

# The capability sets of a process in TARGET, as hex masks.
caps_of() {
	tbx "$LAB" "$1" sh -c "$2" | awk '/^Cap(Eff|Prm|Bnd|Inh|Amb)/ {print $1, $2}'
}

@test "pods keep only NET_RAW and NET_BIND_SERVICE; nodes also NET_ADMIN, SETUID, SETGID; with no-new-privs" {
	# NET_BIND_SERVICE is bit 10, NET_ADMIN 12, NET_RAW 13; SETGID 6, SETUID 7 (nodes).
	run caps_of web 'cat /proc/self/status'
	assert_line "CapEff: 0000000000002400"
	assert_line "CapPrm: 0000000000002400"
	assert_line "CapBnd: 0000000000002400"
	assert_line "CapInh: 0000000000000000"
	run caps_of n1 'cat /proc/self/status'
	assert_line "CapEff: 00000000000034c0"
	assert_line "CapBnd: 00000000000034c0"
	# The pod's server, forked from the image's pool into the pod, has no more.
	run caps_of web 'cat /proc/$(grep -l "^testbed-http$" /proc/[0-9]*/comm | cut -d/ -f3)/status'
	assert_line "CapEff: 0000000000002400"
	run tbx "$LAB" web grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	# What the capabilities are for still works.
	run tbx "$LAB" web ping -c 1 -W 2 10.244.0.1
	assert_success
	run tbx "$LAB" web ip link set lo mtu 1400
	assert_failure
	run tbx "$LAB" n1 ip link set lo mtu 65536
	assert_success
}

@test "host-wide settings cannot be written from inside; the machine's own network settings can" {
	run tbx "$LAB" web sh -c 'echo core > /proc/sys/kernel/core_pattern'
	assert_failure
	assert_output --partial "Read-only file system"
	run tbx "$LAB" n1 sh -c 'echo 10 > /proc/sys/vm/swappiness'
	assert_failure
	assert_output --partial "Read-only file system"
	run tbx "$LAB" n1 sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/forwarding && cat /proc/sys/net/ipv4/ip_forward'
	assert_success
	assert_output 1
	run tbx "$LAB" web sh -c 'echo h > /proc/sysrq-trigger'
	assert_failure
	# Masked: empty, or absent where this kernel has none.
	run tbx "$LAB" web sh -c 'for f in /proc/kcore /proc/keys /proc/timer_list; do [ -e $f ] && wc -c < $f; done; true'
	refute_output --regexp '[1-9]'
	run tbx "$LAB" web sh -c 'mount -o remount,rw /proc/sys'
	assert_failure
}

@test "/dev is nodev with the usual nodes only, and no new device can be made" {
	run tbx "$LAB" web sh -c 'grep " /dev " /proc/self/mountinfo'
	assert_output --regexp 'nosuid,nodev,noexec'
	run tbx "$LAB" web ls /dev
	assert_output "$(printf '%s\n' fd full null ptmx pts random shm stderr stdin stdout tty urandom zero)"
	run tbx "$LAB" web sh -c 'head -c 4 /dev/zero | wc -c; echo x > /dev/null'
	assert_success
	assert_output 4
	run tbx "$LAB" web mknod /dev/sda b 8 0
	assert_failure
}

@test "each machine's init leads a session of its own, apart from the caller's terminal" {
	run tbx "$LAB" web sh -c 'cut -d" " -f6 /proc/1/stat'
	assert_output 1
	# The server, a fork of the image's pool, leads one too.
	run tbx "$LAB" web sh -c 'server=$(grep -l "^testbed-http$" /proc/[0-9]*/comm | cut -d/ -f3); tr "\0" " " </proc/$server/cmdline; echo; cut -d" " -f1,6 /proc/$server/stat'
	assert_line --regexp 'testbed-http --port 8000'
	assert_line --regexp '^([0-9]+) \1$'
	# TIOCSTI (push input into a terminal) is refused by the seccomp filter.
	run tbx "$LAB" web python3 -c 'import fcntl, termios, sys
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
except OSError as e:
    print(e.errno)'
	assert_output 1 # EPERM, before the kernel even looks at the file
}

@test "the writable layer stops at its size: 256Mi by default, \"disk\" per machine" {
	run tbx "$LAB" small sh -c 'dd if=/dev/zero of=/fill bs=1M count=64 2>&1; rm -f /fill'
	assert_output --partial "No space left on device"
	run tbx "$LAB" web sh -c 'dd if=/dev/zero of=/fill bs=1M count=64 2>&1 && rm -f /fill'
	assert_success
	run tbx "$LAB" web sh -c 'dd if=/dev/zero of=/fill bs=1M count=300 2>&1; rm -f /fill'
	assert_output --partial "No space left on device"
	run jq -r '.machines[] | select(.name == "small" or .name == "web") | "\(.name) \(.disk)"' \
		< <("$TESTBED" plan "$LAB" --format json)
	assert_output $'web 268435456\nsmall 16777216'
}
