/* Plans rendered for people: the shell commands that build a lab by hand. */
#ifndef TESTBED_PLAN_RENDER_H
#define TESTBED_PLAN_RENDER_H

#include <stdio.h>

#include "plan.h"

void plan_render_sh(const struct plan *p, FILE *out);

#endif
