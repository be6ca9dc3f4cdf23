// SPDX-License-Identifier: GPL-2.0
/*
 * Targeted schedules for the replication core (kmod/repl*.c): scripted
 * scenarios, each built so that one known mistake of the core does harm in
 * it, where the random simulator almost never makes such a schedule
 * (docs/protocol.md section 7, plants 10, 18, 19, 35).
 *
 * Each scenario drives real nodes of the core on a lock-step harness
 * (repl_harness.h: one shared clock, 1 ms per step, every message through
 * the real codec) and steers them only with faults of the protocol's
 * model: lost, duplicated and delayed messages (each delivered within
 * msg_life of its send), partitions, crashes with memory wiped, and
 * per-node election timeouts.
 * The scenario does not look at the mutation: it checks protocol
 * properties, with the simulator's own checker (tests/sim/check_log.c,
 * check_peek.c: committed prefix, leader completeness, durability, votes,
 * acknowledgements) after every message and every timer, and end to end
 * (a committed grant is still held; a follower stands for election in
 * time).  The schedule's own steps are asserted too, so a change of the
 * core that moves the schedule shows as a failed precondition, not as a
 * silent pass.  TAP output.
 */
#include <stdio.h>
#include "tap.h"

#define NCL		32
#define MAXQ		4096
#define SEED		4321
#define MAX_TTL_MS	200
#include "repl_harness.h"
#include "check.h"

/* the checker's first report (tests/sim/check.h), and when it came */
static struct {
	u64 t0;			/* scenario start */
	const char *viol;
	char vbuf[512];
	u64 viol_at;
} V;

void violate(const char *fmt, ...)
{
	va_list ap;

	if (V.viol)
		return;
	va_start(ap, fmt);
	vsnprintf(V.vbuf, sizeof(V.vbuf), fmt, ap);
	va_end(ap);
	V.viol = V.vbuf;
	V.viol_at = H.now - V.t0;
}

static void check_all(void)
{
	struct repl *rs[NN] = { NULL };
	int i;

	for (i = 0; i < H.n; i++) {
		if (!H.nd[i].up)
			continue;
		rs[i] = H.nd[i].r;
		ck_observe(i, H.nd[i].boot, rs[i], H.now);
	}
	ck_durable(rs, H.n);
	for (i = 0; i < H.n; i++)
		ck_match(i, rs, H.n);
}

static void setup(int n, const u32 *elect_ms, u64 msg_life_ms)
{
	ck_log_reset();		/* a new world: the whole cluster boots */
	new_world(n, elect_ms, msg_life_ms);
	memset(&V, 0, sizeof(V));
	V.t0 = H.now;
	H.observe = check_all;
}

#define RUN_UNTIL(cond, ms) ({					\
	u64 _end = H.now + (u64)(ms) * MS;				\
	while (!(cond) && H.now < _end)					\
		step();							\
	(cond); })

static bool is(int i, u8 role)
{
	return H.nd[i].up && st(i).role == role;
}

static int leader(void)
{
	int i, l = -1;
	u64 t = 0;

	/* the leader of the highest term (a deposed one may not know yet) */
	for (i = 0; i < H.n; i++)
		if (is(i, REPL_LEADER) && st(i).term >= t) {
			t = st(i).term;
			l = i;
		}
	return l;
}

static int request(int node, u32 client, u32 req, u32 lock)
{
	static struct repl_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = REPL_OP_ACQUIRE;
	cmd.client = client;
	cmd.req = req;
	cmd.ttl = 0;		/* session-bound: no expiry by time */
	lm_cmd_set(&cmd, lock, LM_MODE_EXCL);
	H.nd[node].got[client] = false;
	return repl_request(H.nd[node].r, &cmd, H.now);
}

static u64 token_of(int node, u32 lock, u32 client)
{
	struct lm_holder *h;

	if (node < 0 || !H.nd[node].up)
		return 0;
	h = lockmodel_find(&H.nd[node].sm, lock, client);
	return h ? h->token : 0;
}

/* the checker's verdict, with the first violation and when it came */
static void property(const char *plant, const char *what)
{
	if (V.viol)
		printf("# %s: first violation %llu ms into the scenario: %s\n",
		       plant, (unsigned long long)(V.viol_at / MS), V.viol);
	tap_ok(!V.viol, "%s: %s", plant, what);
}

