/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock lock table: the policy core of the lease table.
 *
 * A deterministic state machine.  Every command takes the current monotonic
 * time in nanoseconds (struct dl_cmd.now) and never reads a clock, arms a
 * timer, sends a message or takes a lock itself: it asks the caller through
 * struct dl_table_ops.  The same file runs in the kernel module, in the host
 * tests and in the cluster simulator, where every replica applies the same
 * commands in log order and must reach the same state.
 *
 * Locking contract (see docs/architecture.md, "Lock table"):
 *  - The table is split into dl_table_config.nr_shards shards by name hash.
 *    Every command on a name runs with the lock of that name's shard held
 *    (dl_shard_of() says which).  Commands on different shards run in
 *    parallel.
 *  - There is one "global" lock, the wait-graph lock, taken BEFORE a shard
 *    lock.  A command that would touch the wait-for graph (queue a waiter,
 *    remove one, grant one, change the holders of a lock that has waiters)
 *    and was called with cx->global == false returns DL_NEED_GLOBAL having
 *    changed nothing; the caller drops the shard lock, takes the global lock,
 *    takes the shard lock again and repeats the same command with
 *    cx->global = true.  Uncontended acquire, release, renew, set-value and
 *    inspection never need it.
 *  - dl_session_end() must be called with the global lock held, once per
 *    shard the session touched (dl_session_touched()), with that shard's
 *    lock held.
 */
#ifndef DLOCK_TABLE_H
#define DLOCK_TABLE_H

#include "compat.h"

/* Limits of the wire-visible values. */
#define DL_NAME_MAX		255	/* bytes in a lock name, no NUL */
#define DL_OWNER_MAX		64	/* bytes in a detached owner string */
#define DL_VALUE_MAX		1024	/* bytes in a lease's value */
#define DL_MAX_SHARDS		4096
#define DL_DEFAULT_MAX_TTL_MS	(3600U * 1000U)
#define DL_DEFAULT_DEADLK_DEPTH	32
#define DL_DEFAULT_DEADLK_BUDGET 16384	/* steps: list and index entries */

/*
 * Per-uid caps (table_uid.c).  0 means no cap, like every cap here, and
 * DL_USER_AUTO takes 1/DL_USER_SHARE of the namespace cap in force at each
 * admission, so that it follows an administrator who lowers that (values:
 * DL_USER_VALUE_PER_LEASE bytes per lease of the lease share, at least
 * DL_USER_VALUE_MIN; none if the namespace has no lease cap).
 */
#define DL_USER_AUTO		0xffffffffU
#define DL_USER_SHARE		16
#define DL_USER_VALUE_PER_LEASE	64U
#define DL_USER_VALUE_MIN	(64U * 1024U)
/* uid slots: 99 for uids, 1 shared overflow; 4000 bytes, one 4 KiB block. */
#define DL_DEFAULT_USER_SLOTS	100
#define DL_UID_SHARED		0xffffffffU	/* the overflow slot's uid */

/* Positive returns: not errors, the caller has more to do. */
#define DL_QUEUED	1	/* acquire joined the wait queue */
#define DL_NEED_GLOBAL	2	/* retry with the global lock held */
#define DL_MORE		3	/* dl_run_timers() stopped at its budget */

enum dl_mode {
	DL_MODE_EXCLUSIVE = 0,
	DL_MODE_SHARED = 1,
	DL_MODE_SEMAPHORE = 2,	/* dl_acquire_req.permits permits */
};

/* dl_acquire_req.flags */
#define DL_ACQ_TRY	0x1	/* fail with -EAGAIN instead of queueing */
#define DL_ACQ_DETACHED	0x2	/* owner is dl_acquire_req.owner, needs a TTL */
#define DL_ACQ_NO_TTL	0x4	/* socket-bound only: lives as long as the session */
#define DL_ACQ_FLAGS	(DL_ACQ_TRY | DL_ACQ_DETACHED | DL_ACQ_NO_TTL)

enum dl_event_type {
	DL_EV_GRANTED = 1,
	DL_EV_RELEASED,
	DL_EV_EXPIRED,
	DL_EV_OWNER_DIED,
	DL_EV_BROKEN,
	DL_EV_VALUE,		/* the holder set its value; the lease goes on */
};

/* Why a holder lost its lease (dl_lost.reason). */
enum dl_lost_reason {
	DL_LOST_EXPIRED = 1,
	DL_LOST_BROKEN,
	DL_LOST_IN_DOUBT,	/* cluster: the holder's node lost its session */
};

