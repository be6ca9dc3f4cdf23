// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table's per-uid rules (kmod/table.c and
 * kmod/table_uid.c, issue 8): a detached lease answers only to its owner
 * string from its own uid (or a privileged caller), and per-uid caps on
 * leases, waiters and value bytes keep one user from taking what another
 * needs.  On the shared fake glue (table_fixture.h), cases by name;
 * `make check-table` runs it plain, under ASan/UBSan and, for the threaded
 * part, under ThreadSanitizer.
 */
#include <pthread.h>

#include "table_fixture.h"

/* "uid: ", then "asan: " / "tsan: " for the sanitized runs. */
#undef T_OK
#define T_OK(c, fmt, ...) tap_ok(!!(c), "uid: %s" fmt, prefix, ##__VA_ARGS__)

static struct dl_table *mk(u32 max_leases, u32 max_waiters, u32 ul, u32 uw,
			   u32 uv, u32 slots)
{
	struct dl_table_config cfg = {
		.nr_shards = 4, .meta_size = 8, .max_leases = max_leases,
		.max_waiters = max_waiters, .max_user_leases = ul,
		.max_user_waiters = uw, .max_user_value_bytes = uv,
		.user_slots = slots, .hash_seed = 3,
	};

	return mk_table_cfg(&cfg);
}

struct who {
	struct dl_session *s;
	u32 uid;
	bool priv;
};

static int acq(struct dl_table *t, const struct who *w, const char *name,
	       const char *owner, u32 flags, u64 tag)
{
	struct dl_acquire_res res;
	struct dl_acquire_req rq = {
		.name = name, .name_len = strlen(name),
		.mode = DL_MODE_EXCLUSIVE, .flags = flags, .ttl_ms = 10000,
		.sess = w->s, .tag = tag, .owner = owner,
		.owner_len = owner ? strlen(owner) : 0, .cookie = tag,
		.uid = w->uid, .privileged = w->priv,
	};

	if (owner)
		rq.flags |= DL_ACQ_DETACHED;
	return GLUE(t, dl_acquire(t, &cx, &rq, &res));
}

static struct dl_owner_ref oref(const struct who *w, const char *owner,
				u64 tag)
{
	struct dl_owner_ref o = {
		.sess = owner ? NULL : w->s, .tag = tag, .str = owner,
		.len = owner ? strlen(owner) : 0, .uid = w->uid,
		.privileged = w->priv,
	};

	return o;
}

static int rel(struct dl_table *t, const struct who *w, const char *name,
	       const char *owner, u64 tag)
{
	struct dl_owner_ref o = oref(w, owner, tag);

	return GLUE(t, dl_release(t, &cx, name, strlen(name), &o, NULL));
}

static int renew_as(struct dl_table *t, const struct who *w, const char *name,
		 const char *owner)
{
	struct dl_owner_ref o = oref(w, owner, 0);

	return GLUE(t, dl_renew(t, &cx, name, strlen(name), &o, 5000));
}

static int setval(struct dl_table *t, const struct who *w, const char *name,
		  const char *owner, u64 tag, u32 len)
{
	static char buf[DL_VALUE_MAX];
	struct dl_owner_ref o = oref(w, owner, tag);

	memset(buf, 'v', sizeof(buf));
	return GLUE(t, dl_set_value(t, &cx, name, strlen(name), &o, buf, len));
}

static long usage(struct dl_table *t, u32 uid, int which)
{
	long v[3];

	dl_table_user_usage(t, uid, &v[0], &v[1], &v[2]);
	return v[which];
}

static void end_sessions(struct dl_table *t, struct dl_session **ss, int n)
{
	int k;

	for (k = 0; k < n; k++)
		end_session(t, ss[k]);
}

