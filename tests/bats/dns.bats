# Cluster DNS: examples/dns, each lab up from its unchanged YAML folder.
# From pods (testbed exec, python3's resolver and urllib, busybox
# nslookup): a Service of another namespace by NAME.NAMESPACE and HTTP to
# it; a StatefulSet pod's own name; a headless Service's every ready
# endpoint; SRV records for named ports; NXDOMAIN for names the cluster
# does not have and for a Service's short name from another namespace;
# resolv.conf as the kubelet writes it; the default model passes with the
# DNS pod present; cluster.dns false. (plan-replay.bats replays a DNS lab.)
bats_require_minimum_version 1.5.0
load helpers

EXAMPLES=$REPO/examples/dns

setup_file() {
	require_lab_sandbox
	use_lab_dirs
}

setup() {
	use_lab_dirs
}

teardown() {
	[ -z "${LAB:-}" ] || "$TESTBED" down "$LAB" >/dev/null 2>&1 || true
}

# up_example NAME: brings examples/dns/NAME up as it is; sets LAB.
up_example() {
	LAB=$(jq -r .name "$EXAMPLES/$1/lab.json")
	"$TESTBED" up --quiet "$EXAMPLES/$1/lab.json"
}

# resolve POD NAME: the addresses NAME has for POD's resolver (its
# resolv.conf, search path and ndots included), sorted, one a line.
resolve() {
	"$TESTBED" exec "$LAB" "$1" python3 -c '
import socket, sys
try:
    print("\n".join(sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], None, socket.AF_INET)})))
except socket.gaierror as e:
    print("error", e.errno == socket.EAI_NONAME and "NXDOMAIN" or e)
    sys.exit(1)' "$2"
}

# machine_address NAME: a machine's address from the saved plan.
machine_address() {
	"$TESTBED" plan --format json "$LAB" | jq -r --arg n "$1" '.machines[] | select(.name == $n) | .address'
}

@test "by-name: web.shop resolves from namespace front to the Service's cluster IP, and http://web.shop/ answers" {
	up_example by-name
	run "$TESTBED" exec "$LAB" front/client cat /etc/resolv.conf
	assert_success
	assert_output "search front.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.96.0.10
options ndots:5"
	ip=$("$TESTBED" plan --format json "$LAB" | jq -r '.services[] | select(.namespace == "shop" and .name == "web") | .clusterIP')
	run resolve front/client web.shop
	assert_success
	assert_output "$ip"
	run resolve front/client web.shop.svc.cluster.local
	assert_output "$ip"
	# Over the Service: answered by one of shop's web pods.
	run "$TESTBED" exec "$LAB" front/client python3 -c 'import urllib.request; print(urllib.request.urlopen("http://web.shop/hostname", timeout=5).read().decode())'
	assert_success
	assert_output --regexp '^web-[a-z0-9]+-[a-z0-9]+$'
	# ExternalName store.shop: a CNAME to web's name, so web's address.
	run resolve front/client store.shop
	assert_output "$ip"
	run "$TESTBED" exec "$LAB" front/client nslookup store.shop.svc.cluster.local
	assert_line --regexp 'store\.shop\.svc\.cluster\.local[[:space:]]+canonical name = web\.shop\.svc\.cluster\.local'
	# A Service's short name is its own namespace's only: NXDOMAIN from front.
	run resolve front/client web
	assert_failure
	assert_output "error NXDOMAIN"
	run resolve front/client nothing.shop.svc.cluster.local
	assert_output "error NXDOMAIN"
	# Nor is there a world outside: the lab has no resolver to forward to.
	run resolve front/client example.com
	assert_output "error NXDOMAIN"
	# The DNS server's own Service, by name; and from the nodes' side:
	# kube-dns at the service range's tenth address.
	run resolve front/client kube-dns.kube-system
	assert_output "10.96.0.10"
	# Its expectations: the Service by name (short, absolute, through the
	# ExternalName's CNAME), web's NXDOMAIN from front, kube-dns over TCP.
	run "$TESTBED" check "$LAB"
	assert_success
	assert_output --partial 'web.shop'
	assert_line --regexp '^client +x$'
}

