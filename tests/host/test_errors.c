// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table's reasons (issue 11): every refusal a user
 * can meet comes back with the errno and a static reason in cx->why that
 * names its real cause, set where the failure arises, so that one errno's
 * causes are told apart (an upgrade is not a deadlock cycle, a socket cap
 * is not a user cap).  The module hands the reason to extack as it is;
 * tests/selftests/errors_test.c checks what a user reads over netlink.
 *
 * It includes table_int.h to reach a holder's reentrancy count: 2^32
 * acquires would take minutes.  Prints TAP; `make check-table` runs it
 * plain and under ASan/UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_int.h"
#include "tap.h"

static const char *prefix = "errors: ";
#define T_OK(c, fmt, ...) tap_ok(!!(c), "%s" fmt, prefix, ##__VA_ARGS__)

static u64 token_counter = 100;

static void *e_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)priv;
	(void)kind;
	return malloc(size);
}

static void e_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)priv;
	(void)kind;
	(void)size;
	free(p);
}

static u64 e_token(struct dl_cmd *cx)
{
	(void)cx;
	return ++token_counter;
}

static void e_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	(void)cx;
	(void)shard;
	(void)deadline;
}

static void e_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	(void)wd;
}

static void e_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx;
	(void)ls;
}

static void e_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx;
	(void)ev;
}

static const struct dl_table_ops ops = {
	.alloc = e_alloc, .free = e_free, .next_token = e_token,
	.set_timer = e_timer, .wait_done = e_wait_done, .lost = e_lost,
	.event = e_event,
};

static const u64 now = 1000000000ULL;
static const char *why;	/* cx->why of the last command */

/* Runs a command as the glue does, and keeps its reason. */
#define RUN(call) ({							\
	struct dl_cmd cx = { .now = now };				\
	int rc_ = call;							\
	if (rc_ == DL_NEED_GLOBAL) {					\
		cx.global = true;					\
		rc_ = call;						\
	}								\
	why = cx.why;							\
	rc_;								\
})

/* The command failed with @err, and says @msg. */
static void refused(int rc, int err, const char *msg, const char *what)
{
	T_OK(rc == err && why && !strcmp(why, msg), "%s: %d \"%s\"", what,
	     rc, why ? why : "(no reason)");
}

static struct dl_acquire_req req(struct dl_session *s, const char *name,
				 enum dl_mode mode, u64 tag)
{
	struct dl_acquire_req rq = {
		.name = name, .name_len = strlen(name), .mode = mode,
		.ttl_ms = 10000, .sess = s, .tag = tag, .cookie = tag,
		.uid = 1000,
	};

	return rq;
}

static int acq_rq(struct dl_table *t, const struct dl_acquire_req *rq)
{
	struct dl_acquire_res res;

	return RUN(dl_acquire(t, &cx, rq, &res));
}

static int acq(struct dl_table *t, struct dl_session *s, const char *name,
	       enum dl_mode mode, u64 tag, u32 flags)
{
	struct dl_acquire_req rq = req(s, name, mode, tag);

	rq.flags = flags;
	return acq_rq(t, &rq);
}

static int acq_detached(struct dl_table *t, struct dl_session *s,
			const char *name, const char *owner, u32 uid)
{
	struct dl_acquire_req rq = req(s, name, DL_MODE_EXCLUSIVE, 0);

	rq.flags = DL_ACQ_DETACHED;
	rq.owner = owner;
	rq.owner_len = strlen(owner);
	rq.uid = uid;
	return acq_rq(t, &rq);
}

static struct dl_owner_ref sref(struct dl_session *s, u64 tag)
{
	struct dl_owner_ref o = { .sess = s, .tag = tag, .uid = 1000 };

	return o;
}

static int rel(struct dl_table *t, const struct dl_owner_ref *o,
	       const char *name)
{
	return RUN(dl_release(t, &cx, name, strlen(name), o, NULL));
}

static struct dl_table *mk(void)
{
	struct dl_table_config cfg = {
		.nr_shards = 4, .meta_size = 8, .hash_seed = 5,
	};

	return dl_table_create(&cfg, &ops, NULL);
}

static void set_caps(struct dl_table *t, u32 leases, u32 waiters,
		     u32 sess_leases, u32 sess_waiters, u32 ul, u32 uw, u32 uv)
{
	struct dl_table_limits lim;

	dl_table_get_limits(t, &lim);
	lim.max_leases = leases;
	lim.max_waiters = waiters;
	lim.max_session_leases = sess_leases;
	lim.max_session_waiters = sess_waiters;
	lim.max_user_leases = ul;
	lim.max_user_waiters = uw;
	lim.max_user_value_bytes = uv;
	dl_table_set_limits(t, &lim);
}

