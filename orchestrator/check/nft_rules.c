/* Walking a live nftables ruleset for one packet (nft_rules.h). */
#define _GNU_SOURCE
#include "check/nft_rules.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/util.h"

/* Chains, maps and sets nest this deep at most (kube-proxy's: services ->
 * external -> service -> endpoint, four). */
#define MAX_DEPTH 16

struct nft_rule {
	char *text;
	int handle;
};

struct nft_chain {
	char *name;
	bool nat_hook; /* a base chain of type nat: where NAT rules start */
	struct nft_rule *rules;
	size_t n, cap;
};

/* A named set or map: its elements as listed ("10.96.0.2 . tcp . 80 :
 * goto service-..." for a verdict map, "10.10.0.2" for a set). */
struct nft_set {
	char *name;
	bool map;
	/* Filled by the rules as packets pass (ClientIP affinity's): an
	 * element there now may have come with the very connection traced. */
	bool dynamic;
	char **elements;
	size_t n, cap;
};

struct nft_table {
	char *label; /* "ip kube-proxy" */
	struct nft_chain *chains;
	size_t n_chains, cap_chains;
	struct nft_set *sets;
	size_t n_sets, cap_sets;
};

struct nft_ruleset {
	struct nft_table *tables;
	size_t n, cap;
};

/* ---- reading the listing ---- */

static char *trimmed(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return xasprintf("%.*s", (int)len, s);
}

/* The second word of LINE ("chain NAME { # handle 3" -> NAME). */
static char *second_word(const char *line)
{
	const char *s = strchr(line, ' ');
	if (!s)
		return xstrdup("");
	s++;
	return xasprintf("%.*s", (int)strcspn(s, " "), s);
}

/* Splits the elements' text (what is between "elements = {" and "}") at
 * the commas outside quotes and braces. */
static void add_elements(struct nft_set *set, const char *text)
{
	int depth = 0;
	bool quoted = false;
	const char *start = text;
	for (const char *c = text;; c++) {
		if (*c == '"')
			quoted = !quoted;
		else if (!quoted && *c == '{')
			depth++;
		else if (!quoted && *c == '}')
			depth--;
		if (*c == '\0' || (!quoted && depth == 0 && *c == ',')) {
			char *element = trimmed(start, (size_t)(c - start));
			if (*element) {
				grow_array((void **)&set->elements, &set->cap, set->n + 1, sizeof(*set->elements));
				set->elements[set->n++] = element;
			} else {
				free(element);
			}
			if (*c == '\0')
				return;
			start = c + 1;
		}
	}
}

struct nft_ruleset *nft_ruleset_parse(const char *text)
{
	struct nft_ruleset *r = xcalloc(1, sizeof(*r));
	struct nft_table *table = NULL;
	struct nft_chain *chain = NULL;
	struct nft_set *set = NULL;
	char *elements = NULL; /* a set's elements, gathered over their lines */
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		size_t depth = strspn(line, "\t");
		autofree char *content = trimmed(line + depth, len - depth);
		line += len + (line[len] == '\n');
		if (elements) {
			char *more = xasprintf("%s %s", elements, content);
			free(elements);
			elements = more;
		} else if (depth == 0 && str_has_prefix(content, "table ")) {
			grow_array((void **)&r->tables, &r->cap, r->n + 1, sizeof(*r->tables));
			table = &r->tables[r->n++];
			*table = (struct nft_table){0};
			const char *family = content + strlen("table ");
			size_t family_len = strcspn(family, " ");
			const char *name = family + family_len + (family[family_len] == ' ');
			table->label = xasprintf("%.*s %.*s", (int)family_len, family, (int)strcspn(name, " "), name);
			chain = NULL;
			set = NULL;
			continue;
		} else if (!table) {
			continue;
		} else if (depth <= 1 && strcmp(content, "}") == 0) {
			if (depth == 0)
				table = NULL;
			chain = NULL;
			set = NULL;
			continue;
		} else if (depth == 1 && str_has_prefix(content, "chain ")) {
			grow_array((void **)&table->chains, &table->cap_chains, table->n_chains + 1, sizeof(*table->chains));
			chain = &table->chains[table->n_chains++];
			*chain = (struct nft_chain){.name = second_word(content)};
			set = NULL;
			continue;
		} else if (depth == 1 && (str_has_prefix(content, "map ") || str_has_prefix(content, "set "))) {
			grow_array((void **)&table->sets, &table->cap_sets, table->n_sets + 1, sizeof(*table->sets));
			set = &table->sets[table->n_sets++];
			*set = (struct nft_set){.name = second_word(content), .map = content[0] == 'm'};
			chain = NULL;
			continue;
		} else if (chain && depth >= 2) {
			/* The chain's own settings are no rules. */
			if (str_has_prefix(content, "type nat hook "))
				chain->nat_hook = true;
			if (str_has_prefix(content, "type ") || str_has_prefix(content, "policy ") ||
			    str_has_prefix(content, "comment ") || str_has_prefix(content, "devices "))
				continue;
			const char *mark = strstr(content, " # handle ");
			int handle = mark ? atoi(mark + strlen(" # handle ")) : -1;
			grow_array((void **)&chain->rules, &chain->cap, chain->n + 1, sizeof(*chain->rules));
			chain->rules[chain->n++] =
				(struct nft_rule){xasprintf("%.*s", (int)(mark ? (size_t)(mark - content) : strlen(content)),
							    content),
						  handle};
			continue;
		} else if (set && depth >= 2 && str_has_prefix(content, "flags ")) {
			set->dynamic = strstr(content, "dynamic") != NULL;
			continue;
		} else if (set && depth >= 2 && str_has_prefix(content, "elements = {")) {
			elements = xstrdup(content + strlen("elements = {"));
		} else {
			continue;
		}
		/* A set's elements end with the brace closing them. */
		size_t n = strlen(elements);
		if (n && elements[n - 1] == '}') {
			elements[n - 1] = '\0';
			if (set)
				add_elements(set, elements);
			free(elements);
			elements = NULL;
		}
	}
	free(elements);
	return r;
}

