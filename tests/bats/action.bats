# The composite action (action.yml) run locally, step by step, as GitHub's
# runner would run it (tests/action-run.py reads the steps from action.yml
# itself): on the bundled two-node lab, then with an expect FILE that
# cannot hold, which must fail the action only after the report, the
# summary and down.
bats_require_minimum_version 1.5.0
load helpers

LAB=kubenet-two

# Runs the action with scratch runner files in DIR; its exit code goes to DIR/rc.
run_action() {
	local dir=$1
	shift
	mkdir -p "$dir"
	local rc=0
	(cd "$REPO" && "$REPO/tests/action-run.py" "$dir" "$@") >"$dir/log" 2>&1 || rc=$?
	echo "$rc" >"$dir/rc"
}

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	# As a caller's workflow passes it: a path relative to the workspace.
	run_action "$BATS_FILE_TMPDIR/pass" topology=topologies/kubenet-two-nodes.json
	# The same lab with one expectation that cannot hold (pod-a reaches
	# pod-c over http), and no images: the action fills in its own.
	jq 'del(.images) | .expect = [{"from": "pod-a", "to": "pod-c", "proto": "http", "result": "fail"},
		{"from": "pod-a", "to": "pod-b", "proto": "ping"}]' \
		"$REPO/topologies/kubenet-two-nodes.json" >"$BATS_FILE_TMPDIR/cannot-hold.json"
	run_action "$BATS_FILE_TMPDIR/fail" topology=topologies/kubenet-two-nodes.json \
		expect="$BATS_FILE_TMPDIR/cannot-hold.json" format=junit
}

setup() {
	use_lab_dirs
	PASS=$BATS_FILE_TMPDIR/pass
	FAIL=$BATS_FILE_TMPDIR/fail
}