/* What the glue is asked to allocate; lets it pick a kmem_cache per kind. */
enum dl_obj {
	DL_OBJ_TABLE,
	DL_OBJ_SHARDS,
	DL_OBJ_BUCKETS,		/* per-shard hash bucket array, may be large */
	DL_OBJ_HEAP,		/* per-shard deadline heap array, may be large */
	DL_OBJ_LOCK,		/* one per lock name, size depends on the name */
	DL_OBJ_ENTRY,		/* one per holder or waiter */
	DL_OBJ_VALUE,
	DL_OBJ_SESSION,
	DL_OBJ_INDEX,		/* owner index bucket arrays, may be large */
	DL_OBJ_WALK,		/* deadlock walk stack, fixed at table creation */
	DL_OBJ_OWNER,		/* one per owner that waits, with its string */
	DL_OBJ_WNODE,		/* one per waiter: its place in the owner index */
	DL_OBJ_USERS,		/* uid -> counters slots, fixed at table creation */
	DL_OBJ_NR,
};

struct dl_table;
struct dl_lock;
struct dl_entry;
struct dl_session;

/* Per-command context: the time and what the caller holds. */
struct dl_cmd {
	u64 now;		/* monotonic ns (cluster: the log entry's time) */
	/*
	 * Cluster mode: the log index of the command being applied.  Grants,
	 * renewals and queued waits record it as their stamp, which names
	 * them in EXPIRE and SESSION_END entries.  0 on a single node.
	 */
	u64 index;
	bool global;		/* the caller holds the global lock */
	void *priv;		/* passed back to the notification callbacks */
	/*
	 * Work done, added to by the command: list, chain and index entries
	 * looked at under a table lock.  Tests assert the bounds of
	 * docs/architecture.md ("Bounded work") with it.
	 */
	u32 steps;
	/*
	 * Why the command failed, a static string set where the failure
	 * arises (one errno has several causes); NULL on success and for
	 * -ENOMEM.  The module hands it to extack as it is.
	 */
	const char *why;
};

/* Who owns a holder or a waiter, as inspection and notifications show it. */
struct dl_owner_view {
	bool detached;
	u64 session_id;		/* socket-bound: the session; detached waiter: requester */
	u64 tag;		/* socket-bound only */
	const char *str;	/* detached only, not NUL-terminated */
	u8 len;
	u32 uid;		/* who asked for it (dl_acquire_req.uid) */
};

struct dl_event {
	enum dl_event_type type;
	const char *name;
	u8 name_len;
	enum dl_mode mode;
	u32 permits;
	struct dl_owner_view owner;
	u64 token;
};

/* A queued acquire finished: granted (err == 0) or failed (-ETIMEDOUT). */
struct dl_wait_done {
	struct dl_session *sess;	/* the session that sent the acquire */
	u64 cookie;			/* dl_acquire_req.cookie */
	const char *name;
	u8 name_len;
	int err;
	u64 token;
};

/* A socket-bound holder lost its lease without asking (expiry, break). */
struct dl_lost {
	struct dl_session *sess;
	u64 tag;
	const char *name;
	u8 name_len;
	u64 token;
	enum dl_lost_reason reason;
	u32 count;		/* reentrancy */
};

struct dl_table_ops {
	/* Memory.  alloc may fail (NULL); free gets the size alloc was given. */
	void *(*alloc)(void *priv, enum dl_obj kind, size_t size);
	void (*free)(void *priv, enum dl_obj kind, void *p, size_t size);
	/*
	 * The fencing token of a new grant.  Must be strictly greater than
	 * every token returned before by this table (single node: an atomic
	 * counter; cluster: derived from the log index).  Called with a shard
	 * lock held, possibly on several shards at once.
	 */
	u64 (*next_token)(struct dl_cmd *cx);
	/*
	 * The earliest deadline of @shard changed: (re)arm that shard's timer
	 * for @deadline ns, or cancel it if @deadline is 0.  When it fires,
	 * call dl_run_timers() for the shard.  A spurious call is harmless.
	 */
	void (*set_timer)(struct dl_cmd *cx, u32 shard, u64 deadline);
	void (*wait_done)(struct dl_cmd *cx, const struct dl_wait_done *wd);
	void (*lost)(struct dl_cmd *cx, const struct dl_lost *ls);
	void (*event)(struct dl_cmd *cx, const struct dl_event *ev);
	/* Optional keyed hash (kernel: siphash); NULL: a built-in seeded mix. */
	u64 (*hash)(void *priv, const char *name, u32 len);
};

