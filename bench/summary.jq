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
# The median of each run's ratio a / b: for figures taken back to back in one
# run, so that each ratio pairs figures the same load weighed on.
def medratio(a; b): map(if a == null or b == null or b == 0 then null else a / b end) | median | r2;
# A lab of bench/measure-variants.sh, its turns in one run reduced to one:
# the faster up (a load only ever slows an up down) with its phases, and the
# turns' mean PSS; null unless every turn came up.
def turns: if type == "array" and length > 0 and all(.up.ok == true) then
	min_by(.up.wallMs) as $f | {
		upMs: $f.up.wallMs, timingsMs: $f.up.timingsMs,
		pssKiBPerPod: (map(.memory.pssKiBPerPod) | add / length),
		podPssKiBPerPod: (map(.memory.podPssKiBPerPod) | add / length)
	} else null end;
# The phases testbed records, each the median over runs.
def phases(f): if length == 0 or (.[0] | f) == null then null else
	(.[0] | f | keys_unsorted) as $k | . as $x | reduce $k[] as $p ({}; .[$p] = ($x | med(f[$p]))) end;

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
				timingsMs: ($ok | phases(.testbed.up.timingsMs))
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
		# The same pods three ways (bench/measure-variants.sh): validate and
		# plan are the medians of each run's timed runs, then over runs; ups
		# and PSS each run's lab's turns in one (turns), then over runs.
		variants: (($r | map(.variants | {load, inline: (.inline | turns), manifests: (.manifests | turns),
			ports: (.ports | turns)})) as $v |
			($v | map(select(.inline and .manifests))) as $m | ($v | map(select(.inline and .ports))) as $p | {
			manifests: {
				deployments: $r[0].deployments,
				validateMs: ($v | med(.load.manifests.validate.ms // [] | median)),
				planMs: ($v | med(.load.manifests.plan.ms // [] | median)),
				planBytes: $v[0].load.manifests.plan.bytes,
				inlineValidateMs: ($v | med(.load.inline.validate.ms // [] | median)),
				inlinePlanMs: ($v | med(.load.inline.plan.ms // [] | median)),
				okRuns: ($m | length),
				upMs: ($m | med(.manifests.upMs)),
				inlineUpMs: ($m | med(.inline.upMs)),
				timingsMs: ($m | phases(.manifests.timingsMs)),
				inlineTimingsMs: ($m | phases(.inline.timingsMs))
			},
			ports: {
				okRuns: ($p | length),
				upMs: ($p | med(.ports.upMs)),
				onePortUpMs: ($p | med(.inline.upMs)),
				timingsMs: ($p | phases(.ports.timingsMs)),
				pssKiBPerPod: ($p | med(.ports.pssKiBPerPod)),
				onePortPssKiBPerPod: ($p | med(.inline.pssKiBPerPod)),
				podPssKiBPerPod: ($p | med(.ports.podPssKiBPerPod)),
				onePortPodPssKiBPerPod: ($p | med(.inline.podPssKiBPerPod))
			},
			ratios: {
				manifestsUpVsInlineUp: ($m | medratio(.manifests.upMs; .inline.upMs)),
				portsUpVsOnePortUp: ($p | medratio(.ports.upMs; .inline.upMs)),
				portsPssVsOnePortPss: ($p | medratio(.ports.pssKiBPerPod; .inline.pssKiBPerPod)),
				portsPodPssVsOnePortPodPss: ($p | medratio(.ports.podPssKiBPerPod; .inline.podPssKiBPerPod))
			}
		}),
		# What Services cost (bench/measure-services.sh): figures are the
		# medians over runs; a floor is a run's faster round of its two.
		services: (($r | map(.services)) as $v | ($v | map(select(.many.lab.up.ok == true))) as $k |
			($v | map(.upVsPlain | {with: (.with | turns), without: (.without | turns)} |
				select(.with and .without))) as $w |
			($v | map(.probes | select(. != null and .pod != null and .service != null))) as $pr | {
			many: {
				services: $v[0].many.services, nodes: $v[0].many.nodes,
				endpointsPerService: $v[0].many.endpointsPerService,
				validateMs: ($v | med(.many.validate.ms // [] | median)),
				planMs: ($v | med(.many.plan.ms // [] | median)),
				planBytes: $v[0].many.plan.bytes,
				okRuns: ($k | length),
				upMs: ($k | med(.many.lab.up.wallMs)),
				timingsMs: ($k | phases(.many.lab.up.timingsMs)),
				floorNodes: $v[0].many.floor.nodes, floorBytes: $v[0].many.floor.bytes, floorJobs: $v[0].many.floor.jobs,
				floorSequentialMs: ($v | med(.many.floor.sequentialMs // [] | min)),
				floorParallelMs: ($v | med(.many.floor.parallelMs // [] | min)),
				floorCpuPerNodeMs: ($v | med(.many.floor | if .cpuMs and (.cpuMs | length) > 0 then
					(.cpuMs | add / length) / .nodes else null end)),
				readers: ($k | {statusMs: med(.many.lab.during.statusMs), statusJsonMs: med(.many.lab.during.statusJsonMs),
					checkOneProbeMs: med(.many.lab.during.checkOneProbeMs), planBytes: med(.many.lab.during.planBytes),
					downMs: med(.many.lab.down.wallMs)}),
				readersWithoutServices: ($v | map(select(.many.withoutServices.up.ok == true)) | {
					statusMs: med(.many.withoutServices.during.statusMs),
					statusJsonMs: med(.many.withoutServices.during.statusJsonMs),
					checkOneProbeMs: med(.many.withoutServices.during.checkOneProbeMs),
					planBytes: med(.many.withoutServices.during.planBytes),
					downMs: med(.many.withoutServices.down.wallMs)})
			},
			upVsPlain: {
				pods: $v[0].upVsPlain.pods, services: $v[0].upVsPlain.services, okRuns: ($w | length),
				upMs: ($w | med(.with.upMs)), plainUpMs: ($w | med(.without.upMs)),
				floorSequentialMs: ($v | med(.upVsPlain.floor.sequentialMs // [] | min)),
				floorParallelMs: ($v | med(.upVsPlain.floor.parallelMs // [] | min)),
				floorCpuPerNodeMs: ($v | med(.upVsPlain.floor | if .cpuMs and (.cpuMs | length) > 0 then
					(.cpuMs | add / length) / .nodes else null end)),
				floorNodes: $v[0].upVsPlain.floor.nodes,
				timingsMs: ($w | phases(.with.timingsMs)), plainTimingsMs: ($w | phases(.without.timingsMs))
			},
			probes: {
				okRuns: ($pr | length), targets: $v[0].probes.targets,
				unsupported: ([$v[] | .probes.unsupported // empty] | first),
				podProbes: ($pr | med(.pod.probes)), podWallMs: ($pr | med(.pod.wallMs)),
				podProbesPerSec: ($pr | med(.pod.probesPerSec)),
				serviceProbes: ($pr | med(.service.probes)), serviceWallMs: ($pr | med(.service.wallMs)),
				serviceProbesPerSec: ($pr | med(.service.probesPerSec))
			},
			ratios: {
				rulesVsFloorSequential: ($k | medratio(.many.lab.up.timingsMs.rules; .many.floor.sequentialMs // [] | min)),
				rulesVsFloorParallel: ($k | medratio(.many.lab.up.timingsMs.rules; .many.floor.parallelMs // [] | min)),
				statusVsWithoutServices: ($v | medratio(.many.lab.during.statusMs; .many.withoutServices.during.statusMs)),
				checkVsWithoutServices: ($v | medratio(.many.lab.during.checkOneProbeMs;
					.many.withoutServices.during.checkOneProbeMs)),
				upVsPlainUp: ($w | medratio(.with.upMs; .without.upMs)),
				# About the best any tool could do here: the lab without
				# Services, plus the CPU its rule sets cost nft -f spread
				# over every CPU (nothing else running meanwhile).
				floorUpVsPlainUp: ($v | map(select((.upVsPlain.without | turns) and .upVsPlain.floor.cpuMs) |
					{w: (.upVsPlain.without | turns).upMs,
					 f: ((.upVsPlain.floor.cpuMs | add / length) / .upVsPlain.floor.jobs)}) |
					medratio(.w + .f; .w)),
				# A probe's cost is the wall clock per probe: the service
				# probe's over the pod probe's.
				serviceProbeVsPodProbe: ($pr | medratio(.service.wallMs / .service.probes; .pod.wallMs / .pod.probes))
			}
		} | .many.perNodeFloorMs = (if .many.floorSequentialMs and .many.floorNodes then
				.many.floorSequentialMs / .many.floorNodes | r1 else null end)
		  | .many.builtAndLoadedMs = (if .many.planMs and .many.timingsMs.rules then
				.many.planMs + .many.timingsMs.rules | r1 else null end)),
		# What cluster DNS and the ingress controller cost (bench/measure-dns.sh):
		# each lab's faster up in a run (turns), the run's difference and
		# ratio, then the medians over runs; the probes' figures each kind's
		# faster turn whose probes all passed.
		dns: (($r | map(.dns | select(. != null and .error == null))) as $v |
			($v | map({with: (.with | turns), plain: (.plain | turns)} | select(.with and .plain))) as $w |
			($v | map(.probes | select(. != null and .error == null and .dns != null and .http != null))) as $pr | {
			pods: $v[0].pods, services: $v[0].services, okRuns: ($w | length),
			upMs: ($w | med(.with.upMs)), plainUpMs: ($w | med(.plain.upMs)),
			addedMs: ($w | med(.with.upMs - .plain.upMs)),
			timingsMs: ($w | phases(.with.timingsMs)), plainTimingsMs: ($w | phases(.plain.timingsMs)),
			probes: {
				okRuns: ($pr | length), targets: $v[0].probes.targets, sources: $v[0].probes.sources,
				dnsProbes: ($pr | med(.dns.probes)), dnsWallMs: ($pr | med(.dns.wallMs)),
				dnsProbesPerSec: ($pr | med(.dns.probesPerSec)),
				httpProbes: ($pr | med(.http.probes)), httpWallMs: ($pr | med(.http.wallMs)),
				httpProbesPerSec: ($pr | med(.http.probesPerSec))
			},
			ratios: {
				upVsPlainUp: ($w | medratio(.with.upMs; .plain.upMs)),
				# A probe's cost is the wall clock per probe.
				dnsProbeVsHttpProbe: ($pr | medratio(.dns.wallMs / .dns.probes; .http.wallMs / .http.probes))
			}
		}),
		# What NetworkPolicies cost (bench/measure-netpol.sh): apply's figure
		# is each run's faster turn of a kind, then the median over runs; the
		# conformance checks count over every run (each failure is a false
		# one), with their min, median and max.
		netpol: (($r | map(.netpol | select(. != null and .error == null and .during != null and .during.error == null))) as $v |
			($v | map(.during.apply | select(all(.one[], .twenty[]; .ok == true)) |
				{one: (.one | map(.wallMs) | min), twenty: (.twenty | map(.wallMs) | min), pidsUnchanged})) as $a |
			[$v[] | .during.checks | arrays | .[]] as $c |
			($v | map(.during.plain | map(select(.ok == true)) | select(length > 0) | min_by(.wallMs))) as $pl |
			($v | map({c: (.during.checks | arrays | map(select(.error == null)) | map(.wallMs) | median),
				p: (.during.plain | map(select(.ok == true)) | min_by(.wallMs) | .wallMs)})) as $cp |
			if ($r | map(.netpol) | all(. == null)) then null else {
			pods: $v[0].pods, policies: $v[0].policies, okRuns: ($v | length),
			apply: {
				okRuns: ($a | length),
				twentyMs: ($a | med(.twenty)), oneMs: ($a | med(.one)),
				pidsUnchanged: ($v | length > 0 and all(.during.apply.pidsUnchanged == true))
			},
			check: {
				runs: ($c | length), failedRuns: ($c | map(select(.ok != true)) | length),
				falseFailures: ($c | map(.failed // 0) | add // 0),
				# Every check that ran to its end, false failures or not.
				minMs: ($c | map(select(.error == null) | .wallMs) | min | r1),
				medianMs: ($c | map(select(.error == null) | .wallMs) | median | r1),
				maxMs: ($c | map(select(.error == null) | .wallMs) | max | r1),
				probes: ($c | med(.probes)), cells: ($c | med(.cells)), denied: ($c | med(.denied)),
				probesPerSec: ($c | map(select(.error == null) | .probes * 1000 / .wallMs) | median | if . == null then null else floor end)
			},
			plain: {
				okRuns: ($pl | length), wallMs: ($pl | med(.wallMs)), probes: ($pl | med(.probes)),
				probesPerSec: ($pl | med(.probesPerSec))
			},
			ratios: {
				applyTwentyVsOne: ($a | medratio(.twenty; .one)),
				checkVsPlainProbes: ($cp | medratio(.c; .p))
			}
		} end),
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
		manifestsUpVsInlineUp: .variants.ratios.manifestsUpVsInlineUp,
		portsUpVsOnePortUp: .variants.ratios.portsUpVsOnePortUp,
		portsPssVsOnePortPss: .variants.ratios.portsPssVsOnePortPss,
		portsPodPssVsOnePortPodPss: .variants.ratios.portsPodPssVsOnePortPodPss,
		servicesRulesVsFloorParallel: .services.ratios.rulesVsFloorParallel,
		servicesUpVsPlainUp: .services.ratios.upVsPlainUp,
		serviceProbeVsPodProbe: .services.ratios.serviceProbeVsPodProbe,
		dnsUpVsPlainUp: .dns.ratios.upVsPlainUp,
		netpolApplyTwentyVsOne: .netpol.ratios.applyTwentyVsOne,
		netpolCheckVsPlainProbes: .netpol.ratios.checkVsPlainProbes,
		dnsProbeVsHttpProbe: .dns.ratios.dnsProbeVsHttpProbe,
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
	# What issues #24, #25 and #26 ask (docs/bench.md): report.sh
	# marks a figure past its target; none fails the bench.
	targets: {
		manifestsValidateMs: 100, manifestsPlanMs: 100, manifestsUpVsInlineUp: 1.1,
		portsUpVsOnePortUp: 1.2, portsPssVsOnePortPss: 1.2, udpVsHttpProbesPerSecAtLeast: 0.5,
		servicesBuiltAndLoadedMs: 1000, serviceProbeVsPodProbe: 1.2, servicesUpVsPlainUp: 1.15,
		dnsAddedUpMs: 300, dnsProbeVsHttpProbe: 1.0,
		netpolApplyMs: 200, netpolCheckMs: 15000
	},
	sizes: $sizes,
	problems: [
		($runs[] | (.testbed, .meshes, .variants, .services, .dns, .ipBatch, .mininet) | select(. != null and .error) | .error),
		($runs[] | .pods as $p | .meshes | select(.up.ok == false) | "the http and udp meshes at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
		($runs[] | .pods as $p | .meshes | select(.up.ok == true) | (.http, .udp) | select(.error) | "a mesh at \($p) pods: \(.error)"),
		($runs[] | .pods as $p | .meshes | select(.down.clean == false or (.up.ok == true and .down.ok == false)) | "the meshes' lab at \($p) pods was not taken down cleanly"),
		($runs[] | .pods as $p | .variants | select(.load) |
			(.load | to_entries[] | .key as $lab | .value | (.validate, .plan) | select(.ok == false) |
				"validate or plan of the \($lab) lab at \($p) pods failed (exit \(.exit)): \(.error // "" | gsub("\n"; " "))"),
			(.load | to_entries[] | .key as $lab | .value.pods | select(. != null) |
				select(.pods != $p or .minPerNode != .maxPerNode) |
				"the \($lab) lab at \($p) pods plans \(.pods) pods, \(.minPerNode) to \(.maxPerNode) per node"),
			(["inline", "manifests", "ports"][] as $k | .[$k] // [] | .[] |
				(select(.up.ok == false) |
					"the \($k) lab at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
				(select(.memory != null and .memory.podMachines != $p) |
					"the \($k) lab at \($p) pods ran \(.memory.podMachines) pods"),
				(select(.up.ok == true and .down.ok == false) | "the \($k) lab at \($p) pods: down failed (exit \(.down.exit))"),
				(.down.leftovers // [] | .[] | "testbed down of the \($k) lab at \($p) pods left \(.)"))),
		($runs[] | .pods as $p | .services | select(. != null and .error == null) |
			(.many.floor, .upVsPlain.floor | select(. != null and .error) | "a rule sets' floor at \($p) pods: \(.error)"),
			(.many.validate, .many.plan | select(.ok == false) |
				"validate or plan of the many-services lab at \($p) pods failed (exit \(.exit)): \(.error // "" | gsub("\n"; " "))"),
			(([.many.lab, .many.withoutServices] | map({k: "the many-services lab", v: .}) | .[1].k = "its pods without Services") +
			 (.upVsPlain | [(.with[] | {k: "the lab with Services", v: .}), (.without[] | {k: "the lab without Services", v: .})]) |
			 .[] | .k as $k | .v |
				(select(.up.ok == false) | "\($k) at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
				(select(.up.ok == true and .down.ok == false) | "\($k) at \($p) pods: down failed (exit \(.down.exit))"),
				(.during | select(. != null and .error) | "\($k) at \($p) pods: \(.error)"),
				(.down.leftovers // [] | .[] | "testbed down of \($k) at \($p) pods left \(.)")),
			(.probes | select(. != null and .error == null) | (.turns.pod[], .turns.service[]) |
				(select(.error) | "the service and pod probes at \($p) pods: \(.error)"),
				(select(.failed and .failed > 0) | "the service and pod probes at \($p) pods: \(.failed) of \(.probes) failed: \(.failures | join("; "))"))),
		($runs[] | .pods as $p | .dns | select(. != null and .error == null) |
			((.plain[] | {k: "the lab without DNS and Ingress", v: .}), (.with[] | {k: "the lab with DNS and Ingress", v: .}) |
			 .k as $k | .v |
				(select(.up.ok == false) | "\($k) at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
				(select(.up.ok == true and .down.ok == false) | "\($k) at \($p) pods: down failed (exit \(.down.exit))"),
				(.during | select(. != null and .error) | "\($k) at \($p) pods: \(.error)"),
				(.down.leftovers // [] | .[] | "testbed down of \($k) at \($p) pods left \(.)")),
			(.probes | select(. != null and .error == null) | (.turns.http[], .turns.dns[]) |
				(select(.error) | "the dns and http probes at \($p) pods: \(.error)"),
				(select(.failed and .failed > 0) | "the dns and http probes at \($p) pods: \(.failed) of \(.probes) failed: \(.failures | join("; "))"))),
		($runs[] | .pods as $p | .netpol | select(. != null and .error == null) |
			(.lab | (select(.up.ok == false) | "the NetworkPolicy lab at \($p) pods: up failed (exit \(.up.exit)): \(.up.error // "" | gsub("\n"; " "))"),
				(select(.up.ok == true and .down.ok == false) | "the NetworkPolicy lab at \($p) pods: down failed (exit \(.down.exit))"),
				(.down.leftovers // [] | .[] | "testbed down of the NetworkPolicy lab at \($p) pods left \(.)")),
			(.during | select(. != null) |
				(select(.error) | "the NetworkPolicy lab at \($p) pods: \(.error)"),
				(.apply // {} | (.one // [], .twenty // [] | .[] | select(.ok == false) |
					"apply of NetworkPolicies at \($p) pods failed (exit \(.exit)): \(.error // "" | gsub("\n"; " "))"),
					(select(.pidsUnchanged == false) | "apply of NetworkPolicies at \($p) pods restarted machines"),
					(select(.undone == false) | "delete of NetworkPolicies at \($p) pods failed")),
				(.checks | objects | select(.error) | "the NetworkPolicy lab at \($p) pods: \(.error)"),
				(.checks | arrays | .[] | select(.ok != true) |
					(.error // ((.failed | tostring) + " of " + (.probes | tostring) + " probes: " + (.failures | join("; "))) |
						gsub("\n"; " ")) as $why |
					"a conformance check at \($p) pods failed (exit \(.exit)): \($why)"),
				(.plain // [] | .[] | select(.ok != true) |
					(.error // ((.failed | tostring) + " of " + (.probes | tostring) + " probes: " + (.failures | join("; "))) |
						gsub("\n"; " ")) as $why |
					"the plain probes of the NetworkPolicy lab at \($p) pods failed: \($why)"))),
		($sizes[] | . as $s |
			(.testbed.down.leftovers[] | "testbed down at \($s.pods) pods left \(.)"),
			(select(.ipBatch.clean == false) | "ip -batch delete at \($s.pods) pods left namespaces"),
			(select(.ipBatch.createMs != null and .ipBatch.reachable == false) | "the ip -batch wiring at \($s.pods) pods did not pass a ping"),
			(select(.mininet.buildMs != null and .mininet.clean == false) | "Mininet at \($s.pods) hosts left processes or links behind"),
			(.testbed.check.errors // [] | .[] | "testbed check at \($s.pods) pods: \(.)"))
	],
	runs: $runs
}
