// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: lease semantics as a deterministic state machine.
 *
 * Policy only: no clock, no timer, no allocation, no locking of its own.  The
 * glue (kernel module, host tests, cluster simulator) provides those through
 * struct dl_table_ops and holds the shard and global locks described in
 * table.h and docs/architecture.md.
 *
 * Data layout, chosen for memory (1,000,000 leases) and for shard locality:
 *  - struct dl_lock: one per name that has holders or waiters, name inline,
 *    chained in its shard's hash buckets, chains sorted by (hkey, len, name)
 *    so that a dump cursor survives inserts, removals and resizes.
 *  - struct dl_entry: one per holder and per waiter.  A waiter becomes a
 *    holder in place when granted, so granting never allocates and cannot
 *    fail half-way through a release.
 *  - Per shard, a binary min-heap of the entries that have a deadline (lease
 *    expiry or wait timeout): one timer per shard instead of one per lease.
 *  - Global (wait-graph lock): an index from owner to its waits (deadlock
 *    walk, -EALREADY, the ->multi marks) and the walk's stack.
 */
#include "table_int.h"
#include "table_uid.h"

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
		};
		struct {		/* holder */
			struct dl_value *value;
			u32 count;
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
	/* cfg.meta_size bytes of glue metadata, then the detached owner */
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
};

static void *dl_alloc(struct dl_table *t, enum dl_obj kind, size_t size)
{
	return t->ops->alloc(t->priv, kind, size);
}

static void dl_free(struct dl_table *t, enum dl_obj kind, void *p, size_t size)
{
	if (p)
		t->ops->free(t->priv, kind, p, size);
}

/* ---- hashing ---------------------------------------------------------- */

static u64 dl_name_hash(const struct dl_table *t, const char *name, u32 len)
{
	return dl_hash(&t->idx.h, name, len);
}

u32 dl_shard_of(const struct dl_table *t, const char *name, u32 len)
{
	return (u32)dl_name_hash(t, name, len) & t->shard_mask;
}

u32 dl_nr_shards(const struct dl_table *t)
{
	return t->cfg.nr_shards;
}

int dl_name_valid(const char *name, u32 len)
{
	if (!name || len < 1 || len > DL_NAME_MAX)
		return -EINVAL;
	if (strnlen(name, len) != len)
		return -EINVAL;
	return 0;
}

/* ---- owners ----------------------------------------------------------- */

static const char *entry_owner_str(const struct dl_table *t,
				   const struct dl_entry *e)
{
	return (const char *)e->tail + t->cfg.meta_size;
}

static void entry_okey(const struct dl_table *t, const struct dl_entry *e,
		       struct dl_okey *k)
{
	k->detached = e->flags & DL_E_DETACHED;
	k->sess = k->detached ? NULL : e->sess;
	k->sess_id = k->sess ? k->sess->id : 0;
	k->tag = k->detached ? 0 : e->tag;
	k->str = k->detached ? entry_owner_str(t, e) : NULL;
	k->len = k->detached ? e->owner_len : 0;
}

static void ref_okey(const struct dl_owner_ref *o, struct dl_okey *k)
{
	k->detached = o->str != NULL;
	k->sess = k->detached ? NULL : o->sess;
	k->sess_id = k->sess ? k->sess->id : 0;
	k->tag = k->detached ? 0 : o->tag;
	k->str = o->str;
	k->len = k->detached ? o->len : 0;
}

static void entry_view(const struct dl_table *t, const struct dl_entry *e,
		       struct dl_owner_view *v)
{
	v->detached = e->flags & DL_E_DETACHED;
	v->session_id = e->sess ? e->sess->id : 0;
	v->tag = v->detached ? 0 : e->tag;
	v->str = v->detached ? entry_owner_str(t, e) : NULL;
	v->len = v->detached ? e->owner_len : 0;
	v->uid = e->uid;
}

static int owner_ref_valid(const struct dl_owner_ref *o)
{
	if (!o)
		return -EINVAL;
	if (o->str)
		return o->len >= 1 && o->len <= DL_OWNER_MAX ? 0 : -EINVAL;
	return o->sess ? 0 : -EINVAL;
}

/* ---- deadline heap ---------------------------------------------------- */

static void heap_set(struct dl_shard *sh, u32 i, struct dl_entry *e)
{
	sh->heap[i] = e;
	e->heap_idx = i;
}

static void heap_up(struct dl_shard *sh, u32 i)
{
	struct dl_entry *e = sh->heap[i];

	while (i) {
		u32 parent = (i - 1) / 2;

		if (sh->heap[parent]->deadline <= e->deadline)
			break;
		heap_set(sh, i, sh->heap[parent]);
		i = parent;
	}
	heap_set(sh, i, e);
}

static void heap_down(struct dl_shard *sh, u32 i)
{
	struct dl_entry *e = sh->heap[i];

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= sh->heap_len)
			break;
		if (c + 1 < sh->heap_len &&
		    sh->heap[c + 1]->deadline < sh->heap[c]->deadline)
			c++;
		if (e->deadline <= sh->heap[c]->deadline)
			break;
		heap_set(sh, i, sh->heap[c]);
		i = c;
	}
	heap_set(sh, i, e);
}

/* Capacity was reserved by shard_reserve(), so this cannot fail. */
static void heap_add(struct dl_shard *sh, struct dl_entry *e)
{
	heap_set(sh, sh->heap_len++, e);
	heap_up(sh, e->heap_idx);
}

static void heap_del(struct dl_shard *sh, struct dl_entry *e)
{
	u32 i = e->heap_idx;
	struct dl_entry *last;

	if (i == DL_NO_HEAP)
		return;
	last = sh->heap[--sh->heap_len];
	e->heap_idx = DL_NO_HEAP;
	if (last == e)
		return;
	heap_set(sh, i, last);
	heap_down(sh, i);
	heap_up(sh, last->heap_idx);
}

/* Sets @e's deadline (0: none) keeping the heap ordered. */
static void entry_set_deadline(struct dl_shard *sh, struct dl_entry *e,
			       u64 deadline)
{
	e->deadline = deadline;
	if (!deadline) {
		heap_del(sh, e);
	} else if (e->heap_idx == DL_NO_HEAP) {
		heap_add(sh, e);
	} else {
		heap_down(sh, e->heap_idx);
		heap_up(sh, e->heap_idx);
	}
}

static int heap_resize(struct dl_table *t, struct dl_shard *sh, u32 cap)
{
	struct dl_entry **h = dl_alloc(t, DL_OBJ_HEAP, sizeof(*h) * cap);

	if (!h)
		return -ENOMEM;
	if (sh->heap_len)
		memcpy(h, sh->heap, sizeof(*h) * sh->heap_len);
	dl_free(t, DL_OBJ_HEAP, sh->heap, sizeof(*h) * sh->heap_cap);
	sh->heap = h;
	sh->heap_cap = cap;
	return 0;
}

/*
 * Every entry of a shard may need a heap slot (a waiter without timeout
 * becomes a lease with a TTL when granted), so a slot is reserved when the
 * entry is created; granting and expiring then never allocate.
 */
static int shard_reserve(struct dl_table *t, struct dl_shard *sh)
{
	if (sh->nr_entries < sh->heap_cap)
		return 0;
	if (sh->heap_cap >= DL_U32_MAX / 2)
		return -ENOSPC;
	return heap_resize(t, sh, max(sh->heap_cap * 2, (u32)DL_MIN_HEAP));
}

static void shard_unreserve(struct dl_table *t, struct dl_shard *sh)
{
	u32 cap = sh->heap_cap / 2;

	if (cap >= DL_MIN_HEAP * 4 && sh->nr_entries < cap / 2)
		heap_resize(t, sh, cap);	/* failure: keep the big one */
}

/* Dumps read the sum of all shards' generations without their locks. */
static void shard_changed(struct dl_shard *sh)
{
	WRITE_ONCE(sh->gen, sh->gen + 1);
}

/* Tells the glue when the shard's earliest deadline changed. */
static void shard_sync_timer(struct dl_table *t, struct dl_cmd *cx, u32 idx)
{
	struct dl_shard *sh = &t->shards[idx];
	u64 d = sh->heap_len ? sh->heap[0]->deadline : 0;

	if (d != sh->armed) {
		sh->armed = d;
		t->ops->set_timer(cx, idx, d);
	}
}

/* ---- hash buckets ----------------------------------------------------- */

static u32 bucket_of(u32 hkey, u32 bits)
{
	/* Top bits: bucket order is hkey order, which keeps cursors valid. */
	return hkey >> (32 - bits);
}

static int key_cmp(u32 hkey, const char *name, u32 len, const struct dl_lock *l)
{
	if (hkey != l->hkey)
		return hkey < l->hkey ? -1 : 1;
	if (len != l->name_len)
		return len < l->name_len ? -1 : 1;
	return memcmp(name, l->name, len);
}

static struct dl_lock *lock_find(struct dl_shard *sh, u32 hkey,
				 const char *name, u32 len)
{
	struct dl_lock *l = sh->buckets[bucket_of(hkey, sh->bits)];

	for (; l; l = l->next) {
		int c = key_cmp(hkey, name, len, l);

		if (!c)
			return l;
		if (c < 0)
			break;
	}
	return NULL;
}

/*
 * Chains are sorted and buckets are in key order, so walking the old table
 * in order visits keys in ascending order; appending each to its new bucket
 * keeps the new chains sorted without any search.
 */
static void shard_rehash(struct dl_table *t, struct dl_shard *sh, u32 bits)
{
	struct dl_lock **nb = dl_alloc(t, DL_OBJ_BUCKETS, sizeof(*nb) << bits);
	struct dl_lock **tail = NULL;
	u32 i, cur = DL_U32_MAX;

	if (!nb)
		return;	/* keep longer chains; still correct */
	memset(nb, 0, sizeof(*nb) << bits);
	for (i = 0; i < (1U << sh->bits); i++) {
		struct dl_lock *l = sh->buckets[i], *next;

		for (; l; l = next) {
			u32 b = bucket_of(l->hkey, bits);

			next = l->next;
			l->next = NULL;
			if (b != cur) {
				cur = b;
				tail = &nb[b];
			}
			*tail = l;
			tail = &l->next;
		}
	}
	dl_free(t, DL_OBJ_BUCKETS, sh->buckets, sizeof(*nb) << sh->bits);
	sh->buckets = nb;
	sh->bits = bits;
}

