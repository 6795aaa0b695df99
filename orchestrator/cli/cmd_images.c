/* testbed images | prune: what the user sees; the work is in image_cache.c,
 * told by lab/image_uses.c which labs use which trees. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "image/image_cache.h"
#include "lab/image_uses.h"
#include "lab/state.h"
#include "util/util.h"

static void format_time(long long t, bool utc, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!(utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) ||
	    !strftime(out, 32, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M", &tm))
		snprintf(out, 32, "%lld", t);
}

/* The labs of IMG as one cell: "a, b", or "-" for none. */
static char *labs_cell(const struct cached_image *img)
{
	if (img->n_labs == 0)
		return xstrdup("-");
	char *cell = xstrdup("");
	for (size_t i = 0; i < img->n_labs; i++) {
		char *next = xasprintf("%s%s%s", cell, i ? ", " : "", img->labs[i]);
		free(cell);
		cell = next;
	}
	return cell;
}

/* Why prune would keep every tree: labs whose images are unknown. */
static void print_unknown(const struct image_cache *c, FILE *out)
{
	for (size_t i = 0; i < c->n_unknown; i++) {
		autofree char *name = str_escape(c->unknown[i].name);
		autofree char *why = str_escape(c->unknown[i].why);
		fprintf(out, "lab %s: its images are unknown (%s), so prune keeps every tree\n", name, why);
	}
}

static void print_table(const struct image_cache *c)
{
	if (c->n_images == 0 && c->n_leftovers == 0) {
		autofree char *dir = str_escape(c->dir ? c->dir : cache_dir());
		printf("no images cached in %s\n", dir);
		print_unknown(c, stdout);
		return;
	}
	int wsource = 6;
	for (size_t i = 0; i < c->n_images; i++) {
		autofree char *source = str_escape(c->images[i].source ? c->images[i].source : "-");
		if ((int)strlen(source) > wsource)
			wsource = (int)strlen(source);
	}
	unsigned long long total = 0, unused = 0;
	size_t n_unused = 0;
	if (c->n_images)
		printf("%-12s  %10s  %-16s  %-*s  %s\n", "IMAGE", "SIZE", "UNPACKED", wsource, "SOURCE", "LABS");
	for (size_t i = 0; i < c->n_images; i++) {
		const struct cached_image *img = &c->images[i];
		char size[16], when[32];
		image_cache_human_bytes(img->bytes, size);
		format_time(img->unpacked, false, when);
		autofree char *source = str_escape(img->source ? img->source : "-");
		autofree char *labs = labs_cell(img);
		autofree char *safe_labs = str_escape(labs);
		printf("%.12s  %10s  %-16s  %-*s  %s\n", img->sha256, size, when, wsource, source, safe_labs);
		total += img->bytes;
		if (img->n_labs == 0) {
			unused += img->bytes;
			n_unused++;
		}
	}
	for (size_t i = 0; i < c->n_leftovers; i++) {
		char size[16];
		image_cache_human_bytes(c->leftovers[i].bytes, size);
		autofree char *name = str_escape(c->leftovers[i].name);
		printf("leftover %s (%s): testbed prune removes it\n", name, size);
	}
	char total_text[16], unused_text[16];
	image_cache_human_bytes(total, total_text);
	image_cache_human_bytes(unused, unused_text);
	printf("%zu image%s, %s; %zu used by no lab (%s)\n", c->n_images, c->n_images == 1 ? "" : "s", total_text,
	       n_unused, unused_text);
	print_unknown(c, stdout);
}

