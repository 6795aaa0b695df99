# testbed check and trace by DNS name (tests/labs/dns-check.json): a client
# in namespace front, a Deployment of 2 in namespace shop behind Service web
# (a cluster IP) and Service db (headless), and the lab's cluster DNS. Names
# are resolved inside the probing pod as its own resolver would (its
# resolv.conf: nameserver 10.96.0.10, the search list, ndots:5), then
# probed at the address they resolved to; proto dns compares the answer.
bats_require_minimum_version 1.5.0
load helpers

LAB=dns-check
FILE=$REPO/tests/labs/dns-check.json

lab_suite "$FILE"

# expect NAME JSON: writes JSON (a list of expectations) to the test's NAME.json.
expect() {
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1.json"
}

# check_as FORMAT NAME: check --format FORMAT with the test's NAME.json;
# the report in $output and NAME.out, the exit code in $status.
check_as() {
	run "$TESTBED" check --format "$1" --expect "$BATS_TEST_TMPDIR/$2.json" "$LAB"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$2.out"
}

valid_json() {
	if /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		run /usr/bin/python3 "$REPO/tests/validate-json.py" "$@"
		assert_success
	fi
}

# The lab's plan, as up compiled it: a Service's cluster IP, a pod's address.
plan_json() {
	"$TESTBED" plan --format json "$FILE"
}
cluster_ip() {
	plan_json | jq -r --arg ns "$1" --arg n "$2" '.services[] | select(.namespace == $ns and .name == $n) | .clusterIP'
}
web_addresses() {
	plan_json | jq -r '.machines[] | select(.namespace == "shop") | .address' | sort
}
web_pods() {
	plan_json | jq -r '.machines[] | select(.namespace == "shop") | .name' | sort
}

@test "a pod of another namespace reaches a Service by NAME.NAMESPACE and by its full name, at the address DNS gave" {
	# With 20 requests each of the 2 endpoints answers some (all to one: 1 in 500,000).
	expect byname '[{"from": "front/client", "to": "web.shop", "answeredBy": "shop/app=web"},
	                {"from": "front/client", "to": "web.shop.svc.cluster.local.", "proto": "tcp", "port": 80},
	                {"from": "front/client", "to": "dns:web.shop.svc.cluster.local", "requests": 20,
	                 "answeredBy": "shop/app=web"}]'
	check_as json byname
	assert_success
	local r=$BATS_TEST_TMPDIR/byname.out ip
	ip=$(cluster_ip shop web)
	run jq -r '.probes[] | "\(.to) \(.proto) \(.port) \(.ok) \(.dns.name) \(.dns.address) \(.dns.answer | join(","))"' "$r"
	assert_line "web.shop http 80 true web.shop.svc.cluster.local $ip $ip"
	assert_line "web.shop.svc.cluster.local. tcp 80 true web.shop.svc.cluster.local $ip $ip"
	assert_line "dns:web.shop.svc.cluster.local http 80 true web.shop.svc.cluster.local $ip $ip"
	# Answered by the Service's endpoints, through kube-proxy's DNAT.
	by=$(jq -r '.probes[0].answeredBy' "$r")
	web_pods | grep -qx "$by"
	valid_json check "$r"
	# The text report names what each name resolved to.
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/byname.json" "$LAB"
	assert_success
	assert_line "  client -> web.shop http:80: web.shop.svc.cluster.local: $ip"
	# The bats helpers take names too.
	assert_reachable front/client web.shop
	assert_reachable front/client web.shop.svc.cluster.local tcp:80
}

