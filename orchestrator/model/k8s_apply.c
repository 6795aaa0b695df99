#define _GNU_SOURCE
#include "model/k8s_apply.h"

#include <string.h>

#include "model/jsondoc.h"
#include "util/util.h"

/* Kinds whose objects apply may change in a running lab: what the network
 * rules and labels come from. Nodes' pods and the rest need a new lab. */
static const char *const kinds[] = {"Namespace", "NetworkPolicy", "Service", "EndpointSlice", "Ingress",
				    "IngressClass", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
				    "Job", NULL};

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, b) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The namespace OBJ is in: "" for a cluster-scoped kind (Namespace,
 * IngressClass), metadata.namespace or "default" (kubectl's, without a
 * context naming another). */
static const char *namespace_of(const cJSON *obj)
{
	const char *kind = str_at(obj, "kind", NULL);
	if (kind && (strcmp(kind, "Namespace") == 0 || strcmp(kind, "IngressClass") == 0))
		return "";
	const char *ns = str_at(obj, "metadata", "namespace");
	return ns && ns[0] ? ns : "default";
}

static cJSON *find(const cJSON *objects, const char *kind, const char *ns, const char *name, int *index)
{
	*index = 0;
	for (cJSON *o = objects->child; o; o = o->next, (*index)++) {
		const char *k = str_at(o, "kind", NULL), *n = str_at(o, "metadata", "name");
		if (k && n && strcmp(k, kind) == 0 && strcmp(n, name) == 0 && strcmp(namespace_of(o), ns) == 0)
			return o;
	}
	return NULL;
}

static void describe(char *buf, size_t size, const char *kind, const char *ns, const char *name)
{
	snprintf(buf, size, "%s %s%s%s", kind, ns, ns[0] ? "/" : "", name);
}

static bool edit_one(cJSON *objects, cJSON *where, struct docwalk *w, const cJSON *obj, const char *path, bool delete)
{
	if (!cJSON_IsObject(obj)) {
		docwalk_error(w, obj, path, "expected a Kubernetes object, found %s", json_type_name(obj));
		return false;
	}
	const char *kind = str_at(obj, "kind", NULL), *name = str_at(obj, "metadata", "name");
	if (!kind || !name || !name[0]) {
		docwalk_error(w, obj, path, "an object needs a kind and a metadata.name");
		return false;
	}
	size_t k = 0;
	while (kinds[k] && strcmp(kinds[k], kind) != 0)
		k++;
	if (!kinds[k]) {
		docwalk_error(w, obj, path,
			      "%s: not implemented for a running lab: apply and delete change Namespaces (labels), "
			      "NetworkPolicies, Services, EndpointSlices, Ingresses, IngressClasses and pods' labels "
			      "(a Pod or a workload's template); bring the lab down and up for the rest",
			      kind);
		return false;
	}
	const char *ns = namespace_of(obj);
	char what[512];
	describe(what, sizeof(what), kind, ns, name);
	int index;
	cJSON *old = find(objects, kind, ns, name, &index);
	autofree char *at_line = xasprintf("%s:%d", w->doc->file, json_doc_line(w->doc, obj));
	if (delete) {
		if (!old) {
			docwalk_error(w, obj, path, "NotFound: %s: the lab holds no such object", what);
			return false;
		}
		cJSON_Delete(cJSON_DetachItemViaPointer(objects, old));
		cJSON_DeleteItemFromArray(where, index);
		return true;
	}
	cJSON *copy = cJSON_Duplicate(obj, true);
	if (strcmp(kind, "Pod") == 0) {
		if (!old) {
			docwalk_error(w, obj, path,
				      "%s: the lab holds no Pod object of that name; apply changes an existing pod's "
				      "labels (a workload's pods through its template), and a new pod needs the lab "
				      "brought down and up",
				      what);
			cJSON_Delete(copy);
			return false;
		}
		const cJSON *old_spec = cJSON_GetObjectItemCaseSensitive(old, "spec");
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
		if (!spec && old_spec) {
			cJSON_AddItemToObject(copy, "spec", cJSON_Duplicate(old_spec, true));
		} else if (spec && !(old_spec && cJSON_Compare(spec, old_spec, true))) {
			autofree char *at = docwalk_path_key(path, "spec");
			docwalk_error(w, spec, at,
				      "%s: a pod's spec cannot change in a running lab (leave spec out to change "
				      "its labels; bring the lab down and up for the rest)",
				      what);
			cJSON_Delete(copy);
			return false;
		}
	}
	if (old) {
		cJSON_ReplaceItemViaPointer(objects, old, copy);
		cJSON_ReplaceItemInArray(where, index, cJSON_CreateString(at_line));
	} else {
		cJSON_AddItemToArray(objects, copy);
		cJSON_AddItemToArray(where, cJSON_CreateString(at_line));
	}
	return true;
}

bool k8s_set_edit(cJSON *objects, cJSON *where, struct docwalk *w, bool delete)
{
	bool ok = true;
	const cJSON *root = w->doc->root;
	size_t i = 0;
	for (const cJSON *doc = cJSON_IsArray(root) ? root->child : NULL; doc; doc = doc->next, i++) {
		autofree char *path = docwalk_path_index("", i);
		const char *kind = str_at(doc, "kind", NULL);
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
		if (kind && strcmp(kind, "List") == 0 && cJSON_IsArray(items)) {
			size_t j = 0;
			for (const cJSON *it = items->child; it; it = it->next, j++) {
				autofree char *base = docwalk_path_key(path, "items");
				autofree char *at = docwalk_path_index(base, j);
				ok = edit_one(objects, where, w, it, at, delete) && ok;
			}
		} else {
			ok = edit_one(objects, where, w, doc, path, delete) && ok;
		}
	}
	if (i == 0) {
		docwalk_error(w, root, "", "holds no objects");
		ok = false;
	}
	return ok;
}

const char *k8s_set_where(const cJSON *objects, const cJSON *where, const char *kind, const char *ns,
			  const char *name)
{
	int index;
	if (!find(objects, kind, ns, name, &index))
		return NULL;
	const cJSON *w = cJSON_GetArrayItem(where, index);
	return cJSON_IsString(w) ? w->valuestring : NULL;
}

int k8s_set_index(const cJSON *objects, const cJSON *obj)
{
	const char *kind = str_at(obj, "kind", NULL), *name = str_at(obj, "metadata", "name");
	int index;
	if (!cJSON_IsObject(obj) || !kind || !name || !find(objects, kind, namespace_of(obj), name, &index))
		return -1;
	return index;
}
