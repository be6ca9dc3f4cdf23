// SPDX-License-Identifier: GPL-2.0
/*
 * dlock replication core: entry points, apply, client commands, timers.
 * See repl.h for the interface and docs/protocol.md for the protocol, its
 * rules and why they are safe; repl_int.h for how the core is split.
 */
#include "repl_int.h"

/* A duration on our clock that covers d on any other clock. */
u64 repl_hold(u32 drift_ppm, u64 d)
{
	u64 num = 1000000ULL + drift_ppm, den = 1000000ULL - drift_ppm;

	if (d > (1ULL << 44))
		d = 1ULL << 44;
	return (d * num + den - 1) / den;
}

/* A duration on our clock that is covered by d on any other clock. */
static u64 shrink(u32 drift_ppm, u64 d)
{
	u64 num = 1000000ULL - drift_ppm, den = 1000000ULL + drift_ppm;

	if (d > (1ULL << 44))
		d = 1ULL << 44;
	return d * num / den;
}

u64 repl_token(u64 epoch, u64 index)
{
	return (epoch << 32) | (index & 0xffffffffULL);
}

void repl_elect_reset(struct repl *r, u64 now)
{
	u64 span = r->cfg.elect_max_ns - r->cfg.elect_min_ns;

	r->elect_at = now + r->cfg.elect_min_ns + (span ? rng_next(r) % span : 0);
}

struct repl_msg *repl_msg_new(struct repl *r, u8 type, u16 to)
{
	struct repl_msg *m = r->out;

	/* the entries are filled only as far as n_ent says */
	memset(m, 0, offsetof(struct repl_msg, ent));
	m->type = type;
	m->from = r->cfg.self;
	m->to = to;
	m->from_inc = r->cfg.incarnation;
	m->to_inc = r->peer[to].inc;
	m->term = r->term;
	return m;
}

/* Session of this node: leases of its clients are good until sess_until. */
void repl_sess_extend(struct repl *r, u64 from, u64 now)
{
	u64 until = from + shrink(r->cfg.drift_ppm, r->cfg.session_ns);

	if (REPL_MUTATION == REPL_MUT_SESSION_NO_DRIFT)
		until = from + r->cfg.session_ns;

	if (until <= now)
		return;
	if (now >= r->sess_until)
		r->sess_gen++;	/* it had lapsed: a new session begins */
	if (until > r->sess_until)
		r->sess_until = until;
}

/* ---- log ------------------------------------------------------------- */

static void compact(struct repl *r)
{
	u64 upto = r->applied;

	if (upto < r->first)
		return;
	r->snap_term = term_at(r, upto);
	r->first = upto + 1;
}

bool repl_log_room(struct repl *r)
{
	if (r->last - r->first + 1 < r->cfg.log_cap)
		return true;
	compact(r);
	return r->last - r->first + 1 < r->cfg.log_cap;
}

/* ---- apply ------------------------------------------------------------ */

/* Commands a client asks for: each goes through the dedup table. */
static bool is_client_op(u8 op)
{
	switch (op) {
	case REPL_OP_ACQUIRE:
	case REPL_OP_RELEASE:
	case REPL_OP_RENEW:
	case REPL_OP_CANCEL:
	case REPL_OP_BREAK:
	case REPL_OP_SET_VALUE:
	case REPL_OP_CLIENT_END:
	case REPL_OP_BARRIER:
		return true;
	default:
		return false;
	}
}

static void apply_fresh(struct repl *r, const struct repl_cmd *c, u64 i,
			u64 now, struct repl_dedup *d, struct repl_result *res)
{
	r->ops->apply(r->sm, c, i,
		      repl_token(r->epoch, REPL_MUTATION == REPL_MUT_TOKEN_LOCAL ?
				 r->last : i), now, res);
	res->index = i;
	if (d) {
		d->req = c->req;
		d->res = *res;
	}
}

