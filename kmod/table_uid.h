/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-uid accounting of a lock table (table_uid.c), internal to table.c.
 *
 * Every holder and waiter is charged to the uid that asked for it, so that
 * one user cannot take the whole namespace's leases, waiters or memory.  The
 * map from uid to counters is a fixed array of slots, allocated with the
 * table: its memory does not grow with the number of users.
 *
 * Concurrency: commands on different shards charge the same uid at once, so
 * a slot's counters are atomics, and a slot is found and bound without a
 * lock (uncontended acquires must not need the table's global lock).  An
 * entry holds a reference on its slot; a slot without references keeps its
 * uid until another uid needs the place.  Two first acquires of one uid that
 * race may bind two slots; lookups find the first one on the probe path
 * from then on, so the other only drains: until it has, the uid's cap
 * applies to each of the two slots.  When every slot is referenced, further
 * uids share one overflow slot.
 */
#ifndef DLOCK_TABLE_UID_H
#define DLOCK_TABLE_UID_H

#include "table.h"

enum dl_ucount {
	DL_U_LEASES,
	DL_U_WAITERS,
	DL_U_VALUE_BYTES,
	DL_U_NR,
};

struct dl_uslot;

struct dl_users {
	struct dl_uslot *slots;	/* nr - 1 looked up by uid, then the overflow */
	u32 nr;
	u32 lim[DL_U_NR];	/* as set: 0 none, DL_USER_AUTO the share */
};

int dl_users_init(struct dl_users *u, const struct dl_table_ops *ops,
		  void *priv, u32 nr);
void dl_users_free(struct dl_users *u, const struct dl_table_ops *ops,
		   void *priv);
/* Whether @slot is the overflow that uids without a slot of their own share. */
static inline bool dl_users_shared(const struct dl_users *u, u32 slot)
{
	return slot == u->nr - 1;
}

/* A reference on the slot of @uid (bound to it if need be). */
u32 dl_users_get(struct dl_users *u, u32 uid);
void dl_users_put(struct dl_users *u, u32 slot);
void dl_users_add(struct dl_users *u, u32 slot, enum dl_ucount c, long delta);
long dl_users_count(const struct dl_users *u, u32 slot, enum dl_ucount c);
/*
 * Whether @slot may take @n more of @c under the cap in force (0 or
 * -EDQUOT); counts nothing.  @ns_* are the namespace caps the
 * default share is taken from, read at this admission.
 */
int dl_users_admit(struct dl_users *u, u32 slot, enum dl_ucount c, long n,
		   u32 ns_leases, u32 ns_waiters);
/*
 * Counts @n more of @c on @slot if the cap in force admits them, else
 * counts nothing and returns -EDQUOT.  The count is taken before
 * the cap is compared, so admissions on other shards see each other and the
 * cap holds exactly.
 */
int dl_users_charge(struct dl_users *u, u32 slot, enum dl_ucount c, long n,
		    u32 ns_leases, u32 ns_waiters);
/* The cap on @c in force with these namespace caps; 0: none. */
u32 dl_users_cap(const struct dl_users *u, enum dl_ucount c, u32 ns_leases,
		 u32 ns_waiters);
/* Entries referencing @slot; negative for a slot never bound or binding. */
long dl_users_refs(const struct dl_users *u, u32 slot);
/* The slot bound to @uid now, without a reference; -ENOENT if none. */
int dl_users_find(const struct dl_users *u, u32 uid);

#endif /* DLOCK_TABLE_UID_H */
