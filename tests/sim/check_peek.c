// SPDX-License-Identifier: GPL-2.0
/*
 * White-box access to the replication core for the simulator's checker.
 *
 * The checker must see the log itself (which entry a node holds at an
 * index, committed or not) to judge leader completeness and rewritten
 * entries; struct repl is private to the core (kmod/repl_int.h) and the
 * core has no reason to export its log.  So this file, linked beside the
 * core, reads struct repl through that private header and adds read-only
 * accessors; the core itself stays as it is.
 */
#include "repl_int.h"
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

bool ck_peek_voter(const struct repl *r, u64 i, u64 t, u64 *last,
		   u64 *lterm, bool *complete)
{
	if (r->role == REPL_RECOVERING || r->catching_up)
		return false;
	*last = r->last;
	*lterm = term_at(r, r->last);
	*complete = r->first > i || term_at(r, i) == t;
	return true;
}

/*
 * A Raft log's terms never go down along it, and no entry is from a term
 * its holder has not reached.  Checked where a log is stitched together
 * (the snapshot boundary, first - 1 -> first) and at its end, so O(1):
 * e.g. a snapshot install that keeps a tail of another history breaks it.
 */
void ck_log_shape(int n, const struct repl *r)
{
	if (r->role == REPL_RECOVERING || r->last < r->first)
		return;
	if (r->first > 1 && ent_at(r, r->first)->term < r->snap_term)
		violate("n%d: log term goes down at its start: term %llu at index %llu after term %llu at %llu (a log of two histories)",
			n, (unsigned long long)ent_at(r, r->first)->term,
			(unsigned long long)r->first,
			(unsigned long long)r->snap_term,
			(unsigned long long)r->first - 1);
	else if (ent_at(r, r->last)->term > r->term)
		violate("n%d holds an entry of term %llu at index %llu but is in term %llu",
			n, (unsigned long long)ent_at(r, r->last)->term,
			(unsigned long long)r->last,
			(unsigned long long)r->term);
}

/*
 * R7 across leader changes, checked after every event without waiting for
 * a lease to be ended: the leader of the highest term any node knows may
 * propose SESSION_END for node F once it has not heard F for `session` on
 * its clock; F's own session bound (extended by echoes of this or of any
 * earlier leader) must lapse before that moment, in real time.  Leaders of
 * lower terms are deposed: their deadlines never fire.  @real converts a
 * node's clock to real time; 1 us of slack covers rounding of the clocks.
 */
void ck_sessions(struct repl *const *r, int n, u64 (*real)(int, u64))
{
	const struct repl *ld = NULL;
	u64 top = 0, dl, end;
	int i, l = -1;

	for (i = 0; i < n; i++)
		if (r[i] && r[i]->term > top)
			top = r[i]->term;
	for (i = 0; i < n; i++)
		if (r[i] && r[i]->role == REPL_LEADER && r[i]->term == top)
			l = i;
	if (l < 0)
		return;
	ld = r[l];
	for (i = 0; i < n; i++) {
		if (i == l || !r[i] || !r[i]->sess_until)
			continue;
		dl = real(l, ld->peer[i].last_heard + ld->cfg.session_ns);
		end = real(i, r[i]->sess_until);
		if (end > dl + 1000)
			violate("n%d (leader, term %llu) may end n%d's session %.3f ms before n%d's own bound lapses (R7)",
				l, (unsigned long long)top, i,
				(end - dl) / 1e6, i);
	}
}

/*
 * A leader's votes were cast in its term: every node it counted as a voter
 * is in that term or a later one (terms never go down).  A node without
 * memory is skipped: once recovered its term is at least the leader's (its
 * recovery quorum meets the leader's voters).  Whom it voted for is not
 * checked: a voter that lost its memory may have forgotten its vote.
 * Catches a vote of an older term counted at the election, not only when
 * its harm shows.
 */
void ck_votes(struct repl *const *r, int n)
{
	int l, i;

	for (l = 0; l < n; l++) {
		const struct repl *ld = r[l];

		if (!ld || ld->role != REPL_LEADER)
			continue;
		for (i = 0; i < n; i++) {
			const struct repl *v = r[i];

			if (i == l || !ld->peer[i].voted || !v ||
			    v->role == REPL_RECOVERING)
				continue;
			if (v->term < ld->term)
				violate("n%d leads term %llu counting n%d's vote, but n%d is in term %llu (a vote not cast in this term)",
					l, (unsigned long long)ld->term, i, i,
					(unsigned long long)v->term);
		}
	}
}

void ck_peek_session(const struct repl *r, u32 *gen, u64 *until)
{
	*gen = r->sess_gen;
	*until = r->sess_until;
}

/*
 * A leader's match index for a peer must name an entry the peer holds with
 * the leader's term at that index, as long as the peer is in the same life
 * and the same term (no other leader can have changed its log): otherwise
 * the leader counts an acknowledgement that no longer holds (a stale one,
 * or one whose entries the follower dropped), and may commit on it.
 */
void ck_match(int l, struct repl *const *r, int n)
{
	const struct repl *ld = r[l];
	int i;

	if (!ld || ld->role != REPL_LEADER)
		return;
	for (i = 0; i < n; i++) {
		const struct repl *f = r[i];
		u64 m = ld->peer[i].match, lt;

		if (i == l || !f || !m || f->cfg.incarnation != ld->peer[i].inc ||
		    f->role == REPL_RECOVERING || f->catching_up ||
		    f->term != ld->term)
			continue;
		lt = term_at(ld, m);
		if (lt == ~0ULL || m + 1 < f->first)
			continue;
		if (m > f->last || term_at(f, m) != lt)
			violate("n%d counts n%d as holding index %llu (term %llu), but n%d %s (an acknowledgement that does not hold)",
				l, i, (unsigned long long)m,
				(unsigned long long)lt, i,
				m > f->last ? "has a shorter log" :
				"holds another entry there");
	}
}
