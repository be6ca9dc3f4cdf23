// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the lock table policy core (kmod/table.c).
 *
 * The harness plays the kernel glue: it backs allocation with malloc (with a
 * header to check that every free names the size and kind of its alloc, and
 * to count memory), hands out fencing tokens from a counter, records the
 * timers the table asks for and the notifications it sends, and retries a
 * command with the global lock "held" when the table answers DL_NEED_GLOBAL,
 * checking that the first attempt changed nothing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "table.h"

/* "asan: " in front of every test name of the sanitized run. */
static const char *prefix = "";
#define T_OK(cond, fmt, ...) tap_ok(cond, "%s" fmt, prefix, ##__VA_ARGS__)

#define MS 1000000ULL
#define SEC (1000 * MS)

/* ---- allocator ------------------------------------------------------- */

struct hdr {
	size_t size;
	int kind;
	int magic;
};

static long live_bytes[DL_OBJ_NR], live_objs[DL_OBJ_NR];
static long live_slab;		/* bytes rounded up to kmalloc size classes */
static long fail_countdown = -1;	/* fail the Nth allocation from now */
static bool fail_buckets;	/* fail every DL_OBJ_BUCKETS allocation */
static long bad_frees;

static size_t kmalloc_class(size_t n)
{
	static const size_t cls[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512,
				      1024, 2048, 4096, 8192 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cls); i++)
		if (n <= cls[i])
			return cls[i];
	return (n + 4095) & ~(size_t)4095;	/* kvmalloc: whole pages */
}

static void *t_alloc(void *priv, enum dl_obj kind, size_t size)
{
	struct hdr *h;

	(void)priv;
	if (fail_countdown >= 0 && fail_countdown-- == 0)
		return NULL;
	if (fail_buckets && kind == DL_OBJ_BUCKETS)
		return NULL;
	h = malloc(sizeof(*h) + size);
	if (!h)
		abort();
	h->size = size;
	h->kind = kind;
	h->magic = 0x5eed;
	live_bytes[kind] += size;
	live_objs[kind]++;
	live_slab += kmalloc_class(size);
	/* Poison: the table must initialise what it uses. */
	memset(h + 1, 0xa5, size);
	return h + 1;
}

static void t_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	struct hdr *h = (struct hdr *)p - 1;

	(void)priv;
	if (h->magic != 0x5eed || h->size != size || h->kind != (int)kind)
		bad_frees++;
	h->magic = 0;
	live_bytes[kind] -= size;
	live_objs[kind]--;
	live_slab -= kmalloc_class(size);
	free(h);
}

static long live_total(void)
{
	long n = 0;
	int i;

	for (i = 0; i < DL_OBJ_NR; i++)
		n += live_bytes[i];
	return n;
}

/* ---- notifications --------------------------------------------------- */

#define LOG_MAX 256

struct rec {
	int what;		/* 'E' event, 'W' wait done, 'L' lost */
	int type;		/* event type, wait err, lost reason */
	char name[DL_NAME_MAX + 1];
	u64 token;
	u64 cookie;
	u64 sess;
	u64 tag;
	int mode;
};

static struct rec logv[LOG_MAX];
static int nlog;
static u64 token_counter = 1000;
static u64 armed[DL_MAX_SHARDS];
static long timer_calls;

/* Hook for the model checker. */
static void (*on_rec)(const struct rec *r);

static void log_rec(const struct rec *r)
{
	if (on_rec)
		on_rec(r);
	if (nlog < LOG_MAX)
		logv[nlog++] = *r;
}

static void fill_name(struct rec *r, const char *name, u8 len)
{
	memcpy(r->name, name, len);
	r->name[len] = 0;
}

static u64 t_next_token(struct dl_cmd *cx)
{
	(void)cx;
	return ++token_counter;
}

static void t_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	(void)cx;
	armed[shard] = deadline;
	timer_calls++;
}

static void t_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	struct rec r = { .what = 'W', .type = wd->err, .token = wd->token,
			 .cookie = wd->cookie, .sess = dl_session_id(wd->sess) };

	(void)cx;
	fill_name(&r, wd->name, wd->name_len);
	log_rec(&r);
}

static void t_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	struct rec r = { .what = 'L', .type = ls->reason, .token = ls->token,
			 .sess = dl_session_id(ls->sess), .tag = ls->tag };

	(void)cx;
	fill_name(&r, ls->name, ls->name_len);
	log_rec(&r);
}

static void t_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	struct rec r = { .what = 'E', .type = ev->type, .token = ev->token,
			 .sess = ev->owner.session_id, .tag = ev->owner.tag,
			 .mode = ev->mode };

	(void)cx;
	fill_name(&r, ev->name, ev->name_len);
	log_rec(&r);
}

static const struct dl_table_ops ops = {
	.alloc = t_alloc,
	.free = t_free,
	.next_token = t_next_token,
	.set_timer = t_set_timer,
	.wait_done = t_wait_done,
	.lost = t_lost,
	.event = t_event,
};

static void log_reset(void)
{
	nlog = 0;
}

static int log_count(int what, int type)
{
	int i, n = 0;

	for (i = 0; i < nlog; i++)
		if (logv[i].what == what && logv[i].type == type)
			n++;
	return n;
}

static const struct rec *log_find(int what, int type, const char *name)
{
	int i;

	for (i = 0; i < nlog; i++)
		if (logv[i].what == what && logv[i].type == type &&
		    !strcmp(logv[i].name, name))
			return &logv[i];
	return NULL;
}

/* ---- glue mimic ------------------------------------------------------ */

static u64 now = 1 * SEC;
static long global_retries;

#define META_SIZE 24

/* A new table has no timer armed: forget the last table's. */
static void armed_reset(void)
{
	memset(armed, 0, sizeof(armed));
}

static struct dl_table *mk_table(u32 shards, u32 max_ttl_ms)
{
	struct dl_table_config cfg = {
		.nr_shards = shards,
		.meta_size = META_SIZE,
		.max_ttl_ms = max_ttl_ms,
		.hash_seed = 0x1234,
	};

	armed_reset();
	return dl_table_create(&cfg, &ops, NULL);
}

static struct dl_table *mk_table_cfg(struct dl_table_config *cfg)
{
	armed_reset();
	if (!cfg->meta_size)
		cfg->meta_size = META_SIZE;
	return dl_table_create(cfg, &ops, NULL);
}

static int nerr;	/* contract violations seen by the glue mimic */

/*
 * Runs @fn the way the glue does: first with only the shard lock; on
 * DL_NEED_GLOBAL again with the global lock.  The first attempt must have
 * changed nothing: same generation, same counters, no notification.
 */
#define GLUE(t, call) ({						\
	struct dl_cmd cx = { .now = now, .global = false };		\
	struct dl_table_stats s0, s1;					\
	u64 g0 = dl_table_generation(t);				\
	int n0 = nlog, rc;						\
	dl_table_stats(t, &s0);						\
	rc = call;							\
	if (rc == DL_NEED_GLOBAL) {					\
		dl_table_stats(t, &s1);					\
		if (g0 != dl_table_generation(t) || nlog != n0 ||	\
		    s0.leases != s1.leases || s0.waiters != s1.waiters)	\
			nerr++, fprintf(stderr, "# NEED_GLOBAL changed state at line %d\n", __LINE__); \
		global_retries++;					\
		cx.global = true;					\
		rc = call;						\
	}								\
	rc;								\
})

static int acq_full(struct dl_table *t, struct dl_session *s, u64 tag,
		    const char *name, int mode, u32 permits, u32 flags,
		    u32 ttl, u32 wait, u64 cookie, const char *owner,
		    struct dl_acquire_res *res)
{
	struct dl_acquire_res dummy;
	u8 meta[META_SIZE];
	struct dl_acquire_req rq = {
		.name = name, .name_len = strlen(name), .mode = mode,
		.permits = permits, .flags = flags, .ttl_ms = ttl,
		.wait_ms = wait, .sess = s, .tag = tag, .owner = owner,
		.owner_len = owner ? strlen(owner) : 0, .cookie = cookie,
		.meta = meta,
	};

	memset(meta, 0, sizeof(meta));
	snprintf((char *)meta, sizeof(meta), "pid%llu", (unsigned long long)tag);
	return GLUE(t, dl_acquire(t, &cx, &rq, res ? res : &dummy));
}

/* Socket-bound exclusive/shared acquire, TTL 10 s, try. */
static int try_lock(struct dl_table *t, struct dl_session *s, u64 tag,
		    const char *name, int mode, struct dl_acquire_res *res)
{
	return acq_full(t, s, tag, name, mode, 0, DL_ACQ_TRY, 10000, 0, 0,
			NULL, res);
}

static int wait_lock(struct dl_table *t, struct dl_session *s, u64 tag,
		     const char *name, int mode, u64 cookie)
{
	return acq_full(t, s, tag, name, mode, 0, 0, 10000, 0, cookie, NULL,
			NULL);
}

