/* Checking a parsed document against a schema: the part every schema
 * shares. JSON paths for messages ("nodes[1].pods[0].name"), members that
 * must or may be there, unknown keys (with the key a typo meant), repeated
 * keys, values of the wrong type, DNS-label names and Kubernetes labels;
 * each problem is reported through diag on the line the value starts on.
 *
 * A document is a cJSON tree plus the line each of its values starts on
 * (struct json_doc, jsondoc.h). The JSON front end makes one from text; a
 * front end for another syntax makes the same form, and what walks it here
 * is the same. A schema (topology.c) says which keys an object has and
 * what they mean; the walker only checks and reports.
 *
 * Messages name D's file and the line: whoever runs the walk points D at
 * the document's file (compile.c does). With `columns` set they name the
 * document's own file and the column as well, and `prefix` names the
 * object they are about, as a manifest's messages do:
 *   k8s/web.yaml:14:7: Deployment shop/web: spec.replicas: expected a number
 * Strings returned point into the document. */
#ifndef TESTBED_DOCWALK_H
#define TESTBED_DOCWALK_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct diag;
struct json_doc;

struct docwalk {
	const struct json_doc *doc; /* the document walked */
	struct diag *d;             /* where its problems go */
	/* Messages name DOC->file, the line and the column ("web.yaml:14:7:")
	 * rather than D's file and the line only, which is the topology's
	 * form (tests/bad pins it): one diag can then gather the messages of
	 * many manifests. */
	bool columns;
	/* When set, what messages are about, before the path: the object's
	 * identity, "Deployment shop/web". Not copied: it must outlive the
	 * walk's messages. */
	const char *prefix;
};

/* Where ITEM starts; 0 for NULL or unknown. Models keep lines rather than
 * items, so that they can outlive the document. */
int docwalk_line(const struct docwalk *w, const cJSON *item);
/* The line of OBJ's member KEY; 0 when OBJ has none. */
int docwalk_key_line(const struct docwalk *w, const cJSON *obj, const char *key);
/* The column where ITEM starts (characters, from 1); 0 for NULL or unknown. */
int docwalk_column(const struct docwalk *w, const cJSON *item);

/* Reports a problem with ITEM, at PATH and on ITEM's line (none for NULL),
 * through W's diag: how a schema states what only it knows. */
void docwalk_error(struct docwalk *w, const cJSON *item, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with the arguments in AP, for reporters of their own. */
void docwalk_verror(struct docwalk *w, const cJSON *item, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Paths, malloc'd: "nodes[1]" + "name" -> "nodes[1].name", "" + "name" ->
 * "name"; "nodes" + 1 -> "nodes[1]". "" is the document as a whole. */
char *docwalk_path_key(const char *path, const char *key);
char *docwalk_path_index(const char *path, size_t i);

/* Reports each member of OBJ (at PATH) whose key is not in ALLOWED
 * (NULL-terminated): "unknown key (did you mean "podCIDR"?)" when one is
 * close, else "unknown key (expected one of: ...)", leaving out keys that
 * start with '$'. A typo is an error rather than a setting ignored. */
void docwalk_check_keys(struct docwalk *w, const cJSON *obj, const char *path, const char *const *allowed);
/* Reports every key repeated within an object, in ITEM and everything
 * below it: "duplicate key (first on line N)" ("..., column C" with
 * columns). JSON allows it and cJSON reads the first; it is almost always
 * a mistake. */
void docwalk_check_duplicate_keys(struct docwalk *w, const cJSON *item, const char *path);
/* OBJ's member KEY, or NULL when it has none (after reporting "missing
 * required key" if REQUIRED). */
const cJSON *docwalk_member(struct docwalk *w, const cJSON *obj, const char *path, const char *key, bool required);

/* Types. OK says whether ITEM is what the schema wants; when not, reports
 * "expected WHAT, got a number" (WHAT: "an array of pods", ...). Returns OK. */
bool docwalk_want(struct docwalk *w, const cJSON *item, const char *path, bool ok, const char *what);
bool docwalk_object(struct docwalk *w, const cJSON *item, const char *path, const char *what);
bool docwalk_array(struct docwalk *w, const cJSON *item, const char *path, const char *what);
/* ITEM's text, or NULL after reporting that it is no string. */
const char *docwalk_string(struct docwalk *w, const cJSON *item, const char *path, const char *what);
/* ITEM's truth in *OUT; false after reporting that it is neither true nor false. */
bool docwalk_bool(struct docwalk *w, const cJSON *item, const char *path, bool *out);
/* Whether ITEM is a whole number from LO to HI. */
bool docwalk_is_int(const cJSON *item, int lo, int hi);
/* ITEM as a whole number from LO to HI in *OUT. False after reporting
 * "expected WHAT, got ..." for anything but a number, or "N is not NOUN:
 * expected a whole number from LO to HI" for a number that is not one. */
bool docwalk_int(struct docwalk *w, const cJSON *item, const char *path, int lo, int hi, const char *what,
		 const char *noun, int *out);
/* The index of ITEM's text in CHOICES (NULL-terminated), or -1 after
 * reporting: "\"x\": expected \"a\", \"b\" or \"c\"". */
int docwalk_choice(struct docwalk *w, const cJSON *item, const char *path, const char *const *choices);

/* Names. A DNS label (RFC 1123), as Kubernetes names most things: 1-63
 * of a-z, 0-9 and '-', a letter or digit at both ends. */
#define DOCWALK_DNS_LABEL_MAX 63
bool docwalk_is_dns_label(const char *s);
/* A Kubernetes label key: an optional DNS-subdomain prefix and '/', then
 * a name of at most 63 alphanumerics, '-', '_' and '.', alphanumeric at
 * both ends. A value follows the name rule, or is empty. */
bool docwalk_is_label_key(const char *s);
bool docwalk_is_label_value(const char *s);
/* OBJ's required "name", a DNS label; NULL after reporting. */
const char *docwalk_name(struct docwalk *w, const cJSON *obj, const char *path);
/* Checks MEMBER of the labels object at PATH: a label key with a string
 * that is a label value. False after reporting. */
bool docwalk_label(struct docwalk *w, const cJSON *member, const char *path);

#endif