static void test_owner_uid(void)
{
	struct dl_table *t = mk(0, 0, 0, 0, 0, 0);
	struct dl_session *sa = dl_session_create(t, 1);
	struct dl_session *sb = dl_session_create(t, 2);
	struct dl_session *sr = dl_session_create(t, 3);
	struct dl_session *all[] = { sa, sb, sr };
	struct who a = { sa, 1000, false }, b = { sb, 1001, false };
	struct who root = { sr, 0, true };
	const struct dl_lock *l;
	const struct dl_entry *e;
	struct dl_entry_info ei;

	T_OK(acq(t, &a, "job", "cron", 0, 0) == 0, "owner: uid 1000 takes a detached lease");
	l = dl_lookup(t, "job", 3);
	e = l ? dl_holder_next(l, NULL) : NULL;
	if (e)
		dl_entry_info(t, e, now, &ei);
	T_OK(e && ei.owner.uid == 1000, "owner: the entry records the requester's uid");
	T_OK(log_find('E', DL_EV_GRANTED, "job") &&
	     log_find('E', DL_EV_GRANTED, "job")->uid == 1000,
	     "owner: the GRANTED event carries the uid");
	T_OK(rel(t, &b, "job", "cron", 0) == -EPERM,
	     "owner: release by another uid -> -EPERM");
	T_OK(renew_as(t, &b, "job", "cron") == -EPERM,
	     "owner: renew by another uid -> -EPERM");
	T_OK(setval(t, &b, "job", "cron", 0, 4) == -EPERM,
	     "owner: set-value by another uid -> -EPERM");
	T_OK(acq(t, &b, "job", "cron", 0, 0) == -EPERM,
	     "owner: re-entrant acquire by another uid -> -EPERM");
	T_OK(rel(t, &b, "job", "other", 0) == -EPERM,
	     "owner: another owner string still -> -EPERM");
	T_OK(acq(t, &b, "job", "bee", DL_ACQ_TRY, 0) == -EAGAIN,
	     "owner: another uid as its own owner just contends");
	T_OK(acq(t, &b, "job", "bee", 0, 0) == DL_QUEUED, "owner: and may queue");
	T_OK(acq(t, &a, "job", "bee", 0, 0) == -EPERM,
	     "owner: joining another uid's wait as its owner -> -EPERM");
	T_OK(acq(t, &root, "job", "bee", 0, 0) == -EALREADY,
	     "owner: a privileged caller joining it -> -EALREADY as the owner would");
	T_OK(renew_as(t, &a, "job", "cron") == 0 &&
	     setval(t, &a, "job", "cron", 0, 4) == 0 &&
	     acq(t, &a, "job", "cron", 0, 0) == 0,
	     "owner: the same uid renews, sets a value, re-enters");
	T_OK(acq(t, &root, "job", "cron", 0, 0) == 0 &&
	     renew_as(t, &root, "job", "cron") == 0 &&
	     setval(t, &root, "job", "cron", 0, 8) == 0,
	     "owner: a privileged caller acts as the owner");
	T_OK(rel(t, &root, "job", "cron", 0) == 0 && rel(t, &a, "job", "cron", 0) == 0 &&
	     rel(t, &root, "job", "cron", 0) == 0,
	     "owner: the privileged caller and the owner release it");
	T_OK(rel(t, &b, "job", "bee", 0) == 0, "owner: the waiter was granted, its uid releases");
	/* Socket-bound: the socket is the owner, whoever uses it. */
	T_OK(acq(t, &a, "sock", NULL, 0, 7) == 0, "owner: socket-bound lease");
	b.s = sa;
	T_OK(rel(t, &b, "sock", NULL, 7) == 0,
	     "owner: a socket-bound lease answers to its socket, not the uid");
	b.s = sb;
	end_sessions(t, all, 3);
	T_OK(dl_table_check(t) == 0 && usage(t, 1000, 0) == 0 &&
	     usage(t, 1001, 0) == 0 && usage(t, 1000, 2) == 0,
	     "owner: every count back to 0");
	dl_table_destroy(t);
}

