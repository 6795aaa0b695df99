# The pod server (images/pod/testbed-http.py): its answers over HTTP and
# UDP on several ports, and the pool that forks one warm interpreter into
# every pod (docs/performance.md): servers inside their pods' namespaces,
# with the pods' capabilities, sharing memory, and their ends reported.
bats_require_minimum_version 1.5.0
load helpers

LAB=servers
SERVER=$REPO/images/pod/testbed-http.py

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	cat >"$BATS_FILE_TMPDIR/lab.json" <<-JSON
	{"name": "servers", "images": {"pod": "$REPO/images/pod.tar.zst", "node": "$REPO/images/node.tar.zst"},
	 "nodes": [{"name": "n1", "pods": [{"name": "a1"}, {"name": "a2"}, {"name": "a3"}, {"name": "a4"}, {"name": "a5"}]},
	           {"name": "n2", "pods": [{"name": "b1"}, {"name": "b2"}, {"name": "b3"}, {"name": "b4"}, {"name": "b5"}]}]}
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

# Starts the server from the repository on loopback; prints its PID.
start_server() {
	python3 "$SERVER" "$@" >"$BATS_TEST_TMPDIR/server.log" 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		grep -q "serving on" "$BATS_TEST_TMPDIR/server.log" && break
		sleep 0.05
	done
	echo "$pid"
}

# One UDP request; prints the answer.
udp_ask() {
	python3 - "$1" "$2" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(2)
	s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
	print(s.recvfrom(4096)[0].decode())
	PY
}

@test "the server answers HTTP on every port it is given, and UDP commands" {
	pid=$(start_server --tcp 18080 --tcp 18081 --udp 18082 --name web-1 --node node-7)
	run curl -sS http://127.0.0.1:18080/hostname
	assert_output "web-1"
	run curl -sS http://127.0.0.1:18081/hostname
	assert_output "web-1"
	run curl -sS http://127.0.0.1:18081/clientip
	assert_output --regexp '^127\.0\.0\.1:[0-9]+$'
	run curl -sS 'http://127.0.0.1:18080/echo?msg=a%20b+c'
	assert_output "a b c"
	run curl -sS http://127.0.0.1:18080/
	assert_output --regexp '^\{"name": "web-1", "node": "node-7", "address": "127.0.0.1", "client": "127.0.0.1:[0-9]+"\}$'
	# Any other path answers the name, as agnhost serve-hostname does: a
	# backend behind an Ingress path is asked that path.
	run curl -sS http://127.0.0.1:18080/shop/cart
	assert_output "web-1"
	run curl -sS -I http://127.0.0.1:18080/hostname
	assert_line --partial "HTTP/1.0 200 OK"
	assert_line --partial "Content-Length: 6"
	run udp_ask 18082 hostname
	assert_output "web-1"
	run udp_ask 18082 clientip
	assert_output --regexp '^127\.0\.0\.1:[0-9]+$'
	run udp_ask 18082 "echo hello there"
	assert_output "hello there"
	run udp_ask 18082 "sing"
	assert_output --partial "unknown command"
	kill "$pid"
	wait "$pid" || true
}

@test "a silent or broken client does not stop the server from answering others" {
	pid=$(start_server --tcp 18090 --name web-2)
	# A client that connects and never sends, one that sends garbage, and
	# 300 at once: every well-formed request is still answered.
	exec 7<>/dev/tcp/127.0.0.1/18090
	exec 8<>/dev/tcp/127.0.0.1/18090
	printf 'garbage\r\n\r\n' >&8
	exec 8>&-
	run bash -c 'for i in $(seq 300); do curl -s -m 5 http://127.0.0.1:18090/hostname & done | sort | uniq -c'
	assert_output --regexp '^ *300 web-2$'
	exec 7>&-
	kill "$pid"
	wait "$pid" || true
}

@test "every pod's server is a fork of its image's pool, shown by status and not open to exec" {
	run "$TESTBED" status --json "$LAB"
	assert_success
	run jq -r '.labs[0].machines[] | select(.kind == "pool") | "\(.name) \(.running)"' <<<"$output"
	assert_output "servers:pod true"
	run "$TESTBED" exec "$LAB" servers:pod -- true
	assert_failure 2
	assert_output --partial "servers:pod in lab servers is the pool its pod servers are forked from, not a machine"
	# Inside a pod: the init as PID 1 and one server, in the pod's own PID namespace.
	run tbx "$LAB" a1 sh -c 'for p in /proc/[0-9]*; do tr "\0" " " <$p/cmdline; echo; done'
	assert_line --index 0 --regexp "^testbed-init: a1 *$"
	assert_line --index 1 --regexp "^/usr/local/bin/testbed-http --port 8000 --name a1 --node n1 *$"
	run tbx "$LAB" a1 sh -c 'cat /proc/[0-9]*/comm | grep -c "^testbed-http$"'
	assert_output 1
}

