// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: the per-shard deadline heap and its timer.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

/* ---- deadline heap ---------------------------------------------------- */

static void heap_set(struct dl_shard *sh, u32 i, struct dl_entry *e)
{
	sh->heap[i] = e;
	e->heap_idx = i;
}

static void heap_up(struct dl_shard *sh, u32 i)
{
	struct dl_entry *e = sh->heap[i];

	while (i) {
		u32 parent = (i - 1) / 2;

		if (sh->heap[parent]->deadline <= e->deadline)
			break;
		heap_set(sh, i, sh->heap[parent]);
		i = parent;
	}
	heap_set(sh, i, e);
}

static void heap_down(struct dl_shard *sh, u32 i)
{
	struct dl_entry *e = sh->heap[i];

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= sh->heap_len)
			break;
		if (c + 1 < sh->heap_len &&
		    sh->heap[c + 1]->deadline < sh->heap[c]->deadline)
			c++;
		if (e->deadline <= sh->heap[c]->deadline)
			break;
		heap_set(sh, i, sh->heap[c]);
		i = c;
	}
	heap_set(sh, i, e);
}

/* Capacity was reserved by dl_shard_reserve(), so this cannot fail. */
static void heap_add(struct dl_shard *sh, struct dl_entry *e)
{
	heap_set(sh, sh->heap_len++, e);
	heap_up(sh, e->heap_idx);
}

void dl_heap_del(struct dl_shard *sh, struct dl_entry *e)
{
	u32 i = e->heap_idx;
	struct dl_entry *last;

	if (i == DL_NO_HEAP)
		return;
	last = sh->heap[--sh->heap_len];
	e->heap_idx = DL_NO_HEAP;
	if (last == e)
		return;
	heap_set(sh, i, last);
	heap_down(sh, i);
	heap_up(sh, last->heap_idx);
}

/* Sets @e's deadline (0: none) keeping the heap ordered. */
void dl_entry_set_deadline(struct dl_shard *sh, struct dl_entry *e,
			   u64 deadline)
{
	e->deadline = deadline;
	if (!deadline) {
		dl_heap_del(sh, e);
	} else if (e->heap_idx == DL_NO_HEAP) {
		heap_add(sh, e);
	} else {
		heap_down(sh, e->heap_idx);
		heap_up(sh, e->heap_idx);
	}
}

static int heap_resize(struct dl_table *t, struct dl_shard *sh, u32 cap)
{
	struct dl_entry **h = dl_alloc(t, DL_OBJ_HEAP, sizeof(*h) * cap);

	if (!h)
		return -ENOMEM;
	if (sh->heap_len)
		memcpy(h, sh->heap, sizeof(*h) * sh->heap_len);
	dl_free(t, DL_OBJ_HEAP, sh->heap, sizeof(*h) * sh->heap_cap);
	sh->heap = h;
	sh->heap_cap = cap;
	return 0;
}

/*
 * Every entry of a shard may need a heap slot (a waiter without timeout
 * becomes a lease with a TTL when granted), so a slot is reserved when the
 * entry is created; granting and expiring then never allocate.
 */
int dl_shard_reserve(struct dl_table *t, struct dl_shard *sh)
{
	if (sh->nr_entries < sh->heap_cap)
		return 0;
	if (sh->heap_cap >= DL_U32_MAX / 2)
		return -ENOSPC;
	return heap_resize(t, sh, max(sh->heap_cap * 2, (u32)DL_MIN_HEAP));
}

void dl_shard_unreserve(struct dl_table *t, struct dl_shard *sh)
{
	u32 cap = sh->heap_cap / 2;

	if (cap >= DL_MIN_HEAP * 4 && sh->nr_entries < cap / 2)
		heap_resize(t, sh, cap);	/* failure: keep the big one */
}

/* Tells the glue when the shard's earliest deadline changed. */
void dl_shard_sync_timer(struct dl_table *t, struct dl_cmd *cx, u32 idx)
{
	struct dl_shard *sh = &t->shards[idx];
	u64 d = sh->heap_len ? sh->heap[0]->deadline : 0;

	if (d != sh->armed) {
		sh->armed = d;
		t->ops->set_timer(cx, idx, d);
	}
}

u64 dl_shard_next_deadline(const struct dl_table *t, u32 shard)
{
	const struct dl_shard *sh = &t->shards[shard];

	return sh->heap_len ? sh->heap[0]->deadline : 0;
}

const struct dl_entry *dl_shard_first_due(const struct dl_table *t, u32 shard,
					  u64 now)
{
	const struct dl_shard *sh = &t->shards[shard];

	if (!sh->heap_len || sh->heap[0]->deadline > now)
		return NULL;
	return sh->heap[0];
}