static void apply_one(struct repl *r, u64 i, u64 now)
{
	const struct repl_cmd *c = &ent_at(r, i)->cmd;
	struct repl_result res;
	struct repl_dedup *d;

	memset(&res, 0, sizeof(res));
	res.index = i;
	switch (c->op) {
	case REPL_OP_EPOCH:
		if (!r->epoch)
			r->epoch = c->arg;
		r->fresh = false;
		r->life_sent = 0;	/* a leader that takes commands: ask now */
		return;
	case REPL_OP_EXPIRE:
	case REPL_OP_SESSION_END:
		r->ops->apply(r->sm, c, i, repl_token(r->epoch, i), now, &res);
		return;
	case REPL_OP_NODE_START:
		repl_apply_node_start(r, c, i, now);
		return;
	default:
		break;
	}
	if (!is_client_op(c->op))
		return;
	d = repl_dedup_find(r, c->node, c->client);
	if (REPL_MUTATION == REPL_MUT_DEDUP_BY_REQ) {
		u32 k;

		for (k = 0; k < r->nr_dedup; k++)
			if (r->dedup[k].req == c->req)
				d = &r->dedup[k];
	}
	/* planted bug: the retransmission test off by one (the next id) */
	if (d && (c->req == d->req ||
		  (REPL_MUTATION == REPL_MUT_DEDUP_NEWER_CACHED &&
		   c->req == d->req + 1))) {
		res = d->res;		/* retransmission: same answer */
	} else if (d && c->req < d->req) {
		res.status = -ESTALE;	/* older than one already done */
	} else if (!r->epoch) {
		res.status = -EAGAIN;	/* cannot happen: EPOCH comes first */
	} else {
		if (!d)		/* not run if forgotten, or no room */
			res.status = repl_dedup_admit(r, c, &d, &res);
		if (!res.status)
			apply_fresh(r, c, i, now, d, &res);
	}
	if (d)
		d->used = i;
	if (c->node == r->cfg.self && r->env.reply)
		r->env.reply(r->env.ctx, c, &res);
}

/*
 * The time the state machine's local deadlines count from.  A leader's is
 * its own clock: it applies first and decides expiry.  A follower's is a
 * time the leader applied the entry after, so that a lease's countdown here
 * ends before the leader's does: what the holder's node tells its holder
 * (table_sm_overdue()) comes before the leader may grant the lock elsewhere.
 */
u64 repl_apply_time(const struct repl *r, u64 now)
{
	if (r->role == REPL_LEADER || REPL_MUTATION == REPL_MUT_APPLY_NOW)
		return now;
	return min(r->apply_floor, now);
}

/*
 * A leader's APPEND or SNAP echoes our @t_echo (sent only while its quorum
 * is fresh, so no other leader applies anything meanwhile) and says its
 * commit was @commit when it left, after @t_echo reached it: every entry
 * above @commit is applied by a leader after @t_echo.  Once we applied up to
 * @commit, that bounds every entry we apply later.
 */
void repl_apply_floor(struct repl *r, u64 commit, u64 t_echo)
{
	/* planted bug: an echo bounds entries its leader applied before it */
	if (REPL_MUTATION == REPL_MUT_FLOOR_ANY_ECHO)
		commit = 0;
	if (t_echo && commit <= r->applied && t_echo > r->apply_floor)
		r->apply_floor = t_echo;
}

void repl_apply_committed(struct repl *r, u64 now)
{
	u64 at = repl_apply_time(r, now);

	while (r->applied < r->commit && r->applied < r->last) {
		r->applied++;
		if (r->applied >= r->first)
			apply_one(r, r->applied, at);
	}
	if (r->last - r->first + 1 > r->cfg.log_cap / 4 * 3)
		compact(r);
	/* a snapshot in reception that the log overtook is of no use */
	if (r->rx && r->rx_index <= r->commit)
		repl_rx_drop(r);
	if (r->catching_up && r->commit >= r->catchup_target) {
		r->catching_up = false;
		repl_elect_reset(r, now);
	}
}

/*
 * A client command as it goes into the log: the core owns node (set by the
 * caller), hold and arg.  ttl 0 is a session-bound lease, for ACQUIRE only:
 * a RENEW must name a length.  Other commands carry no lease length.
 */
