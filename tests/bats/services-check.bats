# testbed check and trace through Services as kube-proxy's nftables rules
# serve them (tests/labs/services-check.json): a Deployment of 3 replicas on
# node1 and node2 behind ClusterIP, NodePort (Cluster and Local),
# LoadBalancer (with loadBalancerSourceRanges) and ClientIP-affinity
# Services, one without endpoints, one without a selector on an
# EndpointSlice to the lab's internet; node3 runs no replica; two machines
# outside, one the load balancer lets in. Probes through a Service must be
# answered by its endpoints; answers are counted; expected failures say
# whether they are refused (REJECT) or time out (DROP); the server's view of
# the client is named; trace follows a real connection through the DNAT
# and the masquerade.
bats_require_minimum_version 1.5.0
load helpers

LAB=svc-check
FILE=$REPO/tests/labs/services-check.json

lab_suite "$FILE"

# expect NAME JSON: writes JSON (a list of expectations) to the test's NAME.json.
expect() {
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1.json"
}

# check_json NAME [CHECK OPTIONS...]: runs check --format json with the
# test's NAME.json; the report goes to NAME.out.json, the exit code to $status.
check_json() {
	local name=$1
	shift
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/$name.json" "$@" "$LAB"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$name.out.json"
}

# The web Deployment's pods, as the lab names them, one a line.
web_pods() {
	"$TESTBED" status --json "$LAB" | jq -r '.labs[].machines[] | select(.name | startswith("web-")) | .name' | sort
}

valid_json() {
	if /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		run /usr/bin/python3 "$REPO/tests/validate-json.py" "$@"
		assert_success
	fi
}

@test "a Service with 3 endpoints spreads 300 requests so that each gets at least 60" {
	expect spread '[{"from": "client", "to": "service:web", "requests": 300, "answeredBy": "default/app=web"}]'
	check_json spread
	assert_success
	local r=$BATS_TEST_TMPDIR/spread.out.json
	run jq -r '.probes[0] | "\(.to) \(.port) \(.requests) \(.requestsMade) \(.answers | length)"' "$r"
	assert_output "service:web 80 300 300 3"
	# Each endpoint, by name, answered at least 60 of them; the counts add up.
	run jq -r '.probes[0].answers | to_entries[] | "\(.key) \(.value >= 60)"' "$r"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f1 | sort)" "$(web_pods)"
	refute_output --partial false
	run jq -r '[.probes[0].answers[]] | add' "$r"
	assert_output 300
	valid_json check "$r"
	# The text report counts them too.
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/spread.json" "$LAB"
	assert_success
	assert_line --regexp '^  client -> service:web http:80 x300: web-[a-z0-9-]+ [0-9]+, web-[a-z0-9-]+ [0-9]+, web-[a-z0-9-]+ [0-9]+$'
}

@test "under ClientIP affinity 15 requests in a row hit one pod; without it they do not" {
	expect sticky '[{"from": "client", "to": "service:sticky", "requests": 15},
	                {"from": "far", "to": "service:web", "requests": 15}]'
	check_json sticky
	assert_success
	run jq -r '.probes[] | "\(.to) \(.answers | length) \([.answers[]] | add)"' "$BATS_TEST_TMPDIR/sticky.out.json"
	assert_line "service:sticky 1 15"
	# Three endpoints at random: all 15 on one would be a 1 in 4.8 million chance.
	assert_line --regexp '^service:web [23] 15$'
	# The one that answered is one of the endpoints, and stays for that client.
	pod=$(jq -r '.probes[0].answers | keys[0]' "$BATS_TEST_TMPDIR/sticky.out.json")
	web_pods | grep -qx "$pod"
	expect again "[{\"from\": \"client\", \"to\": \"service:sticky\", \"requests\": 5, \"answeredBy\": \"$pod\"}]"
	check_json again
	assert_success
}

