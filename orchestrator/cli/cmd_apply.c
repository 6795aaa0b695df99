/* testbed apply NAME FILE... and testbed delete NAME FILE...: kubectl apply
 * -f and delete -f on a running lab. The lab's objects (as its topology and
 * manifests declared them at up, which keeps them, and as applies changed
 * them since: objects.json in its state) are edited (model/k8s_apply.h) and
 * compiled again as the lab's topology, through the compiler `up` uses; the
 * new plan must differ from the saved one only where a running lab can
 * change (plan/plan_diff.h). Then each node whose tables change loads them
 * in one nftables transaction, the gateway's routes to Services' addresses
 * follow, cluster DNS and the ingress controller take their new files and
 * serve them, and the new plan is saved: the plan a topology declaring the
 * resulting objects gives. No machine restarts (dnsmasq or nginx may,
 * inside their pods); a failure puts back what changed. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/served.h"
#include "cli/commands.h"
#include "cli/compile.h"
#include "lab/lab_apply.h"
#include "lab/lab_dns.h"
#include "lab/lab_ingress.h"
#include "lab/lab_pod.h"
#include "lab/live.h"
#include "model/cluster_dns.h"
#include "model/compile.h"
#include "model/ingress.h"
#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "model/k8s_apply.h"
#include "model/topology.h"
#include "model/yamldoc.h"
#include "plan/ingress_nginx.h"
#include "plan/plan_diff.h"
#include "steps/step.h"
#include "util/diag.h"
#include "util/outfile.h"
#include "util/util.h"

/* J as text, malloc'd (cJSON's own allocation freed as cJSON wants). */
static char *print_json(const cJSON *j)
{
	char *text = cJSON_Print(j);
	char *copy = xstrdup(text ? text : "null");
	cJSON_free(text);
	return copy;
}

/* Each item under DST (DOC's) at the position of its counterpart under SRC
 * (IN's); none elsewhere. */
static void positions(struct json_doc *doc, const cJSON *dst, const struct json_doc *in, const cJSON *src)
{
	json_doc_set_position(doc, dst, src ? json_doc_line(in, src) : 0, src ? json_doc_column(in, src) : 0);
	size_t i = 0;
	for (const cJSON *c = dst->child; c; c = c->next, i++) {
		const cJSON *from = NULL;
		if (src && cJSON_IsObject(dst))
			from = cJSON_GetObjectItemCaseSensitive(src, c->string);
		else if (src && cJSON_IsArray(dst))
			from = cJSON_GetArrayItem(src, (int)i);
		positions(doc, c, in, from);
	}
}

/* SOURCE (the lab's topology with its objects, IN's edits made) compiled
 * into P as the lab's topology. Messages name IN, where its objects were
 * written: the set's other objects compiled before, and a problem they
 * have now (a namespace deleted under them) names them by path. */
static int compile_set(const cJSON *source, const struct json_doc *in, const char *dir, const char *topology,
		       struct plan *p, struct diag *d)
{
	autofree char *text = print_json(source);
	struct json_doc *doc = json_doc_parse(in->file, text, d);
	if (!doc)
		return -1;
	cJSON *objects = cJSON_GetObjectItemCaseSensitive(doc->root, "objects");
	positions(doc, doc->root, in, NULL);
	const cJSON *docs = in->root;
	for (const cJSON *o = cJSON_IsArray(docs) ? docs->child : NULL; o; o = o->next) {
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
		bool is_list = cJSON_IsString(kind) && strcmp(kind->valuestring, "List") == 0 && cJSON_IsArray(items);
		const cJSON *list = is_list ? items->child : o;
		for (const cJSON *item = list; item; item = list == o ? NULL : item->next) {
			int at = k8s_set_index(objects, item);
			if (at >= 0)
				positions(doc, cJSON_GetArrayItem(objects, at), in, item);
		}
	}
	return compile_topology_doc(doc, dir, topology, p, d);
}

#define DNS_SERVED_TIMEOUT_MS 5000

/* C's records into L's DNS pod, served before this returns: *PIDS, the
 * dnsmasq PID before and after ("" when unchanged). */
static int dns_apply(struct live_lab *l, const struct plan_dns_change *c, char *pids, size_t size, struct tb_err *e)
{
	pid_t before, after;
	if (lab_dns_update(l, c, &before, &after, e) < 0)
		return -1;
	const struct plan_machine *m = &l->plan.machines[c->machine];
	autofree char *fallback = xasprintf("%s.%s.svc.%s", TB_DNS_SERVICE, TB_DNS_NAMESPACE, l->plan.cluster_domain);
	if (dns_wait_served(l->netns[c->machine], m->address, c, fallback, DNS_SERVED_TIMEOUT_MS, e) < 0)
		return -1;
	if (!after && !(after = lab_pod_workload_pid(l, c->machine, e)))
		return -1;
	if (after == before)
		snprintf(pids, size, "cluster DNS reloaded its records (dnsmasq PID %d kept)", before);
	else
		snprintf(pids, size, "cluster DNS restarted (dnsmasq PID %d, was %d)", after, before);
	return 0;
}