void nft_ruleset_free(struct nft_ruleset *r)
{
	if (!r)
		return;
	for (size_t t = 0; t < r->n; t++) {
		struct nft_table *table = &r->tables[t];
		for (size_t c = 0; c < table->n_chains; c++) {
			for (size_t k = 0; k < table->chains[c].n; k++)
				free(table->chains[c].rules[k].text);
			free(table->chains[c].rules);
			free(table->chains[c].name);
		}
		for (size_t s = 0; s < table->n_sets; s++) {
			for (size_t k = 0; k < table->sets[s].n; k++)
				free(table->sets[s].elements[k]);
			free(table->sets[s].elements);
			free(table->sets[s].name);
		}
		free(table->chains);
		free(table->sets);
		free(table->label);
	}
	free(r->tables);
	free(r);
}

bool nft_ruleset_has_table(const struct nft_ruleset *r, const char *family, const char *name)
{
	autofree char *label = xasprintf("%s %s", family, name);
	for (size_t t = 0; t < r->n; t++)
		if (strcmp(r->tables[t].label, label) == 0)
			return true;
	return false;
}

static const struct nft_chain *find_chain(const struct nft_table *t, const char *name)
{
	for (size_t c = 0; c < t->n_chains; c++)
		if (strcmp(t->chains[c].name, name) == 0)
			return &t->chains[c];
	return NULL;
}

static const struct nft_set *find_set(const struct nft_table *t, const char *name)
{
	for (size_t s = 0; s < t->n_sets; s++)
		if (strcmp(t->sets[s].name, name) == 0)
			return &t->sets[s];
	return NULL;
}

/* ---- quotes ---- */

void nft_quotes_free(struct nft_quotes *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->items[i].table);
		free(q->items[i].chain);
		free(q->items[i].map);
		free(q->items[i].text);
	}
	free(q->items);
	q->items = NULL;
	q->n = 0;
}

char *nft_quote_text(const struct nft_quote *q)
{
	if (q->map)
		return xasprintf("%s map %s: %s", q->table, q->map, q->text);
	if (q->handle >= 0)
		return xasprintf("%s chain %s: %s (handle %d)", q->table, q->chain, q->text, q->handle);
	return xasprintf("%s chain %s: %s", q->table, q->chain, q->text);
}

static void quote(struct nft_quotes *q, const struct nft_table *t, const char *chain, const char *map,
		  const char *text, int handle)
{
	q->items = xrealloc(q->items, (q->n + 1) * sizeof(*q->items));
	q->items[q->n++] = (struct nft_quote){xstrdup(t->label), chain ? xstrdup(chain) : NULL, map ? xstrdup(map) : NULL,
					      xstrdup(text), handle};
}

static void quote_rule(struct nft_quotes *q, const struct nft_table *t, const struct nft_chain *c,
		       const struct nft_rule *rule)
{
	quote(q, t, c->name, NULL, rule->text, rule->handle);
}

/* Appends FROM's quotes to TO, emptying FROM. */
static void quotes_move(struct nft_quotes *to, struct nft_quotes *from)
{
	if (!from->n)
		return;
	to->items = xrealloc(to->items, (to->n + from->n) * sizeof(*to->items));
	memcpy(to->items + to->n, from->items, from->n * sizeof(*from->items));
	to->n += from->n;
	free(from->items);
	from->items = NULL;
	from->n = 0;
}

/* ---- one rule, for one packet ---- */

enum tri { NO, YES, MAYBE };

static enum tri tri_and(enum tri a, enum tri b)
{
	return a == NO || b == NO ? NO : a == MAYBE || b == MAYBE ? MAYBE : YES;
}

static enum tri tri_not(enum tri a)
{
	return a == YES ? NO : a == NO ? YES : MAYBE;
}

/* A rule's words: braces and quotes keep what they hold as one word. */
struct words {
	char **w;
	size_t n;
};

static void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->w[i]);
	free(w->w);
}

