#!/usr/bin/env bash
# Prints make bench's table from its JSON (build/bench.json):
# one row per figure, one column per size.
#   bench/report.sh BENCH.json
set -euo pipefail
json=${1:?usage: report.sh BENCH.json}
jq -r '
	def s: if . == null then "-" elif . >= 10000 then "\(. / 1000 | round) s" elif . >= 1000 then "\(. / 100 | round / 10) s" else "\(. | round) ms" end;
	def n: if . == null then "-" else tostring end;
	def x: if . == null then "-" else "\(.)x" end;
	def mib: if . == null then "-" else "\(. / 1024 * 10 | round / 10) MiB" end;
	def mibs($a; $b): if $a == null or $b == null then "-" else "\($a / 1024 * 10 | round / 10) / \($b | mib)" end;
	def mb: if . == null then "-" else "\(. / 1048576 * 10 | round / 10) MiB" end;
	def pad($w): tostring | . + (" " * ([$w - length, 1] | max));
	def lpad($w): tostring | (" " * ([$w - length, 0] | max)) + .;
	# A figure beside its target: marked when past it (none fails the bench).
	def atmost($t): if . == null or . <= $t then "" else " over" end;
	def atleast($t): if . == null or . >= $t then "" else " under" end;
	.targets as $t | .sizes as $z |
	def row($title; f): ($title | pad(52)) + ([$z[] | (f | lpad(16))] | join(""));
	"\(.bench.testbed), Mininet \(.bench.mininet), \(.bench.iproute2)",
	"machine: \(.machine.cpus) CPUs, kernel \(.machine.kernel); bench wall \(.machine.wallSeconds) s",
	"load: /proc/loadavg \(.machine.loadavgBefore) before, \(.machine.loadavgAfter) after",
	"cpu: \(.machine.cpuSeconds.machine) s busy on the machine, \(.machine.cpuSeconds.bench) s of them the bench'"'"'s, \(.machine.cpuSeconds.others) s others'"'"' (\(.machine.othersShareOfMachine * 100 | round)% of all CPUs)",
	"medians of the runs; ratios are testbed / peer (below 1: testbed faster or smaller), or a lab / the same pods inline with one port",
	"",
	row("pods (nodes x pods per node), runs"; "\(.pods) (\(.nodes)x\(.podsPerNode)), \(.runs)"),
	row("testbed up, wall"; if .testbed.up.okRuns == 0 then "FAILED" else (.testbed.up.wallMs | s) end),
	row("  up runs that failed (exit codes)"; [.testbed.up.failures[].exit] | if length == 0 then "0" else "\(length) (\(map(tostring) | join(",")))" end),
	row("  images phase"; .testbed.up.timingsMs.images | s),
	row("  machines phase"; .testbed.up.timingsMs.machines | s),
	row("  network phase"; .testbed.up.timingsMs.network | s),
	row("  servers phase"; .testbed.up.timingsMs.servers | s),
	row("  total (as testbed records it)"; .testbed.up.timingsMs.total | s),
	row("testbed check (full mesh), wall"; .testbed.check.wallMs | s),
	row("  probes"; .testbed.check.probes | n),
	row("  passed / failed"; if .testbed.check then "\(.testbed.check.passed) / \(.testbed.check.failed)" else "-" end),
	row("  probes/s"; .testbed.check.probesPerSec | n),
	row("full mesh over http (*->* http), wall"; .meshes.http.wallMs | s),
	row("  probes, failed"; if .meshes.http.probes then "\(.meshes.http.probes), \(.meshes.http.failed)" else "-" end),
	row("  probes/s"; .meshes.http.probesPerSec | n),
	row("full mesh over udp (*->* udp), wall"; .meshes.udp.wallMs | s),
	row("  probes, failed"; if .meshes.udp.probes then "\(.meshes.udp.probes), \(.meshes.udp.failed)" else "-" end),
	row("  probes/s"; .meshes.udp.probesPerSec | n),
	row("PSS per pod, the lab'"'"'s processes"; .testbed.memory.pssKiBPerPod | mib),
	row("PSS per pod, the pods'"'"' processes alone"; .testbed.memory.podPssKiBPerPod | mib),
	row("testbed down, wall"; .testbed.down.wallMs | s),
	row("  nothing left (netns, links, mounts, procs, cgroup)"; if .testbed.down.clean then "yes" else "NO" end),
	row("the same pods from YAML: Deployments x replicas"; "\(.variants.manifests.deployments) x \(.pods / .variants.manifests.deployments)"),
	row("  validate, wall (< \($t.manifestsValidateMs) ms at 1000 pods)"; .variants.manifests.validateMs | "\(s)\(atmost($t.manifestsValidateMs))"),
	row("  plan --format json, wall (< \($t.manifestsPlanMs) ms at 1000 pods)"; .variants.manifests.planMs | "\(s)\(atmost($t.manifestsPlanMs))"),
	row("  written inline: validate / plan --format json"; "\(.variants.manifests.inlineValidateMs | s) / \(.variants.manifests.inlinePlanMs | s)"),
	row("  testbed up, wall"; .variants.manifests.upMs | s),
	row("  written inline: testbed up, wall"; .variants.manifests.inlineUpMs | s),
	row("the same pods, 4 TCP + 2 UDP ports each: up, wall"; .variants.ports.upMs | s),
	row("  one port each (inline above): up, wall"; .variants.ports.onePortUpMs | s),
	row("  PSS per pod, the lab'"'"'s processes: 6 / 1 port"; mibs(.variants.ports.pssKiBPerPod; .variants.ports.onePortPssKiBPerPod)),
	row("  PSS per pod, the pods'"'"' processes: 6 / 1 port"; mibs(.variants.ports.podPssKiBPerPod; .variants.ports.onePortPodPssKiBPerPod)),
	row("Services: many Services x endpoints, over nodes"; .services.many | "\(.services) x \(.endpointsPerService), \(.nodes) nodes"),
	row("  validate / plan --format json, wall"; .services.many | "\(.validateMs | s) / \(.planMs | s)"),
	row("  the plan (plan --format json)"; .services.many.planBytes | mb),
	row("  testbed up, wall"; .services.many | if .okRuns == 0 then "FAILED" else (.upMs | s) end),
	row("  up'"'"'s rules (nft, every node), wall"; .services.many.timingsMs.rules | s),
	row("  floor: nft -f, one node after the other"; .services.many.floorSequentialMs | s),
	row("  floor: nft -f, as many nodes at a time as CPUs"; .services.many | "\(.floorParallelMs | s) (\(.floorJobs // "-"))"),
	row("  floor per node: wall one after the other, CPU"; .services.many |
		"\(.perNodeFloorMs | s), \(.floorCpuPerNodeMs | s)"),
	row("  CPU floor: CPU per node x nodes / CPUs"; .services.many |
		if .floorCpuPerNodeMs and .floorNodes and .floorJobs then .floorCpuPerNodeMs * .floorNodes / .floorJobs | s else "-" end),
	row("  built and loaded: plan + rules (< \($t.servicesBuiltAndLoadedMs / 1000) s)";
		.services.many.builtAndLoadedMs | "\(s)\(atmost($t.servicesBuiltAndLoadedMs))"),
	row("  ratio: rules / floor one after the other"; .services.ratios.rulesVsFloorSequential | x),
	row("  ratio: rules / floor as many at a time as CPUs"; .services.ratios.rulesVsFloorParallel | x),
	row("  status / status --json / check of 1 probe"; .services.many.readers |
		"\(.statusMs | s) / \(.statusJsonMs | s) / \(.checkOneProbeMs | s)"),
	row("    the same pods without Services"; .services.many.readersWithoutServices |
		"\(.statusMs | s) / \(.statusJsonMs | s) / \(.checkOneProbeMs | s)"),
	row("  the saved plan, with / without Services"; .services.many |
		"\(.readers.planBytes | mb) / \(.readersWithoutServices.planBytes | mb)"),
	row("  testbed down, with / without Services"; .services.many | "\(.readers.downMs | s) / \(.readersWithoutServices.downMs | s)"),
	row("the pods with Services (pods / 2): up, wall"; .services.upVsPlain | "\(.upMs | s) (\(.services))"),
	row("  without Services: up, wall"; .services.upVsPlain.plainUpMs | s),
	row("  rules, with / without Services"; .services.upVsPlain | "\(.timingsMs.rules | s) / \(.plainTimingsMs.rules | s)"),
	row("  floor: nft -f, one node after the other"; .services.upVsPlain.floorSequentialMs | s),
	row("  floor: nft -f, as many nodes at a time as CPUs"; .services.upVsPlain.floorParallelMs | s),
	row("  floor CPU per node; x nodes / CPUs"; .services.upVsPlain as $u | .services.many.floorJobs as $j |
		if $u.floorCpuPerNodeMs and $u.floorNodes and $j then
			"\($u.floorCpuPerNodeMs | s); \($u.floorCpuPerNodeMs * $u.floorNodes / $j | s)" else "-" end),
	row("  the floor'"'"'s ratio: (without + CPU floor) / without"; .services.ratios.floorUpVsPlainUp | x),
	row("service vs pod probes: targets; probes each"; .services.probes |
		if .unsupported then "unsupported" else "\(.targets // "-"); \(.serviceProbes // "-") / \(.podProbes // "-")" end),
	row("  service / pod probes/s"; .services.probes |
		if .unsupported then "-" else "\(.serviceProbesPerSec | n) / \(.podProbesPerSec | n)" end),
	row("cluster DNS + ingress controller: up, wall"; .dns | if .okRuns == 0 then "FAILED" else "\(.upMs | s) (\(.services // "-"))" end),
	row("  without (dns: false, no Ingress): up, wall"; .dns.plainUpMs | s),
	row("  phases with: machines / network / servers"; .dns.timingsMs |
		if . then "\(.machines | s) / \(.network | s) / \(.servers | s)" else "-" end),
	row("  phases without: machines / network / servers"; .dns.plainTimingsMs |
		if . then "\(.machines | s) / \(.network | s) / \(.servers | s)" else "-" end),
	row("  up added by DNS and controller (target <= \($t.dnsAddedUpMs) ms)"; .dns.addedMs | "\(s)\(atmost($t.dnsAddedUpMs))"),
	row("dns vs http probes: targets; probes each"; .dns.probes |
		"\(.targets // "-"); \(.dnsProbes // "-") / \(.httpProbes // "-")"),
	row("  dns / http probes/s"; .dns.probes | "\(.dnsProbesPerSec | n) / \(.httpProbesPerSec | n)"),
	row("NetworkPolicies: pods x policies"; .netpol | if . == null then "-" else "\(.pods) x \(.policies)" end),
	row("  apply of 20 policies, running lab (< \($t.netpolApplyMs) ms)"; .netpol.apply.twentyMs | "\(s)\(atmost($t.netpolApplyMs))"),
	row("  apply of 1 policy"; .netpol.apply.oneMs | s),
	row("  pods kept their PIDs"; .netpol | if . == null then "-" elif .apply.pidsUnchanged then "yes" else "NO" end),
	row("  conformance check: cells (denied)"; .netpol.check | if . == null then "-" else "\(.cells | n) (\(.denied | n))" end),
	row("  check, median (< \($t.netpolCheckMs / 1000) s)"; .netpol.check.medianMs | "\(s)\(atmost($t.netpolCheckMs))"),
	row("  check, min / max"; .netpol.check | if . == null then "-" else "\(.minMs | s) / \(.maxMs | s)" end),
	row("  checks, runs that failed / false failures"; .netpol.check | if . == null then "-" else "\(.runs): \(.failedRuns) / \(.falseFailures)" end),
	row("  plain probes, same ports, no policy"; .netpol.plain | if .wallMs == null then "-" else "\(.wallMs | s) (\(.probes | n))" end),
	row("  ratio: apply of 20 / of 1"; .netpol.ratios.applyTwentyVsOne | x),
	row("  ratio: check / plain probes"; .netpol.ratios.checkVsPlainProbes | x),
	row("Mininet lxbr build (N hosts)"; .mininet.buildMs | s),
	row("Mininet stop"; .mininet.stopMs | s),
	row("Mininet static ARP for pingAll (mn --arp)"; .mininet.staticArpMs | s),
	row("Mininet pingAll, wall"; .mininet.pingallMs | s),
	row("  pings/s (loss %)"; if .mininet.pingallMs then "\(.mininet.pingsPerSec) (\(.mininet.pingallLossPct))" else "-" end),
	row("Mininet PSS per host"; .mininet.pssKiBPerHost | mib),
	row("ip -batch wiring, create"; .ipBatch.createMs | s),
	row("  ip processes / commands"; "\(.ipBatch.ipProcesses) / \(.ipBatch.commands)"),
	row("  a pod reaches another node'"'"'s pod"; if .ipBatch.reachable then "yes" else "NO" end),
	row("ip -batch delete"; .ipBatch.deleteMs | s),
	row("ratio: testbed up / Mininet build"; .ratios.upVsMininetBuild | x),
	row("ratio: testbed up / ip -batch create"; .ratios.upVsIpBatchCreate | x),
	row("ratio: network phase / ip -batch create"; .ratios.networkPhaseVsIpBatchCreate | x),
	row("ratio: testbed down / ip -batch delete"; .ratios.downVsIpBatchDelete | x),
	row("ratio: testbed down / Mininet stop"; .ratios.downVsMininetStop | x),
	row("ratio: check wall / Mininet pingAll wall"; .ratios.checkVsPingall | x),
	row("ratio: probes/s / pingAll pings/s"; .ratios.probesPerSecVsPingsPerSec | x),
	row("ratio: udp / http mesh probes/s (target >= \($t.udpVsHttpProbesPerSecAtLeast))"; .ratios.udpVsHttpProbesPerSec | "\(x)\(atleast($t.udpVsHttpProbesPerSecAtLeast))"),
	row("ratio: manifests up / inline up (target <= \($t.manifestsUpVsInlineUp))"; .ratios.manifestsUpVsInlineUp | "\(x)\(atmost($t.manifestsUpVsInlineUp))"),
	row("ratio: 6 ports / 1 port, up (target <= \($t.portsUpVsOnePortUp))"; .ratios.portsUpVsOnePortUp | "\(x)\(atmost($t.portsUpVsOnePortUp))"),
	row("ratio: 6 ports / 1 port, PSS/pod (target <= \($t.portsPssVsOnePortPss))"; .ratios.portsPssVsOnePortPss | "\(x)\(atmost($t.portsPssVsOnePortPss))"),
	row("  the pods'"'"' processes alone"; .ratios.portsPodPssVsOnePortPodPss | x),
	row("ratio: PSS per pod / Mininet PSS per host"; .ratios.pssPerPodVsMininetHost | x),
	row("ratio: up with / without Services (target <= \($t.servicesUpVsPlainUp))"; .ratios.servicesUpVsPlainUp | "\(x)\(atmost($t.servicesUpVsPlainUp))"),
	row("ratio: service / pod probe cost (target <= \($t.serviceProbeVsPodProbe))"; .ratios.serviceProbeVsPodProbe | "\(x)\(atmost($t.serviceProbeVsPodProbe))"),
	row("ratio: up with / without DNS and controller"; .ratios.dnsUpVsPlainUp | x),
	row("ratio: dns / http probe cost (target <= \($t.dnsProbeVsHttpProbe))"; .ratios.dnsProbeVsHttpProbe | "\(x)\(atmost($t.dnsProbeVsHttpProbe))"),
	"",
	"Mininet'"'"'s fixLimits: applied in the scratch namespace: \(.sizes[0].mininet.limitsApplied // [] | join(", ") | if . == "" then "none" else . end)",
	"  not written (machine-wide, or read-only outside the initial namespace): \(.sizes[0].mininet.limitsSkipped // [] | join(", "))",
	(.sizes[] | .pods as $p | .services.probes.unsupported // empty | "service probes at \($p) pods not measured: this testbed refuses service: targets (\(.))"),
	(.sizes[] | .pods as $p | .testbed.up.failures[] | "testbed up failed at \($p) pods (exit \(.exit), after \(.wallMs | s)): \(.error // "" | gsub("\n"; " "))")
' "$json"
