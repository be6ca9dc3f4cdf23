// SPDX-License-Identifier: GPL-2.0
/*
 * Log safety as the checker sees it (see check.h): the committed prefix of
 * the current world, recorded the first time any node's commit index passes
 * an entry, is the reference every later observation is held against.
 *
 * - A node whose commit index passes index i must hold the entry recorded
 *   for i (same term, same command): otherwise a committed entry was
 *   rewritten (or two were committed at one index).
 * - A node that becomes leader must hold every recorded entry it has not
 *   compacted and that was committed in a lower term (Raft's leader
 *   completeness), checked at its election, not found later as a
 *   divergence or a stall.
 * - At every moment, no node that lacks a committed entry may have a log
 *   at least as up to date as a majority of the voters' logs: it could win
 *   a later election (this is what leader completeness rests on, checked
 *   before the election happens: Raft's figure 8, stale acknowledgements).
 * - At the end of a seed no node with memory may be stuck below the world's
 *   commit index: a follower refusing to move on is a safety problem (its
 *   log conflicts with committed entries), not a slow request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

struct ck_log CK;

void ck_log_reset(void)
{
	struct ck_rec *rec = CK.rec;
	u64 cap = CK.cap, el = CK.elections, holes = CK.rec_holes, i;
	u64 dc = CK.durable_checks;

	/*
	 * Indexes committed but never seen by the checker (compacted at
	 * once).  Only 1..max can be set, and a record is whole once set:
	 * clearing the flags is enough (the array is ~1.7 KB an index).
	 */
	for (i = 1; i <= CK.max; i++) {
		holes += !rec[i].set;
		rec[i].set = false;
	}
	memset(&CK, 0, sizeof(CK));
	CK.rec = rec;
	CK.cap = cap;
	CK.elections = el;
	CK.rec_holes = holes;
	CK.durable_checks = dc;
}

const struct ck_rec *ck_rec_at(u64 i)
{
	return i < CK.cap && CK.rec[i].set ? &CK.rec[i] : NULL;
}

/* Field by field: padding bytes of a copied command are not its value. */
static bool cmd_eq(const struct repl_cmd *a, const struct repl_cmd *b)
{
	return a->op == b->op && a->flags == b->flags && a->node == b->node &&
	       a->client == b->client && a->req == b->req &&
	       a->ttl == b->ttl && a->hold == b->hold && a->arg == b->arg &&
	       a->len == b->len && a->len <= REPL_DATA_MAX &&
	       !memcmp(a->data, b->data, a->len);
}

static bool same_entry(const struct ck_rec *r, const struct repl_entry *e)
{
	return r->term == e->term && cmd_eq(&r->cmd, &e->cmd);
}

static void record(int n, u64 i, const struct repl_entry *e, u64 now,
		   u64 cterm)
{
	struct ck_rec *r;

	if (i >= CK.cap) {
		u64 nc = i + 1 > CK.cap * 2 ? i + 1024 : CK.cap * 2;

		CK.rec = realloc(CK.rec, nc * sizeof(*CK.rec));
		memset(CK.rec + CK.cap, 0, (nc - CK.cap) * sizeof(*CK.rec));
		CK.cap = nc;
	}
	r = &CK.rec[i];
	if (!r->set) {
		r->set = true;
		r->term = e->term;
		/* the used part only: bytes past len are never read */
		memcpy(&r->cmd, &e->cmd, offsetof(struct repl_cmd, data) +
		       min((u32)e->cmd.len, (u32)REPL_DATA_MAX));
		r->t_first = now;
		r->cterm = cterm;
		if (i > CK.max)
			CK.max = i;
		return;
	}
	if (!same_entry(r, e))
		violate("n%d committed index %llu as term %llu op %u client %u, but it was committed before as term %llu op %u client %u (a committed entry rewritten)",
			n, (unsigned long long)i, (unsigned long long)e->term,
			e->cmd.op, e->cmd.client, (unsigned long long)r->term,
			r->cmd.op, r->cmd.client);
}

