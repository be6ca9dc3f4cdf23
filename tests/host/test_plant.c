// SPDX-License-Identifier: GPL-2.0
/*
 * The lock rules are checked, not only written (issue 11).  Built twice:
 *
 *  - test_plant_bug links a table built with -DDLOCK_PLANT_LOCK_BUG, whose
 *    dl_acquire() queues a waiter without asking for the global lock (the
 *    helper called without its lock).  The run must see the table's own
 *    DL_ASSERT(cx->global) fire; it counts the failures instead of aborting.
 *  - test_plant links the real table: the same steps, run the way the glue
 *    runs them (retry with the global lock on DL_NEED_GLOBAL), trip none.
 *
 * The fake glue also plays lockdep: the table must send wait_done only while
 * the glue holds the global lock.
 */
#define DL_ASSERT_OWN_HANDLER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "table.h"

static int asserts, unheld;
static bool global_held;

void dl_assert_failed(const char *expr, const char *file, int line)
{
	printf("# DL_ASSERT(%s) failed at %s:%d\n", expr, file, line);
	asserts++;
}

static void *p_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)priv;
	(void)kind;
	return malloc(size);
}

static void p_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)priv;
	(void)kind;
	(void)size;
	free(p);
}

static u64 p_token(struct dl_cmd *cx)
{
	static u64 token;

	(void)cx;
	return ++token;
}

static void p_set_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	(void)cx;
	(void)shard;
	(void)d;
}

static void p_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	(void)wd;
	unheld += !global_held;
}

static void p_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx;
	(void)ls;
}

static void p_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx;
	(void)ev;
}

static const struct dl_table_ops p_ops = {
	.alloc = p_alloc, .free = p_free, .next_token = p_token,
	.set_timer = p_set_timer, .wait_done = p_wait_done,
	.lost = p_lost, .event = p_event,
};

/* The glue's retry: the shard lock alone first, then the global one too. */
#define RUN(call) ({							\
	struct dl_cmd cx = { .now = 1000 };				\
	int rc = call;							\
									\
	if (rc == DL_NEED_GLOBAL) {					\
		global_held = cx.global = true;				\
		rc = call;						\
		global_held = false;					\
	}								\
	rc;								\
})

static int acq(struct dl_table *t, struct dl_session *s, u32 flags)
{
	struct dl_acquire_req rq = {
		.name = "x", .name_len = 1, .mode = DL_MODE_EXCLUSIVE,
		.flags = flags | DL_ACQ_NO_TTL, .sess = s, .tag = 1,
		.cookie = 7,
	};
	struct dl_acquire_res res;

	return RUN(dl_acquire(t, &cx, &rq, &res));
}

int main(void)
{
	struct dl_table_config cfg = { .nr_shards = 4 };
	struct dl_table *t = dl_table_create(&cfg, &p_ops, NULL);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_owner_ref oa = { .sess = a, .tag = 1 };
	int queued, released;

	acq(t, a, 0);
	queued = acq(t, b, 0);	/* waits behind a */
	released = RUN(dl_release(t, &cx, "x", 1, &oa, NULL));
#ifdef DLOCK_PLANT_LOCK_BUG
	tap_ok(queued == DL_QUEUED && asserts > 0,
	       "plant: a wait queued without the global lock fails DL_ASSERT(cx->global) (%d failures)",
	       asserts);
#else
	tap_ok(queued == DL_QUEUED && released == 0 && asserts == 0,
	       "plant: the same steps with the global lock taken trip no DL_ASSERT (%d)",
	       asserts);
	tap_ok(unheld == 0, "plant: wait_done only while the glue holds the global lock");
#endif
	(void)released;
	{
		struct dl_cmd cx = { .now = 2000, .global = true };
		u32 i;

		global_held = true;
		for (i = 0; i < dl_nr_shards(t); i++) {
			if (dl_session_touched(a, i))
				dl_session_end(t, &cx, a, i);
			if (dl_session_touched(b, i))
				dl_session_end(t, &cx, b, i);
		}
	}
	dl_session_destroy(t, a);
	dl_session_destroy(t, b);
	dl_table_destroy(t);
	return tap_done();
}
