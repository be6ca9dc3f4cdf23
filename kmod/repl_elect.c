// SPDX-License-Identifier: GPL-2.0
/*
 * Replication core: roles, elections and recovery after a restart (VR-style
 * recovery round, lock-delay, catch-up).  See docs/protocol.md.
 */
#include "repl_int.h"

/* ---- roles ------------------------------------------------------------ */

void repl_become_follower(struct repl *r, u64 term, u64 now)
{
	bool was_leader = r->role == REPL_LEADER;
	u64 qt = was_leader ? repl_quorum_time(r, now) : 0;

	if (term > r->term) {
		r->term = term;
		r->voted_for = REPL_NONE;
	}
	r->role = REPL_FOLLOWER;
	r->leader = REPL_NONE;
	repl_tx_drop(r);	/* only a leader sends snapshots */
	if (was_leader && r->ops->holder_view)
		r->ops->holder_view(r->sm, qt);
	/*
	 * Only a leader stepping down arms a new election timeout (it had
	 * none running).  A higher term alone must not push back a follower's
	 * or a candidate's: a node whose log is behind, timing out and asking
	 * for votes again and again, would keep the nodes that could win from
	 * ever standing (a livelock, docs/protocol.md section 7).  A valid
	 * APPEND and a granted vote still reset it (R1).
	 */
	if (was_leader || REPL_MUTATION == REPL_MUT_TERM_RESETS_TIMER)
		repl_elect_reset(r, now);
}

/*
 * A leader's first entry.  In a world that has no epoch yet (all nodes lost
 * memory) it carries a new epoch: the wall clock second, taken late enough
 * that it is above any epoch of the world before (see protocol.md).
 */
void repl_maybe_send_epoch(struct repl *r, u64 now)
{
	struct repl_cmd *c = &r->tmp;

	if (r->epoch_sent || (!r->epoch && wall_now(r, now) < r->epoch_after))
		return;
	memset(c, 0, offsetof(struct repl_cmd, data));
	c->op = REPL_OP_EPOCH;
	c->node = r->cfg.self;
	c->arg = wall_now(r, now) / NS_PER_SEC;
	if (repl_append_local(r, c))
		return;
	r->epoch_sent = true;
	r->epoch_index = r->last;
	if (r->cfg.nr_nodes == 1) {
		r->commit = r->last;
		repl_leases_due(r, now);
		repl_apply_committed(r, now);
	}
}

static void become_leader(struct repl *r, u64 now)
{
	u16 i;

	r->role = REPL_LEADER;
	r->leader = r->cfg.self;
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		struct repl_peer *p = &r->peer[i];

		p->next = r->last + 1;
		if (REPL_MUTATION != REPL_MUT_MATCH_KEPT)
			p->match = 0;
		p->recovering = false;
		p->acked_lt = p->voted ? r->cand_start : 0;
		p->echo = 0;
		/* node sessions restart, late enough to outlast old echoes */
		p->last_heard = now + repl_hold(r->cfg.drift_ppm,
						r->cfg.elect_min_ns);
		if (REPL_MUTATION == REPL_MUT_SESSION_WINDOW)
			p->last_heard = now;
		p->sess_ended = false;
		p->snap_acked = 0;
		p->snap_sent = 0;
	}
	/*
	 * Every lease's countdown restarts once our EPOCH commits
	 * (repl_leases_due()), not at our election: until then an EXPIRE an
	 * earlier leader proposed may still commit under a later leader, so
	 * our clients' holders keep their bounds (the table's holder view).
	 */
	r->leases_restarted = false;
	if (REPL_MUTATION == REPL_MUT_RESTART_AT_ELECTION) {
		r->ops->restart_leases(r->sm, now);
		r->leases_restarted = true;
	}
	r->epoch_sent = false;
	repl_maybe_send_epoch(r, now);
	repl_broadcast_append(r, now);
}

void repl_start_election(struct repl *r, u64 now)
{
	struct repl_msg *m;
	u16 i;

	/*
	 * Term t can only be led by node t % nr_nodes (as VR's round-robin
	 * primaries).  A node that forgot it voted in t and votes again can
	 * only vote for the same node, so a term never has two leaders.
	 */
	r->term++;
	while (r->term % r->cfg.nr_nodes != r->cfg.self)
		r->term++;
	r->role = REPL_CANDIDATE;
	r->voted_for = r->cfg.self;
	r->leader = REPL_NONE;
	r->cand_start = now;
	for (i = 0; i < r->cfg.nr_nodes; i++)
		r->peer[i].voted = false;
	repl_elect_reset(r, now);
	if (r->cfg.nr_nodes == 1) {
		become_leader(r, now);
		return;
	}
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		if (i == r->cfg.self)
			continue;
		m = repl_msg_new(r, REPL_MSG_VOTE_REQ, i);
		m->index = r->last;
		m->log_term = term_at(r, r->last);
		msg_send(r);
	}
}

