// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: lease semantics as a deterministic state machine.
 *
 * Policy only: no clock, no timer, no allocation, no locking of its own.  The
 * glue (kernel module, host tests, cluster simulator) provides those through
 * struct dl_table_ops and holds the shard and global locks described in
 * table.h and docs/architecture.md.
 *
 * Files: table.c (table, sessions, limits), table_bucket.c (names),
 * table_entry.c (holders, queue, hand-off), table_heap.c (deadlines),
 * table_deadlk.c (wait-for graph), table_acquire.c and table_cmd.c
 * (commands), table_dump.c (inspection), table_check.c (self-check),
 * table_index.c (owner index), table_uid.c (per-uid caps); their shared
 * internals are in table_int.h.
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

/* ---- hashing ---------------------------------------------------------- */

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
	t->xsize = c.cluster ? 2 * sizeof(u64) : 0;	/* stamp, bound */
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
					dl_entry_free(t, sh, e);
				}
				while (!dl_link_empty(&l->waiters)) {
					struct dl_entry *e =
						entry_of_lock_link(l->waiters.next);

					dl_link_del(&e->lock_link);
					dl_entry_free(t, sh, e);
				}
				dl_hidx_free(t, l);
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
		dl_waiter_unlink(t, sh, w);
		dl_entry_free(t, sh, w);
		dl_lock_settle(t, cx, sh, shard, l);
	}
	while (!dl_link_empty(leases)) {
		struct dl_entry *e = entry_of_sess_link(leases->next);
		struct dl_lock *l = e->lock;

		if (budget && n++ == budget)
			goto out;
		dl_holder_end(t, cx, sh, e, DL_EV_OWNER_DIED);
		dl_lock_settle(t, cx, sh, shard, l);
	}
	ret = 0;
out:
	dl_shard_sync_timer(t, cx, shard);
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

void dl_session_free(struct dl_table *t, struct dl_session *s)
{
	dl_free(t, DL_OBJ_SESSION, s, session_size(t));
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