int repl_check_cmd(struct repl *r, struct repl_cmd *c)
{
	if (!is_client_op(c->op) || c->flags || c->len > REPL_DATA_MAX ||
	    c->node >= r->cfg.nr_nodes)
		return -EINVAL;
	c->hold = 0;
	if (c->op == REPL_OP_ACQUIRE || c->op == REPL_OP_RENEW) {
		if ((c->ttl > r->cfg.max_ttl_ns &&
		     REPL_MUTATION != REPL_MUT_TTL_NO_CAP) ||
		    (!c->ttl && c->op == REPL_OP_RENEW))
			return -EINVAL;
		if (c->ttl)
			c->hold = repl_hold(r->cfg.drift_ppm, c->ttl);
		if (c->ttl && REPL_MUTATION == REPL_MUT_HOLD_NO_DRIFT)
			c->hold = c->ttl;
		if (c->ttl && REPL_MUTATION == REPL_MUT_HOLD_SHORT)
			c->hold -= 4000000;
	} else {
		c->ttl = 0;
	}
	c->arg = 0;
	return 0;
}

/*
 * Tells the follower that sent @c that it was not taken for now, so that its
 * client hears why instead of waiting out its answer window: the header
 * only (client, request id), the reason in index.
 */
static void refuse_forward(struct repl *r, u16 to, const struct repl_cmd *c,
			   int err)
{
	struct repl_msg *m;

	if (REPL_MUTATION == REPL_MUT_FORWARD_UNREFUSED)
		return;		/* planted bug: the follower hears nothing */
	m = repl_msg_new(r, REPL_MSG_FORWARD, to);
	m->flags = REPL_F_REFUSED;
	m->index = err == -EBUSY ? REPL_REFUSE_FULL : REPL_REFUSE_LATER;
	m->n_ent = 1;
	m->ent[0].term = r->term;
	memcpy(&m->ent[0].cmd, c, offsetof(struct repl_cmd, data));
	m->ent[0].cmd.len = 0;
	msg_send(r);
}

static void on_refused(struct repl *r, const struct repl_msg *in)
{
	const struct repl_cmd *c = &in->ent[0].cmd;

	if (r->role != REPL_FOLLOWER || in->from != r->leader ||
	    in->term != r->term || c->node != r->cfg.self || !r->env.refused)
		return;
	r->env.refused(r->env.ctx, c,
		       in->index == REPL_REFUSE_FULL ? -EBUSY : -EAGAIN);
}

static void on_forward(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_cmd *c = &r->tmp;
	int err;

	if (in->n_ent != 1 || in->ent[0].cmd.len > REPL_DATA_MAX)
		return;
	if (in->flags & REPL_F_REFUSED) {
		on_refused(r, in);
		return;
	}
	if (r->role != REPL_LEADER || in->term != r->term)
		return;
	if (in->ent[0].cmd.op == REPL_OP_NODE_START) {
		repl_on_node_start(r, in, now);
		return;
	}
	cmd_copy(c, &in->ent[0].cmd);
	if (repl_check_cmd(r, c))
		return;
	err = repl_propose(r, c, now);
	if (err == -EAGAIN || err == -EBUSY)
		refuse_forward(r, in->from, c, err);
}

