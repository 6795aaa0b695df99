/* str_escape: what untrusted text looks like on a terminal or in a report. */
#include <stdlib.h>

#include "harness.h"
#include "util/util.h"

static void check_escape(const char *in, size_t n, const char *want, int line)
{
	char *got = str_escape_n(in, n);
	if (strcmp(got, want) != 0)
		harness_fail(__FILE__, line, "str_escape(...) == \"%s\", want \"%s\"", got, want);
	free(got);
}

#define ESCAPES(in, want) check_escape(in, sizeof(in) - 1, want, __LINE__)

TEST(str_escape_keeps_printable_text_and_utf8)
{
	ESCAPES("pod-a -> pod-c http:8000 (answered by pod-c)", "pod-a -> pod-c http:8000 (answered by pod-c)");
	ESCAPES("", "");
	ESCAPES("caf\xc3\xa9 \xe2\x9c\x85 \xf0\x9f\x9a\xab \xc2\xa0", "caf\xc3\xa9 \xe2\x9c\x85 \xf0\x9f\x9a\xab \xc2\xa0");
}

TEST(str_escape_escapes_controls_backslashes_and_bad_utf8)
{
	ESCAPES("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	ESCAPES("a\r\nb\tc\x7f", "a\\x0d\\x0ab\\x09c\\x7f");
	ESCAPES("a\\x1b", "a\\\\x1b");
	/* C1 controls: CSI (U+009B) would start a sequence on some terminals. */
	ESCAPES("\xc2\x80\xc2\x9b[2J\xc2\x9f", "\\xc2\\x80\\xc2\\x9b[2J\\xc2\\x9f");
	/* A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, a byte never in UTF-8. */
	ESCAPES("\x80", "\\x80");
	ESCAPES("\xe2\x9c", "\\xe2\\x9c");
	ESCAPES("\xc0\xaf", "\\xc0\\xaf");
	ESCAPES("\xed\xa0\x80", "\\xed\\xa0\\x80");
	ESCAPES("\xff", "\\xff");
	/* An embedded NUL inside the first N bytes. */
	ESCAPES("a\0b", "a\\x00b");
	char *s = str_escape("x\ny");
	CHECK_STR(s, "x\\x0ay");
	free(s);
}

/* Text that is valid UTF-8 yet not allowed in XML 1.0 or YAML (U+FFFE,
 * U+FFFF, the other noncharacters) or that YAML takes for a line break. */
TEST(str_escape_escapes_noncharacters_and_line_separators)
{
	ESCAPES("a\xef\xbf\xbe" "b\xef\xbf\xbf", "a\\xef\\xbf\\xbeb\\xef\\xbf\\xbf");
	ESCAPES("\xef\xb7\x90\xef\xb7\xaf", "\\xef\\xb7\\x90\\xef\\xb7\\xaf");       /* U+FDD0, U+FDEF */
	ESCAPES("\xf0\x9f\xbf\xbe\xf4\x8f\xbf\xbf", "\\xf0\\x9f\\xbf\\xbe\\xf4\\x8f\\xbf\\xbf"); /* U+1FFFE, U+10FFFF */
	ESCAPES("a\xe2\x80\xa8" "b\xe2\x80\xa9", "a\\xe2\\x80\\xa8b\\xe2\\x80\\xa9");
	/* Their neighbours are text: U+FDCF, U+FDF0, U+FFFD, U+1FFFD, U+2027. */
	ESCAPES("\xef\xb7\x8f\xef\xb7\xb0\xef\xbf\xbd\xf0\x9f\xbf\xbd\xe2\x80\xa7",
		"\xef\xb7\x8f\xef\xb7\xb0\xef\xbf\xbd\xf0\x9f\xbf\xbd\xe2\x80\xa7");
}

TEST(utf8_valid_prefix_stops_at_the_first_byte_that_is_not_utf8)
{
	CHECK_INT(utf8_valid_prefix("caf\xc3\xa9", 5), 5);
	CHECK_INT(utf8_valid_prefix("ab\xff" "c", 4), 2);
	CHECK_INT(utf8_valid_prefix("ab\xe2\x82", 4), 2);         /* half a euro sign */
	CHECK_INT(utf8_valid_prefix("a\xed\xa0\x80", 4), 1);      /* a surrogate */
	CHECK_INT(utf8_valid_prefix("a\xc0\xaf", 3), 1);          /* an overlong '/' */
	CHECK_INT(utf8_valid_prefix("\xef\xbf\xbe", 3), 3);       /* U+FFFE is UTF-8, if no text */
	CHECK_INT(utf8_valid_prefix("", 0), 0);
	CHECK(str_is_utf8("caf\xc3\xa9") && str_is_utf8(""));
	CHECK(!str_is_utf8("caf\xe9"));
}

TEST(utf8_cut_keeps_whole_characters)
{
	const char *euro = "ab\xe2\x82\xac" "c"; /* "ab€c": the euro sign is bytes 2 to 4 */
	CHECK_INT(utf8_cut(euro, 6, 10), 6);
	CHECK_INT(utf8_cut(euro, 6, 6), 6);
	CHECK_INT(utf8_cut(euro, 6, 5), 5);
	CHECK_INT(utf8_cut(euro, 6, 4), 2);
	CHECK_INT(utf8_cut(euro, 6, 3), 2);
	CHECK_INT(utf8_cut(euro, 6, 2), 2);
	CHECK_INT(utf8_cut(euro, 6, 0), 0);
	/* Bytes that are no character are cut anywhere: each is one unit. */
	CHECK_INT(utf8_cut("a\xff\xff\xff", 4, 2), 2);
	CHECK_INT(utf8_cut("a\xe2\x82" "b", 4, 2), 2);
	/* A 4-byte character: all of it or none. */
	CHECK_INT(utf8_cut("\xf0\x9f\x9a\xab", 4, 3), 0);
}