/*
 * Plant 10 (an acknowledgement of an older term counted).  Five nodes, L=0
 * X=1 M=2 Y=3 Z=4; term t is led only by node t % 5.  L leads term 5 and
 * appends three entries that only X gets; X's acknowledgement of the last
 * one is delayed in the network.  M leads term 7 with Y and Z and its
 * first entry cuts L's log below that index; then L leads again (term 10,
 * votes of Y and Z), its own first entry under the delayed acknowledgement's
 * index.  Only Y holds L's term-10 entries when X's term-5 acknowledgement
 * finally arrives (within msg_life).  Counting it would commit them on two
 * of five nodes: durability (a node without them, Z, is as up to date as a
 * majority: Z, M, X) is checked after every message.
 */
static struct {
	u64 c;			/* L's last index before the three entries */
	bool caught;
} S10;

static int f10(int from, const struct repl_msg *m)
{
	if (from == 1 && m->to == 0 && m->type == REPL_MSG_APPEND_RESP &&
	    (m->flags & REPL_F_OK) && m->index == S10.c + 3 && !S10.caught) {
		S10.caught = true;
		return KEEP;
	}
	/* L's term-10 entries reach Y only */
	if (from == 0 && m->to == 4 && m->type == REPL_MSG_APPEND &&
	    m->term == 10)
		return DROP;
	return PASS;
}

static void sched_stale_ack(void)
{
	static const u32 el[] = { 100, 300, 150, 300, 300 };
	const char *p = "plant 10 schedule";
	bool ok, pre = true;
	u64 c, k;
	u32 i;

	memset(&S10, 0, sizeof(S10));
	setup(5, el, 500);
	ok = RUN_UNTIL(leader() == 0 && st(4).commit >= 1 &&
		       st(0).commit == st(0).last_index, 4000);
	pre &= ok && st(0).term == 5;
	S10.c = c = st(0).last_index;
	H.filter = f10;
	/* {L, X} | {M, Y, Z} */
	for (i = 2; i < 5; i++) {
		cut_link(0, (int)i, true);
		cut_link(1, (int)i, true);
	}
	for (i = 1; i <= 3; i++)
		pre &= request(0, i, 1, i) == 0;
	ok = RUN_UNTIL(S10.caught, 50);
	pre &= ok;
	cut_node(1, true);	/* X is cut off from now on */
	/* M stands (term 7): L hears it from then on */
	ok = RUN_UNTIL(st(2).term >= 7, 400);
	pre &= ok && st(2).term == 7;
	cut_link(0, 2, false);
	ok = RUN_UNTIL(is(0, REPL_FOLLOWER) && st(0).term == 7 &&
		       st(0).commit >= c + 1, 400);
	pre &= ok && st(0).last_index == c + 1;
	tap_ok(pre, "%s: L led term 5, X holds its 3 entries and its acknowledgement of index %llu is in flight; M led term 7 and cut L's log to %llu",
	       p, (unsigned long long)c + 3, (unsigned long long)c + 1);
	/* M goes away; L stands (term 10) with Y and Z */
	cut_node(2, true);
	cut_link(0, 3, false);
	cut_link(0, 4, false);
	ok = RUN_UNTIL(is(0, REPL_LEADER) && st(0).term == 10, 400);
	pre = ok && st(0).last_index == c + 2;
	pre &= request(0, 9, 1, 4) == 0;
	run(5);
	pre &= st(0).last_index == c + 3 && st(3).last_index == c + 3;
	k = st(0).commit;
	tap_ok(pre && k == c + 1,
	       "%s: L leads term 10 with its entries at %llu..%llu, held by L and Y only, none committed",
	       p, (unsigned long long)c + 2, (unsigned long long)c + 3);
	/* the term-5 acknowledgement arrives, within msg_life */
	release(0);
	run(20);
	tap_ok(!H.late, "%s: every delayed message was delivered within msg_life", p);
	property(p, "a leader commits only what a majority of its term holds: durability, committed prefix and leader completeness hold after every message");
	tap_ok(st(0).commit == k,
	       "%s: an acknowledgement of term 5 commits nothing in term 10 (commit %llu, was %llu)",
	       p, (unsigned long long)st(0).commit, (unsigned long long)k);
}

/*
 * Plant 18 (a node with entries says FRESH, recovery trusts it).  Three
 * nodes after a whole-cluster restart: L=0 leads the new world, F=1 gets
 * the world's first entries (EPOCH and a grant) in one APPEND and
 * acknowledges them, C=2 gets none; L commits both and crashes before F
 * hears the commit, so F's commit index is 0 and it has applied no EPOCH.
 * L restarts and recovers.  F's log holds a committed grant: a recovery
 * that started a new world here would let L and C (empty logs, a majority)
 * elect a leader without it.  Checked: durability after every message,
 * and at the end the grant is in the leader's table with its token.
 */
