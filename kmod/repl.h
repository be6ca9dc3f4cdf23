/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock replication core: a leader-based protocol (Raft-like log, VR-like
 * recovery of nodes that lost their memory) that orders every change to the
 * lease table.  Pure policy: no I/O, no clock reads, no allocation outside
 * the caller's allocator, no floating point.  Fixed-size memory is taken at
 * repl_create(); snapshot buffers (up to cfg.max_snap_bytes each: the
 * leader's serialized state, a follower's reassembly buffer) are taken and
 * given back as transfers need them, from inside any entry point, so
 * env->alloc may sleep only if the caller's context allows it (kvmalloc
 * under the caller's mutex in the kernel).
 *
 * The caller feeds it three kinds of input, each with the current monotonic
 * time of this node in nanoseconds:
 *   repl_receive()  a peer message (decoded by wire.c),
 *   repl_tick()     a timer expiry (arm one for repl_next_timer()),
 *   repl_request()  a client request made at this node.
 * It answers through struct repl_env (send a message, reply to a client) and
 * drives the replicated state machine through struct repl_sm_ops (apply a
 * committed command, snapshot, restore, leader-side expiry scan).
 *
 * See docs/protocol.md for the protocol and its safety argument.
 */
#ifndef DLOCK_REPL_H
#define DLOCK_REPL_H

#include "compat.h"

#define REPL_MAX_NODES		7
#define REPL_MAX_BATCH		16	/* entries per APPEND message */
#define REPL_NONE		0xffff	/* no node (leader unknown, no vote) */
#define REPL_BLOCKED		0xfffe	/* voted_for: may not vote this term */

/*
 * Replicated commands, applied in log order on every node (values kept
 * stable: they are on the wire).
 */
enum repl_op {
	REPL_OP_NOOP = 0,
	REPL_OP_EPOCH,		/* first entry of every leader; arg = epoch */
	REPL_OP_ACQUIRE,	/* client commands 2..4 and 7..10: data = body */
	REPL_OP_RELEASE,
	REPL_OP_RENEW,
	REPL_OP_EXPIRE,		/* leader decided: data from ops->next_expired() */
	/* leader decided: node @node went silent; arg = cutoff index */
	REPL_OP_SESSION_END,
	REPL_OP_CANCEL,		/* client: withdraw its queued acquire */
	/* client (admin): end one lease, or every lease of a lock */
	REPL_OP_BREAK,
	REPL_OP_SET_VALUE,	/* client: replace its lease's value */
	/* the client's socket closed on its node: end its session */
	REPL_OP_CLIENT_END,
	/* client: nothing; applied, it tells its node it is current (a read) */
	REPL_OP_BARRIER,
	/*
	 * Node @node begins a new life (data: its incarnation, u64 LE): the
	 * clients of its earlier lives are gone with them, so it is a
	 * SESSION_END of @node with cutoff arg, applied once per incarnation.
	 */
	REPL_OP_NODE_START,
	REPL_OP__MAX
};

#define REPL_DATA_MAX	1536	/* body bytes: name, owner string, value, fields */

/*
 * One command.  The body data[0..len) belongs to the state machine: the core
 * and the codec copy it and bound its length, nothing else.  Bytes of data[]
 * past len are undefined and never read.
 */
struct repl_cmd {
	u8 op;
	u8 flags;	/* REPL_CF_*: none yet, must be 0 */
	u16 node;	/* node the client talks through (origin of the reply) */
	u32 client;	/* client id, unique in the cluster */
	u32 req;	/* client's request id, increasing per client */
	u16 len;	/* bytes of data[] in use */
	/*
	 * Lease length the client counts with (ns); 0: no TTL, the lease is
	 * bound to its client's session.
	 */
	u64 ttl;
	u64 hold;	/* the leader's (ns), >= ttl; set by the core */
	u64 arg;	/* SESSION_END: cutoff index; EPOCH: epoch; else 0 */
	u8 data[REPL_DATA_MAX];
};

struct repl_entry {
	u64 term;
	struct repl_cmd cmd;
};