@test "a Service without endpoints is refused within 100 ms; a Local NodePort without a local endpoint times out" {
	expect fail '[{"from": "client", "to": "service:empty", "failure": "refused"},
	              {"from": "client", "to": "service:empty", "proto": "tcp", "failure": "refused"},
	              {"from": "internet", "to": "nodeport:node3:30081", "failure": "timeout"},
	              {"from": "outsider", "to": "ip:198.51.100.10:80", "failure": "timeout"}]'
	check_json fail --timeout 0.5
	assert_success
	local r=$BATS_TEST_TMPDIR/fail.out.json
	run jq -r '.probes[] | "\(.to) \(.proto) \(.failure) \(.failed) \(.ok)"' "$r"
	assert_output - <<-EOF
		service:empty http refused refused true
		service:empty tcp refused refused true
		nodeport:node3:30081 http timeout timeout true
		ip:198.51.100.10:80 http timeout timeout true
	EOF
	run jq -r '.probes[] | select(.failed == "refused") | .latencyMs < 100' "$r"
	assert_output $'true\ntrue'
	run jq -r '.probes[] | select(.failed == "timeout") | .latencyMs >= 500' "$r"
	assert_output $'true\ntrue'
	valid_json check "$r"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/fail.json" --timeout 0.5 "$LAB"
	assert_success
	assert_line --regexp '^client +x$'
}

@test "a failure of the other kind fails the expectation, saying what was seen" {
	expect other '[{"from": "client", "to": "service:empty", "failure": "timeout"},
	               {"from": "internet", "to": "nodeport:node3:30081", "failure": "refused"}]'
	check_json other --timeout 0.3
	assert_failure 1
	run jq -r '.probes[] | "\(.to) \(.failure) \(.failed) \(.ok) \(.error)"' "$BATS_TEST_TMPDIR/other.out.json"
	assert_line "service:empty timeout refused false connection refused"
	assert_line "nodeport:node3:30081 refused timeout false no answer to the connection request within 300 ms"
	valid_json check "$BATS_TEST_TMPDIR/other.out.json"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/other.json" --timeout 0.3 "$LAB"
	assert_failure 1
	assert_line --regexp '^  client -> service:empty http:80: expected fail \(timeout\), got fail \(refused\): connection refused \([0-9.]+ ms\)$'
	assert_line --regexp '^  internet -> nodeport:node3:30081 http:30081: expected fail \(refused\), got fail \(timeout\): no answer to the connection request within 300 ms \([0-9.]+ ms\)$'
	assert_line --partial '! failed, not the way expected'
	# And a probe expected to fail that is answered: the Service has endpoints.
	expect answered '[{"from": "client", "to": "service:web", "failure": "refused"}]'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/answered.json" "$LAB"
	assert_failure 1
	assert_line --regexp '^  client -> service:web http:80: expected fail \(refused\), got pass \(answered by web-'
}

@test "a probe through a Service passes only when its endpoints (or answeredBy's) answer" {
	mapfile -t pods < <(web_pods)
	# Every answer from the one pod named: 30 requests over three endpoints never are.
	expect one "[{\"from\": \"client\", \"to\": \"service:web\", \"requests\": 30, \"answeredBy\": \"${pods[0]}\"}]"
	check_json one
	assert_failure 1
	run jq -r '.probes[0] | "\(.got) \(.failed) \(.requestsMade < 30)"' "$BATS_TEST_TMPDIR/one.out.json"
	assert_output "fail error true"
	run jq -r '.probes[0].error' "$BATS_TEST_TMPDIR/one.out.json"
	assert_output --regexp "^answered by \"web-[a-z0-9-]+\", not one of answeredBy \(${pods[0]}\)\$"
	# An address answered by another pod than answeredBy says: fails.
	addr=$("$TESTBED" status --json "$LAB" | jq -r --arg p "${pods[1]}" '.labs[].machines[] | select(.name == $p) | .address')
	expect wrong "[{\"from\": \"client\", \"to\": \"ip:$addr:8080\", \"answeredBy\": \"${pods[0]}\"}]"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/wrong.json" "$LAB"
	assert_failure 1
	assert_line --partial "expected pass, got fail: answered by \"${pods[1]}\", not one of answeredBy (${pods[0]})"
	# Each pod answeredBy names must answer some time: two named, requests to one of them alone.
	expect both "[{\"from\": \"client\", \"to\": \"ip:$addr:8080\", \"requests\": 5, \"answeredBy\": [\"${pods[0]}\", \"${pods[1]}\"]}]"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/both.json" "$LAB"
	assert_failure 1
	assert_line --partial "expected pass, got fail: ${pods[0]} never answered in 5 requests (answers: ${pods[1]} 5)"
}

