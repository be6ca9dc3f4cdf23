/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the replication core: its state and what its parts share.  The
 * core is one protocol split by concern (repl.c: entry points, apply and
 * timers; repl_elect.c: votes and recovery; repl_append.c: the log's
 * replication and commit; repl_snap.c: chunked snapshots; repl_dedup.c: the
 * idempotence table).  Only these
 * files and the simulator's white-box checker (tests/sim/check_peek.c)
 * include this header; everyone else sees repl.h.
 */
#ifndef DLOCK_REPL_INT_H
#define DLOCK_REPL_INT_H

#include "compat.h"
#include "repl.h"
#include "wire.h"

#ifndef REPL_MUTATION
#define REPL_MUTATION 0
#endif

#define NS_PER_SEC	1000000000ULL
/*
 * epoch u64, dedup count u32, pad u32, life[REPL_MAX_NODES] u64,
 * gone[REPL_MAX_NODES] u64
 */
#define SNAP_GONE	(16 + 8 * REPL_MAX_NODES)
#define SNAP_HDR	(SNAP_GONE + 8 * REPL_MAX_NODES)
#define DEDUP_REC	48
#define SNAP_WINDOW	4	/* snapshot chunks in flight to one peer */

struct repl_peer {
	u64 inc;		/* latest incarnation heard from the peer */
	u64 next;		/* leader: next index to send */
	u64 match;		/* leader: highest index known replicated */
	u64 acked_lt;		/* leader: latest of our t_send it echoed */
	u64 echo;		/* leader: latest of its t_send to echo back */
	u64 last_heard;		/* leader: our clock when last heard */
	u64 told;		/* leader: commit index last sent to it */
	bool recovering;	/* leader: its acks do not count */
	bool sess_ended;	/* leader: SESSION_END proposed this silence */
	bool voted;		/* candidate: granted us its vote */
	u64 snap_acked;		/* leader: bytes of r->tx the peer holds */
	u64 snap_sent;		/* leader: bytes of r->tx sent to it */
	/* recovery round answers */
	bool rec_got;
	u8 rec_flags;
	u64 rec_term;
	u64 rec_last;
};

/* A client is its node and its id there: ids are unique per node only. */
struct repl_dedup {
	u16 node;
	u32 client;
	u32 req;
	u64 used;		/* log index of last use, for eviction */
	struct repl_result res;
};

struct repl {
	struct repl_cfg cfg;
	struct repl_env env;
	const struct repl_sm_ops *ops;
	void *sm;

	u8 role;
	bool catching_up;
	bool fresh;
	u16 leader;
	u16 voted_for;
	u64 term;
	u64 boot;		/* 'now' at create */

	/* log: entries first..last live in ring[i % log_cap] */
	struct repl_entry *ring;
	u64 first;
	u64 last;
	u64 snap_term;		/* term of entry first - 1 */
	u64 commit;
	u64 applied;
	bool behind;		/* the last APPEND's commit is past ours */
	u32 wipes;		/* lives of the log: commit restarts at 0 */
	u64 epoch;		/* replicated: set by the world's first EPOCH */

	/* timers (our clock) */
	u64 elect_at;
	u64 leader_seen;	/* follower: last APPEND or SNAP of its leader */
	u64 hb_at;
	u64 cand_start;
	u64 rec_at;
	u64 catchup_until;
	u64 catchup_target;
	u32 rec_nonce;

	u64 grant_after;
	u64 epoch_after;	/* wall ns: a new world's epoch must pass this */
	bool epoch_sent;	/* leader: our EPOCH entry is in the log */
	u64 epoch_index;	/* leader: where */
	/* leader: our EPOCH committed, our own countdowns run */
	bool leases_restarted;
	/*
	 * Replicated: the latest incarnation of each node whose NODE_START
	 * was applied.  This life takes no client command before its own.
	 */
	u64 life[REPL_MAX_NODES];
	u64 life_sent;		/* follower: when our NODE_START was last sent */
	u64 life_term;		/* leader: the term it proposed it in */
	u64 sess_until;
	u32 sess_gen;
	/*
	 * Follower: a time on our clock before which no leader applied any
	 * entry above our applied index (see repl_apply_time()).
	 */
	u64 apply_floor;

	u64 rng;
	struct repl_peer peer[REPL_MAX_NODES];
	struct repl_dedup *dedup;
	u32 nr_dedup;
	/*
	 * Per node, the highest client id whose slot was evicted: a later
	 * command of a client at or below it is refused (-EKEYEXPIRED), as
	 * its earlier commands may have run.  Replicated (in snapshots).
	 */
	u32 gone[REPL_MAX_NODES];
	/* leader: the snapshot lagging peers get, kept while it is of use */
	u8 *tx;
	u64 tx_len;
	u64 tx_index;		/* last index it covers */
	u64 tx_term;		/* and that entry's term */
	/* follower: the snapshot being received, installed once complete */
	u8 *rx;
	u64 rx_len;
	u64 rx_have;		/* bytes received in a row from offset 0 */
	u64 rx_index;
	u64 rx_term;
	u64 rx_lead;		/* term of the leader sending it */
	u32 chunk;		/* snapshot bytes per SNAP */
	u64 nr_built, nr_chunks, nr_installed;

