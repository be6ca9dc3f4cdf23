// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of chunked snapshot transfer in the replication core
 * (kmod/repl.c): a lagging follower gets the leader's state in SNAP chunks
 * and installs it only once every byte of one snapshot arrived.  The state
 * machine is a fake with a big state (megabytes of bytes that commands
 * overwrite), so transfers take hundreds of chunks.  The network is a
 * lock-step harness (1 ms steps) that can lose, duplicate and delay
 * snapshot messages, or hold them for the test to deliver by hand.  TAP.
 */
#include <stdlib.h>
#include "tap.h"
#include "repl.h"
#include "wire.h"

#define MS		1000000ULL
#define NN		5
#define NCL		64
#define BIG_MAGIC	0x5a5a0b16b16ULL
#define REGION		65536	/* bytes one command overwrites */

/* ---- the fake state machine ---- */
struct bigsm {
	u8 *state;
	u64 size;
	u64 loads;		/* successful installs */
	bool fail_load;		/* next load refuses (a corrupt snapshot) */
};

/* body: offset u32, then a byte; REPL_QUEUED when the byte is 0xee */
static void big_apply(void *sm, const struct repl_cmd *c, u64 index,
		      u64 token, u64 now, struct repl_result *res)
{
	struct bigsm *b = sm;
	u64 off, k;

	(void)now;
	memset(res, 0, sizeof(*res));
	if (c->len < 5) {
		res->status = -EINVAL;
		return;
	}
	if (c->data[4] == 0xee) {
		res->status = REPL_QUEUED;
		return;
	}
	off = (c->data[0] | (u64)c->data[1] << 8 | (u64)c->data[2] << 16 |
	       (u64)c->data[3] << 24) % b->size;
	for (k = 0; k < REGION; k++)
		b->state[(off + k) % b->size] = (u8)(index * 31 + k + c->data[4]);
	res->token = token;
	res->count = 1;
}

static bool big_next_expired(void *sm, u64 now, struct repl_cmd *out)
{
	(void)sm;
	(void)now;
	(void)out;
	return false;
}

static void big_restart(void *sm, u64 now)
{
	(void)sm;
	(void)now;
}

static u64 big_save_size(void *sm)
{
	return 16 + ((struct bigsm *)sm)->size;
}

static s64 big_save(void *sm, u8 *buf, u64 cap)
{
	struct bigsm *b = sm;

	if (cap < 16 + b->size)
		return -ENOSPC;
	dl_put_le64(buf, BIG_MAGIC);
	dl_put_le64(buf + 8, b->size);
	memcpy(buf + 16, b->state, b->size);
	return (s64)(16 + b->size);
}

static int big_load(void *sm, const u8 *buf, u64 len, u64 now)
{
	struct bigsm *b = sm;

	(void)now;
	if (b->fail_load) {
		b->fail_load = false;
		return -EINVAL;
	}
	if (len != 16 + b->size || dl_get_le64(buf) != BIG_MAGIC ||
	    dl_get_le64(buf + 8) != b->size)
		return -EINVAL;
	memcpy(b->state, buf + 16, b->size);
	b->loads++;
	return 0;
}

static void big_reset(void *sm)
{
	struct bigsm *b = sm;

	memset(b->state, 0, b->size);
}

static const struct repl_sm_ops big_ops = {
	.apply = big_apply,
	.next_expired = big_next_expired,
	.restart_leases = big_restart,
	.save_size = big_save_size,
	.save = big_save,
	.load = big_load,
	.reset = big_reset,
};

/* ---- the harness ---- */
struct qmsg {
	u64 at;			/* step to deliver at */
	int to;
	u32 len;
	u8 *data;
};

struct hnode {
	struct repl *r;
	struct bigsm sm;
	bool up;
	bool got[NCL];
	struct repl_result res[NCL];
};

