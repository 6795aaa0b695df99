/* Steps applied side by side (steps/apart.h): which step a free worker
 * takes, and a run over threads with an apply function of the test's, which
 * records what ran where and when. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "steps/step.h"

/* A plan of MACHINES machines and steps on them, MACHINE_OF[i] for step i. */
static void fake_plan(struct plan *p, size_t machines, const size_t *machine_of, size_t n)
{
	*p = (struct plan){0};
	p->machines = xcalloc(machines, sizeof(*p->machines));
	p->n_machines = machines;
	for (size_t m = 0; m < machines; m++)
		p->machines[m] = (struct plan_machine){.kind = MACHINE_NODE, .name = xasprintf("node%zu", m)};
	p->steps = xcalloc(n, sizeof(*p->steps));
	p->n_steps = n;
	for (size_t i = 0; i < n; i++)
		p->steps[i] = (struct step){.kind = STEP_NFT, .machine = machine_of[i]};
}

static void fake_plan_free(struct plan *p)
{
	for (size_t m = 0; m < p->n_machines; m++)
		free(p->machines[m].name);
	free(p->machines);
	free(p->steps);
}

TEST(apart_next_takes_plan_order_one_step_per_machine_at_a_time)
{
	/* Steps on machines A B A C (0 1 0 2). */
	const size_t of[] = {0, 1, 0, 2};
	const size_t run[] = {0, 1, 2, 3};
	struct plan p;
	fake_plan(&p, 3, of, 4);
	bool started[4] = {false}, busy[3] = {false}, waiting[3];
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 0);
	started[0] = busy[0] = true;
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 1);
	started[1] = busy[1] = true;
	/* A's second step waits for its first: C's goes. */
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 3);
	started[3] = busy[2] = true;
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 4);
	busy[0] = false;
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 2);
	started[2] = true;
	CHECK_INT(apart_next(&p, run, started, 4, busy, waiting), 4);
	fake_plan_free(&p);
}

TEST(apart_next_never_passes_a_machines_earlier_step)
{
	/* A's first step has not started because A is busy (with a step of
	 * an earlier run, say): its second must not start before it. */
	const size_t of[] = {0, 0, 1};
	const size_t run[] = {0, 1, 2};
	struct plan p;
	fake_plan(&p, 2, of, 3);
	bool started[3] = {false}, busy[2] = {true, false}, waiting[2];
	CHECK_INT(apart_next(&p, run, started, 3, busy, waiting), 2);
	busy[1] = true;
	CHECK_INT(apart_next(&p, run, started, 3, busy, waiting), 3);
	fake_plan_free(&p);
}

/* What the fake apply records, shared by its threads. */
struct record {
	pthread_mutex_t lock;
	size_t applied[64];            /* steps, in the order they were applied */
	size_t n_applied;
	int running, most_running;     /* at once, over every machine */
	int on_machine[64];            /* running per machine */
	bool two_on_a_machine;
	size_t fail_at[2];             /* steps that fail; SIZE_MAX: none */
	int sleep_ms[64];              /* per step */
	size_t finished, reported;
	double reported_ms;
	int interrupt_after; /* before() fails once this many were reported; 0: never */
	bool leave;          /* each step leaves a string for finish */
	int finish_ms;       /* how long each release takes */
	int alive, most_alive; /* steps running or whose leftovers wait */
	const struct plan *plan;
};

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static int fake_apply(void *arg, const struct step *s, void **later, struct tb_err *e)
{
	struct record *r = arg;
	size_t i = (size_t)(s - r->plan->steps), m = s->machine;
	pthread_mutex_lock(&r->lock);
	r->running++;
	if (r->running > r->most_running)
		r->most_running = r->running;
	if (++r->on_machine[m] > 1)
		r->two_on_a_machine = true;
	if (++r->alive > r->most_alive)
		r->most_alive = r->alive;
	pthread_mutex_unlock(&r->lock);
	sleep_ms(r->sleep_ms[i]);
	pthread_mutex_lock(&r->lock);
	r->running--;
	r->on_machine[m]--;
	if (!r->leave)
		r->alive--;
	r->applied[r->n_applied++] = i;
	pthread_mutex_unlock(&r->lock);
	if (r->leave)
		*later = xasprintf("step %zu", i);
	if (i == r->fail_at[0] || i == r->fail_at[1])
		return tb_fail(e, "%s: step %zu failed", r->plan->machines[m].name, i);
	return 0;
}

