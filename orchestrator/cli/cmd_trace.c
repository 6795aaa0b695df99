/* testbed trace NAME FROM TO */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/live.h"
#include "model/topology.h"
#include "check/resolve.h"
#include "check/trace.h"
#include "util/util.h"

/* The machine NAME means (model/names.h), or false after saying why: the
 * lab namespace is no end of a packet's path. */
static bool find_machine(const struct command *cmd, const struct live_lab *l, const char *name, size_t *machine)
{
	autofree char *why = NULL;
	enum name_found found = plan_resolve(&l->plan, name, machine, &why);
	if (found == NAME_AMBIGUOUS) {
		command_fail(cmd, TB_EXIT_USAGE, "lab %s: %s", l->plan.lab, why);
		return false;
	}
	if (found == NAME_UNKNOWN || l->plan.machines[*machine].kind == MACHINE_LAB) {
		command_fail(cmd, TB_EXIT_USAGE, "lab %s has no pod, node, host, external machine or gateway \"%s\"",
			     l->plan.lab, name);
		return false;
	}
	return true;
}

/* How long trace waits for a name's answer. */
#define TRACE_RESOLVE_MS 2000

/* TEXT as a DNS name: "dns:NAME[:PORT]", or "NAME[:PORT]" where NAME has
 * a dot (no machine's name does). Resolved from FROM as check resolves
 * it, then where its first address goes (trace_target_address). -1: TEXT
 * is no name; 0: *TO set; else the exit code, after saying why. */
static int dns_target(const struct command *cmd, const struct live_lab *l, size_t from, const char *text,
		      struct trace_target *to, struct check_resolved *resolved)
{
	const char *rest = str_has_prefix(text, "dns:") ? text + strlen("dns:") : text;
	size_t len = strcspn(rest, ":");
	autofree char *name = xasprintf("%.*s", (int)len, rest);
	const char *port = rest[len] == ':' ? rest + len + 1 : NULL;
	if (rest == text && (!strchr(name, '.') || !topology_is_dns_name(name) || str_has_prefix(text, "ip:")))
		return -1;
	if (!topology_is_dns_name(name) || (port && !*port))
		return command_fail(cmd, TB_EXIT_USAGE, "\"%s\": expected dns:NAME or dns:NAME:PORT", text);
	struct tb_err e;
	autofree char *why = NULL;
	int rc = check_resolve(&l->plan, l->netns, from, name, TRACE_RESOLVE_MS, resolved, &why, &e);
	if (rc < 0)
		return command_fail(cmd, TB_EXIT_SYSTEM, "%s: resolving %s: %s", l->plan.lab, name, e.msg);
	if (rc > 0)
		return command_fail(cmd, TB_EXIT_USAGE, "lab %s: %s cannot resolve %s: %s", l->plan.lab,
				    l->plan.machines[from].name, name, why);
	autofree char *problem = NULL;
	if (!trace_target_address(&l->plan, from, text, resolved->address, port, to, &problem)) {
		check_resolved_free(resolved);
		return command_fail(cmd, TB_EXIT_USAGE, "%s", problem);
	}
	/* Named as written, without a port written twice. */
	if (port)
		snprintf(to->name, sizeof(to->name), "%s", text);
	return 0;
}

int cmd_trace(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	if (n != 3)
		return command_usage_error(cmd, "expected a lab NAME, FROM and TO");
	const char *name = operands[0], *from_name = operands[1], *to_name = operands[2];
	if (!topology_is_lab_name(name))
		return command_fail(cmd, TB_EXIT_USAGE, "\"%s\" is not a lab name", name);
	if (geteuid() != 0)
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it looks into the lab's namespaces");
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, o->state_dir, true, &l, &e);
	if (rc != TB_EXIT_OK)
		return command_fail(cmd, rc, "%s", e.msg);
	size_t from;
	if (!find_machine(cmd, &l, from_name, &from)) {
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	struct trace_target to;
	autofree char *why = NULL;
	struct check_resolved resolved = {0};
	rc = dns_target(cmd, &l, from, to_name, &to, &resolved);
	if (rc > 0) {
		live_close(&l);
		return rc;
	}
	if (rc < 0 && !trace_target_resolve(&l.plan, from, to_name, &to, &why)) {
		command_fail(cmd, TB_EXIT_USAGE, "%s", why);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	if (!to.address) {
		command_fail(cmd, TB_EXIT_USAGE, "%s has no address to trace a packet to", to.name);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	struct trace *t = xmalloc(sizeof(*t));
	rc = to.connect ? trace_run_connection(&l, from, &to, t, &e) : trace_run(&l, from, to.address, t, &e);
	if (resolved.text)
		snprintf(t->resolved, sizeof(t->resolved), "%s", resolved.text);
	check_resolved_free(&resolved);
	if (rc < 0)
		rc = command_fail(cmd, TB_EXIT_SYSTEM, "%s: %s", name, e.msg);
	else if (o->json)
		trace_print_json(stdout, &l, t, to.name);
	else
		trace_print_text(stdout, &l, t, to.name);
	trace_free(t);
	free(t);
	live_close(&l);
	return rc;
}
