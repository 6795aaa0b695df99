#define _GNU_SOURCE
/* The plan's shell script: values reach it only as quoted words or escaped
 * comments, whatever a topology or a saved plan holds; the interface-name
 * rule and its lists in the schema and the docs agree. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "fixtures.h"
#include "harness.h"
#include "model/ifname.h"
#include "plan/plan.h"
#include "plan/plan_render.h"
#include "steps/step.h"
#include "util/util.h"

/* What /bin/sh makes of SCRIPT: its standard output, or NULL. */
static char *run_sh(const char *script)
{
	char path[] = "/tmp/testbed-render-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	bool written = write_all(fd, script, strlen(script)) == 0;
	close(fd);
	char *out = NULL;
	if (written) {
		autofree char *cmd = xasprintf("sh %s", path);
		FILE *p = popen(cmd, "r");
		if (p) {
			size_t size = 0, len = 0, n;
			char buf[4096];
			while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
				out = xrealloc(out, size = len + n + 1);
				memcpy(out + len, buf, n);
				len += n;
			}
			if (!out)
				out = xstrdup("");
			out[len] = '\0';
			if (pclose(p) != 0) {
				free(out);
				out = NULL;
			}
		}
	}
	unlink(path);
	return out;
}

static char *quoted(const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sh_quote(out, s);
	fclose(out);
	return text;
}

TEST(sh_quote_leaves_plain_words_and_quotes_the_rest)
{
	const char *plain[] = {"eth0", "flannel.1", "10.0.1.2/24", "0a:58:0a:00:01:01", "net.ipv4.ip_forward=1", "-n"};
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		autofree char *q = quoted(plain[i]);
		CHECK_STR(q, plain[i]);
	}
	autofree char *empty = quoted(""), *space = quoted("a b"), *apostrophe = quoted("it's"),
		      *esc = quoted("a\033b");
	CHECK_STR(empty, "''");
	CHECK_STR(space, "'a b'");
	CHECK_STR(apostrophe, "'it'\\''s'");
	/* No raw ESC reaches a terminal showing the script. */
	CHECK_STR(esc, "'a'\"$(printf '\\033')\"'b'");
}

/* The shell reads each quoted word back as exactly the bytes it came from,
 * and runs nothing. */
TEST(sh_quote_round_trips_through_a_real_shell)
{
	const char *hostile[] = {
		"$(id>&2)", "e;id>&2", "a>b", "`id`", "x\ny", "'\"'\"", "\\", "*", "~root", "a b\tc", "#c",
		"\033]0;title\007", "$HOME", "!!", "{a,b}", "%s", "-", "é", "\x7f",
	};
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		autofree char *q = quoted(hostile[i]);
		autofree char *script = xasprintf("printf '%%s|' %s\n", q);
		autofree char *got = run_sh(script);
		autofree char *want = xasprintf("%s|", hostile[i]);
		CHECK_STR(got, want);
	}
}

TEST(heredoc_delimiter_is_no_line_of_the_body)
{
	char d[32];
	sh_heredoc_delimiter("table ip t {\n}\n", d, sizeof(d));
	CHECK_STR(d, "EOF");
	sh_heredoc_delimiter("a\nEOF\nb\n", d, sizeof(d));
	CHECK_STR(d, "EOF1");
	/* A last line without its newline still ends a here-document. */
	sh_heredoc_delimiter("a\nEOF", d, sizeof(d));
	CHECK_STR(d, "EOF1");
	sh_heredoc_delimiter("EOF", d, sizeof(d));
	CHECK_STR(d, "EOF1");
	sh_heredoc_delimiter("EOF\nEOF1\n", d, sizeof(d));
	CHECK_STR(d, "EOF2");
	sh_heredoc_delimiter("EOFX\n EOF\nEOF \n", d, sizeof(d));
	CHECK_STR(d, "EOF");
}

static char *rendered(void (*write)(const struct render_ctx *r, const void *arg), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct render_ctx r = {.plan = NULL, .out = out};
	write(&r, arg);
	fclose(out);
	return text;
}

static void cat_heredoc(const struct render_ctx *r, const void *body)
{
	struct render_argv a = {.n = 0};
	render_push(&a, "cat", NULL);
	render_heredoc(r, &a, body);
}

TEST(no_body_ends_its_here_document_early)
{
	const char *bodies[] = {"table ip t {}\n", "x\nEOF", "EOF\n$(id>&2)\n", "EOF", "a\nEOF1\nEOF\n`id`"};
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		autofree char *script = rendered(cat_heredoc, bodies[i]);
		autofree char *got = run_sh(script);
		size_t n = strlen(bodies[i]);
		autofree char *want = xasprintf("%s%s", bodies[i], bodies[i][n - 1] == '\n' ? "" : "\n");
		CHECK_STR(got, want);
	}
}

static void comment(const struct render_ctx *r, const void *text)
{
	render_comment(r, "workload: %s", (const char *)text);
}

TEST(a_comment_stays_one_line_with_no_control_characters)
{
	autofree char *c = rendered(comment, "a\ntouch pwned\n\033[2K\rb\xff");
	CHECK_STR(c, "# workload: a\\x0atouch pwned\\x0a\\x1b[2K\\x0db\\xff\n");
}

#define POD_LAB(command, image)                                                                              \
	"{\"name\": \"k\", \"neighbours\": \"static\", \"images\": {\"pod\": \"" image "\", \"node\": \"img.tar\"}, " \
	"\"nodes\": ["                                                                                         \
	"{\"name\": \"node1\", \"pods\": [{\"name\": \"a\", \"command\": " command "}]}]}"

/* Every line of the script is a comment, blank, set -eu, or one of the four
 * programs: nothing a topology holds starts a line of its own. */
