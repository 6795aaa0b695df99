/* `up`'s live status line on a terminal: one line on stderr, rewritten in
 * place (\r and erase-line), with each phase's count and the elapsed time:
 *
 *   up 1.3s: images 1/1  machines 8/8  network 42/60  servers 0/4
 *
 * Off unless stderr is a terminal that understands it (not TERM=dumb) and
 * up is not --quiet; off, every call returns at once, with no system call,
 * so logs and pipes get exactly what they got before. On, redraws are at
 * most one per PROGRESS_REDRAW_MS, plus one at each phase's beginning and
 * end: a 1000-pod up does not spend its time drawing. */
#ifndef TESTBED_PROGRESS_H
#define TESTBED_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PROGRESS_REDRAW_MS 100

/* In the order up goes through them. */
enum progress_phase {
	PROGRESS_IMAGES,   /* images unpacked */
	PROGRESS_MACHINES, /* machines started */
	PROGRESS_NETWORK,  /* the plan's other steps applied: links, addresses, routes */
	PROGRESS_SERVERS,  /* servers accepting connections */
	PROGRESS_PHASE_COUNT,
};

struct progress {
	FILE *out; /* NULL: off */
	long long (*clock_ms)(void);
	int width;  /* the terminal's columns: a wrapped line cannot be redrawn in place */
	bool colour;
	long long started_ms, drawn_ms;
	bool on_screen; /* a line is drawn and not yet cleared */
	bool begun[PROGRESS_PHASE_COUNT];
	size_t done[PROGRESS_PHASE_COUNT], total[PROGRESS_PHASE_COUNT];
	bool ended[PROGRESS_PHASE_COUNT];
	int current; /* the phase begun last; -1 before any */
};

/* On for OUT (stderr) when it is a terminal, TERM is set and not "dumb",
 * and not QUIET; colour unless NO_COLOR is set. Off otherwise. */
void progress_init_for_terminal(struct progress *pr, FILE *out, bool quiet);
/* On for OUT with this clock, WIDTH columns and COLOUR (for tests). */
void progress_init(struct progress *pr, FILE *out, long long (*clock_ms)(void), int width, bool colour);

/* PHASE starts, with TOTAL things to do; redraws. */
void progress_begin(struct progress *pr, enum progress_phase phase, size_t total);
/* N more of PHASE's things are done; redraws when the last draw is old enough. */
void progress_advance(struct progress *pr, enum progress_phase phase, size_t n);
/* PHASE is over; redraws, so the final counts are shown. */
void progress_end(struct progress *pr, enum progress_phase phase);
/* Redraws if the last draw is old enough: the elapsed time moves on while
 * up waits with nothing done. */
void progress_tick(struct progress *pr);
/* Erases the line, leaving the cursor at its start: what up prints next
 * (the table, or the error) starts on a clean line. */
void progress_clear(struct progress *pr);

/* The status line at AT_MS, without \r or erase-line, into BUF; at most
 * pr->width - 1 visible columns. Returns BUF. */
char *progress_format(const struct progress *pr, long long at_ms, char *buf, size_t size);

#endif
