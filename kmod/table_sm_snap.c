// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of the replicated table: everything a node needs to continue as
 * if it had applied the log itself, little-endian:
 *
 *   header  magic, index, digest, last_token, sessions, locks, holders,
 *           waiters, tombstones (u64 each)
 *   sessions  u64 key each, ascending
 *   tombstones  u64 key, u64 index each, keys ascending
 *   locks   u8 name_len, name, u8 mode, u8 excl_unknown, u32 permits
 *   holders in token order: u32 lock, u8 flags, u8 mode, u8 owner_len, u8 0,
 *           u64 session, tag, token, stamp, u32 count, hold_ms, uid,
 *           u16 value_len, owner, value
 *   waiters in stamp order: u32 lock, u8 flags, u8 mode, u8 owner_len, u8 0,
 *           u64 session, tag, cookie, stamp, u32 ttl_ms, wait_ms, uid, owner
 *
 * Token order is grant order and stamp order is queueing order, so putting
 * entries back in that order rebuilds every lock's, session's and owner's
 * list as it was: the next SESSION_END or deadlock walk goes the same way on
 * a node that loaded the snapshot as on one that applied the log.  Deadlines
 * are local: they restart at load time + hold.
 * Policy code: compat.h only.
 */
#include "table_sm_int.h"

#ifndef TABLE_SM_MUTATION
#define TABLE_SM_MUTATION 0
#endif

#define SNAP_MAGIC	0x3276534d54444cULL	/* "DLTSMv2" */
#define SNAP_HDR	72
#define LOCK_FIX	7
#define HOLDER_FIX	54
#define WAITER_FIX	52
#define SF_DETACHED	0x1
#define SF_NO_TTL	0x2

struct wr {
	u8 *p;
};

static void w8(struct wr *w, u8 v)
{
	*w->p++ = v;
}

static void w16(struct wr *w, u16 v)
{
	w8(w, (u8)v);
	w8(w, (u8)(v >> 8));
}

static void w32(struct wr *w, u32 v)
{
	w16(w, (u16)v);
	w16(w, (u16)(v >> 16));
}

static void w64(struct wr *w, u64 v)
{
	dl_put_le64(w->p, v);
	w->p += 8;
}

static void wbytes(struct wr *w, const void *p, u32 n)
{
	if (n)
		memcpy(w->p, p, n);
	w->p += n;
}

/* Reads past the end give zeros and mark the snapshot bad. */
struct rd {
	const u8 *p;
	const u8 *end;
	bool bad;
};

static const u8 *rbytes(struct rd *r, u64 n)
{
	const u8 *p = r->p;

	if (r->bad || n > (u64)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static u64 rle(struct rd *r, u32 n)
{
	const u8 *p = rbytes(r, n);
	u64 v = 0;

	while (p && n--)
		v = v << 8 | p[n];
	return v;
}

/* ---- walking the table ------------------------------------------------ */

struct snap_ent {
	u64 key;			/* token or stamp */
	const struct dl_entry *e;
	u32 lock;
};

struct snap_walk {
	u64 size;
	u64 locks, holders, waiters;
	struct snap_ent *h, *w;		/* NULL: count only */
	struct wr *out;			/* NULL: do not write locks */
};

static void walk_lock(struct dl_table *t, const struct dl_lock *l,
		      struct snap_walk *sw)
{
	const struct dl_entry *e;
	struct dl_entry_info in;
	struct dl_lock_info li;

	dl_lock_info(l, &li);
	sw->size += LOCK_FIX + li.name_len;
	if (sw->out) {
		w8(sw->out, li.name_len);
		wbytes(sw->out, li.name, li.name_len);
		w8(sw->out, li.mode);
		w8(sw->out, dl_lock_excl_unknown(l));
		w32(sw->out, li.permits);
	}
	for (e = dl_holder_next(l, NULL); e; e = dl_holder_next(l, e)) {
		dl_entry_info(t, e, 0, &in);
		sw->size += HOLDER_FIX + in.owner.len + in.value_len;
		if (sw->h)
			sw->h[sw->holders] = (struct snap_ent){ in.token, e,
								(u32)sw->locks };
		sw->holders++;
	}
	for (e = dl_waiter_next(l, NULL); e; e = dl_waiter_next(l, e)) {
		dl_entry_info(t, e, 0, &in);
		sw->size += WAITER_FIX + in.owner.len;
		if (sw->w)
			sw->w[sw->waiters] = (struct snap_ent){ in.stamp, e,
								(u32)sw->locks };
		sw->waiters++;
	}
	sw->locks++;
}

static void walk(struct dl_table *t, struct snap_walk *sw)
{
	const struct dl_lock *l;
	struct dl_cursor c;

	dl_cursor_init(&c);
	do {
		while ((l = dl_dump_next(t, &c)))
			walk_lock(t, l, sw);
	} while (dl_cursor_next_shard(t, &c));
}

u64 tsm_save_size(void *p)
{
	struct table_sm *sm = p;
	struct snap_walk sw = { 0 };

	walk(sm->st.t, &sw);
	return SNAP_HDR + 8ULL * sm->st.nr_sess + 16ULL * sm->st.nr_tomb +
	       sw.size;
}

/* Heapsort: no library in policy code, and no recursion on a kernel stack. */
static void sift(struct snap_ent *a, u64 i, u64 n)
{
	for (;;) {
		u64 c = 2 * i + 1;
		struct snap_ent tmp;

		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1].key > a[c].key)
			c++;
		if (a[i].key >= a[c].key)
			return;
		tmp = a[i];
		a[i] = a[c];
		a[c] = tmp;
		i = c;
	}
}

