# testbed apply / delete and cluster DNS (cli/cmd_apply.c, lab/lab_dns.c):
# on examples/dns/by-name (as lab apd-dns), a Service applied, deleted or
# renamed is resolved (or NXDOMAIN) from a pod right after apply returns;
# a hosts-only change reloads dnsmasq (its PID stays), a named port's SRV
# record restarts it (a new PID); no machine restarts either way. Also:
# the rollback when a node refuses its rule set midway, a lab brought up
# from standard input (apd-stdin), and a LoadBalancer's gateway route
# (examples/services/loadbalancer as apd-lb).
bats_require_minimum_version 1.5.0
load helpers

LAB=apd-dns

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	local ex=$REPO/examples/dns/by-name
	jq --arg k8s "$ex/k8s/" --arg pod "$REPO/images/pod.tar.zst" --arg node "$REPO/images/node.tar.zst" \
		'.name = "apd-dns" | .manifests = [$k8s] | .images = {pod: $pod, node: $node} | del(.expect)' \
		"$ex/lab.json" >"$BATS_FILE_TMPDIR/lab.json"
	testbed_up "$BATS_FILE_TMPDIR/lab.json"
}

setup() {
	use_lab_dirs
}

teardown() {
	for lab in apd-stdin apd-lb apd-ing; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

# pids: every machine's PID, as status records them.
pids() {
	"$TESTBED" status --json "$LAB" | jq -c '[.labs[].machines[].pid]'
}

# dnsmasq_pid: the DNS server's PID, the child of pod kube-system/coredns's init.
dnsmasq_pid() {
	local init
	init=$("$TESTBED" status --json "$LAB" | jq -r '.labs[].machines[] | select(.name | endswith("coredns")) | .pid')
	for p in $(cat "/proc/$init/task/$init/children"); do
		[ "$(cat "/proc/$p/comm")" = dnsmasq ] && echo "$p"
	done
}

# expect JSON: check the running lab against the expectations JSON (a list).
expect() {
	printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/expect.json"
	run "$TESTBED" check --retries 0 "$LAB" --expect "$BATS_TEST_TMPDIR/expect.json"
}

cluster_ip() {
	"$TESTBED" plan --format json "$LAB" | jq -r --arg n "$1" '.services[] | select(.namespace == "shop" and .name == $n) | .clusterIP'
}

# service NAME [PORTNAME]: a Service NAME of shop for the web pods, port 80
# (named PORTNAME when given: an SRV record).
service() {
	local ports='[{port: 80, targetPort: 8080}]'
	[ -z "${2:-}" ] || ports="[{name: $2, port: 80, targetPort: 8080}]"
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: %s\n' \
		"$1" "$ports" >"$BATS_FILE_TMPDIR/$1.yaml"
}

@test "a Service applied resolves from a pod right after apply; dnsmasq reloaded its hosts file, its PID and every machine's stay" {
	service api
	before=$(pids)
	server=$(dnsmasq_pid)
	[ -n "$server" ]
	expect '[{"from": "front/client", "to": "api.shop", "proto": "dns", "result": "fail", "failure": "nxdomain"}]'
	assert_success
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/api.yaml"
	assert_success
	assert_output --partial "cluster DNS reloaded its records (dnsmasq PID $server kept)"
	assert_output --partial "no machine restarted"
	echo "# $output" >&3
	ip=$(cluster_ip api)
	[ -n "$ip" ]
	expect "[{\"from\": \"front/client\", \"to\": \"api.shop\", \"proto\": \"dns\", \"addresses\": [\"$ip\"]},
		{\"from\": \"front/client\", \"to\": \"api.shop\", \"answeredBy\": \"shop/app=web\"}]"
	assert_success
	assert_equal "$(dnsmasq_pid)" "$server"
	assert_equal "$(pids)" "$before"
	# The saved plan is the one a topology declaring the objects gives.
	run jq -r '.machines[] | select(.name | endswith("coredns")) | .files[] | select(.path == "/etc/dnsmasq.hosts") | .content' \
		"$TESTBED_STATE_DIR/$LAB/plan.json"
	assert_output --partial "$ip api.shop.svc.cluster.local"
	run "$TESTBED" exec "$LAB" kube-system/coredns cat /etc/dnsmasq.hosts
	assert_output --partial "$ip api.shop.svc.cluster.local"
}

@test "the Service deleted: NXDOMAIN right after delete" {
	before=$(pids)
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/api.yaml"
	assert_success
	assert_output --partial "cluster DNS reloaded its records"
	expect '[{"from": "front/client", "to": "api.shop", "proto": "dns", "result": "fail", "failure": "nxdomain"},
		{"from": "front/client", "to": "web.shop", "answeredBy": "shop/app=web"}]'
	assert_success
	assert_equal "$(pids)" "$before"
}

@test "a Service renamed (the new applied, the old deleted): the new name resolves, the old is NXDOMAIN" {
	service api
	service api-v2
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/api.yaml"
	assert_success
	before=$(pids)
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/api-v2.yaml"
	assert_success
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/api.yaml"
	assert_success
	ip=$(cluster_ip api-v2)
	expect "[{\"from\": \"front/client\", \"to\": \"api-v2.shop\", \"proto\": \"dns\", \"addresses\": [\"$ip\"]},
		{\"from\": \"front/client\", \"to\": \"api.shop\", \"proto\": \"dns\", \"result\": \"fail\", \"failure\": \"nxdomain\"}]"
	assert_success
	assert_equal "$(pids)" "$before"
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/api-v2.yaml"
	assert_success
}

@test "a named port's SRV record: dnsmasq restarts (a new PID), every machine's PID stays; its CNAME still answers" {
	service grpc grpc
	before=$(pids)
	server=$(dnsmasq_pid)
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/grpc.yaml"
	assert_success
	assert_output --partial "cluster DNS restarted (dnsmasq PID "
	assert_output --partial ", was $server)"
	echo "# $output" >&3
	expect '[{"from": "front/client", "to": "_grpc._tcp.grpc.shop.svc.cluster.local", "proto": "dns", "type": "SRV",
		"records": ["grpc.shop.svc.cluster.local:80"]},
		{"from": "front/client", "to": "store.shop", "answeredBy": "shop/app=web"}]'
	assert_success
	now=$(dnsmasq_pid)
	[ -n "$now" ] && [ "$now" != "$server" ]
	assert_equal "$(pids)" "$before"
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/grpc.yaml"
	assert_success
	assert_output --partial "cluster DNS restarted"
	expect '[{"from": "front/client", "to": "_grpc._tcp.grpc.shop.svc.cluster.local", "proto": "dns", "type": "SRV",
		"result": "fail", "failure": "nxdomain"}]'
	assert_success
	assert_equal "$(pids)" "$before"
}

