#define _GNU_SOURCE
#include "model/jsondoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/util.h"

/* The walk only runs on text cJSON has accepted, so it can trust the
 * grammar; it still never reads past the terminating NUL. It also keeps
 * the chain of items from the root to where it is, to name the JSON path
 * of a string that holds U+0000. */
struct walker {
	struct json_doc *doc;
	const char *p;
	int line, column; /* of *p */
	/* chain[0] is the root, chain[depth - 1] the item being walked;
	 * index[k] is chain[k]'s position in chain[k - 1]. cJSON refuses
	 * documents nested deeper than CJSON_NESTING_LIMIT, plus one level
	 * for the scalars inside the innermost container. */
	const cJSON *chain[CJSON_NESTING_LIMIT + 2];
	size_t index[CJSON_NESTING_LIMIT + 2];
	size_t depth;
	struct diag *d;
	size_t nul_strings;
};

/* Past one byte. The text is UTF-8 by now: a column counts characters,
 * so continuation bytes start none. */
static void advance(struct walker *w)
{
	unsigned char c = (unsigned char)*w->p++;
	if (c == '\n') {
		w->line++;
		w->column = 1;
	} else if ((c & 0xC0) != 0x80) {
		w->column++;
	}
}

/* The JSON path of the item being walked, as docwalk.c writes paths:
 * "nodes[0].name", "" for the root. */
static char *walker_path(const struct walker *w)
{
	char *path = xstrdup("");
	for (size_t k = 1; k < w->depth; k++) {
		char *longer;
		if (cJSON_IsObject(w->chain[k - 1]))
			longer = *path ? xasprintf("%s.%s", path, w->chain[k]->string)
				       : xstrdup(w->chain[k]->string);
		else
			longer = xasprintf("%s[%zu]", path, w->index[k]);
		free(path);
		path = longer;
	}
	return path;
}

/* cJSON ends its strings at the first NUL, so "a\u0000b" would quietly
 * read as "a": refuse it, naming where. */
static void report_nul(struct walker *w, int line, bool key)
{
	autofree char *path = walker_path(w);
	diag_error(w->d, line, path, "%s a NUL character (U+0000)", key ? "the key contains" : "contains");
	w->nul_strings++;
}

/* cJSON treats every byte up to ' ' as white space; do the same. */
static void skip_space(struct walker *w)
{
	while (*w->p && (unsigned char)*w->p <= ' ')
		advance(w);
}

/* Skips a string; true if it holds the escape \u0000. Escapes are skipped
 * as pairs, so "\\u0000" (a backslash, then "u0000") is no NUL. */
static bool skip_string(struct walker *w)
{
	bool nul = false;
	if (*w->p != '"')
		return false;
	advance(w);
	while (*w->p && *w->p != '"') {
		if (*w->p == '\\' && w->p[1]) {
			if (w->p[1] == 'u' && strncmp(w->p + 2, "0000", 4) == 0)
				nul = true;
			advance(w);
		}
		advance(w);
	}
	if (*w->p == '"')
		advance(w);
	return nul;
}

static void skip_char(struct walker *w, char c)
{
	skip_space(w);
	if (*w->p == c)
		advance(w);
}

static void walk_value(struct walker *w, const cJSON *item, size_t index, int key_line, bool key_nul)
{
	skip_space(w);
	json_doc_set_position(w->doc, item, w->line, w->column);
	/* Never past the array: cJSON's limit bounds the depth already. */
	bool pushed = w->depth < ARRAY_SIZE(w->chain);
	if (pushed) {
		w->chain[w->depth] = item;
		w->index[w->depth] = index;
		w->depth++;
	}
	if (key_nul)
		report_nul(w, key_line, true);
	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		char close = cJSON_IsObject(item) ? '}' : ']';
		advance(w);
		size_t i = 0;
		for (const cJSON *child = item->child; child; child = child->next, i++) {
			int child_key_line = 0;
			bool child_key_nul = false;
			if (cJSON_IsObject(item)) {
				skip_space(w);
				child_key_line = w->line;
				child_key_nul = skip_string(w);
				skip_char(w, ':');
			}
			walk_value(w, child, i, child_key_line, child_key_nul);
			skip_char(w, ',');
		}
		skip_char(w, close);
	} else if (cJSON_IsString(item)) {
		int line = w->line;
		if (skip_string(w))
			report_nul(w, line, false);
	} else {
		while (*w->p && !strchr(",]} \t\r\n", *w->p))
			advance(w);
	}
	if (pushed)
		w->depth--;
}

