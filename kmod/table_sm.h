/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lock table as the replicated state machine (issue 13): struct
 * repl_sm_ops over a dl_table in cluster mode (table_sm.c), the body of each
 * client command in repl_cmd.data (table_sm_codec.c) and the snapshot of the
 * whole table (table_sm_snap.c).
 *
 * Every node applies the same committed commands in log order and reaches
 * the same table: tokens come from the log, expiry comes from committed
 * EXPIRE entries that name the lease and its stamp, and a queued acquire is
 * granted while applying the entry that frees the lock, on every node alike;
 * the node the client talks through then answers it (hooks->wait_done).
 * Policy code: compat.h only.
 */
#ifndef DLOCK_TABLE_SM_H
#define DLOCK_TABLE_SM_H

#include "table.h"
#include "repl.h"

/*
 * The body of a command (repl_cmd.data), little-endian:
 *   0  u8  version (TSM_BODY_V1)     1  u8  mode      2  u8 flags
 *   3  u8  name_len                  4  u8  owner_len  5  u8 privileged
 *   6  u16 value_len                 8  u32 permits   12  u32 wait_ms
 *  16  u32 uid                      20  u32 0 (reserved)
 *  24  u64 tag   32 u64 cookie   40 u64 token   48 u64 stamp
 *  56  name, then owner, then value
 * Which fields an op reads: see docs/protocol.md; the others must be 0.
 */
#define TSM_BODY_V1	1
#define TSM_BODY_HDR	56
/* EXPIRE flags: a queued wait's timeout (else a lease's expiry). */
#define TSM_EXPIRE_WAIT	0x1

struct tsm_body {
	const char *name;
	u32 name_len;
	u8 mode;		/* enum dl_mode */
	u8 flags;		/* ACQUIRE: DL_ACQ_*; EXPIRE: TSM_EXPIRE_* */
	bool privileged;	/* the origin node checked CAP_NET_ADMIN */
	u32 permits;
	u32 wait_ms;		/* ACQUIRE: queued wait timeout, 0: forever */
	u32 uid;
	u64 tag;		/* socket-bound owner; EXPIRE of a wait: tsm_key() */
	u64 cookie;		/* ACQUIRE, CANCEL; EXPIRE of a wait */
	u64 token;		/* BREAK (0: every lease), EXPIRE of a lease */
	u64 stamp;		/* EXPIRE */
	const char *owner;	/* detached owner string */
	u32 owner_len;
	const void *value;	/* SET_VALUE */
	u32 value_len;
};

/*
 * Fills @cmd's op, node, client, req, data and len from @b (ttl, hold and
 * arg are the caller's).  -EINVAL: a length out of range.
 */
int tsm_encode(struct repl_cmd *cmd, u8 op, u16 node, u32 client, u32 req,
	       const struct tsm_body *b);
/*
 * Strict decode: -EINVAL unless the body is exactly what tsm_encode() makes
 * of a body valid for @cmd->op; @b then points into @cmd->data.
 */
int tsm_decode(const struct repl_cmd *cmd, struct tsm_body *b);

/* The session key of a client: where it is and who it is. */
static inline u64 tsm_key(u16 node, u32 client)
{
	return (u64)node << 32 | client;
}

/*
 * What the node a client talks through must hear about: a queued acquire
 * was answered (status 0: granted with @token; -ETIMEDOUT), or a
 * socket-bound lease ended without the client asking (DL_LOST_*).  Called
 * on every node while applying; each node answers only its own clients.
 */
