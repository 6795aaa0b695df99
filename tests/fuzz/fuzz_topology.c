/* libFuzzer target: a topology file, from bytes to everything testbed
 * makes of it without touching the system, the path `validate`,
 * `plan FILE` and `graph FILE` take (and `up` before it applies anything):
 *
 *   json_doc_parse -> compile_model_doc -> plan_build -> check_validate,
 *   check_compile -> plan_to_json -> plan_from_json -> plan_to_json
 *   -> plan_render_sh, graph_write (mermaid and dot)
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks what the
 * saved plan promises: a plan read back from its JSON writes the same JSON,
 * and renders the same script and pictures, as the plan it was saved from
 * (commands on a running lab only ever see the read-back one).
 *
 * Image files are checked to exist (compile_model_doc stats them), so the
 * topology's folder is a scratch one holding every image name the seeds
 * use, all empty: img.tar beside it (tests/bad), pod.tar.zst and
 * node.tar.zst in ../images (topologies/) and ../../images (tests/labs/). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "util/diag.h"
#include "plan/graph.h"
#include "model/compile.h"
#include "model/jsondoc.h"
#include "plan/plan.h"
#include "plan/plan_compile.h"
#include "plan/plan_render.h"
#include "scratch.h"
#include "model/topology.h"
#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *root; /* the scratch tree */
static char *lab_dir; /* ROOT/a/b: the topology's folder */

static void remove_root(void)
{
	scratch_remove(root);
}

static void make_dir(const char *fmt, const char *base)
{
	autofree char *path = xasprintf(fmt, base);
	FUZZ_ASSERT(mkdir(path, 0755) == 0, "mkdir %s failed", path);
}

static void make_file(const char *fmt, const char *base)
{
	autofree char *path = xasprintf(fmt, base);
	scratch_touch(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	root = scratch_make("tb-fuzz-topology");
	atexit(remove_root);
	static const char *const dirs[] = {"%s/images", "%s/a", "%s/a/images", "%s/a/b", "%s/a/b/image-dir.tar"};
	static const char *const files[] = {"%s/images/pod.tar.zst", "%s/images/node.tar.zst",
					    "%s/a/images/pod.tar.zst", "%s/a/images/node.tar.zst", "%s/a/b/img.tar"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		make_dir(dirs[i], root);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		make_file(files[i], root);
	lab_dir = xasprintf("%s/a/b", root);
	return 0;
}

/* What WRITE prints about P, as one string (malloc'd). */
static char *capture(void (*write)(const struct plan *, FILE *, int), const struct plan *p, int arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	FUZZ_ASSERT(out, "open_memstream failed");
	write(p, out, arg);
	FUZZ_ASSERT(fclose(out) == 0, "writing to memory failed");
	return buf;
}

static void write_sh(const struct plan *p, FILE *out, int unused)
{
	(void)unused;
	plan_render_sh(p, out);
}

static void write_graph(const struct plan *p, FILE *out, int format)
{
	graph_write(out, (enum graph_format)format, p);
}

static void write_diag(const struct diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	FUZZ_ASSERT(out, "open_memstream failed");
	diag_print(d, out);
	fclose(out);
	/* Messages are escaped: one line each, whatever the input held. */
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	FUZZ_ASSERT(lines == d->count, "%zu messages printed as %zu lines", d->count, lines);
	free(buf);
}

/* The saved plan read back must be the plan: same JSON, same script,
 * same pictures. */
static void round_trip(const struct plan *p)
{
	autofree char *json = plan_to_json(p, true);
	struct plan back;
	struct tb_err e = {{0}};
	FUZZ_ASSERT(plan_from_json(json, &back, &e) == 0, "a saved plan cannot be read back: %s\n%s", e.msg, json);
	autofree char *again = plan_to_json(&back, true);
	FUZZ_ASSERT(strcmp(json, again) == 0, "the plan read back differs:\n%s\n---\n%s", json, again);

	autofree char *shape = plan_shape(p);
	autofree char *shape_back = plan_shape(&back);
	FUZZ_ASSERT(strcmp(shape, shape_back) == 0, "plan_shape differs after reading back");

	autofree char *sh = capture(write_sh, p, 0);
	autofree char *sh_back = capture(write_sh, &back, 0);
	FUZZ_ASSERT(strcmp(sh, sh_back) == 0, "plan --format sh differs after reading back");
	static const enum graph_format formats[] = {GRAPH_MERMAID, GRAPH_DOT};
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		autofree char *g = capture(write_graph, p, formats[i]);
		autofree char *g_back = capture(write_graph, &back, formats[i]);
		FUZZ_ASSERT(strcmp(g, g_back) == 0, "graph (format %d) differs after reading back", (int)formats[i]);
	}

	struct check_run run;
	struct diag d;
	diag_init(&d, "plan.json");
	check_compile(&back, &run, &d);
	check_run_free(&run); /* holds probes whatever check_compile says */
	write_diag(&d);
	diag_free(&d);
	plan_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A file's bytes up to its first NUL, as read_file hands them over. */
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	struct diag d;
	diag_init(&d, "fuzz.json");
	struct json_doc *doc = json_doc_parse("fuzz.json", text, &d);
	free(text);
	struct tb_topology *t = doc ? compile_model_doc(doc, lab_dir, &d) : NULL;
	if (!t) {
		FUZZ_ASSERT(d.count > 0, "a topology was refused without a message");
		write_diag(&d);
		diag_free(&d);
		return 0;
	}
	FUZZ_ASSERT(d.count == 0, "a topology was accepted with %zu errors", d.count);

	struct plan p;
	struct tb_err e = {{0}};
	autofree char *source = xasprintf("%s/fuzz.json", lab_dir);
	int rc = plan_build(t, source, &p, &e);
	topology_free(t);
	if (rc < 0) {
		/* Only features not built yet may fail here, with a message. */
		FUZZ_ASSERT(e.msg[0], "plan_build failed without a message");
		diag_free(&d);
		return 0;
	}
	/* As compile_topology_file (cli/compile.c) does: images by their real path. */
	for (size_t i = 0; i < p.n_images; i++) {
		char *real = realpath(p.images[i].path, NULL);
		if (real) {
			free(p.images[i].path);
			p.images[i].path = real;
		}
	}
	/* Past a contradiction in its expectations `validate` stops, but the
	 * plan is whole: the rest still has to hold for it. */
	check_validate(&p, &d);
	struct check_run run;
	check_compile(&p, &run, &d);
	check_run_free(&run);
	write_diag(&d);
	diag_free(&d);

	round_trip(&p);
	plan_free(&p);
	return 0;
}
