/* The image cache's pure parts: which names are trees, sizes for people. */
#include "harness.h"
#include "image/image_cache.h"

TEST(image_cache_names_trees_by_64_lowercase_hex_digits)
{
	CHECK(image_cache_is_hash("3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee0123"));
	CHECK(!image_cache_is_hash("3211C0FFEE3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee0123"));
	CHECK(!image_cache_is_hash("3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee012"));
	CHECK(!image_cache_is_hash("3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee3211c0ffee0123.json"));
	CHECK(!image_cache_is_hash(".unpack-Ab12Cd"));
	CHECK(!image_cache_is_hash(""));
}

static void check_human(unsigned long long bytes, const char *want, int line)
{
	char got[16];
	image_cache_human_bytes(bytes, got);
	if (strcmp(got, want) != 0)
		harness_fail(__FILE__, line, "image_cache_human_bytes(%llu) == \"%s\", want \"%s\"", bytes, got, want);
}

TEST(image_cache_human_bytes_uses_powers_of_1024)
{
	check_human(0, "0 B", __LINE__);
	check_human(1023, "1023 B", __LINE__);
	check_human(1024, "1.0 KiB", __LINE__);
	check_human(1536, "1.5 KiB", __LINE__);
	check_human(44040192, "42.0 MiB", __LINE__);
	/* Never "1024.0 KiB": the next unit instead. */
	check_human(1024ULL * 1024 - 1, "1.0 MiB", __LINE__);
	check_human(2ULL << 30, "2.0 GiB", __LINE__);
	check_human(~0ULL, "16.0 EiB", __LINE__);
}
