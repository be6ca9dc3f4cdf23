// SPDX-License-Identifier: GPL-2.0
/*
 * Replication core: chunked snapshots.  The leader serializes its state once
 * and streams it in windows of chunks; a follower installs it once complete.
 */
#include "repl_int.h"

/* ---- snapshot buffers ------------------------------------------------- */

void repl_tx_drop(struct repl *r)
{
	if (r->tx)
		r->env.free(r->env.ctx, r->tx);
	r->tx = NULL;
	r->tx_len = 0;
}

void repl_rx_drop(struct repl *r)
{
	if (r->rx)
		r->env.free(r->env.ctx, r->rx);
	r->rx = NULL;
	r->rx_len = 0;
	r->rx_have = 0;
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
	repl_tx_drop(r);
	size = r->ops->save_size(r->sm);
	if (size > r->cfg.max_snap_bytes || hdr > r->cfg.max_snap_bytes - size)
		return -ENOSPC;
	b = r->env.alloc(r->env.ctx, hdr + size);
	if (!b)
		return -ENOMEM;
	dl_put_le64(b, r->epoch);
	dl_put_le64(b + 8, r->nr_dedup);
	for (i = 0; i < REPL_MAX_NODES; i++) {
		dl_put_le64(b + 16 + 8 * i, r->life[i]);
		dl_put_le64(b + SNAP_GONE + 8 * i, r->gone[i]);
	}
	for (i = 0; i < r->nr_dedup; i++, off += DEDUP_REC) {
		struct repl_dedup *d = &r->dedup[i];

		dl_put_le64(b + off, (u64)d->client | (u64)d->req << 32);
		dl_put_le64(b + off + 8, d->used);
		dl_put_le64(b + off + 16, (u64)(u32)d->res.status |
					  (u64)d->res.count << 32);
		dl_put_le64(b + off + 24, d->res.token);
		dl_put_le64(b + off + 32, d->res.index);
		dl_put_le64(b + off + 40, d->node);
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
	/* a slot's node indexes the floors: checked before anything changes */
	for (i = 0; i < nd; i++)
		if (dl_get_le64(b + SNAP_HDR + i * DEDUP_REC + 40) >=
		    REPL_MAX_NODES)
			return -EINVAL;
	if (r->ops->load(r->sm, b + SNAP_HDR + nd * DEDUP_REC,
			 len - SNAP_HDR - nd * DEDUP_REC,
			 repl_apply_time(r, now)))
		return -EINVAL;
	r->epoch = dl_get_le64(b);
	r->nr_dedup = (u32)nd;
	for (i = 0; i < REPL_MAX_NODES; i++) {
		r->life[i] = dl_get_le64(b + 16 + 8 * i);
		r->gone[i] = (u32)dl_get_le64(b + SNAP_GONE + 8 * i);
	}
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
		d->node = (u16)dl_get_le64(b + off + 40);
	}
	return 0;
}

/* Up to @budget chunks of the snapshot, at most SNAP_WINDOW unacknowledged. */
void repl_send_snap(struct repl *r, u16 to, u32 budget, u64 now)
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
		m = repl_msg_new(r, REPL_MSG_SNAP, to);
		m->index = r->tx_index;
		m->log_term = r->tx_term;
		m->snap_len = r->tx_len;
		m->snap_off = p->snap_sent;
		m->blob = r->tx + p->snap_sent;
		m->blob_len = n;
		m->t_send = now;
		if (repl_quorum_fresh(r, now))
			m->t_echo = p->echo;
		msg_send(r);
		p->snap_sent += n;
		r->nr_chunks++;
	}
}

static void snap_resp(struct repl *r, const struct repl_msg *in, u64 have,
		      u64 now)
{
	struct repl_msg *m = repl_msg_new(r, REPL_MSG_SNAP_RESP, in->from);

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
	repl_rx_drop(r);
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
		    (term_at(r, in->index) == in->log_term ||
		     REPL_MUTATION == REPL_MUT_SNAP_KEEPS_CONFLICT);
	int err;

	/*
	 * The leader has moved on since it took the snapshot, as far as we
	 * know: behind until its next APPEND says how far (repl_status).
	 */
	r->behind = true;
	err = snap_install(r, r->rx, r->rx_len, now);

	repl_rx_drop(r);
	if (err) {
		repl_append_resp(r, in, false, r->commit + 1, now);
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
	repl_apply_committed(r, now);
	repl_append_resp(r, in, true, in->index, now);
}

void repl_on_snap(struct repl *r, const struct repl_msg *in, u64 now)
{
	if (!repl_accept_leader(r, in, now)) {
		repl_append_resp(r, in, false, 0, now);
		return;
	}
	if (in->index <= r->commit) {
		/* we hold all of it (and it is committed): skip it */
		repl_append_resp(r, in, true, in->index, now);
		return;
	}
	if (!rx_same(r, in) && !rx_start(r, in)) {
		/* not the start of one: tell the leader we hold nothing of it */
		if (in->snap_len <= r->cfg.max_snap_bytes)
			snap_resp(r, in, 0, now);
		return;
	}
	/* in order only: a gap or a repeat is answered with what we hold */
	if (in->snap_off == r->rx_have ||
	    (REPL_MUTATION == REPL_MUT_SNAP_ANY_OFFSET &&
	     r->rx_have + in->blob_len <= r->rx_len)) {
		memcpy(r->rx + r->rx_have, in->blob, in->blob_len);
		r->rx_have += in->blob_len;
	}
	if (r->rx_have < r->rx_len)
		snap_resp(r, in, r->rx_have, now);
	else
		rx_install(r, in, now);
}

void repl_on_snap_resp(struct repl *r, const struct repl_msg *in, u64 now)
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
		repl_send_snap(r, in->from, SNAP_WINDOW, now);
	} else if (in->snap_off < p->snap_acked) {
		/* it lost what it had, or the answer is old: resend later */
		p->snap_acked = in->snap_off;
		p->snap_sent = in->snap_off;
	}
}
