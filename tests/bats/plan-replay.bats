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
# NEIGH ("" keeps it), with absolute image paths.
variant() {
	local file=$1 mode=$2 neigh=${3:-} out=$BATS_TEST_TMPDIR/lab.json
	jq --arg mode "$mode" --arg neigh "$neigh" --arg repo "$REPO" '
		.images |= with_entries(.value = ($repo + "/images/" + (.value | split("/") | last)))
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

# The state of the running lab LAB: each machine's network namespace
# attached under its name, then dumped.
dump_up() {
	local names
	names=$("$TESTBED" status --json "$LAB" | jq -r '.labs[0].machines[] | select(.kind != "pool") | "\(.name) \(.pid)"')
	with_private_netns_dir bash -c '
		while read -r name pid; do ip netns attach "$name" "$pid" || exit 1; done <<<"$1"
		exec '"$REPO"'/tests/netstate.py dump $(cut -d" " -f1 <<<"$1")' bash "$names"
}

# The state the plan's script builds, in a scratch network namespace of its
# own (which plays the host, as the lab namespace does for up).
dump_replay() {
	local script=$1 names=$2
	cat >"$BATS_TEST_TMPDIR/replay-in-sandbox.sh" <<-EOF
	ip link set lo up
	sh "$script" >&2
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
	local script=$1 names=$2
	unshare --net -- bash -c '
		ip link set lo up
		made=0; [ -d /run/netns ] || { mkdir -p /run/netns; made=1; }
		unshare --mount --propagation private -- sh -c "mount -t tmpfs tmpfs /run/netns && sh \"\$1\" >&2 && '"$REPO"'/tests/netstate.py dump $2" sh "$1"
		rc=$?
		[ "$made" = 0 ] || rmdir /run/netns 2>/dev/null
		exit $rc' bash "$script"
}

replay() {
	local file=$1 mode=${2:-} neigh=${3:-}
	local lab
	lab=$(variant "$file" "$mode" "$neigh")
	LAB=$(jq -r .name "$lab")
	"$TESTBED" plan "$lab" >"$BATS_TEST_TMPDIR/plan.sh"
	"$TESTBED" up --quiet "$lab"
	dump_up >"$BATS_TEST_TMPDIR/up.json"
	local names
	names=$("$TESTBED" status --json "$LAB" | jq -r '[.labs[0].machines[] | select(.kind != "pool") | .name] | join(" ")')
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
	dump_up >"$BATS_TEST_TMPDIR/up.json"
	names=$("$TESTBED" status --json "$LAB" | jq -r '[.labs[0].machines[] | select(.kind != "pool") | .name] | join(" ")')
	"$TESTBED" down "$LAB" >/dev/null
	dump_replay "$BATS_TEST_TMPDIR/plan.sh" "$names" >"$BATS_TEST_TMPDIR/replay.json"
	run "$REPO/tests/netstate.py" compare "$BATS_TEST_TMPDIR/up.json" "$BATS_TEST_TMPDIR/replay.json"
	assert_failure 1
	assert_output --partial "hairpin"
}
