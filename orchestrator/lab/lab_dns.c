/* Cluster DNS of a running lab: see lab_dns.h. */
#define _GNU_SOURCE
#include "lab/lab_dns.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "lab/lab_pod.h"
#include "lab/machine.h"
#include "model/cluster_dns.h"


int lab_dns_update(struct live_lab *l, const struct plan_dns_change *c, pid_t *old_pid, pid_t *new_pid,
		   struct tb_err *e)
{
	*old_pid = *new_pid = 0;
	const char *name = l->plan.machines[c->machine].name;
	autoclose int init_fd = -1;
	const struct machine_record *m = lab_pod_running(l, c->machine, &init_fd, e);
	pid_t server = m ? lab_pod_workload_pid(l, c->machine, e) : 0;
	if (!server)
		return tb_context(e, "cluster DNS");
	struct plan_file files[2];
	size_t n = 0;
	if (c->hosts)
		files[n++] = (struct plan_file){TB_DNS_HOSTS, (char *)c->hosts, 0644};
	if (c->config)
		files[n++] = (struct plan_file){TB_DNS_CONFIG, (char *)c->config, 0644};
	if (lab_pod_write_files(m->pid, init_fd, files, n, e) < 0)
		return tb_context(e, "writing cluster DNS's records into pod %s", name);
	autoclose int server_fd = pidfd_open_pid(server);
	if (server_fd < 0)
		return tb_fail(e, "cluster DNS: dnsmasq (PID %d) in pod %s: %s", server, name, strerror(errno));
	*old_pid = server;
	if (!c->restart) {
		/* dnsmasq reads its hosts files again on SIGHUP. */
		if (pidfd_kill(server_fd, SIGHUP) < 0)
			return tb_fail(e, "cluster DNS: signalling dnsmasq (PID %d) in pod %s: %s", server, name,
				       strerror(errno));
		*new_pid = server;
		return 0;
	}
	/* Records only its configuration can give (SRV, CNAME): the pod's
	 * init ends dnsmasq and starts it again. */
	return lab_pod_restart_workload(init_fd, server, name, e) < 0 ? tb_context(e, "cluster DNS") : 0;
}
