/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the host tests of the replication core (test_repl.c,
 * test_repl_sched.c): real nodes of the core on a lock-step harness, one
 * shared clock, 1 ms a step, every message through the real codec, and a
 * network a test steers with the faults of the protocol's model: cut
 * links, and a filter that loses, delays or duplicates a message.
 *
 * The includer defines, before including it:
 *   NCL	answer slots a node keeps (client ids below it are recorded)
 *   MAXQ	messages in flight at once; more is a runaway test: abort
 *   SEED	a node's random seed is SEED + 77 * node + its boot time, so
 *		that each test keeps the schedules its checks were built on
 *   MAX_TTL_MS	the nodes' max_ttl
 */
#ifndef REPL_HARNESS_H
#define REPL_HARNESS_H

#include <stdlib.h>
#include <string.h>
#include "repl.h"
#include "wire.h"
#include "lockmodel.h"

#define MS	1000000ULL
#define NN	5
#ifndef HARNESS_STICKY
/* scripted schedules that depose live leaders (repl_cfg.sticky) */
#define HARNESS_STICKY	false
#endif
#define MAXHELD	64

static const u64 max_ttl = MAX_TTL_MS * MS;

/* what a filter does with a message as it is sent */
enum { PASS, DROP, KEEP /* held back */, COPY /* delivered and held */ };

struct qmsg {
	int from;
	int to;
	u64 sent;
	u32 len;
	u8 *data;
};

struct hnode {
	struct repl *r;
	struct lockmodel sm;
	bool up;
	u32 boot;
	u64 inc;
	u32 elect_ms;		/* election timeout [ms, ms + 1); 0: 100-200 */
	bool got[NCL];
	struct repl_result res[NCL];
	u16 len[NCL];		/* body of the answered command */
	u64 body[NCL];		/* hash of that body */
	int refused[NCL];	/* the leader's refusal of a forward, or 0 */
	int due_ticks;		/* ticks in a row that left the timer due */
};

static struct {
	int n;
	u64 now;
	u64 msg_life;
	struct hnode nd[NN];
	bool cut[NN][NN];	/* from -> to: lost */
	/* sees every message sent on a link not cut */
	int (*filter)(int from, const struct repl_msg *m);
	void (*observe)(void);	/* after every message and every timer */
	struct qmsg q[MAXQ];
	int qn;
	struct qmsg held[MAXHELD];
	int nheld;
	bool late;		/* a held message outlived msg_life */
} H;

static u64 body_hash(const struct repl_cmd *c)
{
	u64 h = 1469598103934665603ULL;
	u32 i;

	for (i = 0; i < c->len; i++)
		h = (h ^ c->data[i]) * 1099511628211ULL;
	return h;
}

static void *h_alloc(void *ctx, size_t sz)
{
	(void)ctx;
	return malloc(sz);
}

static void h_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static void put(struct qmsg *q, int from, int to, const u8 *b, u32 len)
{
	q->from = from;
	q->to = to;
	q->sent = H.now;
	q->len = len;
	q->data = malloc(len);
	if (!q->data)
		abort();
	memcpy(q->data, b, len);
}

static void h_send(void *ctx, const struct repl_msg *m)
{
	struct hnode *nd = ctx;
	int from = (int)(nd - H.nd), v;
	static u8 tmp[WIRE_MAX];
	int len = wire_encode(m, tmp, sizeof(tmp));

	if (len < 0 || H.qn >= MAXQ)
		abort();
	if (H.cut[from][m->to])
		return;
	v = H.filter ? H.filter(from, m) : PASS;
	if (v == DROP)
		return;
	if ((v == KEEP || v == COPY) && H.nheld < MAXHELD)
		put(&H.held[H.nheld++], from, m->to, tmp, (u32)len);
	if (v == KEEP)
		return;
	put(&H.q[H.qn++], from, m->to, tmp, (u32)len);
}

static void h_reply(void *ctx, const struct repl_cmd *c,
		    const struct repl_result *res)
{
	struct hnode *nd = ctx;

	if (c->client < NCL) {
		nd->got[c->client] = true;
		nd->res[c->client] = *res;
		nd->len[c->client] = c->len;
		nd->body[c->client] = body_hash(c);
	}
}

static void h_refused(void *ctx, const struct repl_cmd *c, int err)
{
	struct hnode *nd = ctx;

	if (c->client < NCL)
		nd->refused[c->client] = err;
}

