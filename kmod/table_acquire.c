// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: the acquire command.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

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

void dl_req_okey(const struct dl_acquire_req *rq, struct dl_okey *k)
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
 *
 * A cluster replica admits nothing to the shared overflow slot, privileged
 * or not: which uids share it depends on the order they came in, and a
 * replica that loaded a snapshot saw another order.  With no entry in the
 * overflow, every uid with entries has a slot of its own holding exactly
 * its counts, and whether a new uid finds a free slot depends only on how
 * many uids hold entries: the same answer on every replica.
 */
static bool cluster_shared_slot(const struct dl_table *t, u32 slot)
{
#ifdef DL_PLANT_CLUSTER_UID_OVERFLOW
	return false;	/* planted bug: the overflow admits in a cluster too */
#endif
	return t->cfg.cluster && dl_users_shared(&t->users, slot);
}

static int user_charge(struct dl_table *t, const struct dl_acquire_req *rq,
		       enum dl_ucount c, u32 *uslot)
{
	int err = 0;

	*uslot = dl_users_get(&t->users, rq->uid);
	if (cluster_shared_slot(t, *uslot))
		err = -EDQUOT;
	else if (rq->privileged)
		dl_users_add(&t->users, *uslot, c, 1);
	else
		err = dl_users_charge(&t->users, *uslot, c, 1,
				      READ_ONCE(t->cfg.max_leases),
				      READ_ONCE(t->cfg.max_waiters));
	if (err)
		dl_users_put(&t->users, *uslot);
	return err;
}

struct dl_entry *dl_entry_new(struct dl_table *t, struct dl_shard *sh,
			      const struct dl_acquire_req *rq, u32 uslot)
{
	u32 olen = rq->flags & DL_ACQ_DETACHED ? rq->owner_len : 0;
	struct dl_entry *e;

	if (dl_shard_reserve(t, sh))
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
		memcpy(e->tail + t->xsize, rq->meta, t->cfg.meta_size);
	else
		memset(e->tail + t->xsize, 0, t->cfg.meta_size);
	if (olen)
		memcpy(e->tail + t->xsize + t->cfg.meta_size, rq->owner, olen);
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
	entry_set_stamp(t, e, cx->index);
	e->hold_ms = max(e->hold_ms, rq->ttl_ms);
	if (!(e->flags & DL_E_NO_TTL)) {
		bool told = dl_entry_untold(e);

		d = dl_ttl_deadline(t, cx->now, rq->ttl_ms);
		if (told || d > e->deadline)
			dl_entry_set_deadline(sh, e, d);
		dl_entry_new_bound(t, e, cx->now, rq->ttl_ms, told);
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
	e = dl_entry_new(t, sh, rq, uslot);
	if (!e)
		goto undo_sess;
	if (!l) {
		l = dl_lock_new(t, hkey, rq->name, rq->name_len);
		if (!l) {
			dl_entry_free(t, sh, e);	/* drops the uid slot reference */
			goto undo_sess;
		}
		l->permits = rq->permits;
		l->mode = rq->mode;
		dl_lock_insert(t, sh, l);
	}
	dl_holder_link(t, cx, sh, shard, l, e, rq->ttl_ms);
	res->token = e->token;
	res->count = 1;
	return 0;
undo_sess:
	if (!detached)
		dl_atomic_add_return(-1, &rq->sess->nr_leases);
undo_table:
	dl_atomic_add_return(-1, &t->nr_leases);
undo_user:
	/* e is set only if dl_entry_free() dropped the reference already. */
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
	w = dl_waiter_find(t, cx, l, k);
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
		dl_set_multi(lone, true);
	}
	err = dl_deadlock_check(t, cx, l, rq->mode, k);
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
	w = dl_entry_new(t, sh, rq, uslot);
	if (!w) {
		err = -ENOMEM;
		goto undo_sess;
	}
	w->wn = dl_index_add(&t->idx, k, l, l->hkey,
			     dl_index_cookie_hash(&t->idx, rq->sess->id,
						  rq->cookie, l->hkey), w);
	if (!w->wn) {
		dl_entry_free(t, sh, w);	/* drops the uid slot reference */
		err = -ENOMEM;
		goto undo_sess;
	}
	w->cookie = rq->cookie;
	w->ttl_ms = rq->ttl_ms;
	w->wait_ms = rq->wait_ms;
	entry_set_stamp(t, w, cx->index);
	waiter_link(l, w, rq->sess, shard);
	if (rq->wait_ms)
		dl_entry_set_deadline(sh, w, cx->now +
				   (u64)rq->wait_ms * DL_NS_PER_MS);
	shard_changed(sh);
	return DL_QUEUED;
undo_sess:
	dl_atomic_add_return(-1, &rq->sess->nr_waiters);
undo_table:
	dl_atomic_add_return(-1, &t->nr_waiters);
undo_user:
	/* w is set only if dl_entry_free() dropped the reference already. */
	dl_users_add(&t->users, uslot, DL_U_WAITERS, -1);
	if (!w)
		dl_users_put(&t->users, uslot);
undo_multi:
	if (lone)
		dl_set_multi(lone, false);
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
	l = dl_name_lookup(t, rq->name, rq->name_len, &shard, &hkey);
	dl_req_okey(rq, &k);
	if (!l) {
		err = acquire_grant(t, cx, shard, hkey, NULL, rq, res);
		goto out;
	}
	err = kind_check(cx, l, rq);
	if (err)
		return err;
	e = dl_holder_find(t, l, &k, &cx->steps);
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
	dl_shard_sync_timer(t, cx, shard);
	return err;
}
