// SPDX-License-Identifier: GPL-2.0
/*
 * Replication core: the leader's log replication (APPEND and its answers),
 * commit by majority, leader leases by echoed send times, proposals.
 */
#include "repl_int.h"

static void log_truncate(struct repl *r, u64 after)
{
	if (after < r->last)
		r->last = after;
}

/* ---- sending ------------------------------------------------------------- */

u64 repl_quorum_time(struct repl *r, u64 now)
{
	u64 t[REPL_MAX_NODES];
	u32 n = 0, i, j, k = majority(r);

	if (REPL_MUTATION == REPL_MUT_ALWAYS_FRESH)
		return now;	/* planted bug: a leader never doubts itself */
	for (i = 0; i < r->cfg.nr_nodes; i++)
		t[n++] = i == r->cfg.self ? now : r->peer[i].acked_lt;
	/* k-th largest */
	for (i = 0; i < k; i++)
		for (j = i + 1; j < n; j++)
			if (t[j] > t[i]) {
				u64 x = t[i];

				t[i] = t[j];
				t[j] = x;
			}
	return t[k - 1];
}

bool repl_quorum_fresh(struct repl *r, u64 now)
{
	return now <= repl_quorum_time(r, now) + r->cfg.elect_min_ns;
}

static void send_append(struct repl *r, u16 to, u64 now)
{
	struct repl_peer *p = &r->peer[to];
	struct repl_msg *m;
	u32 bytes;
	u64 i;

	if (p->next < r->first &&
	    now <= p->last_heard + r->cfg.elect_max_ns) {
		/* a heartbeat or a retry: go back to what the peer holds */
		p->snap_sent = p->snap_acked;
		repl_send_snap(r, to, 1, now);
		return;
	}
	m = repl_msg_new(r, REPL_MSG_APPEND, to);
	/*
	 * A peer that needs a snapshot but is silent (down, cut off) gets an
	 * empty APPEND at the log's start instead: its answer, if any, shows
	 * it is there before a snapshot is serialized for it.
	 */
	m->index = max(p->next, r->first) - 1;
	m->log_term = term_at(r, m->index);
	/* as many entries as fit one datagram */
	bytes = wire_size(m);
	for (i = m->index + 1; i <= r->last && p->next >= r->first &&
	     m->n_ent < REPL_MAX_BATCH; i++) {
		const struct repl_entry *e = ent_at(r, i);

		if (bytes + wire_entry_size(e) > WIRE_MAX)
			break;
		bytes += wire_entry_size(e);
		ent_copy(&m->ent[m->n_ent++], e);
	}
	m->commit = r->commit;
	p->told = m->commit;
	m->t_send = now;
	/* echo only while a majority is known to follow us (see protocol.md) */
	if (repl_quorum_fresh(r, now))
		m->t_echo = p->echo;
	msg_send(r);
}

void repl_broadcast_append(struct repl *r, u64 now)
{
	u16 i;

	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self)
			send_append(r, i, now);
	r->hb_at = now + r->cfg.hb_ns;
}

/*
 * Peers that hold every entry but not the commit index learn it now, not
 * at the next heartbeat: a follower answers its own clients only once it
 * applies (a follower's acquire took one heartbeat period otherwise).
 * Peers still behind get it with the entries they are sent.
 */
static void notify_commit(struct repl *r, u64 now)
{
	u16 i;

	if (REPL_MUTATION == REPL_MUT_NO_COMMIT_NOTICE)
		return;
	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self && r->peer[i].next > r->last &&
		    r->peer[i].told < r->commit)
			send_append(r, i, now);
}

/*
 * Leader: once our EPOCH has committed, no entry of an earlier term can
 * commit any more, so our own countdowns may rule: every lease's restarts
 * now (docs/protocol.md section 8, "The holder's bound").
 */
void repl_leases_due(struct repl *r, u64 now)
{
	if (r->role != REPL_LEADER || r->leases_restarted || !r->epoch_sent ||
	    r->commit < r->epoch_index)
		return;
	r->ops->restart_leases(r->sm, now);
	r->leases_restarted = true;
}

