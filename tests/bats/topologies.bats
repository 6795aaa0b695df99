# The examples, the JSON Schema and the command line: no root needed.
bats_require_minimum_version 1.5.0
load helpers

@test "every example validates" {
	[ -f "$REPO/images/pod.tar.zst" ] || skip "images not built"
	for f in "$REPO"/topologies/*.json; do
		run "$TESTBED" validate "$f"
		assert_success
		assert_line --index 0 --regexp '^ok: [0-9]+ nodes, [0-9]+ pods, [0-9]+ hosts$'
		# The examples are small: the article's ARP.
		assert_line --index 1 --regexp '^neighbours: learned \(a full mesh needs at most [0-9]+ learned entries'
	done
	run "$TESTBED" validate "$REPO/topologies/kubenet-two-nodes.json"
	assert_output - <<-EOF
	ok: 2 nodes, 4 pods, 0 hosts
	neighbours: learned (a full mesh needs at most 20 learned entries, within auto's 512 of the kernel's shared 1,024)
	EOF
}

@test "validate says which neighbour design a lab gets and why" {
	[ -f "$REPO/images/pod.tar.zst" ] || skip "images not built"
	run "$TESTBED" validate "$REPO/tests/labs/static-100.json"
	assert_success
	assert_output - <<-EOF
	ok: 2 nodes, 100 pods, 0 hosts
	neighbours: static (a full mesh could need 5,108 learned entries; the kernel's shared table holds 1,024, and auto keeps ARP up to 512)
	EOF
	cd "$REPO/tests/labs"
	run "$TESTBED" validate <(jq '.neighbours = "learned"' static-100.json)
	assert_success
	assert_line --index 1 --partial 'learned, as the topology asks (a full mesh could need 5,108 learned entries, more than'
}

@test "every example matches the JSON Schema" {
	run "$REPO/tests/check-schema.py" "$REPO"/topologies/*.json
	assert_success
	[ "${#lines[@]}" -eq "$(ls "$REPO"/topologies/*.json | wc -l)" ]
}

@test "the schema rejects every bad topology whose error is structural" {
	cd "$REPO/tests/bad"
	semantic=$(grep -v '^#' "$REPO/tests/schema-semantic-cases.txt")
	structural=()
	for f in *.json; do
		grep -qx "${f%.json}" <<<"$semantic" || structural+=("$f")
	done
	[ "${#structural[@]}" -ge 30 ]
	# One interpreter for all of them: it prints "ok FILE" for each file it accepts.
	run "$REPO/tests/check-schema.py" "${structural[@]}"
	assert_failure 1
	refute_line --regexp '^ok '
	for f in "${structural[@]}"; do
		assert_line --partial "$f: "
	done
}

@test "the schema rejects http true, bad names and unknown keys" {
	printf '{"name": "Lab1", "hosts": [{"name": "h", "http": true}], "nodez": []}' >"$BATS_TEST_TMPDIR/t.json"
	run "$REPO/tests/check-schema.py" "$BATS_TEST_TMPDIR/t.json"
	assert_failure 1
	assert_output --partial "'nodez' was unexpected"
	assert_output --partial "hosts[0].http"
	assert_output --partial "name: 'Lab1' does not match"
}

@test "validate: a missing file exits 2 and names it" {
	run "$TESTBED" validate "$BATS_TEST_TMPDIR/nope.json"
	assert_failure 2
	assert_output "$BATS_TEST_TMPDIR/nope.json: cannot read: No such file or directory"
}

@test "validate reads a pipe, standard input as -, and names <stdin> in messages" {
	lab=$REPO/topologies/kubenet-two-nodes.json
	[ -f "$REPO/images/pod.tar.zst" ] || skip "images not built"
	# Relative image paths resolve against the working directory.
	cd "$REPO/topologies"
	run "$TESTBED" validate <(jq . "$lab")
	assert_success
	assert_line --index 0 "ok: 2 nodes, 4 pods, 0 hosts"
	run "$TESTBED" validate - <"$lab"
	assert_success
	assert_line --index 0 "ok: 2 nodes, 4 pods, 0 hosts"
	run "$TESTBED" validate - <<<'{"name": "lab1", "hosts": [{"name": "h", "image": "nope"}]}'
	assert_failure 2
	assert_output '<stdin>:1: hosts[0].image: unknown image "nope": add it to "images"'
	run "$TESTBED" plan - <"$lab"
	assert_success
	assert_output --partial "# Lab kubenet-two"
}

@test "validate stops /dev/zero at the size limit, and refuses a directory or a device" {
	SECONDS=0
	run "$TESTBED" validate /dev/zero
	assert_failure 2
	assert_output "/dev/zero: is larger than 64 MiB, the limit for a topology file"
	[ "$SECONDS" -lt 10 ]
	run "$TESTBED" validate "$BATS_TEST_TMPDIR"
	assert_failure 2
	assert_output "$BATS_TEST_TMPDIR: is a directory, not a topology file"
	if [ "$(id -u)" = 0 ] && mknod "$BATS_TEST_TMPDIR/disk" b 7 0 2>/dev/null; then
		run "$TESTBED" validate "$BATS_TEST_TMPDIR/disk"
		assert_failure 2
		assert_output "$BATS_TEST_TMPDIR/disk: is a device, not a topology file"
	fi
	run "$TESTBED" down /dev/zero
	assert_failure 2
	assert_output "testbed down: /dev/zero: is larger than 64 MiB, the limit for a topology file"
	run "$TESTBED" down -
	assert_failure 2
	assert_output --partial 'testbed down: "-": name the lab or its topology file'
}

@test "validate reports a duplicate key with the line of its first occurrence, also in a huge object" {
	python3 - "$BATS_TEST_TMPDIR/big.json" <<-'PY'
	import sys
	with open(sys.argv[1], "w") as f:
	    f.write('{\n"name": "lab1",\n"hosts": [],\n')
	    for i in range(300000):
	        f.write('"description": "%d",\n' % i)
	    f.write('"name": "again"\n}\n')
	PY
	SECONDS=0
	run --separate-stderr "$TESTBED" validate "$BATS_TEST_TMPDIR/big.json"
	assert_failure 2
	[ "$SECONDS" -lt 20 ]
	[ "${#stderr_lines[@]}" -eq 300000 ]
	[ "${stderr_lines[0]}" = "$BATS_TEST_TMPDIR/big.json:5: description: duplicate key (first on line 4)" ]
	[ "${stderr_lines[299999]}" = "$BATS_TEST_TMPDIR/big.json:300004: name: duplicate key (first on line 2)" ]
}

@test "a topology whose path or images' paths are not UTF-8 is refused: plans and records are JSON" {
	dir=$BATS_TEST_TMPDIR/$'caf\xe9'
	mkdir "$dir"
	cp "$REPO/tests/bad/img.tar" "$dir/img.tar"
	printf '{"name": "lab1", "images": {"pod": "img.tar", "node": "%s/img.tar"}, "nodes": [{"name": "n1", "pods": [{"name": "p"}]}]}' \
		"$REPO/tests/bad" >"$dir/lab.json"
	run "$TESTBED" plan --format json "$dir/lab.json"
	assert_failure 2
	shown=$BATS_TEST_TMPDIR/caf\\xe9
	assert_output - <<-EOF
	$shown/lab.json: the file's path, $shown/lab.json, is not UTF-8: plans and lab records, which name it, are JSON
	$shown/lab.json: image "pod": its path, $shown/img.tar, is not UTF-8: plans and lab records, which name it, are JSON
	EOF
}

@test "validate creates nothing and needs no root" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	# Bats' own temporary folders are private; nobody needs a readable one.
	dir=$(mktemp -d /tmp/testbed-validate.XXXXXX)
	chmod 755 "$dir"
	cp "$REPO/tests/bad/img.tar" "$dir/img.tar"
	printf '{"name": "lab1", "images": {"pod": "img.tar", "node": "img.tar"}, "nodes": [{"name": "n1", "pods": [{"name": "p"}]}]}' >"$dir/lab.json"
	chmod -R a+rX "$dir"
	before=$(find /run /tmp "$dir" -maxdepth 1 2>/dev/null | sort)
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TESTBED" validate "$dir/lab.json"
	after=$(find /run /tmp "$dir" -maxdepth 1 2>/dev/null | sort)
	rm -rf "$dir"
	assert_success
	assert_line --index 0 "ok: 1 nodes, 1 pods, 0 hosts"
	[ "$before" = "$after" ]
}

@test "--help, COMMAND --help and --version" {
	run "$TESTBED" --help
	assert_success
	assert_output --partial "validate"
	assert_output --partial "exec"
	run "$TESTBED" validate --help
	assert_success
	assert_output --partial "Usage: testbed validate"
	run "$TESTBED" up --help
	assert_success
	assert_output --partial "--timeout SECONDS"
	run "$TESTBED" --version
	assert_output "testbed $(cat "$REPO/VERSION")"
}

@test "usage errors exit 2" {
	run "$TESTBED"
	assert_failure 2
	run "$TESTBED" frobnicate
	assert_failure 2
	assert_output --partial "unknown command 'frobnicate'"
	run "$TESTBED" validate
	assert_failure 2
	run "$TESTBED" validate --bogus x.json
	assert_failure 2
	run "$TESTBED" up --timeout 0 x.json
	assert_failure 2
}
