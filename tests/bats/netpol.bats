# NetworkPolicy enforcement (plan/netpol_nft.c) on a lab from YAML
# (tests/labs/netpol): namespace x default-denies ingress and lets in only
# pod a of the namespace labelled team=y, on the port named http; z denies
# everything but DNS, an ipBlock with an except (the lab's internet, not
# 203.0.113.200) and ports 8000-8010 (endPort) of team y's pods. Probes go
# to pods' addresses and through their Services, which must give the same
# verdict; what is denied must time out (dropped, not refused); replies of
# allowed connections come back into isolated pods.
bats_require_minimum_version 1.5.0
load helpers

LAB=netpol
# NETPOL_LAB: a variant of it (another routing mode), with absolute paths.
FILE=${NETPOL_LAB:-$REPO/tests/labs/netpol/lab.json}

lab_suite "$FILE"

# probe NAME JSON: checks the expectations JSON (a list) against the lab;
# the JSON report goes to NAME.out.json, the exit code to $status.
probe() {
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1.json"
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/$1.json" "$LAB"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$1.out.json"
}

# verdicts NAME: each probe of NAME's report, whether it held and what it
# got (bats shows it when the test fails).
verdicts() {
	jq -r '.probes[] | "\(.from) -> \(.to) \(.port): \(if .ok then "held" else "broken" end) got \(.got) \(.failed // "")"' \
		"$BATS_TEST_TMPDIR/$1.out.json"
}

@test "x default-denies ingress: only y's pod a gets in, on the port named http, at the pod and through its Service alike" {
	probe ingress '[
	  {"from": "y/a", "to": "x/a", "port": 80},
	  {"from": "y/a", "to": "service:x/s-a", "port": 80},
	  {"from": "y/b", "to": "x/a", "port": 80, "failure": "timeout"},
	  {"from": "y/b", "to": "service:x/s-a", "port": 80, "failure": "timeout"},
	  {"from": "x/b", "to": "x/a", "port": 80, "failure": "timeout"},
	  {"from": "x/b", "to": "service:x/s-a", "port": 80, "failure": "timeout"},
	  {"from": "y/a", "to": "x/a", "port": 81, "failure": "timeout"},
	  {"from": "y/a", "to": "service:x/s-a", "port": 81, "failure": "timeout"},
	  {"from": "y/a", "to": "x/b", "port": 80, "failure": "timeout"},
	  {"from": "z/a", "to": "y/b", "port": 80, "failure": "timeout"}
	]'
	verdicts ingress
	assert_success
	run jq -r '[.probes[] | select(.ok | not)] | length' "$BATS_TEST_TMPDIR/ingress.out.json"
	assert_output 0
	# The denied ones timed out: dropped, not refused.
	run jq -r '[.probes[] | .failed // empty] | unique | join(",")' "$BATS_TEST_TMPDIR/ingress.out.json"
	assert_output timeout
}

@test "the same probes expecting the opposite verdicts all fail: the expectations above are not vacuous" {
	probe opposite '[
	  {"from": "y/a", "to": "x/a", "port": 80, "failure": "timeout"},
	  {"from": "y/a", "to": "service:x/s-a", "port": 80, "failure": "timeout"},
	  {"from": "y/b", "to": "x/a", "port": 80},
	  {"from": "y/b", "to": "service:x/s-a", "port": 80},
	  {"from": "y/a", "to": "service:x/s-a", "port": 81}
	]'
	assert_failure 1
	run jq -r '[.probes[] | select(.ok)] | length' "$BATS_TEST_TMPDIR/opposite.out.json"
	assert_output 0
}

@test "a pod cannot block itself: isolated x/a reaches itself at its address and through its own Service (hairpin)" {
	probe self '[{"from": "x/a", "to": "x/a", "port": 80}, {"from": "x/a", "to": "service:x/s-a", "port": 80},
	             {"from": "x/b", "to": "x/b", "port": 81}]'
	assert_success
}

