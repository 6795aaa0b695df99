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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make test 2>&1 | tee "$log"
make test-asan 2>&1 | tee -a "$log"
# One closing line for the whole run, from the runners' own summaries.
awk '/^(unit|bats|netstate-selftest): [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 } END { printf "total: %d passed, %d failed\n", p, f }' "$log"
