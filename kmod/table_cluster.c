// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: what only a replicated table (cfg.cluster) uses.
 *
 * Every replica applies the same log, so nothing here may depend on a local
 * clock or on how a replica got to its state: expiry names an entry by its
 * stamp (the log index of its grant, renewal or wait) instead of asking
 * whether a local deadline passed, and a snapshot is put back in the order
 * its entries were made, so that every list is rebuilt as it was.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

int dl_expire_stamp(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, u64 token, u64 stamp)
{
	struct dl_entry *e;
	struct dl_lock *l;
	struct dl_shard *sh;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	if (!cx->global)
		return DL_NEED_GLOBAL;
	l = dl_name_lookup(t, name, len, &shard, &hkey);
	e = l ? dl_holder_by_token(l, token) : NULL;
	if (!e)
		return dl_fail(cx, -ENOENT, "lease has ended already");
	if (e->flags & DL_E_NO_TTL)
		return dl_fail(cx, -EINVAL, "lease has no TTL");
#if TABLE_SM_MUTATION != 2	/* the simulator's check: stamp ignored */
	if (entry_stamp(t, e) != stamp)
		return dl_fail(cx, -ESTALE, "lease was renewed after the expiry was proposed");
#else
	(void)stamp;
#endif
	sh = &t->shards[shard];
	dl_holder_end(t, cx, sh, e, DL_EV_EXPIRED);
	dl_lock_settle(t, cx, sh, shard, l);
	dl_shard_sync_timer(t, cx, shard);
	return 0;
}

int dl_expire_wait_stamp(struct dl_table *t, struct dl_cmd *cx,
			 const char *name, u32 len, const struct dl_session *s,
			 u64 cookie, u64 stamp)
{
	struct dl_wait_done wd = { .err = -ETIMEDOUT };
	struct dl_entry *w;
	struct dl_lock *l;
	struct dl_shard *sh;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	if (!cx->global)
		return DL_NEED_GLOBAL;
	l = dl_name_lookup(t, name, len, &shard, &hkey);
	w = l && s ? dl_waiter_by_cookie(t, cx, l, s, cookie) : NULL;
	if (!w)
		return dl_fail(cx, -ENOENT, DL_WHY_NO_REQUEST);
	/* 7: the sim's check: a stale timeout ends a later wait */
	if ((TABLE_SM_MUTATION != 7 && entry_stamp(t, w) != stamp) ||
	    !w->wait_ms)
		return dl_fail(cx, -ESTALE, "not the wait the expiry was proposed for");
	sh = &t->shards[shard];
	wd.sess = w->sess;
	wd.cookie = w->cookie;
	wd.name = l->name;
	wd.name_len = l->name_len;
	dl_waiter_unlink(t, sh, w);
	dl_entry_free(t, sh, w);
	t->ops->wait_done(cx, &wd);
	dl_lock_settle(t, cx, sh, shard, l);
	dl_shard_sync_timer(t, cx, shard);
	return 0;
}

/*
 * Settling a lock may grant a later wait of the same session, which moves
 * from the waits list to the leases list: the walk over the waits starts
 * again when that happened.  Grants get the current index as their stamp
 * (@now), above any cutoff: the walk over the leases ends them too, since
 * the wait they came from was the node's before the cutoff.
 */
static bool end_it(struct dl_table *t, const struct dl_entry *e, u64 cutoff,
		   u64 now)
{
	u64 stamp = entry_stamp(t, e);

	return stamp <= cutoff || stamp == now;
}

/*
 * A node's session ended @e (it went silent, or it started again): a client
 * of that node that is still alive (the node was cut off and is back) hears
 * of it as of a lease in doubt, unless it was told already.
 */
static void tell_ended(struct dl_table *t, struct dl_cmd *cx,
		       const struct dl_entry *e)
{
	struct dl_lost ls = dl_lost_of(e, DL_LOST_IN_DOUBT);

	if (e->sess && !(e->flags & DL_E_TOLD))
		t->ops->lost(cx, &ls);
}

int dl_session_end_upto(struct dl_table *t, struct dl_cmd *cx,
			struct dl_session *s, u32 shard, u64 cutoff, u64 now)
{
	struct dl_link *waits, *leases, *p, *next;
	struct dl_shard *sh;
	int n = 0;

