// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table (kmod/table.c): the locking contract under
 * real threads (also built with ThreadSanitizer), and a million leases.
 * On the shared fake glue (table_fixture.h); each case runs alone by name.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "table_fixture.h"

/* ---- scale ----------------------------------------------------------- */

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_million(void)
{
	if (fx_quick)
		return;
	struct dl_table *t = mk_table(64, 0);
	enum { N = 1000000, NSESS = 1000 };
	static struct dl_session *ss[NSESS];
	long base = live_total(), base_slab = live_slab, used, slab, i;
	struct dl_table_stats st;
	struct dl_cmd cx = { .now = now };
	double t0 = secs(), t1, t2;
	char name[32];
	int ok = 1;

	for (i = 0; i < NSESS; i++)
		ss[i] = dl_session_create(t, i + 1);
	base = live_total();
	base_slab = live_slab;
	for (i = 0; i < N; i++) {
		struct dl_acquire_res r;
		struct dl_acquire_req rq = {
			.name = name, .mode = DL_MODE_EXCLUSIVE, .ttl_ms = 60000,
			.sess = ss[i % NSESS], .tag = i,
		};

		rq.name_len = snprintf(name, sizeof(name), "lease/%07ld", i);
		cx.now = now + i;
		ok &= dl_acquire(t, &cx, &rq, &r) == 0;
	}
	t1 = secs();
	dl_table_stats(t, &st);
	used = live_total() - base;
	slab = live_slab - base_slab;
	printf("# 1M leases (13-byte names, %d shards, meta %d B): %ld B requested = %.1f B/lease; "
	       "kmalloc size classes %.1f B/lease; entry %ld objs, lock %ld objs, "
	       "buckets %ld B, heaps %ld B; insert %.2f s\n",
	       64, META_SIZE, used, (double)used / N, (double)slab / N,
	       live_objs[DL_OBJ_ENTRY], live_objs[DL_OBJ_LOCK],
	       live_bytes[DL_OBJ_BUCKETS], live_bytes[DL_OBJ_HEAP], t1 - t0);
	T_OK(ok && st.leases == N && st.locks == N, "scale: 1,000,000 leases inserted");
	T_OK((double)used / N <= 256, "scale: %.1f bytes per lease <= 256", (double)used / N);
	for (i = 0; i < N; i++) {
		struct dl_owner_ref o = { .sess = ss[i % NSESS], .tag = i };

		snprintf(name, sizeof(name), "lease/%07ld", i);
		ok &= dl_release(t, &cx, name, strlen(name), &o, NULL) == 0;
	}
	t2 = secs();
	dl_table_stats(t, &st);
	printf("# released 1M in %.2f s; %ld B left above the empty table\n",
	       t2 - t1, live_total() - base);
	T_OK(ok && st.leases == 0 && st.locks == 0 && live_total() - base < 64 * 1024,
	       "scale: all released, memory returned (shrunk buckets and heaps)");
	T_OK(check_ok(t), "scale: table consistent");
	finish(t, ss, NSESS);
	T_OK(live_total() == 0 && bad_frees == 0, "scale: nothing leaked, every free matched its alloc");
}

/* ---- threads: the locking contract under real concurrency ------------ */

/*
 * The glue's locking as table.h prescribes it: one mutex per shard, one
 * global mutex taken first, the DL_NEED_GLOBAL retry, a timer thread, a
 * dump thread, and sessions that end while others contend.  An overlap
 * detector checks that no exclusive holder ever coexists with another
 * holder.  Built with -fsanitize=thread, it checks the claim that the
 * uncontended path and the deadlock walk need no more locks than these.
 */
#define MT_THREADS 6
#define MT_NAMES 5
#define MT_SHARDS 4

static struct {
	struct dl_table *t;
	pthread_mutex_t global;
	pthread_mutex_t shard[MT_SHARDS];
	u64 token;
	int state[MT_THREADS];		/* 0 waiting, 1 granted, 2 timed out */
	int writers[MT_NAMES], readers[MT_NAMES];
	long overlaps, grants, deadlocks, timeouts, queued, ends, stuck, dumps;
	long live;
	int stop;
	int iters;
} MT;

static const char *mt_name[MT_NAMES] = { "m0", "m1", "m2", "m3", "m4" };

#define AADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define ALOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define ASTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * SEC + ts.tv_nsec;
}

static void *mt_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)priv;
	(void)kind;
	AADD(&MT.live, (long)size);
	return malloc(size);
}

static void mt_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)priv;
	(void)kind;
	AADD(&MT.live, -(long)size);
	free(p);
}

static u64 mt_token(struct dl_cmd *cx)
{
	(void)cx;
	return AADD(&MT.token, 1);
}

static void mt_set_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	(void)cx;
	(void)shard;
	(void)d;	/* the timer thread polls */
}

static void mt_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	ASTORE(&MT.state[wd->cookie], wd->err ? 2 : 1);
}

static void mt_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx;
	(void)ls;
}

static void mt_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx;
	if (ev->type == DL_EV_GRANTED)
		AADD(&MT.grants, 1);
}

