# testbed apply / delete (cli/cmd_apply.c) on the running netpol lab
# (tests/labs/netpol): objects change as kubectl apply -f and delete -f
# change them, the lab's rules follow at once, nothing restarts, and the
# saved plan is the one a topology declaring the resulting objects gives.
bats_require_minimum_version 1.5.0
load helpers

LAB=netpol
FILE=$REPO/tests/labs/netpol/lab.json

lab_suite "$FILE"

# verdict FROM TO PORT: what the lab's policies and a probe say (check
# --explain: "allowed" or "denied"); fails when the two disagree.
verdict() {
	run "$TESTBED" check --explain "$LAB" "$1" "$2" "$3"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	sed -n 's/^policies: //p' <<<"$output"
}

# pids: every machine's PID, as status records them.
pids() {
	"$TESTBED" status --json "$LAB" | jq -c '[.. | objects | select(has("pid")) | .pid]'
}

# the policy of this suite: x/a lets in y's pod b too.
write_allow() {
	cat >"$BATS_FILE_TMPDIR/allow.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-y-b
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              team: "y"
          podSelector:
            matchLabels:
              pod: b
YAML
}

@test "up keeps the lab's objects, each with where it was written, for apply" {
	run jq -r '.where[]' "$TESTBED_STATE_DIR/$LAB/objects.json"
	assert_line "$REPO/tests/labs/netpol/k8s/30-policies.yaml:2"
	run jq -r '[.source.objects[] | select(.kind == "NetworkPolicy")] | length' "$TESTBED_STATE_DIR/$LAB/objects.json"
	assert_output 5
	run jq -r '.source | has("manifests")' "$TESTBED_STATE_DIR/$LAB/objects.json"
	assert_output false
}

@test "apply of a new policy: check sees the new verdict right away, no machine restarted" {
	write_allow
	run verdict y/b x/a 80
	assert_success
	assert_output denied
	before=$(pids)
	[ "$before" != "[]" ]
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/allow.yaml"
	assert_success
	assert_output --partial "no machine restarted"
	run verdict y/b x/a 80
	assert_success
	assert_output allowed
	# Only pod b of y: y/a's verdict on port 81 is unchanged.
	run verdict y/a x/a 81
	assert_output denied
	assert_equal "$(pids)" "$before"
}

@test "after apply, check NAME and check FILE (a topology declaring the same objects) agree" {
	dir=$BATS_TEST_TMPDIR
	jq --arg k8s "$REPO/tests/labs/netpol/k8s/" --arg allow "$BATS_FILE_TMPDIR/allow.yaml" \
		--arg pod "$REPO/images/pod.tar.zst" --arg node "$REPO/images/node.tar.zst" \
		'.manifests = [$k8s, $allow] | .images = {pod: $pod, node: $node}' "$FILE" >"$dir/after.json"
	run "$TESTBED" check --format json "$LAB"
	printf '%s\n' "$output" >"$dir/by-name.json"
	run "$TESTBED" check --format json "$dir/after.json"
	printf '%s\n' "$output" >"$dir/by-file.json"
	refute_output --partial "different lab"
	run jq -c '[.probes[] | [.from, .to, .port, .ok]] | sort' "$dir/by-name.json"
	by_name=$output
	run jq -c '[.probes[] | [.from, .to, .port, .ok]] | sort' "$dir/by-file.json"
	assert_equal "$output" "$by_name"
	run jq '[.probes[] | select(.ok | not)] | length' "$dir/by-name.json"
	assert_output 0
	# The apply shows: y/b reaches x/a in the model's cells.
	run jq -r '[.probes[] | select(.from == "y/b" and .to == "x/a" and .ok) ] | length > 0' "$dir/by-name.json"
	assert_output true
}

@test "delete of the policy: the verdict is back; deleting it again is NotFound and changes nothing" {
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/allow.yaml"
	assert_success
	run verdict y/b x/a 80
	assert_output denied
	plan=$(sha256sum "$TESTBED_STATE_DIR/$LAB/plan.json")
	run "$TESTBED" delete "$LAB" "$BATS_FILE_TMPDIR/allow.yaml"
	assert_failure 2
	assert_output --partial "allow.yaml:1:1:"
	assert_output --partial "NotFound: NetworkPolicy x/allow-y-b"
	assert_equal "$(sha256sum "$TESTBED_STATE_DIR/$LAB/plan.json")" "$plan"
}

