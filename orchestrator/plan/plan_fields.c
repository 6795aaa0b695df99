/* The saved plan's fields, as each step kind writes and reads its own
 * (steps/step_*.c) and plan_json.c the rest: typed getters that say which
 * key is missing or malformed, and the checks that keep a hand-edited
 * plan from reaching a script or a netlink request (names, MACs). */
#define _GNU_SOURCE
#include "plan/plan_fields.h"

#include <ctype.h>
#include <string.h>

#include "model/ifname.h"

void json_put_str(cJSON *o, const char *key, const char *value)
{
	cJSON_AddStringToObject(o, key, value);
}

void json_put_addr(cJSON *o, const char *key, uint32_t addr)
{
	char buf[IPV4_PREFIX_STRLEN];
	cJSON_AddStringToObject(o, key, ipv4_addr_format(addr, buf));
}

void json_put_prefix(cJSON *o, const char *key, struct ipv4_prefix prefix)
{
	char buf[IPV4_PREFIX_STRLEN];
	cJSON_AddStringToObject(o, key, ipv4_prefix_format(prefix, buf));
}

int json_get_str(const cJSON *o, const char *key, char *buf, size_t size, bool required, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v && !required) {
		buf[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(v))
		return tb_fail(e, "\"%s\": expected a string", key);
	if (strlen(v->valuestring) >= size)
		return tb_fail(e, "\"%s\": \"%s\" is too long", key, v->valuestring);
	memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

int json_get_ifname(const cJSON *o, const char *key, char buf[PLAN_IFNAME], bool required, struct tb_err *e)
{
	if (json_get_str(o, key, buf, PLAN_IFNAME, required, e) < 0)
		return -1;
	const char *problem = buf[0] || required ? ifname_problem(buf) : NULL;
	if (problem) {
		autofree char *shown = str_escape(buf);
		return tb_fail(e, "\"%s\": interface name \"%s\" %s", key, shown, problem);
	}
	return 0;
}

int json_get_mac(const cJSON *o, const char *key, char buf[PLAN_MAC], bool required, struct tb_err *e)
{
	if (json_get_str(o, key, buf, PLAN_MAC, required, e) < 0)
		return -1;
	if (!buf[0] && !required)
		return 0;
	bool ok = strlen(buf) == 17;
	for (size_t i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 ? buf[i] == ':' : isxdigit((unsigned char)buf[i]) != 0;
	if (!ok) {
		autofree char *shown = str_escape(buf);
		return tb_fail(e, "\"%s\": \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)", key, shown);
	}
	return 0;
}

char *json_get_strdup(const cJSON *o, const char *key, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsString(v)) {
		tb_fail(e, "\"%s\": expected a string", key);
		return NULL;
	}
	return xstrdup(v->valuestring);
}

int json_get_addr(const cJSON *o, const char *key, uint32_t *addr, bool required, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v && !required) {
		*addr = 0;
		return 0;
	}
	if (!cJSON_IsString(v) || !ipv4_addr_parse(v->valuestring, addr))
		return tb_fail(e, "\"%s\": expected an IPv4 address", key);
	return 0;
}

int json_get_prefix(const cJSON *o, const char *key, struct ipv4_prefix *prefix, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *why;
	if (!cJSON_IsString(v) || !strchr(v->valuestring, '/') || !ipv4_prefix_parse(v->valuestring, prefix, &why))
		return tb_fail(e, "\"%s\": expected an IPv4 prefix", key);
	return 0;
}

int json_get_int(const cJSON *o, const char *key, long min, long max, long *out, bool required, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v && !required)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return tb_fail(e, "\"%s\": expected a whole number from %ld to %ld", key, min, max);
	*out = (long)v->valuedouble;
	return 0;
}

int json_get_bool(const cJSON *o, const char *key, bool *out, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v) {
		*out = false;
		return 0;
	}
	if (!cJSON_IsBool(v))
		return tb_fail(e, "\"%s\": expected true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

int json_get_machine(const struct plan *p, const cJSON *o, const char *key, size_t *machine, struct tb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsString(v))
		return tb_fail(e, "\"%s\": expected a machine name", key);
	*machine = plan_find(p, v->valuestring);
	if (*machine == PLAN_NONE)
		return tb_fail(e, "\"%s\": no machine \"%s\"", key, v->valuestring);
	return 0;
}