struct table_sm_hooks {
	void (*wait_done)(void *ctx, u16 node, u32 client, u64 cookie,
			  int status, u64 token, u64 index);
	void (*lost)(void *ctx, u16 node, u32 client, u64 tag,
		     const char *name, u32 len, u64 token, int reason);
	/* Every applied entry with the digest after it (checkers). */
	void (*applied)(void *ctx, u64 index, u64 digest);
	/*
	 * Waits may have ended with no wait_done here: a snapshot replaced
	 * the state (the answers of the entries it covers were never given
	 * on this node), or a SESSION_END ended a node's waits (their
	 * clients may be alive behind a partition).  The host settles each
	 * wait of its own clients it still counts as queued with
	 * table_sm_wait_state().
	 */
	void (*unanswered)(void *ctx);
	/*
	 * Observers (optional, on every node alike: counters, tracepoints,
	 * watch events): each lease event of an applied entry; each ACQUIRE
	 * the table decided (@status 0, REPL_QUEUED or -errno; @why the
	 * table's reason for a refusal, or NULL); each wait the table ended
	 * (granted or timed out).  Not called while a snapshot is loaded:
	 * replaced says that one was, so what the entries it covers did was
	 * never observed here.
	 */
	void (*event)(void *ctx, const struct dl_event *ev);
	void (*acquired)(void *ctx, const struct dl_acquire_req *rq,
			 int status, const char *why);
	void (*waited)(void *ctx, const struct dl_wait_done *wd);
	void (*replaced)(void *ctx);
};

struct table_sm_cfg {
	u32 nr_shards;		/* as dl_table_config; 0: 16 */
	u32 max_leases;		/* 0: unlimited */
	u32 max_waiters;
	u32 max_session_leases;
	u32 max_session_waiters;
	/* as dl_table_config; a uid without a slot of its own is refused */
	u32 max_user_leases;
	u32 max_user_waiters;
	u32 max_user_value_bytes;
	u32 user_slots;
	u64 hash_seed;		/* the same on every node */
	u32 drift_ppm;		/* the core's: bounds of the holder view */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);
	void *ctx;
	const struct table_sm_hooks *hooks;
	void *hctx;
};

struct table_sm;

struct table_sm *table_sm_create(const struct table_sm_cfg *cfg);
void table_sm_destroy(struct table_sm *sm);
extern const struct repl_sm_ops table_sm_ops;

/* For checkers and tests: the table, the digest, the last index applied. */
struct dl_table *table_sm_table(struct table_sm *sm);
u64 table_sm_digest(const struct table_sm *sm);
u64 table_sm_index(const struct table_sm *sm);
u64 table_sm_last_token(const struct table_sm *sm);
u32 table_sm_sessions(const struct table_sm *sm);
/*
 * What the applied table says of a queued acquire of (node, client) with
 * @cookie on @name, for socket-bound owner @tag or (@owner_len > 0)
 * detached owner @owner: 1 still queued; 0 that owner holds the lock
 * (@token: the lease's; granted, whether or not its WAIT_DONE was given);
 * -ENOENT neither (timed out, cancelled, or granted and ended since).
 */
int table_sm_wait_state(struct table_sm *sm, u16 node, u32 client, u64 cookie,
			u64 tag, const char *owner, u32 owner_len,
			const char *name, u32 len, u64 *token);
/* Whether (node, client)'s CLIENT_END committed: its commands get -ESHUTDOWN. */
bool table_sm_client_ended(const struct table_sm *sm, u16 node, u32 client);
/* Whether a client holds a lease in the applied table. */
bool table_sm_client_holds(const struct table_sm *sm, u16 node, u32 client);
/*
 * Calls @fn with each lease (node, client) holds in the applied table, as a
 * dl_lost of @reason (its sess a handle only); the table does not change.
 */
void table_sm_each_lease(struct table_sm *sm, u16 node, u32 client,
			 enum dl_lost_reason reason,
			 void (*fn)(void *arg, const struct dl_lost *ls),
			 void *arg);
/*
 * Not the leader (holder view, see table_holder.c): @fn gets each lease of
 * node @node's clients whose bound here passed by @now, once until it is
 * renewed (reason DL_LOST_EXPIRED; its sess names the client).  At most
 * @budget entries looked at: true if more may be due.  table_sm_next_due():
 * when to look next (0: not in the holder view, or nothing to count).
 */
bool table_sm_overdue(struct table_sm *sm, u16 node, u64 now, u32 budget,
		      void (*fn)(void *arg, const struct dl_lost *ls),
		      void *arg);
u64 table_sm_next_due(const struct table_sm *sm);

#endif /* DLOCK_TABLE_SM_H */
