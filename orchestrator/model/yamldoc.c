/* The YAML front end (yamldoc.h): libyaml's events become a tree of nodes
 * of our own, one document at a time, with anchors and aliases as they are
 * written (its size follows the text); the tree then becomes cJSON values,
 * aliases and merge keys expanded, scalars resolved as go-yaml v2 resolves
 * them. The two steps are go-yaml's own (parser, then decoder), so that
 * expanding can be bounded: it counts every value it makes. */
#define _GNU_SOURCE
#include "model/yamldoc.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <yaml.h>

#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "util/diag.h"
#include "util/util.h"

/* How libyaml spells the tags that "!!" abbreviates. */
#define TAG_PREFIX "tag:yaml.org,2002:"

/* String maps: anchors by name, a mapping's keys. Keys are not copied:
 * they must outlive the map. */
struct strmap_slot {
	const char *key; /* NULL: free */
	const void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t n, cap; /* cap: 0 or a power of two, at most half used */
};

/* FNV-1a from a seed drawn once, then mixed (murmur3's finalizer) so that
 * every bit picks the slot: keys come from untrusted files, and keys made
 * to collide would turn each lookup into a scan of them all. */
static uint64_t hash_str(const char *s)
{
	static uint64_t seed;
	static bool seeded;
	if (!seeded) {
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
			seed = UINT64_C(0xcbf29ce484222325);
		seeded = true;
	}
	uint64_t h = seed;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static struct strmap_slot *strmap_slot(const struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)hash_str(key) & mask;; i = (i + 1) & mask)
		if (!m->slots[i].key || strcmp(m->slots[i].key, key) == 0)
			return &m->slots[i];
}

static const struct strmap_slot *strmap_find(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	const struct strmap_slot *s = strmap_slot(m, key);
	return s->key ? s : NULL;
}

/* KEY is VALUE from now on (a key given again: the latest counts). */
static void strmap_put(struct strmap *m, const char *key, const void *value)
{
	if (2 * (m->n + 1) > m->cap) {
		struct strmap old = *m;
		m->cap = old.cap ? 2 * old.cap : 16;
		m->slots = xcalloc(m->cap, sizeof(*m->slots));
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].key)
				strmap_put(m, old.slots[i].key, old.slots[i].value);
		free(old.slots);
	}
	struct strmap_slot *s = strmap_slot(m, key);
	if (!s->key)
		m->n++;
	*s = (struct strmap_slot){.key = key, .value = value};
}

static void strmap_free(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap){0};
}

/* A document as written: what libyaml's events say, aliases unexpanded. */
enum ykind { Y_SCALAR, Y_SEQUENCE, Y_MAPPING, Y_ALIAS };

struct ynode {
	enum ykind kind;
	int line, column;
	char *tag;  /* as libyaml expands it ("tag:yaml.org,2002:int", "!"); NULL: none */
	char *text; /* a scalar's text; an alias's anchor name */
	size_t len; /* the scalar's length: U+0000 may be in it */
	bool plain; /* libyaml's plain_implicit: a plain scalar, untagged or tagged "!" */
	struct ynode **kids; /* a sequence's items; a mapping's keys and values in turn */
	size_t n_kids, cap_kids;
	struct ynode *target; /* an alias's anchored node */
	char *anchor;         /* NULL: none */
	bool complete;        /* its end seen: only then may aliases name it */
	bool reported;        /* an error about it reported: once, however many aliases copy it */
};

struct builder {
	const char *file; /* as messages name it */
	struct diag *d;
	struct json_doc *doc;
	size_t len; /* of the text */
	/* The document being read: all its nodes (freed together), the open
	 * collections, the anchors so far. */
	struct ynode **nodes;
	size_t n_nodes, cap_nodes;
	struct ynode *open[CJSON_NESTING_LIMIT];
	size_t depth;
	struct ynode *root;
	struct strmap anchors;
	/* Making its values. */
	size_t values, max_values;
	const struct ynode *alias; /* the innermost alias being expanded */
	bool failed;               /* an error reported: the stream is refused */
	bool fatal;                /* one that stops the reading */
};

/* Where a value is in its document, for messages: a member's key or an
 * item's index, and the frame it is in (NULL: the document itself). */
struct frame {
	const struct frame *up;
	const char *key; /* NULL: an item, at index */
	size_t index;
};

/* "spec.ports[1].protocol", as docwalk writes paths. */
static char *frame_path(const struct frame *f)
{
	if (!f)
		return xstrdup("");
	autofree char *up = frame_path(f->up);
	return f->key ? docwalk_path_key(up, f->key) : docwalk_path_index(up, f->index);
}

