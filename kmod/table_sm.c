// SPDX-License-Identifier: GPL-2.0
/*
 * The lock table as the replicated state machine: struct repl_sm_ops over a
 * dl_table in cluster mode (see table_sm.h).
 *
 * Each client is a dl_session keyed by (node, client); every command runs
 * with the global lock held (one applier), at the entry's log index, with
 * the log's token as the floor of every grant it makes.  A queued waiter is
 * granted inside the apply of the entry that freed its lock, so its token
 * and its place are the same on every node; the table tells the adapter
 * (wait_done) and the adapter tells the host, which answers the client if it
 * is its own.  Nothing here reads a clock: @now only sets local deadlines,
 * which the leader alone looks at (next_expired).
 * Policy code: compat.h only.
 */
#include "table_sm_int.h"

#define NS_PER_MS	1000000ULL
#ifndef TABLE_SM_MUTATION
#define TABLE_SM_MUTATION 0
#endif

void *tsm_alloc(struct table_sm *sm, size_t size)
{
	return sm->cfg.alloc(sm->cfg.ctx, size);
}

void tsm_free(struct table_sm *sm, void *p, size_t size)
{
	if (p)
		sm->cfg.free(sm->cfg.ctx, p, size);
}

u64 tsm_mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* ---- the table's glue ------------------------------------------------ */

static void *tops_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)kind;
	return tsm_alloc(priv, size);
}

static void tops_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)kind;
	tsm_free(priv, p, size);
}

/* The log's token is a floor: one entry may grant several waiters. */
static u64 tops_next_token(struct dl_cmd *cx)
{
	struct tsm_ctx *c = cx->priv;

#if TABLE_SM_MUTATION == 1	/* the simulator's check: token not from the log */
	return ++c->st->last_token;
#endif
	c->st->last_token = max(c->st->last_token + 1, c->token);
	return c->st->last_token;
}

/* Expiry is the leader's decision, from the log: no local timers. */
static void tops_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	(void)cx;
	(void)shard;
	(void)deadline;
}

static void tops_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	struct tsm_ctx *c = cx->priv;
	const struct table_sm_hooks *h = c->sm->cfg.hooks;
	u64 key = dl_session_id(wd->sess);

	if (c->loading)
		return;
	c->st->digest = tsm_mix(tsm_mix(tsm_mix(c->st->digest, key),
					wd->cookie ^ (u64)(u32)wd->err << 32),
				wd->token);
	if (h && h->waited)
		h->waited(c->sm->cfg.hctx, wd);
	if (h && h->wait_done)
		h->wait_done(c->sm->cfg.hctx, (u16)(key >> 32), (u32)key,
			     wd->cookie, wd->err, wd->token, cx->index);
}

static void tops_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	struct tsm_ctx *c = cx->priv;
	const struct table_sm_hooks *h = c->sm->cfg.hooks;
	u64 key = dl_session_id(ls->sess);

	if (!c->loading && h && h->lost)
		h->lost(c->sm->cfg.hctx, (u16)(key >> 32), (u32)key, ls->tag,
			ls->name, ls->name_len, ls->token, ls->reason);
}

/* Counted, traced and sent to watchers by the host (hooks->event). */
static void tops_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	struct tsm_ctx *c = cx->priv;
	const struct table_sm_hooks *h = c->sm->cfg.hooks;

	if (!c->loading && h && h->event)
		h->event(c->sm->cfg.hctx, ev);
}

const struct dl_table_ops tsm_table_ops = {
	.alloc = tops_alloc,
	.free = tops_free,
	.next_token = tops_next_token,
	.set_timer = tops_set_timer,
	.wait_done = tops_wait_done,
	.lost = tops_lost,
	.event = tops_event,
};

/* ---- sessions --------------------------------------------------------- */