static struct {
	int n;
	u64 now;
	u64 size;
	u32 chunk;
	struct hnode nd[NN];
	struct qmsg *q;
	u32 qn, qcap;
	/* faults on SNAP and SNAP_RESP only */
	u32 loss, dup, delay;	/* per mille; delay: 1-10 ms more */
	u64 rng;
	int hold_to;		/* SNAPs to this node are held for the test */
	struct qmsg *held;
	u32 hn, hcap;
	/* what node 'watch' said last */
	int watch;
	u64 resp_off, resp_index;
	u32 nr_resp;
	u8 append_flags;
	u32 nr_append_resp;
	u64 snap_len;		/* of the last SNAP sent */
} H;

static struct repl_msg M;	/* decode target: too big for a stack */

static u64 rnd(void)
{
	H.rng ^= H.rng << 13;
	H.rng ^= H.rng >> 7;
	H.rng ^= H.rng << 17;
	return H.rng;
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

static void enqueue(struct qmsg **q, u32 *n, u32 *cap, u64 at, int to,
		    const u8 *data, u32 len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*q = realloc(*q, *cap * sizeof(**q));
	}
	(*q)[*n].at = at;
	(*q)[*n].to = to;
	(*q)[*n].len = len;
	(*q)[*n].data = malloc(len);
	memcpy((*q)[*n].data, data, len);
	(*n)++;
}

static void h_send(void *ctx, const struct repl_msg *m)
{
	struct hnode *nd = ctx;
	int from = (int)(nd - H.nd), copies = 1, i;
	static u8 tmp[WIRE_MAX];
	int len = wire_encode(m, tmp, sizeof(tmp));
	bool snap = m->type == REPL_MSG_SNAP || m->type == REPL_MSG_SNAP_RESP;

	if (len < 0)
		abort();
	if (m->type == REPL_MSG_SNAP)
		H.snap_len = m->snap_len;
	if (from == H.watch && m->type == REPL_MSG_SNAP_RESP) {
		H.resp_off = m->snap_off;
		H.resp_index = m->index;
		H.nr_resp++;
	}
	if (from == H.watch && m->type == REPL_MSG_APPEND_RESP) {
		H.append_flags = m->flags;
		H.nr_append_resp++;
	}
	if (m->to == H.hold_to && m->type == REPL_MSG_SNAP) {
		enqueue(&H.held, &H.hn, &H.hcap, 0, m->to, tmp, (u32)len);
		return;
	}
	if (snap && rnd() % 1000 < H.loss)
		return;
	if (snap && rnd() % 1000 < H.dup)
		copies = 2;
	for (i = 0; i < copies; i++) {
		u64 d = 1;

		if (snap && rnd() % 1000 < H.delay)
			d += rnd() % 10;
		enqueue(&H.q, &H.qn, &H.qcap, H.now + d * MS, m->to, tmp,
			(u32)len);
	}
}

static void h_reply(void *ctx, const struct repl_cmd *c,
		    const struct repl_result *res)
{
	struct hnode *nd = ctx;

	if (c->client < NCL) {
		nd->got[c->client] = true;
		nd->res[c->client] = *res;
	}
}

static void deliver(int to, const u8 *data, u32 len)
{
	if (H.nd[to].up && wire_decode(&M, data, len) == 0)
		repl_receive(H.nd[to].r, &M, H.now);
}

static void boot(int i)
{
	struct hnode *nd = &H.nd[i];
	struct repl_env env = { .ctx = nd, .alloc = h_alloc, .free = h_free,
				.send = h_send, .reply = h_reply };
	struct repl_cfg cfg = {
		.nr_nodes = (u16)H.n, .self = (u16)i, .log_cap = 64,
		.max_clients = 32, .max_snap_bytes = 64ULL << 20,
		.snap_chunk = H.chunk, .drift_ppm = 20000,
		.hb_ns = 20 * MS, .elect_min_ns = 100 * MS,
		.elect_max_ns = 200 * MS, .max_ttl_ns = 1000 * MS,
		.session_ns = 500 * MS, .msg_life_ns = 50 * MS,
	};

	cfg.wall_ns = 1800000000ULL * 1000000000ULL + H.now;
	cfg.incarnation = H.now * 8 + (u64)i + 1;
	cfg.seed = 99 + (u64)i * 77 + H.now;
	memset(nd->sm.state, 0, nd->sm.size);
	nd->sm.loads = 0;
	nd->sm.fail_load = false;
	nd->r = repl_create(&cfg, &env, &big_ops, &nd->sm, H.now);
	if (!nd->r)
		abort();
	nd->up = true;
}