static void test_caps(void)
{
	struct dl_table *t = mk(10, 10, 4, 2, 100, 0);
	struct dl_session *sa = dl_session_create(t, 1);
	struct dl_session *sa2 = dl_session_create(t, 2);
	struct dl_session *sb = dl_session_create(t, 3);
	struct dl_session *sr = dl_session_create(t, 4);
	struct dl_session *all[] = { sa, sa2, sb, sr };
	struct who a = { sa, 1000, false }, a2 = { sa2, 1000, false };
	struct who b = { sb, 1001, false }, root = { sr, 0, true };
	struct dl_table_limits lim;
	char name[16];
	int i, ok = 1;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		ok &= acq(t, &a, name, NULL, 0, i + 1) == 0;
		snprintf(name, sizeof(name), "d%d", i);
		ok &= acq(t, &a2, name, "flood", 0, 0) == 0;
	}
	T_OK(ok && usage(t, 1000, 0) == 4,
	     "caps: socket-bound and detached leases of two sockets count for the uid");
	T_OK(acq(t, &a2, "a4", NULL, 0, 9) == -EDQUOT &&
	     acq(t, &a, "d4", "flood", 0, 0) == -EDQUOT,
	     "caps: the uid's 5th lease -> -EDQUOT");
	T_OK(acq(t, &b, "b0", NULL, 0, 1) == 0, "caps: another uid still acquires");
	T_OK(acq(t, &root, "r0", NULL, 0, 1) == 0 && acq(t, &root, "r1", "adm", 0, 0) == 0,
	     "caps: privileged callers are counted, not capped by the user cap");
	T_OK(acq(t, &b, "a0", NULL, 0, 2) == DL_QUEUED && acq(t, &b, "a1", NULL, 0, 3) == DL_QUEUED,
	     "caps: two waits of uid 1001");
	T_OK(acq(t, &b, "d0", NULL, 0, 4) == -EDQUOT && usage(t, 1001, 1) == 2,
	     "caps: its 3rd wait -> -EDQUOT");
	T_OK(setval(t, &a, "a0", NULL, 1, 60) == 0 && setval(t, &a, "a1", NULL, 2, 40) == 0 &&
	     usage(t, 1000, 2) == 100, "caps: 100 value bytes fit the uid's 100");
	T_OK(setval(t, &a2, "d0", "flood", 0, 1) == -EDQUOT,
	     "caps: one more byte -> -EDQUOT");
	T_OK(setval(t, &a, "a0", NULL, 1, 50) == 0 && setval(t, &a2, "d0", "flood", 0, 10) == 0 &&
	     usage(t, 1000, 2) == 100, "caps: a smaller value gives bytes back");
	T_OK(setval(t, &root, "d1", "flood", 0, 500) == 0 && usage(t, 1000, 2) == 600,
	     "caps: a privileged caller's value is charged to the lease's uid, uncapped");
	T_OK(rel(t, &a, "a0", NULL, 1) == 0 && usage(t, 1001, 0) == 2 &&
	     usage(t, 1001, 1) == 1 && usage(t, 1000, 2) == 550,
	     "caps: a granted wait moves from waiters to leases; the value leaves with its lease");
	/* Lowered namespace caps: AUTO follows them at the next admission. */
	dl_table_get_limits(t, &lim);
	lim.max_user_leases = DL_USER_AUTO;
	lim.max_leases = 48;
	dl_table_set_limits(t, &lim);
	T_OK(acq(t, &b, "b1", NULL, 0, 9) == 0 && acq(t, &b, "b2", NULL, 0, 10) == -EDQUOT,
	     "caps: AUTO is 1/%d of the namespace cap (48 -> 3)", DL_USER_SHARE);
	lim.max_leases = 0;
	dl_table_set_limits(t, &lim);
	T_OK(acq(t, &b, "b2", NULL, 0, 10) == 0, "caps: AUTO without a namespace cap is no cap");
	T_OK(rel(t, &a, "d0", "flood", 0) == 0 && rel(t, &a2, "d1", "flood", 0) == 0 &&
	     rel(t, &root, "r1", "adm", 0) == 0, "caps: detached leases released");
	end_sessions(t, all, 4);
	T_OK(dl_table_check(t) == 0 && usage(t, 1000, 0) == 0 && usage(t, 1000, 2) == 0 &&
	     usage(t, 1001, 0) == 0 && usage(t, 1001, 1) == 0,
	     "caps: every count back to 0 once the sessions end");
	dl_table_destroy(t);
}

