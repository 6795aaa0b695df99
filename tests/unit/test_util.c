/* str_escape: what untrusted text looks like on a terminal or in a report. */
#include <stdlib.h>

#include "harness.h"
#include "util.h"

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
