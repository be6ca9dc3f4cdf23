// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table, cluster mode: a lease's countdown as its holder may
 * count on it.
 *
 * The leader alone ends leases, on its clock, counting each from when it
 * applied the entry that last set it (a grant or a renewal).  A holder on
 * another node hears of that EXPIRE when its node applies it: on a node cut
 * off from the leader, too late, while the lock may be granted elsewhere.
 * So a node that is not the leader counts its own clients' leases too: from
 * a time before the leader applied the entry (the core's repl_apply_time()),
 * over the lease's length shrunk by the clocks' drift and a margin.  When
 * that runs out before a renewal is applied here, the holder is told
 * (dl_table_overdue()), before the leader's countdown of the same lease can
 * end.  While holder_view is on, every lease deadline of this table is such
 * a bound; a node that becomes leader restarts them all as its own
 * (dl_table_restart()).  Nothing here is replicated: DL_E_TOLD is in no
 * snapshot or digest.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

#define DL_HOLDER_MARGIN_MIN	(10 * DL_NS_PER_MS)

/*
 * What the holder may count on of a lease held for @hold_ms on the leader's
 * clock (the core's hold: the TTL grown by the drift of both clocks), in ns
 * of this node's clock.  The margin covers a delayed work's lateness and the
 * LOST's way to the holder.
 */
u64 dl_holder_len(const struct dl_table *t, u32 hold_ms)
{
	u64 ppm = t->drift_ppm;
	u64 us = (u64)hold_ms * 1000 * (1000000 - ppm) / (1000000 + ppm);
	u64 len = us * 1000, margin = max(len / 10, DL_HOLDER_MARGIN_MIN);

	return len > 2 * margin ? len - margin : len / 2;
}

/*
 * A grant, renewal or re-grant of @e for @ttl_ms applied at @now: its
 * holder's bound, kept in the entry's tail whatever the view, so that a
 * leader's restarted countdowns (dl_table_restart()) never stand in for it.
 * A renewal never shortens it, unless its holder was told (@fresh).
 */
void dl_entry_new_bound(struct dl_table *t, struct dl_entry *e, u64 now,
			u32 ttl_ms, bool fresh)
{
	u64 b;

	if (!t->xsize || (e->flags & DL_E_NO_TTL))
		return;
	b = now + dl_holder_len(t, min(ttl_ms, READ_ONCE(t->cfg.max_ttl_ms)));
	if (!fresh)
		b = max(b, entry_bound(t, e));
	entry_set_bound(t, e, b);
}

/* A renewal or a re-grant of @e: its holder may count on it again. */
bool dl_entry_untold(struct dl_entry *e)
{
	if (!(e->flags & DL_E_TOLD))
		return false;
	e->flags &= ~DL_E_TOLD;
	return true;
}

/*
 * A leader steps down: each lease's deadline becomes its holder's bound,
 * as set when it was applied (dl_entry_new_bound()), but from no later than
 * @floor: what this node applied as a leader it may have applied after a
 * newer leader's election (a deposed leader learns late that it is one).
 */
static void view_lock(struct dl_table *t, struct dl_shard *sh,
		      struct dl_lock *l, const void *arg)
{
	u64 floor = *(const u64 *)arg;
	const struct dl_link *p;

	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);
		u64 b = floor + dl_holder_len(t, e->hold_ms);

		if (e->deadline)
			dl_entry_set_deadline(sh, e, max(min(entry_bound(t, e),
							     b), 1ULL));
	}
}

void dl_table_holder_view(struct dl_table *t, bool on, u32 drift_ppm,
			  u64 floor)
{
	t->drift_ppm = drift_ppm;
#if TABLE_SM_MUTATION == 16	/* the sim's check: a deposed leader's deadlines kept */
	t->holder_view = on;
#endif
	if (t->holder_view == on)
		return;
	t->holder_view = on;
	if (on)		/* off: dl_table_restart() comes next */
		dl_table_each_lock(t, view_lock, &floor);
}

static void keep_lock(struct dl_table *to, struct dl_shard *sh,
		      struct dl_lock *l, const void *arg)
{
	struct dl_table *from = (struct dl_table *)arg;
	const struct dl_lock *old = dl_lookup(from, l->name, l->name_len);
	const struct dl_link *p;
	const struct dl_entry *o;

	if (!old)
		return;
	for (p = l->holders.next; p != &l->holders; p = p->next) {
		struct dl_entry *e = entry_of_lock_link(p);

		for (o = dl_holder_next(old, NULL); o; o = dl_holder_next(old, o))
			if (o->token == e->token)
				break;
		if (!o || !e->deadline)
			continue;
		e->flags |= o->flags & DL_E_TOLD;
		if (entry_bound(from, o) < entry_bound(to, e)) {
			entry_set_bound(to, e, entry_bound(from, o));
			if (e->deadline > entry_bound(to, e))
				dl_entry_set_deadline(sh, e, entry_bound(to, e));
		}
	}
}

void dl_table_keep_bounds(struct dl_table *to, struct dl_table *from)
{
	if (to->holder_view && from->holder_view)
		dl_table_each_lock(to, keep_lock, from);
}

u64 dl_table_next_deadline(const struct dl_table *t)
{
	u64 at = 0, d;
	u32 i;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		d = dl_shard_next_deadline(t, i);
		if (d && (!at || d < at))
			at = d;
	}
	return at;
}

static void tell(struct dl_entry *e,
		 void (*fn)(void *arg, const struct dl_lost *ls), void *arg)
{
	struct dl_lost ls = dl_lost_of(e, DL_LOST_EXPIRED);

	e->flags |= DL_E_TOLD;
	fn(arg, &ls);
}

bool dl_table_overdue(struct dl_table *t, u64 now, u32 budget,
		      bool (*mine)(void *arg, const struct dl_session *s),
		      void (*fn)(void *arg, const struct dl_lost *ls),
		      void *arg)
{
	u32 i;

	if (!t->holder_view)
		return false;
	for (i = 0; i < t->cfg.nr_shards; i++) {
		const struct dl_entry *c;

		while ((c = dl_shard_first_due(t, i, now))) {
			struct dl_entry *e = (struct dl_entry *)c;
			u64 len;

			if (!budget--)
				return true;
			if (e->flags & DL_E_WAITER) {
				len = (u64)max(e->wait_ms, 1U) * DL_NS_PER_MS;
			} else {
				len = dl_holder_len(t, max(e->hold_ms, 1U));
				if (e->sess && !(e->flags & DL_E_TOLD) &&
				    mine(arg, e->sess))
					tell(e, fn, arg);
			}
			/* as the leader puts back one it proposed to expire */
			dl_entry_set_deadline(&t->shards[i], e, now + len);
		}
	}
	return false;
}
