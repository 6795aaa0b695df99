/* Label selectors (selector.h): kubectl's -l syntax, read as
 * k8s.io/apimachinery's lexer and parser read it, and matching. */
#define _GNU_SOURCE
#include "model/selector.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model/docwalk.h"
#include "util/util.h"

/* ---- tokens ---- */

enum token_kind {
	TOKEN_END,
	TOKEN_WORD,       /* a key, a value, or the keywords in and notin */
	TOKEN_NOT,        /* ! */
	TOKEN_EQUALS,     /* = */
	TOKEN_DOUBLE_EQ,  /* == */
	TOKEN_NOT_EQUALS, /* != */
	TOKEN_OPEN,       /* ( */
	TOKEN_CLOSE,      /* ) */
	TOKEN_COMMA,      /* , */
	TOKEN_OTHER,      /* < and >: Kubernetes compares numbers with them, which selectors here do not */
};

struct token {
	enum token_kind kind;
	const char *start;
	size_t len;
};

struct lexer {
	const char *at;
	struct token tok; /* the current one */
};

/* Characters that end a word, as apimachinery's lexer has them. */
static bool special(char c)
{
	return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

static void next(struct lexer *l)
{
	while (isspace((unsigned char)*l->at))
		l->at++;
	const char *s = l->at;
	struct token t = {.start = s, .len = 1};
	if (!*s) {
		t = (struct token){TOKEN_END, s, 0};
	} else if (s[0] == '!' && s[1] == '=') {
		t = (struct token){TOKEN_NOT_EQUALS, s, 2};
	} else if (s[0] == '=' && s[1] == '=') {
		t = (struct token){TOKEN_DOUBLE_EQ, s, 2};
	} else if (special(s[0])) {
		t.kind = s[0] == '!'   ? TOKEN_NOT
			 : s[0] == '=' ? TOKEN_EQUALS
			 : s[0] == '(' ? TOKEN_OPEN
			 : s[0] == ')' ? TOKEN_CLOSE
			 : s[0] == ',' ? TOKEN_COMMA
				       : TOKEN_OTHER;
	} else {
		size_t n = 0;
		while (s[n] && !isspace((unsigned char)s[n]) && !special(s[n]))
			n++;
		t = (struct token){TOKEN_WORD, s, n};
	}
	l->at = s + t.len;
	l->tok = t;
}

static bool is_word(const struct token *t, const char *text)
{
	return t->kind == TOKEN_WORD && t->len == strlen(text) && strncmp(t->start, text, t->len) == 0;
}

/* The token's text (malloc'd). */
static char *word(const struct token *t)
{
	return xasprintf("%.*s", (int)t->len, t->start);
}

/* "the end" or "\"web\"", for messages (malloc'd). */
static char *shown(const struct token *t)
{
	if (t->kind == TOKEN_END)
		return xstrdup("the end");
	return xasprintf("\"%.*s\"", (int)t->len, t->start);
}

/* ---- requirements ---- */

void label_selector_add(struct label_selector *s, const char *key, enum selector_op op, const char *const *values,
			size_t n)
{
	s->reqs = xrealloc(s->reqs, (s->n_reqs + 1) * sizeof(*s->reqs));
	struct selector_requirement *r = &s->reqs[s->n_reqs++];
	*r = (struct selector_requirement){.key = xstrdup(key), .op = op, .n_values = n};
	r->values = n ? xcalloc(n, sizeof(*r->values)) : NULL;
	for (size_t i = 0; i < n; i++)
		r->values[i] = xstrdup(values[i]);
}

void label_selector_copy(struct label_selector *dst, const struct label_selector *src)
{
	*dst = (struct label_selector){0};
	for (size_t i = 0; i < src->n_reqs; i++)
		label_selector_add(dst, src->reqs[i].key, src->reqs[i].op, (const char *const *)src->reqs[i].values,
				   src->reqs[i].n_values);
}

void label_selector_free(struct label_selector *s)
{
	for (size_t i = 0; i < s->n_reqs; i++) {
		free(s->reqs[i].key);
		for (size_t k = 0; k < s->reqs[i].n_values; k++)
			free(s->reqs[i].values[k]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	*s = (struct label_selector){0};
}

/* A value as Kubernetes labels have them (empty allowed); false with *WHY. */
static bool check_value(const char *value, const char *key, char **why)
{
	if (docwalk_is_label_value(value))
		return true;
	*why = xasprintf("\"%s\" (a value of \"%s\") is not a label value: up to 63 of a-z, A-Z, 0-9, '-', '_', '.', "
			 "alphanumeric at both ends",
			 value, key);
	return false;
}

/* "( v1, v2 )" after KEY in or notin, into *VALUES; false with *WHY. */
static bool parse_set(struct lexer *l, const char *key, const char *op, char ***values, size_t *n, char **why)
{
	if (l->tok.kind != TOKEN_OPEN) {
		autofree char *found = shown(&l->tok);
		*why = xasprintf("expected \"(\" and values after \"%s %s\", found %s", key, op, found);
		return false;
	}
	next(l);
	for (;;) {
		/* An empty value between commas is the empty value, as in apimachinery. */
		char *value = l->tok.kind == TOKEN_WORD ? word(&l->tok) : xstrdup("");
		if (l->tok.kind == TOKEN_WORD)
			next(l);
		*values = xrealloc(*values, (*n + 1) * sizeof(**values));
		(*values)[(*n)++] = value;
		if (!check_value(value, key, why))
			return false;
		if (l->tok.kind == TOKEN_CLOSE) {
			next(l);
			return true;
		}
		if (l->tok.kind != TOKEN_COMMA) {
			autofree char *found = shown(&l->tok);
			*why = xasprintf("expected \",\" or \")\" in the values of \"%s\", found %s", key, found);
			return false;
		}
		next(l);
	}
}

/* One requirement, at the current token; false with *WHY. */
static bool parse_requirement(struct lexer *l, struct label_selector *s, char **why)
{
	bool negated = l->tok.kind == TOKEN_NOT;
	if (negated)
		next(l);
	if (l->tok.kind != TOKEN_WORD) {
		autofree char *found = shown(&l->tok);
		*why = xasprintf("expected a label key%s, found %s", negated ? " after \"!\"" : "", found);
		return false;
	}
	autofree char *key = word(&l->tok);
	if (!docwalk_is_label_key(key)) {
		*why = xasprintf("\"%s\" is not a label key: an optional DNS prefix and '/', then up to 63 of a-z, A-Z, "
				 "0-9, '-', '_', '.', alphanumeric at both ends",
				 key);
		return false;
	}
	next(l);
	if (negated || l->tok.kind == TOKEN_END || l->tok.kind == TOKEN_COMMA) {
		label_selector_add(s, key, negated ? SELECTOR_DOES_NOT_EXIST : SELECTOR_EXISTS, NULL, 0);
		return true;
	}
	char **values = NULL;
	size_t n = 0;
	bool ok;
	enum selector_op op;
	if (is_word(&l->tok, "in") || is_word(&l->tok, "notin")) {
		op = is_word(&l->tok, "in") ? SELECTOR_IN : SELECTOR_NOT_IN;
		next(l);
		ok = parse_set(l, key, op == SELECTOR_IN ? "in" : "notin", &values, &n, why);
	} else if (l->tok.kind == TOKEN_EQUALS || l->tok.kind == TOKEN_DOUBLE_EQ || l->tok.kind == TOKEN_NOT_EQUALS) {
		op = l->tok.kind == TOKEN_NOT_EQUALS ? SELECTOR_NOT_IN : SELECTOR_IN;
		next(l);
		/* k= is the empty value, which a label may have. */
		values = xcalloc(1, sizeof(*values));
		values[n++] = l->tok.kind == TOKEN_WORD ? word(&l->tok) : xstrdup("");
		if (l->tok.kind == TOKEN_WORD)
			next(l);
		ok = check_value(values[0], key, why);
	} else {
		autofree char *found = shown(&l->tok);
		*why = xasprintf("expected \"=\", \"==\", \"!=\", \"in\" or \"notin\" after \"%s\", found %s", key, found);
		return false;
	}
	if (ok)
		label_selector_add(s, key, op, (const char *const *)values, n);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	free(values);
	return ok;
}

bool label_selector_parse(const char *text, struct label_selector *s, char **why)
{
	*s = (struct label_selector){0};
	struct lexer l = {.at = text};
	next(&l);
	if (l.tok.kind == TOKEN_END)
		return true;
	for (;;) {
		if (!parse_requirement(&l, s, why))
			break;
		if (l.tok.kind == TOKEN_END)
			return true;
		if (l.tok.kind != TOKEN_COMMA) {
			autofree char *found = shown(&l.tok);
			*why = xasprintf("expected \",\" between requirements, found %s", found);
			break;
		}
		next(&l);
		if (l.tok.kind == TOKEN_END) {
			*why = xstrdup("a requirement is missing after the last \",\"");
			break;
		}
	}
	label_selector_free(s);
	return false;
}

static const char *label_value(const struct tb_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

static bool in_values(const struct selector_requirement *r, const char *value)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i], value) == 0)
			return true;
	return false;
}