static void print_json(const struct image_cache *c)
{
	cJSON *doc = cJSON_CreateObject();
	if (c->dir)
		cJSON_AddStringToObject(doc, "cache", c->dir);
	else
		cJSON_AddNullToObject(doc, "cache");
	unsigned long long total = 0;
	cJSON *images = cJSON_AddArrayToObject(doc, "images");
	for (size_t i = 0; i < c->n_images; i++) {
		const struct cached_image *img = &c->images[i];
		cJSON *o = cJSON_CreateObject();
		char when[32];
		format_time(img->unpacked, true, when);
		cJSON_AddStringToObject(o, "sha256", img->sha256);
		cJSON_AddNumberToObject(o, "bytes", (double)img->bytes);
		cJSON_AddStringToObject(o, "unpacked", when);
		if (img->source)
			cJSON_AddStringToObject(o, "source", img->source);
		else
			cJSON_AddNullToObject(o, "source");
		cJSON *labs = cJSON_AddArrayToObject(o, "labs");
		for (size_t j = 0; j < img->n_labs; j++)
			cJSON_AddItemToArray(labs, cJSON_CreateString(img->labs[j]));
		cJSON_AddItemToArray(images, o);
		total += img->bytes;
	}
	cJSON *leftovers = cJSON_AddArrayToObject(doc, "leftovers");
	for (size_t i = 0; i < c->n_leftovers; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->leftovers[i].name);
		cJSON_AddNumberToObject(o, "bytes", (double)c->leftovers[i].bytes);
		cJSON_AddItemToArray(leftovers, o);
	}
	cJSON *unknown = cJSON_AddArrayToObject(doc, "unknown_labs");
	for (size_t i = 0; i < c->n_unknown; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->unknown[i].name);
		cJSON_AddStringToObject(o, "why", c->unknown[i].why);
		cJSON_AddItemToArray(unknown, o);
	}
	cJSON_AddNumberToObject(doc, "bytes", (double)total);
	char *text = cJSON_Print(doc);
	printf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(doc);
}

int cmd_images(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	(void)operands;
	if (n != 0)
		return command_usage_error(cmd, "takes no operands");
	struct image_cache c;
	struct tb_err e;
	int rc = image_cache_read(cache_dir(), lab_image_uses, o->state_dir, &c, &e);
	if (rc != TB_EXIT_OK) {
		image_cache_free(&c);
		return command_fail(cmd, rc, "%s", e.msg);
	}
	if (o->json)
		print_json(&c);
	else
		print_table(&c);
	image_cache_free(&c);
	return TB_EXIT_OK;
}

int cmd_prune(const struct command *cmd, const struct cli_options *o, int n, char **operands)
{
	(void)operands;
	if (n != 0)
		return command_usage_error(cmd, "takes no operands");
	if (geteuid() != 0)
		return command_fail(cmd, TB_EXIT_USAGE, "needs root: it removes trees from the image cache, which is root's");
	struct image_cache c;
	struct tb_err e;
	int rc = image_cache_prune(cache_dir(), lab_image_uses, o->state_dir, o->dry_run, &c, &e);
	if (!c.dir) {
		image_cache_free(&c);
		return rc == TB_EXIT_OK ? (printf("no image cache at %s: nothing to remove\n", cache_dir()), rc)
					: command_fail(cmd, rc, "%s", e.msg);
	}
	const char *verb = o->dry_run ? "would remove" : "removed";
	for (size_t i = 0; i < c.n_leftovers; i++) {
		const struct cache_leftover *l = &c.leftovers[i];
		char size[16];
		image_cache_human_bytes(l->bytes, size);
		autofree char *name = str_escape(l->name);
		if (l->removed)
			printf("%s leftover %s (%s)\n", verb, name, size);
	}
	for (size_t i = 0; i < c.n_images; i++) {
		const struct cached_image *img = &c.images[i];
		char size[16];
		image_cache_human_bytes(img->bytes, size);
		autofree char *source = str_escape(img->source ? img->source : "source unknown");
		if (img->removed)
			printf("%s %s (%s, %s)\n", verb, img->sha256, size, source);
	}
	print_unknown(&c, stdout);
	char freed[16];
	image_cache_human_bytes(c.freed, freed);
	printf("%s %s (%llu bytes)\n", o->dry_run ? "would free" : "freed", freed, c.freed);
	if (rc != TB_EXIT_OK)
		command_fail(cmd, rc, "%s", e.msg);
	image_cache_free(&c);
	return rc;
}
