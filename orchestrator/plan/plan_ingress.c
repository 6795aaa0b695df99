/* The ingress controller: a pass of the compiler. model/ingress.c added its
 * pod and Service to the model; here, once the Services' endpoints are
 * known, its servers and locations are made from the Ingresses it serves
 * (ingress_nginx.c) and their nginx.conf becomes a file of its pod, which
 * up writes into the pod's root before nginx starts. */
#define _GNU_SOURCE
#include <string.h>

#include "model/ingress.h"
#include "plan/ingress_nginx.h"
#include "plan/plan_passes.h"
#include "util/util.h"

void plan_cluster_ingress(const struct tb_topology *t, struct plan *p)
{
	size_t controller = PLAN_NONE, service = PLAN_NONE;
	for (size_t i = 0; i < p->n_machines && controller == PLAN_NONE; i++)
		if (p->machines[i].kind == MACHINE_POD && strcmp(p->machines[i].namespace, TB_INGRESS_NAMESPACE) == 0 &&
		    strcmp(plan_machine_object_name(&p->machines[i]), TB_INGRESS_CONTROLLER) == 0)
			controller = i;
	for (size_t i = 0; i < p->n_services && service == PLAN_NONE; i++)
		if (strcmp(p->services[i].namespace, TB_INGRESS_NAMESPACE) == 0 &&
		    strcmp(p->services[i].name, TB_INGRESS_CONTROLLER) == 0)
			service = i;
	if (controller == PLAN_NONE || service == PLAN_NONE)
		return;
	p->ingress.controller = controller;
	p->ingress.service = service;
	ingress_nginx_servers(t, p);
	autofree char *conf = ingress_nginx_conf(p);
	plan_machine_add_file(&p->machines[controller], INGRESS_NGINX_CONF, conf, 0644);
}
