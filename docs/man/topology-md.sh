#!/bin/sh
# Prints the go-md2man source of testbed-topology(5) made from
# docs/topology.md, the one topology reference: a man page header, then
# the reference with its title dropped and every heading one level up (its
# sections become the page's sections). Link targets inside the repository
# (#anchors, relative paths) mean nothing in a man page, so only the link
# text is kept.
#   docs/man/topology-md.sh docs/topology.md > testbed-topology.5.md
set -eu
cat <<'HEAD'
% TESTBED-TOPOLOGY 5 "" "testbed" "File Formats"

# NAME

testbed-topology - the JSON files that describe testbed's network labs

# DESCRIPTION

HEAD
# Headings are only looked for outside fenced code blocks, where a line
# starting with # may be a shell comment. go-md2man copies a paragraph's
# lines as they are, so one starting with . or ' (such as "../tests/bad/"
# once its link is gone) would be a roff request: it joins the line before,
# which in Markdown is the same paragraph.
awk '
function unlink(s,    out, m) {
	out = ""
	while (match(s, /\[[^]]*\]\([^):]*\)/)) {
		m = substr(s, RSTART, RLENGTH)
		sub(/\]\(.*/, "", m)
		out = out substr(s, 1, RSTART - 1) substr(m, 2)
		s = substr(s, RSTART + RLENGTH)
	}
	return out s
}
/^```/ { fenced = !fenced; print_held(); held = $0; next }
fenced { print_held(); held = $0; next }
/^#+ / {
	if (!title++)
		next
	sub(/^#/, "")
}
{ $0 = unlink($0) }
/^[.\047]/ && held != "" && held !~ /^(```|#)/ { held = held " " $0; next }
{ print_held(); held = $0 }
function print_held() {
	if (have)
		print held
	have = 1
}
END { print_held() }
' "$1"
cat <<'TAIL'

# SEE ALSO

**testbed**(1)
TAIL
