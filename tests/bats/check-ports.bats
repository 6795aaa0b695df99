# testbed check with pods serving TCP and UDP ports by name: selector
# targets, named ports, UDP probes that pass and that fail (a port nothing
# listens on, a pod answering with another's name, datagrams dropped),
# expectations asked of the running lab with --expect FILE, and pods named
# NAMESPACE/NAME in check, exec and trace.
bats_require_minimum_version 1.5.0
load helpers

LAB=check-ports
FILE=$REPO/tests/labs/check-ports.json

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	testbed_up "$FILE"
	# The same lab, written elsewhere: image paths made absolute.
	sed 's|"\.\./\.\./images/|"'"$REPO"'/images/|g' "$FILE" >"$BATS_FILE_TMPDIR/lab.json"
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

# expect NAME JSON: writes JSON (a list of expectations) to the test's NAME.json.
expect() {
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1.json"
}

@test "selectors, named ports and udp: every expectation holds, the udp ones failing where they should" {
	run "$TESTBED" check --verbose "$LAB"
	assert_success
	assert_equal "${lines[-1]}" "13 passed, 0 failed"
	# "*/tier" to "*/tier" over udp: web, api and db, never a pod to itself, each on its first UDP port.
	assert_line --regexp '^  \. web -> api udp:53: pass, [0-9.]+ ms, answered by api$'
	assert_line --regexp '^  \. api -> db udp:8125: pass, [0-9.]+ ms, answered by db$'
	refute_line --partial 'web -> web udp'
	refute_line --regexp '^  . (web|api) -> liar udp'
	# Named ports, resolved per target: http is 8080 on web, 8000 on api; dns is 5353 on web, 53 on api.
	assert_line --regexp '^  \. db -> web http:8080 \(client IP preserved\): pass, [0-9.]+ ms, answered by web, client 10\.244\.1\.2:[0-9]+$'
	assert_line --regexp '^  \. db -> api http:8000 \(client IP preserved\): pass'
	assert_line --regexp '^  \. db -> web udp:5353 \(client IP preserved\): pass, [0-9.]+ ms, answered by web, client 10\.244\.1\.2:[0-9]+$'
	assert_line --regexp '^  \. web -> db tcp:5432: pass'
	assert_line --regexp '^  \. web -> api tcp:9100: pass'
	# What must fail does, for its reason.
	assert_line --regexp '^  x web -> db udp:9999: fail, [0-9.]+ ms: port unreachable$'
	assert_line --regexp '^  x db -> liar udp:5353: fail, [0-9.]+ ms, answered by web: answered by "web", not liar$'
	# A table per protocol, udp among them.
	assert_line --regexp '^udp +web +api +db +liar$'
	assert_line --regexp '^db +\. +\. +- +x$'
}

@test "udp probes fail when they should pass, each with its reason, and --retries tries again" {
	expect fails '[
	  {"from": "web", "to": "db", "proto": "udp", "port": 9999},
	  {"from": "db", "to": "liar", "proto": "udp"},
	  {"from": "web", "to": "db", "proto": "udp", "port": "stats"}
	]'
	# node2 drops what is forwarded to db's stats port: datagrams go unanswered.
	run tbx "$LAB" node2 nft -f - <<-'NFT'
		table inet testdrop {
			chain forward {
				type filter hook forward priority 0; policy accept;
				udp dport 8125 ip daddr 10.244.1.2 drop
			}
		}
	NFT
	assert_success
	run "$TESTBED" check --timeout 0.3 --retries 1 --format json --expect "$BATS_TEST_TMPDIR/fails.json" "$LAB"
	tbx "$LAB" node2 nft delete table inet testdrop
	assert_failure 1
	echo "$output" >"$BATS_TEST_TMPDIR/r.json"
	run jq -r '.probes[] | "\(.to):\(.port) \(.got) \(.attempts) \(.error) \(.answeredBy)"' "$BATS_TEST_TMPDIR/r.json"
	assert_line "db:9999 fail 2 port unreachable null"
	assert_line 'liar:5353 fail 2 answered by "web", not liar web'
	assert_line "db:8125 fail 2 no answer within 300 ms null"
	run jq -r '.summary | "\(.passed) \(.failed)"' "$BATS_TEST_TMPDIR/r.json"
	assert_output "0 3"
}