static void crash(int i)
{
	if (!H.nd[i].up)
		return;
	repl_destroy(H.nd[i].r);
	H.nd[i].up = false;
}

static void free_q(struct qmsg **q, u32 *n, u32 *cap)
{
	u32 i;

	for (i = 0; i < *n; i++)
		free((*q)[i].data);
	free(*q);
	*q = NULL;
	*n = 0;
	*cap = 0;
}

static void teardown(void)
{
	int i;

	for (i = 0; i < NN; i++) {
		crash(i);
		free(H.nd[i].sm.state);
	}
	free_q(&H.q, &H.qn, &H.qcap);
	free_q(&H.held, &H.hn, &H.hcap);
}

static void setup(int n, u64 size, u32 chunk)
{
	int i;

	teardown();
	memset(&H, 0, sizeof(H));
	H.n = n;
	H.size = size;
	H.chunk = chunk;
	H.now = 1000 * MS;
	H.rng = 88172645463325252ULL;
	H.hold_to = -1;
	H.watch = -1;
	for (i = 0; i < n; i++) {
		H.nd[i].sm.size = size;
		H.nd[i].sm.state = calloc(1, size);
		boot(i);
	}
}

static void step(void)
{
	u32 i, k = 0, n;
	struct qmsg *due;

	H.now += MS;
	/* take out what is due first: delivering sends more */
	n = H.qn;
	due = malloc((n ? n : 1) * sizeof(*due));
	for (i = 0; i < H.qn; i++) {
		if (H.q[i].at <= H.now)
			due[k++] = H.q[i];
		else
			H.q[i - k] = H.q[i];
	}
	H.qn -= k;
	for (i = 0; i < k; i++) {
		deliver(due[i].to, due[i].data, due[i].len);
		free(due[i].data);
	}
	free(due);
	for (i = 0; i < (u32)H.n; i++)
		if (H.nd[i].up && repl_next_timer(H.nd[i].r) <= H.now)
			repl_tick(H.nd[i].r, H.now);
}

static void run(u64 ms)
{
	while (ms--)
		step();
}

static struct repl_status st(int i)
{
	struct repl_status s;

	repl_status(H.nd[i].r, &s);
	return s;
}

static int leader(void)
{
	int i;

	for (i = 0; i < H.n; i++)
		if (H.nd[i].up && st(i).role == REPL_LEADER)
			return i;
	return -1;
}

static bool call(int node, u32 client, u32 req, u32 off, u8 val)
{
	static struct repl_cmd c;
	int i;

	memset(&c, 0, sizeof(c));
	c.op = REPL_OP_SET_VALUE;
	c.client = client;
	c.req = req;
	c.len = 5;
	c.data[0] = (u8)off;
	c.data[1] = (u8)(off >> 8);
	c.data[2] = (u8)(off >> 16);
	c.data[3] = (u8)(off >> 24);
	c.data[4] = val;
	H.nd[node].got[client] = false;
	if (repl_request(H.nd[node].r, &c, H.now))
		return false;
	for (i = 0; i < 200 && !H.nd[node].got[client]; i++)
		step();
	return H.nd[node].got[client];
}

static bool same_state(int a, int b)
{
	return st(a).applied == st(b).applied &&
	       !memcmp(H.nd[a].sm.state, H.nd[b].sm.state, H.size);
}

static bool all_zero(int i)
{
	u64 k;

	for (k = 0; k < H.size; k++)
		if (H.nd[i].sm.state[k])
			return false;
	return true;
}

