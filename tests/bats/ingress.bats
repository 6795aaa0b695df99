# examples/ingress from its unchanged YAML folder: ingress-nginx (Debian's
# nginx, configured from the Ingress objects) on a NodePort. From the
# internet each host and path reaches the pods of its Service; Prefix is
# element-wise and Exact one path; a path no rule names goes to the
# Ingress's defaultBackend or its host's "/"; an unknown host gets 404; the
# nginx.conf in the controller's root is the one the plan generated from
# the objects; trace shows the proxy's hop and kube-proxy's DNAT behind it;
# what is not built is refused by name.
bats_require_minimum_version 1.5.0
load helpers

EXAMPLE=$REPO/examples/ingress

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

up_example() {
	LAB=$(jq -r .name "$EXAMPLE/lab.json")
	"$TESTBED" up --quiet "$EXAMPLE/lab.json"
}

# check_with JQ: check on the running lab with the example's expectations
# changed by JQ; the JSON report in $output.
check_with() {
	jq "$1 | .expect" "$EXAMPLE/lab.json" >"$BATS_TEST_TMPDIR/expect.json"
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/expect.json" "$LAB"
}

# valid_json SCHEMA FILE: FILE holds to docs/schemas/SCHEMA.schema.json
# (where python3 has jsonschema).
valid_json() {
	if /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		run /usr/bin/python3 "$REPO/tests/validate-json.py" "$@"
		assert_success
	fi
}

# get HOST PATH: what the internet gets through node1's NodePort: the
# status line, then the body.
get() {
	"$TESTBED" exec "$LAB" internet -- wget -S -q -O - --header "Host: $1" "http://10.10.0.2:30080$2" 2>&1 |
		grep -E '^  HTTP/|^[a-z]' || true
}

@test "ingress: each host and path reaches the pods of its Service; an unknown host gets ingress-nginx's 404" {
	up_example
	check_with '.'
	assert_success
	local report=$output
	printf '%s\n' "$report" >"$BATS_TEST_TMPDIR/report.json"
	valid_json check "$BATS_TEST_TMPDIR/report.json"
	# Each rule's answers come from its Service's pods only, spread.
	run jq -r '.probes[] | select(.to == "ingress:shop.example.com/cart") | .answers | keys[]' <<<"$report"
	assert_line --regexp '^cart-'
	refute_line --regexp '^(web|fallback)-'
	[ "${#lines[@]}" = 2 ]
	run jq -r '.probes[] | select(.to == "ingress:shop.example.com/") | .answers | keys[]' <<<"$report"
	[ "${#lines[@]}" = 2 ]
	refute_line --regexp '^(cart|fallback)-'
	run jq -r '.probes[] | select(.to == "ingress:unknown.example.com/") | "\(.ok) \(.httpStatus)"' <<<"$report"
	assert_output 'true 404'
	# As curl-like clients see it.
	run get unknown.example.com /
	assert_line --partial 'HTTP/1.1 404 Not Found'
	run get shop.example.com /cart
	assert_line '  HTTP/1.1 200 OK'
	assert_line --regexp '^cart-'
	# An unknown host expected to answer is an error that says what nginx does.
	check_with '.expect |= map(if .to == "ingress:unknown.example.com/" then del(.status) else . end)'
	assert_failure 2
	# Said to answer 503, the 404 fails it.
	check_with '.expect |= map(if .to == "ingress:unknown.example.com/" then .status = 503 else . end)'
	assert_failure 1
	run jq -r '.probes[] | select(.ok | not) | "\(.to) \(.status) \(.httpStatus)"' <<<"$output"
	assert_output 'ingress:unknown.example.com/ 503 404'
	run "$TESTBED" check --expect "$BATS_TEST_TMPDIR/expect.json" "$LAB"
	assert_failure 1
	assert_line --partial 'internet -> ingress:unknown.example.com/ http:30080: expected fail (status 503), got fail (status 404)'
}

@test "ingress: Prefix is element-wise, Exact one path; unmatched paths go to the host's / or the Ingress's defaultBackend" {
	up_example
	run get shop.example.com /cartography
	assert_line --regexp '^web-'
	run get shop.example.com /cart/checkout
	assert_line --regexp '^cart-'
	run get shop.example.com /status
	assert_line --regexp '^web-'
	run get api.example.com /v1
	assert_line --regexp '^cart-'
	run get api.example.com /v1beta
	assert_line --regexp '^fallback-'
	run get api.example.com /other
	assert_line --regexp '^fallback-'
	# Said otherwise, each fails.
	check_with '.expect |= map(if .to == "ingress:shop.example.com/cartography" then .answeredBy = "shop/app=cart" else . end)'
	assert_failure 1
	check_with '.expect |= map(if .to == "ingress:api.example.com/v2" then .answeredBy = "shop/app=cart" else . end)'
	assert_failure 1
	check_with '.expect |= map(if .to == "ingress:shop.example.com/cart/checkout" then .answeredBy = "shop/app=web" else . end)'
	assert_failure 1
}

