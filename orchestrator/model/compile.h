/* From a topology document to the validated model, in three passes that
 * know nothing of each other: parse (topology.c), validate (validate.c)
 * and assign addresses (ipam.c), expectations parsed beside the first
 * (expect.c). Each runs only when those before it found
 * no error: cross-entity checks on a half-parsed file would mostly repeat
 * its errors, and addresses are only assigned on a valid model. Nothing
 * here touches the system; the plan is made from the model above this
 * layer (cli/compile.h). */
#ifndef TESTBED_MODEL_COMPILE_H
#define TESTBED_MODEL_COMPILE_H

struct diag;
struct json_doc;
struct tb_topology;

/* The model of DOC, which this takes over and frees. DIR resolves relative
 * image paths. NULL after reporting every error found through D; the
 * messages name DOC's file. */
struct tb_topology *compile_model_doc(struct json_doc *doc, const char *dir, struct diag *d);
/* The same for FILE ("-": standard input), read and parsed first; relative
 * image paths resolve against FILE's folder. */
struct tb_topology *compile_model_file(const char *file, struct diag *d);
/* The folder FILE's relative paths resolve against (malloc'd): its own,
 * or "." (the working directory) for standard input and pipes. */
char *compile_file_dir(const char *file);

/* The Kubernetes objects FILE's lab declares, as one topology document:
 * FILE's root with its "manifests" read and put, with its own "objects",
 * into "objects" as a flat array (kind: List opened), in the order the
 * compiler reads them. What `apply` and `delete` edit (cli/cmd_apply.c) and
 * compile again; *WHERE, an array of "FILE:LINE" strings, says where each
 * object was written. NULL after reporting through D. */
#include <cjson/cJSON.h>
cJSON *compile_source_doc(const char *file, cJSON **where, struct diag *d);
/* The same for DOC, already read (standard input is read once), its
 * manifests under DIR; DOC stays the caller's. */
cJSON *compile_source_of(const struct json_doc *doc, const char *dir, cJSON **where, struct diag *d);

#endif