/* C undone: the saved plan's (L's) records back in the DNS pod, as NEW
 * changed them; what fails is said on stderr, prefixed by WHO. */
static void dns_undo(struct live_lab *l, const struct plan *new, const struct plan_dns_change *c, const char *who)
{
	if (c->machine == PLAN_NONE)
		return;
	const struct plan_machine *was = &l->plan.machines[c->machine], *now = &new->machines[c->machine];
	struct plan_dns_change back = {.machine = c->machine, .restart = c->restart};
	const char *new_hosts = "", *old_hosts = "";
	for (size_t i = 0; i < was->n_files; i++) {
		if (c->config && strcmp(was->files[i].path, TB_DNS_CONFIG) == 0)
			back.config = was->files[i].content;
		if (strcmp(was->files[i].path, TB_DNS_HOSTS) == 0)
			old_hosts = back.hosts = was->files[i].content;
	}
	for (size_t i = 0; i < now->n_files; i++)
		if (strcmp(now->files[i].path, TB_DNS_HOSTS) == 0)
			new_hosts = now->files[i].content;
	if (!c->hosts)
		back.hosts = NULL;
	plan_dns_probe(new_hosts, old_hosts, &back);
	char pids[128];
	struct tb_err e;
	if (dns_apply(l, &back, pids, sizeof(pids), &e) < 0)
		fprintf(stderr, "testbed %s: putting cluster DNS's old records back: %s; bring the lab down and up\n",
			who, e.msg);
}

#define INGRESS_SERVED_TIMEOUT_MS 5000

/* C's nginx.conf into L's ingress controller, served before this returns;
 * *SAID what happened. */
static int ingress_apply(struct live_lab *l, const struct plan_ingress_change *c, char *said, size_t size,
			 struct tb_err *e)
{
	pid_t was, now;
	if (lab_ingress_update(l, c, &was, e) < 0 ||
	    ingress_wait_served(l->netns[c->machine], c, INGRESS_SERVED_TIMEOUT_MS, e) < 0 ||
	    !(now = lab_pod_workload_pid(l, c->machine, e)))
		return -1;
	snprintf(said, size, "the ingress controller restarted nginx (PID %d, was %d)", now, was);
	return 0;
}

/* C undone: the saved plan's (L's) nginx.conf back; what fails is said on
 * stderr, prefixed by WHO. */
static void ingress_undo(struct live_lab *l, const struct plan_ingress_change *c, const char *who)
{
	if (c->machine == PLAN_NONE)
		return;
	const struct plan_machine *was = &l->plan.machines[c->machine];
	struct plan_ingress_change back = {.machine = c->machine};
	for (size_t i = 0; i < was->n_files; i++)
		if (strcmp(was->files[i].path, INGRESS_NGINX_CONF) == 0)
			back.config = was->files[i].content;
	char said[128];
	struct tb_err e;
	if (!back.config || !ingress_nginx_checksum(back.config, back.checksum) ||
	    ingress_apply(l, &back, said, sizeof(said), &e) < 0)
		fprintf(stderr, "testbed %s: putting the ingress controller's old nginx.conf back: %s; bring the lab down "
				"and up\n", who, back.config ? e.msg : "the saved plan has none");
}