static struct words split_words(const char *text)
{
	struct words w = {0};
	for (const char *c = text; *c;) {
		if (*c == ' ') {
			c++;
			continue;
		}
		const char *start = c;
		if (*c == '{') {
			int depth = 0;
			for (; *c; c++) {
				depth += *c == '{';
				depth -= *c == '}';
				if (depth == 0) {
					c++;
					break;
				}
			}
		} else if (*c == '"') {
			c = strchr(c + 1, '"');
			c = c ? c + 1 : start + strlen(start);
		} else {
			c += strcspn(c, " ");
		}
		w.w = xrealloc(w.w, (w.n + 1) * sizeof(*w.w));
		w.w[w.n++] = xasprintf("%.*s", (int)(c - start), start);
	}
	return w;
}

/* What a rule does with a packet. */
enum verdict_kind { V_NONE, V_GOTO, V_JUMP, V_DROP, V_REJECT, V_ACCEPT, V_RETURN };

struct verdict {
	enum verdict_kind kind;
	char *chain; /* goto, jump */
};

struct outcome {
	enum tri holds; /* do its matches hold? */
	struct verdict *verdicts; /* its verdict, or every verdict a map of it may give */
	size_t n_verdicts;
	bool dnat;
	uint32_t dnat_addr;
	uint16_t dnat_port; /* 0: the packet's own */
	bool masquerade;
};

static void outcome_free(struct outcome *o)
{
	for (size_t i = 0; i < o->n_verdicts; i++)
		free(o->verdicts[i].chain);
	free(o->verdicts);
}

static void add_verdict(struct outcome *o, enum verdict_kind kind, const char *chain)
{
	o->verdicts = xrealloc(o->verdicts, (o->n_verdicts + 1) * sizeof(*o->verdicts));
	o->verdicts[o->n_verdicts++] = (struct verdict){kind, chain ? xstrdup(chain) : NULL};
}

/* A verdict as a map's element or a rule writes it: "goto X", "drop". */
static void add_verdict_text(struct outcome *o, const char *text)
{
	if (str_has_prefix(text, "goto "))
		add_verdict(o, V_GOTO, text + 5);
	else if (str_has_prefix(text, "jump "))
		add_verdict(o, V_JUMP, text + 5);
	else if (str_has_prefix(text, "drop"))
		add_verdict(o, V_DROP, NULL);
	else if (str_has_prefix(text, "reject"))
		add_verdict(o, V_REJECT, NULL);
	else if (str_has_prefix(text, "accept"))
		add_verdict(o, V_ACCEPT, NULL);
	else if (str_has_prefix(text, "return"))
		add_verdict(o, V_RETURN, NULL);
}

/* Does ADDR match ONE ("a.b.c.d" or a prefix)? */
static enum tri addr_is(const char *one, uint32_t addr)
{
	struct ipv4_prefix p;
	const char *why;
	uint32_t a;
	if (strchr(one, '/') && ipv4_prefix_parse(one, &p, &why))
		return ipv4_contains(p, addr) ? YES : NO;
	if (ipv4_addr_parse(one, &a))
		return a == addr ? YES : NO;
	return MAYBE;
}

/* The first word of each of SET's elements (an address, a prefix). */
static enum tri in_set(const struct nft_set *set, uint32_t addr)
{
	enum tri r = NO;
	for (size_t i = 0; i < set->n && r != YES; i++) {
		char first[64];
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(set->elements[i], " "), set->elements[i]);
		enum tri one = addr_is(first, addr);
		r = one == YES ? YES : one == MAYBE ? MAYBE : r;
	}
	return r;
}

/* Does the value V (an address, a prefix, "@set", "{ a, b/16 }") hold ADDR? */
static enum tri addr_value(const struct nft_table *t, const char *v, uint32_t addr)
{
	if (v[0] == '@') {
		const struct nft_set *set = find_set(t, v + 1);
		enum tri r = set ? in_set(set, addr) : MAYBE;
		/* Whether it was there before the connection traced, which put
		 * it there if not, nobody can tell afterwards. */
		return set && set->dynamic && r == YES ? MAYBE : r;
	}
	if (v[0] == '{') {
		struct nft_set anonymous = {0};
		autofree char *inner = xasprintf("%.*s", (int)strlen(v) - 2, v + 1);
		add_elements(&anonymous, inner);
		enum tri r = in_set(&anonymous, addr);
		for (size_t i = 0; i < anonymous.n; i++)
			free(anonymous.elements[i]);
		free(anonymous.elements);
		return r;
	}
	return addr_is(v, addr);
}

static const char *l4_name(uint8_t l4)
{
	return l4 == IPPROTO_TCP ? "tcp" : l4 == IPPROTO_UDP ? "udp" : "?";
}

/* Does C, a number or a range "8000-8010" (a policy's endPort), hold PORT? */
static bool port_in(const char *c, uint16_t port)
{
	char *end;
	unsigned long low = strtoul(c, &end, 10), high = low;
	if (*end == '-')
		high = strtoul(end + 1, NULL, 10);
	return port >= low && port <= high;
}

/* Does a number, a range or "{ 1, 2, 8000-8010 }" hold PORT? */
static enum tri port_value(const char *v, uint16_t port)
{
	if (v[0] == '{') {
		enum tri r = NO;
		for (const char *c = v + 1; *c && r != YES;) {
			c += strspn(c, " ,");
			if (*c >= '0' && *c <= '9')
				r = port_in(c, port) ? YES : r;
			else if (*c && *c != '}')
				r = MAYBE;
			c += strcspn(c, " ,");
		}
		return r;
	}
	if (v[0] >= '0' && v[0] <= '9')
		return port_in(v, port) ? YES : NO;
	return MAYBE;
}