@test "clientIP names what the server saw: a machine, an address, preserved or rewritten, over http and udp" {
	expect client '[{"from": "client", "to": "internet", "clientIP": "node1"},
	                {"from": "client", "to": "far", "clientIP": "client"},
	                {"from": "client", "to": "service:web", "proto": "udp", "port": "dns", "requests": 10, "clientIP": "client"},
	                {"from": "internet", "to": "nodeport:node1:30081", "clientIP": "internet"},
	                {"from": "internet", "to": "nodeport:node1:30081", "proto": "tcp"},
	                {"from": "internet", "to": "nodeport:node3:30080", "clientIP": "rewritten"},
	                {"from": "outsider", "to": "nodeport:node3:30080", "clientIP": "node3"},
	                {"from": "internet", "to": "ip:198.51.100.10:80"},
	                {"from": "far", "to": "service:outside", "clientIP": "10.10.0.4"}]'
	check_json client
	assert_success
	run jq -r '.probes[] | select(.client) | "\(.from) \(.to) \(.clientIP) \(.client | split(":")[0])"' "$BATS_TEST_TMPDIR/client.out.json"
	assert_line "client internet node1 10.10.0.2"
	assert_line "client far client 10.244.0.2"
	assert_line "client service:web client 10.244.0.2"
	assert_line "internet nodeport:node1:30081 internet 203.0.113.2"
	assert_line "internet nodeport:node3:30080 rewritten 10.10.0.4"
	assert_line "outsider nodeport:node3:30080 node3 10.10.0.4"
	assert_line "far service:outside 10.10.0.4 10.10.0.4"
	# The service's endpoints answered; the EndpointSlice's, the internet.
	run jq -r '.probes[] | select(.to == "service:outside") | .answeredBy' "$BATS_TEST_TMPDIR/client.out.json"
	assert_output internet
	# What the server saw, wrongly expected: under policy Cluster the internet is masqueraded.
	expect wrong '[{"from": "internet", "to": "nodeport:node3:30080", "clientIP": "internet"},
	               {"from": "client", "to": "internet", "clientIP": "node2"}]'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/wrong.json" "$LAB"
	assert_failure 1
	assert_line --regexp '^  internet -> nodeport:node3:30080 http:30080 \(client IP internet\): expected pass, got fail: the server saw the client as 10\.10\.0\.4:[0-9]+, not internet.s address \(203\.0\.113\.2\)'
	assert_line --regexp '^  client -> internet http:8000 \(client IP node2\): expected pass, got fail: the server saw the client as 10\.10\.0\.2:[0-9]+, not node2.s addresses \(10\.10\.0\.3, 10\.244\.1\.1\)'
}

@test "what names no Service, port or node is refused at its line: exit 2" {
	expect bad '[
	  {"from": "client", "to": "service:nope"},
	  {"from": "client", "to": "service:web", "port": "metrics"},
	  {"from": "client", "to": "service:web", "proto": "udp"},
	  {"from": "client", "to": "service:web", "port": 53},
	  {"from": "client", "to": "nodeport:node9:30080"},
	  {"from": "client", "to": "service:empty"},
	  {"from": "internet", "to": "nodeport:node3:30081"},
	  {"from": "service:web", "to": "client"}
	]'
	local f=$BATS_TEST_TMPDIR/bad.json
	run "$TESTBED" check --expect "$f" "$LAB"
	assert_failure 2
	assert_output - <<-EOF
		$f:9: expect[7].from: "service:web": a probe starts from a machine: name a pod, node, host or external machine
	EOF
	expect bad '[
	  {"from": "client", "to": "service:nope"},
	  {"from": "client", "to": "service:web", "port": "metrics"},
	  {"from": "client", "to": "service:web", "proto": "udp"},
	  {"from": "client", "to": "service:web", "port": 53},
	  {"from": "client", "to": "nodeport:node9:30080"},
	  {"from": "client", "to": "service:empty"},
	  {"from": "internet", "to": "nodeport:node3:30081"}
	]'
	run "$TESTBED" check --expect "$f" "$LAB"
	assert_failure 2
	assert_output - <<-EOF
		$f:2: expect[0].to: no Service "nope" in namespace default
		$f:3: expect[1].port: service default/web has no port named "metrics" (its ports: 80/TCP "http", 53/UDP "dns")
		$f:4: expect[2].to: port 80 of service default/web is TCP; udp probes need a UDP port
		$f:5: expect[3].port: port 53 of service default/web is UDP; http probes need a TCP port
		$f:6: expect[4].to: no pod, node, host or external machine is named "node9"
		$f:7: expect[5].to: service default/empty has no ready endpoint in the lab for port 80: nothing can answer (expect "failure": "refused", as kube-proxy rejects it)
		$f:8: expect[6].to: service default/web-local has externalTrafficPolicy Local and no ready endpoint on node3: kube-proxy drops it there (expect "failure": "timeout")
	EOF
}