# rulesets: every node's nft list ruleset, each under its name.
rulesets() {
	for n in node1 node2; do
		echo "== $n"
		"$TESTBED" exec "$LAB" "$n" nft list ruleset
	done
}

@test "a node refusing its rule set midway: every node's rules, the saved plan and the objects stay as before, exit 3 naming the node" {
	# node2 holds a table of the policies' name that only its creator may
	# change (nftables' owner flag, held by an nft -i kept open): the
	# kernel refuses apply's transaction there, after node1 took its own.
	local node2 fifo=$BATS_TEST_TMPDIR/owner
	node2=$("$TESTBED" status --json "$LAB" | jq -r '.labs[].machines[] | select(.name == "node2") | .pid')
	mkfifo "$fifo"
	nsenter --net="/proc/$node2/ns/net" nft -i <"$fifo" >/dev/null 2>&1 &
	holder=$!
	exec {owner}>"$fifo"
	echo "add table ip testbed-netpol { flags owner; }" >&"$owner"
	for _ in $(seq 50); do
		"$TESTBED" exec "$LAB" node2 nft list table ip testbed-netpol >/dev/null 2>&1 && break
		sleep 0.1
	done
	rules=$(rulesets)
	plan=$("$TESTBED" plan "$LAB")
	objects=$(sha256sum <"$TESTBED_STATE_DIR/$LAB/objects.json")
	before=$(pids)
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n' \
		>"$BATS_TEST_TMPDIR/deny.yaml"
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/deny.yaml"
	after=$(rulesets)
	exec {owner}>&-
	wait "$holder" || true
	assert_failure 3
	assert_output --partial "node2"
	assert_output --partial "ip testbed-netpol"
	assert_output --partial "Operation not permitted"
	diff -u <(echo "$rules") <(echo "$after")
	# The owner gone, its table went with it.
	run "$TESTBED" exec "$LAB" node2 nft list table ip testbed-netpol
	assert_failure
	assert_equal "$("$TESTBED" plan "$LAB")" "$plan"
	assert_equal "$(sha256sum <"$TESTBED_STATE_DIR/$LAB/objects.json")" "$objects"
	assert_equal "$(pids)" "$before"
	# node1 took the policy and gave it back: nothing denies there.
	expect '[{"from": "front/client", "to": "web.shop", "answeredBy": "shop/app=web"}]'
	assert_success
}

