# The rootfs images: what they hold, and that it runs with the image as
# root inside new mount and PID namespaces (and the scratch network one).
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	for kind in pod node; do
		mkdir -p "$BATS_FILE_TMPDIR/$kind"
		tar --zstd -xf "$REPO/images/$kind.tar.zst" -C "$BATS_FILE_TMPDIR/$kind"
		mkdir -p "$BATS_FILE_TMPDIR/$kind/proc"
	done
}

# Runs a shell script inside the image, as PID 1's child with /proc mounted.
in_image() {
	local kind=$1
	shift
	unshare --mount --pid --fork --mount-proc=/proc \
		--root="$BATS_FILE_TMPDIR/$kind" /bin/sh -c "$*"
}

@test "the pod image is under 20 MB compressed" {
	size=$(stat -c %s "$REPO/images/pod.tar.zst")
	[ "$size" -lt $((20 * 1024 * 1024)) ]
}

@test "pod image: busybox tools run" {
	run in_image pod 'sh -c "echo from-sh" && ip link show lo && ping -c 1 127.0.0.1 >/dev/null && echo ping-ok && ps | head -2 && nc --help 2>&1 | head -1'
	assert_success
	assert_line "from-sh"
	assert_line "ping-ok"
	assert_output --regexp "PID +USER +(TIME +)?COMMAND"
}

@test "pod image: python3 -m http.server serves a file fetched with busybox wget" {
	run in_image pod '
		echo hello-from-pod > /tmp/index.txt
		cd /tmp && python3 -m http.server 8081 >/dev/null 2>&1 &
		for i in $(seq 50); do timeout 1 wget -q -O - http://127.0.0.1:8081/index.txt 2>/dev/null && exit 0; sleep 0.1; done
		exit 1'
	assert_success
	assert_output "hello-from-pod"
}

@test "pod image: testbed-http answers /hostname, /clientip, / and 404" {
	run in_image pod '
		testbed-http --port 8082 --name web-1 --node node-7 2>/dev/null &
		for i in $(seq 50); do timeout 1 wget -q -O /dev/null http://127.0.0.1:8082/hostname 2>/dev/null && break; sleep 0.1; done
		echo "hostname=$(timeout 2 wget -q -O - http://127.0.0.1:8082/hostname)"
		echo "clientip=$(timeout 2 wget -q -O - http://127.0.0.1:8082/clientip)"
		timeout 2 wget -q -O - http://127.0.0.1:8082/ | python3 -c "import json,sys; d=json.load(sys.stdin); print(\"json=\" + d[\"name\"] + \" \" + d[\"node\"] + \" \" + d[\"address\"] + \" \" + d[\"client\"].split(\":\")[0])"
		timeout 2 wget -q -O - http://127.0.0.1:8082/nope 2>&1 | grep -q "404" && echo "missing=404"'
	assert_success
	assert_line "hostname=web-1"
	assert_line --regexp '^clientip=127\.0\.0\.1:[0-9]+$'
	assert_line "json=web-1 node-7 127.0.0.1 127.0.0.1"
	assert_line "missing=404"
}

@test "node image: iproute2, ping, nft, iptables and tcpdump run" {
	run in_image node 'ip -V && ping -V && nft --version && iptables --version && tcpdump --version 2>&1 | head -1'
	assert_success
	assert_output --partial "iproute2"
	assert_output --partial "nftables"
	assert_output --regexp "iptables v[0-9.]+ \(nf_tables\)"
	assert_output --partial "tcpdump version"
}

@test "node image: nft and iptables work on a network namespace of their own" {
	run unshare --net --mount --pid --fork --mount-proc=/proc \
		--root="$BATS_FILE_TMPDIR/node" /bin/sh -c '
		nft add table inet probe && nft list ruleset && iptables -A INPUT -p tcp --dport 9 -j DROP && iptables -S INPUT'
	assert_success
	assert_output --partial "table inet probe"
	assert_output --partial "-A INPUT -p tcp -m tcp --dport 9 -j DROP"
}
