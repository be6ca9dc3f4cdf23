// SPDX-License-Identifier: GPL-2.0
/*
 * dlock replication core.  See repl.h for the interface and
 * docs/protocol.md for the protocol, its rules and why they are safe.
 */
#include "compat.h"
#include "repl.h"
#include "wire.h"

#ifndef REPL_MUTATION
#define REPL_MUTATION 0
#endif

#define NS_PER_SEC	1000000000ULL
#define SNAP_HDR	16	/* epoch u64, dedup count u32, pad u32 */
#define DEDUP_REC	40
#define SNAP_WINDOW	4	/* snapshot chunks in flight to one peer */

struct repl_peer {
	u64 inc;		/* latest incarnation heard from the peer */
	u64 next;		/* leader: next index to send */
	u64 match;		/* leader: highest index known replicated */
	u64 acked_lt;		/* leader: latest of our t_send it echoed */
	u64 echo;		/* leader: latest of its t_send to echo back */
	u64 last_heard;		/* leader: our clock when last heard */
	bool recovering;	/* leader: its acks do not count */
	bool sess_ended;	/* leader: SESSION_END proposed this silence */
	bool voted;		/* candidate: granted us its vote */
	u64 snap_acked;		/* leader: bytes of r->tx the peer holds */
	u64 snap_sent;		/* leader: bytes of r->tx sent to it */
	/* recovery round answers */
	bool rec_got;
	u8 rec_flags;
	u64 rec_term;
	u64 rec_last;
};

struct repl_dedup {
	u32 client;
	u32 req;
	u64 used;		/* log index of last use, for eviction */
	struct repl_result res;
};

struct repl {
	struct repl_cfg cfg;
	struct repl_env env;
	const struct repl_sm_ops *ops;
	void *sm;

	u8 role;
	bool catching_up;
	bool fresh;
	u16 leader;
	u16 voted_for;
	u64 term;
	u64 boot;		/* 'now' at create */

	/* log: entries first..last live in ring[i % log_cap] */
	struct repl_entry *ring;
	u64 first;
	u64 last;
	u64 snap_term;		/* term of entry first - 1 */
	u64 commit;
	u64 applied;
	u32 wipes;		/* lives of the log: commit restarts at 0 */
	u64 epoch;		/* replicated: set by the world's first EPOCH */

	/* timers (our clock) */
	u64 elect_at;
	u64 hb_at;
	u64 cand_start;
	u64 rec_at;
	u64 catchup_until;
	u64 catchup_target;
	u32 rec_nonce;

	u64 grant_after;
	u64 epoch_after;	/* wall ns: a new world's epoch must pass this */
	bool epoch_sent;	/* leader: our EPOCH entry is in the log */
	u64 sess_until;
	u32 sess_gen;

	u64 rng;
	struct repl_peer peer[REPL_MAX_NODES];
	struct repl_dedup *dedup;
	u32 nr_dedup;
	/* leader: the snapshot lagging peers get, kept while it is of use */
	u8 *tx;
	u64 tx_len;
	u64 tx_index;		/* last index it covers */
	u64 tx_term;		/* and that entry's term */
	/* follower: the snapshot being received, installed once complete */
	u8 *rx;
	u64 rx_len;
	u64 rx_have;		/* bytes received in a row from offset 0 */
	u64 rx_index;
	u64 rx_term;
	u64 rx_lead;		/* term of the leader sending it */
	u32 chunk;		/* snapshot bytes per SNAP */
	u64 nr_built, nr_chunks, nr_installed;

	struct repl_msg *out;	/* scratch for outgoing messages */
	struct repl_cmd tmp;	/* scratch command: too big for the stack */
};

/* ---- small helpers ---------------------------------------------------- */