@test "a lab brought up from standard input keeps its objects: apply works on it, its relative image paths as up read them" {
	local lab=apd-stdin dir=$BATS_TEST_TMPDIR/cwd
	mkdir -p "$dir/images"
	ln -s "$REPO/images/pod.tar.zst" "$REPO/images/node.tar.zst" "$dir/images/"
	cat >"$BATS_TEST_TMPDIR/deny.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-b}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
YAML
	(cd "$dir" && "$TESTBED" up --quiet - <<'JSON'
{"name": "apd-stdin", "images": {"pod": "images/pod.tar.zst", "node": "images/node.tar.zst"},
 "nodes": [{"name": "n1", "pods": [{"name": "a", "labels": {"app": "a"}}, {"name": "b", "labels": {"app": "b"}}]}]}
JSON
	)
	run jq -r '.dir' "$TESTBED_STATE_DIR/$lab/objects.json"
	assert_output "$dir"
	run "$TESTBED" check --explain "$lab" a b
	assert_success
	assert_output --partial "policies: allowed"
	# From another working directory: the images are the ones up read.
	run "$TESTBED" apply "$lab" "$BATS_TEST_TMPDIR/deny.yaml"
	assert_success
	run "$TESTBED" check --explain "$lab" a b
	assert_success
	assert_output --partial "policies: denied"
	run "$TESTBED" delete "$lab" "$BATS_TEST_TMPDIR/deny.yaml"
	assert_success
	"$TESTBED" down "$lab"
}

@test "a LoadBalancer Service applied: the gateway's equal-cost route comes, the outside reaches it; deleted, the route goes" {
	local lab=apd-lb ex=$REPO/examples/services/loadbalancer
	jq --arg k8s "$ex/k8s/" --arg pod "$REPO/images/pod.tar.zst" --arg node "$REPO/images/node.tar.zst" \
		'.name = "apd-lb" | .manifests = [$k8s] | .images = {pod: $pod, node: $node} | del(.expect)' \
		"$ex/lab.json" >"$BATS_TEST_TMPDIR/lb.json"
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lb.json"
	cat >"$BATS_TEST_TMPDIR/lb2.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web-2, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
status:
  loadBalancer:
    ingress: [{ip: 192.0.2.20}]
YAML
	printf '[{"from": "internet", "to": "ip:192.0.2.20:80", "requests": 10, "answeredBy": "shop/app=web"}]\n' >"$BATS_TEST_TMPDIR/reach.json"
	printf '[{"from": "internet", "to": "ip:192.0.2.20:80", "result": "fail"}]\n' >"$BATS_TEST_TMPDIR/gone.json"
	before=$("$TESTBED" status --json "$lab" | jq -c '[.labs[].machines[].pid]')
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/gone.json"
	assert_success
	run "$TESTBED" apply "$lab" "$BATS_TEST_TMPDIR/lb2.yaml"
	assert_success
	assert_output --partial "1 gateway route changed"
	run "$TESTBED" exec "$lab" gateway ip route show 192.0.2.20
	assert_success
	# Equal-cost over both nodes, as up routes the example's own 192.0.2.10.
	assert_equal "$(printf '%s\n' "$output" | grep -c 'nexthop via')" 2
	assert_equal "$("$TESTBED" exec "$lab" gateway ip route show 192.0.2.10 | tail -n +2)" "$(printf '%s\n' "$output" | tail -n +2)"
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/reach.json"
	assert_success
	run "$TESTBED" delete "$lab" "$BATS_TEST_TMPDIR/lb2.yaml"
	assert_success
	assert_output --partial "1 gateway route changed"
	run "$TESTBED" exec "$lab" gateway ip route show 192.0.2.20
	assert_output ""
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/gone.json"
	assert_success
	assert_equal "$("$TESTBED" status --json "$lab" | jq -c '[.labs[].machines[].pid]')" "$before"
	"$TESTBED" down "$lab"
}

