/* Parsing expectations (expect.h). */
#define _GNU_SOURCE
#include "model/expect.h"

#include <stdlib.h>
#include <string.h>

#include "model/jsondoc.h"
#include "model/ports.h"
#include "model/selector.h"
#include "util/diag.h"
#include "util/util.h"

static const char *const expect_keys[] = {"from", "to", "proto", "port", "result", "clientIP", NULL};

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

/* A probe's end: a pod, node or host by name, a pod as NAMESPACE/NAME
 * (resolved by validation), a pod selector (its syntax checked here, its
 * pods found when the check compiles), "gateway", or "*" for every pod.
 * Later features add kinds written as "kind:name" (service:web) or
 * reserved words (internet). */
static bool parse_target(struct docwalk *w, const cJSON *item, const char *path, struct tb_target *out)
{
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
	if (str_has_prefix(s, "service:") || strcmp(s, "internet") == 0 || str_has_prefix(s, "ingress:")) {
		docwalk_error(w, item, path,
			      "\"%s\": services, the internet host and ingress are not implemented yet; "
			      "name a pod, node or host, \"gateway\" or \"*\"",
			      s);
		return false;
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
	if (!topology_is_dns_label(s) && !is_namespaced_name(s)) {
		docwalk_error(w, item, path,
			      "\"%s\" is not a target: expected the name of a pod, node or host, a pod's "
			      "NAMESPACE/NAME, a selector like \"NAMESPACE/app=web\", \"gateway\" or \"*\" (every pod)",
			      s);
		return false;
	}
	/* The kind is settled by validation. */
	*out = (struct tb_target){.kind = TB_KIND_POD, .name = xstrdup(s), .line = line};
	return true;
}

/* "port": a number, or the name of a port each target has (ports.h). */
static bool parse_port(struct docwalk *w, const cJSON *item, const char *path, struct tb_expect *x)
{
	if (x->proto == TB_PROTO_PING) {
		docwalk_error(w, item, path, "ping has no port");
		return false;
	}
	if (cJSON_IsString(item)) {
		if (!ports_is_name(item->valuestring)) {
			docwalk_error(w, item, path,
				      "\"%s\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at "
				      "either end and no \"--\"",
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

static void expect_clear(struct tb_expect *x)
{
	free(x->from.name);
	free(x->to.name);
	free(x->port_name);
}

void expect_parse(struct docwalk *w, const cJSON *arr, const char *path, struct tb_expect **expects, size_t *n)
{
	static const char *const protos[] = {"http", "tcp", "ping", "udp", NULL};
	static const char *const results[] = {"pass", "fail", NULL};
	static const char *const client_ips[] = {"preserved", "rewritten", NULL};
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
		const cJSON *item;
		if ((item = docwalk_member(w, obj, at, "from", true))) {
			autofree char *where = docwalk_path_key(at, "from");
			ok &= parse_target(w, item, where, &x->from);
		} else {
			ok = false;
		}
		if ((item = docwalk_member(w, obj, at, "to", true))) {
			autofree char *where = docwalk_path_key(at, "to");
			ok &= parse_target(w, item, where, &x->to);
		} else {
			ok = false;
		}
		if ((item = docwalk_member(w, obj, at, "proto", false))) {
			autofree char *where = docwalk_path_key(at, "proto");
			int v = docwalk_choice(w, item, where, protos);
			ok &= v >= 0;
			x->proto = v == 1 ? TB_PROTO_TCP : v == 2 ? TB_PROTO_PING : v == 3 ? TB_PROTO_UDP : TB_PROTO_HTTP;
		}
		if ((item = docwalk_member(w, obj, at, "result", false))) {
			autofree char *where = docwalk_path_key(at, "result");
			int v = docwalk_choice(w, item, where, results);
			ok &= v >= 0;
			x->expect_pass = v != 1;
		}
		if ((item = docwalk_member(w, obj, at, "port", false))) {
			autofree char *where = docwalk_path_key(at, "port");
			x->port_line = docwalk_line(w, item);
			ok &= parse_port(w, item, where, x);
		}
		if ((item = docwalk_member(w, obj, at, "clientIP", false))) {
			autofree char *where = docwalk_path_key(at, "clientIP");
			int v = docwalk_choice(w, item, where, client_ips);
			if (v >= 0 && x->proto != TB_PROTO_HTTP && x->proto != TB_PROTO_UDP) {
				docwalk_error(w, item, where, "only http and udp probes see the client's address");
				v = -1;
			}
			ok &= v >= 0;
			x->client_ip = v == 0 ? TB_CLIENT_IP_PRESERVED : v == 1 ? TB_CLIENT_IP_REWRITTEN : TB_CLIENT_IP_ANY;
		}
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