static u64 rng_next(struct repl *r)
{
	u64 x = r->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static u32 majority(const struct repl *r)
{
	return r->cfg.nr_nodes / 2 + 1;
}

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

static struct repl_entry *ent_at(const struct repl *r, u64 i)
{
	return &r->ring[i % r->cfg.log_cap];
}

/* Copies the used part of a command only: data past len is undefined. */
static void cmd_copy(struct repl_cmd *dst, const struct repl_cmd *src)
{
	memcpy(dst, src, offsetof(struct repl_cmd, data) +
	       min((u32)src->len, (u32)REPL_DATA_MAX));
}

static void ent_copy(struct repl_entry *dst, const struct repl_entry *src)
{
	dst->term = src->term;
	cmd_copy(&dst->cmd, &src->cmd);
}

/* Term of entry i, or U64_MAX when not known (compacted or absent). */
static u64 term_at(const struct repl *r, u64 i)
{
	if (i == 0)
		return 0;
	if (i == r->first - 1)
		return r->snap_term;
	if (i >= r->first && i <= r->last)
		return ent_at(r, i)->term;
	return ~0ULL;
}

static void elect_reset(struct repl *r, u64 now)
{
	u64 span = r->cfg.elect_max_ns - r->cfg.elect_min_ns;

	r->elect_at = now + r->cfg.elect_min_ns + (span ? rng_next(r) % span : 0);
}

static struct repl_msg *msg_new(struct repl *r, u8 type, u16 to)
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

static void msg_send(struct repl *r)
{
	r->env.send(r->env.ctx, r->out);
}

/* Session of this node: leases of its clients are good until sess_until. */
static void sess_extend(struct repl *r, u64 from, u64 now)
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

static bool log_room(struct repl *r)
{
	if (r->last - r->first + 1 < r->cfg.log_cap)
		return true;
	compact(r);
	return r->last - r->first + 1 < r->cfg.log_cap;
}

static void log_truncate(struct repl *r, u64 after)
{
	if (after < r->last)
		r->last = after;
}

/* ---- dedup ---------------------------------------------------------------- */

static struct repl_dedup *dedup_find(struct repl *r, u32 client)
{
	u32 i;

	for (i = 0; i < r->nr_dedup; i++)
		if (r->dedup[i].client == client)
			return &r->dedup[i];
	return NULL;
}

static struct repl_dedup *dedup_slot(struct repl *r, u32 client)
{
	struct repl_dedup *d = NULL;
	u32 i;

	if (r->nr_dedup < r->cfg.max_clients) {
		d = &r->dedup[r->nr_dedup++];
	} else {
		/* evict the least recently used, same choice on every node */
		d = &r->dedup[0];
		for (i = 1; i < r->nr_dedup; i++)
			if (REPL_MUTATION == REPL_MUT_DEDUP_EVICT_MRU ?
			    r->dedup[i].used > d->used :
			    r->dedup[i].used < d->used)
				d = &r->dedup[i];
	}
	memset(d, 0, sizeof(*d));
	d->client = client;
	return d;
}

/* ---- snapshot buffers ------------------------------------------------- */

static void tx_drop(struct repl *r)
{
	if (r->tx)
		r->env.free(r->env.ctx, r->tx);
	r->tx = NULL;
	r->tx_len = 0;
}

static void rx_drop(struct repl *r)
{
	if (r->rx)
		r->env.free(r->env.ctx, r->rx);
	r->rx = NULL;
	r->rx_len = 0;
	r->rx_have = 0;
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
		return true;
	default:
		return false;
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
		return;
	case REPL_OP_EXPIRE:
	case REPL_OP_SESSION_END:
		r->ops->apply(r->sm, c, i, repl_token(r->epoch, i), now, &res);
		return;
	default:
		break;
	}
	if (!is_client_op(c->op))
		return;
	d = dedup_find(r, c->client);
	if (REPL_MUTATION == REPL_MUT_DEDUP_BY_REQ) {
		u32 k;

		for (k = 0; k < r->nr_dedup; k++)
			if (r->dedup[k].req == c->req)
				d = &r->dedup[k];
	}
	if (d && c->req == d->req) {
		res = d->res;		/* retransmission: same answer */
	} else if (d && c->req < d->req) {
		res.status = -ESTALE;	/* older than one already done */
	} else if (!r->epoch) {
		res.status = -EAGAIN;	/* cannot happen: EPOCH comes first */
	} else {
		r->ops->apply(r->sm, c, i,
			      repl_token(r->epoch,
					 REPL_MUTATION == REPL_MUT_TOKEN_LOCAL ?
					 r->last : i), now, &res);
		res.index = i;
		if (!d)
			d = dedup_slot(r, c->client);
		d->req = c->req;
		d->res = res;
	}
	if (d)
		d->used = i;
	if (c->node == r->cfg.self && r->env.reply)
		r->env.reply(r->env.ctx, c, &res);
}

