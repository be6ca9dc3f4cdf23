// SPDX-License-Identifier: GPL-2.0
/*
 * sim -T: clients that use every feature of the lock table (sim_int.h):
 * try and blocking acquires (the grant or timeout comes later through the
 * table's wait_done), wait timeouts, cancel of a queued wait, semaphores,
 * shared locks, reentrancy and release levels, values, detached owners
 * shared by several clients (one may release what another acquired),
 * break, session-bound leases without TTL, and socket close (CLIENT_END).
 *
 * What a client counts as valid (check_table.c checks mutual exclusion
 * over it): a lease granted in answer to its own request, from the time it
 * first sent it plus its TTL (no TTL: as long as its node's session), as
 * before; a lease granted from the queue only once a reentrant acquire it
 * sent after the grant answered, with the token it names (it cannot know
 * when the leader started counting the grant, nor, from the grant alone,
 * that the lease is still the owner's).  Half the clients use one
 * session-bound owner for every lock, so their waits may close a cycle in
 * the wait-for graph (-EDEADLK, checked against the specification's walk).
 */
#include "sim_int.h"

#ifndef TABLE_SM_MUTATION
#define TABLE_SM_MUTATION 0
#endif

#define NO_END		(~0ULL >> 2)	/* a lease without TTL: its session */

void tclient_setup(void)
{
	int k;

	for (k = 0; k < S.nlocks; k++)
		S.permits[k] = chance(350) ? (u32)rnd_range(1, 3) : 0;
}

static u32 lock_body(struct tsm_body *b, char *name, u32 k)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->name_len = ts_lock_name(name, k);
	return b->name_len;
}

/* The tag of client @c's session-bound owner on lock @k. */
static u64 tag_of(const struct client *c, u32 k)
{
	return c->one_owner ? 1 : k + 1;
}

/*
 * Owner j + 1 of lock k: the detached owner string of its generation;
 * owner 0: client @c's session-bound owner.
 */
static void set_owner(struct tsm_body *b, char *buf, const struct client *c,
		      u32 k, u8 owner)
{
	b->uid = 1000;
	if (owner) {
		b->owner = buf;
		b->owner_len = (u32)snprintf(buf, 24, "own%u.%u.%u", k,
					     owner - 1u,
					     S.own[k][owner - 1].gen);
	} else {
		b->tag = tag_of(c, k);
	}
}

static struct downer *downer_of(u32 k, u8 owner)
{
	return owner ? &S.own[k][owner - 1] : NULL;
}

/* Whether client @c may send a request as owner @owner now. */
static bool owner_free(struct client *c, u32 k, u8 owner)
{
	struct downer *o = downer_of(k, owner);

	return !o || !o->busy || o->busy == c->id;
}

/* The clients of a detached owner hold one lease: it ends for all of them. */
static void owner_ended(u32 k, u8 owner)
{
	int i;

	S.own[k][owner - 1].count = 0;
	for (i = 0; i < S.nclients; i++) {
		struct lease *l = &S.cl[i].lease[k];

		if (l->held && l->owner == owner) {
			l->held = false;
			l->released = true;
		}
	}
}

void lease_bind(struct client *c, struct lease *l, u64 ttl, bool same_sess,
		u32 boot, u32 gen, u64 until)
{
	u64 end = l->no_ttl ? NO_END : c->first_local + ttl;

	if (!same_sess)
		return;
	if (l->sgen != gen || l->sboot != boot)
		l->valid_local = 0;	/* a new session: only this answer counts */
	l->valid_local = max(l->valid_local, end);
	l->sboot = boot;
	l->sgen = gen;
	l->sess_until = until;
}

/* Ask for a command on lock @k; the body is the table's. */
static void send_cmd(struct client *c, u8 op, u32 k, u8 owner,
		     struct tsm_body *b, u64 ttl)
{
	u32 req = c->next_req + 1;