struct dl_table_config {
	u32 nr_shards;		/* power of two, 1..DL_MAX_SHARDS */
	u32 meta_size;		/* glue bytes per holder/waiter (pid, uid, comm) */
	u32 max_ttl_ms;		/* TTLs above are capped; 0: 1 hour */
	u32 max_leases;		/* per table, -ENOSPC; 0: unlimited */
	u32 max_waiters;	/* per table, -ENOSPC; 0: unlimited */
	u32 max_session_leases;	/* per session, -EDQUOT; 0: unlimited */
	u32 max_session_waiters;	/* per session, -EDQUOT; 0: unlimited */
	u32 deadlk_depth;	/* wait-for walk depth; 0: default */
	u32 deadlk_budget;	/* steps per walk; 0: default */
	u32 index_bits;		/* owner index buckets at least (log2); 0: 6 */
	u64 hash_seed;
	/* Per uid (-EDQUOT); 0: unlimited; DL_USER_AUTO: a share. */
	u32 max_user_leases;
	u32 max_user_waiters;
	u32 max_user_value_bytes;
	u32 user_slots;		/* 2..65536; 0: DL_DEFAULT_USER_SLOTS */
	/*
	 * Cluster mode (table_cluster.c): every replica applies the same
	 * commands and must reach the same state, so entries carry a stamp
	 * (cx->index), a renewal never shortens a lease, and the deadlock
	 * walk's budget counts only what every replica counts alike.  The
	 * glue must also give no hash op and a cluster-wide hash_seed; uids
	 * that find no slot of their own are refused (the overflow's members
	 * depend on history: table_acquire.c).  Deadlines stay local: the
	 * leader turns due ones into replicated expiries.
	 */
	bool cluster;
};

struct dl_acquire_req {
	const char *name;
	u32 name_len;
	enum dl_mode mode;
	u32 permits;		/* DL_MODE_SEMAPHORE only, >= 1 */
	u32 flags;		/* DL_ACQ_* */
	u32 ttl_ms;		/* 0 only with DL_ACQ_NO_TTL */
	u32 wait_ms;		/* queued wait timeout; 0: wait forever */
	struct dl_session *sess;	/* requesting session, always set */
	u64 tag;		/* socket-bound owner tag */
	const char *owner;	/* DL_ACQ_DETACHED: owner string */
	u32 owner_len;
	u64 cookie;		/* echoed in dl_wait_done if queued */
	const void *meta;	/* cfg.meta_size bytes copied, may be NULL */
	/*
	 * The requester's uid (as the namespace's user namespace maps it) is
	 * lease state: a detached lease answers only to its owner string from
	 * the same uid.  @privileged (CAP_NET_ADMIN there) may act as any
	 * owner and is not held to the per-uid caps.
	 */
	u32 uid;
	bool privileged;
};

struct dl_acquire_res {
	u64 token;		/* granted: the fencing token */
	u32 count;		/* granted: the reentrancy count */
};

/* Identifies the owner presenting a release, renew or set-value. */
struct dl_owner_ref {
	struct dl_session *sess;	/* socket-bound: the owner's session */
	u64 tag;
	const char *str;		/* non-NULL: detached owner string */
	u32 len;
	u32 uid;			/* as in dl_acquire_req */
	bool privileged;
};

struct dl_lock_info {
	const char *name;
	u8 name_len;
	enum dl_mode mode;	/* of the current holders; RW locks */
	bool semaphore;
	u32 permits;
	u32 nr_holders;
	u32 nr_waiters;
};

struct dl_entry_info {
	bool waiter;
	struct dl_owner_view owner;
	enum dl_mode mode;
	u64 token;		/* holders */
	u64 cookie;		/* waiters */
	u32 count;		/* holders: reentrancy count */
	bool no_deadline;	/* holder without TTL, or waiter without timeout */
	u64 remaining_ns;	/* until expiry or wait timeout */
	const void *meta;	/* cfg.meta_size bytes */
	const void *value;	/* holders */
	u32 value_len;
	/* Cluster mode (else 0): what a snapshot of the entry needs too. */
	u64 stamp;		/* log index of the grant, renewal or wait */
	u32 hold_ms;		/* holders: the lease length last granted */
	u32 wait_ms;		/* waiters: the wait timeout */
	bool no_ttl;		/* the lease is (or will be) session-bound */
};