@test "z: egress denied but DNS, an ipBlock with an except, and an endPort range into y; replies come back into the isolated pod" {
	probe egress '[
	  {"from": "z/a", "to": "s-a.y", "proto": "dns"},
	  {"from": "z/a", "to": "internet"},
	  {"from": "z/a", "to": "blocked", "failure": "timeout"},
	  {"from": "z/a", "to": "y/a", "port": 8005},
	  {"from": "z/a", "to": "service:y/s-a", "port": 8005},
	  {"from": "z/a", "to": "y/a", "port": 80, "failure": "timeout"},
	  {"from": "z/a", "to": "service:y/s-a", "port": 80, "failure": "timeout"},
	  {"from": "z/a", "to": "x/b", "port": 80, "failure": "timeout"},
	  {"from": "y/a", "to": "z/a", "port": 80, "failure": "timeout"},
	  {"from": "x/a", "to": "internet"},
	  {"from": "y/b", "to": "blocked"}
	]'
	verdicts egress
	assert_success
}

@test "ipBlock sees the source as it arrives: the client's under a Local NodePort, the masquerading node's under Cluster" {
	# The outside reaches pods' addresses where the gateway routes them.
	if [ "$(jq -r '.cluster.routing // "gateway"' "$FILE")" = gateway ]; then
		probe direct '[{"from": "internet", "to": "x/b", "port": 80},
		               {"from": "blocked", "to": "x/b", "port": 80, "failure": "timeout"}]'
		verdicts direct
		assert_success
	fi
	probe nodeports '[
	  {"from": "internet", "to": "nodeport:node2:30081"},
	  {"from": "blocked", "to": "nodeport:node2:30081", "failure": "timeout"},
	  {"from": "blocked", "to": "nodeport:node2:30080"},
	  {"from": "internet", "to": "nodeport:node1:30080", "failure": "timeout"},
	  {"from": "y/b", "to": "x/b", "port": 80, "failure": "timeout"}
	]'
	verdicts nodeports
	assert_success
}

@test "each node holds the rules for its own pods; the drop that stopped a probe counts it, commented with the isolating policies" {
	run "$TESTBED" exec "$LAB" node1 -- nft list chain ip testbed-netpol forward
	assert_success
	assert_output --partial 'type filter hook forward priority filter; policy accept;'
	assert_line --regexp '^[[:space:]]+ct state established,related accept'
	assert_output --partial ': jump ingress-x/a'
	refute_output --partial 'ingress-x/b'
	run "$TESTBED" exec "$LAB" node2 -- nft list table ip testbed-netpol
	assert_output --partial 'chain ingress-x/b {'
	assert_output --partial 'chain egress-z/a {'
	assert_output --partial 'tcp dport 8000-8010 return comment "z/egress-allowed egress[2]"'
	# y/a is no peer of x/b: its probe lands on the counted drop.
	counter() {
		"$TESTBED" exec "$LAB" node2 -- nft list chain ip testbed-netpol ingress-x/b |
			sed -n 's/.*counter packets \([0-9]*\) .*drop comment "isolated for ingress by x\/default-deny-ingress, x\/allow-b-from-outside".*/\1/p'
	}
	before=$(counter)
	probe deny '[{"from": "y/a", "to": "x/b", "port": 80, "failure": "timeout"}]'
	assert_success
	after=$(counter)
	[ "$after" -gt "$before" ]
}

@test "trace to a pod by name sends a connection to its http port: the rule that let y/a in, the drop that stopped z/a" {
	run "$TESTBED" trace "$LAB" y/a x/a
	assert_success
	assert_output --regexp 'x/a \(10\.244\.[0-9.]+:80/tcp\)'
	assert_output --partial 'answered by a'
	assert_output --regexp 'node1: let through by NetworkPolicy'
	assert_output --partial 'return comment "x/allow-y-a ingress[0]"'
	run "$TESTBED" trace "$LAB" z/a x/a
	assert_output --partial 'timeout: no answer'
	assert_output --regexp 'node2: dropped by NetworkPolicy'
	assert_output --partial 'drop comment "isolated for egress by z/default-deny-all, z/egress-allowed"'
}

