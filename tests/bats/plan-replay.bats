# testbed plan proven by replay: for every example topology, in every
# routing mode, the shell script `plan` prints, run by hand in a scratch
# namespace, builds the very kernel state `up` builds: links, their kinds,
# masters and peers, addresses, routes of every table, static neighbour and
# FDB entries, sysctls and nft rule sets, per namespace (tests/netstate.py
# compares them; only MAC addresses and ifindexes may differ).
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	use_lab_dirs
}

setup() {
	use_lab_dirs
}

teardown() {
	"$TESTBED" down "$LAB" >/dev/null 2>&1 || true
}

# FILE as it would be in routing MODE ("" keeps it) and with neighbours
# NEIGH ("" keeps it), with absolute image and manifest paths.
variant() {
	local file=$1 mode=$2 neigh=${3:-} out=$BATS_TEST_TMPDIR/lab.json
	jq --arg mode "$mode" --arg neigh "$neigh" --arg repo "$REPO" --arg dir "$(cd "$(dirname "$file")" && pwd)" '
		.images |= with_entries(.value = ($repo + "/images/" + (.value | split("/") | last)))
		| if .manifests then .manifests |= map($dir + "/" + .) else . end
		| if $mode != "" then .cluster.routing = $mode else . end
		| if $neigh != "" then .neighbours = $neigh else . end' "$file" >"$out"
	echo "$out"
}

# Runs "$@" in a private mount namespace whose /run/netns is a fresh tmpfs,
# so that the named namespaces it makes are gone with it.
with_private_netns_dir() {
	local made=0
	[ -d /run/netns ] || { mkdir -p /run/netns; made=1; }
	unshare --mount --propagation private -- sh -c 'mount -t tmpfs tmpfs /run/netns && "$@"' sh "$@"
	local rc=$?
	[ "$made" = 0 ] || rmdir /run/netns 2>/dev/null || true
	return "$rc"
}

# The names the script SCRIPT gives the machines' namespaces, in the
# plan's order (a pod's NAMESPACE/NAME is its NAME where that is unique).
script_names() {
	awk '$1 == "ip" && $2 == "netns" && $3 == "add" { print $4 }' "$1"
}

# The state of the running lab LAB: each machine's network namespace
# attached under the name the script SCRIPT gives it, then dumped.
dump_up() {
	local names
	names=$(paste -d' ' <(script_names "$1") <("$TESTBED" status --json "$LAB" | jq -r '.labs[0].machines[] | select(.kind != "pool") | .pid'))
	with_private_netns_dir bash -c '
		while read -r name pid; do ip netns attach "$name" "$pid" || exit 1; done <<<"$1"
		exec '"$REPO"'/tests/netstate.py dump $(cut -d" " -f1 <<<"$1")' bash "$names"
}

# The state the plan's script builds, in a scratch network namespace of its
# own (which plays the host, as the lab namespace does for up). With
# STRACE_LOG set, the script runs under strace, which logs every exec there.
dump_replay() {
	local script=$1 names=$2 run_script=sh
	[ -z "${STRACE_LOG:-}" ] || run_script="strace -f -qq -e trace=execve -o $STRACE_LOG sh"
	cat >"$BATS_TEST_TMPDIR/replay-in-sandbox.sh" <<-EOF
	ip link set lo up
	$run_script "$script" >&2
	exec "$REPO/tests/netstate.py" dump $names
	EOF
	unshare --net -- bash -c '
		made=0; [ -d /run/netns ] || { mkdir -p /run/netns; made=1; }
		unshare --mount --propagation private -- sh -c "mount -t tmpfs tmpfs /run/netns && sh \"\$1\"" sh "$1"
		rc=$?
		[ "$made" = 0 ] || rmdir /run/netns 2>/dev/null
		exit $rc' bash "$BATS_TEST_TMPDIR/replay-in-sandbox.sh"
}