static int unlock(struct dl_table *t, struct dl_session *s, u64 tag,
		  const char *name)
{
	struct dl_owner_ref o = { .sess = s, .tag = tag };
	u32 cnt;

	return GLUE(t, dl_release(t, &cx, name, strlen(name), &o, &cnt));
}

static int unlock_detached(struct dl_table *t, const char *owner,
			   const char *name)
{
	struct dl_owner_ref o = { .str = owner, .len = strlen(owner) };

	return GLUE(t, dl_release(t, &cx, name, strlen(name), &o, NULL));
}

static int renew(struct dl_table *t, struct dl_owner_ref *o, const char *name,
		 u32 ttl)
{
	return GLUE(t, dl_renew(t, &cx, name, strlen(name), o, ttl));
}

static void run_timers(struct dl_table *t)
{
	u32 i;

	/*
	 * Unlike the other commands, dl_run_timers() may have applied some
	 * expiries before it answers DL_NEED_GLOBAL; it is simply called again.
	 */
	for (i = 0; i < dl_nr_shards(t); i++) {
		struct dl_cmd cx = { .now = now };
		int rc;

		if (!armed[i] || armed[i] > now)
			continue;
		do {
			rc = dl_run_timers(t, &cx, i, 4);
			if (rc == DL_NEED_GLOBAL)
				cx.global = true;
		} while (rc == DL_MORE || rc == DL_NEED_GLOBAL);
		if (rc)
			nerr++;
	}
}

static void end_session(struct dl_table *t, struct dl_session *s)
{
	struct dl_cmd cx = { .now = now, .global = true };
	u32 i;

	for (i = 0; i < dl_nr_shards(t); i++)
		if (dl_session_end(t, &cx, s, i))
			nerr++;
	if (dl_session_destroy(t, s))
		nerr++;
}

static u32 holders(struct dl_table *t, const char *name)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	struct dl_lock_info li;

	if (!l)
		return 0;
	dl_lock_info(l, &li);
	return li.nr_holders;
}

static u32 waiters(struct dl_table *t, const char *name)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	struct dl_lock_info li;

	if (!l)
		return 0;
	dl_lock_info(l, &li);
	return li.nr_waiters;
}

/* Info of the holder with the given owner, or NULL. */
static bool holder_info(struct dl_table *t, const char *name, u64 sid,
			u64 tag, struct dl_entry_info *out)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	const struct dl_entry *e = NULL;

	if (!l)
		return false;
	while ((e = dl_holder_next(l, e))) {
		dl_entry_info(t, e, now, out);
		if (!out->owner.detached && out->owner.session_id == sid &&
		    out->owner.tag == tag)
			return true;
	}
	return false;
}

static void finish(struct dl_table *t, struct dl_session **ss, int n)
{
	int i;

	for (i = 0; i < n; i++)
		end_session(t, ss[i]);
	dl_table_destroy(t);
}

static int check_ok(struct dl_table *t)
{
	int rc = dl_table_check(t);

	if (rc)
		fprintf(stderr, "# dl_table_check failed at table.c:%d\n", -rc);
	return rc == 0;
}

/* ---- tests ----------------------------------------------------------- */

static void test_names(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	char big[300];
	struct dl_acquire_res r;
	struct dl_acquire_req rq = { .mode = DL_MODE_EXCLUSIVE, .ttl_ms = 100,
				     .sess = s };
	struct dl_cmd cx = { .now = now };

	rq.name = "";
	rq.name_len = 0;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "names: empty name -> -EINVAL");
	rq.name = "a\0b";
	rq.name_len = 3;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "names: embedded NUL -> -EINVAL");
	memset(big, 'x', sizeof(big));
	rq.name = big;
	rq.name_len = 256;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "names: 256 bytes -> -EINVAL");
	rq.name_len = 255;
	T_OK(dl_acquire(t, &cx, &rq, &r) == 0 && holders(t, "a") == 0,
	       "names: 255 bytes accepted");
	rq.name = "\xff\x01";
	rq.name_len = 2;
	T_OK(dl_acquire(t, &cx, &rq, &r) == 0, "names: arbitrary non-NUL bytes accepted");
	rq.name = "z";
	rq.name_len = 1;
	rq.flags = 0x80;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: unknown flag -> -EINVAL");
	rq.flags = 0;
	rq.mode = 7;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: bad mode -> -EINVAL");
	rq.mode = (enum dl_mode)-1;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: mode -1 -> -EINVAL");
	rq.mode = DL_MODE_EXCLUSIVE;
	rq.sess = NULL;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: no session -> -EINVAL");
	rq.sess = s;
	rq.flags = DL_ACQ_DETACHED;
	rq.owner = "o\0x";
	rq.owner_len = 3;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: owner with a NUL -> -EINVAL");
	rq.owner_len = DL_OWNER_MAX + 1;
	rq.owner = big;
	T_OK(dl_acquire(t, &cx, &rq, &r) == -EINVAL, "acquire: owner over 64 bytes -> -EINVAL");
	rq.flags = 0;
	T_OK(check_ok(t), "names: table consistent");
	finish(t, &s, 1);
}

static void test_exclusive_shared(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_acquire_res r1, r2;

	T_OK(try_lock(t, s, 1, "x", DL_MODE_EXCLUSIVE, &r1) == 0,
	       "exclusive: first owner granted");
	T_OK(try_lock(t, s, 2, "x", DL_MODE_EXCLUSIVE, &r2) == -EAGAIN,
	       "exclusive: second owner try -> -EAGAIN");
	T_OK(try_lock(t, s, 2, "x", DL_MODE_SHARED, &r2) == -EAGAIN,
	       "exclusive: shared try against exclusive -> -EAGAIN");
	T_OK(unlock(t, s, 1, "x") == 0 && holders(t, "x") == 0 &&
	       !dl_lookup(t, "x", 1), "exclusive: release frees the lock");
	T_OK(try_lock(t, s, 1, "r", DL_MODE_SHARED, &r1) == 0 &&
	       try_lock(t, s, 2, "r", DL_MODE_SHARED, &r2) == 0 &&
	       try_lock(t, s, 3, "r", DL_MODE_SHARED, NULL) == 0 &&
	       holders(t, "r") == 3, "shared: three readers coexist");
	T_OK(try_lock(t, s, 4, "r", DL_MODE_EXCLUSIVE, NULL) == -EAGAIN,
	       "shared: exclusive try against readers -> -EAGAIN");
	T_OK(r2.token > r1.token, "shared: each reader gets its own token");
	T_OK(try_lock(t, s, 1, "r", DL_MODE_EXCLUSIVE, NULL) == -EDEADLK,
	       "shared: reader re-asking exclusive (upgrade) -> -EDEADLK");
	T_OK(check_ok(t), "exclusive/shared: table consistent");
	finish(t, &s, 1);
}

static void test_semaphore(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	int i, ok = 1;

	for (i = 0; i < 3; i++)
		ok &= acq_full(t, s, i, "sem", DL_MODE_SEMAPHORE, 3, DL_ACQ_TRY,
			       1000, 0, 0, NULL, NULL) == 0;
	T_OK(ok && holders(t, "sem") == 3, "semaphore: N=3 admits three holders");
	T_OK(acq_full(t, s, 9, "sem", DL_MODE_SEMAPHORE, 3, DL_ACQ_TRY, 1000,
			0, 0, NULL, NULL) == -EAGAIN, "semaphore: fourth -> -EAGAIN");
	T_OK(acq_full(t, s, 9, "sem", DL_MODE_SEMAPHORE, 4, DL_ACQ_TRY, 1000,
			0, 0, NULL, NULL) == -EINVAL,
	       "semaphore: asking with another N -> -EINVAL");
	T_OK(try_lock(t, s, 9, "sem", DL_MODE_EXCLUSIVE, NULL) == -EINVAL,
	       "semaphore: exclusive request on a semaphore -> -EINVAL");
	T_OK(acq_full(t, s, 9, "sem", DL_MODE_SEMAPHORE, 0, DL_ACQ_TRY, 1000,
			0, 0, NULL, NULL) == -EINVAL, "semaphore: zero permits -> -EINVAL");
	T_OK(acq_full(t, s, 1, "sem", DL_MODE_SEMAPHORE, 3, DL_ACQ_TRY, 1000,
			0, 0, NULL, NULL) == 0 && holders(t, "sem") == 3,
	       "semaphore: holder re-acquire is reentrant, takes no permit");
	T_OK(unlock(t, s, 0, "sem") == 0 &&
	       acq_full(t, s, 9, "sem", DL_MODE_SEMAPHORE, 3, DL_ACQ_TRY, 1000,
			0, 0, NULL, NULL) == 0, "semaphore: a released permit is reusable");
	T_OK(check_ok(t), "semaphore: table consistent");
	finish(t, &s, 1);
}