/* An error about AT, at its position and WHERE's path: the stream will be
 * refused, the reading goes on to find more. Once per node, however many
 * aliases copy it. */
static void report(struct builder *b, struct ynode *at, const struct frame *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct builder *b, struct ynode *at, const struct frame *where, const char *fmt, ...)
{
	b->failed = true;
	if (at->reported)
		return;
	at->reported = true;
	autofree char *path = frame_path(where);
	va_list ap;
	va_start(ap, fmt);
	diag_verror_in(b->d, b->file, at->line, at->column, path, fmt, ap);
	va_end(ap);
}

/* An error that stops the reading, at LINE and COLUMN. */
static void report_fatal(struct builder *b, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report_fatal(struct builder *b, int line, int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verror_in(b->d, b->file, line, column, NULL, fmt, ap);
	va_end(ap);
	b->failed = b->fatal = true;
}

/* "!!int" for libyaml's "tag:yaml.org,2002:int"; other tags as they are. */
static const char *short_tag(const char *tag, char *buf, size_t size)
{
	if (!str_has_prefix(tag, TAG_PREFIX))
		return tag;
	snprintf(buf, size, "!!%s", tag + strlen(TAG_PREFIX));
	return buf;
}

static const char *kind_name(enum ykind kind)
{
	switch (kind) {
	case Y_SCALAR:
		return "a scalar";
	case Y_SEQUENCE:
		return "a sequence";
	case Y_MAPPING:
		return "a mapping";
	case Y_ALIAS:
		return "an alias";
	}
	return "a node";
}

/* ---- Scalars, as go-yaml v2's resolve.go resolves them ---- */

enum scalar_type { S_NULL, S_BOOL, S_INT, S_BIG, S_FLOAT, S_STRING };

struct scalar {
	enum scalar_type type;
	bool b;
	long long i; /* S_INT */
	double f;    /* S_BIG (an integer past int64) and S_FLOAT */
};

/* go-yaml v2's resolveMap: the plain scalars it knows by their text, in
 * its order. */
static const struct {
	enum scalar_type type;
	double value; /* a boolean's or a float's */
	const char *texts[5]; /* up to the first NULL */
} known_scalars[] = {
	{S_BOOL, 1, {"y", "Y", "yes", "Yes", "YES"}},
	{S_BOOL, 1, {"true", "True", "TRUE"}},
	{S_BOOL, 1, {"on", "On", "ON"}},
	{S_BOOL, 0, {"n", "N", "no", "No", "NO"}},
	{S_BOOL, 0, {"false", "False", "FALSE"}},
	{S_BOOL, 0, {"off", "Off", "OFF"}},
	{S_NULL, 0, {"", "~", "null", "Null", "NULL"}},
	{S_FLOAT, NAN, {".nan", ".NaN", ".NAN"}},
	{S_FLOAT, INFINITY, {".inf", ".Inf", ".INF"}},
	{S_FLOAT, INFINITY, {"+.inf", "+.Inf", "+.INF"}},
	{S_FLOAT, -INFINITY, {"-.inf", "-.Inf", "-.INF"}},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of C as a digit of any base up to 36; 36 for no digit. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 10;
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A') + 10;
	return 36;
}

enum parse { PARSE_OK, PARSE_SYNTAX, PARSE_RANGE };

/* Go's base prefix for base 0: 0b, 0o, 0x (with something after them),
 * else a leading 0 for octal. Past the prefix in *S. */
static unsigned go_base(const char **s)
{
	if ((*s)[0] != '0')
		return 10;
	char x = (*s)[1];
	if (x && (*s)[2] && (x == 'b' || x == 'B' || x == 'o' || x == 'O' || x == 'x' || x == 'X')) {
		*s += 2;
		return x == 'b' || x == 'B' ? 2 : x == 'o' || x == 'O' ? 8 : 16;
	}
	*s += 1;
	return 8;
}

/* strconv.ParseUint(S, 0, 64) without underscores: like it, out of range
 * at the first digit that overflows, whatever follows. */
static enum parse go_parse_uint(const char *s, unsigned long long *out)
{
	if (!*s)
		return PARSE_SYNTAX;
	unsigned base = go_base(&s);
	unsigned long long n = 0;
	for (; *s; s++) {
		unsigned d = digit_value(*s);
		if (d >= base)
			return PARSE_SYNTAX;
		if (n > (ULLONG_MAX - d) / base)
			return PARSE_RANGE;
		n = n * base + d;
	}
	*out = n;
	return PARSE_OK;
}

/* strconv.ParseInt(S, 0, 64) without underscores. */
static enum parse go_parse_int(const char *s, long long *out)
{
	bool negative = *s == '-';
	if (*s == '+' || *s == '-')
		s++;
	unsigned long long u;
	enum parse r = go_parse_uint(s, &u);
	if (r != PARSE_OK)
		return r;
	if (u > (unsigned long long)LLONG_MAX + (negative ? 1 : 0))
		return PARSE_RANGE;
	*out = negative && u > 0 ? -(long long)(u - 1) - 1 : (long long)u;
	return PARSE_OK;
}

/* An unsigned integer that big.Int's SetString(S, 0) takes, as a double:
 * what the kubernetes-sigs fork of go-yaml v2 makes of one past uint64. */
static bool go_big_uint(const char *s, double *out)
{
	unsigned base = go_base(&s);
	if (!*s)
		return false;
	double v = 0;
	for (; *s; s++) {
		unsigned d = digit_value(*s);
		if (d >= base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* go-yaml v2's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_style_float(const char *p)
{
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		if (!is_digit(*++p))
			return false;
		while (is_digit(*p))
			p++;
	} else {
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
		if (*p == '.')
			for (p++; is_digit(*p); p++)
				;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	}
	return !*p;
}

/* Digits with single underscores between them, as Go's syntax allows. */
static bool skip_go_digits(const char **p)
{
	if (!is_digit(**p))
		return false;
	while (is_digit(**p) || (**p == '_' && is_digit((*p)[1])))
		(*p)++;
	return true;
}

/* strconv.ParseFloat of a scalar that starts with '.': "." digits and an
 * optional exponent, '_' between digits. */
static bool go_dot_float(const char *s)
{
	const char *p = s + 1;
	if (!skip_go_digits(&p))
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!skip_go_digits(&p))
			return false;
	}
	return !*p;
}

/* S without its underscores (malloc'd). */
static char *without_underscores(const char *s)
{
	char *out = xstrdup(s);
	char *o = out;
	for (const char *p = s; *p; p++)
		if (*p != '_')
			*o++ = *p;
	*o = '\0';
	return out;
}

/* strtod of text already checked to be a decimal float; testbed never
 * sets a locale, so the decimal point is '.'. Go's ParseFloat fails on a
 * number past a double's range, and go-yaml then keeps the text. */
static bool finite_float(const char *s, struct scalar *v)
{
	double f = strtod(s, NULL);
	if (isinf(f))
		return false;
	*v = (struct scalar){.type = S_FLOAT, .f = f};
	return true;
}

/* What go-yaml v2's resolve() makes of a plain scalar with no tag. */
static struct scalar resolve_plain(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_scalars); i++)
		for (size_t j = 0; j < ARRAY_SIZE(known_scalars[i].texts) && known_scalars[i].texts[j]; j++)
			if (strcmp(s, known_scalars[i].texts[j]) == 0)
				return (struct scalar){.type = known_scalars[i].type,
						       .b = known_scalars[i].value != 0,
						       .f = known_scalars[i].value};
	struct scalar v = {.type = S_STRING};
	if (s[0] == '.') {
		if (go_dot_float(s)) {
			autofree char *plain = without_underscores(s);
			finite_float(plain, &v);
		}
		return v;
	}
	if (!(is_digit(s[0]) || s[0] == '+' || s[0] == '-'))
		return v;
	/* A sign or a digit: an integer, a float, else a string. Timestamps
	 * (2001-12-14) stay strings, as go-yaml v2 gives them to interface{}. */
	autofree char *plain = without_underscores(s);
	if (go_parse_int(plain, &v.i) == PARSE_OK) {
		v.type = S_INT;
		return v;
	}
	unsigned long long u;
	enum parse uint_parse = go_parse_uint(plain, &u);
	if (uint_parse == PARSE_OK)
		return (struct scalar){.type = S_BIG, .f = (double)u};
	if (yaml_style_float(plain) && finite_float(plain, &v))
		return v;
	if (uint_parse == PARSE_RANGE && go_big_uint(plain, &v.f))
		v.type = S_BIG;
	return v;
}

