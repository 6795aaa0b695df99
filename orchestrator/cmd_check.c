/* testbed check: expectations in, probes through the lab, reports out. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "commands.h"
#include "diag.h"
#include "live.h"
#include "probe.h"
#include "report.h"
#include "topology.h"
#include "trace.h"
#include "util.h"

enum { OPT_STATE_DIR = 256, OPT_FORMAT, OPT_OUTPUT, OPT_TIMEOUT, OPT_RETRIES, OPT_PARALLEL };

struct check_options {
	const char *state_dir;
	enum report_format format;
	const char *output;
	struct probe_options probe;
	bool verbose;
	bool quiet;
};

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static bool parse_count(const char *s, int min, int max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

/* Returns the index of the first operand, -1 after --help, -2 on a usage error. */
static int parse_options(const struct command *cmd, int argc, char **argv, struct check_options *o)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"parallel", required_argument, NULL, OPT_PARALLEL},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{0},
	};
	*o = (struct check_options){.format = REPORT_TEXT,
				    .probe = {.timeout_ms = 1000, .retries = 0, .max_in_flight = 128}};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "hvq", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			command_usage(cmd, stdout);
			return -1;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_FORMAT:
			if (!report_format_parse(optarg, &o->format)) {
				fprintf(stderr, "testbed check: --format: \"%s\": expected text, json, junit, tap or markdown\n",
					optarg);
				return -2;
			}
			break;
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_TIMEOUT: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(v >= 0.01 && v <= 600)) {
				fprintf(stderr, "testbed check: --timeout: expected seconds from 0.01 to 600\n");
				return -2;
			}
			o->probe.timeout_ms = (int)lround(v * 1000);
			break;
		}
		case OPT_RETRIES:
			if (!parse_count(optarg, 0, 100, &o->probe.retries)) {
				fprintf(stderr, "testbed check: --retries: expected a number from 0 to 100\n");
				return -2;
			}
			break;
		case OPT_PARALLEL:
			if (!parse_count(optarg, 1, 4096, &o->probe.max_in_flight)) {
				fprintf(stderr, "testbed check: --parallel: expected a number from 1 to 4096\n");
				return -2;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		default:
			command_unknown_option(cmd, argv);
			return -2;
		}
	}
	return optind;
}

/* A topology's text, parsed, without what may differ between two files
 * describing one lab: expectations, prose, and image paths (compared by
 * what they name). The model keeps no JSON, hence the parse; like the
 * loader, skip a UTF-8 byte order mark, which cJSON does not. */
static cJSON *lab_shape(const char *text)
{
	if (str_has_prefix(text, "\xEF\xBB\xBF"))
		text += 3;
	cJSON *copy = cJSON_Parse(text);
	const char *keys[] = {"expect", "description", "$schema", "images"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, keys[i]);
	return copy;
}

static bool same_images(const struct tb_topology *a, const struct tb_topology *b)
{
	if (a->n_images != b->n_images)
		return false;
	for (size_t i = 0; i < a->n_images; i++) {
		const struct tb_image *other = topology_find_image(b, a->images[i].name);
		if (!other)
			return false;
		autofree char *x = realpath(a->images[i].resolved, NULL);
		autofree char *y = realpath(other->resolved, NULL);
		if (!x || !y || strcmp(x, y) != 0)
			return false;
	}
	return true;
}

/* The topology whose expectations to check: FILE, if the argument is one
 * (it must build the same lab as the running one), else the recorded copy. */
static struct tb_topology *expectations_source(const char *arg, const struct live_lab *l, int *rc)
{
	if (topology_is_lab_name(arg))
		return NULL;
	struct diag d;
	diag_init(&d, arg);
	struct tb_topology *t = topology_load(arg, &d);
	if (!t) {
		diag_print(&d, stderr);
		diag_free(&d);
		*rc = TB_EXIT_USAGE;
		return NULL;
	}
	diag_free(&d);
	cJSON *mine = lab_shape(t->text), *theirs = lab_shape(l->topology->text);
	bool same = cJSON_Compare(mine, theirs, true) && same_images(t, l->topology);
	cJSON_Delete(mine);
	cJSON_Delete(theirs);
	if (!same) {
		fprintf(stderr,
			"testbed check: %s describes a different lab than the running %s (only \"expect\" may change); "
			"bring it down and up again, or check by name: testbed check %s\n",
			arg, t->name, t->name);
		topology_free(t);
		*rc = TB_EXIT_USAGE;
	}
	return same ? t : NULL;
}