static void test_ttl(void)
{
	struct dl_table *t = mk_table(1, 60000);	/* max TTL 60 s */
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_owner_ref o = { .sess = s, .tag = 1 };
	struct dl_acquire_res r;
	struct dl_entry_info ei;
	u64 t0 = now;

	log_reset();
	T_OK(acq_full(t, s, 1, "ttl", DL_MODE_EXCLUSIVE, 0, 0, 500, 0, 0,
			NULL, &r) == 0 && armed[0] == t0 + 500 * MS,
	       "ttl: grant arms the shard timer at now + TTL");
	T_OK(wait_lock(t, s, 2, "ttl", DL_MODE_EXCLUSIVE, 77) == DL_QUEUED,
	       "ttl: second owner queued");
	now = t0 + 499 * MS;
	run_timers(t);
	T_OK(holders(t, "ttl") == 1 && holder_info(t, "ttl", 1, 1, &ei) &&
	       ei.remaining_ns == 1 * MS, "ttl: not expired 1 ms early, remaining TTL shown");
	{
		struct dl_cmd cx = { .now = now, .global = true };

		T_OK(dl_expire_lease(t, &cx, "ttl", 3, r.token) == -EAGAIN,
		       "ttl: EXPIRE before the deadline -> -EAGAIN, no change");
	}
	T_OK(renew(t, &o, "ttl", 1000) == 0 && armed[0] == now + 1000 * MS,
	       "ttl: renew extends the deadline and re-arms the timer");
	now += 999 * MS;
	run_timers(t);
	T_OK(holders(t, "ttl") == 1, "ttl: renewed lease survives its old deadline");
	now += 1 * MS;
	log_reset();
	run_timers(t);
	T_OK(holder_info(t, "ttl", 1, 2, &ei) && log_count('E', DL_EV_EXPIRED) == 1 &&
	       log_count('L', DL_LOST_EXPIRED) == 1 && log_count('W', 0) == 1,
	       "ttl: expiry removes the lease, notifies holder, grants next waiter");
	T_OK(ei.token > r.token, "ttl: the next holder has a greater token");
	T_OK(acq_full(t, s, 5, "cap", DL_MODE_EXCLUSIVE, 0, 0, 36000000, 0, 0,
			NULL, NULL) == 0 && holder_info(t, "cap", 1, 5, &ei) &&
	       ei.remaining_ns == 60000 * MS, "ttl: TTL capped at the configured maximum");
	T_OK(acq_full(t, s, 6, "zero", DL_MODE_EXCLUSIVE, 0, 0, 0, 0, 0, NULL,
			NULL) == -EINVAL, "ttl: zero TTL without NO_TTL -> -EINVAL");
	T_OK(renew(t, &o, "nosuch", 100) == -ENOENT, "ttl: renew of a free name -> -ENOENT");
	T_OK(check_ok(t), "ttl: table consistent");
	finish(t, &s, 1);
}

static void test_session_bound(void)
{
	struct dl_table *t = mk_table(8, 0);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_entry_info ei;
	char name[32];
	int i, ok = 1;

	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "sb%d", i);
		ok &= acq_full(t, a, i % 3, name, DL_MODE_EXCLUSIVE, 0,
			       i % 2 ? DL_ACQ_NO_TTL : 0, 1000, 0, 0, NULL, NULL) == 0;
	}
	T_OK(ok && dl_session_leases(a) == 20, "session: 20 socket-bound leases over shards");
	T_OK(holder_info(t, "sb1", 1, 1, &ei) && ei.no_deadline,
	       "session: NO_TTL lease has no deadline");
	T_OK(acq_full(t, a, 1, "d", DL_MODE_EXCLUSIVE, 0,
			DL_ACQ_NO_TTL | DL_ACQ_DETACHED, 0, 0, 0, "own", NULL) == -EINVAL,
	       "session: NO_TTL on a detached lease -> -EINVAL");
	ok = wait_lock(t, b, 7, "sb0", DL_MODE_EXCLUSIVE, 100) == DL_QUEUED &&
	     wait_lock(t, a, 7, "other", DL_MODE_EXCLUSIVE, 1) == 0;
	ok &= wait_lock(t, b, 8, "other", DL_MODE_EXCLUSIVE, 101) == DL_QUEUED;
	/* a also waits on a lock b holds. */
	ok &= try_lock(t, b, 9, "bheld", DL_MODE_EXCLUSIVE, NULL) == 0;
	ok &= wait_lock(t, a, 9, "bheld", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED;
	T_OK(ok, "session: waits set up");
	log_reset();
	end_session(t, a);
	T_OK(log_count('E', DL_EV_OWNER_DIED) == 21 && dl_session_leases(b) == 3,
	       "session end: all its leases released (owner died), next waiters granted");
	T_OK(log_find('W', 0, "sb0") && log_find('W', 0, "other") &&
	       waiters(t, "bheld") == 0 && holders(t, "bheld") == 1,
	       "session end: its waits cancelled, others' waits granted");
	T_OK(log_count('L', DL_LOST_EXPIRED) == 0 && log_count('W', -ETIMEDOUT) == 0,
	       "session end: the dead session is not notified");
	T_OK(check_ok(t), "session: table consistent");
	finish(t, &b, 1);
}

static void test_detached(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *ss[2] = { a, b };
	struct dl_owner_ref mine = { .str = "owner-1", .len = 7 };
	struct dl_owner_ref other = { .str = "owner-2", .len = 7 };
	struct dl_acquire_res r1, r2;

	T_OK(acq_full(t, a, 0, "job", DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			0, 0, 0, "owner-1", NULL) == -EINVAL,
	       "detached: must have a TTL");
	T_OK(acq_full(t, a, 0, "job", DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			1000, 0, 0, "", NULL) == -EINVAL, "detached: empty owner -> -EINVAL");
	T_OK(acq_full(t, a, 0, "job", DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED,
			1000, 0, 0, "owner-1", &r1) == 0 && dl_session_leases(a) == 0,
	       "detached: granted, not counted against the session");
	end_session(t, a);
	ss[0] = NULL;
	T_OK(holders(t, "job") == 1, "detached: survives the end of the session that took it");
	T_OK(acq_full(t, b, 0, "job", DL_MODE_EXCLUSIVE, 0,
			DL_ACQ_DETACHED | DL_ACQ_TRY, 1000, 0, 0, "owner-1",
			&r2) == 0 && r2.token == r1.token && r2.count == 2,
	       "detached: same owner string from another socket is reentrant");
	T_OK(renew(t, &other, "job", 5000) == -EPERM, "detached: renew with another owner -> -EPERM");
	T_OK(renew(t, &mine, "job", 5000) == 0, "detached: renew presenting the owner works");
	T_OK(unlock_detached(t, "owner-2", "job") == -EPERM && holders(t, "job") == 1,
	       "detached: release with another owner -> -EPERM, unchanged");
	T_OK(unlock_detached(t, "owner-1", "job") == 0 &&
	       unlock_detached(t, "owner-1", "job") == 0 && holders(t, "job") == 0,
	       "detached: release presenting the owner ends it");
	T_OK(check_ok(t), "detached: table consistent");
	finish(t, &ss[1], 1);
}

static void test_reentrancy(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_owner_ref o2 = { .sess = s, .tag = 2 };
	struct dl_acquire_res r1, r2, r3;
	struct dl_entry_info ei;
	u64 g;

	try_lock(t, s, 1, "re", DL_MODE_EXCLUSIVE, &r1);
	try_lock(t, s, 1, "re", DL_MODE_EXCLUSIVE, &r2);
	try_lock(t, s, 1, "re", DL_MODE_EXCLUSIVE, &r3);
	T_OK(r1.token == r2.token && r2.token == r3.token && r3.count == 3,
	       "reentrancy: same owner re-acquire keeps the token, count 3");
	T_OK(holder_info(t, "re", 1, 1, &ei) && ei.count == 3,
	       "reentrancy: inspection shows count 3");
	g = dl_table_generation(t);
	T_OK(unlock(t, s, 2, "re") == -EPERM && renew(t, &o2, "re", 100) == -EPERM &&
	       holder_info(t, "re", 1, 1, &ei) && ei.count == 3 &&
	       dl_table_generation(t) == g,
	       "reentrancy: release/renew by another owner -> -EPERM, no change");
	T_OK(unlock(t, s, 1, "re") == 0 && holder_info(t, "re", 1, 1, &ei) &&
	       ei.count == 2, "reentrancy: release decrements");
	T_OK(unlock(t, s, 1, "re") == 0 && unlock(t, s, 1, "re") == 0 &&
	       holders(t, "re") == 0, "reentrancy: lease ends at zero");
	T_OK(unlock(t, s, 1, "re") == -ENOENT, "reentrancy: release of a free name -> -ENOENT");
	T_OK(check_ok(t), "reentrancy: table consistent");
	finish(t, &s, 1);
}

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

