# make install into a scratch DESTDIR: every file in its FHS place, and
# the installed testbed, man pages, completion and example labs working
# from there, with nothing of the repository on the way.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	export ROOT=$BATS_FILE_TMPDIR/root
	make -C "$REPO" --no-print-directory install DESTDIR="$ROOT" PREFIX=/usr >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
}

setup() {
	use_lab_dirs
	INSTALLED=$ROOT/usr/bin/testbed
}

teardown_file() {
	use_lab_dirs
	"$ROOT/usr/bin/testbed" down veth-pair >/dev/null 2>&1 || true
}

@test "every file lands in its FHS place" {
	local f
	for f in usr/bin/testbed \
		usr/share/man/man1/testbed.1 usr/share/man/man5/testbed-topology.5 \
		usr/share/bash-completion/completions/testbed \
		usr/share/doc/testbed/README.md usr/share/doc/testbed/topology.md \
		usr/share/doc/testbed/topology.schema.json usr/share/doc/testbed/schemas/check.schema.json \
		usr/share/testbed/topologies/kubenet-two-nodes.json \
		usr/share/testbed/images/build-image.sh usr/share/testbed/images/pod/testbed-http.py \
		usr/share/testbed/images/pod/server-start.c \
		usr/share/testbed/images/pod.tar.zst usr/share/testbed/images/node.tar.zst; do
		[ -f "$ROOT/$f" ] || fail "make install did not install /$f"
	done
	[ -x "$ROOT/usr/bin/testbed" ]
	# Nothing outside PREFIX.
	run find "$ROOT" -mindepth 1 -maxdepth 1
	assert_output "$ROOT/usr"
}

@test "the installed testbed runs and validates the installed labs against the installed images" {
	run "$INSTALLED" --version
	assert_success
	assert_output "testbed $(cat "$REPO/VERSION")"
	run "$INSTALLED" validate "$ROOT/usr/share/testbed/topologies/kubenet-two-nodes.json"
	assert_success
	assert_output --partial "ok: 2 nodes"
}

@test "man finds both installed pages" {
	run env MANPATH="$ROOT/usr/share/man" man -w testbed
	assert_success
	assert_output "$ROOT/usr/share/man/man1/testbed.1"
	run env MANPATH="$ROOT/usr/share/man" MANWIDTH=80 man testbed-topology
	assert_success
	assert_line --regexp '^TESTBED-TOPOLOGY\(5\)'
	run env MANPATH="$ROOT/usr/share/man" MANWIDTH=80 man 1 testbed
	assert_success
	assert_line --regexp '^ +testbed +- +build Kubernetes-style network labs'
}

@test "the installed completion completes the installed testbed's commands" {
	run bash -c '
		source "$1"
		COMP_WORDS=("$2" ch) COMP_CWORD=1
		COMP_LINE="${COMP_WORDS[*]}" COMP_POINT=${#COMP_LINE}
		_testbed "$2" ch "$2"
		printf "%s\n" "${COMPREPLY[@]}"' bash \
		"$ROOT/usr/share/bash-completion/completions/testbed" "$INSTALLED"
	assert_success
	assert_output "check"
}

@test "the installed testbed brings an installed example lab up, checks it and takes it down" {
	run "$INSTALLED" up --quiet "$ROOT/usr/share/testbed/topologies/veth-pair.json"
	assert_success
	run "$INSTALLED" check veth-pair
	assert_success
	run "$INSTALLED" down veth-pair
	assert_success
	run "$INSTALLED" status
	assert_output "no labs are up"
}

@test "a user's suite written with the installed bats helpers runs against the installed testbed and labs" {
	[ -f "$ROOT/usr/lib/bats/testbed/load.bash" ] || fail "make install did not install the bats helpers"
	mkdir -p "$BATS_TEST_TMPDIR/suite"
	# Written with printf: a line starting with @test, even in a here-document,
	# would become a test of this file when bats reads it.
	printf '%s\n' 'bats_load_library testbed' \
		"setup_file() { testbed_up \"$ROOT/usr/share/testbed/topologies/kubenet-two-nodes.json\"; }" \
		'teardown_file() { testbed_teardown; }' \
		'@''test "across nodes" { assert_reachable pod-a pod-c; assert_client_ip pod-a pod-c; }' \
		"@""test \"nothing on a node's port 8000\" { refute_reachable pod-a node2 tcp:8000; }" \
		>"$BATS_TEST_TMPDIR/suite/lab.bats"
	# Only the installed files: the installed testbed, and the helpers
	# found where bats_load_library looks, beside Debian's bats-support.
	run env TESTBED="$INSTALLED" TESTBED_STATE_DIR="$BATS_TEST_TMPDIR/state" \
		BATS_LIB_PATH="$ROOT/usr/lib/bats:/usr/lib/bats" bats "$BATS_TEST_TMPDIR/suite/lab.bats"
	assert_success
	assert_line "ok 1 across nodes"
	assert_line "ok 2 nothing on a node's port 8000"
	run env TESTBED_STATE_DIR="$BATS_TEST_TMPDIR/state" "$INSTALLED" status
	assert_output "no labs are up"
}

@test "make uninstall removes every file install put there" {
	make -C "$REPO" --no-print-directory uninstall DESTDIR="$ROOT" PREFIX=/usr >/dev/null
	run find "$ROOT" -type f
	assert_output ""
}