static const struct dl_table_ops mt_ops = {
	.alloc = mt_alloc, .free = mt_free, .next_token = mt_token,
	.set_timer = mt_set_timer, .wait_done = mt_wait_done,
	.lost = mt_lost, .event = mt_event,
};

typedef int (*mt_fn)(struct dl_cmd *cx, void *arg);

/* The glue's command path. */
static int mt_run(u32 shard, mt_fn fn, void *arg)
{
	struct dl_cmd cx = { .now = mono_ns() };
	int rc;

	pthread_mutex_lock(&MT.shard[shard]);
	rc = fn(&cx, arg);
	pthread_mutex_unlock(&MT.shard[shard]);
	if (rc != DL_NEED_GLOBAL)
		return rc;
	pthread_mutex_lock(&MT.global);
	pthread_mutex_lock(&MT.shard[shard]);
	cx.global = true;
	cx.now = mono_ns();
	rc = fn(&cx, arg);
	pthread_mutex_unlock(&MT.shard[shard]);
	pthread_mutex_unlock(&MT.global);
	return rc;
}

struct mt_acq {
	struct dl_acquire_req rq;
	struct dl_acquire_res res;
};

static int mt_acq_fn(struct dl_cmd *cx, void *arg)
{
	struct mt_acq *a = arg;

	return dl_acquire(MT.t, cx, &a->rq, &a->res);
}

struct mt_rel {
	const char *name;
	struct dl_owner_ref o;
};

static int mt_rel_fn(struct dl_cmd *cx, void *arg)
{
	struct mt_rel *r = arg;

	return dl_release(MT.t, cx, r->name, strlen(r->name), &r->o, NULL);
}

static int mt_timer_fn(struct dl_cmd *cx, void *arg)
{
	return dl_run_timers(MT.t, cx, *(u32 *)arg, 64);
}

static void mt_enter(int n, int mode)
{
	if (mode == DL_MODE_EXCLUSIVE) {
		if (AADD(&MT.writers[n], 1) != 1 || ALOAD(&MT.readers[n]))
			AADD(&MT.overlaps, 1);
	} else {
		AADD(&MT.readers[n], 1);
		if (ALOAD(&MT.writers[n]))
			AADD(&MT.overlaps, 1);
	}
}

static void mt_leave(int n, int mode)
{
	AADD(mode == DL_MODE_EXCLUSIVE ? &MT.writers[n] : &MT.readers[n], -1);
}

/*
 * As the module does: only the shards the session used, two entries per
 * hold of the locks, so other threads run between the batches.
 */
static void mt_end_session(struct dl_session *s)
{
	u32 i;
	int rc;

	for (i = 0; i < MT_SHARDS; i++) {
		if (!dl_session_touched(s, i))
			continue;
		do {
			struct dl_cmd cx = { .now = mono_ns(), .global = true };

			pthread_mutex_lock(&MT.global);
			pthread_mutex_lock(&MT.shard[i]);
			rc = dl_session_end_some(MT.t, &cx, s, i, 2);
			pthread_mutex_unlock(&MT.shard[i]);
			pthread_mutex_unlock(&MT.global);
		} while (rc == DL_MORE);
	}
	pthread_mutex_lock(&MT.global);
	if (dl_session_destroy(MT.t, s))
		AADD(&MT.stuck, 1);
	pthread_mutex_unlock(&MT.global);
}

/* Takes @n in @mode for thread @id, blocking with a wait timeout. */
static int mt_lock(int id, struct dl_session *s, int n, int mode, bool try)
{
	struct mt_acq a = { .rq = {
		.name = mt_name[n], .name_len = 2, .mode = mode,
		.flags = DL_ACQ_NO_TTL | (try ? DL_ACQ_TRY : 0),
		.wait_ms = 20, .sess = s, .tag = id, .cookie = id,
	} };
	u64 t0 = mono_ns();
	int rc;

	ASTORE(&MT.state[id], 0);
	rc = mt_run(dl_shard_of(MT.t, mt_name[n], 2), mt_acq_fn, &a);
	if (rc == -EDEADLK)
		AADD(&MT.deadlocks, 1);
	if (rc != DL_QUEUED)
		return rc;
	AADD(&MT.queued, 1);
	while (!ALOAD(&MT.state[id])) {
		if (mono_ns() - t0 > 30 * SEC) {
			AADD(&MT.stuck, 1);
			return -EIO;
		}
		sched_yield();
	}
	if (ALOAD(&MT.state[id]) == 2) {
		AADD(&MT.timeouts, 1);
		return -ETIMEDOUT;
	}
	return 0;
}

static void mt_unlock(int id, struct dl_session *s, int n)
{
	struct mt_rel r = { .name = mt_name[n], .o = { .sess = s, .tag = id } };

	if (mt_run(dl_shard_of(MT.t, mt_name[n], 2), mt_rel_fn, &r))
		AADD(&MT.stuck, 1);
}