/* Does the key part PART (as a set or map element writes it: an address,
 * a prefix, a port, a range, a protocol) hold KEY (as selector() reads
 * the packet)? */
static enum tri key_part(const char *part, const char *key)
{
	uint32_t a;
	if (ipv4_addr_parse(key, &a))
		return addr_is(part, a);
	if (key[0] >= '0' && key[0] <= '9')
		return port_value(part, (uint16_t)strtoul(key, NULL, 10));
	return strcmp(part, key) == 0 ? YES : NO;
}

/* Does the element key EL ("10.244.1.2 . 8080", comment and verdict cut
 * off) hold the N keys? */
static enum tri key_matches(char *el, char keys[][20], size_t n)
{
	enum tri r = YES;
	size_t k = 0;
	char *part = el;
	for (; part && k < n; k++) {
		char *dot = strstr(part, " . ");
		if (dot)
			*dot = '\0';
		r = tri_and(r, key_part(part, keys[k]));
		part = dot ? dot + 3 : NULL;
	}
	return k == n && !part ? r : NO;
}

/* Does the anonymous set or verdict map V ("{ K : VERDICT, ... }" or
 * "{ A . P, ... }") hold the N keys? The verdict of the element that
 * does into *VERDICT (malloc'd), for a map. */
static enum tri anonymous_lookup(const char *v, char keys[][20], size_t n, char **verdict)
{
	struct nft_set anonymous = {0};
	autofree char *inner = xasprintf("%.*s", (int)strlen(v) - 2, v + 1);
	add_elements(&anonymous, inner);
	enum tri r = NO;
	for (size_t i = 0; i < anonymous.n; i++) {
		char *el = anonymous.elements[i];
		char *colon = strstr(el, " : ");
		if (colon)
			*colon = '\0';
		char *comment = strstr(el, " comment ");
		if (comment)
			*comment = '\0';
		enum tri one = r == YES ? NO : key_matches(el, keys, n);
		if (one == YES && colon && verdict && !*verdict)
			*verdict = xstrdup(colon + 3);
		r = one == YES ? YES : one == MAYBE ? MAYBE : r;
	}
	for (size_t i = 0; i < anonymous.n; i++)
		free(anonymous.elements[i]);
	free(anonymous.elements);
	return r;
}

static enum tri proto_value(const char *v, uint8_t l4)
{
	if (v[0] == '{')
		return strstr(v, l4_name(l4)) ? YES : MAYBE;
	if (strcmp(v, "tcp") == 0 || strcmp(v, "udp") == 0)
		return strcmp(v, l4_name(l4)) == 0 ? YES : NO;
	return MAYBE;
}

static bool is_local(const struct nft_packet *p, uint32_t a)
{
	for (size_t i = 0; i < p->n_local; i++)
		if (p->local[i] == a)
			return true;
	return false;
}

/* Reads a selector at W[*I] ("ip daddr", "meta l4proto", "th dport",
 * "tcp dport"...): what the packet holds there, as text, into BUF; false
 * when it is none of those. */
static bool selector(const struct words *w, size_t *i, const struct nft_packet *p, char *buf, size_t size,
		     enum tri *l4_holds)
{
	if (*i + 1 >= w->n)
		return false;
	const char *a = w->w[*i], *b = w->w[*i + 1];
	*l4_holds = YES;
	if (strcmp(a, "ip") == 0 && (strcmp(b, "saddr") == 0 || strcmp(b, "daddr") == 0)) {
		ipv4_addr_format(b[0] == 's' ? p->saddr : p->daddr, buf);
	} else if (strcmp(a, "meta") == 0 && strcmp(b, "l4proto") == 0) {
		snprintf(buf, size, "%s", l4_name(p->l4));
	} else if ((strcmp(a, "th") == 0 || strcmp(a, "tcp") == 0 || strcmp(a, "udp") == 0 ||
		    strcmp(a, "sctp") == 0) &&
		   (strcmp(b, "dport") == 0 || strcmp(b, "sport") == 0)) {
		snprintf(buf, size, "%u", b[0] == 'd' ? p->dport : p->sport);
		if (a[0] != 't' || a[1] != 'h')
			*l4_holds = strcmp(a, l4_name(p->l4)) == 0 ? YES : NO;
	} else {
		return false;
	}
	*i += 2;
	return true;
}

/* The element of a verdict map ("K1 . K2 [comment "..."] : VERDICT")
 * whose key is KEYS (N parts); -1 when none is. */
static ssize_t map_lookup(const struct nft_set *map, char keys[][20], size_t n)
{
	for (size_t e = 0; e < map->n; e++) {
		const char *el = map->elements[e];
		const char *colon = strstr(el, " : ");
		if (!colon)
			continue;
		autofree char *key = xasprintf("%.*s", (int)(colon - el), el);
		char *comment = strstr(key, " comment ");
		if (comment)
			*comment = '\0';
		size_t k = 0;
		char *part = key;
		bool ok = true;
		for (; ok && part && k < n; k++) {
			char *dot = strstr(part, " . ");
			if (dot)
				*dot = '\0';
			ok = strcmp(part, keys[k]) == 0;
			part = dot ? dot + 3 : NULL;
		}
		if (ok && k == n && !part)
			return (ssize_t)e;
	}
	return -1;
}

