/* `testbed plan --format sh`: the lab as the commands that build it by
 * hand, in the order up applies the steps, each group under a comment
 * naming the article's section (or why the step exists).
 *
 * People pipe the script into a root shell, and every value in it comes
 * from a topology or a saved plan: values are written only as quoted words
 * and comments only through an escaper, so that no value runs as code. */
#define _GNU_SOURCE
#include "plan/plan_render.h"

#include <stdarg.h>
#include <string.h>

#include "plan/step_ops.h"
#include "util/util.h"

/* Characters no POSIX shell treats specially anywhere in a word. */
static const char plain_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-";

void sh_quote(FILE *out, const char *s)
{
	if (s[0] && strspn(s, plain_chars) == strlen(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", out);
		else if ((*c < ' ' && *c != '\n') || *c == 0x7f)
			fprintf(out, "'\"$(printf '\\%03o')\"'", *c);
		else
			fputc(*c, out);
	}
	fputc('\'', out);
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

void sh_heredoc_delimiter(const char *text, char *buf, size_t size)
{
	snprintf(buf, size, "EOF");
	for (unsigned i = 1; has_line(text, buf); i++)
		snprintf(buf, size, "EOF%u", i);
}

static void write_words(const struct render_ctx *r, const struct render_argv *a)
{
	for (size_t i = 0; i < a->n; i++) {
		if (i)
			fputc(' ', r->out);
		sh_quote(r->out, a->words[i]);
	}
}

static void push_words(struct render_argv *a, va_list ap)
{
	for (const char *w; (w = va_arg(ap, const char *));) {
		grow_array((void **)&a->words, &a->cap, a->n + 1, sizeof(*a->words));
		a->words[a->n++] = w;
	}
}

static void words_free(struct render_argv *a)
{
	free(a->words);
	*a = (struct render_argv){0};
}

void render_push(struct render_argv *a, ...)
{
	va_list ap;
	va_start(ap, a);
	push_words(a, ap);
	va_end(ap);
}

void render_cmd(const struct render_ctx *r, ...)
{
	struct render_argv a = {.n = 0};
	va_list ap;
	va_start(ap, r);
	push_words(&a, ap);
	va_end(ap);
	render_argv(r, &a);
}

void render_argv(const struct render_ctx *r, struct render_argv *a)
{
	write_words(r, a);
	fputc('\n', r->out);
	words_free(a);
}

void render_heredoc(const struct render_ctx *r, struct render_argv *a, const char *body)
{
	char delimiter[32];
	sh_heredoc_delimiter(body, delimiter, sizeof(delimiter));
	size_t len = strlen(body);
	write_words(r, a);
	fprintf(r->out, " <<'%s'\n%s%s%s\n", delimiter, body, len && body[len - 1] == '\n' ? "" : "\n", delimiter);
	words_free(a);
}

void render_comment(const struct render_ctx *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *text = xvasprintf(fmt, ap);
	va_end(ap);
	autofree char *safe = str_escape(text);
	fprintf(r->out, "# %s\n", safe);
}

const char *render_ns(const struct render_ctx *r, size_t machine)
{
	return r->ns[machine];
}

void plan_render_sh(const struct plan *p, FILE *out)
{
	struct render_ctx r = {.plan = p, .out = out, .ns = xcalloc(p->n_machines ? p->n_machines : 1, sizeof(char *))};
	for (size_t i = 0; i < p->n_machines; i++)
		r.ns[i] = plan_machine_file_name(&p->machines[i]);
	fputs("#!/bin/sh\n", out);
	render_comment(&r, "Lab %s (routing: %s), as testbed %s plans it: the commands that build its network", p->lab,
		       tb_routing_name(p->routing), p->version);
	fputs("# by hand, with iproute2, bridge(8), sysctl(8) and nft(8). Machines are network namespaces\n"
	      "# named after the lab's machines (a pod shown as NS/NAME gets NS_NAME). Run as root on a scratch\n"
	      "# machine, or in a scratch namespace:\n"
	      "#   mkdir -p /run/netns; unshare --net --mount sh -c 'mount -t tmpfs tmpfs /run/netns && ip link set lo "
	      "up && sh THIS'\n"
	      "# testbed up also gives each machine its own mount, UTS, IPC and PID namespaces, an image's root\n"
	      "# filesystem and its workload (noted below); this script builds the network alone.\n"
	      "set -eu\n",
	      out);
	const char *last_note = NULL;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		if (s->note && (!last_note || strcmp(s->note, last_note) != 0)) {
			fputc('\n', out);
			render_comment(&r, "%s", s->note);
			last_note = s->note;
		}
		step_ops(s->kind)->render(&r, s);
	}
	for (size_t i = 0; i < p->n_machines; i++)
		free(r.ns[i]);
	free(r.ns);
}
