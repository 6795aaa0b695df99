#!/usr/bin/env bash
# Action step 2: bring the lab up from the topology input.
#   env TESTBED_INPUT_TOPOLOGY   path, relative to the working directory
# Sets outputs lab and topology; exports TESTBED_ACTION_LAB (so that the
# down step finds the lab even if a later step fails) and
# TESTBED_ACTION_WORK (a scratch folder for the reports).
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
lab=$(jq -r '.name // empty' "$topology")
[ -n "$lab" ] || die "$TESTBED_INPUT_TOPOLOGY: no lab name"
put "$GITHUB_ENV" TESTBED_ACTION_LAB "$lab"
put "$GITHUB_ENV" TESTBED_ACTION_TOPOLOGY "$topology"
put "$GITHUB_OUTPUT" lab "$lab"
put "$GITHUB_OUTPUT" topology "$topology"
as_root "$TESTBED" up "$topology"
