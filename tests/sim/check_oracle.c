// SPDX-License-Identifier: GPL-2.0
/*
 * Sequential specification of what the replicated service answers, written
 * independently of tests/sim/lockmodel.c and of the core's apply path: the
 * lock object (exclusive/shared holders, reentrancy counts, leases stamped
 * with the index of their last grant or renewal, fencing token = the log
 * position of the grant) and the core's idempotence table (one slot per
 * client; when full, the least recently used client that holds and waits
 * for nothing loses its slot and its node's floor rises to its id, a client
 * at or below the floor without a slot is refused -EKEYEXPIRED, and with
 * every slot's client busy a new one is refused -EUSERS, its id put under
 * the floor too (a later copy must not run); a retransmission
 * gets the first answer, an older request -ESTALE).
 *
 * It is fed by the committed prefix (check_log.c) in index order and keeps
 * the answer it expects at every index.  Every answer any node gives, on
 * every command and error, is compared with it; an answer given while the
 * node applies an index that does not hold that very command was given
 * before the command was committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "tspec.h"

extern bool use_table;	/* sim -T: the table specification (check_tspec.c) */

#define OR_LOCKS	8	/* lock ids the service knows (LM_LOCKS) */
#define OR_HOLDERS	16	/* holders per lock before -ENOSPC */

struct or_holder {
	bool used;
	u8 mode;
	u16 node;
	u32 client;
	u32 count;
	u64 token;
	u64 stamp;
};

struct or_slot {
	u16 node;
	u32 client;
	u32 req;
	u64 used;
	struct repl_result res;
};

struct or_ans {
	bool set;
	struct repl_result res;
};

/* sim -T: what the table must have done at an index. */
struct or_tab {
	bool set;		/* the specification got this far */
	bool fresh;		/* the command reached the table */
	struct repl_result res;	/* the table's own answer */
	u64 state;		/* tspec_state() after it */
	u32 ev_at;		/* its wait answers: ev[ev_at .. ev_at + nev) */
	u16 nev;
};

static struct {
	u64 next;		/* next index to apply */
	bool gap;		/* an index was never seen: stop checking */
	u64 epoch;
	u64 last_token[OR_LOCKS];
	struct or_holder h[OR_LOCKS][OR_HOLDERS];
	struct or_slot *slot;
	u32 nslot, cap;
	struct or_ans *ans;
	u64 ans_cap;
	struct or_tab *tab;
	u64 tab_cap;
	struct ts_wd *ev;
	u32 nev, ev_cap;
	u64 life[REPL_MAX_NODES];	/* latest NODE_START per node */
	u32 gone[REPL_MAX_NODES];	/* highest evicted client id per node */
} O;

u64 ck_answers_checked, ck_table_checked, ck_table_waits;

void ck_oracle_reset(u32 max_clients)
{
	struct or_slot *slot = O.slot;
	struct or_ans *ans = O.ans;
	u64 ans_cap = O.ans_cap;
	struct or_tab *tab = O.tab;
	u64 tab_cap = O.tab_cap;
	struct ts_wd *ev = O.ev;
	u32 ev_cap = O.ev_cap;

	if (!slot || O.cap != max_clients)
		slot = realloc(slot, max_clients * sizeof(*slot));
	if (ans)
		memset(ans, 0, ans_cap * sizeof(*ans));
	memset(&O, 0, sizeof(O));
	O.slot = slot;
	O.cap = max_clients;
	O.ans = ans;
	O.ans_cap = ans_cap;
	if (tab)
		memset(tab, 0, tab_cap * sizeof(*tab));
	O.tab = tab;
	O.tab_cap = tab_cap;
	O.ev = ev;
	O.ev_cap = ev_cap;
	O.next = 1;
	tspec_reset();
}

static struct or_tab *tab_at(u64 i)
{
	if (i >= O.tab_cap) {
		u64 nc = i + 1 > O.tab_cap * 2 ? i + 1024 : O.tab_cap * 2;

		O.tab = realloc(O.tab, nc * sizeof(*O.tab));
		memset(O.tab + O.tab_cap, 0, (nc - O.tab_cap) * sizeof(*O.tab));
		O.tab_cap = nc;
	}
	return &O.tab[i];
}

/* sim -T: the table specification applies the command (fresh). */
static void table_apply(const struct repl_cmd *c, u64 i,
			struct repl_result *res)
{
	struct or_tab *t = tab_at(i);
	int nev = 0;

