#!/usr/bin/env bash
# Action step 6: fail when an expectation did not hold (check exited 1).
# Last, so that the report, the summary and down come first.
#   env TESTBED_CHECK_STATUS   check's exit code, from the check step
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
case "${TESTBED_CHECK_STATUS:-}" in
0) echo "testbed: every expectation holds" ;;
1)
	echo "::error title=testbed check::some expectations do not hold; see the report and the job summary"
	exit 1
	;;
*) die "check's status is unknown (${TESTBED_CHECK_STATUS:-unset})" ;;
esac
