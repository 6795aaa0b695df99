/* Diagnostics: a list of error messages, each naming the file, the line
 * where known and the JSON path, e.g.
 *   lab.json:14: nodes[1].pods[0].name: duplicate name "web" (first at nodes[0].pods[2])
 * or, for documents that name their own file and columns (manifests),
 *   k8s/web.yaml:14:7: Deployment shop/web: spec.replicas: expected a number
 * Collected rather than printed so that validation reports every error at
 * once and tests can compare them. Messages are kept escaped (str_escape):
 * one line each, whatever the topology holds. */
#ifndef TESTBED_DIAG_H
#define TESTBED_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct diag {
	const char *file; /* named in every message; NULL: "topology" */
	char **messages;  /* each points into one of blocks */
	size_t count, cap;
	/* Messages are packed into blocks rather than allocated one by one:
	 * a huge file can bring a million of them. */
	char **blocks;
	size_t n_blocks, cap_blocks;
	char *block_next; /* free space in the last block */
	size_t block_free;
	/* Not errors: what a reader of the input should know (the fields of
	 * objects the pod server stands in for). Escaped, malloc'd. */
	char **notes;
	size_t n_notes;
};

void diag_init(struct diag *d, const char *file);
void diag_free(struct diag *d);
/* An error on LINE (0: unknown) at PATH (NULL or "": the document as a
 * whole). Callers know their lines (topology.h keeps them), so diag needs
 * no JSON. */
void diag_error(struct diag *d, int line, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with the arguments in AP, for reporters of their own. */
void diag_verror(struct diag *d, int line, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* An error in FILE (NULL: D's file) at LINE and COLUMN (each 0 when
 * unknown; no column without a line) and PATH (NULL or "": none):
 * "FILE:LINE:COLUMN: PATH: message". For messages that name a file other
 * than D's, or a column: a manifest's, where D gathers several files'.
 * With FILE NULL and COLUMN 0 it is diag_error. */
void diag_error_in(struct diag *d, const char *file, int line, int column, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_verror_in(struct diag *d, const char *file, int line, int column, const char *path, const char *fmt,
		    va_list ap) __attribute__((format(printf, 6, 0)));
/* An error with an explicit position (line, and column if > 0). */
void diag_error_at(struct diag *d, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_print(const struct diag *d, FILE *out);
/* A note (a line of its own, escaped as messages are). */
void diag_note(struct diag *d, const char *text);

#endif