	if (O.nev + TS_EV_MAX > O.ev_cap) {
		O.ev_cap = O.ev_cap * 2 + TS_EV_MAX;
		O.ev = realloc(O.ev, O.ev_cap * sizeof(*O.ev));
	}
	tspec_apply(c, i, O.epoch, res, O.ev + O.nev, &nev);
	t->fresh = true;
	t->res = *res;
	t->ev_at = O.nev;
	t->nev = (u16)nev;
	O.nev += (u32)nev;
}

static struct or_holder *find(u32 lock, u32 client)
{
	int i;

	for (i = 0; i < OR_HOLDERS; i++)
		if (O.h[lock][i].used && O.h[lock][i].client == client)
			return &O.h[lock][i];
	return NULL;
}

/* The lock object: one command at index i, in log order. */
static void lock_apply(const struct repl_cmd *c, u64 i, struct repl_result *res)
{
	u32 lock = CK_LOCK(c);
	struct or_holder *h = NULL, *f = NULL;
	u64 stamp;
	int k, s;

	if (use_table) {
		table_apply(c, i, res);
		return;
	}
	if (lock < OR_LOCKS)
		h = find(lock, c->client);
	switch (c->op) {
	case REPL_OP_ACQUIRE:
		if (lock >= OR_LOCKS || CK_MODE(c) > LM_MODE_SHARED) {
			res->status = -EINVAL;
		} else if (h && h->mode != CK_MODE(c)) {
			res->status = -EDEADLK;
		} else if (h) {
			res->count = ++h->count;
			res->token = h->token;
			h->stamp = i;
		} else {
			for (k = 0; k < OR_HOLDERS; k++) {
				struct or_holder *o = &O.h[lock][k];

				if (!o->used) {
					f = f ? f : o;
					continue;
				}
				if (CK_MODE(c) == LM_MODE_EXCL ||
				    o->mode == LM_MODE_EXCL) {
					res->status = -EBUSY;
					return;
				}
			}
			if (!f) {
				res->status = -ENOSPC;
				return;
			}
			/* the token is the grant's place in the log */
			res->token = repl_token(O.epoch, i);
			if (res->token <= O.last_token[lock])
				violate("oracle: grant of lock %u at index %llu has token %llx, not above %llx",
					lock, (unsigned long long)i,
					(unsigned long long)res->token,
					(unsigned long long)O.last_token[lock]);
			O.last_token[lock] = res->token;
			*f = (struct or_holder){ true, CK_MODE(c), c->node,
				c->client, 1, res->token, i };
			res->count = 1;
		}
		break;
	case REPL_OP_RELEASE:
		if (!h) {
			res->status = -ENOENT;
			break;
		}
		res->token = h->token;
		res->count = --h->count;
		if (!h->count)
			h->used = false;
		break;
	case REPL_OP_RENEW:
		if (!h) {
			res->status = -ENOENT;
			break;
		}
		h->stamp = i;
		res->count = h->count;
		res->token = h->token;
		break;
	case REPL_OP_EXPIRE:
		/* a renewal committed after the decision makes it a no-op */
		stamp = c->len >= LM_BODY_EXPIRE ? dl_get_le64(c->data + 5) : 0;
		if (h && h->stamp == stamp)
			h->used = false;
		else
			res->status = -ENOENT;
		break;
	case REPL_OP_CLIENT_END:
		/* every lease of the client, on every lock */
		for (k = 0; k < OR_LOCKS; k++)
			for (s = 0; s < OR_HOLDERS; s++)
				if (O.h[k][s].used &&
				    O.h[k][s].client == c->client) {
					O.h[k][s].used = false;
					res->count++;
				}
		break;
	case REPL_OP_SESSION_END:
		for (k = 0; k < OR_LOCKS; k++)
			for (s = 0; s < OR_HOLDERS; s++)
				if (O.h[k][s].used && O.h[k][s].node == c->node &&
				    O.h[k][s].stamp <= c->arg) {
					O.h[k][s].used = false;
					res->count++;
				}
		break;
	default:
		res->status = -EINVAL;	/* the model has no such command */
		break;
	}
}

static struct or_slot *slot_of(u32 client)
{
	u32 i;

	for (i = 0; i < O.nslot; i++)
		if (O.slot[i].client == client)
			return &O.slot[i];
	return NULL;
}

static bool or_busy(u16 node, u32 client)
{
	int k, s;

	if (use_table)
		return tspec_busy(node, client);
	for (k = 0; k < OR_LOCKS; k++)
		for (s = 0; s < OR_HOLDERS; s++)
			if (O.h[k][s].used && O.h[k][s].node == node &&
			    O.h[k][s].client == client)
				return true;
	return false;
}