static int apply_or_delete(const struct command *cmd, const struct cli_options *o, int n, char **operands,
			   bool delete)
{
	if (n < 2)
		return command_usage_error(cmd, "expected a lab NAME and at least one FILE");
	const char *name = operands[0];
	if (!topology_is_lab_name(name))
		return command_fail(cmd, TB_EXIT_USAGE, "\"%s\" is not a lab name", name);
	if (geteuid() != 0)
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it changes the lab's nftables tables");
	long long t0 = now_ms();
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, o->state_dir, true, &l, &e);
	if (rc != TB_EXIT_OK)
		return command_fail(cmd, rc, "%s", e.msg);
	struct diag d;
	diag_init(&d, NULL);
	struct plan np = {0};
	struct plan_changes changes = {0};
	autofree char *text = NULL, *topology = NULL, *dir_copy = NULL;
	cJSON *set = lab_objects_load(&l, &d);
	rc = TB_EXIT_USAGE;
	if (!set)
		goto out;
	cJSON *source = cJSON_GetObjectItemCaseSensitive(set, "source");
	cJSON *where = cJSON_GetObjectItemCaseSensitive(set, "where");
	cJSON *objects = cJSON_GetObjectItemCaseSensitive(source, "objects");
	if (!cJSON_IsArray(objects)) {
		cJSON_AddItemToObject(source, "objects", objects = cJSON_CreateArray());
	}
	/* Files in turn, as kubectl takes them, each edit compiled (so that a
	 * message names the file that brought the problem, at its line); the
	 * lab changes only once every one is in. */
	topology = xstrdup(l.plan.topology);
	/* Relative paths (images) as up resolved them: the topology's folder,
	 * or the working directory of an up from standard input. */
	const cJSON *set_dir = cJSON_GetObjectItemCaseSensitive(set, "dir");
	dir_copy = xstrdup(cJSON_IsString(set_dir) ? set_dir->valuestring : l.plan.topology);
	const char *dir = cJSON_IsString(set_dir) ? dir_copy : dirname(dir_copy);
	for (int i = 1; i < n; i++) {
		struct json_doc *in = json_doc_load_manifest(operands[i], &d);
		if (!in)
			goto out;
		d.file = in->file;
		struct docwalk w = {.doc = in, .d = &d, .columns = true};
		bool ok = k8s_set_edit(objects, where, &w, delete);
		d.file = NULL;
		plan_free(&np);
		np = (struct plan){0};
		ok = ok && compile_set(source, in, dir, topology, &np, &d) == 0;
		json_doc_free(in);
		if (!ok)
			goto out;
	}
	text = print_json(set);
	if (strcmp(np.lab, l.plan.lab) != 0 || plan_diff(&l.plan, &np, &changes, &e) < 0) {
		if (strcmp(np.lab, l.plan.lab) != 0)
			tb_fail(&e, "apply cannot rename the lab");
		command_fail(cmd, rc, "%s", e.msg);
		goto out;
	}
	/* Policies name where they were written, as a topology's do. */
	for (size_t i = 0; i < np.n_policies; i++) {
		const char *at = k8s_set_where(objects, where, "NetworkPolicy", np.policies[i].namespace,
					       np.policies[i].name);
		if (at) {
			free(np.policies[i].where);
			np.policies[i].where = xstrdup(at);
		}
	}
	/* What up measured and read stays the lab's. */
	for (size_t i = 0; i < np.n_images && i < l.plan.n_images; i++)
		memcpy(np.images[i].sha256, l.plan.images[i].sha256, sizeof(np.images[i].sha256));
	np.timings = l.plan.timings;
	rc = TB_EXIT_SYSTEM;
	if (lab_apply_changes(&l, &changes, &e) < 0) {
		command_fail(cmd, rc, "%s", e.msg);
		lab_apply_undo(&l, &changes, cmd->name);
		goto out;
	}
	/* Cluster DNS after the rules: a failure there puts both back. */
	char dns_said[128] = "";
	char ingress_said[128] = "";
	/* What was touched is put back, a server that failed midway too. */
	bool dns_touched = changes.dns.machine != PLAN_NONE, ingress_touched = false;
	bool failed = dns_touched && dns_apply(&l, &changes.dns, dns_said, sizeof(dns_said), &e) < 0;
	if (!failed && changes.ingress.machine != PLAN_NONE) {
		ingress_touched = true;
		failed = ingress_apply(&l, &changes.ingress, ingress_said, sizeof(ingress_said), &e) < 0;
	}
	failed = failed || lab_save_plan(&l.dir, &np, &e) < 0 || lab_objects_save(&l, text, &e) < 0;
	if (failed) {
		command_fail(cmd, rc, "%s", e.msg);
		lab_apply_undo(&l, &changes, cmd->name);
		if (dns_touched)
			dns_undo(&l, &np, &changes.dns, cmd->name);
		if (ingress_touched)
			ingress_undo(&l, &changes.ingress, cmd->name);
		goto out;
	}
	rc = TB_EXIT_OK;
	for (size_t i = 0; i < changes.n_kept; i++) {
		const struct step *s = changes.kept[i];
		fprintf(stderr, "note: %s: %s stays %s (what it was before the lab set it is not known)\n",
			l.plan.machines[s->machine].name, s->u.sysctl.key, s->u.sysctl.value);
	}
	if (!o->quiet) {
		char routes[64] = "";
		if (changes.n_routes)
			snprintf(routes, sizeof(routes), ", %zu gateway route%s changed", changes.n_routes,
				 changes.n_routes == 1 ? "" : "s");
		printf("%s: %zu nftables table%s changed%s%s%s%s%s in %lld ms; no machine restarted\n", name,
		       changes.n_tables, changes.n_tables == 1 ? "" : "s", routes, dns_said[0] ? ", " : "", dns_said,
		       ingress_said[0] ? ", " : "", ingress_said, now_ms() - t0);
	}
out:
	diag_print(&d, stderr);
	diag_free(&d);
	cJSON_Delete(set);
	plan_changes_free(&changes);
	plan_free(&np);
	live_close(&l);
	return rc;
}

int cmd_apply(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	return apply_or_delete(cmd, o, n, operands, false);
}

int cmd_delete(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	return apply_or_delete(cmd, o, n, operands, true);
}