replay() {
	local file=$1 mode=${2:-} neigh=${3:-}
	local lab
	lab=$(variant "$file" "$mode" "$neigh")
	LAB=$(jq -r .name "$lab")
	"$TESTBED" plan "$lab" >"$BATS_TEST_TMPDIR/plan.sh"
	"$TESTBED" up --quiet "$lab"
	dump_up "$BATS_TEST_TMPDIR/plan.sh" >"$BATS_TEST_TMPDIR/up.json"
	local names
	names=$(script_names "$BATS_TEST_TMPDIR/plan.sh" | tr '\n' ' ')
	[ "$(wc -w <<<"$names")" = "$("$TESTBED" status --json "$LAB" | jq '[.labs[0].machines[] | select(.kind != "pool")] | length')" ]
	"$TESTBED" down "$LAB" >/dev/null
	# The running lab's saved plan renders the same script as its file.
	dump_replay "$BATS_TEST_TMPDIR/plan.sh" "$names" >"$BATS_TEST_TMPDIR/replay.json"
	run "$REPO/tests/netstate.py" compare "$BATS_TEST_TMPDIR/up.json" "$BATS_TEST_TMPDIR/replay.json"
	assert_success
	# Not vacuous: the dumps hold every machine, with links and routes.
	run jq -r '.namespaces | length' "$BATS_TEST_TMPDIR/up.json"
	assert_output "$(wc -w <<<"$names")"
	run jq -r '[.namespaces[].links | length] | add' "$BATS_TEST_TMPDIR/up.json"
	[ "$output" -gt "$(wc -w <<<"$names")" ]
}

@test "replay: veth-pair (section 1.2)" {
	replay "$REPO/topologies/veth-pair.json"
}

@test "replay: bridge (section 1.3)" {
	replay "$REPO/topologies/bridge.json"
}

@test "replay: kubenet-one-node in every routing mode" {
	for mode in gateway host-gw vxlan; do
		replay "$REPO/topologies/kubenet-one-node.json" "$mode"
	done
}

@test "replay: kubenet-two-nodes in every routing mode" {
	for mode in gateway host-gw vxlan; do
		replay "$REPO/topologies/kubenet-two-nodes.json" "$mode"
	done
}

@test "replay: the host-gw and vxlan examples in every routing mode" {
	for file in kubenet-host-gw kubenet-vxlan; do
		for mode in gateway host-gw vxlan; do
			replay "$REPO/topologies/$file.json" "$mode"
		done
	done
}

@test "replay: Services (kube-proxy's tables, the egress tables, the gateway's equal-cost routes) in every routing mode" {
	replay "$REPO/examples/services/nodeport/lab.json"
	for mode in vxlan host-gw gateway; do
		replay "$REPO/examples/services/loadbalancer/lab.json" "$mode"
	done
	# Not vacuous: the dumps hold kube-proxy's table, and the gateway's route
	# to the load balancer's address over both nodes.
	run jq -r '.namespaces.node1.nft' "$BATS_TEST_TMPDIR/up.json"
	assert_output --partial 'table ip kube-proxy'
	assert_output --partial 'service-nodeports'
	run jq -r '.namespaces.gateway.routes[]' "$BATS_TEST_TMPDIR/up.json"
	assert_line --regexp '^table main unicast 192\.0\.2\.10 .*nexthop dev eth0 gateway 10\.10\.0\.2 .*nexthop dev eth0 gateway 10\.10\.0\.3 '
	# Cluster DNS: its pod (its files are comments in the script) and its
	# Service's rules.
	replay "$REPO/examples/dns/statefulset/lab.json"
	run jq -r '.namespaces.node1.nft' "$BATS_TEST_TMPDIR/up.json"
	assert_output --partial '10.96.0.10 . udp . 53'
}