static void apply_committed(struct repl *r, u64 now)
{
	while (r->applied < r->commit && r->applied < r->last) {
		r->applied++;
		if (r->applied >= r->first)
			apply_one(r, r->applied, now);
	}
	if (r->last - r->first + 1 > r->cfg.log_cap / 4 * 3)
		compact(r);
	/* a snapshot in reception that the log overtook is of no use */
	if (r->rx && r->rx_index <= r->commit)
		rx_drop(r);
	if (r->catching_up && r->commit >= r->catchup_target) {
		r->catching_up = false;
		elect_reset(r, now);
	}
}

/* ---- snapshot ------------------------------------------------------------ */

/*
 * The leader serializes the state once, at its applied index, and sends
 * that buffer to every lagging peer.  It stays useful while the log still
 * holds every entry after it; once compaction passed it, a peer installing
 * it could not continue from the log, so it is built again and every
 * transfer starts over.
 */
static int tx_prepare(struct repl *r)
{
	u64 hdr = SNAP_HDR + (u64)r->nr_dedup * DEDUP_REC, size, off = SNAP_HDR;
	u32 i;
	s64 n;
	u8 *b;

	if (r->tx && r->tx_index + 1 >= r->first)
		return 0;
	tx_drop(r);
	size = r->ops->save_size(r->sm);
	if (size > r->cfg.max_snap_bytes || hdr > r->cfg.max_snap_bytes - size)
		return -ENOSPC;
	b = r->env.alloc(r->env.ctx, hdr + size);
	if (!b)
		return -ENOMEM;
	dl_put_le64(b, r->epoch);
	dl_put_le64(b + 8, r->nr_dedup);
	for (i = 0; i < r->nr_dedup; i++, off += DEDUP_REC) {
		struct repl_dedup *d = &r->dedup[i];

		dl_put_le64(b + off, (u64)d->client | (u64)d->req << 32);
		dl_put_le64(b + off + 8, d->used);
		dl_put_le64(b + off + 16, (u64)(u32)d->res.status |
					  (u64)d->res.count << 32);
		dl_put_le64(b + off + 24, d->res.token);
		dl_put_le64(b + off + 32, d->res.index);
	}
	n = r->ops->save(r->sm, b + hdr, size);
	if (n < 0 || (u64)n > size) {
		r->env.free(r->env.ctx, b);
		return n < 0 ? (int)n : -ENOSPC;
	}
	r->tx = b;
	r->tx_len = hdr + (u64)n;
	r->tx_index = r->applied;
	if (REPL_MUTATION == REPL_MUT_SNAP_OFF_BY_ONE && r->applied < r->last)
		r->tx_index++;
	r->tx_term = term_at(r, r->tx_index);
	r->nr_built++;
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		r->peer[i].snap_acked = 0;
		r->peer[i].snap_sent = 0;
	}
	return 0;
}

static int snap_install(struct repl *r, const u8 *b, u64 len, u64 now)
{
	u64 nd;
	u32 i, off = SNAP_HDR;

	if (len < SNAP_HDR)
		return -EINVAL;
	nd = dl_get_le64(b + 8);
	if (nd > r->cfg.max_clients || len - SNAP_HDR < nd * DEDUP_REC)
		return -EINVAL;
	if (r->ops->load(r->sm, b + SNAP_HDR + nd * DEDUP_REC,
			 len - SNAP_HDR - nd * DEDUP_REC, now))
		return -EINVAL;
	r->epoch = dl_get_le64(b);
	r->nr_dedup = (u32)nd;
	for (i = 0; i < nd; i++, off += DEDUP_REC) {
		struct repl_dedup *d = &r->dedup[i];
		u64 a = dl_get_le64(b + off), s = dl_get_le64(b + off + 16);

		d->client = (u32)a;
		d->req = (u32)(a >> 32);
		d->used = dl_get_le64(b + off + 8);
		d->res.status = (s32)(u32)s;
		d->res.count = (u32)(s >> 32);
		d->res.token = dl_get_le64(b + off + 24);
		d->res.index = dl_get_le64(b + off + 32);
	}
	return 0;
}