@test "proto dns asserts the exact addresses: a Service's cluster IP, a headless Service's every ready endpoint, SRV targets and ports" {
	local ip a b
	ip=$(cluster_ip shop web)
	a=$(web_addresses | sed -n 1p)
	b=$(web_addresses | sed -n 2p)
	expect answers "[{\"from\": \"front/client\", \"to\": \"web.shop\", \"proto\": \"dns\", \"addresses\": [\"$ip\"]},
	                 {\"from\": \"front/client\", \"to\": \"db.shop\", \"proto\": \"dns\", \"addresses\": [\"$b\", \"$a\"]},
	                 {\"from\": \"front/client\", \"to\": \"_http._tcp.web.shop\", \"proto\": \"dns\", \"type\": \"SRV\",
	                  \"records\": [\"web.shop.svc.cluster.local:80\"]},
	                 {\"from\": \"shop/app=web\", \"to\": \"web\", \"proto\": \"dns\", \"addresses\": [\"$ip\"]}]"
	check_as json answers
	assert_success
	local r=$BATS_TEST_TMPDIR/answers.out
	run jq -r '.probes[] | "\(.to) \(.dns.type) \(.dns.name) \(.dns.answer | sort | join(","))"' "$r"
	assert_line "web.shop A web.shop.svc.cluster.local $ip"
	assert_line "db.shop A db.shop.svc.cluster.local $a,$b"
	assert_line "_http._tcp.web.shop SRV _http._tcp.web.shop.svc.cluster.local web.shop.svc.cluster.local:80"
	# From namespace shop, "web" alone is found through the search list.
	run jq -r '[.probes[] | select(.to == "web") | .ok] | "\(length) \(all)"' "$r"
	assert_output "2 true"
	valid_json check "$r"
	# One address short is a failure that shows the answer: exit 1.
	expect short "[{\"from\": \"front/client\", \"to\": \"db.shop\", \"proto\": \"dns\", \"addresses\": [\"$a\"]}]"
	check_as text short
	assert_failure 1
	assert_output --partial "client -> db.shop dns A: expected pass, got fail: db.shop.svc.cluster.local answered"
	assert_output --partial "; expected $a"
	assert_resolves front/client db.shop "$a" "$b"
	run assert_resolves front/client db.shop "$a"
	assert_failure
	assert_output --partial "does not resolve db.shop to exactly $a"
}

@test "a name in another namespace without its namespace is NXDOMAIN: expected, it passes; unexpected, exit 1" {
	expect nx '[{"from": "front/client", "to": "web", "proto": "dns", "failure": "nxdomain"},
	            {"from": "front/client", "to": "dns:web", "failure": "nxdomain"},
	            {"from": "front/client", "to": "nothing.shop.svc.cluster.local.", "proto": "dns", "failure": "nxdomain"}]'
	check_as json nx
	assert_success
	local r=$BATS_TEST_TMPDIR/nx.out
	run jq -r '.probes[] | "\(.to) \(.proto) \(.ok) \(.failure) \(.failed) \(.dns.name) \(.error)"' "$r"
	assert_line "web dns true nxdomain nxdomain null NXDOMAIN: no such name (asked web.front.svc.cluster.local, web.svc.cluster.local, web.cluster.local, web)"
	assert_line "dns:web http true nxdomain nxdomain null NXDOMAIN: no such name (asked web.front.svc.cluster.local, web.svc.cluster.local, web.cluster.local, web)"
	assert_line "nothing.shop.svc.cluster.local. dns true nxdomain nxdomain null NXDOMAIN: no such name (asked nothing.shop.svc.cluster.local)"
	valid_json check "$r"
	refute_resolves front/client web
	# Expected to resolve, it fails as nxdomain, and check exits 1.
	expect nx-bad '[{"from": "front/client", "to": "web", "proto": "dns"},
	                {"from": "front/client", "to": "dns:web"}]'
	check_as json nx-bad
	assert_failure 1
	run jq -r '.probes[] | "\(.to) \(.ok) \(.failed)"' "$BATS_TEST_TMPDIR/nx-bad.out"
	assert_line "web false nxdomain"
	assert_line "dns:web false nxdomain"
	run assert_reachable front/client dns:web
	assert_failure
	assert_output --partial "NXDOMAIN: no such name"
	# Resolving, where NXDOMAIN was said: a failure the other way.
	expect nx-wrong '[{"from": "front/client", "to": "web.shop", "proto": "dns", "failure": "nxdomain"}]'
	check_as text nx-wrong
	assert_failure 1
	assert_output --partial "client -> web.shop dns A: expected fail (nxdomain), got pass"
}

@test "what is not a name, or not for dns, is refused naming the field: exit 2" {
	expect bad '[{"from": "front/client", "to": "web.shop", "addresses": ["10.96.0.2"]},
	             {"from": "front/client", "to": "web.shop", "proto": "udp"},
	             {"from": "front/client", "to": "service:shop/web", "failure": "nxdomain"},
	             {"from": "front/client", "to": "web", "proto": "dns", "port": 53}]'
	check_as text bad
	assert_failure 2
	assert_line --partial 'expect[0].addresses: only dns probes have an answer to compare; proto is http'
	assert_line --partial 'expect[1].to: udp probes to a name need a port: give "port"'
	assert_line --partial 'expect[2].failure: only a probe that resolves a name'
	assert_line --partial "expect[3].port: a dns probe asks the nameservers of the pod's /etc/resolv.conf: it has no port"
}