@test "ingress: the controller runs Debian's nginx with the nginx.conf generated from the objects" {
	run "$TESTBED" validate "$EXAMPLE/lab.json"
	assert_success
	assert_line --regexp '^ingress: pod ingress-nginx/ingress-nginx-controller \(nginx\), Service ingress-nginx/ingress-nginx-controller at 10\.96\.0\.[0-9]+:80, node port 30080; hosts: _ shop\.example\.com api\.example\.com$'
	up_example
	local conf=$BATS_TEST_TMPDIR/plan.conf
	"$TESTBED" plan --format json "$EXAMPLE/lab.json" |
		jq -r '.machines[] | select(.name == "ingress-nginx-controller") | .files[] | select(.path == "/etc/nginx/ingress-nginx.conf") | .content' >"$conf"
	run "$TESTBED" exec "$LAB" ingress-nginx-controller -- cat /etc/nginx/ingress-nginx.conf
	assert_success
	[ "$output" = "$(cat "$conf")" ]
	assert_line $'\t\tserver_name shop.example.com;'
	assert_line $'\t\tlocation = /cart {'
	assert_line $'\t\tlocation /cart/ {'
	assert_line $'\t\tlocation = /status {'
	# Each location proxies to its Service's cluster IP (service-upstream).
	local cart
	cart=$("$TESTBED" plan --format json "$EXAMPLE/lab.json" | jq -r '.services[] | select(.name == "cart") | .clusterIP')
	assert_line $'\t\t\tproxy_pass http://'"$cart"':9000;'
	run "$TESTBED" exec "$LAB" ingress-nginx-controller -- /usr/sbin/nginx -t -c /etc/nginx/ingress-nginx.conf
	assert_success
	# The access log records host, path, status and the upstream.
	get api.example.com /v1 >/dev/null
	run "$TESTBED" exec "$LAB" ingress-nginx-controller -- tail -n 1 /var/log/nginx/ingress-access.log
	assert_output --regexp '"GET /v1 HTTP/1.1" 200 .* \[shop-cart-9000\] \[\] [0-9.]+:9000 .* host=api\.example\.com$'
}

@test "ingress: trace from the internet shows the proxy's hop and the Service's DNAT behind it" {
	up_example
	run "$TESTBED" trace "$LAB" internet ingress:shop.example.com/cart/x
	assert_success
	assert_line --regexp '^    sent tcp 203\.0\.113\.2:[0-9]+ -> 10\.10\.0\.2:30080: answered by cart-'
	assert_line --regexp 'node1: dnat: destination 10\.10\.0\.2:30080 -> 10\.244\.0\.[0-9]+:80 \(conntrack\)'
	assert_line --regexp 'ingress-nginx-controller: proxy \(nginx\): server shop\.example\.com, location /cart/ -> upstream shop-cart-api \(10\.96\.0\.[0-9]+:9000\)'
	assert_line --regexp 'dnat: destination 10\.96\.0\.[0-9]+:9000 -> 10\.244\.[01]\.[0-9]+:9000 \(conntrack\)'
	# The DNAT behind the proxy leads to the pod that answered.
	local answered pod
	answered=$(grep -oE 'answered by cart-[a-z0-9-]+' <<<"$output" | cut -d' ' -f3)
	pod=$(grep -E ' is local: delivered$' <<<"$output" | tail -n 1 | sed -E 's/^ *[0-9]+\. ([^:]+):.*/\1/')
	[ "$answered" = "$pod" ]
	run "$TESTBED" trace --json "$LAB" internet ingress:nope.example.com/
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/trace.json"
	local trace=$output
	valid_json trace "$BATS_TEST_TMPDIR/trace.json"
	output=$trace
	run jq -r '.hops[] | select(.kind == "proxy") | "\(.location) \(.answer)"' <<<"$output"
	assert_output 'server _, location / answers 404 itself (the default backend: no rule matches)'
}