/*
 * Elect a leader, take node f down, run enough commands that the leader's
 * log no longer reaches back to f's, and boot f: it needs a snapshot.
 */
static int lag_one(int *fp, u32 *req)
{
	int l, f, i;
	bool ok = true;

	run(3000);
	l = leader();
	if (l < 0)
		return -1;
	f = (l + 1) % H.n;
	crash(f);
	run(300);	/* the leader notices it went silent */
	for (i = 0; i < 80 && ok; i++)
		ok = call(l, 1, ++*req, (u32)(rnd() % H.size), (u8)i);
	if (!ok || st(l).first_index <= 1)
		return -1;
	boot(f);
	*fp = f;
	return l;
}

/* ---- tests ---- */
static void test_big(void)
{
	u64 size = 10ULL << 20, t0;
	u32 req = 0;
	int f = -1, l;

	setup(3, size, 0);
	l = lag_one(&f, &req);
	t0 = H.now;
	while (l >= 0 && H.now < t0 + 20000 * MS && !st(f).snap_installed)
		step();
	run(100);
	tap_ok(l >= 0 && st(f).snap_installed == 1 && same_state(f, l) &&
	       H.nd[f].sm.loads == 1,
	       "a 10 MiB snapshot reaches a lagging follower whole (%.2fs simulated)",
	       (H.now - t0) / 1e9);
	tap_ok(l >= 0 && st(l).snap_chunks >= (size + 16) / WIRE_CHUNK_MAX &&
	       st(l).snap_built == 1,
	       "sent as %llu chunks of at most %d bytes, serialized once (not for the node while it was down)",
	       l >= 0 ? (unsigned long long)st(l).snap_chunks : 0ULL,
	       WIRE_CHUNK_MAX);
	run(100);
	tap_ok(l >= 0 && call(f, 2, 1, 12345, 7) && same_state(f, l),
	       "and the follower goes on from the log after it");
}

static void test_faults(void)
{
	u32 req = 0;
	int f = -1, l;
	u64 t0;

	setup(3, 1 << 20, 4096);
	l = lag_one(&f, &req);
	H.loss = 200;
	H.dup = 200;
	H.delay = 300;
	t0 = H.now;
	while (l >= 0 && H.now < t0 + 30000 * MS && !st(f).snap_installed)
		step();
	H.loss = H.dup = H.delay = 0;
	run(200);
	tap_ok(l >= 0 && st(f).snap_installed == 1 && H.nd[f].sm.loads == 1 &&
	       same_state(f, l),
	       "256 chunks with 20%% lost, 20%% duplicated, 30%% reordered: installed once, same state (%llu chunks sent)",
	       l >= 0 ? (unsigned long long)st(l).snap_chunks : 0ULL);
}

/* The log moves on during a transfer: the snapshot is rebuilt, resent. */
static void test_moving(void)
{
	u32 req = 0, i;
	int f = -1, l;
	u64 t0;
	bool ok = true;

	setup(3, 256 << 10, 4096);
	l = lag_one(&f, &req);
	H.watch = f;
	t0 = H.now;
	while (l >= 0 && H.now < t0 + 10000 * MS && !H.resp_off)
		step();
	for (i = 0; i < 60 && l >= 0 && ok; i++)
		ok = call(l, 1, ++req, (u32)(rnd() % H.size), (u8)i);
	t0 = H.now;
	while (l >= 0 && H.now < t0 + 10000 * MS && st(f).applied < st(l).applied)
		step();
	run(100);
	tap_ok(l >= 0 && ok && st(l).snap_built >= 2 && same_state(f, l),
	       "commands during a transfer: the snapshot is rebuilt (%llu times) and the follower still ends equal",
	       l >= 0 ? (unsigned long long)st(l).snap_built : 0ULL);
}