static void sort_ents(struct snap_ent *a, u64 n)
{
	u64 i;

	for (i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (i = n; i-- > 1;) {
		struct snap_ent tmp = a[0];

		a[0] = a[i];
		a[i] = tmp;
		sift(a, 0, i);
	}
}

static void write_ent(struct dl_table *t, struct wr *w,
		      const struct snap_ent *se, bool waiter)
{
	struct dl_entry_info in;

	dl_entry_info(t, se->e, 0, &in);
	w32(w, se->lock);
	w8(w, (in.owner.detached ? SF_DETACHED : 0) |
	      (in.no_ttl ? SF_NO_TTL : 0));
	w8(w, in.mode);
	w8(w, in.owner.len);
	w8(w, 0);
	w64(w, in.owner.session_id);
	w64(w, in.owner.tag);
	w64(w, waiter ? in.cookie : in.token);
	w64(w, in.stamp);
	if (waiter) {
		w32(w, in.hold_ms);
		w32(w, in.wait_ms);
		w32(w, in.owner.uid);
		wbytes(w, in.owner.str, in.owner.len);
		return;
	}
	w32(w, in.count);
	w32(w, in.hold_ms);
	w32(w, in.owner.uid);
	w16(w, (u16)in.value_len);
	wbytes(w, in.owner.str, in.owner.len);
	wbytes(w, in.value, in.value_len);
}

s64 tsm_save(void *p, u8 *buf, u64 cap)
{
	struct table_sm *sm = p;
	struct tsm_state *st = &sm->st;
	struct snap_walk sw = { 0 };
	struct wr w = { buf };
	u64 i, size, hsz, wsz;

	walk(st->t, &sw);
	size = SNAP_HDR + 8ULL * st->nr_sess + 16ULL * st->nr_tomb + sw.size;
	if (cap < size)
		return -ENOSPC;
	hsz = sizeof(*sw.h) * (sw.holders ? sw.holders : 1);
	wsz = sizeof(*sw.w) * (sw.waiters ? sw.waiters : 1);
	w64(&w, SNAP_MAGIC);
	w64(&w, st->index);
	w64(&w, st->digest);
	w64(&w, st->last_token);
	w64(&w, st->nr_sess);
	w64(&w, sw.locks);
	w64(&w, sw.holders);
	w64(&w, sw.waiters);
	w64(&w, st->nr_tomb);
	for (i = 0; i < st->nr_sess; i++)
		w64(&w, st->sess[i].key);
	for (i = 0; i < st->nr_tomb; i++) {
		w64(&w, st->tomb[i].key);
		w64(&w, st->tomb[i].index);
	}
	sw = (struct snap_walk){ .out = &w };
	sw.h = tsm_alloc(sm, hsz);
	sw.w = tsm_alloc(sm, wsz);
	if (!sw.h || !sw.w) {
		tsm_free(sm, sw.h, hsz);
		tsm_free(sm, sw.w, wsz);
		return -ENOMEM;
	}
	walk(st->t, &sw);
	sort_ents(sw.h, sw.holders);
	sort_ents(sw.w, sw.waiters);
	for (i = 0; i < sw.holders; i++)
		write_ent(st->t, &w, &sw.h[i], false);
	for (i = 0; i < sw.waiters; i++)
		write_ent(st->t, &w, &sw.w[i], true);
	tsm_free(sm, sw.h, hsz);
	tsm_free(sm, sw.w, wsz);
	DL_ASSERT((u64)(w.p - buf) == size);
	return (s64)size;
}

/* ---- load --------------------------------------------------------------- */

struct snap_lock {
	const char *name;
	u32 len;
	u32 permits;
	u8 mode;
	bool excl_unknown;
};

struct snap_hdr {
	u64 index, digest, last_token, nr_sess, nr_locks, nr_h, nr_w, nr_tomb;
};

static int load_ent(struct tsm_state *st, struct dl_cmd *cx, struct rd *r,
		    const struct snap_lock *locks, const struct snap_hdr *h,
		    bool waiter, u64 *prev)
{
	struct dl_acquire_req rq = { 0 };
	struct dl_restore rs = { .rq = &rq };
	u32 lock = (u32)rle(r, 4), flags = (u32)rle(r, 1), olen, vlen = 0;
	u64 key;

	rq.mode = (enum dl_mode)rle(r, 1);
	olen = (u32)rle(r, 1);
	if (rle(r, 1) || lock >= h->nr_locks || (flags & ~3U))
		return -EINVAL;
	key = rle(r, 8);
	rq.tag = rle(r, 8);
	rs.token = rle(r, 8);
	rs.stamp = rle(r, 8);
	if (waiter) {
		rs.hold_ms = (u32)rle(r, 4);
		rq.wait_ms = (u32)rle(r, 4);
	} else {
		rs.count = (u32)rle(r, 4);
		rs.hold_ms = (u32)rle(r, 4);
	}
	rq.uid = (u32)rle(r, 4);
	if (!waiter)
		vlen = (u32)rle(r, 2);
	rq.owner = (const char *)rbytes(r, olen);
	rs.value = rbytes(r, vlen);
	rs.value_len = vlen;
	if (r->bad)
		return -EINVAL;
	/* Keys ascend strictly: the order is what rebuilds the lists. */
	if ((waiter ? rs.stamp : rs.token) <= *prev ||
	    (!waiter && rs.token > h->last_token) || rs.stamp > h->index)
		return -EINVAL;
	*prev = waiter ? rs.stamp : rs.token;
	rq.name = locks[lock].name;
	rq.name_len = locks[lock].len;
	rq.permits = locks[lock].permits;
	rq.owner_len = olen;
	rq.flags = (flags & SF_DETACHED ? DL_ACQ_DETACHED : 0) |
		   (flags & SF_NO_TTL ? DL_ACQ_NO_TTL : 0);
	if (!(flags & SF_DETACHED) && olen)
		return -EINVAL;
	/* A detached lease has no session; a detached waiter, its asker's. */
	if ((flags & SF_DETACHED) && !waiter) {
		if (key)
			return -EINVAL;
		return dl_restore_holder(st->t, cx, &rs);
	}
	rq.sess = tsm_sess_find(st, key);
	if (!rq.sess)
		return -EINVAL;
	if (!waiter)
		return dl_restore_holder(st->t, cx, &rs);
	rq.cookie = rs.token;
	return dl_restore_waiter(st->t, cx, &rs);
}

static int load_locks(struct rd *r, struct snap_lock *locks, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		struct snap_lock *l = &locks[i];
		u64 ex;

		l->len = (u32)rle(r, 1);
		l->name = (const char *)rbytes(r, l->len);
		l->mode = (u8)rle(r, 1);
		ex = rle(r, 1);
		l->excl_unknown = ex;
		l->permits = (u32)rle(r, 4);
		if (r->bad || dl_name_valid(l->name, l->len) || ex > 1 ||
		    l->mode > DL_MODE_SEMAPHORE ||
		    (l->mode == DL_MODE_SEMAPHORE) != !!l->permits)
			return -EINVAL;
	}
	return 0;
}