@test "a pod's server has only the pod's capabilities, no-new-privs, and the pod's root and name" {
	run tbx "$LAB" a2 grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/2/status
	assert_line --regexp '^CapEff:[[:space:]]+0000000000002400$'
	assert_line --regexp '^CapPrm:[[:space:]]+0000000000002400$'
	assert_line --regexp '^CapBnd:[[:space:]]+0000000000002400$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	# Same mount, network and UTS namespaces as the pod's init.
	for ns in mnt net uts ipc pid; do
		run tbx "$LAB" a2 sh -c "[ \$(readlink /proc/1/ns/$ns) = \$(readlink /proc/2/ns/$ns) ] && echo same"
		assert_output same
	done
	run tbx "$LAB" a2 sh -c 'cat /proc/2/root/etc/hostname'
	assert_output a2
}

@test "pod servers share the pool's memory: under 3 MB of PSS per pod, init included" {
	local inits=() pod
	for pod in a1 a2 a3 a4 a5 b1 b2 b3 b4 b5; do
		inits+=("$(machine_pid "$LAB" "$pod")")
	done
	# A pod's processes: its init and everything in its PID namespace. One
	# pass over /proc, in one process: a shell loop per pod took 40 s.
	run python3 - "${inits[@]}" <<-'PY'
	import os, sys
	def ns(pid):
	    try:
	        return os.readlink("/proc/%s/ns/pid" % pid)
	    except OSError:
	        return None
	def pss(pid):
	    try:
	        with open("/proc/%s/smaps_rollup" % pid) as f:
	            return sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
	    except OSError:
	        return 0
	pods = {ns(pid) for pid in sys.argv[1:]}
	assert None not in pods and len(pods) == len(sys.argv) - 1, "a pod's init is gone"
	total = sum(pss(p) for p in os.listdir("/proc") if p.isdigit() and ns(p) in pods)
	print(total // len(pods))
	PY
	assert_success
	echo "PSS: $output kB per pod" >&2
	[ "$output" -gt 0 ]
	[ "$output" -lt 3072 ]
}

@test "a pod's server that ends is reported in the pool's log" {
	run tbx "$LAB" a3 kill -9 2
	assert_success
	for i in $(seq 50); do
		grep -q "the server of a3 killed by signal 9" "$TESTBED_STATE_DIR/$LAB/logs/servers-pod.log" && break
		sleep 0.1
	done
	run cat "$TESTBED_STATE_DIR/$LAB/logs/servers-pod.log"
	assert_output --partial "the server of a3 killed by signal 9"
}

@test "an image whose server cannot start fails up at once, naming the pool and keeping its log" {
	# The bundled pod image with a server that exits at once.
	mkdir -p "$BATS_TEST_TMPDIR/img"
	tar --zstd -xf "$REPO/images/pod.tar.zst" -C "$BATS_TEST_TMPDIR/img"
	printf '#!/bin/sh\necho "no pool today" >&2\nexit 5\n' >"$BATS_TEST_TMPDIR/img/usr/local/bin/testbed-http"
	tar -C "$BATS_TEST_TMPDIR/img" -cf "$BATS_TEST_TMPDIR/broken.tar" .
	cat >"$BATS_TEST_TMPDIR/broken.json" <<-JSON
	{"name": "broken", "images": {"pod": "$BATS_TEST_TMPDIR/broken.tar", "node": "$REPO/images/node.tar.zst"},
	 "nodes": [{"name": "n1", "pods": [{"name": "p1"}, {"name": "p2"}]}]}
	JSON
	start=$(date +%s)
	run "$TESTBED" up --timeout 60 "$BATS_TEST_TMPDIR/broken.json"
	took=$(( $(date +%s) - start ))
	assert_failure 3
	assert_output --partial "servers:pod exited with status 5"
	[ "$took" -lt 20 ]
	run cat "$TESTBED_STATE_DIR/.failed-broken/servers-pod.log"
	assert_output --partial "no pool today"
	"$TESTBED" down broken
}

@test "a server that cannot listen fails up at once, naming its pod and why" {
	# The bundled pod image, its pool asking each server to listen on its
	# port twice: the second bind, in the server's start (server-start.c),
	# fails inside the pod.
	mkdir -p "$BATS_TEST_TMPDIR/img"
	tar --zstd -xf "$REPO/images/pod.tar.zst" -C "$BATS_TEST_TMPDIR/img"
	server="$BATS_TEST_TMPDIR/img/usr/local/bin/testbed-http"
	grep -q '^    tcp, udp = request.get("tcp", \[\]), request.get("udp", \[\])$' "$server"
	sed -i 's/^    tcp, udp = request.get("tcp", \[\]), request.get("udp", \[\])$/    tcp, udp = request.get("tcp", []) * 2, request.get("udp", [])/' "$server"
	tar -C "$BATS_TEST_TMPDIR/img" -cf "$BATS_TEST_TMPDIR/twice.tar" .
	# No external machine: it would run the same server and may fail first.
	cat >"$BATS_TEST_TMPDIR/twice.json" <<-JSON
	{"name": "twice", "images": {"pod": "$BATS_TEST_TMPDIR/twice.tar", "node": "$REPO/images/node.tar.zst"},
	 "external": [], "nodes": [{"name": "n1", "pods": [{"name": "p1"}]}]}
	JSON
	run "$TESTBED" up --timeout 60 "$BATS_TEST_TMPDIR/twice.json"
	assert_failure 3
	assert_output --partial "p1: starting its server: listening on 8000/tcp: Address already in use"
	"$TESTBED" down twice
}
