// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated clients: each talks through one node, sends a request,
 * retries it with the same request id, takes the answer, and keeps its
 * leases with the bound its own clock gives them (sim_int.h).
 */
#include "sim_int.h"

struct client *client_by_id(u32 id)
{
	int i;

	for (i = 0; i < S.nclients; i++)
		if (S.cl[i].alive && S.cl[i].id == id)
			return &S.cl[i];
	return NULL;
}

void node_session(int n, u32 *boot, u32 *gen, u64 *until)
{
	struct repl_status st;

	*boot = S.node[n].boot;
	*gen = ~0U;
	*until = 0;
	if (!S.node[n].up)
		return;
	repl_status(S.node[n].r, &st);
	*gen = st.sess_gen;
	*until = st.sess_until;
}

static u64 node_snaps(int n)
{
	struct repl_status st;

	if (!S.node[n].up)
		return ~0ULL;
	repl_status(S.node[n].r, &st);
	return st.snap_installed;
}

void sim_reply(void *ctx, const struct repl_cmd *cmd,
		      const struct repl_result *res)
{
	struct node *nd = ctx;
	int n = (int)(nd - S.node);
	struct client *c = client_by_id(cmd->client);
	struct lease *l;
	u32 boot, gen;
	u64 until, lt = local_of(n, S.now);
	bool same_sess;

	sim_check_answer(n, cmd, res);
	if (use_table && cmd->op == REPL_OP_CLIENT_END)
		tclient_end_answered(cmd);
	if (!c || c->node != n || !c->pending || c->cmd.req != cmd->req)
		return;
	trace(TR_REPLY, n, c->id, (u64)(s64)res->status, res->token);
	if (res->status == -EKEYEXPIRED && node_snaps(n) == c->send_snaps &&
	    S.node[n].boot == c->send_boot) {
		client_renumber(c, (u32)res->token);
		return;
	}
	if (res->status == -EKEYEXPIRED) {
		/*
		 * A snapshot installed since may have covered an earlier copy
		 * that ran (its answer never given here): in doubt, as the
		 * kernel's ETIMEDOUT; the next request renumbers.
		 */
		T.forgotten_doubt++;
		c->pending = false;
		push(S.now + rnd_range(1 * MS, 40 * MS), EV_CLIENT, n,
		     (u32)(c - S.cl), NULL, 0);
		if (use_table)
			tclient_gave_up(c);
		else
			c->lease[lm_cmd_lock(cmd)].uncertain = true;
		return;
	}
	if (res->status == -EUSERS)
		T.no_room++;
	c->pending = false;
	S.ops++;
	if (S.quiet) {
		u64 from = max(c->first_real, S.t_quiet);

		if (S.now - from > T.max_latency)
			T.max_latency = S.now - from;
		if (S.now - from > P_LIVE_BOUND)
			violate("liveness: client %u request %u took %.3fs after faults stopped",
				c->id, cmd->req, (S.now - from) / 1e9);
	}
	push(S.now + rnd_range(1 * MS, 40 * MS), EV_CLIENT, n, (u32)(c - S.cl),
	     NULL, 0);
	l = &c->lease[use_table ? (u32)c->lock : lm_cmd_lock(cmd)];
	node_session(n, &boot, &gen, &until);
	same_sess = boot == c->send_boot && gen == c->send_gen;
	if (l->held && !l->confirm && !lease_valid(c, l)) {
		l->held = false;
		lease_unsure(l, l->owner);
	}
	if (use_table) {
		tclient_reply(c, n, cmd, res, same_sess, boot, gen, until);
		return;
	}
	switch (cmd->op) {
	case REPL_OP_ACQUIRE:
		if (res->status)
			return;
		if (!l->uncertain && res->count != (l->held ? l->count + 1 : 1u))
			violate("client %u: ACQUIRE reentrancy count %u, expected %u",
				c->id, res->count, l->held ? l->count + 1 : 1u);
		if (!l->uncertain && l->held && l->token != res->token)
			violate("client %u: reentrant ACQUIRE changed the token",
				c->id);
		if (!l->held)
			l->valid_local = 0;
		l->held = true;
		l->uncertain = false;
		l->released = false;
		l->mode = lm_cmd_mode(cmd);
		l->count = res->count;
		l->token = res->token;
		l->index = res->index;
		l->world = S.world;
		if (same_sess) {
			l->valid_local = max(l->valid_local,
					     c->first_local + cmd->ttl);
			l->sboot = boot;
			l->sgen = gen;
			l->sess_until = until;
		} else {
			l->valid_local = 0;	/* session lapsed meanwhile */
		}
		break;
	case REPL_OP_RENEW:
		if (!l->held)
			return;
		if (res->status) {
			l->held = false;
			return;
		}
		l->index = res->index;
		if (same_sess) {
			l->valid_local = max(l->valid_local,
					     c->first_local + cmd->ttl);
			if (l->sgen != gen || l->sboot != boot) {
				/* rebinding to a new session: only this renewal counts */
				l->valid_local = c->first_local + cmd->ttl;
			}
			l->sboot = boot;
			l->sgen = gen;
			l->sess_until = until;
		}
		break;
	default:
		break;
	}
	(void)lt;
}