static void test_leader_change(void)
{
	u32 req = 0;
	int f = -1, l, nl;
	u64 t0;

	setup(5, 2 << 20, 4096);
	l = lag_one(&f, &req);
	H.watch = f;
	t0 = H.now;
	while (l >= 0 && H.now < t0 + 10000 * MS &&
	       (!H.snap_len || H.resp_off < H.snap_len / 3))
		step();
	tap_ok(l >= 0 && H.resp_off >= H.snap_len / 3 &&
	       H.resp_off < H.snap_len && !st(f).snap_installed,
	       "a transfer is a third done (%llu of %llu bytes)",
	       (unsigned long long)H.resp_off, (unsigned long long)H.snap_len);
	crash(l);
	t0 = H.now;
	while (H.now < t0 + 20000 * MS && !st(f).snap_installed)
		step();
	run(300);
	nl = leader();
	tap_ok(nl >= 0 && nl != l && st(f).snap_installed == 1 &&
	       H.nd[f].sm.loads == 1 && same_state(f, nl),
	       "the leader dies mid-transfer: the follower installs the new leader's snapshot whole, once");
	tap_ok(nl >= 0 && st(nl).snap_built >= 1,
	       "the new leader serialized its own snapshot");
}

/* hand the held chunks to f, except those ending at the snapshot's end */
static u32 feed_held(int f, u64 *last_len)
{
	u32 i, k = 0, fed = 0;

	for (i = 0; i < H.hn; i++) {
		struct qmsg *q = &H.held[i];

		if (wire_decode(&M, q->data, q->len) == 0 &&
		    M.snap_off + M.blob_len == M.snap_len) {
			*last_len = M.blob_len;
			H.held[k++] = *q;	/* keep it for later */
			continue;
		}
		deliver(f, q->data, q->len);
		free(q->data);
		fed++;
	}
	H.hn = k;
	return fed;
}

static void test_atomic(void)
{
	u32 req = 0, i;
	int f = -1, l;
	u64 t0, size = 256 << 10, len = ~0ULL, last = 0, applied;
	static u8 keep[WIRE_MAX];
	u32 keep_len = 0;

	setup(3, size, 4096);
	l = lag_one(&f, &req);
	if (l < 0) {
		tap_ok(0, "setup for the atomic install test");
		return;
	}
	/* f was just booted: nothing has been sent to it yet */
	H.hold_to = f;
	H.watch = f;
	applied = st(f).applied;
	t0 = H.now;
	while (H.now < t0 + 10000 * MS && H.resp_off + last < len) {
		feed_held(f, &last);
		if (H.snap_len)
			len = H.snap_len;
		step();
	}
	tap_ok(last && H.resp_off + last == len,
	       "every chunk but the last arrived (%llu of %llu bytes)",
	       (unsigned long long)H.resp_off, (unsigned long long)len);
	tap_ok(!H.nd[f].sm.loads && all_zero(f) && st(f).applied == applied &&
	       !st(f).snap_installed,
	       "a half-received snapshot leaves the state, applied index and log as they were");

	/* the last chunk, kept aside; then stale ones made from it */
	for (i = 0; i < H.hn && !keep_len; i++)
		if (wire_decode(&M, H.held[i].data, H.held[i].len) == 0 &&
		    M.snap_off + M.blob_len == M.snap_len) {
			memcpy(keep, H.held[i].data, H.held[i].len);
			keep_len = H.held[i].len;
		}
	wire_decode(&M, keep, keep_len);
	M.index--;	/* a chunk of another snapshot */
	repl_receive(H.nd[f].r, &M, H.now);
	tap_ok(!H.nd[f].sm.loads && H.resp_off == 0 && H.resp_index == M.index,
	       "a chunk of another snapshot is not taken for this one's");
	wire_decode(&M, keep, keep_len);
	M.term--;	/* an older leader's */
	H.nr_append_resp = 0;
	repl_receive(H.nd[f].r, &M, H.now);
	tap_ok(!H.nd[f].sm.loads && H.nr_append_resp == 1 &&
	       !(H.append_flags & REPL_F_OK),
	       "a chunk from an older term is refused");
	wire_decode(&M, keep, keep_len);
	M.snap_off -= 4096;	/* a duplicate of an earlier chunk */
	M.blob_len = 4096;
	repl_receive(H.nd[f].r, &M, H.now);
	tap_ok(!H.nd[f].sm.loads && H.resp_off == len - last,
	       "a repeated chunk changes nothing; the follower still holds %llu bytes",
	       (unsigned long long)H.resp_off);

	/* a snapshot the state machine refuses: nothing changes */
	H.nd[f].sm.fail_load = true;
	wire_decode(&M, keep, keep_len);
	H.nr_append_resp = 0;
	repl_receive(H.nd[f].r, &M, H.now);
	tap_ok(!H.nd[f].sm.loads && all_zero(f) && st(f).applied == applied &&
	       H.nr_append_resp == 1 && !(H.append_flags & REPL_F_OK),
	       "a complete snapshot that load() refuses leaves everything as it was");

	/* let it through: the transfer starts over and completes */
	H.hold_to = -1;
	free_q(&H.held, &H.hn, &H.hcap);
	t0 = H.now;
	while (H.now < t0 + 10000 * MS && !st(f).snap_installed)
		step();
	run(100);
	tap_ok(st(f).snap_installed == 1 && H.nd[f].sm.loads == 1 &&
	       same_state(f, l),
	       "then the transfer starts over and installs");
}