/*
 * A new slot: append, or replace in place the least recently used of the
 * clients that hold and wait for nothing; NULL if there is none.
 */
static struct or_slot *slot_new(u16 node, u32 client)
{
	struct or_slot *d = NULL;
	u32 i;

	if (O.nslot < O.cap) {
		d = &O.slot[O.nslot++];
	} else {
		for (i = 0; i < O.nslot; i++)
			if ((!d || O.slot[i].used < d->used) &&
			    !or_busy(O.slot[i].node, O.slot[i].client))
				d = &O.slot[i];
		if (!d)
			return NULL;
		if (d->node < REPL_MAX_NODES && d->client > O.gone[d->node])
			O.gone[d->node] = d->client;
	}
	memset(d, 0, sizeof(*d));
	d->node = node;
	d->client = client;
	return d;
}

static void one(u64 i, const struct repl_cmd *c)
{
	struct repl_result res;
	struct or_slot *d;
	u32 k;

	memset(&res, 0, sizeof(res));
	res.index = i;
	if (c->op == REPL_OP_EPOCH) {
		if (!O.epoch)
			O.epoch = c->arg;
		return;
	}
	if (c->op == REPL_OP_EXPIRE || c->op == REPL_OP_SESSION_END) {
		lock_apply(c, i, &res);
		return;
	}
	if (c->op == REPL_OP_NODE_START) {
		/* a new life of c->node: its earlier clients' sessions end */
		static struct repl_cmd e;
		u64 inc = c->len == 8 ? dl_get_le64(c->data) : 0;

		if (c->node >= REPL_MAX_NODES || inc <= O.life[c->node])
			return;
		O.life[c->node] = inc;
		/* the earlier lives' slots go, their ids under the floor */
		for (k = 0; k < O.nslot;) {
			if (O.slot[k].node != c->node) {
				k++;
				continue;
			}
			if (O.slot[k].client > O.gone[c->node])
				O.gone[c->node] = O.slot[k].client;
			O.slot[k] = O.slot[--O.nslot];
		}
		memset(&e, 0, sizeof(e));
		e.op = REPL_OP_SESSION_END;
		e.node = c->node;
		e.arg = c->arg;
		lock_apply(&e, i, &res);
		return;
	}
	if (c->op < REPL_OP_ACQUIRE || c->op == REPL_OP_EXPIRE ||
	    c->op == REPL_OP_SESSION_END || c->op >= REPL_OP__MAX)
		return;		/* not a client command (the core's is_client_op) */
	d = slot_of(c->client);
	if (d && c->req == d->req) {
		res = d->res;
	} else if (d && c->req < d->req) {
		res.status = -ESTALE;
	} else if (!O.epoch) {
		res.status = -EAGAIN;
	} else if (!d && c->node < REPL_MAX_NODES &&
		   c->client <= O.gone[c->node]) {
		res.status = -EKEYEXPIRED;	/* forgotten: never run again */
		res.token = O.gone[c->node];
	} else if (!d && !(d = slot_new(c->node, c->client)) &&
		   c->op != REPL_OP_CLIENT_END) {
		res.status = -EUSERS;		/* every slot's client is busy */
		if (c->node < REPL_MAX_NODES && c->client > O.gone[c->node])
			O.gone[c->node] = c->client;	/* and never run */
	} else {
		if (!d && c->node < REPL_MAX_NODES &&
		    c->client > O.gone[c->node])
			O.gone[c->node] = c->client;	/* slotless CLIENT_END */
		lock_apply(c, i, &res);		/* CLIENT_END: even slotless */
		if (d) {
			d->req = c->req;
			d->res = res;
		}
	}
	if (d)
		d->used = i;
	if (i >= O.ans_cap) {
		u64 nc = i + 1 > O.ans_cap * 2 ? i + 1024 : O.ans_cap * 2;

		O.ans = realloc(O.ans, nc * sizeof(*O.ans));
		memset(O.ans + O.ans_cap, 0, (nc - O.ans_cap) * sizeof(*O.ans));
		O.ans_cap = nc;
	}
	O.ans[i].set = true;
	O.ans[i].res = res;
}

static void advance(u64 to)
{
	while (!O.gap && O.next <= to) {
		const struct ck_rec *rc = ck_rec_at(O.next);

		if (!rc) {
			O.gap = true;
			return;
		}
		one(O.next, &rc->cmd);
		if (use_table) {
			tab_at(O.next)->state = tspec_state();
			tab_at(O.next)->set = true;
		}
		O.next++;
	}
}