void client_new(int i)
{
	struct client *c = &S.cl[i];

	memset(c, 0, sizeof(*c));
	c->alive = true;
	c->id = ++S.next_client_id;
	c->one_owner = !(c->id % 2);
	c->node = (int)(rnd() % S.n);
	push(S.now + rnd_range(1 * MS, 50 * MS), EV_CLIENT, c->node, (u32)i,
	     NULL, 0);
}

static void client_send(struct client *c);

/*
 * The idempotence table forgot this client (it held and waited for nothing
 * then, and nothing it sent since was run): as the kernel does, it takes a
 * new id above its node's floor @gone and sends the same command again,
 * which is as new to the table as it is to the client.
 */
void client_renumber(struct client *c, u32 gone)
{
	u32 old = c->id;
	int k, o;

	T.forgotten++;
	if (gone > S.next_client_id)
		violate("client %u: floor %u above every client id given (%u)",
			old, gone, S.next_client_id);
	c->id = ++S.next_client_id;
	for (k = 0; k < NLOCKS_MAX; k++)
		for (o = 0; o < NOWNERS; o++)
			if (S.own[k][o].busy == old)
				S.own[k][o].busy = c->id;
	c->cmd.client = c->id;
	c->cmd.req = ++c->next_req;
	c->tries = 0;
	c->pending = true;
	client_send(c);
	push(c->timeout, EV_CLIENT, c->node, (u32)(c - S.cl), NULL, 0);
}

static void client_send(struct client *c)
{
	int n = c->node;
	int err = -EAGAIN;

	c->tries++;
	c->timeout = S.now + 150 * MS;
	/* the session of the first attempt: a cached answer may date from it */
	if (c->tries == 1) {
		node_session(n, &c->send_boot, &c->send_gen, &(u64){0});
		c->send_snaps = node_snaps(n);
	}
	trace(TR_REQ, n, c->id, (u64)c->cmd.op << 32 |
	      (use_table ? (u32)c->lock : lm_cmd_lock(&c->cmd)), c->cmd.req);
	if (S.node[n].up) {
		S.cur_node = n;
		err = repl_request(S.node[n].r, &c->cmd, local_of(n, S.now));
		node_sched_tick(n);
		if (c->cmd.ttl > P_MAX_TTL && err != -EINVAL)
			violate("n%d took a TTL of %llu ms, above the cap of %llu ms (%d)",
				n, (unsigned long long)(c->cmd.ttl / MS),
				(unsigned long long)(P_MAX_TTL / MS), err);
		if (c->cmd.ttl <= P_MAX_TTL && err == -EINVAL)
			violate("n%d refused a valid request (-EINVAL)", n);
		if (err == -EINVAL) {
			T.refused_ttl++;
			c->pending = false;	/* the answer is the refusal */
		}
	}
	if (err)
		c->timeout = S.now + 20 * MS;	/* rejected at once: retry soon */
}

/*
 * -T: the crashed client's socket closes on its node, which proposes
 * CLIENT_END until it commits (or the node goes down: its session ends).
 */
void client_close(struct client *c)
{
	if (use_table)
		tclient_end(c);
}