static void lock_insert(struct dl_table *t, struct dl_shard *sh,
			struct dl_lock *l)
{
	struct dl_lock **pp = &sh->buckets[bucket_of(l->hkey, sh->bits)];

	while (*pp && key_cmp(l->hkey, l->name, l->name_len, *pp) > 0)
		pp = &(*pp)->next;
	l->next = *pp;
	*pp = l;
	sh->nr_locks++;
	dl_atomic_add_return(1, &t->nr_locks);
	if (sh->nr_locks > (1U << sh->bits) && sh->bits < DL_MAX_BUCKET_BITS)
		shard_rehash(t, sh, sh->bits + 1);
}

static size_t lock_size(u32 name_len)
{
	return offsetof(struct dl_lock, name) + name_len;
}

static struct dl_lock *lock_new(struct dl_table *t, u32 hkey,
				const char *name, u32 len)
{
	struct dl_lock *l = dl_alloc(t, DL_OBJ_LOCK, lock_size(len));

	if (!l)
		return NULL;
	memset(l, 0, offsetof(struct dl_lock, name));
	dl_link_init(&l->holders);
	dl_link_init(&l->waiters);
	l->hkey = hkey;
	l->name_len = len;
	memcpy(l->name, name, len);
	return l;
}

/* The holder index of @l (see hidx_fit()), if it has one. */
static void hidx_free(struct dl_table *t, struct dl_lock *l)
{
	if (!l->hidx)
		return;
	dl_free(t, DL_OBJ_BUCKETS, l->hidx, sizeof(*l->hidx) << l->hbits);
	l->hidx = NULL;
	l->hbits = 0;
}

static void lock_remove(struct dl_table *t, struct dl_shard *sh,
			struct dl_lock *l)
{
	struct dl_lock **pp = &sh->buckets[bucket_of(l->hkey, sh->bits)];

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	sh->nr_locks--;
	dl_atomic_add_return(-1, &t->nr_locks);
	hidx_free(t, l);
	dl_free(t, DL_OBJ_LOCK, l, lock_size(l->name_len));
	if (sh->bits > DL_MIN_BUCKET_BITS &&
	    sh->nr_locks < (1U << sh->bits) / 8)
		shard_rehash(t, sh, sh->bits - 1);
}

/* ---- entries ---------------------------------------------------------- */

static size_t entry_size(const struct dl_table *t, u32 owner_len)
{
	return sizeof(struct dl_entry) + t->cfg.meta_size + owner_len;
}

size_t dl_table_entry_size(const struct dl_table *t)
{
	return entry_size(t, 0);
}

static struct dl_entry *entry_of_lock_link(const struct dl_link *p)
{
	return dl_container_of(p, struct dl_entry, lock_link);
}

static struct dl_entry *entry_of_sess_link(const struct dl_link *p)
{
	return dl_container_of(p, struct dl_entry, sess_link);
}

static struct dl_entry *entry_of_wnode(const struct dl_wnode *n)
{
	return n->entry;
}

static struct dl_entry *entry_of_olink(const struct dl_link *p)
{
	return entry_of_wnode(dl_container_of(p, struct dl_wnode, olink));
}

static u32 hidx_slot(const struct dl_table *t, const struct dl_lock *l,
		     const struct dl_okey *k)
{
	return (u32)dl_okey_hash(&t->idx.h, k) & ((1U << l->hbits) - 1);
}

/*
 * The holder of @l owned by @k: through the lock's holder index (keyed, so
 * chains stay short whatever tags or owner strings clients pick) once the
 * lock has many holders, else a scan of at most DL_HIDX_MIN of them.
 */
static struct dl_entry *holder_find(const struct dl_table *t,
				    const struct dl_lock *l,
				    const struct dl_okey *k, u32 *steps)
{
	const struct dl_link *p;
	struct dl_entry *e;
	struct dl_okey ek;

	if (l->hidx) {
		for (e = l->hidx[hidx_slot(t, l, k)]; e; e = e->hnext) {
			(*steps)++;
			entry_okey(t, e, &ek);
			if (dl_okey_eq(&ek, k))
				return e;
		}
		return NULL;
	}
	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);

		(*steps)++;
		entry_okey(t, e, &ek);
		if (dl_okey_eq(&ek, k))
			return e;
	}
	return NULL;
}

static struct dl_entry *holder_by_token(const struct dl_lock *l, u64 token)
{
	const struct dl_link *p;

	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);

		if (e->token == token)
			return e;
	}
	return NULL;
}

/* The wait (@s, @cookie) on @l, from the owner index (global lock held). */
static struct dl_entry *waiter_by_cookie(struct dl_table *t,
					 struct dl_cmd *cx,
					 const struct dl_lock *l,
					 const struct dl_session *s, u64 cookie)
{
	u32 ch = dl_index_cookie_hash(&t->idx, s->id, cookie, l->hkey);
	struct dl_wnode *n = NULL;

	while ((n = dl_index_cookie_next(&t->idx, ch, l, n, &cx->steps))) {
		struct dl_entry *e = entry_of_wnode(n);

		if (e->sess == s && e->cookie == cookie)
			return e;
	}
	return NULL;
}

/* The wait of owner @k on @l, from the owner index (global lock held). */
static struct dl_entry *waiter_find(struct dl_table *t, struct dl_cmd *cx,
				    const struct dl_lock *l,
				    const struct dl_okey *k)
{
	struct dl_wnode *n = dl_index_find(&t->idx, k, l, l->hkey, &cx->steps);

	return n ? entry_of_wnode(n) : NULL;
}

static struct dl_link *sess_list(struct dl_session *s, u32 shard, bool waits)
{
	return &s->lists[2 * shard + (waits ? 1 : 0)];
}

static u8 *sess_touched(const struct dl_session *s)
{
	return (u8 *)&s->lists[2 * s->nr_shards];
}

/*
 * A byte per shard, not a bit: commands on different shards set theirs at
 * once under different shard locks.  Only the session's own requests set a
 * byte that is still 0 (a grant is in a shard where it already waited).
 */
static void sess_touch(struct dl_session *s, u32 shard)
{
	if (!sess_touched(s)[shard])
		sess_touched(s)[shard] = 1;
}

static void emit(struct dl_table *t, struct dl_cmd *cx, enum dl_event_type type,
		 const struct dl_entry *e)
{
	struct dl_event ev;

	ev.type = type;
	ev.name = e->lock->name;
	ev.name_len = e->lock->name_len;
	ev.mode = e->mode;
	ev.permits = e->lock->permits;
	entry_view(t, e, &ev.owner);
	ev.token = e->token;
	t->ops->event(cx, &ev);
}

static void entry_free(struct dl_table *t, struct dl_shard *sh,
		       struct dl_entry *e)
{
	if (!(e->flags & DL_E_WAITER) && e->value) {
		dl_users_add(&t->users, e->uslot, DL_U_VALUE_BYTES,
			     -(long)e->value->len);
		dl_free(t, DL_OBJ_VALUE, e->value,
			sizeof(*e->value) + e->value->len);
	}
	dl_users_put(&t->users, e->uslot);
	dl_free(t, DL_OBJ_ENTRY, e, entry_size(t, e->owner_len));
	sh->nr_entries--;
	shard_unreserve(t, sh);
}

static bool lock_grantable(const struct dl_lock *l, u8 mode)
{
	if (l->permits)
		return l->nr_holders < l->permits;
	if (!l->nr_holders)
		return true;
	return mode == DL_MODE_SHARED && l->mode == DL_MODE_SHARED;
}

static u64 ttl_deadline(const struct dl_table *t, u64 now, u32 ttl_ms)
{
	u32 cap = READ_ONCE(t->cfg.max_ttl_ms);

	return now + (u64)min(ttl_ms, cap) * DL_NS_PER_MS;
}

static void hidx_insert(const struct dl_table *t, struct dl_lock *l,
			struct dl_entry *e)
{
	struct dl_okey k;
	u32 b;

	entry_okey(t, e, &k);
	b = hidx_slot(t, l, &k);
	e->hnext = l->hidx[b];
	l->hidx[b] = e;
}

static void hidx_remove(const struct dl_table *t, struct dl_lock *l,
			struct dl_entry *e)
{
	struct dl_entry **pp;
	struct dl_okey k;

