// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: hash buckets, name lookup and the holder index.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

/* ---- hash buckets ----------------------------------------------------- */

static struct dl_lock *lock_find(struct dl_shard *sh, u32 hkey,
				 const char *name, u32 len)
{
	struct dl_lock *l = sh->buckets[bucket_of(hkey, sh->bits)];

	for (; l; l = l->next) {
		int c = key_cmp(hkey, name, len, l);

		if (!c)
			return l;
		if (c < 0)
			break;
	}
	return NULL;
}

/*
 * Chains are sorted and buckets are in key order, so walking the old table
 * in order visits keys in ascending order; appending each to its new bucket
 * keeps the new chains sorted without any search.
 */
static void shard_rehash(struct dl_table *t, struct dl_shard *sh, u32 bits)
{
	struct dl_lock **nb = dl_alloc(t, DL_OBJ_BUCKETS, sizeof(*nb) << bits);
	struct dl_lock **tail = NULL;
	u32 i, cur = DL_U32_MAX;

	if (!nb)
		return;	/* keep longer chains; still correct */
	memset(nb, 0, sizeof(*nb) << bits);
	for (i = 0; i < (1U << sh->bits); i++) {
		struct dl_lock *l = sh->buckets[i], *next;

		for (; l; l = next) {
			u32 b = bucket_of(l->hkey, bits);

			next = l->next;
			l->next = NULL;
			if (b != cur) {
				cur = b;
				tail = &nb[b];
			}
			*tail = l;
			tail = &l->next;
		}
	}
	dl_free(t, DL_OBJ_BUCKETS, sh->buckets, sizeof(*nb) << sh->bits);
	sh->buckets = nb;
	sh->bits = bits;
}

void dl_lock_insert(struct dl_table *t, struct dl_shard *sh,
		    struct dl_lock *l)
{
	struct dl_lock **pp = &sh->buckets[bucket_of(l->hkey, sh->bits)];

	while (*pp && key_cmp(l->hkey, l->name, l->name_len, *pp) > 0)
		pp = &(*pp)->next;
	l->next = *pp;
	*pp = l;
	sh->nr_locks++;
	dl_atomic_add_return(1, &t->nr_locks);
	if (sh->nr_locks > (1U << sh->bits) && sh->bits < DL_MAX_BUCKET_BITS)
		shard_rehash(t, sh, sh->bits + 1);
}

struct dl_lock *dl_lock_new(struct dl_table *t, u32 hkey,
			    const char *name, u32 len)
{
	struct dl_lock *l = dl_alloc(t, DL_OBJ_LOCK, lock_size(len));

	if (!l)
		return NULL;
	memset(l, 0, offsetof(struct dl_lock, name));
	dl_link_init(&l->holders);
	dl_link_init(&l->waiters);
	l->hkey = hkey;
	l->name_len = len;
	memcpy(l->name, name, len);
	return l;
}

/* The holder index of @l (see dl_hidx_fit()), if it has one. */
void dl_hidx_free(struct dl_table *t, struct dl_lock *l)
{
	if (!l->hidx)
		return;
	dl_free(t, DL_OBJ_BUCKETS, l->hidx, sizeof(*l->hidx) << l->hbits);
	l->hidx = NULL;
	l->hbits = 0;
}

void dl_lock_remove(struct dl_table *t, struct dl_shard *sh,
		    struct dl_lock *l)
{
	struct dl_lock **pp = &sh->buckets[bucket_of(l->hkey, sh->bits)];

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	sh->nr_locks--;
	dl_atomic_add_return(-1, &t->nr_locks);
	dl_hidx_free(t, l);
	dl_free(t, DL_OBJ_LOCK, l, lock_size(l->name_len));
	if (sh->bits > DL_MIN_BUCKET_BITS &&
	    sh->nr_locks < (1U << sh->bits) / 8)
		shard_rehash(t, sh, sh->bits - 1);
}

/* Finds the lock of @name; fills the shard it lives in. */
struct dl_lock *dl_name_lookup(struct dl_table *t, const char *name,
			       u32 len, u32 *shard, u32 *hkey)
{
	u64 h = dl_name_hash(t, name, len);

	*shard = (u32)h & t->shard_mask;
	*hkey = (u32)(h >> 32);
	return lock_find(&t->shards[*shard], *hkey, name, len);
}

u32 dl_hidx_slot(const struct dl_table *t, const struct dl_lock *l,
		 const struct dl_okey *k)
{
	return (u32)dl_okey_hash(&t->idx.h, k) & ((1U << l->hbits) - 1);
}

void dl_hidx_insert(const struct dl_table *t, struct dl_lock *l,
		    struct dl_entry *e)
{
	struct dl_okey k;
	u32 b;

	dl_entry_okey(t, e, &k);
	b = dl_hidx_slot(t, l, &k);
	e->hnext = l->hidx[b];
	l->hidx[b] = e;
}

void dl_hidx_remove(const struct dl_table *t, struct dl_lock *l,
		    struct dl_entry *e)
{
	struct dl_entry **pp;
	struct dl_okey k;

	dl_entry_okey(t, e, &k);
	pp = &l->hidx[dl_hidx_slot(t, l, &k)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

/* Rebuilds the index with 1 << @bits buckets; on failure keeps the old one. */
static void hidx_build(struct dl_table *t, struct dl_lock *l, u32 bits)
{
	struct dl_entry **nb = dl_alloc(t, DL_OBJ_BUCKETS, sizeof(*nb) << bits);
	const struct dl_link *p;

	if (!nb)
		return;
	memset(nb, 0, sizeof(*nb) << bits);
	dl_hidx_free(t, l);
	l->hidx = nb;
	l->hbits = bits;
	for (p = l->holders.next; p != &l->holders; p = p->next)
		dl_hidx_insert(t, l, entry_of_lock_link(p));
}

/*
 * Big shared locks and semaphores would make every acquire and release scan
 * all holders for the owner; past DL_HIDX_MIN holders a lock gets a hash of
 * its holders by owner, sized to about one per bucket.  It only speeds up
 * dl_holder_find(): without it (small lock, or allocation failed) the list
 * scan gives the same answer.
 */
void dl_hidx_fit(struct dl_table *t, struct dl_lock *l)
{
	u32 n = l->nr_holders, bits = 4;

	if (n < DL_HIDX_MIN / 2) {
		dl_hidx_free(t, l);
		return;
	}
	if (l->hidx && n <= (2U << l->hbits) &&
	    (l->hbits == 4 || n >= (1U << l->hbits) / 8))
		return;
	if (!l->hidx && n <= DL_HIDX_MIN)
		return;
	while ((1U << bits) < n && bits < 24)
		bits++;
	hidx_build(t, l, bits);
}