/* The verdict of map element E. */
static const char *element_verdict(const struct nft_set *map, ssize_t e)
{
	return e < 0 ? NULL : strstr(map->elements[e], " : ") + 3;
}

/* What RULE (in table T) does with P. */
static void evaluate(const struct nft_table *t, const char *rule, const struct nft_packet *p, struct outcome *o)
{
	*o = (struct outcome){.holds = YES};
	struct words w = split_words(rule);
	bool statements = false; /* past the matches: what follows acts, it does not match */
	for (size_t i = 0; i < w.n;) {
		const char *x = w.w[i];
		const char *next = i + 1 < w.n ? w.w[i + 1] : "";
		char keys[4][20];
		size_t n_keys = 0;
		enum tri l4 = YES;
		size_t at = i;
		if (!statements && selector(&w, &i, p, keys[0], sizeof(keys[0]), &l4)) {
			bool address = strcmp(w.w[at], "ip") == 0;
			uint32_t value = address ? (w.w[at + 1][0] == 's' ? p->saddr : p->daddr) : 0;
			n_keys = 1;
			o->holds = tri_and(o->holds, l4);
			/* A concatenation looked up in a map: "ip daddr . meta l4proto . th dport vmap @m". */
			while (i + 2 < w.n && strcmp(w.w[i], ".") == 0 && n_keys < 4) {
				i++;
				enum tri more = YES;
				if (!selector(&w, &i, p, keys[n_keys], sizeof(keys[n_keys]), &more))
					break;
				o->holds = tri_and(o->holds, more);
				n_keys++;
			}
			const char *op = i < w.n ? w.w[i] : "";
			if (strcmp(op, "vmap") == 0 && i + 1 < w.n) {
				const struct nft_set *map = w.w[i + 1][0] == '@' ? find_set(t, w.w[i + 1] + 1) : NULL;
				const char *v = map ? element_verdict(map, map_lookup(map, keys, n_keys)) : NULL;
				if (v)
					add_verdict_text(o, v);
				/* "ip daddr vmap { 10.244.1.2 : jump ingress-x/a, ... }" (testbed-netpol's) */
				autofree char *anonymous = NULL;
				if (w.w[i + 1][0] == '{' && anonymous_lookup(w.w[i + 1], keys, n_keys, &anonymous) == YES &&
				    anonymous)
					add_verdict_text(o, anonymous);
				statements = true;
				i += 2;
				continue;
			}
			bool negate = strcmp(op, "!=") == 0;
			if (negate || strcmp(op, "==") == 0)
				i++;
			if (i >= w.n)
				break;
			const char *v = w.w[i++];
			/* "ip daddr . tcp dport { 10.244.1.2 . 8080 }" (a named port's peers) */
			enum tri r = n_keys > 1 && v[0] == '{' ? anonymous_lookup(v, keys, n_keys, NULL)
				     : n_keys > 1 ? MAYBE
				     : address	   ? addr_value(t, v, value)
				     : keys[0][0] >= '0' && keys[0][0] <= '9' ? port_value(v, (uint16_t)strtoul(keys[0], NULL, 10))
							     : proto_value(v, p->l4);
			o->holds = tri_and(o->holds, negate ? tri_not(r) : r);
			continue;
		}
		if (!statements && strcmp(x, "fib") == 0 && i + 3 < w.n && strcmp(w.w[i + 2], "type") == 0) {
			bool negate = strcmp(w.w[i + 3], "!=") == 0;
			const char *type = w.w[i + 3 + negate];
			uint32_t a = strcmp(next, "saddr") == 0 ? p->saddr : p->daddr;
			enum tri r = strcmp(type, "local") == 0 ? (is_local(p, a) ? YES : NO) : MAYBE;
			o->holds = tri_and(o->holds, negate ? tri_not(r) : r);
			i += 4 + negate;
			continue;
		}
		if (!statements && strcmp(x, "ct") == 0 && strcmp(next, "state") == 0 && i + 2 < w.n) {
			/* A trace follows a connection's first packet. */
			o->holds = tri_and(o->holds, strstr(w.w[i + 2], "new") ? YES : NO);
			i += 3;
			continue;
		}
		if (strcmp(x, "numgen") == 0) {
			/* "numgen random mod N vmap { 0 : goto A, 1 : goto B }": any of them. */
			for (i++; i < w.n && strcmp(w.w[i], "vmap") != 0; i++)
				;
			if (i + 1 < w.n && w.w[i + 1][0] == '{') {
				struct nft_set anonymous = {0};
				autofree char *inner = xasprintf("%.*s", (int)strlen(w.w[i + 1]) - 2, w.w[i + 1] + 1);
				add_elements(&anonymous, inner);
				for (size_t k = 0; k < anonymous.n; k++) {
					const char *colon = strstr(anonymous.elements[k], " : ");
					if (colon)
						add_verdict_text(o, colon + 3);
					free(anonymous.elements[k]);
				}
				free(anonymous.elements);
			}
			statements = true;
			i += 2;
			continue;
		}
		if ((strcmp(x, "goto") == 0 || strcmp(x, "jump") == 0) && i + 1 < w.n) {
			add_verdict(o, x[0] == 'g' ? V_GOTO : V_JUMP, next);
			statements = true;
			i += 2;
			continue;
		}
		if (strcmp(x, "drop") == 0 || strcmp(x, "reject") == 0 || strcmp(x, "accept") == 0 ||
		    strcmp(x, "return") == 0) {
			add_verdict_text(o, x);
			statements = true;
			i++;
			continue;
		}
		if (strcmp(x, "dnat") == 0) {
			/* "dnat to A:P", "dnat ip to A:P" */
			size_t k = i + 1;
			if (k < w.n && strcmp(w.w[k], "ip") == 0)
				k++;
			if (k + 1 < w.n && strcmp(w.w[k], "to") == 0) {
				const char *target = w.w[k + 1];
				autofree char *addr = xasprintf("%.*s", (int)strcspn(target, ":"), target);
				o->dnat = ipv4_addr_parse(addr, &o->dnat_addr);
				const char *colon = strchr(target, ':');
				o->dnat_port = colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
				i = k + 2;
			} else {
				i++;
			}
			statements = true;
			continue;
		}
		if (strcmp(x, "masquerade") == 0) {
			o->masquerade = true;
			statements = true;
			i++;
			continue;
		}
		if (strcmp(x, "comment") == 0 || strcmp(x, "update") == 0 || strcmp(x, "counter") == 0 ||
		    strcmp(x, "log") == 0 || (strcmp(x, "set") == 0)) {
			statements = true;
			i += strcmp(x, "counter") == 0 || strcmp(x, "log") == 0 || strcmp(x, "set") == 0 ? 1 : 2;
			continue;
		}
		/* A match this walk does not know may hold; a statement's words
		 * (after one) change nothing. */
		if (!statements)
			o->holds = tri_and(o->holds, MAYBE);
		i++;
	}
	words_free(&w);
}