	entry_okey(t, e, &k);
	pp = &l->hidx[hidx_slot(t, l, &k)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

/* Rebuilds the index with 1 << @bits buckets; on failure keeps the old one. */
static void hidx_build(struct dl_table *t, struct dl_lock *l, u32 bits)
{
	struct dl_entry **nb = dl_alloc(t, DL_OBJ_BUCKETS, sizeof(*nb) << bits);
	const struct dl_link *p;

	if (!nb)
		return;
	memset(nb, 0, sizeof(*nb) << bits);
	hidx_free(t, l);
	l->hidx = nb;
	l->hbits = bits;
	for (p = l->holders.next; p != &l->holders; p = p->next)
		hidx_insert(t, l, entry_of_lock_link(p));
}

/*
 * Big shared locks and semaphores would make every acquire and release scan
 * all holders for the owner; past DL_HIDX_MIN holders a lock gets a hash of
 * its holders by owner, sized to about one per bucket.  It only speeds up
 * holder_find(): without it (small lock, or allocation failed) the list
 * scan gives the same answer.
 */
static void hidx_fit(struct dl_table *t, struct dl_lock *l)
{
	u32 n = l->nr_holders, bits = 4;

	if (n < DL_HIDX_MIN / 2) {
		hidx_free(t, l);
		return;
	}
	if (l->hidx && n <= (2U << l->hbits) &&
	    (l->hbits == 4 || n >= (1U << l->hbits) / 8))
		return;
	if (!l->hidx && n <= DL_HIDX_MIN)
		return;
	while ((1U << bits) < n && bits < 24)
		bits++;
	hidx_build(t, l, bits);
}

/*
 * Counts @e as a lease in the table, its session (unless detached) and its
 * uid: @delta 1 when a waiter is granted, -1 when a lease ends.  A fresh
 * grant is charged instead against the caps, by acquire_grant().
 */
static void lease_count(struct dl_table *t, struct dl_entry *e, long delta)
{
	long n;

	if (e->sess) {
		n = dl_atomic_add_return(delta, &e->sess->nr_leases);
		DL_ASSERT(n >= 0);
	}
	n = dl_atomic_add_return(delta, &t->nr_leases);
	DL_ASSERT(n >= 0);
	dl_users_add(&t->users, e->uslot, DL_U_LEASES, delta);
}

/*
 * Makes @e (already a filled-in holder) a holder of @l; the caller has
 * counted it (lease_count() or acquire_grant()'s charges).
 */
static void holder_link(struct dl_table *t, struct dl_cmd *cx,
			struct dl_shard *sh, u32 shard, struct dl_lock *l,
			struct dl_entry *e, u32 ttl_ms)
{
	/* Holders of a lock with waiters change under the global lock only. */
	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	DL_ASSERT(lock_grantable(l, e->mode));
	e->flags &= ~DL_E_WAITER;
	e->token = t->ops->next_token(cx);
	e->count = 1;
	e->value = NULL;
	e->lock = l;
	if (e->flags & DL_E_DETACHED) {
		e->sess = NULL;
		dl_link_init(&e->sess_link);
	} else {
		sess_touch(e->sess, shard);
		dl_link_add_tail(&e->sess_link, sess_list(e->sess, shard, false));
	}
	entry_set_deadline(sh, e, e->flags & DL_E_NO_TTL ? 0 :
			   ttl_deadline(t, cx->now, ttl_ms));
	dl_link_add_tail(&e->lock_link, &l->holders);
	l->nr_holders++;
	if (l->hidx)
		hidx_insert(t, l, e);
	hidx_fit(t, l);
	l->mode = e->mode;
	shard_changed(sh);
	emit(t, cx, DL_EV_GRANTED, e);
}

static void set_multi(struct dl_entry *w, bool on)
{
	if (w->multi == on)
		return;
	w->multi = on;
	if (on)
		w->lock->nr_multi++;
	else
		w->lock->nr_multi--;
}

/* The one wait of an owner that has exactly two, other than @w. */
static struct dl_entry *other_wait(const struct dl_owner *o,
				   const struct dl_entry *w)
{
	struct dl_entry *e = entry_of_olink(o->waits.next);

	return e != w ? e : entry_of_olink(o->waits.next->next);
}

/*
 * A wait is multi while its owner waits elsewhere too.  The owner index
 * counts an owner's waits, so keeping the marks costs O(1) per change
 * however many waits one owner string or tag has.
 */
static void multi_add(struct dl_entry *w)
{
	const struct dl_owner *o = w->wn->owner;

	if (o->nr_waits < 2)
		return;
	set_multi(w, true);
	if (o->nr_waits == 2)
		set_multi(other_wait(o, w), true);
}

static void multi_del(struct dl_entry *w)
{
	const struct dl_owner *o = w->wn->owner;

	set_multi(w, false);
	if (o->nr_waits == 2)
		set_multi(other_wait(o, w), false);
}

/*
 * Keeps l->last_excl right when @w leaves the queue.  Looking for the
 * exclusive waiter before it could mean walking a queue of thousands of
 * shared waiters on every cancel; the walk does it instead, when it needs
 * it, within its budget (last_excl_ahead()).
 */
static void last_excl_del(struct dl_lock *l, struct dl_entry *w)
{
	if (l->last_excl != w)
		return;
	l->last_excl = NULL;
	l->excl_unknown = w->lock_link.prev != &l->waiters;
}

/* Unlinks a waiter from everything (global lock held); does not free it. */
static void waiter_unlink(struct dl_table *t, struct dl_shard *sh,
			  struct dl_entry *w)
{
	multi_del(w);
	last_excl_del(w->lock, w);
	dl_link_del(&w->lock_link);
	if (!--w->lock->nr_waiters)
		w->lock->excl_unknown = 0;
	dl_index_del(&t->idx, w->wn);
	w->wn = NULL;
	dl_link_del(&w->sess_link);
	heap_del(sh, w);
	w->deadline = 0;
	dl_atomic_add_return(-1, &w->sess->nr_waiters);
	dl_atomic_add_return(-1, &t->nr_waiters);
	dl_users_add(&t->users, w->uslot, DL_U_WAITERS, -1);
	shard_changed(sh);
}

static void waiter_grant(struct dl_table *t, struct dl_cmd *cx,
			 struct dl_shard *sh, u32 shard, struct dl_entry *w)
{
	struct dl_wait_done wd;
	struct dl_lock *l = w->lock;
	u32 ttl = w->ttl_ms;

	DL_ASSERT(cx->global);
	wd.sess = w->sess;
	wd.cookie = w->cookie;
	waiter_unlink(t, sh, w);
	holder_link(t, cx, sh, shard, l, w, ttl);
	lease_count(t, w, 1);	/* a granted wait is not held to the caps */
	wd.name = l->name;
	wd.name_len = l->name_len;
	wd.err = 0;
	wd.token = w->token;
	t->ops->wait_done(cx, &wd);
}

/*
 * Grants the head of the queue while it fits: one exclusive waiter, a run of
 * shared ones, or as many semaphore waiters as there are free permits, in
 * FIFO order and never past a head that does not fit.  Waiters of a session
 * being ended are dropped rather than granted.
 */
static void lock_settle(struct dl_table *t, struct dl_cmd *cx,
			struct dl_shard *sh, u32 shard, struct dl_lock *l)
{
	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	while (!dl_link_empty(&l->waiters)) {
		struct dl_entry *w = entry_of_lock_link(l->waiters.next);

		if (w->sess->dying) {
			waiter_unlink(t, sh, w);
			entry_free(t, sh, w);
			continue;
		}
		if (!lock_grantable(l, w->mode))
			break;
		waiter_grant(t, cx, sh, shard, w);
	}
	if (!l->nr_holders && !l->nr_waiters) {
		shard_changed(sh);
		lock_remove(t, sh, l);
	}
}

/* Ends a lease: unlinks, tells the holder and the watchers, frees it. */
static void holder_end(struct dl_table *t, struct dl_cmd *cx,
		       struct dl_shard *sh, struct dl_entry *e,
		       enum dl_event_type type)
{
	struct dl_lock *l = e->lock;

	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	DL_ASSERT(l->nr_holders > 0 && !(e->flags & DL_E_WAITER));
	if (e->sess && (type == DL_EV_EXPIRED || type == DL_EV_BROKEN)) {
		struct dl_lost ls = {
			.sess = e->sess,
			.tag = e->tag,
			.name = l->name,
			.name_len = l->name_len,
			.token = e->token,
			.reason = type == DL_EV_EXPIRED ? DL_LOST_EXPIRED :
							  DL_LOST_BROKEN,
		};

		t->ops->lost(cx, &ls);
	}
	emit(t, cx, type, e);
	dl_link_del(&e->lock_link);
	l->nr_holders--;
	if (l->hidx)
		hidx_remove(t, l, e);
	hidx_fit(t, l);
	if (e->sess)
		dl_link_del(&e->sess_link);
	heap_del(sh, e);
	lease_count(t, e, -1);
	shard_changed(sh);
	entry_free(t, sh, e);
}

/* ---- deadlock detection ---------------------------------------------- */

/* Whether a holder or earlier waiter in @bmode keeps a @wmode wait blocked. */
static bool modes_conflict(const struct dl_lock *l, u8 bmode, u8 wmode)
{
	/*
	 * A multi-permit semaphore waiter waits for any one holder, not for
	 * each: such edges are not followed (documented limitation).
	 */
	if (l->permits)
		return l->permits == 1;
	return bmode == DL_MODE_EXCLUSIVE || wmode == DL_MODE_EXCLUSIVE;
}

/*
 * A frame "covers" its lock when its wait conflicts with every holder and
 * every waiter ahead (exclusive, or a 1-permit semaphore).  Then the wait
 * of anyone ahead of it on the same lock is blocked by a subset of what
 * blocks the frame, so following it finds nothing new.
 */
static bool frame_covers(const struct dl_walk_frame *f)
{
	if (f->lock->permits)
		return f->lock->permits == 1;
	return f->mode == DL_MODE_EXCLUSIVE;
}

/*
 * Enumerates whom the frame's wait waits for, keeping only blockers that
 * can lead somewhere new:
 *  - phase 0: conflicting holders;
 *  - phase 1 (covering frames): waiters ahead whose owner also waits
 *    elsewhere (->multi); the others' only wait is on this lock and is
 *    covered.  The requester's own waits count as multi (acquire_queue()
 *    marks them before the walk), so a cycle through it is never pruned;
 *  - phase 3 (shared frames): only the last exclusive waiter ahead, whose
 *    own (covering) frame blocks on everything this frame would.
 */
/* The walk used its budget: it stops and counts as truncated. */
static bool walk_spent(const struct dl_table *t)
{
	return t->walk_steps > t->cfg.deadlk_budget;
}

static const struct dl_entry *next_blocker(struct dl_table *t,
					   struct dl_walk_frame *f)
{
	const struct dl_lock *l = f->lock;
	const struct dl_entry *e;

	if (f->phase == 3) {
		f->phase = 2;
		return f->blocker_one;
	}
	while (f->phase == 0 && !walk_spent(t)) {
		t->walk_steps++;
		f->pos = f->pos->next;
		if (f->pos == &l->holders) {
			f->phase = frame_covers(f) && l->nr_multi ? 1 : 2;
			f->pos = &l->waiters;
			break;
		}
		e = entry_of_lock_link(f->pos);
		if (modes_conflict(l, e->mode, f->mode))
			return e;
	}
	while (f->phase == 1 && !walk_spent(t)) {	/* ahead of self only */
		t->walk_steps++;
		f->pos = f->pos->next;
		if (f->pos == &l->waiters)
			break;
		e = entry_of_lock_link(f->pos);
		if (e == f->self)
			break;
		if (e->multi)
			return e;
	}
	f->phase = 2;
	return NULL;
}

/*
 * Next wait of the frame's blocker: its owner's list in the owner index
 * holds only its own waits, and at most one of them is on f->lock.
 */
static const struct dl_entry *next_wait_of(struct dl_table *t,
					   struct dl_walk_frame *f)
{
	if (!f->whead)
		return NULL;
	for (f->wpos = f->wpos->next; f->wpos != f->whead;
	     f->wpos = f->wpos->next) {
		const struct dl_entry *w = entry_of_olink(f->wpos);

		t->walk_steps++;
		if (w->lock == f->lock && frame_covers(f))
			continue;
		return w;
	}
	return NULL;
}

/*
 * The last exclusive waiter ahead of @self (NULL: of the whole queue, which
 * the lock remembers unless it left; then it is looked for here and
 * remembered again).  Stops when the walk's budget is spent.
 */
static const struct dl_entry *last_excl_ahead(struct dl_table *t,
					      const struct dl_lock *l,
					      const struct dl_entry *self)
{
	struct dl_lock *ml = (struct dl_lock *)l;	/* global lock held */
	const struct dl_link *p;

	if (!self && !l->excl_unknown)
		return l->last_excl;
	p = self ? self->lock_link.prev : l->waiters.prev;
	for (; p != &l->waiters; p = p->prev) {
		struct dl_entry *e = entry_of_lock_link(p);

		if (walk_spent(t))
			return NULL;
		t->walk_steps++;
		if (e->mode != DL_MODE_EXCLUSIVE)
			continue;
		if (!self) {
			ml->last_excl = e;
			ml->excl_unknown = 0;
		}
		return e;
	}
	if (!self)
		ml->excl_unknown = 0;
	return NULL;
}

static void walk_push(struct dl_table *t, struct dl_walk_frame *f,
		      const struct dl_lock *l, const struct dl_entry *self,
		      u8 mode)
{
	f->lock = l;
	f->self = self;
	f->mode = mode;
	f->pos = &l->holders;
	f->phase = 0;
	f->blocker = NULL;
	f->blocker_one = NULL;
	/*
	 * A waiter on a multi-permit semaphore waits for no one in particular
	 * (modes_conflict()): nothing to enumerate, however many permits.
	 */
	if (l->permits > 1)
		f->phase = 2;
	if (!l->permits && mode == DL_MODE_SHARED) {
		f->blocker_one = last_excl_ahead(t, l, self);
		if (f->blocker_one)
			f->phase = 3;
	}
}

/*
 * Would the request of @req for @l in @mode, queued at the tail, close a
 * cycle in the wait-for graph?  Owner A waits for owner B when B holds the
 * lock A waits on in a conflicting mode, or waits ahead of A on it in a
 * conflicting mode (FIFO: A cannot pass B).  Iterative depth-first search
 * with an explicit stack of cfg.deadlk_depth frames; each wait is followed
 * at most once per walk, and next_blocker() prunes edges that cannot lead
 * anywhere new, so a queue of thousands of plain waiters costs nothing.
 * Branches deeper than the stack are not followed and a walk stops after
 * cfg.deadlk_budget steps (list and index entries looked at); both count in
 * deadlk_truncated and the request is then queued (like POSIX fcntl locks, a
 * cycle the walk could not see is left to wait timeouts and cancellation).
 */
static int deadlock_walk(struct dl_table *t, const struct dl_lock *l, u8 mode,
			 const struct dl_okey *req)
{
	struct dl_walk_frame *stack = t->walk;
	bool truncated = false;
	struct dl_okey bk;
	u32 depth = 1;
	u32 gen;

	/* Entries start with walk_gen 0, so a walk never uses 0. */
	if (!++t->walk_gen)
		t->walk_gen = 1;
	gen = t->walk_gen;
	t->walk_steps = 0;
	walk_push(t, &stack[0], l, NULL, mode);
	while (depth) {
		struct dl_walk_frame *f = &stack[depth - 1];
		const struct dl_entry *b, *w;
		struct dl_owner *o;

		if (walk_spent(t)) {
			truncated = true;
			break;
		}
		if (f->blocker) {
			w = next_wait_of(t, f);
			if (!w) {
				f->blocker = NULL;
				continue;
			}
			if (w->walk_gen == gen)
				continue;
			/*
			 * Not marked when not followed: a shorter path may still
			 * reach it within the depth limit.
			 */
			if (depth == t->cfg.deadlk_depth) {
				truncated = true;
				continue;
			}
			((struct dl_entry *)w)->walk_gen = gen;
			walk_push(t, &stack[depth++], w->lock, w, w->mode);
			continue;
		}
		b = next_blocker(t, f);
		if (!b) {
			depth--;
			continue;
		}
		entry_okey(t, b, &bk);
		if (dl_okey_eq(&bk, req))
			return -EDEADLK;
		o = dl_index_owner(&t->idx, &bk, &t->walk_steps);
		f->blocker = b;
		f->whead = o ? &o->waits : NULL;
		f->wpos = f->whead;
	}
	/* A scan cut short by the budget ends the walk like the check above. */
	if (truncated || walk_spent(t))
		t->deadlk_truncated++;
	return 0;
}

/* The walk, with its steps added to the command's. */
static int deadlock_check(struct dl_table *t, struct dl_cmd *cx,
			  const struct dl_lock *l, u8 mode,
			  const struct dl_okey *req)
{
	int err = deadlock_walk(t, l, mode, req);

	cx->steps += t->walk_steps;
	return err;
}

/* ---- table and sessions ---------------------------------------------- */

static int config_fill(struct dl_table_config *c)
{
	if (!c->nr_shards || c->nr_shards > DL_MAX_SHARDS ||
	    (c->nr_shards & (c->nr_shards - 1)))
		return -EINVAL;
	if (c->meta_size > 256)
		return -EINVAL;
	if (!c->max_ttl_ms)
		c->max_ttl_ms = DL_DEFAULT_MAX_TTL_MS;
	if (!c->deadlk_depth)
		c->deadlk_depth = DL_DEFAULT_DEADLK_DEPTH;
	if (!c->deadlk_budget)
		c->deadlk_budget = DL_DEFAULT_DEADLK_BUDGET;
	if (!c->index_bits)
		c->index_bits = 6;
	if (!c->user_slots)
		c->user_slots = DL_DEFAULT_USER_SLOTS;
	if (c->index_bits > 20 || c->deadlk_depth > 1024 ||
	    c->user_slots < 2 || c->user_slots > 65536)
		return -EINVAL;
	/* Entry tails hold meta then owner; keep pointers after them aligned. */
	c->meta_size = (c->meta_size + 7) & ~7U;
	return 0;
}

static void table_free_parts(struct dl_table *t)
{
	u32 i;

	if (t->shards) {
		for (i = 0; i < t->cfg.nr_shards; i++) {
			struct dl_shard *sh = &t->shards[i];

			dl_free(t, DL_OBJ_BUCKETS, sh->buckets,
				sizeof(*sh->buckets) << sh->bits);
			dl_free(t, DL_OBJ_HEAP, sh->heap,
				sizeof(*sh->heap) * sh->heap_cap);
		}
		dl_free(t, DL_OBJ_SHARDS, t->shards,
			sizeof(*t->shards) * t->cfg.nr_shards);
	}
	dl_index_destroy(&t->idx);
	dl_free(t, DL_OBJ_WALK, t->walk, sizeof(*t->walk) * t->cfg.deadlk_depth);
	dl_users_free(&t->users, t->ops, t->priv);
	dl_free(t, DL_OBJ_TABLE, t, sizeof(*t));
}

struct dl_table *dl_table_create(const struct dl_table_config *cfg,
				 const struct dl_table_ops *ops, void *priv)
{
	struct dl_table_config c = *cfg;
	struct dl_hasher h = { .ops = ops, .priv = priv, .seed = c.hash_seed };
	struct dl_table *t;
	u32 i;

	if (config_fill(&c))
		return NULL;
	t = ops->alloc(priv, DL_OBJ_TABLE, sizeof(*t));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->cfg = c;
	t->ops = ops;
	t->priv = priv;
	t->shard_mask = c.nr_shards - 1;
	t->shards = dl_alloc(t, DL_OBJ_SHARDS, sizeof(*t->shards) * c.nr_shards);
	t->walk = dl_alloc(t, DL_OBJ_WALK, sizeof(*t->walk) * c.deadlk_depth);
	if (t->shards)
		memset(t->shards, 0, sizeof(*t->shards) * c.nr_shards);
	if (!t->shards || !t->walk || dl_index_init(&t->idx, &h, c.index_bits) ||
	    dl_users_init(&t->users, ops, priv, c.user_slots))
		goto fail;
	t->users.lim[DL_U_LEASES] = c.max_user_leases;
	t->users.lim[DL_U_WAITERS] = c.max_user_waiters;
	t->users.lim[DL_U_VALUE_BYTES] = c.max_user_value_bytes;
	for (i = 0; i < c.nr_shards; i++) {
		struct dl_shard *sh = &t->shards[i];
		size_t sz = sizeof(*sh->buckets) << DL_MIN_BUCKET_BITS;

		sh->buckets = dl_alloc(t, DL_OBJ_BUCKETS, sz);
		if (!sh->buckets)
			goto fail;
		memset(sh->buckets, 0, sz);
		sh->bits = DL_MIN_BUCKET_BITS;
	}
	return t;
fail:
	table_free_parts(t);
	return NULL;
}

void dl_table_destroy(struct dl_table *t)
{
	u32 i, b;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		struct dl_shard *sh = &t->shards[i];

		sh->heap_len = 0;
		for (b = 0; b < (1U << sh->bits); b++) {
			struct dl_lock *l = sh->buckets[b], *next;

			for (; l; l = next) {
				next = l->next;
				while (!dl_link_empty(&l->holders)) {
					struct dl_entry *e =
						entry_of_lock_link(l->holders.next);

					dl_link_del(&e->lock_link);
					entry_free(t, sh, e);
				}
				while (!dl_link_empty(&l->waiters)) {
					struct dl_entry *e =
						entry_of_lock_link(l->waiters.next);

					dl_link_del(&e->lock_link);
					entry_free(t, sh, e);
				}
				hidx_free(t, l);
				dl_free(t, DL_OBJ_LOCK, l, lock_size(l->name_len));
			}
		}
	}
	table_free_parts(t);
}

static size_t session_size(const struct dl_table *t)
{
	return sizeof(struct dl_session) +
	       (sizeof(struct dl_link) * 2 + 1) * t->cfg.nr_shards;
}

struct dl_session *dl_session_create(struct dl_table *t, u64 id)
{
	struct dl_session *s = dl_alloc(t, DL_OBJ_SESSION, session_size(t));
	u32 i;

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->nr_shards = t->cfg.nr_shards;
	for (i = 0; i < 2 * s->nr_shards; i++)
		dl_link_init(&s->lists[i]);
	memset(sess_touched(s), 0, s->nr_shards);
	return s;
}

u64 dl_session_id(const struct dl_session *s)
{
	return s->id;
}

long dl_session_leases(const struct dl_session *s)
{
	return dl_atomic_read(&s->nr_leases);
}

long dl_session_waiters(const struct dl_session *s)
{
	return dl_atomic_read(&s->nr_waiters);
}

bool dl_session_touched(const struct dl_session *s, u32 shard)
{
	return shard < s->nr_shards && sess_touched(s)[shard];
}

int dl_session_end(struct dl_table *t, struct dl_cmd *cx, struct dl_session *s,
		   u32 shard)
{
	return dl_session_end_some(t, cx, s, shard, 0);
}

int dl_session_end_some(struct dl_table *t, struct dl_cmd *cx,
			struct dl_session *s, u32 shard, u32 budget)
{
	struct dl_link *waits, *leases;
	struct dl_shard *sh;
	int ret = DL_MORE;
	u32 n = 0;