	struct repl_msg *out;	/* scratch for outgoing messages */
	struct repl_cmd tmp;	/* scratch command: too big for the stack */
	struct repl_cmd ended;	/* NODE_START's SESSION_END, as applied */
};

/* ---- small helpers ---------------------------------------------------- */

static inline u64 rng_next(struct repl *r)
{
	u64 x = r->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline u32 majority(const struct repl *r)
{
	return r->cfg.nr_nodes / 2 + 1;
}

static inline struct repl_entry *ent_at(const struct repl *r, u64 i)
{
	return &r->ring[i % r->cfg.log_cap];
}

/* Copies the used part of a command only: data past len is undefined. */
static inline void cmd_copy(struct repl_cmd *dst, const struct repl_cmd *src)
{
	memcpy(dst, src, offsetof(struct repl_cmd, data) +
	       min((u32)src->len, (u32)REPL_DATA_MAX));
}

static inline void ent_copy(struct repl_entry *dst,
			    const struct repl_entry *src)
{
	dst->term = src->term;
	cmd_copy(&dst->cmd, &src->cmd);
}

/* Term of entry i, or U64_MAX when not known (compacted or absent). */
static inline u64 term_at(const struct repl *r, u64 i)
{
	if (i == 0)
		return 0;
	if (i == r->first - 1)
		return r->snap_term;
	if (i >= r->first && i <= r->last)
		return ent_at(r, i)->term;
	return ~0ULL;
}

static inline void msg_send(struct repl *r)
{
	r->env.send(r->env.ctx, r->out);
}

static inline u64 wall_now(struct repl *r, u64 now)
{
	return r->cfg.wall_ns + (now - r->boot);
}

/* repl.c */
void repl_elect_reset(struct repl *r, u64 now);
struct repl_msg *repl_msg_new(struct repl *r, u8 type, u16 to);
void repl_sess_extend(struct repl *r, u64 from, u64 now);
bool repl_log_room(struct repl *r);
void repl_apply_committed(struct repl *r, u64 now);

/* repl_dedup.c */
struct repl_dedup *repl_dedup_find(struct repl *r, u16 node, u32 client);
int repl_dedup_admit(struct repl *r, const struct repl_cmd *c,
		     struct repl_dedup **dp, struct repl_result *res);
void repl_dedup_forget_node(struct repl *r, u16 node);
u64 repl_apply_time(const struct repl *r, u64 now);
void repl_apply_floor(struct repl *r, u64 commit, u64 t_echo);
int repl_check_cmd(struct repl *r, struct repl_cmd *c);

/* repl_elect.c */
void repl_become_follower(struct repl *r, u64 term, u64 now);
void repl_maybe_send_epoch(struct repl *r, u64 now);
void repl_start_election(struct repl *r, u64 now);
void repl_recover_round(struct repl *r, u64 now);
void repl_wipe_log(struct repl *r);
void repl_recover_done(struct repl *r, u64 now, u64 term, bool fresh,
		       u16 leader, u64 target);
void repl_on_recover_req(struct repl *r, const struct repl_msg *in);
void repl_on_recover_resp(struct repl *r, const struct repl_msg *m, u64 now);
void repl_on_vote_req(struct repl *r, const struct repl_msg *in, u64 now);
void repl_on_vote_resp(struct repl *r, const struct repl_msg *in, u64 now);

/* repl_append.c */
u64 repl_quorum_time(struct repl *r, u64 now);
bool repl_quorum_fresh(struct repl *r, u64 now);
void repl_broadcast_append(struct repl *r, u64 now);
int repl_append_local(struct repl *r, const struct repl_cmd *c);
bool repl_accept_leader(struct repl *r, const struct repl_msg *in, u64 now);
void repl_append_resp(struct repl *r, const struct repl_msg *in, bool ok,
		      u64 index, u64 now);
void repl_on_append(struct repl *r, const struct repl_msg *in, u64 now);
void repl_on_append_resp(struct repl *r, const struct repl_msg *in, u64 now);
void repl_leases_due(struct repl *r, u64 now);
bool repl_propose_room(struct repl *r);
int repl_propose(struct repl *r, struct repl_cmd *c, u64 now);

/* repl_snap.c */
void repl_tx_drop(struct repl *r);
void repl_rx_drop(struct repl *r);
void repl_send_snap(struct repl *r, u16 to, u32 budget, u64 now);
void repl_on_snap(struct repl *r, const struct repl_msg *in, u64 now);
void repl_on_snap_resp(struct repl *r, const struct repl_msg *in, u64 now);

/* repl_life.c */
bool repl_life_started(const struct repl *r);
u64 repl_life_due(const struct repl *r);
void repl_send_node_start(struct repl *r, u64 now);
void repl_on_node_start(struct repl *r, const struct repl_msg *in, u64 now);
void repl_apply_node_start(struct repl *r, const struct repl_cmd *c, u64 i,
			   u64 now);

#endif
