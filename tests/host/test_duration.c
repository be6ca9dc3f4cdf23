// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl's duration parser (userspace/dlockctl/duration.c): a bare number
 * is seconds, units and fractions give exact milliseconds, and every bad
 * form is refused with the reason dlockctl prints.
 */
#include <errno.h>
#include <string.h>

#include "duration.h"
#include "tap.h"

static void good(const char *in, uint32_t want)
{
	const char *why = "";
	uint32_t ms = 12345;
	int err = duration_parse(in, &ms, &why);

	tap_ok(!err && ms == want, "'%s' is %u ms (got %d, %u ms, %s)", in,
	       want, err, ms, err ? why : "-");
}

static void bad(const char *in, int want, const char *reason)
{
	const char *why = "";
	uint32_t ms = 12345;
	int err = duration_parse(in, &ms, &why);

	tap_ok(err == want && ms == 12345 && strstr(why, reason),
	       "'%s' is refused: %s (got %d, '%s')", in, reason, err, why);
}

static void fmt(uint32_t ms, const char *want)
{
	char buf[32];

	duration_format(buf, sizeof(buf), ms);
	tap_ok(!strcmp(buf, want), "%u ms prints as %s (got %s)", ms, want, buf);
}

int main(void)
{
	good("0", 0);
	good("30", 30000);
	good("1.5s", 1500);
	good("1.5", 1500);
	good("0.25", 250);
	good(".5", 500);
	good("0.3s", 300);		/* exact: no binary rounding to 299 */
	good("250ms", 250);
	good("0ms", 0);
	good("2m", 120000);
	good("1h", 3600000);
	good("0.5h", 1800000);
	good("1.000000000000s", 1000);	/* trailing zeros stay exact */
	good("4294967295ms", UINT32_MAX);
	good("4294967.295", UINT32_MAX);
	good("1193h", 1193U * 3600000U);

	bad("", -EINVAL, "not a duration");
	bad("abc", -EINVAL, "not a duration");
	bad("-5", -EINVAL, "not a duration");
	bad("+5", -EINVAL, "not a duration");
	bad(" 5", -EINVAL, "not a duration");
	bad(".", -EINVAL, "not a duration");
	bad("s", -EINVAL, "not a duration");
	bad("5q", -EINVAL, "unknown unit");
	bad("5 s", -EINVAL, "unknown unit");
	bad("5S", -EINVAL, "unknown unit");
	bad("1e3", -EINVAL, "unknown unit");
	bad("5ms5", -EINVAL, "unknown unit");
	bad("1.2.3", -EINVAL, "unknown unit");
	bad("99999999999999999999x", -EINVAL, "unknown unit");
	bad("4294967296ms", -ERANGE, "too long");
	bad("4294968", -ERANGE, "too long");
	bad("1194h", -ERANGE, "too long");
	bad("99999999999999999999999", -ERANGE, "too long");
	bad("1.5ms", -EDOM, "finer than a millisecond");
	bad("0.0001", -EDOM, "finer than a millisecond");
	bad("0.0000000001", -EDOM, "finer than a millisecond");

	fmt(0, "0ms");
	fmt(1500, "1500ms");
	fmt(4000, "4s");
	fmt(600000, "10m");
	fmt(7200000, "2h");
	return tap_done();
}