static void test_break(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_acquire_res r;
	struct dl_cmd cx = { .now = now, .global = true };

	try_lock(t, s, 1, "brk", DL_MODE_EXCLUSIVE, &r);
	wait_lock(t, s, 2, "brk", DL_MODE_EXCLUSIVE, 2);
	log_reset();
	T_OK(dl_break(t, &cx, "brk", 3, r.token + 999) == -ENOENT,
	       "break: unknown token -> -ENOENT");
	T_OK(GLUE(t, dl_break(t, &cx, "brk", 3, r.token)) == 0 &&
	       log_count('L', DL_LOST_BROKEN) == 1 && log_count('E', DL_EV_BROKEN) == 1 &&
	       log_find('W', 0, "brk"), "break: holder notified, event sent, next granted");
	T_OK(dl_break(t, &cx, "free", 4, 0) == -ENOENT, "break: free name -> -ENOENT");
	T_OK(check_ok(t), "break: table consistent");
	finish(t, &s, 1);
}

static void test_value(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_owner_ref o1 = { .sess = s, .tag = 1 }, o2 = { .sess = s, .tag = 2 };
	struct dl_cmd cx = { .now = now };
	struct dl_entry_info ei;
	char big[DL_VALUE_MAX + 1];

	memset(big, 'v', sizeof(big));
	try_lock(t, s, 1, "leader", DL_MODE_EXCLUSIVE, NULL);
	T_OK(dl_set_value(t, &cx, "leader", 6, &o1, "10.0.0.1:80", 11) == 0 &&
	       holder_info(t, "leader", 1, 1, &ei) && ei.value_len == 11 &&
	       !memcmp(ei.value, "10.0.0.1:80", 11), "value: holder sets, anyone reads");
	T_OK(dl_set_value(t, &cx, "leader", 6, &o2, "x", 1) == -EPERM,
	       "value: non-holder -> -EPERM");
	T_OK(dl_set_value(t, &cx, "leader", 6, &o1, big, DL_VALUE_MAX) == 0 &&
	       dl_set_value(t, &cx, "leader", 6, &o1, big, DL_VALUE_MAX + 1) == -E2BIG,
	       "value: 1 KiB accepted, 1 KiB + 1 -> -E2BIG");
	T_OK(holder_info(t, "leader", 1, 1, &ei) && ei.value_len == DL_VALUE_MAX,
	       "value: failed set leaves the old value");
	unlock(t, s, 1, "leader");
	T_OK(live_objs[DL_OBJ_VALUE] == 0, "value: freed with the lease");
	finish(t, &s, 1);
}

static void test_inspect(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 7);
	const struct dl_lock *l;
	const struct dl_entry *e;
	struct dl_lock_info li;
	struct dl_entry_info ei;
	struct dl_acquire_res r;
	u64 cookies[3], n = 0;

	acq_full(t, s, 1, "ins", DL_MODE_SHARED, 0, 0, 2000, 0, 0, NULL, &r);
	wait_lock(t, s, 2, "ins", DL_MODE_EXCLUSIVE, 22);
	acq_full(t, s, 3, "ins", DL_MODE_SHARED, 0, DL_ACQ_DETACHED, 1000, 700,
		 33, "dd", NULL);
	l = dl_lookup(t, "ins", 3);
	dl_lock_info(l, &li);
	T_OK(li.nr_holders == 1 && li.nr_waiters == 2 && li.mode == DL_MODE_SHARED &&
	       !li.semaphore && li.name_len == 3, "inspect: lock info");
	e = dl_holder_next(l, NULL);
	dl_entry_info(t, e, now + 500 * MS, &ei);
	T_OK(!ei.waiter && ei.owner.session_id == 7 && ei.owner.tag == 1 &&
	       ei.token == r.token && ei.count == 1 && ei.remaining_ns == 1500 * MS &&
	       !strcmp(ei.meta, "pid1") && !dl_holder_next(l, e),
	       "inspect: holder owner, token, count, remaining TTL, metadata");
	for (e = NULL; (e = dl_waiter_next(l, e)) && n < 3;) {
		dl_entry_info(t, e, now, &ei);
		cookies[n++] = ei.cookie;
	}
	dl_entry_info(t, dl_waiter_next(l, dl_waiter_next(l, NULL)), now, &ei);
	T_OK(n == 2 && cookies[0] == 22 && cookies[1] == 33 && ei.waiter &&
	       ei.owner.detached && ei.owner.len == 2 && !memcmp(ei.owner.str, "dd", 2) &&
	       ei.remaining_ns == 700 * MS, "inspect: waiters in order with owner and timeout");
	T_OK(!dl_lookup(t, "nope", 4) && !dl_lookup(t, "", 0), "inspect: unknown or bad name -> NULL");
	finish(t, &s, 1);
}

/* Dump all locks in pages of @page, mutating the table between pages. */
static void test_dump(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	static unsigned char seen[4000];
	struct dl_cursor c;
	char name[32];
	int i, dup = 0, missing = 0, pages = 0, n;
	u64 g0, g1;
	bool intr = false;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
	}
	memset(seen, 0, sizeof(seen));
	dl_cursor_init(&c);
	g0 = dl_table_generation(t);
	for (;;) {
		const struct dl_lock *l;
		struct dl_lock_info li;

		for (n = 0; n < 37 && (l = dl_dump_next(t, &c)); n++) {
			dl_lock_info(l, &li);
			memcpy(name, li.name, li.name_len);
			name[li.name_len] = 0;
			i = atoi(name + 1);
			if (seen[i]++)
				dup++;
		}
		if (n == 0 && !dl_cursor_next_shard(t, &c))
			break;
		if (pages > 100000)	/* a cursor that does not advance */
			break;
		pages++;
		/* Between pages: add 3 (forcing resizes), drop 2 odd ones. */
		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "d%d", 2000 + pages * 3 + i);
			if (2000 + pages * 3 + i < 4000)
				try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
		}
		for (i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "d%d", (pages * 2 + i) * 2 + 1);
			if ((pages * 2 + i) * 2 + 1 < 2000)
				unlock(t, s, 1, name);
		}
		g1 = dl_table_generation(t);
		intr |= g1 != g0;
		g0 = g1;
	}
	for (i = 0; i < 2000; i += 2)	/* even ones were there throughout */
		missing += !seen[i];
	T_OK(pages > 50 && dup == 0 && missing == 0,
	       "dump: %d pages across inserts, removals and resizes: no lock twice, none missed", pages);
	T_OK(intr, "dump: generation changes when the table changes mid-dump");
	g0 = dl_table_generation(t);
	dl_cursor_init(&c);
	while (dl_dump_next(t, &c) || dl_cursor_next_shard(t, &c))
		;
	T_OK(dl_table_generation(t) == g0, "dump: generation unchanged by reading");
	T_OK(check_ok(t), "dump: table consistent");
	finish(t, &s, 1);
}

static void test_limits(void)
{
	struct dl_table_config cfg = { .nr_shards = 4, .max_leases = 5,
				       .max_waiters = 3, .max_session_leases = 3,
				       .max_session_waiters = 2 };
	struct dl_table *t = mk_table_cfg(&cfg);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *c = dl_session_create(t, 3);
	struct dl_session *ss[3] = { a, b, c };
	char name[16];
	int i, ok = 1;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		ok &= try_lock(t, a, 1, name, DL_MODE_EXCLUSIVE, NULL) == 0;
	}
	T_OK(ok && try_lock(t, a, 1, "l3", DL_MODE_EXCLUSIVE, NULL) == -EDQUOT,
	       "limits: per-session lease cap -> -EDQUOT");
	ok = try_lock(t, b, 1, "m0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, b, 1, "m1", DL_MODE_EXCLUSIVE, NULL) == 0;
	T_OK(ok && try_lock(t, b, 1, "m2", DL_MODE_EXCLUSIVE, NULL) == -ENOSPC,
	       "limits: per-table lease cap -> -ENOSPC");
	T_OK(try_lock(t, a, 1, "l0", DL_MODE_EXCLUSIVE, NULL) == 0,
	       "limits: reentrant re-acquire is not a new lease");
	ok = wait_lock(t, c, 1, "l0", DL_MODE_EXCLUSIVE, 1) == DL_QUEUED &&
	     wait_lock(t, c, 2, "l0", DL_MODE_EXCLUSIVE, 2) == DL_QUEUED;
	T_OK(ok && wait_lock(t, c, 3, "l0", DL_MODE_EXCLUSIVE, 3) == -EDQUOT,
	       "limits: per-session waiter cap -> -EDQUOT");
	ok = wait_lock(t, b, 4, "l0", DL_MODE_EXCLUSIVE, 4) == DL_QUEUED;
	T_OK(ok && wait_lock(t, b, 5, "l1", DL_MODE_EXCLUSIVE, 5) == -ENOSPC,
	       "limits: per-table waiter cap -> -ENOSPC");
	T_OK(check_ok(t), "limits: table consistent");
	finish(t, ss, 3);
}

