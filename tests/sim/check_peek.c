// SPDX-License-Identifier: GPL-2.0
/*
 * White-box access to the replication core for the simulator's checker.
 *
 * The checker must see the log itself (which entry a node holds at an
 * index, committed or not) to judge leader completeness and rewritten
 * entries; struct repl is private to kmod/repl.c and the core has no reason
 * to export its log.  So the simulator builds the core through this file,
 * which includes it and adds one read-only accessor; kmod/repl.c itself
 * stays as it is.
 */
#include "../../kmod/repl.c"
#include "check.h"

const struct repl_entry *ck_peek(const struct repl *r, u64 i)
{
	if (i < r->first || i > r->last || i == 0)
		return NULL;
	return ent_at(r, i);
}

/* Term of entry i as the node knows it (also just below its log), or ~0. */
u64 ck_peek_term(const struct repl *r, u64 i)
{
	return term_at(r, i);
}
