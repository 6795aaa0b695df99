/* Steps applied side by side on worker threads (apart.h). */
#define _GNU_SOURCE
#include "steps/step.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>

size_t apart_next(const struct plan *p, const size_t *run, const bool *started, size_t n, const bool *busy,
		  bool *waiting)
{
	memset(waiting, 0, p->n_machines * sizeof(*waiting));
	for (size_t i = 0; i < n; i++) {
		if (started[i])
			continue;
		size_t m = p->steps[run[i]].machine;
		if (!busy[m] && !waiting[m])
			return i;
		waiting[m] = true;
	}
	return n;
}

unsigned apart_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

/* A step done, waiting for the walk's thread to report it (unless it
 * failed) and to release what it left. */
struct apart_done {
	size_t step;
	void *later;
	bool failed;
};

struct apart {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* for the walk's thread: a step ended, or a worker did */
	pthread_cond_t freed;   /* for the workers: a machine's step ended */
	const struct plan *plan;
	const struct apart_ops *ops;
	const size_t *run;
	size_t n, n_started;
	bool *started, *busy, *waiting;
	bool stop;
	struct apart_done *done; /* a queue: [head, tail) */
	size_t head, tail;
	size_t held, max_held; /* steps whose leftovers wait for the walk's thread, and how many may */
	unsigned running;      /* workers not yet ended */
	size_t failed;    /* the earliest failed step, PLAN_NONE if none */
	struct tb_err err;
};

static void *worker(void *arg)
{
	struct apart *a = arg;
	pthread_mutex_lock(&a->lock);
	while (!a->stop && a->n_started < a->n) {
		/* Leftovers wait for the walk's thread, which may be slower to
		 * release them (an nftables socket's close waits out a grace
		 * period) than the workers to make them: so many, and no more,
		 * keep an open socket (a descriptor) and memory each. */
		size_t k = a->held >= a->max_held ? a->n
						   : apart_next(a->plan, a->run, a->started, a->n, a->busy, a->waiting);
		if (k == a->n) {
			/* Every step left waits on a machine another worker has,
			 * or on the walk's thread. */
			pthread_cond_wait(&a->freed, &a->lock);
			continue;
		}
		size_t i = a->run[k], m = a->plan->steps[i].machine;
		a->started[k] = a->busy[m] = true;
		a->n_started++;
		pthread_mutex_unlock(&a->lock);
		void *later = NULL;
		struct tb_err e = {.err = 0};
		int rc = a->ops->apply(a->ops->arg, &a->plan->steps[i], &later, &e);
		pthread_mutex_lock(&a->lock);
		a->busy[m] = false;
		if (rc < 0) {
			a->stop = true;
			if (a->failed == PLAN_NONE || i < a->failed) {
				a->failed = i;
				a->err = e;
			}
		}
		a->done[a->tail++] = (struct apart_done){i, later, rc < 0};
		a->held += later != NULL;
		pthread_cond_broadcast(&a->freed);
		pthread_cond_signal(&a->changed);
	}
	a->running--;
	pthread_cond_signal(&a->changed);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void deadline_in(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_nsec += ms * 1000000L;
	t->tv_sec += t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

/* Starts up to WANT workers with every signal blocked: signals are the
 * walk's thread's to take (an interrupt must reach apart_apply's loop,
 * which polls for it). Returns how many started; *ERR why one did not. */
static unsigned start_workers(struct apart *a, pthread_t *tids, unsigned want, int *err)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	unsigned started = 0;
	pthread_mutex_lock(&a->lock);
	for (; started < want; started++) {
		if ((*err = pthread_create(&tids[started], NULL, worker, a)) != 0)
			break;
		a->running++;
	}
	pthread_mutex_unlock(&a->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

int apart_apply(const struct plan *p, const size_t *steps, size_t n, unsigned threads, const struct apart_ops *ops,
		const struct steps_walk *walk, struct tb_err *e)
{
	if (!n)
		return 0;
	if (walk->before && walk->before(walk->arg, e) < 0)
		return -1;
	size_t n_machines = p->n_machines ? p->n_machines : 1;
	autofree bool *started = xcalloc(n, sizeof(*started));
	autofree bool *busy = xcalloc(n_machines, sizeof(*busy));
	autofree bool *waiting = xcalloc(n_machines, sizeof(*waiting));
	autofree struct apart_done *done = xcalloc(n, sizeof(*done));
	struct apart a = {
		.plan = p,
		.ops = ops,
		.run = steps,
		.n = n,
		.started = started,
		.busy = busy,
		.waiting = waiting,
		.done = done,
		.failed = PLAN_NONE,
	};
	pthread_mutex_init(&a.lock, NULL);
	pthread_cond_init(&a.freed, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a.changed, &ca);
	pthread_condattr_destroy(&ca);

	/* No more workers than machines: a machine's steps run one at a time. */
	unsigned want = threads ? threads : 1, machines = 0;
	for (size_t i = 0; i < n && machines < want; i++) {
		size_t m = p->steps[steps[i]].machine;
		machines += !waiting[m];
		waiting[m] = true;
	}
	want = machines;
	a.max_held = want;
	autofree pthread_t *tids = xcalloc(want, sizeof(*tids));
	int create_err = 0;
	unsigned started_workers = start_workers(&a, tids, want, &create_err);
	if (!started_workers) {
		pthread_cond_destroy(&a.changed);
		pthread_cond_destroy(&a.freed);
		pthread_mutex_destroy(&a.lock);
		return tb_fail_errno(e, create_err, "starting a thread to apply steps: %s", strerror(create_err));
	}

	long long last = now_ms();
	bool interrupted = false;
	struct tb_err why = {.err = 0};
	pthread_mutex_lock(&a.lock);
	for (;;) {
		while (a.head < a.tail) {
			struct apart_done d = a.done[a.head++];
			pthread_mutex_unlock(&a.lock);
			/* Released before the report, whose time then counts it. */
			if (d.later && ops->finish)
				ops->finish(ops->arg, d.later);
			if (d.later) {
				pthread_mutex_lock(&a.lock);
				a.held--;
				pthread_cond_broadcast(&a.freed);
				pthread_mutex_unlock(&a.lock);
			}
			long long now = now_ms();
			if (walk->after && !d.failed)
				walk->after(walk->arg, &p->steps[d.step], (double)(now - last));
			last = now;
			pthread_mutex_lock(&a.lock);
		}
		if (!a.running)
			break;
		if (walk->before && !interrupted) {
			pthread_mutex_unlock(&a.lock);
			interrupted = walk->before(walk->arg, &why) < 0;
			pthread_mutex_lock(&a.lock);
			if (interrupted) {
				a.stop = true;
				pthread_cond_broadcast(&a.freed);
			}
		}
		if (a.head < a.tail || !a.running)
			continue;
		/* Woken by each step's end; the timeout is the interrupt poll. */
		struct timespec until;
		deadline_in(&until, 50);
		pthread_cond_timedwait(&a.changed, &a.lock, &until);
	}
	pthread_mutex_unlock(&a.lock);
	for (unsigned t = 0; t < started_workers; t++)
		pthread_join(tids[t], NULL);
	pthread_cond_destroy(&a.changed);
	pthread_cond_destroy(&a.freed);
	pthread_mutex_destroy(&a.lock);
	if (a.failed != PLAN_NONE) {
		*e = a.err;
		return -1;
	}
	if (interrupted) {
		*e = why;
		return -1;
	}
	return 0;
}