/* dl_table_set_limits(): caps change on a running table, for new admissions. */
static void test_set_limits(void)
{
	struct dl_table_config cfg = { .nr_shards = 4 };
	struct dl_table_limits lim = { .max_ttl_ms = 2000, .max_leases = 4,
				       .max_waiters = 2,
				       .max_session_leases = 2,
				       .max_session_waiters = 1 };
	struct dl_table *t = mk_table_cfg(&cfg);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *ss[2] = { a, b };
	struct dl_table_limits got;
	struct dl_entry_info ei;
	int ok;

	dl_table_get_limits(t, &got);
	T_OK(got.max_ttl_ms == DL_DEFAULT_MAX_TTL_MS && !got.max_leases &&
	       !got.max_session_waiters, "set_limits: defaults read back");
	ok = try_lock(t, a, 1, "x0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, a, 1, "x1", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, a, 1, "x2", DL_MODE_EXCLUSIVE, NULL) == 0;
	dl_table_set_limits(t, &lim);
	dl_table_get_limits(t, &got);
	T_OK(ok && !memcmp(&got, &lim, sizeof(got)), "set_limits: new limits read back");
	T_OK(holders(t, "x2") == 1 &&
	       try_lock(t, a, 1, "x3", DL_MODE_EXCLUSIVE, NULL) == -EDQUOT,
	       "set_limits: lowered session cap: leases kept, new one -> -EDQUOT");
	T_OK(try_lock(t, b, 1, "y0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       try_lock(t, b, 1, "y1", DL_MODE_EXCLUSIVE, NULL) == -ENOSPC,
	       "set_limits: lowered table cap -> -ENOSPC");
	T_OK(wait_lock(t, b, 1, "x0", DL_MODE_EXCLUSIVE, 1) == DL_QUEUED &&
	       wait_lock(t, b, 2, "x1", DL_MODE_EXCLUSIVE, 2) == -EDQUOT,
	       "set_limits: session waiter cap applies");
	T_OK(wait_lock(t, a, 2, "x0", DL_MODE_EXCLUSIVE, 3) == DL_QUEUED &&
	       wait_lock(t, a, 3, "x1", DL_MODE_EXCLUSIVE, 4) == -ENOSPC,
	       "set_limits: table waiter cap applies");
	T_OK(unlock(t, a, 1, "x2") == 0 &&
	       acq_full(t, b, 4, "ttl", DL_MODE_EXCLUSIVE, 0, 0, 60000, 0, 0,
			NULL, NULL) == 0 && holder_info(t, "ttl", 2, 4, &ei) &&
	       ei.remaining_ns == 2000 * MS, "set_limits: new TTL cap applies");
	lim = (struct dl_table_limits){ 0 };
	dl_table_set_limits(t, &lim);
	dl_table_get_limits(t, &got);
	T_OK(got.max_ttl_ms == DL_DEFAULT_MAX_TTL_MS &&
	       try_lock(t, b, 3, "y1", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       try_lock(t, b, 3, "y2", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       wait_lock(t, b, 4, "x1", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED,
	       "set_limits: 0 lifts the caps, TTL cap back to 1 hour");
	T_OK(check_ok(t), "set_limits: table consistent");
	finish(t, ss, 2);
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

static u64 rnd_state = 88172645463325252ULL;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* The cluster path: the leader asks what is due and proposes EXPIRE. */
static void test_explicit_expire(void)
{
	struct dl_table *t = mk_table(2, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_session *s2 = dl_session_create(t, 2);
	struct dl_session *ss[2] = { s, s2 };
	struct dl_cmd cx = { .now = now, .global = true };
	const struct dl_entry *due;
	struct dl_entry_info ei;
	struct dl_acquire_res r;
	u32 sh = dl_shard_of(t, "cl", 2);

	acq_full(t, s, 1, "cl", DL_MODE_EXCLUSIVE, 0, 0, 100, 0, 0, NULL, &r);
	acq_full(t, s2, 2, "cl", DL_MODE_EXCLUSIVE, 0, 0, 100, 50, 9, NULL, NULL);
	T_OK(dl_shard_next_deadline(t, sh) == now + 50 * MS &&
	     !dl_shard_first_due(t, sh, now + 49 * MS),
	     "cluster: earliest deadline is the wait timeout, nothing due before it");
	due = dl_shard_first_due(t, sh, now + 50 * MS);
	dl_entry_info(t, due, now, &ei);
	T_OK(due && ei.waiter && ei.cookie == 9 && dl_entry_lock(due) == dl_lookup(t, "cl", 2),
	     "cluster: the due entry is the waiter, with its lock");
	log_reset();
	cx.now = now + 49 * MS;
	T_OK(dl_expire_wait(t, &cx, "cl", 2, s2, 9) == -EAGAIN,
	     "cluster: EXPIRE_WAIT before its deadline -> -EAGAIN");
	cx.now = now + 50 * MS;
	T_OK(dl_expire_wait(t, &cx, "cl", 2, s, 9) == -ENOENT &&
	     dl_expire_wait(t, &cx, "cl", 2, s2, 9) == 0 &&
	     log_count('W', -ETIMEDOUT) == 1, "cluster: EXPIRE_WAIT applies once, by session and cookie");
	cx.now = now + 100 * MS;
	T_OK(dl_expire_lease(t, &cx, "cl", 2, r.token + 1) == -ENOENT &&
	     dl_expire_lease(t, &cx, "cl", 2, r.token) == 0 &&
	     holders(t, "cl") == 0 && log_count('L', DL_LOST_EXPIRED) == 1,
	     "cluster: EXPIRE_LEASE by token; a stale token -> -ENOENT");
	T_OK(dl_expire_lease(t, &cx, "cl", 2, r.token) == -ENOENT,
	     "cluster: a second EXPIRE of the same lease is harmless");
	finish(t, ss, 2);
}

static void test_misc(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *ss[1] = { b };
	struct dl_owner_ref oa = { .sess = a, .tag = 1 };
	struct dl_cmd cx = { .now = now, .global = true };
	struct dl_entry_info ei;
	int ok;

	acq_full(t, a, 1, "nt", DL_MODE_EXCLUSIVE, 0, DL_ACQ_NO_TTL, 0, 0, 0, NULL, NULL);
	T_OK(renew(t, &oa, "nt", 100) == 0 && holder_info(t, "nt", 1, 1, &ei) &&
	     ei.no_deadline, "no-TTL: renew is accepted and keeps it without a deadline");
	now += 100 * 3600 * SEC;
	run_timers(t);
	T_OK(holders(t, "nt") == 1, "no-TTL: still held 100 hours later");
	/* A detached wait sent by a: granted as a detached lease that outlives a. */
	acq_full(t, b, 5, "dw", DL_MODE_EXCLUSIVE, 0, 0, 1000, 0, 0, NULL, NULL);
	acq_full(t, a, 0, "dw", DL_MODE_EXCLUSIVE, 0, DL_ACQ_DETACHED, 1000, 0, 3,
		 "det", NULL);
	log_reset();
	unlock(t, b, 5, "dw");
	ok = log_find('W', 0, "dw") && log_find('W', 0, "dw")->sess == 1;
	end_session(t, a);
	T_OK(ok && holders(t, "dw") == 1 && unlock_detached(t, "det", "dw") == 0,
	     "detached wait: the sender is notified, the lease outlives the sender");
	/* Breaking every reader of a lock with a writer queued. */
	try_lock(t, b, 1, "br", DL_MODE_SHARED, NULL);
	try_lock(t, b, 2, "br", DL_MODE_SHARED, NULL);
	wait_lock(t, b, 3, "br", DL_MODE_EXCLUSIVE, 3);
	log_reset();
	T_OK(dl_break(t, &cx, "br", 2, 0) == 0 && log_count('L', DL_LOST_BROKEN) == 2 &&
	     log_count('W', 0) == 1 && holder_info(t, "br", 2, 3, &ei),
	     "break all: both readers notified, then the writer granted");
	T_OK(dl_cancel(t, &cx, "br", 2, a, 3) == -ENOENT,
	     "cancel: someone else's wait -> -ENOENT");
	T_OK(check_ok(t), "misc: table consistent");
	finish(t, ss, 1);
}

/*
 * Replicas: two tables fed the same commands, with different allocation
 * patterns (so different addresses), must emit identical notifications.
 */
struct replica {
	u64 token;
	u64 digest;
	long n;
};

static void rep_mix(struct dl_cmd *cx, u64 a, u64 b, const char *s, u32 len)
{
	struct replica *r = cx->priv;
	u32 i;

	r->digest = (r->digest ^ a) * 0x100000001b3ULL;
	r->digest = (r->digest ^ b) * 0x100000001b3ULL;
	for (i = 0; i < len; i++)
		r->digest = (r->digest ^ (u8)s[i]) * 0x100000001b3ULL;
	r->n++;
}

static u64 rep_token(struct dl_cmd *cx)
{
	return ++((struct replica *)cx->priv)->token;
}

static void rep_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	rep_mix(cx, shard, d, "", 0);
}

static void rep_wait(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	rep_mix(cx, wd->cookie, wd->token ^ (u64)wd->err, wd->name, wd->name_len);
}

static void rep_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	rep_mix(cx, ls->tag, ls->token ^ ls->reason, ls->name, ls->name_len);
}

static void rep_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	rep_mix(cx, ev->type ^ ((u64)ev->mode << 8) ^ (ev->owner.session_id << 16) ^
		ev->owner.tag, ev->token, ev->name, ev->name_len);
}

static const struct dl_table_ops rep_ops = {
	.alloc = t_alloc, .free = t_free, .next_token = rep_token,
	.set_timer = rep_timer, .wait_done = rep_wait, .lost = rep_lost,
	.event = rep_event,
};

static void test_replicas(void)
{
	struct dl_table_config cfg = { .nr_shards = 8, .meta_size = 8, .hash_seed = 7 };
	struct dl_table *t[2];
	struct dl_session *s[2][4];
	struct replica rp[2];
	void *junk[64] = { NULL };
	int i, k, step, same = 1;
	u64 tnow = SEC;
	char name[8];

	memset(rp, 0, sizeof(rp));
	for (k = 0; k < 2; k++) {
		t[k] = dl_table_create(&cfg, &rep_ops, NULL);
		for (i = 0; i < 4; i++)
			s[k][i] = dl_session_create(t[k], i + 1);
	}
	for (step = 0; step < 20000; step++) {
		u64 x = rnd();
		int op = x % 10, si = (x >> 8) % 4, tag = (x >> 12) % 3;
		u32 sh;

		snprintf(name, sizeof(name), "n%d", (int)((x >> 16) % 5));
		tnow += (x >> 24) % (20 * MS);
		junk[step % 64] = malloc(1 + (x >> 32) % 200);	/* perturb addresses */
		free(junk[(step + 32) % 64]);
		junk[(step + 32) % 64] = NULL;
		for (k = 0; k < 2; k++) {
			struct dl_cmd cx = { .now = tnow, .global = true, .priv = &rp[k] };
			struct dl_owner_ref o = { .sess = s[k][si], .tag = tag };
			struct dl_acquire_res r;
			struct dl_acquire_req rq = {
				.name = name, .name_len = strlen(name),
				.mode = op & 1 ? DL_MODE_SHARED : DL_MODE_EXCLUSIVE,
				.ttl_ms = 30 + (x >> 40) % 100, .wait_ms = (x >> 50) % 3 * 40,
				.sess = s[k][si], .tag = tag, .cookie = step,
			};
			int rc = 0;

			if (op < 5)
				rc = dl_acquire(t[k], &cx, &rq, &r);
			else if (op < 8)
				rc = dl_release(t[k], &cx, name, strlen(name), &o, NULL);
			else if (op < 9)
				rc = dl_renew(t[k], &cx, name, strlen(name), &o, 50);
			rep_mix(&cx, (u64)rc, 0, "", 0);
			for (sh = 0; sh < 8; sh++)
				dl_run_timers(t[k], &cx, sh, 0);
		}
		same &= rp[0].digest == rp[1].digest;
	}
	for (i = 0; i < 64; i++)
		free(junk[i]);
	for (k = 0; k < 2; k++) {
		struct dl_cmd cx = { .now = tnow, .global = true, .priv = &rp[k] };
		u32 sh;

		for (i = 0; i < 4; i++) {
			for (sh = 0; sh < 8; sh++)
				dl_session_end(t[k], &cx, s[k][i], sh);
			dl_session_destroy(t[k], s[k][i]);
		}
		dl_table_destroy(t[k]);
	}
	same &= rp[0].digest == rp[1].digest;
	T_OK(same && rp[0].n == rp[1].n && rp[0].n > 20000,
	     "replicas: same commands, different addresses -> identical notifications (%ld)",
	     rp[0].n);
}

/* Random, mostly malformed arguments to every command: no crash, no drift. */
static void test_garbage(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *ss[3];
	static char buf[2048];
	int i, bad = 0, accepted = 0;

	for (i = 0; i < 3; i++)
		ss[i] = dl_session_create(t, i + 1);
	for (i = 0; i < 30000; i++) {
		u64 x = rnd(), y = rnd();
		struct dl_cmd cx = { .now = now, .global = y & 1 };
		u32 len = x % 4 ? 1 + (x >> 8) % 4 : (x >> 8) % 300;
		const char *name = buf + (y >> 8) % 64;
		struct dl_owner_ref o = {
			.sess = (x >> 20) % 5 ? ss[(x >> 24) % 3] : NULL,
			.tag = (x >> 28) % 3,
			.str = (x >> 32) % 3 ? NULL : buf + 100,
			.len = (x >> 34) % 70,
		};
		struct dl_acquire_req rq = {
			.name = name, .name_len = len, .mode = (x >> 40) % 4,
			.permits = (y >> 16) % 3, .flags = (y >> 20) % 16,
			.ttl_ms = (y >> 24) % 3 ? (y >> 26) % 1000 : 0,
			.wait_ms = (y >> 36) % 100, .sess = ss[(y >> 44) % 3],
			.tag = (y >> 46) % 3, .owner = (y >> 48) % 4 ? buf + 100 : NULL,
			.owner_len = (y >> 50) % 70, .cookie = y >> 52,
		};
		struct dl_acquire_res r;
		int rc;

		buf[(y >> 40) % 200] = (char)(x >> 56);	/* sometimes a NUL */
		switch ((x >> 44) % 8) {
		case 0:
		case 1:
		case 2:
			rc = dl_acquire(t, &cx, &rq, &r);
			break;
		case 3:
			rc = dl_release(t, &cx, name, len, &o, NULL);
			break;
		case 4:
			rc = dl_renew(t, &cx, name, len, &o, (u32)y);
			break;
		case 5:
			rc = dl_set_value(t, &cx, name, len, &o, buf, (y >> 4) % 1100);
			break;
		case 6:
			rc = dl_cancel(t, &cx, name, len, ss[y % 3], y >> 52);
			break;
		default:
			rc = dl_break(t, &cx, name, len, (y >> 8) % 3 ? 0 : 1000 + y % 50);
			break;
		}
		accepted += rc >= 0;
		if (rc > DL_MORE || rc < -4095)
			bad++;
		now += (x >> 48) % (50 * MS);
		run_timers(t);
		if (dl_table_check(t))
			bad++;
	}
	T_OK(!bad && accepted > 500,
	     "garbage: 30000 random commands, no crash, table consistent (%d accepted, %d bad)",
	     accepted, bad);
	finish(t, ss, 3);
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
		fail_buckets = i % 7 == 3 || (i > 100 && i < 140);
		ok &= try_lock(t, s, i, "many", DL_MODE_SHARED, &r) == 0 && r.count == 1;
		fail_buckets = false;
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

static void test_tokens(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_acquire_res r;
	u64 last = 0;
	int i, ok = 1;

	for (i = 0; i < 50; i++) {
		ok &= try_lock(t, s, i, "tok", DL_MODE_EXCLUSIVE, &r) == 0;
		ok &= r.token > last;
		last = r.token;
		unlock(t, s, i, "tok");
	}
	T_OK(ok, "tokens: strictly increase per name across lock lifetimes");
	finish(t, &s, 1);
}

static void test_alloc_failure(void)
{
	struct dl_table *t = mk_table(2, 0);
	struct dl_session *s = dl_session_create(t, 1);
	long before;
	int i, ok = 1, fails = 0, rc;
	char name[16];

	try_lock(t, s, 1, "held", DL_MODE_EXCLUSIVE, NULL);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		before = live_objs[DL_OBJ_ENTRY] + live_objs[DL_OBJ_LOCK];
		fail_countdown = i % 3;
		rc = try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
		if (rc == -ENOMEM) {
			fails++;
			/* Heap and bucket arrays may have grown: capacity, not a leak. */
			if (live_objs[DL_OBJ_ENTRY] + live_objs[DL_OBJ_LOCK] != before ||
			    dl_lookup(t, name, strlen(name))) {
				fprintf(stderr, "# leak after failed acquire %d\n", i);
				ok = 0;
			}
		}
		fail_countdown = i % 2;
		rc = wait_lock(t, s, 2 + i, "held", DL_MODE_EXCLUSIVE, i);
		if (rc == -ENOMEM)
			fails++;
		fail_countdown = -1;
		ok &= check_ok(t);
	}
	T_OK(ok && fails > 0, "alloc failure: %d injected failures leave no trace", fails);
	finish(t, &s, 1);
	for (i = 0, ok = 1, fails = 0; i < 10; i++) {
		fail_countdown = i;
		t = mk_table(2, 0);
		fail_countdown = -1;
		if (t) {
			dl_table_destroy(t);
			continue;
		}
		fails++;
		if (live_total()) {
			fprintf(stderr, "# table create, fail at %d: live=%ld\n", i,
				live_total());
			ok = 0;
		}
	}
	T_OK(ok && fails == 9, "alloc failure: table creation fails cleanly at each of its %d allocations", fails);
}

/* ---- randomized model check ------------------------------------------ */

#define M_NAMES 6
#define M_SESS 5
#define M_TAGS 4
#define M_DET 3
#define M_OWNERS (M_SESS * M_TAGS + M_DET)
#define M_STEPS 60000

static const char *m_name[M_NAMES] = { "alpha", "beta", "gamma", "sem2", "sem3", "delta" };
static const char *m_det[M_DET] = { "d0", "d1", "d2" };

struct m_hold {
	bool held;
	u64 token;
	u32 count;
};

struct m_wait {
	bool on;
	int si;			/* the socket that sent it */
	u64 cookie;
	u64 seq;
};

static struct {
	struct dl_table *t;
	struct dl_session *sess[M_SESS];
	u64 sess_id[M_SESS];
	struct m_hold hold[M_NAMES][M_OWNERS];
	struct m_wait wait[M_NAMES][M_OWNERS];	/* pending queued acquire */
	u64 last_token[M_NAMES];
	u64 seq;
	long violations;
	long grants, expiries, deadlocks, cycles, timeouts, deaths, queued;
} M;

static int m_name_idx(const char *n)
{
	int i;

	for (i = 0; i < M_NAMES; i++)
		if (!strcmp(n, m_name[i]))
			return i;
	return -1;
}

/* Owner index from an event record or a wait cookie. */
static int m_owner_of_cookie(u64 cookie)
{
	return (int)(cookie >> 32);
}

static int m_owner_of_view(const struct dl_owner_view *v)
{
	int i;

	if (v->detached) {
		for (i = 0; i < M_DET; i++)
			if (v->len == strlen(m_det[i]) && !memcmp(v->str, m_det[i], v->len))
				return M_SESS * M_TAGS + i;
		return -1;
	}
	for (i = 0; i < M_SESS; i++)
		if (M.sess[i] && M.sess_id[i] == v->session_id)
			return i * M_TAGS + (int)v->tag;
	return -1;
}

static void m_violation(const char *what, int n, int o)
{
	if (M.violations++ < 10)
		fprintf(stderr, "# model violation: %s (name %d owner %d)\n", what, n, o);
}

static void m_on_rec(const struct rec *r)
{
	int n = m_name_idx(r->name), o, i;

	if (n < 0)
		return;
	if (r->what == 'W') {
		o = m_owner_of_cookie(r->cookie);
		if (!M.wait[n][o].on || M.wait[n][o].cookie != r->cookie) {
			m_violation("completion of an unknown wait", n, o);
			return;
		}
		if (r->type == 0) {
			/* FIFO: nobody queued earlier on this name still waits. */
			for (i = 0; i < M_OWNERS; i++)
				if (M.wait[n][i].on && M.wait[n][i].seq < M.wait[n][o].seq)
					m_violation("grant out of FIFO order", n, o);
		} else {
			M.timeouts++;
		}
		M.wait[n][o].on = false;
		return;
	}
}

/* Events need the owner: decode them in the event callback directly. */
static void m_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	char nm[DL_NAME_MAX + 1];
	int n, o;

	t_event(cx, ev);
	memcpy(nm, ev->name, ev->name_len);
	nm[ev->name_len] = 0;
	n = m_name_idx(nm);
	o = m_owner_of_view(&ev->owner);
	if (n < 0 || o < 0) {
		m_violation("event for unknown name/owner", n, o);
		return;
	}
	if (ev->type == DL_EV_GRANTED) {
		if (M.hold[n][o].held)
			m_violation("granted twice", n, o);
		if (ev->token <= M.last_token[n])
			m_violation("token not increasing", n, o);
		M.last_token[n] = ev->token;
		M.hold[n][o] = (struct m_hold){ true, ev->token, 1 };
		M.grants++;
	} else {
		if (!M.hold[n][o].held || M.hold[n][o].token != ev->token)
			m_violation("end of a lease not held", n, o);
		M.hold[n][o].held = false;
		M.expiries += ev->type == DL_EV_EXPIRED;
		M.deaths += ev->type == DL_EV_OWNER_DIED;
	}
}

static const struct dl_table_ops m_ops = {
	.alloc = t_alloc,
	.free = t_free,
	.next_token = t_next_token,
	.set_timer = t_set_timer,
	.wait_done = t_wait_done,
	.lost = t_lost,
	.event = m_event,
};

static void m_invariants(void)
{
	int n, o, excl, shr, cnt;
	struct dl_entry_info ei;

	for (n = 0; n < M_NAMES; n++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[n], strlen(m_name[n]));
		const struct dl_entry *e = NULL;
		struct dl_lock_info li;
		int seen = 0, model = 0;

		for (o = 0; o < M_OWNERS; o++)
			model += M.hold[n][o].held;
		if (!l) {
			if (model)
				m_violation("model holds a lock the table lacks", n, -1);
			continue;
		}
		dl_lock_info(l, &li);
		excl = shr = cnt = 0;
		while ((e = dl_holder_next(l, e))) {
			dl_entry_info(M.t, e, now, &ei);
			o = m_owner_of_view(&ei.owner);
			excl += ei.mode == DL_MODE_EXCLUSIVE;
			shr += ei.mode == DL_MODE_SHARED;
			cnt++;
			seen++;
			if (o < 0 || !M.hold[n][o].held || M.hold[n][o].token != ei.token ||
			    M.hold[n][o].count != ei.count)
				m_violation("holder differs from model (token/count)", n, o);
		}
		if (seen != model)
			m_violation("holder set differs from model", n, -1);
		if (excl > 1 || (excl && shr))
			m_violation("exclusive holder not alone", n, -1);
		if (li.semaphore && cnt > (int)li.permits)
			m_violation("semaphore over its permits", n, -1);
	}
}

static int m_mode(int n, u32 *permits)
{
	*permits = 0;
	if (n == 3 || n == 4) {
		*permits = n - 1;
		return DL_MODE_SEMAPHORE;
	}
	return rnd() % 3 ? DL_MODE_EXCLUSIVE : DL_MODE_SHARED;
}

/* Same edge rule as the table's walk, written the obvious way. */
static bool m_conflict(const struct dl_lock_info *li, int a, int b)
{
	if (li->semaphore)
		return li->permits == 1;
	return a == DL_MODE_EXCLUSIVE || b == DL_MODE_EXCLUSIVE;
}

/*
 * Reference deadlock check: builds the whole wait-for graph among owners
 * from inspection and asks whether owner @r asking @n in @mode reaches
 * itself.  With few owners nothing is truncated, so the table must agree.
 */
static bool m_would_deadlock(int n, int r, int mode)
{
	u32 adj[M_OWNERS], seen = 0, todo = 0;
	struct dl_entry_info ei, ej;
	int k, o;

	memset(adj, 0, sizeof(adj));
	for (k = 0; k < M_NAMES; k++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[k], strlen(m_name[k]));
		const struct dl_entry *w = NULL, *x;
		struct dl_lock_info li;

		if (!l)
			continue;
		dl_lock_info(l, &li);
		while ((w = dl_waiter_next(l, w))) {
			int ow;

			dl_entry_info(M.t, w, now, &ei);
			ow = m_owner_of_view(&ei.owner);
			for (x = NULL; (x = dl_holder_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, ei.mode))
					adj[ow] |= 1U << m_owner_of_view(&ej.owner);
			}
			for (x = NULL; (x = dl_waiter_next(l, x)) && x != w;) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, ei.mode))
					adj[ow] |= 1U << m_owner_of_view(&ej.owner);
			}
		}
		if (k == n) {
			for (x = NULL; (x = dl_holder_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, mode))
					todo |= 1U << m_owner_of_view(&ej.owner);
			}
			for (x = NULL; (x = dl_waiter_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, mode))
					todo |= 1U << m_owner_of_view(&ej.owner);
			}
		}
	}
	while (todo) {
		o = __builtin_ctz(todo);
		todo &= todo - 1;
		if (o == r)
			return true;
		if (seen & (1U << o))
			continue;
		seen |= 1U << o;
		todo |= adj[o] & ~seen;
	}
	return false;
}

