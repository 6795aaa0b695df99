# examples/netpol, one lab each from its unchanged YAML folder: three-tier
# (default-deny in two namespaces, DNS egress), and-or (a peer's selectors
# ANDed in one element, ORed in two), ipblock (cidr with except, to and
# from the lab's outside) and ports (named ports, endPort). For each:
# check with no expectations derives every pod-to-pod cell from the
# evaluator and the kernel agrees in each; the example's expect.json pins
# the cells it teaches independently of the evaluator, denials included
# (dropped: timeout, not refused); each example's changes/ steps, applied
# and deleted on the running lab, change the truth table as their own
# hand-written cells say and as the evaluator derives; and trace names the
# NetworkPolicy rule that let a connection through or the drop that stopped it.
bats_require_minimum_version 1.5.0
load helpers

EXAMPLES=$REPO/examples/netpol

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

# up_example NAME: brings examples/netpol/NAME up as it is; sets LAB.
up_example() {
	LAB=$(jq -r .name "$EXAMPLES/$1/lab.json")
	"$TESTBED" up --quiet "$EXAMPLES/$1/lab.json"
}

# conformance NAME [any]: check with no expectations on the running lab:
# every derived cell holds, some expected to pass and some to be denied
# (with "any", after a change that may leave no denial, only that they hold).
conformance() {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/$1.cells.json" "$LAB"
	jq -r '.probes[] | select(.ok | not) | "broken: \(.from) -> \(.to) \(.port) expected \(.expected) got \(.got)"' \
		"$BATS_TEST_TMPDIR/$1.cells.json"
	assert_success
	[ "${2:-}" != any ] || return 0
	run jq -r '[.probes[] | select(.expected == "fail")] | length > 0' "$BATS_TEST_TMPDIR/$1.cells.json"
	assert_output true
	run jq -r '[.probes[] | select(.expected == "pass")] | length > 0' "$BATS_TEST_TMPDIR/$1.cells.json"
	assert_output true
}

# pinned NAME [FILE]: FILE (default the example's expect.json) holds,
# every probe of it, and its denials timed out.
pinned() {
	local file=${2:-$EXAMPLES/$1/expect.json} out=$BATS_TEST_TMPDIR/$1.pinned.json
	run "$TESTBED" check --format json --expect "$file" "$LAB"
	printf '%s\n' "$output" >"$out"
	jq -r '.probes[] | "\(.from) -> \(.to) \(.port): \(if .ok then "held" else "broken" end) got \(.got) \(.failed // "")"' "$out"
	assert_success
	run jq -r '[.probes[] | select(.ok | not)] | length' "$out"
	assert_output 0
	if jq -e 'any(.[]; .failure)' "$file" >/dev/null; then
		run jq -r '[.probes[] | .failed // empty] | unique | join(",")' "$out"
		assert_output timeout
	fi
	# As many probes as expectations (a selector may stand for more pods).
	run jq -r '.probes | length' "$out"
	[ "$output" -ge "$(jq length "$file")" ]
}

# opposite NAME [FILE]: FILE with every verdict turned fails in every probe.
opposite() {
	local file=${2:-$EXAMPLES/$1/expect.json}
	jq 'map(if .failure then del(.failure) else . + {"failure": "timeout"} end
	        | del(.requests, .answeredBy))' "$file" >"$BATS_TEST_TMPDIR/$1.opposite.json"
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/$1.opposite.json" "$LAB"
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$1.opposite.out.json"
	run jq -r '[.probes[] | select(.ok) | "\(.from) -> \(.to) \(.port)"] | join("; ")' \
		"$BATS_TEST_TMPDIR/$1.opposite.out.json"
	assert_output ''
}

