/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lib_test and lib2_test share: lock names of their own, a fixture of
 * two handles, and the callback that records async acquires.  A test file
 * defines LIBFIX_PREFIX and includes this after kselftest_harness.h.
 */
#ifndef LIBFIX_H
#define LIBFIX_H

#include <stdio.h>
#include <unistd.h>

#include "dlock.h"

/* LIBFIX_PREFIX-@base-PID: no clash with another suite or run's locks. */
static const char *lname(const char *base)
{
	static char buf[8][128];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 128, "%s-%s-%d", LIBFIX_PREFIX, base, getpid());
	return p;
}

/* @fix: two handles, a and b, on the module, opened for every test. */
#define LIBFIX_FIXTURE(fix)					\
	FIXTURE(fix) {						\
		struct dlock *a, *b;				\
	};							\
	FIXTURE_SETUP(fix)					\
	{							\
		ASSERT_EQ(0, dlock_open(&self->a));		\
		ASSERT_EQ(0, dlock_open(&self->b));		\
	}							\
	FIXTURE_TEARDOWN(fix)					\
	{							\
		dlock_close(self->a);				\
		dlock_close(self->b);				\
	}

/* What on_acquired() saw: how many calls, and the last one's result. */
struct done {
	int done;
	int err;
	struct dlock_lease lease;
};

static void on_acquired(struct dlock *d, const char *name, int err,
			const struct dlock_lease *lease, void *arg)
{
	struct done *x = arg;

	(void)d;
	(void)name;
	x->done++;
	x->err = err;
	if (lease)
		x->lease = *lease;
}

#endif /* LIBFIX_H */