static int f18(int from, const struct repl_msg *m)
{
	/* L's word of its commit (an empty APPEND) is lost: it crashes */
	if (from == 0 && m->type == REPL_MSG_APPEND && !m->n_ent &&
	    m->commit >= 1)
		return DROP;
	if (from != 0 || m->type != REPL_MSG_APPEND || !m->n_ent)
		return PASS;
	/* C gets no entry; F gets the EPOCH only together with the grant */
	if (m->to == 2 || m->index + m->n_ent < 2)
		return DROP;
	return PASS;
}

static void sched_fresh_with_entries(void)
{
	static const u32 el[] = { 100, 400, 250 };
	const char *p = "plant 18 schedule";
	bool ok, pre;
	u64 tok;
	int l;

	setup(3, el, 50);
	H.filter = f18;
	ok = RUN_UNTIL(leader() == 0 && st(0).last_index >= 1, 3000);
	pre = ok && request(1, 1, 1, 0) == 0;	/* forwarded to L */
	ok = RUN_UNTIL(st(0).commit >= 2, 200);
	tok = token_of(0, 0, 1);
	pre &= ok && st(0).commit == 2 && tok && st(1).last_index == 2 &&
	       st(1).commit == 0 && st(1).fresh && st(2).last_index == 0;
	tap_ok(pre, "%s: L committed the EPOCH and a grant with F's acknowledgement; F holds them, commit 0, still fresh; C holds nothing",
	       p);
	crash(0);
	H.filter = NULL;
	boot(0);
	run(2500);
	property(p, "a restarted node does not start a new world while a node holds entries: durability and leader completeness hold after every message");
	l = leader();
	tap_ok(l >= 0 && token_of(l, 0, 1) == tok,
	       "%s: the grant L committed before its crash is in the leader's table, same token", p);
	tap_ok(H.nd[1].got[1] && H.nd[1].res[1].token == tok,
	       "%s: and its client (on F) gets that grant", p);
}

/*
 * Plant 19 (catch-up target is the leader's commit, not its last index).
 * Five nodes: L=0 B=1 A=2 C=3 D=4.  Indexes 1..16 are committed
 * everywhere; index 17 (a grant) reaches only A and B, and L commits it on
 * their acknowledgements (L, A, B), and its word of that commit is lost.
 * L and A crash at once (f = 2): 17 is
 * left on B alone.  B leads term 6 (votes of C, D); its EPOCH (18) is not
 * committed yet, so its commit index is 16.  A restarts, recovers from B,
 * and gets the first batch of the log, 1..16, with commit 16; the next
 * batch (17, 18) is lost.  A must not count (vote) before it holds what B
 * held when it answered (17): A, C and D would be a majority without 17.
 * Then B is cut off for 400 ms (C and D stand), everything heals, L
 * restarts; at the end the grant at 17 must be in the leader's table.
 */
static int s19;

static int f19(int from, const struct repl_msg *m)
{
	/* L's news of commit 17 (an empty APPEND) is lost before its crash */
	if (s19 == 1 && from == 0 && m->type == REPL_MSG_APPEND &&
	    !m->n_ent && m->commit >= 17)
		return DROP;
	if (m->type != REPL_MSG_APPEND || !m->n_ent)
		return PASS;
	if (s19 == 1 && from == 0 && (m->to == 3 || m->to == 4))
		return DROP;
	if (s19 == 2 && from == 1 && (m->to == 3 || m->to == 4))
		return DROP;
	/* lost: what would give A index 17 (it rejects the rest itself) */
	if (s19 == 2 && from == 1 && m->to == 2 && m->index <= 16 &&
	    m->index + m->n_ent > 16)
		return DROP;
	return PASS;
}

