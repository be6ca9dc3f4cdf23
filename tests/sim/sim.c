// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic cluster simulator for the dlock replication core.
 *
 * Runs 3- and 5-node clusters of kmod/repl.c (every message goes through the
 * kmod/wire.c codec) under a seeded fault schedule and checks the safety
 * invariants after every event.  Every run is reproducible from its seed; a
 * failing seed prints the tail of its event trace.
 *
 *   sim -n N [-s FIRST] [-x] [-q]    run seeds FIRST..FIRST+N-1
 *   sim -1 SEED                      one seed, trace printed
 *   -x: stop at the first violation (mutation check)
 *   -T: the real lock table replicates (tablesim.c), the model is its oracle
 */
#define DL_ASSERT_OWN_HANDLER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include "compat.h"
#include "repl.h"
#include "wire.h"
#include "lockmodel.h"
#include "check.h"
#include "params.h"
#include "tablesim.h"

#define MS		1000000ULL
#define SEC		1000000000ULL
#define MAX_NODES	7
#define MAX_CLIENTS	24
#define NLOCKS_MAX	4
#define TRACE_N		65536
#define WALL0		1800000000ULL	/* wall clock at t=0, seconds */

/* protocol parameters used by the simulator (per seed: params.c) */
#define P_DRIFT_PPM	20000		/* 2%: much worse than real quartz */
#define P_HB		(S.p.hb)
#define P_ELECT_MIN	(S.p.elect_min)
#define P_ELECT_MAX	(S.p.elect_max)
#define P_MAX_TTL	(S.p.max_ttl)
#define P_SESSION	(S.p.session)
#define P_MSG_LIFE	(S.p.msg_life)	/* > the longest delay below */
#define P_WALL_SKEW_MS	1000	/* 400 ms between nodes + 2% of a run */
/* after faults stop, every request must finish within this */
#define P_LIVE_BOUND	(max(repl_hold(P_DRIFT_PPM, P_MAX_TTL), \
			     P_WALL_SKEW_MS * MS + SEC) + 2500 * MS)

enum { EV_DELIVER, EV_TICK, EV_CLIENT, EV_FAULT, EV_RESTART, EV_HEAL };
enum { F_LOSS, F_DUP, F_SLOW, F_PART_SYM, F_PART_ONEWAY, F_CRASH,
       F_WHOLE_RESTART, F_CLIENT_CRASH, F_SPLIT, F__N };
static const char *const fault_name[F__N] = {
	"message loss", "duplication", "delay/reorder", "partition (symmetric)",
	"partition (one-way)", "node crash+restart", "whole-cluster restart",
	"client crash", "append batch split",
};

struct event {
	u64 t;
	u64 seq;
	u8 type;
	u8 node;
	u32 aux;
	u8 *data;
	u32 len;
};

struct node {
	struct repl *r;
	struct lockmodel sm;
	struct tablesim ts;		/* -T: the table, sm its oracle */
	bool up;
	u32 boot;		/* boot count */
	int world;
	s64 ppm;		/* clock rate error */
	s64 off;		/* clock offset */
	s64 wall_skew_ns;
	u32 tick_stamp;
	u64 tick_at;
	u64 down_since;
};

struct lease {
	bool held;
	u8 mode;
	u32 count;
	u64 token;
	u64 valid_local;	/* ttl-based end on the client's clock */
	u32 sboot, sgen;	/* node session the lease is bound to */
	u64 sess_until;		/* that session's end, frozen once it is gone */
	u64 index;
	int world;
	bool uncertain;		/* a request on it was given up */
	bool released;		/* the client gave it up by RELEASE */
};

struct client {
	bool alive;
	u32 id;
	int node;
	u32 next_req;
	bool pending;
	struct repl_cmd cmd;
	u64 first_real, first_local, timeout;
	u32 send_boot, send_gen;
	int tries;
	int quiet_ops;
	struct lease lease[NLOCKS_MAX];
};

struct trace {
	u64 t;
	u8 kind;
	u8 node;
	u64 a, b, c;
};

static struct sim {
	struct sim_params p;
	u64 seed, rng;
	int n, nlocks, nclients;
	struct node node[MAX_NODES];
	struct client cl[MAX_CLIENTS];
	u32 next_client_id;
	struct event *heap;
	u32 heap_n, heap_cap;
	u64 seq, now;
	bool block[MAX_NODES][MAX_NODES];
	int world;
	/* fault knobs */
	u32 p_loss, p_dup, p_slow;	/* per mille */
	bool faults_on, quiet;
	u64 t_quiet, t_end;
	u64 commit_ref;			/* world commit 1 s before the end */
	bool ref_taken;
	/* checks */
	u64 *digest_at;			/* per index of the current world */
	u64 digest_cap;
	u64 *tdigest_at;		/* -T: the table's digests */
	u64 tdigest_cap;
	u64 prev_world_token[NLOCKS_MAX];
	u64 world_token[NLOCKS_MAX];
	const char *violation;
	char vbuf[256];
	/* figures */
	u64 ops, faults[F__N], msgs, events;
	struct trace tr[TRACE_N];
	u64 tr_n;
	int cur_node;			/* node whose callback is running */
} S;