/* ---- recovery --------------------------------------------------------- */

void repl_recover_round(struct repl *r, u64 now)
{
	struct repl_msg *m;
	u16 i;

	r->rec_nonce = (u32)rng_next(r) | 1;
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		r->peer[i].rec_got = false;
		if (i == r->cfg.self)
			continue;
		m = repl_msg_new(r, REPL_MSG_RECOVER_REQ, i);
		/*
		 * To whichever life the peer lives now: one we heard of may
		 * have ended, and a recovering node hears nothing else that
		 * would tell it the new one (any life's answer will do).
		 */
		if (REPL_MUTATION != REPL_MUT_RECOVER_OLD_LIFE)
			m->to_inc = 0;
		m->nonce = r->rec_nonce;
		msg_send(r);
	}
	r->rec_at = now + r->cfg.elect_min_ns;
}

void repl_wipe_log(struct repl *r)
{
	r->first = 1;
	r->last = 0;
	r->snap_term = 0;
	r->commit = 0;
	r->applied = 0;
	r->behind = false;
	r->wipes++;
	r->epoch = 0;
	r->nr_dedup = 0;
	memset(r->life, 0, sizeof(r->life));
	memset(r->gone, 0, sizeof(r->gone));
	repl_tx_drop(r);
	repl_rx_drop(r);
	r->ops->reset(r->sm);
}

void repl_recover_done(struct repl *r, u64 now, u64 term, bool fresh,
			 u16 leader, u64 target)
{
	r->role = REPL_FOLLOWER;
	r->term = term;
	r->fresh = fresh;
	/* lock-delay: no grant by us before every older lease ran out */
	r->grant_after = now + repl_hold(r->cfg.drift_ppm, r->cfg.max_ttl_ns);
	r->epoch_after = wall_now(r, now) + (u64)r->cfg.wall_skew_ms * 1000000ULL +
			 NS_PER_SEC;
	if (REPL_MUTATION == REPL_MUT_SKIP_LOCK_DELAY) {
		/* planted bug: grant at once in a world that lost its memory */
		r->grant_after = now;
		r->epoch_after = 0;
	}
	if (fresh) {
		r->voted_for = REPL_NONE;
		r->leader = REPL_NONE;
		r->catching_up = false;
	} else {
		/* we may have voted in 'term' before we lost memory */
		r->voted_for = REPL_BLOCKED;
		r->leader = leader;
		r->catching_up = true;
		r->catchup_target = target;
		r->catchup_until = now + 20 * r->cfg.elect_max_ns;
	}
	repl_elect_reset(r, now);
}

static void recover_check(struct repl *r, u64 now)
{
	u32 others = r->cfg.nr_nodes - 1, got = 0, live = 0, empty = 0;
	u64 maxterm = 0, target = 0;
	u16 i, leader = REPL_NONE;

	for (i = 0; i < r->cfg.nr_nodes; i++) {
		struct repl_peer *p = &r->peer[i];

		if (i == r->cfg.self || !p->rec_got)
			continue;
		got++;
		if (p->rec_flags & (REPL_F_RECOVERING | REPL_F_FRESH))
			empty++;
		if (!(p->rec_flags & REPL_F_RECOVERING))
			live++;
		if (p->rec_term > maxterm)
			maxterm = p->rec_term;
	}
	/* the world is empty: every other node lost memory or has nothing */
	if (got == others && empty == others) {
		u64 t = 0;

		for (i = 0; i < r->cfg.nr_nodes; i++)
			if (i != r->cfg.self &&
			    !(r->peer[i].rec_flags & REPL_F_RECOVERING) &&
			    r->peer[i].rec_term > t)
				t = r->peer[i].rec_term;
		repl_wipe_log(r);
		repl_recover_done(r, now, t, true, REPL_NONE, 0);
		return;
	}
	/* VR-style: a majority of the others answered, one leads the top term */
	if (live < majority(r))
		return;
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		struct repl_peer *p = &r->peer[i];

		if (i != r->cfg.self && p->rec_got &&
		    !(p->rec_flags & REPL_F_RECOVERING) &&
		    (p->rec_flags & REPL_F_LEADER) && p->rec_term == maxterm) {
			leader = i;
			target = p->rec_last;
		}
	}
	if (leader == REPL_NONE)
		return;
	repl_wipe_log(r);
	repl_recover_done(r, now, maxterm, false, leader, target);
}

