/* Cluster DNS in the plan: see plan_dns.h. The pass (plan_cluster_dns)
 * gives every pod its /etc/resolv.conf (and its /etc/hosts where the
 * kubelet's differs from up's), and the DNS pod its configuration. */
#define _GNU_SOURCE
#include "plan/plan_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cluster_dns.h"
#include "model/ports.h"
#include "plan/plan_passes.h"
#include "util/ipv4.h"
#include "util/util.h"

/* The kubelet's limits (pkg/kubelet/network/dns): what passes them is
 * dropped, as the kubelet drops it (with an event there). */
#define MAX_NAMESERVERS 3
#define MAX_SEARCHES 32
#define MAX_SEARCH_CHARS 2048

struct strv {
	const char **v;
	size_t n, cap;
};

/* Appends S unless it is there already (the kubelet's omitDuplicates). */
static void add_unique(struct strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

struct option {
	const char *name, *value; /* value NULL: none */
};

/* Options merged by name, a later one replacing the value of an earlier
 * (the kubelet's mergeDNSOptions), in the order they first came. */
static void add_option(struct option *opts, size_t *n, const char *name, const char *value)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(opts[i].name, name) == 0) {
			opts[i].value = value;
			return;
		}
	opts[(*n)++] = (struct option){name, value};
}

