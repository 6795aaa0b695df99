/* `testbed plan --format sh`: the lab as the commands that build it by
 * hand, in the order up applies the steps, each group under a comment
 * naming the article's section (or why the step exists). */
#define _GNU_SOURCE
#include "plan_render.h"

#include <string.h>

#include "step.h"

void plan_render_sh(const struct plan *p, FILE *out)
{
	fprintf(out,
		"#!/bin/sh\n"
		"# Lab %s (routing: %s), as testbed %s plans it: the commands that build its network\n"
		"# by hand, with iproute2, bridge(8), sysctl(8) and nft(8). Machines are network namespaces\n"
		"# named after the lab's machines. Run as root on a scratch machine, or in a scratch namespace:\n"
		"#   mkdir -p /run/netns; unshare --net --mount sh -c 'mount -t tmpfs tmpfs /run/netns && ip link set lo up && sh THIS'\n"
		"# testbed up also gives each machine its own mount, UTS, IPC and PID namespaces, an image's root\n"
		"# filesystem and its workload (noted below); this script builds the network alone.\n"
		"set -eu\n",
		p->lab, tb_routing_name(p->routing), p->version);
	struct render_ctx r = {.plan = p, .out = out};
	const char *last_note = NULL;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->note && (!last_note || strcmp(s->note, last_note) != 0)) {
			fprintf(out, "\n# %s\n", s->note);
			last_note = s->note;
		}
		step_ops(s->kind)->render(&r, s);
	}
}
