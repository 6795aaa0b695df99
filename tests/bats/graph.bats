# testbed graph on the examples and their routing-mode variants: Graphviz
# renders every dot graph without a word of complaint, and both formats
# show every machine and bridge the plan has. No root, no lab.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	[ -f "$REPO/images/pod.tar.zst" ] && [ -f "$REPO/images/node.tar.zst" ] || return 0
	# Each example as it is, plus each cluster example in the two other
	# routing modes, with image paths made absolute so that the copies
	# validate where they are.
	local dir=$BATS_FILE_TMPDIR/topologies f name routing
	local images='.images |= map_values($images + "/" + (split("/") | last))'
	mkdir -p "$dir"
	for f in "$REPO"/topologies/*.json; do
		name=$(basename "$f" .json)
		jq --arg images "$REPO/images" "$images" "$f" >"$dir/$name.json"
		jq -e '(.nodes // []) | length > 0' "$f" >/dev/null || continue
		for routing in host-gw vxlan; do
			jq --arg images "$REPO/images" --arg routing "$routing" "$images | .cluster.routing = \$routing" \
				"$f" >"$dir/$name-$routing.json"
		done
	done
}

setup() {
	[ -f "$REPO/images/pod.tar.zst" ] && [ -f "$REPO/images/node.tar.zst" ] || skip "images not built"
	TOPOLOGIES=$BATS_FILE_TMPDIR/topologies
}

# Names of the plan's machines, or of its bridges, one a line; fails
# when the plan does, so that a loop over them cannot pass empty.
plan_names() {
	local json
	json=$("$TESTBED" plan "$2" --format json) || return 1
	case $1 in
	machines) jq -r '.machines[].name' <<<"$json" ;;
	bridges) jq -r '.steps[] | select(.kind == "bridge") | .name' <<<"$json" ;;
	esac
}

@test "the examples and their routing variants are all here" {
	# four examples, two of them clusters with two variants each
	[ "$(ls "$TOPOLOGIES"/*.json | wc -l)" -ge 8 ]
	[ -f "$TOPOLOGIES/kubenet-two-nodes-vxlan.json" ]
	run jq -r '.cluster.routing' "$TOPOLOGIES/kubenet-two-nodes-host-gw.json"
	assert_output "host-gw"
	run "$TESTBED" validate "$TOPOLOGIES/kubenet-two-nodes-vxlan.json"
	assert_success
}

@test "dot: Graphviz renders every graph silently, with every machine and bridge" {
	command -v dot >/dev/null || { echo "graphviz missing: run make deps" >&2; return 1; }
	local f name machines bridges
	for f in "$TOPOLOGIES"/*.json; do
		"$TESTBED" graph "$f" --format dot >"$BATS_TEST_TMPDIR/g.dot"
		run dot -Tsvg -o /dev/null "$BATS_TEST_TMPDIR/g.dot"
		assert_success
		assert_output "" # nothing on stderr either: run merges it
		machines=$(plan_names machines "$f")
		[ -n "$machines" ]
		for name in $machines; do
			grep -qF "label=\"$name\\n" "$BATS_TEST_TMPDIR/g.dot" ||
				{ echo "$(basename "$f"): machine $name missing" >&2; return 1; }
		done
		bridges=$(plan_names bridges "$f")
		for name in $bridges; do
			grep -qF "label=\"$name\\nbridge" "$BATS_TEST_TMPDIR/g.dot" ||
				{ echo "$(basename "$f"): bridge $name missing" >&2; return 1; }
		done
	done
}

@test "mermaid: a flowchart with every machine" {
	local f name machines
	for f in "$TOPOLOGIES"/*.json; do
		"$TESTBED" graph "$f" >"$BATS_TEST_TMPDIR/g.mmd"
		[ "$(head -c 9 "$BATS_TEST_TMPDIR/g.mmd")" = flowchart ] ||
			{ echo "$(basename "$f"): does not start with flowchart" >&2; return 1; }
		machines=$(plan_names machines "$f")
		[ -n "$machines" ]
		for name in $machines; do
			grep -qF "\"$name<br/>" "$BATS_TEST_TMPDIR/g.mmd" ||
				{ echo "$(basename "$f"): machine $name missing" >&2; return 1; }
		done
	done
}

@test "each routing mode draws its own paths between the two nodes" {
	run "$TESTBED" graph "$TOPOLOGIES/kubenet-two-nodes.json"
	assert_success
	assert_line '  m_gateway -.->|"10.0.1.0/24"| m_node1'
	assert_line '  m_gateway -.->|"10.0.2.0/24"| m_node2'
	refute_output --partial "vxlan"
	run "$TESTBED" graph "$TOPOLOGIES/kubenet-two-nodes-host-gw.json" --format dot
	assert_success
	assert_output --partial '"m_node1" -> "m_node2" [style=dotted'
	assert_output --partial 'label="10.0.2.0/24 via 10.10.0.3"'
	refute_output --partial "vxlan"
	run "$TESTBED" graph "$TOPOLOGIES/kubenet-two-nodes-vxlan.json"
	assert_success
	assert_line '  v_node1_flannel_1 -.-|"vxlan VNI 1 udp/8472"| v_node2_flannel_1'
	assert_line '  m_node2 -.->|"10.0.1.0/24 via flannel.1"| m_node1'
}

@test "graph: an unknown --format exits 2 and names the choices" {
	run "$TESTBED" graph "$TOPOLOGIES/bridge.json" --format svg
	assert_failure 2
	assert_output --partial '--format: "svg": expected mermaid or dot'
	run "$TESTBED" graph
	assert_failure 2
}

@test "graph: bridges whose names meet as ids each get their own, in both formats" {
	# a_b_c_d_e_f_2 ... _99 first, then a.b.c.d.e.f with every mix of
	# '.', '-' and '_' (243 names): all of them b_lab_a_b_c_d_e_f or a
	# suffixed form of it, which the later ones must step past.
	local f=$BATS_TEST_TMPDIR/meet.json format ids
	jq -n '{name: "meet", bridges: ([range(2; 100) | "a_b_c_d_e_f_\(.)"]
		+ [[".", "-", "_"] | combinations(5) as $s
		   | reduce range(5) as $k ("a"; . + $s[$k] + ("bcdef"[$k:$k + 1]))]
		| map({name: .}))}' >"$f"
	jq -r '.bridges[].name' "$f" | sort >"$BATS_TEST_TMPDIR/names"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/names")" = 341 ]
	run "$TESTBED" validate "$f"
	assert_success
	for format in mermaid dot; do
		"$TESTBED" graph "$f" --format "$format" >"$BATS_TEST_TMPDIR/g"
		# each bridge once, under an id of its own
		if [ "$format" = mermaid ]; then
			sed -n 's/^    \(b_lab_[A-Za-z0-9_]*\){{"\(.*\)<br\/>bridge"}}:::bridge$/\1 \2/p' \
				"$BATS_TEST_TMPDIR/g" >"$BATS_TEST_TMPDIR/bridges"
		else
			sed -n 's/^    "\(b_lab_[A-Za-z0-9_]*\)" \[shape=hexagon.*, label="\(.*\)\\nbridge"\];$/\1 \2/p' \
				"$BATS_TEST_TMPDIR/g" >"$BATS_TEST_TMPDIR/bridges"
		fi
		cut -d' ' -f2 "$BATS_TEST_TMPDIR/bridges" | sort | diff - "$BATS_TEST_TMPDIR/names"
		ids=$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/bridges" | sort)
		[ "$(uniq <<<"$ids" | wc -l)" = 341 ]
		# the first of the mixes keeps the plain id, the next skips the 98 taken
		grep -qx 'b_lab_a_b_c_d_e_f a.b.c.d.e.f' "$BATS_TEST_TMPDIR/bridges"
		grep -qx 'b_lab_a_b_c_d_e_f_2 a_b_c_d_e_f_2' "$BATS_TEST_TMPDIR/bridges"
		grep -qx 'b_lab_a_b_c_d_e_f_100 a.b.c.d.e-f' "$BATS_TEST_TMPDIR/bridges"
		# the same ids in both formats
		if [ "$format" = mermaid ]; then
			echo "$ids" >"$BATS_TEST_TMPDIR/mermaid-ids"
		else
			diff - "$BATS_TEST_TMPDIR/mermaid-ids" <<<"$ids"
		fi
	done
}