/* Tags a scalar may have, and what each takes. */
static const struct {
	const char *tag;
	enum scalar_type type;
	const char *expected;
} scalar_tags[] = {
	{TAG_PREFIX "null", S_NULL, "null, ~ or nothing"},
	{TAG_PREFIX "bool", S_BOOL, "true or false"},
	{TAG_PREFIX "int", S_INT, "an integer"},
	{TAG_PREFIX "float", S_FLOAT, "a number"},
};

static void report_tag(struct builder *b, struct ynode *n, const struct frame *where)
{
	char buf[64];
	report(b, n, where, "tag %s is not supported: expected !!str, !!int, !!float, !!bool, !!null, !!seq or !!map",
	       short_tag(n->tag, buf, sizeof(buf)));
}

/* N's value in *V, tag and all. False after reporting. KEY: N is a key. */
static bool resolve_scalar(struct builder *b, struct ynode *n, const struct frame *where, bool key, struct scalar *v)
{
	if (memchr(n->text, '\0', n->len)) {
		report(b, n, where, "%s a NUL character (U+0000)", key ? "the key contains" : "contains");
		return false;
	}
	*v = (struct scalar){.type = S_STRING};
	if (!n->tag) {
		/* Quoted and block scalars are strings. */
		if (n->plain)
			*v = resolve_plain(n->text);
		return true;
	}
	if (strcmp(n->tag, "!") == 0 || strcmp(n->tag, TAG_PREFIX "str") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(scalar_tags); i++) {
		if (strcmp(n->tag, scalar_tags[i].tag) != 0)
			continue;
		/* Tagged, even a quoted scalar resolves: !!int "12" is 12. */
		*v = resolve_plain(n->text);
		enum scalar_type want = scalar_tags[i].type;
		if (want == S_FLOAT && v->type == S_INT)
			*v = (struct scalar){.type = S_FLOAT, .f = (double)v->i};
		if (v->type == want || (want == S_INT && v->type == S_BIG))
			return true;
		char buf[64];
		report(b, n, where, "%s \"%s\": expected %s", short_tag(n->tag, buf, sizeof(buf)), n->text,
		       scalar_tags[i].expected);
		return false;
	}
	report_tag(b, n, where);
	return false;
}

