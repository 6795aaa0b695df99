/* ingress-nginx's configuration from Ingress objects (ingress_nginx.h).
 * Follows the controller's semantics, read from its source, not its code:
 *   - Ingresses in its order: by creationTimestamp, then NAMESPACE/NAME.
 *   - A catch-all server "_" whose "/" is the default backend (404); an
 *     Ingress with a defaultBackend and no rules takes that role.
 *   - A server per host (a rule without a host adds to "_"), made by the
 *     first Ingress naming it, its "/" that Ingress's defaultBackend or
 *     the default backend.
 *   - A location per path; a path a server already has with the same
 *     pathType stays the first Ingress's, except "/" still on the default
 *     backend, which a rule's "/" replaces.
 *   - Prefix "/foo" (or "/foo/") becomes the nginx location "/foo/" plus
 *     an Exact "= /foo" (unless an Exact "/foo" exists): element-wise
 *     prefixes, so "/foobar" does not match; Exact is "= /foo";
 *     ImplementationSpecific is nginx's own prefix location "/foo".
 *   - Service upstream mode: a location proxies to its Service's cluster
 *     IP and port, so kube-proxy's DNAT happens behind the proxy; a Service
 *     that does not exist, lacks the port or has no ready endpoint answers
 *     503, as ingress-nginx's balancer does with no endpoints.
 *   - Wildcard hosts "*.example.com" are a regular expression of one label,
 *     as Kubernetes defines them (nginx's own "*." would take several). */
#define _GNU_SOURCE
#include "plan/ingress_nginx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/util.h"

#define CATCH_ALL "_"

/* ---- the servers (controller.go) ---- */

static int ingress_order(const void *a, const void *b)
{
	const struct tb_ingress *x = *(const struct tb_ingress *const *)a, *y = *(const struct tb_ingress *const *)b;
	/* RFC 3339 times of one form order as strings; none is the zero time. */
	int c = strcmp(x->created, y->created);
	if (c)
		return c;
	c = strcmp(x->namespace, y->namespace);
	return c ? c : strcmp(x->name, y->name);
}

static struct plan_ingress_server *find_server(struct plan_ingress *in, const char *host)
{
	for (size_t i = 0; i < in->n_servers; i++)
		if (strcmp(in->servers[i].host, host) == 0)
			return &in->servers[i];
	return NULL;
}

static struct plan_location *add_location(struct plan_ingress_server *s)
{
	s->locations = xrealloc(s->locations, (s->n_locations + 1) * sizeof(*s->locations));
	struct plan_location *l = &s->locations[s->n_locations++];
	*l = (struct plan_location){.backend = PLAN_NONE};
	return l;
}

static void free_location(struct plan_location *l)
{
	free(l->path);
	free(l->ingress);
	free(l->service);
	free(l->port);
}

/* L's backend: INGRESS's Service B, resolved against P's services: 0 and
 * the Service's cluster IP and port, or 503. NULL B: the default backend. */
static void set_backend(struct plan_location *l, const struct plan *p, const struct tb_ingress *ingress,
			const struct tb_ingress_backend *b)
{
	free(l->ingress);
	free(l->service);
	free(l->port);
	l->ingress = ingress ? xasprintf("%s/%s", ingress->namespace, ingress->name) : xstrdup("");
	l->backend = PLAN_NONE;
	l->service_port = 0;
	if (!b || !b->service) {
		l->service = xstrdup("");
		l->port = xstrdup("");
		l->status = 404;
		return;
	}
	l->service = xasprintf("%s/%s", ingress->namespace, b->service);
	l->port = b->port_name ? xstrdup(b->port_name) : xasprintf("%d", b->port);
	l->status = 503;
	for (size_t i = 0; i < p->n_services; i++) {
		const struct plan_service *s = &p->services[i];
		if (strcmp(s->namespace, ingress->namespace) != 0 || strcmp(s->name, b->service) != 0)
			continue;
		l->backend = i;
		for (size_t k = 0; k < s->n_ports; k++) {
			const struct plan_service_port *sp = &s->ports[k];
			if (sp->protocol != TB_PROTOCOL_TCP ||
			    (b->port_name ? strcmp(sp->name, b->port_name) != 0 : sp->port != b->port))
				continue;
			l->service_port = sp->port;
			bool ready = false;
			for (size_t e = 0; e < s->n_endpoints && !ready; e++)
				ready = s->endpoints[e].ready && s->endpoints[e].ports[k];
			/* Service upstream mode needs the cluster IP: a headless
			 * Service has none to proxy to. */
			if (ready && s->cluster_ip)
				l->status = 0;
		}
	}
}

