# The man pages: both build and render cleanly at 80 columns, testbed(1)
# lists exactly the commands and options --help prints, and
# testbed-topology(5) names every top-level field of the schema. No root
# or lab needed.
bats_require_minimum_version 1.5.0
load helpers

PAGE_SRC=docs/man/testbed.1.md

setup_file() {
	command -v go-md2man >/dev/null || {
		echo "go-md2man missing: run make deps" >&2
		return 1
	}
	make -C "$REPO" --no-print-directory man >&2
}

# Renders a page as a reader sees it: plain text at 80 columns, troff's
# and tbl's warnings on stderr. In the C locale, so that tables are drawn
# in ASCII and awk's length counts columns.
render() {
	LC_ALL=C MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -l "$1"
}

# The commands of testbed --help: the lines after "Commands:" up to the
# blank line.
help_commands() {
	"$TESTBED" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' | sort
}

# The commands of testbed(1): its ### subsections under # COMMANDS.
page_commands() {
	awk '/^# / { on = ($0 == "# COMMANDS") } on && /^### / { print $2 }' "$REPO/$PAGE_SRC" | sort
}

# Option names (-s and --long), one a line, sorted, from lines that define
# options: in --help, lines starting with spaces and a dash; in the page,
# the terms (lines starting with **-) of the command's subsection.
names() { grep -oE '(^|[ ,*])-(-[a-z][a-z-]*|[a-zA-Z])' | sed 's/^[ ,*]*//' | sort -u; }

help_options() {
	"$TESTBED" "$1" --help | grep -E '^ +-' | names
}

page_options() {
	awk -v cmd="$1" '
		/^##?#? / { on = ($1 == "###" && $2 == cmd) }
		on && /^\*\*-/' "$REPO/$PAGE_SRC" | names
}

# The page's term lines of a command, for probing the parser: "--timeout
# x" for an option that takes an argument (the term has *ARG*), "--json"
# for one that does not; both names of "-q, --quiet".
page_terms() {
	awk -v cmd="$1" '
		/^##?#? / { on = ($1 == "###" && $2 == cmd) }
		on && /^\*\*-/ {
			arg = $0 ~ /\*[A-Z]+\*[ \t]*$/ ? " x" : ""
			n = split($0, w, /[ ,]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^\*\*-/) {
					gsub(/\*/, "", w[i])
					print w[i] arg
				}
		}' "$REPO/$PAGE_SRC"
}

@test "both pages build and render at 80 columns without a warning" {
	for page in build/man/testbed.1 build/man/testbed-topology.5; do
		[ -s "$REPO/$page" ]
		run --separate-stderr render "$REPO/$page"
		assert_success
		[ -z "$stderr" ] || { echo "$page: $stderr" >&2; return 1; }
		assert_line NAME
		assert_line DESCRIPTION
		# No line wider than the page: tables wrap, text fills. Code
		# blocks (verbatim, 14 columns in) may be wider: they hold
		# messages quoted as testbed prints them.
		run awk 'length > 80 && $0 !~ /^              / { print FILENAME ": " $0 }' <(render "$REPO/$page")
		assert_output ""
	done
	run --separate-stderr render "$REPO/build/man/testbed.1"
	assert_line --regexp '^TESTBED\(1\) +User Commands +TESTBED\(1\)$'
	assert_line --regexp '^ +testbed +- +build +Kubernetes-style'
	assert_line SYNOPSIS
	assert_line COMMANDS
	assert_line "EXIT STATUS"
	assert_line --regexp '^   check \[OPTIONS\] FILE\|NAME$'
	run --separate-stderr render "$REPO/build/man/testbed-topology.5"
	assert_line --regexp '^TESTBED-TOPOLOGY\(5\) +File Formats +TESTBED-TOPOLOGY\(5\)$'
	assert_line --regexp '^ +testbed-topology +- '
	assert_line "Top level"
	assert_line "Expectations"
	# topology.md's title is dropped, its link targets too.
	refute_output --partial "Topology reference"
	refute_output --partial "#expectations"
}

@test "every table of testbed-topology(5) is made of text blocks" {
	roff=$REPO/build/man/testbed-topology.5
	tables=$(grep -c '^\.TS' "$roff")
	[ "$tables" -ge 8 ]
	# One format line per table, the widest column expanded.
	[ "$(grep -cE '^(lw\([0-9]+\) )*lx (lw\([0-9]+\) )*\.$' "$roff")" -eq "$tables" ]
	# No row broken by a link: the expect row is one row, its link text in it.
	run render "$roff"
	assert_line --regexp '^ +\|expect +\| array +\| none +\| What testbed check probes; +\|$'
}

@test "testbed(1) lists exactly the commands of testbed --help" {
	help=$(help_commands)
	page=$(page_commands)
	[ "$(wc -l <<<"$help")" -ge 10 ]
	diff <(echo "$help") <(echo "$page") || {
		echo "< only in testbed --help, > only in $PAGE_SRC" >&2
		return 1
	}
}

@test "testbed(1) lists exactly the options of every COMMAND --help" {
	checked=0
	for cmd in $(help_commands); do
		diff <(help_options "$cmd") <(page_options "$cmd") || {
			echo "$cmd: < only in testbed $cmd --help, > only in $PAGE_SRC" >&2
			return 1
		}
		checked=$((checked + $(help_options "$cmd" | wc -l)))
	done
	# check alone has 10 names; an empty parse must not pass.
	[ "$checked" -ge 20 ]
}

@test "testbed takes every option testbed(1) lists, with an argument where it shows one" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	# "CMD OPTION --help" prints the help only if OPTION parses (else
	# exit 2), and stops there. As nobody, with a state directory of its
	# own, so that a term the page gets wrong (an option that does take an
	# argument would swallow --help) can still change nothing.
	export TESTBED_STATE_DIR=$BATS_TEST_TMPDIR/state
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	run nobody "$TESTBED" status --bogus --help
	assert_failure 2
	probed=0
	for cmd in $(page_commands); do
		while read -r term; do
			# shellcheck disable=SC2086 # the term is an option and maybe its argument
			run nobody "$TESTBED" "$cmd" $term --help
			[ "$status" -eq 0 ] && [ "${lines[0]}" = "Usage: testbed $cmd [--help] ${lines[0]#*\] }" ] || {
				echo "testbed $cmd $term --help: exit $status: $output" >&2
				return 1
			}
			probed=$((probed + 1))
		done < <(page_terms "$cmd")
	done
	[ "$probed" -ge 20 ]
}

@test "testbed-topology(5) names every top-level field of the JSON Schema" {
	text=$(render "$REPO/build/man/testbed-topology.5")
	fields=$(jq -r '.properties | keys[]' "$REPO/docs/topology.schema.json")
	[ "$(wc -l <<<"$fields")" -ge 10 ]
	for f in $fields; do
		grep -qE "(^|[^A-Za-z\$])$(sed 's/\$/\\$/' <<<"$f")([^A-Za-z]|$)" <<<"$text" || {
			echo "$f: not in testbed-topology(5)" >&2
			return 1
		}
	done
}