@test "ingress: a LoadBalancer controller is reached at its address; a Service without endpoints answers 503" {
	local dir=$BATS_TEST_TMPDIR/lb
	mkdir -p "$dir"
	cp -r "$EXAMPLE/k8s" "$dir/"
	cat >"$dir/k8s/30-idle.yaml" <<-'EOF'
		apiVersion: v1
		kind: Service
		metadata:
		  name: idle
		  namespace: shop
		spec:
		  selector:
		    app: nobody
		  ports:
		    - port: 80
		---
		apiVersion: networking.k8s.io/v1
		kind: Ingress
		metadata:
		  name: idle
		  namespace: shop
		spec:
		  ingressClassName: nginx
		  rules:
		    - host: idle.example.com
		      http:
		        paths:
		          - path: /
		            pathType: Prefix
		            backend:
		              service:
		                name: idle
		                port:
		                  number: 80
		          - path: "/odd;{x}"
		            pathType: ImplementationSpecific
		            backend:
		              service:
		                name: web
		                port:
		                  number: 80
	EOF
	jq --arg img "$REPO/images" '.name = "inglb" | .images = {"pod": ($img + "/pod.tar.zst"), "node": ($img + "/node.tar.zst")}
		| .cluster = {"ingress": {"service": "LoadBalancer", "loadBalancerIP": "192.0.2.80"}}
		| .expect = [{"from": "internet", "to": "ingress:shop.example.com/cart", "answeredBy": "shop/app=cart", "requests": 10},
			{"from": "internet", "to": "ingress:idle.example.com/", "status": 503},
			{"from": "internet", "to": "ingress:idle.example.com/odd;{x}/y", "answeredBy": "shop/app=web"},
			{"from": "internet", "to": "ip:192.0.2.80:80", "status": 404}]' \
		"$EXAMPLE/lab.json" >"$dir/lab.json"
	LAB=inglb
	"$TESTBED" up --quiet "$dir/lab.json"
	run "$TESTBED" check --format json "$LAB"
	assert_success
	run jq -r '.probes[] | "\(.to) \(.ok)"' <<<"$output"
	assert_line 'ingress:shop.example.com/cart true'
	assert_line 'ingress:idle.example.com/ true'
	assert_line 'ingress:idle.example.com/odd;{x}/y true'
	run "$TESTBED" exec "$LAB" internet -- wget -S -q -O - --header "Host: idle.example.com" http://192.0.2.80/
	assert_output --partial 'HTTP/1.1 503'
}

@test "ingress: TLS, ingress-nginx's own annotations and resource backends are refused by name; other classes are noted" {
	local dir=$BATS_TEST_TMPDIR/bad
	mkdir -p "$dir/k8s"
	cp "$EXAMPLE/k8s/00-namespace.yaml" "$EXAMPLE/k8s/10-apps.yaml" "$dir/k8s/"
	cat >"$dir/k8s/20-ingress.yaml" <<-'EOF'
		apiVersion: networking.k8s.io/v1
		kind: Ingress
		metadata:
		  name: secure
		  namespace: shop
		  annotations:
		    nginx.ingress.kubernetes.io/rewrite-target: /
		spec:
		  ingressClassName: nginx
		  tls:
		    - hosts: [shop.example.com]
		      secretName: shop-tls
		  defaultBackend:
		    resource:
		      apiGroup: k8s.example.com
		      kind: Bucket
		      name: assets
	EOF
	jq --arg img "$REPO/images" '.images = {"pod": ($img + "/pod.tar.zst"), "node": ($img + "/node.tar.zst")} | .expect = []' \
		"$EXAMPLE/lab.json" >"$dir/lab.json"
	run "$TESTBED" validate "$dir/lab.json"
	assert_failure 2
	assert_line --regexp 'k8s/20-ingress\.yaml:[0-9]+:[0-9]+: Ingress shop/secure: metadata\.annotations\.nginx\.ingress\.kubernetes\.io/rewrite-target: not implemented: '
	assert_line --regexp 'k8s/20-ingress\.yaml:[0-9]+:[0-9]+: Ingress shop/secure: spec\.tls: not implemented: TLS'
	assert_line --regexp 'k8s/20-ingress\.yaml:[0-9]+:[0-9]+: Ingress shop/secure: spec\.defaultBackend\.resource: not implemented: a resource backend'
	# An Ingress of another class is served by no controller of the lab:
	# noted, and no controller runs.
	cat >"$dir/k8s/20-ingress.yaml" <<-'EOF'
		apiVersion: networking.k8s.io/v1
		kind: Ingress
		metadata:
		  name: theirs
		  namespace: shop
		spec:
		  ingressClassName: traefik
		  defaultBackend:
		    service:
		      name: web
		      port:
		        number: 80
	EOF
	run "$TESTBED" validate "$dir/lab.json"
	assert_success
	assert_line --regexp 'Ingress shop/theirs: served by no controller of the lab: its class "traefik" is not declared$'
	run "$TESTBED" plan --format json "$dir/lab.json"
	assert_success
	[ "$(jq '[.machines[] | select(.name == "ingress-nginx-controller")] | length' <<<"$output")" = 0 ]
}