static struct {
	u64 seeds, ops, faults[F__N], msgs, events, violations, sim_ns;
	u64 max_latency;
	s64 min_margin[2];	/* EXPIRE, SESSION_END after the lease ended */
	u64 margins[2], refused_ttl, sets[SIM_PARAM_SETS], edge, strand_checked;
} T = { .min_margin = { INT64_MAX, INT64_MAX } };
static int force_set = -1;

static int mutation_stop;
static int verbose;
static u64 trace_lines = 400;

/* ---- prng ---- */
static u64 rnd(void)
{
	u64 x = S.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	S.rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_range(u64 lo, u64 hi)
{
	return hi <= lo ? lo : lo + rnd() % (hi - lo + 1);
}

static bool chance(u32 permille)
{
	return rnd() % 1000 < permille;
}

/* ---- trace ---- */
enum { TR_SEND, TR_RECV, TR_DROP, TR_REQ, TR_REPLY, TR_CRASH, TR_BOOT,
       TR_PART, TR_HEAL, TR_ROLE, TR_CCRASH, TR_APPLY, TR_VIOL };

static void trace(u8 kind, int node, u64 a, u64 b, u64 c)
{
	struct trace *t = &S.tr[S.tr_n++ % TRACE_N];

	t->t = S.now;
	t->kind = kind;
	t->node = (u8)node;
	t->a = a;
	t->b = b;
	t->c = c;
}

static const char *const msg_name[] = { "?", "VOTE_REQ", "VOTE_RESP", "APPEND",
	"APPEND_RESP", "SNAP", "FORWARD", "RECOVER_REQ", "RECOVER_RESP" };
static const char *const op_name[] = { "NOOP", "EPOCH", "ACQUIRE", "RELEASE",
	"RENEW", "EXPIRE", "SESSION_END" };
static const char *const role_name[] = { "recovering", "follower", "candidate",
	"leader" };

static void trace_dump(void)
{
	u64 keep = min((u64)TRACE_N, trace_lines);
	u64 i = S.tr_n > keep ? S.tr_n - keep : 0;

	printf("# trace of seed %llu (last %llu events)\n",
	       (unsigned long long)S.seed, (unsigned long long)(S.tr_n - i));
	for (; i < S.tr_n; i++) {
		struct trace *t = &S.tr[i % TRACE_N];

		printf("#  %10.6f n%u ", t->t / 1e9, t->node);
		switch (t->kind) {
		case TR_SEND:
			printf("send %s -> n%llu term %llu\n",
			       msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b, (unsigned long long)t->c);
			break;
		case TR_RECV:
			printf("recv %s from n%llu term %llu\n",
			       msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b, (unsigned long long)t->c);
			break;
		case TR_DROP:
			printf("drop %s -> n%llu\n", msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b);
			break;
		case TR_REQ:
			printf("client %llu request %s lock %llu\n",
			       (unsigned long long)t->a, op_name[(t->b >> 32) % 7],
			       (unsigned long long)(t->b & 0xffffffff));
			break;
		case TR_REPLY:
			printf("client %llu reply status %lld token %llx\n",
			       (unsigned long long)t->a, (long long)(s64)t->b,
			       (unsigned long long)t->c);
			break;
		case TR_CRASH:
			printf("CRASH%s\n", t->a ? " (whole cluster)" : "");
			break;
		case TR_BOOT:
			printf("boot #%llu\n", (unsigned long long)t->a);
			break;
		case TR_PART:
			printf("partition %s n%llu -x-> n%llu\n",
			       t->c ? "one-way" : "", (unsigned long long)t->a,
			       (unsigned long long)t->b);
			break;
		case TR_HEAL:
			printf("heal\n");
			break;
		case TR_ROLE:
			printf("role %s term %llu commit %llu\n",
			       role_name[t->a & 3], (unsigned long long)t->b,
			       (unsigned long long)t->c);
			break;
		case TR_CCRASH:
			printf("client %llu crashed\n", (unsigned long long)t->a);
			break;
		case TR_APPLY:
			printf("applied %s lock %llu client %llu at %llu: %d\n",
			       op_name[(t->b >> 32) % 7],
			       (unsigned long long)(t->b & 0xffffffff),
			       (unsigned long long)(t->c >> 32),
			       (unsigned long long)t->a, (int)(s32)t->c);
			break;
		default:
			printf("VIOLATION\n");
			break;
		}
	}
}

void violate(const char *fmt, ...)
{
	va_list ap;

	if (S.violation)
		return;
	va_start(ap, fmt);
	vsnprintf(S.vbuf, sizeof(S.vbuf), fmt, ap);
	va_end(ap);
	S.violation = S.vbuf;
	trace(TR_VIOL, 0, 0, 0, 0);
}

/* The core's own DL_ASSERT()s: a failed one is a violation of this seed. */
void dl_assert_failed(const char *expr, const char *file, int line)
{
	violate("DL_ASSERT(%s) failed at %s:%d", expr, file, line);
}

/* ---- clocks ---- */
static u64 local_of(int n, u64 t)
{
	return (u64)(S.node[n].off + (s64)t + (s64)t * S.node[n].ppm / 1000000);
}

static u64 real_of(int n, u64 l)
{
	s64 d = (s64)l - S.node[n].off;
	u64 t;

	if (d <= 0)
		return 0;
	t = (u64)(d * 1000000 / (1000000 + S.node[n].ppm));
	while (local_of(n, t) < l)
		t++;
	return t;
}

/* ---- events ---- */
static void push(u64 t, u8 type, int node, u32 aux, u8 *data, u32 len)
{
	struct event e = { t, S.seq++, type, (u8)node, aux, data, len };
	u32 i;

	if (S.heap_n == S.heap_cap) {
		S.heap_cap = S.heap_cap ? S.heap_cap * 2 : 1024;
		S.heap = realloc(S.heap, S.heap_cap * sizeof(*S.heap));
	}
	i = S.heap_n++;
	while (i) {
		u32 p = (i - 1) / 2;

		if (S.heap[p].t < e.t || (S.heap[p].t == e.t && S.heap[p].seq < e.seq))
			break;
		S.heap[i] = S.heap[p];
		i = p;
	}
	S.heap[i] = e;
}

static bool ev_less(const struct event *a, const struct event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static struct event pop(void)
{
	struct event top = S.heap[0], last = S.heap[--S.heap_n];
	u32 i = 0;

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= S.heap_n)
			break;
		if (c + 1 < S.heap_n && ev_less(&S.heap[c + 1], &S.heap[c]))
			c++;
		if (!ev_less(&S.heap[c], &last))
			break;
		S.heap[i] = S.heap[c];
		i = c;
	}
	if (S.heap_n)
		S.heap[i] = last;
	return top;
}