@test "the Kubernetes model reaches every Service port with endpoints and the outside, seen as the node" {
	jq 'del(.expect)' "$FILE" | sed 's|"\.\./\.\./images/|"'"$REPO"'/images/|g' >"$BATS_TEST_TMPDIR/model.json"
	run "$TESTBED" check --format json "$BATS_TEST_TMPDIR/model.json"
	assert_success
	local r=$BATS_TEST_TMPDIR/r.json
	printf '%s\n' "$output" >"$r"
	valid_json check "$r"
	run jq -r '[.probes[] | select(.to | startswith("service:")) | "\(.to) \(.proto) \(.port)"] | unique | .[]' "$r"
	assert_output - <<-EOF
		service:default/outside http 80
		service:default/sticky http 80
		service:default/web http 80
		service:default/web udp 53
		service:default/web-lb http 80
		service:default/web-local http 80
		service:default/web-np http 80
		service:kube-system/kube-dns tcp 53
	EOF
	# From each of the 6 pods (5 and cluster DNS's, kube-system/coredns), answered by one of
	# the web pods (the outside one's by the internet).
	run jq -r '[.probes[] | select(.to == "service:default/web" and .proto == "http")] | length' "$r"
	assert_output 6
	run jq -r '[.probes[] | select(.to | startswith("service:default/web")) | .answeredBy | startswith("web-")] | all' "$r"
	assert_output true
	run jq -r '.probes[] | select(.to == "internet" and .proto == "http") | "\(.from) \(.clientIP) \(.client | split(":")[0])"' "$r"
	assert_line --regexp '^client node1 10\.10\.0\.2$'
	assert_line --regexp '^far node3 10\.10\.0\.4$'
}

