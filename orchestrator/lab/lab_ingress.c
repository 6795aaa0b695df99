/* The ingress controller of a running lab: see lab_ingress.h. */
#define _GNU_SOURCE
#include "lab/lab_ingress.h"


#include "lab/lab_pod.h"
#include "lab/machine.h"
#include "model/ingress.h"

int lab_ingress_update(struct live_lab *l, const struct plan_ingress_change *c, pid_t *pid, struct tb_err *e)
{
	*pid = 0;
	const char *name = l->plan.machines[c->machine].name;
	autoclose int init_fd = -1;
	const struct machine_record *m = lab_pod_running(l, c->machine, &init_fd, e);
	pid_t nginx = m ? lab_pod_workload_pid(l, c->machine, e) : 0;
	if (!nginx)
		return tb_context(e, "the ingress controller");
	struct plan_file conf = {INGRESS_NGINX_CONF, (char *)c->config, 0644};
	if (lab_pod_write_files(m->pid, init_fd, &conf, 1, e) < 0)
		return tb_context(e, "writing the ingress controller's nginx.conf into pod %s", name);
	/* nginx runs as one process (master_process off: a master's workers
	 * would change user, which a pod may not), and such an nginx cannot
	 * take a new configuration on SIGHUP (its connections are not made
	 * again): the pod's init restarts it. */
	*pid = nginx;
	return lab_pod_restart_workload(init_fd, nginx, name, e) < 0 ? tb_context(e, "the ingress controller") : 0;
}