static int load_into(struct table_sm *sm, struct tsm_state *st, struct rd *r,
		     const struct snap_hdr *h, struct snap_lock *locks,
		     u64 now)
{
	struct tsm_ctx ctx = { .sm = sm, .st = st, .loading = true };
	struct dl_cmd cx = { .now = now, .global = true, .priv = &ctx };
	u64 i, prev = 0;
	int err;

	for (i = 0; i < h->nr_sess; i++) {
		u64 key = rle(r, 8);

		if (r->bad || (i && key <= st->sess[st->nr_sess - 1].key))
			return -EINVAL;
		if (!tsm_sess_get(sm, st, key))
			return -ENOMEM;
	}
	for (i = 0; i < h->nr_tomb; i++) {
		u64 key = rle(r, 8), index = rle(r, 8);

		if (r->bad || index > h->index || h->nr_tomb > TSM_TOMB_MAX ||
		    (i && key <= st->tomb[st->nr_tomb - 1].key))
			return -EINVAL;
		err = tsm_tomb_add(sm, st, key, index);
		if (err)
			return err;
	}
	err = load_locks(r, locks, h->nr_locks);
	for (i = 0; !err && i < h->nr_h; i++)
		err = load_ent(st, &cx, r, locks, h, false, &prev);
	for (i = 0, prev = 0; !err && i < h->nr_w; i++)
		err = load_ent(st, &cx, r, locks, h, true, &prev);
	if (err)
		return err;
	if (r->p != r->end)
		return -EINVAL;
	for (i = 0; i < h->nr_locks; i++) {
		err = dl_lock_restore(st->t, locks[i].name, locks[i].len,
				      locks[i].mode, locks[i].excl_unknown);
		if (err)
			return err;
	}
	/* Cheap next to building the table, and a snapshot is network input. */
	if (dl_table_check(st->t))
		return -EINVAL;
	st->index = h->index;
	st->digest = h->digest;
	st->last_token = h->last_token;
	return 0;
}

