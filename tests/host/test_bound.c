// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded work under the wait-graph lock (issue 8, "Nobody can starve the
 * rest").  Every contended command of a namespace runs under one lock, so
 * no client may make one command do work that grows with what it (or
 * anyone) has queued.  Each test builds the table an attacker would build
 * (one owner string with thousands of waits, tags chosen to collide in the
 * owner hash as it was before it was keyed, thousands of permits, a queue of
 * thousands of shared waiters) and asserts, with struct dl_cmd.steps, that
 * the commands it then sends stay within a constant number of steps.  Steps
 * count list, chain and index entries looked at; no timing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "tap.h"

#define T_OK(c, ...) tap_ok(!!(c), __VA_ARGS__)

/* What one lookup may cost: a short hash chain, a few list entries. */
#define STEP_BOUND	48
#define N		3000	/* waits, permits, waiters an attacker piles up */

static long live_objs[DL_OBJ_NR];
static long live_bytes[DL_OBJ_NR];
static bool fail_index;		/* fail every DL_OBJ_INDEX allocation */

static void *b_alloc(void *priv, enum dl_obj kind, size_t size)
{
	size_t *p;

	(void)priv;
	if (fail_index && kind == DL_OBJ_INDEX)
		return NULL;
	p = malloc(sizeof(*p) + size);
	if (!p)
		abort();
	*p = size;
	live_objs[kind]++;
	live_bytes[kind] += size;
	memset(p + 1, 0xa5, size);
	return p + 1;
}

static void b_free(void *priv, enum dl_obj kind, void *q, size_t size)
{
	size_t *p = (size_t *)q - 1;

	(void)priv;
	if (*p != size)
		abort();
	live_objs[kind]--;
	live_bytes[kind] -= size;
	free(p);
}

static u64 tokens = 1;
static long grants, timeouts;
static unsigned char granted_cookie[N + 1];	/* per cookie: grants seen */
static u64 grants_to_sess;			/* session id whose grants count */
static long grants_to_other;

static u64 b_token(struct dl_cmd *cx)
{
	(void)cx;
	return ++tokens;
}

static void b_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	(void)cx, (void)shard, (void)d;
}

static void b_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	if (wd->err) {
		timeouts++;
		return;
	}
	grants++;
	if (dl_session_id(wd->sess) != grants_to_sess)
		grants_to_other++;
	else if (wd->cookie <= N)
		granted_cookie[wd->cookie]++;
}

static void b_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx, (void)ls;
}

static void b_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx, (void)ev;
}

static const struct dl_table_ops ops = {
	.alloc = b_alloc, .free = b_free, .next_token = b_token,
	.set_timer = b_timer, .wait_done = b_wait_done, .lost = b_lost,
	.event = b_event,
};

static u64 now = 1000000000ULL;
static u32 last_steps;		/* steps of the last command */

static struct dl_table *mk_table(u32 shards)
{
	struct dl_table_config cfg = {
		.nr_shards = shards, .meta_size = 8, .hash_seed = 0x5eed,
	};

	return dl_table_create(&cfg, &ops, NULL);
}

/* Every command with the global lock: steps then count the whole command. */
static int acq(struct dl_table *t, struct dl_session *s, u64 tag,
	       const char *owner, const char *name, int mode, u32 permits,
	       u32 flags, u64 cookie)
{
	struct dl_cmd cx = { .now = now, .global = true };
	struct dl_acquire_res res;
	struct dl_acquire_req rq = {
		.name = name, .name_len = strlen(name), .mode = mode,
		.permits = permits, .flags = flags | (owner ? DL_ACQ_DETACHED : 0),
		.ttl_ms = 100000, .sess = s, .tag = tag, .owner = owner,
		.owner_len = owner ? strlen(owner) : 0, .cookie = cookie,
	};
	int rc = dl_acquire(t, &cx, &rq, &res);

	last_steps = cx.steps;
	return rc;
}

static int rel(struct dl_table *t, struct dl_session *s, u64 tag,
	       const char *name)
{
	struct dl_cmd cx = { .now = now, .global = true };
	struct dl_owner_ref o = { .sess = s, .tag = tag };
	int rc = dl_release(t, &cx, name, strlen(name), &o, NULL);

	last_steps = cx.steps;
	return rc;
}

static int cancel(struct dl_table *t, struct dl_session *s, const char *name,
		  u64 cookie)
{
	struct dl_cmd cx = { .now = now, .global = true };
	int rc = dl_cancel(t, &cx, name, strlen(name), s, cookie);

	last_steps = cx.steps;
	return rc;
}

