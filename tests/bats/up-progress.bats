# up's status line: on a terminal it shows the phases as they advance and
# leaves a clean screen; anywhere else up prints exactly what it always did.
# The terminal is a pseudo-terminal from script(1) (util-linux).
bats_require_minimum_version 1.5.0
load helpers

LAB=kubenet-one
FILE=$REPO/topologies/kubenet-one-node.json

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	command -v script >/dev/null || skip "script (util-linux) is missing"
}

setup() {
	use_lab_dirs
	IMAGES="\"images\": {\"pod\": \"$REPO/images/pod.tar.zst\", \"node\": \"$REPO/images/node.tar.zst\"}"
}

teardown() {
	for lab in "$LAB" failing; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

# Runs a shell command line on a pseudo-terminal (stdin, stdout and stderr
# are all the terminal); its raw output, escapes and all, goes to FILE.
on_terminal() {
	local file=$1
	shift
	TERM=${TERM_FOR_TEST:-xterm} script -qec "$*" /dev/null >"$file"
}

# What a terminal shows for the raw output in FILE: each line as the text
# after its last carriage return, erase-line sequences gone.
screen() {
	sed 's/\r$//; s/.*\r//; s/\x1b\[K//g' "$1"
}

@test "on a terminal, up shows each phase with its final count, then a clean table" {
	on_terminal "$BATS_TEST_TMPDIR/raw" "'$TESTBED' up '$FILE'"
	raw=$(cat -v "$BATS_TEST_TMPDIR/raw")
	# Each redraw goes back to the line's start and erases it.
	[[ $raw == *'^M^[[Kup '* ]]
	for count in "images 2/2" "machines 7/7" "network 28/28" "servers 4/4"; do
		[[ $raw == *"$count"* ]] || { echo "no \"$count\" in: $raw" >&2; return 1; }
	done
	[[ $raw =~ up\ [0-9]+\.[0-9]s: ]]
	# The screen: the table alone, its header first, no trace of the line.
	run screen "$BATS_TEST_TMPDIR/raw"
	assert_line --index 0 --regexp '^NAME +KIND +NODE +ADDRESS +PID$'
	assert_line --regexp '^pod-c +pod +node1 +10\.244\.0\.4 +[0-9]+$'
	refute_output --partial "up "
	refute_output --partial $'\x1b'
	assert_equal "${#lines[@]}" 8
}

@test "with NO_COLOR the line has no colour; with TERM=dumb there is none" {
	on_terminal "$BATS_TEST_TMPDIR/raw" "NO_COLOR=1 '$TESTBED' up '$FILE'"
	run cat -v "$BATS_TEST_TMPDIR/raw"
	assert_output --partial "servers 4/4"
	refute_output --partial "^[[1m"
	refute_output --partial "^[[0m"
	"$TESTBED" down "$LAB" >/dev/null
	TERM_FOR_TEST=dumb on_terminal "$BATS_TEST_TMPDIR/raw" "'$TESTBED' up '$FILE'"
	run cat -v "$BATS_TEST_TMPDIR/raw"
	refute_output --partial "^[["
	assert_line --index 0 --regexp '^NAME +KIND +NODE +ADDRESS +PID\^M$'
}

@test "--quiet on a terminal prints nothing at all" {
	on_terminal "$BATS_TEST_TMPDIR/raw" "'$TESTBED' up --quiet '$FILE'"
	[ ! -s "$BATS_TEST_TMPDIR/raw" ] || { cat -v "$BATS_TEST_TMPDIR/raw" >&2; return 1; }
}

@test "with stderr in a file, up prints no progress: the table alone, no carriage return" {
	# stdout still on the terminal: only stderr decides.
	on_terminal "$BATS_TEST_TMPDIR/raw" "'$TESTBED' up '$FILE' 2>'$BATS_TEST_TMPDIR/err'"
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || { cat -v "$BATS_TEST_TMPDIR/err" >&2; return 1; }
	run cat -v "$BATS_TEST_TMPDIR/raw"
	refute_output --partial "^["
	refute_output --partial "up "
	"$TESTBED" down "$LAB" >/dev/null
	# Neither on a terminal, as in CI logs: the table, byte for byte.
	"$TESTBED" up "$FILE" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || { cat -v "$BATS_TEST_TMPDIR/err" >&2; return 1; }
	run grep -c $'\r' "$BATS_TEST_TMPDIR/out"
	assert_output 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 --regexp '^NAME +KIND +NODE +ADDRESS +PID$'
	assert_equal "${#lines[@]}" 8
}

@test "when up fails on a terminal, the error starts on a clean line" {
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "failing", $IMAGES, "nodes": [{"name": "n1", "pods": [
	  {"name": "ok"}, {"name": "quits", "command": ["sh", "-c", "exit 7"], "http": 8000}]}]}
	JSON
	on_terminal "$BATS_TEST_TMPDIR/raw" "'$TESTBED' up '$BATS_TEST_TMPDIR/lab.json'" || true
	run cat -v "$BATS_TEST_TMPDIR/raw"
	# It got as far as the servers before failing.
	assert_output --partial "servers 0/3"
	run screen "$BATS_TEST_TMPDIR/raw"
	assert_line --index 0 --regexp "^testbed up: failing: .*quits: workload exited with status 7"
	refute_output --partial "up "
}
