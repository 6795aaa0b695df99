# Every packet flow of kube-proxy's nftables proxier tests
# (kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go, the
# runPacketFlowTests tables), probed against the live kernel. Each upstream
# test's fixture is a namespace of tests/labs/kp-flows (YAML as users write
# it: Services with EndpointSlices giving upstream's nodeName and
# ready/serving/terminating conditions), node1 playing upstream's
# "test-node". Upstream's parts map to the lab's:
#   pod 10.0.0.2 / 10.180.0.2  client, a pod on node1
#   testNodeIP 192.168.0.2     node1 (its underlay address)
#   testNodeIPAlt              node1's cbr0 address, 10.244.0.1
#   testExternalClient         internet, 203.0.113.2 (inside 203.0.113.0/25)
#   testExternalClientBlocked  blocked, 203.0.113.130
#   endpoint on test-node      ep-a..ep-d on node1; elsewhere ep-r, ep-s, ep-t on node2
# and the outcomes to what a probe sees: DNAT to endpoints X, Y is
# answeredBy [X, Y] over enough requests that each must answer; masq false
# is clientIP preserved, masq true the node's address (clientIP node1,
# or rewritten where the gateway picks the node); REJECT is failure
# refused, answered within 100 ms; DROP failure timeout.
# Flows not expressible in a lab are listed in docs/check.md.
bats_require_minimum_version 1.5.0
load helpers

LABS=$REPO/tests/labs/kp-flows
A=ep-a B=ep-b C=ep-c R=ep-r S=ep-s T=ep-t

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	for lab in base masqall nodetect both; do
		"$TESTBED" up --quiet "$LABS/$lab.json"
	done
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	for lab in base masqall nodetect both; do
		"$TESTBED" down "kpf-$lab" >/dev/null 2>&1 || true
	done
}

# flows LAB NAME: checks the expectations on stdin (a JSON list) in LAB,
# with a timeout of 500 ms; every one must hold, a refusal come within
# 100 ms and a drop take the whole timeout. The report goes to NAME.out.json.
flows() {
	local lab=$1 name=$2
	local f=$BATS_TEST_TMPDIR/$name.json out=$BATS_TEST_TMPDIR/$name.out.json
	cat >"$f"
	run "$TESTBED" check --format json --timeout 0.5 --expect "$f" "$lab"
	printf '%s\n' "$output" >"$out"
	if [ "$status" != 0 ]; then
		jq -r '.probes[] | select(.ok | not) | "\(.from) -> \(.to) \(.proto):\(.port): expected \(.expected // "pass") got \(.got) \(.failed // "") \(.error // "") \(.answers // {} | tostring)"' "$out" >&2 || echo "$output" >&2
	fi
	assert_success
	# One probe per expectation: nothing was left out.
	[ "$(jq '.probes | length' "$out")" = "$(jq length "$f")" ]
	run jq -r '.probes[] | select(.failed == "refused" and .latencyMs >= 100) | "\(.from) -> \(.to): refused after \(.latencyMs) ms"' "$out"
	assert_output ''
	run jq -r '.probes[] | select(.failed == "timeout" and .latencyMs < 500) | "\(.from) -> \(.to): timed out after \(.latencyMs) ms"' "$out"
	assert_output ''
}

# slices_of NS SERVICE...: the EndpointSlices SERVICE-1 of NS, as a
# manifest for testbed delete.
slices_of() {
	local ns=$1
	shift
	for svc in "$@"; do
		printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: %s-1\n  namespace: %s\n' "$svc" "$ns"
	done
}

