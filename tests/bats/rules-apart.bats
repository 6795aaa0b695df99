# Nodes' rule sets loaded side by side (orchestrator/steps/apart.c): up
# loads every node's kube-proxy and egress tables, one node per CPU, each
# node's in plan order; a node whose table the kernel refuses fails up
# naming the node and the table, and up removes everything it made. (That
# the loaded lab equals its plan's script is plan-replay.bats's "replay: a
# lab with Services".)
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	command -v cc >/dev/null || skip "no C compiler for the refusing shim"
	# A stand-in for libnftables' nft_run_cmd_from_buffer, preloaded: a
	# rule set holding $TESTBED_TEST_NFT_REFUSE gets one more command the
	# kernel refuses (a jump to a chain that does not exist), so the real
	# libnftables and kernel fail it as they fail a bad rule set.
	cat >"$BATS_FILE_TMPDIR/refuse.c" <<-'C'
	#define _GNU_SOURCE
	#include <dlfcn.h>
	#include <stdio.h>
	#include <stdlib.h>
	#include <string.h>
	struct nft_ctx;
	int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf)
	{
		int (*real)(struct nft_ctx *, const char *) =
			(int (*)(struct nft_ctx *, const char *))dlsym(RTLD_NEXT, "nft_run_cmd_from_buffer");
		const char *mark = getenv("TESTBED_TEST_NFT_REFUSE");
		if (!mark || !strstr(buf, mark))
			return real(nft, buf);
		char *bad = NULL;
		if (asprintf(&bad, "%sadd rule ip kube-proxy services jump no-such-chain\n", buf) < 0)
			return 1;
		int rc = real(nft, bad);
		free(bad);
		return rc;
	}
	C
	cc -shared -fPIC -o "$BATS_FILE_TMPDIR/refuse.so" "$BATS_FILE_TMPDIR/refuse.c" -ldl
}

setup() {
	use_lab_dirs
	host_snapshot >"$BATS_TEST_TMPDIR/host.before"
	# 4 nodes, 4 Deployments of 2 replicas, 40 Services of 2 endpoints each.
	jq -n --arg repo "$REPO" '{
		name: "apart",
		images: {pod: "\($repo)/images/pod.tar.zst", node: "\($repo)/images/node.tar.zst"},
		nodes: [range(1; 5) as $n | {name: "node\($n)"}],
		objects: ([range(1; 5) as $d | {apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "app\($d)"},
			spec: {replicas: 2, selector: {matchLabels: {app: "app\($d)"}},
				template: {metadata: {labels: {app: "app\($d)"}},
					spec: {containers: [{name: "web", ports: [{name: "http", containerPort: 8000}]}]}}}}]
			+ [range(1; 41) as $k | {apiVersion: "v1", kind: "Service", metadata: {name: "svc\($k)"},
				spec: {selector: {app: "app\($k % 4 + 1)"}, ports: [{port: 80, targetPort: "http"}]}}])
	}' >"$BATS_TEST_TMPDIR/lab.json"
}

teardown() {
	"$TESTBED" down apart >/dev/null 2>&1 || true
}

assert_nothing_left() {
	[ ! -e "$TESTBED_STATE_DIR" ] || { ls -R "$TESTBED_STATE_DIR" >&2; return 1; }
	host_snapshot >"$BATS_TEST_TMPDIR/host.after"
	diff "$BATS_TEST_TMPDIR/host.before" "$BATS_TEST_TMPDIR/host.after"
}

@test "up loads every node's tables, and times them" {
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	for n in 1 2 3 4; do
		run "$TESTBED" exec apart "node$n" -- nft list tables
		assert_success
		assert_line "table ip kube-proxy"
		assert_line "table ip testbed-egress"
		# Each node's own table: its address takes its NodePorts.
		run "$TESTBED" exec apart "node$n" -- nft list set ip kube-proxy nodeport-ips
		assert_output --partial "10.10.0.$((n + 1))"
		run "$TESTBED" exec apart "node$n" -- sh -c 'nft list table ip kube-proxy | grep -c "^[[:space:]]*chain service-.*/tcp/"'
		assert_output 40
	done
	run "$TESTBED" status apart --json
	assert_success
	run jq -e '.labs[0].plan.timings | .rules > 0 and .rules <= .network' <<<"$output"
	assert_success
	"$TESTBED" down apart
	assert_nothing_left
}

@test "a node whose table the kernel refuses fails up naming the node and the table; nothing is left" {
	# node3's table (its address is in nodeport-ips) is the one refused.
	run env LD_PRELOAD="$BATS_FILE_TMPDIR/refuse.so" TESTBED_TEST_NFT_REFUSE="nodeport-ips { 10.10.0.4 }" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "node3: nft table ip kube-proxy: "
	refute_output --partial "node1: nft"
	refute_output --partial "node2: nft"
	refute_output --partial "node4: nft"
	# up removed the lab: no machine runs, its namespaces, links and cgroup
	# are gone; only the kept output waits for down.
	run "$TESTBED" status apart
	refute_output --partial "node3"
	"$TESTBED" down apart
	assert_nothing_left
}

@test "the refusing shim refuses only where it is told to: the same up without the mark succeeds" {
	# Proves the test above fails for the reason it names, not the preload.
	LD_PRELOAD="$BATS_FILE_TMPDIR/refuse.so" TESTBED_TEST_NFT_REFUSE="no such text" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	run "$TESTBED" exec apart node3 -- nft list tables
	assert_line "table ip kube-proxy"
	"$TESTBED" down apart
	assert_nothing_left
}
