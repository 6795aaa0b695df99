# testbed check on a lab where some expectations must fail: exit 1, each
# failure named with its reason, and every report format read back by a
# real parser.
bats_require_minimum_version 1.5.0
load helpers

LAB=check-neg
FILE=$REPO/tests/labs/check-negative.json

setup_file() {
	require_lab_sandbox
	use_lab_dirs
	testbed_up "$FILE"
	# The same lab, written elsewhere: image paths made absolute.
	sed 's|"\.\./\.\./images/|"'"$REPO"'/images/|g' "$FILE" >"$BATS_FILE_TMPDIR/lab.json"
}

setup() {
	use_lab_dirs
}

teardown_file() {
	use_lab_dirs
	testbed_teardown
}

@test "check exits 1 and names every expectation that does not hold, with its reason" {
	run "$TESTBED" check "$LAB"
	assert_failure 1
	assert_line --regexp '^  pod-a -> quiet http:8000: expected pass, got fail: connection refused'
	assert_line --regexp '^  pod-c -> impostor http:8000: expected pass, got fail: answered by "pod-a", not impostor'
	assert_line --regexp '^  pod-a -> lonely ping: expected pass, got fail: lonely has no address'
	assert_line --regexp '^  lonely -> pod-a ping: expected pass, got fail: network unreachable'
	assert_line --regexp '^  pod-c -> pod-a tcp:8000: expected fail, got pass'
	assert_equal "$(grep -c ': expected ' <<<"$output")" 5
	assert_equal "${lines[-1]}" "16 passed, 5 failed"
}

@test "what holds is not reported as failing: blocked as expected, node to pod, the gateway" {
	run "$TESTBED" check "$LAB"
	refute_line --partial "pod-c -> quiet tcp:8000:"
	refute_line --partial "node1 -> pod-a"
	refute_line --partial "pod-a -> gateway"
	refute_line --partial "pod-a -> pod-c"
}

@test "the text report is a truth table per protocol" {
	run "$TESTBED" check "$LAB"
	assert_line --regexp '^ping'
	assert_line --regexp '^http'
	assert_line --regexp '^tcp'
	# pod-c's tcp row: quiet blocked as expected (x), pod-a unexpectedly passing (P).
	assert_line --regexp '^pod-c +.*P'
	assert_line --regexp '^pod-c +.*x'
}

@test "json: every probe with from, to, proto, port, expected, got, latency, error and answerer" {
	run "$TESTBED" check --format json "$LAB"
	assert_failure 1
	echo "$output" >"$BATS_TEST_TMPDIR/r.json"
	python3 - "$BATS_TEST_TMPDIR/r.json" <<-'PY'
		import json, sys
		r = json.load(open(sys.argv[1]))
		assert r["lab"] == "check-neg", r["lab"]
		assert r["summary"] == {"total": 21, "passed": 16, "failed": 5}, r["summary"]
		by = {(p["from"], p["to"], p["proto"]): p for p in r["probes"]}
		p = by[("pod-c", "impostor", "http")]
		assert (p["expected"], p["got"], p["ok"], p["answeredBy"], p["port"]) == ("pass", "fail", False, "pod-a", 8000), p
		p = by[("pod-a", "pod-c", "http")]
		assert p["ok"] and p["answeredBy"] == "pod-c" and p["client"].startswith("10.244.0.2:"), p
		assert p["latencyMs"] > 0 and p["error"] is None, p
		p = by[("lonely", "pod-a", "ping")]
		assert p["port"] is None and p["error"] == "network unreachable", p
		p = by[("pod-c", "pod-a", "tcp")]
		assert (p["expected"], p["got"], p["ok"]) == ("fail", "pass", False), p
		# How the lab was built, from its saved plan, so runs can be compared.
		b = r["build"]
		assert b["planFormat"] == 1 and b["routing"] == "gateway", b
		assert {i["name"] for i in b["images"]} == {"pod", "node"}, b
		assert all(len(i["sha256"]) == 64 for i in b["images"]), b
		assert all(b["timingsMs"][k] >= 0 for k in ("images", "machines", "network", "servers", "total")), b
		assert b["timingsMs"]["total"] > 0, b
	PY
}