	/*
	 * A client's waits on one lock reuse one cookie, as a library that
	 * names the wait by its lock would: a stale timeout of an earlier
	 * wait must not end a later one (the stamp tells them apart).
	 */
	if (op == REPL_OP_ACQUIRE)
		b->cookie = k + 1;
	(void)req;
	if (tsm_encode(&c->cmd, op, 0, c->id, req, b)) {
		violate("client %u: a body the codec refuses", c->id);
		return;
	}
	c->cmd.ttl = ttl;
	c->lock = (int)k;
	T.top[op]++;
	c->owner = owner;
	if (owner)
		downer_of(k, owner)->busy = c->id;
}

static u64 pick_ttl(void)
{
	return rnd_range(P_MAX_TTL / 4, P_MAX_TTL);
}

/*
 * ACQUIRE on lock @k: a new lease (@reent false: owner, TTL, mode picked
 * here), the same owner again (@reent), or the same owner in the other
 * mode (@flip: -EDEADLK while it holds the lock).
 */
static void pick_acquire(struct client *c, u32 k, struct lease *l, bool reent,
			 bool flip)
{
	struct tsm_body b;
	char name[16], own[24];
	u64 ttl;

	lock_body(&b, name, k);
	if (!reent) {
		l->owner = chance(200) ? (u8)rnd_range(1, NOWNERS) : 0;
		if (!owner_free(c, k, l->owner))
			l->owner = 0;
		l->no_ttl = !l->owner && chance(150);
		if (S.permits[k])
			l->mode = DL_MODE_SEMAPHORE;
		else
			l->mode = rnd() % 3 == 0 ? DL_MODE_SHARED :
				  DL_MODE_EXCLUSIVE;
	}
	set_owner(&b, own, c, k, l->owner);
	b.mode = l->mode;
	b.permits = l->mode == DL_MODE_SEMAPHORE ? l->permits : 0;
	if (!reent && l->mode == DL_MODE_SEMAPHORE)
		b.permits = S.permits[k];
	if (flip && b.mode != DL_MODE_SEMAPHORE)
		b.mode = b.mode == DL_MODE_SHARED ? DL_MODE_EXCLUSIVE :
			 DL_MODE_SHARED;
	else if (!reent && chance(20)) {	/* the wrong kind: -EINVAL while the lock lives */
		b.mode = b.permits ? DL_MODE_EXCLUSIVE : DL_MODE_SEMAPHORE;
		b.permits = b.permits ? 0 : 2;
	}
	if (l->owner)
		b.flags |= DL_ACQ_DETACHED;
	ttl = l->no_ttl ? 0 : pick_ttl();
	if (l->no_ttl)
		b.flags |= DL_ACQ_NO_TTL;
	/* a detached owner's grant comes in the answer: no queued hand-off */
	if (reent || l->owner || chance(400)) {
		b.flags |= DL_ACQ_TRY;
		T.try_acq++;
	} else {
		b.wait_ms = (u32)rnd_range(30, 600);
		T.wait_acq++;
	}
	T.reentrant += reent;
	T.sem_acq += b.mode == DL_MODE_SEMAPHORE;
	T.shared_acq += b.mode == DL_MODE_SHARED;
	T.detached_acq += l->owner != 0;
	T.nottl_acq += l->no_ttl;
	send_cmd(c, REPL_OP_ACQUIRE, k, l->owner, &b, ttl);
}

/* RELEASE by owner @owner of lock @k; given up at once, as the client sees it. */
static void pick_release(struct client *c, u32 k, u8 owner)
{
	struct lease *l = &c->lease[k];
	struct tsm_body b;
	char name[16], own[24];

	lock_body(&b, name, k);
	set_owner(&b, own, c, k, owner);
	send_cmd(c, REPL_OP_RELEASE, k, owner, &b, 0);
	if (owner) {
		struct downer *o = &S.own[k][owner - 1];

		if (o->count && !--o->count)
			owner_ended(k, owner);
		if (l->held && l->owner == owner && l->count > 1)
			l->count--;
		return;
	}
	if (l->held && l->owner == 0 && --l->count == 0) {
		l->held = false;
		l->released = true;
	}
}

static void pick_value(struct client *c, u32 k, u8 owner)
{
	struct tsm_body b;
	char name[16], own[24];
	u8 val[24];
	u32 i;

	lock_body(&b, name, k);
	set_owner(&b, own, c, k, owner);
	b.value_len = (u32)rnd_range(0, sizeof(val));
	for (i = 0; i < b.value_len; i++)
		val[i] = (u8)rnd();
	b.value = val;
	send_cmd(c, REPL_OP_SET_VALUE, k, owner, &b, 0);
}