@test "TestNoEndpointsReject: cluster IP, external IP, NodePort and load balancer of a Service without endpoints reject, from a pod and from outside" {
	flows kpf-base no-endpoints <<-EOF
		[{"from": "client", "to": "service:noeps/svc1", "failure": "refused"},
		 {"from": "internet", "to": "ip:198.51.100.11:80", "failure": "refused"},
		 {"from": "client", "to": "nodeport:node1:30011", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30011", "failure": "refused"},
		 {"from": "client", "to": "ip:192.0.2.11:80", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.11:80", "failure": "refused"}]
	EOF
}

@test "TestClusterIPGeneral: endpoints by port and protocol, hairpin masqueraded, a port or protocol the Service lacks rejected, an unallocated cluster IP dropped" {
	flows kpf-base clusterip-general <<-EOF
		[{"from": "client", "to": "service:cipgen/svc1", "requests": 5, "answeredBy": "$A", "clientIP": "preserved"},
		 {"from": "$A", "to": "service:cipgen/svc1", "requests": 5, "answeredBy": "$A", "clientIP": "node1"},
		 {"from": "client", "to": "service:cipgen/svc2", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:cipgen/svc2", "port": 443, "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:cipgen/svc2", "port": "dns-tcp", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:cipgen/svc2", "proto": "udp", "port": "dns-udp", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "ip:10.96.2.42:80", "proto": "udp", "failure": "refused"},
		 {"from": "client", "to": "ip:10.96.2.41:443", "proto": "tcp", "failure": "refused"},
		 {"from": "client", "to": "ip:10.96.2.50:80", "proto": "tcp", "failure": "timeout"}]
	EOF
	# Port 443 and the TCP 53 reached the endpoints' target ports: the
	# trace of one such connection names the DNAT.
	run "$TESTBED" trace kpf-base client service:cipgen/svc2:dns-tcp
	assert_success
	assert_output --regexp 'dnat: destination 10\.96\.2\.42:53 -> 10\.244\.[01]\.2:5353 \(conntrack\)'
}

@test "TestLoadBalancer: loadBalancerSourceRanges admit the outside's allowed half and the nodes, drop the rest and pods; the NodePort bypasses them" {
	flows kpf-base load-balancer <<-EOF
		[{"from": "client", "to": "service:lb/svc1", "answeredBy": "$R", "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30031", "answeredBy": "$R", "clientIP": "node1"},
		 {"from": "blocked", "to": "nodeport:node1:30031", "answeredBy": "$R", "clientIP": "node1"},
		 {"from": "internet", "to": "ip:192.0.2.31:80", "requests": 5, "answeredBy": "$R", "clientIP": "rewritten"},
		 {"from": "internet", "to": "ip:192.0.2.32:80", "requests": 5, "answeredBy": "$R", "clientIP": "rewritten"},
		 {"from": "blocked", "to": "ip:192.0.2.31:80", "failure": "timeout"},
		 {"from": "blocked", "to": "ip:192.0.2.32:80", "failure": "timeout"},
		 {"from": "client", "to": "ip:192.0.2.31:80", "failure": "timeout"},
		 {"from": "client", "to": "ip:192.0.2.32:80", "failure": "timeout"},
		 {"from": "node1", "to": "ip:192.0.2.31:80", "answeredBy": "$R", "clientIP": "node1"},
		 {"from": "node1", "to": "ip:192.0.2.32:80", "answeredBy": "$R", "clientIP": "node1"}]
	EOF
}

@test "TestNodePorts: the primary node address takes NodePorts, masqueraded; another address of the node does not, unless nodePortAddresses names it" {
	flows kpf-base node-ports <<-EOF
		[{"from": "client", "to": "service:np/svc1", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30041", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "node1", "to": "nodeport:node1:30041", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:10.244.0.1:30041", "proto": "tcp", "failure": "refused"}]
	EOF
	flows kpf-masqall node-ports-alt <<-EOF
		[{"from": "internet", "to": "nodeport:node1:30041", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:10.244.0.1:30041", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"}]
	EOF
}

@test "TestExternalTrafficPolicyLocal: the outside keeps its address and reaches the local endpoint only; pods reach every endpoint, unmasqueraded" {
	flows kpf-base etp-local <<-EOF
		[{"from": "client", "to": "service:etpl/svc1", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "ip:198.51.100.51:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:198.51.100.51:80", "requests": 10, "answeredBy": "$A", "clientIP": "preserved"},
		 {"from": "client", "to": "ip:192.0.2.51:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.51:80", "requests": 10, "answeredBy": "$A", "clientIP": "preserved"},
		 {"from": "client", "to": "nodeport:node1:30051", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30051", "requests": 10, "answeredBy": "$A", "clientIP": "preserved"}]
	EOF
}

@test "TestExternalTrafficPolicyCluster: external IP, load balancer and NodePort reach every endpoint, masqueraded, from pods and from outside" {
	flows kpf-base etp-cluster <<-EOF
		[{"from": "client", "to": "service:etpc/svc1", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "ip:198.51.100.61:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:198.51.100.61:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "rewritten"},
		 {"from": "client", "to": "ip:192.0.2.61:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:192.0.2.61:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "rewritten"},
		 {"from": "client", "to": "nodeport:node1:30061", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "nodeport:node1:30061", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"}]
	EOF
}

@test "TestInternalTrafficPolicy: Local keeps a pod's traffic on its node, dropped there without a local endpoint; deleted endpoints reject" {
	flows kpf-base itp <<-EOF
		[{"from": "client", "to": "service:itp/cluster", "requests": 30, "answeredBy": ["$A", "$R", "$S"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:itp/local-one", "requests": 10, "answeredBy": "$A", "clientIP": "preserved"},
		 {"from": "client", "to": "service:itp/local-many", "requests": 30, "answeredBy": ["$A", "$B"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:itp/local-none", "failure": "timeout"}]
	EOF
	# Upstream then deletes each case's EndpointSlice and syncs again.
	slices_of itp cluster local-one local-many local-none >"$BATS_TEST_TMPDIR/slices.yaml"
	run "$TESTBED" delete kpf-base "$BATS_TEST_TMPDIR/slices.yaml"
	assert_success
	flows kpf-base itp-deleted <<-EOF
		[{"from": "client", "to": "service:itp/cluster", "failure": "refused"},
		 {"from": "client", "to": "service:itp/local-one", "failure": "refused"},
		 {"from": "client", "to": "service:itp/local-many", "failure": "refused"},
		 {"from": "client", "to": "service:itp/local-none", "failure": "refused"}]
	EOF
}

@test "TestTerminatingEndpointsTrafficPolicyLocal: ready endpoints first, then serving terminating ones, per policy; none usable rejects; none local drops" {
	# External traffic is probed at node1's NodePort, where it meets the
	# same external- chain as at the load balancer's address on node1 (the
	# gateway sends a Local load balancer's address only to nodes with a
	# ready endpoint, as a health check would, so not to node1 in every case).
	flows kpf-base terminating-local <<-EOF
		[{"from": "client", "to": "service:terml/ready", "requests": 30, "answeredBy": ["$A", "$B", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30081", "requests": 30, "answeredBy": ["$A", "$B"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.81:80", "requests": 30, "answeredBy": ["$A", "$B", "$R"], "clientIP": "preserved"},
		 {"from": "client", "to": "service:terml/terminating", "requests": 10, "answeredBy": "$R", "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30082", "requests": 30, "answeredBy": ["$B", "$C"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.82:80", "requests": 10, "answeredBy": "$R", "clientIP": "preserved"},
		 {"from": "client", "to": "service:terml/remote", "requests": 10, "answeredBy": "$R", "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node1:30083", "failure": "timeout"},
		 {"from": "client", "to": "service:terml/unusable", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30084", "failure": "refused"}]
	EOF
	# Upstream then deletes the slices: every flow rejects. (The gateway's
	# routes to ready's and terminating's Local load-balancer addresses go
	# with their endpoints, as a health check takes the nodes out.)
	slices_of terml ready terminating remote unusable >"$BATS_TEST_TMPDIR/slices.yaml"
	run "$TESTBED" delete kpf-base "$BATS_TEST_TMPDIR/slices.yaml"
	assert_success
	flows kpf-base terminating-local-deleted <<-EOF
		[{"from": "client", "to": "service:terml/ready", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30081", "failure": "refused"},
		 {"from": "client", "to": "service:terml/terminating", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30082", "failure": "refused"},
		 {"from": "client", "to": "service:terml/remote", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30083", "failure": "refused"},
		 {"from": "client", "to": "service:terml/unusable", "failure": "refused"},
		 {"from": "internet", "to": "nodeport:node1:30084", "failure": "refused"}]
	EOF
}

@test "TestTerminatingEndpointsTrafficPolicyCluster: ready endpoints first, then serving terminating ones anywhere; none usable rejects" {
	flows kpf-base terminating-cluster <<-EOF
		[{"from": "client", "to": "service:termc/ready", "requests": 30, "answeredBy": ["$A", "$B", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.91:80", "requests": 30, "answeredBy": ["$A", "$B", "$R"], "clientIP": "rewritten"},
		 {"from": "client", "to": "service:termc/terminating", "requests": 30, "answeredBy": ["$B", "$C", "$R"], "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.92:80", "requests": 30, "answeredBy": ["$B", "$C", "$R"], "clientIP": "rewritten"},
		 {"from": "client", "to": "service:termc/remote", "requests": 10, "answeredBy": "$R", "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.93:80", "requests": 10, "answeredBy": "$R", "clientIP": "rewritten"},
		 {"from": "client", "to": "service:termc/unusable", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.94:80", "failure": "refused"}]
	EOF
	slices_of termc ready terminating remote unusable >"$BATS_TEST_TMPDIR/slices.yaml"
	run "$TESTBED" delete kpf-base "$BATS_TEST_TMPDIR/slices.yaml"
	assert_success
	flows kpf-base terminating-cluster-deleted <<-EOF
		[{"from": "client", "to": "service:termc/ready", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.91:80", "failure": "refused"},
		 {"from": "client", "to": "service:termc/terminating", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.92:80", "failure": "refused"},
		 {"from": "client", "to": "service:termc/remote", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.93:80", "failure": "refused"},
		 {"from": "client", "to": "service:termc/unusable", "failure": "refused"},
		 {"from": "internet", "to": "ip:192.0.2.94:80", "failure": "refused"}]
	EOF
}

# mix_flows: TestInternalExternalMasquerade's flows over mix/ (svc1
# Cluster, svc2 externalTrafficPolicy Local, svc3 internalTrafficPolicy
# Local; endpoints B and S for svc2, C and T for svc3, A and R for svc1),
# in upstream's order, with its per-setting overrides as variables:
#   POD_CIP   what a pod's connection to a cluster IP arrives from
#   NODE_CIP  the same for node1's (checked where the endpoint is node1's own)
#   POD_ETP   who answers a pod at svc2's NodePort and load balancer
mix_flows() {
	cat <<-EOF
		[{"from": "client", "to": "service:mix/svc1", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "$POD_CIP"},
		 {"from": "client", "to": "nodeport:node1:30101", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "client", "to": "ip:192.0.2.101:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "node1", "to": "service:mix/svc1", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "node1", "to": "nodeport:node1:30101", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "node1", "to": "ip:192.0.2.101:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "nodeport:node1:30101", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:192.0.2.101:80", "requests": 30, "answeredBy": ["$A", "$R"], "clientIP": "rewritten"},

		 {"from": "client", "to": "service:mix/svc2", "requests": 30, "answeredBy": ["$B", "$S"], "clientIP": "$POD_CIP"},
		 {"from": "client", "to": "nodeport:node1:30102", "requests": 30, "answeredBy": $POD_ETP, "clientIP": "preserved"},
		 {"from": "client", "to": "ip:192.0.2.102:80", "requests": 30, "answeredBy": $POD_ETP, "clientIP": "preserved"},
		 {"from": "node1", "to": "service:mix/svc2", "requests": 30, "answeredBy": ["$B", "$S"], "clientIP": "node1"},
		 {"from": "node1", "to": "nodeport:node1:30102", "requests": 30, "answeredBy": ["$B", "$S"], "clientIP": "node1"},
		 {"from": "node1", "to": "ip:192.0.2.102:80", "requests": 30, "answeredBy": ["$B", "$S"], "clientIP": "node1"},
		 {"from": "internet", "to": "nodeport:node1:30102", "requests": 10, "answeredBy": "$B", "clientIP": "preserved"},
		 {"from": "internet", "to": "nodeport:node2:30102", "requests": 10, "answeredBy": "$S", "clientIP": "preserved"},
		 {"from": "internet", "to": "ip:192.0.2.102:80", "requests": 30, "answeredBy": ["$B", "$S"], "clientIP": "preserved"},

		 {"from": "client", "to": "service:mix/svc3", "requests": 10, "answeredBy": "$C", "clientIP": "$POD_CIP"},
		 {"from": "client", "to": "nodeport:node1:30103", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "node1"},
		 {"from": "client", "to": "ip:192.0.2.103:80", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "node1"},
		 {"from": "node1", "to": "service:mix/svc3", "requests": 10, "answeredBy": "$C", "clientIP": "$NODE_CIP"},
		 {"from": "node1", "to": "nodeport:node1:30103", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "node1"},
		 {"from": "node1", "to": "ip:192.0.2.103:80", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "node1"},
		 {"from": "internet", "to": "nodeport:node1:30103", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "node1"},
		 {"from": "internet", "to": "ip:192.0.2.103:80", "requests": 30, "answeredBy": ["$C", "$T"], "clientIP": "rewritten"}]
	EOF
}

@test "TestInternalExternalMasquerade, base: pods' cluster IP traffic kept, NodePort and load balancer masqueraded; eTP Local short-circuits pods and the node; iTP Local only for cluster IPs" {
	POD_CIP=preserved NODE_CIP=rewritten POD_ETP="[\"$B\", \"$S\"]" mix_flows | flows kpf-base mix
}

@test "TestInternalExternalMasquerade, masqueradeAll: every cluster IP connection is masqueraded, pods' too" {
	POD_CIP=node1 NODE_CIP=rewritten POD_ETP="[\"$B\", \"$S\"]" mix_flows | flows kpf-masqall mix-masqall
}

@test "TestInternalExternalMasquerade, no LocalTrafficDetector: the node's cluster IP traffic is not masqueraded, and pods get no eTP Local short-circuit" {
	POD_CIP=preserved NODE_CIP=preserved POD_ETP="\"$B\"" mix_flows | flows kpf-nodetect mix-nodetect
}

@test "TestInternalExternalMasquerade, masqueradeAll without LocalTrafficDetector: everything to a cluster IP masqueraded, pods only local at eTP Local" {
	POD_CIP=node1 NODE_CIP=rewritten POD_ETP="\"$B\"" mix_flows | flows kpf-both mix-both
}

@test "a flow said otherwise fails: an endpoint that must not answer, masquerade where none is, a drop for a reject" {
	# flows_fail JSON: the check of JSON fails; its report in $BATS_TEST_TMPDIR/wrong.out.json.
	flows_fail() {
		printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/wrong.json"
		run "$TESTBED" check --format json --timeout 0.5 --expect "$BATS_TEST_TMPDIR/wrong.json" kpf-base
		printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/wrong.out.json"
		assert_failure 1
	}
	local r=$BATS_TEST_TMPDIR/wrong.out.json
	# The local-only endpoint of eTP Local at node1's NodePort, said to be both.
	flows_fail "[{\"from\": \"internet\", \"to\": \"nodeport:node1:30051\", \"requests\": 20, \"answeredBy\": [\"$A\", \"$R\"]}]"
	run jq -r '.probes[0].error' "$r"
	assert_output "$R never answered in 20 requests"
	run jq -c '.probes[0].answers' "$r"
	assert_output "{\"$A\":20}"
	flows_fail '[{"from": "internet", "to": "nodeport:node1:30061", "clientIP": "preserved"}]'
	flows_fail '[{"from": "client", "to": "service:noeps/svc1", "failure": "timeout"}]'
	run jq -r '.probes[0].failed' "$r"
	assert_output refused
	flows_fail '[{"from": "client", "to": "ip:192.0.2.31:80", "failure": "refused"}]'
	run jq -r '.probes[0].failed' "$r"
	assert_output timeout
}
