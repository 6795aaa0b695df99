#define _GNU_SOURCE
#include "cli/compile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "model/topology.h"
#include "plan/plan_compile.h"

static int plan_from_model(struct tb_topology *t, const char *topology, struct plan *p, struct diag *d);

int compile_topology_file(const char *file, struct plan *p, struct diag *d)
{
	*p = (struct plan){0};
	/* Standard input ("-") is "<stdin>" in every message and record. */
	const char *name = json_doc_file_name(file);
	if (d->file && strcmp(d->file, file) == 0)
		d->file = name;
	struct tb_topology *t = compile_model_file(file, d);
	if (!t)
		return -1;
	char abs[PATH_MAX];
	bool from_stdin = name != file;
	return plan_from_model(t, !from_stdin && realpath(file, abs) ? abs : name, p, d);
}

int compile_topology_file_source(const char *file, struct plan *p, cJSON **source, cJSON **where, char **dir,
				 struct diag *d)
{
	*p = (struct plan){0};
	*source = *where = NULL;
	const char *name = json_doc_file_name(file);
	if (d->file && strcmp(d->file, file) == 0)
		d->file = name;
	/* Read once: standard input cannot be read again. */
	struct json_doc *doc = json_doc_load(file, d);
	if (!doc)
		return -1;
	autofree char *folder = compile_file_dir(file);
	*source = compile_source_of(doc, folder, where, d);
	if (!*source) {
		json_doc_free(doc);
		return -1;
	}
	struct tb_topology *t = compile_model_doc(doc, folder, d);
	char abs[PATH_MAX];
	bool from_stdin = name != file;
	if (!t || plan_from_model(t, !from_stdin && realpath(file, abs) ? abs : name, p, d) < 0) {
		cJSON_Delete(*source);
		cJSON_Delete(*where);
		*source = *where = NULL;
		return -1;
	}
	*dir = realpath(folder, NULL);
	if (!*dir)
		*dir = xstrdup(folder);
	return 0;
}

int compile_topology_doc(struct json_doc *doc, const char *dir, const char *topology, struct plan *p,
			 struct diag *d)
{
	*p = (struct plan){0};
	struct tb_topology *t = compile_model_doc(doc, dir, d);
	if (!t)
		return -1;
	return plan_from_model(t, topology, p, d);
}

static int plan_from_model(struct tb_topology *t, const char *topology, struct plan *p, struct diag *d)
{
	struct tb_err e;
	int rc = plan_build(t, topology, p, &e);
	topology_free(t);
	if (rc < 0) {
		diag_error_at(d, 0, 0, "%s", e.msg);
		return -1;
	}
	/* Images by their real path, so that two files naming one tarball
	 * differently plan the same lab. */
	for (size_t i = 0; i < p->n_images; i++) {
		char *real = realpath(p->images[i].path, NULL);
		if (real) {
			free(p->images[i].path);
			p->images[i].path = real;
		}
	}
	/* Plans and the lab's records are JSON, which holds only UTF-8 text
	 * (RFC 8259): a path that is not could not be written there as it is.
	 * Checked on the plan, which names the images its machines use. */
	bool paths_ok = true;
	if (!str_is_utf8(p->topology)) {
		diag_error_at(d, 0, 0, "the file's path, %s, is not UTF-8: plans and lab records, which name it, are JSON",
			      p->topology);
		paths_ok = false;
	}
	for (size_t i = 0; i < p->n_images; i++)
		if (!str_is_utf8(p->images[i].path)) {
			diag_error_at(d, 0, 0,
				      "image \"%s\": its path, %s, is not UTF-8: plans and lab records, which name it, "
				      "are JSON",
				      p->images[i].name, p->images[i].path);
			paths_ok = false;
		}
	if (!paths_ok || !check_validate(p, d)) {
		plan_free(p);
		return -1;
	}
	return 0;
}
