// SPDX-License-Identifier: GPL-2.0
/*
 * sim -T: the checks over the clients' leases when the lock table
 * replicates (sim_int.h).  After every event: per lock, the leases valid on
 * their clients' own clocks exclude each other by mode and by permit count
 * (leases are told apart by token: the clients of one detached owner share
 * one); a node that applied past a valid grant still has it.  After every
 * entry a node applies: its table's answer, wait answers and state match
 * the table specification (check_oracle.c, check_tspec.c); the lease
 * margins of EXPIRE and SESSION_END.  At the end: no stranded lease, no
 * stranded queued wait.
 */
#include "sim_int.h"

static int cmd_lock(const struct repl_cmd *c, struct tsm_body *b)
{
	if (tsm_decode(c, b) || !b->name_len)
		return -1;
	return ts_lock_of(b->name, b->name_len);
}

/*
 * An EXPIRE applied first in its world (by the leader, which may grant the
 * lock elsewhere in the same entry) comes after the bound the holder's node
 * counts for the lease, if that node has it: the holder was told by then
 * (table_holder.c).  A node that still leads with it (deposed without
 * knowing) has told nobody.
 */
static void holder_margin(struct node *nd, struct client *c, int k)
{
	struct node *hn = &S.node[c->node];
	struct repl_status st;
	u64 d;
	s64 m;

	if (hn == nd || !hn->up || hn->world != S.world || c->lease[k].owner)
		return;
	repl_status(hn->r, &st);
	d = tablesim_deadline(&hn->ts, (u32)k, c->lease[k].token);
	if (!d)
		return;
	if (st.countdowns) {
		/* deposed, unaware: it tells its holders only once it knows */
		violate("EXPIRE ended client %u's lease of lock %d (token %llx) while node %d still leads with it: its holder was not told",
			c->id, k, (unsigned long long)c->lease[k].token,
			c->node);
		return;
	}
	m = (s64)S.now - (s64)real_of(c->node, d);
	if (m < 0) {
		violate("EXPIRE ended client %u's lease of lock %d (token %llx) %.3f ms before node %d's bound for it ran out: its holder was not told",
			c->id, k, (unsigned long long)c->lease[k].token,
			-m / 1e6, c->node);
		return;
	}
	T.margins[2]++;
	if (m < T.min_margin[2])
		T.min_margin[2] = m;
}

/* EXPIRE and SESSION_END, applied first in their world, end no valid lease. */
static void table_margins(struct node *nd, const struct repl_cmd *lc,
			  const struct repl_result *res)
{
	struct tsm_body b;
	struct client *c;
	int i, k;

	if (res->status)
		return;
	if (lc->op == REPL_OP_EXPIRE) {
		k = cmd_lock(lc, &b);
		if (k < 0 || (b.flags & TSM_EXPIRE_WAIT))
			return;
		for (i = 0; i < S.nclients; i++) {
			c = &S.cl[i];
			if (c->alive && c->lease[k].token == b.token) {
				margin_of(c, &c->lease[k], 0);
				holder_margin(nd, c, k);
			}
		}
	} else if (lc->op == REPL_OP_SESSION_END) {
		for (i = 0; i < S.nclients; i++) {
			c = &S.cl[i];
			if (!c->alive || c->node != lc->node)
				continue;
			for (k = 0; k < S.nlocks; k++)
				if (c->lease[k].token && !c->lease[k].owner &&
				    c->lease[k].index <= lc->arg &&
				    !tablesim_has_token(&nd->ts, (u32)k,
							c->lease[k].token))
					margin_of(c, &c->lease[k], 1);
		}
	}
}

/*
 * A committed BREAK ends leases: the specification tells the clients
 * (sim_broken), but not once it stopped at an index the checker never saw.
 * Then the first node to apply the BREAK tells them instead, so that the
 * clients' view of their leases stays true and the checks built on it
 * can go on.
 */