/* Resumable dump position; the glue keeps it between dump calls. */
struct dl_cursor {
	u32 shard;
	u32 hkey;
	bool started;		/* false: at the start of .shard */
	u8 len;
	char name[DL_NAME_MAX];
};

/* Table lifetime (no commands may run concurrently with these). */
struct dl_table *dl_table_create(const struct dl_table_config *cfg,
				 const struct dl_table_ops *ops, void *priv);
/* Frees everything without notifying anyone; the glue is going away. */
void dl_table_destroy(struct dl_table *t);

u32 dl_shard_of(const struct dl_table *t, const char *name, u32 len);
u32 dl_nr_shards(const struct dl_table *t);
int dl_name_valid(const char *name, u32 len);

/* Sessions: one per client socket (or per replicated client session). */
struct dl_session *dl_session_create(struct dl_table *t, u64 id);
u64 dl_session_id(const struct dl_session *s);
/*
 * Releases the session's socket-bound leases in @shard (DL_EV_OWNER_DIED,
 * next waiters granted) and cancels its waits there, without notifying the
 * session.  Needs the global lock and @shard's lock.
 */
int dl_session_end(struct dl_table *t, struct dl_cmd *cx,
		   struct dl_session *s, u32 shard);
/*
 * The same for at most @budget of the session's entries in @shard (0: all):
 * DL_MORE when some are left.  Between calls the glue may drop its locks
 * and send the notes so far: the session is already dying, so none of its
 * waits is granted meanwhile and nothing of it is lost.
 */
int dl_session_end_some(struct dl_table *t, struct dl_cmd *cx,
			struct dl_session *s, u32 shard, u32 budget);
/*
 * Whether the session ever had a lease or a wait in @shard; the others
 * need no dl_session_end().  Stable once the session sends no more
 * requests and the glue holds the global lock.
 */
bool dl_session_touched(const struct dl_session *s, u32 shard);
/* After dl_session_end() on every shard; -EBUSY if anything is left. */
int dl_session_destroy(struct dl_table *t, struct dl_session *s);
/* Frees @s as it is, right before dl_table_destroy() (cluster snapshots). */
void dl_session_free(struct dl_table *t, struct dl_session *s);

/*
 * Commands.  All return 0, a positive DL_* or a negative errno, and change
 * nothing when they fail.
 *
 * dl_acquire(): 0 granted (res filled; a reentrant acquire returns the same
 * token and count + 1), DL_QUEUED (dl_wait_done comes later), or
 *   -EINVAL     bad name, flags, mode, owner, TTL; another kind or permit
 *               count than the lock has while it exists
 *   -EDEADLK    closes a wait-for cycle, or the owner holds the name in
 *               another mode (an upgrade would wait on itself)
 *   -EAGAIN     contended and DL_ACQ_TRY
 *   -EALREADY   the owner already waits on this name
 *   -ENOSPC     table cap on leases or waiters (cfg.max_leases/_waiters)
 *   -EDQUOT     session cap on leases or waiters, or per-uid cap on them
 *   -EPERM      the detached owner holds or waits on the name under
 *               another uid (and the requester is not privileged)
 *   -EOVERFLOW  reentrancy count at its maximum
 *   -ENOTCONN   the session is being ended
 *   -ENOMEM     the glue's alloc failed
 * Release, renew and set-value: -ENOENT no holder, -EPERM not the owner or
 * a detached owner's lease of another uid (unless privileged); set-value:
 * -E2BIG above DL_VALUE_MAX, -EDQUOT the lease's uid would exceed its cap
 * on value bytes (unless privileged).  Every failure but -ENOMEM also sets
 * cx->why, which tells the causes of one errno apart.
 */
int dl_acquire(struct dl_table *t, struct dl_cmd *cx,
	       const struct dl_acquire_req *rq, struct dl_acquire_res *res);
/* Drops one reentrancy level; the lease ends at zero.  *count: what is left. */
int dl_release(struct dl_table *t, struct dl_cmd *cx, const char *name,
	       u32 len, const struct dl_owner_ref *o, u32 *count);
