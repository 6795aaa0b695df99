/* `testbed apply` and `testbed delete` on a lab's object set, as `kubectl
 * apply -f` and `kubectl delete -f` change the API server's: objects are
 * known by kind, namespace and name; apply creates or replaces one, delete
 * removes it (an object the set does not hold is NotFound, an error).
 * Pure data: the set is a flat JSON array of objects (model/compile.h's
 * compile_source_doc), edited in place; nothing here looks at a lab. */
#ifndef TESTBED_K8S_APPLY_H
#define TESTBED_K8S_APPLY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "model/docwalk.h"

/* Applies (DELETE false) or deletes the objects of W's document (a
 * manifest's root array: objects or kind: List of them) to OBJECTS. A Pod
 * must name a pod the set holds: its labels replace that pod's, its spec
 * may be left out (the pod's stays), and a spec that differs from the
 * pod's is an error. Problems are reported through W, naming the input's
 * path; returns whether there were none (OBJECTS may then be half
 * edited: the caller edits a copy). WHERE, beside OBJECTS, holds where
 * each object was written ("FILE:LINE"), kept in step. */
bool k8s_set_edit(cJSON *objects, cJSON *where, struct docwalk *w, bool delete);
/* The index in OBJECTS of the object of OBJ's kind, namespace and name,
 * or -1. */
int k8s_set_index(const cJSON *objects, const cJSON *obj);
/* Where the object of KIND, NAMESPACE and NAME was written, or NULL. */
const char *k8s_set_where(const cJSON *objects, const cJSON *where, const char *kind, const char *ns,
			  const char *name);

#endif