static void spec_lost_break(const struct repl_cmd *c, u64 index)
{
	struct tsm_body b;
	int k = cmd_lock(c, &b), i;

	if (index <= S.gap_break_at || k < 0 || k >= NLOCKS_MAX)
		return;
	S.gap_break_at = index;
	if (b.token) {
		sim_broken((u32)k, b.token);
		return;
	}
	for (i = 0; i < S.nclients; i++)
		if (S.cl[i].lease[k].held)
			sim_broken((u32)k, S.cl[i].lease[k].token);
	/*
	 * and every lease an earlier entry granted whose answer is still on
	 * its way (the clients do not count it yet): broken_answer()
	 */
	S.brk_all_at[k] = index;
	S.brk_all_world[k] = S.world;
}

void on_table_applied(void *hctx, const struct repl_cmd *c, u64 index,
		      const struct repl_result *res)
{
	struct node *nd = hctx;
	int n = (int)(nd - S.node);
	struct tsm_body b;
	bool first = nd->tfirst;
	u64 state;

	nd->tfirst = false;
	ck_observe(n, nd->boot, nd->r, S.now);
	if (c->op == REPL_OP_EXPIRE || c->op == REPL_OP_SESSION_END ||
	    c->op == REPL_OP_BREAK || c->op == REPL_OP_CLIENT_END)
		trace(TR_APPLY, n, index, (u64)c->op << 32 |
		      (u32)cmd_lock(c, &b), (u64)c->client << 32 |
		      (u32)res->status);
	if (nd->world != S.world)
		return;
	if (c->op == REPL_OP_BREAK && !res->status && ck_table_gap())
		spec_lost_break(c, index);
	state = tablesim_state(&nd->ts, index);
	ck_table_applied(n, c, index, res, nd->ts.ev, nd->ts.nev, state);
	if (first)
		table_margins(nd, c, res);
}

/* Names every lease of lock k valid at once, the first up to four. */
static void too_many_permits(int k, u32 permits, u32 first, int nv)
{
	char buf[256];
	int i, len = 0;

	for (i = 0; i < S.nclients && len < (int)sizeof(buf) - 48; i++) {
		struct client *c = &S.cl[i];
		struct lease *l = &c->lease[k];

		if (c->alive && lease_valid(c, l))
			len += snprintf(buf + len, sizeof(buf) - len,
					" %u:%llx", c->id,
					(unsigned long long)l->token);
	}
	violate("lock %d: %d leases of a %u-permit semaphore valid at once (client:token%s; first client %u)",
		k, nv, permits, buf, first);
}

/* Leases valid on their clients' clocks exclude each other, by token. */
static void exclusion(void)
{
	struct { u64 token; u8 mode; u32 permits; u32 client; } v[MAX_CLIENTS];
	int k, i, j, nv;

	for (k = 0; k < S.nlocks; k++) {
		bool excl = false;
		u32 permits = 0;

		nv = 0;
		for (i = 0; i < S.nclients; i++) {
			struct client *c = &S.cl[i];
			struct lease *l = &c->lease[k];

			if (!c->alive || !lease_valid(c, l))
				continue;
			for (j = 0; j < nv && v[j].token != l->token; j++)
				;
			if (j < nv)
				continue;	/* one lease, several clients */
			v[nv].token = l->token;
			v[nv].mode = l->mode;
			v[nv].permits = l->permits;
			v[nv].client = c->id;
			excl |= l->mode == DL_MODE_EXCLUSIVE;
			if (l->mode == DL_MODE_SEMAPHORE)
				permits = l->permits;
			nv++;
		}
		if (nv > 1 && excl)
			violate("lock %d: %d leases valid at once (clients %u and %u, tokens %llx and %llx), one of them exclusive",
				k, nv, v[0].client, v[1].client,
				(unsigned long long)v[0].token,
				(unsigned long long)v[1].token);
		else if (permits && (u32)nv > permits)
			too_many_permits(k, permits, v[0].client, nv);
		for (j = 1; j < nv; j++)
			if (v[j].mode != v[0].mode ||
			    v[j].permits != v[0].permits)
				violate("lock %d: leases of two kinds valid at once (clients %u and %u)",
					k, v[0].client, v[j].client);
	}
}

/*
 * The holders' tokens of each lock of a node's table, looked up again only
 * once the table may have changed (tablesim.gen).
 */
static struct token_cache {
	u64 gen;
	int n[TS_LOCKS];	/* -1: not looked up yet */
	u64 tok[TS_LOCKS][64];
} token_cache[MAX_NODES];

