#define _GNU_SOURCE
#include "model/docwalk.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "model/jsondoc.h"
#include "util/diag.h"
#include "util/util.h"

int docwalk_line(const struct docwalk *w, const cJSON *item)
{
	return item ? json_doc_line(w->doc, item) : 0;
}

int docwalk_key_line(const struct docwalk *w, const cJSON *obj, const char *key)
{
	return docwalk_line(w, cJSON_GetObjectItemCaseSensitive(obj, key));
}

int docwalk_column(const struct docwalk *w, const cJSON *item)
{
	return item ? json_doc_column(w->doc, item) : 0;
}

void docwalk_error(struct docwalk *w, const cJSON *item, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	docwalk_verror(w, item, path, fmt, ap);
	va_end(ap);
}

void docwalk_verror(struct docwalk *w, const cJSON *item, const char *path, const char *fmt, va_list ap)
{
	if (!w->columns && !w->prefix) {
		diag_verror(w->d, docwalk_line(w, item), path, fmt, ap);
		return;
	}
	/* The prefix is what the message is about; the path is within it. */
	autofree char *subject = NULL;
	if (w->prefix && *w->prefix)
		path = subject = path && *path ? xasprintf("%s: %s", w->prefix, path) : xstrdup(w->prefix);
	diag_verror_in(w->d, w->columns ? w->doc->file : NULL, docwalk_line(w, item),
		       w->columns ? docwalk_column(w, item) : 0, path, fmt, ap);
}

char *docwalk_path_key(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

char *docwalk_path_index(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path, i);
}

static bool key_allowed(const char *const *allowed, const char *key)
{
	for (; *allowed; allowed++)
		if (strcmp(*allowed, key) == 0)
			return true;
	return false;
}

/* Edit distance, to suggest the key a typo meant. Keys are short. Exact
 * below LIMIT; otherwise some value >= LIMIT, found early: callers want
 * close keys only, and a huge file may hold a million others. */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return SIZE_MAX;
	/* The distance is at least the difference in length. */
	if (la >= lb + limit || lb >= la + limit)
		return limit;
	size_t row[33];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		size_t row_min = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
			if (best < row_min)
				row_min = best;
		}
		/* No later row has a smaller minimum. */
		if (row_min >= limit)
			return limit;
	}
	return row[lb];
}

/* "a, b, c": the keys a message lists, leaving out those that start with
 * '$' ("$schema"), which are for editors rather than for people. */
static char *key_list(const char *const *allowed)
{
	size_t len = 0;
	for (const char *const *a = allowed; *a; a++)
		len += strlen(*a) + 2;
	char *list = xcalloc(1, len + 1);
	for (const char *const *a = allowed; *a; a++) {
		if (**a == '$')
			continue;
		if (*list)
			strcat(list, ", ");
		strcat(list, *a);
	}
	return list;
}

void docwalk_check_keys(struct docwalk *w, const cJSON *obj, const char *path, const char *const *allowed)
{
	autofree char *list = NULL; /* the allowed keys, once one is needed */
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (key_allowed(allowed, c->string))
			continue;
		autofree char *where = docwalk_path_key(path, c->string);
		const char *closest = NULL;
		size_t best = 3; /* suggest only close matches */
		for (const char *const *a = allowed; *a; a++) {
			size_t dist = edit_distance(c->string, *a, best);
			if (dist < best) {
				best = dist;
				closest = *a;
			}
		}
		if (closest) {
			docwalk_error(w, c, where, "unknown key (did you mean \"%s\"?)", closest);
			continue;
		}
		if (!list)
			list = key_list(allowed);
		docwalk_error(w, c, where, "unknown key (expected one of: %s)", list);
	}
}

struct key_ref {
	const cJSON *member;
	size_t index;
};

static int by_key_then_position(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->member->string, y->member->string);
	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/* For each of OBJ's N members, the first member with its key (itself
 * unless the key repeats). Sorted rather than compared pairwise, which
 * took minutes on an object of a million keys. */
static const cJSON **first_with_same_key(const cJSON *obj, size_t n)
{
	autofree struct key_ref *refs = xcalloc(n, sizeof(*refs));
	size_t i = 0;
	for (const cJSON *c = obj->child; c; c = c->next, i++)
		refs[i] = (struct key_ref){.member = c, .index = i};
	qsort(refs, n, sizeof(*refs), by_key_then_position);
	const cJSON **first = xcalloc(n, sizeof(*first));
	for (size_t j = 0, lead = 0; j < n; j++) {
		if (j > 0 && strcmp(refs[j].member->string, refs[lead].member->string) != 0)
			lead = j;
		first[refs[j].index] = refs[lead].member;
	}
	return first;
}

void docwalk_check_duplicate_keys(struct docwalk *w, const cJSON *item, const char *path)
{
	size_t n = 0;
	for (const cJSON *c = item->child; c; c = c->next)
		n++;
	autofree const cJSON **first = cJSON_IsObject(item) && n > 1 ? first_with_same_key(item, n) : NULL;
	size_t i = 0;
	for (const cJSON *c = item->child; c; c = c->next, i++) {
		bool duplicate = first && first[i] != c;
		/* Only where needed: most members of a huge object are neither. */
		if (!duplicate && !c->child)
			continue;
		autofree char *where =
		    cJSON_IsObject(item) ? docwalk_path_key(path, c->string) : docwalk_path_index(path, i);
		if (duplicate && w->columns)
			docwalk_error(w, c, where, "duplicate key (first on line %d, column %d)", docwalk_line(w, first[i]),
				      docwalk_column(w, first[i]));
		else if (duplicate)
			docwalk_error(w, c, where, "duplicate key (first on line %d)", docwalk_line(w, first[i]));
		docwalk_check_duplicate_keys(w, c, where);
	}
}