/* ---- sending ------------------------------------------------------------- */

static u64 quorum_time(struct repl *r, u64 now)
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

static bool quorum_fresh(struct repl *r, u64 now)
{
	return now <= quorum_time(r, now) + r->cfg.elect_min_ns;
}

/* Up to @budget chunks of the snapshot, at most SNAP_WINDOW unacknowledged. */
static void send_snap(struct repl *r, u16 to, u32 budget, u64 now)
{
	struct repl_peer *p = &r->peer[to];
	struct repl_msg *m;
	u64 end;
	u32 n;

	if (tx_prepare(r))
		return;
	end = min(r->tx_len, p->snap_acked + (u64)SNAP_WINDOW * r->chunk);
	p->snap_sent = max(p->snap_sent, p->snap_acked);
	while (budget-- && p->snap_sent < end) {
		n = (u32)min((u64)r->chunk, r->tx_len - p->snap_sent);
		m = msg_new(r, REPL_MSG_SNAP, to);
		m->index = r->tx_index;
		m->log_term = r->tx_term;
		m->snap_len = r->tx_len;
		m->snap_off = p->snap_sent;
		m->blob = r->tx + p->snap_sent;
		m->blob_len = n;
		m->t_send = now;
		if (quorum_fresh(r, now))
			m->t_echo = p->echo;
		msg_send(r);
		p->snap_sent += n;
		r->nr_chunks++;
	}
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
		send_snap(r, to, 1, now);
		return;
	}
	m = msg_new(r, REPL_MSG_APPEND, to);
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
	m->t_send = now;
	/* echo only while a majority is known to follow us (see protocol.md) */
	if (quorum_fresh(r, now))
		m->t_echo = p->echo;
	msg_send(r);
}

static void broadcast_append(struct repl *r, u64 now)
{
	u16 i;

	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self)
			send_append(r, i, now);
	r->hb_at = now + r->cfg.hb_ns;
}

/* ---- roles ------------------------------------------------------------ */

static void become_follower(struct repl *r, u64 term, u64 now)
{
	if (term > r->term) {
		r->term = term;
		r->voted_for = REPL_NONE;
	}
	r->role = REPL_FOLLOWER;
	r->leader = REPL_NONE;
	tx_drop(r);	/* only a leader sends snapshots */
	elect_reset(r, now);
}

static void advance_commit(struct repl *r, u64 now)
{
	u64 n;
	u32 cnt, i;

	for (n = r->last; n > r->commit; n--) {
		if (term_at(r, n) != r->term &&
		    REPL_MUTATION != REPL_MUT_COMMIT_OLD_TERM)
			break;
		cnt = 1;
		for (i = 0; i < r->cfg.nr_nodes; i++)
			if (i != r->cfg.self && !r->peer[i].recovering &&
			    r->peer[i].match >= n)
				cnt++;
		if (cnt >= majority(r)) {
			r->commit = n;
			break;
		}
	}
	apply_committed(r, now);
}

static u64 wall_now(struct repl *r, u64 now)
{
	return r->cfg.wall_ns + (now - r->boot);
}

static int append_local(struct repl *r, const struct repl_cmd *c)
{
	struct repl_entry *e;

	if (!log_room(r))
		return -EBUSY;
	r->last++;
	e = ent_at(r, r->last);
	e->term = r->term;
	cmd_copy(&e->cmd, c);
	if (REPL_MUTATION == REPL_MUT_COMMIT_NO_MAJORITY)
		r->commit = r->last;
	return 0;
}

/*
 * A leader's first entry.  In a world that has no epoch yet (all nodes lost
 * memory) it carries a new epoch: the wall clock second, taken late enough
 * that it is above any epoch of the world before (see protocol.md).
 */