/* Every recorded entry a new leader has not compacted must be in its log. */
static void completeness(int n, struct repl *r, const struct repl_status *st)
{
	u64 i;

	CK.elections++;
	for (i = st->first_index; i <= CK.max; i++) {
		const struct ck_rec *rc = ck_rec_at(i);
		const struct repl_entry *e;

		/*
		 * Raft's leader completeness: an entry committed in term T is
		 * in the log of every leader of a term above T.  A leader of a
		 * lower term may still win with votes cast before T's commit
		 * and delivered late (seeds 1010968, 3019168): it cannot commit
		 * anything, a majority is past its term.
		 */
		if (!rc || rc->cterm >= st->term)
			continue;
		e = ck_peek(r, i);
		if (!e) {
			violate("leader completeness: n%d leads term %llu without committed index %llu (its log ends at %llu)",
				n, (unsigned long long)st->term,
				(unsigned long long)i,
				(unsigned long long)st->last_index);
			return;
		}
		if (!same_entry(rc, e)) {
			violate("leader completeness: n%d leads term %llu with term %llu at committed index %llu (committed: term %llu)",
				n, (unsigned long long)st->term,
				(unsigned long long)e->term, (unsigned long long)i,
				(unsigned long long)rc->term);
			return;
		}
	}
}

void ck_observe(int n, u32 boot, struct repl *r, u64 now)
{
	struct repl_status st;
	u64 i;

	if (!r)
		return;
	repl_status(r, &st);
	if (CK.node[n].boot != boot) {
		memset(&CK.node[n], 0, sizeof(CK.node[n]));
		CK.node[n].boot = boot;
	}
	/* a wiped log (recovery) starts over */
	if (st.commit < CK.node[n].seen)
		CK.node[n].seen = st.commit;
	for (i = CK.node[n].seen + 1; i <= st.commit; i++) {
		const struct repl_entry *e = ck_peek(r, i);

		if (e)
			record(n, i, e, now, st.term);
	}
	CK.node[n].seen = st.commit;
	ck_log_shape(n, r);
	if (st.role == REPL_LEADER &&
	    (CK.node[n].role != REPL_LEADER || CK.node[n].term != st.term))
		completeness(n, r, &st);
	CK.node[n].role = st.role;
	CK.node[n].term = st.term;
}

void ck_log_final(int n, struct repl *r, u64 ref)
{
	struct repl_status st;
	u64 i;

	repl_status(r, &st);
	for (i = st.first_index; i <= st.commit; i++) {
		const struct ck_rec *rc = ck_rec_at(i);
		const struct repl_entry *e = ck_peek(r, i);

		if (rc && e && !same_entry(rc, e)) {
			violate("n%d holds term %llu at committed index %llu, committed as term %llu (a committed entry rewritten)",
				n, (unsigned long long)e->term,
				(unsigned long long)i,
				(unsigned long long)rc->term);
			return;
		}
	}
	if (st.role == REPL_RECOVERING || st.catching_up || st.commit < ref)
		violate("n%d does not move on: %s at commit %llu (log %llu..%llu, term %llu) while the cluster committed %llu long before the end",
			n, st.role == REPL_RECOVERING ? "still recovering" :
			st.catching_up ? "still catching up" : "stuck",
			(unsigned long long)st.commit,
			(unsigned long long)st.first_index,
			(unsigned long long)st.last_index,
			(unsigned long long)st.term, (unsigned long long)ref);
}

void ck_durable(struct repl *const *r, int n)
{
	const struct ck_rec *rc = ck_rec_at(CK.max);
	u64 last[CK_MAX_NODES], lterm[CK_MAX_NODES];
	bool voter[CK_MAX_NODES], complete[CK_MAX_NODES], all = true;
	int x, v, cnt;

	ck_votes(r, n);
	if (!rc)
		return;
	/* nodes without memory neither vote nor stand (R5) */
	for (x = 0; x < n; x++) {
		voter[x] = r[x] && ck_peek_voter(r[x], CK.max, rc->term,
						 &last[x], &lterm[x],
						 &complete[x]);
		all &= !voter[x] || complete[x];
	}
	CK.durable_checks++;
	if (all)
		return;
	for (x = 0; x < n; x++) {
		if (!voter[x] || complete[x])
			continue;
		for (cnt = 0, v = 0; v < n; v++)
			if (voter[v] && (lterm[x] > lterm[v] ||
					 (lterm[x] == lterm[v] &&
					  last[x] >= last[v])))
				cnt++;
		if (cnt >= n / 2 + 1) {
			violate("committed index %llu (term %llu) is not durable: n%d lacks it, yet its log (last %llu, term %llu) is as up to date as a majority's, so it could win an election",
				(unsigned long long)CK.max,
				(unsigned long long)rc->term, x,
				(unsigned long long)last[x],
				(unsigned long long)lterm[x]);
			return;
		}
	}
}
