// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: inspection and the paged dump.
 * Policy code (see table.c): compat.h only, through table_int.h.
 */
#include "table_int.h"

/* ---- inspection ------------------------------------------------------ */

const struct dl_lock *dl_lookup(struct dl_table *t, const char *name, u32 len)
{
	u32 shard, hkey;

	if (dl_name_valid(name, len))
		return NULL;
	return dl_name_lookup(t, name, len, &shard, &hkey);
}

void dl_lock_info(const struct dl_lock *l, struct dl_lock_info *out)
{
	out->name = l->name;
	out->name_len = l->name_len;
	out->semaphore = l->permits != 0;
	out->mode = l->permits ? DL_MODE_SEMAPHORE : l->mode;
	out->permits = l->permits;
	out->nr_holders = l->nr_holders;
	out->nr_waiters = l->nr_waiters;
}

const struct dl_entry *dl_holder_next(const struct dl_lock *l,
				      const struct dl_entry *prev)
{
	const struct dl_link *p = prev ? prev->lock_link.next : l->holders.next;

	return p == &l->holders ? NULL : entry_of_lock_link(p);
}

const struct dl_entry *dl_waiter_next(const struct dl_lock *l,
				      const struct dl_entry *prev)
{
	const struct dl_link *p = prev ? prev->lock_link.next : l->waiters.next;

	return p == &l->waiters ? NULL : entry_of_lock_link(p);
}

const struct dl_lock *dl_entry_lock(const struct dl_entry *e)
{
	return e->lock;
}

void dl_entry_info(const struct dl_table *t, const struct dl_entry *e, u64 now,
		   struct dl_entry_info *out)
{
	bool waiter = e->flags & DL_E_WAITER;

	memset(out, 0, sizeof(*out));
	out->waiter = waiter;
	out->mode = e->mode;
	dl_entry_view(t, e, &out->owner);
	out->meta = entry_meta(t, e);
	out->stamp = entry_stamp(t, e);
	out->no_ttl = e->flags & DL_E_NO_TTL;
	if (waiter) {
		out->cookie = e->cookie;
		out->hold_ms = e->ttl_ms;
		out->wait_ms = e->wait_ms;
	} else {
		out->token = e->token;
		out->count = e->count;
		out->hold_ms = e->hold_ms;
		if (e->value) {
			out->value = e->value->data;
			out->value_len = e->value->len;
		}
	}
	out->no_deadline = !e->deadline;
	out->remaining_ns = e->deadline > now ? e->deadline - now : 0;
}

/* ---- dump ------------------------------------------------------------ */

void dl_cursor_init(struct dl_cursor *c)
{
	memset(c, 0, sizeof(*c));
}

const struct dl_lock *dl_dump_next(struct dl_table *t, struct dl_cursor *c)
{
	const struct dl_shard *sh;
	const struct dl_lock *l;
	u32 b = 0;

	if (c->shard >= t->cfg.nr_shards)
		return NULL;
	sh = &t->shards[c->shard];
	if (c->started) {
		b = bucket_of(c->hkey, sh->bits);
		l = sh->buckets[b];
		while (l && key_cmp(c->hkey, c->name, c->len, l) >= 0)
			l = l->next;
	} else {
		l = sh->buckets[0];
	}
	while (!l) {
		if (++b >= (1U << sh->bits))
			return NULL;
		l = sh->buckets[b];
	}
	c->started = true;
	c->hkey = l->hkey;
	c->len = l->name_len;
	memcpy(c->name, l->name, l->name_len);
	return l;
}

bool dl_cursor_next_shard(const struct dl_table *t, struct dl_cursor *c)
{
	if (c->shard + 1 >= t->cfg.nr_shards)
		return false;
	c->shard++;
	c->started = false;
	return true;
}

u64 dl_table_generation(const struct dl_table *t)
{
	u64 g = 0;
	u32 i;

	for (i = 0; i < t->cfg.nr_shards; i++)
		g += READ_ONCE(t->shards[i].gen);
	return g;
}