void repl_on_recover_req(struct repl *r, const struct repl_msg *in)
{
	struct repl_msg *m = repl_msg_new(r, REPL_MSG_RECOVER_RESP, in->from);

	m->to_inc = in->from_inc;
	m->nonce = in->nonce;
	if (r->role == REPL_RECOVERING || r->catching_up)
		m->flags |= REPL_F_RECOVERING;
	if (r->role == REPL_LEADER)
		m->flags |= REPL_F_LEADER;
	/*
	 * Fresh only with an empty log: a follower does not know whether the
	 * entries it holds were committed (its commit index may lag).
	 */
	if (r->fresh &&
	    (r->last == 0 || REPL_MUTATION == REPL_MUT_TRUST_AMNESIAC))
		m->flags |= REPL_F_FRESH;
	m->index = r->last;
	m->commit = r->commit;
	msg_send(r);
}

void repl_on_recover_resp(struct repl *r, const struct repl_msg *m, u64 now)
{
	struct repl_peer *p = &r->peer[m->from];

	if (r->role != REPL_RECOVERING || m->nonce != r->rec_nonce)
		return;
	p->rec_got = true;
	p->rec_flags = m->flags;
	p->rec_term = m->term;
	p->rec_last = m->index;
	if (REPL_MUTATION == REPL_MUT_CATCHUP_LOW)
		p->rec_last = m->commit;
	recover_check(r, now);
}

/* ---- message handlers ------------------------------------------------- */

static bool up_to_date(struct repl *r, u64 last_term, u64 last_index)
{
	u64 my = term_at(r, r->last);

	return last_term > my || (last_term == my && last_index >= r->last);
}

/*
 * Leader stickiness (Raft thesis 4.2.3): a leader, and a follower that heard
 * its leader less than the shortest election timeout ago, ignore a vote
 * request and its term, as if it were lost.  A node that hears nothing but
 * still reaches the others (a one-way cut) then no longer deposes a working
 * leader at each of its timeouts.  It still does once it hears again: its
 * answers carry its higher term (one election, section 10).
 */
static bool hears_leader(const struct repl *r, u64 now)
{
	if (!r->cfg.sticky || REPL_MUTATION == REPL_MUT_NOT_STICKY)
		return false;
	if (r->role == REPL_LEADER)
		return true;
	return r->role == REPL_FOLLOWER && r->leader != REPL_NONE &&
	       now < r->leader_seen + r->cfg.elect_min_ns;
}

void repl_on_vote_req(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_msg *m;
	bool ok = false;

	if (hears_leader(r, now))
		return;
	if (in->term > r->term)
		repl_become_follower(r, in->term, now);
	if (in->term == r->term && !r->catching_up &&
	    in->term % r->cfg.nr_nodes == in->from &&
	    (r->voted_for == REPL_NONE || r->voted_for == in->from) &&
	    (up_to_date(r, in->log_term, in->index) ||
	     REPL_MUTATION == REPL_MUT_VOTE_ANY_LOG)) {
		ok = true;
		r->voted_for = in->from;
		repl_elect_reset(r, now);
	}
	m = repl_msg_new(r, REPL_MSG_VOTE_RESP, in->from);
	if (ok)
		m->flags |= REPL_F_OK;
	msg_send(r);
}

void repl_on_vote_resp(struct repl *r, const struct repl_msg *in, u64 now)
{
	u32 n = 1, i;

	if (r->role != REPL_CANDIDATE ||
	    (in->term != r->term &&
	     !(REPL_MUTATION == REPL_MUT_STALE_VOTE && in->term < r->term)) ||
	    !(in->flags & REPL_F_OK))
		return;
	/* planted bug: votes counted per answer, a duplicate counts again */
	if (REPL_MUTATION == REPL_MUT_VOTE_TWICE && r->peer[in->from].voted)
		n++;
	r->peer[in->from].voted = true;
	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self && r->peer[i].voted)
			n++;
	if (n >= majority(r))
		become_leader(r, now);
}
