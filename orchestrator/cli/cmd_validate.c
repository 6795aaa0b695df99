/* testbed validate FILE */
#define _GNU_SOURCE
#include <stdio.h>

#include "cli/commands.h"
#include "plan/plan.h"
#include "plan/plan_neigh.h"
#include "util/ipv4.h"
#include "util/util.h"

int cmd_validate(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	(void)o;
	if (n != 1)
		return command_usage_error(cmd, "expected one topology FILE");
	struct plan p;
	/* The notes after the lines scripts read. */
	char *notes = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&notes, &len);
	int rc = command_compile_noting(operands[0], &p, out);
	fclose(out);
	if (rc != TB_EXIT_OK) {
		free(notes);
		return TB_EXIT_USAGE;
	}
	size_t count[MACHINE_EXTERNAL + 1] = {0};
	for (size_t i = 0; i < p.n_machines; i++)
		count[p.machines[i].kind]++;
	/* A fixed shape, always plural: scripts read this line. */
	printf("ok: %zu nodes, %zu pods, %zu hosts\n", count[MACHINE_NODE], count[MACHINE_POD], count[MACHINE_HOST]);
	autofree char *why = plan_neighbours_explain(&p);
	printf("%s\n", why);
	if (p.dns_address) {
		char a[IPV4_PREFIX_STRLEN];
		printf("cluster DNS: pod kube-system/coredns (dnsmasq), Service kube-system/kube-dns at %s, domain %s\n",
		       ipv4_addr_format(p.dns_address, a), p.cluster_domain);
	}
	fputs(notes, stdout);
	free(notes);
	plan_free(&p);
	return TB_EXIT_OK;
}
