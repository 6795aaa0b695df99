/* Placeholder until the rule builder lands: no rules. */
#include "plan/kubeproxy.h"

char *kubeproxy_ruleset(const struct plan *p, size_t node)
{
	(void)p;
	(void)node;
	return NULL;
}
