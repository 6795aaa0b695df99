/* up's status line: what it says, when it is redrawn, and that off means
 * silent. The clock and the output are the test's. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "harness.h"
#include "util/progress.h"

static long long fake_now;

static long long fake_clock(void)
{
	return fake_now;
}

/* Each test's output, in memory. */
struct capture {
	char *text;
	size_t len;
	FILE *out;
};

static void capture_open(struct capture *c)
{
	*c = (struct capture){0};
	c->out = open_memstream(&c->text, &c->len);
}

static void capture_close(struct capture *c)
{
	fclose(c->out);
	free(c->text);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

TEST(progress_line_shows_each_begun_phase_with_its_count_and_the_elapsed_time)
{
	struct progress pr;
	char line[256];
	fake_now = 5000;
	progress_init(&pr, stderr, fake_clock, 200, false);
	CHECK_STR(progress_format(&pr, 5000, line, sizeof(line)), "up 0.0s:");
	pr.begun[PROGRESS_IMAGES] = pr.ended[PROGRESS_IMAGES] = true;
	pr.done[PROGRESS_IMAGES] = pr.total[PROGRESS_IMAGES] = 2;
	pr.begun[PROGRESS_MACHINES] = pr.begun[PROGRESS_NETWORK] = true;
	pr.done[PROGRESS_MACHINES] = 3;
	pr.total[PROGRESS_MACHINES] = 8;
	pr.total[PROGRESS_NETWORK] = 40;
	pr.current = PROGRESS_NETWORK;
	CHECK_STR(progress_format(&pr, 6370, line, sizeof(line)), "up 1.3s: images 2/2  machines 3/8  network 0/40");
	CHECK_STR(progress_format(&pr, 4000, line, sizeof(line)), "up 0.0s: images 2/2  machines 3/8  network 0/40");
}

TEST(progress_line_in_colour_has_the_phases_under_way_in_bold)
{
	struct progress pr;
	char line[256];
	fake_now = 0;
	progress_init(&pr, stderr, fake_clock, 200, true);
	pr.begun[PROGRESS_IMAGES] = pr.ended[PROGRESS_IMAGES] = true;
	pr.done[PROGRESS_IMAGES] = pr.total[PROGRESS_IMAGES] = 1;
	pr.begun[PROGRESS_SERVERS] = true;
	pr.total[PROGRESS_SERVERS] = 4;
	pr.current = PROGRESS_SERVERS;
	CHECK_STR(progress_format(&pr, 12000, line, sizeof(line)),
		  "up 12.0s: images 1/1  \033[1mservers 0/4\033[0m");
}

TEST(progress_line_narrows_to_the_phases_under_way_then_is_cut_at_the_edge)
{
	struct progress pr;
	char line[256];
	fake_now = 0;
	progress_init(&pr, stderr, fake_clock, 40, true);
	for (int i = 0; i < PROGRESS_PHASE_COUNT; i++) {
		pr.begun[i] = pr.ended[i] = true;
		pr.done[i] = pr.total[i] = 1000;
	}
	pr.ended[PROGRESS_SERVERS] = false;
	pr.done[PROGRESS_SERVERS] = 10;
	pr.current = PROGRESS_SERVERS;
	/* Escape sequences take no columns: colour stays when the text fits. */
	CHECK_STR(progress_format(&pr, 2500, line, sizeof(line)), "up 2.5s: \033[1mservers 10/1000\033[0m");
	pr.ended[PROGRESS_SERVERS] = true;
	CHECK_STR(progress_format(&pr, 2500, line, sizeof(line)), "up 2.5s: servers 10/1000");
	pr.width = 12;
	CHECK_STR(progress_format(&pr, 2500, line, sizeof(line)), "up 2.5s: se");
}

TEST(progress_redraws_at_most_every_interval_but_always_at_phase_changes)
{
	struct progress pr;
	struct capture c;
	capture_open(&c);
	fake_now = 1000;
	progress_init(&pr, c.out, fake_clock, 80, false);
	progress_begin(&pr, PROGRESS_MACHINES, 1000);
	for (int i = 0; i < 1000; i++) {
		fake_now += 1; /* one step a millisecond: a second in all */
		progress_advance(&pr, PROGRESS_MACHINES, 1);
	}
	progress_end(&pr, PROGRESS_MACHINES);
	fflush(c.out);
	/* One at the beginning, one every 100 ms, one at the end. */
	CHECK_INT(count(c.text, "\r\033[K"), 1 + 1000 / PROGRESS_REDRAW_MS + 1);
	CHECK(strstr(c.text, "\r\033[Kup 0.0s: machines 0/1000") == c.text);
	CHECK(strstr(c.text, "machines 500/1000"));
	const char *last = strrchr(c.text, '\r');
	CHECK_STR(last, "\r\033[Kup 1.0s: machines 1000/1000");
	capture_close(&c);
}

TEST(progress_tick_moves_the_elapsed_time_on_only_when_due)
{
	struct progress pr;
	struct capture c;
	capture_open(&c);
	fake_now = 0;
	progress_init(&pr, c.out, fake_clock, 80, false);
	progress_begin(&pr, PROGRESS_SERVERS, 2);
	fake_now = 50;
	progress_tick(&pr);
	fake_now = 2000;
	progress_tick(&pr);
	fflush(c.out);
	CHECK_INT(count(c.text, "\r"), 2);
	CHECK_STR(strrchr(c.text, '\r'), "\r\033[Kup 2.0s: servers 0/2");
	capture_close(&c);
}

TEST(progress_clear_erases_the_line_once_and_only_if_drawn)
{
	struct progress pr;
	struct capture c;
	capture_open(&c);
	fake_now = 0;
	progress_init(&pr, c.out, fake_clock, 80, false);
	progress_clear(&pr);
	fflush(c.out);
	CHECK_INT(c.len, 0);
	progress_begin(&pr, PROGRESS_IMAGES, 1);
	progress_advance(&pr, PROGRESS_IMAGES, 1);
	progress_end(&pr, PROGRESS_IMAGES);
	progress_clear(&pr);
	progress_clear(&pr);
	fflush(c.out);
	CHECK_STR(c.text, "\r\033[Kup 0.0s: images 0/1\r\033[Kup 0.0s: images 1/1\r\033[K");
	capture_close(&c);
}

TEST(progress_off_writes_nothing_and_needs_no_clock)
{
	struct progress pr;
	progress_init(&pr, NULL, NULL, 0, false);
	progress_begin(&pr, PROGRESS_IMAGES, 1);
	progress_advance(&pr, PROGRESS_IMAGES, 1);
	progress_end(&pr, PROGRESS_IMAGES);
	progress_tick(&pr);
	progress_clear(&pr);
	progress_begin(NULL, PROGRESS_SERVERS, 1);
	progress_clear(NULL);
	CHECK(!pr.on_screen);
	CHECK_INT(pr.done[PROGRESS_IMAGES], 0);
}

TEST(progress_is_off_when_the_output_is_no_terminal)
{
	struct progress pr;
	FILE *file = tmpfile();
	setenv("TERM", "xterm", 1);
	progress_init_for_terminal(&pr, file, false);
	CHECK(pr.out == NULL);
	progress_begin(&pr, PROGRESS_IMAGES, 1);
	progress_clear(&pr);
	CHECK_INT(ftell(file), 0);
	fclose(file);
}