/* a node starts with no memory; it keeps its election timeout */
static void boot(int i)
{
	struct hnode *nd = &H.nd[i];
	struct repl_env env = { .ctx = nd, .alloc = h_alloc, .free = h_free,
				.send = h_send, .reply = h_reply,
				.refused = h_refused };
	struct repl_cfg cfg = {
		.nr_nodes = (u16)H.n, .self = (u16)i, .log_cap = 64,
		.max_clients = 32, .max_snap_bytes = 16384, .drift_ppm = 20000,
		.hb_ns = 20 * MS, .elect_min_ns = 100 * MS,
		.elect_max_ns = 200 * MS, .max_ttl_ns = max_ttl,
		.session_ns = 500 * MS, .wall_skew_ms = 0,
		.msg_life_ns = H.msg_life,
		.sticky = HARNESS_STICKY,
	};

	if (nd->elect_ms) {
		cfg.elect_min_ns = nd->elect_ms * MS;
		cfg.elect_max_ns = cfg.elect_min_ns + MS;
	}
	cfg.wall_ns = 1800000000ULL * 1000000000ULL + H.now;
	cfg.incarnation = H.now * 8 + (u64)i + 1;
	cfg.seed = SEED + (u64)i * 77 + H.now;
	nd->inc = cfg.incarnation;
	memset(&nd->sm, 0, sizeof(nd->sm));
	memset(nd->got, 0, sizeof(nd->got));
	nd->r = repl_create(&cfg, &env, &lockmodel_ops, &nd->sm, H.now);
	if (!nd->r)
		abort();
	nd->up = true;
	nd->boot++;
	nd->due_ticks = 0;
}

static void crash(int i)
{
	if (!H.nd[i].up)
		return;
	repl_destroy(H.nd[i].r);
	H.nd[i].up = false;
}

/* n nodes boot at 1 s; elect_ms: each one's timeout, or NULL: defaults */
static void new_world(int n, const u32 *elect_ms, u64 msg_life_ms)
{
	int i;

	for (i = 0; i < NN; i++)
		crash(i);
	for (i = 0; i < H.qn; i++)
		free(H.q[i].data);
	for (i = 0; i < H.nheld; i++)
		free(H.held[i].data);
	memset(&H, 0, sizeof(H));
	H.n = n;
	H.now = 1000 * MS;
	H.msg_life = msg_life_ms * MS;
	for (i = 0; i < n; i++) {
		H.nd[i].elect_ms = elect_ms ? elect_ms[i] : 0;
		boot(i);
	}
}

/*
 * A timer still due after REPL_TICK_DUE_MAX ticks in a row is one that
 * would fire without end in the kernel: a failed test, whichever it is.
 */
static void tick_left_due(int i)
{
	struct hnode *nd = &H.nd[i];

	if (repl_due_streak(nd->r, H.now, &nd->due_ticks) == REPL_TICK_DUE_MAX + 1)
		tap_ok(0, "n%d: its timer still due after %d ticks in a row (a timer firing without end)",
		       i, nd->due_ticks);
}

/* advance the clock 1 ms: deliver what was sent, fire due timers */
static void step(void)
{
	static struct qmsg batch[MAXQ];
	static struct repl_msg m;	/* too big for a stack */
	int n = H.qn, i;

	H.now += MS;
	memcpy(batch, H.q, n * sizeof(*batch));
	H.qn = 0;
	for (i = 0; i < n; i++) {
		if (H.nd[batch[i].to].up &&
		    wire_decode(&m, batch[i].data, batch[i].len) == 0) {
			repl_receive(H.nd[batch[i].to].r, &m, H.now);
			if (H.observe)
				H.observe();
		}
		free(batch[i].data);
	}
	for (i = 0; i < H.n; i++)
		if (H.nd[i].up && repl_next_timer(H.nd[i].r) <= H.now) {
			repl_tick(H.nd[i].r, H.now);
			tick_left_due(i);
			if (H.observe)
				H.observe();
		}
}

static void run(u64 ms)
{
	while (ms--)
		step();
}

/* a held message goes out now (delivered at the next step) */
static inline void release(int k)
{
	struct qmsg *h = &H.held[k];

	if (!h->data)
		return;
	if (H.now + MS > h->sent + H.msg_life)
		H.late = true;	/* outside the fault model */
	H.q[H.qn++] = *h;
	h->data = NULL;
}

static inline void cut_node(int i, bool on)
{
	int j;

	for (j = 0; j < H.n; j++)
		H.cut[i][j] = H.cut[j][i] = on;
}

static inline void cut_link(int i, int j, bool on)
{
	H.cut[i][j] = H.cut[j][i] = on;
}

static struct repl_status st(int i)
{
	struct repl_status s;

	repl_status(H.nd[i].r, &s);
	return s;
}

#endif /* REPL_HARNESS_H */