static void end_session(struct dl_table *t, struct dl_session *s)
{
	struct dl_cmd cx = { .now = now, .global = true };
	u32 i;

	for (i = 0; i < dl_nr_shards(t); i++)
		dl_session_end(t, &cx, s, i);
	dl_session_destroy(t, s);
}

/* Requests the core refuses however the lock table stands. */
static void test_bad_requests(void)
{
	struct dl_table *t = mk();
	struct dl_session *s = dl_session_create(t, 1);
	struct dl_acquire_req rq;
	struct dl_owner_ref o;

	rq = req(s, "", DL_MODE_EXCLUSIVE, 1);
	refused(acq_rq(t, &rq), -EINVAL, DL_WHY_NAME, "empty name");
	rq = req(s, "a\0b", DL_MODE_EXCLUSIVE, 1);
	rq.name_len = 3;
	refused(acq_rq(t, &rq), -EINVAL, DL_WHY_NAME, "name with a NUL");
	refused(acq(t, s, "n", DL_MODE_EXCLUSIVE, 1, 0x80), -EINVAL,
		"unknown acquire flags", "unknown flag");
	refused(acq(t, s, "n", (enum dl_mode)7, 1, 0), -EINVAL,
		"unknown lock mode", "unknown mode");
	rq = req(s, "n", DL_MODE_SEMAPHORE, 1);
	refused(acq_rq(t, &rq), -EINVAL,
		"a semaphore needs its number of permits", "semaphore, no permits");
	rq = req(s, "n", DL_MODE_SHARED, 1);
	rq.permits = 2;
	refused(acq_rq(t, &rq), -EINVAL, "permits apply to semaphores only",
		"permits on a shared lock");
	rq = req(s, "n", DL_MODE_EXCLUSIVE, 1);
	rq.ttl_ms = 0;
	refused(acq_rq(t, &rq), -EINVAL,
		"a TTL is required (or the no-TTL flag)", "no TTL");
	rq.flags = DL_ACQ_DETACHED | DL_ACQ_NO_TTL;
	rq.owner = "own";
	rq.owner_len = 3;
	refused(acq_rq(t, &rq), -EINVAL, "a detached lease needs a TTL",
		"detached without TTL");
	rq = req(s, "n", DL_MODE_EXCLUSIVE, 1);
	rq.flags = DL_ACQ_DETACHED;
	rq.owner = "o";
	rq.owner_len = 0;
	refused(acq_rq(t, &rq), -EINVAL, DL_WHY_OWNER, "detached, empty owner");
	rq.owner_len = DL_OWNER_MAX + 1;
	rq.owner = "0123456789012345678901234567890123456789012345678901234567890123456789";
	refused(acq_rq(t, &rq), -EINVAL, DL_WHY_OWNER, "detached, owner too long");
	o = sref(NULL, 0);
	refused(rel(t, &o, "n"), -EINVAL, DL_WHY_OWNER, "release by no owner");
	o = sref(s, 1);
	refused(rel(t, &o, ""), -EINVAL, DL_WHY_NAME, "release of an empty name");
	refused(RUN(dl_break(t, &cx, "", 0, 0)), -EINVAL, DL_WHY_NAME,
		"break of an empty name");
	refused(RUN(dl_cancel(t, &cx, "", 0, s, 1)), -EINVAL, DL_WHY_NAME,
		"cancel of an empty name");
	end_session(t, s);
	dl_table_destroy(t);
}