/* A server for HOST with "/" on BACKEND of INGRESS (NULL: the default). */
static struct plan_ingress_server *add_server(struct plan_ingress *in, const struct plan *p, const char *host,
					      const struct tb_ingress *ingress, const struct tb_ingress_backend *backend)
{
	in->servers = xrealloc(in->servers, (in->n_servers + 1) * sizeof(*in->servers));
	struct plan_ingress_server *s = &in->servers[in->n_servers++];
	*s = (struct plan_ingress_server){.host = xstrdup(host)};
	struct plan_location *root = add_location(s);
	root->path = xstrdup("/");
	root->match = PLAN_MATCH_PREFIX;
	set_backend(root, p, backend && backend->service ? ingress : NULL, backend);
	return s;
}

/* A location as the Ingress gave it, before Prefix paths are normalized:
 * Exact, Prefix, or ImplementationSpecific (kept apart from Prefix until
 * then). */
enum { AS_EXACT, AS_PREFIX, AS_IMPLEMENTATION };
struct pending {
	size_t server, location;
	int type;
	bool default_backend; /* "/" still on a default backend */
};

/* Locations are built with their types in a side table, then normalized. */
struct build {
	struct pending *items;
	size_t n;
};

static struct pending *pending_of(struct build *b, size_t server, size_t location)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].server == server && b->items[i].location == location)
			return &b->items[i];
	b->items = xrealloc(b->items, (b->n + 1) * sizeof(*b->items));
	b->items[b->n] = (struct pending){server, location, AS_PREFIX, false};
	return &b->items[b->n++];
}

static int type_of(enum tb_path_type t)
{
	return t == TB_PATH_EXACT ? AS_EXACT : t == TB_PATH_PREFIX ? AS_PREFIX : AS_IMPLEMENTATION;
}

/* updateServerLocations: a Prefix path other than "/" ends in '/', and
 * gets an Exact location of its path beside it unless one exists. */
static void normalize(struct plan_ingress *in, struct build *b)
{
	for (size_t si = 0; si < in->n_servers; si++) {
		struct plan_ingress_server *s = &in->servers[si];
		size_t n = s->n_locations;
		for (size_t i = 0; i < n; i++) {
			struct plan_location *l = &s->locations[i];
			int type = pending_of(b, si, i)->type;
			l->match = type == AS_EXACT ? PLAN_MATCH_EXACT : PLAN_MATCH_PREFIX;
			if (type != AS_PREFIX || strcmp(l->path, "/") == 0)
				continue;
			/* The exact companion is the path without its trailing '/':
			 * a Prefix path's trailing slash is ignored, as the Ingress
			 * API defines it ("/aaa/bbb/" matches "/aaa/bbb"), where
			 * ingress-nginx's own copy keeps the slash. */
			char *original = xstrdup(l->path);
			for (size_t k = strlen(original); k > 1 && original[k - 1] == '/'; k--)
				original[k - 1] = '\0';
			bool exact = false;
			for (size_t k = 0; k < n && !exact; k++)
				exact = k != i && pending_of(b, si, k)->type == AS_EXACT &&
					strcmp(s->locations[k].path, original) == 0;
			if (l->path[strlen(l->path) - 1] != '/') {
				free(l->path);
				l->path = xasprintf("%s/", original);
			}
			if (!exact) {
				struct plan_location copy = *l;
				struct plan_location *e = add_location(s);
				l = &s->locations[i]; /* add_location may move them */
				*e = (struct plan_location){.path = original,
							    .match = PLAN_MATCH_EXACT,
							    .ingress = xstrdup(copy.ingress),
							    .service = xstrdup(copy.service),
							    .port = xstrdup(copy.port),
							    .backend = copy.backend,
							    .service_port = copy.service_port,
							    .status = copy.status};
				original = NULL;
			}
			free(original);
		}
		/* Two locations nginx would take as one (an ImplementationSpecific
		 * "/foo/" beside a Prefix "/foo"): the first stays, as nginx -t
		 * refuses a duplicate location. */
		for (size_t i = 0; i < s->n_locations; i++)
			for (size_t k = i + 1; k < s->n_locations;) {
				if (s->locations[k].match == s->locations[i].match &&
				    strcmp(s->locations[k].path, s->locations[i].path) == 0) {
					free_location(&s->locations[k]);
					memmove(&s->locations[k], &s->locations[k + 1],
						(s->n_locations - k - 1) * sizeof(*s->locations));
					s->n_locations--;
				} else {
					k++;
				}
			}
	}
}

