/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the cluster simulator, shared by its files:
 *   sim.c          events, nodes, faults, one seed, main
 *   sim_trace.c    the event trace printed with a violation
 *   client.c       the simulated clients: requests, answers, their leases
 *   check_lease.c  per-event invariants over the clients' leases, lease
 *                  margins, digests, tokens, end-of-seed checks
 * See docs/protocol.md section 6.
 */
#ifndef DLOCK_SIM_INT_H
#define DLOCK_SIM_INT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "repl.h"
#include "wire.h"
#include "lockmodel.h"
#include "check.h"
#include "params.h"
#include "tablesim.h"


#define MS		1000000ULL
#define SEC		1000000000ULL
#define MAX_NODES	7
#define MAX_CLIENTS	24
#define NLOCKS_MAX	4
#define TRACE_N		65536
#define WALL0		1800000000ULL	/* wall clock at t=0, seconds */

/* protocol parameters used by the simulator (per seed: params.c) */
#define P_DRIFT_PPM	20000		/* 2%: much worse than real quartz */
#define P_HB		(S.p.hb)
#define P_ELECT_MIN	(S.p.elect_min)
#define P_ELECT_MAX	(S.p.elect_max)
#define P_MAX_TTL	(S.p.max_ttl)
#define P_SESSION	(S.p.session)
#define P_MSG_LIFE	(S.p.msg_life)	/* > the longest delay below */
#define P_WALL_SKEW_MS	1000	/* 400 ms between nodes + 2% of a run */
/* after faults stop, every request must finish within this */
#define P_LIVE_BOUND	(max(repl_hold(P_DRIFT_PPM, P_MAX_TTL), \
			     P_WALL_SKEW_MS * MS + SEC) + 2500 * MS)

enum { EV_DELIVER, EV_TICK, EV_CLIENT, EV_FAULT, EV_RESTART, EV_HEAL };
enum { F_LOSS, F_DUP, F_SLOW, F_PART_SYM, F_PART_ONEWAY, F_CRASH,
       F_WHOLE_RESTART, F_CLIENT_CRASH, F_SPLIT, F__N };
extern const char *const fault_name[F__N];

struct event {
	u64 t;
	u64 seq;
	u8 type;
	u8 node;
	u32 aux;
	u8 *data;
	u32 len;
};

struct node {
	struct repl *r;
	struct lockmodel sm;
	struct tablesim ts;		/* -T: the table, sm its oracle */
	bool up;
	u32 boot;		/* boot count */
	int world;
	s64 ppm;		/* clock rate error */
	s64 off;		/* clock offset */
	s64 wall_skew_ns;
	u32 tick_stamp;
	u64 tick_at;
	int due_ticks;		/* ticks in a row that left the timer due */
	u64 down_since;
	bool tfirst;		/* -T: the entry applied is first in its world */
	u64 boot_at;		/* real time of its last boot */
};

struct lease {
	bool held;
	u8 mode;
	u32 count;
	u64 token;
	u64 valid_local;	/* ttl-based end on the client's clock */
	u32 sboot, sgen;	/* node session the lease is bound to */
	u64 sess_until;		/* that session's end, frozen once it is gone */
	u64 index;
	int world;
	bool uncertain;		/* a request on it was given up */
	bool released;		/* the client gave it up by RELEASE */
	/* sim -T (client_table.c) */
	u8 owner;		/* 0: session-bound, tag k + 1; j + 1: detached j */
	bool no_ttl;		/* bound to the session only */
	u32 permits;		/* a semaphore's (mode DL_MODE_SEMAPHORE) */
	bool confirm;		/* a queued grant: valid once a RENEW answers */
	bool waiting;		/* its ACQUIRE was queued, no answer yet */
	bool cancel_sent;
	bool requeue;		/* cancelled: queue again soon */
	u8 unsure;		/* owners (1 << owner) whose count it may not know */
	bool wait_quiet;	/* queued after the faults stopped */
	bool queued_seen;	/* the wait is known queued (its QUEUED answer came) */
	int wait_world;		/* the world it was queued in */
	u64 wait_index;		/* the entry that queued it */
	u32 wait_ms;
	u64 cookie;
	u64 wait_since;		/* real time of the REPL_QUEUED answer */
	u64 cancel_at, giveup_at;	/* on the client's clock */
};