static void receive(struct repl *r, const struct repl_msg *m, u64 now)
{
	struct repl_peer *p;

	if (m->to != r->cfg.self || m->from >= r->cfg.nr_nodes ||
	    m->from == r->cfg.self || m->type >= REPL_MSG__MAX)
		return;
	/* addressed to an earlier life of ours, or from an earlier life */
	if (m->to_inc && m->to_inc != r->cfg.incarnation)
		return;
	p = &r->peer[m->from];
	if (m->from_inc < p->inc)
		return;
	if (m->from_inc > p->inc) {
		/* the peer rebooted: whatever it had acked is gone */
		p->inc = m->from_inc;
		p->match = 0;
		p->next = r->last + 1;
		p->recovering = true;
		p->echo = 0;
		p->acked_lt = 0;
		p->snap_acked = 0;
		p->snap_sent = 0;
	}
	if (m->type == REPL_MSG_RECOVER_REQ) {
		repl_on_recover_req(r, m);
		return;
	}
	if (m->type == REPL_MSG_RECOVER_RESP) {
		repl_on_recover_resp(r, m, now);
		return;
	}
	if (r->role == REPL_RECOVERING)
		return;
	switch (m->type) {
	case REPL_MSG_VOTE_REQ:
		repl_on_vote_req(r, m, now);
		break;
	case REPL_MSG_VOTE_RESP:
		if (m->term > r->term)
			repl_become_follower(r, m->term, now);
		else
			repl_on_vote_resp(r, m, now);
		break;
	case REPL_MSG_APPEND:
		repl_on_append(r, m, now);
		break;
	case REPL_MSG_SNAP:
		repl_on_snap(r, m, now);
		break;
	case REPL_MSG_APPEND_RESP:
		if (m->term > r->term)
			repl_become_follower(r, m->term, now);
		else
			repl_on_append_resp(r, m, now);
		break;
	case REPL_MSG_SNAP_RESP:
		if (m->term > r->term)
			repl_become_follower(r, m->term, now);
		else
			repl_on_snap_resp(r, m, now);
		break;
	case REPL_MSG_FORWARD:
		on_forward(r, m, now);
		break;
	default:
		break;
	}
}

/* ---- client requests --------------------------------------------------- */

static int request(struct repl *r, const struct repl_cmd *cmd, u64 now)
{
	struct repl_cmd *c = &r->tmp;
	struct repl_msg *m;
	int err;

	if (cmd->len > REPL_DATA_MAX)
		return -EINVAL;
	cmd_copy(c, cmd);
	c->node = r->cfg.self;
	err = repl_check_cmd(r, c);
	if (err)
		return err;
	if (!repl_life_started(r))
		return -EAGAIN;	/* our earlier lives are not ended yet */
	if (r->role == REPL_LEADER)
		return repl_propose(r, c, now);
	if (REPL_MUTATION == REPL_MUT_GRANT_ON_FOLLOWER &&
	    r->role == REPL_FOLLOWER && c->op == REPL_OP_ACQUIRE && r->epoch) {
		/* planted bug: answer from the local table, no log */
		struct repl_result res;

		memset(&res, 0, sizeof(res));
		r->ops->apply(r->sm, c, r->last + 1,
			      repl_token(r->epoch, r->last + 1), now, &res);
		res.index = r->last + 1;
		r->env.reply(r->env.ctx, c, &res);
		return 0;
	}
	if (r->role != REPL_FOLLOWER || r->leader == REPL_NONE)
		return -EAGAIN;
	m = repl_msg_new(r, REPL_MSG_FORWARD, r->leader);
	m->n_ent = 1;
	m->ent[0].term = r->term;
	cmd_copy(&m->ent[0].cmd, c);
	msg_send(r);
	return 0;
}

/* ---- timers ------------------------------------------------------------- */

static void leader_tick(struct repl *r, u64 now)
{
	struct repl_cmd *c = &r->tmp;
	u16 i;
	u64 qt = repl_quorum_time(r, now);

	if (now > qt + r->cfg.elect_min_ns) {
		/* lost touch with a majority: step down (see sessions) */
		repl_become_follower(r, r->term, now);
		return;
	}
	repl_sess_extend(r, qt, now);
	if (!r->epoch_sent) {
		repl_maybe_send_epoch(r, now);
		repl_send_node_start(r, now);	/* right behind it */
		if (r->epoch_sent)
			repl_broadcast_append(r, now);
		else if (now >= r->hb_at)
			repl_broadcast_append(r, now);
		return;
	}
	/* leases whose hold ran out on our clock, once our countdowns rule */
	while (r->leases_restarted) {
		/* next_expired() puts off what it returns: only if it fits */
		if (!repl_propose_room(r))
			break;
		memset(c, 0, offsetof(struct repl_cmd, data));
		if (!r->ops->next_expired(r->sm, now, c))
			break;
		/* planted bug: only our own clients' leases expire */
		if (REPL_MUTATION == REPL_MUT_DEAD_LEASES &&
		    c->node != r->cfg.self)
			continue;
		c->op = REPL_OP_EXPIRE;
		c->flags = 0;
		c->arg = 0;
		/* an EXPIRE the codec would refuse would stall every follower */
		DL_ASSERT(c->len <= REPL_DATA_MAX && c->node < r->cfg.nr_nodes);
		if (c->len > REPL_DATA_MAX || c->node >= r->cfg.nr_nodes)
			break;
		repl_propose(r, c, now);
	}
	/* node sessions */
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		struct repl_peer *p = &r->peer[i];

		if (i == r->cfg.self || p->sess_ended ||
		    now < p->last_heard + r->cfg.session_ns)
			continue;
		memset(c, 0, offsetof(struct repl_cmd, data));
		c->op = REPL_OP_SESSION_END;
		c->node = i;
		c->arg = r->last;
		if (repl_propose(r, c, now) == 0)
			p->sess_ended = true;
	}
	if (now >= r->hb_at)
		repl_broadcast_append(r, now);
	/* the snapshot buffer goes once no peer needs it */
	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self && r->peer[i].next < r->first)
			break;
	if (i == r->cfg.nr_nodes)
		repl_tx_drop(r);
}