int dl_renew(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     const struct dl_owner_ref *o, u32 ttl_ms);
/* Cancels the queued acquire (@s, @cookie) on @name. */
int dl_cancel(struct dl_table *t, struct dl_cmd *cx, const char *name,
	      u32 len, const struct dl_session *s, u64 cookie);
/* Ends the lease with @token, or every lease of the lock if @token is 0. */
int dl_break(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     u64 token);
int dl_set_value(struct dl_table *t, struct dl_cmd *cx, const char *name,
		 u32 len, const struct dl_owner_ref *o, const void *val,
		 u32 val_len);
/* Expires the lease with @token if its deadline has passed (-EAGAIN if not). */
int dl_expire_lease(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, u64 token);
/* Times out the queued acquire (@s, @cookie) if its deadline has passed. */
int dl_expire_wait(struct dl_table *t, struct dl_cmd *cx, const char *name,
		   u32 len, const struct dl_session *s, u64 cookie);
/*
 * Applies every expiry of @shard due at cx->now, at most @budget of them
 * (0: no limit).  DL_MORE: call again.  DL_NEED_GLOBAL: call again with the
 * global lock; unlike the other commands it may already have applied the
 * expiries that did not need it.
 */
int dl_run_timers(struct dl_table *t, struct dl_cmd *cx, u32 shard,
		  u32 budget);
/* Earliest deadline in @shard, 0 if none. */
u64 dl_shard_next_deadline(const struct dl_table *t, u32 shard);
/*
 * The entry whose deadline is earliest in @shard if it is due at @now, else
 * NULL.  A cluster leader turns it into a replicated dl_expire_lease() or
 * dl_expire_wait() command instead of calling dl_run_timers().
 */
const struct dl_entry *dl_shard_first_due(const struct dl_table *t, u32 shard,
					  u64 now);

/* Inspection, under the name's shard lock. */
const struct dl_lock *dl_lookup(struct dl_table *t, const char *name, u32 len);
void dl_lock_info(const struct dl_lock *l, struct dl_lock_info *out);
const struct dl_entry *dl_holder_next(const struct dl_lock *l,
				      const struct dl_entry *prev);
const struct dl_entry *dl_waiter_next(const struct dl_lock *l,
				      const struct dl_entry *prev);
void dl_entry_info(const struct dl_table *t, const struct dl_entry *e, u64 now,
		   struct dl_entry_info *out);
const struct dl_lock *dl_entry_lock(const struct dl_entry *e);

/*
 * Paged dump.  dl_cursor_init(), then under the lock of cursor->shard call
 * dl_dump_next() until it returns NULL, then dl_cursor_next_shard() and
 * repeat while it returns true.  Every lock present for the whole dump is
 * returned exactly once, whatever changes or resizes happen in between;
 * compare dl_table_generation() across calls to detect changes.
 */
void dl_cursor_init(struct dl_cursor *c);
const struct dl_lock *dl_dump_next(struct dl_table *t, struct dl_cursor *c);
bool dl_cursor_next_shard(const struct dl_table *t, struct dl_cursor *c);
u64 dl_table_generation(const struct dl_table *t);

/*
 * The caps of struct dl_table_config that may change while the table runs
 * (same meaning, same 0 rules).  Set them under no lock or any lock: each
 * admission reads each cap once.
 */
struct dl_table_limits {
	u32 max_ttl_ms;
	u32 max_leases;
	u32 max_waiters;
	u32 max_session_leases;
	u32 max_session_waiters;
	u32 max_user_leases;		/* 0: none; DL_USER_AUTO: a share */
	u32 max_user_waiters;
	u32 max_user_value_bytes;
};
void dl_table_set_limits(struct dl_table *t, const struct dl_table_limits *lim);
void dl_table_get_limits(const struct dl_table *t, struct dl_table_limits *lim);

struct dl_table_stats {
	long leases;
	long waiters;
	long locks;
	u64 deadlk_truncated;	/* walks that hit the depth/budget limit */
};
void dl_table_stats(const struct dl_table *t, struct dl_table_stats *st);
long dl_session_leases(const struct dl_session *s);
long dl_session_waiters(const struct dl_session *s);
/* The per-uid caps in force now (0: none), from the limits and their shares. */
void dl_table_user_caps(const struct dl_table *t, u32 *leases, u32 *waiters,
			u32 *value_bytes);
/* What @uid has charged now: leases, waiters, value bytes (tests, status). */
void dl_table_user_usage(const struct dl_table *t, u32 uid, long *leases,
			 long *waiters, long *value_bytes);