static void end_all(struct dl_table *t, struct dl_session *s)
{
	struct dl_cmd cx = { .now = now, .global = true };
	u32 i;

	for (i = 0; i < dl_nr_shards(t); i++)
		dl_session_end(t, &cx, s, i);
	if (dl_session_destroy(t, s))
		abort();
}

static const char *nm(const char *p, int i)
{
	static char b[4][32];
	static int k;

	k = (k + 1) % 4;
	snprintf(b[k], sizeof(b[k]), "%s%d", p, i);
	return b[k];
}

static bool table_ok(struct dl_table *t)
{
	int rc = dl_table_check(t);

	if (rc)
		printf("# dl_table_check: table.c:%d\n", -rc);
	return !rc;
}

/*
 * The owner hash of a socket-bound owner before it was keyed (a fixed,
 * public mix of session id and tag into 1024 buckets): what an attacker
 * could aim at.  The attacker picks tags that all land in bucket 0, also
 * modulo every smaller power of two (the holder index of a lock).
 */
static u64 old_mix(u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void colliding_tags(u64 sess_id, u64 *tags, int n)
{
	u64 tag = 0;
	int i;

	for (i = 0; i < n; tag++)
		if (!(old_mix(sess_id * 0x9e3779b97f4a7c15ULL ^ tag) & 0xffff))
			tags[i++] = tag;
}

/* One detached owner string waiting on thousands of names. */
static void test_one_owner_many_waits(void)
{
	struct dl_table *t = mk_table(4);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	u32 worst = 0;
	int i, ok = 1;

	for (i = 0; i < N; i++) {
		ok &= acq(t, a, 1, NULL, nm("n", i), DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
		ok &= acq(t, b, 0, "x", nm("n", i), DL_MODE_EXCLUSIVE, 0, 0,
			  i + 1) == DL_QUEUED;
		if (i >= 100)
			worst = max(worst, last_steps);
	}
	T_OK(ok, "one owner: %d waits of owner string \"x\" queued", N);
	T_OK(worst <= STEP_BOUND,
	     "one owner: each new wait of \"x\" costs <= %d steps (worst %u)",
	     STEP_BOUND, worst);
	acq(t, b, 0, "x", nm("n", 7), DL_MODE_EXCLUSIVE, 0, 0, 99999);
	T_OK(last_steps <= STEP_BOUND,
	     "one owner: -EALREADY found in %u steps", last_steps);
	ok = cancel(t, b, nm("n", N / 2), N / 2 + 1) == 0;
	T_OK(ok && last_steps <= STEP_BOUND,
	     "one owner: cancel of one of its waits in %u steps", last_steps);
	ok = rel(t, a, 1, nm("n", 5)) == 0;
	T_OK(ok && last_steps <= STEP_BOUND,
	     "one owner: a release granting one of its waits in %u steps",
	     last_steps);
	T_OK(table_ok(t), "one owner: table consistent");
	end_all(t, b);
	end_all(t, a);
	dl_table_destroy(t);
}

/* Tags aimed at one bucket of the old owner hash, waiting and holding. */
static void test_colliding_tags(void)
{
	static u64 tags[N + 1];
	struct dl_table *t = mk_table(4);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *s = dl_session_create(t, 0x100000007ULL);
	u32 worst = 0, worst_h = 0;
	int i, ok = 1;

	colliding_tags(dl_session_id(s), tags, N + 1);
	for (i = 0; i < N; i++) {
		ok &= acq(t, a, 1, NULL, nm("c", i), DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
		ok &= acq(t, s, tags[i], NULL, nm("c", i), DL_MODE_EXCLUSIVE, 0,
			  0, i + 1) == DL_QUEUED;
		if (i >= 100)
			worst = max(worst, last_steps);
	}
	T_OK(ok && worst <= STEP_BOUND,
	     "chosen tags: %d waits with colliding tags, each <= %d steps (worst %u)",
	     N, STEP_BOUND, worst);
	ok = cancel(t, s, nm("c", 9), 10) == 0;
	T_OK(ok && last_steps <= STEP_BOUND,
	     "chosen tags: cancel in %u steps", last_steps);
	end_all(t, s);
	s = dl_session_create(t, 0x100000007ULL);
	for (i = 0, ok = 1; i < N; i++) {
		ok &= acq(t, s, tags[i], NULL, "sem", DL_MODE_SEMAPHORE, N + 1,
			  0, 0) == 0;
		if (i >= 100)
			worst_h = max(worst_h, last_steps);
	}
	T_OK(ok && worst_h <= STEP_BOUND,
	     "chosen tags: %d permits of one semaphore, each acquire <= %d steps (worst %u)",
	     N, STEP_BOUND, worst_h);
	ok = rel(t, s, tags[N / 2], "sem") == 0;
	T_OK(ok && last_steps <= STEP_BOUND,
	     "chosen tags: releasing one permit in %u steps", last_steps);
	T_OK(table_ok(t), "chosen tags: table consistent");
	end_all(t, s);
	end_all(t, a);
	dl_table_destroy(t);
}

/* A full semaphore: the deadlock walk has nobody to follow. */
static void test_full_semaphore(void)
{
	struct dl_table *t = mk_table(4);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	int i, ok = 1;

	for (i = 0; i < N; i++)
		ok &= acq(t, a, i, NULL, "full", DL_MODE_SEMAPHORE, N, 0, 0) == 0;
	ok &= acq(t, b, 0, NULL, "full", DL_MODE_SEMAPHORE, N, 0, 1) == DL_QUEUED;
	T_OK(ok && last_steps <= STEP_BOUND,
	     "full semaphore: queueing behind %d permits in %u steps", N,
	     last_steps);
	end_all(t, b);
	end_all(t, a);
	dl_table_destroy(t);
}

/*
 * An exclusive waiter behind thousands of shared ones, cancelled and queued
 * again: the lock's "last exclusive waiter" must not be looked for by
 * walking the queue on every cancel.
 */
static void test_shared_queue(void)
{
	struct dl_table *t = mk_table(4);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *c = dl_session_create(t, 3);
	struct dl_table_stats st;
	u32 worst = 0;
	int i, ok = 1;

	ok &= acq(t, a, 1, NULL, "q", DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
	for (i = 0; i < N; i++)
		ok &= acq(t, b, i, NULL, "q", DL_MODE_SHARED, 0, 0, i + 1) ==
		      DL_QUEUED;
	for (i = 0; i < 50; i++) {
		ok &= acq(t, c, 1, NULL, "q", DL_MODE_EXCLUSIVE, 0, 0, 7) ==
		      DL_QUEUED;
		worst = max(worst, last_steps);
		ok &= cancel(t, c, "q", 7) == 0;
		worst = max(worst, last_steps);
	}
	T_OK(ok && worst <= STEP_BOUND,
	     "shared queue: exclusive wait queued and cancelled 50 times behind %d shared, each <= %d steps (worst %u)",
	     N, STEP_BOUND, worst);
	/* A shared request then looks for it within the walk's budget. */
	ok = acq(t, c, 2, NULL, "q", DL_MODE_SHARED, 0, 0, 8) == DL_QUEUED;
	dl_table_stats(t, &st);
	T_OK(ok && last_steps <= DL_DEFAULT_DEADLK_BUDGET + STEP_BOUND,
	     "shared queue: the next walk pays at most its budget (%u steps)",
	     last_steps);
	T_OK(table_ok(t), "shared queue: table consistent");
	end_all(t, c);
	end_all(t, b);
	end_all(t, a);
	dl_table_destroy(t);
}

/* Many owners: the index grows with them, and shrinks back. */
static void test_index_grows(void)
{
	enum { M = 40000 };
	struct dl_table *t = mk_table(8);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	long base, peak;
	u32 worst = 0;
	int i, ok = 1;

	ok &= acq(t, a, 1, NULL, "big", DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
	base = live_bytes[DL_OBJ_INDEX];
	for (i = 0; i < M; i++) {
		ok &= acq(t, b, i, NULL, "big", DL_MODE_EXCLUSIVE, 0, 0, i) ==
		      DL_QUEUED;
		if (i >= M - 1000)
			worst = max(worst, last_steps);
	}
	peak = live_bytes[DL_OBJ_INDEX];
	for (i = 0; i < 1000; i++) {
		ok &= cancel(t, b, "big", i * 37) == 0;
		worst = max(worst, last_steps);
	}
	T_OK(ok && worst <= STEP_BOUND,
	     "index: %d owners waiting, queue and cancel <= %d steps (worst %u)",
	     M, STEP_BOUND, worst);
	end_all(t, b);
	T_OK(peak > 16 * base && live_bytes[DL_OBJ_INDEX] == base,
	     "index: grew from %ld to %ld bytes and shrank back to %ld", base,
	     peak, live_bytes[DL_OBJ_INDEX]);
	/* A failed resize keeps the old arrays: same answers, longer chains. */
	b = dl_session_create(t, 2);
	fail_index = true;
	for (i = 0, ok = 1; i < 5000; i++)
		ok &= acq(t, b, i, NULL, "big", DL_MODE_EXCLUSIVE, 0, 0, i) ==
		      DL_QUEUED;
	ok &= acq(t, b, 17, NULL, "big", DL_MODE_EXCLUSIVE, 0, 0, 1) == -EALREADY;
	ok &= cancel(t, b, "big", 4321) == 0 && table_ok(t);
	fail_index = false;
	T_OK(ok && live_bytes[DL_OBJ_INDEX] == base,
	     "index: resizes that cannot allocate keep the old arrays");
	end_all(t, b);
	end_all(t, a);
	dl_table_destroy(t);
}

/*
 * A session holding many leases, each wanted by a waiter of another session,
 * ended in batches: each batch does a bounded amount (and so queues a bounded
 * number of notes), every waiter is granted exactly once, and the dying
 * session is granted nothing between batches.
 */
static void test_session_end_batches(void)
{
	enum { L = 500, BATCH = 16 };
	struct dl_table *t = mk_table(8);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *lone = dl_session_create(t, 3);
	long before, most = 0, calls = 0;
	u32 i, touched = 0;
	int ok = 1, rc;

	for (i = 0; i < L; i++) {
		ok &= acq(t, a, 1, NULL, nm("l", i), DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
		ok &= acq(t, b, 1, NULL, nm("l", i), DL_MODE_EXCLUSIVE, 0, 0,
			  i + 1) == DL_QUEUED;
	}
	/* a also waits for something of b's: it must not get it while dying. */
	ok &= acq(t, b, 2, NULL, "bs", DL_MODE_EXCLUSIVE, 0, 0, 0) == 0;
	ok &= acq(t, a, 1, NULL, "bs", DL_MODE_EXCLUSIVE, 0, 0, 9999) == DL_QUEUED;
	T_OK(ok, "session end: %d leases with a waiter each", L);
	memset(granted_cookie, 0, sizeof(granted_cookie));
	grants = grants_to_other = 0;
	grants_to_sess = 2;
	for (i = 0; i < dl_nr_shards(t); i++) {
		if (!dl_session_touched(a, i))
			continue;
		touched++;
		do {
			struct dl_cmd cx = { .now = now, .global = true };

			before = grants;
			rc = dl_session_end_some(t, &cx, a, i, BATCH);
			most = max(most, grants - before);
			calls++;
			/* Between batches others run: b gives "bs" up. */
			if (calls == 3)
				ok &= rel(t, b, 2, "bs") == 0;
			ok &= table_ok(t);
		} while (rc == DL_MORE);
		ok &= rc == 0;
	}
	for (i = 1; i <= L; i++)
		ok &= granted_cookie[i] == 1;
	T_OK(ok && grants == L && !grants_to_other,
	     "session end: every waiter granted exactly once, none to the dying session (%ld grants, %ld calls)",
	     grants, calls);
	T_OK(most <= BATCH && calls >= L / BATCH,
	     "session end: at most %d grants per batch (most %ld)", BATCH, most);
	T_OK(touched == dl_nr_shards(t) && !dl_session_touched(lone, 0),
	     "session end: only touched shards visited (%u)", touched);
	ok = dl_session_destroy(t, a) == 0 && !dl_lookup(t, "bs", 2);
	T_OK(ok && dl_session_leases(b) == L, "session end: destroyed; b holds all %d",
	     L);
	end_all(t, b);
	end_all(t, lone);
	dl_table_destroy(t);
}

/* A session on a table of many shards that touched one of them. */
static void test_touched(void)
{
	struct dl_table *t = mk_table(64);
	struct dl_session *a = dl_session_create(t, 1);
	u32 i, n = 0;

	acq(t, a, 1, NULL, "only", DL_MODE_EXCLUSIVE, 0, 0, 0);
	for (i = 0; i < 64; i++)
		n += dl_session_touched(a, i);
	T_OK(n == 1 && dl_session_touched(a, dl_shard_of(t, "only", 4)),
	     "touched: one lease, one shard of 64 to end");
	end_all(t, a);
	dl_table_destroy(t);
}

int main(void)
{
	int i;
	long left = 0;

	test_one_owner_many_waits();
	test_colliding_tags();
	test_full_semaphore();
	test_shared_queue();
	test_index_grows();
	test_session_end_batches();
	test_touched();
	for (i = 0; i < DL_OBJ_NR; i++)
		left += live_objs[i];
	T_OK(!left, "bound: every object freed (%ld left)", left);
	return tap_done();
}