/* strconv.FormatFloat(F, 'g', -1, 32), which sigs.k8s.io/yaml makes of a
 * float key: the float32's shortest form, %e past 6 digits before the
 * point or 4 zeros after it. */
static char *float_key(double f)
{
	if (isnan(f))
		return xstrdup(".nan");
	/* Go's float32() rounds past FLT_MAX to infinity (from half an ulp
	 * beyond, 2^103); in C that conversion is undefined, so it is done here. */
	if (fabs(f) >= (double)FLT_MAX + ldexp(1, 103))
		return xstrdup(f > 0 ? ".inf" : "-.inf");
	float f32 = fabs(f) > FLT_MAX ? (f > 0 ? FLT_MAX : -FLT_MAX) : (float)f;
	char e[64];
	int digits = 1;
	for (; digits < 9; digits++) {
		snprintf(e, sizeof(e), "%.*e", digits - 1, (double)f32);
		if (strtof(e, NULL) == f32)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", digits - 1, (double)f32);
	int exponent = atoi(strchr(e, 'e') + 1);
	if (exponent < -4 || exponent >= 6)
		return xstrdup(e);
	int decimals = digits - 1 - exponent;
	return xasprintf("%.*f", decimals > 0 ? decimals : 0, (double)f32);
}

/* The JSON key a YAML key K becomes, as sigs.k8s.io/yaml converts it
 * (malloc'd); NULL after reporting. */
static char *key_text(struct builder *b, struct ynode *k, const struct frame *where)
{
	struct ynode *s = k->kind == Y_ALIAS ? k->target : k;
	if (s->kind != Y_SCALAR) {
		report(b, k, where, "a mapping key must be a scalar, not %s", kind_name(s->kind));
		return NULL;
	}
	struct scalar v;
	if (!resolve_scalar(b, s, where, true, &v))
		return NULL;
	switch (v.type) {
	case S_STRING:
		return xstrdup(s->text);
	case S_INT:
		return xasprintf("%lld", v.i);
	case S_BOOL:
		return xstrdup(v.b ? "true" : "false");
	case S_FLOAT:
		return float_key(v.f);
	case S_NULL:
		report(b, k, where, "a mapping key must not be null");
		return NULL;
	case S_BIG:
		report(b, k, where, "a mapping key must not be an integer past 64 bits: %s", s->text);
		return NULL;
	}
	return NULL;
}

/* ---- Values: the tree as cJSON, aliases and merges expanded ---- */

/* Counts ITEM (made of N) against the stream's budget and notes N's
 * position for it; NULL (ITEM freed) once the budget is spent. */
static cJSON *counted(struct builder *b, const struct ynode *n, cJSON *item)
{
	if (!item)
		out_of_memory();
	if (++b->values > b->max_values) {
		if (b->alias)
			report_fatal(b, b->alias->line, b->alias->column,
				     "too much aliasing: expanding *%s takes the stream past %zu values, the limit for "
				     "%zu bytes of YAML",
				     b->alias->text, b->max_values, b->len);
		else
			report_fatal(b, n->line, n->column, "more than %zu values, the limit for %zu bytes of YAML",
				     b->max_values, b->len);
		cJSON_Delete(item);
		return NULL;
	}
	json_doc_set_position(b->doc, item, n->line, n->column);
	return item;
}

static cJSON *too_deep(struct builder *b, const struct ynode *n)
{
	if (b->alias)
		report_fatal(b, b->alias->line, b->alias->column,
			     "nested too deeply: expanding *%s makes more than %d levels of sequences and mappings",
			     b->alias->text, CJSON_NESTING_LIMIT);
	else
		report_fatal(b, n->line, n->column, "nested too deeply: more than %d levels of sequences and mappings",
			     CJSON_NESTING_LIMIT);
	return NULL;
}

/* Whether a sequence's or a mapping's tag suits it; reports if not. */
static void check_collection_tag(struct builder *b, struct ynode *n, const struct frame *where)
{
	const char *own = n->kind == Y_SEQUENCE ? TAG_PREFIX "seq" : TAG_PREFIX "map";
	if (!n->tag || strcmp(n->tag, "!") == 0 || strcmp(n->tag, own) == 0)
		return;
	bool scalar_tag = strcmp(n->tag, TAG_PREFIX "str") == 0 || strcmp(n->tag, TAG_PREFIX "seq") == 0 ||
			  strcmp(n->tag, TAG_PREFIX "map") == 0;
	for (size_t i = 0; i < ARRAY_SIZE(scalar_tags); i++)
		scalar_tag = scalar_tag || strcmp(n->tag, scalar_tags[i].tag) == 0;
	char buf[64];
	if (scalar_tag)
		report(b, n, where, "tag %s on %s: expected !!%s", short_tag(n->tag, buf, sizeof(buf)), kind_name(n->kind),
		       n->kind == Y_SEQUENCE ? "seq" : "map");
	else
		report_tag(b, n, where);
}

static cJSON *convert(struct builder *b, struct ynode *n, size_t depth, const struct frame *where);

static cJSON *convert_scalar(struct builder *b, struct ynode *n, const struct frame *where)
{
	struct scalar v;
	cJSON *item = NULL;
	if (!resolve_scalar(b, n, where, false, &v))
		v.type = S_NULL; /* in its place, the error reported */
	switch (v.type) {
	case S_NULL:
		item = cJSON_CreateNull();
		break;
	case S_BOOL:
		item = cJSON_CreateBool(v.b);
		break;
	case S_INT:
		item = cJSON_CreateNumber((double)v.i);
		break;
	case S_BIG:
	case S_FLOAT:
		/* JSON has no infinity or NaN: kubectl's conversion to JSON fails on them. */
		if (isfinite(v.f)) {
			item = cJSON_CreateNumber(v.f);
		} else {
			report(b, n, where, "%s is no number JSON can hold", n->text);
			item = cJSON_CreateNull();
		}
		break;
	case S_STRING:
		item = cJSON_CreateString(n->text);
		break;
	}
	return counted(b, n, item);
}

static cJSON *convert_sequence(struct builder *b, struct ynode *n, size_t depth, const struct frame *where)
{
	if (depth > CJSON_NESTING_LIMIT)
		return too_deep(b, n);
	check_collection_tag(b, n, where);
	cJSON *array = counted(b, n, cJSON_CreateArray());
	for (size_t i = 0; array && i < n->n_kids; i++) {
		struct frame at = {.up = where, .index = i};
		cJSON *item = convert(b, n->kids[i], depth + 1, &at);
		if (!item) {
			cJSON_Delete(array);
			return NULL;
		}
		cJSON_AddItemToArray(array, item);
	}
	return array;
}

/* Merges the mapping M (or the one the alias M names) into OBJ: each of
 * its keys that SEEN lacks joins it. False when the budget is spent. */
static bool merge_one(struct builder *b, cJSON *obj, struct strmap *seen, struct ynode *m, size_t depth,
		      const struct frame *where)
{
	/* Made whole first: M's own merges count. */
	cJSON *source = convert(b, m, depth, where);
	if (!source)
		return false;
	while (source->child) {
		cJSON *member = cJSON_DetachItemViaPointer(source, source->child);
		if (strmap_find(seen, member->string)) {
			cJSON_Delete(member);
			continue;
		}
		strmap_put(seen, member->string, NULL);
		/* Added as an item, it keeps its key (and SEEN's pointer to it). */
		cJSON_AddItemToArray(obj, member);
	}
	cJSON_Delete(source);
	return true;
}

/* "<<: VALUE": a mapping, an alias of one, or a sequence of those, the
 * earlier before the later (go-yaml v2's merge). */
static bool merge(struct builder *b, cJSON *obj, struct strmap *seen, struct ynode *value, size_t depth,
		  const struct frame *where)
{
	struct frame at = {.up = where, .key = "<<"};
	struct ynode *target = value->kind == Y_ALIAS ? value->target : value;
	if (target->kind == Y_MAPPING)
		return merge_one(b, obj, seen, value, depth, where);
	if (value->kind != Y_SEQUENCE) {
		report(b, value, &at, "expected a mapping or a sequence of mappings to merge, got %s",
		       kind_name(target->kind));
		return true;
	}
	check_collection_tag(b, value, &at);
	for (size_t i = 0; i < value->n_kids; i++) {
		struct ynode *item = value->kids[i];
		struct ynode *mapping = item->kind == Y_ALIAS ? item->target : item;
		struct frame item_at = {.up = &at, .index = i};
		if (mapping->kind != Y_MAPPING)
			report(b, item, &item_at, "expected a mapping to merge, got %s", kind_name(mapping->kind));
		else if (!merge_one(b, obj, seen, item, depth, where))
			return false;
	}
	return true;
}

/* Whether K is a merge key: "<<" plain (untagged or "!") or tagged !!merge. */
static bool is_merge_key(const struct ynode *k)
{
	return k->kind == Y_SCALAR && strcmp(k->text, "<<") == 0 && k->len == 2 &&
	       (k->plain || (k->tag && strcmp(k->tag, TAG_PREFIX "merge") == 0));
}

enum pair_kind { PAIR_SKIPPED, PAIR_KEY, PAIR_MERGE };

static cJSON *convert_mapping(struct builder *b, struct ynode *n, size_t depth, const struct frame *where)
{
	if (depth > CJSON_NESTING_LIMIT)
		return too_deep(b, n);
	check_collection_tag(b, n, where);
	size_t pairs = n->n_kids / 2;
	autofree char **keys = xcalloc(pairs ? pairs : 1, sizeof(*keys));
	autofree enum pair_kind *kinds = xcalloc(pairs ? pairs : 1, sizeof(*kinds));
	/* Every explicit key first, with the node that gave it: they win over
	 * merged ones wherever "<<" stands, and a repeated one is an error. */
	struct strmap seen = {0};
	const struct ynode *merge_key = NULL;
	for (size_t i = 0; i < pairs; i++) {
		struct ynode *k = n->kids[2 * i];
		if (is_merge_key(k)) {
			if (merge_key)
				report(b, k, where, "duplicate merge key << (first on line %d, column %d)", merge_key->line,
				       merge_key->column);
			else
				kinds[i] = PAIR_MERGE;
			merge_key = merge_key ? merge_key : k;
			continue;
		}
		keys[i] = key_text(b, k, where);
		if (!keys[i])
			continue;
		const struct strmap_slot *first = strmap_find(&seen, keys[i]);
		if (first) {
			const struct ynode *f = first->value;
			struct frame at = {.up = where, .key = keys[i]};
			report(b, k, &at, "duplicate key (first on line %d, column %d)", f->line, f->column);
			continue;
		}
		strmap_put(&seen, keys[i], k);
		kinds[i] = PAIR_KEY;
	}
	cJSON *obj = counted(b, n, cJSON_CreateObject());
	for (size_t i = 0; obj && i < pairs; i++) {
		struct ynode *value = n->kids[2 * i + 1];
		if (kinds[i] == PAIR_MERGE) {
			if (!merge(b, obj, &seen, value, depth, where)) {
				cJSON_Delete(obj);
				obj = NULL;
			}
			continue;
		}
		if (kinds[i] != PAIR_KEY)
			continue;
		struct frame at = {.up = where, .key = keys[i]};
		cJSON *item = convert(b, value, depth + 1, &at);
		if (!item) {
			cJSON_Delete(obj);
			obj = NULL;
			continue;
		}
		cJSON_AddItemToObject(obj, keys[i], item);
	}
	strmap_free(&seen);
	for (size_t i = 0; i < pairs; i++)
		free(keys[i]);
	return obj;
}

/* N's value, NULL once the reading stops (budget, depth). Other errors
 * are reported and leave null in the value's place. */
static cJSON *convert(struct builder *b, struct ynode *n, size_t depth, const struct frame *where)
{
	if (b->fatal)
		return NULL;
	switch (n->kind) {
	case Y_ALIAS: {
		/* A copy of the anchored node, with its positions. */
		const struct ynode *outer = b->alias;
		b->alias = n;
		cJSON *item = convert(b, n->target, depth, where);
		b->alias = outer;
		return item;
	}
	case Y_SCALAR:
		return convert_scalar(b, n, where);
	case Y_SEQUENCE:
		return convert_sequence(b, n, depth, where);
	case Y_MAPPING:
		return convert_mapping(b, n, depth, where);
	}
	return NULL;
}

/* ---- Reading: libyaml's events to nodes, a document at a time ---- */

static void free_nodes(struct builder *b)
{
	for (size_t i = 0; i < b->n_nodes; i++) {
		struct ynode *n = b->nodes[i];
		free(n->tag);
		free(n->text);
		free(n->kids);
		free(n->anchor);
		free(n);
	}
	b->n_nodes = 0;
	b->depth = 0;
	b->root = NULL;
	/* Anchors name nodes of one document only. */
	strmap_free(&b->anchors);
}

static struct ynode *new_node(struct builder *b, enum ykind kind, const yaml_event_t *e, const yaml_char_t *tag,
			      const yaml_char_t *anchor)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int)e->start_mark.line + 1;
	n->column = (int)e->start_mark.column + 1;
	n->tag = tag ? xstrdup((const char *)tag) : NULL;
	grow_array((void **)&b->nodes, &b->cap_nodes, b->n_nodes + 1, sizeof(*b->nodes));
	b->nodes[b->n_nodes++] = n;
	if (b->depth == 0) {
		b->root = n;
	} else {
		struct ynode *parent = b->open[b->depth - 1];
		grow_array((void **)&parent->kids, &parent->cap_kids, parent->n_kids + 1, sizeof(*parent->kids));
		parent->kids[parent->n_kids++] = n;
	}
	/* Defined again, an anchor names its latest node, as in go-yaml. */
	if (anchor) {
		n->anchor = xstrdup((const char *)anchor);
		strmap_put(&b->anchors, n->anchor, n);
	}
	return n;
}

