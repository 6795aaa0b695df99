/* A pod's ports, as the API server validates a container's (ports.h). */
#define _GNU_SOURCE
#include "model/ports.h"

#include <ctype.h>
#include <string.h>

#include "util/diag.h"
#include "util/ipv4.h"
#include "util/util.h"

static const char *const port_keys[] = {"name", "containerPort", "protocol", NULL};
static const char *const host_port_keys[] = {"name", "containerPort", "protocol", "hostPort", "hostIP", NULL};

bool ports_is_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
		letter |= islower((unsigned char)s[i]) != 0;
	}
	return letter;
}

/* The port at PATH, or false after saying why. */
static bool parse_port(struct docwalk *w, const cJSON *obj, const char *path, bool host_ports, struct tb_port *port,
		       struct tb_host_port *host, bool *has_host)
{
	size_t errors = w->d->count;
	docwalk_check_keys(w, obj, path, host_ports ? host_port_keys : port_keys);
	*port = (struct tb_port){.protocol = TB_PROTOCOL_TCP};
	*has_host = false;
	const cJSON *number = docwalk_member(w, obj, path, "containerPort", true);
	if (number) {
		autofree char *where = docwalk_path_key(path, "containerPort");
		docwalk_int(w, number, where, 1, 65535, "a port number", "a port", &port->port);
	}
	const cJSON *protocol = docwalk_member(w, obj, path, "protocol", false);
	if (protocol) {
		autofree char *where = docwalk_path_key(path, "protocol");
		const char *text = docwalk_string(w, protocol, where, "\"TCP\", \"UDP\" or \"SCTP\"");
		if (text && !tb_protocol_parse(text, &port->protocol))
			docwalk_error(w, protocol, where, "\"%s\" is not TCP, UDP or SCTP", text);
		else if (text && port->protocol == TB_PROTOCOL_SCTP)
			docwalk_error(w, protocol, where,
				      "port %d/SCTP: this machine's kernel has no SCTP, so no server can listen on it",
				      port->port);
	}
	const cJSON *name = docwalk_member(w, obj, path, "name", false);
	if (name) {
		autofree char *where = docwalk_path_key(path, "name");
		const char *text = docwalk_string(w, name, where, "a port name");
		if (text && !ports_is_name(text))
			docwalk_error(w, name, where,
				      "\"%s\" is not a port name: 1-15 of a-z, 0-9 and '-', with a letter, no '-' at "
				      "either end and no \"--\"",
				      text);
		else if (text)
			port->name = xstrdup(text);
	}
	if (!port->name)
		port->name = xstrdup("");
	const cJSON *host_port = host_ports ? docwalk_member(w, obj, path, "hostPort", false) : NULL;
	if (host_port) {
		autofree char *where = docwalk_path_key(path, "hostPort");
		*host = (struct tb_host_port){.container_port = port->port, .protocol = port->protocol};
		*has_host = docwalk_int(w, host_port, where, 1, 65535, "a port number", "a port", &host->host_port);
		const cJSON *ip = docwalk_member(w, obj, path, "hostIP", false);
		if (ip) {
			autofree char *ip_where = docwalk_path_key(path, "hostIP");
			const char *text = docwalk_string(w, ip, ip_where, "an IPv4 address");
			if (text && !ipv4_addr_parse(text, &host->host_ip)) {
				docwalk_error(w, ip, ip_where, "\"%s\" is not an IPv4 address", text);
				*has_host = false;
			}
		}
	} else if (host_ports && cJSON_GetObjectItemCaseSensitive(obj, "hostIP")) {
		autofree char *where = docwalk_path_key(path, "hostIP");
		docwalk_error(w, cJSON_GetObjectItemCaseSensitive(obj, "hostIP"), where,
			      "hostIP without hostPort: nothing to map");
	}
	if (w->d->count != errors) {
		free(port->name);
		port->name = NULL;
		return false;
	}
	return true;
}

bool ports_parse(struct docwalk *w, const cJSON *arr, const char *path, const struct tb_port_list *l)
{
	if (!docwalk_array(w, arr, path, "an array of ports ({\"name\", \"containerPort\", \"protocol\"})"))
		return false;
	bool ok = true;
	size_t i = 0;
	for (const cJSON *obj = arr->child; obj; obj = obj->next, i++) {
		autofree char *where = docwalk_path_index(path, i);
		struct tb_port port;
		struct tb_host_port host;
		bool has_host;
		if (!docwalk_object(w, obj, where, "an object") ||
		    !parse_port(w, obj, where, l->host_ports != NULL, &port, &host, &has_host)) {
			ok = false;
			continue;
		}
		struct tb_port *ports = *l->ports;
		const char *clash = NULL;
		for (size_t k = 0; k < *l->n_ports && !clash; k++) {
			if (ports[k].port == port.port && ports[k].protocol == port.protocol)
				clash = "number and protocol";
			else if (port.name[0] && strcmp(ports[k].name, port.name) == 0)
				clash = "name";
		}
		if (clash) {
			docwalk_error(w, obj, where, "port %s%s%d/%s repeats another port's %s in this pod", port.name,
				      port.name[0] ? " " : "", port.port, tb_protocol_name(port.protocol), clash);
			free(port.name);
			ok = false;
			continue;
		}
		*l->ports = xrealloc(*l->ports, (*l->n_ports + 1) * sizeof(**l->ports));
		(*l->ports)[(*l->n_ports)++] = port;
		for (size_t k = 0; has_host && k < *l->n_host_ports; k++)
			if ((*l->host_ports)[k].host_port == host.host_port && (*l->host_ports)[k].protocol == host.protocol) {
				docwalk_error(w, obj, where, "hostPort %d/%s is mapped twice in this pod", host.host_port,
					      tb_protocol_name(host.protocol));
				ok = false;
				has_host = false;
			}
		if (has_host) {
			*l->host_ports = xrealloc(*l->host_ports, (*l->n_host_ports + 1) * sizeof(**l->host_ports));
			(*l->host_ports)[(*l->n_host_ports)++] = host;
		}
	}
	return ok;
}

static const char *const protocol_names[] = {
	[TB_PROTOCOL_TCP] = "TCP", [TB_PROTOCOL_UDP] = "UDP", [TB_PROTOCOL_SCTP] = "SCTP"};

const char *tb_protocol_name(enum tb_protocol p)
{
	return (size_t)p < ARRAY_SIZE(protocol_names) ? protocol_names[p] : "?";
}

bool tb_protocol_parse(const char *name, enum tb_protocol *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(protocol_names); i++)
		if (strcmp(protocol_names[i], name) == 0) {
			*p = (enum tb_protocol)i;
			return true;
		}
	return false;
}

int tb_http_port(const struct tb_port *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i].protocol == TB_PROTOCOL_TCP && strcmp(ports[i].name, TB_HTTP_PORT_NAME) == 0)
			return ports[i].port;
	for (size_t i = 0; i < n; i++)
		if (ports[i].protocol == TB_PROTOCOL_TCP)
			return ports[i].port;
	return 0;
}