static void maybe_send_epoch(struct repl *r, u64 now)
{
	struct repl_cmd *c = &r->tmp;

	if (r->epoch_sent || (!r->epoch && wall_now(r, now) < r->epoch_after))
		return;
	memset(c, 0, offsetof(struct repl_cmd, data));
	c->op = REPL_OP_EPOCH;
	c->node = r->cfg.self;
	c->arg = wall_now(r, now) / NS_PER_SEC;
	if (append_local(r, c))
		return;
	r->epoch_sent = true;
	if (r->cfg.nr_nodes == 1) {
		r->commit = r->last;
		apply_committed(r, now);
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
	/* every lease's countdown restarts at our election */
	r->ops->restart_leases(r->sm, now);
	r->epoch_sent = false;
	maybe_send_epoch(r, now);
	broadcast_append(r, now);
}

static void start_election(struct repl *r, u64 now)
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
	elect_reset(r, now);
	if (r->cfg.nr_nodes == 1) {
		become_leader(r, now);
		return;
	}
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		if (i == r->cfg.self)
			continue;
		m = msg_new(r, REPL_MSG_VOTE_REQ, i);
		m->index = r->last;
		m->log_term = term_at(r, r->last);
		msg_send(r);
	}
}

/* ---- recovery --------------------------------------------------------- */

static void recover_round(struct repl *r, u64 now)
{
	struct repl_msg *m;
	u16 i;

	r->rec_nonce = (u32)rng_next(r) | 1;
	for (i = 0; i < r->cfg.nr_nodes; i++) {
		r->peer[i].rec_got = false;
		if (i == r->cfg.self)
			continue;
		m = msg_new(r, REPL_MSG_RECOVER_REQ, i);
		m->nonce = r->rec_nonce;
		msg_send(r);
	}
	r->rec_at = now + r->cfg.elect_min_ns;
}

static void wipe_log(struct repl *r)
{
	r->first = 1;
	r->last = 0;
	r->snap_term = 0;
	r->commit = 0;
	r->applied = 0;
	r->wipes++;
	r->epoch = 0;
	r->nr_dedup = 0;
	tx_drop(r);
	rx_drop(r);
	r->ops->reset(r->sm);
}

static void recover_done(struct repl *r, u64 now, u64 term, bool fresh,
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
	elect_reset(r, now);
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
		wipe_log(r);
		recover_done(r, now, t, true, REPL_NONE, 0);
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
	wipe_log(r);
	recover_done(r, now, maxterm, false, leader, target);
}

static void on_recover_req(struct repl *r, const struct repl_msg *in)
{
	struct repl_msg *m = msg_new(r, REPL_MSG_RECOVER_RESP, in->from);

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

static void on_recover_resp(struct repl *r, const struct repl_msg *m, u64 now)
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

static void on_vote_req(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_msg *m;
	bool ok = false;

	if (in->term > r->term)
		become_follower(r, in->term, now);
	if (in->term == r->term && !r->catching_up &&
	    in->term % r->cfg.nr_nodes == in->from &&
	    (r->voted_for == REPL_NONE || r->voted_for == in->from) &&
	    (up_to_date(r, in->log_term, in->index) ||
	     REPL_MUTATION == REPL_MUT_VOTE_ANY_LOG)) {
		ok = true;
		r->voted_for = in->from;
		elect_reset(r, now);
	}
	m = msg_new(r, REPL_MSG_VOTE_RESP, in->from);
	if (ok)
		m->flags |= REPL_F_OK;
	msg_send(r);
}

static void on_vote_resp(struct repl *r, const struct repl_msg *in, u64 now)
{
	u32 n = 1, i;

	if (r->role != REPL_CANDIDATE ||
	    (in->term != r->term &&
	     !(REPL_MUTATION == REPL_MUT_STALE_VOTE && in->term < r->term)) ||
	    !(in->flags & REPL_F_OK))
		return;
	r->peer[in->from].voted = true;
	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self && r->peer[i].voted)
			n++;
	if (n >= majority(r))
		become_leader(r, now);
}