/* Fibonacci hashing: the product's top BITS bits are well spread even
 * for addresses a fixed stride apart, as cJSON's items are. */
static size_t slot_of(const cJSON *item, unsigned bits)
{
	return (size_t)(((uint64_t)(uintptr_t)item * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

/* Line lookups were a scan of every item, which made validating a file
 * of n keys take n^2 steps; a table at most half full keeps each O(1).
 * It doubles as items come, so front ends need not count them first. */
static void put_slot(struct json_doc *doc, struct json_doc_slot slot)
{
	size_t mask = ((size_t)1 << doc->slot_bits) - 1;
	size_t s = slot_of(slot.item, doc->slot_bits);
	while (doc->slots[s].item && doc->slots[s].item != slot.item)
		s = (s + 1) & mask;
	if (!doc->slots[s].item)
		doc->n_items++;
	doc->slots[s] = slot;
}

void json_doc_set_position(struct json_doc *doc, const cJSON *item, int line, int column)
{
	if (!doc->slots || 2 * (doc->n_items + 1) > (size_t)1 << doc->slot_bits) {
		struct json_doc_slot *old = doc->slots;
		size_t old_n = old ? (size_t)1 << doc->slot_bits : 0;
		doc->slot_bits = old ? doc->slot_bits + 1 : 4;
		doc->slots = xcalloc((size_t)1 << doc->slot_bits, sizeof(*doc->slots));
		doc->n_items = 0;
		for (size_t i = 0; i < old_n; i++)
			if (old[i].item)
				put_slot(doc, old[i]);
		free(old);
	}
	put_slot(doc, (struct json_doc_slot){.item = item, .line = line, .column = column});
}

static const struct json_doc_slot *find_slot(const struct json_doc *doc, const cJSON *item)
{
	if (!item || !doc->slots)
		return NULL;
	size_t mask = ((size_t)1 << doc->slot_bits) - 1;
	for (size_t s = slot_of(item, doc->slot_bits); doc->slots[s].item; s = (s + 1) & mask)
		if (doc->slots[s].item == item)
			return &doc->slots[s];
	return NULL;
}

int json_doc_line(const struct json_doc *doc, const cJSON *item)
{
	const struct json_doc_slot *slot = find_slot(doc, item);
	return slot ? slot->line : 0;
}

int json_doc_column(const struct json_doc *doc, const cJSON *item)
{
	const struct json_doc_slot *slot = find_slot(doc, item);
	return slot ? slot->column : 0;
}

const char *json_type_name(const cJSON *item)
{
	if (!item)
		return "nothing";
	if (cJSON_IsObject(item))
		return "an object";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	return "an invalid value";
}

/* Counted as the walker counts them: characters, continuation bytes
 * starting none. */
void json_doc_position(const char *text, const char *at, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)*p & 0xC0) != 0x80) {
			(*column)++;
		}
	}
}

bool json_doc_check_utf8(const char *file, const char *text, size_t len, const char *rule, struct diag *d)
{
	size_t valid = utf8_valid_prefix(text, len);
	if (valid == len)
		return true;
	int line, column;
	json_doc_position(text, text + valid, &line, &column);
	diag_error_in(d, file, line, column, NULL, "not UTF-8: byte 0x%02x starts no valid UTF-8 character; %s",
		      (unsigned char)text[valid], rule);
	return false;
}

/* How many arrays and objects are open at AT. cJSON has accepted the text
 * up to AT, so brackets inside strings are the only ones to skip. */
static size_t depth_at(const char *text, const char *at)
{
	size_t depth = 0;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '"') {
			for (p++; p < at && *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
		} else if (*p == '[' || *p == '{') {
			depth++;
		} else if ((*p == ']' || *p == '}') && depth > 0) {
			depth--;
		}
	}
	return depth;
}

/* As json_doc_parse, taking over TEXT: a large file is not copied again. */
static struct json_doc *parse_owned(const char *file, char *text, struct diag *d)
{
	size_t len = strlen(text);
	const char *start = text;
	/* A UTF-8 byte order mark is harmless; cJSON does not skip it itself. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		start += 3;

	/* RFC 8259: a JSON text is UTF-8. cJSON copies any byte into its
	 * strings, and one that is not UTF-8 would reach plan --format json,
	 * the lab's records and the reports, where strict decoders refuse it. */
	if (!json_doc_check_utf8(file, start, len - (size_t)(start - text), "a JSON file must be UTF-8 text (RFC 8259)",
				 d)) {
		free(text);
		return NULL;
	}

