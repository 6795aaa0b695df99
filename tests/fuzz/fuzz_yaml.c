/* libFuzzer target: the YAML front end (json_doc_parse_yaml, yamldoc.c),
 * which reads manifests a stranger may have written.
 *
 * Beyond "no crash, no leak, no undefined behaviour, no endless time":
 *  - refused, a stream has messages, one line each, naming its file;
 *  - accepted, it has none, and what it made keeps yamldoc.h's promises:
 *    at most YAML_DOC_VALUES_BASE + size values, aliases expanded; every
 *    value has a position within the text; no mapping repeats a key
 *    (docwalk finds none); and each document is JSON that cJSON prints
 *    and reads back as the same tree, as the object parsers will. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/docwalk.h"
#include "model/jsondoc.h"
#include "model/yamldoc.h"
#include "scratch.h"
#include "util/diag.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "fuzz.yaml"

/* Messages are escaped: one line each, whatever the input held. */
static void check_messages(const struct diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	FUZZ_ASSERT(out, "open_memstream failed");
	diag_print(d, out);
	fclose(out);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	FUZZ_ASSERT(lines == d->count, "%zu messages printed as %zu lines", d->count, lines);
	free(buf);
	for (size_t i = 0; i < d->count; i++)
		FUZZ_ASSERT(str_has_prefix(d->messages[i], FILE_NAME ":"), "a message without its file: %s",
			    d->messages[i]);
}

/* Counts ITEM and what it holds, checking that each has a position within
 * the text's LINES (or just past them: libyaml puts the empty value of a
 * last "? key" there). */
static size_t check_positions(const struct json_doc *doc, const cJSON *item, int lines)
{
	int line = json_doc_line(doc, item), column = json_doc_column(doc, item);
	FUZZ_ASSERT(line >= 1 && line <= lines + 1 && column >= 1, "a value at %d:%d, in a text of %d lines", line,
		    column, lines);
	size_t n = 1;
	for (const cJSON *child = item->child; child; child = child->next)
		n += check_positions(doc, child, lines);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A file's bytes up to its first NUL: json_doc_load_yaml refuses the rest. */
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	size_t len = strlen(text);
	/* At most: "\r\n" counts twice here, once for libyaml, which also
	 * breaks lines at U+0085, U+2028 and U+2029. */
	int lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n' || text[i] == '\r' || strncmp(text + i, "\xC2\x85", 2) == 0 ||
			 strncmp(text + i, "\xE2\x80\xA8", 3) == 0 || strncmp(text + i, "\xE2\x80\xA9", 3) == 0;

	struct diag d;
	diag_init(&d, "topology.json");
	struct json_doc *doc = json_doc_parse_yaml(FILE_NAME, text, &d);
	free(text);
	if (!doc) {
		FUZZ_ASSERT(d.count > 0, "a stream was refused without a message");
		check_messages(&d);
		diag_free(&d);
		return 0;
	}
	FUZZ_ASSERT(d.count == 0, "a stream was accepted with %zu messages: %s", d.count, d.messages[0]);
	FUZZ_ASSERT(cJSON_IsArray(doc->root), "the root is no array of documents");

	size_t values = check_positions(doc, doc->root, lines);
	FUZZ_ASSERT(values <= YAML_DOC_VALUES_BASE + len, "%zu values from %zu bytes", values, len);

	struct docwalk w = {.doc = doc, .d = &d, .columns = true};
	docwalk_check_duplicate_keys(&w, doc->root, "");
	FUZZ_ASSERT(d.count == 0, "a repeated key was accepted: %s", d.messages[0]);

	for (const cJSON *document = doc->root->child; document; document = document->next) {
		FUZZ_ASSERT(!cJSON_IsNull(document), "a null document was kept");
		char *json = cJSON_PrintUnformatted(document);
		FUZZ_ASSERT(json, "cJSON cannot print a document");
		struct json_doc *back = json_doc_parse("back.json", json, &d);
		FUZZ_ASSERT(back, "a document is no JSON: %s\n%s", d.count ? d.messages[0] : "", json);
		FUZZ_ASSERT(cJSON_Compare(document, back->root, true), "a document reads back otherwise:\n%s", json);
		json_doc_free(back);
		free(json);
	}
	json_doc_free(doc);
	diag_free(&d);
	return 0;
}