	if (shard >= t->cfg.nr_shards)
		return -EINVAL;
	if (!cx->global)
		return DL_NEED_GLOBAL;
	sh = &t->shards[shard];
	waits = sess_list(s, shard, true);
	leases = sess_list(s, shard, false);
	for (p = waits->next; p != waits; p = next) {
		struct dl_entry *w = entry_of_sess_link(p);
		struct dl_lock *l = w->lock;
		long left;

		next = p->next;
		if (!end_it(t, w, cutoff, now))
			continue;
		dl_waiter_unlink(t, sh, w);
		dl_entry_free(t, sh, w);
		n++;
		left = dl_atomic_read(&s->nr_waiters);
		dl_lock_settle(t, cx, sh, shard, l);
		if (dl_atomic_read(&s->nr_waiters) != left)
			next = waits->next;
	}
	for (p = leases->next; p != leases; p = next) {
		struct dl_entry *e = entry_of_sess_link(p);
		struct dl_lock *l = e->lock;

		next = p->next;
		if (!end_it(t, e, cutoff, now))
			continue;
		tell_ended(t, cx, e);
		dl_holder_end(t, cx, sh, e, DL_EV_OWNER_DIED);
		n++;
		dl_lock_settle(t, cx, sh, shard, l);
	}
	dl_shard_sync_timer(t, cx, shard);
	return n;
}

void dl_session_each_lease(const struct dl_table *t, struct dl_session *s,
			   enum dl_lost_reason reason,
			   void (*fn)(void *arg, const struct dl_lost *ls),
			   void *arg)
{
	const struct dl_link *leases, *p;
	u32 shard;

	for (shard = 0; shard < t->cfg.nr_shards; shard++) {
		leases = sess_list(s, shard, false);
		for (p = leases->next; p != leases; p = p->next) {
			const struct dl_entry *e = entry_of_sess_link(p);
			struct dl_lost ls = dl_lost_of(e, reason);

			if (!(e->flags & DL_E_TOLD))	/* told, not renewed */
				fn(arg, &ls);
		}
	}
}

void dl_table_each_lock(struct dl_table *t,
			void (*fn)(struct dl_table *t, struct dl_shard *sh,
				   struct dl_lock *l, const void *arg),
			const void *arg)
{
	u32 i, b;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		struct dl_shard *sh = &t->shards[i];
		struct dl_lock *l;

		for (b = 0; b < (1U << sh->bits); b++)
			for (l = sh->buckets[b]; l; l = l->next)
				fn(t, sh, l, arg);
		shard_changed(sh);
	}
}

static void restart_lock(struct dl_table *t, struct dl_shard *sh,
			 struct dl_lock *l, const void *arg)
{
	u64 now = *(const u64 *)arg;
	const struct dl_link *p;

	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);

		if (!(e->flags & DL_E_NO_TTL))
			dl_entry_set_deadline(sh, e,
					      dl_ttl_deadline(t, now, e->hold_ms));
	}
	for (p = l->waiters.next; p != &l->waiters; p = p->next) {
		struct dl_entry *w = entry_of_lock_link(p);

		if (w->wait_ms)
			dl_entry_set_deadline(sh, w, now +
					      (u64)w->wait_ms * DL_NS_PER_MS);
	}
}

void dl_table_restart(struct dl_table *t, u64 now)
{
	dl_table_each_lock(t, restart_lock, &now);
}

void dl_entry_postpone(struct dl_table *t, const struct dl_entry *e,
		       u64 deadline)
{
	const struct dl_lock *l = e->lock;
	u32 shard = dl_shard_of(t, l->name, l->name_len);

	if (e->deadline)
		dl_entry_set_deadline(&t->shards[shard], (struct dl_entry *)e,
				      deadline);
}

struct dl_session *dl_entry_session(const struct dl_entry *e)
{
	return e->sess;
}

/* Checks what acquire_validate() would, for an entry of a snapshot. */
static int restore_valid(const struct dl_acquire_req *rq, bool waiter)
{
	bool detached = rq->flags & DL_ACQ_DETACHED;

	if (dl_name_valid(rq->name, rq->name_len) || (u32)rq->mode > 2 ||
	    (rq->mode == DL_MODE_SEMAPHORE) != !!rq->permits ||
	    (rq->flags & ~DL_ACQ_FLAGS))
		return -EINVAL;
	if (detached && (!rq->owner || !rq->owner_len ||
			 rq->owner_len > DL_OWNER_MAX ||
			 (rq->flags & DL_ACQ_NO_TTL)))
		return -EINVAL;
	if ((waiter || !detached) && !rq->sess)
		return -EINVAL;
	return 0;
}

/* The lock @r goes on, made if it is the name's first entry. */
static struct dl_lock *restore_lock(struct dl_table *t,
				    const struct dl_acquire_req *rq, u32 *shard,
				    bool *made)
{
	struct dl_lock *l;
	u32 hkey;

	*made = false;
	l = dl_name_lookup(t, rq->name, rq->name_len, shard, &hkey);
	if (l)
		return l->permits == rq->permits ? l : NULL;
	l = dl_lock_new(t, hkey, rq->name, rq->name_len);
	if (!l)
		return NULL;
	l->permits = rq->permits;
	l->mode = rq->mode;
	dl_lock_insert(t, &t->shards[*shard], l);
	*made = true;
	return l;
}

static void restore_undo_lock(struct dl_table *t, u32 shard,
			      struct dl_lock *l, bool made)
{
	if (made)
		dl_lock_remove(t, &t->shards[shard], l);
}