static void sched_catchup_target(void)
{
	static const u32 el[] = { 100, 150, 120, 300, 300 };
	const char *p = "plant 19 schedule";
	bool ok, pre;
	u32 k = 0;
	u64 tok;
	int l;

	s19 = 0;
	setup(5, el, 50);
	H.filter = f19;
	ok = RUN_UNTIL(leader() == 0 && st(0).commit >= 1, 4000);
	while (ok && st(0).last_index < 16 && ++k < 40) {
		ok = request(0, k, 1, k % 7) == 0;
		ok = ok && RUN_UNTIL(H.nd[0].got[k], 100);
	}
	ok = ok && RUN_UNTIL(st(1).commit == 16 && st(2).commit == 16 &&
			     st(3).commit == 16 && st(4).commit == 16, 200);
	pre = ok && st(0).last_index == 16;
	s19 = 1;
	pre &= request(1, 20, 1, 7) == 0;	/* forwarded to L: index 17 */
	ok = RUN_UNTIL(st(0).commit >= 17, 100);
	tok = token_of(0, 7, 20);
	pre &= ok && st(0).commit == 17 && tok && st(1).last_index == 17 &&
	       st(2).last_index == 17 && st(3).last_index == 16 &&
	       st(4).last_index == 16;
	tap_ok(pre, "%s: L committed index 17 with A's and B's acknowledgements; C and D hold 16",
	       p);
	crash(0);
	crash(2);
	s19 = 2;
	boot(2);
	ok = RUN_UNTIL(is(2, REPL_FOLLOWER) && st(2).last_index >= 16, 600);
	run(5);
	pre = ok && is(1, REPL_LEADER) && st(1).term == 6 &&
	      st(1).commit == 16 && st(1).last_index == 18 &&
	      st(2).last_index == 16 && st(2).commit == 16;
	tap_ok(pre, "%s: B leads term 6 (commit 16, last 18); A recovered from it and holds 1..16 with commit 16",
	       p);
	property(p, "a recovered node counts only once it holds the leader's log as of its recovery: durability holds after every message");
	/* B away: C and D stand, with A's vote if A counted */
	s19 = 0;
	H.filter = NULL;
	cut_node(1, true);
	run(400);
	cut_node(1, false);
	boot(0);
	run(3000);
	property(p, "leader completeness and the committed prefix hold to the end");
	l = leader();
	tap_ok(l >= 0 && token_of(l, 7, 20) == tok,
	       "%s: the grant committed at 17 is in the leader's table, same token", p);
}

/*
 * Plant 35 (an APPEND of a stale term resets the election timer).  Three
 * nodes: L=0 leads term 3; the network keeps copies (duplicates) of ten of
 * its heartbeats to F=2.  L crashes, M=1 leads term 4 (F votes), then M
 * crashes.  F's election timeout [200, 201) ms runs from M's last message;
 * meanwhile the old copies of L's term-3 APPENDs reach F every 25 ms
 * (each within msg_life of its send).  Only a valid APPEND or a granted
 * vote may push the timeout back (R1, section 2): F must stand within
 * elect_max of M's last message.
 */
static bool s35;

static int f35(int from, const struct repl_msg *m)
{
	if (s35 && from == 0 && m->to == 2 && m->type == REPL_MSG_APPEND)
		return COPY;
	return PASS;
}

static void sched_stale_append(void)
{
	static const u32 el[] = { 100, 120, 200 };
	const char *p = "plant 35 schedule";
	u64 t_crash, term, stood = 0;
	bool ok, pre;
	int k = 0;

	s35 = false;
	setup(3, el, 500);
	H.filter = f35;
	ok = RUN_UNTIL(leader() == 0 && st(2).commit >= 1, 3000);
	s35 = true;
	run(200);
	s35 = false;
	crash(0);
	ok = ok && RUN_UNTIL(leader() == 1, 400);
	run(30);
	term = st(2).term;
	pre = ok && H.nheld >= 9 && term == 4 && st(1).term == 4 &&
	      st(2).leader == 1 && is(2, REPL_FOLLOWER);
	tap_ok(pre, "%s: F follows M in term 4; %d copies of L's term-3 APPENDs in the network",
	       p, H.nheld);
	crash(1);
	t_crash = H.now;
	while (H.now < t_crash + 600 * MS) {
		if ((H.now - t_crash) % (25 * MS) == 0 && k < H.nheld)
			release(k++);
		step();
		if (!stood && st(2).term > term)
			stood = H.now;
	}
	tap_ok(!H.late && k == H.nheld,
	       "%s: %d stale-term APPENDs delivered, each within msg_life", p, k);
	if (stood)
		printf("# %s: F stood %llu ms after its leader's crash\n", p,
		       (unsigned long long)((stood - t_crash) / MS));
	tap_ok(stood && stood <= t_crash + 203 * MS,
	       "%s: a follower stands within elect_max of its leader's last message, stale-term APPENDs notwithstanding",
	       p);
	property(p, "the checker's invariants hold");
}

int main(void)
{
	sched_stale_ack();
	sched_fresh_with_entries();
	sched_catchup_target();
	sched_stale_append();
	setup(0, NULL, 0);
	return tap_done();
}