/*
 * status > 0 is not an error.  REPL_QUEUED: the acquire waits in the lock's
 * queue; its answer comes later from the state machine itself (the adapter's
 * own wait-done hook), on the client's node.  A retransmission of the same
 * request gets the same REPL_QUEUED again from the core's dedup table.
 * The dedup table's own answers (docs/protocol.md R8a), the command not run:
 * -ESTALE, older than the client's last request; -EKEYEXPIRED, the table
 * forgot the client (token: its node's floor, the client is to be numbered
 * above it); -EUSERS, no slot for a new client (every one's client busy).
 */
#define REPL_QUEUED	1

struct repl_result {
	s32 status;	/* 0, REPL_QUEUED or -errno */
	u32 count;	/* reentrancy count after the command */
	u64 token;	/* fencing token of the lease */
	u64 index;	/* log index the command was applied at */
};

/* Peer messages. */
enum repl_msg_type {
	REPL_MSG_VOTE_REQ = 1,
	REPL_MSG_VOTE_RESP,
	REPL_MSG_APPEND,
	REPL_MSG_APPEND_RESP,
	REPL_MSG_SNAP,
	REPL_MSG_FORWARD,
	REPL_MSG_RECOVER_REQ,
	REPL_MSG_RECOVER_RESP,
	REPL_MSG_SNAP_RESP,
	REPL_MSG__MAX
};

/* repl_msg.flags */
#define REPL_F_OK		0x01	/* vote granted / append matched */
#define REPL_F_RECOVERING	0x02	/* sender has no usable state yet */
#define REPL_F_LEADER		0x04	/* RECOVER_RESP: sender leads its term */
#define REPL_F_FRESH		0x08	/* RECOVER_RESP: sender's world is empty */
#define REPL_F_REFUSED		0x10	/* FORWARD back: not taken now, index says why */
#define REPL_F_ALL		0x1f

/* repl_msg.index of a refused FORWARD: why the leader did not take it */
enum repl_refusal {
	REPL_REFUSE_LATER = 1,	/* lock-delay, or its first entry not out: -EAGAIN */
	REPL_REFUSE_FULL,	/* log full: -EBUSY */
	REPL_REFUSE__MAX
};

struct repl_msg {
	u8 type;
	u8 flags;
	u16 from;
	u16 to;
	u16 n_ent;
	u32 nonce;	/* RECOVER_REQ/RESP round */
	u64 from_inc;	/* sender's incarnation (changes at every boot) */
	u64 to_inc;	/* receiver's incarnation as the sender knows it, or 0 */
	u64 term;
	/*
	 * VOTE_REQ: last index; APPEND: prev index; APPEND_RESP: match or
	 * retry hint; SNAP, SNAP_RESP: snapshot's last index; RECOVER_RESP:
	 * last index
	 */
	u64 index;
	/*
	 * VOTE_REQ: last term; APPEND: prev term; SNAP, SNAP_RESP: term of
	 * the snapshot's last entry
	 */
	u64 log_term;
	u64 commit;	/* APPEND: leader commit; RECOVER_RESP: commit */
	u64 t_send;	/* sender's clock when sent (APPEND, *_RESP, SNAP) */
	u64 t_echo;	/* the peer's t_send, echoed back */
	u64 snap_len;	/* SNAP: bytes of the whole snapshot */
	/* SNAP: offset of this chunk; SNAP_RESP: bytes held in a row */
	u64 snap_off;
	u32 blob_len;	/* SNAP: bytes of this chunk */
	const u8 *blob;
	/*
	 * Too big for a kernel stack: the core sends from a scratch message
	 * of its own, callers of wire_decode() pass a heap one.
	 */
	struct repl_entry ent[REPL_MAX_BATCH];
};

struct repl_cfg {
	u16 nr_nodes;
	u16 self;
	u32 log_cap;		/* entries kept in memory */
	u32 max_clients;	/* request-id (dedup) slots */
	/*
	 * Largest snapshot sent or accepted (16 bytes + 48 per dedup
	 * slot + the state machine's save_size()); a table of 1M leases is
	 * about 100 MB.
	 */
	u64 max_snap_bytes;
	u32 snap_chunk;		/* snapshot bytes per SNAP; 0: WIRE_CHUNK_MAX */
	u32 drift_ppm;		/* clock rate error bound of every node */
	u64 hb_ns;		/* leader heartbeat period */
	u64 elect_min_ns;	/* election timeout range */
	u64 elect_max_ns;
	u64 max_ttl_ns;		/* longest lease a client may ask for */
	u64 session_ns;		/* node session timeout */
	u64 msg_life_ns;	/* no datagram is delivered later than this */
	/*
	 * Leader stickiness (R1): the kernel sets it.  A run with it is a run
	 * without it in which some vote requests were lost, so the simulator
	 * runs half its seeds without it: the schedules that depose a live
	 * leader, where most of the core's bugs show, stay in reach.
	 */
	bool sticky;
	u64 wall_ns;		/* wall clock (ns) when 'now' passed to create */
	u32 wall_skew_ms;	/* bound on wall clock error between nodes */
	u64 incarnation;	/* strictly increasing across boots of a node */
	u64 seed;		/* for election timeouts */
};