static void tick(struct repl *r, u64 now)
{
	repl_send_node_start(r, now);
	switch (r->role) {
	case REPL_RECOVERING:
		if (now >= r->rec_at)
			repl_recover_round(r, now);
		break;
	case REPL_LEADER:
		leader_tick(r, now);
		break;
	default:
		if (r->catching_up) {
			if (now >= r->catchup_until) {
				/* the target never committed: ask again */
				r->role = REPL_RECOVERING;
				r->catching_up = false;
				repl_wipe_log(r);
				repl_recover_round(r, now);
			}
			break;
		}
		if (now >= r->elect_at)
			repl_start_election(r, now);
		break;
	}
}

/* ---- invariants ----------------------------------------------------------- */

/* What may never move back while the log lives (a wipe starts a new life). */
struct repl_mark {
	u64 term;
	u64 commit;
	u64 applied;
	u32 wipes;
};

static void mark(const struct repl *r, struct repl_mark *m)
{
	m->term = r->term;
	m->commit = r->commit;
	m->applied = r->applied;
	m->wipes = r->wipes;
}

/* Checked after every entry point: a violation is a bug in this file. */
static void check(const struct repl *r, const struct repl_mark *m)
{
	DL_ASSERT(r->applied <= r->commit);
	DL_ASSERT(r->commit <= r->last);
	DL_ASSERT(r->first <= r->last + 1);
	DL_ASSERT(r->applied + 1 >= r->first);
	DL_ASSERT(r->role != REPL_LEADER ||
		  r->term % r->cfg.nr_nodes == r->cfg.self);
	/*
	 * A wipe forgets the term too: a node that goes back to recovery
	 * takes the term its recovery quorum knows, which may be below one it
	 * heard while catching up, when it could neither vote nor count.
	 */
	if (r->wipes == m->wipes) {
		DL_ASSERT(r->term >= m->term);
		DL_ASSERT(r->commit >= m->commit);
		DL_ASSERT(r->applied >= m->applied);
	}
}

void repl_receive(struct repl *r, const struct repl_msg *msg, u64 now)
{
	struct repl_mark m;

	mark(r, &m);
	receive(r, msg, now);
	check(r, &m);
}

int repl_request(struct repl *r, const struct repl_cmd *cmd, u64 now)
{
	struct repl_mark m;
	int err;

	mark(r, &m);
	err = request(r, cmd, now);
	check(r, &m);
	return err;
}

void repl_tick(struct repl *r, u64 now)
{
	struct repl_mark m;

	mark(r, &m);
	tick(r, now);
	check(r, &m);
}

static u64 role_timer(const struct repl *r)
{
	switch (r->role) {
	case REPL_RECOVERING:
		return r->rec_at;
	case REPL_LEADER:
		return r->hb_at;
	default:
		return r->catching_up ? r->catchup_until : r->elect_at;
	}
}

u64 repl_next_timer(const struct repl *r)
{
	u64 at = role_timer(r), life = repl_life_due(r);

	return life && r->role != REPL_RECOVERING ? min(at, life) : at;
}

/*
 * Every field is assigned (no memset first): callers poll this after every
 * event, and a string store of the whole struct cost more than the copy.
 */