const cJSON *docwalk_member(struct docwalk *w, const cJSON *obj, const char *path, const char *key, bool required)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item && required)
		docwalk_error(w, obj, path, "missing required key \"%s\"", key);
	return item;
}

bool docwalk_want(struct docwalk *w, const cJSON *item, const char *path, bool ok, const char *what)
{
	if (!ok)
		docwalk_error(w, item, path, "expected %s, got %s", what, json_type_name(item));
	return ok;
}

bool docwalk_object(struct docwalk *w, const cJSON *item, const char *path, const char *what)
{
	return docwalk_want(w, item, path, cJSON_IsObject(item), what);
}

bool docwalk_array(struct docwalk *w, const cJSON *item, const char *path, const char *what)
{
	return docwalk_want(w, item, path, cJSON_IsArray(item), what);
}

const char *docwalk_string(struct docwalk *w, const cJSON *item, const char *path, const char *what)
{
	return docwalk_want(w, item, path, cJSON_IsString(item), what) ? item->valuestring : NULL;
}

bool docwalk_bool(struct docwalk *w, const cJSON *item, const char *path, bool *out)
{
	if (!docwalk_want(w, item, path, cJSON_IsBool(item), "true or false"))
		return false;
	*out = cJSON_IsTrue(item);
	return true;
}

bool docwalk_is_int(const cJSON *item, int lo, int hi)
{
	double v = cJSON_IsNumber(item) ? item->valuedouble : 0;
	return cJSON_IsNumber(item) && v == floor(v) && v >= lo && v <= hi;
}

bool docwalk_int(struct docwalk *w, const cJSON *item, const char *path, int lo, int hi, const char *what,
		 const char *noun, int *out)
{
	if (!docwalk_want(w, item, path, cJSON_IsNumber(item), what))
		return false;
	if (!docwalk_is_int(item, lo, hi)) {
		docwalk_error(w, item, path, "%g is not %s: expected a whole number from %d to %d", item->valuedouble,
			      noun, lo, hi);
		return false;
	}
	*out = (int)item->valuedouble;
	return true;
}

int docwalk_choice(struct docwalk *w, const cJSON *item, const char *path, const char *const *choices)
{
	size_t len = 0;
	for (const char *const *c = choices; *c; c++)
		len += strlen(*c) + 4;
	autofree char *list = xcalloc(1, len + 1);
	for (const char *const *c = choices; *c; c++) {
		if (*list)
			strcat(list, c[1] ? ", " : " or ");
		strcat(list, "\"");
		strcat(list, *c);
		strcat(list, "\"");
	}
	if (cJSON_IsString(item))
		for (const char *const *c = choices; *c; c++)
			if (strcmp(item->valuestring, *c) == 0)
				return (int)(c - choices);
	if (cJSON_IsString(item))
		docwalk_error(w, item, path, "\"%s\": expected %s", item->valuestring, list);
	else
		docwalk_error(w, item, path, "expected %s, got %s", list, json_type_name(item));
	return -1;
}

bool docwalk_is_dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DOCWALK_DNS_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return s[0] != '-' && s[n - 1] != '-';
}

/* The name part of a label key, and a label's value when not empty. */
static bool is_label_name(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

bool docwalk_is_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return is_label_name(s, strlen(s));
	size_t plen = (size_t)(slash - s);
	if (plen == 0 || plen > 253)
		return false;
	for (size_t i = 0; i < plen; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
			return false;
	return is_label_name(slash + 1, strlen(slash + 1));
}

bool docwalk_is_label_value(const char *s)
{
	return !*s || is_label_name(s, strlen(s));
}

const char *docwalk_name(struct docwalk *w, const cJSON *obj, const char *path)
{
	const cJSON *item = docwalk_member(w, obj, path, "name", true);
	if (!item)
		return NULL;
	autofree char *where = docwalk_path_key(path, "name");
	const char *name = docwalk_string(w, item, where, "a string");
	if (name && !docwalk_is_dns_label(name)) {
		docwalk_error(w, item, where,
			      "\"%s\" is not a valid name: 1-63 characters of a-z, 0-9 and '-', "
			      "starting and ending with a letter or digit",
			      name);
		return NULL;
	}
	return name;
}

bool docwalk_label(struct docwalk *w, const cJSON *member, const char *path)
{
	autofree char *where = docwalk_path_key(path, member->string);
	if (!docwalk_is_label_key(member->string)) {
		docwalk_error(w, member, where,
			      "\"%s\" is not a valid label key: an optional DNS prefix and '/', then up to "
			      "63 of a-z, A-Z, 0-9, '-', '_', '.', alphanumeric at both ends",
			      member->string);
		return false;
	}
	const char *value = docwalk_string(w, member, where, "a string");
	if (!value)
		return false;
	if (!docwalk_is_label_value(value)) {
		docwalk_error(w, member, where,
			      "\"%s\" is not a valid label value: up to 63 of a-z, A-Z, 0-9, '-', '_', '.', "
			      "alphanumeric at both ends",
			      value);
		return false;
	}
	return true;
}