static void pick_break(struct client *c, u32 k, u64 token)
{
	struct tsm_body b;
	char name[16];

	lock_body(&b, name, k);
	b.token = token;
	b.privileged = !chance(100);	/* else -EPERM */
	b.uid = 1000;
	send_cmd(c, REPL_OP_BREAK, k, 0, &b, 0);
}

static void pick_renew(struct client *c, u32 k)
{
	struct lease *l = &c->lease[k];
	struct tsm_body b;
	char name[16], own[24];

	lock_body(&b, name, k);
	set_owner(&b, own, c, k, l->owner);
	send_cmd(c, REPL_OP_RENEW, k, l->owner, &b, pick_ttl());
}

static void pick_cancel(struct client *c, u32 k)
{
	struct lease *l = &c->lease[k];
	struct tsm_body b;
	char name[16];

	lock_body(&b, name, k);
	b.cookie = l->cookie;
	l->cancel_sent = true;
	send_cmd(c, REPL_OP_CANCEL, k, 0, &b, 0);
}

/*
 * A session-bound lease without TTL that the client no longer knows the
 * fate of stays until its session ends: the client closes its socket
 * (CLIENT_END) and connects again, as a new client.
 */
static bool must_reconnect(struct client *c)
{
	int k;

	for (k = 0; k < S.nlocks; k++)
		if (c->lease[k].no_ttl && c->lease[k].uncertain)
			return true;
	return false;
}

/*
 * Whether the node owes the client an answer to its wait: it is known
 * queued (its QUEUED answer came) in this world.  Such a wait must end
 * (grant, timeout, or the answer to its cancel) within its timeout plus
 * the liveness bound once the faults stopped, even across a node's crash
 * or a snapshot its node installs past the entry that answered it.
 */
static bool wait_owed(const struct lease *l)
{
	return l->wait_quiet || (l->queued_seen && l->wait_world == S.world);
}

/* When @l's wait must have been answered by (real time). */
static u64 wait_due(const struct lease *l)
{
	return max(l->wait_since, S.t_quiet) + l->wait_ms * MS + P_LIVE_BOUND;
}

/* -T: the client's next command; false: none now. */
bool tclient_pick(struct client *c, int i)
{
	u64 lt = local_of(c->node, S.now);
	struct lease *l;
	u32 r, k;

	if (must_reconnect(c)) {
		T.reconnects++;
		tclient_end(c);
		client_new(i);
		return false;
	}
	for (k = 0; k < (u32)S.nlocks; k++) {
		l = &c->lease[k];
		/*
		 * A wait not answered in time is cancelled if the client
		 * cannot know it is queued (its request was given up) or
		 * it was queued in an earlier world (a whole-cluster
		 * restart ended it unseen); any other must be answered.
		 */
		if (l->waiting && !l->cancel_sent &&
		    (lt >= l->cancel_at ||
		     (lt >= l->giveup_at && !wait_owed(l)))) {
			pick_cancel(c, k);
			return true;
		}
		if (!owner_free(c, k, l->owner))
			continue;
		if (l->held && l->confirm) {
			/* the answer names the lease the owner holds now */
			pick_acquire(c, k, l, true, false);
			return true;
		}
		if (l->held && !l->no_ttl && l->valid_local &&
		    lt + P_MAX_TTL / 3 > l->valid_local) {
			pick_renew(c, k);
			return true;
		}
	}
	if (S.quiet && c->quiet_ops++ >= 3)
		return false;	/* enough to show progress after faults */
	for (k = 0; k < (u32)S.nlocks; k++) {
		l = &c->lease[k];
		if (l->requeue && !l->held && !l->waiting) {
			/* queue again at once, with the same cookie */
			l->requeue = false;
			pick_acquire(c, k, l, false, false);
			return true;
		}
	}
	k = (u32)(rnd() % S.nlocks);
	l = &c->lease[k];
	if (l->waiting)
		return false;
	r = rnd() % 100;
	if (l->held) {
		if (!owner_free(c, k, l->owner))
			return false;
		if (r < 30)
			pick_release(c, k, l->owner);
		else if (r < 45)
			pick_acquire(c, k, l, true, false);
		else if (r < 60)
			pick_value(c, k, l->owner);
		else if (r < 63)
			pick_break(c, k, chance(500) ? l->token : 0);
		else if (r < 65)
			pick_acquire(c, k, l, true, true);
		else
			return false;
		return true;
	}
	if (r < 4) {
		pick_break(c, k, 0);
	} else if (r < 10) {
		/* another client's detached lease, released by this one */
		u8 j = (u8)rnd_range(1, NOWNERS);

		if (!S.own[k][j - 1].count || S.own[k][j - 1].busy)
			return false;
		pick_release(c, k, j);
	} else if (r < 12) {
		u8 j = (u8)rnd_range(0, NOWNERS);

		if (!owner_free(c, k, j))
			return false;
		pick_value(c, k, j);	/* not held by this client */
	} else if (r < 90) {
		pick_acquire(c, k, l, false, false);
	} else {
		return false;
	}
	return true;
}