@test "replay: NetworkPolicies (each node's testbed-netpol table) in every routing mode" {
	for mode in vxlan host-gw gateway; do
		replay "$REPO/tests/labs/netpol/lab.json" "$mode"
	done
	# Not vacuous: node2's dump holds its pods' chains.
	run jq -r '.namespaces.node2.nft' "$BATS_TEST_TMPDIR/up.json"
	assert_output --partial 'table ip testbed-netpol'
	assert_output --partial 'chain egress-z/a'
	assert_output --partial 'chain ingress-x/b/masqueraded'
}

@test "replay: a lab with Services, its nodes' rule sets loaded side by side, in every routing mode" {
	# 4 nodes, 4 Deployments of 2 replicas, 40 Services: up loads the
	# nodes' kube-proxy and egress tables on several threads at once
	# (orchestrator/steps/apart.c); the script loads them one after another.
	jq -n --arg repo "$REPO" '{
		name: "apart",
		images: {pod: "\($repo)/images/pod.tar.zst", node: "\($repo)/images/node.tar.zst"},
		nodes: [range(1; 5) as $n | {name: "node\($n)"}],
		objects: ([range(1; 5) as $d | {apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "app\($d)"},
			spec: {replicas: 2, selector: {matchLabels: {app: "app\($d)"}},
				template: {metadata: {labels: {app: "app\($d)"}},
					spec: {containers: [{name: "web", ports: [{name: "http", containerPort: 8000}]}]}}}}]
			+ [range(1; 41) as $k | {apiVersion: "v1", kind: "Service", metadata: {name: "svc\($k)"},
				spec: {selector: {app: "app\($k % 4 + 1)"}, ports: [{port: 80, targetPort: "http"}]}}])
	}' >"$BATS_TEST_TMPDIR/services.json"
	for mode in gateway host-gw vxlan; do
		replay "$BATS_TEST_TMPDIR/services.json" "$mode"
	done
	# Not vacuous: the dump holds every node's kube-proxy table, each its own.
	for n in 1 2 3 4; do
		run jq -r --arg n "node$n" '.namespaces[$n].nft' "$BATS_TEST_TMPDIR/up.json"
		assert_output --partial 'table ip kube-proxy'
		assert_output --partial "10.10.0.$((n + 1))"
	done
}

@test "replay with static neighbours: fixed MACs and permanent entries, every example and routing mode" {
	replay "$REPO/topologies/veth-pair.json" "" static
	replay "$REPO/topologies/bridge.json" "" static
	for mode in gateway host-gw vxlan; do
		replay "$REPO/topologies/kubenet-two-nodes.json" "$mode" static
	done
	# Not vacuous: the dump holds the plan's MACs and permanent entries.
	run jq -r '.namespaces["pod-a"].neighbours[]' "$BATS_TEST_TMPDIR/up.json"
	assert_line --regexp '^eth0 10\.0\.1\.1 lladdr 0a:74:0a:00:01:01'
	run jq -r '.namespaces.node1.links.cbr0.address' "$BATS_TEST_TMPDIR/up.json"
	assert_output 0a:74:0a:00:01:01
}

@test "the saved plan of a running lab renders the same script as its file" {
	lab=$(variant "$REPO/topologies/kubenet-vxlan.json" "")
	LAB=vxlan
	"$TESTBED" up --quiet "$lab"
	diff <("$TESTBED" plan "$lab") <("$TESTBED" plan "$LAB")
	run "$TESTBED" plan "$LAB" --format json
	assert_success
	run jq -r '.format, .lab, .routing, (.images | map(.sha256 | length) | unique | .[0]), (.timings.total > 0)' <<<"$output"
	assert_output $'1\nvxlan\nvxlan\n64\ntrue'
}