static bool terminal(const struct outcome *o)
{
	for (size_t k = 0; k < o->n_verdicts; k++)
		if (o->verdicts[k].kind != V_JUMP)
			return true;
	return o->dnat;
}

/* ---- the way to a DNAT ---- */

#define MASQUERADE_MARK_CHAIN "mark-for-masquerade"

/* Whether the rules of chain C (of T) DNAT P to TO:TO_PORT: the rules on
 * the way, in order, into PATH, the marks for masquerade on it into MARKS. */
static bool dnat_in_chain(const struct nft_table *t, const struct nft_chain *c, const struct nft_packet *p, uint32_t to,
			  uint16_t to_port, int depth, struct nft_quotes *path, struct nft_quotes *marks)
{
	if (depth > MAX_DEPTH)
		return false;
	bool found = false;
	struct nft_quotes pending_marks = {0};
	for (size_t k = 0; k < c->n; k++) {
		const struct nft_rule *rule = &c->rules[k];
		struct outcome o;
		evaluate(t, rule->text, p, &o);
		if (o.holds == NO) {
			outcome_free(&o);
			continue;
		}
		if (o.dnat) {
			bool here = o.dnat_addr == to && (!o.dnat_port || o.dnat_port == to_port);
			if (here) {
				quote_rule(path, t, c, rule);
				found = true;
			}
			bool stop = here || o.holds == YES;
			outcome_free(&o);
			if (stop)
				break;
			continue;
		}
		bool leads = false;
		for (size_t v = 0; v < o.n_verdicts; v++) {
			const struct verdict *vd = &o.verdicts[v];
			if (!vd->chain)
				continue;
			if (strcmp(vd->chain, MASQUERADE_MARK_CHAIN) == 0) {
				quote_rule(&pending_marks, t, c, rule);
				continue;
			}
			const struct nft_chain *next = find_chain(t, vd->chain);
			struct nft_quotes sub = {0}, sub_marks = {0};
			if (next && dnat_in_chain(t, next, p, to, to_port, depth + 1, &sub, &sub_marks)) {
				if (!leads)
					quote_rule(path, t, c, rule);
				leads = true;
				quotes_move(path, &sub);
				quotes_move(marks, &sub_marks);
			}
			nft_quotes_free(&sub);
			nft_quotes_free(&sub_marks);
		}
		found |= leads;
		/* A rule that surely holds and ends the chain's walk ends it
		 * here; one that may hold (a ClientIP affinity set's) leaves
		 * the next its chance. */
		bool stop = o.holds == YES && terminal(&o);
		outcome_free(&o);
		if (stop)
			break;
	}
	if (found)
		quotes_move(marks, &pending_marks);
	nft_quotes_free(&pending_marks);
	return found;
}

/* The verdict of each map element whose key is P's destination (address,
 * protocol, port) or, for a local destination, protocol and port (a
 * NodePort map); CALL gets each with the table, the map and the element. */
typedef bool (*element_fn)(const struct nft_table *t, const struct nft_set *map, const char *element,
			   const char *verdict, void *ctx);