static void m_step(void)
{
	int n = rnd() % M_NAMES, o = rnd() % M_OWNERS, si = o / M_TAGS;
	bool det = o >= M_SESS * M_TAGS;
	const char *dname = det ? m_det[o - M_SESS * M_TAGS] : NULL;
	struct dl_owner_ref ref;
	struct dl_acquire_res r;
	int op = rnd() % 100, rc;
	u32 permits, cnt;
	int mode;

	if (det)
		si = rnd() % M_SESS;	/* any socket may act for a detached owner */
	if (!M.sess[si])
		return;
	ref = det ? (struct dl_owner_ref){ .str = dname, .len = strlen(dname) } :
		    (struct dl_owner_ref){ .sess = M.sess[si], .tag = o % M_TAGS };
	if (op < 45) {
		u32 flags = (rnd() % 3 ? 0 : DL_ACQ_TRY) | (det ? DL_ACQ_DETACHED :
			     (rnd() % 4 ? 0 : DL_ACQ_NO_TTL));
		u64 cookie = ((u64)o << 32) | ++M.seq;
		bool was = M.hold[n][o].held, expect_dl;

		if (M.wait[n][o].on)
			flags |= DL_ACQ_TRY;
		mode = m_mode(n, &permits);
		expect_dl = m_would_deadlock(n, o, mode);
		/* Keep the mode an owner already holds, or expect -EDEADLK. */
		rc = acq_full(M.t, M.sess[si], o % M_TAGS, m_name[n], mode, permits,
			      flags, 50 + rnd() % 400, rnd() % 2 ? 0 : 100 + rnd() % 500,
			      cookie, dname, &r);
		if (rc == 0 && was) {
			M.hold[n][o].count++;
			if (r.token != M.hold[n][o].token || r.count != M.hold[n][o].count)
				m_violation("reentrant acquire token/count", n, o);
		} else if (rc == DL_QUEUED) {
			M.wait[n][o] = (struct m_wait){ true, si, cookie, M.seq };
			M.queued++;
			if (expect_dl)
				m_violation("queued although it closes a cycle", n, o);
		} else if (rc == -EDEADLK) {
			M.deadlocks++;
			if (!was && !expect_dl)
				m_violation("-EDEADLK without a cycle", n, o);
			M.cycles += !was;
		} else if (rc && rc != -EAGAIN && rc != -EALREADY) {
			m_violation("unexpected acquire error", n, o);
		}
		if (rc == 0 && !M.hold[n][o].held)
			m_violation("acquire ok but model has no grant", n, o);
	} else if (op < 80) {
		bool was = M.hold[n][o].held;

		rc = GLUE(M.t, dl_release(M.t, &cx, m_name[n], strlen(m_name[n]), &ref, &cnt));
		if (was != (rc == 0))
			m_violation("release result differs from model", n, o);
		if (rc == 0 && cnt) {
			M.hold[n][o].count--;
			if (cnt != M.hold[n][o].count)
				m_violation("release count", n, o);
		}
		if (rc == 0 && !cnt && M.hold[n][o].held)
			m_violation("release to zero left the lease", n, o);
	} else if (op < 88) {
		rc = renew(M.t, &ref, m_name[n], 50 + rnd() % 400);
		if ((rc == 0) != M.hold[n][o].held)
			m_violation("renew result differs from model", n, o);
	} else if (op < 93) {
		if (M.wait[n][o].on) {
			struct dl_cmd cx = { .now = now, .global = true };

			/* Gone before those behind it are granted. */
			M.wait[n][o].on = false;
			rc = dl_cancel(M.t, &cx, m_name[n], strlen(m_name[n]),
				       M.sess[M.wait[n][o].si], M.wait[n][o].cookie);
			if (rc)
				m_violation("cancel of a pending wait failed", n, o);
		}
	} else if (op < 95) {
		struct dl_cmd cx = { .now = now, .global = true };

		dl_break(M.t, &cx, m_name[n], strlen(m_name[n]), 0);
	} else if (op < 97) {
		/* Socket closes; a new one takes its slot. */
		int k, j;

		/* Its waits vanish silently, before anything is granted. */
		for (k = 0; k < M_NAMES; k++)
			for (j = 0; j < M_OWNERS; j++)
				if (M.wait[k][j].on && M.wait[k][j].si == si)
					M.wait[k][j].on = false;
		end_session(M.t, M.sess[si]);
		M.sess_id[si] += 100;
		M.sess[si] = dl_session_create(M.t, M.sess_id[si]);
	} else {
		now += rnd() % (200 * MS);
	}
	now += rnd() % (5 * MS);
	run_timers(M.t);
}