/* Namespace full but for one uid's share: another uid is not starved. */
static void test_no_starving(void)
{
	struct dl_table *t = mk(32, 32, DL_USER_AUTO, DL_USER_AUTO, DL_USER_AUTO, 0);
	struct dl_session *ss[9], *sb = dl_session_create(t, 100);
	struct who b = { sb, 1001, false };
	char name[16];
	int i, k, n = 0, quota = 0;

	for (k = 0; k < 8; k++) {
		struct who a = { .uid = 1000 };

		ss[k] = a.s = dl_session_create(t, k + 1);
		for (i = 0; i < 8; i++) {
			int rc;

			snprintf(name, sizeof(name), "f%d.%d", k, i);
			rc = acq(t, &a, name, i & 1 ? "x" : NULL, 0, i + 1);
			n += rc == 0;
			quota += rc == -EDQUOT;
		}
	}
	T_OK(n == 2 && quota == 62, "starving: 64 tries from 8 sockets get the uid's share of 2 (%d)", n);
	T_OK(acq(t, &b, "mine", NULL, 0, 1) == 0, "starving: the other uid acquires");
	ss[8] = sb;
	end_sessions(t, ss, 9);
	dl_table_destroy(t);
}

/* More uids than slots share the overflow; slots are reused when free. */
static void test_slots(void)
{
	struct dl_table *t = mk(0, 0, 3, 0, 0, 3);
	struct dl_session *s = dl_session_create(t, 1);
	struct who w = { s, 0, false };
	int ok = 1, quota = 0;
	u32 uid;

	for (uid = 1; uid <= 3; uid++) {
		w.uid = uid;
		ok &= acq(t, &w, "n", NULL, DL_MODE_EXCLUSIVE, uid) == 0 ||
		      uid > 1;
	}
	/* uids 1 and 2 hold the two slots (2 waits on "n"), 3 shares. */
	T_OK(ok && usage(t, 1, 0) == 1 && usage(t, 2, 1) == 1, "slots: two uids bound");
	for (uid = 4; uid <= 8; uid++) {
		char name[8];

		w.uid = uid;
		snprintf(name, sizeof(name), "o%u", uid);
		quota += acq(t, &w, name, NULL, DL_ACQ_TRY, 100 + uid) == -EDQUOT;
	}
	/* uid 3 waits in the overflow slot: 3 leases of 5 fit its cap. */
	T_OK(quota == 2, "slots: uids beyond the slots share one set of counts (%d refused)", quota);
	end_sessions(t, &s, 1);
	s = dl_session_create(t, 2);
	w.s = s;
	w.uid = 77;
	T_OK(acq(t, &w, "again", NULL, DL_ACQ_TRY, 1) == 0 && usage(t, 77, 0) == 1,
	     "slots: a free slot is rebound to a new uid");
	end_sessions(t, &s, 1);
	dl_table_destroy(t);
	T_OK(live_total() == 0, "slots: nothing left after destroy");
}

/* ---- threads: the lock-free slot binding ------------------------------ */

#define TH 4
#define TH_ITERS 4000

/* The fixture's glue counts without atomics: these ops are for threads. */
static long mt_objs;
static u64 mt_tokens;

static void *mt_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)priv;
	(void)kind;
	__atomic_add_fetch(&mt_objs, 1, __ATOMIC_RELAXED);
	return malloc(size);
}

static void mt_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)priv;
	(void)kind;
	(void)size;
	__atomic_sub_fetch(&mt_objs, 1, __ATOMIC_RELAXED);
	free(p);
}