/*
 * Replicated state machine behind the log (the lease table).  The core knows
 * nothing of locks: it orders commands, remembers each client's last request
 * and answer (dedup), and hands every committed command to apply().
 *
 * Fencing tokens: the core passes apply() token = repl_token(epoch, index),
 * a base that grows with the log and across worlds.  The grant rule is the
 * state machine's: a new lease gets max(last_token + 1, token), with
 * last_token part of the replicated state (saved in snapshots, never the
 * table's own counter), so tokens increase per lock even when one entry
 * grants several waiters.
 */
struct repl_sm_ops {
	/*
	 * Apply a committed client, EXPIRE or SESSION_END command;
	 * deterministic in (state, cmd, index, token); @now only sets local
	 * deadlines.
	 */
	void (*apply)(void *sm, const struct repl_cmd *cmd, u64 index,
		      u64 token, u64 now, struct repl_result *res);
	/*
	 * Leader only: one lease or wait whose local deadline passed, as an
	 * EXPIRE (op, len, data set; the data names the lease and its stamp so
	 * a renewal committed before the EXPIRE makes it a no-op).
	 */
	bool (*next_expired)(void *sm, u64 now, struct repl_cmd *out);
	/* This node became leader: every countdown restarts at now + hold. */
	void (*restart_leases)(void *sm, u64 now);
	/*
	 * Optional: this node is not the leader (at start, or it stepped
	 * down): local deadlines become what its clients' holders may count
	 * on, from the times apply() is given (repl_apply_time()).  A leader
	 * stepping down gives @floor, its last quorum time: no later leader
	 * starts a countdown before it, while its own applies may have come
	 * after such a leader's election.
	 */
	void (*holder_view)(void *sm, u64 floor);
	/*
	 * Snapshot: an upper bound of the bytes save() writes now; save writes
	 * the whole state (returns bytes or -errno); load replaces the state
	 * by a snapshot atomically (on error the old state stays), deadlines
	 * from now.
	 */
	u64 (*save_size)(void *sm);
	s64 (*save)(void *sm, u8 *buf, u64 cap);
	int (*load)(void *sm, const u8 *buf, u64 len, u64 now);
	/* Forget everything (a new, empty world). */
	void (*reset)(void *sm);
	/*
	 * Optional: client (node, client) holds or waits for something (a
	 * lease or wait of its session), so the idempotence table keeps its
	 * slot.  Deterministic in the state, as apply() is.
	 */
	bool (*busy)(void *sm, u16 node, u32 client);
};

struct repl_env {
	void *ctx;
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
	void (*send)(void *ctx, const struct repl_msg *m);
	void (*reply)(void *ctx, const struct repl_cmd *cmd,
		      const struct repl_result *res);
	/*
	 * Optional: the leader refused this node's forwarded @cmd for now
	 * (-EAGAIN: lock-delay; -EBUSY: log full).  Not final: another copy
	 * of it, still on its way or sent again, may yet be taken.
	 */
	void (*refused)(void *ctx, const struct repl_cmd *cmd, int err);
};

enum repl_role {
	REPL_RECOVERING = 0,	/* lost memory, asking peers */
	REPL_FOLLOWER,
	REPL_CANDIDATE,
	REPL_LEADER,
};

