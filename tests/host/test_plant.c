// SPDX-License-Identifier: GPL-2.0
/*
 * The lock rules are checked, not only written (issue 11).  Built twice:
 *
 *  - test_plant_bug links a table built with -DDLOCK_PLANT_LOCK_BUG, whose
 *    dl_acquire() queues a waiter without asking for the global lock (the
 *    helper called without its lock).  The run must see the table's own
 *    DL_ASSERT(cx->global) fire; it counts the failures instead of aborting.
 *  - test_plant links the real table: the same steps, run by the shared
 *    fake glue (which also fails a wait_done sent without the global lock,
 *    as lockdep does in the module), trip none.
 */
#define DL_ASSERT_OWN_HANDLER
#include "table_fixture.h"

static int asserts;

void dl_assert_failed(const char *expr, const char *file, int line)
{
	printf("# DL_ASSERT(%s) failed at %s:%d\n", expr, file, line);
	asserts++;
}

static void test_plant(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *all[] = { a, b };
	int queued, released;

	try_lock(t, a, 1, "x", DL_MODE_EXCLUSIVE, NULL);
	queued = wait_lock(t, b, 1, "x", DL_MODE_EXCLUSIVE, 7);
	released = unlock(t, a, 1, "x");
#ifdef DLOCK_PLANT_LOCK_BUG
	T_OK(queued == DL_QUEUED && asserts > 0,
	     "plant: a wait queued without the global lock fails DL_ASSERT(cx->global) (%d failures)",
	     asserts);
	(void)released;
#else
	T_OK(queued == DL_QUEUED && released == 0 && asserts == 0 &&
	     log_count('W', 0) == 1,
	     "plant: the same steps with the global lock taken trip no DL_ASSERT (%d)",
	     asserts);
#endif
	finish(t, all, 2);
}

static const struct fx_case cases[] = {
	{ "plant", test_plant },
};

FX_MAIN(cases)