@test "junit: valid against a JUnit schema, one testcase per probe, failures with their reason" {
	run "$TESTBED" check --format junit --output "$BATS_TEST_TMPDIR/r.xml" --quiet "$LAB"
	assert_failure 1
	assert_output ""
	run xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/r.xml"
	assert_success
	run xmllint --xpath 'count(//testcase)' "$BATS_TEST_TMPDIR/r.xml"
	assert_output 21
	run xmllint --xpath 'count(//testcase/failure)' "$BATS_TEST_TMPDIR/r.xml"
	assert_output 5
	run xmllint --xpath 'string(//testcase[failure][contains(@name, "impostor")]/failure/@message)' \
		"$BATS_TEST_TMPDIR/r.xml"
	assert_output --partial 'answered by "pod-a"'
}

@test "tap: prove reads it and counts the failures" {
	"$TESTBED" check --format tap --output "$BATS_TEST_TMPDIR/r.tap" --quiet "$LAB" || true
	run head -2 "$BATS_TEST_TMPDIR/r.tap"
	assert_output $'TAP version 13\n1..21'
	run prove --exec cat "$BATS_TEST_TMPDIR/r.tap"
	assert_failure
	assert_output --partial "Failed 5/21 subtests"
}

@test "markdown: renders as tables, with the failures listed" {
	run "$TESTBED" check --format markdown "$LAB"
	assert_failure 1
	echo "$output" >"$BATS_TEST_TMPDIR/r.md"
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/r.md" <<-'PY'
		import sys, markdown, xml.etree.ElementTree as ET
		html = markdown.markdown(open(sys.argv[1]).read(), extensions=["tables"])
		root = ET.fromstring("<div>" + html + "</div>")
		tables = root.findall(".//table")
		assert len(tables) == 3, html  # http, tcp, ping
		for t in tables:
		    header = [th.text or "" for th in t.find("thead").iter("th")]
		    rows = t.find("tbody").findall("tr")
		    assert len(header) >= 2 and rows, html
		    for r in rows:
		        assert len(r.findall("td")) == len(header), ET.tostring(r)
		assert "16 passed, 5 failed" in html, html
		assert "impostor" in html
	PY
}

@test "--output writes the chosen format and still prints the text report" {
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/out.json" "$LAB"
	assert_failure 1
	assert_equal "${lines[-1]}" "16 passed, 5 failed"
	run jq -r '.summary.failed' "$BATS_TEST_TMPDIR/out.json"
	assert_output 5
}

@test "--output never lets a planted symlink make root overwrite its target" {
	dir=$(mktemp -d /tmp/testbed-output.XXXXXX)
	chmod 1777 "$dir"
	echo precious >"$BATS_TEST_TMPDIR/victim"
	# The temporary name of earlier versions, planted: no longer used.
	ln -s "$BATS_TEST_TMPDIR/victim" "$dir/r.json.tmp"
	run "$TESTBED" check --format json --output "$dir/r.json" --quiet "$LAB"
	assert_failure 1
	[ -f "$dir/r.json" ] && [ ! -L "$dir/r.json" ]
	jq -e '.lab == "check-neg"' "$dir/r.json"
	# A symlink at PATH itself, owned by someone else in a folder anyone may write to.
	ln -s "$BATS_TEST_TMPDIR/victim" "$dir/link.json"
	chown -h 65534:65534 "$dir/link.json"
	run "$TESTBED" check --format json --output "$dir/link.json" --quiet "$LAB"
	assert_failure 3
	assert_output --partial "refusing to write through it"
	run cat "$BATS_TEST_TMPDIR/victim"
	assert_output precious
	[ -L "$dir/link.json" ]
	ls -A "$dir" | grep -c . | grep -qx 3 # r.json, r.json.tmp, link.json: no temporary left
	rm -rf "$dir"
	# The user's own link, in the user's own folder, is followed.
	ln -s "$BATS_TEST_TMPDIR/mine.json" "$BATS_TEST_TMPDIR/link.json"
	chmod 700 "$BATS_TEST_TMPDIR"
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/link.json" --quiet "$LAB"
	assert_failure 1
	[ -L "$BATS_TEST_TMPDIR/link.json" ]
	jq -e '.lab == "check-neg"' "$BATS_TEST_TMPDIR/mine.json"
}