/* Self-check of internal invariants for tests; 0 or a negative line number. */
int dl_table_check(struct dl_table *t);

/*
 * Cluster mode (table_cluster.c).  Expiry is decided by the leader and
 * applied by every replica from the log: an entry is named with the stamp
 * it had when its deadline passed, and the command is a no-op (-ESTALE)
 * if it was renewed since.  All need the global lock.
 */
int dl_expire_stamp(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, u64 token, u64 stamp);
int dl_expire_wait_stamp(struct dl_table *t, struct dl_cmd *cx,
			 const char *name, u32 len, const struct dl_session *s,
			 u64 cookie, u64 stamp);
/*
 * Ends the session's leases and waits in @shard whose stamp is at most
 * @cutoff (a node that went silent: what it renewed later stays), or is
 * @now (granted by the very entry that ends them), without marking it
 * dying.  Returns the number of entries ended.
 */
int dl_session_end_upto(struct dl_table *t, struct dl_cmd *cx,
			struct dl_session *s, u32 shard, u64 cutoff, u64 now);
/*
 * Calls @fn with each lease @s holds, as a dl_lost of @reason; changes
 * nothing (a node telling its clients their leases are in doubt).
 */
void dl_session_each_lease(const struct dl_table *t, struct dl_session *s,
			   enum dl_lost_reason reason,
			   void (*fn)(void *arg, const struct dl_lost *ls),
			   void *arg);
/* Every countdown restarts: deadline now + hold (waits: + their timeout). */
void dl_table_restart(struct dl_table *t, u64 now);
/*
 * Holder view (table_holder.c), on a node that is not the leader: lease
 * deadlines become bounds the holders may count on; off: the hold, as the
 * leader counts it.  Existing deadlines are converted; turning it on, each
 * counts from no later than @floor.
 */
void dl_table_holder_view(struct dl_table *t, bool on, u32 drift_ppm,
			  u64 floor);
/*
 * Holder view: a snapshot's table @to replaces @from.  The snapshot's
 * deadlines count from a time that bounds only the entries this node had
 * not applied yet: a lease it had applied before keeps its earlier bound
 * (and its DL_E_TOLD mark).
 */
void dl_table_keep_bounds(struct dl_table *to, struct dl_table *from);
/* The earliest deadline of any entry, or 0. */
u64 dl_table_next_deadline(const struct dl_table *t);
/*
 * Holder view: @fn gets each lease of a session that @mine() claims whose
 * bound passed by @now, once until it is renewed (reason DL_LOST_EXPIRED);
 * its LOST when it ends is then not sent.  Every due entry is put back a
 * length later.  At most @budget entries: true if more may be due.
 */
bool dl_table_overdue(struct dl_table *t, u64 now, u32 budget,
		      bool (*mine)(void *arg, const struct dl_session *s),
		      void (*fn)(void *arg, const struct dl_lost *ls),
		      void *arg);
/* A due entry was proposed for expiry: next proposal not before @deadline. */
void dl_entry_postpone(struct dl_table *t, const struct dl_entry *e,
		       u64 deadline);
struct dl_session *dl_entry_session(const struct dl_entry *e);
/*
 * Snapshot install: entries are put back as they were, holders in token
 * order and waiters in stamp order (the order they were made in), which
 * rebuilds every list in its original order.  Not held to any cap.
 * -EINVAL if the entry does not fit the lock as restored so far.
 */
struct dl_restore {
	const struct dl_acquire_req *rq;	/* name, mode, owner, uid, ... */
	u64 token;		/* holder: its token; waiter: its cookie */
	u64 stamp;
	u32 count;		/* holder: reentrancy count */
	u32 hold_ms;		/* holder: lease length; waiter: its ttl */
	const void *value;
	u32 value_len;
};
int dl_restore_holder(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_restore *r);
int dl_restore_waiter(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_restore *r);
/* The lock state a dump does not show but the walk's budget depends on. */
bool dl_lock_excl_unknown(const struct dl_lock *l);
int dl_lock_restore(struct dl_table *t, const char *name, u32 len, u8 mode,
		    bool excl_unknown);

/*
 * Bytes of a socket-bound holder or waiter (DL_OBJ_ENTRY without an owner
 * string), the most common object: lets the glue give it a cache of its own.
 */
size_t dl_table_entry_size(const struct dl_table *t);

#endif /* DLOCK_TABLE_H */