static int location_order(const void *a, const void *b)
{
	const struct plan_location *x = a, *y = b;
	/* The template's: longest paths first, an Exact before its Prefix. */
	int c = strcmp(y->path, x->path);
	return c ? c : (int)y->match - (int)x->match;
}

void ingress_nginx_servers(const struct tb_topology *t, struct plan *p)
{
	struct plan_ingress *in = &p->ingress;
	size_t n = 0;
	autofree const struct tb_ingress **order = xcalloc(t->n_ingresses + 1, sizeof(*order));
	for (size_t i = 0; i < t->n_ingresses; i++)
		if (t->ingresses[i].served)
			order[n++] = &t->ingresses[i];
	if (!n)
		return;
	qsort(order, n, sizeof(*order), ingress_order);
	struct build b = {0};
	add_server(in, p, CATCH_ALL, NULL, NULL);
	pending_of(&b, 0, 0)->default_backend = true;
	/* createServers */
	for (size_t i = 0; i < n; i++) {
		const struct tb_ingress *ing = order[i];
		const struct tb_ingress_backend *def = ing->default_backend.service ? &ing->default_backend : NULL;
		struct pending *catch_all = pending_of(&b, 0, 0);
		if (def && !ing->n_rules && catch_all->default_backend) {
			set_backend(&in->servers[0].locations[0], p, ing, def);
			catch_all->default_backend = false;
		}
		for (size_t r = 0; r < ing->n_rules; r++) {
			const char *host = ing->rules[r].host ? ing->rules[r].host : CATCH_ALL;
			if (find_server(in, host))
				continue;
			add_server(in, p, host, ing, def);
			pending_of(&b, in->n_servers - 1, 0)->default_backend = true;
		}
	}
	/* getBackendServers */
	for (size_t i = 0; i < n; i++) {
		const struct tb_ingress *ing = order[i];
		for (size_t r = 0; r < ing->n_rules; r++) {
			const struct tb_ingress_rule *rule = &ing->rules[r];
			struct plan_ingress_server *s = find_server(in, rule->host ? rule->host : CATCH_ALL);
			size_t si = (size_t)(s - in->servers);
			for (size_t k = 0; k < rule->n_paths; k++) {
				const struct tb_ingress_path *path = &rule->paths[k];
				const char *want = *path->path ? path->path : "/";
				bool add = true;
				for (size_t l = 0; l < s->n_locations; l++) {
					if (strcmp(s->locations[l].path, want) != 0)
						continue;
					struct pending *pl = pending_of(&b, si, l);
					/* The default backend's "/" gives way to any rule's. */
					if (pl->default_backend) {
						set_backend(&s->locations[l], p, ing, &path->backend);
						pl->default_backend = false;
						pl->type = type_of(path->type);
						add = false;
						break;
					}
					/* Same path, same type: the first Ingress's. */
					if (pl->type == type_of(path->type)) {
						add = false;
						break;
					}
				}
				if (!add)
					continue;
				struct plan_location *l = add_location(s);
				l->path = xstrdup(want);
				set_backend(l, p, ing, &path->backend);
				pending_of(&b, si, s->n_locations - 1)->type = type_of(path->type);
			}
		}
	}
	normalize(in, &b);
	free(b.items);
	for (size_t i = 0; i < in->n_servers; i++)
		qsort(in->servers[i].locations, in->servers[i].n_locations, sizeof(*in->servers[i].locations),
		      location_order);
}