@test "a replay that differs is caught: the comparison is not vacuous" {
	lab=$(variant "$REPO/topologies/kubenet-two-nodes.json" "")
	LAB=kubenet-two
	"$TESTBED" plan "$lab" | grep -v 'hairpin on' >"$BATS_TEST_TMPDIR/plan.sh"
	"$TESTBED" up --quiet "$lab"
	dump_up "$BATS_TEST_TMPDIR/plan.sh" >"$BATS_TEST_TMPDIR/up.json"
	names=$("$TESTBED" status --json "$LAB" | jq -r '[.labs[0].machines[] | select(.kind != "pool") | .name] | join(" ")')
	"$TESTBED" down "$LAB" >/dev/null
	dump_replay "$BATS_TEST_TMPDIR/plan.sh" "$names" >"$BATS_TEST_TMPDIR/replay.json"
	run "$REPO/tests/netstate.py" compare "$BATS_TEST_TMPDIR/up.json" "$BATS_TEST_TMPDIR/replay.json"
	assert_failure 1
	assert_output --partial "hairpin"
}

# Names that a shell or iproute2 would read as something else: validate,
# and so plan and up, refuse each and say why; nothing of it runs.
@test "hostile interface and bridge names are refused, saying why" {
	cd "$BATS_TEST_TMPDIR"
	local name why
	while IFS='|' read -r name why; do
		jq -n --arg n "$name" --arg repo "$REPO" '{
			name: "hostile", images: {pod: ($repo + "/images/pod.tar.zst"), node: ($repo + "/images/node.tar.zst")},
			hosts: [{name: "h1", interfaces: {($n): "10.1.0.2/24"}}],
			bridges: [{name: $n}], links: [[("h1:" + $n), $n]]}' >t.json
		run "$TESTBED" plan t.json
		assert_failure 2
		assert_output --partial "bridges[0].name: bridge name \"$name\" $why"
		assert_output --partial "hosts[0].interfaces.$name: interface name \"$name\" $why"
		refute_output --partial "uid="
	done <<-'EOF'
	$(id>&2)|may hold only letters, digits, '_', '.' and '-'
	e;id>&2|may hold only letters, digits, '_', '.' and '-'
	a>b|may hold only letters, digits, '_', '.' and '-'
	`id`|may hold only letters, digits, '_', '.' and '-'
	up|is a keyword of ip(8) and bridge(8)
	help|is a keyword of ip(8) and bridge(8)
	type|is a keyword of ip(8) and bridge(8)
	dev|is a keyword of ip(8) and bridge(8)
	name|is a keyword of ip(8) and bridge(8)
	master|is a keyword of ip(8) and bridge(8)
	netns|is a keyword of ip(8) and bridge(8)
	mtu|is a keyword of ip(8) and bridge(8)
	address|is a keyword of ip(8) and bridge(8)
	all|names the sysctl folders
	EOF
	# Nothing ran: no file named by a redirection appeared.
	run ls "$BATS_TEST_TMPDIR"
	assert_output t.json
}