void ck_answer(int n, const struct repl_cmd *cmd,
	       const struct repl_result *res, u64 at)
{
	const struct ck_rec *rc = ck_rec_at(at);
	const struct repl_result *want;

	if (!rc || rc->cmd.client != cmd->client || rc->cmd.req != cmd->req ||
	    rc->cmd.op != cmd->op) {
		violate("n%d answered client %u request %u (status %d) while applying index %llu, which does not hold that committed command (answered before commit)",
			n, cmd->client, cmd->req, res->status,
			(unsigned long long)at);
		return;
	}
	advance(at);
	if (O.gap || at >= O.next || !O.ans[at].set)
		return;
	want = &O.ans[at].res;
	ck_answers_checked++;
	if (want->status != res->status || want->count != res->count ||
	    want->token != res->token || want->index != res->index)
		violate("n%d answered client %u request %u op %u at index %llu with (status %d, count %u, token %llx, index %llu); the specification says (%d, %u, %llx, %llu)",
			n, cmd->client, cmd->req, cmd->op,
			(unsigned long long)at, res->status, res->count,
			(unsigned long long)res->token,
			(unsigned long long)res->index, want->status,
			want->count, (unsigned long long)want->token,
			(unsigned long long)want->index);
}

int ck_oracle_holders(u32 lock, struct ck_holder *out, int max)
{
	int k, n = 0;

	advance(CK.max);
	if (lock >= OR_LOCKS || O.gap)
		return -1;
	for (k = 0; k < OR_HOLDERS && n < max; k++)
		if (O.h[lock][k].used)
			out[n++] = (struct ck_holder){ O.h[lock][k].client,
				O.h[lock][k].node, O.h[lock][k].stamp };
	return n;
}

/*
 * sim -T: node @n's table applied committed @c at index @i: the same answer,
 * the same wait answers in the same order, the same state after it.
 */
void ck_table_applied(int n, const struct repl_cmd *c, u64 i,
		      const struct repl_result *res, const struct ts_wd *ev,
		      int nev, u64 state)
{
	const struct or_tab *t;
	int k;

	advance(i);
	if (O.gap || i >= O.next || i >= O.tab_cap || !O.tab[i].set)
		return;
	t = &O.tab[i];
	if (!t->fresh) {
		violate("n%d's table applied op %u of client %u request %u at index %llu, which the specification answers without the table (retransmission or stale)",
			n, c->op, c->client, c->req, (unsigned long long)i);
		return;
	}
	ck_table_checked++;
	if (t->res.status != res->status || t->res.count != res->count ||
	    t->res.token != res->token) {
		violate("n%d's table answered op %u of client %u at index %llu with (status %d, count %u, token %llx); the table specification says (%d, %u, %llx)",
			n, c->op, c->client, (unsigned long long)i,
			res->status, res->count,
			(unsigned long long)res->token, t->res.status,
			t->res.count, (unsigned long long)t->res.token);
		return;
	}
	for (k = 0; k < nev || k < t->nev; k++) {
		const struct ts_wd *w = &O.ev[t->ev_at + k];

		if (k >= nev || k >= t->nev || w->node != ev[k].node ||
		    w->client != ev[k].client || w->cookie != ev[k].cookie ||
		    w->status != ev[k].status || w->token != ev[k].token) {
			violate("n%d's table gave %d wait answers at index %llu, the specification %u; answer %d: table (client %u cookie %llu status %d token %llx), specification (client %u cookie %llu status %d token %llx)",
				n, nev, (unsigned long long)i, t->nev, k,
				k < nev ? ev[k].client : 0,
				(unsigned long long)(k < nev ? ev[k].cookie : 0),
				k < nev ? ev[k].status : 0,
				(unsigned long long)(k < nev ? ev[k].token : 0),
				k < t->nev ? w->client : 0,
				(unsigned long long)(k < t->nev ? w->cookie : 0),
				k < t->nev ? w->status : 0,
				(unsigned long long)(k < t->nev ? w->token : 0));
			return;
		}
	}
	ck_table_waits += (u64)nev;
	if (t->state != state)
		violate("n%d's table state after index %llu (op %u) differs from the specification's (holders, counts, tokens, stamps, values, queue order)",
			n, (unsigned long long)i, c->op);
}

bool ck_table_gap(void)
{
	advance(CK.max);
	return O.gap;
}

/* sim -T: the specification's holders and waiters of @lock at the end. */
int ck_table_entries(u32 lock, struct ts_view *out, int max)
{
	advance(CK.max);
	if (O.gap)
		return -1;
	return tspec_entries(lock, out, max);
}
