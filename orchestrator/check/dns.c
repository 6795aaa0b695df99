/* A pod's resolver, as glibc's (dns.h). */
#define _GNU_SOURCE
#include "check/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/topology.h"
#include "util/util.h"

/* ---- resolv.conf ---- */

/* Whether LINE starts with KEYWORD and a blank, as glibc's MATCH asks. */
static const char *keyword(const char *line, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(line, word, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
		return NULL;
	return line + n;
}

/* The words of REST (blank-separated, up to the line's end). */
static char **words(const char *rest, size_t *n)
{
	char **list = xcalloc(1, sizeof(*list));
	*n = 0;
	for (;;) {
		rest += strspn(rest, " \t");
		size_t len = strcspn(rest, " \t");
		if (!len)
			break;
		list = xrealloc(list, (*n + 2) * sizeof(*list));
		list[(*n)++] = xasprintf("%.*s", (int)len, rest);
		list[*n] = NULL;
		rest += len;
	}
	return list;
}

/* "options NAME:N": N as glibc's atoi reads it, capped at MAX. */
static void option_int(const char *word, const char *name, int max, int *out)
{
	size_t n = strlen(name);
	if (strncmp(word, name, n) != 0)
		return;
	int v = atoi(word + n);
	*out = v < 0 ? 0 : v > max ? max : v;
}

void dns_resolver_parse(const char *text, struct dns_resolver *r)
{
	*r = (struct dns_resolver){.ndots = 1, .timeout_s = DNS_DEFAULT_TIMEOUT_S, .attempts = DNS_DEFAULT_ATTEMPTS};
	r->search = xcalloc(1, sizeof(*r->search));
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		autofree char *copy = xasprintf("%.*s", (int)len, line);
		line = end ? end + 1 : NULL;
		const char *rest;
		size_t n;
		if (copy[0] == ';' || copy[0] == '#')
			continue;
		if ((rest = keyword(copy, "domain")) || (rest = keyword(copy, "search"))) {
			char **list = words(rest, &n);
			if (!n) {
				strv_free(list);
				continue;
			}
			/* "domain" is a search list of one; the later line wins. */
			if (copy[0] == 'd')
				for (size_t k = 1; k < n; k++) {
					free(list[k]);
					list[k] = NULL;
				}
			strv_free(r->search);
			r->search = list;
			r->n_search = copy[0] == 'd' ? 1 : n;
		} else if ((rest = keyword(copy, "nameserver"))) {
			char **list = words(rest, &n);
			struct in_addr a;
			struct in6_addr a6;
			if (n && r->n_nameservers + r->ipv6_nameservers < DNS_MAX_NAMESERVERS) {
				if (inet_pton(AF_INET, list[0], &a) == 1)
					r->nameservers[r->n_nameservers++] = ntohl(a.s_addr);
				else if (inet_pton(AF_INET6, strtok(list[0], "%"), &a6) == 1)
					r->ipv6_nameservers++;
			}
			strv_free(list);
		} else if ((rest = keyword(copy, "options"))) {
			char **list = words(rest, &n);
			for (size_t k = 0; k < n; k++) {
				option_int(list[k], "ndots:", DNS_MAX_NDOTS, &r->ndots);
				option_int(list[k], "timeout:", DNS_MAX_TIMEOUT_S, &r->timeout_s);
				option_int(list[k], "attempts:", DNS_MAX_ATTEMPTS, &r->attempts);
				r->rotate |= strcmp(list[k], "rotate") == 0;
				r->no_tld_query |= strcmp(list[k], "no-tld-query") == 0;
				r->use_vc |= strcmp(list[k], "use-vc") == 0;
			}
			strv_free(list);
		}
	}
	/* No nameserver line: glibc asks the machine's own. */
	if (!r->n_nameservers && !r->ipv6_nameservers)
		r->nameservers[r->n_nameservers++] = 0x7f000001;
}

