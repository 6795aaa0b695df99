/* What the readers of Kubernetes objects share (k8s.c holds the table of
 * kinds and the workloads; k8s_service.c Services and EndpointSlices): one
 * object being read, the classes of its fields, and the helpers that
 * check them. Not for outside the object readers. */
#ifndef TESTBED_K8S_OBJECT_H
#define TESTBED_K8S_OBJECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/docwalk.h"
#include "model/selector.h"
#include "model/topology.h"

/* What objects the documents read so far declared (k8s.h). */
struct k8s_objects {
	struct tb_topology *t;
	struct seen *seen;
	size_t n_seen, cap_seen;
};

/* One object being read. */
struct object {
	struct k8s_objects *o;
	struct docwalk *w;
	const char *file; /* NULL: the topology file */
	const cJSON *item;
	char *what;          /* "Deployment shop/web" */
	char **stood_in;     /* paths of the fields the pod server stands in for */
	size_t n_stood_in, cap_stood_in;
};

/* A field testbed does not build, and why: an error naming its path. */
struct refused {
	const char *key;
	const char *why;
};

struct fields {
	const char *const *used;
	const char *const *stood_in;
	const struct refused *refused;
};


/* PATH + "." + KEY (malloc'd). */
char *k8s_path(const char *path, const char *key);
/* OBJ's member KEY when it is there and not null (kubectl prints empty
 * fields as null, which means absent). */
const cJSON *k8s_field(const cJSON *obj, const char *key);
/* Checks OBJ's keys against F: unknown ones are errors (with the key a
 * typo meant), refused ones errors naming why, stood-in ones noted. */
void k8s_check_fields(struct object *x, const cJSON *obj, const char *path, const struct fields *f);
/* A labels object, checked, into *LABELS. */
void k8s_read_labels(struct object *x, const cJSON *obj, const char *path, struct tb_label **labels, size_t *n);
void k8s_free_labels(struct tb_label *labels, size_t n);
const char *k8s_label_value(const struct tb_label *labels, size_t n, const char *key);
/* A LabelSelector (matchLabels, matchExpressions). False after reporting. */
bool k8s_read_selector(struct object *x, const cJSON *obj, const char *path, struct label_selector *s);

/* The kinds of k8s_service.c. */
void k8s_read_service(struct object *x, const cJSON *spec, const char *namespace, const char *name);
void k8s_read_endpoint_slice(struct object *x, const cJSON *spec, const char *namespace, const char *name);
/* The kinds of k8s_ingress.c. */
void k8s_read_ingress(struct object *x, const cJSON *spec, const char *namespace, const char *name);
void k8s_read_ingress_class(struct object *x, const cJSON *spec, const char *namespace, const char *name);
/* The kind of k8s_netpol.c. */
void k8s_read_network_policy(struct object *x, const cJSON *spec, const char *namespace, const char *name);

#endif