/* Common prologue of APPEND and SNAP: false if the message is stale. */
static bool accept_leader(struct repl *r, const struct repl_msg *in, u64 now)
{
	if (in->term < r->term &&
	    !(REPL_MUTATION == REPL_MUT_APPEND_STALE_TERM &&
	      in->type == REPL_MSG_APPEND))
		return false;
	if (in->term > r->term || r->role != REPL_FOLLOWER)
		become_follower(r, in->term, now);
	r->leader = in->from;
	elect_reset(r, now);
	if (in->t_echo && !r->catching_up)
		sess_extend(r, in->t_echo, now);
	return true;
}

static void append_resp(struct repl *r, const struct repl_msg *in, bool ok,
			u64 index, u64 now)
{
	struct repl_msg *m = msg_new(r, REPL_MSG_APPEND_RESP, in->from);

	if (ok)
		m->flags |= REPL_F_OK;
	if (r->catching_up)
		m->flags |= REPL_F_RECOVERING;
	m->index = index;
	m->t_send = now;
	m->t_echo = in->t_send;
	msg_send(r);
}

static void on_append(struct repl *r, const struct repl_msg *in, u64 now)
{
	u64 prev = in->index, idx, upto;
	u16 k;

	if (!accept_leader(r, in, now)) {
		append_resp(r, in, false, 0, now);
		return;
	}
	if (prev > r->last) {
		append_resp(r, in, false, r->last + 1, now);
		return;
	}
	if (prev >= r->first - 1 && term_at(r, prev) != in->log_term) {
		/* conflict: ask for an earlier point, never below commit */
		append_resp(r, in, false, max(r->commit + 1, r->first), now);
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
		if (!log_room(r))
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
	apply_committed(r, now);
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
	append_resp(r, in, true, upto, now);
}

static void snap_resp(struct repl *r, const struct repl_msg *in, u64 have,
		      u64 now)
{
	struct repl_msg *m = msg_new(r, REPL_MSG_SNAP_RESP, in->from);

	if (r->catching_up)
		m->flags |= REPL_F_RECOVERING;
	m->index = in->index;
	m->log_term = in->log_term;
	m->snap_off = have;
	m->t_send = now;
	m->t_echo = in->t_send;
	msg_send(r);
}

/* Is @in a chunk of the snapshot we are receiving? */
static bool rx_same(const struct repl *r, const struct repl_msg *in)
{
	return r->rx && r->rx_lead == in->term && r->rx_index == in->index &&
	       r->rx_term == in->log_term && r->rx_len == in->snap_len;
}

/*
 * First chunk of a snapshot: a new buffer.  A chunk of an older snapshot of
 * the same leader (delayed in the network) does not replace a newer one.
 */
static bool rx_start(struct repl *r, const struct repl_msg *in)
{
	if (in->snap_off || in->snap_len < SNAP_HDR ||
	    in->snap_len > r->cfg.max_snap_bytes ||
	    (r->rx && r->rx_lead == in->term && in->index < r->rx_index))
		return false;
	rx_drop(r);
	r->rx = r->env.alloc(r->env.ctx, in->snap_len);
	if (!r->rx)
		return false;
	r->rx_len = in->snap_len;
	r->rx_have = 0;
	r->rx_index = in->index;
	r->rx_term = in->log_term;
	r->rx_lead = in->term;
	return true;
}

/* Every byte arrived: replace state, dedup table and log at once. */
static void rx_install(struct repl *r, const struct repl_msg *in, u64 now)
{
	/*
	 * entries after the snapshot that we already hold (and may have
	 * acknowledged) stay: a follower's log never loses acked entries
	 */
	bool keep = in->index + 1 >= r->first && in->index <= r->last &&
		    term_at(r, in->index) == in->log_term;
	int err = snap_install(r, r->rx, r->rx_len, now);

	rx_drop(r);
	if (err) {
		append_resp(r, in, false, r->commit + 1, now);
		return;
	}
	r->nr_installed++;
	r->first = in->index + 1;
	if (!keep || REPL_MUTATION == REPL_MUT_SNAP_DROPS_TAIL)
		r->last = in->index;
	r->snap_term = in->log_term;
	r->commit = in->index;
	r->applied = in->index;
	r->fresh = false;
	apply_committed(r, now);
	append_resp(r, in, true, in->index, now);
}

static void on_snap(struct repl *r, const struct repl_msg *in, u64 now)
{
	if (!accept_leader(r, in, now)) {
		append_resp(r, in, false, 0, now);
		return;
	}
	if (in->index <= r->commit) {
		/* we hold all of it (and it is committed): skip it */
		append_resp(r, in, true, in->index, now);
		return;
	}
	if (!rx_same(r, in) && !rx_start(r, in)) {
		/* not the start of one: tell the leader we hold nothing of it */
		if (in->snap_len <= r->cfg.max_snap_bytes)
			snap_resp(r, in, 0, now);
		return;
	}
	/* in order only: a gap or a repeat is answered with what we hold */
	if (in->snap_off == r->rx_have) {
		memcpy(r->rx + r->rx_have, in->blob, in->blob_len);
		r->rx_have += in->blob_len;
	}
	if (r->rx_have < r->rx_len)
		snap_resp(r, in, r->rx_have, now);
	else
		rx_install(r, in, now);
}

static void on_append_resp(struct repl *r, const struct repl_msg *in, u64 now)
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
	} else if (in->index) {
		u64 old_next = p->next;

		p->next = max((u64)1, min(p->next - 1, in->index));
		if (p->next <= p->match)
			p->next = p->match + 1;
		if (p->next != old_next)
			send_append(r, in->from, now);
	}
}

