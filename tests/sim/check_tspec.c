// SPDX-License-Identifier: GPL-2.0
/*
 * Sequential specification of the lock table's lock objects (tspec.h),
 * written from docs/protocol.md section 11 and the table's documented
 * answers (kmod/table.h), for the commands the simulated clients send.
 * Lists are kept in the order their entries were made (holders in grant
 * order, waiters in FIFO order), which is the order the table answers in.
 */
#include <stdio.h>
#include <string.h>
#include "tspec.h"
#include "table_sm.h"
#include "check.h"

struct ts_ent {
	u8 mode;
	bool detached, no_ttl;
	u16 node;		/* requesting session (node, client) */
	u32 client;
	u64 tag;		/* session-bound owner tag */
	u8 olen;		/* detached owner string */
	char owner[DL_OWNER_MAX];
	u32 count;
	u64 token, stamp, cookie;
	u64 seq;		/* when it joined its session's list */
	u32 wait_ms;
	u32 vlen;
	u64 vhash;
};

struct ts_lock {
	u32 permits;
	u8 mode;		/* of the last grant */
	int nh, nw;
	struct ts_ent h[TS_ENTS];	/* grant order */
	struct ts_ent w[TS_ENTS];	/* FIFO */
};

static struct {
	struct ts_lock l[TS_LOCKS];
	u64 last_token;
	u64 seq;
	u64 tomb[4096];		/* clients whose CLIENT_END committed */
	int ntomb;
	/* the entry being applied */
	u64 index, log_token;
	struct ts_wd *ev;
	int *nev;
} P;

