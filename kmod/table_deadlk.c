// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: deadlock detection on the wait-for graph.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

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
	if (TABLE_SM_MUTATION == 17)	/* the sim's check: shared holders ignored */
		return bmode == DL_MODE_EXCLUSIVE;
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
			if (TABLE_SM_MUTATION == 18)	/* the sim's check */
				f->phase = 2;	/* waiters ahead not followed */
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
	u32 gen, scratch = 0;

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
		dl_entry_okey(t, b, &bk);
		if (dl_okey_eq(&bk, req))
			return -EDEADLK;
		/*
		 * The index's chains depend on its resize history, which
		 * differs between replicas (a snapshot builds it afresh):
		 * in cluster mode they do not count toward the budget.
		 */
		o = dl_index_owner(&t->idx, &bk, t->cfg.cluster ? &scratch :
				   &t->walk_steps);
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
int dl_deadlock_check(struct dl_table *t, struct dl_cmd *cx,
		      const struct dl_lock *l, u8 mode,
		      const struct dl_okey *req)
{
	int err = deadlock_walk(t, l, mode, req);

	cx->steps += t->walk_steps;
	return err;
}
