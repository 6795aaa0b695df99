/* hostPort, as the CNI portmap plugin maps it: on each node with such
 * pods, one nft table that DNATs the node's own addresses (fib daddr type
 * local: traffic arriving, in prerouting, and the node's own, in output) on
 * the host port to the pod's address and container port, and masquerades
 * a pod that reaches itself that way (hairpin), whose reply would
 * otherwise skip the DNAT it must undo. A pass of the compiler. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "plan/plan_passes.h"
#include "util/ipv4.h"
#include "util/util.h"

#define PORTMAP_TABLE "testbed-hostports"

static const char *nft_protocol(enum tb_protocol p)
{
	return p == TB_PROTOCOL_UDP ? "udp" : "tcp";
}

void plan_cluster_hostports(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tb_node *n = &t->nodes[i];
		char *map = NULL, *hairpin = NULL;
		size_t map_len = 0, hairpin_len = 0;
		FILE *m = open_memstream(&map, &map_len), *h = open_memstream(&hairpin, &hairpin_len);
		size_t count = 0;
		for (size_t j = 0; j < n->n_pods; j++) {
			const struct tb_pod *pod = &n->pods[j];
			char pod_addr[IPV4_PREFIX_STRLEN], host_ip[IPV4_PREFIX_STRLEN];
			ipv4_addr_format(pod->address, pod_addr);
			for (size_t k = 0; k < pod->n_host_ports; k++) {
				const struct tb_host_port *hp = &pod->host_ports[k];
				const char *proto = nft_protocol(hp->protocol);
				fprintf(m, "\t\t%s%s%s%s dport %d dnat to %s:%d\n", hp->host_ip ? "ip daddr " : "",
					hp->host_ip ? ipv4_addr_format(hp->host_ip, host_ip) : "", hp->host_ip ? " " : "",
					proto, hp->host_port, pod_addr, hp->container_port);
				fprintf(h, "\t\tip saddr %s ip daddr %s %s dport %d masquerade\n", pod_addr, pod_addr, proto,
					hp->container_port);
				count++;
			}
		}
		fclose(m);
		fclose(h);
		if (count) {
			struct step *s = plan_add_step(p, STEP_NFT, c->first_node + i,
						       "hostPort: the node's port DNATs to the pod's, as the CNI portmap "
						       "plugin maps it");
			s->u.nft.table = xstrdup("ip " PORTMAP_TABLE);
			s->u.nft.ruleset = xasprintf("table ip " PORTMAP_TABLE " {\n"
						     "\tchain hostports {\n%s\t}\n"
						     "\tchain prerouting {\n"
						     "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
						     "\t\tfib daddr type local jump hostports\n"
						     "\t}\n"
						     "\tchain output {\n"
						     "\t\ttype nat hook output priority -100; policy accept;\n"
						     "\t\tfib daddr type local jump hostports\n"
						     "\t}\n"
						     "\tchain postrouting {\n"
						     "\t\ttype nat hook postrouting priority srcnat; policy accept;\n%s"
						     "\t}\n"
						     "}\n",
						     map, hairpin);
		}
		free(map);
		free(hairpin);
	}
}
