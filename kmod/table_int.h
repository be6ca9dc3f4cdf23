/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by the lock table's own files (table*.c).
 * Not for the glue: it sees only table.h.  Policy code: compat.h only.
 */
#ifndef DLOCK_TABLE_INT_H
#define DLOCK_TABLE_INT_H

#include "table.h"
#include "table_uid.h"

/*
 * The simulator's planted bugs of the table (tests/sim/sim.mk builds one
 * binary per number; docs/protocol.md section 6): 0 in every real build.
 */
#ifndef TABLE_SM_MUTATION
#define TABLE_SM_MUTATION 0
#endif

#define dl_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Fails a command with @err and says why (cx->why), at the point where the
 * cause is known.  @err 0 passes through, so a check's result can be
 * wrapped as it is.
 */
static inline int dl_fail(struct dl_cmd *cx, int err, const char *why)
{
	if (err < 0)
		cx->why = why;
	return err;
}

/* A minimal circular doubly linked list (policy code has no list.h). */
struct dl_link {
	struct dl_link *next, *prev;
};

static inline void dl_link_init(struct dl_link *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool dl_link_empty(const struct dl_link *h)
{
	return h->next == h;
}

static inline void dl_link_add_tail(struct dl_link *n, struct dl_link *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void dl_link_del(struct dl_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

/* Owner identity, comparable across locks and shards. */
struct dl_okey {
	const struct dl_session *sess;
	u64 sess_id;		/* hashed instead of the address: replicas agree */
	u64 tag;
	const char *str;
	u32 len;
	bool detached;
};

static inline bool dl_okey_eq(const struct dl_okey *a, const struct dl_okey *b)
{
	if (a->detached != b->detached)
		return false;
	if (a->detached)
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	return a->sess == b->sess && a->tag == b->tag;
}

/*
 * Keyed hashing: the glue's hash op (kernel: siphash with a random key per
 * table) or, without one, a seeded mix (host tests, simulator).  Every hash
 * an unprivileged client can steer (names, owners, cookies) goes through it,
 * so nobody who does not know the key can aim many keys at one chain.
 */
struct dl_hasher {
	const struct dl_table_ops *ops;
	void *priv;
	u64 seed;
};

u64 dl_mix64(u64 h);
u64 dl_hash(const struct dl_hasher *h, const void *p, u32 len);
u64 dl_okey_hash(const struct dl_hasher *h, const struct dl_okey *k);

/*
 * The owner index (wait-graph lock held): every queued wait has a node,
 * found three ways in O(1) expected time whatever the clients choose:
 *  - by owner: struct dl_owner lists the owner's waits and counts them
 *    (deadlock walk, the ->multi marks);
 *  - by (owner, lock): is this owner already waiting here (-EALREADY);
 *  - by (session, cookie, lock): cancel and wait timeout.
 * All three tables grow with their contents and shrink when they empty; a
 * failed resize keeps the old table (longer chains, same answers).
 */
struct dl_owner {
	struct dl_owner *next;		/* bucket chain */
	struct dl_link waits;		/* struct dl_wnode.olink, FIFO */
	u64 hash;
	u32 nr_waits;
	struct dl_okey key;		/* .str points into .buf */
	char buf[];
};

enum { DL_CH_PAIR, DL_CH_COOKIE, DL_CH_NR };

struct dl_wnode {
	struct dl_link olink;		/* owner's waits */
	struct dl_wnode *next[DL_CH_NR];
	struct dl_owner *owner;
	const void *lock;		/* identity only */
	void *entry;			/* the waiter, for table.c */
	u32 hash[DL_CH_NR];
};

struct dl_ihash {
	void **b;			/* struct dl_owner / struct dl_wnode */
	u32 bits;
	u32 nr;
};

struct dl_index {
	struct dl_hasher h;
	struct dl_ihash owners;
	struct dl_ihash ch[DL_CH_NR];
	u32 min_bits;
};

int dl_index_init(struct dl_index *x, const struct dl_hasher *h, u32 bits);
/* Frees the buckets, every owner and every node (table destroy). */
void dl_index_destroy(struct dl_index *x);
/* The owner @k if it waits anywhere; *steps counts what was looked at. */
struct dl_owner *dl_index_owner(const struct dl_index *x,
				const struct dl_okey *k, u32 *steps);
/* The wait of @k on @lock (whose name hash key is @lkey). */
struct dl_wnode *dl_index_find(const struct dl_index *x,
			       const struct dl_okey *k, const void *lock,
			       u32 lkey, u32 *steps);
/* Hash of a (session, cookie, lock) for dl_index_cookie_next(). */
u32 dl_index_cookie_hash(const struct dl_index *x, u64 sess_id, u64 cookie,
			 u32 lkey);
/* Nodes on @lock whose cookie hash is @ch, after @prev (NULL: first). */
struct dl_wnode *dl_index_cookie_next(const struct dl_index *x, u32 ch,
				      const void *lock,
				      const struct dl_wnode *prev, u32 *steps);
/* Adds a wait of @k on @lock; NULL if out of memory (nothing changed). */
struct dl_wnode *dl_index_add(struct dl_index *x, const struct dl_okey *k,
			      const void *lock, u32 lkey, u32 cookie_hash,
			      void *entry);
void dl_index_del(struct dl_index *x, struct dl_wnode *n);

/* ---- the table's objects (see table.c for the layout) ---- */

#define DL_U32_MAX		0xffffffffU
#define DL_NO_HEAP		DL_U32_MAX
#define DL_NS_PER_MS		1000000ULL
#define DL_MIN_BUCKET_BITS	4
#define DL_MAX_BUCKET_BITS	28
#define DL_MIN_HEAP		16
#define DL_HIDX_MIN		8	/* holders before a lock indexes them */

/* dl_entry.flags */
#define DL_E_WAITER	0x01
#define DL_E_DETACHED	0x02
#define DL_E_NO_TTL	0x04
/* Cluster, holder view: its holder was told its countdown here ran out. */
#define DL_E_TOLD	0x08

struct dl_value {
	u32 len;
	u8 data[];
};

struct dl_entry {
	struct dl_link lock_link;	/* lock's holders or waiters */
	struct dl_link sess_link;	/* session's leases or waits in this shard */
	struct dl_lock *lock;
	struct dl_session *sess;	/* holder: NULL if detached; waiter: requester */
	u64 tag;
	u64 deadline;			/* 0: none */
	union {
		u64 token;		/* holder */
		u64 cookie;		/* waiter */
	};
	union {
		struct {		/* waiter */
			struct dl_wnode *wn;	/* its owner index node */
			u32 walk_gen;
			u32 ttl_ms;	/* of the lease it will become */
			u32 wait_ms;	/* its timeout, 0: none */
		};
		struct {		/* holder */
			struct dl_value *value;
			u32 count;
			u32 hold_ms;	/* lease length last granted */
			struct dl_entry *hnext;	/* lock's owner index chain */
		};
	};
	u32 heap_idx;
	u32 uid;			/* who asked: lease state */
	u32 uslot;			/* its dl_users slot, referenced */
	u8 mode;
	u8 flags;
	u8 owner_len;
	/*
	 * Waiter whose owner also waits elsewhere.  A byte of its own, not a
	 * flag: it changes under the global lock only, while flags are read
	 * under shard locks.
	 */
	u8 multi;
	/*
	 * Cluster mode: the stamp (u64, see struct dl_cmd.index) first, so
	 * that a single node pays nothing for it; then cfg.meta_size bytes of
	 * glue metadata, then the detached owner.
	 */
	u8 tail[];
};

struct dl_lock {
	struct dl_lock *next;		/* hash chain */
	struct dl_link holders;
	struct dl_link waiters;
	/*
	 * Walk shortcut, under the global lock: see deadlock_check().  When
	 * it leaves, the last exclusive waiter is looked for lazily, by the
	 * walk and within its budget (excl_unknown), not by the command that
	 * removed it.
	 */
	struct dl_entry *last_excl;	/* last exclusive waiter */
	/* Holders by owner, only once there are many: see hidx_fit(). */
	struct dl_entry **hidx;
	/* Both under the global lock only, so they may share a word. */
	u32 nr_multi : 31;		/* waiters with ->multi */
	u32 excl_unknown : 1;		/* last_excl must be looked for */
	u32 hkey;
	u32 permits;			/* 0: readers-writer lock */
	u32 nr_holders;
	u32 nr_waiters;
	u8 mode;			/* of the holders, readers-writer locks */
	u8 name_len;
	u8 hbits;			/* hidx has 1 << hbits buckets */
	char name[];
};

struct dl_shard {
	struct dl_lock **buckets;
	struct dl_entry **heap;
	u64 armed;			/* deadline last given to set_timer */
	u64 gen;			/* bumped by every change */
	u32 bits;
	u32 nr_locks;
	u32 nr_entries;			/* heap_cap >= nr_entries always */
	u32 heap_len;
	u32 heap_cap;
};

struct dl_session {
	u64 id;
	dl_atomic_t nr_leases;		/* socket-bound leases */
	dl_atomic_t nr_waiters;
	u32 nr_shards;
	bool dying;
	/*
	 * [2s]: leases in shard s, [2s+1]: waits; then one byte per shard,
	 * set once the session had an entry there (see dl_session_touched()).
	 */
	struct dl_link lists[];
};

struct dl_walk_frame {
	const struct dl_lock *lock;
	const struct dl_entry *self;	/* NULL: the request being checked */
	const struct dl_link *pos;	/* blocker enumeration position */
	const struct dl_entry *blocker;	/* whose waits are being scanned */
	const struct dl_entry *blocker_one;	/* phase 3 */
	const struct dl_link *whead;
	const struct dl_link *wpos;
	u8 mode;
	u8 phase;	/* 0: holders, 1: waiters ahead, 2: done, 3: one */
};

struct dl_table {
	struct dl_table_config cfg;
	const struct dl_table_ops *ops;
	void *priv;
	struct dl_shard *shards;
	u32 shard_mask;
	dl_atomic_t nr_leases;
	dl_atomic_t nr_waiters;
	dl_atomic_t nr_locks;
	/* Under the global lock only. */
	struct dl_index idx;
	u32 walk_gen;
	u32 walk_steps;
	struct dl_walk_frame *walk;
	u64 deadlk_truncated;
	struct dl_users users;
	u32 xsize;			/* cluster: stamp and bound in tails */
	/*
	 * Cluster, not the leader: lease deadlines are the holder's bounds
	 * (table_holder.c), shortened by the clocks' drift and a margin.
	 */
	bool holder_view;
	u32 drift_ppm;
};

/* Reasons (cx->why) that more than one command gives. */
#define DL_WHY_NAME	"lock name must be 1 to 255 bytes without a NUL"
#define DL_WHY_OWNER	"owner must be a string of 1 to 64 bytes without a NUL, or a socket"
#define DL_WHY_OTHER_USER	"lease belongs to another user"
#define DL_WHY_NO_REQUEST	"no such queued request"

static inline void *dl_alloc(struct dl_table *t, enum dl_obj kind, size_t size)
{
	return t->ops->alloc(t->priv, kind, size);
}

static inline void dl_free(struct dl_table *t, enum dl_obj kind, void *p,
			   size_t size)
{
	if (p)
		t->ops->free(t->priv, kind, p, size);
}

static inline u64 dl_name_hash(const struct dl_table *t, const char *name,
			       u32 len)
{
	return dl_hash(&t->idx.h, name, len);
}

/* A detached owner's entry answers to its uid, or to a privileged caller. */
static inline bool user_may(const struct dl_entry *e, u32 uid, bool privileged)
{
	return !(e->flags & DL_E_DETACHED) || e->uid == uid || privileged;
}

static inline u32 bucket_of(u32 hkey, u32 bits)
{
	/* Top bits: bucket order is hkey order, which keeps cursors valid. */
	return hkey >> (32 - bits);
}

static inline int key_cmp(u32 hkey, const char *name, u32 len,
			  const struct dl_lock *l)
{
	if (hkey != l->hkey)
		return hkey < l->hkey ? -1 : 1;
	if (len != l->name_len)
		return len < l->name_len ? -1 : 1;
	return memcmp(name, l->name, len);
}

static inline size_t lock_size(u32 name_len)
{
	return offsetof(struct dl_lock, name) + name_len;
}

static inline size_t entry_size(const struct dl_table *t, u32 owner_len)
{
	return sizeof(struct dl_entry) + t->xsize + t->cfg.meta_size + owner_len;
}

static inline const u8 *entry_meta(const struct dl_table *t,
				   const struct dl_entry *e)
{
	return e->tail + t->xsize;
}

static inline u64 entry_stamp(const struct dl_table *t,
			      const struct dl_entry *e)
{
	u64 v = 0;

	if (t->xsize)
		memcpy(&v, e->tail, sizeof(v));
	return v;
}

static inline void entry_set_stamp(const struct dl_table *t,
				   struct dl_entry *e, u64 v)
{
	if (t->xsize)
		memcpy(e->tail, &v, sizeof(v));
}

/* Cluster: when its holder's node tells a lease ran out (table_holder.c). */
static inline u64 entry_bound(const struct dl_table *t,
			      const struct dl_entry *e)
{
	u64 v = 0;

	if (t->xsize)
		memcpy(&v, e->tail + sizeof(u64), sizeof(v));
	return v;
}

static inline void entry_set_bound(const struct dl_table *t,
				   struct dl_entry *e, u64 v)
{
	if (t->xsize)
		memcpy(e->tail + sizeof(u64), &v, sizeof(v));
}

static inline struct dl_entry *entry_of_lock_link(const struct dl_link *p)
{
	return dl_container_of(p, struct dl_entry, lock_link);
}

static inline struct dl_entry *entry_of_sess_link(const struct dl_link *p)
{
	return dl_container_of(p, struct dl_entry, sess_link);
}

static inline struct dl_entry *entry_of_wnode(const struct dl_wnode *n)
{
	return n->entry;
}

static inline struct dl_entry *entry_of_olink(const struct dl_link *p)
{
	return entry_of_wnode(dl_container_of(p, struct dl_wnode, olink));
}

static inline struct dl_link *sess_list(struct dl_session *s, u32 shard,
					bool waits)
{
	return &s->lists[2 * shard + (waits ? 1 : 0)];
}

static inline u8 *sess_touched(const struct dl_session *s)
{
	return (u8 *)&s->lists[2 * s->nr_shards];
}

static inline bool lock_grantable(const struct dl_lock *l, u8 mode)
{
	if (l->permits)	/* 5: a semaphore admits one holder too many */
		return l->nr_holders < l->permits + (TABLE_SM_MUTATION == 5);
	if (!l->nr_holders)
		return true;
	return mode == DL_MODE_SHARED && l->mode == DL_MODE_SHARED;
}

/* Dumps read the sum of all shards' generations without their locks. */
static inline void shard_changed(struct dl_shard *sh)
{
	WRITE_ONCE(sh->gen, sh->gen + 1);
}

/* table_heap.c */
void dl_heap_del(struct dl_shard *sh, struct dl_entry *e);
void dl_entry_set_deadline(struct dl_shard *sh, struct dl_entry *e,
			   u64 deadline);
int dl_shard_reserve(struct dl_table *t, struct dl_shard *sh);
void dl_shard_unreserve(struct dl_table *t, struct dl_shard *sh);
void dl_shard_sync_timer(struct dl_table *t, struct dl_cmd *cx, u32 idx);

/* table_bucket.c */
void dl_lock_insert(struct dl_table *t, struct dl_shard *sh,
		    struct dl_lock *l);
struct dl_lock *dl_lock_new(struct dl_table *t, u32 hkey,
			    const char *name, u32 len);
void dl_hidx_free(struct dl_table *t, struct dl_lock *l);
void dl_lock_remove(struct dl_table *t, struct dl_shard *sh,
		    struct dl_lock *l);
struct dl_lock *dl_name_lookup(struct dl_table *t, const char *name,
			       u32 len, u32 *shard, u32 *hkey);
u32 dl_hidx_slot(const struct dl_table *t, const struct dl_lock *l,
		 const struct dl_okey *k);
void dl_hidx_insert(const struct dl_table *t, struct dl_lock *l,
		    struct dl_entry *e);
void dl_hidx_remove(const struct dl_table *t, struct dl_lock *l,
		    struct dl_entry *e);
void dl_hidx_fit(struct dl_table *t, struct dl_lock *l);

/* table_entry.c */
void dl_entry_okey(const struct dl_table *t, const struct dl_entry *e,
		   struct dl_okey *k);
void dl_ref_okey(const struct dl_owner_ref *o, struct dl_okey *k);
void dl_entry_view(const struct dl_table *t, const struct dl_entry *e,
		   struct dl_owner_view *v);
int dl_owner_ref_valid(const struct dl_owner_ref *o);
struct dl_entry *dl_holder_find(const struct dl_table *t,
				const struct dl_lock *l,
				const struct dl_okey *k, u32 *steps);
struct dl_entry *dl_holder_by_token(const struct dl_lock *l, u64 token);
struct dl_entry *dl_waiter_by_cookie(struct dl_table *t,
				     struct dl_cmd *cx,
				     const struct dl_lock *l,
				     const struct dl_session *s, u64 cookie);
struct dl_entry *dl_waiter_find(struct dl_table *t, struct dl_cmd *cx,
				const struct dl_lock *l,
				const struct dl_okey *k);
void dl_sess_touch(struct dl_session *s, u32 shard);
void dl_value_event(struct dl_table *t, struct dl_cmd *cx,
		    const struct dl_entry *e);
void dl_entry_free(struct dl_table *t, struct dl_shard *sh,
		   struct dl_entry *e);
u64 dl_ttl_deadline(const struct dl_table *t, u64 now, u32 ttl_ms);
u64 dl_holder_len(const struct dl_table *t, u32 hold_ms);
bool dl_entry_untold(struct dl_entry *e);
void dl_entry_new_bound(struct dl_table *t, struct dl_entry *e, u64 now,
			u32 ttl_ms, bool fresh);
/* What @e's holder is told when it loses its lease for @reason. */
static inline struct dl_lost dl_lost_of(const struct dl_entry *e,
					enum dl_lost_reason reason)
{
	struct dl_lost ls = {
		.sess = e->sess,
		.tag = e->tag,
		.name = e->lock->name,
		.name_len = e->lock->name_len,
		.token = e->token,
		.reason = reason,
		.count = e->count,
	};

	return ls;
}

/* Cluster walks: @fn with every lock, each shard marked changed after. */
void dl_table_each_lock(struct dl_table *t,
			void (*fn)(struct dl_table *t, struct dl_shard *sh,
				   struct dl_lock *l, const void *arg),
			const void *arg);
void dl_lease_count(struct dl_table *t, struct dl_entry *e, long delta);
void dl_holder_link(struct dl_table *t, struct dl_cmd *cx,
		    struct dl_shard *sh, u32 shard, struct dl_lock *l,
		    struct dl_entry *e, u32 ttl_ms);
void dl_set_multi(struct dl_entry *w, bool on);
void dl_multi_add(struct dl_entry *w);
void dl_waiter_unlink(struct dl_table *t, struct dl_shard *sh,
		      struct dl_entry *w);
void dl_lock_settle(struct dl_table *t, struct dl_cmd *cx,
		    struct dl_shard *sh, u32 shard, struct dl_lock *l);
void dl_holder_end(struct dl_table *t, struct dl_cmd *cx,
		   struct dl_shard *sh, struct dl_entry *e,
		   enum dl_event_type type);

/* table_acquire.c */
struct dl_entry *dl_entry_new(struct dl_table *t, struct dl_shard *sh,
			      const struct dl_acquire_req *rq, u32 uslot);
void dl_req_okey(const struct dl_acquire_req *rq, struct dl_okey *k);

/* table_deadlk.c */
int dl_deadlock_check(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_lock *l, u8 mode,
		      const struct dl_okey *req);

/*
 * Puts waiter @w at the tail of @l's queue and of its session's waits; an
 * acquire that queues and a snapshot that restores a wait both end here.
 */
static inline void waiter_link(struct dl_lock *l, struct dl_entry *w,
			       struct dl_session *s, u32 shard)
{
	w->flags |= DL_E_WAITER;
	w->lock = l;
	dl_link_add_tail(&w->lock_link, &l->waiters);
	l->nr_waiters++;
	if (w->mode == DL_MODE_EXCLUSIVE) {
		l->last_excl = w;
		l->excl_unknown = 0;
	}
	dl_multi_add(w);
	dl_sess_touch(s, shard);
	dl_link_add_tail(&w->sess_link, sess_list(s, shard, true));
}

#endif /* DLOCK_TABLE_INT_H */