static u64 mt_rnd(u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Takes one or two names (random order: deadlocks happen), holds, lets go. */
static void *mt_worker(void *arg)
{
	int id = (int)(long)arg, i, k;
	u64 seed = 0x9e3779b97f4a7c15ULL * (id + 1);
	u64 sid = 1000 + id;
	struct dl_session *s = dl_session_create(MT.t, sid);

	for (i = 0; i < MT.iters; i++) {
		int held[2], modes[2], nh = 0;

		for (k = 0; k < 2; k++) {
			int n = mt_rnd(&seed) % MT_NAMES;
			int mode = mt_rnd(&seed) % 10 < 7 ? DL_MODE_EXCLUSIVE :
							    DL_MODE_SHARED;

			if (nh && held[0] == n)
				break;
			if (mt_lock(id, s, n, mode, mt_rnd(&seed) % 4 == 0))
				break;
			mt_enter(n, mode);
			held[nh] = n;
			modes[nh++] = mode;
		}
		for (k = 0; k < 3; k++)
			sched_yield();
		for (k = nh - 1; k >= 0; k--)
			mt_leave(held[k], modes[k]);
		if (mt_rnd(&seed) % 40 == 0) {
			/* The socket closes while holding: the table releases. */
			mt_end_session(s);
			AADD(&MT.ends, 1);
			sid += 100;
			s = dl_session_create(MT.t, sid);
			continue;
		}
		for (k = nh - 1; k >= 0; k--)
			mt_unlock(id, s, held[k]);
	}
	mt_end_session(s);
	return NULL;
}

static void *mt_timer(void *arg)
{
	struct timespec ts = { 0, 500000 };
	u32 i;

	(void)arg;
	while (!ALOAD(&MT.stop)) {
		for (i = 0; i < MT_SHARDS; i++)
			while (mt_run(i, mt_timer_fn, &i) == DL_MORE)
				;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Pages through the table under shard locks only, like a netlink dump. */
static void *mt_dumper(void *arg)
{
	struct timespec ts = { 0, 200000 };
	struct dl_cursor c;

	(void)arg;
	while (!ALOAD(&MT.stop)) {
		u64 g = dl_table_generation(MT.t);
		bool more = true;

		dl_cursor_init(&c);
		while (more) {
			const struct dl_lock *l;
			const struct dl_entry *e;
			struct dl_entry_info ei;
			struct dl_lock_info li;
			u32 sh = c.shard;

			pthread_mutex_lock(&MT.shard[sh]);
			while ((l = dl_dump_next(MT.t, &c))) {
				dl_lock_info(l, &li);
				for (e = NULL; (e = dl_holder_next(l, e));)
					dl_entry_info(MT.t, e, mono_ns(), &ei);
				for (e = NULL; (e = dl_waiter_next(l, e));)
					dl_entry_info(MT.t, e, mono_ns(), &ei);
			}
			pthread_mutex_unlock(&MT.shard[sh]);
			more = dl_cursor_next_shard(MT.t, &c);
		}
		(void)g;
		AADD(&MT.dumps, 1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void test_threads(int iters)
{
	struct dl_table_config cfg = { .nr_shards = MT_SHARDS, .meta_size = 8 };
	pthread_t th[MT_THREADS], tt, td;
	long i;
	int bad;

	memset(&MT, 0, sizeof(MT));
	MT.iters = iters;
	pthread_mutex_init(&MT.global, NULL);
	for (i = 0; i < MT_SHARDS; i++)
		pthread_mutex_init(&MT.shard[i], NULL);
	MT.t = dl_table_create(&cfg, &mt_ops, NULL);
	pthread_create(&tt, NULL, mt_timer, NULL);
	pthread_create(&td, NULL, mt_dumper, NULL);
	for (i = 0; i < MT_THREADS; i++)
		pthread_create(&th[i], NULL, mt_worker, (void *)i);
	for (i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	ASTORE(&MT.stop, 1);
	pthread_join(tt, NULL);
	pthread_join(td, NULL);
	bad = dl_table_check(MT.t);
	printf("# threads: %ld grants, %ld queued, %ld timeouts, %ld deadlocks, %ld session ends, %ld dumps\n",
	       MT.grants, MT.queued, MT.timeouts, MT.deadlocks, MT.ends, MT.dumps);
	T_OK(MT.overlaps == 0, "threads: %d threads, no exclusive holder ever overlapped another (%ld)",
	     MT_THREADS, MT.overlaps);
	T_OK(MT.stuck == 0, "threads: every wait completed and every release found its lease");
	T_OK(!bad && MT.queued > 0 && MT.ends > 0,
	     "threads: contended path, session ends and dumps ran; table consistent");
	dl_table_destroy(MT.t);
	T_OK(ALOAD(&MT.live) == 0, "threads: no memory left");
}

/* TSan runs the threads alone, and shorter: it is 5-15x slower. */
static void test_threads_case(void)
{
	test_threads(!strcmp(prefix, "tsan: ") ? 400 : fx_quick ? 300 : 1500);
}

static const struct fx_case cases[] = {
	{ "threads", test_threads_case },
	{ "million", test_million },
};

FX_MAIN(cases)
