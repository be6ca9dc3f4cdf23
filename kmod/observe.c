// SPDX-License-Identifier: GPL-2.0
/*
 * Counters and tracepoints of lease and wait outcomes, per namespace.  The
 * table reports every outcome exactly once (an event, a WAIT_DONE, or the
 * answer to an acquire), so counting there makes the counters exact: every
 * lease granted ends as one release, owner death, expiry or break.
 *
 * The only file that defines CREATE_TRACE_POINTS (trace.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "repl.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static const u16 dlock_stat_attr[DLOCK_STAT_NR] = {
	[DLOCK_STAT_GRANTS] = DLOCK_C_GRANTS,
	[DLOCK_STAT_RELEASES] = DLOCK_C_RELEASES,
	[DLOCK_STAT_OWNER_DIED] = DLOCK_C_OWNER_DIED,
	[DLOCK_STAT_EXPIRED] = DLOCK_C_EXPIRED,
	[DLOCK_STAT_BREAKS] = DLOCK_C_BREAKS,
	[DLOCK_STAT_WAITS] = DLOCK_C_WAITS,
	[DLOCK_STAT_WAIT_TIMEOUTS] = DLOCK_C_WAIT_TIMEOUTS,
	[DLOCK_STAT_DEADLOCKS] = DLOCK_C_DEADLOCKS,
};

int dlock_obs_init(struct dlock_net *dn)
{
	dn->stats = alloc_percpu(struct dlock_stats);
	return dn->stats ? 0 : -ENOMEM;
}

/* After the table is gone: ending its sessions still counts. */
void dlock_obs_exit(struct dlock_net *dn)
{
	free_percpu(dn->stats);
	dn->stats = NULL;
}

static void dlock_count(struct dlock_net *dn, enum dlock_stat s)
{
	this_cpu_inc(dn->stats->n[s]);
}

static u64 dlock_stat_sum(struct dlock_net *dn, enum dlock_stat s)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(dn->stats, cpu)->n[s]);
	return sum;
}