void repl_status(const struct repl *r, struct repl_status *st)
{
	st->role = r->role;
	st->catching_up = r->catching_up;
	st->fresh = r->fresh;
	st->leader = r->leader;
	st->term = r->term;
	st->commit = r->commit;
	st->applied = r->applied;
	st->behind = r->role == REPL_FOLLOWER &&
		     (r->behind || r->applied < r->commit);
	st->first_index = r->first;
	st->last_index = r->last;
	st->epoch = r->epoch;
	st->grant_after = r->grant_after;
	st->sess_until = r->sess_until;
	st->sess_gen = r->sess_gen;
	st->started = repl_life_started(r);
	st->countdowns = r->role == REPL_LEADER && r->leases_restarted;
	st->snap_built = r->nr_built;
	st->snap_chunks = r->nr_chunks;
	st->snap_installed = r->nr_installed;
}

bool repl_peer_lag(const struct repl *r, u16 node, u64 *lag)
{
	if (r->role != REPL_LEADER || node >= r->cfg.nr_nodes ||
	    node == r->cfg.self)
		return false;
	*lag = r->last - min(r->peer[node].match, r->last);
	return true;
}

/* ---- life cycle ------------------------------------------------------- */

struct repl *repl_create(const struct repl_cfg *cfg, const struct repl_env *env,
			 const struct repl_sm_ops *ops, void *sm, u64 now)
{
	struct repl *r;

	if (!cfg->nr_nodes || cfg->nr_nodes > REPL_MAX_NODES ||
	    cfg->self >= cfg->nr_nodes || cfg->log_cap < 4 * REPL_MAX_BATCH ||
	    !cfg->max_clients || cfg->max_snap_bytes < SNAP_HDR ||
	    cfg->snap_chunk > WIRE_CHUNK_MAX ||
	    cfg->drift_ppm >= 100000 || !cfg->hb_ns ||
	    cfg->elect_min_ns <= cfg->hb_ns ||
	    cfg->elect_max_ns < cfg->elect_min_ns || !cfg->incarnation)
		return NULL;
	r = env->alloc(env->ctx, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->env = *env;
	r->ops = ops;
	r->sm = sm;
	r->ring = env->alloc(env->ctx, sizeof(*r->ring) * cfg->log_cap);
	r->dedup = env->alloc(env->ctx, sizeof(*r->dedup) * cfg->max_clients);
	r->chunk = cfg->snap_chunk ? cfg->snap_chunk : WIRE_CHUNK_MAX;
	r->out = env->alloc(env->ctx, sizeof(*r->out));
	if (!r->ring || !r->dedup || !r->out) {
		repl_destroy(r);
		return NULL;
	}
	r->rng = cfg->seed | 1;
	r->boot = now;
	r->leader = REPL_NONE;
	r->voted_for = REPL_NONE;
	repl_wipe_log(r);
	r->role = REPL_RECOVERING;
	if (ops->holder_view)
		ops->holder_view(sm, now);
	r->grant_after = now + repl_hold(cfg->drift_ppm, cfg->max_ttl_ns);
	if (REPL_MUTATION == REPL_MUT_SKIP_RECOVERY) {
		/* planted bug: rejoin with an empty log, voting at once */
		r->role = REPL_FOLLOWER;
		r->fresh = true;
		repl_elect_reset(r, now);
	} else if (cfg->nr_nodes == 1) {
		repl_recover_done(r, now, 0, true, REPL_NONE, 0);
	} else {
		/*
		 * Quarantine: say nothing until every message of our previous
		 * life is dead, so a vote we cast before we lost memory cannot
		 * be counted after we start voting again (protocol.md).
		 */
		r->rec_at = now + cfg->msg_life_ns;
	}
	return r;
}

void repl_destroy(struct repl *r)
{
	void *ctx = r->env.ctx;

	if (r->ring)
		r->env.free(ctx, r->ring);
	if (r->dedup)
		r->env.free(ctx, r->dedup);
	repl_tx_drop(r);
	repl_rx_drop(r);
	if (r->out)
		r->env.free(ctx, r->out);
	r->env.free(ctx, r);
}