@test "trace shows the DNAT to the endpoint chosen, with the rules that chose it" {
	run "$TESTBED" trace "$LAB" client service:web
	assert_success
	assert_line --index 0 'trace svc-check: client (10.244.0.2) -> service:default/web:80 (10.96.0.2:80/tcp)'
	assert_line --regexp '^    sent tcp 10\.244\.0\.2:[0-9]+ -> 10\.96\.0\.2:80: answered by web-[a-z0-9-]+, which saw the client as 10\.244\.0\.2:[0-9]+$'
	assert_line --regexp '^ 3\. node1: dnat: destination 10\.96\.0\.2:80 -> 10\.244\.[01]\.[0-9]+:8080 \(conntrack\)$'
	assert_line --regexp '^      ip kube-proxy map service-ips: 10\.96\.0\.2 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default/web/tcp/http$'
	assert_line --regexp '^      ip kube-proxy chain service-[A-Z2-7]{8}-default/web/tcp/http: numgen random mod 3 vmap \{ 0 : goto endpoint-.* \} \(handle [0-9]+\)$'
	assert_line --regexp '^      ip kube-proxy chain endpoint-[A-Z2-7]{8}-default/web/tcp/http__10\.244\.[01]\.[0-9]+/8080: meta l4proto tcp dnat to 10\.244\.[01]\.[0-9]+:8080 \(handle [0-9]+\)$'
	# The endpoint the conntrack entry names is the one that answered, and the one delivered to.
	answered=$(sed -n 's/^    sent .*answered by \([^,]*\),.*/\1/p' <<<"$output")
	endpoint=$(sed -n 's/^ 3\. node1: dnat: destination 10\.96\.0\.2:80 -> \([0-9.]*\):8080.*/\1/p' <<<"$output")
	address=$("$TESTBED" status --json "$LAB" | jq -r --arg p "$answered" '.labs[].machines[] | select(.name == $p) | .address')
	assert_equal "$endpoint" "$address"
	assert_line --regexp "^ *[0-9]+\. $answered: $endpoint is local: delivered\$"
	# The rule quoted is in the node's live ruleset, at its handle.
	handle=$(sed -n 's/.*chain endpoint-.*dnat to .* (handle \([0-9]*\))$/\1/p' <<<"$output")
	run tbx "$LAB" node1 nft -a list table ip kube-proxy
	assert_line --regexp "dnat to $endpoint:8080 # handle $handle\$"
	# json: the dnat hop with its rules, valid against the schema.
	run "$TESTBED" trace --json "$LAB" client service:web:http
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/t.json"
	run jq -r '.hops[] | select(.kind == "dnat") | "\(.machine) \(.original) \(.rules | length) \(.rules[0].map) \(.rules[-1].rule | test("dnat to"))"' "$BATS_TEST_TMPDIR/t.json"
	assert_output "node1 10.96.0.2:80 3 service-ips true"
	run jq -r '.connection | "\(.protocol) \(.answered) \(.answeredBy | startswith("web-"))"' "$BATS_TEST_TMPDIR/t.json"
	assert_output "tcp true true"
	valid_json trace "$BATS_TEST_TMPDIR/t.json"
}

@test "trace shows the masquerade: NodePort under policy Cluster, and a pod's egress" {
	run "$TESTBED" trace "$LAB" internet nodeport:node3:30080
	assert_success
	assert_line --regexp '^ *[0-9]+\. node3: dnat: destination 10\.10\.0\.4:30080 -> 10\.244\.[01]\.[0-9]+:8080 \(conntrack\)$'
	assert_line --regexp '^      ip kube-proxy map service-nodeports: tcp \. 30080 : goto external-[A-Z2-7]{8}-default/web-np/tcp/$'
	assert_line --regexp '^ *[0-9]+\. node3: snat: source 203\.0\.113\.2:[0-9]+ -> 10\.10\.0\.4:[0-9]+ \(conntrack\)$'
	assert_line --regexp '^      ip kube-proxy chain external-[A-Z2-7]{8}-default/web-np/tcp/: jump mark-for-masquerade \(handle [0-9]+\)$'
	assert_line --regexp '^      ip kube-proxy chain masquerading: masquerade fully-random \(handle [0-9]+\)$'
	assert_line --regexp '^ *[0-9]+\. web-[a-z0-9-]+: 10\.244\.[01]\.[0-9]+ is local: delivered$'
	# Under Local, the client's address is kept: no snat.
	run "$TESTBED" trace "$LAB" internet nodeport:node1:30081
	assert_success
	assert_line --regexp '^ *[0-9]+\. node1: dnat: destination 10\.10\.0\.2:30081 -> 10\.244\.0\.[0-9]+:8080 \(conntrack\)$'
	refute_line --partial 'snat'
	# A pod's egress is the egress table's masquerade.
	run "$TESTBED" trace --json "$LAB" client internet
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/egress.json"
	run jq -r '.hops[] | select(.kind == "snat") | "\(.machine) \(.original | split(":")[0]) \(.translated | split(":")[0]) \(.rules[0].table) \(.rules[0].rule | test("masquerade$"))"' "$BATS_TEST_TMPDIR/egress.json"
	assert_output "node1 10.244.0.2 10.10.0.2 ip testbed-egress true"
	run jq -r '"\(.delivered) \(.connection.client | split(":")[0])"' "$BATS_TEST_TMPDIR/egress.json"
	assert_output "true 10.10.0.2"
	valid_json trace "$BATS_TEST_TMPDIR/egress.json"
}

