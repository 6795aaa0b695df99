/* Plans rendered for people: the shell commands that build a lab by hand. */
#ifndef TESTBED_PLAN_RENDER_H
#define TESTBED_PLAN_RENDER_H

#include <stdio.h>

#include "plan/plan.h"
#include "util/util.h"

void plan_render_sh(const struct plan *p, FILE *out);

/* Shell rendering: every value reaches the script through
 * render_cmd or render_argv, which quote each word, and every comment
 * through render_comment, which escapes what could end or hide it. */
struct render_ctx {
	const struct plan *plan;
	FILE *out;
	char **ns; /* per machine: its network namespace's name (plan_render_sh fills it) */
};

/* One command line: the words up to NULL, each a single shell word. */
void render_cmd(const struct render_ctx *r, ...) __attribute__((sentinel));
/* The same built in parts, for commands with optional words: push the
 * words up to NULL, then write the line with render_argv. */
struct render_argv {
	const char **words; /* grown by render_push, freed by render_argv or render_heredoc */
	size_t n, cap;
};
void render_push(struct render_argv *a, ...) __attribute__((sentinel));
void render_argv(const struct render_ctx *r, struct render_argv *a);
/* The command A reading BODY as a here-document whose delimiter no line of
 * BODY equals and whose quoting keeps BODY from expansion. */
void render_heredoc(const struct render_ctx *r, struct render_argv *a, const char *body);
/* A comment line, "# " and the formatted text with line breaks, control
 * characters and bytes that are not UTF-8 escaped (str_escape). */
void render_comment(const struct render_ctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The name a machine's namespace has in rendered scripts. */
const char *render_ns(const struct render_ctx *r, size_t machine);

/* S as one word of a POSIX shell: as it is when it holds only characters
 * no shell reads specially, else in single quotes; control characters, which
 * would reach a terminal raw, are spelt out through printf(1) octal escapes
 * (a line break stays within the quotes). */
void sh_quote(FILE *out, const char *s);

/* The delimiter of a here-document holding TEXT: "EOF", or "EOF1",
 * "EOF2"... when a line of TEXT is that word, so that no content can end it. */
void sh_heredoc_delimiter(const char *text, char *buf, size_t size);

#endif
