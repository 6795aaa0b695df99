/* Step kinds as a table, the way iproute2 keeps one file per object: each
 * kind lives in its own file, orchestrator/steps/step_KIND.c, with
 *   apply    do it to the kernel (netlink through libnl-route-3, rule sets
 *            through libnftables inside the target namespace)
 *   render   the equivalent command line, for `testbed plan --format sh`
 *   to_json / from_json   its fields in the saved plan
 * A new kind of step is a new enum value in plan.h, a new step_KIND.c and a
 * line in step.c's table. */
#ifndef TESTBED_STEP_H
#define TESTBED_STEP_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "util/util.h"

struct machine;
struct nl_sock;

/* What `up` hands the executors: the plan and the running machines. */
struct exec_ctx {
	const struct plan *plan;
	struct machine *machines; /* per plan machine */
	struct nl_sock **socks;   /* per plan machine, opened on first use */
	/* STEP_MACHINE: spawning is up's business (state, logs, images);
	 * the step calls back. */
	int (*spawn)(struct exec_ctx *ctx, size_t machine, struct tb_err *e);
	void *owner;
};

/* The netlink socket of MACHINE's namespace (opened on first use). */
struct nl_sock *exec_sock(struct exec_ctx *ctx, size_t machine, struct tb_err *e);

/* Shell rendering (plan_render.c): every value reaches the script through
 * render_cmd or render_argv, which quote each word, and every comment
 * through render_comment, which escapes what could end or hide it. */
struct render_ctx {
	const struct plan *plan;
	FILE *out;
};

/* One command line: the words up to NULL, each a single shell word. */
void render_cmd(const struct render_ctx *r, ...) __attribute__((sentinel));
/* The same built in parts, for commands with optional words: push the
 * words up to NULL, then write the line with render_argv. */
struct render_argv {
	const char *words[32];
	size_t n;
};
void render_push(struct render_argv *a, ...) __attribute__((sentinel));
void render_argv(const struct render_ctx *r, const struct render_argv *a);
/* The command A reading BODY as a here-document whose delimiter no line of
 * BODY equals and whose quoting keeps BODY from expansion. */
void render_heredoc(const struct render_ctx *r, const struct render_argv *a, const char *body);
/* A comment line, "# " and the formatted text with line breaks, control
 * characters and bytes that are not UTF-8 escaped (str_escape). */
void render_comment(const struct render_ctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct step_ops {
	const char *name; /* in saved plans: "veth", "route", ... */
	int (*apply)(struct exec_ctx *ctx, const struct step *s, struct tb_err *e);
	void (*render)(const struct render_ctx *r, const struct step *s);
	void (*to_json)(const struct plan *p, const struct step *s, cJSON *o);
	/* Fills S from O; reports what is missing or malformed through E. */
	int (*from_json)(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e);
};

const struct step_ops *step_ops(enum step_kind kind);
/* The kind called NAME, or STEP_KIND_COUNT. */
enum step_kind step_kind_parse(const char *name);

extern const struct step_ops step_machine_ops, step_bridge_ops, step_veth_ops, step_vxlan_ops, step_address_ops,
	step_route_ops, step_neigh_ops, step_fdb_ops, step_sysctl_ops, step_nft_ops;

/* Helpers the step files share for their JSON fields. */
void json_put_str(cJSON *o, const char *key, const char *value);
void json_put_addr(cJSON *o, const char *key, uint32_t addr);
void json_put_prefix(cJSON *o, const char *key, struct ipv4_prefix prefix);
int json_get_str(const cJSON *o, const char *key, char *buf, size_t size, bool required, struct tb_err *e);
/* Saved plans are read back into scripts and netlink requests: an interface
 * name must pass the topology's rule (ifname.h), a MAC be xx:xx:xx:xx:xx:xx. */
int json_get_ifname(const cJSON *o, const char *key, char buf[PLAN_IFNAME], bool required, struct tb_err *e);
int json_get_mac(const cJSON *o, const char *key, char buf[PLAN_MAC], bool required, struct tb_err *e);
char *json_get_strdup(const cJSON *o, const char *key, struct tb_err *e);
int json_get_addr(const cJSON *o, const char *key, uint32_t *addr, bool required, struct tb_err *e);
int json_get_prefix(const cJSON *o, const char *key, struct ipv4_prefix *prefix, struct tb_err *e);
int json_get_int(const cJSON *o, const char *key, long min, long max, long *v, bool required, struct tb_err *e);
int json_get_bool(const cJSON *o, const char *key, bool *v, struct tb_err *e);
int json_get_machine(const struct plan *p, const cJSON *o, const char *key, size_t *machine, struct tb_err *e);

/* The name a machine's namespace has in rendered scripts. */
const char *render_ns(const struct render_ctx *r, size_t machine);

#endif
