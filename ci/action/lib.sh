# shellcheck shell=bash
# Shared by the composite action's steps (sourced, not run). Each step is a
# script of its own so that tests/bats/action.bats can run them in order
# without GitHub; values travel between steps through $GITHUB_ENV and
# $GITHUB_OUTPUT, as the runner passes them.
set -euo pipefail

# The testbed checkout the action runs from: the runner's action path, or
# (run by hand or by the test) the repository this script belongs to.
TESTBED_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # used by the step scripts that source this
TESTBED=${TESTBED_BIN:-$TESTBED_HOME/bin/testbed}

# GitHub's hosted runners run steps as a user with password-less sudo; a
# container job runs them as root, where sudo is usually not installed.
# Only what needs root goes through it; the lab's state and cache
# locations go along, since sudo resets the environment.
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		sudo --preserve-env=TESTBED_STATE_DIR,TESTBED_CACHE_DIR,TESTBED_BIN -- "$@"
	fi
}

# Appends NAME=VALUE to one of the runner's files ($GITHUB_OUTPUT,
# $GITHUB_ENV). Values here are paths and lab names: one line each, so a
# newline in one is refused rather than allowed to inject another key.
put() {
	local file=$1 name=$2 value=$3
	if [[ $value == *$'\n'* ]]; then
		echo "testbed action: $name holds a newline; refused" >&2
		return 1
	fi
	printf '%s=%s\n' "$name" "$value" >>"$file"
}

die() {
	echo "testbed action: $*" >&2
	exit 2
}

# The runner's own files must be there; outside GitHub the caller sets them.
need_runner_files() {
	local v
	for v in "$@"; do
		[ -n "${!v:-}" ] || die "$v is not set (the runner sets it; set it by hand to run this step alone)"
	done
}

# Prints FILE, or when FILE has no "images", writes COPY (FILE with the
# action's images filled in) and prints that. A FILE that is no JSON object
# is printed as it is, for testbed to say what is wrong with it.
with_images() {
	local file=$1 copy=$2 has=0
	jq -e 'type != "object" or has("images")' "$file" >/dev/null 2>&1 || has=$?
	if [ "$has" != 1 ]; then
		echo "$file"
		return
	fi
	jq --arg pod "$TESTBED_HOME/images/pod.tar.zst" --arg node "$TESTBED_HOME/images/node.tar.zst" \
		'.images = {pod: $pod, node: $node}' "$file" >"$copy"
	echo "$copy"
}

# Gives files root wrote back to the user running the step, so that the
# runner's later steps (upload-artifact, the workspace cleanup) can use them.
give_back() {
	[ "$(id -u)" = 0 ] || as_root chown "$(id -u):$(id -g)" "$@"
}

# TEXT for Markdown (the job summary): every ASCII punctuation character
# backslash-escaped, so that no text can become a link, HTML or formatting.
# A hyphen stays: inside a line it is plain text, and lab names have many.
md_escape() {
	local text=$1 out='' c i
	# shellcheck disable=SC2016 # the characters themselves, nothing to expand
	local punct='!"#$%&'\''()*+,./:;<=>?@[\]^_`{|}~'
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		[[ $punct != *"$c"* ]] || c="\\$c"
		out+=$c
	done
	printf '%s' "$out"
}
