#!/usr/bin/env bash
# Action step 5 (always): take the lab down, whatever happened before; only
# a lab this job's up made (up.sh records none otherwise), never one of that
# name another job brought up.
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
lab=${TESTBED_ACTION_LAB:-}
if [ -z "$lab" ]; then
	echo "testbed action: no lab to take down"
	exit 0
fi
# A lab that up never brought up (or removed after failing) is not an error.
if ! as_root "$TESTBED" status "$lab" >/dev/null 2>&1; then
	echo "testbed action: lab $lab is not up"
	exit 0
fi
as_root "$TESTBED" down "$lab"
