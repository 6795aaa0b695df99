#!/usr/bin/env bash
# Action step 3: check the lab's expectations and publish the report.
#   env TESTBED_INPUT_EXPECT   optional topology FILE whose expect list to probe
#   env TESTBED_INPUT_FORMAT   report format (junit, json, tap, markdown, text)
# Sets outputs report (the report's path) and status (check's exit code).
# Exits 0 when check ran, whatever it found (the verdict step fails the job
# after the summary and down have run); a check that could not run (exit 2
# or 3) fails here.
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
need_runner_files GITHUB_OUTPUT TESTBED_ACTION_WORK TESTBED_ACTION_LAB
format=${TESTBED_INPUT_FORMAT:-junit}
case "$format" in
junit) ext=xml ;;
json) ext=json ;;
tap) ext=tap ;;
markdown) ext=md ;;
text) ext=txt ;;
*) die "format $format: expected junit, json, tap, markdown or text" ;;
esac
work=$TESTBED_ACTION_WORK
target=$TESTBED_ACTION_LAB
if [ -n "${TESTBED_INPUT_EXPECT:-}" ]; then
	[ -f "$TESTBED_INPUT_EXPECT" ] || die "expect $TESTBED_INPUT_EXPECT: no such file"
	target=$(with_images "$TESTBED_INPUT_EXPECT" "$work/expect.json")
fi
report=$work/report.$ext

status=0
# The text report goes to the log as well.
as_root "$TESTBED" check --format "$format" --output "$report" "$target" || status=$?
put "$GITHUB_OUTPUT" status "$status"
if [ "$status" -gt 1 ]; then
	echo "testbed action: check could not run (exit $status)" >&2
	exit "$status"
fi
# The job summary's tables, from a second run unless the report is them.
if [ "$format" = markdown ]; then
	cp "$report" "$work/summary.md"
else
	as_root "$TESTBED" check --quiet --format markdown --output "$work/summary.md" "$target" || true
fi
give_back "$report" "$work/summary.md"
put "$GITHUB_OUTPUT" report "$report"
