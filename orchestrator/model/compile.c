#define _GNU_SOURCE
#include "model/compile.h"

#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

#include "model/docwalk.h"
#include "model/expect.h"
#include "model/ipam.h"
#include "model/k8s.h"
#include "model/jsondoc.h"
#include "model/schedule.h"
#include "model/topology.h"
#include "model/validate.h"
#include "util/diag.h"
#include "util/util.h"

/* The Kubernetes objects the topology holds ("objects"). */
static bool read_objects(struct tb_topology *t, const struct json_doc *doc, struct diag *d)
{
	const cJSON *objects = cJSON_GetObjectItemCaseSensitive(doc->root, "objects");
	if (!objects)
		return true;
	size_t errors = d->count;
	struct docwalk w = {.doc = doc, .d = d};
	struct k8s_objects *o = k8s_objects_new(t);
	k8s_read_objects(o, &w, objects, "objects", NULL);
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
	if (t && !(read_objects(t, doc, d) && schedule_workloads(t, d) && validate_topology(t, d) &&
		   ipam_assign(t, d))) {
		topology_free(t);
		t = NULL;
	}
	d->file = saved_file;
	json_doc_free(doc);
	return t;
}

struct tb_topology *compile_model_file(const char *file, struct diag *d)
{
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return NULL;
	/* Standard input and pipes (<(jq . lab.json) is /dev/fd/63) have no
	 * folder of their own: their relative image paths mean the working
	 * directory's. */
	struct stat st;
	if (strcmp(file, JSON_DOC_STDIN) == 0 || stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return compile_model_doc(doc, ".", d);
	autofree char *copy = xstrdup(file);
	return compile_model_doc(doc, dirname(copy), d);
}