struct repl_status {
	u8 role;
	bool catching_up;	/* follower that may not vote or count yet */
	bool fresh;		/* nothing committed in this world yet */
	u16 leader;
	u64 term;
	u64 commit;
	u64 applied;
	/*
	 * A follower whose leader has committed entries it does not hold or
	 * has not applied yet (catching up after a partition): a grant it
	 * applies now may already be ended by one of them.
	 */
	bool behind;
	u64 first_index;
	u64 last_index;
	u64 epoch;
	u64 grant_after;	/* no ACQUIRE proposed before (lock-delay) */
	u64 sess_until;		/* leases of this node's clients valid until */
	u32 sess_gen;		/* bumps when the session lapsed and resumed */
	bool started;		/* this life's NODE_START applied: takes commands */
	bool countdowns;	/* leader whose own lease countdowns rule */
	u64 snap_built;		/* snapshots serialized to send */
	u64 snap_chunks;	/* SNAP chunks sent */
	u64 snap_installed;	/* snapshots received and installed */
};

struct repl;

struct repl *repl_create(const struct repl_cfg *cfg, const struct repl_env *env,
			 const struct repl_sm_ops *ops, void *sm, u64 now);
void repl_destroy(struct repl *r);
void repl_receive(struct repl *r, const struct repl_msg *m, u64 now);
void repl_tick(struct repl *r, u64 now);
/*
 * A client command (ACQUIRE, RELEASE, RENEW, CANCEL, BREAK, SET_VALUE,
 * CLIENT_END) made at this node; the core copies it (op, client, req, ttl,
 * len and data[0..len) are read; node, hold and arg are set by the core).
 * ttl <= max_ttl for ACQUIRE and RENEW; 0 is allowed for ACQUIRE only (a
 * session-bound lease).  Returns 0: accepted (the answer comes through
 * env->reply once applied), or -errno (-EINVAL: a bad command; -EAGAIN: no
 * leader or lock-delay, retry; -EBUSY: the log is full).
 */
int repl_request(struct repl *r, const struct repl_cmd *cmd, u64 now);
u64 repl_next_timer(const struct repl *r);
/*
 * After repl_tick(r, now), repl_next_timer() may still be <= now: a new
 * role's first duty (a leader's heartbeat) is due at once.  Never more
 * than this many ticks in a row: one more is a core bug that would fire
 * the timer without end (the simulator fails it; the kernel warns and
 * backs off a jiffy).
 */
#define REPL_TICK_DUE_MAX	4

/*
 * Call after each repl_tick(r, now) with the caller's count of ticks in a
 * row that left the timer due: returns that count, updated (0 once the
 * timer lies ahead).  Past REPL_TICK_DUE_MAX the core is at fault; what to
 * do then is the caller's (a violation, a failed test, a warning).
 */
static inline int repl_due_streak(const struct repl *r, u64 now, int *streak)
{
	if (repl_next_timer(r) > now)
		*streak = 0;
	else
		++*streak;
	return *streak;
}
void repl_status(const struct repl *r, struct repl_status *st);
/*
 * On the leader: the entries of its log @node has yet to acknowledge (its
 * last index minus the peer's match index); false on any other role, and
 * for this node itself.
 */
bool repl_peer_lag(const struct repl *r, u16 node, u64 *lag);
/*
 * The answer the log gave request @req of (node, client), if its dedup slot
 * still holds that request: also when a snapshot covered the entry here.
 */
bool repl_answer_of(const struct repl *r, u16 node, u32 client, u32 req,
		    struct repl_result *res);
u64 repl_hold(u32 drift_ppm, u64 d);
u64 repl_token(u64 epoch, u64 index);

/*
 * Mutations for the simulator's self-check (tests/sim): each plants one
 * known bug when the core is built with -DREPL_MUTATION=n.
 */