@test "an Ingress applied: nginx restarts with the new nginx.conf (a new PID, every machine's stays) and serves the new host right after; deleted, 404 again" {
	local lab=apd-ing ex=$REPO/examples/ingress
	jq --arg k8s "$ex/k8s/" --arg pod "$REPO/images/pod.tar.zst" --arg node "$REPO/images/node.tar.zst" \
		'.name = "apd-ing" | .manifests = [$k8s] | .images = {pod: $pod, node: $node} | del(.expect)' \
		"$ex/lab.json" >"$BATS_TEST_TMPDIR/ing.json"
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/ing.json"
	cat >"$BATS_TEST_TMPDIR/new.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: new, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
    - host: new.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: cart, port: {name: api}}}}
YAML
	printf '[{"from": "internet", "to": "ingress:new.example.com/", "status": 404}, {"from": "internet", "to": "ingress:shop.example.com/cart", "answeredBy": "shop/app=cart"}]\n' >"$BATS_TEST_TMPDIR/before.json"
	printf '[{"from": "internet", "to": "ingress:new.example.com/", "requests": 10, "answeredBy": "shop/app=cart"}, {"from": "internet", "to": "ingress:shop.example.com/cart", "answeredBy": "shop/app=cart"}]\n' >"$BATS_TEST_TMPDIR/after.json"
	local init nginx
	init=$("$TESTBED" status --json "$lab" | jq -r '.labs[].machines[] | select(.name | endswith("ingress-nginx-controller")) | .pid')
	nginx=$(tr -d " " <"/proc/$init/task/$init/children")
	[ -n "$nginx" ]
	before=$("$TESTBED" status --json "$lab" | jq -c '[.labs[].machines[].pid]')
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/before.json"
	assert_success
	run "$TESTBED" apply "$lab" "$BATS_TEST_TMPDIR/new.yaml"
	assert_success
	assert_output --partial "the ingress controller restarted nginx (PID "
	assert_output --partial ", was $nginx)"
	echo "# $output" >&3
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/after.json"
	assert_success
	run "$TESTBED" exec "$lab" ingress-nginx/ingress-nginx-controller grep -c new.example.com /etc/nginx/ingress-nginx.conf
	assert_success
	run "$TESTBED" delete "$lab" "$BATS_TEST_TMPDIR/new.yaml"
	assert_success
	run "$TESTBED" check "$lab" --expect "$BATS_TEST_TMPDIR/before.json"
	assert_success
	now=$(tr -d " " <"/proc/$init/task/$init/children")
	[ -n "$now" ] && [ "$now" != "$nginx" ]
	assert_equal "$("$TESTBED" status --json "$lab" | jq -c '[.labs[].machines[].pid]')" "$before"
	"$TESTBED" down "$lab"
}