/* The document just read, into the root array, unless it is empty or null. */
static void finish_document(struct builder *b)
{
	if (!b->root)
		return;
	cJSON *value = convert(b, b->root, 1, NULL);
	if (value && cJSON_IsNull(value))
		cJSON_Delete(value);
	else if (value)
		cJSON_AddItemToArray(b->doc->root, value);
}

/* Takes event E; false once the reading stops. */
static bool take_event(struct builder *b, const yaml_event_t *e)
{
	int line = (int)e->start_mark.line + 1, column = (int)e->start_mark.column + 1;
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		free_nodes(b);
		break;
	case YAML_DOCUMENT_END_EVENT:
		finish_document(b);
		free_nodes(b);
		break;
	case YAML_SCALAR_EVENT: {
		struct ynode *n = new_node(b, Y_SCALAR, e, e->data.scalar.tag, e->data.scalar.anchor);
		n->len = e->data.scalar.length;
		n->text = xmalloc(n->len + 1);
		memcpy(n->text, e->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		n->plain = e->data.scalar.plain_implicit;
		n->complete = true;
		break;
	}
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)e->data.alias.anchor;
		const struct strmap_slot *s = strmap_find(&b->anchors, name);
		struct ynode *target = s ? (struct ynode *)s->value : NULL;
		if (!target) {
			report_fatal(b, line, column, "unknown anchor: no &%s before *%s in its document", name, name);
			break;
		}
		if (!target->complete) {
			report_fatal(b, line, column, "*%s is inside the node it names (&%s on line %d, column %d)", name,
				     name, target->line, target->column);
			break;
		}
		struct ynode *n = new_node(b, Y_ALIAS, e, NULL, NULL);
		n->text = xstrdup(name);
		n->target = target;
		n->complete = true;
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		if (b->depth == ARRAY_SIZE(b->open)) {
			report_fatal(b, line, column, "nested too deeply: more than %d levels of sequences and mappings",
				     CJSON_NESTING_LIMIT);
			break;
		}
		bool sequence = e->type == YAML_SEQUENCE_START_EVENT;
		struct ynode *n =
		    new_node(b, sequence ? Y_SEQUENCE : Y_MAPPING, e,
			     sequence ? e->data.sequence_start.tag : e->data.mapping_start.tag,
			     sequence ? e->data.sequence_start.anchor : e->data.mapping_start.anchor);
		b->open[b->depth++] = n;
		break;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->open[--b->depth]->complete = true;
		break;
	default:
		break;
	}
	return !b->fatal;
}

