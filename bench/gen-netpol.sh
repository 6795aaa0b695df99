#!/usr/bin/env bash
# Prints a lab of NODES nodes with PODS pods each, spread over 4 namespaces,
# every pod serving two TCP ports (http 8000, alt 8001) and two UDP ports
# (dns 5353, syslog 5354), under POLICIES NetworkPolicies (20 or 0), for
# what NetworkPolicies cost (issue #27):
#   bench/gen-netpol.sh NAME NODES PODS POLICIES
# Namespaces ns1..ns4 carry team=tN, and env=prod (ns1, ns2) or env=dev
# (ns3, ns4); pod K (from 0, node by node) is in ns(K mod 4 + 1) with
# app=a..e (K mod 5) and tier=front or back (K div 4 mod 2). Node N's pods
# have addresses in 10.244.(N-1).0/24. The 20 policies
# mix what clusters write: default deny of ingress, of egress and of both,
# podSelector, namespaceSelector, both in one peer, matchExpressions,
# ipBlock with except, named ports, port ranges (endPort), TCP and UDP,
# egress to DNS; about half the cells of the full mesh are denied. With
# POLICIES 0 the lab has the same pods and no policy: the baseline, whose
# cells all pass. Cluster DNS is off: the lab has no Service.
set -euo pipefail
usage='usage: gen-netpol.sh NAME NODES PODS POLICIES'
name=${1:?$usage} nodes=${2:?$usage} pods=${3:?$usage} policies=${4:?$usage}
case "$policies" in
0 | 20) ;;
*) echo "gen-netpol.sh: POLICIES must be 0 or 20" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
jq -n --arg name "$name" --argjson nodes "$nodes" --argjson pods "$pods" --arg repo "$repo" \
	--argjson policies "$policies" '
def np($ns; $n; $spec): {apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
	metadata: {name: $n, namespace: $ns}, spec: $spec};
