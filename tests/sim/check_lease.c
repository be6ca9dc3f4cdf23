// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's checks over the clients' leases and the nodes' state
 * machines: mutual exclusion on the clients' own clocks, no forgotten
 * grant, tokens above every earlier world's, equal digests at equal
 * indexes, lease margins, and the end-of-seed checks (sim_int.h).
 */
#include "sim_int.h"

static void lease_margins(struct node *nd, u64 index);

/* Every answer of every node, against the specification (check_oracle.c). */
void sim_check_answer(int n, const struct repl_cmd *cmd,
			     const struct repl_result *res)
{
	struct repl_status st;

	ck_observe(n, S.node[n].boot, S.node[n].r, S.now);
	repl_status(S.node[n].r, &st);
	ck_answer(n, cmd, res, st.applied);
}

void on_applied(void *hctx, u64 index, u64 digest)
{
	struct node *nd = hctx;
	const struct repl_cmd *lc = &nd->sm.last_cmd;

	ck_observe((int)(nd - S.node), nd->boot, nd->r, S.now);

	if (lc->op == REPL_OP_EXPIRE || lc->op == REPL_OP_SESSION_END)
		trace(TR_APPLY, (int)(nd - S.node), index,
		      (u64)lc->op << 32 | lm_cmd_lock(lc),
		      (u64)lc->client << 32 | (u32)nd->sm.last_status);
	if (nd->world != S.world)
		return;
	if (index >= S.digest_cap) {
		u64 nc = max(index + 1, S.digest_cap * 2);

		S.digest_at = realloc(S.digest_at, nc * sizeof(u64));
		memset(S.digest_at + S.digest_cap, 0,
		       (nc - S.digest_cap) * sizeof(u64));
		S.digest_cap = nc;
	}
	if (!S.digest_at[index]) {
		lease_margins(nd, index);
		S.digest_at[index] = digest | 1;
	}
	else if (S.digest_at[index] != (digest | 1))
		violate("n%d applied a different history at index %llu",
			(int)(nd - S.node), (unsigned long long)index);
}


/* -T: the table's digest at an index is the same on every node. */
void on_table_digest(void *hctx, u64 index, u64 digest)
{
	struct node *nd = hctx;

	if (nd->world != S.world)
		return;
	if (index >= S.tdigest_cap) {
		u64 nc = max(index + 1, S.tdigest_cap * 2);

		S.tdigest_at = realloc(S.tdigest_at, nc * sizeof(u64));
		memset(S.tdigest_at + S.tdigest_cap, 0,
		       (nc - S.tdigest_cap) * sizeof(u64));
		S.tdigest_cap = nc;
	}
	if (!S.tdigest_at[index]) {
		S.tdigest_at[index] = digest | 1;
		nd->tfirst = true;	/* first in its world: lease margins */
	}
	else if (S.tdigest_at[index] != (digest | 1))
		violate("n%d: the table applied a different history at index %llu",
			(int)(nd - S.node), (unsigned long long)index);
}

void on_grant(void *hctx, u32 lock, u64 token)
{
	struct node *nd = hctx;

	if (lock >= NLOCKS_MAX)
		return;
	if (nd->world == S.world && token <= S.prev_world_token[lock])
		violate("n%d granted lock %u with token %llx, not above %llx of an earlier world",
			(int)(nd - S.node), lock, (unsigned long long)token,
			(unsigned long long)S.prev_world_token[lock]);
	if (nd->world == S.world && token > S.world_token[lock])
		S.world_token[lock] = token;
}

/* ---- invariants ---- */
void check_invariants(int touched)
{
	/*
	 * The leases valid now, found once per event (client-major order):
	 * both checks below only look at those, most leases are not held.
	 */
	u8 vl[MAX_CLIENTS * NLOCKS_MAX];
	int k, i, j, p, nv = 0;

	if (use_table) {
		table_invariants(touched);
		return;
	}
	for (i = 0; i < S.nclients; i++)
		for (k = 0; k < S.nlocks; k++)
			if (S.cl[i].alive && S.cl[i].lease[k].held &&
			    lease_valid(&S.cl[i], &S.cl[i].lease[k]))
				vl[nv++] = (u8)(i * NLOCKS_MAX + k);
	for (k = 0; k < S.nlocks; k++) {
		int excl = -1, shared = -1;

		for (p = 0; p < nv; p++) {
			struct client *c = &S.cl[vl[p] / NLOCKS_MAX];
			struct lease *l = &c->lease[k];

			if (vl[p] % NLOCKS_MAX != k)
				continue;
			i = vl[p] / NLOCKS_MAX;
			if (l->mode == LM_MODE_EXCL) {
				if (excl >= 0 || shared >= 0)
					violate("lock %d: client %u holds it exclusive while client %u holds it too",
						k, c->id, S.cl[excl >= 0 ? excl : shared].id);
				excl = i;
			} else {
				if (excl >= 0)
					violate("lock %d: client %u holds it shared while client %u holds it exclusive",
						k, c->id, S.cl[excl].id);
				shared = i;
			}
		}
	}
	/* a node that applied past a valid grant must still have it */
	if (touched >= 0 && S.node[touched].up &&
	    S.node[touched].world == S.world) {
		struct node *nd = &S.node[touched];
		struct repl_status st;

		repl_status(nd->r, &st);
		if (nd->sm.violation)
			violate("n%d: %s", touched, nd->sm.violation);
		if (st.role != REPL_RECOVERING && !st.catching_up)
			for (p = 0; p < nv; p++) {
				struct client *c = &S.cl[vl[p] / NLOCKS_MAX];
				struct lease *l;

				j = vl[p] % NLOCKS_MAX;
				l = &c->lease[j];
				if (l->world != S.world ||
				    nd->sm.index < l->index)
					continue;
				if (!lockmodel_find(&nd->sm, j, c->id))
					violate("n%d forgot client %u's grant of lock %d (index %llu, applied %llu)",
						touched, c->id, j,
						(unsigned long long)l->index,
						(unsigned long long)nd->sm.index);
			}
	}
}