@test "a machine without a resolv.conf cannot resolve, and says so" {
	expect node '[{"from": "node1", "to": "web.shop"}]'
	check_as json node
	assert_failure 1
	run jq -r '.probes[0] | "\(.failed) \(.error)"' "$BATS_TEST_TMPDIR/node.out"
	assert_output --regexp '^error node1 cannot resolve web.shop: .*no /etc/resolv.conf'
}

@test "junit, tap and markdown name what a name resolved to" {
	local ip
	ip=$(cluster_ip shop web)
	expect formats '[{"from": "front/client", "to": "web.shop"},
	                 {"from": "front/client", "to": "web", "proto": "dns"}]'
	check_as junit formats
	assert_failure 1
	assert_output --partial "<system-out>resolved web.shop.svc.cluster.local: $ip</system-out>"
	assert_output --partial 'name="client -&gt; web dns A expected pass"'
	if command -v xmllint >/dev/null; then
		xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/formats.out"
	fi
	check_as tap formats
	assert_failure 1
	assert_line "ok 1 - client -> web.shop http:80 expected pass"
	assert_line "# resolved web.shop.svc.cluster.local: $ip"
	assert_line "not ok 2 - client -> web dns A expected pass"
	assert_line "  failed: nxdomain"
	check_as markdown formats
	assert_failure 1
	assert_output --partial "#### Names"
	assert_output --partial "- \`client -> web.shop http:80\`: web.shop.svc.cluster.local: $ip"
}

@test "trace to a name resolves it from the source, then follows the Service's NAT to an endpoint" {
	local ip
	ip=$(cluster_ip shop web)
	run "$TESTBED" trace "$LAB" front/client web.shop
	assert_success
	assert_line --index 0 "trace $LAB: client (10.244.0.2) -> web.shop:80 ($ip:80/tcp)"
	assert_line "    resolved by client's resolver: web.shop.svc.cluster.local: $ip"
	assert_output --regexp "dnat: destination $ip:80 -> 10\.244\.[0-9]+\.[0-9]+:8080"
	run "$TESTBED" trace --json "$LAB" front/client dns:web.shop:http
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/trace.json"
	run jq -r '"\(.to) \(.destination) \(.resolved) \(.delivered)"' "$BATS_TEST_TMPDIR/trace.json"
	assert_output "dns:web.shop:http $ip web.shop.svc.cluster.local: $ip true"
	valid_json trace "$BATS_TEST_TMPDIR/trace.json"
	run "$TESTBED" trace "$LAB" front/client dns:web
	assert_failure 2
	assert_output --partial "client cannot resolve web: NXDOMAIN: no such name"
}
