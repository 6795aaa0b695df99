#define _GNU_SOURCE
#include "model/compile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/cluster_dns.h"
#include "model/docwalk.h"
#include "model/expect.h"
#include "model/ingress.h"
#include "model/ipam.h"
#include "model/k8s.h"
#include "model/jsondoc.h"
#include "model/schedule.h"
#include "model/topology.h"
#include "model/validate.h"
#include "model/yamldoc.h"
#include "util/diag.h"
#include "util/util.h"

static bool manifest_name(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files "manifests" entry ENTRY (at PATH) means: itself, or, for a
 * directory, its *.yaml, *.yml and *.json in name order, as kubectl apply
 * -f DIR takes them. Relative to DIR, the topology file's folder as given,
 * so that messages name them as the user reaches them. */
static char **manifest_files(const char *dir, const char *entry, const cJSON *item, const char *path,
			     struct docwalk *w, size_t *n)
{
	*n = 0;
	char *file = entry[0] == '/' || strcmp(dir, ".") == 0 ? xstrdup(entry) : xasprintf("%s/%s", dir, entry);
	struct stat st;
	if (stat(file, &st) < 0) {
		docwalk_error(w, item, path, "\"%s\": %s", file, strerror(errno));
		free(file);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		char **one = xcalloc(1, sizeof(*one));
		one[(*n)++] = file;
		return one;
	}
	autoclose int fd = open(file, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = NULL;
	struct tb_err e;
	if (fd < 0 || dir_names(fd, manifest_name, file, &names, n, &e) < 0) {
		docwalk_error(w, item, path, "\"%s\": %s", file, fd < 0 ? strerror(errno) : e.msg);
		free(file);
		return NULL;
	}
	if (*n > 1)
		qsort(names, *n, sizeof(*names), by_name);
	bool slash = file[strlen(file) - 1] == '/';
	for (size_t i = 0; i < *n; i++) {
		char *joined = xasprintf("%s%s%s", file, slash ? "" : "/", names[i]);
		free(names[i]);
		names[i] = joined;
	}
	if (*n == 0)
		docwalk_error(w, item, path, "\"%s\" holds no *.yaml, *.yml or *.json", file);
	free(file);
	return names;
}

/* The Kubernetes objects the topology holds ("objects") and those its
 * manifests do ("manifests"), in that order. */
static bool read_objects(struct tb_topology *t, const struct json_doc *doc, const char *dir, struct diag *d)
{
	const cJSON *objects = cJSON_GetObjectItemCaseSensitive(doc->root, "objects");
	const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc->root, "manifests");
	if (!objects && !manifests)
		return true;
	size_t errors = d->count;
	struct docwalk w = {.doc = doc, .d = d, .columns = true};
	struct k8s_objects *o = k8s_objects_new(t);
	if (objects)
		k8s_read_objects(o, &w, objects, "objects", NULL);
	struct docwalk top = {.doc = doc, .d = d};
	size_t i = 0;
	for (const cJSON *m = manifests && docwalk_array(&top, manifests, "manifests", "an array of paths")
				      ? manifests->child
				      : NULL;
	     m; m = m->next, i++) {
		autofree char *at = docwalk_path_index("manifests", i);
		const char *entry = docwalk_string(&top, m, at, "a path: a file or a directory of manifests");
		size_t n = 0;
		char **files = entry ? manifest_files(dir, entry, m, at, &top, &n) : NULL;
		for (size_t k = 0; k < n; k++) {
			/* The topology keeps the names: origins point at them. */
			t->files = xrealloc(t->files, (t->n_files + 1) * sizeof(*t->files));
			t->files[t->n_files++] = files[k];
			struct json_doc *manifest = json_doc_load_manifest(files[k], d);
			if (!manifest)
				continue;
			struct docwalk mw = {.doc = manifest, .d = d, .columns = true};
			k8s_read_documents(o, &mw, manifest->root, files[k]);
			json_doc_free(manifest);
		}
		free(files);
	}
	k8s_objects_done(o);
	return d->count == errors;
}

struct tb_topology *compile_model_doc(struct json_doc *doc, const char *dir, struct diag *d)
{
	/* Messages name the file the document was read from. */
	const char *saved_file = d->file;
	d->file = doc->file;
	size_t errors = d->count;
	struct tb_topology *t = topology_parse(doc, dir, d);
	/* "expect" is expect.c's, parsed beside the rest of the document so
	 * that its errors come with the others. */
	struct tb_expect *expects = NULL;
	size_t n_expects = 0;
	const cJSON *list = cJSON_IsObject(doc->root) ? cJSON_GetObjectItemCaseSensitive(doc->root, "expect") : NULL;
	struct docwalk w = {.doc = doc, .d = d};
	if (list)
		expect_parse(&w, list, "expect", &expects, &n_expects);
	if (t && d->count == errors) {
		t->has_expect = list != NULL;
		t->expects = expects;
		t->n_expects = n_expects;
	} else {
		expect_free(expects, n_expects);
		topology_free(t);
		t = NULL;
	}
	if (t) {
		bool ok = read_objects(t, doc, dir, d) && schedule_workloads(t, d) && cluster_dns_add(t, d) &&
			  ingress_controller_add(t, d) && validate_topology(t, d) && ipam_assign(t, d);
		/* Reading objects and validating them both note what is not used. */
		for (size_t k = 0; k < t->n_notes; k++)
			diag_note(d, t->notes[k]);
		if (!ok) {
			topology_free(t);
			t = NULL;
		}
	}
	d->file = saved_file;
	json_doc_free(doc);
	return t;
}

char *compile_file_dir(const char *file)
{
	/* Standard input and pipes (<(jq . lab.json) is /dev/fd/63) have no
	 * folder of their own: their relative paths mean the working
	 * directory's. */
	struct stat st;
	if (strcmp(file, JSON_DOC_STDIN) == 0 || stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return xstrdup(".");
	autofree char *copy = xstrdup(file);
	return xstrdup(dirname(copy));
}

struct tb_topology *compile_model_file(const char *file, struct diag *d)
{
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return NULL;
	autofree char *dir = compile_file_dir(file);
	return compile_model_doc(doc, dir, d);
}

/* Appends OBJ to OUT, a kind: List's items one by one, as copies, and
 * where each was written ("FILE:LINE" of DOC) to WHERE. */
static void flatten_into(cJSON *out, cJSON *where, const struct json_doc *doc, const cJSON *obj)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items");
	if (cJSON_IsString(kind) && strcmp(kind->valuestring, "List") == 0 && cJSON_IsArray(items)) {
		for (const cJSON *i = items->child; i; i = i->next)
			flatten_into(out, where, doc, i);
		return;
	}
	cJSON_AddItemToArray(out, cJSON_Duplicate(obj, true));
	autofree char *at = xasprintf("%s:%d", doc->file, json_doc_line(doc, obj));
	cJSON_AddItemToArray(where, cJSON_CreateString(at));
}

cJSON *compile_source_doc(const char *file, cJSON **where, struct diag *d)
{
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return NULL;
	autofree char *dir = compile_file_dir(file);
	cJSON *root = compile_source_of(doc, dir, where, d);
	json_doc_free(doc);
	return root;
}

cJSON *compile_source_of(const struct json_doc *doc, const char *dir, cJSON **where, struct diag *d)
{
	size_t errors = d->count;
	cJSON *root = cJSON_Duplicate(doc->root, true);
	cJSON *objects = cJSON_CreateArray();
	*where = cJSON_CreateArray();
	const cJSON *inline_objects = cJSON_GetObjectItemCaseSensitive(doc->root, "objects");
	for (const cJSON *o = cJSON_IsArray(inline_objects) ? inline_objects->child : NULL; o; o = o->next)
		flatten_into(objects, *where, doc, o);
	const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc->root, "manifests");
	struct docwalk top = {.doc = doc, .d = d};
	size_t i = 0;
	for (const cJSON *m = cJSON_IsArray(manifests) ? manifests->child : NULL; m; m = m->next, i++) {
		autofree char *at = docwalk_path_index("manifests", i);
		const char *entry = docwalk_string(&top, m, at, "a path: a file or a directory of manifests");
		size_t n = 0;
		char **files = entry ? manifest_files(dir, entry, m, at, &top, &n) : NULL;
		for (size_t k = 0; k < n; k++) {
			struct json_doc *manifest = json_doc_load_manifest(files[k], d);
			for (const cJSON *o = manifest && cJSON_IsArray(manifest->root) ? manifest->root->child : NULL;
			     o; o = o->next)
				flatten_into(objects, *where, manifest, o);
			json_doc_free(manifest);
			free(files[k]);
		}
		free(files);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, "manifests");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "objects");
	cJSON_AddItemToObject(root, "objects", objects);
	if (d->count != errors) {
		cJSON_Delete(root);
		cJSON_Delete(*where);
		*where = NULL;
		return NULL;
	}
	return root;
}