void dns_resolver_free(struct dns_resolver *r)
{
	strv_free(r->search);
	r->search = NULL;
	r->n_search = 0;
}

/* ---- the search list ---- */

char **dns_search_names(const struct dns_resolver *r, const char *name, size_t *n)
{
	size_t len = strlen(name);
	bool trailing_dot = len && name[len - 1] == '.';
	size_t bare_len = trailing_dot ? len - 1 : len;
	int dots = 0;
	for (size_t k = 0; k < bare_len; k++)
		dots += name[k] == '.';
	char **out = xcalloc(r->n_search + 3, sizeof(*out));
	*n = 0;
	bool tried_as_is = false;
	if (dots >= r->ndots || trailing_dot) {
		out[(*n)++] = xasprintf("%.*s", (int)bare_len, name);
		tried_as_is = true;
		if (trailing_dot)
			return out;
	}
	/* A root domain in the list is the name as it is, asked once. */
	bool root_on_list = false, searched = false;
	for (size_t k = 0; k < r->n_search; k++) {
		const char *domain = r->search[k];
		if (!*domain || strcmp(domain, ".") == 0) {
			root_on_list = true;
			if (tried_as_is)
				continue;
			out[(*n)++] = xasprintf("%.*s", (int)bare_len, name);
			tried_as_is = true;
			continue;
		}
		size_t dlen = strlen(domain);
		if (domain[dlen - 1] == '.')
			dlen--;
		out[(*n)++] = xasprintf("%.*s.%.*s", (int)bare_len, name, (int)dlen, domain);
		searched = true;
	}
	/* A single label searched is not asked as it is under no-tld-query. */
	if (!tried_as_is && !root_on_list && (dots || !searched || !r->no_tld_query))
		out[(*n)++] = xasprintf("%.*s", (int)bare_len, name);
	return out;
}

bool dns_name_is_valid(const char *name)
{
	return topology_is_dns_name(name);
}

/* ---- messages ---- */

/* Whether names A and B (presentation form, as dn_expand writes them) are
 * one: in any case, with or without a trailing dot. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

int dns_query_build(const char *name, enum dns_type type, uint16_t id, uint8_t *buf, size_t size)
{
	if (!dns_name_is_valid(name) || size > INT32_MAX)
		return -1;
	int n = res_mkquery(ns_o_query, name, ns_c_in, (int)type, NULL, 0, NULL, buf, (int)size);
	if (n < (int)sizeof(HEADER))
		return -1;
	/* The id is the engine's, to match the answer by; recursion is
	 * desired, as glibc's RES_RECURSE asks by default. */
	ns_put16(id, buf);
	buf[2] |= 0x01; /* RD, the low bit of the header's third byte (RFC 1035 4.1.1) */
	return n;
}

bool dns_answer_matches(const uint8_t *msg, size_t len, uint16_t id, const char *qname, enum dns_type type)
{
	ns_msg h;
	ns_rr q;
	if (len > INT32_MAX || ns_initparse(msg, (int)len, &h) < 0)
		return false;
	if (ns_msg_id(h) != id || !ns_msg_getflag(h, ns_f_qr) || ns_msg_count(h, ns_s_qd) != 1)
		return false;
	if (ns_parserr(&h, ns_s_qd, 0, &q) < 0)
		return false;
	return ns_rr_type(q) == (ns_type)type && ns_rr_class(q) == ns_c_in && same_name(ns_rr_name(q), qname);
}

