/* Settings of a machine's own network namespace: /proc/sys/net follows the
 * namespace of whoever opens it, so these never reach the host's. Only keys
 * under net/ are allowed in a plan. `ip netns exec NS sysctl -w KEY=VALUE`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "steps/netlink.h"
#include "steps/step.h"

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_sysctl *k = &s->u.sysctl;
	if (netns_sysctl(ctx->netns[s->machine], k->key, k->value, e) < 0)
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
	autofree char *setting = xasprintf("%s=%s", key, k->value);
	render_cmd(r, "ip", "netns", "exec", render_ns(r, s->machine), "sysctl", "-qw", setting, NULL);
}

static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	json_put_str(o, "key", s->u.sysctl.key);
	json_put_str(o, "value", s->u.sysctl.value);
}

/* A path under net/ of names the kernel and sysctl(8) read as they are. */
static bool safe_key(const char *key)
{
	return strncmp(key, "net/", 4) == 0 && !strstr(key, "..") && !strstr(key, "//") &&
	       strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-") == strlen(key);
}

/* Printable ASCII: some settings are lists ("0 2147483647"). */
static bool safe_value(const char *value)
{
	for (const char *c = value; *c; c++)
		if (*c < ' ' || *c > '~')
			return false;
	return value[0] != '\0';
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_sysctl *k = &s->u.sysctl;
	if (!(k->key = json_get_strdup(o, "key", e)) || !(k->value = json_get_strdup(o, "value", e)))
		return -1;
	if (!safe_key(k->key)) {
		autofree char *shown = str_escape(k->key);
		return tb_fail(e, "\"key\": \"%s\" is not a setting of a network namespace (net/...)", shown);
	}
	if (!safe_value(k->value)) {
		autofree char *shown = str_escape(k->value);
		return tb_fail(e, "\"value\": \"%s\" is not a setting's value (printable ASCII)", shown);
	}
	return 0;
}

const struct step_ops step_sysctl_ops = {
	.name = "sysctl",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
