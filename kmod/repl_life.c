// SPDX-License-Identifier: GPL-2.0
/*
 * A node's new life (docs/protocol.md, R10).  Each start of a node (a boot,
 * a reconfiguration) is a new incarnation, and the clients of its earlier
 * lives are gone with their sockets.  Before this life takes a client
 * command, it has a NODE_START entry committed and applied: a SESSION_END
 * of every earlier client of the node, up to a cutoff that every entry of
 * those lives precedes.  Without it, a node back within the node-session
 * timeout would leave what its earlier clients held without TTL, and every
 * waiter behind it, for ever.
 */
#include "repl_int.h"

bool repl_life_started(const struct repl *r)
{
#ifdef REPL_NO_NODE_START
	/*
	 * test_repl_sched's scripted schedules place entries at exact
	 * indexes, and one (plant 18) needs a client command from a node that
	 * has applied nothing, which NODE_START rules out: they run without.
	 */
	return true;
#endif
	return r->life[r->cfg.self] >= r->cfg.incarnation;
}

/*
 * When this life may ask for its NODE_START: once every datagram of an
 * earlier life is gone (msg_life after boot), so that no forward of its
 * clients is taken after the cutoff.  A leader proposes it once a term,
 * when its EPOCH entry is out; a follower forwards it, again after each
 * election timeout until it is applied (sooner when a leader's EPOCH
 * comes).  0: nothing to do.
 */
u64 repl_life_due(const struct repl *r)
{
	u64 at = r->boot + r->cfg.msg_life_ns;

	if (REPL_MUTATION == REPL_MUT_NODE_START_EARLY)
		at = r->boot;
	if (repl_life_started(r))
		return 0;
	if (r->role == REPL_LEADER) {
		/* a proposal refused for want of room: again a heartbeat later */
		if (r->life_sent)
			at = max(at, r->life_sent + r->cfg.hb_ns);
		return r->epoch_sent && r->life_term != r->term ? at : 0;
	}
	if (r->life_sent)
		at = max(at, r->life_sent + r->cfg.elect_min_ns);
	return at;
}

/*
 * Asks for this life's NODE_START when due (repl_life_due()).  Until it
 * is applied here, request() takes no client command.
 */
void repl_send_node_start(struct repl *r, u64 now)
{
	struct repl_cmd *c = &r->tmp;
	struct repl_msg *m;
	u64 due = repl_life_due(r);

	if (!due || now < due)
		return;
	memset(c, 0, offsetof(struct repl_cmd, data));
	c->op = REPL_OP_NODE_START;
	c->node = r->cfg.self;
	c->len = 8;
	dl_put_le64(c->data, r->cfg.incarnation);
	if (r->role == REPL_LEADER) {
		c->arg = r->last;
		if (!repl_propose(r, c, now))
			r->life_term = r->term;
		else if (REPL_MUTATION != REPL_MUT_REFUSED_LIFE_AT_ONCE)
			r->life_sent = now;	/* else due again at once, for ever */
		return;
	}
	/* sent or not, look again an election timeout later */
	r->life_sent = now;
	if (r->role != REPL_FOLLOWER || r->catching_up ||
	    r->leader == REPL_NONE)
		return;
	m = repl_msg_new(r, REPL_MSG_FORWARD, r->leader);
	m->n_ent = 1;
	m->ent[0].term = r->term;
	cmd_copy(&m->ent[0].cmd, c);
	msg_send(r);
}

/*
 * Leader: @in asks for its sender's NODE_START.  Only a node's own, of the
 * life it speaks from; the cutoff is our last entry, so every entry of its
 * earlier lives we hold is before it.
 */
void repl_on_node_start(struct repl *r, const struct repl_msg *in, u64 now)
{
	const struct repl_cmd *f = &in->ent[0].cmd;
	struct repl_cmd *c = &r->tmp;
	u64 inc;

	if (f->node != in->from || f->len != 8)
		return;
	inc = dl_get_le64(f->data);
	if (!inc || inc != in->from_inc || inc <= r->life[f->node])
		return;
	cmd_copy(c, f);
	c->arg = r->last;
	c->client = 0;
	c->req = 0;
	c->ttl = 0;
	c->hold = 0;
	repl_propose(r, c, now);
}

/*
 * The first NODE_START of an incarnation of c->node ends the sessions of
 * that node's clients up to its cutoff, as a SESSION_END would: they were
 * clients of an earlier life; their dedup slots go with them.  A repeat
 * (a duplicated or re-sent request) or an older incarnation's changes
 * nothing, so no later one can reach a client of the new life.
 */
void repl_apply_node_start(struct repl *r, const struct repl_cmd *c, u64 i,
			     u64 now)
{
	struct repl_cmd *e = &r->ended;
	struct repl_result res;
	u64 inc;

	if (c->len != 8 || c->node >= r->cfg.nr_nodes)
		return;
	inc = dl_get_le64(c->data);
	if (inc <= r->life[c->node])
		return;
	r->life[c->node] = inc;
	if (REPL_MUTATION == REPL_MUT_NO_NODE_START)
		return;		/* planted bug: the earlier life's leases stay */
	if (REPL_MUTATION != REPL_MUT_NODE_START_KEEPS_SLOTS)
		repl_dedup_forget_node(r, c->node);
	memset(e, 0, offsetof(struct repl_cmd, data));
	e->op = REPL_OP_SESSION_END;
	e->node = c->node;
	e->arg = c->arg;
	memset(&res, 0, sizeof(res));
	res.index = i;
	r->ops->apply(r->sm, e, i, repl_token(r->epoch, i), now, &res);
}

