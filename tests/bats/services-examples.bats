# examples/services, one lab each from its unchanged YAML folder: clusterip,
# nodeport (Cluster and Local), loadbalancer (source ranges, Local),
# affinity, selectorless (its own EndpointSlice) and egress. Each comes up
# and its own expectations hold; each node's table reads as kube-proxy's;
# and what the examples teach fails when the expectation says otherwise.
bats_require_minimum_version 1.5.0
load helpers

EXAMPLES=$REPO/examples/services

setup_file() {
	require_lab_sandbox
	use_lab_dirs
}

setup() {
	use_lab_dirs
}

teardown() {
	[ -z "${LAB:-}" ] || "$TESTBED" down "$LAB" >/dev/null 2>&1 || true
}

# up_example NAME: brings examples/services/NAME up as it is; sets LAB.
up_example() {
	LAB=$(jq -r .name "$EXAMPLES/$1/lab.json")
	"$TESTBED" up --quiet "$EXAMPLES/$1/lab.json"
}

# check_with NAME JQ: runs check on the running lab with the example's
# expectations changed by the jq filter JQ; the JSON report in $output.
check_with() {
	jq "$2 | .expect" "$EXAMPLES/$1/lab.json" >"$BATS_TEST_TMPDIR/expect.json"
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/expect.json" "$LAB"
}

@test "every services example comes up from its YAML folder, and its expectations hold" {
	for example in clusterip nodeport loadbalancer affinity selectorless egress; do
		up_example "$example"
		run "$TESTBED" check "$LAB"
		assert_success
		assert_line --regexp '^[0-9]+ passed, 0 failed$'
		"$TESTBED" down "$LAB" >/dev/null
	done
}

@test "clusterip: 300 requests spread over the three pods, at least 60 each; no endpoints is refused, an unused cluster IP times out" {
	up_example clusterip
	check_with clusterip '.'
	assert_success
	run jq -c '[.probes[] | select(.to == "service:shop/web" and .from == "client") | .answers[]] | sort' <<<"$output"
	[ "$(jq length <<<"$output")" = 3 ]
	[ "$(jq 'min' <<<"$output")" -ge 60 ]
	[ "$(jq 'add' <<<"$output")" = 300 ]
	# Said otherwise, each fails, saying how it failed.
	check_with clusterip '.expect |= map(if .failure == "refused" then .failure = "timeout" elif .failure == "timeout" then .failure = "refused" else . end)'
	assert_failure 1
	run jq -r '.probes[] | select(.ok | not) | "\(.to) \(.failed)"' <<<"$output"
	assert_line 'service:shop/api refused'
	assert_line 'ip:10.96.0.99:80 timeout'
}

@test "nodeport: Cluster masquerades to the node, Local keeps the client and answers only from the node's own pod; node3 drops" {
	up_example nodeport
	check_with nodeport '.'
	assert_success
	# Not the node's address under Local: the expectation fails.
	check_with nodeport '.expect |= map(if .to == "nodeport:node1:30081" then .clientIP = "node1" else . end)'
	assert_failure 1
	# Under Local, node1 answers only with its own pod.
	check_with nodeport '.expect |= map(if .to == "nodeport:node1:30081" then .answeredBy = "shop/web-1" else . end)'
	assert_failure 1
	# Nothing would answer at node3's Local NodePort: expecting it to is an error.
	check_with nodeport '.expect |= map(if .to == "nodeport:node3:30081" and .from == "internet" then del(.failure) else . end)'
	assert_failure 2
}

@test "loadbalancer: the gateway spreads the load balancer's address over both nodes; a source outside the ranges times out" {
	up_example loadbalancer
	check_with loadbalancer '.'
	assert_success
	# web-local keeps the client's address, so a pod answers only on its
	# own node: both answering means both nodes got connections.
	run jq -r '.probes[] | select(.to == "ip:192.0.2.11:80" and .from == "internet") | .answers | length' <<<"$output"
	assert_output 2
	check_with loadbalancer '.expect |= map(if .from == "elsewhere" and .to == "ip:192.0.2.10:80" then del(.failure) else . end)'
	assert_failure 1
	run jq -r '.probes[] | select(.from == "elsewhere" and .to == "ip:192.0.2.10:80") | "\(.got) \(.failed)"' <<<"$output"
	assert_output 'fail timeout'
}