/* DLOCK_A_STATUS_COUNTERS of a GET_STATUS reply. */
int dlock_obs_fill(struct sk_buff *msg, struct dlock_net *dn)
{
	struct nlattr *nest = nla_nest_start(msg, DLOCK_A_STATUS_COUNTERS);
	int s;

	if (!nest)
		return -EMSGSIZE;
	for (s = 0; s < DLOCK_STAT_NR; s++) {
		if (nla_put_u64_64bit(msg, dlock_stat_attr[s],
				      dlock_stat_sum(dn, s), DLOCK_C_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}

static u32 dlock_netns_ino(const struct dlock_net *dn)
{
	return dn->net->ns.inum;
}

/*
 * The pid of the process behind @o when the command is that owner's own
 * request (ctx->actor), else 0: the table does not tell the glue which
 * process asked for a lease it grants from the queue or ends by timer.
 */
static u32 dlock_owner_pid(const struct dlock_ctx *ctx,
			   const struct dl_owner_view *o)
{
	const struct dlock_actor *a = ctx->actor;

	if (!a)
		return 0;
	if (o->detached)
		return a->str && a->len == o->len &&
		       !memcmp(a->str, o->str, o->len) ? a->pid : 0;
	return !a->str && a->session_id == o->session_id &&
	       a->tag == o->tag ? a->pid : 0;
}

/* A lease event: its counter and its tracepoint. */
static void dlock_obs_lease(struct dlock_net *dn, const struct dl_event *ev,
			    u32 pid)
{
	u32 ns = dlock_netns_ino(dn);

	switch (ev->type) {
	case DL_EV_GRANTED:
		dlock_count(dn, DLOCK_STAT_GRANTS);
		trace_dlock_grant(ns, ev, pid);
		break;
	case DL_EV_RELEASED:
		dlock_count(dn, DLOCK_STAT_RELEASES);
		trace_dlock_release(ns, ev, pid);
		break;
	case DL_EV_OWNER_DIED:
		dlock_count(dn, DLOCK_STAT_OWNER_DIED);
		trace_dlock_owner_died(ns, ev, pid);
		break;
	case DL_EV_EXPIRED:
		dlock_count(dn, DLOCK_STAT_EXPIRED);
		trace_dlock_expire(ns, ev, pid);
		break;
	case DL_EV_BROKEN:
		dlock_count(dn, DLOCK_STAT_BREAKS);
		trace_dlock_break(ns, ev, pid);
		break;
	case DL_EV_VALUE:
		/* Not an outcome: the lease neither began nor ended. */
		break;
	}
}

void dlock_obs_event(struct dlock_ctx *ctx, const struct dl_event *ev)
{
	dlock_obs_lease(ctx->dn, ev, dlock_owner_pid(ctx, &ev->owner));
}

/*
 * Cluster mode: an outcome this node applied from the log.  Every node
 * counts and traces every outcome of the cluster, whichever node's client
 * it was; pid is 0 (processes are not replicated, and the applying work
 * item is not the requester), and a session is the cluster's (node << 32 |
 * client).
 */
void dlock_obs_cl_event(struct dlock_net *dn, const struct dl_event *ev)
{
#ifdef DLOCK_PLANT_CL_NO_TRACE	/* cluster tests: grants counted, not traced */
	if (ev->type == DL_EV_GRANTED) {
		dlock_count(dn, DLOCK_STAT_GRANTS);
		return;
	}
#endif
	dlock_obs_lease(dn, ev, 0);
}

void dlock_obs_cl_acquired(struct dlock_net *dn,
			   const struct dl_acquire_req *rq, int status,
			   const char *why)
{
	u32 ns = dlock_netns_ino(dn);

	if (status == REPL_QUEUED) {
		dlock_count(dn, DLOCK_STAT_WAITS);
		trace_dlock_wait(ns, rq, dl_session_id(rq->sess), 0, "queued");
	} else if (status == -EDEADLK) {
		dlock_count(dn, DLOCK_STAT_DEADLOCKS);
		trace_dlock_deadlock(ns, rq, dl_session_id(rq->sess), 0,
				     why ? why : "deadlock");
	}
}

void dlock_obs_cl_wait_done(struct dlock_net *dn,
			    const struct dl_wait_done *wd)
{
	if (wd->err != -ETIMEDOUT)
		return;
	dlock_count(dn, DLOCK_STAT_WAIT_TIMEOUTS);
	trace_dlock_wait_timeout(dlock_netns_ino(dn), wd,
				 dl_session_id(wd->sess));
}

/* A granted wait was counted as a grant by its event already. */
void dlock_obs_wait_done(struct dlock_ctx *ctx, const struct dl_wait_done *wd)
{
	if (wd->err != -ETIMEDOUT)
		return;
	dlock_count(ctx->dn, DLOCK_STAT_WAIT_TIMEOUTS);
	trace_dlock_wait_timeout(dlock_netns_ino(ctx->dn), wd,
				 dl_session_id(wd->sess));
}

/* Called by the requester itself: current is the waiting owner. */
void dlock_obs_queued(struct dlock_net *dn, const struct dl_acquire_req *rq)
{
	dlock_count(dn, DLOCK_STAT_WAITS);
	trace_dlock_wait(dlock_netns_ino(dn), rq, dl_session_id(rq->sess),
			 task_tgid_nr(current), "queued");
}

void dlock_obs_deadlock(struct dlock_net *dn, const struct dl_acquire_req *rq,
			const char *why)
{
	dlock_count(dn, DLOCK_STAT_DEADLOCKS);
	trace_dlock_deadlock(dlock_netns_ino(dn), rq, dl_session_id(rq->sess),
			     task_tgid_nr(current), why ? why : "deadlock");
}