static u64 mt_token(struct dl_cmd *cx)
{
	(void)cx;
	return __atomic_add_fetch(&mt_tokens, 1, __ATOMIC_RELAXED);
}

static void mt_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	(void)cx;
	(void)shard;
	(void)deadline;
}

static void mt_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	(void)wd;
}

static void mt_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx;
	(void)ls;
}

static void mt_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx;
	(void)ev;
}

static const struct dl_table_ops mt_ops = {
	.alloc = mt_alloc, .free = mt_free, .next_token = mt_token,
	.set_timer = mt_timer, .wait_done = mt_wait_done, .lost = mt_lost,
	.event = mt_event,
};

static struct dl_table *mt;
static pthread_mutex_t mt_shard[4];
static pthread_mutex_t mt_global = PTHREAD_MUTEX_INITIALIZER;

static void *mt_run(void *arg)
{
	long id = (long)arg;
	struct dl_session *s;
	int i;

	pthread_mutex_lock(&mt_global);
	s = dl_session_create(mt, id + 1);
	pthread_mutex_unlock(&mt_global);
	for (i = 0; i < TH_ITERS; i++) {
		u32 uid = 1000 + (u32)((i * 7 + id) % 6);
		char name[16];
		struct dl_acquire_res res;
		struct dl_acquire_req rq = {
			.name = name, .mode = DL_MODE_EXCLUSIVE,
			.flags = DL_ACQ_TRY, .ttl_ms = 1000, .sess = s,
			.tag = 1, .uid = uid,
		};
		struct dl_owner_ref o = { .sess = s, .tag = 1, .uid = uid };
		struct dl_cmd cx = { .now = now };
		u32 sh;

		rq.name_len = snprintf(name, sizeof(name), "m%ld.%d", id, i % 16);
		sh = dl_shard_of(mt, name, rq.name_len);
		pthread_mutex_lock(&mt_shard[sh]);
		if (dl_acquire(mt, &cx, &rq, &res) == 0)
			dl_release(mt, &cx, name, rq.name_len, &o, NULL);
		pthread_mutex_unlock(&mt_shard[sh]);
	}
	pthread_mutex_lock(&mt_global);
	for (i = 0; i < 4; i++) {
		struct dl_cmd cx = { .now = now, .global = true };

		pthread_mutex_lock(&mt_shard[i]);
		dl_session_end(mt, &cx, s, i);
		pthread_mutex_unlock(&mt_shard[i]);
	}
	dl_session_destroy(mt, s);
	pthread_mutex_unlock(&mt_global);
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[TH];
	long i, left = 0;
	u32 uid;

	struct dl_table_config cfg = {
		.nr_shards = 4, .meta_size = 8, .max_user_leases = 2,
		.max_user_waiters = 2, .user_slots = 5, .hash_seed = 3,
	};

	mt = dl_table_create(&cfg, &mt_ops, NULL);
	for (i = 0; i < 4; i++)
		pthread_mutex_init(&mt_shard[i], NULL);
	for (i = 0; i < TH; i++)
		pthread_create(&th[i], NULL, mt_run, (void *)i);
	for (i = 0; i < TH; i++)
		pthread_join(th[i], NULL);
	for (uid = 1000; uid < 1006; uid++)
		left += usage(mt, uid, 0) + usage(mt, uid, 1);
	T_OK(left == 0 && dl_table_check(mt) == 0,
	     "threads: 6 uids on 4 slots from %d threads: counts back to 0", TH);
	dl_table_destroy(mt);
	T_OK(__atomic_load_n(&mt_objs, __ATOMIC_RELAXED) == 0,
	     "threads: nothing left after destroy");
}

static const struct fx_case cases[] = {
	{ "owner_uid", test_owner_uid },
	{ "caps", test_caps },
	{ "no_starving", test_no_starving },
	{ "slots", test_slots },
	{ "threads", test_threads },
};

FX_MAIN(cases)