/* ---- env callbacks ---- */
static void *sim_alloc(void *ctx, size_t sz)
{
	(void)ctx;
	return malloc(sz);
}

static void sim_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static void sim_send(void *ctx, const struct repl_msg *m)
{
	struct node *nd = ctx;
	int from = (int)(nd - S.node), to = m->to, copies = 1, i;
	static struct repl_msg split;
	static u8 buf[WIRE_MAX];
	int len;

	/* churn: a leader may send any prefix of a batch; a new leader's
	 * EPOCH then trails the old-term entries it sends first */
	if (S.p.churn && S.faults_on && m->type == REPL_MSG_APPEND &&
	    m->n_ent >= 2 && chance(200)) {
		S.faults[F_SPLIT]++;
		split = *m;
		split.n_ent = (u16)rnd_range(1, m->n_ent - 1);
		m = &split;
	}
	len = wire_encode(m, buf, sizeof(buf));

	if (len < 0) {
		violate("n%d sent a message the codec rejects (%d)", from, len);
		return;
	}
	S.msgs++;
	trace(TR_SEND, from, m->type, to, m->term);
	if (to >= S.n || S.block[from][to]) {
		trace(TR_DROP, from, m->type, to, 0);
		return;
	}
	if (S.faults_on && chance(S.p_loss)) {
		S.faults[F_LOSS]++;
		trace(TR_DROP, from, m->type, to, 0);
		return;
	}
	if (S.faults_on && chance(S.p_dup)) {
		S.faults[F_DUP]++;
		copies = 2;
	}
	for (i = 0; i < copies; i++) {
		/* edge: from almost no delay up to just under msg_life */
		u64 d = S.p.edge ? rnd_range(MS / 10, 2 * MS) :
			rnd_range(1 * MS, 8 * MS);
		u8 *p = malloc(len);

		if (S.faults_on && chance(S.p_slow)) {
			S.faults[F_SLOW]++;
			d += rnd_range(10 * MS, S.p.edge ? P_MSG_LIFE - 3 * MS :
				       S.p.set == 4 ? P_MSG_LIFE - 50 * MS :
				       min(150 * MS, P_MSG_LIFE - 50 * MS));
		}
		memcpy(p, buf, len);
		push(S.now + d, EV_DELIVER, to, 0, p, len);
	}
}

static bool lease_valid(struct client *c, struct lease *l);

static struct client *client_by_id(u32 id)
{
	int i;

	for (i = 0; i < S.nclients; i++)
		if (S.cl[i].alive && S.cl[i].id == id)
			return &S.cl[i];
	return NULL;
}

static bool use_table;		/* -T: kmod/table.c replicates */

/* Every answer of every node, against the specification (check_oracle.c). */
static void sim_check_answer(int n, const struct repl_cmd *cmd,
			     const struct repl_result *res)
{
	struct repl_status st;

	ck_observe(n, S.node[n].boot, S.node[n].r, S.now);
	repl_status(S.node[n].r, &st);
	/* the specification is the lock model's: not the table's answers */
	if (!use_table)
		ck_answer(n, cmd, res, st.applied);
}

