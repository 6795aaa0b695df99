# kube-proxy's nftables mode as plan/kubeproxy.c writes it, checked by the
# kernel: the unit tests write the rule set of each scenario they build
# (KUBEPROXY_OUT); nft accepts every one, loads it, and a second load
# replaces the first; and in a scratch lab of network namespaces (a node,
# two pods on routed links, an outside client) the loaded table DNATs to
# random endpoints, masquerades where kube-proxy does, keeps affinity,
# rejects a service without endpoints and drops what policy Local or an
# unallocated ClusterIP drops. No lab of testbed's, no image.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root; run with: sudo tests/run-bats.sh tests/bats/kubeproxy.bats"
	if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
		echo "refusing to run in the machine's initial network namespace; use tests/run-bats.sh" >&2
		return 1
	fi
	make -C "$REPO" -s build/unit-tests >&2
	export KP_OUT=$BATS_FILE_TMPDIR/rulesets
	(cd "$REPO/tests/unit" && KUBEPROXY_OUT=$KP_OUT "$REPO/build/unit-tests" kubeproxy) >&2
}

# Runs SCRIPT ARGS... in a network namespace of its own whose /run/netns is
# a private tmpfs: the namespaces it names are gone with it.
in_scratch() {
	local made=0 rc=0
	[ -d /run/netns ] || { mkdir -p /run/netns; made=1; }
	unshare --net --mount --propagation private -- \
		bash -c 'mount -t tmpfs tmpfs /run/netns && ip link set lo up && exec bash "$@"' bash "$@" || rc=$?
	[ "$made" = 0 ] || rmdir /run/netns 2>/dev/null || true
	return "$rc"
}