struct client {
	bool alive;
	u32 id;
	int node;
	u32 next_req;
	bool pending;
	struct repl_cmd cmd;
	u64 first_real, first_local, timeout;
	u32 send_boot, send_gen;
	u64 send_snaps;		/* its node's snapshots installed at the first send */
	int tries;
	int quiet_ops;
	int lock;		/* of the request in flight */
	u8 owner;		/* -T: its owner (struct lease.owner) */
	/*
	 * -T: its session-bound owner is one for every lock (tag 1), so its
	 * waits may close a cycle (-EDEADLK); else one per lock (tag k + 1)
	 */
	bool one_owner;
	struct lease lease[NLOCKS_MAX];
};

/* sim -T: a dead client's CLIENT_END, retried by its node until it commits */
struct client_end {
	bool on;
	int node;
	u32 boot;
	u32 client, req;
};

/* sim -T: what the clients of one detached owner string believe */
struct downer {
	u32 count;		/* reentrancy count: answers up, releases down */
	u64 token;
	/*
	 * Its clients keep one request at a time in flight (which they
	 * could agree on with a lock of their own), so that a release
	 * cannot overtake the acquire it was not meant for; a request given
	 * up (it may still apply) retires the string: gen moves on.
	 */
	u32 busy;		/* client with a request in flight, or 0 */
	u32 gen;
};

#define MAX_ENDS	64
#define NOWNERS		2	/* detached owner strings per lock */

struct trace {
	u64 t;
	u8 kind;
	u8 node;
	u64 a, b, c;
};

struct sim {
	struct sim_params p;
	u64 seed, rng;
	int n, nlocks, nclients;
	struct node node[MAX_NODES];
	struct client cl[MAX_CLIENTS];
	u32 next_client_id;
	struct event *heap;
	u32 heap_n, heap_cap;
	u64 seq, now;
	bool block[MAX_NODES][MAX_NODES];
	int world;
	/* fault knobs */
	u32 p_loss, p_dup, p_slow;	/* per mille */
	bool faults_on, quiet;
	u64 t_quiet, t_end;
	u64 commit_ref;			/* world commit 1 s before the end */
	bool ref_taken;
	/* checks */
	u64 *digest_at;			/* per index of the current world */
	u64 digest_cap;
	u64 *tdigest_at;		/* -T: the table's digests */
	u64 tdigest_cap;
	u64 prev_world_token[NLOCKS_MAX];
	u64 world_token[NLOCKS_MAX];
	const char *violation;
	char vbuf[256];
	/* figures */
	u64 ops, faults[F__N], msgs, events;
	struct trace tr[TRACE_N];
	u64 tr_n;
	int cur_node;			/* node whose callback is running */
	/* sim -T */
	u32 permits[NLOCKS_MAX];	/* 0: readers-writer, else a semaphore */
	struct downer own[NLOCKS_MAX][NOWNERS];
	struct client_end ends[MAX_ENDS];
	u64 brk[NLOCKS_MAX][64];	/* the last leases BREAK ended */
	u32 nbrk[NLOCKS_MAX];
	bool spec_gap;		/* sim -T: the specification stopped */
	u64 gap_break_at;	/* and the last BREAK told the clients since */
	/* since then, the last BREAK of every holder of each lock (world) */
	u64 brk_all_at[NLOCKS_MAX];
	int brk_all_world[NLOCKS_MAX];
};

extern struct sim S;

