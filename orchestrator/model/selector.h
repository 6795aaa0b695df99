/* Label selectors: which pods a set of requirements on their labels
 * picks, as Kubernetes means it (k8s.io/apimachinery/pkg/labels).
 *
 * A selector is requirements that must all hold: a key's value in a set
 * or not, a key there or not. kubectl's -l syntax writes them (parsed
 * here); a NetworkPolicy's or Service's matchLabels and matchExpressions
 * are the same requirements written as objects, built with
 * label_selector_add, and matched by the same code.
 *
 * Expectations name pods by a selector with its namespace: NAMESPACE/SEL
 * or "*"/SEL for every namespace (a pod_selector). */
#ifndef TESTBED_SELECTOR_H
#define TESTBED_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "model/topology.h"

/* matchExpressions' operators. kubectl's k=v and k==v are In (v), k!=v is
 * NotIn (v): both hold for a pod without the key, as Kubernetes has it. */
enum selector_op {
	SELECTOR_IN,
	SELECTOR_NOT_IN,
	SELECTOR_EXISTS,
	SELECTOR_DOES_NOT_EXIST,
};

struct selector_requirement {
	char *key;
	enum selector_op op;
	char **values; /* In and NotIn: at least one */
	size_t n_values;
};

/* Every requirement must hold; none selects every pod. */
struct label_selector {
	struct selector_requirement *reqs;
	size_t n_reqs;
};

/* Parses TEXT in kubectl's -l syntax: requirements joined by ',', each
 * k=v, k==v, k!=v, k in (v1,v2), k notin (v1,v2), k or !k, with white
 * space around tokens; keys and values as Kubernetes labels have them.
 * The empty text selects every pod. False with *WHY (malloc'd) saying what
 * is wrong and where. */
bool label_selector_parse(const char *text, struct label_selector *s, char **why);
/* Appends a requirement: KEY, OP and N VALUES (copied). */
void label_selector_add(struct label_selector *s, const char *key, enum selector_op op, const char *const *values,
			size_t n);
/* DST becomes a copy of SRC (which it must not be). */
void label_selector_copy(struct label_selector *dst, const struct label_selector *src);
bool label_selector_matches(const struct label_selector *s, const struct tb_label *labels, size_t n);
void label_selector_free(struct label_selector *s);

/* Pods by their namespace and labels: "shop/app=web,tier!=db" the pods of
 * namespace shop so labelled, "*"/app=web those of every namespace. */
struct pod_selector {
	char *namespace; /* NULL: every namespace */
	struct label_selector labels;
};

/* Is TEXT written as a pod selector rather than as NAMESPACE/NAME? Its
 * part before the first '/' is "*", or the rest is empty (every pod of
 * the namespace) or holds an operator ('=', '!', '(', ',', white space).
 * A lone key after NAMESPACE/ is a pod's name: "shop/web" is pod web of
 * namespace shop. */
bool pod_selector_is_written(const char *text);
/* Parses NAMESPACE/SELECTOR or "*"/SELECTOR; false with *WHY (malloc'd). */
bool pod_selector_parse(const char *text, struct pod_selector *s, char **why);
/* Does a pod of NAMESPACE with LABELS match S? */
bool pod_selector_matches(const struct pod_selector *s, const char *namespace, const struct tb_label *labels,
			  size_t n);
void pod_selector_free(struct pod_selector *s);

#endif