@test "trace of what is rejected or dropped ends at the rule that did it" {
	run "$TESTBED" trace "$LAB" client service:empty
	assert_success
	assert_line --regexp '^    sent tcp 10\.244\.0\.2:[0-9]+ -> 10\.96\.0\.[0-9]+:80: refused: connection refused$'
	assert_line ' 3. node1: rejected by a rule of ip kube-proxy'
	assert_line --regexp '^      ip kube-proxy map no-endpoint-services: 10\.96\.0\.[0-9]+ \. tcp \. 80 comment "default/empty" : goto reject-chain$'
	assert_line --regexp '^      ip kube-proxy chain reject-chain: reject \(handle [0-9]+\)$'
	run "$TESTBED" trace "$LAB" internet nodeport:node3:30081
	assert_success
	assert_line --regexp '^    sent tcp 203\.0\.113\.2:[0-9]+ -> 10\.10\.0\.4:30081: timeout: no answer within 1000 ms$'
	assert_line --regexp '^ *[0-9]+\. node3: dropped by a rule of ip kube-proxy$'
	assert_line --regexp '^      ip kube-proxy map no-endpoint-nodeports: tcp \. 30081 comment "default/web-local" : drop$'
	run "$TESTBED" trace --json "$LAB" outsider ip:198.51.100.10:80
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/fw.json"
	run jq -r '"\(.delivered) \(.connection.failure) \(.hops[-1].kind) \(.hops[-1].rules[-1].rule)"' "$BATS_TEST_TMPDIR/fw.json"
	assert_output "false timeout drop ip saddr != 203.0.113.2 drop"
	valid_json trace "$BATS_TEST_TMPDIR/fw.json"
	# Targets trace cannot resolve: exit 2, saying why.
	run "$TESTBED" trace "$LAB" client service:nope
	assert_failure 2
	assert_output --partial 'lab svc-check has no Service "nope" in namespace default'
	run "$TESTBED" trace "$LAB" client service:web:metrics
	assert_failure 2
	assert_output --partial 'service default/web has no port metrics (its ports: 80/TCP http, 53/UDP dns)'
}

@test "reports of service probes: junit, tap and markdown name the targets, the answers and the failures" {
	expect mixed '[{"from": "client", "to": "service:web", "requests": 30},
	               {"from": "client", "to": "service:empty", "failure": "timeout"}]'
	run "$TESTBED" check --format junit --timeout 0.3 --expect "$BATS_TEST_TMPDIR/mixed.json" "$LAB"
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.xml"
	xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/r.xml"
	assert_output --regexp 'name="client -&gt; service:web http:80 x30 expected pass" time="[0-9.]+"/>'
	assert_output --partial 'type="other failure">client -&gt; service:empty http:80: expected fail (timeout)'
	assert_output --partial 'expected fail (timeout), got fail (refused): connection refused'
	run "$TESTBED" check --format tap --timeout 0.3 --expect "$BATS_TEST_TMPDIR/mixed.json" "$LAB"
	assert_failure 1
	assert_line 'ok 1 - client -> service:web http:80 x30 expected pass'
	assert_line 'not ok 2 - client -> service:empty http:80 expected fail'
	assert_line '  failure: timeout'
	assert_line '  failed: refused'
	run "$TESTBED" check --format markdown --timeout 0.3 --expect "$BATS_TEST_TMPDIR/mixed.json" "$LAB"
	assert_failure 1
	assert_line '#### Answers'
	assert_line --regexp '^- `client -> service:web http:80 x30`: web-'
	assert_line --partial '❗ failed, not the way expected'
}

@test "the bats helpers take service, nodeport and ip targets too" {
	assert_reachable client service:web
	assert_reachable client service:default/web udp:53
	refute_reachable client service:empty
	assert_reachable internet nodeport:node1:30081
	refute_reachable outsider ip:198.51.100.10:80
	assert_client_ip internet nodeport:node3:30080 10.10.0.4
	# The one pod behind the EndpointSlice: the internet itself.
	assert_answered_by client service:outside internet
	run assert_reachable client service:nope
	assert_failure
	assert_output --partial 'no Service "nope" in namespace default'
}
