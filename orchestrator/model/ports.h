/* Ports as Kubernetes writes a container's: {name, containerPort,
 * protocol}, checked as the API server checks them, for inline pods and
 * (with hostPort and hostIP) for the containers of workload objects. */
#ifndef TESTBED_PORTS_H
#define TESTBED_PORTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/docwalk.h"

/* A machine's ports, as Kubernetes writes a container's: a name, a number
 * and a protocol. The topology's `http` is the short form of one, named
 * "http" over TCP; Kubernetes objects bring more. */
enum tb_protocol { TB_PROTOCOL_TCP, TB_PROTOCOL_UDP, TB_PROTOCOL_SCTP };
struct tb_port {
	char *name; /* "" for none */
	int port;
	enum tb_protocol protocol;
};
#define TB_HTTP_PORT_NAME "http"

/* hostPort: the node's port that reaches a pod's, as the CNI portmap
 * plugin maps it (DNAT on the node). */
struct tb_host_port {
	int host_port, container_port;
	enum tb_protocol protocol;
	uint32_t host_ip; /* 0: every address of the node */
};

/* "TCP", "UDP", "SCTP", as Kubernetes writes them. */
const char *tb_protocol_name(enum tb_protocol p);
bool tb_protocol_parse(const char *name, enum tb_protocol *p);
/* The TCP port default probes use among PORTS: the one named "http", else
 * the first TCP port; 0 when there is none. */
int tb_http_port(const struct tb_port *ports, size_t n);

/* An IANA service name, as a port's name must be: 1-15 of a-z, 0-9 and
 * '-', with a letter, no '-' at either end and no "--". */
bool ports_is_name(const char *s);

/* The ports of one pod, as they are read: its containers' together. */
struct tb_port_list {
	struct tb_port **ports;
	size_t *n_ports;
	struct tb_host_port **host_ports; /* NULL: hostPort and hostIP are unknown keys */
	size_t *n_host_ports;
};

/* Appends the ports the array ARR at PATH lists to L's. With host ports,
 * an entry may carry hostPort and hostIP (a mapping appended, as the CNI
 * portmap plugin makes them); without, those are unknown keys. A pod's ports are unique by number and protocol
 * and by name across its containers, as the kubelet needs them. SCTP is
 * refused naming the port: this machine's kernel has no SCTP. Reports
 * through W; false when anything was wrong. */
bool ports_parse(struct docwalk *w, const cJSON *arr, const char *path, const struct tb_port_list *l);

#endif
