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
 *
 * The clients are in client.c, the checks in check_lease.c and check_*.c,
 * the summary of a run in sim_report.c.
 */
#define DL_ASSERT_OWN_HANDLER
#include "sim_int.h"

struct sim S;
struct sim_totals T = { .min_margin = { INT64_MAX, INT64_MAX, INT64_MAX } };
static int force_set = -1;

static int mutation_stop;
static int verbose;
u64 trace_lines = 400;
bool use_table;

/* ---- prng ---- */
u64 rnd(void)
{
	u64 x = S.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	S.rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

u64 rnd_range(u64 lo, u64 hi)
{
	return hi <= lo ? lo : lo + rnd() % (hi - lo + 1);
}

bool chance(u32 permille)
{
	return rnd() % 1000 < permille;
}

/* ---- clocks ---- */
u64 local_of(int n, u64 t)
{
	return (u64)(S.node[n].off + (s64)t + (s64)t * S.node[n].ppm / 1000000);
}

u64 real_of(int n, u64 l)
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
void push(u64 t, u8 type, int node, u32 aux, u8 *data, u32 len)
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


static const struct repl_env sim_env_tmpl = {
	.alloc = sim_alloc,
	.free = sim_free,
	.send = sim_send,
	.reply = sim_reply,
};

/* ---- nodes ---- */
void node_sched_tick(int n)
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

/*
 * A timer still due after REPL_TICK_DUE_MAX ticks in a row is one that
 * would fire without end in the kernel (there, a warning and a jiffy's
 * back-off): a violation here, before the runaway of events shows it.
 */
static void tick_left_due(int n)
{
	struct node *nd = &S.node[n];
	u64 l = local_of(n, S.now);

	if (repl_due_streak(nd->r, l, &nd->due_ticks) > REPL_TICK_DUE_MAX)
		violate("n%d: its timer still due after %d ticks in a row (a timer firing without end)",
			n, nd->due_ticks);
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
	cfg.sticky = S.p.sticky;
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
		if (tablesim_init(&nd->ts, P_DRIFT_PPM)) {
			fprintf(stderr, "tablesim_init failed\n");
			exit(2);
		}
		nd->ts.hctx = nd;
		nd->ts.on_digest = on_table_digest;
		nd->ts.on_applied = on_table_applied;
		nd->ts.on_wait_done = tclient_wait_done;
		nd->ts.on_unanswered = tclient_unanswered;
		nd->ts.on_grant = on_grant;
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
	nd->boot_at = S.now;
	nd->world = S.world;
	nd->tick_at = ~0ULL;
	nd->due_ticks = 0;
	trace(TR_BOOT, n, nd->boot, 0, 0);
	node_sched_tick(n);
}

/* a node's life ends: add up its snapshot figures */
void snap_tally(const struct repl *r)
{
	struct repl_status st;

	repl_status(r, &st);
	T.snap_built += st.snap_built;
	T.snap_chunks += st.snap_chunks;
	T.snap_installed += st.snap_installed;
}

/*
 * The clients of node @n die with it, as the processes of a machine do:
 * nobody sends their CLIENT_END (the node is down), and the node's next
 * life ends their sessions with its NODE_START.  New clients take their
 * places later, on any node.
 */
static void clients_die_with(int n)
{
	int i;

	for (i = 0; i < S.nclients; i++) {
		struct client *c = &S.cl[i];

		if (!c->alive || c->node != n)
			continue;
		T.died_with_node++;
		trace(TR_CCRASH, n, c->id, 1, 0);
		client_close(c);
		c->alive = false;
		c->id = 0;
		push(S.now + rnd_range(50 * MS, 500 * MS), EV_FAULT, 0,
		     1000 + (u32)i, NULL, 0);
	}
}

static void node_crash(int n, bool whole)
{
	struct node *nd = &S.node[n];

	if (!nd->up)
		return;
	trace(TR_CRASH, n, whole, 0, 0);
	snap_tally(nd->r);
	repl_destroy(nd->r);
	nd->r = NULL;
	nd->up = false;
	nd->down_since = S.now;
	clients_die_with(n);
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
		if (S.node[i].r) {	/* S is cleared below */
			snap_tally(S.node[i].r);
			repl_destroy(S.node[i].r);
		}
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
	if (use_table)
		tclient_setup();
	S.nclients = (int)rnd_range(2 * S.n, S.n * 3);
	if (S.nclients > MAX_CLIENTS)
		S.nclients = MAX_CLIENTS;
	if (!S.p.max_clients)
		S.p.max_clients = S.nclients + 2;
	T.sets[S.p.set]++;
	T.edge += S.p.edge;
	T.sticky += S.p.sticky;
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
				tick_left_due(e.node);
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
			if (e.aux >= 3000) {
				tclient_end_retry((int)(e.aux - 3000));
				break;
			}
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
		if (use_table)
			tclient_check_waits();
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
	sim_report();
	printf("violations %llu\n", (unsigned long long)T.violations);
	return bad ? 1 : 0;
}

