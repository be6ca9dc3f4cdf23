// SPDX-License-Identifier: GPL-2.0
/*
 * Durations for dlockctl: seconds unless a unit says otherwise.  Parsed by
 * hand rather than with strtod(): a binary double cannot hold 0.1 exactly,
 * and "0.3s" must be 300 ms, never 299.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#define UNITS "use ms, s, m or h; a bare number is seconds"

static const struct {
	const char *name;
	uint64_t ms;
} units[] = {
	{ "", 1000 },	/* a bare number: seconds */
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

int duration_parse(const char *s, uint32_t *ms, const char **why)
{
	uint64_t whole = 0, frac = 0, scale = 1, mult = 0, v;
	bool digits = false, inexact = false;
	size_t i;

	for (; *s >= '0' && *s <= '9'; s++, digits = true) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		/* Even in ms it is too long; keep reading to check the rest. */
		if (whole > UINT32_MAX)
			whole = (uint64_t)UINT32_MAX + 1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true) {
			/* Past 9 digits only zeros can still be exact. */
			if (scale >= 1000000000ULL) {
				inexact |= *s != '0';
				continue;
			}
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
	}
	if (!digits) {
		*why = "is not a duration (a number of seconds, or with a unit: 250ms, 1.5s, 2m, 1h)";
		return -EINVAL;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(s, units[i].name))
			mult = units[i].ms;
	if (!mult) {
		*why = "has an unknown unit (" UNITS ")";
		return -EINVAL;
	}
	/* whole <= 2^32 and mult <= 3.6e6: no 64-bit overflow. */
	v = whole * mult + frac * mult / scale;
	if (v > UINT32_MAX) {
		*why = "is too long (at most 4294967295ms, about 49 days)";
		return -ERANGE;
	}
	if (inexact || (frac * mult) % scale) {
		*why = "is finer than a millisecond";
		return -EDOM;
	}
	*ms = (uint32_t)v;
	return 0;
}

void duration_format(char *buf, size_t size, uint32_t ms)
{
	if (ms && !(ms % 3600000))
		snprintf(buf, size, "%uh", ms / 3600000);
	else if (ms && !(ms % 60000))
		snprintf(buf, size, "%um", ms / 60000);
	else if (ms && !(ms % 1000))
		snprintf(buf, size, "%us", ms / 1000);
	else
		snprintf(buf, size, "%ums", ms);
}
