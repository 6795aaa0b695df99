/* Plans rendered for people: the shell commands that build a lab by hand. */
#ifndef TESTBED_PLAN_RENDER_H
#define TESTBED_PLAN_RENDER_H

#include <stdio.h>

#include "plan/plan.h"

void plan_render_sh(const struct plan *p, FILE *out);

/* S as one word of a POSIX shell: as it is when it holds only characters
 * no shell reads specially, else in single quotes; control characters, which
 * would reach a terminal raw, are spelt out through printf(1) octal escapes
 * (a line break stays within the quotes). */
void sh_quote(FILE *out, const char *s);

/* The delimiter of a here-document holding TEXT: "EOF", or "EOF1",
 * "EOF2"... when a line of TEXT is that word, so that no content can end it. */
void sh_heredoc_delimiter(const char *text, char *buf, size_t size);

#endif
