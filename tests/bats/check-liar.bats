# testbed check of a pod whose server answers what no report may hold raw:
# U+FFFE, ESC, links, a mention, an emoji code, an issue reference, a byte
# that is not UTF-8 and a character across the length check keeps (see the
# liar's command in the lab). Every format must pass a strict parser: json
# as strict UTF-8, junit with xmllint against a JUnit schema, tap with prove
# and its YAML blocks with PyYAML, markdown with GitHub's flavour (marked)
# holding no link, mention or emoji code.
bats_require_minimum_version 1.5.0
load helpers

LAB=check-liar
FILE=$REPO/tests/labs/check-liar.json

lab_suite "$FILE"

# What check keeps of the liar's answers (63 and 31 bytes at most, whole
# characters: the euro signs are dropped), as every format shows them.
ANSWER='\xef\xbf\xbe\x1b[31m www.ex.io https://ev.io/x @octocat :smile: #1 \xffxxxxxx'
CLIENT='\xef\xbf\xbf\x1b]0;t\x07 www.ex.io \xffxxxxxxxxx'
export ANSWER CLIENT

# check --format F [OPTION...] into $BATS_TEST_TMPDIR/r.F; both probes fail.
report() {
	local format=$1
	shift
	run "$TESTBED" check --format "$format" --output "$BATS_TEST_TMPDIR/r.$format" --quiet "$@" "$LAB"
	assert_failure 1
	assert_output ""
}

@test "text: the answers escaped and cut between characters" {
	run "$TESTBED" check "$LAB"
	assert_failure 1
	assert_line --partial "  pod-a -> liar http:8000: expected pass, got fail: answered by \"$ANSWER\", not liar ("
	assert_line --partial "got fail: the server saw the client as $CLIENT, not 10."
	assert_equal "${lines[-1]}" "0 passed, 2 failed"
	printf '%s' "$output" | iconv -f UTF-8 -t UTF-8 >/dev/null
}

@test "json: strict UTF-8, the answers as every other format shows them" {
	report json -v
	python3 - "$BATS_TEST_TMPDIR/r.json" <<-'PY'
		import json, os, sys
		r = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", errors="strict"))
		by = {(p["from"], p["to"]): p for p in r["probes"]}
		p = by[("pod-a", "liar")]
		assert p["answeredBy"] == os.environ["ANSWER"], p
		assert p["error"] == 'answered by "%s", not liar' % os.environ["ANSWER"], p
		p = by[("node1", "liar")]
		assert p["client"] == os.environ["CLIENT"], p
		assert p["error"].startswith("the server saw the client as %s, not 10." % os.environ["CLIENT"]), p
	PY
}

@test "junit: well-formed XML 1.0, valid against a JUnit schema" {
	report junit
	run xmllint --noout --schema "$REPO/tests/junit.xsd" "$BATS_TEST_TMPDIR/r.junit"
	assert_success
	run xmllint --xpath 'string(//testcase[contains(@name, "pod-a -> liar")]/failure/@message)' \
		"$BATS_TEST_TMPDIR/r.junit"
	assert_output "expected pass, got fail: answered by \"$ANSWER\", not liar"
}

@test "tap: prove counts the failures, PyYAML reads each YAML block" {
	report tap
	run prove --exec cat "$BATS_TEST_TMPDIR/r.tap"
	assert_failure
	assert_output --partial "Failed 2/2 subtests"
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/r.tap" <<-'PY'
		import os, sys, yaml
		text = open(sys.argv[1], "rb").read().decode("utf-8", errors="strict")
		blocks = [b.split("\n  ...\n")[0] for b in text.split("\n  ---\n")[1:]]
		assert len(blocks) == 2, text
		docs = [yaml.safe_load(b) for b in blocks]
		liar = [d for d in docs if "answered_by" in d]
		assert len(liar) == 1, docs
		assert liar[0]["answered_by"] == os.environ["ANSWER"], liar
		assert liar[0]["message"] == 'expected pass, got fail: answered by "%s", not liar' % os.environ["ANSWER"], liar
	PY
}

@test "markdown: GitHub's flavour makes no link, mention or emoji of an answer" {
	[ -f "$REPO/build/node/node_modules/marked/package.json" ] || skip "marked not installed (make test-bats installs it)"
	report markdown
	run node "$REPO/tests/render-gfm.js" "$BATS_TEST_TMPDIR/r.markdown"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/r.html"
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/r.html" <<-'PY'
		import re, sys, html.parser
		# The page's text outside code spans, where GitHub looks for mentions,
		# emoji codes and references; and every tag.
		class Text(html.parser.HTMLParser):
		    def __init__(self):
		        super().__init__()
		        self.text, self.tags, self.code = [], [], 0
		    def handle_starttag(self, tag, attrs):
		        self.tags.append(tag)
		        self.code += tag == "code"
		    def handle_endtag(self, tag):
		        self.code -= tag == "code"
		    def handle_data(self, data):
		        if not self.code:
		            self.text.append(data)
		source = open(sys.argv[1]).read()
		page = Text()
		page.feed(source)
		text = "".join(page.text)
		assert "a" not in page.tags, source
		assert "answered by" in text and "liar" in text, source
		# What GitHub links in the rendered text: mentions, emoji codes, references.
		for pattern in (r"@\w", r":[a-z0-9_+-]+:", r"#\d", r"www\.", r"https?://"):
		    assert not re.search(pattern, text), (pattern, text)
	PY
}
