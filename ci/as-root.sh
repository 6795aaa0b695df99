#!/bin/sh
# Runs a command as root: through sudo on GitHub's hosted runners (a user
# with password-less sudo), directly in a container job, which runs as root
# and usually has no sudo. The variables CI sets for the tests go along.
if [ "$(id -u)" = 0 ]; then
	exec "$@"
fi
exec sudo --preserve-env=CC,TESTBED_BATS_JUNIT_DIR -- "$@"
