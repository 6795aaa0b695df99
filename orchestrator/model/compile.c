#define _GNU_SOURCE
#include "model/compile.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "model/ipam.h"
#include "model/jsondoc.h"
#include "model/topology.h"
#include "model/validate.h"
#include "util/diag.h"
#include "util/util.h"

struct tb_topology *compile_model_doc(struct json_doc *doc, const char *dir, struct diag *d)
{
	/* Messages name the file the document was read from. */
	const char *saved_file = d->file;
	d->file = doc->file;
	struct tb_topology *t = topology_parse(doc, dir, d);
	if (t && !(validate_topology(t, d) && ipam_assign(t, d))) {
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
	struct tb_err e;
	bool from_stdin = name != file;
	int rc = plan_build(t, !from_stdin && realpath(file, abs) ? abs : name, p, &e);
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
	 * (RFC 8259): a path that is not could not be written there as it is. */
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