@test "json, junit and tap show udp probes; the json matches check.schema.json" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/r.json" --quiet "$LAB"
	assert_success
	run jq -r '[.probes[] | select(.proto == "udp")] | length' "$BATS_TEST_TMPDIR/r.json"
	assert_output 8
	run jq -c '.probes[] | select(.proto == "udp" and .to == "web" and .from == "db") | [.port, .answeredBy, .clientIP, (.client | test("^10\\.244\\.1\\.2:[0-9]+$"))]' \
		"$BATS_TEST_TMPDIR/r.json"
	assert_output '[5353,"web","preserved",true]'
	if /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		run /usr/bin/python3 "$REPO/tests/validate-json.py" check "$BATS_TEST_TMPDIR/r.json"
		assert_success
	fi
	run "$TESTBED" check --format junit "$LAB"
	assert_success
	assert_output --partial 'classname="testbed.check-ports.udp" name="web -&gt; db udp:9999 expected fail"'
	run "$TESTBED" check --format tap "$LAB"
	assert_success
	assert_line --regexp '^ok [0-9]+ - db -> liar udp:5353 expected fail$'
}

@test "the Kubernetes model probes every pod server's first UDP port too" {
	jq 'del(.expect)' "$BATS_FILE_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/model.json"
	run "$TESTBED" check --format json "$BATS_TEST_TMPDIR/model.json"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/r.json"
	# 4 pods, 12 ordered pairs: http (tcp to liar, which runs its own command), ping,
	# and udp to the three pod servers with a UDP port (liar's answers are its own);
	# then each pod's egress to the internet, http and ping.
	run jq -r '[.probes[] | .proto] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$BATS_TEST_TMPDIR/r.json"
	assert_output "http 13, ping 16, tcp 3, udp 9"
	run jq -r '[.probes[] | select(.proto == "udp") | "\(.to):\(.port)"] | unique | join(" ")' "$BATS_TEST_TMPDIR/r.json"
	assert_output "api:53 db:8125 web:5353"
	run jq -r '.model' "$BATS_TEST_TMPDIR/r.json"
	assert_output kubernetes
}

@test "--expect FILE asks the running lab new questions, by selector, name and named port" {
	expect more '[
	  {"from": "default/web", "to": "*/app in (api, db)", "proto": "udp"},
	  {"from": "default/tier=front", "to": "default/tier=front", "proto": "tcp", "port": "http"},
	  {"from": "db", "to": "*/!tier", "proto": "ping"},
	  {"from": "api", "to": "web", "port": 9100, "proto": "tcp", "result": "fail"}
	]'
	run "$TESTBED" check --verbose --expect "$BATS_TEST_TMPDIR/more.json" "$LAB"
	assert_success
	assert_equal "${lines[-1]}" "6 passed, 0 failed"
	assert_line --regexp '^  \. web -> api udp:53: pass'
	assert_line --regexp '^  \. web -> db udp:8125: pass'
	assert_line --regexp '^  \. web -> api tcp:8000: pass'
	assert_line --regexp '^  \. api -> web tcp:8080: pass'
	assert_line --regexp '^  \. db -> liar ping: pass'
	assert_line --regexp '^  x api -> web tcp:9100: fail, [0-9.]+ ms: connection refused$'
	# The lab's own expectations are untouched: check NAME still runs them.
	run "$TESTBED" check "$LAB"
	assert_equal "${lines[-1]}" "13 passed, 0 failed"
	# From standard input, and beside a topology FILE of the same lab.
	run bash -c '"$TESTBED" check --expect - "$1" <"$2"' bash "$LAB" "$BATS_TEST_TMPDIR/more.json"
	assert_success
	assert_equal "${lines[-1]}" "6 passed, 0 failed"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/more.json" "$BATS_FILE_TMPDIR/lab.json"
	assert_success
	assert_equal "${lines[-1]}" "6 passed, 0 failed"
	# An expectation that does not hold: exit 1.
	expect wrong '[{"from": "web", "to": "liar", "proto": "udp"}]'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/wrong.json" "$LAB"
	assert_failure 1
	assert_line --regexp '^  web -> liar udp:5353: expected pass, got fail: answered by "web", not liar'
}

@test "--expect FILE: what it asks that the lab lacks is refused, each at FILE's line" {
	expect bad '[
	  {"from": "web", "to": "nope"},
	  {"from": "web", "to": "default/nope"},
	  {"from": "*/app=cache", "to": "db"},
	  {"from": "db", "to": "shop/app=web"},
	  {"from": "web", "to": "db",
	   "port": "dns"},
	  {"from": "web", "to": "api", "proto": "udp", "port": "metrics"},
	  {"from": "web", "to": "liar", "proto": "tcp", "port": "dns"},
	  {"from": "db", "to": "node1", "proto": "udp"},
	  {"from": "lab", "to": "db"},
	  {"from": "db", "to": "web", "proto": "udp"}
	]'
	local f=$BATS_TEST_TMPDIR/bad.json
	run "$TESTBED" check --expect "$f" "$LAB"
	assert_failure 2
	assert_output - <<-EOF
		$f:2: expect[0].to: no pod, node, host or external machine is named "nope"
		$f:3: expect[1].to: no pod, node, host or external machine is named "default/nope"
		$f:4: expect[2].from: "*/app=cache" matches no pod
		$f:5: expect[3].to: "shop/app=web" matches no pod: no pod is in its namespace
		$f:7: expect[4].port: db has no port named "dns"
		$f:8: expect[5].port: port "metrics" of api is 9100/TCP; udp probes need a UDP port
		$f:9: expect[6].port: port "dns" of liar is 5353/UDP; tcp probes need a TCP port
		$f:10: expect[7]: node1 has no UDP port to probe: give "port"
		$f:11: expect[8].from: no pod, node, host or external machine is named "lab"
	EOF
}