static void advance_commit(struct repl *r, u64 now)
{
	u64 n;
	u32 cnt, i;

	for (n = r->last; n > r->commit; n--) {
		if (term_at(r, n) != r->term &&
		    REPL_MUTATION != REPL_MUT_COMMIT_OLD_TERM)
			break;
		cnt = REPL_MUTATION == REPL_MUT_SELF_ACK_TWICE ? 2 : 1;
		for (i = 0; i < r->cfg.nr_nodes; i++)
			if (i != r->cfg.self && !r->peer[i].recovering &&
			    r->peer[i].match >= n)
				cnt++;
		if (cnt >= majority(r)) {
			r->commit = n;
			break;
		}
	}
	repl_leases_due(r, now);
	repl_apply_committed(r, now);
}

int repl_append_local(struct repl *r, const struct repl_cmd *c)
{
	struct repl_entry *e;

	if (!repl_log_room(r))
		return -EBUSY;
	r->last++;
	e = ent_at(r, r->last);
	e->term = r->term;
	cmd_copy(&e->cmd, c);
	if (REPL_MUTATION == REPL_MUT_COMMIT_NO_MAJORITY)
		r->commit = r->last;
	return 0;
}

/* Common prologue of APPEND and SNAP: false if the message is stale. */
bool repl_accept_leader(struct repl *r, const struct repl_msg *in, u64 now)
{
	if (in->term < r->term &&
	    !(REPL_MUTATION == REPL_MUT_APPEND_STALE_TERM &&
	      in->type == REPL_MSG_APPEND)) {
		/* planted bug: a deposed leader still holds elections off */
		if (REPL_MUTATION == REPL_MUT_STALE_HB_RESETS &&
		    r->role == REPL_FOLLOWER)
			repl_elect_reset(r, now);
		return false;
	}
	if (in->term > r->term || r->role != REPL_FOLLOWER)
		repl_become_follower(r, in->term, now);
	r->leader = in->from;
	r->leader_seen = now;
	repl_elect_reset(r, now);
	if (in->t_echo && !r->catching_up)
		repl_sess_extend(r, in->t_echo, now);
	return true;
}

void repl_append_resp(struct repl *r, const struct repl_msg *in, bool ok,
			u64 index, u64 now)
{
	struct repl_msg *m = repl_msg_new(r, REPL_MSG_APPEND_RESP, in->from);

	if (ok)
		m->flags |= REPL_F_OK;
	if (r->catching_up)
		m->flags |= REPL_F_RECOVERING;
	m->index = index;
	m->t_send = now;
	m->t_echo = in->t_send;
	msg_send(r);
}

void repl_on_append(struct repl *r, const struct repl_msg *in, u64 now)
{
	u64 prev = in->index, idx, upto;
	u16 k;

	if (!repl_accept_leader(r, in, now)) {
		repl_append_resp(r, in, false, 0, now);
		return;
	}
	if (prev > r->last) {
		repl_append_resp(r, in, false, r->last + 1, now);
		return;
	}
	if (prev >= r->first - 1 && term_at(r, prev) != in->log_term) {
		/* conflict: ask for an earlier point, never below commit */
		repl_append_resp(r, in, false, max(r->commit + 1, r->first),
				 now);
		return;
	}
	upto = prev;
	for (k = 0; k < in->n_ent; k++) {
		const struct repl_entry *e = &in->ent[k];

		idx = prev + 1 + k;
		if (idx < r->first) {
			upto = idx;
			continue;
		}
		if (idx <= r->last) {
			if (term_at(r, idx) == e->term) {
				upto = idx;
				continue;
			}
			if (idx <= r->commit)
				break;	/* never rewrite committed entries */
			log_truncate(r, idx - 1);
		}
		if (!repl_log_room(r))
			break;
		r->last = idx;
		ent_copy(ent_at(r, idx), e);
		upto = idx;
	}
	if (REPL_MUTATION == REPL_MUT_COMMIT_BACK)
		/* planted bug: believe a leader whose commit lags ours */
		r->commit = min(in->commit, upto);
	else if (REPL_MUTATION == REPL_MUT_APPLY_UNCOMMITTED)
		/* planted bug: take what we store as committed */
		r->commit = max(r->commit, upto);
	else if (in->commit > r->commit)
		r->commit = max(r->commit,
				min(in->commit,
				    REPL_MUTATION == REPL_MUT_COMMIT_UNCLAMPED ?
				    r->last : upto));
	r->behind = in->commit > r->commit;
	repl_apply_committed(r, now);
	repl_apply_floor(r, in->commit, in->t_echo);
	if (REPL_MUTATION == REPL_MUT_FOLLOWER_EXPIRES) {
		/* planted bug: a follower ends leases by its own clock */
		struct repl_result res;

		while (r->ops->next_expired(r->sm, now, &r->tmp)) {
			memset(&res, 0, sizeof(res));
			r->tmp.op = REPL_OP_EXPIRE;
			r->ops->apply(r->sm, &r->tmp, r->applied,
				      repl_token(r->epoch, r->applied), now,
				      &res);
		}
	}
	repl_append_resp(r, in, true, upto, now);
}