/* A lock's kind, modes, the wait-for graph and the reentrancy count. */
static void test_lock_state(void)
{
	struct dl_table *t = mk();
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *c = dl_session_create(t, 3);
	struct dl_acquire_req rq;
	const struct dl_lock *l;

	T_OK(acq(t, a, "x", DL_MODE_EXCLUSIVE, 1, 0) == 0 &&
	     acq(t, b, "y", DL_MODE_EXCLUSIVE, 1, 0) == 0 &&
	     acq(t, a, "y", DL_MODE_EXCLUSIVE, 1, 0) == DL_QUEUED,
	     "a holds x and waits for y, which b holds");
	refused(acq(t, b, "x", DL_MODE_EXCLUSIVE, 1, 0), -EDEADLK,
		"waiting would deadlock: the lock is held by an owner waiting for one this owner holds",
		"a wait that closes a cycle");
	refused(acq(t, a, "y", DL_MODE_EXCLUSIVE, 1, 0), -EALREADY,
		"owner is already waiting for this lock", "waiting twice");
	refused(acq(t, b, "x", DL_MODE_EXCLUSIVE, 2, DL_ACQ_TRY), -EAGAIN,
		"lock is held", "try on a held lock");

	T_OK(acq(t, c, "sh", DL_MODE_SHARED, 1, 0) == 0 &&
	     acq(t, a, "sh", DL_MODE_EXCLUSIVE, 5, 0) == DL_QUEUED,
	     "c reads sh, a waits to write it");
	refused(acq(t, b, "sh", DL_MODE_SHARED, 6, DL_ACQ_TRY), -EAGAIN,
		"requests are queued ahead of this one",
		"try to share a lock a writer waits for");
	refused(acq(t, c, "sh", DL_MODE_EXCLUSIVE, 1, 0), -EDEADLK,
		"this owner holds the lock in another mode: release it to change mode",
		"upgrade in place");

	T_OK(acq(t, a, "rw", DL_MODE_EXCLUSIVE, 1, 0) == 0, "rw is a lock");
	rq = req(b, "rw", DL_MODE_SEMAPHORE, 1);
	rq.permits = 3;
	refused(acq_rq(t, &rq), -EINVAL,
		"the lock is a readers-writer lock, not a semaphore",
		"semaphore request on a readers-writer lock");
	T_OK(acq_rq(t, &(struct dl_acquire_req){ .name = "sem", .name_len = 3,
		.mode = DL_MODE_SEMAPHORE, .permits = 3, .ttl_ms = 1000,
		.sess = a, .tag = 1, .uid = 1000 }) == 0, "sem is a semaphore");
	refused(acq(t, b, "sem", DL_MODE_EXCLUSIVE, 1, 0), -EINVAL,
		"the lock is a semaphore: give its number of permits",
		"exclusive request on a semaphore");
	rq = req(b, "sem", DL_MODE_SEMAPHORE, 1);
	rq.permits = 4;
	refused(acq_rq(t, &rq), -EINVAL, "permits differ from the semaphore's",
		"semaphore request with other permits");

	l = dl_lookup(t, "rw", 2);
	((struct dl_entry *)dl_holder_next(l, NULL))->count = DL_U32_MAX;
	refused(acq(t, a, "rw", DL_MODE_EXCLUSIVE, 1, 0), -EOVERFLOW,
		"reentrancy count overflow", "reentrancy at its maximum");
	((struct dl_entry *)dl_holder_next(l, NULL))->count = 1;

	end_session(t, b);
	end_session(t, c);
	{
		struct dl_cmd cx = { .now = now, .global = true };

		dl_session_end(t, &cx, a, 0);	/* marks it dying */
	}
	refused(acq(t, a, "late", DL_MODE_EXCLUSIVE, 1, 0), -ENOTCONN,
		"socket is closing", "acquire from an ending session");
	end_session(t, a);
	dl_table_destroy(t);
}

/* Namespace, socket and user caps each say which one was hit. */
static void test_caps(void)
{
	struct dl_table *t = mk();
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *c = dl_session_create(t, 3);
	struct dl_owner_ref o = sref(a, 1);
	static char val[DL_VALUE_MAX + 1];

	/* uid 1000 has 3 leases (a: 2, b: 1) and one wait (b) then. */
	T_OK(acq(t, a, "c1", DL_MODE_EXCLUSIVE, 1, 0) == 0 &&
	     acq(t, a, "c5", DL_MODE_EXCLUSIVE, 1, 0) == 0 &&
	     acq(t, b, "c2", DL_MODE_EXCLUSIVE, 1, 0) == 0 &&
	     acq(t, b, "c1", DL_MODE_EXCLUSIVE, 1, 0) == DL_QUEUED,
	     "three leases and a waiter");
	set_caps(t, 3, 0, 0, 0, 0, 0, 0);
	refused(acq(t, c, "c3", DL_MODE_EXCLUSIVE, 1, 0), -ENOSPC,
		"namespace limit of leases reached", "namespace lease cap");
	set_caps(t, 0, 1, 0, 0, 0, 0, 0);
	refused(acq(t, c, "c1", DL_MODE_EXCLUSIVE, 1, 0), -ENOSPC,
		"namespace limit of waiters reached", "namespace waiter cap");
	set_caps(t, 0, 0, 2, 0, 0, 0, 0);
	refused(acq(t, a, "c3", DL_MODE_EXCLUSIVE, 1, 0), -EDQUOT,
		"socket limit of leases reached", "socket lease cap");
	set_caps(t, 0, 0, 0, 1, 0, 0, 0);
	refused(acq(t, b, "c5", DL_MODE_EXCLUSIVE, 1, 0), -EDQUOT,
		"socket limit of waiters reached", "socket waiter cap");
	set_caps(t, 0, 0, 0, 0, 3, 0, 0);
	refused(acq(t, c, "c4", DL_MODE_EXCLUSIVE, 1, 0), -EDQUOT,
		"user limit of leases reached", "user lease cap");
	set_caps(t, 0, 0, 0, 0, 0, 1, 0);
	refused(acq(t, c, "c1", DL_MODE_EXCLUSIVE, 1, 0), -EDQUOT,
		"user limit of waiters reached", "user waiter cap");
	set_caps(t, 0, 0, 0, 0, 0, 0, 8);
	refused(RUN(dl_set_value(t, &cx, "c1", 2, &o, val, 9)), -EDQUOT,
		"user limit of value bytes reached", "user value-byte cap");
	refused(RUN(dl_set_value(t, &cx, "c1", 2, &o, val, DL_VALUE_MAX + 1)),
		-E2BIG, "value is longer than 1024 bytes", "value too long");
	end_session(t, a);
	end_session(t, b);
	end_session(t, c);
	dl_table_destroy(t);
}