TEST(hostile_arguments_stay_in_their_comment)
{
	struct plan p;
	if (!fixture_plan(POD_LAB("[\"sh\", \"-c\", \"x\\ntouch pwned\\n\\u001b[1A\", \"$(id>&2)\"]", "img.tar"), &p)) {
		CHECK(!"built");
		return;
	}
	/* A folder whose name breaks lines, as the image's resolved path. */
	free(p.images[0].path);
	p.images[0].path = xstrdup("/tmp/x\nid>&2\n/img.tar");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	plan_render_sh(&p, out);
	fclose(out);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		bool ok = line[0] == '#' || strcmp(line, "set -eu") == 0 || str_has_prefix(line, "ip ") ||
			  str_has_prefix(line, "bridge ") || line[0] == '}' || line[0] == '\t' ||
			  str_has_prefix(line, "table ") || str_has_prefix(line, "EOF");
		if (!ok)
			harness_fail(__FILE__, __LINE__, "a line that is not a comment or command: %s", line);
		for (const char *c = line; *c; c++)
			if ((unsigned char)*c < ' ' && *c != '\t')
				harness_fail(__FILE__, __LINE__, "a control character in: %s", line);
	}
	free(text);
	plan_free(&p);
}

/* A saved plan is read back into the script and into netlink requests: its
 * names must pass the same rules as a topology's. */
TEST(a_saved_plan_with_hostile_values_is_refused)
{
	struct plan p;
	if (!fixture_plan(POD_LAB("[\"true\"]", "img.tar"), &p)) {
		CHECK(!"built");
		return;
	}
	autofree char *text = plan_to_json(&p, true);
	plan_free(&p);
	/* A field's text as cJSON_Print writes it, and what replaces it. */
	struct {
		const char *from, *to, *why;
	} cases[] = {
		{"\"name\":\t\"cbr0\"", "\"name\": \"$(id)\"", "interface name \"$(id)\" may hold only"},
		{"\"dev\":\t\"eth0\"", "\"dev\": \"up\"", "interface name \"up\" is a keyword"},
		{"\"peerName\":\t\"eth0\"", "\"peerName\": \"e\\u001b\"", "interface name \"e\\x1b\" may hold only"},
		{"\"mac\":\t\"", "\"mac\": \"x;id\", \"was\": \"", "\"x;id\" is not a MAC address"},
		{"\"lab\":\t\"k\"", "\"lab\": \"k;id\"", "lab: \"k;id\" is not a lab name"},
		{"\"name\":\t\"node1\"", "\"name\": \"node1;id\"", "is not a machine name"},
		{"\"value\":\t\"1\"", "\"value\": \"1\\nid\"", "\"value\": \"1\\x0aid\" is not a setting's value"},
		{"\"steps\":\t[", "\"steps\": [{\"kind\": \"nft\", \"machine\": \"node1\", \"table\": \"t\", \"ruleset\": \"\\u001b[2J\"},",
		 "a control character (\\x1b) at byte 0"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *at = strstr(text, cases[i].from);
		if (!at) {
			harness_fail(__FILE__, __LINE__, "the plan has no %s", cases[i].from);
			continue;
		}
		autofree char *bad = xasprintf("%.*s%s%s", (int)(at - text), text, cases[i].to, at + strlen(cases[i].from));
		struct plan q;
		struct tb_err e;
		CHECK_INT(plan_from_json(bad, &q, &e), -1);
		if (!strstr(e.msg, cases[i].why))
			harness_fail(__FILE__, __LINE__, "%s: got \"%s\", want it to say \"%s\"", cases[i].to, e.msg,
				     cases[i].why);
	}
}

TEST(interface_names_follow_one_rule)
{
	const char *good[] = {"eth0", "a", "br-1", "flannel.1", "veth_a.b-c", "UP", "ups", "abcdefghijklmno"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(ifname_problem(good[i]) == NULL);
	const char *bad[] = {"", ".", "..", "abcdefghijklmnop", "a b", "a/b", "a:b", "a;b", "$(id)", "é", "a\nb",
			     "up", "help", "type", "dev", "name", "master", "netns", "mtu", "address", "all", "default"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (!ifname_problem(bad[i]))
			harness_fail(__FILE__, __LINE__, "\"%s\" was accepted", bad[i]);
}

/* The schema and docs/topology.md list the same reserved words as the code. */
TEST(reserved_interface_names_are_the_same_in_schema_docs_and_code)
{
	autofree char *schema_text = read_file("../../docs/topology.schema.json", NULL);
	autofree char *doc = read_file("../../docs/topology.md", NULL);
	if (!schema_text || !doc) {
		CHECK(!"read the schema and docs/topology.md");
		return;
	}
	cJSON *schema = cJSON_Parse(schema_text);
	const cJSON *words = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(schema, "$defs"), "ifname"), "not"),
		"enum");
	size_t in_schema = 0;
	for (const cJSON *w = cJSON_IsArray(words) ? words->child : NULL; w; w = w->next, in_schema++)
		if (!cJSON_IsString(w) || (strcmp(w->valuestring, "lo") != 0 && !ifname_problem(w->valuestring)))
			harness_fail(__FILE__, __LINE__, "the schema refuses \"%s\", testbed does not",
				     cJSON_IsString(w) ? w->valuestring : "?");
	/* ".", ".." and "lo" besides the list. */
	CHECK_INT(in_schema, ifname_n_reserved_words + 3);
	for (size_t i = 0; i < ifname_n_reserved_words; i++) {
		autofree char *quoted_word = xasprintf("`%s`", ifname_reserved_words[i]);
		if (!strstr(doc, quoted_word))
			harness_fail(__FILE__, __LINE__, "docs/topology.md does not list %s", quoted_word);
	}
	cJSON_Delete(schema);
}
