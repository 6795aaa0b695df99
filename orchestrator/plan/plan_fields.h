/* Fields of the saved plan (plan_fields.c): what plan_json.c and each step
 * kind's to_json/from_json use to write and read their own. */
#ifndef TESTBED_PLAN_FIELDS_H
#define TESTBED_PLAN_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "plan/plan.h"
#include "util/ipv4.h"
#include "util/util.h"

void json_put_str(cJSON *o, const char *key, const char *value);
void json_put_addr(cJSON *o, const char *key, uint32_t addr);
void json_put_prefix(cJSON *o, const char *key, struct ipv4_prefix prefix);
int json_get_str(const cJSON *o, const char *key, char *buf, size_t size, bool required, struct tb_err *e);
/* Saved plans are read back into scripts and netlink requests: an interface
 * name must pass the topology's rule (model/ifname.h), a MAC be
 * xx:xx:xx:xx:xx:xx. */
int json_get_ifname(const cJSON *o, const char *key, char buf[PLAN_IFNAME], bool required, struct tb_err *e);
int json_get_mac(const cJSON *o, const char *key, char buf[PLAN_MAC], bool required, struct tb_err *e);
char *json_get_strdup(const cJSON *o, const char *key, struct tb_err *e);
int json_get_addr(const cJSON *o, const char *key, uint32_t *addr, bool required, struct tb_err *e);
int json_get_prefix(const cJSON *o, const char *key, struct ipv4_prefix *prefix, struct tb_err *e);
int json_get_int(const cJSON *o, const char *key, long min, long max, long *v, bool required, struct tb_err *e);
int json_get_bool(const cJSON *o, const char *key, bool *v, struct tb_err *e);
int json_get_machine(const struct plan *p, const cJSON *o, const char *key, size_t *machine, struct tb_err *e);

#endif
