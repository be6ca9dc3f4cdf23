// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: owners, entries, holders, the wait queue and hand-off.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

/* ---- owners ----------------------------------------------------------- */

static const char *entry_owner_str(const struct dl_table *t,
				   const struct dl_entry *e)
{
	return (const char *)entry_meta(t, e) + t->cfg.meta_size;
}

void dl_entry_okey(const struct dl_table *t, const struct dl_entry *e,
		   struct dl_okey *k)
{
	k->detached = e->flags & DL_E_DETACHED;
	k->sess = k->detached ? NULL : e->sess;
	k->sess_id = k->sess ? k->sess->id : 0;
	k->tag = k->detached ? 0 : e->tag;
	k->str = k->detached ? entry_owner_str(t, e) : NULL;
	k->len = k->detached ? e->owner_len : 0;
}

void dl_ref_okey(const struct dl_owner_ref *o, struct dl_okey *k)
{
	k->detached = o->str != NULL;
	k->sess = k->detached ? NULL : o->sess;
	k->sess_id = k->sess ? k->sess->id : 0;
	k->tag = k->detached ? 0 : o->tag;
	k->str = o->str;
	k->len = k->detached ? o->len : 0;
}

void dl_entry_view(const struct dl_table *t, const struct dl_entry *e,
		   struct dl_owner_view *v)
{
	v->detached = e->flags & DL_E_DETACHED;
	v->session_id = e->sess ? e->sess->id : 0;
	v->tag = v->detached ? 0 : e->tag;
	v->str = v->detached ? entry_owner_str(t, e) : NULL;
	v->len = v->detached ? e->owner_len : 0;
	v->uid = e->uid;
}

int dl_owner_ref_valid(const struct dl_owner_ref *o)
{
	if (!o)
		return -EINVAL;
	if (o->str)
		return o->len >= 1 && o->len <= DL_OWNER_MAX ? 0 : -EINVAL;
	return o->sess ? 0 : -EINVAL;
}

/* ---- entries ---------------------------------------------------------- */

size_t dl_table_entry_size(const struct dl_table *t)
{
	return entry_size(t, 0);
}

/*
 * The holder of @l owned by @k: through the lock's holder index (keyed, so
 * chains stay short whatever tags or owner strings clients pick) once the
 * lock has many holders, else a scan of at most DL_HIDX_MIN of them.
 */
struct dl_entry *dl_holder_find(const struct dl_table *t,
				const struct dl_lock *l,
				const struct dl_okey *k, u32 *steps)
{
	const struct dl_link *p;
	struct dl_entry *e;
	struct dl_okey ek;

	if (l->hidx) {
		for (e = l->hidx[dl_hidx_slot(t, l, k)]; e; e = e->hnext) {
			(*steps)++;
			dl_entry_okey(t, e, &ek);
			if (dl_okey_eq(&ek, k))
				return e;
		}
		return NULL;
	}
	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);

		(*steps)++;
		dl_entry_okey(t, e, &ek);
		if (dl_okey_eq(&ek, k))
			return e;
	}
	return NULL;
}

struct dl_entry *dl_holder_by_token(const struct dl_lock *l, u64 token)
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
struct dl_entry *dl_waiter_by_cookie(struct dl_table *t,
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
struct dl_entry *dl_waiter_find(struct dl_table *t, struct dl_cmd *cx,
				const struct dl_lock *l,
				const struct dl_okey *k)
{
	struct dl_wnode *n = dl_index_find(&t->idx, k, l, l->hkey, &cx->steps);

	return n ? entry_of_wnode(n) : NULL;
}

/*
 * A byte per shard, not a bit: commands on different shards set theirs at
 * once under different shard locks.  Only the session's own requests set a
 * byte that is still 0 (a grant is in a shard where it already waited).
 */
void dl_sess_touch(struct dl_session *s, u32 shard)
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
	dl_entry_view(t, e, &ev.owner);
	ev.token = e->token;
	t->ops->event(cx, &ev);
}

/* The holder @e set its value; watchers (elections) learn of it only so. */
void dl_value_event(struct dl_table *t, struct dl_cmd *cx,
		    const struct dl_entry *e)
{
	emit(t, cx, DL_EV_VALUE, e);
}

void dl_entry_free(struct dl_table *t, struct dl_shard *sh,
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
	dl_shard_unreserve(t, sh);
}

u64 dl_ttl_deadline(const struct dl_table *t, u64 now, u32 ttl_ms)
{
	u32 cap = READ_ONCE(t->cfg.max_ttl_ms);

	if (t->holder_view)
		return now + dl_holder_len(t, min(ttl_ms, cap));
	return now + (u64)min(ttl_ms, cap) * DL_NS_PER_MS;
}

/*
 * Counts @e as a lease in the table, its session (unless detached) and its
 * uid: @delta 1 when a waiter is granted, -1 when a lease ends.  A fresh
 * grant is charged instead against the caps, by acquire_grant().
 */
