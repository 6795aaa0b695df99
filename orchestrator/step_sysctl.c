/* Settings of a machine's own network namespace: /proc/sys/net follows the
 * namespace of whoever opens it, so these never reach the host's. Only keys
 * under net/ are allowed in a plan. `ip netns exec NS sysctl -w KEY=VALUE`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "netlink.h"
#include "step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_sysctl *k = &s->u.sysctl;
	if (netns_sysctl(ctx->machines[s->machine].netns, k->key, k->value, e) < 0)
		return tb_context(e, "%s", ctx->plan->machines[s->machine].name);
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_sysctl *k = &s->u.sysctl;
	/* sysctl(8) reads dots as separators unless the key uses slashes, which
	 * it must when a part (an interface name) has a dot of its own. */
	bool dotted_part = false;
	for (const char *c = k->key; *c; c++)
		dotted_part |= *c == '.';
	char key[256];
	snprintf(key, sizeof(key), "%s", k->key);
	if (!dotted_part)
		for (char *c = key; *c; c++)
			if (*c == '/')
				*c = '.';
	fprintf(r->out, "ip netns exec %s sysctl -qw %s=%s\n", render_ns(r, s->machine), key, k->value);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "key", s->u.sysctl.key);
	json_put_str(o, "value", s->u.sysctl.value);
}

static bool safe_key(const char *key)
{
	return strncmp(key, "net/", 4) == 0 && !strstr(key, "..") && !strchr(key, ' ');
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_sysctl *k = &s->u.sysctl;
	if (!(k->key = json_get_strdup(o, "key", e)) || !(k->value = json_get_strdup(o, "value", e)))
		return -1;
	if (!safe_key(k->key))
		return tb_fail(e, "\"key\": \"%s\" is not a setting of a network namespace (net/...)", k->key);
	return 0;
}

const struct step_ops step_sysctl_ops = {
	.name = "sysctl",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
