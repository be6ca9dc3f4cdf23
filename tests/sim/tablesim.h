/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real lock table (kmod/table_sm.c over kmod/table*.c) as the
 * simulator's replicated state machine (sim -T).  Client commands are in
 * the table's own body format (table_sm.h), on names lock/0 .. lock/3.
 * After every entry a node applies, the simulator hears the table's answer,
 * the wait answers (wait_done) that entry gave, and a digest of the table's
 * state (tablesim_state()), which check_oracle.c compares with the table
 * specification (check_tspec.c); the node a client talks through hands its
 * wait answers on to it.
 */
#ifndef DLOCK_TABLESIM_H
#define DLOCK_TABLESIM_H

#include "table_sm.h"
#include "tspec.h"

struct tablesim {
	struct table_sm *tsm;
	u64 gen;	/* new whenever the table may have changed */
	struct ts_wd ev[TS_EV_MAX];	/* the wait answers of this entry */
	int nev;
	void *hctx;
	void (*on_digest)(void *hctx, u64 index, u64 digest);
	void (*on_applied)(void *hctx, const struct repl_cmd *c, u64 index,
			   const struct repl_result *res);
	void (*on_wait_done)(void *hctx, const struct ts_wd *w, u64 index);
	void (*on_grant)(void *hctx, u32 lock, u64 token);
	/* waits may have ended unanswered (table_sm_hooks.unanswered) */
	void (*on_unanswered)(void *hctx);
};

extern const struct repl_sm_ops tablesim_ops;
/* Applies (every node's) of commands refused as their client had ended. */
extern u64 tablesim_ended_refused;

/* @drift_ppm: the core's, for the bounds of a node not the leader */
int tablesim_init(struct tablesim *ts, u32 drift_ppm);
void tablesim_fini(struct tablesim *ts);
/*
 * The digest tspec_state() computes, over the real table; the holders
 * stamped @index are passed to on_grant (tokens across worlds).
 */
u64 tablesim_state(struct tablesim *ts, u64 index);
/* Whether lock @k has a holder with @token. */
bool tablesim_has_token(struct tablesim *ts, u32 k, u64 token);
/*
 * Lock @k's holders' tokens into @tok (at most @max); returns how many it
 * has, which may be more than @max.
 */
int tablesim_tokens(struct tablesim *ts, u32 k, u64 *tok, int max);
/* The local deadline of lock k's lease @token on this node (0: none). */
u64 tablesim_deadline(struct tablesim *ts, u32 k, u64 token);

#endif /* DLOCK_TABLESIM_H */
