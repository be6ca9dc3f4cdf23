// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: the self-check of internal invariants (tests).
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

/* ---- self-check ------------------------------------------------------ */

#define CHECK(cond) do { if (!(cond)) return -__LINE__; } while (0)

static int check_lock(const struct dl_table *t, const struct dl_shard *sh,
		      const struct dl_lock *l, u32 *entries)
{
	const struct dl_entry *last;
	const struct dl_link *p;
	u32 n = 0, excl = 0, multi;

	CHECK(l->nr_holders || l->nr_waiters);
	for (p = l->holders.next; p != &l->holders; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		CHECK(!(e->flags & DL_E_WAITER) && e->lock == l);
		CHECK(e->count >= 1);
		CHECK(e->deadline ? sh->heap[e->heap_idx] == e :
				    e->heap_idx == DL_NO_HEAP);
		CHECK(l->permits || e->mode == l->mode);
		excl += e->mode == DL_MODE_EXCLUSIVE;
		n++;
	}
	CHECK(n == l->nr_holders);
	CHECK(!l->permits || n <= l->permits);
	if (l->hidx) {
		u32 b, in = 0;

		for (b = 0; b < (1U << l->hbits); b++) {
			const struct dl_entry *e;
			struct dl_okey k;

			for (e = l->hidx[b]; e; e = e->hnext) {
				dl_entry_okey(t, e, &k);
				CHECK(e->lock == l && dl_hidx_slot(t, l, &k) == b);
				in++;
			}
		}
		CHECK(in == n);
	}
	CHECK(!excl || n == 1);
	*entries += n;
	n = 0;
	for (p = l->waiters.next; p != &l->waiters; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		CHECK((e->flags & DL_E_WAITER) && e->lock == l && e->sess);
		CHECK(e->wn && e->wn->entry == e && e->wn->lock == l);
		CHECK(e->multi == (e->wn->owner->nr_waits >= 2));
		CHECK(e->deadline ? sh->heap[e->heap_idx] == e :
				    e->heap_idx == DL_NO_HEAP);
		n++;
	}
	CHECK(n == l->nr_waiters);
	last = NULL;
	multi = 0;
	for (p = l->waiters.next; p != &l->waiters; p = p->next) {
		const struct dl_entry *e = entry_of_lock_link(p);

		if (e->mode == DL_MODE_EXCLUSIVE)
			last = e;
		multi += e->multi;
	}
	CHECK(l->excl_unknown ? !l->last_excl : l->last_excl == last);
	CHECK(multi == l->nr_multi);
	/* A waiter at the head that fits would have been granted. */
	if (n)
		CHECK(!lock_grantable(l, entry_of_lock_link(l->waiters.next)->mode));
	*entries += n;
	return 0;
}

static int check_shard(const struct dl_table *t, const struct dl_shard *sh)
{
	const struct dl_lock *l, *prev = NULL;
	u32 b, i, locks = 0, entries = 0;
	int err;

	for (b = 0; b < (1U << sh->bits); b++) {
		for (l = sh->buckets[b]; l; l = l->next) {
			CHECK(bucket_of(l->hkey, sh->bits) == b);
			CHECK(!prev || key_cmp(prev->hkey, prev->name,
					       prev->name_len, l) < 0);
			prev = l;
			err = check_lock(t, sh, l, &entries);
			if (err)
				return err;
			locks++;
		}
	}
	CHECK(locks == sh->nr_locks);
	CHECK(entries == sh->nr_entries);
	CHECK(sh->heap_cap >= sh->nr_entries && sh->heap_len <= sh->nr_entries);
	for (i = 0; i < sh->heap_len; i++) {
		CHECK(sh->heap[i]->heap_idx == i && sh->heap[i]->deadline);
		CHECK(!i || sh->heap[(i - 1) / 2]->deadline <=
			    sh->heap[i]->deadline);
	}
	return 0;
}

/* Adds what @l's entries charged to uid slot @slot hold to @n. */
static void count_lock_slot(const struct dl_lock *l, u32 slot, long *n)
{
	const struct dl_link *p, *head;
	int w;

	for (w = 0; w < 2; w++) {
		head = w ? &l->waiters : &l->holders;
		for (p = head->next; p != head; p = p->next) {
			const struct dl_entry *e = entry_of_lock_link(p);

			if (e->uslot != slot)
				continue;
			n[w]++;
			if (!w && e->value)
				n[2] += e->value->len;
		}
	}
}

/* What the entries charged to uid slot @slot add up to. */
static void count_slot(const struct dl_table *t, u32 slot, long *n)
{
	const struct dl_lock *l;
	u32 i, b;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		const struct dl_shard *sh = &t->shards[i];

		for (b = 0; b < (1U << sh->bits); b++)
			for (l = sh->buckets[b]; l; l = l->next)
				count_lock_slot(l, slot, n);
	}
}

/* Every uid slot counts exactly the entries that reference it. */
static int check_users(const struct dl_table *t)
{
	u32 slot;

	for (slot = 0; slot < t->users.nr; slot++) {
		long n[3] = { 0, 0, 0 }, refs = dl_users_refs(&t->users, slot);

		if (refs <= 0) {
			CHECK(refs < 0 || (!dl_users_count(&t->users, slot, 0) &&
					   !dl_users_count(&t->users, slot, 1) &&
					   !dl_users_count(&t->users, slot, 2)));
			continue;
		}
		count_slot(t, slot, n);
		CHECK(refs == n[0] + n[1]);
		CHECK(dl_users_count(&t->users, slot, DL_U_LEASES) == n[0]);
		CHECK(dl_users_count(&t->users, slot, DL_U_WAITERS) == n[1]);
		CHECK(dl_users_count(&t->users, slot, DL_U_VALUE_BYTES) == n[2]);
	}
	return 0;
}

int dl_table_check(struct dl_table *t)
{
	u32 i;
	int err;

	for (i = 0; i < t->cfg.nr_shards; i++) {
		err = check_shard(t, &t->shards[i]);
		if (err)
			return err;
	}
	return check_users(t);
}
