// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table (kmod/table.c): modes, TTLs, sessions,
 * detached owners, reentrancy, break, values, tokens, cluster expiry.
 * On the shared fake glue (table_fixture.h); each case runs alone by name.
 */
#include "table_fixture.h"

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
	const struct rec *r;

	memset(big, 'v', sizeof(big));
	try_lock(t, s, 1, "leader", DL_MODE_EXCLUSIVE, NULL);
	log_reset();
	T_OK(dl_set_value(t, &cx, "leader", 6, &o1, "10.0.0.1:80", 11) == 0 &&
	       holder_info(t, "leader", 1, 1, &ei) && ei.value_len == 11 &&
	       !memcmp(ei.value, "10.0.0.1:80", 11), "value: holder sets, anyone reads");
	/* Observers (leader election) learn of a value only by this event. */
	r = log_find('E', DL_EV_VALUE, "leader");
	T_OK(log_count('E', DL_EV_VALUE) == 1 && r && r->token == ei.token &&
	       r->sess == 1 && r->tag == 1, "value: set emits one value event");
	T_OK(dl_set_value(t, &cx, "leader", 6, &o2, "x", 1) == -EPERM,
	       "value: non-holder -> -EPERM");
	T_OK(dl_set_value(t, &cx, "leader", 6, &o1, big, DL_VALUE_MAX) == 0 &&
	       dl_set_value(t, &cx, "leader", 6, &o1, big, DL_VALUE_MAX + 1) == -E2BIG,
	       "value: 1 KiB accepted, 1 KiB + 1 -> -E2BIG");
	T_OK(log_count('E', DL_EV_VALUE) == 2,
	       "value: a refused set emits no event");
	T_OK(holder_info(t, "leader", 1, 1, &ei) && ei.value_len == DL_VALUE_MAX,
	       "value: failed set leaves the old value");
	unlock(t, s, 1, "leader");
	T_OK(live_objs[DL_OBJ_VALUE] == 0, "value: freed with the lease");
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

static const struct fx_case cases[] = {
	{ "names", test_names },
	{ "exclusive_shared", test_exclusive_shared },
	{ "semaphore", test_semaphore },
	{ "ttl", test_ttl },
	{ "session_bound", test_session_bound },
	{ "detached", test_detached },
	{ "reentrancy", test_reentrancy },
	{ "break", test_break },
	{ "value", test_value },
	{ "tokens", test_tokens },
	{ "explicit_expire", test_explicit_expire },
	{ "misc", test_misc },
};

FX_MAIN(cases)