void repl_on_append_resp(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_peer *p = &r->peer[in->from];

	if (r->role != REPL_LEADER ||
	    (in->term != r->term &&
	     !(REPL_MUTATION == REPL_MUT_STALE_ACK && in->term < r->term)))
		return;
	p->last_heard = max(p->last_heard, now);
	p->sess_ended = false;
	p->echo = max(p->echo, in->t_send);
	p->acked_lt = max(p->acked_lt, in->t_echo);
	p->recovering = in->flags & REPL_F_RECOVERING;
	/*
	 * Send more only when this answer moved us forward: a duplicated or
	 * stale answer must not start a second chain of appends, or
	 * duplication in the network would multiply the traffic.
	 */
	if (in->flags & REPL_F_OK) {
		u64 old_next = p->next;

		if (!p->recovering && in->index > p->match)
			p->match = in->index;
		if (in->index + 1 > p->next)
			p->next = in->index + 1;
		advance_commit(r, now);
		if (p->next > old_next && p->next <= r->last)
			send_append(r, in->from, now);
		if (r->role == REPL_LEADER)
			notify_commit(r, now);
	} else if (in->index) {
		u64 old_next = p->next;

		p->next = max_t(u64, 1, min(p->next - 1, in->index));
		if (p->next <= p->match)
			p->next = p->match + 1;
		if (p->next != old_next)
			send_append(r, in->from, now);
	}
}

/*
 * Whether the leader may propose an entry now: at most half the log
 * uncommitted, so that a later leader that inherits this tail has room for
 * the entry of its own term (its EPOCH) that commits it, or nothing would
 * ever commit again.
 */
bool repl_propose_room(struct repl *r)
{
	if (!repl_log_room(r))
		return false;
	return r->last - r->commit < r->cfg.log_cap / 2 ||
	       REPL_MUTATION == REPL_MUT_TAIL_UNBOUNDED;
}

int repl_propose(struct repl *r, struct repl_cmd *c, u64 now)
{
	int err;

	if (!r->epoch_sent)
		return -EAGAIN;		/* our first entry is not out yet */
	if (!repl_propose_room(r))
		return -EBUSY;
	if (c->op == REPL_OP_ACQUIRE && now < r->grant_after)
		return -EAGAIN;		/* lock-delay after losing memory */
	err = repl_append_local(r, c);
	if (err)
		return err;
	if (REPL_MUTATION == REPL_MUT_ANSWER_UNCOMMITTED &&
	    c->op == REPL_OP_RENEW && c->node == r->cfg.self) {
		/* planted bug: a RENEW answered before it is committed */
		struct repl_result res;

		memset(&res, 0, sizeof(res));
		res.index = r->last;
		r->env.reply(r->env.ctx, c, &res);
	}
	if (r->cfg.nr_nodes == 1)
		r->commit = r->last;
	advance_commit(r, now);
	/* push the new entry to peers that are caught up */
	{
		u16 i;

		for (i = 0; i < r->cfg.nr_nodes; i++)
			if (i != r->cfg.self && r->peer[i].next == r->last)
				send_append(r, i, now);
	}
	return 0;
}