/* The table's queue of each name is exactly the model's, in FIFO order. */
static void m_check_waits(void)
{
	int n, j;

	for (n = 0; n < M_NAMES; n++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[n], strlen(m_name[n]));
		const struct dl_entry *e = NULL;
		struct dl_entry_info ei;
		u64 last_seq = 0;
		int seen = 0, model = 0;

		for (j = 0; j < M_OWNERS; j++)
			model += M.wait[n][j].on;
		while (l && (e = dl_waiter_next(l, e))) {
			dl_entry_info(M.t, e, now, &ei);
			j = m_owner_of_cookie(ei.cookie);
			if (j >= M_OWNERS || !M.wait[n][j].on ||
			    M.wait[n][j].cookie != ei.cookie ||
			    M.wait[n][j].seq <= last_seq)
				m_violation("queue differs from model / not FIFO", n, j);
			else
				last_seq = M.wait[n][j].seq;
			seen++;
		}
		if (seen != model)
			m_violation("queue length differs from model", n, -1);
	}
}

static void test_model(void)
{
	struct dl_table_config cfg = { .nr_shards = 4, .meta_size = META_SIZE };
	long bad_timer = 0, bad_check = 0;
	int i, step;
	u32 sh;

	memset(&M, 0, sizeof(M));
	armed_reset();
	M.t = dl_table_create(&cfg, &m_ops, NULL);
	for (i = 0; i < M_SESS; i++) {
		M.sess_id[i] = i + 1;
		M.sess[i] = dl_session_create(M.t, M.sess_id[i]);
	}
	on_rec = m_on_rec;
	for (step = 0; step < M_STEPS; step++) {
		log_reset();
		m_step();
		m_check_waits();
		m_invariants();
		for (sh = 0; sh < dl_nr_shards(M.t); sh++)
			bad_timer += armed[sh] != dl_shard_next_deadline(M.t, sh);
		if (dl_table_check(M.t) && bad_check++ < 3)
			fprintf(stderr, "# check failed at line %d, step %d\n",
				-dl_table_check(M.t), step);
	}
	on_rec = NULL;
	printf("# model: %ld grants, %ld queued, %ld expiries, %ld deadlocks (%ld cycles), %ld timeouts, %ld owner deaths\n",
	       M.grants, M.queued, M.expiries, M.deadlocks, M.cycles, M.timeouts, M.deaths);
	T_OK(M.violations == 0, "model: %d random steps, invariants hold after each (%ld violations)",
	       M_STEPS, M.violations);
	T_OK(bad_check == 0, "model: internal consistency after every step");
	T_OK(bad_timer == 0, "model: shard timers always armed at the earliest deadline");
	T_OK(M.grants > 1000 && M.queued > 100 && M.expiries > 10 && M.cycles > 50 &&
	       M.timeouts > 0 && M.deaths > 0, "model: every path exercised");
	for (i = 0; i < M_SESS; i++)
		end_session(M.t, M.sess[i]);
	dl_table_destroy(M.t);
	T_OK(live_total() == 0 && bad_frees == 0, "model: no memory left after destroy");
}