def ns($n): {namespaceSelector: {matchLabels: {"kubernetes.io/metadata.name": $n}}};
def tcp($p): {protocol: "TCP", port: $p};
def udp($p): {protocol: "UDP", port: $p};
def dns: {ports: [udp(53), tcp(53)]};
{
	name: $name,
	description: "\($nodes) nodes with \($pods) pods each in 4 namespaces, \($policies) NetworkPolicies, generated for make bench",
	images: {node: "\($repo)/images/node.tar.zst", pod: "\($repo)/images/pod.tar.zst"},
	cluster: {dns: false},
	nodes: [range(0; $nodes) as $n | {
		name: "node\($n + 1)",
		pods: [range(0; $pods) as $p | ($n * $pods + $p) as $k | {
			name: "p\($n + 1)-\($p + 1)", namespace: "ns\($k % 4 + 1)",
			labels: {app: (["a", "b", "c", "d", "e"][$k % 5]), tier: (["front", "back"][($k / 4 | floor) % 2])},
			ports: [{name: "http", containerPort: 8000}, {name: "alt", containerPort: 8001},
				{name: "dns", containerPort: 5353, protocol: "UDP"},
				{name: "syslog", containerPort: 5354, protocol: "UDP"}]
		}]
	}],
	objects: ([range(1; 5) as $i | {apiVersion: "v1", kind: "Namespace",
		metadata: {name: "ns\($i)", labels: {team: "t\($i)", env: (if $i <= 2 then "prod" else "dev" end)}}}]
	+ (if $policies == 0 then [] else [
		# ns1: default deny in; its own pods on http and dns; prod pods on every
		# port (two ranges); app=b from ns3 app=c over UDP 5353; app=e out to
		# ns4 over UDP only.
		np("ns1"; "default-deny-ingress"; {podSelector: {}, policyTypes: ["Ingress"]}),
		np("ns1"; "allow-same-namespace"; {podSelector: {},
			ingress: [{from: [{podSelector: {}}], ports: [{port: "http"}, {protocol: "UDP", port: "dns"}]}]}),
		np("ns1"; "allow-prod"; {podSelector: {},
			ingress: [{from: [{namespaceSelector: {matchLabels: {env: "prod"}}}],
				ports: [{protocol: "TCP", port: 8000, endPort: 8001}, {protocol: "UDP", port: 5353, endPort: 5354}]}]}),
		np("ns1"; "allow-ns3-c-to-b-dns"; {podSelector: {matchLabels: {app: "b"}},
			ingress: [{from: [(ns("ns3") + {podSelector: {matchLabels: {app: "c"}}})], ports: [udp(5353)]}]}),
		np("ns1"; "e-egress-udp-to-ns4"; {podSelector: {matchLabels: {app: "e"}}, policyTypes: ["Egress"],
			egress: [dns, {to: [ns("ns4")], ports: [{protocol: "UDP", port: 5353, endPort: 5354}]}]}),
		# ns2: default deny both ways; DNS out; out to ns1; in from pod
		# addresses of nodes 1-16 but not node 2, from dev namespaces
		# to app=a over UDP, and from its own namespace.
		np("ns2"; "default-deny-all"; {podSelector: {}, policyTypes: ["Ingress", "Egress"]}),
		np("ns2"; "allow-dns-egress"; {podSelector: {}, policyTypes: ["Egress"], egress: [dns]}),
		np("ns2"; "allow-egress-to-ns1"; {podSelector: {}, policyTypes: ["Egress"],
			egress: [{to: [{namespaceSelector: {matchLabels: {team: "t1"}}}]}]}),
		np("ns2"; "allow-ipblock-http"; {podSelector: {matchLabels: {tier: "front"}},
			ingress: [{from: [{ipBlock: {cidr: "10.244.0.0/20", except: ["10.244.1.0/24"]}}],
				ports: [{port: "http"}, {port: "alt"}, {protocol: "UDP", port: "dns"}]}]}),
		np("ns2"; "allow-dev-to-a-udp"; {podSelector: {matchLabels: {app: "a"}},
			ingress: [{from: [{namespaceSelector: {matchLabels: {env: "dev"}}}],
				ports: [{protocol: "UDP", port: 5353, endPort: 5354}]}]}),
		np("ns2"; "allow-same-namespace"; {podSelector: {},
			ingress: [{from: [{podSelector: {}}]}], egress: [{to: [{podSelector: {}}]}],
			policyTypes: ["Ingress", "Egress"]}),
		# ns3: default deny out; DNS, its own namespace and prod out;
		# app=e takes nothing in.
		np("ns3"; "default-deny-egress"; {podSelector: {}, policyTypes: ["Egress"]}),
		np("ns3"; "allow-dns"; {podSelector: {}, policyTypes: ["Egress"], egress: [dns]}),
		np("ns3"; "allow-egress-same-namespace"; {podSelector: {}, policyTypes: ["Egress"],
			egress: [{to: [{podSelector: {}}]}]}),
		np("ns3"; "allow-egress-prod"; {podSelector: {}, policyTypes: ["Egress"],
			egress: [{to: [{namespaceSelector: {matchLabels: {env: "prod"}}}]}]}),
		np("ns3"; "deny-ingress-e"; {podSelector: {matchLabels: {app: "e"}}, policyTypes: ["Ingress"]}),
		# ns4: app in (a, b) from ns1 and ns2 on named ports; back from any
		# namespace front; app=d and e from anywhere; app=c out anywhere but pods
		# of nodes 1-16 and half of node 17.
		np("ns4"; "allow-a-b-from-prod"; {podSelector: {matchExpressions: [{key: "app", operator: "In", values: ["a", "b"]}]},
			ingress: [{from: [ns("ns1"), ns("ns2")], ports: [{port: "http"}, {protocol: "UDP", port: "dns"}]}]}),
		np("ns4"; "allow-front-to-back"; {podSelector: {matchLabels: {tier: "back"}},
			ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {tier: "front"}}}]}]}),
		np("ns4"; "allow-all-to-d-e"; {podSelector: {matchExpressions: [{key: "app", operator: "In", values: ["d", "e"]}]},
			ingress: [{}]}),
		np("ns4"; "c-egress-ipblock"; {podSelector: {matchLabels: {app: "c"}}, policyTypes: ["Egress"],
			egress: [dns, {to: [{ipBlock: {cidr: "0.0.0.0/0", except: ["10.244.0.0/20", "10.244.16.0/25"]}}]}]})
	] end))
}'
