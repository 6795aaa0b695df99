/* ingress-nginx, as the lab's ingress controller configures Debian's nginx
 * (ingress_nginx.c): the servers and locations its controller makes from
 * Ingress objects (internal/ingress/controller/controller.go: createServers,
 * getBackendServers, updateServerLocations), the nginx.conf its template
 * writes for them (rootfs/etc/nginx/template/nginx.tmpl), and which
 * location nginx picks for a Host and a path. Pure: unit-tested. */
#ifndef TESTBED_INGRESS_NGINX_H
#define TESTBED_INGRESS_NGINX_H

#include <stdbool.h>

#include "model/topology.h"
#include "plan/plan.h"

/* The servers for T's served Ingresses into P->ingress (P's services and
 * their endpoints known): a catch-all "_" answering 404 as ingress-nginx's
 * default backend, one server per host, each host's "/" the default
 * backend or its Ingress's defaultBackend, and a location per path. */
void ingress_nginx_servers(const struct tb_topology *t, struct plan *p);

/* P's ingress servers as nginx.conf (malloc'd). */
char *ingress_nginx_conf(const struct plan *p);

/* Its internal status server (ingress-nginx's, on the pod's loopback),
 * which answers GET CHECKSUM_PATH with the configuration's checksum. */
#define INGRESS_NGINX_STATUS_PORT 10246
#define INGRESS_NGINX_CHECKSUM_PATH "/configuration/checksum"
/* The checksum CONF (an ingress_nginx_conf) answers with, as 16 hex
 * digits; false when CONF has none. */
bool ingress_nginx_checksum(const char *conf, char out[17]);

/* The location nginx chooses for a request to HOST (a Host header: its
 * port, if any, is not matched) and PATH (its query is not matched), and
 * in *SERVER the server: the exact host's, else a wildcard's of one
 * label, else the catch-all. NULL when IN has no servers. */
const struct plan_location *ingress_nginx_route(const struct plan_ingress *in, const char *host, const char *path,
						const struct plan_ingress_server **server);

/* "NAMESPACE-SERVICE-PORT", as ingress-nginx names an upstream, or
 * "upstream-default-backend" (malloc'd). */
char *ingress_nginx_upstream_name(const struct plan_location *l);

#endif
