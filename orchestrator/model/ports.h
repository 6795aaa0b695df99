/* Ports as Kubernetes writes a container's: {name, containerPort,
 * protocol}, checked as the API server checks them, for inline pods and
 * (with hostPort and hostIP) for the containers of workload objects. */
#ifndef TESTBED_PORTS_H
#define TESTBED_PORTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "model/docwalk.h"
#include "model/topology.h"

/* An IANA service name, as a port's name must be: 1-15 of a-z, 0-9 and
 * '-', with a letter, no '-' at either end and no "--". */
bool ports_is_name(const char *s);

/* Appends the ports the array ARR at PATH lists to POD's. With
 * HOST_PORTS, an entry may carry hostPort and hostIP (a mapping appended
 * to POD's host_ports, as the CNI portmap plugin makes them); without,
 * those are unknown keys. A pod's ports are unique by number and protocol
 * and by name across its containers, as the kubelet needs them. SCTP is
 * refused naming the port: this machine's kernel has no SCTP. Reports
 * through W; false when anything was wrong. */
bool ports_parse(struct docwalk *w, const cJSON *arr, const char *path, bool host_ports, struct tb_pod *pod);

#endif