static bool each_element(const struct nft_ruleset *r, const struct nft_packet *p, element_fn call, void *ctx)
{
	char keys3[3][20], keys2[2][20];
	ipv4_addr_format(p->daddr, keys3[0]);
	snprintf(keys3[1], sizeof(keys3[1]), "%s", l4_name(p->l4));
	snprintf(keys3[2], sizeof(keys3[2]), "%u", p->dport);
	memcpy(keys2[0], keys3[1], sizeof(keys2[0]));
	memcpy(keys2[1], keys3[2], sizeof(keys2[1]));
	bool any = false;
	for (size_t ti = 0; ti < r->n; ti++) {
		const struct nft_table *t = &r->tables[ti];
		for (size_t s = 0; s < t->n_sets; s++) {
			const struct nft_set *map = &t->sets[s];
			if (!map->map)
				continue;
			ssize_t e = map_lookup(map, keys3, 3);
			if (e < 0 && is_local(p, p->daddr))
				e = map_lookup(map, keys2, 2);
			if (e >= 0)
				any |= call(t, map, map->elements[e], element_verdict(map, e), ctx);
		}
	}
	return any;
}

struct dnat_search {
	const struct nft_packet *p;
	uint32_t to;
	uint16_t to_port;
	struct nft_quotes *path, *marks;
	bool found;
};

static bool dnat_from_element(const struct nft_table *t, const struct nft_set *map, const char *element,
			      const char *verdict, void *ctx)
{
	struct dnat_search *s = ctx;
	if (s->found)
		return false;
	struct outcome o = {0};
	add_verdict_text(&o, verdict);
	const struct nft_chain *c = o.n_verdicts && o.verdicts[0].chain ? find_chain(t, o.verdicts[0].chain) : NULL;
	struct nft_quotes sub = {0}, sub_marks = {0};
	if (c && dnat_in_chain(t, c, s->p, s->to, s->to_port, 1, &sub, &sub_marks)) {
		quote(s->path, t, NULL, map->name, element, -1);
		quotes_move(s->path, &sub);
		quotes_move(s->marks, &sub_marks);
		s->found = true;
	}
	nft_quotes_free(&sub);
	nft_quotes_free(&sub_marks);
	outcome_free(&o);
	return s->found;
}

bool nft_explain_dnat(const struct nft_ruleset *r, const struct nft_packet *p, uint32_t to, uint16_t to_port,
		      struct nft_quotes *path, struct nft_quotes *marks)
{
	*path = (struct nft_quotes){0};
	*marks = (struct nft_quotes){0};
	struct dnat_search s = {p, to, to_port, path, marks, false};
	each_element(r, p, dnat_from_element, &s);
	if (s.found)
		return true;
	/* No map took it there: the way from a NAT hook's base chain (a
	 * hostPort's table jumps from there to its DNAT). */
	for (size_t ti = 0; ti < r->n; ti++)
		for (size_t c = 0; c < r->tables[ti].n_chains; c++) {
			const struct nft_chain *chain = &r->tables[ti].chains[c];
			if (chain->nat_hook && dnat_in_chain(&r->tables[ti], chain, p, to, to_port, 0, path, marks))
				return true;
			nft_quotes_free(path);
			nft_quotes_free(marks);
		}
	return false;
}

bool nft_explain_masquerade(const struct nft_ruleset *r, const struct nft_packet *p, const struct nft_quotes *marks,
			    struct nft_quotes *out)
{
	*out = (struct nft_quotes){0};
	for (size_t i = 0; i < (marks ? marks->n : 0); i++)
		quote(out, &(struct nft_table){.label = marks->items[i].table}, marks->items[i].chain, marks->items[i].map,
		      marks->items[i].text, marks->items[i].handle);
	for (size_t ti = 0; ti < r->n; ti++) {
		const struct nft_table *t = &r->tables[ti];
		bool marked_here = false;
		for (size_t i = 0; i < (marks ? marks->n : 0); i++)
			marked_here |= strcmp(marks->items[i].table, t->label) == 0;
		for (size_t c = 0; c < t->n_chains; c++) {
			const struct nft_chain *chain = &t->chains[c];
			/* Without a mark, a chain whose earlier rule may return
			 * (kube-proxy's, for unmarked packets) does not reach its
			 * masquerade. */
			bool may_leave = false;
			for (size_t k = 0; k < chain->n; k++) {
				struct outcome o;
				evaluate(t, chain->rules[k].text, p, &o);
				if (o.masquerade && (marked_here || (o.holds == YES && !may_leave)))
					quote_rule(out, t, chain, &chain->rules[k]);
				may_leave |= o.holds != NO && terminal(&o) && !o.masquerade;
				outcome_free(&o);
			}
		}
	}
	return out->n > (marks ? marks->n : 0);
}

struct filter_search {
	const struct nft_packet *p;
	struct nft_quotes *out;
	bool rejected, found;
};

