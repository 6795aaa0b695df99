/* A JSON document read from a file: the cJSON tree plus the line and the
 * column on which each item starts, so that errors can point at
 * "lab.json:14" (or "web.json:14:7"). cJSON keeps no positions, so after
 * cJSON has accepted the text we walk the text and the tree side by side
 * (they are in the same order) and note each position.
 *
 * Columns count characters (UTF-8 code points, a tab being one) from 1, as
 * libyaml counts them, so that the YAML front end (yamldoc.h), which makes
 * the same struct, agrees; a byte order mark at the start is no character
 * of the first line. */
#ifndef TESTBED_JSONDOC_H
#define TESTBED_JSONDOC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct diag;
struct tb_err;

/* The largest topology file testbed reads: thousands of times any real
 * lab, yet small enough that an endless source (/dev/zero) fails within
 * a moment and a few dozen MiB of memory. */
#define JSON_DOC_MAX_BYTES ((size_t)64 << 20)
#define JSON_DOC_MAX_TEXT "64 MiB"
/* FILE "-" is standard input; messages name it so. */
#define JSON_DOC_STDIN "-"
#define JSON_DOC_STDIN_NAME "<stdin>"

/* One item's position, in a hash table keyed by the item's address. */
struct json_doc_slot {
	const cJSON *item; /* NULL: free */
	int line, column;
};

struct json_doc {
	char *file;  /* as messages name it: the user's FILE, or "<stdin>" */
	char *text;
	cJSON *root;
	struct json_doc_slot *slots; /* 2^slot_bits of them, at most half used; NULL: none yet */
	size_t n_items;              /* items with a position */
	unsigned slot_bits;
};

/* Read and parse FILE ("-": standard input). On failure reports through
 * diag (unreadable or unsuitable file, JSON syntax error with line and
 * column, a string holding U+0000, nesting too deep) and returns NULL. */
struct json_doc *json_doc_load(const char *file, struct diag *d);
/* Parse TEXT as if read from FILE (used by tests and by the loader). */
struct json_doc *json_doc_parse(const char *file, const char *text, struct diag *d);
void json_doc_free(struct json_doc *doc);
/* The line where ITEM starts, or 0 if unknown. Constant time. */
int json_doc_line(const struct json_doc *doc, const cJSON *item);
/* The column where ITEM starts (characters, from 1), or 0 if unknown. The
 * topology's messages name lines only; manifests' name columns too. */
int json_doc_column(const struct json_doc *doc, const cJSON *item);
/* For front ends: ITEM starts at LINE and COLUMN (replacing what was
 * recorded for it). Amortised constant time. */
void json_doc_set_position(struct json_doc *doc, const cJSON *item, int line, int column);
/* "string", "number", ... for messages. */
const char *json_type_name(const cJSON *item);

/* For front ends. AT's line and column in TEXT (from 1, counted as above;
 * TEXT starts past any byte order mark). */
void json_doc_position(const char *text, const char *at, int *line, int *column);
/* Whether the LEN bytes at TEXT (past any byte order mark) are UTF-8;
 * if not, reports where they stop being so as FILE's: "FILE:2:5: not
 * UTF-8: byte 0xe9 starts no valid UTF-8 character; RULE" (RULE: "a JSON
 * file must be UTF-8 text (RFC 8259)"). */
bool json_doc_check_utf8(const char *file, const char *text, size_t len, const char *rule, struct diag *d);

/* The whole of FILE ("-": standard input), read to its end (pipes and
 * /proc files have no size to trust) and NUL-terminated. NULL with E
 * saying why, without FILE's name: it cannot be read, is a directory or a
 * device, or holds more than JSON_DOC_MAX_BYTES. */
char *json_doc_read(const char *file, size_t *len, struct tb_err *e);
/* FILE as messages name it: "<stdin>" for "-". */
const char *json_doc_file_name(const char *file);

#endif
