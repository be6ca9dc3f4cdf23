/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module tells an operator about the table's outcomes: a counter
 * per namespace and a tracepoint (trace.h) for each grant, release, owner
 * death, expiry, break, queued wait, wait timeout and deadlock refusal.
 * The glue calls these hooks where the outcome is known: the table's event
 * and wait_done callbacks, and the acquire handler for what the table only
 * answers (queued, -EDEADLK).
 */
#ifndef DLOCK_OBSERVE_H
#define DLOCK_OBSERVE_H

#include <linux/types.h>
#include <linux/dlock.h>

#include "table.h"

struct dlock_net;
struct dlock_ctx;
struct sk_buff;

/* One per DLOCK_C_* counter, in the same order. */
enum dlock_stat {
	DLOCK_STAT_GRANTS,
	DLOCK_STAT_RELEASES,
	DLOCK_STAT_OWNER_DIED,
	DLOCK_STAT_EXPIRED,
	DLOCK_STAT_BREAKS,
	DLOCK_STAT_WAITS,
	DLOCK_STAT_WAIT_TIMEOUTS,
	DLOCK_STAT_DEADLOCKS,
	DLOCK_STAT_NR,
};

/* Per CPU: the uncontended path of different shards shares no line. */
struct dlock_stats {
	u64 n[DLOCK_STAT_NR];
};

/*
 * The owner whose own request runs a command, and its process: a lease
 * event about that owner gets its pid in the trace; others (a waiter
 * granted by someone else's release, an expiry) show pid 0, as the
 * process is not known there.
 */
struct dlock_actor {
	u32 pid;		/* in the initial pid namespace, as trace pids */
	u64 session_id;		/* socket-bound owner's session */
	u64 tag;
	const char *str;	/* detached owner, not NUL-terminated */
	u32 len;
};

int dlock_obs_init(struct dlock_net *dn);
void dlock_obs_exit(struct dlock_net *dn);
int dlock_obs_fill(struct sk_buff *msg, struct dlock_net *dn);

void dlock_obs_event(struct dlock_ctx *ctx, const struct dl_event *ev);
void dlock_obs_wait_done(struct dlock_ctx *ctx, const struct dl_wait_done *wd);
void dlock_obs_queued(struct dlock_net *dn, const struct dl_acquire_req *rq);
void dlock_obs_deadlock(struct dlock_net *dn, const struct dl_acquire_req *rq,
			const char *why);
/* Cluster mode: what this node applied (observe.c says how it differs). */
void dlock_obs_cl_event(struct dlock_net *dn, const struct dl_event *ev);
void dlock_obs_cl_acquired(struct dlock_net *dn,
			   const struct dl_acquire_req *rq, int status,
			   const char *why);
void dlock_obs_cl_wait_done(struct dlock_net *dn,
			    const struct dl_wait_done *wd);

#endif /* DLOCK_OBSERVE_H */