teardown_file() {
	use_lab_dirs
	local lab
	for lab in "$LAB" veth-pair; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

# The step's recorded field: step ID FIELD (from DIR/result.json).
step() {
	jq -r --arg id "$2" --arg f "$3" '.steps[] | select(.id == $id) | .[$f]' "$1/result.json"
}

@test "the action runs every step of action.yml in order and succeeds on the two-node lab" {
	cat "$PASS/log"
	assert_equal "$(cat "$PASS/rc")" 0
	run jq -r '.steps[] | "\(.id) \(.ran) \(.rc)"' "$PASS/result.json"
	assert_output "$(printf '%s\n' 'setup true 0' 'up true 0' 'check true 0' 'summary true 0' 'down true 0' 'verdict true 0')"
	# Each step runs a script of ci/action/, whose logic this suite tests.
	run jq -r '.steps[].run' "$PASS/result.json"
	for line in "${lines[@]}"; do
		[[ $line =~ ^bash\ \"\$GITHUB_ACTION_PATH/ci/action/[a-z]+\.sh\"$ ]]
	done
}

@test "the report is written where the report output says, and it is JUnit XML" {
	run cat "$PASS/outputs.check"
	assert_line --regexp '^report=/.+/report\.xml$'
	assert_line 'status=0'
	report=$(jq -r .outputs.report "$PASS/result.json")
	assert_equal "$report" "$(sed -n 's/^report=//p' "$PASS/outputs.check")"
	[ -s "$report" ]
	xmllint --noout --schema "$REPO/tests/junit.xsd" "$report"
	# The default lab: every pod reaches every other pod (24 probes) and the
	# internet (8), none failing.
	assert_equal "$(xmllint --xpath 'count(//testcase)' "$report")" 32
	assert_equal "$(xmllint --xpath 'count(//failure)' "$report")" 0
}

@test "the job summary has check's Markdown truth table and the lab's mermaid graph" {
	summary=$PASS/summary.md
	cat "$summary"
	grep -q "^## testbed: $LAB\$" "$summary"
	# A Markdown table: a header row, its separator, pod rows.
	grep -Eq '^\| from .*\| pod-a \|.*\| pod-d \| internet \|$' "$summary"
	grep -Eq '^\|( *:?-+:? *\|)+ *$' "$summary"
	grep -Eq '^\| *pod-a *\|' "$summary"
	grep -Eq '32 passed, 0 failed' "$summary"
	run sed -n '/^```mermaid$/,/^```$/p' "$summary"
	assert_line --index 0 '```mermaid'
	assert_output --partial pod-a
	assert_output --partial node2
	assert_equal "${lines[-1]}" '```'
}

@test "the lab is gone afterwards" {
	run "$TESTBED" status
	assert_success
	refute_output --partial "$LAB"
	assert_output --partial "no labs"
}

@test "an expectation that cannot hold: check's step records status 1, down still runs, the action fails last" {
	cat "$FAIL/log"
	assert_equal "$(cat "$FAIL/rc")" 1
	run jq -r '.steps[] | "\(.id) \(.ran) \(.rc)"' "$FAIL/result.json"
	assert_output "$(printf '%s\n' 'setup true 0' 'up true 0' 'check true 0' 'summary true 0' 'down true 0' 'verdict true 1')"
	assert_equal "$(step "$FAIL" check outputs | jq -r .status)" 1
	report=$(jq -r .outputs.report "$FAIL/result.json")
	xmllint --noout --schema "$REPO/tests/junit.xsd" "$report"
	assert_equal "$(xmllint --xpath 'count(//failure)' "$report")" 1
	grep -q '1 passed, 1 failed' "$FAIL/summary.md"
	grep -q '^```mermaid$' "$FAIL/summary.md"
	assert_output --partial 'down true 0'
	run "$TESTBED" status
	refute_output --partial "$LAB"
}

@test "a failing step stops the steps after it but not summary and down" {
	run_action "$BATS_TEST_TMPDIR/bad" topology=topologies/kubenet-two-nodes.json format=yaml
	cat "$BATS_TEST_TMPDIR/bad/log"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bad/rc")" 2
	run jq -r '.steps[] | "\(.id) \(.ran) \(.rc)"' "$BATS_TEST_TMPDIR/bad/result.json"
	assert_output "$(printf '%s\n' 'setup true 0' 'up true 0' 'check true 2' 'summary true 0' 'down true 0' 'verdict false null')"
	run "$TESTBED" status
	refute_output --partial "$LAB"
}

@test "inputs reach the scripts only through env, never pasted into a script" {
	run python3 - "$REPO/action.yml" <<-'PY'
		import sys, yaml
		a = yaml.safe_load(open(sys.argv[1]))
		for s in a["runs"]["steps"]:
		    assert "${{" not in s["run"], s["run"]
		    assert s["shell"] == "bash", s
		print("ok")
	PY
	assert_success
	assert_output ok
}

@test "a lab of the same name another job brought up: up fails, the action records no lab, down leaves it up" {
	# The other job's lab, up before the action runs.
	"$TESTBED" up --quiet "$REPO/topologies/veth-pair.json"
	pids=$(lab_pids veth-pair)
	dir=$BATS_TEST_TMPDIR/twin
	run_action "$dir" topology=topologies/veth-pair.json
	cat "$dir/log"
	run jq -r '.steps[] | "\(.id) \(.ran) \(.rc)"' "$dir/result.json"
	assert_line --regexp '^up true [1-9]$'
	assert_line 'check false null'
	assert_line 'summary true 0'
	assert_line 'down true 0'
	grep -q 'already up' "$dir/log"
	assert_equal "$(jq -r .outputs.lab "$dir/result.json")" ""
	run grep -h '^TESTBED_ACTION_LAB=' "$dir"/env.*
	assert_failure
	# The summary names the topology's lab, but nothing of the running one.
	grep -q '^## testbed: veth-pair$' "$dir/summary.md"
	grep -q 'up did not bring the lab up' "$dir/summary.md"
	# Still up, with the same machines.
	"$TESTBED" status veth-pair >/dev/null
	assert_equal "$(lab_pids veth-pair)" "$pids"
	"$TESTBED" down veth-pair
}

@test "a topology whose name is not a lab name (Markdown, HTML): no lab output, nothing in the summary" {
	local name i=0
	for name in '[x](https://evil.example)' '<img src=x>'; do
		i=$((i + 1))
		dir=$BATS_TEST_TMPDIR/bad$i
		mkdir -p "$dir"
		jq --arg n "$name" 'del(.images) | .name = $n' "$REPO/topologies/veth-pair.json" >"$dir/lab.json"
		run_action "$dir" topology="$dir/lab.json"
		cat "$dir/log"
		assert_equal "$(cat "$dir/rc")" 2
		run jq -r '.steps[] | "\(.id) \(.ran) \(.rc)"' "$dir/result.json"
		assert_line 'up true 2'
		assert_line 'summary true 0'
		grep -q 'is not a valid lab name' "$dir/log"
		assert_equal "$(jq -r .outputs.lab "$dir/result.json")" ""
		run grep -h '^TESTBED_ACTION_LAB=\|^lab=' "$dir"/env.* "$dir"/outputs.*
		assert_failure
		run grep -rF -e evil -e '<img' "$dir/summary.md"
		assert_failure
	done
}

@test "the summary's heading escapes the lab's name for Markdown all the same" {
	run bash -c '. "$1/ci/action/lib.sh" && md_escape "$2"' _ "$REPO" '[x](https://e.x/) <img src=x> a_b*c`d\e-f'
	assert_success
	assert_output '\[x\]\(https\:\/\/e\.x\/\) \<img src\=x\> a\_b\*c\`d\\e-f'
	# Through the summary step itself, as up would have left it.
	: >"$BATS_TEST_TMPDIR/summary.md"
	GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary.md TESTBED_ACTION_NAME='a<b>[c]' TESTBED_ACTION_LAB='' \
		TESTBED_ACTION_WORK='' TESTBED_ACTION_TOPOLOGY=/nonexistent bash "$REPO/ci/action/summary.sh"
	run head -n1 "$BATS_TEST_TMPDIR/summary.md"
	assert_output '## testbed: a\<b\>\[c\]'
}
