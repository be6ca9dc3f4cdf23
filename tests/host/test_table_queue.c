// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table (kmod/table.c): wait queues, deadlock
 * detection, the global lock, hot locks and locks with many holders.
 * On the shared fake glue (table_fixture.h); each case runs alone by name.
 */
#include <time.h>

#include "table_fixture.h"

static void test_queue_fifo(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_entry_info ei;
	struct dl_cmd cx;
	int ok;

	try_lock(t, s, 1, "q", DL_MODE_EXCLUSIVE, NULL);
	ok = wait_lock(t, s, 2, "q", DL_MODE_EXCLUSIVE, 2) == DL_QUEUED &&
	     wait_lock(t, s, 3, "q", DL_MODE_SHARED, 3) == DL_QUEUED &&
	     wait_lock(t, s, 4, "q", DL_MODE_SHARED, 4) == DL_QUEUED &&
	     wait_lock(t, s, 5, "q", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED &&
	     wait_lock(t, s, 6, "q", DL_MODE_SHARED, 6) == DL_QUEUED;
	T_OK(ok && waiters(t, "q") == 5, "queue: five waiters queued");
	T_OK(wait_lock(t, s, 2, "q", DL_MODE_EXCLUSIVE, 9) == -EALREADY,
	       "queue: an owner already waiting on the name -> -EALREADY");
	log_reset();
	unlock(t, s, 1, "q");
	T_OK(log_count('W', 0) == 1 && logv[nlog - 1].cookie == 2 &&
	       holder_info(t, "q", 1, 2, &ei),
	       "queue: release grants only the exclusive head, only it is notified");
	log_reset();
	unlock(t, s, 2, "q");
	T_OK(log_count('W', 0) == 2 && holders(t, "q") == 2 &&
	       waiters(t, "q") == 2, "queue: then the run of two shared waiters, not the one behind the writer");
	log_reset();
	unlock(t, s, 3, "q");
	T_OK(log_count('W', 0) == 0, "queue: writer waits for all readers");
	unlock(t, s, 4, "q");
	T_OK(log_count('W', 0) == 1 && logv[nlog - 1].cookie == 5,
	       "queue: last reader out grants the writer");
	/* No barging: a new reader queues behind a waiting writer. */
	try_lock(t, s, 10, "nb", DL_MODE_SHARED, NULL);
	wait_lock(t, s, 11, "nb", DL_MODE_EXCLUSIVE, 11);
	T_OK(try_lock(t, s, 12, "nb", DL_MODE_SHARED, NULL) == -EAGAIN &&
	       wait_lock(t, s, 12, "nb", DL_MODE_SHARED, 12) == DL_QUEUED,
	       "queue: no barging past a queued writer");
	/* Cancelling the head writer lets the readers behind it in. */
	log_reset();
	cx = (struct dl_cmd){ .now = now, .global = true };
	T_OK(dl_cancel(t, &cx, "nb", 2, s, 11) == 0 && log_count('W', 0) == 1 &&
	       holders(t, "nb") == 2, "queue: cancel of the head grants those behind that fit");
	T_OK(dl_cancel(t, &cx, "nb", 2, s, 11) == -ENOENT, "queue: cancel twice -> -ENOENT");
	/* Wait timeout. */
	log_reset();
	T_OK(acq_full(t, s, 20, "q", DL_MODE_EXCLUSIVE, 0, 0, 1000, 250, 20,
			NULL, NULL) == DL_QUEUED, "queue: wait with a 250 ms timeout");
	now += 250 * MS;
	run_timers(t);
	T_OK(log_count('W', -ETIMEDOUT) == 1 && logv[0].cookie == 20 &&
	       waiters(t, "q") == 1, "queue: wait times out with -ETIMEDOUT, others stay queued");
	T_OK(check_ok(t), "queue: table consistent");
	finish(t, &s, 1);
}

static void test_semaphore_queue(void)
{
	struct dl_table *t = mk_table(2, 0);
	struct dl_session *s = dl_session_create(t, 1);
	int i, ok = 1;

	for (i = 0; i < 2; i++)
		ok &= acq_full(t, s, i, "sq", DL_MODE_SEMAPHORE, 2, 0, 1000, 0,
			       i, NULL, NULL) == 0;
	for (i = 2; i < 5; i++)
		ok &= acq_full(t, s, i, "sq", DL_MODE_SEMAPHORE, 2, 0, 1000, 0,
			       i, NULL, NULL) == DL_QUEUED;
	T_OK(ok, "semaphore queue: 2 holders, 3 waiters");
	log_reset();
	{
		struct dl_cmd cx = { .now = now, .global = true };

		dl_break(t, &cx, "sq", 2, 0);
	}
	T_OK(log_count('W', 0) == 2 && logv[nlog - 1].cookie == 3 &&
	       log_find('W', 0, "sq")->cookie == 2 && waiters(t, "sq") == 1,
	       "semaphore queue: freeing 2 permits grants the first 2 waiters in order");
	T_OK(check_ok(t), "semaphore queue: table consistent");
	finish(t, &s, 1);
}

static void test_deadlock(void)
{
	struct dl_table *t = mk_table(8, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_session *s2 = dl_session_create(t, 2);
	struct dl_session *ss[2] = { s, s2 };
	struct dl_table_stats st;
	char a[16], b[16];
	int i, ok;
	u64 g;

	/* Two owners. */
	try_lock(t, s, 1, "X", DL_MODE_EXCLUSIVE, NULL);
	try_lock(t, s2, 2, "Y", DL_MODE_EXCLUSIVE, NULL);
	T_OK(wait_lock(t, s, 1, "Y", DL_MODE_EXCLUSIVE, 1) == DL_QUEUED,
	       "deadlock: A holds X waits for Y");
	g = dl_table_generation(t);
	T_OK(wait_lock(t, s2, 2, "X", DL_MODE_EXCLUSIVE, 2) == -EDEADLK &&
	       waiters(t, "X") == 0 && dl_table_generation(t) == g,
	       "deadlock: 2-owner cycle -> -EDEADLK at once, nothing queued");
	/* Three owners (B and C in the same session, different tags). */
	try_lock(t, s2, 3, "Z", DL_MODE_EXCLUSIVE, NULL);
	T_OK(wait_lock(t, s2, 2, "Z", DL_MODE_SHARED, 3) == DL_QUEUED,
	       "deadlock: B waits for Z held by C (no cycle)");
	T_OK(wait_lock(t, s2, 3, "X", DL_MODE_SHARED, 4) == -EDEADLK,
	       "deadlock: 3-owner cycle C->A->B->C -> -EDEADLK");
	/* Shared vs shared is not an edge. */
	try_lock(t, s, 30, "S", DL_MODE_SHARED, NULL);
	T_OK(wait_lock(t, s, 30, "Z", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED &&
	       try_lock(t, s2, 3, "S", DL_MODE_SHARED, NULL) == 0,
	       "deadlock: compatible shared holders close no cycle");
	finish(t, ss, 2);

	/* A 6-owner ring of detached owners, each holding o_i, waiting o_i+1. */
	t = mk_table(8, 0);
	s = dl_session_create(t, 1);
	ok = 1;
	for (i = 0; i < 6; i++) {
		snprintf(a, sizeof(a), "own%d", i);
		snprintf(b, sizeof(b), "ring%d", i);
		ok &= acq_full(t, s, 0, b, DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			       1000, 0, 0, a, NULL) == 0;
	}
	for (i = 0; i < 5; i++) {
		snprintf(a, sizeof(a), "own%d", i);
		snprintf(b, sizeof(b), "ring%d", i + 1);
		ok &= acq_full(t, s, 0, b, DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			       1000, 0, i, a, NULL) == DL_QUEUED;
	}
	T_OK(ok, "deadlock: chain of 5 waits among detached owners queued");
	T_OK(acq_full(t, s, 0, "ring0", DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			1000, 0, 9, "own5", NULL) == -EDEADLK,
	       "deadlock: closing a 6-owner ring -> -EDEADLK");
	/* Through the queue: D waits behind writer E on Q; E waits for D. */
	try_lock(t, s, 40, "Q", DL_MODE_SHARED, NULL);	/* F reads Q */
	try_lock(t, s, 41, "R", DL_MODE_EXCLUSIVE, NULL);	/* D holds R */
	wait_lock(t, s, 42, "Q", DL_MODE_EXCLUSIVE, 42);	/* E waits Q */
	wait_lock(t, s, 41, "Q", DL_MODE_SHARED, 41);	/* D behind E */
	T_OK(wait_lock(t, s, 42, "R", DL_MODE_EXCLUSIVE, 43) == -EDEADLK,
	       "deadlock: cycle through a queued writer (FIFO edge) detected");
	finish(t, &s, 1);

	/* Depth limit: a chain longer than the walk stack is not followed. */
	{
		struct dl_table_config cfg = { .nr_shards = 4, .deadlk_depth = 4 };

		t = mk_table_cfg(&cfg);
	}
	s = dl_session_create(t, 1);
	for (i = 0; i < 10; i++) {
		snprintf(b, sizeof(b), "c%d", i);
		try_lock(t, s, i, b, DL_MODE_EXCLUSIVE, NULL);
	}
	for (i = 0; i < 9; i++) {
		snprintf(b, sizeof(b), "c%d", i + 1);
		wait_lock(t, s, i, b, DL_MODE_EXCLUSIVE, i);
	}
	T_OK(wait_lock(t, s, 9, "c7", DL_MODE_EXCLUSIVE, 50) == -EDEADLK,
	       "deadlock: a 3-owner cycle is still found with a depth-4 walk");
	dl_table_stats(t, &st);
	T_OK(wait_lock(t, s, 9, "c0", DL_MODE_EXCLUSIVE, 51) == DL_QUEUED,
	       "deadlock: a 10-owner cycle beyond the depth limit is queued (documented)");
	{
		struct dl_table_stats st2;

		dl_table_stats(t, &st2);
		T_OK(st2.deadlk_truncated == st.deadlk_truncated + 1,
		       "deadlock: the truncated walk is counted");
	}
	T_OK(check_ok(t), "deadlock: table consistent");
	finish(t, &s, 1);

	/*
	 * A wait first met at the depth limit (path R->A->C->D->X) must still
	 * be followed when a shorter path reaches it (R->B->X->R).
	 */
	{
		struct dl_table_config cfg = { .nr_shards = 4, .deadlk_depth = 4 };

		t = mk_table_cfg(&cfg);
	}
	s = dl_session_create(t, 1);
	try_lock(t, s, 2, "L0", DL_MODE_SHARED, NULL);	/* A */
	try_lock(t, s, 3, "L0", DL_MODE_SHARED, NULL);	/* B */
	try_lock(t, s, 4, "L1", DL_MODE_EXCLUSIVE, NULL);	/* C */
	try_lock(t, s, 5, "L2", DL_MODE_EXCLUSIVE, NULL);	/* D */
	try_lock(t, s, 6, "L3", DL_MODE_EXCLUSIVE, NULL);	/* X */
	try_lock(t, s, 1, "L4", DL_MODE_EXCLUSIVE, NULL);	/* R */
	ok = wait_lock(t, s, 2, "L1", DL_MODE_EXCLUSIVE, 2) == DL_QUEUED &&
	     wait_lock(t, s, 4, "L2", DL_MODE_EXCLUSIVE, 4) == DL_QUEUED &&
	     wait_lock(t, s, 5, "L3", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED &&
	     wait_lock(t, s, 3, "L3", DL_MODE_EXCLUSIVE, 3) == DL_QUEUED &&
	     wait_lock(t, s, 6, "L4", DL_MODE_EXCLUSIVE, 6) == DL_QUEUED;
	T_OK(ok && wait_lock(t, s, 1, "L0", DL_MODE_EXCLUSIVE, 1) == -EDEADLK,
	     "deadlock: a wait cut off at the depth limit is still followed by a shorter path");
	finish(t, &s, 1);
}

static void test_need_global(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_cmd cx = { .now = now, .global = false };
	struct dl_acquire_req rq = { .name = "g", .name_len = 1,
				     .mode = DL_MODE_EXCLUSIVE, .ttl_ms = 100,
				     .sess = s, .tag = 2 };
	struct dl_owner_ref o = { .sess = s, .tag = 1 };
	struct dl_acquire_res r;
	long retries = global_retries;
	u64 g;

	try_lock(t, s, 1, "g", DL_MODE_EXCLUSIVE, NULL);
	try_lock(t, s, 1, "h", DL_MODE_EXCLUSIVE, NULL);
	unlock(t, s, 1, "h");
	T_OK(global_retries == retries, "global lock: uncontended acquire/release never ask for it");
	g = dl_table_generation(t);
	T_OK(dl_acquire(t, &cx, &rq, &r) == DL_NEED_GLOBAL &&
	       dl_table_generation(t) == g && waiters(t, "g") == 0,
	       "global lock: a wait asks for it and changes nothing");
	cx.global = true;
	T_OK(dl_acquire(t, &cx, &rq, &r) == DL_QUEUED, "global lock: retry with it queues");
	cx.global = false;
	T_OK(dl_release(t, &cx, "g", 1, &o, NULL) == DL_NEED_GLOBAL &&
	       holders(t, "g") == 1, "global lock: release of a contended lock asks for it");
	T_OK(nerr == 0, "glue contract: no NEED_GLOBAL attempt changed anything (%d)", nerr);
	finish(t, &s, 1);
}

/* Thousands of plain waiters on one lock: the walk prunes them. */
static void test_hot_lock(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_table_stats st;
	double t0 = 0;
	int i, ok = 1;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	try_lock(t, s, 0, "hot", DL_MODE_EXCLUSIVE, NULL);
	for (i = 1; i <= 5000; i++)
		ok &= wait_lock(t, s, i, "hot", i % 4 == 3 ? DL_MODE_SHARED :
				DL_MODE_EXCLUSIVE, i) == DL_QUEUED;
	/* Holder 0 waits for X held by waiter 4000: a cycle via the queue. */
	try_lock(t, s, 4000, "X", DL_MODE_EXCLUSIVE, NULL);
	/* 4000 waits on hot already; holding X it is "multi" only if it waits twice. */
	ok &= wait_lock(t, s, 4000, "Y", DL_MODE_EXCLUSIVE, 9999) == 0;
	T_OK(wait_lock(t, s, 0, "X", DL_MODE_EXCLUSIVE, 10000) == -EDEADLK,
	     "hot lock: cycle holder -> queued waiter found among 5000 waiters");
	/* 3000 waits on hot ahead of 4500, which holds Z: 3000 asking Z closes a cycle. */
	try_lock(t, s, 4500, "Z", DL_MODE_EXCLUSIVE, NULL);
	T_OK(wait_lock(t, s, 3000, "Z", DL_MODE_EXCLUSIVE, 10001) == -EDEADLK,
	     "hot lock: cycle through the requester's own place in a 5000-long queue found");
	T_OK(wait_lock(t, s, 4600, "Z", DL_MODE_EXCLUSIVE, 10002) == DL_QUEUED,
	     "hot lock: a waiter behind the holder of Z may wait for Z");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	dl_table_stats(t, &st);
	T_OK(ok && st.deadlk_truncated == 0,
	     "hot lock: 5000 waiters queued, no walk truncated (%.3f s)",
	     ts.tv_sec + ts.tv_nsec / 1e9 - t0);
	T_OK(check_ok(t), "hot lock: table consistent");
	finish(t, &s, 1);
}

/* Many holders of one name: the per-lock owner index keeps answers right. */
static void test_many_holders(void)
{
	struct dl_table *t = mk_table(2, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_acquire_res r;
	struct dl_entry_info ei;
	int i, ok = 1, consistent = 1;

	for (i = 0; i < 300; i++) {
		/* Index builds fail now and then: the list scan must still work. */
		fail_kinds = i % 7 == 3 || (i > 100 && i < 140) ?
			     FAIL_KIND(DL_OBJ_BUCKETS) : 0;
		ok &= try_lock(t, s, i, "many", DL_MODE_SHARED, &r) == 0 && r.count == 1;
		fail_kinds = 0;
		consistent &= check_ok(t);
	}
	for (i = 0; i < 300; i += 3)
		ok &= try_lock(t, s, i, "many", DL_MODE_SHARED, &r) == 0 && r.count == 2;
	T_OK(ok && consistent && holders(t, "many") == 300,
	     "many holders: 300 readers, reentrancy found through the owner index");
	T_OK(unlock(t, s, 1000, "many") == -EPERM && holder_info(t, "many", 1, 299, &ei) &&
	     ei.count == 1, "many holders: a non-holder is refused, a holder is found");
	for (i = 299; i >= 0; i--) {
		ok &= unlock(t, s, i, "many") == 0;
		if (i % 3 == 0)
			ok &= unlock(t, s, i, "many") == 0;
		consistent &= check_ok(t);
	}
	/* Left: the two shards' bucket arrays. */
	T_OK(ok && consistent && !dl_lookup(t, "many", 4) && live_objs[DL_OBJ_BUCKETS] == 2,
	     "many holders: all released, index shrunk and freed with the lock");
	for (i = 0; i < 64; i++)
		ok &= acq_full(t, s, i, "sem64", DL_MODE_SEMAPHORE, 64, DL_ACQ_TRY, 1000,
			       0, 0, NULL, NULL) == 0;
	T_OK(ok && acq_full(t, s, 99, "sem64", DL_MODE_SEMAPHORE, 64, DL_ACQ_TRY, 1000,
			    0, 0, NULL, NULL) == -EAGAIN && check_ok(t),
	     "many holders: 64-permit semaphore full at 64");
	finish(t, &s, 1);
}

static const struct fx_case cases[] = {
	{ "queue_fifo", test_queue_fifo },
	{ "semaphore_queue", test_semaphore_queue },
	{ "deadlock", test_deadlock },
	{ "need_global", test_need_global },
	{ "many_holders", test_many_holders },
	{ "hot_lock", test_hot_lock },
};

FX_MAIN(cases)