	const char *end = NULL;
	/* With require_null_terminated, cJSON wants the NUL inside the length. */
	cJSON *root = cJSON_ParseWithLengthOpts(start, len - (size_t)(start - text) + 1, &end, 1);
	const char *saved_file = d->file;
	d->file = file;
	if (!root) {
		int line, column;
		const char *at = end ? end : start;
		json_doc_position(start, at, &line, &column);
		size_t n = strcspn(at, "\r\n");
		if (n > 24)
			n = 24;
		bool blank = true;
		for (const char *p = start; *p; p++)
			if ((unsigned char)*p > ' ')
				blank = false;
		if (blank)
			diag_error_at(d, 0, 0, "empty file: expected a JSON object");
		else if (*at == '\0')
			diag_error_at(d, line, column, "invalid JSON: unexpected end of file");
		/* cJSON stops at the bracket that would open one level too many. */
		else if ((*at == '[' || *at == '{') && depth_at(start, at) >= CJSON_NESTING_LIMIT)
			diag_error_at(d, line, column,
				      "nested too deeply: more than %d levels of arrays and objects, the limit of "
				      "cJSON, testbed's JSON parser",
				      CJSON_NESTING_LIMIT);
		else
			diag_error_at(d, line, column, "invalid JSON near \"%.*s\"", (int)n, at);
		d->file = saved_file;
		free(text);
		return NULL;
	}

	struct json_doc *doc = xcalloc(1, sizeof(*doc));
	doc->file = xstrdup(file);
	doc->text = text;
	doc->root = root;
	struct walker *w = xcalloc(1, sizeof(*w));
	*w = (struct walker){.doc = doc, .p = doc->text + (start - text), .line = 1, .column = 1, .d = d};
	walk_value(w, root, 0, 0, false);
	size_t nul_strings = w->nul_strings;
	free(w);
	d->file = saved_file;
	if (nul_strings) {
		json_doc_free(doc);
		return NULL;
	}
	return doc;
}

struct json_doc *json_doc_parse(const char *file, const char *text, struct diag *d)
{
	return parse_owned(file, xstrdup(text), d);
}

const char *json_doc_file_name(const char *file)
{
	return strcmp(file, JSON_DOC_STDIN) == 0 ? JSON_DOC_STDIN_NAME : file;
}

char *json_doc_read(const char *file, size_t *len, struct tb_err *e)
{
	bool from_stdin = strcmp(file, JSON_DOC_STDIN) == 0;
	struct stat st;
	/* By kind before opening: opening a device may do something (a tape
	 * rewinds), and a directory would only fail later with EISDIR. */
	if (!from_stdin && stat(file, &st) < 0) {
		tb_fail(e, "cannot read: %s", strerror(errno));
		return NULL;
	}
	autoclose int fd = from_stdin ? -1 : open(file, O_RDONLY | O_CLOEXEC);
	int in = from_stdin ? STDIN_FILENO : fd;
	if (in < 0 || fstat(in, &st) < 0) {
		tb_fail(e, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		tb_fail(e, "is a directory, not a topology file");
		return NULL;
	}
	/* Character devices stay readable: a terminal, /dev/stdin, /dev/null. */
	if (S_ISBLK(st.st_mode)) {
		tb_fail(e, "is a device, not a topology file");
		return NULL;
	}
	const size_t max = JSON_DOC_MAX_BYTES;
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		tb_fail(e, "is larger than " JSON_DOC_MAX_TEXT ", the limit for a topology file");
		return NULL;
	}
	/* The size is a hint for regular files only; for anything else start
	 * small. Room for one byte past the limit shows that it is exceeded. */
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 2 : 64 * 1024;
	size_t used = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (used + 1 == cap) {
			cap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(in, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tb_fail(e, "cannot read: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			tb_fail(e, "is larger than " JSON_DOC_MAX_TEXT ", the limit for a topology file");
			free(buf);
			return NULL;
		}
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

struct json_doc *json_doc_load(const char *file, struct diag *d)
{
	const char *name = json_doc_file_name(file);
	const char *saved = d->file;
	size_t len;
	struct tb_err e;
	char *text = json_doc_read(file, &len, &e);
	if (!text || strlen(text) != len) {
		d->file = name;
		if (!text)
			diag_error_at(d, 0, 0, "%s", e.msg);
		else
			diag_error_at(d, 0, 0, "not a JSON text file: it contains a NUL byte");
		d->file = saved;
		free(text);
		return NULL;
	}
	return parse_owned(name, text, d);
}

void json_doc_free(struct json_doc *doc)
{
	if (!doc)
		return;
	cJSON_Delete(doc->root);
	free(doc->file);
	free(doc->text);
	free(doc->slots);
	free(doc);
}