@test "--expect FILE: its shape and syntax are checked as a topology's expect is" {
	expect syntax '[
	  {"from": "default/app in web", "to": "db"},
	  {"from": "web", "to": "Default/db"},
	  {"from": "web", "to": "db", "proto": "sctp"},
	  {"from": "web", "to": "db", "port": "Web"},
	  {"from": "web", "to": "db", "proto": "ping", "port": 80},
	  {"from": "web", "to": "db", "proto": "tcp", "clientIP": "preserved"},
	  {"from": "web"},
	  {"from": "web", "to": "db", "prot": "udp"}
	]'
	local f=$BATS_TEST_TMPDIR/syntax.json
	run "$TESTBED" check --expect "$f" "$LAB"
	assert_failure 2
	assert_output - <<-EOF
		$f:2: expect[0].from: "default/app in web": expected "(" and values after "app in", found "web"
		$f:3: expect[1].to: "Default/db" is not a target: expected the name of a pod, node, host or external machine, a pod's NAMESPACE/NAME, a selector like "NAMESPACE/app=web", "gateway", "*" (every pod), service:NAMESPACE/NAME, nodeport:NODE:PORT, ip:ADDRESS:PORT, ingress:HOST/PATH or a DNS name (web.shop, dns:NAME)
		$f:4: expect[2].proto: "sctp": expected "http", "tcp", "ping", "udp" or "dns"
		$f:5: expect[3].port: "Web" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at either end and no "--"
		$f:6: expect[4].port: ping has no port
		$f:7: expect[5].clientIP: only http and udp probes see the client's address
		$f:8: expect[6]: missing required key "to"
		$f:9: expect[7].prot: unknown key (did you mean "proto"?)
	EOF
	expect object '{"expect": []}'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/object.json" "$LAB"
	assert_failure 2
	assert_output "$BATS_TEST_TMPDIR/object.json:1: expect: expected an array of expectations, got an object"
	printf '[{"from": "web",' >"$BATS_TEST_TMPDIR/broken.json"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/broken.json" "$LAB"
	assert_failure 2
	assert_output --partial "$BATS_TEST_TMPDIR/broken.json:1:"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/missing.json" "$LAB"
	assert_failure 2
	assert_output "$BATS_TEST_TMPDIR/missing.json: cannot read: No such file or directory"
	# A lab that is not up is said first.
	run "$TESTBED" check --expect "$f" no-such-lab
	assert_failure 2
	assert_output --partial "lab no-such-lab is not up"
}

@test "exec, trace and check take a pod as NAMESPACE/NAME, and NAME where it is unique" {
	run "$TESTBED" exec "$LAB" default/web hostname
	assert_success
	assert_output web
	# The pod's own name in its environment, however it was named.
	run "$TESTBED" exec "$LAB" default/api sh -c 'echo $HOSTNAME'
	assert_output api
	run "$TESTBED" trace "$LAB" default/web default/db
	assert_success
	assert_line --index 0 "trace check-ports: web (10.244.0.2) -> db (10.244.1.2)"
	run "$TESTBED" trace "$LAB" web db
	assert_line --index 0 "trace check-ports: web (10.244.0.2) -> db (10.244.1.2)"
	expect named '[{"from": "default/web", "to": "default/db", "proto": "tcp", "port": "sql"}]'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/named.json" "$LAB"
	assert_success
	assert_equal "${lines[-1]}" "1 passed, 0 failed"
	# Shown as the lab shows them: plain names, unique here.
	assert_line --regexp '^web +\.$'
	# Nodes have no namespace; an unknown one is said so.
	run "$TESTBED" exec "$LAB" default/node1 true
	assert_failure 2
	assert_output --partial 'lab check-ports has no pod, node or host "default/node1"'
	run "$TESTBED" trace "$LAB" shop/web db
	assert_failure 2
	assert_output --partial 'lab check-ports has no pod, node, host, external machine or gateway "shop/web"'
}