@test "check --explain to a Service whose endpoints the policies judge apart: allowed to some only, and the probe agrees whichever answers" {
	# A Service of x with no selector and a slice of its own: x/a (lets y/a
	# in on http) and x/b (does not). apply adds it, delete takes it away.
	addr() {
		"$TESTBED" plan --format json "$LAB" | jq -r --arg n "$1" '.machines[] | select(.name == $n) | .address'
	}
	cat >"$BATS_TEST_TMPDIR/s-ab.yaml" <<-EOF
	apiVersion: v1
	kind: Service
	metadata: {name: s-ab, namespace: x}
	spec:
	  ports: [{name: http, port: 80, targetPort: 80}]
	---
	apiVersion: discovery.k8s.io/v1
	kind: EndpointSlice
	metadata:
	  name: s-ab-1
	  namespace: x
	  labels: {kubernetes.io/service-name: s-ab}
	addressType: IPv4
	ports: [{name: http, port: 80, protocol: TCP}]
	endpoints:
	  - addresses: ["$(addr x/a)"]
	    conditions: {ready: true}
	    targetRef: {kind: Pod, namespace: x, name: a}
	  - addresses: ["$(addr x/b)"]
	    conditions: {ready: true}
	    targetRef: {kind: Pod, namespace: x, name: b}
	EOF
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/s-ab.yaml"
	assert_success
	for _ in 1 2 3 4; do
		run "$TESTBED" check --explain "$LAB" y/a service:x/s-ab
		assert_success
		assert_line --regexp '^endpoint x/a \(10\.244\.[0-9.]+:80\): policies: allowed$'
		assert_line --regexp '^endpoint x/b \(10\.244\.[0-9.]+:80\): policies: denied$'
		assert_line 'policies: allowed to some endpoints only: the verdict depends on the one kube-proxy picks'
		assert_line --regexp '^probe: (passed \(answered by a\)|failed: .*)$'
		assert_line 'agree'
	done
	run "$TESTBED" delete "$LAB" "$BATS_TEST_TMPDIR/s-ab.yaml"
	assert_success
}

@test "the plan shows the rule sets, and validate no longer says policies are not enforced" {
	run "$TESTBED" plan "$LAB"
	assert_success
	assert_output --partial "ip netns exec node2 nft -f -"
	assert_output --partial 'chain ingress-x/a {'
	assert_output --partial 'ip daddr 203.0.113.0/24 ip daddr != { 203.0.113.128/25 } return'
	run "$TESTBED" validate "$FILE"
	assert_success
	refute_output --partial 'not enforced'
}

