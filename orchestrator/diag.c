#define _GNU_SOURCE
#include "diag.h"

#include "util.h"

void diag_init(struct diag *d, const char *file)
{
	*d = (struct diag){.file = file};
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->messages[i]);
	free(d->messages);
	*d = (struct diag){0};
}

/* Takes MESSAGE. Keys, values and paths come from the topology (and the
 * file name from the command line): escaping the whole message keeps a
 * control character in any of them from reaching the terminal raw or
 * splitting the one line each error gets. testbed's own words hold none. */
static void diag_push(struct diag *d, char *message)
{
	grow_array((void **)&d->messages, &d->cap, d->count + 1, sizeof(*d->messages));
	d->messages[d->count++] = str_escape(message);
	free(message);
}

static const char *diag_file(const struct diag *d)
{
	return d->file ? d->file : "topology";
}

void diag_error(struct diag *d, int line, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *what = xvasprintf(fmt, ap);
	va_end(ap);

	autofree char *where = line > 0 ? xasprintf("%s:%d", diag_file(d), line) : xstrdup(diag_file(d));
	if (path && *path)
		diag_push(d, xasprintf("%s: %s: %s", where, path, what));
	else
		diag_push(d, xasprintf("%s: %s", where, what));
}

void diag_error_at(struct diag *d, int line, int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	autofree char *what = xvasprintf(fmt, ap);
	va_end(ap);
	if (line > 0 && column > 0)
		diag_push(d, xasprintf("%s:%d:%d: %s", diag_file(d), line, column, what));
	else if (line > 0)
		diag_push(d, xasprintf("%s:%d: %s", diag_file(d), line, what));
	else
		diag_push(d, xasprintf("%s: %s", diag_file(d), what));
}

void diag_print(const struct diag *d, FILE *out)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(out, "%s\n", d->messages[i]);
}