/* libyaml's complaint, with its position and its words. */
static void report_syntax(struct builder *b, const yaml_parser_t *p, const char *text, const char *start)
{
	if (p->error == YAML_MEMORY_ERROR)
		out_of_memory();
	const char *problem = p->problem ? p->problem : "unknown problem";
	if (p->error == YAML_READER_ERROR) {
		/* The reader knows only the byte where it stopped. */
		int line, column;
		const char *at = text + (p->problem_offset < b->len ? p->problem_offset : b->len);
		json_doc_position(start, at > start ? at : start, &line, &column);
		if (p->problem_value >= 0)
			report_fatal(b, line, column, "invalid YAML: %s (U+%04X)", problem, (unsigned)p->problem_value);
		else
			report_fatal(b, line, column, "invalid YAML: %s", problem);
		return;
	}
	int line = (int)p->problem_mark.line + 1, column = (int)p->problem_mark.column + 1;
	if (p->context)
		report_fatal(b, line, column, "invalid YAML: %s (%s at line %d, column %d)", problem, p->context,
			     (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		report_fatal(b, line, column, "invalid YAML: %s", problem);
}

/* As json_doc_parse_yaml, taking over TEXT (LEN bytes, no NUL among them). */
static struct json_doc *parse_owned(const char *file, char *text, size_t len, struct diag *d)
{
	if (len > JSON_DOC_MAX_BYTES) {
		diag_error_in(d, file, 0, 0, NULL, "is larger than " JSON_DOC_MAX_TEXT ", the limit for a YAML file");
		free(text);
		return NULL;
	}
	/* libyaml skips a byte order mark itself; positions start past it. */
	const char *start = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? text + 3 : text;
	/* libyaml would read UTF-16 too, and stop at bytes that are not UTF-8
	 * with a message of its own: say it as jsondoc.c says it. */
	if (!json_doc_check_utf8(file, start, len - (size_t)(start - text), "a YAML file must be UTF-8 text", d)) {
		free(text);
		return NULL;
	}

	struct json_doc *doc = xcalloc(1, sizeof(*doc));
	doc->file = xstrdup(file);
	doc->text = text;
	doc->root = cJSON_CreateArray();
	if (!doc->root)
		out_of_memory();
	json_doc_set_position(doc, doc->root, 1, 1);

	struct builder *b = xcalloc(1, sizeof(*b));
	*b = (struct builder){
	    .file = doc->file, .d = d, .doc = doc, .len = len, .max_values = YAML_DOC_VALUES_BASE + len};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		out_of_memory();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (bool more = true; more;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&parser, &e)) {
			report_syntax(b, &parser, text, start);
			break;
		}
		more = take_event(b, &e) && e.type != YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	free_nodes(b);
	free(b->nodes);
	bool failed = b->failed;
	free(b);
	if (failed) {
		json_doc_free(doc);
		return NULL;
	}
	return doc;
}

struct json_doc *json_doc_parse_yaml(const char *file, const char *text, struct diag *d)
{
	return parse_owned(file, xstrdup(text), strlen(text), d);
}

struct json_doc *json_doc_load_yaml(const char *file, struct diag *d)
{
	const char *name = json_doc_file_name(file);
	size_t len;
	struct tb_err e;
	char *text = json_doc_read(file, &len, &e);
	if (!text) {
		diag_error_in(d, name, 0, 0, NULL, "%s", e.msg);
		return NULL;
	}
	size_t n = strlen(text);
	if (n != len) {
		int line, column;
		json_doc_position(text, text + n, &line, &column);
		diag_error_in(d, name, line, column, NULL, "not a YAML text file: it contains a NUL byte");
		free(text);
		return NULL;
	}
	return parse_owned(name, text, len, d);
}

static bool is_json_name(const char *file)
{
	size_t n = strlen(file);
	return n >= 5 && strcmp(file + n - 5, ".json") == 0;
}

struct json_doc *json_doc_load_manifest(const char *file, struct diag *d)
{
	if (!is_json_name(file))
		return json_doc_load_yaml(file, d);
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return NULL;
	/* A key repeated is an error in YAML: in JSON too, so that a manifest
	 * means the same in either. */
	size_t errors = d->count;
	struct docwalk w = {.doc = doc, .d = d, .columns = true};
	docwalk_check_duplicate_keys(&w, doc->root, "");
	if (d->count != errors) {
		json_doc_free(doc);
		return NULL;
	}
	cJSON *documents = cJSON_CreateArray();
	if (!documents)
		out_of_memory();
	json_doc_set_position(doc, documents, json_doc_line(doc, doc->root), json_doc_column(doc, doc->root));
	if (cJSON_IsNull(doc->root))
		cJSON_Delete(doc->root);
	else
		cJSON_AddItemToArray(documents, doc->root);
	doc->root = documents;
	return doc;
}