static bool was_broken(u32 k, u64 token)
{
	u32 i;

	for (i = 0; i < min(S.nbrk[k], 64U); i++)
		if (S.brk[k][i] == token)
			return true;
	return false;
}

/*
 * Whether an answer of the entry at @index naming lease @token of lock @k
 * comes after a BREAK ended that lease: one that named it, or one of every
 * holder at a later index (told by the first node to apply it, when the
 * specification had stopped; the clients did not know of the lease yet).
 */
static bool broken_answer(u32 k, u64 token, u64 index)
{
	return was_broken(k, token) ||
	       (S.brk_all_world[k] == S.world && index < S.brk_all_at[k]);
}

static void granted(struct lease *l, u32 k, u64 token,
		    u32 count, u64 index)
{
	if (l->owner) {
		struct downer *o = &S.own[k][l->owner - 1];

		if (count == 1 || o->token != token) {
			/* a new lease of the owner: the old one is gone */
			if (o->count)
				owner_ended(k, l->owner);
			o->token = token;
			o->count = 1;
		} else {
			o->count++;
		}
		count = l->held && l->token == token ? l->count + 1 : 1;
	}
	if (!l->held || l->token != token)
		l->valid_local = 0;
	/*
	 * An answer that arrives after the BREAK applied elsewhere: the
	 * owner holds nothing now, whatever lease the client thought it
	 * had (a queued grant not confirmed yet, one a restart ended).
	 */
	if (broken_answer(k, token, index)) {
		if (l->owner && S.own[k][l->owner - 1].token == token)
			S.own[k][l->owner - 1].count = 0;
		l->held = false;
		l->confirm = false;
		return;
	}
	l->held = true;
	l->uncertain = false;
	l->unsure &= (u8)~(1u << l->owner);
	l->released = false;
	l->count = count;
	l->token = token;
	l->index = index;
	l->world = S.world;
}

static void wait_settle(struct client *c, int n, int k);