@test "--output to a device or FIFO writes in place and never replaces it" {
	run "$TESTBED" check --format json --output /dev/full --quiet "$LAB"
	assert_failure 3
	assert_output --partial "/dev/full: No space left on device"
	[ -c /dev/full ]
	run "$TESTBED" check --format json --output /dev/null --quiet "$LAB"
	assert_failure 1
	[ -c /dev/null ]
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	cat "$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/got" &
	reader=$!
	run "$TESTBED" check --format json --output "$BATS_TEST_TMPDIR/fifo" --quiet "$LAB"
	assert_failure 1
	wait "$reader"
	[ -p "$BATS_TEST_TMPDIR/fifo" ]
	jq -e '.lab == "check-neg"' "$BATS_TEST_TMPDIR/got"
	run "$TESTBED" check --format tap --output /dev/stdout --quiet "$LAB"
	assert_failure 1
	assert_line "TAP version 13"
	run "$TESTBED" check --output "$BATS_TEST_TMPDIR" --quiet "$LAB"
	assert_failure 3
	assert_output --partial "is a directory"
}

@test "colour on a terminal only, and never with NO_COLOR" {
	run bash -c "script -qefc '$TESTBED check $LAB' /dev/null"
	assert_output --partial $'\e['
	run bash -c "NO_COLOR=1 script -qefc '$TESTBED check $LAB' /dev/null"
	refute_output --partial $'\e['
	run "$TESTBED" check "$LAB"
	refute_output --partial $'\e['
}

@test "verbose lists every probe, and the neighbour entries each failing path needs" {
	run "$TESTBED" check --verbose "$LAB"
	assert_failure 1
	assert_line --regexp '^  \. pod-a -> pod-c http:8000 \(client IP preserved\): pass, [0-9.]+ ms, answered by pod-c, client 10\.244\.0\.2:[0-9]+$'
	assert_line --regexp '^  x pod-c -> quiet tcp:8000: fail, [0-9.]+ ms: connection refused$'
	assert_line --regexp '^  \. pod-a -> gateway ping: pass, [0-9.]+ ms$'
	# Under the failure pod-a -> quiet: pod-a reaches quiet on cbr0 directly, and has its MAC.
	assert_line --regexp '^    pod-a eth0 -> 10\.244\.0\.3: ([0-9a-f]{2}:){5}[0-9a-f]{2} [A-Z]+$'
	# lonely has no route at all.
	assert_line --regexp '^    lonely: dropped: Network is unreachable$'
}

@test "a topology FILE may bring its own expectations; one describing another lab is refused" {
	jq '.expect = [{"from": "pod-a", "to": "pod-c"}, {"from": "pod-c", "to": "quiet", "proto": "ping"}]' \
		"$BATS_FILE_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/only.json"
	run "$TESTBED" check "$BATS_TEST_TMPDIR/only.json"
	assert_success
	assert_equal "${lines[-1]}" "2 passed, 0 failed"
	# Read once: from a pipe too.
	run bash -c '"$TESTBED" check <(cat "$1")' bash "$BATS_TEST_TMPDIR/only.json"
	assert_success
	assert_equal "${lines[-1]}" "2 passed, 0 failed"
	jq '.nodes[1].pods += [{"name": "extra"}]' "$BATS_FILE_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/other.json"
	run "$TESTBED" check "$BATS_TEST_TMPDIR/other.json"
	assert_failure 2
	assert_output --partial "describes a different lab than the running check-neg"
}

@test "a probe that gets no answer fails after --timeout, and --retries tries again" {
	# node2 drops what is forwarded to pod-c's port 8000: SYNs go unanswered.
	run tbx "$LAB" node2 nft -f - <<-'NFT'
		table inet testdrop {
			chain forward {
				type filter hook forward priority 0; policy accept;
				tcp dport 8000 ip daddr 10.244.1.2 drop
			}
		}
	NFT
	assert_success
	jq '.expect = [{"from": "pod-a", "to": "pod-c"}]' "$BATS_FILE_TMPDIR/lab.json" >"$BATS_TEST_TMPDIR/t.json"
	run "$TESTBED" check --timeout 0.3 --retries 1 --format json "$BATS_TEST_TMPDIR/t.json"
	tbx "$LAB" node2 nft delete table inet testdrop
	assert_failure 1
	run jq -r '.probes[0] | "\(.got) \(.error) \(.latencyMs < 1000) \(.attempts)"' <<<"$output"
	assert_output "fail no answer to the connection request within 300 ms true 2"
}

@test "bad usage exits 2: unknown lab, unknown option, bad format, bad timeout" {
	run "$TESTBED" check no-such-lab
	assert_failure 2
	assert_output --partial "lab no-such-lab is not up"
	run "$TESTBED" check --bogus "$LAB"
	assert_failure 2
	run "$TESTBED" check --format yaml "$LAB"
	assert_failure 2
	assert_output --partial "expected text, json, junit, tap or markdown"
	run "$TESTBED" check --timeout 0 "$LAB"
	assert_failure 2
}