int dl_restore_holder(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_restore *r)
{
	const struct dl_acquire_req *rq = r->rq;
	struct dl_value *v = NULL;
	struct dl_entry *e;
	struct dl_lock *l;
	struct dl_okey k;
	u32 shard, uslot;
	bool made;

	if (restore_valid(rq, false) || !r->count ||
	    r->value_len > DL_VALUE_MAX)
		return -EINVAL;
	l = restore_lock(t, rq, &shard, &made);
	if (!l)
		return -EINVAL;
	dl_req_okey(rq, &k);
	if (l->nr_waiters || !lock_grantable(l, rq->mode) ||
	    dl_holder_find(t, l, &k, &cx->steps))
		return -EINVAL;
	if (r->value_len) {
		v = dl_alloc(t, DL_OBJ_VALUE, sizeof(*v) + r->value_len);
		if (!v)
			goto nomem;
		v->len = r->value_len;
		memcpy(v->data, r->value, r->value_len);
	}
	uslot = dl_users_get(&t->users, rq->uid);
	e = dl_entry_new(t, &t->shards[shard], rq, uslot);
	if (!e) {
		dl_users_put(&t->users, uslot);
		dl_free(t, DL_OBJ_VALUE, v, v ? sizeof(*v) + v->len : 0);
		goto nomem;
	}
	dl_holder_link(t, cx, &t->shards[shard], shard, l, e, r->hold_ms);
	dl_lease_count(t, e, 1);
	e->token = r->token;
	e->count = r->count;
	entry_set_stamp(t, e, r->stamp);
	e->value = v;
	if (v)
		dl_users_add(&t->users, uslot, DL_U_VALUE_BYTES, v->len);
	dl_shard_sync_timer(t, cx, shard);
	return 0;
nomem:
	restore_undo_lock(t, shard, l, made);
	return -ENOMEM;
}

int dl_restore_waiter(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_restore *r)
{
	const struct dl_acquire_req *rq = r->rq;
	struct dl_shard *sh;
	struct dl_entry *w;
	struct dl_lock *l;
	struct dl_okey k;
	u32 shard, uslot, ch;
	bool made;

	if (restore_valid(rq, true) || !cx->global)
		return -EINVAL;
	l = restore_lock(t, rq, &shard, &made);
	if (!l)
		return -EINVAL;
	sh = &t->shards[shard];
	dl_req_okey(rq, &k);
	if (made || dl_holder_find(t, l, &k, &cx->steps) ||
	    dl_waiter_find(t, cx, l, &k)) {
		/* A queue with nothing ahead would have been granted. */
		restore_undo_lock(t, shard, l, made);
		return -EINVAL;
	}
	uslot = dl_users_get(&t->users, rq->uid);
	w = dl_entry_new(t, sh, rq, uslot);
	if (!w) {
		dl_users_put(&t->users, uslot);
		return -ENOMEM;
	}
	ch = dl_index_cookie_hash(&t->idx, rq->sess->id, r->token, l->hkey);
	w->wn = dl_index_add(&t->idx, &k, l, l->hkey, ch, w);
	if (!w->wn) {
		dl_entry_free(t, sh, w);
		return -ENOMEM;
	}
	w->cookie = r->token;
	w->ttl_ms = r->hold_ms;
	w->wait_ms = rq->wait_ms;
	entry_set_stamp(t, w, r->stamp);
	waiter_link(l, w, rq->sess, shard);
	dl_atomic_add_return(1, &rq->sess->nr_waiters);
	dl_atomic_add_return(1, &t->nr_waiters);
	dl_users_add(&t->users, uslot, DL_U_WAITERS, 1);
	if (rq->wait_ms)
		dl_entry_set_deadline(sh, w, cx->now +
				      (u64)rq->wait_ms * DL_NS_PER_MS);
	shard_changed(sh);
	dl_shard_sync_timer(t, cx, shard);
	return 0;
}

bool dl_lock_excl_unknown(const struct dl_lock *l)
{
	return l->excl_unknown;
}

int dl_lock_restore(struct dl_table *t, const char *name, u32 len, u8 mode,
		    bool excl_unknown)
{
	struct dl_lock *l;
	u32 shard, hkey;

	if (dl_name_valid(name, len) || mode > DL_MODE_SEMAPHORE)
		return -EINVAL;
	l = dl_name_lookup(t, name, len, &shard, &hkey);
	if (!l || (excl_unknown && !l->nr_waiters))
		return -EINVAL;
	if (l->nr_waiters &&
	    lock_grantable(l, entry_of_lock_link(l->waiters.next)->mode))
		return -EINVAL;
	if (!l->nr_holders)
		l->mode = mode;
	if (excl_unknown) {
		l->last_excl = NULL;
		l->excl_unknown = 1;
	}
	return 0;
}