/* Naming a lock, a lease or a request that is not there. */
static void test_missing(void)
{
	struct dl_table *t = mk();
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_owner_ref o = sref(a, 1), ob = sref(b, 1);
	struct dl_owner_ref od = { .str = "cron", .len = 4, .uid = 1001 };

	refused(rel(t, &o, "none"), -ENOENT, "no such lock", "release, no lock");
	refused(RUN(dl_renew(t, &cx, "none", 4, &o, 100)), -ENOENT,
		"no such lock", "renew, no lock");
	refused(RUN(dl_break(t, &cx, "none", 4, 0)), -ENOENT, "no such lock",
		"break, no lock");
	refused(RUN(dl_cancel(t, &cx, "none", 4, a, 1)), -ENOENT,
		"no such lock", "cancel, no lock");
	T_OK(acq(t, a, "m", DL_MODE_EXCLUSIVE, 1, 0) == 0, "a holds m");
	refused(rel(t, &ob, "m"), -EPERM, "lock is not held by this owner",
		"release by another socket");
	refused(RUN(dl_renew(t, &cx, "m", 1, &o, 0)), -EINVAL,
		"a renewal needs a TTL above zero", "renew with TTL 0");
	refused(RUN(dl_break(t, &cx, "m", 1, 99999)), -ENOENT,
		"lock has no holder with this token", "break, wrong token");
	refused(RUN(dl_cancel(t, &cx, "m", 1, a, 1)), -ENOENT,
		"no request is queued on this lock", "cancel, nothing queued");
	T_OK(acq(t, b, "m", DL_MODE_EXCLUSIVE, 7, 0) == DL_QUEUED, "b waits");
	refused(RUN(dl_cancel(t, &cx, "m", 1, b, 8)), -ENOENT,
		DL_WHY_NO_REQUEST, "cancel, wrong cookie");
	refused(RUN(dl_cancel(t, &cx, "m", 1, a, 7)), -ENOENT,
		DL_WHY_NO_REQUEST, "cancel of another socket's request");

	T_OK(acq_detached(t, a, "d", "cron", 1000) == 0, "uid 1000 holds d as cron");
	refused(RUN(dl_release(t, &cx, "d", 1, &od, NULL)), -EPERM,
		"lease belongs to another user", "release as cron by uid 1001");
	refused(acq_detached(t, b, "d", "cron", 1001), -EPERM,
		"lease belongs to another user", "re-acquire as cron by uid 1001");
	T_OK(acq_detached(t, a, "d", "job", 1000) == DL_QUEUED,
	     "job of uid 1000 waits for d");
	refused(acq_detached(t, b, "d", "job", 1001), -EPERM,
		"owner waits on this lock as another user",
		"wait as job by uid 1001");
	od.str = "other";
	od.len = 5;
	refused(RUN(dl_release(t, &cx, "d", 1, &od, NULL)), -EPERM,
		"lock is not held by this owner", "release as an owner not holding");
	end_session(t, a);
	end_session(t, b);
	{
		struct dl_owner_ref root = { .str = "cron", .len = 4,
					     .privileged = true };

		T_OK(rel(t, &root, "d") == 0, "detached lease released");
	}
	dl_table_destroy(t);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--san"))
		prefix = "errors asan: ";
	test_bad_requests();
	test_lock_state();
	test_caps();
	test_missing();
	return tap_done();
}