/*
 * Lease margin: by how much the end of a lease (EXPIRE or SESSION_END,
 * first applied in its world) followed the end of its validity on its
 * client's clock.  Negative is a violation; the smallest is reported.
 */
void margin_of(struct client *c, struct lease *l, int kind)
{
	s64 m;

	if (!l->valid_local || l->world != S.world || l->released)
		return;
	if (l->held && lease_valid(c, l)) {
		violate("%s ended client %u's lease of lock %d (token %llx, index %llu, owner %u, count %u) while it is valid on the client's clock for %.3f ms more",
			kind ? "SESSION_END" : "EXPIRE", c->id,
			(int)(l - c->lease), (unsigned long long)l->token,
			(unsigned long long)l->index, l->owner, l->count,
			(min(l->valid_local, l->sess_until) -
			 local_of(c->node, S.now)) / 1e6);
		return;
	}
	m = (s64)S.now -
	    (s64)real_of(c->node, min(l->valid_local, l->sess_until));
	T.margins[kind]++;
	if (m < T.min_margin[kind])
		T.min_margin[kind] = m;
}

static void lease_margins(struct node *nd, u64 index)
{
	const struct repl_cmd *lc = &nd->sm.last_cmd;
	struct client *c;
	int i, k;

	if (nd->sm.index != index || nd->sm.last_status)
		return;
	/* lock id: the model's body */
	if (lc->op == REPL_OP_EXPIRE) {
		c = client_by_id(lc->client);
		k = (int)CK_LOCK(lc);
		if (c && k < NLOCKS_MAX && lc->len >= LM_BODY_EXPIRE &&
		    c->lease[k].index <= dl_get_le64(lc->data + LM_BODY))
			margin_of(c, &c->lease[k], 0);
	} else if (lc->op == REPL_OP_SESSION_END) {
		for (i = 0; i < S.nclients; i++) {
			c = &S.cl[i];
			if (!c->alive || c->node != lc->node)
				continue;
			for (k = 0; k < S.nlocks; k++)
				if (c->lease[k].index <= lc->arg &&
				    !lockmodel_find(&nd->sm, k, c->id))
					margin_of(c, &c->lease[k], 1);
		}
	}
}

/*
 * End of a seed: logs agree and nobody is stuck (check_log.c); no lease
 * outlives its bound once faults stopped: a holder the specification still
 * has must be a live client whose lease is valid, or have been granted or
 * renewed less than hold(max_ttl) + 3 elections before the end.
 */
void final_checks(void)
{
	u64 bound = repl_hold(P_DRIFT_PPM, P_MAX_TTL) + 3 * P_ELECT_MAX;
	struct ck_holder h[32];
	int i, k, nh;

	for (i = 0; i < S.n && !S.violation; i++)
		if (S.node[i].up && S.node[i].world == S.world)
			ck_log_final(i, S.node[i].r, S.commit_ref);
	if (use_table)
		table_final_checks();
	for (k = 0; k < S.nlocks && !S.violation && !use_table; k++) {
		nh = ck_oracle_holders(k, h, 32);
		for (i = 0; i < nh; i++) {
			struct client *c = client_by_id(h[i].client);
			const struct ck_rec *rc = ck_rec_at(h[i].stamp);
			u64 since = max(rc ? rc->t_first : 0, S.t_quiet + SEC);

			if (c && lease_valid(c, &c->lease[k]))
				continue;
			T.strand_checked++;
			if (S.now > since + bound)
				violate("stranded lease: lock %d still held by %s client %u of n%u, granted or renewed at index %llu (%.3fs before the end; bound %.3fs)",
					k, c ? "live" : "crashed", h[i].client,
					h[i].node, (unsigned long long)h[i].stamp,
					(S.now - (rc ? rc->t_first : 0)) / 1e9,
					bound / 1e9);
		}
	}
}

void sim_durable(void)
{
	struct repl *r[MAX_NODES];
	int i;

	for (i = 0; i < S.n; i++)
		r[i] = S.node[i].up && S.node[i].world == S.world ?
		       S.node[i].r : NULL;
	ck_durable(r, S.n);
	ck_sessions(r, S.n, real_of);
	for (i = 0; i < S.n; i++)
		ck_match(i, r, S.n);
}
