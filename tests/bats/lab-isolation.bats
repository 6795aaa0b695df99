# Labs are sandboxes: two can run side by side with the same addresses, one
# lab is never built twice at once, and a hostile image cannot write outside
# testbed's cache.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
}

setup() {
	use_lab_dirs
	IMAGES="\"images\": {\"pod\": \"$REPO/images/pod.tar.zst\", \"node\": \"$REPO/images/node.tar.zst\"}"
}

teardown() {
	for lab in twin-a twin-b race hostile; do
		"$TESTBED" down "$lab" >/dev/null 2>&1 || true
	done
}

twin() {
	cat <<-JSON
	{"name": "$1", $IMAGES,
	 "hosts": [{"name": "net0", "interfaces": {"eth0": "10.0.1.2/24"}},
	           {"name": "net1", "interfaces": {"eth0": "10.0.1.3/24"}}],
	 "links": [["net0:eth0", "net1:eth0"]]}
	JSON
}

@test "two labs with the same addresses are up at once, each answering for itself" {
	twin twin-a >"$BATS_TEST_TMPDIR/a.json"
	twin twin-b >"$BATS_TEST_TMPDIR/b.json"
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/a.json"
	assert_success
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/b.json"
	assert_success
	# Same address, different labs: each net1 sees its own lab's net0.
	pid_a=$(machine_pid twin-a net1)
	pid_b=$(machine_pid twin-b net1)
	[ "$pid_a" != "$pid_b" ]
	run tbx twin-a net0 wget -q -O - http://10.0.1.3:8000/
	assert_success
	run tbx twin-b net0 wget -q -O - http://10.0.1.3:8000/hostname
	assert_output "net1"
	"$TESTBED" down twin-a
	run tbx twin-b net0 ping -c 1 -W 2 10.0.1.3
	assert_success
	"$TESTBED" down twin-b
}

@test "two concurrent ups of one lab: one builds it, the other is told it is up" {
	twin race >"$BATS_TEST_TMPDIR/race.json"
	"$TESTBED" up -q "$BATS_TEST_TMPDIR/race.json" >"$BATS_TEST_TMPDIR/1" 2>&1 &
	first=$!
	"$TESTBED" up -q "$BATS_TEST_TMPDIR/race.json" >"$BATS_TEST_TMPDIR/2" 2>&1 &
	second=$!
	s1=0 s2=0
	wait "$first" || s1=$?
	wait "$second" || s2=$?
	echo "exits: $s1 $s2" >&2
	[ $((s1 + s2)) -eq 2 ] && [ "$s1" -le 2 ] && [ "$s2" -le 2 ]
	run cat "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2"
	assert_output --partial "lab race is already up"
	run tbx race net0 ping -c 1 -W 2 10.0.1.3
	assert_success
	run "$TESTBED" down race
	assert_success
}

@test "a tarball with path traversal is refused and writes nothing outside the cache" {
	python3 - "$BATS_TEST_TMPDIR/hostile.tar" <<-'PY'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    def add(name, data=b"x", kind=tarfile.REGTYPE, target=""):
	        info = tarfile.TarInfo(name)
	        info.type, info.linkname, info.size = kind, target, len(data) if kind == tarfile.REGTYPE else 0
	        t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
	    add("bin/ok")
	    add("../escaped-by-dotdot")
	PY
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "hostile", "images": {"pod": "$BATS_TEST_TMPDIR/hostile.tar"}, "hosts": [{"name": "h1", "http": false}]}
	JSON
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "unpacking image"
	assert_output --partial "escaped-by-dotdot"
	[ ! -e "$TESTBED_CACHE_DIR/../escaped-by-dotdot" ]
	[ ! -e "$(dirname "$TESTBED_CACHE_DIR")/escaped-by-dotdot" ]
	# No half-unpacked tree is left in the cache either.
	run bash -c "ls -A '$TESTBED_CACHE_DIR' | grep -v '^\.lock$' | grep unpack"
	assert_failure
}

@test "a symlink in an image cannot be used to write outside it" {
	python3 - "$BATS_TEST_TMPDIR/link.tar" "$BATS_TEST_TMPDIR" <<-'PY'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    link = tarfile.TarInfo("etc")
	    link.type, link.linkname = tarfile.SYMTYPE, sys.argv[2]
	    t.addfile(link)
	    f = tarfile.TarInfo("etc/planted")
	    f.size = 1
	    t.addfile(f, io.BytesIO(b"x"))
	PY
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "hostile", "images": {"pod": "$BATS_TEST_TMPDIR/link.tar"}, "hosts": [{"name": "h1", "http": false}]}
	JSON
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	[ ! -e "$BATS_TEST_TMPDIR/planted" ]
}
