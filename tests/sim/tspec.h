/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sim -T: a sequential specification of the lock table's lock objects
 * (check_tspec.c), written from the table's documented semantics and not
 * from its code: readers-writer locks and N-permit semaphores, FIFO queues
 * with hand-off at the entry that frees the lock, reentrancy per owner
 * (session and tag, or a detached owner string), values, renewals, cancel,
 * break, stamped expiry of leases and waits, CLIENT_END and SESSION_END up
 * to a cutoff, and the log's fencing tokens.
 *
 * check_oracle.c feeds it the committed log in index order, keeps its
 * answers, the wait answers (wait_done) each index gives and a digest of
 * its state after each index; every node's table must give the same
 * answers and events and reach the same state at the same index
 * (tablesim.c computes the same digest from the real table).
 */
#ifndef DLOCK_SIM_TSPEC_H
#define DLOCK_SIM_TSPEC_H

#include "compat.h"
#include "repl.h"

#define TS_LOCKS	4	/* lock/0 .. lock/3, as NLOCKS_MAX */
#define TS_ENTS		64	/* holders (and waiters) per lock */
#define TS_EV_MAX	64	/* wait answers one entry may give */

/* A queued acquire answered: granted (0) or timed out (-ETIMEDOUT). */
struct ts_wd {
	u16 node;
	u32 client;
	u64 cookie;
	s32 status;
	u64 token;
};

/* The name of lock @k ("lock/<k>"); returns its length. */
u32 ts_lock_name(char *buf, u32 k);
/* Lock id of a name, or -1. */
int ts_lock_of(const char *name, u32 len);

/* Digest helpers shared with tablesim.c: one lock, one entry. */
u64 ts_mix(u64 h, u64 v);
u64 ts_bytes(const void *p, u32 len);

void tspec_reset(void);
/*
 * Applies committed command @c at index @i (fresh: not a retransmission,
 * not of a client the idempotence table turns away) with the world's
 * @epoch; fills @res and the wait answers it gives (@ev, *@nev).
 */
void tspec_apply(const struct repl_cmd *c, u64 i, u64 epoch,
		 struct repl_result *res, struct ts_wd *ev, int *nev);
/* The digest of every lock's state now (tablesim_state() is the table's). */
u64 tspec_state(void);

/* Holders and waiters at the end (stranded leases and waits). */
struct ts_view {
	bool waiter;
	bool detached;
	bool no_ttl;
	u16 node;
	u32 client;
	u64 token;
	u64 stamp;
	u32 wait_ms;
};
int tspec_entries(u32 lock, struct ts_view *out, int max);
/* The session of (node, client) holds or waits for something (its slot stays). */
bool tspec_busy(u16 node, u32 client);

/* sim: a committed BREAK ended lease @token of @lock (first application). */
void sim_broken(u32 lock, u64 token);
/* sim: the shard of lock @k in the table (the order SESSION_END takes). */
u32 tablesim_shard_of(u32 k);

/* check_oracle.c, sim -T */
void ck_table_applied(int n, const struct repl_cmd *c, u64 i,
		      const struct repl_result *res, const struct ts_wd *ev,
		      int nev, u64 state);
int ck_table_entries(u32 lock, struct ts_view *out, int max);
/*
 * The specification stopped at an index the checker never saw: it no longer
 * ends the clients' broken leases (sim_broken), so the checks that trust
 * the clients' view of their leases cannot run either.
 */
bool ck_table_gap(void);
extern u64 ck_table_checked, ck_table_waits;
/* waits the specification refused as closing a cycle (-EDEADLK) */
extern u64 tspec_deadlocks;

#endif /* DLOCK_SIM_TSPEC_H */