int tsm_load(void *p, const u8 *buf, u64 len, u64 now)
{
	struct table_sm *sm = p;
	const struct table_sm_hooks *hk = sm->cfg.hooks;
	struct rd r = { buf, buf + len, false };
	struct snap_lock *locks;
	struct tsm_state st;
	struct snap_hdr h;
	u64 lsz;
	int err;

	if (rle(&r, 8) != SNAP_MAGIC)
		return -EINVAL;
	h.index = rle(&r, 8);
	h.digest = rle(&r, 8);
	h.last_token = rle(&r, 8);
	h.nr_sess = rle(&r, 8);
	h.nr_locks = rle(&r, 8);
	h.nr_h = rle(&r, 8);
	h.nr_w = rle(&r, 8);
	h.nr_tomb = rle(&r, 8);
	/* Every count is bounded by the bytes it needs, before allocating. */
	if (r.bad || h.nr_sess > len / 8 || h.nr_locks > len / (LOCK_FIX + 1) ||
	    h.nr_h > len / HOLDER_FIX || h.nr_w > len / WAITER_FIX ||
	    h.nr_tomb > TSM_TOMB_MAX ||
	    h.nr_locks > 0xffffffffULL)
		return -EINVAL;
	lsz = sizeof(*locks) * (h.nr_locks ? h.nr_locks : 1);
	locks = tsm_alloc(sm, lsz);
	if (!locks)
		return -ENOMEM;
	err = tsm_state_init(sm, &st);
	if (!err)
		err = load_into(sm, &st, &r, &h, locks, now);
	tsm_free(sm, locks, lsz);
	if (err) {
		tsm_state_free(sm, &st);
		return err;
	}
#if TABLE_SM_MUTATION != 15	/* the sim's check: bounds from the snapshot alone */
	dl_table_keep_bounds(st.t, sm->st.t);
#endif
	tsm_state_free(sm, &sm->st);
	sm->st = st;
	if (hk && hk->applied)
		hk->applied(sm->cfg.hctx, st.index, st.digest);
	if (hk && hk->replaced)
		hk->replaced(sm->cfg.hctx);
#if TABLE_SM_MUTATION != 11	/* the sim's check: answers skipped by a snapshot lost */
	if (hk && hk->unanswered)
		hk->unanswered(sm->cfg.hctx);
#endif
	return 0;
}
