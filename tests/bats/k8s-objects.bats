# Kubernetes objects as users write them: examples/shop comes up from its
# plain YAML directory and its check passes; the same objects from YAML,
# from JSON manifests and inline give the identical saved plan; a mistake
# in any manifest is refused with its file, line and column and the object,
# before anything is made; hostNetwork pods and host ports answer for their
# node; NetworkPolicies reach the saved plan and each node's rules.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	use_lab_dirs
}

setup() {
	use_lab_dirs
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	[ -z "${LAB:-}" ] || "$TESTBED" down "$LAB" >/dev/null 2>&1 || true
}

SHOP=$REPO/examples/shop

# The shop's topology beside a copy of its manifests as MANIFESTS (a path
# relative to the copy), with absolute image paths.
shop_copy() {
	local manifests=$1
	jq --arg repo "$REPO" --arg m "$manifests" '
		.images |= with_entries(.value = ($repo + "/images/" + (.value | split("/") | last)))
		| .manifests = [$m]' "$SHOP/lab.json" >lab.json
}

@test "examples/shop comes up from its unchanged YAML directory, and its check passes" {
	LAB=shop
	run "$TESTBED" up --quiet "$SHOP/lab.json"
	assert_success
	run "$TESTBED" status --json shop
	assert_success
	run jq -r '.labs[0].machines[] | select(.kind == "pod") | "\(.name) \(.node) \(.address)"' <<<"$output"
	assert_line --regexp '^frontend-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5} node[12] 10\.244\.'
	assert_line --regexp '^backend-0 node[12] '
	assert_line --regexp '^backend-1 node[12] '
	assert_line --regexp '^node-dns-[a-z0-9]{5} node1 '
	assert_line --regexp '^node-dns-[a-z0-9]{5} node2 '
	# On the host's network: its node's address.
	assert_line 'node-exporter node2 10.10.0.3'
	assert_equal "$(grep -c '^frontend-' <<<"$output")" 3
	run "$TESTBED" check shop
	assert_success
	assert_line --regexp '^[0-9]+ passed, 0 failed$'
	# A node's port served by a hostNetwork pod is answered by that pod.
	run "$TESTBED" check --verbose shop
	assert_line --regexp '^  \. frontend-[a-z0-9-]+ -> node2 http:9100: pass, [0-9.]+ ms, answered by node-exporter$'
	assert_line --regexp '^  \. frontend-[a-z0-9-]+ -> node-dns-[a-z0-9]{5} udp:53: pass'
	assert_line --regexp '^  \. frontend-[a-z0-9-]+ -> backend-[01] http:8080: pass'
	assert_line --regexp '^  x frontend-[a-z0-9-]+ -> backend-[01] tcp:5432: fail, [0-9.]+ ms: connection refused$'
}