# changes NAME: walks examples/netpol/NAME/changes/ in order on the running
# lab: each NN-apply-*.yaml or NN-delete-*.yaml goes through testbed apply
# or delete, with no pod restarted; then every derived cell holds again
# (the evaluator's new truth table, in the kernel) and the step's own
# NN-*.json, written by hand, holds and its opposite fails. At the end the
# example's own files are applied again and its expect.json holds as at first.
changes() {
	local pids step verb
	pids=$("$TESTBED" status --json "$LAB" | jq -c '[.. | objects | select(has("pid")) | .pid]')
	for step in "$EXAMPLES/$1"/changes/*.yaml; do
		verb=$(basename "$step" | sed -n 's/^[0-9]*-\(apply\|delete\)-.*/\1/p')
		[ -n "$verb" ] || fail "$step: expected NN-apply-*.yaml or NN-delete-*.yaml"
		echo "# $verb $(basename "$step")"
		run "$TESTBED" "$verb" "$LAB" "$step"
		assert_success
		conformance "$1" any
		if [ -e "${step%.yaml}.json" ]; then
			pinned "$1" "${step%.yaml}.json"
			opposite "$1" "${step%.yaml}.json"
		fi
	done
	run "$TESTBED" apply "$LAB" "$EXAMPLES/$1"/k8s/*.yaml
	assert_success
	conformance "$1"
	pinned "$1"
	run "$TESTBED" status --json "$LAB"
	assert_equal "$(jq -c '[.. | objects | select(has("pid")) | .pid]' <<<"$output")" "$pids"
}

@test "three-tier: from its YAML, every derived cell holds; frontend reaches backend by name, not db; backend reaches db; db reaches nothing" {
	up_example three-tier
	conformance three-tier
	pinned three-tier
	opposite three-tier
	changes three-tier
	# The default-deny egress lets DNS out: the name resolves from the
	# frontend, and not from the db, which no policy lets reach kube-dns.
	backend=$("$TESTBED" plan --format json "$LAB" | jq -r '.services[] | select(.namespace == "app" and .name == "backend") | .clusterIP')
	printf '%s\n' '[{"from": "web/tier=frontend", "to": "backend.app", "proto": "dns", "addresses": ["'"$backend"'"]},
	  {"from": "app/db-0", "to": "backend.app", "proto": "dns", "failure": "timeout"}]' >"$BATS_TEST_TMPDIR/dns.json"
	run "$TESTBED" check --format json --expect "$BATS_TEST_TMPDIR/dns.json" "$LAB"
	assert_success
}

@test "and-or: a pod matching only the namespace selector is denied under AND and let in under OR; a bare podSelector selects in the policy's namespace only" {
	up_example and-or
	conformance and-or
	pinned and-or
	opposite and-or
	changes and-or
}

@test "ipblock: the block but its except, out of the cluster and into a pod; pods outside the block are denied" {
	up_example ipblock
	conformance ipblock
	pinned ipblock
	opposite ipblock
	changes ipblock
}

@test "ports: a named port is each destination pod's own; endPort allows through its last port and not past it" {
	up_example ports
	conformance ports
	pinned ports
	opposite ports
	changes ports
}

# address NAMESPACE NAME: the pod's address in the running lab's plan.
address() {
	"$TESTBED" plan --format json "$LAB" | jq -r --arg ns "$1" --arg n "$2" \
		'.machines[] | select(.namespace == $ns and (.name == $n or .name == "\($ns)/\($n)")) | .address'
}

@test "trace names the NetworkPolicy rule that let a connection through, and ends a denied one at the pod chain's counted drop" {
	up_example and-or
	# Let in under OR by its namespace alone: the or policy's first rule.
	run "$TESTBED" trace "$LAB" team-a/batch "ip:$(address api or):80"
	assert_success
	assert_output --partial 'answered by or'
	assert_line --regexp '^ *[0-9]+\. node2: let through by NetworkPolicy \(ip testbed-netpol\)$'
	assert_line --regexp '^ +ip testbed-netpol chain ingress-api/or: ip saddr .* return comment "api/or ingress\[0\]" \(handle [0-9]+\)$'
	assert_line --regexp '^ +ip testbed-netpol chain forward: ip daddr vmap \{ .*: jump ingress-api/or.* \(handle [0-9]+\)$'
	refute_output --partial 'dropped'
	# Denied under AND: the drop at the end of and's chain, on its node.
	run "$TESTBED" trace "$LAB" team-a/batch "ip:$(address api and):80"
	assert_success
	assert_output --partial 'timeout'
	assert_line --regexp '^ *[0-9]+\. node1: dropped by NetworkPolicy \(a rule of ip testbed-netpol\)$'
	assert_line --regexp '^ +ip testbed-netpol chain ingress-api/and: counter packets [0-9]+ bytes [0-9]+ drop comment "isolated for ingress by api/and" \(handle [0-9]+\)$'
	refute_output --partial 'delivered'
	refute_output --partial 'let through'
	# The same in JSON, as trace.schema.json has it: a policy hop with its
	# rules, and a drop hop ending the trace.
	"$TESTBED" trace --json "$LAB" team-a/batch "ip:$(address api or):80" >"$BATS_TEST_TMPDIR/let.json"
	"$TESTBED" trace --json "$LAB" team-a/batch "ip:$(address api and):80" >"$BATS_TEST_TMPDIR/drop.json"
	run python3 "$REPO/tests/validate-json.py" trace "$BATS_TEST_TMPDIR/let.json" "$BATS_TEST_TMPDIR/drop.json"
	assert_success
	run jq -r '.hops[] | select(.kind == "policy") | "\(.machine) \(.rules[-1].chain) \(.rules[-1].rule)"' "$BATS_TEST_TMPDIR/let.json"
	assert_output --regexp '^node2 ingress-api/or ip saddr .* return comment "api/or ingress\[0\]"$'
	run jq -r '.hops[-1] | "\(.kind) \(.machine) \(.rules[-1].chain) \(.rules[-1].rule)"' "$BATS_TEST_TMPDIR/drop.json"
	assert_output --regexp '^drop node1 ingress-api/and counter packets [0-9]+ bytes [0-9]+ drop comment "isolated for ingress by api/and"$'
}

@test "trace through a Service under default-deny: the frontend's egress and the backend's ingress rules; to the db, frontend's egress drop" {
	up_example three-tier
	front=$("$TESTBED" plan --format json "$LAB" | jq -r '[.machines[] | select(.namespace == "web") | .name][0]')
	run "$TESTBED" trace --json "$LAB" "$front" service:app/backend:80
	assert_success
	run jq -r '[.hops[] | select(.kind == "policy") | .rules[] | select(.chain != "forward") | .rule | capture("comment \"(?<c>[^\"]*)\"").c] | join(", ")' <<<"$output"
	assert_output --regexp 'web/frontend egress\[0\]'
	assert_output --regexp 'app/backend ingress\[0\]'
	run "$TESTBED" trace "$LAB" "$front" service:app/db:5432
	assert_success
	assert_output --partial 'dropped by NetworkPolicy'
	assert_line --regexp '^ +ip testbed-netpol chain egress-web/frontend-[a-z0-9-]+: counter packets [0-9]+ bytes [0-9]+ drop comment "isolated for egress by .*web/frontend.*"'
}