void dl_lease_count(struct dl_table *t, struct dl_entry *e, long delta)
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
 * counted it (dl_lease_count() or acquire_grant()'s charges).
 */
void dl_holder_link(struct dl_table *t, struct dl_cmd *cx,
		    struct dl_shard *sh, u32 shard, struct dl_lock *l,
		    struct dl_entry *e, u32 ttl_ms)
{
	/* Holders of a lock with waiters change under the global lock only. */
	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	DL_ASSERT(lock_grantable(l, e->mode));
	e->flags &= ~DL_E_WAITER;
	e->token = t->ops->next_token(cx);
	e->count = 1;
	e->hold_ms = ttl_ms;
	entry_set_stamp(t, e, cx->index);
	e->value = NULL;
	e->lock = l;
	if (e->flags & DL_E_DETACHED) {
		e->sess = NULL;
		dl_link_init(&e->sess_link);
	} else {
		dl_sess_touch(e->sess, shard);
		dl_link_add_tail(&e->sess_link, sess_list(e->sess, shard, false));
	}
	dl_entry_set_deadline(sh, e, e->flags & DL_E_NO_TTL ? 0 :
			   dl_ttl_deadline(t, cx->now, ttl_ms));
	dl_entry_new_bound(t, e, cx->now, ttl_ms, true);
	dl_link_add_tail(&e->lock_link, &l->holders);
	l->nr_holders++;
	if (l->hidx)
		dl_hidx_insert(t, l, e);
	dl_hidx_fit(t, l);
	l->mode = e->mode;
	shard_changed(sh);
	emit(t, cx, DL_EV_GRANTED, e);
}

void dl_set_multi(struct dl_entry *w, bool on)
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
void dl_multi_add(struct dl_entry *w)
{
	const struct dl_owner *o = w->wn->owner;

	if (o->nr_waits < 2)
		return;
	dl_set_multi(w, true);
	if (o->nr_waits == 2)
		dl_set_multi(other_wait(o, w), true);
}

static void multi_del(struct dl_entry *w)
{
	const struct dl_owner *o = w->wn->owner;

	dl_set_multi(w, false);
	if (o->nr_waits == 2)
		dl_set_multi(other_wait(o, w), false);
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
void dl_waiter_unlink(struct dl_table *t, struct dl_shard *sh,
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
	dl_heap_del(sh, w);
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
	dl_waiter_unlink(t, sh, w);
	dl_holder_link(t, cx, sh, shard, l, w, ttl);
	dl_lease_count(t, w, 1);	/* a granted wait is not held to the caps */
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
void dl_lock_settle(struct dl_table *t, struct dl_cmd *cx,
		    struct dl_shard *sh, u32 shard, struct dl_lock *l)
{
	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	while (!dl_link_empty(&l->waiters)) {
		struct dl_entry *w = entry_of_lock_link(l->waiters.next);

#if TABLE_SM_MUTATION == 4	/* the sim's check: the second waiter first */
		if (w->lock_link.next != &l->waiters) {
			struct dl_entry *w2 = entry_of_lock_link(w->lock_link.next);

			if (!w2->sess->dying && lock_grantable(l, w2->mode))
				w = w2;
		}
#endif

		if (w->sess->dying) {
			dl_waiter_unlink(t, sh, w);
			dl_entry_free(t, sh, w);
			continue;
		}
		if (!lock_grantable(l, w->mode))
			break;
		waiter_grant(t, cx, sh, shard, w);
	}
	if (!l->nr_holders && !l->nr_waiters) {
		shard_changed(sh);
		dl_lock_remove(t, sh, l);
	}
}

/* Ends a lease: unlinks, tells the holder and the watchers, frees it. */
void dl_holder_end(struct dl_table *t, struct dl_cmd *cx,
		   struct dl_shard *sh, struct dl_entry *e,
		   enum dl_event_type type)
{
	struct dl_lock *l = e->lock;

	DL_ASSERT(cx->global || dl_link_empty(&l->waiters));
	DL_ASSERT(l->nr_holders > 0 && !(e->flags & DL_E_WAITER));
	if (e->sess && (type == DL_EV_EXPIRED || type == DL_EV_BROKEN) &&
	    !(e->flags & DL_E_TOLD)) {
		struct dl_lost ls = dl_lost_of(e, type == DL_EV_EXPIRED ?
						  DL_LOST_EXPIRED :
						  DL_LOST_BROKEN);

		t->ops->lost(cx, &ls);
	}
	emit(t, cx, type, e);
#if TABLE_SM_MUTATION == 9	/* the sim's check: a value outlives its lease */
	if (e->value && l->nr_holders > 1) {
		struct dl_entry *o = entry_of_lock_link(l->holders.next);

		if (o == e)
			o = entry_of_lock_link(e->lock_link.next);
		if (!o->value) {
			o->value = e->value;
			e->value = NULL;
		}
	}
#endif
	dl_link_del(&e->lock_link);
	l->nr_holders--;
	if (l->hidx)
		dl_hidx_remove(t, l, e);
	dl_hidx_fit(t, l);
	if (e->sess)
		dl_link_del(&e->sess_link);
	dl_heap_del(sh, e);
	dl_lease_count(t, e, -1);
	shard_changed(sh);
	dl_entry_free(t, sh, e);
}