char *plan_dns_resolv_conf(const char *namespace, bool host_network, enum tb_dns_policy policy,
			   const struct tb_dns_config *config, const char *domain, uint32_t dns_address)
{
	struct strv servers = {0}, searches = {0};
	struct option *opts = xcalloc(config->n_options + 2, sizeof(*opts));
	size_t n_opts = 0;
	char server[IPV4_PREFIX_STRLEN];
	autofree char *svc_ns = xasprintf("%s.svc.%s", namespace, domain);
	autofree char *svc = xasprintf("svc.%s", domain);
	/* ClusterFirst on the host's network, and either ClusterFirst policy
	 * without cluster DNS, fall back to Default: the node's settings,
	 * which are none here. */
	bool cluster = dns_address && (policy == TB_DNS_CLUSTER_FIRST_WITH_HOST_NET ||
				       (policy == TB_DNS_CLUSTER_FIRST && !host_network));
	if (cluster) {
		add_unique(&servers, ipv4_addr_format(dns_address, server));
		add_unique(&searches, svc_ns);
		add_unique(&searches, svc);
		add_unique(&searches, domain);
		add_option(opts, &n_opts, "ndots", "5");
	}
	/* dnsConfig adds to what the policy gave (None: to nothing). */
	for (size_t i = 0; i < config->n_nameservers; i++)
		add_unique(&servers, config->nameservers[i]);
	for (size_t i = 0; i < config->n_searches; i++)
		add_unique(&searches, config->searches[i]);
	for (size_t i = 0; i < config->n_options; i++)
		add_option(opts, &n_opts, config->options[i].name, config->options[i].value);

	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (searches.n) {
		fputs("search", out);
		for (size_t i = 0, chars = 0; i < searches.n && i < MAX_SEARCHES; i++) {
			chars += strlen(searches.v[i]) + (i > 0);
			if (chars > MAX_SEARCH_CHARS)
				break;
			fprintf(out, " %s", searches.v[i]);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < servers.n && i < MAX_NAMESERVERS; i++)
		fprintf(out, "nameserver %s\n", servers.v[i]);
	if (n_opts) {
		fputs("options", out);
		for (size_t i = 0; i < n_opts; i++)
			fprintf(out, opts[i].value ? " %s:%s" : " %s", opts[i].name, opts[i].value);
		fputc('\n', out);
	}
	fclose(out);
	free(servers.v);
	free(searches.v);
	free(opts);
	return text;
}

char *plan_dns_etc_hosts(const struct tb_pod *pod, const char *node, const char *domain)
{
	if (pod->host_network ? !pod->n_host_aliases : !pod->hostname && !pod->subdomain && !pod->n_host_aliases)
		return NULL;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char a[IPV4_PREFIX_STRLEN];
	ipv4_addr_format(pod->address, a);
	if (pod->host_network) {
		/* The node's own file, as up writes it. */
		fprintf(out, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", a, node);
	} else {
		const char *host = pod->hostname ? pod->hostname : pod->name;
		fputs("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
		      "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
		      out);
		if (pod->subdomain)
			fprintf(out, "%s\t%s.%s.%s.svc.%s\t%s\n", a, host, pod->subdomain, pod->namespace, domain, host);
		else
			fprintf(out, "%s\t%s\n", a, host);
	}
	if (pod->n_host_aliases)
		fputs("\n# Entries added by HostAliases.\n", out);
	for (size_t i = 0; i < pod->n_host_aliases; i++) {
		fputs(pod->host_aliases[i].ip, out);
		for (size_t k = 0; k < pod->host_aliases[i].n_hostnames; k++)
			fprintf(out, "\t%s", pod->host_aliases[i].hostnames[k]);
		fputc('\n', out);
	}
	fclose(out);
	return text;
}

/* What DNS counts of a service's endpoints: the ready ones, and every one
 * under publishNotReadyAddresses; each address once. */
static bool counted(const struct plan_service *s, size_t k)
{
	const struct plan_endpoint *ep = &s->endpoints[k];
	if (!ep->ready && !s->publish_not_ready)
		return false;
	for (size_t i = 0; i < k; i++)
		if (s->endpoints[i].address == ep->address && (s->endpoints[i].ready || s->publish_not_ready))
			return false;
	return true;
}

/* An endpoint's hostname: its own, else its address with dashes (the
 * "system-assigned identifier" the specification leaves open, as CoreDNS
 * makes it). */
static void endpoint_label(const struct plan_endpoint *ep, char buf[64])
{
	if (ep->hostname) {
		snprintf(buf, 64, "%s", ep->hostname);
		return;
	}
	uint32_t a = ep->address;
	snprintf(buf, 64, "%u-%u-%u-%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

char *plan_dns_hosts(const struct plan *p)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char a[IPV4_PREFIX_STRLEN], label[64];
	const char *domain = p->cluster_domain;
	/* A name's first line gives its address's PTR record: an endpoint's
	 * own name before its service's, services before pods. */
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		if (s->cluster_ip) {
			fprintf(out, "%s %s.%s.svc.%s\n", ipv4_addr_format(s->cluster_ip, a), s->name, s->namespace,
				domain);
			continue;
		}
		for (size_t k = 0; k < s->n_endpoints; k++) {
			if (!counted(s, k))
				continue;
			endpoint_label(&s->endpoints[k], label);
			ipv4_addr_format(s->endpoints[k].address, a);
			fprintf(out, "%s %s.%s.%s.svc.%s\n", a, label, s->name, s->namespace, domain);
			fprintf(out, "%s %s.%s.svc.%s\n", a, s->name, s->namespace, domain);
		}
	}
	/* The deprecated pod records (section 2.6), for the lab's pods. */
	for (size_t i = 0; i < p->n_machines; i++) {
		const struct plan_machine *m = &p->machines[i];
		if (m->kind != MACHINE_POD || m->host_network || !m->address || !m->namespace)
			continue;
		uint32_t x = m->address;
		fprintf(out, "%s %u-%u-%u-%u.%s.pod.%s\n", ipv4_addr_format(x, a), x >> 24, (x >> 16) & 0xff,
			(x >> 8) & 0xff, x & 0xff, m->namespace, domain);
	}
	fclose(out);
	return text;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

char *plan_dns_dnsmasq_conf(const struct plan *p, uint32_t listen, const char *hosts_path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char a[IPV4_PREFIX_STRLEN], label[64];
	const char *domain = p->cluster_domain;
	fprintf(out,
		"# Cluster DNS of lab %s: the records of the Kubernetes DNS specification for %s,\n"
		"# from the lab's Services and pods (testbed plan). dnsmasq runs with --no-daemon: in the\n"
		"# foreground, as root without changing user (the pod has no capability to), logging to\n"
		"# the pod's log. Debian's user and group for it, which dnsmasq only looks up.\n"
		"user=dnsmasq\n"
		"group=nogroup\n"
		"port=53\n"
		"listen-address=%s\n"
		"bind-interfaces\n"
		"pid-file=\n"
		"log-facility=-\n"
		"# Nothing but the cluster's own names: no upstream, no /etc/hosts. A name under\n"
		"# %s that the cluster does not have is NXDOMAIN, and so is every other name:\n"
		"# the lab has no resolver to ask (a cluster's DNS would forward those).\n"
		"no-resolv\n"
		"no-hosts\n"
		"no-poll\n"
		"local=/%s/\n"
		"local=/#/\n"
		"local-ttl=%d\n"
		"addn-hosts=%s\n"
		"txt-record=dns-version.%s,\"%s\"\n",
		p->lab, domain, ipv4_addr_format(listen, a), domain, domain, PLAN_DNS_TTL, hosts_path, domain,
		PLAN_DNS_SCHEMA);
	/* ExternalName: a CNAME (section 2.5), and nothing more. */
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		if (!s->external_name)
			continue;
		autofree char *target = xstrdup(s->external_name);
		size_t n = strlen(target);
		if (n > 1 && target[n - 1] == '.')
			target[n - 1] = '\0';
		fprintf(out, "cname=%s.%s.svc.%s,%s\n", s->name, s->namespace, domain, target);
	}
	/* SRV records for named ports: a ClusterIP service's name, or each
	 * counted endpoint of a headless one on its own port. */
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		for (size_t k = 0; s->external_name == NULL && k < s->n_ports; k++) {
			const struct plan_service_port *sp = &s->ports[k];
			if (!sp->name[0])
				continue;
			autofree char *proto = xstrdup(tb_protocol_name(sp->protocol));
			lower(proto);
			autofree char *name = xasprintf("%s.%s.svc.%s", s->name, s->namespace, domain);
			if (s->cluster_ip) {
				fprintf(out, "srv-host=_%s._%s.%s,%s,%u,10,100\n", sp->name, proto, name, name, sp->port);
				continue;
			}
			for (size_t e = 0; e < s->n_endpoints; e++) {
				if (!counted(s, e) || !s->endpoints[e].ports[k])
					continue;
				endpoint_label(&s->endpoints[e], label);
				fprintf(out, "srv-host=_%s._%s.%s,%s.%s,%u,10,100\n", sp->name, proto, name, label, name,
					s->endpoints[e].ports[k]);
			}
		}
	}
	fclose(out);
	return text;
}

void plan_cluster_dns(const struct tb_topology *t, struct plan *p, const struct cluster_plan *c)
{
	p->dns_address = t->dns_address;
	size_t server = PLAN_NONE;
	for (size_t i = 0; i < t->n_nodes; i++)
		for (size_t j = 0; j < t->nodes[i].n_pods; j++) {
			const struct tb_pod *pod = &t->nodes[i].pods[j];
			struct plan_machine *m = &p->machines[c->first_pod[i] + j];
			if (m->image == PLAN_NONE)
				continue;
			autofree char *resolv = plan_dns_resolv_conf(pod->namespace, pod->host_network, pod->dns_policy,
								     &pod->dns_config, p->cluster_domain, p->dns_address);
			plan_machine_add_file(m, "/etc/resolv.conf", resolv, 0644);
			autofree char *hosts = plan_dns_etc_hosts(pod, t->nodes[i].name, p->cluster_domain);
			if (hosts)
				plan_machine_add_file(m, "/etc/hosts", hosts, 0644);
			if (t->dns_address && strcmp(pod->namespace, TB_DNS_NAMESPACE) == 0 &&
			    strcmp(pod->name, TB_DNS_POD) == 0)
				server = c->first_pod[i] + j;
		}
	if (server == PLAN_NONE)
		return;
	autofree char *conf = plan_dns_dnsmasq_conf(p, p->machines[server].address, TB_DNS_HOSTS);
	autofree char *hosts = plan_dns_hosts(p);
	plan_machine_add_file(&p->machines[server], TB_DNS_CONFIG, conf, 0644);
	plan_machine_add_file(&p->machines[server], TB_DNS_HOSTS, hosts, 0644);
}