@test "affinity: 15 requests in a row under ClientIP affinity reach one pod; without it they spread" {
	up_example affinity
	check_with affinity '.'
	assert_success
	local report=$output
	run jq -r '.probes[] | select(.to == "service:shop/web-sticky") | .answers[]' <<<"$report"
	assert_output 15
	run jq -r '.probes[] | select(.to == "service:shop/web") | .answers | length' <<<"$report"
	assert_output 3
}

@test "selectorless: the Service's cluster IP leads to the database outside; its not-ready endpoint is never picked" {
	up_example selectorless
	check_with selectorless '.expect |= map(.requests = 30)'
	assert_success
	run jq -r '.probes[0].answers | to_entries[] | "\(.key) \(.value)"' <<<"$output"
	assert_output 'legacy-db 30'
}

@test "egress: the outside sees each pod's node; pods see each other's own address" {
	up_example egress
	check_with egress '.'
	assert_success
	check_with egress '.expect |= map(if .to == "internet" then .clientIP = "preserved" else . end)'
	assert_failure 1
	check_with egress '.expect |= map(if .to == "shop/app=app" then .clientIP = "rewritten" else . end)'
	assert_failure 1
}

@test "every node's ruleset reads like kube-proxy's nftables mode" {
	up_example nodeport
	for node in node1 node2 node3; do
		run "$TESTBED" exec "$LAB" "$node" -- nft list table ip kube-proxy
		assert_success
		assert_line --regexp '^table ip kube-proxy \{$'
		assert_line --partial 'comment "rules for kube-proxy"'
		assert_line --regexp '^	chain services \{$'
		assert_line --regexp '^	map service-ips \{$'
		assert_line --regexp '^	map service-nodeports \{$'
		assert_line --regexp '^	chain service-[A-Z2-7]{8}-shop/web-cluster/tcp/http \{$'
		assert_line --regexp '^	chain external-[A-Z2-7]{8}-shop/web-local/tcp/http \{$'
		assert_line --regexp '^	chain endpoint-[A-Z2-7]{8}-shop/web-cluster/tcp/http__10\.244\.[01]\.2/8080 \{$'
		assert_line --regexp 'numgen random mod 2 vmap \{ 0 : goto endpoint-'
		assert_line --regexp 'dnat to 10\.244\.[01]\.2:8080$'
	done
	# Under Local, node3 has no endpoint of its own: the NodePort drops there
	# (the filter chains' no-endpoint-nodeports map), and nowhere else.
	run "$TESTBED" exec "$LAB" node3 -- nft list table ip kube-proxy
	assert_line --partial 'elements = { tcp . 30081 comment "shop/web-local:http" : drop }'
	run "$TESTBED" exec "$LAB" node1 -- nft list table ip kube-proxy
	refute_output --partial 'tcp . 30081 comment "shop/web-local:http" : drop'
	assert_line --regexp '^	chain local-[A-Z2-7]{8}-shop/web-local/tcp/http \{$'
}

@test "a cluster's dump of Services and an EndpointSlice is taken as it is; what is not used is noted, the controller's slice too" {
	run "$TESTBED" validate "$REPO/tests/labs/services-dump/lab.json"
	assert_success
	assert_line --regexp '^note: .*dump\.yaml:[0-9]+:1: Service default/web: not used: metadata\.annotations, metadata\.creationTimestamp, metadata\.resourceVersion, metadata\.uid \(they do not change the network\)$'
	assert_line --regexp '^note: .*dump\.yaml:[0-9]+:1: Service default/lb: not used: spec\.healthCheckNodePort '
	assert_line --regexp '^note: .*dump\.yaml:[0-9]+:1: EndpointSlice default/web-7x2lq: made by the EndpointSlice controller for Service default/web, which has a selector: testbed computes that slice'
	# The Service's given addresses and node port are kept.
	run "$TESTBED" plan --format json "$REPO/tests/labs/services-dump/lab.json"
	assert_success
	run jq -c '.services[] | [.name, .clusterIP, (.ports[0].nodePort // 0), (.loadBalancerIPs // []), (.endpoints | length)]' <<<"$output"
	assert_line '["web","10.96.0.50",0,[],2]'
	assert_line '["lb","10.96.0.51",30123,["192.0.2.100"],2]'
}