static void on_snap_resp(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_peer *p = &r->peer[in->from];

	if (r->role != REPL_LEADER || in->term != r->term)
		return;
	p->last_heard = max(p->last_heard, now);
	p->sess_ended = false;
	p->echo = max(p->echo, in->t_send);
	p->acked_lt = max(p->acked_lt, in->t_echo);
	p->recovering = in->flags & REPL_F_RECOVERING;
	if (!r->tx || p->next >= r->first || in->index != r->tx_index ||
	    in->log_term != r->tx_term)
		return;		/* an answer about another snapshot */
	if (in->snap_off > p->snap_acked) {
		/* moved forward: refill the window (one chain per answer) */
		p->snap_acked = min(in->snap_off, r->tx_len);
		send_snap(r, in->from, SNAP_WINDOW, now);
	} else if (in->snap_off < p->snap_acked) {
		/* it lost what it had, or the answer is old: resend later */
		p->snap_acked = in->snap_off;
		p->snap_sent = in->snap_off;
	}
}

static int propose(struct repl *r, struct repl_cmd *c, u64 now)
{
	int err;

	if (!r->epoch_sent)
		return -EAGAIN;		/* our first entry is not out yet */
	if (c->op == REPL_OP_ACQUIRE && now < r->grant_after)
		return -EAGAIN;		/* lock-delay after losing memory */
	err = append_local(r, c);
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
	if (r->cfg.nr_nodes == 1) {
		r->commit = r->last;
	}
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

/*
 * A client command as it goes into the log: the core owns node (set by the
 * caller), hold and arg.  ttl 0 is a session-bound lease, for ACQUIRE only:
 * a RENEW must name a length.  Other commands carry no lease length.
 */
static int check_cmd(struct repl *r, struct repl_cmd *c)
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

static void on_forward(struct repl *r, const struct repl_msg *in, u64 now)
{
	struct repl_cmd *c = &r->tmp;

	if (r->role != REPL_LEADER || in->n_ent != 1 || in->term != r->term ||
	    in->ent[0].cmd.len > REPL_DATA_MAX)
		return;
	cmd_copy(c, &in->ent[0].cmd);
	if (check_cmd(r, c))
		return;
	propose(r, c, now);
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
		on_recover_req(r, m);
		return;
	}
	if (m->type == REPL_MSG_RECOVER_RESP) {
		on_recover_resp(r, m, now);
		return;
	}
	if (r->role == REPL_RECOVERING)
		return;
	switch (m->type) {
	case REPL_MSG_VOTE_REQ:
		on_vote_req(r, m, now);
		break;
	case REPL_MSG_VOTE_RESP:
		if (m->term > r->term)
			become_follower(r, m->term, now);
		else
			on_vote_resp(r, m, now);
		break;
	case REPL_MSG_APPEND:
		on_append(r, m, now);
		break;
	case REPL_MSG_SNAP:
		on_snap(r, m, now);
		break;
	case REPL_MSG_APPEND_RESP:
		if (m->term > r->term)
			become_follower(r, m->term, now);
		else
			on_append_resp(r, m, now);
		break;
	case REPL_MSG_SNAP_RESP:
		if (m->term > r->term)
			become_follower(r, m->term, now);
		else
			on_snap_resp(r, m, now);
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
	err = check_cmd(r, c);
	if (err)
		return err;
	if (r->role == REPL_LEADER)
		return propose(r, c, now);
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
	m = msg_new(r, REPL_MSG_FORWARD, r->leader);
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
	u64 qt = quorum_time(r, now);

	if (now > qt + r->cfg.elect_min_ns) {
		/* lost touch with a majority: step down (see sessions) */
		become_follower(r, r->term, now);
		return;
	}
	sess_extend(r, qt, now);
	if (!r->epoch_sent) {
		maybe_send_epoch(r, now);
		if (r->epoch_sent)
			broadcast_append(r, now);
		else if (now >= r->hb_at)
			broadcast_append(r, now);
		return;
	}
	/* leases whose hold ran out on our clock */
	for (;;) {
		if (!log_room(r))
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
		propose(r, c, now);
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
		if (propose(r, c, now) == 0)
			p->sess_ended = true;
	}
	if (now >= r->hb_at)
		broadcast_append(r, now);
	/* the snapshot buffer goes once no peer needs it */
	for (i = 0; i < r->cfg.nr_nodes; i++)
		if (i != r->cfg.self && r->peer[i].next < r->first)
			break;
	if (i == r->cfg.nr_nodes)
		tx_drop(r);
}

static void tick(struct repl *r, u64 now)
{
	switch (r->role) {
	case REPL_RECOVERING:
		if (now >= r->rec_at)
			recover_round(r, now);
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
				wipe_log(r);
				recover_round(r, now);
			}
			break;
		}
		if (now >= r->elect_at)
			start_election(r, now);
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
	DL_ASSERT(r->term >= m->term);
	DL_ASSERT(r->role != REPL_LEADER ||
		  r->term % r->cfg.nr_nodes == r->cfg.self);
	if (r->wipes == m->wipes) {
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

u64 repl_next_timer(const struct repl *r)
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

void repl_status(const struct repl *r, struct repl_status *st)
{
	memset(st, 0, sizeof(*st));
	st->role = r->role;
	st->catching_up = r->catching_up;
	st->fresh = r->fresh;
	st->leader = r->leader;
	st->term = r->term;
	st->commit = r->commit;
	st->applied = r->applied;
	st->first_index = r->first;
	st->last_index = r->last;
	st->epoch = r->epoch;
	st->grant_after = r->grant_after;
	st->sess_until = r->sess_until;
	st->sess_gen = r->sess_gen;
	st->snap_built = r->nr_built;
	st->snap_chunks = r->nr_chunks;
	st->snap_installed = r->nr_installed;
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
	wipe_log(r);
	r->role = REPL_RECOVERING;
	r->grant_after = now + repl_hold(cfg->drift_ppm, cfg->max_ttl_ns);
	if (REPL_MUTATION == REPL_MUT_SKIP_RECOVERY) {
		/* planted bug: rejoin with an empty log, voting at once */
		r->role = REPL_FOLLOWER;
		r->fresh = true;
		elect_reset(r, now);
	} else if (cfg->nr_nodes == 1) {
		recover_done(r, now, 0, true, REPL_NONE, 0);
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
	tx_drop(r);
	rx_drop(r);
	if (r->out)
		r->env.free(ctx, r->out);
	r->env.free(ctx, r);
}