static u32 sess_pos(const struct tsm_state *st, u64 key)
{
	u32 lo = 0, hi = st->nr_sess;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (st->sess[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct dl_session *tsm_sess_find(const struct tsm_state *st, u64 key)
{
	u32 i = sess_pos(st, key);

	return i < st->nr_sess && st->sess[i].key == key ? st->sess[i].s : NULL;
}

struct dl_session *tsm_sess_get(struct table_sm *sm, struct tsm_state *st,
				u64 key)
{
	u32 i = sess_pos(st, key);
	struct dl_session *s;

	if (i < st->nr_sess && st->sess[i].key == key)
		return st->sess[i].s;
	if (st->nr_sess == st->cap_sess) {
		u32 cap = max(16U, st->cap_sess * 2);
		struct tsm_sess *n = tsm_alloc(sm, sizeof(*n) * cap);

		if (!n)
			return NULL;
		if (st->nr_sess)
			memcpy(n, st->sess, sizeof(*n) * st->nr_sess);
		tsm_free(sm, st->sess, sizeof(*n) * st->cap_sess);
		st->sess = n;
		st->cap_sess = cap;
	}
	s = dl_session_create(st->t, key);
	if (!s)
		return NULL;
	memmove(&st->sess[i + 1], &st->sess[i],
		sizeof(*st->sess) * (st->nr_sess - i));
	st->sess[i].key = key;
	st->sess[i].s = s;
	st->nr_sess++;
	return s;
}

/*
 * An empty session is the same state as none (it only lists entries), so
 * it goes: the number of sessions stays that of clients holding something.
 */
static void sess_drop_if_empty(struct tsm_state *st, u64 key)
{
	u32 i = sess_pos(st, key);
	struct dl_session *s;

	if (i >= st->nr_sess || st->sess[i].key != key)
		return;
	s = st->sess[i].s;
	if (dl_session_leases(s) || dl_session_waiters(s) ||
	    dl_session_destroy(st->t, s))
		return;
	memmove(&st->sess[i], &st->sess[i + 1],
		sizeof(*st->sess) * (st->nr_sess - i - 1));
	st->nr_sess--;
}

int tsm_state_init(struct table_sm *sm, struct tsm_state *st)
{
	memset(st, 0, sizeof(*st));
	st->t = dl_table_create(&sm->tcfg, &tsm_table_ops, sm);
	if (!st->t)
		return -ENOMEM;
	dl_table_holder_view(st->t, sm->holder, sm->cfg.drift_ppm, 0);
	return 0;
}

void tsm_state_free(struct table_sm *sm, struct tsm_state *st)
{
	u32 i;

	if (!st->t)
		return;
	for (i = 0; i < st->nr_sess; i++)
		dl_session_free(st->t, st->sess[i].s);
	tsm_free(sm, st->sess, sizeof(*st->sess) * st->cap_sess);
	tsm_tomb_free(sm, st);
	dl_table_destroy(st->t);
	memset(st, 0, sizeof(*st));
}

/* ---- apply ------------------------------------------------------------ */

static u32 ns_to_ms(u64 ns)
{
	u64 ms = (ns + NS_PER_MS - 1) / NS_PER_MS;

	return ms > 0xffffffffULL ? 0xffffffffU : (u32)ms;
}

static void owner_ref(const struct tsm_body *b, struct dl_session *s,
		      struct dl_owner_ref *o)
{
	memset(o, 0, sizeof(*o));
	o->sess = b->owner_len ? NULL : s;
	o->tag = b->tag;
	o->str = b->owner;
	o->len = b->owner_len;
	o->uid = b->uid;
	o->privileged = b->privileged;
}

static int do_acquire(struct table_sm *sm, struct dl_table *t,
		      struct dl_cmd *cx, const struct repl_cmd *c,
		      const struct tsm_body *b, struct dl_session *s,
		      struct repl_result *res)
{
	const struct table_sm_hooks *h = sm->cfg.hooks;
	void *hctx = sm->cfg.hctx;
	struct dl_acquire_req rq = {
		.name = b->name, .name_len = b->name_len, .mode = b->mode,
		.permits = b->permits, .flags = b->flags,
		.ttl_ms = c->ttl ? ns_to_ms(max(c->hold, c->ttl)) : 0,
		.wait_ms = b->wait_ms, .sess = s, .tag = b->tag,
		.owner = b->owner, .owner_len = b->owner_len,
		.cookie = b->cookie, .uid = b->uid,
		.privileged = b->privileged,
	};
	struct dl_acquire_res ar = { 0, 0 };
	int err;

	/* The TTL is the core's (checked against its cap): flags follow it. */
	if (!c->ttl != !!(b->flags & DL_ACQ_NO_TTL))
		return -EINVAL;
	if (!!b->owner_len != !!(b->flags & DL_ACQ_DETACHED))
		return -EINVAL;
	err = dl_acquire(t, cx, &rq, &ar);
	if (err == DL_QUEUED)
		err = REPL_QUEUED;
	if (h && h->acquired)
		h->acquired(hctx, &rq, err, cx->why);
	if (err == REPL_QUEUED)
		return err;
	res->token = ar.token;
	res->count = ar.count;
	return err;
}

static int do_session_end(struct table_sm *sm, struct dl_cmd *cx,
			  const struct repl_cmd *c, u64 index,
			  struct repl_result *res)
{
	struct tsm_state *st = &sm->st;
	u64 lo = tsm_key(c->node, 0), cutoff = min(c->arg, index - 1);
	u32 i, shard, nr = dl_nr_shards(st->t);
	int n, ended;

	/*
	 * Keys are sorted: the node's clients are one run, client order.
	 * Ending one client's lease may grant another's wait (stamped with
	 * this index): walk again until a walk ends nothing.
	 */
	do {
		ended = 0;
		for (i = sess_pos(st, lo); i < st->nr_sess; i++) {
			struct dl_session *s = st->sess[i].s;

			if (st->sess[i].key >> 32 != c->node)
				break;
			for (shard = 0; shard < nr; shard++) {
				if (!dl_session_touched(s, shard))
					continue;
				n = dl_session_end_upto(st->t, cx, s, shard,
							cutoff,
							TABLE_SM_MUTATION == 14 ?
							0 : index);
				if (n < 0)
					return n;
				ended += n;
			}
		}
		res->count += ended;
	} while (ended);
	for (i = sess_pos(st, lo); i < st->nr_sess;) {
		u32 before = st->nr_sess;

		if (st->sess[i].key >> 32 != c->node)
			break;
		sess_drop_if_empty(st, st->sess[i].key);
		if (st->nr_sess == before)
			i++;
	}
#if TABLE_SM_MUTATION != 13	/* the sim's check: waits ended unseen */
	if (sm->cfg.hooks && sm->cfg.hooks->unanswered)
		sm->cfg.hooks->unanswered(sm->cfg.hctx);
#endif
	return 0;
}

static int do_client_end(struct table_sm *sm, struct dl_cmd *cx, u64 key,
			 u64 index)
{
	struct tsm_state *st = &sm->st;
	struct dl_session *s = tsm_sess_find(st, key);
	u32 shard, nr = dl_nr_shards(st->t);
	int err;

	err = tsm_tomb_add(sm, st, key, index);
	if (err)
		return err;
	if (!s || TABLE_SM_MUTATION == 3)	/* sim: session left alive */
		return 0;
	for (shard = 0; shard < nr; shard++) {
		if (!dl_session_touched(s, shard))
			continue;
		err = dl_session_end(st->t, cx, s, shard);
		if (err < 0)
			return err;
	}
	sess_drop_if_empty(st, key);
	return 0;
}

static int do_expire(struct tsm_state *st, struct dl_cmd *cx,
		     const struct tsm_body *b)
{
	if (b->flags & TSM_EXPIRE_WAIT)
		return dl_expire_wait_stamp(st->t, cx, b->name, b->name_len,
					    tsm_sess_find(st, b->tag),
					    b->cookie, b->stamp);
	return dl_expire_stamp(st->t, cx, b->name, b->name_len, b->token,
			       b->stamp);
}

static int apply_op(struct table_sm *sm, struct dl_cmd *cx,
		    const struct repl_cmd *c, u64 index,
		    const struct tsm_body *b, struct repl_result *res)
{
	struct tsm_state *st = &sm->st;
	u64 key = tsm_key(c->node, c->client);
	struct dl_owner_ref o;
	struct dl_session *s;
	int err;

	switch (c->op) {
	case REPL_OP_NOOP:
	case REPL_OP_EPOCH:
	case REPL_OP_BARRIER:
		return 0;
	case REPL_OP_EXPIRE:
		return do_expire(st, cx, b);
	case REPL_OP_SESSION_END:
		return do_session_end(sm, cx, c, index, res);
	case REPL_OP_CLIENT_END:
		return do_client_end(sm, cx, key, index);
	default:
		break;
	}
	/* The client's socket closed: it has nothing more to ask. */
	if (tsm_tomb_find(st, key))
		return -ESHUTDOWN;
	switch (c->op) {
	case REPL_OP_BREAK:
		if (!b->privileged)
			return -EPERM;
		return dl_break(st->t, cx, b->name, b->name_len, b->token);
	case REPL_OP_CANCEL:
		s = tsm_sess_find(st, key);
		if (!s)
			return -ENOENT;
		return dl_cancel(st->t, cx, b->name, b->name_len, s, b->cookie);
	case REPL_OP_ACQUIRE:
	case REPL_OP_RELEASE:
	case REPL_OP_RENEW:
	case REPL_OP_SET_VALUE:
		break;
	default:
		return -EINVAL;
	}
	s = tsm_sess_get(sm, st, key);
	if (!s)
		return -ENOMEM;
	owner_ref(b, s, &o);
	switch (c->op) {
	case REPL_OP_ACQUIRE:
		err = do_acquire(sm, st->t, cx, c, b, s, res);
		break;
	case REPL_OP_RELEASE:
		err = dl_release(st->t, cx, b->name, b->name_len, &o,
				 &res->count);
		break;
	case REPL_OP_RENEW:
		err = dl_renew(st->t, cx, b->name, b->name_len, &o,
			       c->ttl ? ns_to_ms(max(c->hold, c->ttl)) : 0);
		break;
	default:
		err = dl_set_value(st->t, cx, b->name, b->name_len, &o,
				   b->value, b->value_len);
		break;
	}
	sess_drop_if_empty(st, key);
	return err;
}

static void tsm_apply(void *p, const struct repl_cmd *c, u64 index,
		      u64 token, u64 now, struct repl_result *res)
{
	struct table_sm *sm = p;
	struct tsm_state *st = &sm->st;
	struct tsm_ctx ctx = { .sm = sm, .st = st, .token = token };
	struct dl_cmd cx = {
		.now = now, .index = index, .global = true, .priv = &ctx,
	};
	const struct table_sm_hooks *h = sm->cfg.hooks;
	struct tsm_body b;
	int err;

	memset(res, 0, sizeof(*res));
	res->index = index;
	err = c->flags ? -EINVAL : tsm_decode(c, &b);
	if (!err)
		err = apply_op(sm, &cx, c, index, &b, res);
	res->status = err;
	st->index = index;
	st->digest = tsm_mix(tsm_mix(tsm_mix(st->digest, index),
				     (u64)c->op << 56 ^ (u64)c->node << 40 ^
				     (u64)c->client ^ (u64)c->req << 24),
			     tsm_mix((u64)(u32)res->status ^
				     (u64)res->count << 32, res->token));
	if (h && h->applied)
		h->applied(sm->cfg.hctx, index, st->digest);
}

/* ---- the leader's side ------------------------------------------------ */

static bool tsm_next_expired(void *p, u64 now, struct repl_cmd *out)
{
	struct table_sm *sm = p;
	struct dl_table *t = sm->st.t;
	u32 i, nr = dl_nr_shards(t);

	for (i = 0; i < nr; i++) {
		u32 shard = (sm->next_shard + i) & (nr - 1);
		const struct dl_entry *e = dl_shard_first_due(t, shard, now);
		struct dl_entry_info info;
		struct dl_lock_info li;
		struct tsm_body b;
		u32 again;

		if (!e)
			continue;
		dl_entry_info(t, e, now, &info);
		dl_lock_info(dl_entry_lock(e), &li);
		memset(&b, 0, sizeof(b));
		b.name = li.name;
		b.name_len = li.name_len;
		b.stamp = info.stamp;
		if (info.waiter) {
			/* 10: the sim's check: a wait's timeout never applies */
			b.stamp += TABLE_SM_MUTATION == 10;
			b.flags = TSM_EXPIRE_WAIT;
			b.tag = dl_session_id(dl_entry_session(e));
			b.cookie = info.cookie;
			again = info.wait_ms;
		} else {
			b.token = info.token;
			again = info.hold_ms;
		}
		memset(out, 0, offsetof(struct repl_cmd, data));
		if (tsm_encode(out, REPL_OP_EXPIRE, 0, 0, 0, &b))
			return false;
		/*
		 * Proposed: not again before another full length, unless a
		 * new leader restarts every countdown first.  The entry
		 * commits long before, or this node is no longer leader.
		 */
		dl_entry_postpone(t, e, now + (u64)max(again, 1U) * NS_PER_MS);
		sm->next_shard = shard + 1;
		return true;
	}
	return false;
}

static void tsm_restart(void *p, u64 now)
{
	struct table_sm *sm = p;

	sm->holder = false;
	dl_table_holder_view(sm->st.t, false, sm->cfg.drift_ppm, 0);
	dl_table_restart(sm->st.t, now);
}

static void tsm_holder_view(void *p, u64 floor)
{
	struct table_sm *sm = p;

	sm->holder = true;
	dl_table_holder_view(sm->st.t, true, sm->cfg.drift_ppm, floor);
}

static void tsm_reset(void *p)
{
	struct table_sm *sm = p;
	struct tsm_state st;

	if (tsm_state_init(sm, &st))
		return;	/* keeps the old state: the caller sees no change */
	tsm_state_free(sm, &sm->st);
	sm->st = st;
}

static bool tsm_busy(void *p, u16 node, u32 client)
{
	struct table_sm *sm = p;
	const struct dl_session *s = tsm_sess_find(&sm->st,
						    tsm_key(node, client));

	return s && (dl_session_leases(s) > 0 || dl_session_waiters(s) > 0);
}

const struct repl_sm_ops table_sm_ops = {
	.apply = tsm_apply,
	.next_expired = tsm_next_expired,
	.restart_leases = tsm_restart,
	.holder_view = tsm_holder_view,
	.save_size = tsm_save_size,
	.save = tsm_save,
	.load = tsm_load,
	.reset = tsm_reset,
	.busy = tsm_busy,
};

/* ---- lifetime --------------------------------------------------------- */

struct table_sm *table_sm_create(const struct table_sm_cfg *cfg)
{
	struct table_sm *sm = cfg->alloc(cfg->ctx, sizeof(*sm));

	if (!sm)
		return NULL;
	memset(sm, 0, sizeof(*sm));
	sm->cfg = *cfg;
	sm->tcfg.nr_shards = cfg->nr_shards ? cfg->nr_shards : 16;
	sm->tcfg.max_ttl_ms = 0xffffffffU;	/* the core caps TTLs */
	sm->tcfg.max_leases = cfg->max_leases;
	sm->tcfg.max_waiters = cfg->max_waiters;
	sm->tcfg.max_session_leases = cfg->max_session_leases;
	sm->tcfg.max_session_waiters = cfg->max_session_waiters;
	sm->tcfg.max_user_leases = cfg->max_user_leases;
	sm->tcfg.max_user_waiters = cfg->max_user_waiters;
	sm->tcfg.max_user_value_bytes = cfg->max_user_value_bytes;
	sm->tcfg.user_slots = cfg->user_slots;
	sm->tcfg.hash_seed = cfg->hash_seed;
	sm->tcfg.cluster = true;
	if (tsm_state_init(sm, &sm->st)) {
		cfg->free(cfg->ctx, sm, sizeof(*sm));
		return NULL;
	}
	return sm;
}

void table_sm_destroy(struct table_sm *sm)
{
	tsm_state_free(sm, &sm->st);
	sm->cfg.free(sm->cfg.ctx, sm, sizeof(*sm));
}

int table_sm_wait_state(struct table_sm *sm, u16 node, u32 client, u64 cookie,
			u64 tag, const char *owner, u32 owner_len,
			const char *name, u32 len, u64 *token)
{
	const struct dl_lock *l = dl_lookup(sm->st.t, name, len);
	const struct dl_entry *e;
	struct dl_entry_info in;
	u64 key = tsm_key(node, client);

	if (!l)
		return -ENOENT;
	for (e = dl_waiter_next(l, NULL); e; e = dl_waiter_next(l, e)) {
		dl_entry_info(sm->st.t, e, 0, &in);
		if (in.owner.session_id == key && in.cookie == cookie)
			return 1;
	}
	for (e = dl_holder_next(l, NULL); e; e = dl_holder_next(l, e)) {
		dl_entry_info(sm->st.t, e, 0, &in);
		if (owner_len ? in.owner.detached && in.owner.len == owner_len &&
				!memcmp(in.owner.str, owner, owner_len) :
				!in.owner.detached && in.owner.session_id == key &&
				in.owner.tag == tag) {
			*token = in.token;
			return 0;
		}
	}
	return -ENOENT;
}

struct dl_table *table_sm_table(struct table_sm *sm)
{
	return sm->st.t;
}

u64 table_sm_digest(const struct table_sm *sm)
{
	return sm->st.digest;
}

u64 table_sm_index(const struct table_sm *sm)
{
	return sm->st.index;
}

u64 table_sm_last_token(const struct table_sm *sm)
{
	return sm->st.last_token;
}

u32 table_sm_sessions(const struct table_sm *sm)
{
	return sm->st.nr_sess;
}

bool table_sm_client_ended(const struct table_sm *sm, u16 node, u32 client)
{
	return tsm_tomb_find(&sm->st, tsm_key(node, client));
}

void table_sm_each_lease(struct table_sm *sm, u16 node, u32 client,
			 enum dl_lost_reason reason,
			 void (*fn)(void *arg, const struct dl_lost *ls),
			 void *arg)
{
	struct dl_session *s = tsm_sess_find(&sm->st, tsm_key(node, client));

	if (s && dl_session_leases(s) > 0)
		dl_session_each_lease(sm->st.t, s, reason, fn, arg);
}

struct tsm_overdue {
	u16 node;
	void (*fn)(void *arg, const struct dl_lost *ls);
	void *arg;
};

static bool tsm_overdue_mine(void *arg, const struct dl_session *s)
{
	const struct tsm_overdue *o = arg;

	return (u16)(dl_session_id(s) >> 32) == o->node;
}

static void tsm_overdue_tell(void *arg, const struct dl_lost *ls)
{
	const struct tsm_overdue *o = arg;

	o->fn(o->arg, ls);
}

bool table_sm_overdue(struct table_sm *sm, u16 node, u64 now, u32 budget,
		      void (*fn)(void *arg, const struct dl_lost *ls),
		      void *arg)
{
	struct tsm_overdue o = { .node = node, .fn = fn, .arg = arg };

	return dl_table_overdue(sm->st.t, now, budget, tsm_overdue_mine,
				tsm_overdue_tell, &o);
}

u64 table_sm_next_due(const struct table_sm *sm)
{
	return sm->holder ? dl_table_next_deadline(sm->st.t) : 0;
}

bool table_sm_client_holds(const struct table_sm *sm, u16 node, u32 client)
{
	const struct dl_session *s = tsm_sess_find(&sm->st,
						    tsm_key(node, client));

	return s && dl_session_leases(s) > 0;
}
