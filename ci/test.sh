#!/usr/bin/env bash
# The full test run, the same on a laptop, in .ci/run and in GitHub Actions:
# install dependencies, build, build the images, run every test (unit tests,
# unit tests under ASan/UBSan, bats suites).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "ci/test.sh: run as root (sudo ./ci/test.sh): it installs packages and the lab tests create namespaces" >&2
	exit 2
fi
./ci/deps.sh
make -j"$(nproc)"
make images
make test
make test-asan
echo "ci/test.sh: all tests passed"