/*
 * A snapshot whose dedup record names a node out of range (its node indexes
 * the core's floors) is refused whole: load() is not even called.  Every
 * first chunk to the follower is corrupted for 2 s, then none.
 */
static void test_bad_slot_node(void)
{
	const u32 node_at = 16 + 16 * REPL_MAX_NODES + 40;	/* record 0 */
	u32 req = 0, i, bad = 0;
	int f = -1, l;
	u64 t0;

	setup(3, 4096, 0);
	l = lag_one(&f, &req);
	if (l < 0) {
		tap_ok(0, "setup for the bad slot node test");
		return;
	}
	H.hold_to = f;
	t0 = H.now;
	while (H.now < t0 + 2000 * MS) {
		for (i = 0; i < H.hn; i++) {
			struct qmsg *q = &H.held[i];

			if (!wire_decode(&M, q->data, q->len) && !M.snap_off &&
			    M.blob_len > node_at) {
				q->data[M.blob - q->data + node_at] = REPL_MAX_NODES;
				bad++;
			}
			deliver(f, q->data, q->len);
			free(q->data);
		}
		H.hn = 0;
		step();
	}
	tap_ok(bad && !H.nd[f].sm.loads && !st(f).snap_installed,
	       "a snapshot whose dedup record names node %u is refused before load() (%u first chunks corrupted)",
	       REPL_MAX_NODES, bad);
	H.hold_to = -1;
	t0 = H.now;
	while (H.now < t0 + 10000 * MS && !st(f).snap_installed)
		step();
	run(100);
	tap_ok(st(f).snap_installed == 1 && same_state(f, l),
	       "the same snapshot unharmed installs");
}

static void test_queued(void)
{
	static struct repl_cmd c;
	int l, i;

	setup(3, 1 << 16, 0);
	run(3000);
	l = leader();
	memset(&c, 0, sizeof(c));
	c.op = REPL_OP_ACQUIRE;
	c.client = 3;
	c.req = 1;
	c.len = 5;
	c.data[4] = 0xee;
	for (i = 0; i < 2; i++) {
		H.nd[(l + 1) % 3].got[3] = false;
		repl_request(H.nd[(l + 1) % 3].r, &c, H.now);
		run(50);
	}
	tap_ok(l >= 0 && H.nd[(l + 1) % 3].got[3] &&
	       H.nd[(l + 1) % 3].res[3].status == REPL_QUEUED,
	       "REPL_QUEUED reaches the client's node, also for a retry");
}

int main(void)
{
	test_big();
	test_faults();
	test_moving();
	test_leader_change();
	test_atomic();
	test_bad_slot_node();
	test_queued();
	teardown();
	return tap_done();
}
