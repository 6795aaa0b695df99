#!/usr/bin/env bash
# Action step 1: the build and test dependencies, bin/testbed and the
# rootfs images, all in the action's own checkout.
# shellcheck source=ci/action/lib.sh
. "$(dirname "$0")/lib.sh"
need_runner_files GITHUB_ENV
cd "$TESTBED_HOME"
as_root ./ci/deps.sh
make -j"$(nproc)" bin/testbed
as_root make images
# Later steps (and the caller's own steps) find the program and images here.
put "$GITHUB_ENV" TESTBED_ACTION_BIN "$TESTBED_HOME/bin/testbed"
put "$GITHUB_ENV" TESTBED_ACTION_IMAGES "$TESTBED_HOME/images"