# Text that only informs (a pod's command, an image's path, the topology's
# folder) may hold anything: the script keeps it in comments. Run under
# strace, the script execs nothing but ip, bridge, sysctl and nft, creates
# no file, and builds what up builds, names with punctuation included.
@test "hostile arguments, image paths and folders stay comments; the replay runs only ip, bridge, sysctl, nft and equals up" {
	command -v strace >/dev/null || fail "strace is missing (ci/deps.sh installs it)"
	local dir=$BATS_TEST_TMPDIR/$'lab\n$(touch pwned-folder)\n\e[1A'
	local image=$'pod\ntouch pwned-image\n\e[1A.tar.zst'
	mkdir -p "$dir"
	# A copy, not a link: the plan shows the resolved path.
	ln "$REPO/images/pod.tar.zst" "$dir/$image" 2>/dev/null || cp "$REPO/images/pod.tar.zst" "$dir/$image"
	jq -n --arg image "$image" --arg repo "$REPO" '{
		name: "hostile",
		images: {pod: $image, node: ($repo + "/images/node.tar.zst")},
		bridges: [{name: "Br.x-1_y", address: "10.1.0.1/24"}],
		hosts: [{name: "h1", interfaces: {"E.th-0_x": "10.1.0.2/24"}}],
		links: [["h1:E.th-0_x", "Br.x-1_y"]],
		nodes: [{name: "node1", pods: [{name: "p1", http: false,
			command: ["sh", "-c", "exec sleep 3600", "x\ntouch pwned-arg\n\u001b[1A", "$(touch pwned-subst)", "a;touch pwned-semi"]}]}]
	}' >"$dir/t.json"
	LAB=hostile
	"$TESTBED" plan "$dir/t.json" >"$BATS_TEST_TMPDIR/plan.sh"
	# The comment shows the arguments escaped, on one line.
	run grep -c 'pwned' "$BATS_TEST_TMPDIR/plan.sh"
	assert_output 4
	run grep -F "'x\\x0atouch pwned-arg\\x0a'" "$BATS_TEST_TMPDIR/plan.sh"
	assert_success
	run grep -c $'\e' "$BATS_TEST_TMPDIR/plan.sh"
	assert_output 0

	"$TESTBED" up --quiet "$dir/t.json"
	dump_up "$BATS_TEST_TMPDIR/plan.sh" >"$BATS_TEST_TMPDIR/up.json"
	local names
	names=$("$TESTBED" status --json "$LAB" | jq -r '[.labs[0].machines[] | select(.kind != "pool") | .name] | join(" ")')
	"$TESTBED" down "$LAB" >/dev/null
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd"
	STRACE_LOG=$BATS_TEST_TMPDIR/exec.log dump_replay "$BATS_TEST_TMPDIR/plan.sh" "$names" >"$BATS_TEST_TMPDIR/replay.json"
	run "$REPO/tests/netstate.py" compare "$BATS_TEST_TMPDIR/up.json" "$BATS_TEST_TMPDIR/replay.json"
	assert_success
	# Every program the script started, by name: only the four.
	run bash -c "sed -n 's/^[0-9]* *execve(\"\\([^\"]*\\)\".* = 0\$/\\1/p' '$BATS_TEST_TMPDIR/exec.log' | xargs -n1 basename | sort -u"
	assert_success
	assert_output $'bridge\nip\nnft\nsh\nsysctl'
	run find "$BATS_TEST_TMPDIR" -name 'pwned*'
	assert_output ""
	# Not vacuous: the links with punctuation in their names were built.
	run jq -r '.namespaces.lab.links | keys[]' "$BATS_TEST_TMPDIR/up.json"
	assert_line Br.x-1_y
	run jq -r '.namespaces.h1.links | keys[]' "$BATS_TEST_TMPDIR/up.json"
	assert_line E.th-0_x
}

# A rule set whose last line is the here-document's usual delimiter, with
# no newline after it, in a saved plan: the script still feeds all of it to
# nft, and nothing after it runs as a command.
@test "no rule set ends its here-document early" {
	lab=$(variant "$REPO/topologies/veth-pair.json" "")
	LAB=$(jq -r .name "$lab")
	"$TESTBED" up --quiet "$lab"
	local state=$TESTBED_STATE_DIR/$LAB/plan.json
	jq '.steps += [{kind: "nft", machine: "lab", table: "t", ruleset: "table inet t {\n  comment \"x\"\n}\nEOF"}]' "$state" >"$state.new"
	mv "$state.new" "$state"
	run "$TESTBED" plan "$LAB"
	"$TESTBED" down "$LAB" >/dev/null
	assert_success
	assert_line "ip netns exec lab nft -f - <<'EOF1'"
	assert_line --index $((${#lines[@]} - 2)) EOF
	assert_line --index $((${#lines[@]} - 1)) EOF1
}

@test "replay: examples/netpol/three-tier (default-deny in two namespaces, DNS egress to kube-dns)" {
	replay "$REPO/examples/netpol/three-tier/lab.json"
	run jq -r '.namespaces.node1.nft, .namespaces.node2.nft' "$BATS_TEST_TMPDIR/up.json"
	assert_output --partial 'table ip testbed-netpol'
	assert_output --regexp 'chain egress-web/frontend-[a-z0-9-]+ \{'
	assert_output --partial 'udp dport 53 return comment "web/allow-dns egress[0]'
}
