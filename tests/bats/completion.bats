# Shell completion (completion/testbed.bash): what TAB offers, from testbed's
# own help and from a running lab's status. The completion function is
# called as bash calls it, with COMP_WORDS and COMP_CWORD set.
bats_require_minimum_version 1.5.0
load helpers

LAB=veth-pair
FILE=$REPO/topologies/veth-pair.json
SCRIPT=$REPO/completion/testbed.bash

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	testbed_up "$FILE"
}

setup() {
	use_lab_dirs
	source "$SCRIPT"
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

# Completes `testbed WORD...`, the last word being the one under the cursor
# (give "" for a TAB after a space); prints COMPREPLY sorted, one a line.
complete_words() {
	COMP_WORDS=("$TESTBED" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_testbed testbed "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# The lines given, sorted: what complete_words prints for them.
sorted() {
	printf '%s\n' "$@" | sort -u
}

# Machines of the lab whose kind matches the jq condition, from status --json.
machines_where() {
	"$TESTBED" status --json "$LAB" | jq -r ".labs[].machines[] | select($1) | .name" | sort -u
}

@test "the script is registered for testbed and shellcheck-clean" {
	run complete -p testbed
	assert_output "complete -F _testbed testbed"
	command -v shellcheck >/dev/null || skip "shellcheck not installed"
	run shellcheck -s bash "$SCRIPT"
	assert_success
}

@test "testbed <TAB> offers every command; a prefix only those it starts" {
	run complete_words ""
	assert_output "$(sorted validate up down gc status exec check apply delete trace plan graph images prune)"
	run complete_words ch
	assert_output "check"
	run complete_words -
	assert_output "$(sorted --help --version)"
	run complete_words help g
	assert_output "$(sorted gc graph)"
}

@test "apply and delete offer the labs, then manifests: YAML and JSON files and folders" {
	mkdir -p "$BATS_TEST_TMPDIR/m/sub"
	touch "$BATS_TEST_TMPDIR/m/p.yaml" "$BATS_TEST_TMPDIR/m/q.yml" "$BATS_TEST_TMPDIR/m/r.json" "$BATS_TEST_TMPDIR/m/notes.txt"
	cd "$BATS_TEST_TMPDIR/m"
	run complete_words apply lab ""
	assert_output "$(sorted p.yaml q.yml r.json sub)"
	run complete_words delete lab p
	assert_output "p.yaml"
}

@test "options come from each command's --help" {
	run complete_words check -
	assert_output "$(sorted --help --explain --expect --format --output --timeout --retries --parallel -v --verbose -q --quiet --state-dir)"
	run complete_words check --st
	assert_output "--state-dir"
	run complete_words down --
	assert_output "$(sorted --help --all --state-dir)"
	# Options may follow operands, as getopt_long takes them.
	run complete_words status "$LAB" --j
	assert_output "--json"
	# exec's come before NAME: after TARGET, what follows is its command's.
	run complete_words exec --
	assert_output "$(sorted --help --state-dir)"
	run complete_words exec "$LAB" net0 -
	assert_equal "$output" "--"
}

@test "--format values per command, as --format F, --format=F and abbreviated" {
	run complete_words check --format ""
	assert_output "$(sorted text json junit tap markdown)"
	run complete_words check "$LAB" --format j
	assert_output "$(sorted json junit)"
	# bash splits --format=j at = (COMP_WORDBREAKS).
	run complete_words check --format = j
	assert_output "$(sorted json junit)"
	run complete_words check --format = ""
	assert_output "$(sorted text json junit tap markdown)"
	run complete_words check --form ""
	assert_output "$(sorted text json junit tap markdown)"
	run complete_words plan --format ""
	assert_output "$(sorted sh json)"
	run complete_words graph "$FILE" --format ""
	assert_output "$(sorted mermaid dot)"
	# An option's argument is no operand: NAME is still to come.
	run complete_words status --state-dir "$TESTBED_STATE_DIR" ""
	assert_output "$LAB"
}

@test "the --format values are those each command's --help lists" {
	local cmd seen=0 values
	for cmd in $("$TESTBED" --help | awk '/^Commands:/ {on = 1; next} on && NF {print $1} on && !NF {exit}'); do
		# "  --format FORMAT     text (default), json, junit, tap or markdown"
		values=$("$TESTBED" "$cmd" --help | sed -n 's/^  --format FORMAT  *//p' |
			sed 's/(default)//; s/,/ /g; s/ or / /g' | tr -s ' ' '\n' | sed '/^$/d' | sort)
		run _testbed_formats "$cmd"
		assert_equal "$(tr ' ' '\n' <<<"$output" | sed '/^$/d' | sort)" "$values"
		[ -z "$values" ] || seen=$((seen + 1))
	done
	# check, plan and graph: the loop did compare something.
	assert_equal "$seen" 3
}

@test "FILE: topology files (*.json) and directories; --output any file, --expect JSON, --state-dir directories" {
	cd "$BATS_TEST_TMPDIR"
	mkdir labs
	touch a.json b.json notes.txt labs/c.json
	run complete_words validate ""
	assert_output "$(sorted a.json b.json labs)"
	run complete_words up a
	assert_output "a.json"
	run complete_words validate labs/
	assert_output "labs/c.json"
	# FILE|NAME: both, the running lab's name too.
	run complete_words plan ""
	assert_output "$(sorted a.json b.json labs "$LAB")"
	run complete_words check --output ""
	assert_output "$(sorted a.json b.json labs notes.txt)"
	# --expect FILE: a JSON list of expectations.
	run complete_words check "$LAB" --expect ""
	assert_output "$(sorted a.json b.json labs)"
	run complete_words graph --state-dir ""
	assert_output "labs"
	# A second operand is not expected.
	run complete_words validate a.json ""
	assert_output ""
}

@test "NAME: the labs testbed status lists" {
	local cmd
	# No topology files here to offer beside them for FILE|NAME.
	cd "$BATS_TEST_TMPDIR"
	for cmd in down status exec check trace plan graph; do
		run complete_words "$cmd" ""
		assert_output "$LAB"
	done
	run complete_words exec v
	assert_output "$LAB"
	run complete_words exec x
	assert_output ""
}

@test "lab names honour --state-dir on the line and TESTBED_STATE_DIR" {
	local dir=$TESTBED_STATE_DIR
	export TESTBED_STATE_DIR=$BATS_TEST_TMPDIR/elsewhere
	mkdir -p "$TESTBED_STATE_DIR"
	run complete_words status ""
	assert_output ""
	run complete_words status --state-dir "$dir" ""
	assert_output "$LAB"
	run complete_words exec --state-dir = "$dir" ""
	assert_output "$LAB"
	run complete_words trace --state-dir "$dir" "$LAB" net0 ""
	assert_output "$(sorted net0 net1)"
	unset TESTBED_STATE_DIR
	run complete_words status --state-dir "$dir" ""
	assert_output "$LAB"
}

@test "exec NAME <TAB>: the lab's machines and lab, never its server pools" {
	local pools
	pools=$(machines_where '.kind == "pool"')
	# The check below means something only if the lab has a pool.
	[ -n "$pools" ]
	run complete_words exec "$LAB" ""
	assert_output "$(machines_where '.kind != "pool"')"
	assert_line net0
	assert_line net1
	assert_line lab
	local pool
	for pool in $pools; do
		refute_line "$pool"
	done
	run complete_words exec "$LAB" net
	assert_output "$(sorted net0 net1)"
	run complete_words exec "$LAB" s
	assert_output ""
	# No such lab: nothing.
	run complete_words exec no-such-lab ""
	assert_output ""
}

@test "trace NAME FROM TO: pods, nodes, hosts and the gateway" {
	local want
	want=$(machines_where '.kind == "pod" or .kind == "node" or .kind == "host" or .kind == "gateway"')
	assert_equal "$want" "$(sorted net0 net1)"
	run complete_words trace "$LAB" ""
	assert_output "$want"
	run complete_words trace "$LAB" net0 ""
	assert_output "$want"
	run complete_words trace "$LAB" net0 net1 ""
	assert_output ""
}

@test "check --explain NAME FROM TO: the lab's machines; plain check takes no more" {
	local want
	want=$(machines_where '.kind == "pod" or .kind == "node" or .kind == "host" or .kind == "gateway" or .kind == "external"')
	run complete_words check --explain "$LAB" ""
	assert_output "$want"
	run complete_words check --explain "$LAB" net0 ""
	assert_output "$want"
	run complete_words check --explain "$LAB" net0 net1 ""
	assert_output ""
	run complete_words check "$LAB" ""
	assert_output ""
}

@test "exec NAME TARGET -- <TAB> completes a command line" {
	run complete_words exec "$LAB" net0 -- bas
	assert_line bash
	run complete_words exec "$LAB" net0 bas
	assert_line bash
	cd "$BATS_TEST_TMPDIR"
	touch some-file
	run complete_words exec "$LAB" net0 -- cat some
	assert_output "some-file"
}

@test "with bash-completion loaded, the same answers" {
	local bc=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}
	[ -f "$bc" ] || skip "bash-completion not installed"
	cd "$BATS_TEST_TMPDIR"
	touch a.json notes.txt
	# In a shell of its own: bash-completion sets shell options.
	run bash -c '
		source "$1" && source "$2" || exit 1
		t() {
			COMP_WORDS=("$TESTBED" "${@}") COMP_CWORD=$#
			COMP_LINE="${COMP_WORDS[*]}" COMP_POINT=${#COMP_LINE} COMPREPLY=()
			_testbed testbed 2>/dev/null
			echo "${COMPREPLY[*]}"
		}
		t ch
		t check --format = j
		t validate ""
		t exec ""
		t exec "$3" l
		t exec "$3" net0 -- bas | tr " " "\n" | grep -x bash | sort -u
	' bash "$bc" "$SCRIPT" "$LAB"
	assert_success
	assert_output "$(printf '%s\n' check "json junit" a.json "$LAB" lab bash)"
}
