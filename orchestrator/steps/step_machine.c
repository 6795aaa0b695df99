/* Machines: a group of namespaces held by a small init (machine.c), with an
 * image's root filesystem and a workload. `up` spawns them (it owns the
 * state, logs and unpacked images) through ctx->spawn; this step then
 * brings up lo, which a new network namespace has down. By hand, a
 * machine's network is `ip netns add`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "steps/netlink.h"
#include "plan/plan_render.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	if (ctx->spawn(ctx, s->machine, e) < 0)
		return tb_context(e, "%s", ctx->plan->machines[s->machine].name);
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk || nl_link_up(sk, "lo", e) < 0)
		return tb_context(e, "%s", ctx->plan->machines[s->machine].name);
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct plan_machine *m = &r->plan->machines[s->machine];
	const char *ns = render_ns(r, s->machine);
	if (m->image != PLAN_NONE)
		render_comment(r, "%s %s runs on image %s (%s)", machine_kind_name(m->kind), m->name,
			       r->plan->images[m->image].name, r->plan->images[m->image].path);
	if (m->argv) {
		/* The words as a shell would take them, so that the comment
		 * shows where each argument ends. */
		autofree char *words = NULL;
		size_t size = 0;
		FILE *mem = open_memstream(&words, &size);
		for (char **a = m->argv; *a; a++) {
			fputc(' ', mem);
			sh_quote(mem, *a);
		}
		fclose(mem);
		render_comment(r, "its workload, started by testbed up inside the image:%s", words);
	}
	render_cmd(r, "ip", "netns", "add", ns, NULL);
	/* Files go into the machine's root, which the script does not build:
	 * shown as comments, line by line. */
	for (size_t i = 0; i < m->n_files; i++) {
		const struct plan_file *f = &m->files[i];
		render_comment(r, "file %s (mode %04o), written by testbed up into its root:", f->path, f->mode);
		for (const char *line = f->content; *line;) {
			size_t n = strcspn(line, "\n");
			render_comment(r, "  %.*s", (int)n, line);
			line += n + (line[n] == '\n');
		}
	}
	render_cmd(r, "ip", "-n", ns, "link", "set", "dev", "lo", "up", NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	(void)s;
	(void)o; /* the machine itself is in the plan's "machines" */
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	(void)o;
	(void)s;
	(void)e;
	return 0;
}

const struct step_ops step_machine_ops = {
	.name = "machine",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