#define REPL_MUT_COMMIT_NO_MAJORITY	1
#define REPL_MUT_GRANT_ON_FOLLOWER	2
#define REPL_MUT_SKIP_RECOVERY		3
#define REPL_MUT_SKIP_LOCK_DELAY	4	/* and the epoch wait */
#define REPL_MUT_COMMIT_BACK		5	/* caught by DL_ASSERT() */
#define REPL_MUT_COMMIT_OLD_TERM	6	/* Raft figure 8 */
#define REPL_MUT_VOTE_ANY_LOG		7	/* no log-up-to-date check */
#define REPL_MUT_APPEND_STALE_TERM	8
#define REPL_MUT_STALE_VOTE		9	/* vote of an older term counted */
#define REPL_MUT_STALE_ACK		10	/* ack of an older term counted */
#define REPL_MUT_ANSWER_UNCOMMITTED	11	/* leader answers RENEW at once */
#define REPL_MUT_ALWAYS_FRESH		12	/* deposed leader never doubts */
#define REPL_MUT_FOLLOWER_EXPIRES	13	/* by its own clock, no log */
#define REPL_MUT_DEDUP_BY_REQ		14	/* keyed by request id only */
#define REPL_MUT_DEDUP_EVICT_MRU	15	/* evicts the wrong client */
#define REPL_MUT_SNAP_OFF_BY_ONE	16
#define REPL_MUT_TOKEN_LOCAL		17	/* token not from the log */
#define REPL_MUT_TRUST_AMNESIAC		18	/* new world with memory around */
#define REPL_MUT_CATCHUP_LOW		19	/* target below leader's last */
#define REPL_MUT_SESSION_WINDOW		20	/* no election bound on last_heard */
#define REPL_MUT_DEAD_LEASES		21	/* remote leases never expire */
#define REPL_MUT_SESSION_NO_DRIFT	22	/* freshness without drift */
#define REPL_MUT_COMMIT_UNCLAMPED	23	/* commit not clamped to upto */
#define REPL_MUT_TTL_NO_CAP		24	/* TTL above max_ttl accepted */
#define REPL_MUT_SNAP_DROPS_TAIL	25	/* acked entries lost */
#define REPL_MUT_APPLY_UNCOMMITTED	26	/* follower commits its own tail */
#define REPL_MUT_HOLD_NO_DRIFT		27	/* hold = ttl */
#define REPL_MUT_HOLD_SHORT		28	/* hold 4 ms short */
#define REPL_MUT_SNAP_KEEPS_CONFLICT	29	/* install keeps a conflicting tail */
#define REPL_MUT_VOTE_TWICE		30	/* a duplicated vote counted again */
#define REPL_MUT_SELF_ACK_TWICE		31	/* leader counts itself twice */
#define REPL_MUT_DEDUP_NEWER_CACHED	32	/* newer request: cached answer */
#define REPL_MUT_MATCH_KEPT		33	/* match survives into a new term */
#define REPL_MUT_SNAP_ANY_OFFSET	34	/* chunk taken at any offset */
#define REPL_MUT_STALE_HB_RESETS	35	/* stale APPEND resets the timer */
#define REPL_MUT_TERM_RESETS_TIMER	36	/* a higher term resets it */
#define REPL_MUT_NO_COMMIT_NOTICE	37	/* commit told at the heartbeat */
#define REPL_MUT_FORWARD_UNREFUSED	38	/* a refused forward: silence */
#define REPL_MUT_DEDUP_NO_NODE		39	/* dedup keyed by client id only */
#define REPL_MUT_NO_NODE_START		40	/* a quick reboot ends nothing */
#define REPL_MUT_NODE_START_EARLY	41	/* no msg_life wait before it */
#define REPL_MUT_APPLY_NOW		42	/* followers count from apply */
#define REPL_MUT_FLOOR_ANY_ECHO		43	/* floor from any echo */
#define REPL_MUT_NOT_STICKY		44	/* votes heard beside a leader */
#define REPL_MUT_DEDUP_EVICT_BUSY	45	/* a busy client's slot evicted */
#define REPL_MUT_DEDUP_NO_FLOOR		46	/* an evicted client runs as new */
#define REPL_MUT_NODE_START_KEEPS_SLOTS	47	/* a new life meets old slots */
#define REPL_MUT_CLIENT_END_NEEDS_SLOT	48	/* no room: CLIENT_END refused */
#define REPL_MUT_EUSERS_NO_FLOOR	49	/* a refused request may run later */
#define REPL_MUT_RECOVER_OLD_LIFE	50	/* RECOVER_REQ to a peer's old life */
#define REPL_MUT_TAIL_UNBOUNDED		51	/* a leader fills the whole log */
#define REPL_MUT_RESTART_AT_ELECTION	52	/* countdowns before our EPOCH */
#define REPL_MUT_REFUSED_LIFE_AT_ONCE	53	/* a timer due for ever */
#define REPL_MUT__N			54

#endif /* DLOCK_REPL_H */