@test "every scenario's rule set is one nft accepts" {
	local n=0
	for f in "$KP_OUT"/*.nft; do
		run unshare --net -- nft -c -f "$f"
		assert_success
		n=$((n + 1))
	done
	# Not vacuous: the scenarios were written.
	[ "$n" -ge 10 ]
}

@test "loaded, the table lists as kube-proxy's; loaded again, it is replaced, not doubled" {
	cat >"$BATS_TEST_TMPDIR/twice.sh" <<-'EOF'
		set -e
		nft -f "$1"
		nft list ruleset >"$2.first"
		nft -f "$1"
		nft list ruleset >"$2.second"
	EOF
	for f in "$KP_OUT"/overall.nft "$KP_OUT"/affinity.nft "$KP_OUT"/packet-lab.nft; do
		in_scratch "$BATS_TEST_TMPDIR/twice.sh" "$f" "$BATS_TEST_TMPDIR/list"
		cmp "$BATS_TEST_TMPDIR/list.first" "$BATS_TEST_TMPDIR/list.second"
	done
	run cat "$BATS_TEST_TMPDIR/list.first"
	assert_line --partial 'type nat hook prerouting priority dstnat; policy accept;'
	assert_line --partial 'type filter hook output priority -90; policy accept;'
	assert_line --regexp 'numgen random mod 2 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-default/web/tcp/http__10\.0\.1\.2/8080, 1 : goto endpoint-'
	assert_line --regexp '^	set affinity-[A-Z2-7]{8}-default/sticky/tcp/http__10\.0\.1\.2/8080 \{$'
	assert_line --partial 'elements = { tcp . 30081 comment "default/local:http" : drop }'
}

@test "packets: DNAT to random endpoints, masquerade where kube-proxy does, ClientIP affinity" {
	cat >"$BATS_TEST_TMPDIR/lab.sh" <<-'EOF'
		set -eu
		rules=$1 peer=$2
		pids=()
		trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT
		for ns in node1 pod-a pod-b client; do
			ip netns add "$ns"
			ip -n "$ns" link set lo up
		done
		# The node's eth0 faces an outside client (192.168.0.10), which
		# routes the service range through it.
		ip link add name eth0 netns node1 type veth peer name eth0 netns client
		ip -n node1 addr add 192.168.0.2/24 dev eth0
		ip -n node1 link set eth0 up
		ip -n client addr add 192.168.0.10/24 dev eth0
		ip -n client link set eth0 up
		ip -n client route add 10.96.0.0/16 via 192.168.0.2
		ip -n node1 route add default via 192.168.0.10
		# Pods on routed point-to-point links (no bridge, so that a
		# reply between two pods of the node passes its netfilter too).
		for pod in a:10.0.1.2 b:10.0.1.3; do
			name=pod-${pod%%:*} addr=${pod#*:}
			ip link add name "veth-${pod%%:*}" netns node1 type veth peer name eth0 netns "$name"
			ip -n node1 addr add 10.0.1.1/32 dev "veth-${pod%%:*}"
			ip -n node1 link set "veth-${pod%%:*}" up
			ip -n node1 route add "$addr/32" dev "veth-${pod%%:*}"
			ip -n "$name" addr add "$addr/32" dev eth0
			ip -n "$name" link set eth0 up
			ip -n "$name" route add 10.0.1.1 dev eth0
			ip -n "$name" route add default via 10.0.1.1
			ip netns exec "$name" python3 "$peer" serve "$name" 8080 &
			pids+=($!)
		done
		ip netns exec node1 sysctl -qw net.ipv4.ip_forward=1
		# The servers answer before the table is there.
		for addr in 10.0.1.2 10.0.1.3; do
			for _ in $(seq 50); do
				case "$(ip netns exec node1 python3 "$peer" connect "$addr" 8080 1)" in pod-*) break ;; esac
				sleep 0.1
			done
		done
		ip netns exec node1 nft -f "$rules"
		probe() { # NAME FROM HOST PORT [TIMES]
			local name=$1 from=$2 host=$3 port=$4 times=${5:-1}
			for _ in $(seq "$times"); do
				ip netns exec "$from" python3 "$peer" connect "$host" "$port" 1
			done | sort -u | sed "s|^|$name: |"
		}
		probe pod-to-clusterip pod-a 10.96.0.10 80 20
		probe client-to-clusterip client 10.96.0.10 80 16
		probe client-to-nodeport client 192.168.0.2 30080 6
		probe pod-to-nodeport pod-b 192.168.0.2 30080 6
		probe node-to-clusterip node1 10.96.0.10 80 6
		probe sticky client 10.96.0.13 80 8
	EOF
	run in_scratch "$BATS_TEST_TMPDIR/lab.sh" "$KP_OUT/packet-lab.nft" "$REPO/tests/kubeproxy-peer.py"
	assert_success
	# Both endpoints, at random; a pod reaching itself (hairpin) is
	# masqueraded to the node, one reaching the other keeps its address.
	assert_line 'pod-to-clusterip: pod-a 10.0.1.1'
	assert_line 'pod-to-clusterip: pod-b 10.0.1.2'
	refute_line 'pod-to-clusterip: pod-a 10.0.1.2'
	# From outside the cluster CIDR, ClusterIP and NodePort (policy
	# Cluster) traffic is masqueraded: the pods see the node.
	assert_line 'client-to-clusterip: pod-a 10.0.1.1'
	assert_line 'client-to-clusterip: pod-b 10.0.1.1'
	refute_line --partial 'client-to-clusterip: pod-a 192.168.0.10'
	assert_line --regexp '^client-to-nodeport: pod-[ab] 10\.0\.1\.1$'
	refute_line --regexp '^client-to-nodeport: .* 192\.168\.0\.10$'
	# A pod to a NodePort under policy Cluster: masqueraded too.
	assert_line --regexp '^pod-to-nodeport: pod-[ab] 10\.0\.1\.1$'
	refute_line --regexp '^pod-to-nodeport: .* 10\.0\.1\.3$'
	assert_line --regexp '^node-to-clusterip: pod-[ab] 10\.0\.1\.1$'
	# ClientIP affinity: eight connections, one endpoint.
	run grep -c '^sticky: ' <<<"$output"
	assert_output 1
}

@test "packets: no endpoints rejects at once, policy Local without a local endpoint and unallocated ClusterIPs drop" {
	cat >"$BATS_TEST_TMPDIR/lab.sh" <<-'EOF'
		set -eu
		rules=$1 peer=$2
		ip netns add node1
		ip netns add client
		ip -n node1 link set lo up
		ip -n client link set lo up
		ip link add name eth0 netns node1 type veth peer name eth0 netns client
		ip -n node1 addr add 192.168.0.2/24 dev eth0
		ip -n node1 link set eth0 up
		ip -n client addr add 192.168.0.10/24 dev eth0
		ip -n client link set eth0 up
		ip -n client route add 10.96.0.0/16 via 192.168.0.2
		ip -n node1 route add default via 192.168.0.10
		ip netns exec node1 sysctl -qw net.ipv4.ip_forward=1
		# The client's packets come in and would go out eth0 again: the
		# kernel's ICMP redirect for that would use up the rate-limit
		# tokens the reject's port unreachable needs (they share them per
		# peer), so this one-armed node sends none.
		ip netns exec node1 sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
		ip netns exec node1 nft -f "$rules"
		c() { ip netns exec client python3 "$peer" connect "$1" "$2" 1; }
		echo "no-endpoints: $(c 10.96.0.12 80)"
		echo "no-such-port: $(c 10.96.0.10 81)"
		echo "unallocated: $(c 10.96.0.99 80)"
		echo "local-none-here: $(c 192.168.0.2 30081)"
	EOF
	run in_scratch "$BATS_TEST_TMPDIR/lab.sh" "$KP_OUT/packet-lab.nft" "$REPO/tests/kubeproxy-peer.py"
	assert_success
	assert_line 'no-endpoints: refused'
	assert_line 'no-such-port: refused'
	assert_line 'unallocated: timeout'
	assert_line 'local-none-here: timeout'
}

@test "1000 services of 3 endpoints: one node's table loads within seconds" {
	local f=$KP_OUT/thousand-node1.nft start end
	[ -f "$f" ]
	start=$(date +%s%N)
	run unshare --net -- nft -f "$f"
	end=$(date +%s%N)
	assert_success
	echo "# one node's table of 1000 services: $(((end - start) / 1000000)) ms to load" >&3
	[ $(((end - start) / 1000000)) -lt 5000 ]
}