u32 ts_lock_name(char *buf, u32 k)
{
	/* "lock/%u" by hand: the checker asks for names millions of times */
	char digits[10];
	u32 n = 0, len = 5;

	memcpy(buf, "lock/", 5);
	do {
		digits[n++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	while (n)
		buf[len++] = digits[--n];
	buf[len] = '\0';
	return len;
}

int ts_lock_of(const char *name, u32 len)
{
	char buf[16];
	u32 k;

	for (k = 0; k < TS_LOCKS; k++)
		if (ts_lock_name(buf, k) == len && !memcmp(buf, name, len))
			return (int)k;
	return -1;
}

u64 ts_mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

u64 ts_bytes(const void *p, u32 len)
{
	const u8 *b = p;
	u64 h = len;
	u32 i;

	for (i = 0; i < len; i++)
		h = ts_mix(h, b[i]);
	return h;
}

void tspec_reset(void)
{
	memset(&P, 0, sizeof(P));
}

static u64 key_of(u16 node, u32 client)
{
	return (u64)node << 32 | client;
}

static bool ent_owner_eq(const struct ts_ent *e, const struct tsm_body *b,
			 u16 node, u32 client)
{
	if (b->owner_len)
		return e->detached && e->olen == b->owner_len &&
		       !memcmp(e->owner, b->owner, b->owner_len);
	return !e->detached && e->node == node && e->client == client &&
	       e->tag == b->tag;
}

static void del(struct ts_ent *a, int *n, int i)
{
	memmove(&a[i], &a[i + 1], sizeof(*a) * (*n - i - 1));
	(*n)--;
}

static u64 next_token(void)
{
	P.last_token = max(P.last_token + 1, P.log_token);
	return P.last_token;
}

static bool grantable(const struct ts_lock *l, u8 mode)
{
	if (l->permits)
		return (u32)l->nh < l->permits;
	return !l->nh || (mode == DL_MODE_SHARED && l->mode == DL_MODE_SHARED);
}

static void event(const struct ts_ent *w, s32 status, u64 token)
{
	if (*P.nev >= TS_EV_MAX) {
		violate("table spec: more than %d wait answers at index %llu",
			TS_EV_MAX, (unsigned long long)P.index);
		return;
	}
	P.ev[(*P.nev)++] = (struct ts_wd){ w->node, w->client, w->cookie,
					    status, token };
}

/* Makes @e a holder of @l at the current index (fresh or from the queue). */
static struct ts_ent *hold(struct ts_lock *l, const struct ts_ent *e)
{
	struct ts_ent *h;

	if (l->nh == TS_ENTS) {
		violate("table spec: more than %d holders", TS_ENTS);
		return NULL;
	}
	h = &l->h[l->nh++];
	*h = *e;
	h->token = next_token();
	h->count = 1;
	h->stamp = P.index;
	h->seq = ++P.seq;
	h->vlen = 0;
	h->vhash = 0;
	h->cookie = 0;
	h->wait_ms = 0;
	l->mode = e->mode;
	return h;
}

/* Hand-off: the head of the queue while it fits, in FIFO order. */
static void settle(struct ts_lock *l)
{
	while (l->nw && grantable(l, l->w[0].mode)) {
		struct ts_ent w = l->w[0];
		struct ts_ent *h;

		del(l->w, &l->nw, 0);
		h = hold(l, &w);
		if (h)
			event(&w, 0, h->token);
	}
}

static int find_holder(const struct ts_lock *l, const struct tsm_body *b,
		       u16 node, u32 client)
{
	int i;

	for (i = 0; i < l->nh; i++)
		if (ent_owner_eq(&l->h[i], b, node, client))
			return i;
	return -1;
}

static int find_wait(const struct ts_lock *l, u64 key, u64 cookie)
{
	int i;

	for (i = 0; i < l->nw; i++)
		if (key_of(l->w[i].node, l->w[i].client) == key &&
		    l->w[i].cookie == cookie)
			return i;
	return -1;
}

static bool same_owner(const struct ts_ent *a, const struct ts_ent *b)
{
	if (a->detached || b->detached)
		return a->detached && b->detached && a->olen == b->olen &&
		       !memcmp(a->owner, b->owner, a->olen);
	return a->node == b->node && a->client == b->client &&
	       a->tag == b->tag;
}

/* Whether an entry in @bmode keeps a wait in @wmode on @l from its grant. */
static bool blocks(const struct ts_lock *l, u8 bmode, u8 wmode)
{
	if (l->permits)		/* several permits: no one in particular */
		return l->permits == 1;
	return bmode == DL_MODE_EXCLUSIVE || wmode == DL_MODE_EXCLUSIVE;
}

/*
 * The wait-for graph of kmod/table_deadlk.c, walked whole: would @req,
 * queued at the tail of @l0 in @mode, wait for itself?  A wait waits for
 * the holders of its lock and the waiters ahead of it that block it, and
 * through each of them for every wait of their owner.
 */
static bool would_deadlock(const struct ts_lock *l0, u8 mode,
			   const struct ts_ent *req)
{
	static struct { const struct ts_lock *l; u8 mode; int pos; }
		st[TS_LOCKS * TS_ENTS + 1];
	static const struct ts_ent *seen[TS_LOCKS * TS_ENTS * 2];
	int n = 0, nseen = 0, i, j, k, m;

	st[n++] = (typeof(st[0])){ l0, mode, l0->nw };
	while (n) {
		const struct ts_lock *l = st[--n].l;
		u8 wmode = st[n].mode;
		int pos = st[n].pos;

		for (i = 0; i < l->nh + pos; i++) {
			const struct ts_ent *b = i < l->nh ? &l->h[i] :
						 &l->w[i - l->nh];

			if (!blocks(l, b->mode, wmode))
				continue;
			if (same_owner(b, req))
				return true;
			for (j = 0; j < nseen && !same_owner(seen[j], b); j++)
				;
			if (j < nseen)
				continue;
			seen[nseen++] = b;
			for (k = 0; k < TS_LOCKS; k++)
				for (m = 0; m < P.l[k].nw; m++)
					if (same_owner(&P.l[k].w[m], b))
						st[n++] = (typeof(st[0])){
							&P.l[k], P.l[k].w[m].mode, m };
		}
	}
	return false;
}

u64 tspec_deadlocks;

static int acquire(struct ts_lock *l, const struct repl_cmd *c,
		   const struct tsm_body *b, struct repl_result *res)
{
	bool detached = b->flags & DL_ACQ_DETACHED;
	bool no_ttl = b->flags & DL_ACQ_NO_TTL;
	struct ts_ent e, *h;
	int i;

	if (!c->ttl != no_ttl || !!b->owner_len != detached ||
	    (detached && no_ttl) || b->mode > DL_MODE_SEMAPHORE ||
	    (b->mode == DL_MODE_SEMAPHORE) != !!b->permits)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	e.mode = b->mode;
	e.detached = detached;
	e.no_ttl = no_ttl;
	e.node = c->node;
	e.client = c->client;
	e.tag = detached ? 0 : b->tag;
	e.olen = (u8)b->owner_len;
	memcpy(e.owner, b->owner, b->owner_len);
	if (l->nh || l->nw) {
		if (l->permits != b->permits)
			return -EINVAL;		/* the lock's kind is fixed */
		i = find_holder(l, b, c->node, c->client);
		if (i >= 0) {
			h = &l->h[i];
			if (h->mode != b->mode)
				return -EDEADLK;	/* would wait on itself */
			h->count++;
			h->stamp = P.index;
			res->token = h->token;
			res->count = h->count;
			return 0;
		}
	} else {
		l->permits = b->permits;
	}
	if (!l->nw && grantable(l, b->mode)) {
		h = hold(l, &e);
		if (!h)
			return -ENOSPC;
		res->token = h->token;
		res->count = 1;
		return 0;
	}
	if (b->flags & DL_ACQ_TRY)
		return -EAGAIN;
	for (i = 0; i < l->nw; i++)
		if (ent_owner_eq(&l->w[i], b, c->node, c->client))
			return -EALREADY;
	if (would_deadlock(l, b->mode, &e)) {
		tspec_deadlocks++;
		return -EDEADLK;
	}
	if (l->nw == TS_ENTS) {
		violate("table spec: more than %d waiters", TS_ENTS);
		return -ENOSPC;
	}
	e.cookie = b->cookie;
	e.wait_ms = b->wait_ms;
	e.stamp = P.index;
	e.seq = ++P.seq;
	l->w[l->nw++] = e;
	return REPL_QUEUED;
}

/* Release, renew, set-value: the holder @b names, or why there is none. */
static int find_own(struct ts_lock *l, const struct repl_cmd *c,
		    const struct tsm_body *b)
{
	int i;

	if (!l->nh)
		return -ENOENT;
	i = find_holder(l, b, c->node, c->client);
	return i >= 0 ? i : -EPERM;
}

static void end_holder(struct ts_lock *l, int i)
{
	del(l->h, &l->nh, i);
}

static int by_token(const struct ts_lock *l, u64 token)
{
	int i;

	for (i = 0; i < l->nh; i++)
		if (l->h[i].token == token)
			return i;
	return -1;
}

static int do_break(struct ts_lock *l, u32 k, u64 token)
{
	int i;

	if (!l->nh)
		return -ENOENT;
	if (token) {
		i = by_token(l, token);
		if (i < 0)
			return -ENOENT;
		sim_broken(k, token);
		end_holder(l, i);
	} else {
		/* every holder first, then the queue */
		while (l->nh) {
			sim_broken(k, l->h[0].token);
			end_holder(l, 0);
		}
	}
	settle(l);
	return 0;
}

static int do_expire(struct ts_lock *l, const struct tsm_body *b)
{
	struct ts_ent w;
	int i;

	if (b->flags & TSM_EXPIRE_WAIT) {
		i = find_wait(l, b->tag, b->cookie);
		if (i < 0)
			return -ENOENT;
		if (l->w[i].stamp != b->stamp || !l->w[i].wait_ms)
			return -ESTALE;
		w = l->w[i];
		del(l->w, &l->nw, i);
		event(&w, -ETIMEDOUT, 0);
		settle(l);
		return 0;
	}
	i = by_token(l, b->token);
	if (i < 0)
		return -ENOENT;
	if (l->h[i].no_ttl)
		return -EINVAL;
	if (l->h[i].stamp != b->stamp)
		return -ESTALE;		/* renewed after it was proposed */
	end_holder(l, i);
	settle(l);
	return 0;
}

/*
 * The session @key's entries in shard order, and in each shard its waits
 * then its leases, each in the order they joined the session, with stamp
 * at most @cutoff (all: ~0).  Grants made meanwhile are stamped with this
 * index, above any cutoff, so they stay.
 */
/* @now: entries stamped with it (granted by the ending entry) end too */
static int end_session(u64 key, u64 cutoff, u64 now)
{
	u32 sh[TS_LOCKS], shard, next, k;
	int n = 0, pass;

	for (k = 0; k < TS_LOCKS; k++)
		sh[k] = tablesim_shard_of(k);
	/* the shards of the locks, in ascending order, as the table walks */
	for (shard = 0;; shard = next + 1) {
		next = ~0u;
		for (k = 0; k < TS_LOCKS; k++)
			if (sh[k] >= shard && sh[k] < next)
				next = sh[k];
		if (next == ~0u)
			break;
		for (pass = 0; pass < 2; pass++) {
			for (;;) {
				struct ts_lock *bl = NULL;
				u64 best = ~0ULL;
				int bi = -1, i;

				for (k = 0; k < TS_LOCKS; k++) {
					struct ts_lock *l = &P.l[k];
					struct ts_ent *a = pass ? l->h : l->w;
					int na = pass ? l->nh : l->nw;

					if (sh[k] != next)
						continue;
					for (i = 0; i < na; i++)
						if ((!pass || !a[i].detached) &&
						    key_of(a[i].node, a[i].client) == key &&
						    (a[i].stamp <= cutoff ||
						     a[i].stamp == now) &&
						    a[i].seq < best) {
							best = a[i].seq;
							bl = l;
							bi = i;
						}
				}
				if (!bl)
					break;
				if (pass)
					end_holder(bl, bi);
				else
					del(bl->w, &bl->nw, bi);
				n++;
				settle(bl);
			}
		}
	}
	return n;
}

static bool ended(u64 key)
{
	int i;

	for (i = 0; i < P.ntomb; i++)
		if (P.tomb[i] == key)
			return true;
	return false;
}

void tspec_apply(const struct repl_cmd *c, u64 i, u64 epoch,
		 struct repl_result *res, struct ts_wd *ev, int *nev)
{
	u64 key = key_of(c->node, c->client);
	struct ts_lock *l = NULL;
	struct tsm_body b;
	int k = -1, h, st = 0;

	P.index = i;
	P.log_token = repl_token(epoch, i);
	P.ev = ev;
	P.nev = nev;
	*nev = 0;
	memset(res, 0, sizeof(*res));
	res->index = i;
	if (c->flags || tsm_decode(c, &b)) {
		res->status = -EINVAL;
		return;
	}
	if (b.name_len) {
		k = ts_lock_of(b.name, b.name_len);
		if (k < 0) {
			violate("table spec: a command on a name the clients do not use");
			return;
		}
		l = &P.l[k];
	}
	switch (c->op) {
	case REPL_OP_NOOP:
	case REPL_OP_EPOCH:
		return;
	case REPL_OP_EXPIRE:
		res->status = do_expire(l, &b);
		return;
	case REPL_OP_SESSION_END:
		{
			/* every client of the node, in client order */
			u64 keys[256];
			int nk = 0, a, z;

			for (k = 0; k < TS_LOCKS; k++) {
				struct ts_lock *x = &P.l[k];

				for (a = 0; a < x->nh + x->nw; a++) {
					struct ts_ent *e = a < x->nh ?
						&x->h[a] : &x->w[a - x->nh];
					u64 ek = key_of(e->node, e->client);

					if (e->node != c->node ||
					    (a < x->nh && e->detached))
						continue;
					for (z = 0; z < nk && keys[z] != ek; z++)
						;
					if (z == nk && nk < 256)
						keys[nk++] = ek;
				}
			}
			for (a = 0; a < nk; a++)
				for (z = a + 1; z < nk; z++)
					if (keys[z] < keys[a]) {
						u64 t = keys[a];

						keys[a] = keys[z];
						keys[z] = t;
					}
			/* until a walk ends nothing (a grant to a later one) */
			do {
				z = 0;
				for (a = 0; a < nk; a++)
					z += end_session(keys[a],
							 min(c->arg, i - 1), i);
				res->count += (u32)z;
			} while (z);
		}
		return;
	case REPL_OP_CLIENT_END:
		if (!ended(key)) {
			if (P.ntomb == 4096)
				violate("table spec: more than 4096 ended clients");
			else
				P.tomb[P.ntomb++] = key;
		}
		end_session(key, ~0ULL, 0);
		return;
	default:
		break;
	}
	if (ended(key)) {
		res->status = -ESHUTDOWN;
		return;
	}
	switch (c->op) {
	case REPL_OP_ACQUIRE:
		st = acquire(l, c, &b, res);
		break;
	case REPL_OP_RELEASE:
		st = h = find_own(l, c, &b);
		if (h < 0)
			break;
		st = 0;
		res->count = --l->h[h].count;
		if (!res->count) {
			end_holder(l, h);
			settle(l);
		}
		break;
	case REPL_OP_RENEW:
		st = h = find_own(l, c, &b);
		if (h < 0)
			break;
		st = 0;
		if (!c->ttl)
			st = -EINVAL;	/* a renewal needs a TTL */
		else
			l->h[h].stamp = i;
		break;
	case REPL_OP_SET_VALUE:
		st = h = find_own(l, c, &b);
		if (h < 0)
			break;
		st = 0;
		l->h[h].vlen = b.value_len;
		l->h[h].vhash = ts_bytes(b.value, b.value_len);
		break;
	case REPL_OP_CANCEL:
		h = find_wait(l, key, b.cookie);
		if (h < 0) {
			st = -ENOENT;
			break;
		}
		del(l->w, &l->nw, h);
		settle(l);
		break;
	case REPL_OP_BREAK:
		st = b.privileged ? do_break(l, (u32)k, b.token) : -EPERM;
		break;
	default:
		st = -EINVAL;
		break;
	}
	res->status = st;
}

/* The same walk as tablesim_state() over the real table. */
u64 tspec_state(void)
{
	u64 d = 0;
	u32 k;
	int i;

	for (k = 0; k < TS_LOCKS; k++) {
		const struct ts_lock *l = &P.l[k];

		if (!l->nh && !l->nw)
			continue;
		d = ts_mix(ts_mix(d, k), (u64)l->permits << 32 |
			   (u64)l->nh << 16 | (u64)l->nw);
		for (i = 0; i < l->nh; i++) {
			const struct ts_ent *e = &l->h[i];

			d = ts_mix(d, e->token);
			d = ts_mix(d, (u64)e->count << 8 | e->mode);
			d = ts_mix(d, e->stamp);
			d = ts_mix(d, e->detached ? ts_bytes(e->owner, e->olen) :
				   key_of(e->node, e->client) ^ e->tag << 40);
			d = ts_mix(d, e->vlen ? e->vhash : 0);
		}
		for (i = 0; i < l->nw; i++) {
			const struct ts_ent *e = &l->w[i];

			d = ts_mix(d, key_of(e->node, e->client));
			d = ts_mix(d, e->cookie);
			d = ts_mix(d, (u64)e->mode << 32 | e->wait_ms);
			d = ts_mix(d, e->stamp);
		}
	}
	return d;
}

int tspec_entries(u32 k, struct ts_view *out, int max)
{
	const struct ts_lock *l;
	int i, n = 0;

	if (k >= TS_LOCKS)
		return 0;
	l = &P.l[k];
	for (i = 0; i < l->nh + l->nw && n < max; i++) {
		const struct ts_ent *e = i < l->nh ? &l->h[i] : &l->w[i - l->nh];

		out[n++] = (struct ts_view){ i >= l->nh, e->detached,
			e->no_ttl, e->node, e->client, e->token, e->stamp,
			e->wait_ms };
	}
	return n;
}

/* The session of (node, client) holds or waits for something. */
bool tspec_busy(u16 node, u32 client)
{
	int k, i;

	for (k = 0; k < TS_LOCKS; k++) {
		const struct ts_lock *l = &P.l[k];

		for (i = 0; i < l->nh + l->nw; i++) {
			const struct ts_ent *e = i < l->nh ? &l->h[i] :
							     &l->w[i - l->nh];

			if (!e->detached && e->node == node &&
			    e->client == client)
				return true;
		}
	}
	return false;
}