static bool filter_from_element(const struct nft_table *t, const struct nft_set *map, const char *element,
				const char *verdict, void *ctx)
{
	struct filter_search *s = ctx;
	if (s->found)
		return false;
	struct outcome o = {0};
	add_verdict_text(&o, verdict);
	if (o.n_verdicts && (o.verdicts[0].kind == V_DROP || o.verdicts[0].kind == V_REJECT)) {
		quote(s->out, t, NULL, map->name, element, -1);
		s->rejected = o.verdicts[0].kind == V_REJECT;
		s->found = true;
	} else if (o.n_verdicts && o.verdicts[0].chain) {
		/* The chain the element sends it to: its first rule that holds and ends it. */
		const struct nft_chain *c = find_chain(t, o.verdicts[0].chain);
		for (size_t k = 0; c && k < c->n && !s->found; k++) {
			struct outcome ro;
			evaluate(t, c->rules[k].text, s->p, &ro);
			bool ends = ro.holds == YES && ro.n_verdicts &&
				    (ro.verdicts[0].kind == V_DROP || ro.verdicts[0].kind == V_REJECT);
			if (ends) {
				quote(s->out, t, NULL, map->name, element, -1);
				quote_rule(s->out, t, c, &c->rules[k]);
				s->rejected = ro.verdicts[0].kind == V_REJECT;
				s->found = true;
			}
			bool stop = ro.holds == YES && terminal(&ro);
			outcome_free(&ro);
			if (stop)
				break;
		}
	}
	outcome_free(&o);
	return s->found;
}

bool nft_explain_filter(const struct nft_ruleset *r, const struct nft_packet *p, struct nft_quotes *out,
			bool *rejected)
{
	*out = (struct nft_quotes){0};
	struct filter_search s = {p, out, false, false};
	each_element(r, p, filter_from_element, &s);
	*rejected = s.rejected;
	return s.found;
}

/* ---- NetworkPolicy: testbed's table ---- */

enum pass { PASS_ON, PASS_ACCEPT, PASS_DROP };

/* Where chain C (of T), from its rule START on, lets P go: on (it
 * returns, or ends), accepted or dropped; the rules that decided, in
 * order, into OUT. A rule whose matches may hold (one this walk cannot
 * evaluate: kube-proxy's masquerade mark) is taken when what it leads to
 * is what happened to the packet (WANT_DROP) and the rules after it,
 * whose matches surely hold, would not lead there without it. */
static enum pass policy_chain(const struct nft_table *t, const struct nft_chain *c, size_t start,
			      const struct nft_packet *p, bool want_drop, int depth, struct nft_quotes *out)
{
	if (depth > MAX_DEPTH)
		return PASS_ON;
	for (size_t k = start; k < c->n; k++) {
		const struct nft_rule *rule = &c->rules[k];
		struct outcome o;
		evaluate(t, rule->text, p, &o);
		if (o.holds == NO || !o.n_verdicts) {
			outcome_free(&o);
			continue;
		}
		const struct verdict *v = &o.verdicts[0];
		enum pass r = PASS_ON;
		bool ends = true; /* the chain's walk ends with this rule */
		struct nft_quotes sub = {0};
		if (v->kind == V_DROP || v->kind == V_REJECT) {
			r = PASS_DROP;
		} else if (v->kind == V_ACCEPT) {
			r = PASS_ACCEPT;
		} else if (v->kind == V_JUMP || v->kind == V_GOTO) {
			const struct nft_chain *next = find_chain(t, v->chain);
			r = next ? policy_chain(t, next, 0, p, want_drop, depth + 1, &sub) : PASS_ON;
			/* A jump that returns goes on here; a goto's return returns from here. */
			ends = v->kind == V_GOTO || r != PASS_ON;
		}
		bool taken = o.holds == YES || (r == PASS_DROP) == want_drop;
		if (taken && o.holds == MAYBE && ends) {
			struct nft_quotes rest = {0};
			enum pass without = policy_chain(t, c, k + 1, p, want_drop, depth, &rest);
			if ((without == PASS_DROP) == want_drop) {
				outcome_free(&o);
				nft_quotes_free(&sub);
				quotes_move(out, &rest);
				return without;
			}
			nft_quotes_free(&rest);
		}
		outcome_free(&o);
		if (!taken) {
			nft_quotes_free(&sub);
			continue;
		}
		quote_rule(out, t, c, rule);
		quotes_move(out, &sub);
		if (ends)
			return r;
	}
	return PASS_ON;
}

bool nft_explain_policy(const struct nft_ruleset *r, const struct nft_packet *p, bool dropped, struct nft_quotes *out)
{
	*out = (struct nft_quotes){0};
	for (size_t ti = 0; ti < r->n; ti++) {
		const struct nft_table *t = &r->tables[ti];
		if (strcmp(t->label, "ip " NFT_NETPOL_TABLE) != 0)
			continue;
		const struct nft_chain *forward = find_chain(t, "forward");
		if (!forward)
			continue;
		enum pass pass = policy_chain(t, forward, 0, p, dropped, 0, out);
		/* Only the packet's own chains: not isolated here, nothing to say. */
		bool pod_chain = false;
		for (size_t k = 0; k < out->n; k++)
			pod_chain |= strcmp(out->items[k].chain, "forward") != 0;
		if (pod_chain && (pass == PASS_DROP) == dropped)
			return true;
		nft_quotes_free(out);
	}
	return false;
}
