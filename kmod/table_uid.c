// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: per-uid accounting (see table_uid.h for the design).
 * Policy only, like table.c: it includes compat.h through table.h and runs
 * in the module, the host tests and, later, every replica of a cluster.
 */
#include "table_uid.h"

/*
 * dl_uslot.refs: >= 0 the entries charged to a bound slot; otherwise the
 * slot was never bound (ends every probe) or is being bound right now.
 */
#define DL_USLOT_UNUSED	(-2L)
#define DL_USLOT_BUSY	(-1L)

struct dl_uslot {
	dl_atomic_t refs;
	dl_atomic_t count[DL_U_NR];
	u32 uid;			/* written only while BUSY */
};

/* Slots looked up by uid; the one after them is the shared overflow. */
static u32 probe_len(const struct dl_users *u)
{
	return u->nr - 1;
}

static u32 probe_start(const struct dl_users *u, u32 uid)
{
	u64 h = (u64)uid * 0x9e3779b97f4a7c15ULL;

	return (u32)((h >> 32) % probe_len(u));
}

int dl_users_init(struct dl_users *u, const struct dl_table_ops *ops,
		  void *priv, u32 nr)
{
	size_t size = sizeof(*u->slots) * nr;
	u32 i;

	u->nr = nr;
	u->slots = ops->alloc(priv, DL_OBJ_USERS, size);
	if (!u->slots)
		return -ENOMEM;
	memset(u->slots, 0, size);
	for (i = 0; i < probe_len(u); i++)
		dl_atomic_set(&u->slots[i].refs, DL_USLOT_UNUSED);
	u->slots[nr - 1].uid = DL_UID_SHARED;
	return 0;
}

void dl_users_free(struct dl_users *u, const struct dl_table_ops *ops,
		   void *priv)
{
	if (u->slots)
		ops->free(priv, DL_OBJ_USERS, u->slots,
			  sizeof(*u->slots) * u->nr);
	u->slots = NULL;
}

/* A reference on @s if it is bound to @uid. */
static bool uslot_try_get(struct dl_uslot *s, u32 uid)
{
	long r = dl_atomic_read(&s->refs);

	while (r >= 0) {
		long old = dl_atomic_cmpxchg(&s->refs, r, r + 1);

		if (old == r)
			break;
		r = old;
	}
	if (r < 0)
		return false;
	/* Referenced: the uid cannot change now.  It may have before. */
	if (READ_ONCE(s->uid) == uid)
		return true;
	dl_atomic_add_return(-1, &s->refs);
	return false;
}

/* Makes @s, never bound or unreferenced, @uid's with one reference. */
static bool uslot_try_bind(struct dl_uslot *s, u32 uid)
{
	long r = dl_atomic_read(&s->refs);
	int c;

	if (r != DL_USLOT_UNUSED && r != 0)
		return false;
	if (dl_atomic_cmpxchg(&s->refs, r, DL_USLOT_BUSY) != r)
		return false;
	/* No references: every count went back to 0 with the last one. */
	WRITE_ONCE(s->uid, uid);
	for (c = 0; c < DL_U_NR; c++)
		dl_atomic_set(&s->count[c], 0);
	/* Fully ordered: whoever takes a reference next sees the uid. */
	dl_atomic_cmpxchg(&s->refs, DL_USLOT_BUSY, 1);
	return true;
}

u32 dl_users_get(struct dl_users *u, u32 uid)
{
	u32 h = probe_start(u, uid), n = probe_len(u), i;

	for (i = 0; i < n; i++) {
		struct dl_uslot *s = &u->slots[(h + i) % n];

		if (dl_atomic_read(&s->refs) == DL_USLOT_UNUSED)
			break;
		if (READ_ONCE(s->uid) == uid && uslot_try_get(s, uid))
			return (h + i) % n;
	}
	/*
	 * The first free place on the probe path: lookups scan up to the
	 * first slot never bound, so every bound uid stays reachable.
	 */
	for (i = 0; i < n; i++) {
		struct dl_uslot *s = &u->slots[(h + i) % n];

		if (READ_ONCE(s->uid) == uid && uslot_try_get(s, uid))
			return (h + i) % n;
		if (uslot_try_bind(s, uid))
			return (h + i) % n;
	}
	/* More users hold entries than there are slots: they share one. */
	dl_atomic_add_return(1, &u->slots[n].refs);
	return n;
}

void dl_users_put(struct dl_users *u, u32 slot)
{
	dl_atomic_add_return(-1, &u->slots[slot].refs);
}

void dl_users_add(struct dl_users *u, u32 slot, enum dl_ucount c, long delta)
{
	dl_atomic_add_return(delta, &u->slots[slot].count[c]);
}

long dl_users_count(const struct dl_users *u, u32 slot, enum dl_ucount c)
{
	return dl_atomic_read(&u->slots[slot].count[c]);
}

static u32 share(u32 ns_cap)
{
	if (!ns_cap)
		return 0;
	return ns_cap / DL_USER_SHARE ? ns_cap / DL_USER_SHARE : 1;
}

u32 dl_users_cap(const struct dl_users *u, enum dl_ucount c, u32 ns_leases,
		 u32 ns_waiters)
{
	u32 lim = READ_ONCE(u->lim[c]);
	u64 v;

	if (lim != DL_USER_AUTO)
		return lim;
	switch (c) {
	case DL_U_LEASES:
		return share(ns_leases);
	case DL_U_WAITERS:
		return share(ns_waiters);
	default:
		v = share(ns_leases);
		if (!v)
			return 0;
		v *= DL_USER_VALUE_PER_LEASE;
		if (v < DL_USER_VALUE_MIN)
			return DL_USER_VALUE_MIN;
		/* Below DL_USER_AUTO, which means something else. */
		return v > 0xfffffffeU ? 0xfffffffeU : (u32)v;
	}
}

int dl_users_admit(struct dl_users *u, u32 slot, enum dl_ucount c, long n,
		   u32 ns_leases, u32 ns_waiters)
{
	u32 cap = dl_users_cap(u, c, ns_leases, ns_waiters);
	dl_atomic_t *cnt = &u->slots[slot].count[c];
	long v;

	if (!cap)
		return 0;
	/* Charged and given back at once: concurrent admissions see each other. */
	v = dl_atomic_add_return(n, cnt);
	dl_atomic_add_return(-n, cnt);
	return v > (long)cap ? -EDQUOT : 0;
}

int dl_users_charge(struct dl_users *u, u32 slot, enum dl_ucount c, long n,
		    u32 ns_leases, u32 ns_waiters)
{
	u32 cap = dl_users_cap(u, c, ns_leases, ns_waiters);
	dl_atomic_t *cnt = &u->slots[slot].count[c];

	if (dl_atomic_add_return(n, cnt) > (long)cap && cap) {
		dl_atomic_add_return(-n, cnt);
		return -EDQUOT;
	}
	return 0;
}

int dl_users_find(const struct dl_users *u, u32 uid)
{
	u32 h = probe_start(u, uid), n = probe_len(u), i;

	for (i = 0; i < n; i++) {
		const struct dl_uslot *s = &u->slots[(h + i) % n];
		long r = dl_atomic_read(&s->refs);

		if (r == DL_USLOT_UNUSED)
			break;
		if (r >= 0 && READ_ONCE(s->uid) == uid)
			return (int)((h + i) % n);
	}
	return -ENOENT;
}

long dl_users_refs(const struct dl_users *u, u32 slot)
{
	return dl_atomic_read(&u->slots[slot].refs);
}