static void fake_finish(void *arg, void *later)
{
	struct record *r = arg;
	free(later);
	sleep_ms(r->finish_ms);
	pthread_mutex_lock(&r->lock);
	r->alive--;
	pthread_mutex_unlock(&r->lock);
	r->finished++; /* only ever from the walk's thread */
}

static void fake_after(void *arg, const struct step *s, double ms)
{
	(void)s;
	struct record *r = arg;
	r->reported++;
	r->reported_ms += ms;
}

static int fake_before(void *arg, struct tb_err *e)
{
	struct record *r = arg;
	if (r->interrupt_after && r->reported >= (size_t)r->interrupt_after)
		return tb_fail(e, "interrupted by signal 2");
	return 0;
}

static void record_init(struct record *r, const struct plan *p)
{
	*r = (struct record){.plan = p, .fail_at = {SIZE_MAX, SIZE_MAX}, .leave = true};
	pthread_mutex_init(&r->lock, NULL);
}

/* Where step I was applied among the applied ones; -1: never. */
static int position(const struct record *r, size_t i)
{
	for (size_t k = 0; k < r->n_applied; k++)
		if (r->applied[k] == i)
			return (int)k;
	return -1;
}

TEST(apart_apply_runs_every_step_once_each_machine_in_order_within_the_threads)
{
	/* 12 steps over 4 machines, each machine's three far apart in the run. */
	size_t of[12], run[12];
	for (size_t i = 0; i < 12; i++) {
		of[i] = i % 4;
		run[i] = i;
	}
	struct plan p;
	fake_plan(&p, 4, of, 12);
	struct record r;
	record_init(&r, &p);
	for (size_t i = 0; i < 12; i++)
		r.sleep_ms[i] = (int)(i * 7 % 5) + 1;
	struct apart_ops ops = {.apply = fake_apply, .finish = fake_finish, .arg = &r};
	struct steps_walk walk = {.before = fake_before, .after = fake_after, .arg = &r};
	struct tb_err e;
	long long start = now_ms();
	CHECK_INT(apart_apply(&p, run, 12, 3, &ops, &walk, &e), 0);
	long long wall = now_ms() - start;
	CHECK_INT(r.n_applied, 12);
	for (size_t i = 0; i < 12; i++) {
		CHECK(position(&r, i) >= 0);
		if (i >= 4)
			CHECK(position(&r, i - 4) < position(&r, i));
	}
	CHECK(!r.two_on_a_machine);
	CHECK(r.most_running <= 3);
	CHECK(r.most_running >= 2);
	CHECK_INT(r.reported, 12);
	CHECK_INT(r.finished, 12);
	/* The reports add up to the run's wall clock. */
	CHECK(r.reported_ms <= (double)wall);
	CHECK(r.reported_ms >= (double)wall - 20);
	fake_plan_free(&p);
}

TEST(apart_apply_keeps_no_more_leftovers_than_threads_waiting_for_release)
{
	/* Quick steps whose release is slow (an nftables socket's close
	 * waiting out a grace period): the workers wait for the walk's thread
	 * rather than pile up leftovers. */
	size_t of[16], run[16];
	for (size_t i = 0; i < 16; i++) {
		of[i] = i;
		run[i] = i;
	}
	struct plan p;
	fake_plan(&p, 16, of, 16);
	struct record r;
	record_init(&r, &p);
	r.finish_ms = 5;
	struct apart_ops ops = {.apply = fake_apply, .finish = fake_finish, .arg = &r};
	struct steps_walk walk = {.after = fake_after, .arg = &r};
	struct tb_err e;
	CHECK_INT(apart_apply(&p, run, 16, 2, &ops, &walk, &e), 0);
	CHECK_INT(r.n_applied, 16);
	CHECK_INT(r.finished, 16);
	CHECK(r.most_alive <= 4);
	CHECK(r.most_alive >= 2);
	fake_plan_free(&p);
}