static bool has_token(struct node *nd, int k, u64 token)
{
	struct token_cache *tk = &token_cache[nd - S.node];
	int j, max = (int)ARRAY_SIZE(tk->tok[k]);

	if (tk->gen != nd->ts.gen) {
		tk->gen = nd->ts.gen;
		for (j = 0; j < TS_LOCKS; j++)
			tk->n[j] = -1;
	}
	if (tk->n[k] < 0)
		tk->n[k] = tablesim_tokens(&nd->ts, (u32)k, tk->tok[k], max);
	if (tk->n[k] > max)
		return tablesim_has_token(&nd->ts, (u32)k, token);
	for (j = 0; j < tk->n[k]; j++)
		if (tk->tok[k][j] == token)
			return true;
	return false;
}

void table_invariants(int touched)
{
	struct node *nd;
	struct repl_status st;
	int i, k;

	if (ck_table_gap()) {
		T.spec_gaps += !S.spec_gap;
		S.spec_gap = true;
	}
	exclusion();
	if (touched < 0 || !S.node[touched].up ||
	    S.node[touched].world != S.world)
		return;
	/* a node that applied past a valid grant must still have it */
	nd = &S.node[touched];
	repl_status(nd->r, &st);
	if (st.role == REPL_RECOVERING || st.catching_up)
		return;
	for (i = 0; i < S.nclients; i++) {
		struct client *c = &S.cl[i];

		for (k = 0; k < S.nlocks; k++) {
			struct lease *l = &c->lease[k];

			/* exclusion() has just refreshed every session bound */
			if (!c->alive || !l->held || l->world != S.world ||
			    table_sm_index(nd->ts.tsm) < l->index ||
			    !lease_valid(c, l))
				continue;
			if (!has_token(nd, k, l->token))
				violate("n%d forgot client %u's lease of lock %d (token %llx, index %llu, applied %llu, parameter set %d)",
					touched, c->id, k,
					(unsigned long long)l->token,
					(unsigned long long)l->index,
					(unsigned long long)table_sm_index(nd->ts.tsm),
					S.p.set);
		}
	}
}

static bool held_validly(u32 k, u64 token)
{
	int i;

	for (i = 0; i < S.nclients; i++) {
		struct client *c = &S.cl[i];

		if (c->alive && c->lease[k].token == token &&
		    lease_valid(c, &c->lease[k]))
			return true;
	}
	return false;
}

/*
 * No stranded lease or wait: every holder the specification still has is
 * held validly by a live client, or was granted or renewed less than
 * hold(max_ttl) + 3 elections before the end (counted from 1 s after the
 * faults stopped); every waiter was queued less than its timeout (with
 * drift) and that bound before the end.
 */
void table_final_checks(void)
{
	u64 bound = repl_hold(P_DRIFT_PPM, P_MAX_TTL) + 3 * P_ELECT_MAX;
	struct ts_view v[2 * TS_ENTS];
	int i, k, nv;

	for (k = 0; k < S.nlocks && !S.violation; k++) {
		nv = ck_table_entries((u32)k, v, 2 * TS_ENTS);
		for (i = 0; i < nv; i++) {
			const struct ck_rec *rc = ck_rec_at(v[i].stamp);
			u64 since = max(rc ? rc->t_first : 0, S.t_quiet + SEC);
			u64 b = bound;

			if (!v[i].waiter && held_validly((u32)k, v[i].token))
				continue;
			if (v[i].waiter)
				b += v[i].wait_ms * MS * 21 / 20;
			T.strand_checked++;
			if (S.now > since + b)
				violate("stranded %s: lock %d, %s%s of client %u of n%u (%s), stamped at index %llu %.3fs before the end; bound %.3fs",
					v[i].waiter ? "wait" : "lease", k,
					v[i].detached ? "detached " : "",
					v[i].no_ttl ? "no TTL" : "TTL",
					v[i].client, v[i].node,
					client_by_id(v[i].client) ? "live" :
					"gone",
					(unsigned long long)v[i].stamp,
					(S.now - (rc ? rc->t_first : 0)) / 1e9,
					b / 1e9);
		}
	}
}