/* ---- matching, as nginx does ---- */

/* Does HOST (lowercase, no port) fall under wildcard W ("*.example.com"):
 * one label, then the rest exactly. */
static bool wildcard_match(const char *w, const char *host)
{
	const char *dot = strchr(host, '.');
	return dot && dot != host && strcmp(dot, w + 1) == 0;
}

const struct plan_location *ingress_nginx_route(const struct plan_ingress *in, const char *host, const char *path,
						const struct plan_ingress_server **server)
{
	if (!in->n_servers)
		return NULL;
	char name[256];
	size_t n = strcspn(host, ":");
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)host[i]);
	name[n] = '\0';
	/* A trailing dot names the same host, as nginx strips it. */
	if (n && name[n - 1] == '.')
		name[n - 1] = '\0';
	const struct plan_ingress_server *s = NULL;
	for (size_t i = 0; i < in->n_servers && !s; i++)
		if (strcmp(in->servers[i].host, name) == 0 && strcmp(in->servers[i].host, CATCH_ALL) != 0)
			s = &in->servers[i];
	for (size_t i = 0; i < in->n_servers && !s; i++)
		if (in->servers[i].host[0] == '*' && wildcard_match(in->servers[i].host, name))
			s = &in->servers[i];
	for (size_t i = 0; i < in->n_servers && !s; i++)
		if (strcmp(in->servers[i].host, CATCH_ALL) == 0)
			s = &in->servers[i];
	*server = s;
	if (!s)
		return NULL;
	size_t len = strcspn(path, "?#");
	const struct plan_location *best = NULL;
	for (size_t i = 0; i < s->n_locations; i++) {
		const struct plan_location *l = &s->locations[i];
		size_t k = strlen(l->path);
		if (l->match == PLAN_MATCH_EXACT && k == len && strncmp(l->path, path, len) == 0)
			return l;
		if (l->match == PLAN_MATCH_PREFIX && k <= len && strncmp(l->path, path, k) == 0 &&
		    (!best || k > strlen(best->path)))
			best = l;
	}
	return best;
}

char *ingress_nginx_upstream_name(const struct plan_location *l)
{
	if (!*l->service)
		return xstrdup("upstream-default-backend");
	const char *slash = strchr(l->service, '/');
	return xasprintf("%.*s-%s-%s", (int)(slash - l->service), l->service, slash + 1, l->port);
}

/* ---- nginx.conf (nginx.tmpl) ---- */

struct text {
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *more = xvasprintf(fmt, ap);
	va_end(ap);
	size_t n = strlen(more);
	grow_array((void **)&t->s, &t->cap, t->len + n + 1, 1);
	memcpy(t->s + t->len, more, n + 1);
	t->len += n;
}

/* server_name: a host, "_", or a wildcard's regular expression of one
 * label (buildServerName's). */
static void server_name(struct text *t, const char *host)
{
	if (host[0] != '*') {
		put(t, "\t\tserver_name %s;\n", host);
		return;
	}
	put(t, "\t\tserver_name ~^(?<subdomain>[\\w-]+)");
	for (const char *c = host + 1; *c; c++)
		put(t, *c == '.' ? "\\." : "%c", *c);
	put(t, "$;\n");
}

/* A location's path as nginx.conf reads it: bare when it holds only what
 * needs no quoting, else in double quotes with '"' and '\\' escaped (an
 * ImplementationSpecific path may hold ';', '{' or a space). */
