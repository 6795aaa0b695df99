/* The command-line interface: one table of commands, each with its help,
 * and the dispatch. Commands live in their own files; this one only holds
 * what every command shares. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "util/util.h"

#ifndef TESTBED_VERSION
#define TESTBED_VERSION "unknown"
#endif

static const struct command commands[] = {
	{
		.name = "validate",
		.args = "FILE",
		.summary = "check a topology file; touches nothing, needs no root",
		.help = "Parse and validate the topology FILE and assign its addresses, as `up` would,\n"
			"without touching the system. Prints `ok: N nodes, M pods, K hosts` on success;\n"
			"otherwise every error found, one a line, as FILE:LINE: PATH: MESSAGE.\n"
			"FILE may be a pipe, or - for standard input (named <stdin> in messages; relative\n"
			"image paths then resolve against the working directory); at most 64 MiB.\n",
		.run = cmd_validate,
	},
	{
		.name = "up",
		.args = "FILE",
		.summary = "bring a lab up (root)",
		.help = "Build the lab FILE describes: its namespaces, root filesystems, bridges, veth pairs,\n"
			"addresses and routes, and start the HTTP servers. Returns once every server accepts\n"
			"connections, printing what runs where. On failure removes all it made, exits 3.\n"
			"\n"
			"Options:\n"
			"  --timeout SECONDS   how long servers may take to accept connections (30)\n"
			"  -q, --quiet         print nothing on success\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n"
			"Environment: TESTBED_CACHE_DIR, where images are unpacked (/var/cache/testbed/images).\n",
		.options = CLI_STATE_DIR | CLI_TIMEOUT | CLI_QUIET,
		.run = cmd_up,
	},
	{
		.name = "down",
		.args = "FILE|NAME | --all",
		.summary = "stop a lab and remove every trace of it (root)",
		.help = "Stop every process of the lab, which frees its namespaces, links and mounts, and\n"
			"remove its state. The lab's processes are those of its cgroup, whatever its state\n"
			"files say (exec sessions too); without cgroup2, its recorded machines. Works after an\n"
			"interrupted up; a lab that is not up is no error.\n"
			"\n"
			"Options:\n"
			"  --all               every lab under the state directory, found by state or cgroup\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_ALL,
		.run = cmd_down,
	},
	{
		.name = "gc",
		.args = "",
		.summary = "remove the labs whose up died, from their state and cgroups (root)",
		.help = "Find the labs under the state directory whose up died (a lab never recorded as up\n"
			"whose up process is gone, or a lab cgroup with no state at all) and take them down.\n"
			"\n"
			"Options:\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR,
		.run = cmd_gc,
	},
	{
		.name = "status",
		.args = "[NAME]",
		.summary = "show labs, their machines, addresses and PIDs",
		.help = "Show every lab that is up, or lab NAME: each pod, node, host, the gateway and the\n"
			"lab namespace, with node, address, HTTP port, PID and whether it still runs.\n"
			"\n"
			"Options:\n"
			"  --json              machine-readable output\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_JSON,
		.run = cmd_status,
	},
	{
		.name = "exec",
		.args = "NAME TARGET [--] [CMD [ARGS]]",
		.summary = "run a command in a pod, node, host, gateway or the lab (root)",
		.help = "Run CMD (default /bin/sh) inside TARGET of lab NAME: a pod, node or host, \"gateway\",\n"
			"or \"lab\" for the lab's own network namespace (with the host's files). A pod is\n"
			"NAMESPACE/NAME always, and NAME where no other machine has that name. It joins all\n"
			"the target's namespaces and root; a terminal works. Exits with CMD's exit code.\n"
			"\n"
			"Options (before NAME):\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR,
		.stop_at_operand = true,
		.run = cmd_exec,
	},
	{
		.name = "check",
		.args = "FILE|NAME | --explain NAME FROM TO [PORT/PROTO]",
		.summary = "probe what reaches what in a running lab and report it (root)",
		.help = "Run the lab's expectations (its topology's \"expect\" list; without one, the Kubernetes\n"
			"model: every pod reaches every other pod over http and ping, and udp where it serves\n"
			"a UDP port, and sees its real address; reaches every machine outside the cluster,\n"
			"seen as its node; and reaches every service port with endpoints, answered by one)\n"
			"as probes from inside the lab's namespaces, all at once, and report them. Given FILE,\n"
			"its \"expect\" list is used; the rest must match the running lab. Exits 0 when every\n"
			"expectation holds, 1 when some do not. Under NetworkPolicies the model's cells come\n"
			"from testbed's own evaluator of them: every pod to every pod on each declared port,\n"
			"expected to pass or to fail as the policies say.\n"
			"With --explain, one connection of running lab NAME, FROM (a machine) to TO (a machine\n"
			"or an address, or service:[NAMESPACE/]NAME[:PORT]) on PORT/PROTO (TCP unless said;\n"
			"default TO's http port): what the NetworkPolicies say (which policies isolate each\n"
			"end, which policy, rule, peer and port allow it; to a Service, for each endpoint\n"
			"kube-proxy may pick, at its target port) beside what a real probe sees. Exits 0 when\n"
			"they agree, 1 when not.\n"
			"\n"
			"Options:\n"
			"  --explain           explain one connection by the lab's NetworkPolicies, and probe it\n"
			"  --expect FILE       the expectations in FILE (a JSON list, as \"expect\") instead\n"
			"  --format FORMAT     text (default), json, junit, tap or markdown\n"
			"  --output PATH       write the report to PATH (the text report still goes to stdout)\n"
			"  --timeout SECONDS   per probe (1; fractions allowed)\n"
			"  --retries N         try a failing probe N more times (0)\n"
			"  --parallel N        probes in flight at once (128)\n"
			"  -v, --verbose       text: every probe, and the neighbour entries failing paths need\n"
			"  -q, --quiet         no text report on stdout when --output is given\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n"
			"Colour only on a terminal, and never with NO_COLOR set.\n",
		.options = CLI_STATE_DIR | CLI_FORMAT | CLI_OUTPUT | CLI_TIMEOUT | CLI_RETRIES | CLI_PARALLEL | CLI_VERBOSE |
			   CLI_QUIET | CLI_EXPECT | CLI_EXPLAIN,
		.run = cmd_check,
	},
	{
		.name = "apply",
		.args = "NAME FILE...",
		.summary = "apply Kubernetes objects to a running lab, as kubectl apply -f (root)",
		.help = "Create or replace, in running lab NAME, the objects FILEs hold (YAML or JSON, as\n"
			"kubectl apply -f reads them): NetworkPolicies, Services, EndpointSlices, Ingresses,\n"
			"IngressClasses, Namespaces (their labels) and pods' labels (a Pod naming an existing\n"
			"pod, spec left out or unchanged; or a workload's template). Every file is checked\n"
			"first, then the lab's objects are compiled again as `up` compiles them: where the\n"
			"result differs from the running lab in more than rules, Services, policies, labels,\n"
			"the gateway's routes to load balancers, cluster DNS's records and the ingress\n"
			"controller's nginx.conf (a new pod, an address), nothing changes and it says what.\n"
			"Else each node's nftables tables change in one transaction, then the gateway's\n"
			"routes; cluster DNS reloads its records (SIGHUP) or restarts dnsmasq (SRV, CNAME\n"
			"changed), the ingress controller restarts nginx, each served before apply returns;\n"
			"no machine restarts, and the saved plan becomes the one a topology declaring the\n"
			"resulting objects gives. Exits 2 on bad input, 3 when the kernel or a server refuses\n"
			"(what changed is put back).\n"
			"\n"
			"Options:\n"
			"  -q, --quiet         no summary line\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_QUIET,
		.run = cmd_apply,
	},
	{
		.name = "delete",
		.args = "NAME FILE...",
		.summary = "delete Kubernetes objects from a running lab, as kubectl delete -f (root)",
		.help = "Delete from running lab NAME the objects FILEs name (by kind, namespace and name, as\n"
			"kubectl delete -f does): an object the lab does not hold is an error (NotFound), and\n"
			"nothing changes. Otherwise as apply: checked first, compiled again, rules changed in\n"
			"one nftables transaction per node, the saved plan replaced. Exits 2 on bad input.\n"
			"\n"
			"Options:\n"
			"  -q, --quiet         no summary line\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_QUIET,
		.run = cmd_delete,
	},
	{
		.name = "trace",
		.args = "NAME FROM TO",
		.summary = "show the path a packet takes, hop by hop, from the kernel's tables (root)",
		.help = "Follow a packet from FROM to TO (pods, as NAMESPACE/NAME or a unique NAME, nodes,\n"
			"hosts, external machines or \"gateway\") through lab NAME, asking each namespace on\n"
			"the way what its kernel would do: the route it picks, the interface, the next hop and\n"
			"that hop's MAC address from the neighbour table (or \"ARP needed\" when it is not\n"
			"resolved yet), then across the veth or bridge to the next namespace, until the packet\n"
			"is delivered or dropped.\n"
			"TO may also be service:[NAMESPACE/]NAME[:PORT], nodeport:NODE:PORT,\n"
			"ip:ADDRESS[:PORT] or ingress:HOST/PATH. To those, from or to a machine outside the\n"
			"cluster, and to a pod of a lab with NetworkPolicies (at its http port), a real\n"
			"connection is sent and followed: where NAT rewrote it (the DNAT to an\n"
			"endpoint, the masquerade), read from each namespace's conntrack table, with the rules\n"
			"of its live ruleset that did it, or the rule that rejected or dropped it; on nodes, the\n"
			"NetworkPolicy rules that let it through, or the drop that stopped it. Through an\n"
			"ingress, an HTTP request with that Host and path: the ingress controller's hop (the\n"
			"nginx server and location it chose, the Service it proxies to), then its own\n"
			"connection past kube-proxy's DNAT to the pod that answered.\n"
			"\n"
			"Options:\n"
			"  --json              machine-readable output\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_JSON,
		.run = cmd_trace,
	},
	{
		.name = "plan",
		.args = "FILE|NAME",
		.summary = "print how to build a lab by hand: the plan's steps as commands",
		.help = "Print the plan of lab NAME (as it was brought up) or of the topology FILE: every step,\n"
			"in the order up applies it. As a shell script (sh, the default): the ip netns, ip link,\n"
			"ip addr, ip route, ip neigh, bridge fdb, sysctl and nft commands that build the same\n"
			"network by hand, with comments naming the article's sections. As json: the saved plan\n"
			"(see docs/plan.md). FILE needs no root.\n"
			"\n"
			"Options:\n"
			"  --format FORMAT     sh (default) or json\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_FORMAT,
		.run = cmd_plan,
	},
	{
		.name = "graph",
		.args = "FILE|NAME",
		.summary = "draw a lab: machines, bridges, links, addresses and routing paths",
		.help = "Print lab NAME (as it was brought up) or the topology FILE as a graph: machines as boxes\n"
			"grouped by node (and pods by namespace, when some are outside default), bridges, links\n"
			"labelled with interface names and addresses, and the paths of the routing mode.\n"
			"mermaid renders in Markdown and GitHub job summaries; dot is for Graphviz (dot -Tsvg).\n"
			"FILE needs no root.\n"
			"\n"
			"Options:\n"
			"  --format FORMAT     mermaid (default) or dot\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_FORMAT,
		.run = cmd_graph,
	},
	{
		.name = "images",
		.args = "",
		.summary = "list the image cache: trees, sizes, sources, labs using them (root)",
		.help = "List the root filesystems unpacked in the image cache (TESTBED_CACHE_DIR,\n"
			"/var/cache/testbed/images): each tree's sha256 (the first 12 digits in the table),\n"
			"its size on disk, when it was unpacked, the tarball it came from (when recorded), and\n"
			"the labs under the state directory whose saved plan uses it. Waits while an up unpacks.\n"
			"\n"
			"Options:\n"
			"  --json              machine-readable output\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_JSON,
		.run = cmd_images,
	},
	{
		.name = "prune",
		.args = "",
		.summary = "remove the cached images no lab uses (root)",
		.help = "Remove from the image cache every tree that no lab under the state directory uses,\n"
			"and what interrupted unpacks left (.unpack-*), printing each and the bytes freed.\n"
			"Holds the cache lock throughout, as up does when it unpacks. While a lab's images are\n"
			"unknown (an up still unpacking, or state this testbed cannot read) it keeps every tree.\n"
			"Labs under other state directories are not seen: their trees count as unused.\n"
			"\n"
			"Options:\n"
			"  --dry-run           print what would be removed; remove nothing\n"
			"  --state-dir DIR     where labs keep their state (TESTBED_STATE_DIR, /run/testbed)\n",
		.options = CLI_STATE_DIR | CLI_DRY_RUN,
		.run = cmd_prune,
	},
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: testbed [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"testbed builds Kubernetes-style network labs out of Linux namespaces\n"
		"and proves what can reach what.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-9s %-30s %s\n", commands[i].name, commands[i].args, commands[i].summary);
	fprintf(out,
		"\n"
		"Run `testbed COMMAND --help` for a command's options.\n"
		"Exit codes: 0 ok, 1 expectations failed, 2 bad input or usage, 3 system failure.\n"
		"The topology format is described in testbed-topology(5) and docs/topology.md;\n"
		"man testbed has every command and option.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	proc_title_init(argc, argv);
	fd_low_reserve();
	if (argc < 2) {
		print_usage(stderr);
		return TB_EXIT_USAGE;
	}
	const char *first = argv[1];
	if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
		print_usage(stdout);
		return TB_EXIT_OK;
	}
	if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
		printf("testbed %s\n", TESTBED_VERSION);
		return TB_EXIT_OK;
	}
	if (strcmp(first, "help") == 0) {
		if (argc < 3) {
			print_usage(stdout);
			return TB_EXIT_OK;
		}
		const struct command *cmd = find_command(argv[2]);
		if (!cmd) {
			fprintf(stderr, "testbed: unknown command '%s'; see testbed --help\n", argv[2]);
			return TB_EXIT_USAGE;
		}
		command_usage(cmd, stdout);
		return TB_EXIT_OK;
	}
	const struct command *cmd = find_command(first);
	if (!cmd) {
		fprintf(stderr, "testbed: unknown %s '%s'; see testbed --help\n", first[0] == '-' ? "option" : "command",
			first);
		return TB_EXIT_USAGE;
	}
	return command_run(cmd, argc - 1, argv + 1);
}
