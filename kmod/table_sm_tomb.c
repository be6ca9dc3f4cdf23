// SPDX-License-Identifier: GPL-2.0
/*
 * Ended clients (tombstones): once a client's CLIENT_END is committed, a
 * later command from the same (node, client) is refused with -ESHUTDOWN
 * instead of opening a new session.  Without this a request retried across
 * a leader change and committed after the client's socket closed would make
 * a session nobody ends: a lease without TTL in it stays until the node's
 * own SESSION_END, which never comes while the node is alive.
 *
 * A tombstone is replicated state (in the snapshot).  The set is bounded:
 * past TSM_TOMB_MAX the oldest one goes, the same on every node; a command
 * that late is as stale as one the core's dedup table no longer knows.
 * Client ids are never reused by a node (docs/protocol.md §11).
 * Policy code: compat.h only.
 */
#include "table_sm_int.h"

static u32 tomb_pos(const struct tsm_state *st, u64 key)
{
	u32 lo = 0, hi = st->nr_tomb;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (st->tomb[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool tsm_tomb_find(const struct tsm_state *st, u64 key)
{
	u32 i = tomb_pos(st, key);

	return i < st->nr_tomb && st->tomb[i].key == key;
}

static void tomb_del(struct tsm_state *st, u32 i)
{
	memmove(&st->tomb[i], &st->tomb[i + 1],
		sizeof(*st->tomb) * (st->nr_tomb - i - 1));
	st->nr_tomb--;
}

/* The oldest tombstone, by the index of its CLIENT_END. */
static void tomb_evict(struct tsm_state *st)
{
	u32 i, old = 0;

	for (i = 1; i < st->nr_tomb; i++)
		if (st->tomb[i].index < st->tomb[old].index)
			old = i;
	tomb_del(st, old);
}

int tsm_tomb_add(struct table_sm *sm, struct tsm_state *st, u64 key,
		 u64 index)
{
	u32 i = tomb_pos(st, key);

	if (i < st->nr_tomb && st->tomb[i].key == key)
		return 0;
	if (st->nr_tomb >= TSM_TOMB_MAX) {
		tomb_evict(st);
		i = tomb_pos(st, key);
	}
	if (st->nr_tomb == st->cap_tomb) {
		u32 cap = max(16U, st->cap_tomb * 2);
		struct tsm_tomb *n;

		if (cap > TSM_TOMB_MAX)
			cap = TSM_TOMB_MAX;
		n = tsm_alloc(sm, sizeof(*n) * cap);
		if (!n)
			return -ENOMEM;
		if (st->nr_tomb)
			memcpy(n, st->tomb, sizeof(*n) * st->nr_tomb);
		tsm_free(sm, st->tomb, sizeof(*n) * st->cap_tomb);
		st->tomb = n;
		st->cap_tomb = cap;
	}
	memmove(&st->tomb[i + 1], &st->tomb[i],
		sizeof(*st->tomb) * (st->nr_tomb - i));
	st->tomb[i].key = key;
	st->tomb[i].index = index;
	st->nr_tomb++;
	return 0;
}

void tsm_tomb_free(struct table_sm *sm, struct tsm_state *st)
{
	tsm_free(sm, st->tomb, sizeof(*st->tomb) * st->cap_tomb);
	st->tomb = NULL;
	st->nr_tomb = 0;
	st->cap_tomb = 0;
}
