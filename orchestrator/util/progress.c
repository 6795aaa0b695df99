#define _GNU_SOURCE
#include "util/progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/util.h"

#define BOLD "\033[1m"
#define RESET "\033[0m"
#define ERASE_LINE "\r\033[K"

static const char *const phase_names[PROGRESS_PHASE_COUNT] = {"images", "machines", "network", "servers"};

void progress_init(struct progress *pr, FILE *out, long long (*clock_ms)(void), int width, bool colour)
{
	*pr = (struct progress){.out = out, .clock_ms = clock_ms, .width = width, .colour = colour, .current = -1};
	if (out)
		pr->started_ms = pr->drawn_ms = clock_ms();
}

void progress_init_for_terminal(struct progress *pr, FILE *out, bool quiet)
{
	const char *term = getenv("TERM");
	const char *no_colour = getenv("NO_COLOR");
	int fd = fileno(out);
	/* Without TERM, or with a dumb one, erase-line may show as garbage. */
	if (quiet || !term || !*term || strcmp(term, "dumb") == 0 || fd < 0 || !isatty(fd)) {
		progress_init(pr, NULL, NULL, 0, false);
		return;
	}
	struct winsize ws;
	int width = ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
	progress_init(pr, out, now_ms, width, !(no_colour && *no_colour));
}

/* A line being built: the visible columns are counted apart from the
 * escape sequences, which take none. */
struct line {
	char *buf;
	size_t size, len;
	int columns;
};

static void line_add(struct line *l, bool visible, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line_add(struct line *l, bool visible, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t room = l->size - l->len - 1;
	l->len += (size_t)n < room ? (size_t)n : room;
	if (visible)
		l->columns += n;
}

/* Begun and not yet ended: up is at it. */
static bool under_way(const struct progress *pr, int phase)
{
	return pr->begun[phase] && !pr->ended[phase];
}

/* One phase as "name done/total", in bold while under way. */
static void add_phase(struct line *l, const struct progress *pr, int phase, bool colour)
{
	bool active = colour && under_way(pr, phase);
	if (active)
		line_add(l, false, BOLD);
	line_add(l, true, "%s %zu/%zu", phase_names[phase], pr->done[phase], pr->total[phase]);
	if (active)
		line_add(l, false, RESET);
}

/* COMPACT, for a narrow terminal: only the phases under way (or the last
 * one, once all have ended). Returns the visible columns. */
static int build(const struct progress *pr, long long now, char *buf, size_t size, bool colour, bool compact)
{
	struct line l = {.buf = buf, .size = size};
	buf[0] = '\0';
	long long elapsed = now > pr->started_ms ? now - pr->started_ms : 0;
	line_add(&l, true, "up %lld.%llds:", elapsed / 1000, elapsed % 1000 / 100);
	bool any_under_way = false;
	for (int i = 0; i < PROGRESS_PHASE_COUNT; i++)
		any_under_way |= under_way(pr, i);
	int shown = 0;
	for (int i = 0; i < PROGRESS_PHASE_COUNT; i++) {
		bool wanted = compact ? (any_under_way ? under_way(pr, i) : i == pr->current) : pr->begun[i];
		if (!wanted)
			continue;
		line_add(&l, true, "%s", shown++ ? "  " : " ");
		add_phase(&l, pr, i, colour);
	}
	return l.columns;
}

char *progress_format(const struct progress *pr, long long at_ms, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	int fits = pr->width > 1 ? pr->width - 1 : 0; /* the last column would wrap on some terminals */
	bool compact = build(pr, at_ms, buf, size, false, false) > fits;
	if (!compact || build(pr, at_ms, buf, size, false, true) <= fits) {
		build(pr, at_ms, buf, size, pr->colour, compact);
		return buf;
	}
	/* Narrower still: plain text, cut at the edge. */
	if ((size_t)fits < size)
		buf[fits] = '\0';
	return buf;
}

static void draw(struct progress *pr, long long now)
{
	char line[512];
	fprintf(pr->out, ERASE_LINE "%s", progress_format(pr, now, line, sizeof(line)));
	fflush(pr->out);
	pr->drawn_ms = now;
	pr->on_screen = true;
}

static void draw_if_due(struct progress *pr)
{
	long long now = pr->clock_ms();
	if (now - pr->drawn_ms >= PROGRESS_REDRAW_MS)
		draw(pr, now);
}

void progress_begin(struct progress *pr, enum progress_phase phase, size_t total)
{
	if (!pr || !pr->out)
		return;
	pr->begun[phase] = true;
	pr->ended[phase] = false;
	pr->done[phase] = 0;
	pr->total[phase] = total;
	pr->current = phase;
	draw(pr, pr->clock_ms());
}

void progress_advance(struct progress *pr, enum progress_phase phase, size_t n)
{
	if (!pr || !pr->out)
		return;
	pr->done[phase] += n;
	draw_if_due(pr);
}

void progress_end(struct progress *pr, enum progress_phase phase)
{
	if (!pr || !pr->out)
		return;
	pr->ended[phase] = true;
	draw(pr, pr->clock_ms());
}

void progress_tick(struct progress *pr)
{
	if (!pr || !pr->out)
		return;
	draw_if_due(pr);
}

void progress_clear(struct progress *pr)
{
	if (!pr || !pr->out || !pr->on_screen)
		return;
	fputs(ERASE_LINE, pr->out);
	fflush(pr->out);
	pr->on_screen = false;
}
