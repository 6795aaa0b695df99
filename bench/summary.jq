# bench/run.sh's figures: the runs (one object per size and run, from the
# scratch namespace) reduced to medians per size, with the ratios between
# testbed and its peers, the machine's load, and what went wrong.
# Arguments: see bench/run.sh.

def median: map(select(. != null)) | sort |
	if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def r1: if . == null then null else . * 10 | round / 10 end;
def r2: if . == null then null else . * 100 | round / 100 end;
def ratio(a; b): if a == null or b == null or b == 0 then null else a / b | r2 end;
def med(f): map(f) | median | r1;

. as $runs |
($runs | group_by(.pods) | map(
	. as $r | ($r | map(select(.testbed.up.ok == true))) as $ok |
	{
		pods: $r[0].pods, nodes: $r[0].nodes, podsPerNode: $r[0].podsPerNode, runs: ($r | length),
		testbed: {
			up: {
				okRuns: ($ok | length),
				failures: [$r[] | .testbed.up | select(.ok == false) | {exit, wallMs, error}],
				wallMs: ($ok | med(.testbed.up.wallMs)),
				timingsMs: (if ($ok | length) == 0 then null else
					($ok[0].testbed.up.timingsMs | keys_unsorted) as $k |
					reduce $k[] as $p ({}; .[$p] = ($ok | med(.testbed.up.timingsMs[$p]))) end)
			},
			check: (if ($ok | length) == 0 then null else {
				wallMs: ($ok | med(.testbed.check.wallMs)),
				probes: ($ok | med(.testbed.check.probes)),
				passed: ($ok | med(.testbed.check.passed)),
				failed: ($ok | med(.testbed.check.failed)),
				probesPerSec: ($ok | med(.testbed.check.probesPerSec)),
				errors: [$ok[] | .testbed.check | select(.error) | .error]
			} end),
			memory: (if ($ok | length) == 0 then null else {
				pssKiBPerPod: ($ok | med(.testbed.memory.pssKiBPerPod)),
				podPssKiBPerPod: ($ok | med(.testbed.memory.podPssKiBPerPod)),
				labProcesses: ($ok | med(.testbed.memory.labProcesses))
			} end),
			down: {
				wallMs: ($ok | med(.testbed.down.wallMs)),
				clean: ($r | all(.testbed.down.clean == true)),
				leftovers: [$r[] | .testbed.down.leftovers // [] | .[]]
			}
		},
		meshes: (($r | map(select(.meshes.up.ok == true))) as $m | {
			okRuns: ($m | length),
			http: {
				wallMs: ($m | med(.meshes.http.wallMs)), probes: ($m | med(.meshes.http.probes)),
				failed: ($m | med(.meshes.http.failed)), probesPerSec: ($m | med(.meshes.http.probesPerSec))
			},
			udp: {
				wallMs: ($m | med(.meshes.udp.wallMs)), probes: ($m | med(.meshes.udp.probes)),
				failed: ($m | med(.meshes.udp.failed)), probesPerSec: ($m | med(.meshes.udp.probesPerSec))
			}
		}),
		mininet: {
			buildMs: med(.mininet.buildMs), stopMs: med(.mininet.stopMs),
			pssKiBPerHost: med(.mininet.pssKiBPerHost),
			staticArpMs: med(.mininet.staticArpMs),
			pingallMs: med(.mininet.pingall.ms), pings: med(.mininet.pingall.pings),
			pingallLossPct: med(.mininet.pingall.lossPct),
			clean: all(.mininet.clean == true),
			limitsApplied: .[0].mininet.limitsApplied, limitsSkipped: .[0].mininet.limitsSkipped
		},
		ipBatch: {
			createMs: med(.ipBatch.createMs), deleteMs: med(.ipBatch.deleteMs),
			commands: .[0].ipBatch.commands, ipProcesses: .[0].ipBatch.ipProcesses,
			reachable: all(.ipBatch.reachable == true), clean: all(.ipBatch.clean == true)
		}
	} |
	.mininet.pingsPerSec = (if .mininet.pingallMs then (.mininet.pings * 1000 / .mininet.pingallMs | floor) else null end) |
	.ratios = {
		upVsMininetBuild: ratio(.testbed.up.wallMs; .mininet.buildMs),
		upVsIpBatchCreate: ratio(.testbed.up.wallMs; .ipBatch.createMs),
		networkPhaseVsIpBatchCreate: ratio(.testbed.up.timingsMs.network; .ipBatch.createMs),
		downVsIpBatchDelete: ratio(.testbed.down.wallMs; .ipBatch.deleteMs),
		downVsMininetStop: ratio(.testbed.down.wallMs; .mininet.stopMs),
		checkVsPingall: ratio(.testbed.check.wallMs; .mininet.pingallMs),
		udpVsHttpProbesPerSec: ratio(.meshes.udp.probesPerSec; .meshes.http.probesPerSec),
		probesPerSecVsPingsPerSec: ratio(.testbed.check.probesPerSec; .mininet.pingsPerSec),
		pssPerPodVsMininetHost: ratio(.testbed.memory.pssKiBPerPod; .mininet.pssKiBPerHost)
	}
)) as $sizes |
{
	bench: {testbed: $testbed, mininet: $mininet, iproute2: $iproute, sizes: $sizeList},
	machine: {
		cpus: $cpus, kernel: $kernel, loadavgBefore: $lb, loadavgAfter: $la,
		wallSeconds: ($wall / 1000 | r1),
		cpuSeconds: {
			machine: ($total / $hz | r1),
			bench: ($bench | r1),
			others: ([($total / $hz) - $bench, 0] | max | r1)
		},
		othersShareOfMachine: (if $wall > 0 then ([($total / $hz) - $bench, 0] | max) / ($cpus * $wall / 1000) | r2 else null end)
	},
	sizes: $sizes,
	problems: [
		($runs[] | (.testbed, .meshes, .ipBatch, .mininet) | select(.error) | .error),
		($runs[] | .pods as $p | .meshes | select(.up.ok == false) | "the http and udp meshes at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
		($runs[] | .pods as $p | .meshes | select(.up.ok == true) | (.http, .udp) | select(.error) | "a mesh at \($p) pods: \(.error)"),
		($runs[] | .pods as $p | .meshes | select(.down.clean == false or (.up.ok == true and .down.ok == false)) | "the meshes' lab at \($p) pods was not taken down cleanly"),
		($sizes[] | . as $s |
			(.testbed.down.leftovers[] | "testbed down at \($s.pods) pods left \(.)"),
			(select(.ipBatch.clean == false) | "ip -batch delete at \($s.pods) pods left namespaces"),
			(select(.ipBatch.createMs != null and .ipBatch.reachable == false) | "the ip -batch wiring at \($s.pods) pods did not pass a ping"),
			(select(.mininet.buildMs != null and .mininet.clean == false) | "Mininet at \($s.pods) hosts left processes or links behind"),
			(.testbed.check.errors // [] | .[] | "testbed check at \($s.pods) pods: \(.)"))
	],
	runs: $runs
}