static void location_path(struct text *t, const char *path)
{
	if (strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._~-") == strlen(path)) {
		put(t, "%s", path);
		return;
	}
	put(t, "\"");
	for (const char *c = path; *c; c++)
		put(t, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	put(t, "\"");
}

static void location(struct text *t, const struct plan *p, const struct plan_location *l)
{
	put(t, "\n\t\tlocation %s", l->match == PLAN_MATCH_EXACT ? "= " : "");
	location_path(t, l->path);
	put(t, " {\n");
	autofree char *upstream = ingress_nginx_upstream_name(l);
	const char *slash = *l->ingress ? strchr(l->ingress, '/') : NULL;
	if (slash) {
		put(t, "\t\t\tset $namespace \"%.*s\";\n", (int)(slash - l->ingress), l->ingress);
		put(t, "\t\t\tset $ingress_name \"%s\";\n", slash + 1);
	}
	if (*l->service) {
		put(t, "\t\t\tset $service_name \"%s\";\n", strchr(l->service, '/') + 1);
		put(t, "\t\t\tset $service_port \"%s\";\n", l->port);
	}
	put(t, "\t\t\tset $proxy_upstream_name \"%s\";\n", upstream);
	if (l->status == 404) {
		put(t, "\t\t\t# the default backend: no Ingress rule matches\n\t\t\treturn 404;\n\t\t}\n");
		return;
	}
	if (l->status) {
		put(t, "\t\t\t# %s\n\t\t\treturn %d;\n\t\t}\n",
		    l->backend == PLAN_NONE ? "no such Service: ingress-nginx has no upstream for it"
		    : !l->service_port      ? "the Service has no such TCP port"
					    : "no ready endpoint (or no cluster IP) behind the Service",
		    l->status);
		return;
	}
	char ip[16];
	put(t,
	    "\t\t\tproxy_set_header Host $best_http_host;\n"
	    "\t\t\tproxy_set_header X-Request-ID $req_id;\n"
	    "\t\t\tproxy_set_header X-Real-IP $remote_addr;\n"
	    "\t\t\tproxy_set_header X-Forwarded-For $remote_addr;\n"
	    "\t\t\tproxy_set_header X-Forwarded-Host $best_http_host;\n"
	    "\t\t\tproxy_set_header X-Forwarded-Port $pass_port;\n"
	    "\t\t\tproxy_set_header X-Forwarded-Proto $pass_access_scheme;\n"
	    "\t\t\tproxy_set_header X-Forwarded-Scheme $pass_access_scheme;\n"
	    "\t\t\tproxy_set_header X-Scheme $pass_access_scheme;\n"
	    "\t\t\tproxy_set_header X-Original-URI $request_uri;\n"
	    "\t\t\tproxy_set_header X-Original-Forwarded-For $http_x_forwarded_for;\n"
	    "\t\t\t# mitigates httpoxy, as ingress-nginx does\n"
	    "\t\t\tproxy_set_header Proxy \"\";\n"
	    "\t\t\tproxy_set_header Upgrade $http_upgrade;\n"
	    "\t\t\tproxy_set_header Connection $connection_upgrade;\n"
	    "\t\t\tproxy_connect_timeout 5s;\n"
	    "\t\t\tproxy_send_timeout 60s;\n"
	    "\t\t\tproxy_read_timeout 60s;\n"
	    "\t\t\tproxy_http_version 1.1;\n"
	    "\t\t\tproxy_redirect off;\n"
	    "\t\t\t# service-upstream: the Service's cluster IP; kube-proxy picks the pod\n"
	    "\t\t\tproxy_pass http://%s:%u;\n\t\t}\n",
	    ipv4_addr_format(p->services[l->backend].cluster_ip, ip), (unsigned)l->service_port);
}

char *ingress_nginx_conf(const struct plan *p)
{
	const struct plan_ingress *in = &p->ingress;
	struct text t = {0};
	put(&t, "# nginx.conf of the lab's ingress controller, generated by testbed from the Ingress\n"
		"# objects as ingress-nginx's template writes it (servers by host, locations by path).\n"
		"# One process: pods keep no capability to change user (docs/security.md).\n"
		"master_process off;\n"
		"user root root;\n"
		"pid /tmp/ingress-nginx.pid;\n"
		"error_log stderr notice;\n"
		"\n"
		"events {\n"
		"\tworker_connections 16384;\n"
		"}\n"
		"\n"
		"http {\n"
		"\tinclude /etc/nginx/mime.types;\n"
		"\tdefault_type text/html;\n"
		"\tserver_tokens on;\n"
		"\tserver_names_hash_bucket_size 128;\n"
		"\tclient_body_temp_path /var/lib/nginx/ingress-body;\n"
		"\tproxy_temp_path /var/lib/nginx/ingress-proxy;\n"
		"\tfastcgi_temp_path /var/lib/nginx/ingress-fastcgi;\n"
		"\tuwsgi_temp_path /var/lib/nginx/ingress-uwsgi;\n"
		"\tscgi_temp_path /var/lib/nginx/ingress-scgi;\n"
		"\n"
		"\t# ingress-nginx's upstreaminfo, with the Host: trace reads which upstream served a request\n"
		"\tlog_format upstreaminfo '$remote_addr - $remote_user [$time_local] \"$request\" $status "
		"$body_bytes_sent \"$http_referer\" \"$http_user_agent\" $request_length $request_time "
		"[$proxy_upstream_name] [] $upstream_addr $upstream_response_length $upstream_response_time "
		"$upstream_status $req_id host=$host';\n"
		"\taccess_log /var/log/nginx/ingress-access.log upstreaminfo;\n"
		"\n"
		"\tmap $http_upgrade $connection_upgrade {\n"
		"\t\tdefault upgrade;\n"
		"\t\t'' close;\n"
		"\t}\n"
		"\tmap $http_host $best_http_host {\n"
		"\t\tdefault $http_host;\n"
		"\t\t'' $host;\n"
		"\t}\n");
	for (size_t i = 0; i < in->n_servers; i++) {
		const struct plan_ingress_server *s = &in->servers[i];
		bool catch_all = strcmp(s->host, CATCH_ALL) == 0;
		put(&t, "\n\t## start server %s\n\tserver {\n", s->host);
		server_name(&t, s->host);
		put(&t, "\t\tlisten 80%s;\n", catch_all ? " default_server reuseport backlog=4096" : "");
		put(&t, "\t\tset $proxy_upstream_name \"-\";\n"
			"\t\tset $req_id $request_id;\n"
			"\t\tset $pass_access_scheme $scheme;\n"
			"\t\tset $pass_server_port $server_port;\n"
			"\t\tset $pass_port $pass_server_port;\n");
		for (size_t k = 0; k < s->n_locations; k++)
			location(&t, p, &s->locations[k]);
		put(&t, "\t}\n\t## end server %s\n", s->host);
	}
	/* The checksum of everything above, which ingress-nginx's template
	 * also writes: apply, having had nginx read a new file, asks for it
	 * until it is the new file's. */
	uint64_t sum = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (const char *c = t.s; *c; c++)
		sum = (sum ^ (unsigned char)*c) * 0x100000001b3ULL;
	put(&t, "\n\t# ingress-nginx's internal status server, on the pod's own loopback only\n"
		"\tserver {\n"
		"\t\tlisten 127.0.0.1:%d;\n"
		"\t\taccess_log off;\n"
		"\t\tlocation = " INGRESS_NGINX_CHECKSUM_PATH " {\n"
		"\t\t\treturn 200 \"%016llx\";\n"
		"\t\t}\n"
		"\t}\n}\n",
	    INGRESS_NGINX_STATUS_PORT, (unsigned long long)sum);
	return t.s;
}

bool ingress_nginx_checksum(const char *conf, char out[17])
{
	const char *at = strstr(conf, "location = " INGRESS_NGINX_CHECKSUM_PATH " {\n\t\t\treturn 200 \"");
	if (!at)
		return false;
	at = strchr(at, '"') + 1;
	if (strlen(at) < 16 || at[16] != '"')
		return false;
	memcpy(out, at, 16);
	out[16] = '\0';
	return true;
}