@test "a namespace's new labels flip a namespaceSelector; its old labels flip it back" {
	cat >"$BATS_TEST_TMPDIR/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: "y"
  labels:
    team: q
YAML
	run verdict y/a x/a 80
	assert_output allowed
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/ns.yaml"
	assert_success
	run verdict y/a x/a 80
	assert_output denied
	run "$TESTBED" apply "$LAB" "$REPO/tests/labs/netpol/k8s/00-namespaces.yaml"
	assert_success
	run verdict y/a x/a 80
	assert_output allowed
}

@test "a Pod's new labels (spec left out) flip a podSelector, the pod keeps running; a changed spec is refused" {
	before=$(pids)
	cat >"$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: b
  namespace: "y"
  labels:
    pod: a
YAML
	run verdict y/b x/a 80
	assert_output denied
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/pod.yaml"
	assert_success
	run verdict y/b x/a 80
	assert_output allowed
	run jq -c '.machines[] | select(.name == "y/b") | .labels' "$TESTBED_STATE_DIR/$LAB/plan.json"
	assert_output '{"pod":"a"}'
	assert_equal "$(pids)" "$before"
	# The same pod with a spec of its own: refused, naming the spec.
	cat >"$BATS_TEST_TMPDIR/spec.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: b
  namespace: "y"
  labels:
    pod: b
spec:
  containers:
    - name: server
      image: nginx
YAML
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/spec.yaml"
	assert_failure 2
	assert_output --partial "spec.yaml:9:3: [0].spec: Pod y/b:"
	assert_output --partial "a pod's spec cannot change in a running lab"
	run verdict y/b x/a 80
	assert_output allowed
	# Back as it was.
	sed -i 's/pod: a/pod: b/' "$BATS_TEST_TMPDIR/pod.yaml"
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/pod.yaml"
	assert_success
	run verdict y/b x/a 80
	assert_output denied
}

@test "a bad file changes nothing and says why, even beside a good one" {
	write_allow
	plan=$(sha256sum "$TESTBED_STATE_DIR/$LAB/plan.json")
	cat >"$BATS_TEST_TMPDIR/bad.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
  namespace: x
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33
YAML
	run "$TESTBED" apply "$LAB" "$BATS_FILE_TMPDIR/allow.yaml" "$BATS_TEST_TMPDIR/bad.yaml"
	assert_failure 2
	assert_output --partial "bad.yaml:11:19: NetworkPolicy x/bad: spec.ingress[0].from[0].ipBlock.cidr: \"10.0.0.0/33\" is not a valid CIDR"
	run verdict y/b x/a 80
	assert_output denied
	assert_equal "$(sha256sum "$TESTBED_STATE_DIR/$LAB/plan.json")" "$plan"
	# A new pod is refused the same way, by name.
	cat >"$BATS_TEST_TMPDIR/newpod.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: extra
  namespace: x
spec:
  replicas: 1
  selector:
    matchLabels: {app: extra}
  template:
    metadata:
      labels: {app: extra}
    spec:
      nodeName: node1
      containers:
        - name: server
          image: nginx
          ports: [{containerPort: 80}]
YAML
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/newpod.yaml"
	assert_failure 2
	assert_output --partial "apply cannot add pod extra-"
	assert_output --partial "bring the lab down and up"
	assert_equal "$(sha256sum "$TESTBED_STATE_DIR/$LAB/plan.json")" "$plan"
	# A kind apply does not change in a running lab.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' >"$BATS_TEST_TMPDIR/cm.yaml"
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/cm.yaml"
	assert_failure 2
	assert_output --partial "ConfigMap: not implemented for a running lab"
}

@test "apply of 20 policies returns quickly" {
	for i in $(seq 1 20); do
		printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p%d, namespace: "y"}\nspec:\n  podSelector: {matchLabels: {pod: b}}\n  ingress: [{from: [{podSelector: {}}], ports: [{port: %d}]}]\n' "$i" "$((8000 + i))"
	done >"$BATS_TEST_TMPDIR/many.yaml"
	start=$(date +%s%N)
	run "$TESTBED" apply "$LAB" "$BATS_TEST_TMPDIR/many.yaml"
	end=$(date +%s%N)
	assert_success
	echo "# apply of 20 policies: $(((end - start) / 1000000)) ms" >&3
	run "$TESTBED" delete "$LAB" "$BATS_TEST_TMPDIR/many.yaml"
	assert_success
	run verdict y/b x/a 80
	assert_output denied
}