/* ---- scale ----------------------------------------------------------- */

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_million(void)
{
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

int main(int argc, char **argv)
{
	bool quick = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		if (!strcmp(argv[i], "--threads")) {
			/* The ThreadSanitizer run: only the concurrent test. */
			prefix = "tsan: ";
			test_threads(400);
			return tap_done();
		}
		else if (!strcmp(argv[i], "--san"))
			prefix = "asan: ";
	}

	test_names();
	test_exclusive_shared();
	test_semaphore();
	test_ttl();
	test_session_bound();
	test_detached();
	test_reentrancy();
	test_queue_fifo();
	test_semaphore_queue();
	test_deadlock();
	test_break();
	test_value();
	test_inspect();
	test_dump();
	test_limits();
	test_set_limits();
	test_need_global();
	test_tokens();
	test_many_holders();
	test_hot_lock();
	test_garbage();
	test_explicit_expire();
	test_misc();
	test_replicas();
	test_alloc_failure();
	test_model();
	test_threads(quick ? 300 : 1500);
	if (!quick)
		test_million();
	for (i = 0; i < DL_OBJ_NR; i++)
		if (live_objs[i])
			printf("# leaked: kind %d: %ld objects, %ld B\n", i,
			       live_objs[i], live_bytes[i]);
	if (nerr || bad_frees)
		printf("# glue contract violations %d, mismatched frees %ld\n",
		       nerr, bad_frees);
	T_OK(nerr == 0 && live_total() == 0 && bad_frees == 0,
	       "harness: glue contract kept, no leaks, no mismatched frees");
	return tap_done();
}