static bool use_colour(void)
{
	const char *no_colour = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
}

static int write_report_file(const char *path, enum report_format f, const struct check_run *run,
			     const struct report_style *s)
{
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len);
	if (!mem || report_write(mem, f, run, s) < 0 || fclose(mem) != 0) {
		fprintf(stderr, "testbed check: composing the report: %s\n", strerror(errno));
		free(data);
		return -1;
	}
	struct tb_err e;
	int rc = write_file_atomic(path, data, len, &e);
	if (rc < 0)
		fprintf(stderr, "testbed check: %s\n", e.msg);
	free(data);
	return rc;
}

/* Runs the probes from the sources' namespaces; fills RUN. */
static int run_probes(struct live_lab *l, struct check_run *run, const struct check_options *o)
{
	int *from_netns = xcalloc(run->n_probes ? run->n_probes : 1, sizeof(*from_netns));
	for (size_t i = 0; i < run->n_probes; i++) {
		struct check_probe *p = &run->probes[i];
		p->from = plan_find(&l->plan, p->from_name);
		p->to = plan_find(&l->plan, p->to_name);
		from_netns[i] = p->from == PLAN_NONE ? -1 : l->netns[p->from];
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct tb_err e;
	int rc = probe_run(run, from_netns, &o->probe, &interrupted, &e);
	free(from_netns);
	if (rc < 0) {
		fprintf(stderr, "testbed check: %s: %s\n", run->lab, e.msg);
		return TB_EXIT_SYSTEM;
	}
	/* Verbose: what the failing paths need from the neighbour tables. */
	if (o->verbose)
		for (size_t i = 0; i < run->n_probes; i++) {
			struct check_probe *p = &run->probes[i];
			if (!check_probe_ok(p) && p->from != PLAN_NONE && p->to_address && l->netns[p->from] >= 0)
				p->path_note = trace_neighbour_note(l, p->from, p->to_address);
		}
	return TB_EXIT_OK;
}

int cmd_check(const struct command *cmd, int argc, char **argv)
{
	struct check_options o;
	int first = parse_options(cmd, argc, argv, &o);
	if (first < 0)
		return first == -1 ? TB_EXIT_OK : TB_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "testbed check: expected one lab name or topology file\n");
		fprintf(stderr, "Usage: testbed %s [--help] %s\n", cmd->name, cmd->args);
		return TB_EXIT_USAGE;
	}
	const char *arg = argv[first];
	autofree char *name = lab_name_from_arg(arg, "check");
	if (!name)
		return TB_EXIT_USAGE;
	if (geteuid() != 0) {
		fprintf(stderr, "testbed check: needs root: it probes from inside the lab's namespaces\n");
		return TB_EXIT_USAGE;
	}
	struct live_lab l;
	struct tb_err e;
	int rc = live_open(name, o.state_dir, &l, &e);
	if (rc != TB_EXIT_OK) {
		fprintf(stderr, "testbed check: %s\n", e.msg);
		return rc;
	}
	struct tb_topology *given = expectations_source(arg, &l, &rc);
	if (rc != TB_EXIT_OK) {
		live_close(&l);
		return rc;
	}
	const struct tb_topology *t = given ? given : l.topology;
	struct check_run run;
	struct diag d;
	diag_init(&d, given ? arg : l.record.topology);
	if (!check_compile(t, &run, &d)) {
		diag_print(&d, stderr);
		diag_free(&d);
		check_run_free(&run);
		topology_free(given);
		live_close(&l);
		return TB_EXIT_USAGE;
	}
	diag_free(&d);
	run.lab = name;
	rc = run_probes(&l, &run, &o);
	if (rc == TB_EXIT_OK) {
		struct report_style text_style = {.colour = use_colour(), .verbose = o.verbose};
		struct report_style file_style = {.verbose = o.verbose};
		if (o.output) {
			if (write_report_file(o.output, o.format, &run, &file_style) < 0)
				rc = TB_EXIT_SYSTEM;
			else if (!o.quiet && report_write(stdout, REPORT_TEXT, &run, &text_style) < 0)
				rc = TB_EXIT_SYSTEM;
		} else if (report_write(stdout, o.format, &run, o.format == REPORT_TEXT ? &text_style : &file_style) < 0) {
			rc = TB_EXIT_SYSTEM;
		}
		if (rc == TB_EXIT_OK && check_count_ok(&run) != run.n_probes)
			rc = TB_EXIT_EXPECTATIONS;
	}
	check_run_free(&run);
	topology_free(given);
	live_close(&l);
	return rc;
}