bool label_selector_matches(const struct label_selector *s, const struct tb_label *labels, size_t n)
{
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct selector_requirement *r = &s->reqs[i];
		const char *value = label_value(labels, n, r->key);
		bool holds = false;
		switch (r->op) {
		case SELECTOR_IN:
			holds = value && in_values(r, value);
			break;
		case SELECTOR_NOT_IN:
			holds = !value || !in_values(r, value);
			break;
		case SELECTOR_EXISTS:
			holds = value != NULL;
			break;
		case SELECTOR_DOES_NOT_EXIST:
			holds = value == NULL;
			break;
		}
		if (!holds)
			return false;
	}
	return true;
}

/* ---- with a namespace ---- */

bool pod_selector_is_written(const char *text)
{
	const char *slash = strchr(text, '/');
	if (!slash)
		return false;
	/* "NAMESPACE/" alone: the empty selector, every pod of the namespace. */
	if ((slash - text == 1 && text[0] == '*') || !slash[1])
		return true;
	for (const char *c = slash + 1; *c; c++)
		if (*c == '=' || *c == '!' || *c == '(' || *c == ',' || isspace((unsigned char)*c))
			return true;
	return false;
}

bool pod_selector_parse(const char *text, struct pod_selector *s, char **why)
{
	*s = (struct pod_selector){0};
	const char *slash = strchr(text, '/');
	if (!slash) {
		*why = xstrdup("a selector starts with its namespace: NAMESPACE/ or */ for every namespace");
		return false;
	}
	autofree char *namespace = xasprintf("%.*s", (int)(slash - text), text);
	if (strcmp(namespace, "*") != 0 && !docwalk_is_dns_label(namespace)) {
		*why = xasprintf("\"%s\" is not a namespace: 1-63 of a-z, 0-9 and '-', a letter or digit at both ends, or "
				 "\"*\" for every namespace",
				 namespace);
		return false;
	}
	if (!label_selector_parse(slash + 1, &s->labels, why))
		return false;
	if (strcmp(namespace, "*") != 0)
		s->namespace = xstrdup(namespace);
	return true;
}

bool pod_selector_matches(const struct pod_selector *s, const char *namespace, const struct tb_label *labels,
			  size_t n)
{
	if (s->namespace && (!namespace || strcmp(s->namespace, namespace) != 0))
		return false;
	return label_selector_matches(&s->labels, labels, n);
}

void pod_selector_free(struct pod_selector *s)
{
	free(s->namespace);
	label_selector_free(&s->labels);
	s->namespace = NULL;
}
