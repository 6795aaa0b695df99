# Pods of one name in two namespaces: the lab shows them as NAMESPACE/NAME,
# every command takes that and refuses the bare name, naming both; selectors
# pick pods across namespaces or within one; the graph groups pods by
# namespace.
bats_require_minimum_version 1.5.0
load helpers

LAB=check-ns
FILE=$REPO/tests/labs/check-namespaces.json

lab_suite "$FILE"

@test "the lab shows the two web pods as NAMESPACE/NAME, the others by NAME" {
	run "$TESTBED" status --json "$LAB"
	assert_success
	run jq -r '[.labs[0].machines[] | select(.kind == "pod") | .name] | join(" ")' <<<"$output"
	assert_output "default/web client shop/web db"
}

@test "check: names, named ports per target and selectors across namespaces" {
	run "$TESTBED" check --verbose "$LAB"
	assert_success
	assert_equal "${lines[-1]}" "6 passed, 0 failed"
	# */app=web: both web pods, each on its own port named http.
	# Who answered is named as the lab shows it: the pod said "web", its own name.
	assert_line --regexp '^  \. client -> default/web http:8000: pass, [0-9.]+ ms, answered by default/web$'
	assert_line --regexp '^  \. client -> shop/web http:8080: pass, [0-9.]+ ms, answered by shop/web$'
	assert_line --regexp '^  \. shop/web -> default/web http:8000: pass'
	assert_line --regexp '^  \. client -> shop/web udp:5353 \(client IP preserved\): pass'
	# shop/: every pod of namespace shop.
	assert_line --regexp '^  \. shop/web -> client ping: pass'
	assert_line --regexp '^  \. db -> client ping: pass'
}

@test "a name two namespaces share is refused by check, exec and trace, naming both" {
	printf '[{"from": "client", "to": "web"}]\n' >"$BATS_TEST_TMPDIR/e.json"
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/e.json" "$LAB"
	assert_failure 2
	assert_output "$BATS_TEST_TMPDIR/e.json:1: expect[0].to: \"web\" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME"
	run "$TESTBED" exec "$LAB" web true
	assert_failure 2
	assert_output "testbed exec: lab check-ns: \"web\" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME"
	run "$TESTBED" trace "$LAB" client web
	assert_failure 2
	assert_output "testbed trace: lab check-ns: \"web\" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME"
	# validate says it at the line, for a topology's own expectations.
	jq --arg r "$REPO" '.images = {node: ($r + "/images/node.tar.zst"), pod: ($r + "/images/pod.tar.zst")}
		| .expect = [{"from": "client", "to": "web"}]' "$FILE" >"$BATS_TEST_TMPDIR/t.json"
	run "$TESTBED" validate "$BATS_TEST_TMPDIR/t.json"
	assert_failure 2
	assert_output --regexp 't\.json:[0-9]+: expect\[0\]\.to: "web" is ambiguous: pods default/web and shop/web have that name; say which, as NAMESPACE/NAME$'
}

@test "exec and trace take NAMESPACE/NAME, the pod's own name as its hostname" {
	run "$TESTBED" exec "$LAB" shop/web hostname
	assert_success
	assert_output web
	run "$TESTBED" exec "$LAB" shop/web sh -c 'echo $HOSTNAME'
	assert_output web
	run "$TESTBED" exec "$LAB" default/web hostname
	assert_output web
	# db is unique: by NAME and by NAMESPACE/NAME.
	run "$TESTBED" exec "$LAB" db hostname
	assert_output db
	run "$TESTBED" trace "$LAB" shop/web default/web
	assert_success
	assert_line --index 0 --regexp '^trace check-ns: shop/web \(10\.244\.1\.2\) -> default/web \(10\.244\.0\.2\)$'
	run "$TESTBED" trace "$LAB" shop/db client
	assert_success
	assert_line --index 0 --regexp '^trace check-ns: db \(10\.244\.1\.3\) -> client \(10\.244\.0\.3\)$'
}

@test "graph groups each node's pods by namespace" {
	run "$TESTBED" graph "$LAB"
	assert_success
	assert_line '    subgraph ns_node1_default["default"]'
	assert_line '    subgraph ns_node2_shop["shop"]'
	assert_line --regexp '^      m_shop_web\["shop/web<br/>pod 10\.244\.1\.2"\]$'
	run "$TESTBED" graph --format dot "$LAB"
	assert_line '    subgraph "cluster_ns_node2_shop" {'
}

@test "check --explain: the policies' verdict beside a real probe; 0 when they agree, 1 when not" {
	run "$TESTBED" check --explain "$LAB" client shop/web 8080/tcp
	assert_success
	assert_output "client -> shop/web 8080/TCP
policies: allowed
  egress of client: allowed (no policy selects it for Egress)
  ingress of shop/web: allowed (no policy selects it for Ingress)
probe: passed (connected)
agree"
	# UDP, and TO's http port by default.
	run "$TESTBED" check --explain "$LAB" client shop/web 5353/UDP
	assert_success
	assert_line "probe: passed (answered)"
	run "$TESTBED" check --explain "$LAB" shop/db default/web
	assert_success
	assert_line --regexp '^shop/db -> default/web [0-9]+/TCP$'
	# Nothing listens on 9: the policies allow it, the probe is refused.
	run "$TESTBED" check --explain "$LAB" client shop/web 9
	assert_failure 1
	assert_line "policies: allowed"
	assert_line --regexp '^probe: failed: .*refused'
	assert_line "DISAGREE: the lab does not do what the policies say"
	# An address as TO: the pod there.
	addr=$("$TESTBED" status --json "$LAB" | jq -r '.labs[0].machines[] | select(.name == "shop/web") | .address')
	run "$TESTBED" check --explain "$LAB" client "$addr" 8080/TCP
	assert_success
	assert_line "  ingress of shop/web: allowed (no policy selects it for Ingress)"
}

@test "check --explain refuses what it cannot explain or probe" {
	run "$TESTBED" check --explain "$LAB" client shop/web 80/icmp
	assert_failure 2
	assert_line --index 0 'testbed check: --explain: "80/icmp": expected PORT or PORT/PROTO (TCP, UDP or SCTP), PORT 1 to 65535'
	run "$TESTBED" check --explain "$LAB" client web
	assert_failure 2
	assert_output --partial 'TO: "web" is ambiguous'
	run "$TESTBED" check --explain "$LAB" nobody shop/web
	assert_failure 2
	assert_output 'testbed check: FROM: no machine "nobody" in lab check-ns'
	run "$TESTBED" check --explain "$LAB" client shop/web
	assert_success
	run "$TESTBED" check --explain "$LAB" client shop/web 9/SCTP
	assert_failure 2
	assert_line "policies: allowed"
	assert_line "probe: none: testbed's probes carry TCP and UDP, not SCTP"
	run "$TESTBED" check --explain "$LAB" client
	assert_failure 2
}
