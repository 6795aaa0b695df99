#!/usr/bin/env bash
# The full test run, the same on a laptop, in .ci/run and in GitHub Actions:
# install dependencies, build, build the images, run every test (unit tests,
# unit tests under ASan/UBSan, the fuzz targets for a bounded time, bats
# suites, a subset of them again against the ASan/UBSan build of testbed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "ci/test.sh: run as root (sudo ./ci/test.sh): it installs packages and the lab tests create namespaces" >&2
	exit 2
fi
./ci/deps.sh
make -j"$(nproc)"
make images
# Quick, and needs no lab: workflows, action.yml and every shell script.
make lint
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make test 2>&1 | tee "$log"
make -j"$(nproc)" test-bats-asan 2>&1 | tee -a "$log"
make test-asan 2>&1 | tee -a "$log"
# About a minute: each target runs FUZZ_SECONDS over its seed corpus.
make -j"$(nproc)" fuzz-run FUZZ_SECONDS=30 2>&1 | tee -a "$log"
# The bench at 10 pods, to keep it working (about a minute). Not a test of
# speed: it fails only on errors (a leftover, a broken measurement), and
# its figures do not count in the total below.
make bench BENCH_SIZES=10
# One closing line for the whole run, from the runners' own summaries.
awk '/^(unit|bats|netstate-selftest|fuzz): [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 } END { printf "total: %d passed, %d failed\n", p, f }' "$log"