@test "every unit scenario's rule set loads (SCTP matches too, on a kernel without SCTP) and a second load replaces it" {
	make -C "$REPO" -s build/unit-tests >&2
	local out=$BATS_TEST_TMPDIR/rulesets n=0
	(cd "$REPO/tests/unit" && NETPOL_OUT=$out "$REPO/build/unit-tests" netpol_) >&2
	for f in "$out"/*.nft; do
		run unshare --net -- sh -c 'nft -f "$1" && nft list ruleset | grep -c . && nft -f "$1" && nft list ruleset | grep -c .' sh "$f"
		assert_success
		# Loaded again, the same listing: replaced, not doubled.
		assert_equal "${lines[0]}" "${lines[1]}"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
	grep -q 'sctp dport 9 return' "$out"/ingress-peers.nft
}

@test "conformance: check with no expectations derives every cell from the evaluator, and the kernel agrees in each" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/cells.json" "$LAB"
	assert_success
	# Cells expected to pass and cells expected to be denied, both probed.
	run jq -r '[.probes[] | select(.ok | not)] | length' "$BATS_TEST_TMPDIR/cells.json"
	assert_output 0
	run jq -r '[.probes[] | select(.expected == "fail")] | length > 0' "$BATS_TEST_TMPDIR/cells.json"
	assert_output true
	run jq -r '[.probes[] | select(.expected == "pass")] | length > 0' "$BATS_TEST_TMPDIR/cells.json"
	assert_output true
	# The text report prints the truth table with expected denials marked apart.
	run "$TESTBED" check "$LAB"
	assert_success
	assert_output --partial 'x blocked as expected'
}

@test "conformance reports: json's truth tables match its probes cell by cell; junit and tap name the policies of each expected denial" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/t.json" "$LAB"
	assert_success
	if /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		run /usr/bin/python3 "$REPO/tests/validate-json.py" "$REPO/docs/schemas/check.schema.json" "$BATS_TEST_TMPDIR/t.json"
		assert_success
	fi
	# A table per port and protocol: x's pods serve http 80 and alt 81.
	run jq -r '[.truthTables[].title] | join(" ")' "$BATS_TEST_TMPDIR/t.json"
	assert_output --partial 'http:80 http:81'
	# Every probe of a port's table is its cell, as expected: allowed or
	# expected-denied; and the table has no cell without a probe.
	run jq -r '
		. as $r | [$r.truthTables[] | select(.port != null) | . as $t |
			([$r.probes[] | select(.proto == $t.proto and .port == $t.port) |
				(.from as $f | .to as $to | ($t.rows | index($f)) as $i | ($t.columns | index($to)) as $j |
					$t.cells[$i][$j] == (if .expected == "pass" then "allowed" else "expected-denied" end))] | all) and
			([$t.cells[][] | select(. != null)] | length) == $t.probes] | all' "$BATS_TEST_TMPDIR/t.json"
	assert_output true
	run jq -r '[.truthTables[].cells[]?[] | select(. == "expected-denied")] | length > 0' "$BATS_TEST_TMPDIR/t.json"
	assert_output true
	# junit: valid, every denial the policies make marked, none of the passes.
	run "$TESTBED" check --format junit --output "$BATS_TEST_TMPDIR/t.xml" "$LAB"
	assert_success
	run xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/t.xml"
	assert_success
	run xmllint --xpath 'string(//testcase[@name="y/b -> x/a http:80 expected fail (denied by NetworkPolicy)"]/properties/property[@name="testbed.expectedDenial"]/@value)' \
		"$BATS_TEST_TMPDIR/t.xml"
	assert_output 'ingress of x/a isolated by x/default-deny-ingress, x/allow-y-a'
	run xmllint --xpath 'count(//testcase[contains(@name, "expected pass") and properties])' "$BATS_TEST_TMPDIR/t.xml"
	assert_output 0
	run xmllint --xpath 'count(//testcase[contains(@name, "(denied by NetworkPolicy)")])' "$BATS_TEST_TMPDIR/t.xml"
	marked=$output
	[ "$marked" -gt 0 ]
	# tap: the same denial, on its line; prove reads it.
	run "$TESTBED" check --format tap --output "$BATS_TEST_TMPDIR/t.tap" "$LAB"
	assert_success
	run grep -c '(denied by NetworkPolicy: ' "$BATS_TEST_TMPDIR/t.tap"
	assert_output "$marked"
	run grep -E '^ok [0-9]+ - y/b -> x/a http:80 expected fail \(denied by NetworkPolicy: ingress of x/a isolated by x/default-deny-ingress, x/allow-y-a\)$' \
		"$BATS_TEST_TMPDIR/t.tap"
	assert_success
	if command -v prove >/dev/null; then
		run prove --exec cat "$BATS_TEST_TMPDIR/t.tap"
		assert_success
	fi
}

@test "junit and tap mark a Service probe's expected denial when the policies deny every endpoint kube-proxy may pick; a refusal no policy makes stays unmarked" {
	printf '%s\n' '[
	  {"from": "y/b", "to": "service:x/s-a", "port": 80, "failure": "timeout"},
	  {"from": "y/a", "to": "service:x/s-a", "port": 81, "failure": "timeout"},
	  {"from": "y/a", "to": "service:x/s-a", "port": 80},
	  {"from": "x/a", "to": "y/b", "port": 9999, "failure": "refused"}
	]' >"$BATS_TEST_TMPDIR/svc.json"
	run "$TESTBED" check --format junit --expect "$BATS_TEST_TMPDIR/svc.json" --output "$BATS_TEST_TMPDIR/svc.xml" "$LAB"
	assert_success
	run xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/svc.xml"
	assert_success
	run xmllint --xpath 'count(//testcase[contains(@name, "(denied by NetworkPolicy)")])' "$BATS_TEST_TMPDIR/svc.xml"
	assert_output 2
	run xmllint --xpath 'string(//testcase[starts-with(@name, "y/a -> service:x/s-a") and contains(@name, "81")]/properties/property[@name="testbed.expectedDenial"]/@value)' \
		"$BATS_TEST_TMPDIR/svc.xml"
	assert_output 'ingress of x/a isolated by x/default-deny-ingress, x/allow-y-a'
	run "$TESTBED" check --format tap --expect "$BATS_TEST_TMPDIR/svc.json" --output "$BATS_TEST_TMPDIR/svc.tap" "$LAB"
	assert_success
	run grep -c '(denied by NetworkPolicy: ingress of x/a isolated by x/default-deny-ingress, x/allow-y-a)$' "$BATS_TEST_TMPDIR/svc.tap"
	assert_output 2
	run grep -E '^ok [0-9]+ - x/a -> y/b .*9999 expected fail$' "$BATS_TEST_TMPDIR/svc.tap"
	assert_success
}

@test "conformance: check --explain gives the evaluator's reasons beside what the probe saw, and they agree" {
	run "$TESTBED" check --explain "$LAB" y/a x/a 80/tcp
	assert_success
	assert_line 'y/a -> x/a 80/TCP'
	assert_line 'policies: allowed'
	assert_line --regexp 'allowed by x/allow-y-a ingress\[0\]: from\[0\] namespaceSelector\+podSelector, ports\[0\] TCP http'
	assert_line 'probe: passed (connected)'
	assert_line 'agree'
	run "$TESTBED" check --explain "$LAB" y/b x/a 80/tcp
	assert_success
	assert_line 'policies: denied'
	assert_line --regexp '^  ingress of x/a: DENIED; isolated by x/default-deny-ingress'
	assert_line --regexp '^probe: failed: '
	assert_line 'agree'
	# Bad input is exit 2.
	run "$TESTBED" check --explain "$LAB" y/a nosuchpod 80/tcp
	assert_failure 2
}

@test "check --explain to a Service judges each endpoint kube-proxy may pick, after the DNAT, at its target port" {
	# Port 81 of s-a leads to x/a's port named alt: not the one allow-y-a lets in.
	run "$TESTBED" check --explain "$LAB" y/a service:x/s-a
	assert_success
	assert_line 'y/a -> service:x/s-a 80/TCP'
	assert_line --regexp '^endpoint x/a \(10\.244\.[0-9.]+:80\): policies: allowed$'
	assert_line 'probe: passed (answered by a)'
	assert_line 'agree'
	run "$TESTBED" check --explain "$LAB" y/a service:x/s-a:81
	assert_success
	assert_line --regexp '^endpoint x/a \(10\.244\.[0-9.]+:81\): policies: denied$'
	assert_line --regexp '^probe: failed: '
	assert_line 'agree'
	# The same port as an operand; twice is an error, as is an unknown Service.
	run "$TESTBED" check --explain "$LAB" y/a service:x/s-a 81/tcp
	assert_success
	assert_line 'y/a -> service:x/s-a 81/TCP'
	run "$TESTBED" check --explain "$LAB" y/a service:x/s-a:80 80
	assert_failure 2
	assert_output --partial 'names its port already'
	run "$TESTBED" check --explain "$LAB" y/a service:x/nope
	assert_failure 2
	assert_output --partial 'no Service "nope" in namespace x'
}