@test "the same objects from YAML, from JSON manifests and inline give the identical saved plan" {
	cp -r "$SHOP/k8s" yaml
	shop_copy yaml/
	"$TESTBED" plan --format json lab.json >yaml.plan
	# JSON manifests: each YAML stream as a JSON kind: List, one per file.
	mkdir json
	for f in yaml/*.yaml; do
		python3 -c 'import json, sys, yaml; print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]}))' "$f" \
			>"json/$(basename "$f" .yaml).json"
	done
	shop_copy json/
	"$TESTBED" plan --format json lab.json >json.plan
	# Inline: every object in "objects", in the files' order.
	python3 -c 'import json, sys, yaml; print(json.dumps([d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]))' yaml/*.yaml >objects.json
	jq --slurpfile o objects.json 'del(.manifests) | .objects = $o[0]' lab.json >inline.json
	"$TESTBED" plan --format json inline.json >inline.plan
	# Expectations keep the line they were written on, which the copies move.
	for f in yaml json inline; do
		jq 'del(.expect[].line)' "$f.plan" >"$f.cmp"
	done
	run diff yaml.cmp json.cmp
	assert_success
	run diff yaml.cmp inline.cmp
	assert_success
	# Not vacuous: the plan holds the workloads' pods, namespaces and ports.
	run jq -r '[.machines[] | select(.kind == "pod") | "\(.namespace)/\(.name)"] | length' yaml.plan
	assert_output 8
	run jq -r '.machines[] | select(.name == "backend-0") | .ports | map("\(.name)=\(.port)") | join(",")' yaml.plan
	assert_output "api=8080,metrics=9090"
}

# Writes FILE under k8s/ with the text on standard input.
manifest() {
	mkdir -p k8s
	cat >"k8s/$1"
}

# The lab on the current folder's k8s/ (the shop's nodes and images).
bad_lab() {
	shop_copy k8s/
	LAB=
	run "$TESTBED" validate lab.json
	assert_failure 2
}

@test "a manifest's mistakes are refused with file:line:column and the object, and nothing is made" {
	cp "$SHOP/k8s/00-namespaces.yaml" "$(mkdir -p k8s && echo k8s)/"
	manifest 10-web.yaml <<-'EOF'
		apiVersion: apps/v1
		kind: Deployment
		metadata:
		  name: web
		  namespace: shop
		spec:
		  replica: 2
		  selector:
		    matchLabels: {app: web}
		  template:
		    metadata:
		      labels: {app: web}
		    spec:
		      containers:
		        - name: web
		          image: nginx
		          ports:
		            - containerPort: 80
		            - containerPort: 81
		              protocol: HTTP
		            - name: sig
		              containerPort: 3868
		              protocol: SCTP
		      affinity: {}
		---
		apiVersion: v1
		kind: ConfigMap
		metadata: {name: web}
	EOF
	manifest 20-again.json <<-'EOF'
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
		 "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
		  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
	EOF
	bad_lab
	assert_line 'k8s/10-web.yaml:7:12: Deployment shop/web: spec.replica: unknown key (did you mean "replicas"?)'
	assert_line 'k8s/10-web.yaml:20:25: Deployment shop/web: spec.template.spec.containers[0].ports[1].protocol: "HTTP" is not TCP, UDP or SCTP'
	assert_line "k8s/10-web.yaml:23:25: Deployment shop/web: spec.template.spec.containers[0].ports[2].protocol: port 3868/SCTP: this machine's kernel has no SCTP, so no server can listen on it"
	assert_line 'k8s/10-web.yaml:24:17: Deployment shop/web: spec.template.spec.affinity: not implemented: testbed places pods by nodeName and nodeSelector, not by affinity'
	assert_line --regexp '^k8s/10-web\.yaml:27:7: kind: kind "ConfigMap" is not one testbed builds \(it builds: .*\)$'
	assert_line 'k8s/20-again.json:1:1: Deployment shop/web: given twice: first at k8s/10-web.yaml:1:1, again here'
	# Nothing was made: up refuses the same, before the first namespace.
	LAB=shop
	run "$TESTBED" up lab.json
	assert_failure 2
	run "$TESTBED" status
	assert_output --partial "no labs are up"
	run ip netns list
	assert_output ""
}

@test "a YAML syntax error, a repeated key and an unknown tag are refused where they are" {
	manifest a.yaml <<-'EOF'
		apiVersion: v1
		kind: Namespace
		metadata:
		  name: shop
		  name: ops
	EOF
	manifest b.yaml <<-'EOF'
		apiVersion: v1
		kind: Pod
		metadata: {name: web
		spec: {}
	EOF
	manifest c.yml <<-'EOF'
		apiVersion: v1
		kind: !custom Pod
	EOF
	bad_lab
	assert_line 'k8s/a.yaml:5:3: metadata.name: duplicate key (first on line 4, column 3)'
	assert_line "k8s/b.yaml:4:5: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 3, column 11)"
	assert_line 'k8s/c.yml:2:7: kind: tag !custom is not supported: expected !!str, !!int, !!float, !!bool, !!null, !!seq or !!map'
}

@test "manifests: a path that does not exist, and a directory with none, are refused naming them" {
	mkdir empty
	shop_copy k8s/
	jq '.manifests = ["missing.yaml", "empty"]' lab.json >l.json
	run "$TESTBED" validate l.json
	assert_failure 2
	assert_line --regexp '^l\.json:[0-9]+: manifests\[0\]: "missing\.yaml": No such file or directory$'
	assert_line --regexp '^l\.json:[0-9]+: manifests\[1\]: "empty" holds no \*\.yaml, \*\.yml or \*\.json$'
}

@test "validate notes once per object the fields the pod server stands in for" {
	run "$TESTBED" validate "$SHOP/lab.json"
	assert_success
	assert_line --regexp '^note: .*examples/shop/k8s/20-backend\.yaml:1:1: StatefulSet shop/backend: the pod server stands in for spec\.volumeClaimTemplates, spec\.template\.spec\.containers\[0\]\.image, spec\.template\.spec\.containers\[0\]\.args, spec\.template\.spec\.containers\[0\]\.env \(they do not change the network\)$'
	assert_equal "$(grep -c '^note: .*20-backend' <<<"$output")" 1
}

@test "a hostPort reaches its pod through the node's addresses, TCP and UDP, and a pod reaches itself that way" {
	cat >lab.json <<-EOF
		{"name": "hostport", "images": {"pod": "$REPO/images/pod.tar.zst", "node": "$REPO/images/node.tar.zst"},
		 "nodes": [{"name": "node1"}, {"name": "node2", "pods": [{"name": "client"}]}],
		 "objects": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
		  "spec": {"nodeName": "node1", "containers": [{"name": "w", "image": "x", "ports": [
		   {"containerPort": 8000, "hostPort": 8081}, {"containerPort": 9000, "protocol": "UDP", "hostPort": 9001}]}]}}],
		 "expect": [
		  {"from": "client", "to": "node1", "proto": "http", "port": 8081},
		  {"from": "client", "to": "node1", "proto": "udp", "port": 9001},
		  {"from": "web", "to": "node1", "proto": "http", "port": 8081},
		  {"from": "client", "to": "node1", "proto": "tcp", "port": 8082, "result": "fail"}]}
	EOF
	LAB=hostport
	"$TESTBED" up --quiet lab.json
	run "$TESTBED" check --verbose hostport
	assert_success
	assert_line --regexp '^  \. client -> node1 http:8081: pass, [0-9.]+ ms, answered by web$'
	assert_line --regexp '^  \. client -> node1 udp:9001: pass'
	assert_line --regexp '^  \. web -> node1 http:8081: pass, [0-9.]+ ms, answered by web$'
	run "$TESTBED" exec hostport node1 -- nft list table ip testbed-hostports
	assert_output --partial 'tcp dport 8081 dnat to 10.244.0.2:8000'
}

@test "NetworkPolicies as kubectl prints them reach the saved plan and the nodes' rules" {
	shop_copy policies.yaml
	# As kubectl get -o yaml prints one: status and metadata the API server fills in.
	cat >policies.yaml <<-'YAML'
	apiVersion: networking.k8s.io/v1
	kind: NetworkPolicy
	metadata:
	  name: backend
	  namespace: shop
	  resourceVersion: "812"
	  uid: 6f1c2a5e-0d1b-4a57-9b7e-3c1d2e4f5a6b
	  generation: 1
	  annotations:
	    kubectl.kubernetes.io/last-applied-configuration: "{}"
	spec:
	  podSelector:
	    matchLabels: {app: backend}
	  ingress:
	  - from:
	    - podSelector: {matchLabels: {app: frontend}}
	      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
	    ports:
	    - {protocol: TCP, port: http}
	  egress:
	  - to: [{ipBlock: {cidr: 10.96.0.0/16}}]
	status: {}
	YAML
	# The shop's own manifests too: the policy needs its namespace.
	jq --arg k8s "$SHOP/k8s" '.manifests = [$k8s, "policies.yaml"]' lab.json >tmp.json && mv tmp.json lab.json
	run "$TESTBED" validate lab.json
	assert_success
	refute_output --partial 'not enforced'
	assert_line --regexp '^note: .*policies\.yaml:1:1: NetworkPolicy shop/backend: not used: status, metadata\.resourceVersion, metadata\.uid, metadata\.generation, metadata\.annotations \(they do not change the network\)$'
	run "$TESTBED" plan --format json lab.json
	assert_success
	run jq -c '[.policies[] | {namespace, name, policyTypes, port: .ingress[0].ports[0].port, cidr: .egress[0].to[0].ipBlock.cidr}],
		[.namespaces[] | select(.name == "shop") | .labels["kubernetes.io/metadata.name"]]' <<<"$output"
	assert_line '[{"namespace":"shop","name":"backend","policyTypes":["Ingress","Egress"],"port":"http","cidr":"10.96.0.0/16"}]'
	assert_line '["shop"]'
	LAB=shop
	run --separate-stderr "$TESTBED" up --quiet lab.json
	assert_success
	[[ "$stderr" != *"not enforced"* ]]
	run "$TESTBED" plan --format json shop
	assert_success
	assert_equal "$(jq -r '.policies[0].name' <<<"$output")" backend
	# Enforced: the backend pods' node judges their ingress by the policy.
	run "$TESTBED" exec shop node1 -- nft list table ip testbed-netpol
	assert_success
	assert_output --partial 'chain forward {'
	run "$TESTBED" plan shop
	assert_output --partial 'ip daddr 10.96.0.0/16 return comment "shop/backend egress[0]"'
	# The backend's containers name no port http: that rule lets nothing in.
	assert_output --partial 'chain ingress-shop/backend-0 {'
	refute_output --partial 'shop/backend ingress[0]'
}
