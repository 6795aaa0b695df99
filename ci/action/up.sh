#!/usr/bin/env bash
# Action step 2: bring the lab up from the topology input.
#   env TESTBED_INPUT_TOPOLOGY   path, relative to the working directory
# Exports TESTBED_ACTION_WORK (a scratch folder for the reports),
# TESTBED_ACTION_TOPOLOGY and TESTBED_ACTION_NAME (the topology and its lab's
# name, once testbed accepted it) and, only once up has made the lab,
# TESTBED_ACTION_LAB (the lab down takes down) and the outputs lab and
# topology. An up that fails, say because another job's lab of that name is
# up, records no lab: down must not take down a lab this job did not make.
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
need_runner_files GITHUB_ENV GITHUB_OUTPUT
topology=${TESTBED_INPUT_TOPOLOGY:-}
[ -n "$topology" ] || die "the topology input is required"
[ -f "$topology" ] || die "topology $topology: no such file"

work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/testbed-action.XXXXXX")
put "$GITHUB_ENV" TESTBED_ACTION_WORK "$work"

# A caller's topology cannot know where the action's images are; one that
# names none gets the action's own, in a copy (with absolute paths, the
# copy's folder does not matter).
topology=$(with_images "$topology" "$work/topology.json")
# The name as testbed reads it, from the plan of a topology it accepts (it
# prints the errors, escaped), never from the file's raw text.
lab=$("$TESTBED" plan --format json "$topology" | jq -r '.lab | strings') || lab=
[ -n "$lab" ] || die "$TESTBED_INPUT_TOPOLOGY: testbed refused the topology"
put "$GITHUB_ENV" TESTBED_ACTION_TOPOLOGY "$topology"
put "$GITHUB_ENV" TESTBED_ACTION_NAME "$lab"
as_root "$TESTBED" up "$topology"
put "$GITHUB_ENV" TESTBED_ACTION_LAB "$lab"
put "$GITHUB_OUTPUT" lab "$lab"
put "$GITHUB_OUTPUT" topology "$topology"
