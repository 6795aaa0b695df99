/* trace's text output on a hand-built trace: names from an edited plan and
 * device names from inside a pod reach the terminal escaped. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "harness.h"
#include "check/trace.h"
#include "util/util.h"

TEST(trace_text_escapes_names_and_devices)
{
	struct plan_machine machines[] = {{.kind = MACHINE_POD, .name = "pod\x1b[2Ja", .address = 0x0a000102},
					  {.kind = MACHINE_NODE, .name = "node\n1", .address = 0x0a0a0002}};
	struct live_lab l = {.record = {.name = "lab\r1"}, .plan = {.machines = machines, .n_machines = 2}};
	struct trace t = {.from = 0, .dst = 0x0a000202, .n_hops = 3};
	t.hops[0] = (struct trace_hop){.kind = HOP_ROUTE, .machine = 0, .next_hop = 0x0a000101, .via = 0x0a000101};
	snprintf(t.hops[0].dev, sizeof(t.hops[0].dev), "%s", "eth\x1b]0;x\x07");
	t.hops[1] = (struct trace_hop){.kind = HOP_WIRE, .machine = 0};
	snprintf(t.hops[1].path, sizeof(t.hops[1].path), "%s", "pod\x1b[2Ja eth0 -> node\n1 veth0");
	t.hops[2] = (struct trace_hop){.kind = HOP_DROP, .machine = 1};
	snprintf(t.hops[2].reason, sizeof(t.hops[2].reason), "%s", "no route\r\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	trace_print_text(out, &l, &t, "pod\xc2\x9b" "b");
	fclose(out);
	CHECK_STR(buf, "trace lab\\x0d1: pod\\x1b[2Ja (10.0.1.2) -> pod\\xc2\\x9bb (10.0.2.2)\n"
		       " 1. pod\\x1b[2Ja: route default via 10.0.1.1 dev eth\\x1b]0;x\\x07\n"
		       "      neighbour 10.0.1.1 on eth\\x1b]0;x\\x07: ARP needed\n"
		       " 2. pod\\x1b[2Ja eth0 -> node\\x0a1 veth0\n"
		       " 3. node\\x0a1: dropped: no route\\x0d\\x0a\n");
	free(buf);
}
