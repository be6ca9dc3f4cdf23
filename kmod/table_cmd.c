// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: release, renew, set-value, cancel, expiry and break.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

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
	if (dl_owner_ref_valid(o))
		return dl_fail(cx, -EINVAL, DL_WHY_OWNER);
	l = dl_name_lookup(t, name, len, shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_holders)
		return dl_fail(cx, -ENOENT, "lock has no holder");
	dl_ref_okey(o, &k);
	*out = dl_holder_find(t, l, &k, &cx->steps);
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
		if (TABLE_SM_MUTATION != 8)	/* the sim's check: count kept */
			e->count--;
		shard_changed(&t->shards[shard]);
		if (count)
			*count = e->count;
		return 0;
	}
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	dl_holder_end(t, cx, &t->shards[shard], e, DL_EV_RELEASED);
	dl_lock_settle(t, cx, &t->shards[shard], shard, l);
	dl_shard_sync_timer(t, cx, shard);
	if (count)
		*count = 0;
	return 0;
}

int dl_renew(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     const struct dl_owner_ref *o, u32 ttl_ms)
{
	struct dl_entry *e;
	u32 shard;
	u64 d;
	int err;

	err = find_own(t, cx, name, len, o, &shard, &e);
	if (err)
		return err;
	if (!ttl_ms)
		return dl_fail(cx, -EINVAL, "a renewal needs a TTL above zero");
	/* Cluster: a renewal is what keeps a lease past a SESSION_END cutoff. */
	entry_set_stamp(t, e, cx->index);
	if (e->flags & DL_E_NO_TTL)
		return 0;	/* lives as long as its session anyway */
	d = dl_ttl_deadline(t, cx->now, ttl_ms);
	if (t->cfg.cluster) {
		bool told = dl_entry_untold(e);

		/*
		 * A client counts its lease from its own renewal; a replica
		 * that shortened one would expire it before that client's
		 * bound if a later renewal of a shorter TTL got there first.
		 */
		e->hold_ms = max(e->hold_ms, ttl_ms);
		if (!told)
			d = max(d, e->deadline);
		dl_entry_new_bound(t, e, cx->now, ttl_ms, told);
	} else {
		e->hold_ms = ttl_ms;
	}
	dl_entry_set_deadline(&t->shards[shard], e, d);
	shard_changed(&t->shards[shard]);
	dl_shard_sync_timer(t, cx, shard);
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
	dl_value_event(t, cx, e);
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
	l = dl_name_lookup(t, name, len, shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_waiters)
		return dl_fail(cx, -ENOENT, "no request is queued on this lock");
	if (!cx->global)
		return DL_NEED_GLOBAL;
	*w = dl_waiter_by_cookie(t, cx, l, s, cookie);
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
	dl_waiter_unlink(t, &t->shards[shard], w);
	dl_entry_free(t, &t->shards[shard], w);
	/* The head may have been what blocked those behind it. */
	dl_lock_settle(t, cx, &t->shards[shard], shard, l);
	dl_shard_sync_timer(t, cx, shard);
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
	dl_waiter_unlink(t, sh, w);
	dl_entry_free(t, sh, w);
	t->ops->wait_done(cx, &wd);
	dl_lock_settle(t, cx, sh, shard, l);
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
	dl_shard_sync_timer(t, cx, shard);
	return 0;
}

/* Ends holder @e of @l for an expiry or a break, then hands the lock on. */
static void holder_kill(struct dl_table *t, struct dl_cmd *cx, u32 shard,
			struct dl_entry *e, enum dl_event_type type)
{
	struct dl_lock *l = e->lock;

	dl_holder_end(t, cx, &t->shards[shard], e, type);
	dl_lock_settle(t, cx, &t->shards[shard], shard, l);
}

int dl_expire_lease(struct dl_table *t, struct dl_cmd *cx, const char *name,
		    u32 len, u64 token)
{
	struct dl_entry *e;
	struct dl_lock *l;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return -EINVAL;
	l = dl_name_lookup(t, name, len, &shard, &hkey);
	/* Replicas expire in deadline order: usually the heap's first entry. */
	e = NULL;
	if (l && t->shards[shard].heap_len) {
		e = t->shards[shard].heap[0];
		if (e->lock != l || (e->flags & DL_E_WAITER) || e->token != token)
			e = NULL;
	}
	if (l && !e)
		e = dl_holder_by_token(l, token);
	if (!e)
		return -ENOENT;
	if (!e->deadline || e->deadline > cx->now)
		return -EAGAIN;	/* renewed since the timer was set */
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	holder_kill(t, cx, shard, e, DL_EV_EXPIRED);
	dl_shard_sync_timer(t, cx, shard);
	return 0;
}

int dl_break(struct dl_table *t, struct dl_cmd *cx, const char *name, u32 len,
	     u64 token)
{
	struct dl_lock *l;
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return dl_fail(cx, -EINVAL, DL_WHY_NAME);
	l = dl_name_lookup(t, name, len, &shard, &hkey);
	if (!l)
		return dl_fail(cx, -ENOENT, "no such lock");
	if (!l->nr_holders)
		return dl_fail(cx, -ENOENT, "lock has no holder");
	if (token && !dl_holder_by_token(l, token))
		return dl_fail(cx, -ENOENT, "lock has no holder with this token");
	if (l->nr_waiters && !cx->global)
		return DL_NEED_GLOBAL;
	if (TABLE_SM_MUTATION == 6 && l->nr_waiters) {
		/* the sim's check: break ends leases, the queue stays */
		do
			dl_holder_end(t, cx, &t->shards[shard],
				      token ? dl_holder_by_token(l, token) :
				      entry_of_lock_link(l->holders.next),
				      DL_EV_BROKEN);
		while (!token && l->nr_holders);
	} else if (token) {
		holder_kill(t, cx, shard, dl_holder_by_token(l, token),
			    DL_EV_BROKEN);
	} else {
		/* Settle only once all are gone, or waiters would get in between. */
		while (l->nr_holders > 1)
			dl_holder_end(t, cx, &t->shards[shard],
				   entry_of_lock_link(l->holders.next),
				   DL_EV_BROKEN);
		holder_kill(t, cx, shard, entry_of_lock_link(l->holders.next),
			    DL_EV_BROKEN);
	}
	dl_shard_sync_timer(t, cx, shard);
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
	dl_shard_sync_timer(t, cx, shard);
	return ret;
}
