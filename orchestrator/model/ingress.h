/* The lab's ingress controller (issue #26): which Ingresses it serves, as
 * ingress-nginx chooses them (an Ingress of its IngressClass, "nginx"
 * unless declared otherwise, or of none when an IngressClass of its
 * controller is the default; the others are noted, never skipped
 * silently), and, when it serves any, its pod and Service added to the
 * model as the upstream manifests make them: pod and Service
 * ingress-nginx/ingress-nginx-controller, the pod last on the first node
 * (its address after every user pod's), the Service a NodePort or, by
 * cluster.ingress, a LoadBalancer. Runs after scheduling, before
 * validation and IPAM, which treat them as any other pod and Service. */
#ifndef TESTBED_INGRESS_H
#define TESTBED_INGRESS_H

#include <stdbool.h>

#include "model/topology.h"

struct diag;

/* Debian's nginx in the pod image, and where its configuration goes. */
#define INGRESS_NGINX_BINARY "/usr/sbin/nginx"
#define INGRESS_NGINX_CONF "/etc/nginx/ingress-nginx.conf"
#define INGRESS_NGINX_ACCESS_LOG "/var/log/nginx/ingress-access.log"

/* False after reporting (through D) what stops the controller. */
bool ingress_controller_add(struct tb_topology *t, struct diag *d);

#endif