static void node_session(int n, u32 *boot, u32 *gen, u64 *until)
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

static void sim_reply(void *ctx, const struct repl_cmd *cmd,
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
	if (!c || c->node != n || !c->pending || c->cmd.req != cmd->req)
		return;
	trace(TR_REPLY, n, c->id, (u64)(s64)res->status, res->token);
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
	l = &c->lease[lm_cmd_lock(cmd)];
	node_session(n, &boot, &gen, &until);
	same_sess = boot == c->send_boot && gen == c->send_gen;
	if (l->held && !lease_valid(c, l)) {
		l->held = false;
		l->uncertain = true;
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

static void lease_margins(struct node *nd, u64 index);

static void on_applied(void *hctx, u64 index, u64 digest)
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
static void on_table_digest(void *hctx, u64 index, u64 digest)
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
	if (!S.tdigest_at[index])
		S.tdigest_at[index] = digest | 1;
	else if (S.tdigest_at[index] != (digest | 1))
		violate("n%d: the table applied a different history at index %llu",
			(int)(nd - S.node), (unsigned long long)index);
}

static void on_grant(void *hctx, u32 lock, u64 token)
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

static const struct repl_env sim_env_tmpl = {
	.alloc = sim_alloc,
	.free = sim_free,
	.send = sim_send,
	.reply = sim_reply,
};

/* ---- nodes ---- */
static void node_sched_tick(int n)
{
	struct node *nd = &S.node[n];
	u64 t;

	if (!nd->up)
		return;
	t = real_of(n, repl_next_timer(nd->r));
	if (t < S.now)
		t = S.now;
	if (t == nd->tick_at)
		return;
	nd->tick_at = t;
	push(t, EV_TICK, n, ++nd->tick_stamp, NULL, 0);
}

static void node_boot(int n)
{
	struct node *nd = &S.node[n];
	struct repl_env env = sim_env_tmpl;
	struct repl_cfg cfg;
	u64 l = local_of(n, S.now);

	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = (u16)S.n;
	cfg.self = (u16)n;
	cfg.log_cap = S.p.log_cap;
	cfg.max_clients = S.p.max_clients;
	cfg.max_snap_bytes = 1 << 20;
	cfg.snap_chunk = 1024;	/* several chunks per snapshot */
	cfg.drift_ppm = P_DRIFT_PPM;
	cfg.hb_ns = P_HB;
	cfg.elect_min_ns = P_ELECT_MIN;
	cfg.elect_max_ns = P_ELECT_MAX;
	cfg.max_ttl_ns = P_MAX_TTL;
	cfg.session_ns = P_SESSION;
	cfg.msg_life_ns = P_MSG_LIFE;
	cfg.wall_ns = WALL0 * SEC + S.now + nd->wall_skew_ns;
	cfg.wall_skew_ms = P_WALL_SKEW_MS;
	cfg.incarnation = S.now * 8 + (u64)n + 1;
	cfg.seed = rnd();
	env.ctx = nd;
	lockmodel_init(&nd->sm);
	nd->sm.hctx = nd;
	nd->sm.on_applied = on_applied;
	nd->sm.on_grant = on_grant;
	if (use_table) {
		tablesim_fini(&nd->ts);
		if (tablesim_init(&nd->ts, &nd->sm)) {
			fprintf(stderr, "tablesim_init failed\n");
			exit(2);
		}
		nd->ts.hctx = nd;
		nd->ts.on_digest = on_table_digest;
	}
	nd->r = repl_create(&cfg, &env, use_table ? &tablesim_ops :
			    &lockmodel_ops, use_table ? (void *)&nd->ts :
			    (void *)&nd->sm, l);
	if (!nd->r) {
		fprintf(stderr, "repl_create failed\n");
		exit(2);
	}
	nd->up = true;
	nd->boot++;
	nd->world = S.world;
	nd->tick_at = ~0ULL;
	trace(TR_BOOT, n, nd->boot, 0, 0);
	node_sched_tick(n);
}

static void node_crash(int n, bool whole)
{
	struct node *nd = &S.node[n];

	if (!nd->up)
		return;
	trace(TR_CRASH, n, whole, 0, 0);
	repl_destroy(nd->r);
	nd->r = NULL;
	nd->up = false;
	nd->down_since = S.now;
}

static int nodes_not_normal(void)
{
	int i, k = 0;
	struct repl_status st;

	for (i = 0; i < S.n; i++) {
		if (!S.node[i].up) {
			k++;
			continue;
		}
		repl_status(S.node[i].r, &st);
		if (st.role == REPL_RECOVERING || st.catching_up)
			k++;
	}
	return k;
}

/* ---- clients ---- */
static bool lease_valid(struct client *c, struct lease *l);

static void client_new(int i)
{
	struct client *c = &S.cl[i];

	memset(c, 0, sizeof(*c));
	c->alive = true;
	c->id = ++S.next_client_id;
	c->node = (int)(rnd() % S.n);
	push(S.now + rnd_range(1 * MS, 50 * MS), EV_CLIENT, c->node, (u32)i,
	     NULL, 0);
}

static void client_send(struct client *c)
{
	int n = c->node;
	int err = -EAGAIN;

	c->tries++;
	c->timeout = S.now + 150 * MS;
	/* the session of the first attempt: a cached answer may date from it */
	if (c->tries == 1)
		node_session(n, &c->send_boot, &c->send_gen, &(u64){0});
	trace(TR_REQ, n, c->id, (u64)c->cmd.op << 32 | lm_cmd_lock(&c->cmd),
	      c->cmd.req);
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
 * CLIENT_END (once: if it is lost the leases still expire by their TTL).
 */
static void client_close(struct client *c)
{
	struct repl_cmd end;

	if (!use_table || !S.node[c->node].up)
		return;
	memset(&end, 0, sizeof(end));
	end.op = REPL_OP_CLIENT_END;
	end.client = c->id;
	end.req = ++c->next_req;
	S.cur_node = c->node;
	repl_request(S.node[c->node].r, &end, local_of(c->node, S.now));
	node_sched_tick(c->node);
}

static void client_step(int i)
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
		if (l->held && !lease_valid(c, l)) {
			l->held = false;
			l->uncertain = true;
		}
	}
	if (S.quiet && c->quiet_ops++ >= 3)
		return;		/* enough to show progress after faults */
	memset(&c->cmd, 0, sizeof(c->cmd));
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
	/* inputs beyond the limits: a TTL above the cap must be refused */
	if ((c->cmd.op == REPL_OP_ACQUIRE || c->cmd.op == REPL_OP_RENEW) &&
	    S.p.over_cap && chance(30))
		c->cmd.ttl = P_MAX_TTL + rnd_range(1, P_MAX_TTL);
	if (!c->cmd.op) {
		push(S.now + rnd_range(5 * MS, 60 * MS), EV_CLIENT, c->node,
		     (u32)i, NULL, 0);
		return;
	}
	if (c->cmd.op == REPL_OP_RELEASE) {
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

/* ---- invariants ---- */
static bool lease_valid(struct client *c, struct lease *l)
{
	u64 lt = local_of(c->node, S.now);
	struct node *nd = &S.node[c->node];

	if (!l->held || !l->valid_local)
		return false;
	if (nd->up && nd->boot == l->sboot) {
		u32 gen;
		u64 until;

		ck_peek_session(nd->r, &gen, &until);
		if (gen == l->sgen)
			l->sess_until = until;
	}
	return lt < l->valid_local && lt < l->sess_until;
}

static void check_invariants(int touched)
{
	/*
	 * The leases valid now, found once per event (client-major order):
	 * both checks below only look at those, most leases are not held.
	 */
	u8 vl[MAX_CLIENTS * NLOCKS_MAX];
	int k, i, j, p, nv = 0;

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
static void margin_of(struct client *c, struct lease *l, int kind)
{
	s64 m;

	if (!l->valid_local || l->world != S.world || l->released)
		return;
	if (l->held && lease_valid(c, l)) {
		violate("%s ended client %u's lease of lock %d while it is valid on the client's clock",
			kind ? "SESSION_END" : "EXPIRE", c->id,
			(int)(l - c->lease));
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
static void final_checks(void)
{
	u64 bound = repl_hold(P_DRIFT_PPM, P_MAX_TTL) + 3 * P_ELECT_MAX;
	struct ck_holder h[32];
	int i, k, nh;

	for (i = 0; i < S.n && !S.violation; i++)
		if (S.node[i].up && S.node[i].world == S.world)
			ck_log_final(i, S.node[i].r, S.commit_ref);
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

static void sim_durable(void)
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

/* ---- faults ---- */
/* The node that leads the highest term, or -1. */
static int sim_leader(void)
{
	struct repl_status st;
	u64 best = 0;
	int i, l = -1;

	for (i = 0; i < S.n; i++) {
		if (!S.node[i].up)
			continue;
		repl_status(S.node[i].r, &st);
		if (st.role == REPL_LEADER && st.term >= best) {
			best = st.term;
			l = i;
		}
	}
	return l;
}

/* Cut node n off from every other node until the next heal. */
static void isolate(int n)
{
	int i;

	if (!S.faults_on)
		return;
	S.faults[F_PART_SYM]++;
	for (i = 0; i < S.n; i++)
		if (i != n)
			S.block[n][i] = S.block[i][n] = true;
	trace(TR_PART, n, n, n, 0);
	push(S.now + rnd_range(100 * MS, 600 * MS), EV_HEAL, 0, 0, NULL, 0);
}

static void heal_all(void)
{
	memset(S.block, 0, sizeof(S.block));
	trace(TR_HEAL, 0, 0, 0, 0);
}

static void fault_step(void)
{
	u32 r = rnd() % 100;
	int a = (int)(rnd() % S.n), b = (int)(rnd() % S.n), i;

	if (!S.faults_on)
		return;
	if (r < 25) {
		/* isolate a node (or split 2 from the rest) symmetrically */
		if (S.p.hit_leader && sim_leader() >= 0 && chance(700))
			a = sim_leader();
		S.faults[F_PART_SYM]++;
		for (i = 0; i < S.n; i++)
			if (i != a && !(S.n >= 5 && i == b)) {
				S.block[a][i] = S.block[i][a] = true;
				if (S.n >= 5 && b != a)
					S.block[b][i] = S.block[i][b] = true;
			}
		if (S.n >= 5 && b != a)
			S.block[a][b] = S.block[b][a] = false;
		trace(TR_PART, a, a, b, 0);
		push(S.now + rnd_range(100 * MS, 1200 * MS), EV_HEAL, 0, 0, NULL, 0);
	} else if (r < 45) {
		if (a == b)
			b = (a + 1) % S.n;
		S.faults[F_PART_ONEWAY]++;
		S.block[a][b] = true;
		trace(TR_PART, a, a, b, 1);
		push(S.now + rnd_range(100 * MS, 1200 * MS), EV_HEAL, 0, 0, NULL, 0);
	} else if (r < 75) {
		/* f_down: keep crashing until exactly f nodes are out */
		while (S.node[a].up && nodes_not_normal() < S.n / 2) {
			S.faults[F_CRASH]++;
			node_crash(a, false);
			push(S.now + rnd_range(30 * MS, 800 * MS), EV_RESTART, a,
			     0, NULL, 0);
			if (!S.p.f_down)
				break;
			a = (a + 1) % S.n;
		}
	} else if (r < 80) {
		bool all_up = true;

		for (i = 0; i < S.n; i++)
			all_up &= S.node[i].up;
		if (all_up && chance(500)) {
			S.faults[F_WHOLE_RESTART]++;
			for (i = 0; i < S.n; i++)
				node_crash(i, true);
			/* the old world is gone: new history, same tokens rule */
			for (i = 0; i < NLOCKS_MAX; i++)
				S.prev_world_token[i] = max(S.prev_world_token[i],
							    S.world_token[i]);
			S.world++;
			memset(S.digest_at, 0, S.digest_cap * sizeof(u64));
			ck_log_reset();
			ck_oracle_reset(S.p.max_clients);
			if (S.tdigest_at)
				memset(S.tdigest_at, 0,
				       S.tdigest_cap * sizeof(u64));
			for (i = 0; i < S.n; i++)
				push(S.now + rnd_range(20 * MS, 300 * MS),
				     EV_RESTART, i, 0, NULL, 0);
		}
	} else {
		i = (int)(rnd() % S.nclients);
		if (S.cl[i].alive) {
			S.faults[F_CLIENT_CRASH]++;
			trace(TR_CCRASH, S.cl[i].node, S.cl[i].id, 0, 0);
			client_close(&S.cl[i]);
			S.cl[i].alive = false;
			/* a new client process takes its place later */
			S.cl[i].id = 0;
			push(S.now + rnd_range(50 * MS, 500 * MS), EV_FAULT, 0,
			     1000 + i, NULL, 0);
		}
	}
}

/* ---- one seed ---- */
static void role_trace(int n)
{
	struct repl_status st;
	static u8 last[MAX_NODES];

	if (!S.node[n].up)
		return;
	repl_status(S.node[n].r, &st);
	if (st.role != last[n]) {
		last[n] = st.role;
		trace(TR_ROLE, n, st.role, st.term, st.commit);
		if (st.role == REPL_LEADER && S.p.churn && S.faults_on &&
		    chance(300))
			push(S.now + rnd_range(MS / 10, 5 * MS), EV_FAULT, 0,
			     2000 + n, NULL, 0);
	}
}

static int run_seed(u64 seed)
{
	int i;
	u64 fault_len;

	for (i = 0; i < MAX_NODES; i++)
		if (S.node[i].r)
			repl_destroy(S.node[i].r);
	while (S.heap_n)
		free(pop().data);
	free(S.digest_at);
	free(S.tdigest_at);
	for (i = 0; i < MAX_NODES; i++)
		tablesim_fini(&S.node[i].ts);
	free(S.heap);
	memset(&S, 0, sizeof(S));
	S.seed = seed;
	S.rng = seed * 0x9e3779b97f4a7c15ULL + 12345;
	rnd();
	S.n = chance(500) ? 3 : 5;
	sim_params_pick(&S.p, seed, force_set);
	if (S.p.n)
		S.n = S.p.n;
	S.nlocks = (int)rnd_range(1, NLOCKS_MAX);
	S.nclients = (int)rnd_range(2 * S.n, S.n * 3);
	if (S.nclients > MAX_CLIENTS)
		S.nclients = MAX_CLIENTS;
	if (!S.p.max_clients)
		S.p.max_clients = S.nclients + 2;
	T.sets[S.p.set]++;
	T.edge += S.p.edge;
	ck_log_reset();
	ck_oracle_reset(S.p.max_clients);
	S.p_loss = (u32)rnd_range(0, 100);
	S.p_dup = (u32)rnd_range(0, 50);
	S.p_slow = (u32)rnd_range(0, 100);
	S.faults_on = true;
	fault_len = rnd_range(2 * SEC, 4 * SEC);
	for (i = 0; i < S.n; i++) {
		S.node[i].ppm = (s64)rnd_range(0, 2 * P_DRIFT_PPM) - P_DRIFT_PPM;
		if (S.p.edge)	/* every clock as far off as assumed */
			S.node[i].ppm = S.node[i].ppm < 0 ? -P_DRIFT_PPM :
					P_DRIFT_PPM;
		S.node[i].off = (s64)rnd_range(0, 1000 * SEC);
		S.node[i].wall_skew_ns = (s64)rnd_range(0, 400 * MS) - 200 * MS;
		node_boot(i);
	}
	for (i = 0; i < S.nclients; i++)
		client_new(i);
	push(rnd_range(50 * MS, 600 * MS), EV_FAULT, 0, 0, NULL, 0);
	S.t_quiet = fault_len;
	S.t_end = ~0ULL;

	while (S.heap_n && !S.violation) {
		struct event e = pop();
		int touched = -1;

		if (e.t >= S.t_end)
			break;
		if (S.events > 4000000) {
			violate("runaway: more than 4M events in one seed");
			break;
		}
		S.now = e.t;
		S.events++;
		if (S.quiet && !S.ref_taken && S.now + SEC >= S.t_end) {
			S.ref_taken = true;
			S.commit_ref = CK.max;
		}
		if (!S.quiet && S.now >= S.t_quiet &&
		    (S.ops >= 1000 || S.now >= 120 * SEC)) {
			/* faults stop: heal, restart, then every request must finish */
			S.quiet = true;
			S.faults_on = false;
			S.t_quiet = S.now;
			heal_all();
			for (i = 0; i < S.n; i++)
				if (!S.node[i].up)
					node_boot(i);
			for (i = 0; i < S.nclients; i++)
				if (!S.cl[i].alive)
					client_new(i);
			S.t_end = S.now + P_LIVE_BOUND + 500 * MS;
		}
		switch (e.type) {
		case EV_DELIVER:
			if (S.node[e.node].up) {
				/* heap: too big for a stack (as in the kernel) */
				static struct repl_msg *m;
				int err;

				if (!m)
					m = malloc(sizeof(*m));
				err = wire_decode(m, e.data, e.len);
				if (err) {
					violate("decode of a sent message failed (%d)", err);
					break;
				}
				trace(TR_RECV, e.node, m->type, m->from, m->term);
				S.cur_node = e.node;
				repl_receive(S.node[e.node].r, m,
					     local_of(e.node, S.now));
				touched = e.node;
			}
			free(e.data);
			break;
		case EV_TICK:
			if (S.node[e.node].up && e.aux == S.node[e.node].tick_stamp) {
				S.node[e.node].tick_at = ~0ULL;
				S.cur_node = e.node;
				repl_tick(S.node[e.node].r, local_of(e.node, S.now));
				touched = e.node;
				break;
			}
			/*
			 * A timer that was re-armed since changes nothing, and
			 * time alone only ends leases: the checks of the last
			 * event still hold (a fifth of all events).
			 */
			continue;
		case EV_CLIENT:
			client_step((int)e.aux);
			touched = S.cl[e.aux].node;
			break;
		case EV_FAULT:
			if (e.aux >= 2000) {
				isolate((int)(e.aux - 2000));
				break;
			}
			if (e.aux >= 1000) {
				if (!S.cl[e.aux - 1000].alive)
					client_new((int)(e.aux - 1000));
				break;
			}
			fault_step();
			if (S.faults_on)
				push(S.now + rnd_range(50 * MS, 600 * MS), EV_FAULT,
				     0, 0, NULL, 0);
			break;
		case EV_RESTART:
			if (!S.node[e.node].up)
				node_boot(e.node);
			break;
		case EV_HEAL:
			if (S.faults_on)
				heal_all();
			break;
		}
		if (touched >= 0) {
			role_trace(touched);
			node_sched_tick(touched);
			if (S.node[touched].up)
				ck_observe(touched, S.node[touched].boot,
					   S.node[touched].r, S.now);
			sim_durable();
		}
		check_invariants(touched);
	}
	/* liveness: once faults stopped, every request finished in time */
	if (!S.violation) {
		u64 bound = P_LIVE_BOUND;

		if (!S.quiet)
			violate("simulation ended before the quiet phase");
		for (i = 0; i < S.nclients && !S.violation; i++) {
			struct client *c = &S.cl[i];

			if (c->alive && c->pending &&
			    S.now - max(c->first_real, S.t_quiet) > bound)
				violate("liveness: client %u request %u pending %.3fs after faults stopped",
					c->id, c->cmd.req,
					(S.now - max(c->first_real, S.t_quiet)) / 1e9);
		}
		if (S.ops < 1000)
			violate("only %llu client operations", (unsigned long long)S.ops);
		final_checks();
	}
	T.seeds++;
	T.ops += S.ops;
	T.msgs += S.msgs;
	T.events += S.events;
	T.sim_ns += S.now;
	for (i = 0; i < F__N; i++)
		T.faults[i] += S.faults[i];
	if (S.violation) {
		T.violations++;
		printf("# seed %llu: VIOLATION at %.6fs: %s\n",
		       (unsigned long long)seed, S.now / 1e9, S.violation);
		if (verbose >= 0) {
			trace_dump();
			for (i = 0; i < S.n; i++) {
				struct repl_status st;

				if (!S.node[i].up) {
					printf("# n%d down\n", i);
					continue;
				}
				repl_status(S.node[i].r, &st);
				printf("# n%d %s%s term %llu leader %d commit %llu applied %llu log %llu..%llu epoch %llx\n",
				       i, role_name[st.role & 3],
				       st.catching_up ? " (catching up)" : "",
				       (unsigned long long)st.term, st.leader,
				       (unsigned long long)st.commit,
				       (unsigned long long)st.applied,
				       (unsigned long long)st.first_index,
				       (unsigned long long)st.last_index,
				       (unsigned long long)st.epoch);
			}
		}
		return 1;
	}
	if (verbose > 0)
		trace_dump();
	return 0;
}

int main(int argc, char **argv)
{
	u64 first = 1, n = 100, one = 0, i;
	int opt, bad = 0;

	for (opt = 1; opt < argc; opt++) {
		if (!strcmp(argv[opt], "-n") && opt + 1 < argc)
			n = strtoull(argv[++opt], NULL, 0);
		else if (!strcmp(argv[opt], "-s") && opt + 1 < argc)
			first = strtoull(argv[++opt], NULL, 0);
		else if (!strcmp(argv[opt], "-1") && opt + 1 < argc)
			one = strtoull(argv[++opt], NULL, 0);
		else if (!strcmp(argv[opt], "-t") && opt + 1 < argc)
			trace_lines = strtoull(argv[++opt], NULL, 0);
		else if (!strcmp(argv[opt], "-p") && opt + 1 < argc)
			force_set = atoi(argv[++opt]);
		else if (!strcmp(argv[opt], "-x"))
			mutation_stop = 1;
		else if (!strcmp(argv[opt], "-q"))
			verbose = -1;
		else if (!strcmp(argv[opt], "-T"))
			use_table = true;
		else {
			fprintf(stderr, "usage: sim [-n N] [-s FIRST] [-1 SEED] [-p 0] [-x] [-q] [-T]\n");
			return 2;
		}
	}
	if (one) {
		verbose = 1;
		return run_seed(one);
	}
	for (i = 0; i < n; i++) {
		bad += run_seed(first + i);
		if (bad && mutation_stop) {
			printf("caught at seed %llu after %llu seeds\n",
			       (unsigned long long)(first + i),
			       (unsigned long long)(i + 1));
			return 1;
		}
	}
	printf("seeds %llu  client ops %llu  messages %llu  events %llu  simulated %.1fs\n",
	       (unsigned long long)T.seeds, (unsigned long long)T.ops,
	       (unsigned long long)T.msgs, (unsigned long long)T.events,
	       T.sim_ns / 1e9);
	printf("faults:");
	for (i = 0; i < F__N; i++)
		printf(" %s %llu%s", fault_name[i], (unsigned long long)T.faults[i],
		       i + 1 < F__N ? "," : "\n");
	printf("max request latency after faults stopped %.3fs\n",
	       T.max_latency / 1e9);
	printf("parameter sets: default %llu, fast %llu, 7 nodes %llu, small tables %llu, slow network %llu; edge (clocks and delays at the bounds) %llu\n",
	       (unsigned long long)T.sets[0], (unsigned long long)T.sets[1],
	       (unsigned long long)T.sets[2], (unsigned long long)T.sets[3],
	       (unsigned long long)T.sets[4], (unsigned long long)T.edge);
	printf("answers checked against the specification %llu, new leaders checked for completeness %llu, committed entries the checker missed %llu\n",
	       (unsigned long long)ck_answers_checked,
	       (unsigned long long)CK.elections,
	       (unsigned long long)CK.rec_holes);
	printf("smallest lease margin: EXPIRE %.3f ms (%llu), SESSION_END %.3f ms (%llu); TTLs above the cap refused %llu; leases checked for stranding %llu\n",
	       T.margins[0] ? T.min_margin[0] / 1e6 : 0.0,
	       (unsigned long long)T.margins[0],
	       T.margins[1] ? T.min_margin[1] / 1e6 : 0.0,
	       (unsigned long long)T.margins[1],
	       (unsigned long long)T.refused_ttl,
	       (unsigned long long)T.strand_checked);
	if (use_table)
		printf("table: commands of ended clients refused %llu (node applies)\n",
		       (unsigned long long)tablesim_ended_refused);
	printf("violations %llu\n", (unsigned long long)T.violations);
	return bad ? 1 : 0;
}
