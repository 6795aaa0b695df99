#!/usr/bin/env bash
# Action step 4 (always): the job summary: check's truth tables in
# Markdown and the lab's graph in a mermaid block, which GitHub draws.
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
need_runner_files GITHUB_STEP_SUMMARY
name=${TESTBED_ACTION_NAME:-}
lab=${TESTBED_ACTION_LAB:-}
work=${TESTBED_ACTION_WORK:-}
if [ -z "$name" ]; then
	echo "testbed action: testbed accepted no topology; no summary" >&2
	exit 0
fi
# The lab this job brought up, from its saved plan; else (up failed) the
# topology file, which needs no lab. Never the running lab of that name
# when this job did not bring it up: it may be another job's.
graph=
if [ -n "$lab" ]; then
	graph=$(as_root "$TESTBED" graph "$lab" 2>/dev/null) || graph=
fi
[ -n "$graph" ] || graph=$("$TESTBED" graph "${TESTBED_ACTION_TOPOLOGY:-}") || graph=
{
	printf '## testbed: %s\n\n' "$(md_escape "$name")"
	if [ -z "$lab" ]; then
		echo "up did not bring the lab up: see the job's log."
	elif [ -n "$work" ] && [ -s "$work/summary.md" ]; then
		cat "$work/summary.md"
	else
		echo "check did not run: see the job's log."
	fi
	if [ -n "$graph" ]; then
		# shellcheck disable=SC2016 # backticks are Markdown's fence, not a command
		printf '\n### The lab\n\n```mermaid\n%s\n```\n' "$graph"
	fi
} >>"$GITHUB_STEP_SUMMARY"