	if (shard >= t->cfg.nr_shards)
		return -EINVAL;
	sh = &t->shards[shard];
	waits = sess_list(s, shard, true);
	leases = sess_list(s, shard, false);
	if (!cx->global)
		return DL_NEED_GLOBAL;
	/* Read by acquire under a shard lock only: it just fails earlier. */
	WRITE_ONCE(s->dying, true);
	/* Waits first, so that no lease of this session is granted now. */
	while (!dl_link_empty(waits)) {
		struct dl_entry *w = entry_of_sess_link(waits->next);
		struct dl_lock *l = w->lock;

		if (budget && n++ == budget)
			goto out;
		waiter_unlink(t, sh, w);
		entry_free(t, sh, w);
		lock_settle(t, cx, sh, shard, l);
	}
	while (!dl_link_empty(leases)) {
		struct dl_entry *e = entry_of_sess_link(leases->next);
		struct dl_lock *l = e->lock;

		if (budget && n++ == budget)
			goto out;
		holder_end(t, cx, sh, e, DL_EV_OWNER_DIED);
		lock_settle(t, cx, sh, shard, l);
	}
	ret = 0;
out:
	shard_sync_timer(t, cx, shard);
	return ret;
}

int dl_session_destroy(struct dl_table *t, struct dl_session *s)
{
	u32 i;

	for (i = 0; i < 2 * s->nr_shards; i++)
		if (!dl_link_empty(&s->lists[i]))
			return -EBUSY;
	dl_free(t, DL_OBJ_SESSION, s, session_size(t));
	return 0;
}

/* ---- commands -------------------------------------------------------- */

/* Reasons (cx->why) that more than one command gives. */
#define DL_WHY_NAME	"lock name must be 1 to 255 bytes without a NUL"
#define DL_WHY_OWNER	"owner must be a string of 1 to 64 bytes without a NUL, or a socket"
#define DL_WHY_OTHER_USER	"lease belongs to another user"
#define DL_WHY_NO_REQUEST	"no such queued request"

/* Finds the lock of @name; fills the shard it lives in. */
static struct dl_lock *name_lookup(struct dl_table *t, const char *name,
				   u32 len, u32 *shard, u32 *hkey)
{
	u64 h = dl_name_hash(t, name, len);

	*shard = (u32)h & t->shard_mask;
	*hkey = (u32)(h >> 32);
	return lock_find(&t->shards[*shard], *hkey, name, len);
}

static int acquire_validate(struct dl_cmd *cx,
			    const struct dl_acquire_req *rq)
{
	bool detached = rq->flags & DL_ACQ_DETACHED;

	if (dl_name_valid(rq->name, rq->name_len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	if (rq->flags & ~DL_ACQ_FLAGS)
		return dl_fail(cx, -EINVAL, "unknown acquire flags");
	if (!rq->sess)
		return dl_fail(cx, -EINVAL, "acquire without a session");
	/* Unsigned: an enum may be signed, and the glue may cast any u32. */
	if ((u32)rq->mode > DL_MODE_SEMAPHORE)
		return dl_fail(cx, -EINVAL, "unknown lock mode");
	if (rq->mode == DL_MODE_SEMAPHORE && !rq->permits)
		return dl_fail(cx, -EINVAL, "a semaphore needs its number of permits");
	if (rq->mode != DL_MODE_SEMAPHORE && rq->permits)
		return dl_fail(cx, -EINVAL, "permits apply to semaphores only");
	if (detached && (rq->flags & DL_ACQ_NO_TTL))
		return dl_fail(cx, -EINVAL, "a detached lease needs a TTL");
	if (!(rq->flags & DL_ACQ_NO_TTL) && !rq->ttl_ms)
		return dl_fail(cx, -EINVAL, "a TTL is required (or the no-TTL flag)");
	if (detached && (!rq->owner || !rq->owner_len ||
			 rq->owner_len > DL_OWNER_MAX ||
			 strnlen(rq->owner, rq->owner_len) != rq->owner_len))
		return dl_fail(cx, -EINVAL, DL_WHY_OWNER);
	if (READ_ONCE(rq->sess->dying))
		return dl_fail(cx, -ENOTCONN, "socket is closing");
	return 0;
}

static void req_okey(const struct dl_acquire_req *rq, struct dl_okey *k)
{
	k->detached = rq->flags & DL_ACQ_DETACHED;
	k->sess = k->detached ? NULL : rq->sess;
	k->sess_id = k->sess ? k->sess->id : 0;
	k->tag = k->detached ? 0 : rq->tag;
	k->str = k->detached ? rq->owner : NULL;
	k->len = k->detached ? rq->owner_len : 0;
}

static int charge(dl_atomic_t *c, u32 cap, int err)
{
	long n = dl_atomic_add_return(1, c);

	if (cap && n > (long)cap) {
		dl_atomic_add_return(-1, c);
		return err;
	}
	return 0;
}

/*
 * A reference on the requester's uid slot, and one more of @c counted on it
 * if its cap admits it (privileged requesters are counted, not capped).
 * The count stays: a request on another shard sees it at once, so the cap
 * holds exactly.
 */
static int user_charge(struct dl_table *t, const struct dl_acquire_req *rq,
		       enum dl_ucount c, u32 *uslot)
{
	int err = 0;

	*uslot = dl_users_get(&t->users, rq->uid);
	if (rq->privileged)
		dl_users_add(&t->users, *uslot, c, 1);
	else
		err = dl_users_charge(&t->users, *uslot, c, 1,
				      READ_ONCE(t->cfg.max_leases),
				      READ_ONCE(t->cfg.max_waiters));
	if (err)
		dl_users_put(&t->users, *uslot);
	return err;
}

/* A detached owner's entry answers to its uid, or to a privileged caller. */
static bool user_may(const struct dl_entry *e, u32 uid, bool privileged)
{
	return !(e->flags & DL_E_DETACHED) || e->uid == uid || privileged;
}

static struct dl_entry *entry_new(struct dl_table *t, struct dl_shard *sh,
				  const struct dl_acquire_req *rq, u32 uslot)
{
	u32 olen = rq->flags & DL_ACQ_DETACHED ? rq->owner_len : 0;
	struct dl_entry *e;

	if (shard_reserve(t, sh))
		return NULL;
	e = dl_alloc(t, DL_OBJ_ENTRY, entry_size(t, olen));
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	sh->nr_entries++;
	e->heap_idx = DL_NO_HEAP;
	e->uid = rq->uid;
	e->uslot = uslot;
	e->mode = rq->mode;
	e->sess = rq->sess;
	e->tag = rq->flags & DL_ACQ_DETACHED ? 0 : rq->tag;
	if (rq->flags & DL_ACQ_DETACHED)
		e->flags |= DL_E_DETACHED;
	if (rq->flags & DL_ACQ_NO_TTL)
		e->flags |= DL_E_NO_TTL;
	e->owner_len = olen;
	if (rq->meta)
		memcpy(e->tail, rq->meta, t->cfg.meta_size);
	else
		memset(e->tail, 0, t->cfg.meta_size);
	if (olen)
		memcpy(e->tail + t->cfg.meta_size, rq->owner, olen);
	dl_link_init(&e->sess_link);
	dl_link_init(&e->lock_link);
	return e;
}

static int acquire_reentrant(struct dl_table *t, struct dl_cmd *cx,
			     struct dl_shard *sh, struct dl_entry *e,
			     const struct dl_acquire_req *rq,
			     struct dl_acquire_res *res)
{
	u64 d;

	/* Changing mode in place would wait on ourselves (or be a downgrade). */
	if (e->mode != rq->mode)
		return dl_fail(cx, -EDEADLK, "this owner holds the lock in another mode: release it to change mode");
	if (e->count == DL_U32_MAX)
		return dl_fail(cx, -EOVERFLOW, "reentrancy count overflow");
	e->count++;
	if (!(e->flags & DL_E_NO_TTL)) {
		d = ttl_deadline(t, cx->now, rq->ttl_ms);
		if (d > e->deadline)
			entry_set_deadline(sh, e, d);
	}
	shard_changed(sh);
	res->token = e->token;
	res->count = e->count;
	return 0;
}

/* Grants a fresh lease; @l is NULL if the name has no lock yet. */
static int acquire_grant(struct dl_table *t, struct dl_cmd *cx, u32 shard,
			 u32 hkey, struct dl_lock *l,
			 const struct dl_acquire_req *rq,
			 struct dl_acquire_res *res)
{
	struct dl_shard *sh = &t->shards[shard];
	bool detached = rq->flags & DL_ACQ_DETACHED;
	struct dl_entry *e = NULL;
	u32 uslot;
	int err;

	/*
	 * The charges stay and are the lease's count: one given back before
	 * the holder is counted would let two acquires on other shards both
	 * pass a cap with one place left.
	 */
	err = user_charge(t, rq, DL_U_LEASES, &uslot);
	if (err)
		return dl_fail(cx, err, "user limit of leases reached");
	err = charge(&t->nr_leases, READ_ONCE(t->cfg.max_leases), -ENOSPC);
	if (dl_fail(cx, err, "namespace limit of leases reached"))
		goto undo_user;
	if (!detached) {
		err = charge(&rq->sess->nr_leases,
			     READ_ONCE(t->cfg.max_session_leases), -EDQUOT);
		if (dl_fail(cx, err, "socket limit of leases reached"))
			goto undo_table;
	}
	err = -ENOMEM;
	e = entry_new(t, sh, rq, uslot);
	if (!e)
		goto undo_sess;
	if (!l) {
		l = lock_new(t, hkey, rq->name, rq->name_len);
		if (!l) {
			entry_free(t, sh, e);	/* drops the uid slot reference */
			goto undo_sess;
		}
		l->permits = rq->permits;
		l->mode = rq->mode;
		lock_insert(t, sh, l);
	}
	holder_link(t, cx, sh, shard, l, e, rq->ttl_ms);
	res->token = e->token;
	res->count = 1;
	return 0;
undo_sess:
	if (!detached)
		dl_atomic_add_return(-1, &rq->sess->nr_leases);
undo_table:
	dl_atomic_add_return(-1, &t->nr_leases);
undo_user:
	/* e is set only if entry_free() dropped the reference already. */
	dl_users_add(&t->users, uslot, DL_U_LEASES, -1);
	if (!e)
		dl_users_put(&t->users, uslot);
	return err;
}

static int acquire_queue(struct dl_table *t, struct dl_cmd *cx, u32 shard,
			 struct dl_lock *l, const struct dl_acquire_req *rq,
			 const struct dl_okey *k)
{
	struct dl_shard *sh = &t->shards[shard];
	struct dl_entry *w, *lone = NULL;
	struct dl_owner *o;
	u32 uslot;
	int err;

	DL_ASSERT(cx->global);
	w = waiter_find(t, cx, l, k);
	if (w && !user_may(w, rq->uid, rq->privileged))
		return dl_fail(cx, -EPERM, "owner waits on this lock as another user");
	if (w)
		return dl_fail(cx, -EALREADY, "owner is already waiting for this lock");
	/*
	 * With this wait the requester waits twice: mark a single earlier
	 * wait multi now, for the walk (undone if the request fails).
	 */
	o = dl_index_owner(&t->idx, k, &cx->steps);
	if (o && o->nr_waits == 1) {
		lone = entry_of_olink(o->waits.next);
		set_multi(lone, true);
	}
	err = deadlock_check(t, cx, l, rq->mode, k);
	if (dl_fail(cx, err, "waiting would deadlock: the lock is held by an owner waiting for one this owner holds"))
		goto undo_multi;
	err = user_charge(t, rq, DL_U_WAITERS, &uslot);
	if (dl_fail(cx, err, "user limit of waiters reached"))
		goto undo_multi;
	err = charge(&t->nr_waiters, READ_ONCE(t->cfg.max_waiters), -ENOSPC);
	if (dl_fail(cx, err, "namespace limit of waiters reached"))
		goto undo_user;
	err = charge(&rq->sess->nr_waiters,
		     READ_ONCE(t->cfg.max_session_waiters), -EDQUOT);
	if (dl_fail(cx, err, "socket limit of waiters reached"))
		goto undo_table;
	w = entry_new(t, sh, rq, uslot);
	if (!w) {
		err = -ENOMEM;
		goto undo_sess;
	}
	w->wn = dl_index_add(&t->idx, k, l, l->hkey,
			     dl_index_cookie_hash(&t->idx, rq->sess->id,
						  rq->cookie, l->hkey), w);
	if (!w->wn) {
		entry_free(t, sh, w);	/* drops the uid slot reference */
		err = -ENOMEM;
		goto undo_sess;
	}
	w->flags |= DL_E_WAITER;
	w->lock = l;
	w->cookie = rq->cookie;
	w->ttl_ms = rq->ttl_ms;
	dl_link_add_tail(&w->lock_link, &l->waiters);
	l->nr_waiters++;
	if (w->mode == DL_MODE_EXCLUSIVE) {
		l->last_excl = w;
		l->excl_unknown = 0;
	}
	multi_add(w);
	sess_touch(rq->sess, shard);
	dl_link_add_tail(&w->sess_link, sess_list(rq->sess, shard, true));
	if (rq->wait_ms)
		entry_set_deadline(sh, w, cx->now +
				   (u64)rq->wait_ms * DL_NS_PER_MS);
	shard_changed(sh);
	return DL_QUEUED;
undo_sess:
	dl_atomic_add_return(-1, &rq->sess->nr_waiters);
undo_table:
	dl_atomic_add_return(-1, &t->nr_waiters);
undo_user:
	/* w is set only if entry_free() dropped the reference already. */
	dl_users_add(&t->users, uslot, DL_U_WAITERS, -1);
	if (!w)
		dl_users_put(&t->users, uslot);
undo_multi:
	if (lone)
		set_multi(lone, false);
	return err;
}

/* A lock's kind (readers-writer or N-permit semaphore) is fixed while it lives. */
static int kind_check(struct dl_cmd *cx, const struct dl_lock *l,
		      const struct dl_acquire_req *rq)
{
	if (l->permits == rq->permits)
		return 0;
	if (!l->permits)
		return dl_fail(cx, -EINVAL, "the lock is a readers-writer lock, not a semaphore");
	if (!rq->permits)
		return dl_fail(cx, -EINVAL, "the lock is a semaphore: give its number of permits");
	return dl_fail(cx, -EINVAL, "permits differ from the semaphore's");
}

int dl_acquire(struct dl_table *t, struct dl_cmd *cx,
	       const struct dl_acquire_req *rq, struct dl_acquire_res *res)
{
	struct dl_lock *l;
	struct dl_entry *e;
	struct dl_okey k;
	u32 shard, hkey;
	int err;

	err = acquire_validate(cx, rq);
	if (err)
		return err;
	l = name_lookup(t, rq->name, rq->name_len, &shard, &hkey);
	req_okey(rq, &k);
	if (!l) {
		err = acquire_grant(t, cx, shard, hkey, NULL, rq, res);
		goto out;
	}
	err = kind_check(cx, l, rq);
	if (err)
		return err;
	e = holder_find(t, l, &k, &cx->steps);
	if (e) {
		if (!user_may(e, rq->uid, rq->privileged))
			return dl_fail(cx, -EPERM, DL_WHY_OTHER_USER);
		err = acquire_reentrant(t, cx, &t->shards[shard], e, rq, res);
		goto out;
	}
	if (!l->nr_waiters && lock_grantable(l, rq->mode)) {
		err = acquire_grant(t, cx, shard, hkey, l, rq, res);
		goto out;
	}
	if (rq->flags & DL_ACQ_TRY)
		return dl_fail(cx, -EAGAIN, lock_grantable(l, rq->mode) ?
			       "requests are queued ahead of this one" :
			       "lock is held");
#ifndef DLOCK_PLANT_LOCK_BUG	/* the planted bug tests/host/table.mk builds */
	if (!cx->global)
		return DL_NEED_GLOBAL;
#endif
	err = acquire_queue(t, cx, shard, l, rq, &k);
out:
	shard_sync_timer(t, cx, shard);
	return err;
}

/* Finds the holder entry of owner @o on @name, or why there is none. */
static int find_own(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, const struct dl_owner_ref *o, u32 *shard,
		    struct dl_entry **out)
{
	struct dl_lock *l;
	struct dl_okey k;
	u32 hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	if (owner_ref_valid(o))
		return dl_fail(cx, -EINVAL, DL_WHY_OWNER);
	l = name_lookup(t, name, len, shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_holders)
		return dl_fail(cx, -ENOENT, "lock has no holder");
	ref_okey(o, &k);
	*out = holder_find(t, l, &k, &cx->steps);
	if (!*out)
		return dl_fail(cx, -EPERM, "lock is not held by this owner");
	if (!user_may(*out, o->uid, o->privileged))
		return dl_fail(cx, -EPERM, DL_WHY_OTHER_USER);
	return 0;
}

int dl_release(struct dl_table *t, struct dl_cmd *cx, const char *name,
	       u32 len, const struct dl_owner_ref *o, u32 *count)
{
	struct dl_entry *e;
	struct dl_lock *l;
	u32 shard;
	int err;

	err = find_own(t, cx, name, len, o, &shard, &e);
	if (err)
		return err;
	l = e->lock;
	if (e->count > 1) {
		e->count--;
		shard_changed(&t->shards[shard]);
		if (count)
			*count = e->count;
		return 0;
	}
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	holder_end(t, cx, &t->shards[shard], e, DL_EV_RELEASED);
	lock_settle(t, cx, &t->shards[shard], shard, l);
	shard_sync_timer(t, cx, shard);
	if (count)
		*count = 0;
	return 0;
}

int dl_renew(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     const struct dl_owner_ref *o, u32 ttl_ms)
{
	struct dl_entry *e;
	u32 shard;
	int err;

	err = find_own(t, cx, name, len, o, &shard, &e);
	if (err)
		return err;
	if (!ttl_ms)
		return dl_fail(cx, -EINVAL, "a renewal needs a TTL above zero");
	if (e->flags & DL_E_NO_TTL)
		return 0;	/* lives as long as its session anyway */
	entry_set_deadline(&t->shards[shard], e,
			   ttl_deadline(t, cx->now, ttl_ms));
	shard_changed(&t->shards[shard]);
	shard_sync_timer(t, cx, shard);
	return 0;
}

int dl_set_value(struct dl_table *t, struct dl_cmd *cx, const char *name,
		 u32 len, const struct dl_owner_ref *o, const void *val,
		 u32 val_len)
{
	struct dl_value *v = NULL;
	struct dl_entry *e;
	u32 shard;
	long delta;
	int err;

	if (val_len > DL_VALUE_MAX)
		return dl_fail(cx, -E2BIG, "value is longer than 1024 bytes");
	if (val_len && !val)
		return dl_fail(cx, -EINVAL, "value has a length but no bytes");
	err = find_own(t, cx, name, len, o, &shard, &e);
	if (err)
		return err;
	delta = (long)val_len - (e->value ? (long)e->value->len : 0);
	if (delta > 0 && !o->privileged) {
		/* Charged to the lease's uid: the memory lives as long as it. */
		err = dl_users_admit(&t->users, e->uslot, DL_U_VALUE_BYTES,
				     delta, READ_ONCE(t->cfg.max_leases),
				     READ_ONCE(t->cfg.max_waiters));
		if (err)
			return dl_fail(cx, err, "user limit of value bytes reached");
	}
	if (val_len) {
		v = dl_alloc(t, DL_OBJ_VALUE, sizeof(*v) + val_len);
		if (!v)
			return -ENOMEM;
		v->len = val_len;
		memcpy(v->data, val, val_len);
	}
	if (e->value)
		dl_free(t, DL_OBJ_VALUE, e->value, sizeof(*v) + e->value->len);
	e->value = v;
	dl_users_add(&t->users, e->uslot, DL_U_VALUE_BYTES, delta);
	shard_changed(&t->shards[shard]);
	emit(t, cx, DL_EV_VALUE, e);
	return 0;
}

/* The queued acquire (@s, @cookie) on @name; it needs the global lock. */
static int find_wait(struct dl_table *t, struct dl_cmd *cx, const char *name,
		     u32 len, const struct dl_session *s, u64 cookie,
		     u32 *shard, struct dl_entry **w)
{
	struct dl_lock *l;
	u32 hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	if (!s)
		return dl_fail(cx, -EINVAL, "cancel without a session");
	l = name_lookup(t, name, len, shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_waiters)
		return dl_fail(cx, -ENOENT, "no request is queued on this lock");
	if (!cx->global)
		return DL_NEED_GLOBAL;
	*w = waiter_by_cookie(t, cx, l, s, cookie);
	return *w ? 0 : dl_fail(cx, -ENOENT, DL_WHY_NO_REQUEST);
}

int dl_cancel(struct dl_table *t, struct dl_cmd *cx, const char *name,
	      u32 len, const struct dl_session *s, u64 cookie)
{
	struct dl_lock *l;
	struct dl_entry *w;
	u32 shard;
	int err;

	err = find_wait(t, cx, name, len, s, cookie, &shard, &w);
	if (err)
		return err;
	l = w->lock;
	waiter_unlink(t, &t->shards[shard], w);
	entry_free(t, &t->shards[shard], w);
	/* The head may have been what blocked those behind it. */
	lock_settle(t, cx, &t->shards[shard], shard, l);
	shard_sync_timer(t, cx, shard);
	return 0;
}

static void waiter_timeout(struct dl_table *t, struct dl_cmd *cx, u32 shard,
			   struct dl_entry *w)
{
	struct dl_shard *sh = &t->shards[shard];
	struct dl_lock *l = w->lock;
	struct dl_wait_done wd = {
		.sess = w->sess,
		.cookie = w->cookie,
		.name = l->name,
		.name_len = l->name_len,
		.err = -ETIMEDOUT,
	};

	DL_ASSERT(cx->global);
	waiter_unlink(t, sh, w);
	entry_free(t, sh, w);
	t->ops->wait_done(cx, &wd);
	lock_settle(t, cx, sh, shard, l);
}

int dl_expire_wait(struct dl_table *t, struct dl_cmd *cx, const char *name,
		   u32 len, const struct dl_session *s, u64 cookie)
{
	struct dl_entry *w;
	u32 shard;
	int err;

	err = find_wait(t, cx, name, len, s, cookie, &shard, &w);
	if (err)
		return err;
	if (!w->deadline || w->deadline > cx->now)
		return -EAGAIN;
	waiter_timeout(t, cx, shard, w);
	shard_sync_timer(t, cx, shard);
	return 0;
}

/* Ends holder @e of @l for an expiry or a break, then hands the lock on. */
static void holder_kill(struct dl_table *t, struct dl_cmd *cx, u32 shard,
			struct dl_entry *e, enum dl_event_type type)
{
	struct dl_lock *l = e->lock;

	holder_end(t, cx, &t->shards[shard], e, type);
	lock_settle(t, cx, &t->shards[shard], shard, l);
}

int dl_expire_lease(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, u64 token)
{
	struct dl_entry *e;
	struct dl_lock *l;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return -EINVAL;
	l = name_lookup(t, name, len, &shard, &hkey);
	/* Replicas expire in deadline order: usually the heap's first entry. */
	e = NULL;
	if (l && t->shards[shard].heap_len) {
		e = t->shards[shard].heap[0];
		if (e->lock != l || (e->flags & DL_E_WAITER) || e->token != token)
			e = NULL;
	}
	if (l && !e)
		e = holder_by_token(l, token);
	if (!e)
		return -ENOENT;
	if (!e->deadline || e->deadline > cx->now)
		return -EAGAIN;	/* renewed since the timer was set */
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	holder_kill(t, cx, shard, e, DL_EV_EXPIRED);
	shard_sync_timer(t, cx, shard);
	return 0;
}

int dl_break(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     u64 token)
{
	struct dl_lock *l;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	l = name_lookup(t, name, len, &shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_holders)
		return dl_fail(cx, -ENOENT, "lock has no holder");
	if (token && !holder_by_token(l, token))
		return dl_fail(cx, -ENOENT, "lock has no holder with this token");
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	if (token) {
		holder_kill(t, cx, shard, holder_by_token(l, token),
			    DL_EV_BROKEN);
	} else {
		/* Settle only once all are gone, or waiters would get in between. */
		while (l->nr_holders > 1)
			holder_end(t, cx, &t->shards[shard],
				   entry_of_lock_link(l->holders.next),
				   DL_EV_BROKEN);
		holder_kill(t, cx, shard, entry_of_lock_link(l->holders.next),
			    DL_EV_BROKEN);
	}
	shard_sync_timer(t, cx, shard);
	return 0;
}

int dl_run_timers(struct dl_table *t, struct dl_cmd *cx, u32 shard,
		  u32 budget)
{
	struct dl_shard *sh;
	u32 n = 0;
	int ret = 0;

	if (shard >= t->cfg.nr_shards)
		return -EINVAL;
	sh = &t->shards[shard];
	while (sh->heap_len && sh->heap[0]->deadline <= cx->now) {
		struct dl_entry *e = sh->heap[0];
		bool waiter = e->flags & DL_E_WAITER;

		if (budget && n == budget) {
			ret = DL_MORE;
			break;
		}
		if (!cx->global && (waiter || e->lock->nr_waiters)) {
			ret = DL_NEED_GLOBAL;
			break;
		}
		if (waiter)
			waiter_timeout(t, cx, shard, e);
		else
			holder_kill(t, cx, shard, e, DL_EV_EXPIRED);
		n++;
	}
	shard_sync_timer(t, cx, shard);
	return ret;
}

u64 dl_shard_next_deadline(const struct dl_table *t, u32 shard)
{
	const struct dl_shard *sh = &t->shards[shard];

	return sh->heap_len ? sh->heap[0]->deadline : 0;
}

const struct dl_entry *dl_shard_first_due(const struct dl_table *t, u32 shard,
					  u64 now)
{
	const struct dl_shard *sh = &t->shards[shard];

	if (!sh->heap_len || sh->heap[0]->deadline > now)
		return NULL;
	return sh->heap[0];
}

/* ---- inspection ------------------------------------------------------ */

const struct dl_lock *dl_lookup(struct dl_table *t, const char *name, u32 len)
{
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return NULL;
	return name_lookup(t, name, len, &shard, &hkey);
}

void dl_lock_info(const struct dl_lock *l, struct dl_lock_info *out)
{
	out->name = l->name;
	out->name_len = l->name_len;
	out->semaphore = l->permits != 0;
	out->mode = l->permits ? DL_MODE_SEMAPHORE : l->mode;
	out->permits = l->permits;
	out->nr_holders = l->nr_holders;
	out->nr_waiters = l->nr_waiters;
}

const struct dl_entry *dl_holder_next(const struct dl_lock *l,
				      const struct dl_entry *prev)
{
	const struct dl_link *p = prev ? prev->lock_link.next : l->holders.next;

	return p == &l->holders ? NULL : entry_of_lock_link(p);
}

const struct dl_entry *dl_waiter_next(const struct dl_lock *l,
				      const struct dl_entry *prev)
{
	const struct dl_link *p = prev ? prev->lock_link.next : l->waiters.next;

	return p == &l->waiters ? NULL : entry_of_lock_link(p);
}

const struct dl_lock *dl_entry_lock(const struct dl_entry *e)
{
	return e->lock;
}

void dl_entry_info(const struct dl_table *t, const struct dl_entry *e, u64 now,
		   struct dl_entry_info *out)
{
	bool waiter = e->flags & DL_E_WAITER;

	memset(out, 0, sizeof(*out));
	out->waiter = waiter;
	out->mode = e->mode;
	entry_view(t, e, &out->owner);
	out->meta = e->tail;
	if (waiter) {
		out->cookie = e->cookie;
	} else {
		out->token = e->token;
		out->count = e->count;
		if (e->value) {
			out->value = e->value->data;
			out->value_len = e->value->len;
		}
	}
	out->no_deadline = !e->deadline;
	out->remaining_ns = e->deadline > now ? e->deadline - now : 0;
}

/* ---- dump ------------------------------------------------------------ */

void dl_cursor_init(struct dl_cursor *c)
{
	memset(c, 0, sizeof(*c));
}

const struct dl_lock *dl_dump_next(struct dl_table *t, struct dl_cursor *c)
{
	const struct dl_shard *sh;
	const struct dl_lock *l;
	u32 b = 0;

	if (c->shard >= t->cfg.nr_shards)
		return NULL;
	sh = &t->shards[c->shard];
	if (c->started) {
		b = bucket_of(c->hkey, sh->bits);
		l = sh->buckets[b];
		while (l && key_cmp(c->hkey, c->name, c->len, l) >= 0)
			l = l->next;
	} else {
		l = sh->buckets[0];
	}
	while (!l) {
		if (++b >= (1U << sh->bits))
			return NULL;
		l = sh->buckets[b];
	}
	c->started = true;
	c->hkey = l->hkey;
	c->len = l->name_len;
	memcpy(c->name, l->name, l->name_len);
	return l;
}

bool dl_cursor_next_shard(const struct dl_table *t, struct dl_cursor *c)
{
	if (c->shard + 1 >= t->cfg.nr_shards)
		return false;
	c->shard++;
	c->started = false;
	return true;
}

u64 dl_table_generation(const struct dl_table *t)
{
	u64 g = 0;
	u32 i;

	for (i = 0; i < t->cfg.nr_shards; i++)
		g += READ_ONCE(t->shards[i].gen);
	return g;
}

/*
 * Caps are read once per admission, so a change applies to the next command
 * on any shard; leases and waiters already admitted stay, even above a
 * lowered cap.
 */
void dl_table_set_limits(struct dl_table *t, const struct dl_table_limits *lim)
{
	WRITE_ONCE(t->cfg.max_ttl_ms,
		   lim->max_ttl_ms ? lim->max_ttl_ms : DL_DEFAULT_MAX_TTL_MS);
	WRITE_ONCE(t->cfg.max_leases, lim->max_leases);
	WRITE_ONCE(t->cfg.max_waiters, lim->max_waiters);
	WRITE_ONCE(t->cfg.max_session_leases, lim->max_session_leases);
	WRITE_ONCE(t->cfg.max_session_waiters, lim->max_session_waiters);
	WRITE_ONCE(t->users.lim[DL_U_LEASES], lim->max_user_leases);
	WRITE_ONCE(t->users.lim[DL_U_WAITERS], lim->max_user_waiters);
	WRITE_ONCE(t->users.lim[DL_U_VALUE_BYTES], lim->max_user_value_bytes);
}

void dl_table_get_limits(const struct dl_table *t, struct dl_table_limits *lim)
{
	lim->max_ttl_ms = READ_ONCE(t->cfg.max_ttl_ms);
	lim->max_leases = READ_ONCE(t->cfg.max_leases);
	lim->max_waiters = READ_ONCE(t->cfg.max_waiters);
	lim->max_session_leases = READ_ONCE(t->cfg.max_session_leases);
	lim->max_session_waiters = READ_ONCE(t->cfg.max_session_waiters);
	lim->max_user_leases = READ_ONCE(t->users.lim[DL_U_LEASES]);
	lim->max_user_waiters = READ_ONCE(t->users.lim[DL_U_WAITERS]);
	lim->max_user_value_bytes = READ_ONCE(t->users.lim[DL_U_VALUE_BYTES]);
}

void dl_table_user_caps(const struct dl_table *t, u32 *leases, u32 *waiters,
			u32 *value_bytes)
{
	u32 nl = READ_ONCE(t->cfg.max_leases), nw = READ_ONCE(t->cfg.max_waiters);

	*leases = dl_users_cap(&t->users, DL_U_LEASES, nl, nw);
	*waiters = dl_users_cap(&t->users, DL_U_WAITERS, nl, nw);
	*value_bytes = dl_users_cap(&t->users, DL_U_VALUE_BYTES, nl, nw);
}

void dl_table_user_usage(const struct dl_table *t, u32 uid, long *leases,
			 long *waiters, long *value_bytes)
{
	int slot = dl_users_find(&t->users, uid);

	*leases = slot < 0 ? 0 : dl_users_count(&t->users, slot, DL_U_LEASES);
	*waiters = slot < 0 ? 0 : dl_users_count(&t->users, slot, DL_U_WAITERS);
	*value_bytes = slot < 0 ? 0 :
		       dl_users_count(&t->users, slot, DL_U_VALUE_BYTES);
}

void dl_table_stats(const struct dl_table *t, struct dl_table_stats *st)
{
	st->leases = dl_atomic_read(&t->nr_leases);
	st->waiters = dl_atomic_read(&t->nr_waiters);
	st->locks = dl_atomic_read(&t->nr_locks);
	st->deadlk_truncated = t->deadlk_truncated;
}

/* ---- self-check ------------------------------------------------------ */

#define CHECK(cond) do { if (!(cond)) return -__LINE__; } while (0)

static int check_lock(const struct dl_table *t, const struct dl_shard *sh,
		      const struct dl_lock *l, u32 *entries)
{
	const struct dl_entry *last;
	const struct dl_link *p;
	u32 n = 0, excl = 0, multi;

	CHECK(l->nr_holders || l->nr_waiters);
	for (p = l->holders.next; p != &l->holders; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		CHECK(!(e->flags & DL_E_WAITER) && e->lock == l);
		CHECK(e->count >= 1);
		CHECK(e->deadline ? sh->heap[e->heap_idx] == e :
				    e->heap_idx == DL_NO_HEAP);
		CHECK(l->permits || e->mode == l->mode);
		excl += e->mode == DL_MODE_EXCLUSIVE;
		n++;
	}
	CHECK(n == l->nr_holders);
	CHECK(!l->permits || n <= l->permits);
	if (l->hidx) {
		u32 b, in = 0;

		for (b = 0; b < (1U << l->hbits); b++) {
			const struct dl_entry *e;
			struct dl_okey k;

			for (e = l->hidx[b]; e; e = e->hnext) {
				entry_okey(t, e, &k);
				CHECK(e->lock == l && hidx_slot(t, l, &k) == b);
				in++;
			}
		}
		CHECK(in == n);
	}
	CHECK(!excl || n == 1);
	*entries += n;
	n = 0;
	for (p = l->waiters.next; p != &l->waiters; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		CHECK((e->flags & DL_E_WAITER) && e->lock == l && e->sess);
		CHECK(e->wn && e->wn->entry == e && e->wn->lock == l);
		CHECK(e->multi == (e->wn->owner->nr_waits >= 2));
		CHECK(e->deadline ? sh->heap[e->heap_idx] == e :
				    e->heap_idx == DL_NO_HEAP);
		n++;
	}
	CHECK(n == l->nr_waiters);
	last = NULL;
	multi = 0;
	for (p = l->waiters.next; p != &l->waiters; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		if (e->mode == DL_MODE_EXCLUSIVE)
			last = e;
		multi += e->multi;
	}
	CHECK(l->excl_unknown ? !l->last_excl : l->last_excl == last);
	CHECK(multi == l->nr_multi);
	/* A waiter at the head that fits would have been granted. */
	if (n)
		CHECK(!lock_grantable(l, entry_of_lock_link(l->waiters.next)->mode));
	*entries += n;
	return 0;
}

static int check_shard(const struct dl_table *t, const struct dl_shard *sh)
{
	const struct dl_lock *l, *prev = NULL;
	u32 b, i, locks = 0, entries = 0;
	int err;

	for (b = 0; b < (1U << sh->bits); b++) {
		for (l = sh->buckets[b]; l; l = l->next) {
			CHECK(bucket_of(l->hkey, sh->bits) == b);
			CHECK(!prev || key_cmp(prev->hkey, prev->name,
					       prev->name_len, l) < 0);
			prev = l;
			err = check_lock(t, sh, l, &entries);
			if (err)
				return err;
			locks++;
		}
	}
	CHECK(locks == sh->nr_locks);
	CHECK(entries == sh->nr_entries);
	CHECK(sh->heap_cap >= sh->nr_entries && sh->heap_len <= sh->nr_entries);
	for (i = 0; i < sh->heap_len; i++) {
		CHECK(sh->heap[i]->heap_idx == i && sh->heap[i]->deadline);
		CHECK(!i || sh->heap[(i - 1) / 2]->deadline <=
			    sh->heap[i]->deadline);
	}
	return 0;
}

/* Adds what @l's entries charged to uid slot @slot hold to @n. */
static void count_lock_slot(const struct dl_lock *l, u32 slot, long *n)
{
	const struct dl_link *p, *head;
	int w;

	for (w = 0; w < 2; w++) {
		head = w ? &l->waiters : &l->holders;
		for (p = head->next; p != head; p = p->next) {
			const struct dl_entry *e = entry_of_lock_link(p);

			if (e->uslot != slot)
				continue;
			n[w]++;
			if (!w && e->value)
				n[2] += e->value->len;
		}
	}
}

/* What the entries charged to uid slot @slot add up to. */
static void count_slot(const struct dl_table *t, u32 slot, long *n)
{
	const struct dl_lock *l;
	u32 i, b;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		const struct dl_shard *sh = &t->shards[i];

		for (b = 0; b < (1U << sh->bits); b++)
			for (l = sh->buckets[b]; l; l = l->next)
				count_lock_slot(l, slot, n);
	}
}

/* Every uid slot counts exactly the entries that reference it. */
static int check_users(const struct dl_table *t)
{
	u32 slot;

	for (slot = 0; slot < t->users.nr; slot++) {
		long n[3] = { 0, 0, 0 }, refs = dl_users_refs(&t->users, slot);

		if (refs <= 0) {
			CHECK(refs < 0 || (!dl_users_count(&t->users, slot, 0) &&
					   !dl_users_count(&t->users, slot, 1) &&
					   !dl_users_count(&t->users, slot, 2)));
			continue;
		}
		count_slot(t, slot, n);
		CHECK(refs == n[0] + n[1]);
		CHECK(dl_users_count(&t->users, slot, DL_U_LEASES) == n[0]);
		CHECK(dl_users_count(&t->users, slot, DL_U_WAITERS) == n[1]);
		CHECK(dl_users_count(&t->users, slot, DL_U_VALUE_BYTES) == n[2]);
	}
	return 0;
}

int dl_table_check(struct dl_table *t)
{
	u32 i;
	int err;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		err = check_shard(t, &t->shards[i]);
		if (err)
			return err;
	}
	return check_users(t);
}
