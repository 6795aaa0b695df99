#define _GNU_SOURCE
#include "jsondoc.h"

#include <errno.h>
#include <string.h>

#include "diag.h"
#include "util.h"

/* The walk only runs on text cJSON has accepted, so it can trust the
 * grammar; it still never reads past the terminating NUL. */
struct walker {
	struct json_doc *doc;
	const char *p;
	int line;
};

static void note(struct walker *w, const cJSON *item)
{
	struct json_doc *doc = w->doc;
	grow_array((void **)&doc->items, &doc->cap_items, doc->n_items + 1, sizeof(*doc->items));
	size_t cap = doc->cap_items;
	doc->lines = xrealloc(doc->lines, cap * sizeof(*doc->lines));
	doc->items[doc->n_items] = item;
	doc->lines[doc->n_items] = w->line;
	doc->n_items++;
}

/* cJSON treats every byte up to ' ' as white space; do the same. */
static void skip_space(struct walker *w)
{
	while (*w->p && (unsigned char)*w->p <= ' ') {
		if (*w->p == '\n')
			w->line++;
		w->p++;
	}
}

static void skip_string(struct walker *w)
{
	if (*w->p != '"')
		return;
	w->p++;
	while (*w->p && *w->p != '"') {
		if (*w->p == '\\' && w->p[1])
			w->p++;
		else if (*w->p == '\n')
			w->line++;
		w->p++;
	}
	if (*w->p == '"')
		w->p++;
}

static void skip_char(struct walker *w, char c)
{
	skip_space(w);
	if (*w->p == c)
		w->p++;
}

static void walk_value(struct walker *w, const cJSON *item)
{
	skip_space(w);
	note(w, item);
	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		char close = cJSON_IsObject(item) ? '}' : ']';
		w->p++;
		for (const cJSON *child = item->child; child; child = child->next) {
			if (cJSON_IsObject(item)) {
				skip_space(w);
				skip_string(w);
				skip_char(w, ':');
			}
			walk_value(w, child);
			skip_char(w, ',');
		}
		skip_char(w, close);
	} else if (cJSON_IsString(item)) {
		skip_string(w);
	} else {
		while (*w->p && !strchr(",]} \t\r\n", *w->p))
			w->p++;
	}
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

static void position_of(const char *text, const char *at, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

struct json_doc *json_doc_parse(const char *file, const char *text, struct diag *d)
{
	size_t len = strlen(text);
	const char *start = text;
	/* A UTF-8 byte order mark is harmless; cJSON does not skip it itself. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		start += 3;

	const char *end = NULL;
	/* With require_null_terminated, cJSON wants the NUL inside the length. */
	cJSON *root = cJSON_ParseWithLengthOpts(start, len - (size_t)(start - text) + 1, &end, 1);
	if (!root) {
		int line, column;
		const char *at = end ? end : start;
		position_of(text, at, &line, &column);
		size_t n = strcspn(at, "\r\n");
		if (n > 24)
			n = 24;
		const char *saved_file = d->file;
		d->file = file;
		bool blank = true;
		for (const char *p = start; *p; p++)
			if ((unsigned char)*p > ' ')
				blank = false;
		if (blank)
			diag_error_at(d, 0, 0, "empty file: expected a JSON object");
		else if (*at == '\0')
			diag_error_at(d, line, column, "invalid JSON: unexpected end of file");
		else
			diag_error_at(d, line, column, "invalid JSON near \"%.*s\"", (int)n, at);
		d->file = saved_file;
		return NULL;
	}

	struct json_doc *doc = xcalloc(1, sizeof(*doc));
	doc->file = xstrdup(file);
	doc->text = xstrdup(text);
	doc->root = root;
	struct walker w = {.doc = doc, .p = doc->text + (start - text), .line = 1};
	walk_value(&w, root);
	return doc;
}

struct json_doc *json_doc_load(const char *file, struct diag *d)
{
	size_t len;
	autofree char *text = read_file(file, &len);
	if (!text) {
		const char *saved = d->file;
		d->file = file;
		diag_error_at(d, 0, 0, "cannot read: %s", strerror(errno));
		d->file = saved;
		return NULL;
	}
	if (strlen(text) != len) {
		const char *saved = d->file;
		d->file = file;
		diag_error_at(d, 0, 0, "not a JSON text file: it contains a NUL byte");
		d->file = saved;
		return NULL;
	}
	return json_doc_parse(file, text, d);
}

void json_doc_free(struct json_doc *doc)
{
	if (!doc)
		return;
	cJSON_Delete(doc->root);
	free(doc->file);
	free(doc->text);
	free(doc->items);
	free(doc->lines);
	free(doc);
}

int json_doc_line(const struct json_doc *doc, const cJSON *item)
{
	for (size_t i = 0; i < doc->n_items; i++)
		if (doc->items[i] == item)
			return doc->lines[i];
	return 0;
}
