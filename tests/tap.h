/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for host tests.  Every suite in dlock, host or guest,
 * reports in TAP ("ok N - name" / "not ok N - name"), the format the kernel's
 * kselftest harness also prints, so tests/count-tap can total them into the
 * single "N passed, N failed" line that `make check` ends with.
 */
#ifndef DLOCK_TAP_H
#define DLOCK_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
}

static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* Call at the end of main(): prints the plan if none was given up front. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* DLOCK_TAP_H */