void tclient_reply(struct client *c, int n, const struct repl_cmd *cmd,
		   const struct repl_result *res, bool same_sess, u32 boot,
		   u32 gen, u64 until)
{
	u32 k = (u32)c->lock;
	struct lease *l = &c->lease[k];
	struct tsm_body b;
	bool knew, confirm;

	if (c->owner && downer_of(k, c->owner)->busy == c->id)
		downer_of(k, c->owner)->busy = 0;
	if (tsm_decode(cmd, &b))
		return;
	switch (cmd->op) {
	case REPL_OP_ACQUIRE:
		if (res->status == REPL_QUEUED || !res->status) {
			l->mode = b.mode;
			l->permits = b.permits;
		}
		if (res->status == REPL_QUEUED) {
			T.queued++;
			l->waiting = true;
			l->cancel_sent = false;
			l->cookie = b.cookie;
			l->wait_ms = b.wait_ms;
			l->wait_since = S.now;
			l->wait_quiet = S.quiet && c->first_real >= S.t_quiet;
			l->queued_seen = true;
			l->wait_world = S.world;
			l->wait_index = res->index;
			l->cancel_at = chance(250) ? c->first_local +
				rnd_range(5 * MS, b.wait_ms * MS) : ~0ULL;
			l->giveup_at = c->first_local + b.wait_ms * MS +
				       300 * MS;
			if (TABLE_SM_MUTATION != 12)	/* the stale QUEUED trusted */
				wait_settle(c, n, (int)k);
			return;
		}
		if (res->status) {
			if (l->confirm) {
				/* what the owner holds is not what it thought */
				l->held = l->confirm = false;
				lease_unsure(l, l->owner);
			}
			return;
		}
		confirm = l->confirm;
		/*
		 * A reentrant acquire on the lease the client knows counts
		 * exactly once (a retransmission never twice).  A fresh one
		 * may join a lease granted from the queue whose answer was
		 * lost with a node's state (section 9), so it is not held
		 * to a count.
		 */
		if (!l->owner && !(l->unsure & 1) && !confirm && l->held &&
		    l->token == res->token &&
		    !broken_answer(k, res->token, res->index) &&
		    res->count != l->count + 1)
			violate("client %u: ACQUIRE of lock %u (owner tag %u, token %llx) reentrancy count %u, expected %u (parameter set %d)",
				c->id, k, (u32)tag_of(c, k),
				(unsigned long long)res->token, res->count,
				l->count + 1, S.p.set);
		if (!l->owner && !(l->unsure & 1) && !confirm && l->held &&
		    l->token != res->token)
			violate("client %u: reentrant ACQUIRE changed the token",
				c->id);
		knew = l->held && l->token == res->token;
		granted(l, k, res->token, res->count, res->index);
		lease_bind(c, l, cmd->ttl, same_sess, boot, gen, until);
		l->confirm = !same_sess;
		if (res->count > 1 && !knew && l->no_ttl) {
			/*
			 * It joined a lease it did not know it had, which may
			 * have a TTL: how long it lasts is unknown.
			 */
			l->valid_local = 0;
			lease_unsure(l, l->owner);
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
		lease_bind(c, l, cmd->ttl, same_sess, boot, gen, until);
		break;
	case REPL_OP_CANCEL:
		if (!l->waiting || l->cookie != b.cookie)
			return;
		l->waiting = false;
		if (!res->status) {
			T.cancelled++;
			l->requeue = chance(500);
			return;
		}
		/* answered already, and the answer did not reach us */
		lease_unsure(l, 0);
		break;
	default:
		break;
	}
}

/* The table answered a queued acquire: on the client's node, to it. */
void tclient_wait_done(void *hctx, const struct ts_wd *w, u64 index)
{
	struct node *nd = hctx;
	int n = (int)(nd - S.node), k;
	struct client *c = client_by_id(w->client);

	if (!c || c->node != n || w->node != n || nd->world != S.world)
		return;
	for (k = 0; k < S.nlocks; k++) {
		struct lease *l = &c->lease[k];

		if (!l->waiting || l->cookie != w->cookie)
			continue;
		trace(TR_WDONE, n, c->id, (u64)(s64)w->status, w->token);
		l->waiting = false;
		if (S.quiet && wait_owed(l) && S.now > wait_due(l))
			violate("liveness: client %u's queued acquire (cookie %llu) answered %.3fs after it was queued",
				c->id, (unsigned long long)w->cookie,
				(S.now - l->wait_since) / 1e9);
		if (w->status) {
			T.timedout++;
			return;
		}
		T.granted++;
		granted(l, (u32)k, w->token, 1, index);
		l->confirm = true;	/* valid once a renewal answers */
		return;
	}
}

/*
 * Settles client @c's wait on lock @k from node @n's applied table when
 * the table no longer has it queued: its answer was never given here (a
 * snapshot covered the entry that gave it, or a SESSION_END of its node
 * ended it), or it was given before the
 * QUEUED answer the client just read (a retransmission answered from the
 * core's dedup table after the wait ended).  As kmod/cluster_req.c does.
 */
static void wait_settle(struct client *c, int n, int k)
{
	struct lease *l = &c->lease[k];
	struct ts_wd w = { (u16)n, c->id, l->cookie, 0, 0 };
	struct table_sm *tsm = S.node[n].ts.tsm;
	char name[16];
	int st;

	if (!l->waiting || !l->queued_seen)
		return;
	/*
	 * A node replaying its log after a crash applies an old SESSION_END
	 * of its own before the entry that queued this wait: the table cannot
	 * tell yet (the kernel's clients do not outlive their node's crash).
	 */
	if (table_sm_index(tsm) < l->wait_index)
		return;
	st = table_sm_wait_state(tsm, (u16)n, c->id, l->cookie, tag_of(c, (u32)k),
				 NULL, 0, name, ts_lock_name(name, (u32)k),
				 &w.token);
	if (st == 1)
		return;
	w.status = st ? -ETIMEDOUT : 0;
	T.wait_settled++;
	tclient_wait_done(&S.node[n], &w, table_sm_index(tsm));
}

/*
 * Node @hctx's table may have ended waits without answering them (a
 * snapshot replaced it, or a SESSION_END applied): settle its clients'.
 */
void tclient_unanswered(void *hctx)
{
	struct node *nd = hctx;
	int n = (int)(nd - S.node), i, k;

	for (i = 0; i < S.nclients; i++)
		if (S.cl[i].alive && S.cl[i].node == n)
			for (k = 0; k < S.nlocks; k++)
				wait_settle(&S.cl[i], n, k);
}

/*
 * A detached owner's request whose fate is unknown may still apply: the
 * owner string is retired, its lease no longer counted on by anyone.
 */
void tclient_owner_retire(struct client *c)
{
	struct downer *o;

	if (!c->pending && !c->owner)
		return;
	o = downer_of((u32)c->lock, c->owner);
	if (!o || o->busy != c->id)
		return;
	owner_ended((u32)c->lock, c->owner);
	o->busy = 0;
	o->gen++;
}

/*
 * A request given up (8 tries): what it did is unknown.  A blocking acquire
 * may wait in the queue: it is cancelled (and the cancel retried) until
 * the table says what became of it, so that no unknown wait is left behind.
 */
void tclient_gave_up(struct client *c)
{
	struct lease *l = &c->lease[c->lock];
	struct tsm_body b;

	lease_unsure(l, c->owner);
	tclient_owner_retire(c);
	if (tsm_decode(&c->cmd, &b))
		return;
	if (c->cmd.op == REPL_OP_ACQUIRE && !(b.flags & DL_ACQ_TRY) &&
	    !l->waiting) {
		l->waiting = true;
		l->cookie = b.cookie;
		l->wait_ms = b.wait_ms;
		l->wait_since = S.now;
		l->wait_quiet = false;
		l->queued_seen = false;
		l->mode = b.mode;
		l->permits = b.permits;
	}
	if (l->waiting && (c->cmd.op == REPL_OP_ACQUIRE ||
			   c->cmd.op == REPL_OP_CANCEL)) {
		l->cancel_sent = false;
		l->cancel_at = 0;
	}
}

/* After the faults stopped, a queued acquire must be answered in time. */
void tclient_check_waits(void)
{
	int i, k;

	for (i = 0; i < S.nclients && !S.violation; i++)
		for (k = 0; k < S.nlocks; k++) {
			struct lease *l = &S.cl[i].lease[k];

			if (S.cl[i].alive && l->waiting && S.quiet &&
			    wait_owed(l) && S.now > wait_due(l))
				violate("liveness: client %u's queued acquire (cookie %llu) not answered %.3fs after it was queued",
					S.cl[i].id, (unsigned long long)l->cookie,
					(S.now - l->wait_since) / 1e9);
		}
}

/* A committed BREAK ended lease @token of lock @k (check_tspec.c). */
void sim_broken(u32 k, u64 token)
{
	int i, j;

	if (k >= NLOCKS_MAX)
		return;
	T.broken++;
	S.brk[k][S.nbrk[k]++ % 64] = token;
	for (j = 0; j < NOWNERS; j++)
		if (S.own[k][j].count && S.own[k][j].token == token)
			S.own[k][j].count = 0;
	for (i = 0; i < S.nclients; i++) {
		struct lease *l = &S.cl[i].lease[k];

		if (l->held && l->token == token) {
			l->held = false;
			l->confirm = false;
		}
	}
}
