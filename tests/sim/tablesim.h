/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real lock table (kmod/table_sm.c over kmod/table*.c) as the
 * simulator's replicated state machine (sim -T), with the compact lock model
 * (lockmodel.c) kept beside it as an oracle: the log stays in the model's
 * command format, each committed entry is translated into a table body
 * ("lock/<k>", try-acquires) and applied to both, and every answer of the
 * table must be the model's (same grant, count, token; same refusal class;
 * same number of leases ended).  The table's answer is the one the core
 * returns to the client; its digest is checked across nodes like the
 * model's.
 */
#ifndef DLOCK_TABLESIM_H
#define DLOCK_TABLESIM_H

#include "lockmodel.h"
#include "table_sm.h"

struct tablesim {
	struct lockmodel *lm;		/* the oracle, owned by the caller */
	struct table_sm *tsm;
	char why[160];
	void *hctx;
	void (*on_digest)(void *hctx, u64 index, u64 digest);
};

extern const struct repl_sm_ops tablesim_ops;

int tablesim_init(struct tablesim *ts, struct lockmodel *lm);
void tablesim_fini(struct tablesim *ts);

#endif /* DLOCK_TABLESIM_H */
