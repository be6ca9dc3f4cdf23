/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's checker, beside the per-event invariants in sim.c:
 *   check_log.c     committed prefix of each world, rewritten entries,
 *                   leader completeness, followers that stop moving on;
 *   check_oracle.c  a sequential specification of the lock object and of
 *                   the core's idempotence table, fed by the committed log
 *                   in order; every answer of every node is compared to it;
 *   check_peek.c    read-only access to a node's log (white box).
 * See docs/protocol.md section 6.
 */
#ifndef DLOCK_SIM_CHECK_H
#define DLOCK_SIM_CHECK_H

#include "compat.h"
#include "repl.h"
#include "lockmodel.h"

#define CK_MAX_NODES	7

/* Lock id and mode of a command: the lock model's body (data[0..4]). */
#define CK_LOCK(c)	lm_cmd_lock(c)
#define CK_MODE(c)	lm_cmd_mode(c)

/* sim.c */
void violate(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* check_peek.c: entry i of a node's log, NULL when not held */
const struct repl_entry *ck_peek(const struct repl *r, u64 i);
u64 ck_peek_term(const struct repl *r, u64 i);
/*
 * Durability's view of a node, read after every event: false if it does
 * not vote (no memory, catching up); else its last index, that entry's
 * term, and whether it holds term @t at index @i (or compacted past it).
 */
bool ck_peek_voter(const struct repl *r, u64 i, u64 t, u64 *last,
		   u64 *lterm, bool *complete);
/* terms along node n's log never go down (at the snapshot boundary) */
void ck_log_shape(int n, const struct repl *r);
/* the top leader's SESSION_END deadlines come after each node's bound */
void ck_sessions(struct repl *const *r, int n, u64 (*real)(int, u64));
/* every vote a leader counted was cast for it in its term */
void ck_votes(struct repl *const *r, int n);
/* repl_status()'s sess_gen and sess_until, without the rest (hot path) */
void ck_peek_session(const struct repl *r, u32 *gen, u64 *until);
/* A leader's match indexes name entries its peers hold (@r[l] leads). */
void ck_match(int l, struct repl *const *r, int n);

/* check_log.c: the committed prefix of the current world */
struct ck_rec {
	bool set;
	u64 term;
	u64 t_first;		/* simulated time it was first seen committed */
	u64 cterm;		/* term of the node that first saw it committed */
	struct repl_cmd cmd;
};

struct ck_log {
	struct ck_rec *rec;	/* by index */
	u64 cap;
	u64 max;		/* highest index seen committed */
	struct {
		u32 boot;
		u64 seen;	/* commit index already recorded */
		u8 role;
		u64 term;
	} node[CK_MAX_NODES];
	/* figures */
	u64 elections, rec_holes, durable_checks;
};

extern struct ck_log CK;

void ck_log_reset(void);	/* new seed or new world */
/* After anything that may move node n's log: record what it committed,
 * check it against what was committed before, check a new leader. */
void ck_observe(int n, u32 boot, struct repl *r, u64 now);
/* End of a seed: every node's committed entries match, none stuck below
 * @ref (the world's commit index a while before the end). */
void ck_log_final(int n, struct repl *r, u64 ref);
const struct ck_rec *ck_rec_at(u64 i);
/* Durability of the committed prefix now: no node lacking a committed
 * entry may have a log at least as up to date as a majority of the voters'
 * (it could win a later election).  @r[i]: node i, NULL when down. */
void ck_durable(struct repl *const *r, int n);

/* check_oracle.c */
void ck_oracle_reset(u32 max_clients);
/* An answer node n gave while applying index @at. */
void ck_answer(int n, const struct repl_cmd *cmd,
	       const struct repl_result *res, u64 at);
/* The oracle's holders of @lock at the end (for stranded leases). */
struct ck_holder {
	u32 client;
	u16 node;
	u64 stamp;
};
int ck_oracle_holders(u32 lock, struct ck_holder *out, int max);
extern u64 ck_answers_checked;

#endif /* DLOCK_SIM_CHECK_H */
