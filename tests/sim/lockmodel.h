/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A compact lease table used as the replicated state machine behind the
 * replication core in the simulator and the host tests (kmod/table*.c is the
 * production table; this model only has what the safety checks need:
 * exclusive/shared holders with reentrancy counts, leases, fencing tokens,
 * session-bound leases (ttl 0) and CLIENT_END).
 * It implements struct repl_sm_ops.
 */
#ifndef DLOCK_LOCKMODEL_H
#define DLOCK_LOCKMODEL_H

#include "compat.h"
#include "repl.h"

#define LM_LOCKS	8
#define LM_HOLDERS	16

enum lm_mode {
	LM_MODE_EXCL = 0,
	LM_MODE_SHARED = 1,
};

/*
 * The model's command body (struct repl_cmd data[], opaque to the core):
 * lock id u32 LE at data[0..3], mode u8 at data[4]; an EXPIRE adds the
 * stamp of the lease it ends, u64 LE at data[5..12].
 */
#define LM_BODY		5
#define LM_BODY_EXPIRE	13

static inline u32 lm_cmd_lock(const struct repl_cmd *c)
{
	if (c->len < LM_BODY)
		return ~0U;
	return c->data[0] | (u32)c->data[1] << 8 | (u32)c->data[2] << 16 |
	       (u32)c->data[3] << 24;
}

static inline u8 lm_cmd_mode(const struct repl_cmd *c)
{
	return c->len < LM_BODY ? 0xff : c->data[4];
}

static inline void lm_cmd_set(struct repl_cmd *c, u32 lock, u8 mode)
{
	c->data[0] = (u8)lock;
	c->data[1] = (u8)(lock >> 8);
	c->data[2] = (u8)(lock >> 16);
	c->data[3] = (u8)(lock >> 24);
	c->data[4] = mode;
	c->len = LM_BODY;
}

struct lm_holder {
	bool used;
	bool expiring;		/* leader: EXPIRE proposed */
	u8 mode;
	u16 node;
	u32 client;
	u32 count;
	u64 token;
	u64 stamp;		/* index of the last grant or renewal */
	u64 hold;		/* leader-side lease length */
	u64 deadline;		/* local: stamp's apply time + hold */
};

struct lm_lock {
	u64 last_token;
	struct lm_holder h[LM_HOLDERS];
};

struct lockmodel {
	struct lm_lock lock[LM_LOCKS];
	u64 digest;		/* hash of every command applied and its result */
	u64 index;		/* last index applied */
	const char *violation;
	struct repl_cmd last_cmd;	/* for traces */
	s32 last_status;	/* set when a model invariant broke */
	/* simulator hooks (may be NULL) */
	void *hctx;
	void (*on_applied)(void *hctx, u64 index, u64 digest);
	void (*on_grant)(void *hctx, u32 lock, u64 token);
};

extern const struct repl_sm_ops lockmodel_ops;

void lockmodel_init(struct lockmodel *lm);
struct lm_holder *lockmodel_find(struct lockmodel *lm, u32 lock, u32 client);

#endif /* DLOCK_LOCKMODEL_H */