@test "statefulset: each pod's own name, every ready endpoint of the headless Service, SRV per pod, dnsConfig and hostAliases" {
	up_example statefulset
	db0=$(machine_address db-0)
	db1=$(machine_address db-1)
	db2=$(machine_address db-2)
	run resolve data/client db-0.db.data.svc.cluster.local
	assert_success
	assert_output "$db0"
	# The search path completes it: db-1.db is db-1.db.data.svc.cluster.local.
	run resolve data/client db-1.db
	assert_output "$db1"
	run resolve data/client db
	assert_output "$(printf '%s\n' "$db0" "$db1" "$db2" | sort)"
	run resolve data/client db-7.db.data.svc.cluster.local
	assert_failure
	assert_output "error NXDOMAIN"
	# SRV for the named port: one per pod, on its own name.
	run "$TESTBED" exec "$LAB" data/client nslookup -type=srv _pg._tcp.db.data.svc.cluster.local
	assert_success
	for pod in db-0 db-1 db-2; do
		assert_line --regexp "service = 10 100 5432 $pod\.db\.data\.svc\.cluster\.local"
	done
	# The pod's own record (section 2.6), dashes for dots.
	run resolve data/client "${db2//./-}.data.pod.cluster.local"
	assert_output "$db2"
	# dnsConfig: a search domain and options merged after the cluster's.
	run "$TESTBED" exec "$LAB" data/client cat /etc/resolv.conf
	assert_output "search data.svc.cluster.local svc.cluster.local cluster.local db.data.svc.cluster.local
nameserver 10.96.0.10
options ndots:2 edns0"
	# /etc/hosts as the kubelet manages it: a pod's FQDN under its
	# subdomain; hostAliases.
	run "$TESTBED" exec "$LAB" db-0 cat /etc/hosts
	assert_line "$(printf '%s\tdb-0.db.data.svc.cluster.local\tdb-0' "$db0")"
	run resolve data/client legacy
	assert_output "192.0.2.10"
	# The DNS pod itself asks nobody (dnsPolicy Default, nodes have no resolver).
	run "$TESTBED" exec "$LAB" kube-system/coredns cat /etc/resolv.conf
	assert_success
	assert_output ""
	# The default model (the example has no expectations), with the DNS
	# pod among the pods: it passes, reaching coredns and kube-dns over TCP
	# port 53 only (dnsmasq is no pod server: no http, no udp probe).
	run "$TESTBED" check --format json "$LAB"
	assert_success
	run jq -r '[.probes[] | select(.to == "coredns" or .to == "service:kube-system/kube-dns") | "\(.proto):\(.port // "")"] | unique | join(",")' <<<"$output"
	assert_output "ping:,tcp:53"
	# Its records came from the plan: the machine's files, in the saved plan.
	run "$TESTBED" plan --format json "$LAB"
	run jq -r '.machines[] | select(.name == "coredns") | .files[] | .path' <<<"$output"
	assert_output "/etc/resolv.conf
/etc/dnsmasq.conf
/etc/dnsmasq.hosts"
}

@test "plan --format script shows the DNS pod's files as comments, and stays a valid script" {
	up_example by-name
	"$TESTBED" plan --format sh "$LAB" >"$BATS_TEST_TMPDIR/lab.sh"
	grep -q '^# file /etc/dnsmasq.conf (mode 0644), written by testbed up into its root:$' "$BATS_TEST_TMPDIR/lab.sh"
	grep -q '^#   local=/cluster.local/$' "$BATS_TEST_TMPDIR/lab.sh"
	sh -n "$BATS_TEST_TMPDIR/lab.sh"
}

@test "cluster.dns false: no DNS pod and no kube-dns; pods' resolv.conf names no server, and names do not resolve" {
	jq --arg dir "$EXAMPLES/by-name" '.images |= with_entries(.value = ($dir + "/" + .value))
		| .manifests = [$dir + "/k8s/"] | .cluster.dns = false | del(.expect)' \
		"$EXAMPLES/by-name/lab.json" >"$BATS_TEST_TMPDIR/lab.json"
	LAB=$(jq -r .name "$BATS_TEST_TMPDIR/lab.json")
	"$TESTBED" up --quiet "$BATS_TEST_TMPDIR/lab.json"
	run "$TESTBED" plan --format json "$LAB"
	run jq -r '[.machines[] | select(.namespace == "kube-system")] + [.services[] | select(.namespace == "kube-system")] | length' <<<"$output"
	assert_output 0
	run "$TESTBED" exec "$LAB" front/client cat /etc/resolv.conf
	assert_success
	assert_output ""
	run resolve front/client web.shop
	assert_failure
}
