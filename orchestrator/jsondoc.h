/* A JSON document read from a file: the cJSON tree plus the line on which
 * each item starts, so that errors can point at "lab.json:14". cJSON keeps
 * no positions, so after cJSON has accepted the text we walk the text and
 * the tree side by side (they are in the same order) and note each line. */
#ifndef TESTBED_JSONDOC_H
#define TESTBED_JSONDOC_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct diag;

struct json_doc {
	char *file;  /* as the user named it; used in messages */
	char *text;
	cJSON *root;
	const cJSON **items; /* items[i] starts on lines[i] */
	int *lines;
	size_t n_items, cap_items;
};

/* Read and parse FILE. On failure reports through diag (unreadable file or
 * JSON syntax error with line and column) and returns NULL. */
struct json_doc *json_doc_load(const char *file, struct diag *d);
/* Parse TEXT as if read from FILE (used by tests and by the loader). */
struct json_doc *json_doc_parse(const char *file, const char *text, struct diag *d);
void json_doc_free(struct json_doc *doc);
/* The line where ITEM starts, or 0 if unknown. */
int json_doc_line(const struct json_doc *doc, const cJSON *item);
/* "string", "number", ... for messages. */
const char *json_type_name(const cJSON *item);

#endif
