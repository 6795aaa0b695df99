/* Parsing expectations (expect.h). */
#define _GNU_SOURCE
#include "model/expect.h"

#include <stdlib.h>
#include <string.h>

#include "model/jsondoc.h"
#include "util/ipv4.h"
#include "model/ports.h"
#include "model/selector.h"
#include "util/diag.h"
#include "util/util.h"

static const char *const expect_keys[] = {"from",	   "to",       "proto",	   "port",    "result",
					   "failure", "clientIP", "answeredBy", "requests", "status", "type",
					   "addresses", "records", NULL};

/* NAMESPACE/NAME: a namespace's name, then a pod's (a DNS subdomain, as
 * Kubernetes names pods). */
static bool is_namespaced_name(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) > DOCWALK_DNS_LABEL_MAX)
		return false;
	char namespace[DOCWALK_DNS_LABEL_MAX + 1];
	memcpy(namespace, s, (size_t)(slash - s));
	namespace[slash - s] = '\0';
	return docwalk_is_dns_label(namespace) && topology_is_dns_subdomain(slash + 1);
}

/* A port written in a target: 1-65535 in decimal, no sign, no leading 0. */
static int target_port(const char *s)
{
	if (!*s || *s == '0' || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return 0;
	long v = strtol(s, NULL, 10);
	return v <= 65535 ? (int)v : 0;
}

/* "service:NAMESPACE/NAME" or "service:NAME": Services are named by DNS
 * labels (RFC 1035's, which RFC 1123's include). */
static bool is_service_target(const char *rest)
{
	const char *slash = strchr(rest, '/');
	if (!slash)
		return topology_is_dns_label(rest);
	autofree char *namespace = xasprintf("%.*s", (int)(slash - rest), rest);
	return topology_is_dns_label(namespace) && topology_is_dns_label(slash + 1);
}

/* "ingress:HOST/PATH" or "ingress:HOST": a host as a request names it
 * (a DNS name, no port) and an absolute path without spaces. */
static bool is_ingress_target(const char *rest)
{
	size_t len = strcspn(rest, "/");
	autofree char *host = xasprintf("%.*s", (int)len, rest);
	if (!topology_is_dns_subdomain(host))
		return false;
	for (const char *c = rest + len; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

/* "nodeport:NODE:PORT". */
static bool is_nodeport_target(const char *rest, int *port)
{
	const char *colon = strchr(rest, ':');
	if (!colon)
		return false;
	autofree char *node = xasprintf("%.*s", (int)(colon - rest), rest);
	*port = target_port(colon + 1);
	return topology_is_dns_label(node) && *port;
}

/* "ip:ADDRESS:PORT", or "ip:ADDRESS" (ping). */
static bool is_address_target(const char *rest, int *port)
{
	size_t len = strcspn(rest, ":");
	autofree char *address = xasprintf("%.*s", (int)len, rest);
	uint32_t a;
	char again[16];
	if (!ipv4_addr_parse(address, &a) || strcmp(ipv4_addr_format(a, again), address) != 0)
		return false;
	*port = 0;
	if (rest[len] == ':' && !(*port = target_port(rest + len + 1)))
		return false;
	return true;
}

/* A probe's end: a pod, node, host or external machine by name, a pod as
 * NAMESPACE/NAME (resolved by validation), a pod selector (its syntax
 * checked here, its pods found when the check compiles), "gateway", "*"
 * for every pod, or, as TO only, what a packet is addressed to: a Service,
 * a node's NodePort, an address (*PORT: the port such a target names, 0
 * for none). */
static bool parse_target(struct docwalk *w, const cJSON *item, const char *path, bool to, struct tb_target *out,
			 int *port)
{
	*port = 0;
	if (!docwalk_string(w, item, path, "a string naming a pod, node or host, or \"*\""))
		return false;
	const char *s = item->valuestring;
	int line = docwalk_line(w, item);
	if (strcmp(s, "*") == 0) {
		*out = (struct tb_target){.kind = TB_KIND_ALL_PODS, .line = line};
		return true;
	}
	if (strcmp(s, TB_TARGET_GATEWAY) == 0) {
		*out = (struct tb_target){.kind = TB_KIND_GATEWAY, .name = xstrdup(s), .line = line};
		return true;
	}
	enum tb_target_kind kind = TB_KIND_POD;
	bool ok = true;
	const char *form = NULL;
	if (str_has_prefix(s, "service:")) {
		kind = TB_KIND_SERVICE;
		ok = is_service_target(s + strlen("service:"));
		form = "service:NAMESPACE/NAME, or service:NAME in namespace default";
	} else if (str_has_prefix(s, "nodeport:")) {
		kind = TB_KIND_NODEPORT;
		ok = is_nodeport_target(s + strlen("nodeport:"), port);
		form = "nodeport:NODE:PORT, a node's name and a port from 1 to 65535";
	} else if (str_has_prefix(s, "ip:")) {
		kind = TB_KIND_ADDRESS;
		ok = is_address_target(s + strlen("ip:"), port);
		form = "ip:ADDRESS:PORT (ip:ADDRESS for ping), an IPv4 address and a port from 1 to 65535";
	} else if (str_has_prefix(s, "dns:")) {
		kind = TB_KIND_DNS;
		ok = topology_is_dns_name(s + strlen("dns:"));
		form = "dns:NAME, a DNS name (\"dns:web.shop\", \"dns:web.shop.svc.cluster.local.\")";
	} else if (str_has_prefix(s, "ingress:")) {
		kind = TB_KIND_INGRESS;
		ok = is_ingress_target(s + strlen("ingress:"));
		form = "ingress:HOST/PATH, a host's DNS name and an absolute path (ingress:shop.example.com/cart)";
	}
	if (!ok) {
		docwalk_error(w, item, path, "\"%s\": expected %s", s, form);
		return false;
	}
	if (kind != TB_KIND_POD) {
		if (!to) {
			docwalk_error(w, item, path,
				      "\"%s\": a probe starts from a machine: name a pod, node, host or external machine",
				      s);
			return false;
		}
		*out = (struct tb_target){.kind = kind, .name = xstrdup(s), .line = line};
		return true;
	}
	if (pod_selector_is_written(s)) {
		struct pod_selector selector;
		char *why = NULL;
		if (!pod_selector_parse(s, &selector, &why)) {
			docwalk_error(w, item, path, "\"%s\": %s", s, why);
			free(why);
			return false;
		}
		pod_selector_free(&selector);
		*out = (struct tb_target){.kind = TB_KIND_SELECTOR, .name = xstrdup(s), .line = line};
		return true;
	}
	int unused;
	if (is_address_target(s, &unused)) {
		docwalk_error(w, item, path,
			      "\"%s\" is not a target: write an address as ip:ADDRESS:PORT (\"ip:%s:8000\"), or ip:ADDRESS "
			      "for ping, or name the machine that has it",
			      s, s);
		return false;
	}
	/* Machines are named by DNS labels, so a name with a dot is no
	 * machine's: a DNS name, which the probing pod resolves. */
	if (!to && strchr(s, '.') && topology_is_dns_name(s)) {
		docwalk_error(w, item, path, "\"%s\": a probe starts from a machine, not a DNS name: name a pod, node, host or external machine", s);
		return false;
	}
	if (to && strchr(s, '.') && topology_is_dns_name(s)) {
		*out = (struct tb_target){.kind = TB_KIND_DNS, .name = xstrdup(s), .line = line};
		return true;
	}
	if (!topology_is_dns_label(s) && !is_namespaced_name(s)) {
		docwalk_error(w, item, path,
			      "\"%s\" is not a target: expected the name of a pod, node, host or external machine, a "
			      "pod's NAMESPACE/NAME, a selector like \"NAMESPACE/app=web\", \"gateway\", \"*\" (every "
			      "pod), service:NAMESPACE/NAME, nodeport:NODE:PORT, ip:ADDRESS:PORT, ingress:HOST/PATH or a DNS "
			      "name (web.shop, dns:NAME)",
			      s);
		return false;
	}
	/* The kind is settled by validation. */
	*out = (struct tb_target){.kind = TB_KIND_POD, .name = xstrdup(s), .line = line};
	return true;
}

/* "port": a number, or the name of a port each target has (ports.h); a
 * Service's port is named by a DNS label, which may be longer. */
static bool parse_port(struct docwalk *w, const cJSON *item, const char *path, struct tb_expect *x)
{
	if (x->proto == TB_PROTO_PING) {
		docwalk_error(w, item, path, "ping has no port");
		return false;
	}
	if (x->proto == TB_PROTO_DNS) {
		docwalk_error(w, item, path, "a dns probe asks the nameservers of the pod's /etc/resolv.conf: it has no port");
		return false;
	}
	if (x->to.kind == TB_KIND_NODEPORT || x->to.kind == TB_KIND_ADDRESS) {
		docwalk_error(w, item, path, "the port is part of the target, \"%s\"", x->to.name);
		return false;
	}
	if (cJSON_IsString(item)) {
		if (x->to.kind == TB_KIND_DNS) {
			docwalk_error(w, item, path, "a name's port is a number: its address has no port names");
			return false;
		}
		bool service = x->to.kind == TB_KIND_SERVICE;
		if (service ? !topology_is_dns_label(item->valuestring) : !ports_is_name(item->valuestring)) {
			docwalk_error(w, item, path,
				      service ? "\"%s\" is not a service port's name: 1-63 of a-z, 0-9 and '-', a letter "
						"or digit at both ends"
					      : "\"%s\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no "
						"'-' at either end and no \"--\"",
				      item->valuestring);
			return false;
		}
		x->port_name = xstrdup(item->valuestring);
		return true;
	}
	if (!docwalk_is_int(item, 1, 65535)) {
		docwalk_error(w, item, path, "expected a port: a whole number from 1 to 65535, or a port's name");
		return false;
	}
	x->port = (int)item->valuedouble;
	return true;
}

/* Whether S may name a pod that answers: a name, NAMESPACE/NAME or a
 * selector (its syntax checked). False after reporting. */
static bool parse_answerer(struct docwalk *w, const cJSON *item, const char *path)
{
	if (!docwalk_string(w, item, path, "a pod's name, NAMESPACE/NAME or a selector"))
		return false;
	const char *s = item->valuestring;
	if (pod_selector_is_written(s)) {
		struct pod_selector selector;
		char *why = NULL;
		if (!pod_selector_parse(s, &selector, &why)) {
			docwalk_error(w, item, path, "\"%s\": %s", s, why);
			free(why);
			return false;
		}
		pod_selector_free(&selector);
		return true;
	}
	if (!topology_is_dns_label(s) && !is_namespaced_name(s)) {
		docwalk_error(w, item, path,
			      "\"%s\": expected a pod's name, NAMESPACE/NAME or a selector like \"NAMESPACE/app=web\"", s);
		return false;
	}
	return true;
}

/* "answeredBy": one name or selector, or a list of them. */
static bool parse_answered_by(struct docwalk *w, const cJSON *item, const char *path, struct tb_expect *x)
{
	if (x->proto != TB_PROTO_HTTP && x->proto != TB_PROTO_UDP) {
		docwalk_error(w, item, path, "only http and udp probes learn who answered");
		return false;
	}
	if (!x->expect_pass) {
		docwalk_error(w, item, path, "a probe expected to fail has no answer to name");
		return false;
	}
	if (cJSON_IsString(item)) {
		if (!parse_answerer(w, item, path))
			return false;
		x->answered_by = xcalloc(1, sizeof(*x->answered_by));
		x->answered_by[x->n_answered_by++] = xstrdup(item->valuestring);
		x->has_answered_by = true;
		return true;
	}
	if (!docwalk_array(w, item, path, "a pod's name, NAMESPACE/NAME or selector, or a list of them"))
		return false;
	if (cJSON_GetArraySize(item) == 0) {
		docwalk_error(w, item, path, "an empty list: name the pods that must answer");
		return false;
	}
	bool ok = true;
	size_t i = 0;
	for (const cJSON *a = item->child; a; a = a->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		ok &= parse_answerer(w, a, at);
	}
	if (!ok)
		return false;
	x->answered_by = xcalloc((size_t)cJSON_GetArraySize(item), sizeof(*x->answered_by));
	for (const cJSON *a = item->child; a; a = a->next)
		x->answered_by[x->n_answered_by++] = xstrdup(a->valuestring);
	x->has_answered_by = true;
	return true;
}

/* "clientIP": preserved, rewritten, an address, or a machine's name (any
 * of its addresses). */
static bool parse_client_ip(struct docwalk *w, const cJSON *item, const char *path, struct tb_expect *x)
{
	const char *what = "\"preserved\", \"rewritten\", a machine's name or an IPv4 address";
	if (!docwalk_string(w, item, path, what))
		return false;
	const char *s = item->valuestring;
	if (x->proto != TB_PROTO_HTTP && x->proto != TB_PROTO_UDP) {
		docwalk_error(w, item, path, "only http and udp probes see the client's address");
		return false;
	}
	if (!x->expect_pass) {
		docwalk_error(w, item, path, "a probe expected to fail has no server to see the client");
		return false;
	}
	if (strcmp(s, "preserved") == 0 || strcmp(s, "rewritten") == 0) {
		x->client_ip = s[0] == 'p' ? TB_CLIENT_IP_PRESERVED : TB_CLIENT_IP_REWRITTEN;
		return true;
	}
	uint32_t a;
	char again[16];
	bool address = ipv4_addr_parse(s, &a) && strcmp(ipv4_addr_format(a, again), s) == 0;
	if (!address && !topology_is_dns_label(s) && !is_namespaced_name(s)) {
		docwalk_error(w, item, path, "\"%s\": expected %s", s, what);
		return false;
	}
	x->client_ip = TB_CLIENT_IP_NAMED;
	x->client_name = xstrdup(s);
	return true;
}

/* "status": the HTTP status the answer must have. One of 400 and above
 * is a request that fails that way (an unknown host's 404): "result" is
 * then "fail" unless said otherwise, which is an error. */
static bool parse_status(struct docwalk *w, const cJSON *item, const char *path, struct tb_expect *x, bool result_given)
{
	if (x->proto != TB_PROTO_HTTP) {
		docwalk_error(w, item, path, "only http probes have a status");
		return false;
	}
	if (!docwalk_int(w, item, path, 100, 599, "an HTTP status", "an HTTP status (100 to 599)", &x->status))
		return false;
	if (x->failure != TB_FAILURE_ANY) {
		docwalk_error(w, item, path, "an answer with a status is neither refused nor a timeout: drop \"failure\"");
		return false;
	}
	bool fails = x->status >= 400;
	if (result_given && x->expect_pass == fails) {
		docwalk_error(w, item, path, "status %d %s, and \"result\" says \"%s\"", x->status,
			      fails ? "is a failed request" : "is an answer", x->expect_pass ? "pass" : "fail");
		return false;
	}
	if (fails && (x->has_answered_by || x->client_ip != TB_CLIENT_IP_ANY)) {
		docwalk_error(w, item, path, "status %d is a failed request: it has no answerer or client to check",
			      x->status);
		return false;
	}
	x->expect_pass = !fails;
	return true;
}

/* proto dns: "to" is the name asked, whatever it looks like ("web" is a
 * name too, resolved through the search list); no other kind of target. */
static bool dns_question(struct docwalk *w, const cJSON *to, const char *at, struct tb_expect *x)
{
	autofree char *where = docwalk_path_key(at, "to");
	if (x->to.kind == TB_KIND_POD && topology_is_dns_name(x->to.name)) {
		x->to.kind = TB_KIND_DNS;
		return true;
	}
	if (x->to.kind == TB_KIND_DNS)
		return true;
	docwalk_error(w, to, where,
		      "\"%s\": a dns probe asks a name: write it as the pod would (\"web\", \"web.shop\", "
		      "\"web.shop.svc.cluster.local.\") or as dns:NAME",
		      x->to.name ? x->to.name : "*");
	return false;
}

/* A DNS name as "to" of an http, tcp or udp probe: the port is written
 * ("port"), or http's 80, as a URL's; ping has none. */
static bool dns_target_port(struct docwalk *w, const cJSON *to, const char *at, struct tb_expect *x)
{
	if (x->proto == TB_PROTO_PING || x->port || x->port_name)
		return true;
	if (x->proto == TB_PROTO_HTTP) {
		x->port = 80;
		return true;
	}
	autofree char *where = docwalk_path_key(at, "to");
	docwalk_error(w, to, where, "%s probes to a name need a port: give \"port\"", tb_proto_name(x->proto));
	return false;
}

/* "ADDRESS" (type A) or "TARGET:PORT" (SRV), as an answer would hold it. */
static bool parse_answer(struct docwalk *w, const cJSON *item, const char *path, enum tb_dns_type type)
{
	const char *what = type == TB_DNS_A ? "an IPv4 address" : "an SRV record's TARGET:PORT (\"web-0.web.shop.svc.cluster.local:80\")";
	if (!docwalk_string(w, item, path, what))
		return false;
	const char *s = item->valuestring;
	if (type == TB_DNS_A) {
		uint32_t a;
		char again[16];
		if (ipv4_addr_parse(s, &a) && strcmp(ipv4_addr_format(a, again), s) == 0)
			return true;
	} else {
		const char *colon = strrchr(s, ':');
		autofree char *target = colon ? xasprintf("%.*s", (int)(colon - s), s) : NULL;
		if (colon && topology_is_dns_name(target) && target_port(colon + 1))
			return true;
	}
	docwalk_error(w, item, path, "\"%s\": expected %s", s, what);
	return false;
}

/* "type", "addresses" and "records": what a dns probe asks and what its
 * answer must hold. OK: the rest parsed. */
static bool parse_dns_fields(struct docwalk *w, const cJSON *obj, const char *at, struct tb_expect *x, bool ok)
{
	static const char *const types[] = {"A", "SRV", NULL};
	const cJSON *item;
	if ((item = docwalk_member(w, obj, at, "type", false))) {
		autofree char *where = docwalk_path_key(at, "type");
		if (x->proto != TB_PROTO_DNS) {
			docwalk_error(w, item, where, "only dns probes ask a record type; proto is %s", tb_proto_name(x->proto));
			return false;
		}
		int v = docwalk_choice(w, item, where, types);
		if (v < 0)
			return false;
		x->dns_type = v == 1 ? TB_DNS_SRV : TB_DNS_A;
	}
	const char *keys[] = {"addresses", "records"};
	for (int k = 0; k < 2; k++) {
		if (!(item = docwalk_member(w, obj, at, keys[k], false)))
			continue;
		autofree char *where = docwalk_path_key(at, keys[k]);
		if (x->proto != TB_PROTO_DNS) {
			docwalk_error(w, item, where, "only dns probes have an answer to compare; proto is %s",
				      tb_proto_name(x->proto));
			return false;
		}
		enum tb_dns_type type = k == 0 ? TB_DNS_A : TB_DNS_SRV;
		if (x->dns_type != type) {
			docwalk_error(w, item, where, "\"%s\" is what %s records hold; this probe asks %s records (say "
						      "\"type\": \"%s\", with \"%s\")",
				      keys[k], type == TB_DNS_A ? "A" : "SRV", x->dns_type == TB_DNS_A ? "A" : "SRV",
				      x->dns_type == TB_DNS_A ? "A" : "SRV", keys[1 - k]);
			return false;
		}
		if (!x->expect_pass) {
			docwalk_error(w, item, where, "a probe expected to fail has no answer to compare");
			return false;
		}
		if (!docwalk_array(w, item, where, "a list of what the answer holds ([] for none)"))
			return false;
		bool good = true;
		size_t i = 0;
		for (const cJSON *a = item->child; a; a = a->next, i++) {
			autofree char *ai = docwalk_path_index(where, i);
			good &= parse_answer(w, a, ai, type);
		}
		if (!good || !ok)
			return false;
		x->answers_line = docwalk_line(w, item);
		x->has_answers = true;
		x->answers = xcalloc((size_t)cJSON_GetArraySize(item) + 1, sizeof(*x->answers));
		for (const cJSON *a = item->child; a; a = a->next)
			x->answers[x->n_answers++] = xstrdup(a->valuestring);
	}
	return true;
}

static void expect_clear(struct tb_expect *x)
{
	free(x->from.name);
	free(x->to.name);
	free(x->port_name);
	free(x->client_name);
	for (size_t i = 0; i < x->n_answered_by; i++)
		free(x->answered_by[i]);
	free(x->answered_by);
	for (size_t i = 0; i < x->n_answers; i++)
		free(x->answers[i]);
	free(x->answers);
}

void expect_parse(struct docwalk *w, const cJSON *arr, const char *path, struct tb_expect **expects, size_t *n)
{
	static const char *const protos[] = {"http", "tcp", "ping", "udp", "dns", NULL};
	static const char *const results[] = {"pass", "fail", NULL};
	static const char *const failures[] = {"refused", "timeout", "nxdomain", "servfail", NULL};
	if (!docwalk_array(w, arr, path, "an array of expectations"))
		return;
	*expects = xrealloc(*expects, (*n + (size_t)cJSON_GetArraySize(arr) + 1) * sizeof(**expects));
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *at = docwalk_path_index(path, i);
		struct tb_expect *x = &(*expects)[*n];
		*x = (struct tb_expect){.proto = TB_PROTO_HTTP, .expect_pass = true, .line = docwalk_line(w, obj)};
		if (!docwalk_object(w, obj, at, "an object like {\"from\", \"to\", \"proto\", \"result\"}"))
			continue;
		docwalk_check_keys(w, obj, at, expect_keys);
		bool ok = true;
		int to_port = 0, from_port;
		const cJSON *item;
		if ((item = docwalk_member(w, obj, at, "from", true))) {
			autofree char *where = docwalk_path_key(at, "from");
			ok &= parse_target(w, item, where, false, &x->from, &from_port);
		} else {
			ok = false;
		}
		const cJSON *to = docwalk_member(w, obj, at, "to", true);
		if (to) {
			autofree char *where = docwalk_path_key(at, "to");
			ok &= parse_target(w, to, where, true, &x->to, &to_port);
		} else {
			ok = false;
		}
		if ((item = docwalk_member(w, obj, at, "proto", false))) {
			autofree char *where = docwalk_path_key(at, "proto");
			int v = docwalk_choice(w, item, where, protos);
			ok &= v >= 0;
			x->proto = v == 1   ? TB_PROTO_TCP
				   : v == 2 ? TB_PROTO_PING
				   : v == 3 ? TB_PROTO_UDP
				   : v == 4 ? TB_PROTO_DNS
					    : TB_PROTO_HTTP;
		}
		if (ok && x->proto == TB_PROTO_DNS)
			ok &= dns_question(w, to, at, x);
		/* A NodePort or an address names its port; ping takes none. */
		if (ok && (x->to.kind == TB_KIND_NODEPORT || x->to.kind == TB_KIND_ADDRESS)) {
			autofree char *where = docwalk_path_key(at, "to");
			if (x->proto == TB_PROTO_PING && x->to.kind == TB_KIND_NODEPORT) {
				docwalk_error(w, to, where, "ping has no port: to ping the node, name it");
				ok = false;
			} else if (x->proto == TB_PROTO_PING && to_port) {
				docwalk_error(w, to, where, "ping has no port: write ip:ADDRESS");
				ok = false;
			} else if (x->proto != TB_PROTO_PING && !to_port) {
				docwalk_error(w, to, where, "%s probes need a port: write %s:PORT", tb_proto_name(x->proto),
					      x->to.name);
				ok = false;
			}
		}
		const cJSON *result = docwalk_member(w, obj, at, "result", false);
		if (result) {
			autofree char *where = docwalk_path_key(at, "result");
			int v = docwalk_choice(w, result, where, results);
			ok &= v >= 0;
			x->expect_pass = v != 1;
		}
		if ((item = docwalk_member(w, obj, at, "failure", false))) {
			autofree char *where = docwalk_path_key(at, "failure");
			int v = docwalk_choice(w, item, where, failures);
			if (v >= 0 && result && x->expect_pass) {
				docwalk_error(w, item, where,
					      "says how a probe fails, and \"result\" is \"pass\": say \"result\": \"fail\", "
					      "or leave \"result\" out");
				v = -1;
			}
			ok &= v >= 0;
			/* A failure said is a failure expected. */
			x->failure = v == 0   ? TB_FAILURE_REFUSED
				     : v == 1 ? TB_FAILURE_TIMEOUT
				     : v == 2 ? TB_FAILURE_NXDOMAIN
				     : v == 3 ? TB_FAILURE_SERVFAIL
					      : TB_FAILURE_ANY;
			if (v >= 0)
				x->expect_pass = false;
			if (ok && (v == 2 || v == 3) && x->proto != TB_PROTO_DNS && x->to.kind != TB_KIND_DNS) {
				docwalk_error(w, item, where,
					      "only a probe that resolves a name (proto dns, or a DNS name as \"to\") fails "
					      "with %s",
					      failures[v]);
				ok = false;
			}
		}
		if ((item = docwalk_member(w, obj, at, "port", false))) {
			autofree char *where = docwalk_path_key(at, "port");
			x->port_line = docwalk_line(w, item);
			ok &= parse_port(w, item, where, x);
		}
		if ((item = docwalk_member(w, obj, at, "clientIP", false))) {
			autofree char *where = docwalk_path_key(at, "clientIP");
			x->client_line = docwalk_line(w, item);
			ok &= parse_client_ip(w, item, where, x);
		}
		if ((item = docwalk_member(w, obj, at, "answeredBy", false))) {
			autofree char *where = docwalk_path_key(at, "answeredBy");
			x->answered_by_line = docwalk_line(w, item);
			ok &= parse_answered_by(w, item, where, x);
		}
		if ((item = docwalk_member(w, obj, at, "requests", false))) {
			autofree char *where = docwalk_path_key(at, "requests");
			x->requests_line = docwalk_line(w, item);
			ok &= docwalk_int(w, item, where, 1, TB_MAX_REQUESTS, "a number of requests", "a number of requests",
					  &x->requests);
		}
		if ((item = docwalk_member(w, obj, at, "status", false))) {
			autofree char *where = docwalk_path_key(at, "status");
			x->status_line = docwalk_line(w, item);
			ok &= parse_status(w, item, where, x, result != NULL);
		}
		if (ok && x->to.kind == TB_KIND_INGRESS && x->proto != TB_PROTO_HTTP) {
			autofree char *where = docwalk_path_key(at, "proto");
			docwalk_error(w, obj, where, "an ingress: target is asked over http (its Host and path choose the backend)");
			ok = false;
		}
		if (ok && x->to.kind == TB_KIND_INGRESS && x->client_ip != TB_CLIENT_IP_ANY) {
			autofree char *where = docwalk_path_key(at, "clientIP");
			docwalk_error(w, obj, where,
				      "not with an ingress: target: the proxy makes a connection of its own, so the "
				      "pod sees the controller");
			ok = false;
		}
		if (ok && x->to.kind == TB_KIND_DNS && x->proto != TB_PROTO_DNS)
			ok &= dns_target_port(w, to, at, x);
		ok &= parse_dns_fields(w, obj, at, x, ok);
		if (ok)
			(*n)++;
		else
			expect_clear(x); /* the slot is reused by the next expectation */
	}
}

void expect_free(struct tb_expect *expects, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_clear(&expects[i]);
	free(expects);
}

bool expect_load_file(const char *file, struct diag *d, struct tb_expect **expects, size_t *n)
{
	*expects = NULL;
	*n = 0;
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return false;
	/* Messages name the file the expectations came from. */
	const char *saved_file = d->file;
	d->file = doc->file;
	size_t errors = d->count;
	struct docwalk w = {.doc = doc, .d = d};
	docwalk_check_duplicate_keys(&w, doc->root, "");
	expect_parse(&w, doc->root, "expect", expects, n);
	d->file = saved_file;
	json_doc_free(doc);
	if (d->count != errors) {
		expect_free(*expects, *n);
		*expects = NULL;
		*n = 0;
		return false;
	}
	return true;
}