struct sim_totals {
	u64 seeds, ops, faults[F__N], msgs, events, violations, sim_ns;
	u64 max_latency;
	/*
	 * After the lease ended: EXPIRE, SESSION_END (on the client's clock),
	 * EXPIRE after the bound its holder's node counts (table_holder.c)
	 */
	s64 min_margin[3];
	u64 margins[3], refused_ttl, sets[SIM_PARAM_SETS], edge, sticky,
	    strand_checked;
	/*
	 * idempotence table: clients forgotten (renumbered; in doubt after a
	 * snapshot), refused as too many
	 */
	u64 forgotten, forgotten_doubt, no_room;
	u64 snap_built, snap_chunks, snap_installed;	/* repl_status() */
	/* sim -T: commands sent by op, and what became of queued waits */
	u64 top[REPL_OP__MAX], try_acq, wait_acq, sem_acq, shared_acq,
	    detached_acq, nottl_acq, reentrant, queued, granted, timedout,
	    cancelled, broken, ended_sent, reconnects, died_with_node,
	    spec_gaps, wait_settled;
};

extern struct sim_totals T;


/* trace kinds */
enum { TR_SEND, TR_RECV, TR_DROP, TR_REQ, TR_REPLY, TR_CRASH, TR_BOOT,
       TR_PART, TR_HEAL, TR_ROLE, TR_CCRASH, TR_APPLY, TR_VIOL, TR_WDONE };

extern bool use_table;		/* -T: kmod/table.c replicates */
extern u64 trace_lines;
extern const char *const role_name[];

/* sim.c */
u64 rnd(void);
u64 rnd_range(u64 lo, u64 hi);
bool chance(u32 permille);
u64 local_of(int n, u64 t);
u64 real_of(int n, u64 l);
void push(u64 t, u8 type, int node, u32 aux, u8 *data, u32 len);
void node_sched_tick(int n);

/* sim_trace.c */
void trace(u8 kind, int node, u64 a, u64 b, u64 c);
void trace_dump(void);

/* client.c */
struct client *client_by_id(u32 id);
void node_session(int n, u32 *boot, u32 *gen, u64 *until);
void sim_reply(void *ctx, const struct repl_cmd *cmd,
	       const struct repl_result *res);
void client_new(int i);
/* sim.c: a node's snapshot figures into T; sim_report.c: the run's summary */
void snap_tally(const struct repl *r);
void sim_report(void);
void client_renumber(struct client *c, u32 gone);
void client_close(struct client *c);
void client_step(int i);
bool lease_valid(struct client *c, struct lease *l);

/* A request on the lease was given up or its answer lost. */
static inline void lease_unsure(struct lease *l, u8 owner)
{
	l->uncertain = true;
	l->unsure |= (u8)(1u << owner);
}

/* client_table.c: sim -T */
void tclient_setup(void);
bool tclient_pick(struct client *c, int i);
void tclient_reply(struct client *c, int n, const struct repl_cmd *cmd,
		   const struct repl_result *res, bool same_sess, u32 boot,
		   u32 gen, u64 until);
void tclient_wait_done(void *hctx, const struct ts_wd *w, u64 index);
void tclient_unanswered(void *hctx);
void tclient_owner_retire(struct client *c);
void tclient_gave_up(struct client *c);
/* client_end.c: sim -T, a client's socket closes */
void tclient_end(struct client *c);
void tclient_end_retry(int slot);
void tclient_end_answered(const struct repl_cmd *cmd);
void tclient_check_waits(void);
void lease_bind(struct client *c, struct lease *l, u64 ttl, bool same_sess,
		u32 boot, u32 gen, u64 until);

/* check_lease.c */
void on_table_applied(void *hctx, const struct repl_cmd *c, u64 index,
		      const struct repl_result *res);
void sim_check_answer(int n, const struct repl_cmd *cmd,
		      const struct repl_result *res);
void on_applied(void *hctx, u64 index, u64 digest);
void on_table_digest(void *hctx, u64 index, u64 digest);
void on_grant(void *hctx, u32 lock, u64 token);
void check_invariants(int touched);
void margin_of(struct client *c, struct lease *l, int kind);

/* check_table.c: sim -T */
void table_invariants(int touched);
void table_final_checks(void);
void final_checks(void);
void sim_durable(void);

#endif /* DLOCK_SIM_INT_H */