TEST(apart_apply_threads_never_outnumber_machines_and_one_thread_keeps_plan_order)
{
	const size_t of[] = {0, 0, 0, 0};
	const size_t run[] = {0, 1, 2, 3};
	struct plan p;
	fake_plan(&p, 1, of, 4);
	struct record r;
	record_init(&r, &p);
	r.leave = false;
	struct apart_ops ops = {.apply = fake_apply, .arg = &r};
	struct steps_walk walk = {.arg = &r};
	struct tb_err e;
	CHECK_INT(apart_apply(&p, run, 4, 8, &ops, &walk, &e), 0);
	CHECK_INT(r.n_applied, 4);
	CHECK_INT(r.most_running, 1);
	for (size_t i = 0; i < 4; i++)
		CHECK_INT(r.applied[i], i);
	fake_plan_free(&p);
}

TEST(apart_apply_stops_at_a_failure_naming_the_earliest_failed_step)
{
	/* One thread: step 1 fails, nothing after it starts. */
	const size_t of[] = {0, 1, 2, 3};
	const size_t run[] = {0, 1, 2, 3};
	struct plan p;
	fake_plan(&p, 4, of, 4);
	struct record r;
	record_init(&r, &p);
	r.fail_at[0] = 1;
	struct apart_ops ops = {.apply = fake_apply, .finish = fake_finish, .arg = &r};
	struct steps_walk walk = {.before = fake_before, .after = fake_after, .arg = &r};
	struct tb_err e;
	CHECK_INT(apart_apply(&p, run, 4, 1, &ops, &walk, &e), -1);
	CHECK_STR(e.msg, "node1: step 1 failed");
	CHECK_INT(r.n_applied, 2);
	CHECK_INT(r.reported, 1);
	CHECK_INT(r.finished, 2); /* what the failed step left too */
	fake_plan_free(&p);

	/* Two threads: step 1 fails at once, step 0 later; step 0's failure
	 * is the one reported, and steps 2 and 3 never start. */
	fake_plan(&p, 4, of, 4);
	record_init(&r, &p);
	r.fail_at[0] = 0;
	r.fail_at[1] = 1;
	r.sleep_ms[0] = 40;
	CHECK_INT(apart_apply(&p, run, 4, 2, &ops, &walk, &e), -1);
	CHECK_STR(e.msg, "node0: step 0 failed");
	CHECK_INT(r.n_applied, 2);
	CHECK_INT(r.reported, 0);
	fake_plan_free(&p);
}

TEST(apart_apply_stops_when_interrupted)
{
	size_t of[8], run[8];
	for (size_t i = 0; i < 8; i++) {
		of[i] = i;
		run[i] = i;
	}
	struct plan p;
	fake_plan(&p, 8, of, 8);
	struct record r;
	record_init(&r, &p);
	for (size_t i = 0; i < 8; i++)
		r.sleep_ms[i] = 20;
	r.interrupt_after = 2;
	struct apart_ops ops = {.apply = fake_apply, .finish = fake_finish, .arg = &r};
	struct steps_walk walk = {.before = fake_before, .after = fake_after, .arg = &r};
	struct tb_err e;
	CHECK_INT(apart_apply(&p, run, 8, 2, &ops, &walk, &e), -1);
	CHECK_STR(e.msg, "interrupted by signal 2");
	CHECK(r.n_applied < 8);
	/* What the steps that ran left is released all the same. */
	CHECK_INT(r.finished, r.n_applied);
	fake_plan_free(&p);
}

TEST(apart_cpus_is_at_least_one)
{
	CHECK(apart_cpus() >= 1);
}
