#!/usr/bin/env bash
# Runs the bats suites inside a scratch network and mount namespace, so that
# even a bug cannot send a lab's packet to the machine's real interfaces;
# inside, that namespace plays the host. Afterwards the machine's network
# namespaces, links, addresses, routes, rules, nft ruleset and mounts must be exactly as before.
#   tests/run-bats.sh [SUITE.bats ...]     default: every suite in tests/bats
# With TESTBED_BATS_JUNIT_DIR set, bats also writes a JUnit report (for CI
# test reporters) into a fresh folder under it, one per run, since
# ci/test.sh runs the suites more than once.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
	set -- tests/bats/*.bats
fi
if [ "$(id -u)" != 0 ]; then
	echo "run-bats: the suites create namespaces; run as root" >&2
	exit 2
fi

snapshot() {
	echo "== netns"; ip netns list
	echo "== links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	echo "== mounts"; findmnt -rn -o TARGET | sort
	echo "== addresses"; ip -o addr show | awk '{print $2, $3, $4}' | sort
	echo "== routes"; ip route show table all | sort
	echo "== rules"; ip rule show
	echo "== nft"; nft list ruleset 2>/dev/null || true
	echo "== ip_forward"; sysctl -n net.ipv4.ip_forward
}
before=$(snapshot)

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
report=()
if [ -n "${TESTBED_BATS_JUNIT_DIR:-}" ]; then
	mkdir -p "$TESTBED_BATS_JUNIT_DIR"
	report=(--report-formatter junit --output "$(mktemp -d "$TESTBED_BATS_JUNIT_DIR/run.XXXXXX")")
	# Root runs this; CI uploads the report as its own user.
	chmod a+rx "${report[-1]}"
fi
status=0
unshare --net --mount --propagation private -- bash -c 'ip link set lo up && exec bats --tap --timing "$@"' bats ${report[@]+"${report[@]}"} "$@" \
	| tee "$tap" || status=$?

after=$(snapshot)
if [ "$before" != "$after" ]; then
	echo "run-bats: the tests left something behind on the machine:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	status=1
fi
skipped=$(grep -c '^ok .* # skip' "$tap" || true)
passed=$(( $(grep -c '^ok ' "$tap" || true) - skipped ))
failed=$(grep -c '^not ok ' "$tap" || true)
echo "bats: $passed passed, $failed failed, $skipped skipped"
exit "$status"