bool dns_answer_parse(const uint8_t *msg, size_t len, enum dns_type type, struct dns_answer *a, char **why)
{
	*a = (struct dns_answer){0};
	ns_msg h;
	ns_rr rr;
	if (len > INT32_MAX || ns_initparse(msg, (int)len, &h) < 0) {
		*why = xstrdup("the answer is not a DNS message");
		return false;
	}
	a->rcode = ns_msg_getflag(h, ns_f_rcode);
	a->truncated = ns_msg_getflag(h, ns_f_tc);
	if (ns_msg_count(h, ns_s_qd) != 1 || ns_parserr(&h, ns_s_qd, 0, &rr) < 0) {
		*why = xstrdup("the answer has no question");
		return false;
	}
	char name[NS_MAXDNAME];
	snprintf(name, sizeof(name), "%s", ns_rr_name(rr));
	int n_an = ns_msg_count(h, ns_s_an);
	/* CNAMEs from the question's name, in whatever order the answer
	 * lists them; each followed once, so a loop ends. */
	for (bool moved = true; moved && a->n_cnames <= (size_t)n_an;) {
		moved = false;
		for (int k = 0; k < n_an; k++) {
			if (ns_parserr(&h, ns_s_an, k, &rr) < 0) {
				*why = xasprintf("answer record %d does not parse", k);
				return false;
			}
			if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in || !same_name(ns_rr_name(rr), name))
				continue;
			char target[NS_MAXDNAME];
			if (dn_expand(ns_msg_base(h), ns_msg_end(h), ns_rr_rdata(rr), target, sizeof(target)) < 0) {
				*why = xstrdup("a CNAME's target does not parse");
				return false;
			}
			if (same_name(target, name))
				continue;
			snprintf(name, sizeof(name), "%s", target);
			a->n_cnames++;
			moved = true;
			break;
		}
	}
	size_t name_len = strlen(name);
	a->name = xasprintf("%.*s", (int)(name_len && name[name_len - 1] == '.' ? name_len - 1 : name_len), name);
	for (int k = 0; k < n_an; k++) {
		if (ns_parserr(&h, ns_s_an, k, &rr) < 0) {
			*why = xasprintf("answer record %d does not parse", k);
			dns_answer_free(a);
			return false;
		}
		if (ns_rr_type(rr) != (ns_type)type || ns_rr_class(rr) != ns_c_in || !same_name(ns_rr_name(rr), name))
			continue;
		if (type == DNS_TYPE_A) {
			if (ns_rr_rdlen(rr) != 4)
				continue;
			const uint8_t *d = ns_rr_rdata(rr);
			a->addresses = xrealloc(a->addresses, (a->n_addresses + 1) * sizeof(*a->addresses));
			a->addresses[a->n_addresses++] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
		} else {
			const uint8_t *d = ns_rr_rdata(rr);
			char target[NS_MAXDNAME];
			if (ns_rr_rdlen(rr) < 7 || dn_expand(ns_msg_base(h), ns_msg_end(h), d + 6, target, sizeof(target)) < 0) {
				*why = xstrdup("an SRV record does not parse");
				dns_answer_free(a);
				return false;
			}
			size_t tl = strlen(target);
			a->srv = xrealloc(a->srv, (a->n_srv + 1) * sizeof(*a->srv));
			a->srv[a->n_srv++] = (struct dns_srv){
				.target = xasprintf("%.*s", (int)(tl && target[tl - 1] == '.' ? tl - 1 : tl), target),
				.priority = ns_get16(d),
				.weight = ns_get16(d + 2),
				.port = ns_get16(d + 4),
			};
		}
	}
	return true;
}

void dns_answer_free(struct dns_answer *a)
{
	for (size_t k = 0; k < a->n_srv; k++)
		free(a->srv[k].target);
	free(a->srv);
	free(a->addresses);
	free(a->name);
	*a = (struct dns_answer){0};
}

const char *dns_rcode_name(int rcode, char *buf, size_t size)
{
	switch (rcode) {
	case ns_r_noerror:
		return "NOERROR";
	case ns_r_formerr:
		return "FORMERR";
	case ns_r_servfail:
		return "SERVFAIL";
	case ns_r_nxdomain:
		return "NXDOMAIN";
	case ns_r_notimpl:
		return "NOTIMP";
	case ns_r_refused:
		return "REFUSED";
	}
	snprintf(buf, size, "rcode %d", rcode);
	return buf;
}