void client_step(int i)
{
	struct client *c = &S.cl[i];
	u64 lt = local_of(c->node, S.now);
	int k;

	if (!c->alive)
		return;
	if (c->pending) {
		if (S.now < c->timeout)
			return;
		if (!S.quiet && c->tries >= 8) {
			c->pending = false;	/* client gives up (timeout) */
			if (use_table)
				tclient_gave_up(c);
			else
				c->lease[lm_cmd_lock(&c->cmd)].uncertain = true;
		} else {
			client_send(c);
			push(c->timeout, EV_CLIENT, c->node, (u32)i, NULL, 0);
			return;
		}
	}
	for (k = 0; k < S.nlocks; k++) {
		struct lease *l = &c->lease[k];

		/* a lease past its end is gone, as far as the client knows */
		if (l->held && !l->confirm && !lease_valid(c, l)) {
			l->held = false;
			lease_unsure(l, l->owner);
		}
	}
	memset(&c->cmd, 0, sizeof(c->cmd));
	if (use_table) {
		u32 id = c->id;

		if (!tclient_pick(c, i)) {
			if (c->id == id)	/* else a new client took its place */
				push(S.now + rnd_range(5 * MS, 60 * MS),
				     EV_CLIENT, c->node, (u32)i, NULL, 0);
			return;
		}
		goto send;
	}
	if (S.quiet && c->quiet_ops++ >= 3)
		return;		/* enough to show progress after faults */
	/* renew a lease that is getting old */
	for (k = 0; k < S.nlocks; k++) {
		struct lease *l = &c->lease[k];

		if (l->held && l->valid_local && lt + P_MAX_TTL / 3 > l->valid_local) {
			c->cmd.op = REPL_OP_RENEW;
			lm_cmd_set(&c->cmd, k, l->mode);
			c->cmd.ttl = rnd_range(P_MAX_TTL / 3, P_MAX_TTL);
			break;
		}
	}
	if (!c->cmd.op) {
		u32 r = rnd() % 100;

		k = (int)(rnd() % S.nlocks);
		if (c->lease[k].held && r < 50) {
			c->cmd.op = REPL_OP_RELEASE;
			lm_cmd_set(&c->cmd, k, c->lease[k].mode);
		} else if (r < 90) {
			c->cmd.op = REPL_OP_ACQUIRE;
			lm_cmd_set(&c->cmd, k, c->lease[k].held ?
				   c->lease[k].mode :
				   (rnd() % 3 == 0 ? LM_MODE_SHARED :
				    LM_MODE_EXCL));
			c->cmd.ttl = rnd_range(P_MAX_TTL / 4, P_MAX_TTL);
		}
	}
send:
	/* inputs beyond the limits: a TTL above the cap must be refused */
	if ((c->cmd.op == REPL_OP_ACQUIRE || c->cmd.op == REPL_OP_RENEW) &&
	    S.p.over_cap && chance(30))
		c->cmd.ttl = P_MAX_TTL + rnd_range(1, P_MAX_TTL);
	if (!c->cmd.op) {
		push(S.now + rnd_range(5 * MS, 60 * MS), EV_CLIENT, c->node,
		     (u32)i, NULL, 0);
		return;
	}
	if (c->cmd.op == REPL_OP_RELEASE && !use_table) {
		/* the lease is given up the moment the release is sent */
		struct lease *l = &c->lease[lm_cmd_lock(&c->cmd)];

		if (--l->count == 0) {
			l->held = false;
			l->released = true;
		}
	}
	c->cmd.client = c->id;
	c->cmd.req = ++c->next_req;
	c->pending = true;
	c->tries = 0;
	c->first_real = S.now;
	c->first_local = lt;
	client_send(c);
	push(c->timeout, EV_CLIENT, c->node, (u32)i, NULL, 0);
}

bool lease_valid(struct client *c, struct lease *l)
{
	struct node *nd = &S.node[c->node];
	u64 lt;

	if (!l->held || !l->valid_local)
		return false;
	if (nd->up && nd->boot == l->sboot) {
		u32 gen;
		u64 until;

		ck_peek_session(nd->r, &gen, &until);
		if (gen == l->sgen)
			l->sess_until = until;
	}
	lt = local_of(c->node, S.now);
	return lt < l->valid_local && lt < l->sess_until;
}
