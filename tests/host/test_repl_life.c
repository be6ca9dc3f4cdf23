// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of a node's lives in the replication core (R7a: a
 * restart is a new incarnation): NODE_START ends the earlier lives'
 * sessions, no forward of an earlier life is taken after it, and a node
 * that restarts can always recover, whatever lives of its peers it heard
 * of.  On the lock-step harness of repl_harness.h; TAP output.
 */
#include "test_repl.h"

/*
 * Leader @l hears a FORWARD of an ACQUIRE (client @client, lock 7) from
 * node @f's life @inc in term @term; returns how many entries it appended.
 */
static u64 forward_acquire(int l, int f, u64 inc, u64 term, u32 client)
{
	static struct repl_msg m;
	u64 last = st(l).last_index;

	memset(&m, 0, sizeof(m));
	m.type = REPL_MSG_FORWARD;
	m.from = (u16)f;
	m.to = (u16)l;
	m.from_inc = inc;
	m.term = term;
	m.n_ent = 1;
	m.ent[0].term = term;
	m.ent[0].cmd.op = REPL_OP_ACQUIRE;
	m.ent[0].cmd.node = (u16)f;
	m.ent[0].cmd.client = client;
	m.ent[0].cmd.req = 1;
	m.ent[0].cmd.ttl = 500 * MS;
	lm_cmd_set(&m.ent[0].cmd, 7, LM_MODE_EXCL);
	repl_receive(H.nd[l].r, &m, H.now);
	return st(l).last_index - last;
}

/*
 * Why NODE_START's msg_life wait is a second guard (docs/protocol.md,
 * plant 41): a forward of an earlier life is taken by no leader once the
 * leader heard the new life, and by none of a later term.
 */
static void test_old_life_forward(int l, int f, u64 old_inc)
{
	u64 term = st(l).term;

	tap_ok(!forward_acquire(l, f, old_inc, term, 33) &&
	       !forward_acquire(l, f, H.nd[f].inc, term - 1, 34),
	       "the leader takes no forward of a restarted node's earlier life, nor of an earlier term");
	tap_ok(forward_acquire(l, f, H.nd[f].inc, term, 35) == 1,
	       "and takes the same forward of its new life in this term");
	run(20);
	tap_ok(!holds(l, 7, 33) && !holds(l, 7, 34) && holds(l, 7, 35),
	       "so only the new life's client holds the lock");
}

/*
 * A follower that restarts within the node-session timeout (500 ms here):
 * its new life takes no client command until its NODE_START is applied,
 * which ends the session of its earlier life's client (a lease without
 * TTL that nothing else would end).  A NODE_START of the same life again
 * changes nothing.
 */
static void test_quick_reboot(void)
{
	int l, f, g;
	u64 t0, started = 0, old_inc;
	int early;
	bool ok;

	/*
	 * A world of its own: the new life's NODE_START puts the old life's
	 * client ids under the node's floor (test_repl_dedup.c), and the
	 * other tests use low ids on every node.
	 */
	setup(3);
	run(3000);
	l = leader();
	f = follower_of(l);
	g = follower_of(f);

	ok = call(f, REPL_OP_ACQUIRE, 31, 1, 6, 0, 100);
	old_inc = H.nd[f].inc;
	crash(f);
	run(20);
	t0 = H.now;
	boot(f);
	early = request(f, REPL_OP_ACQUIRE, 32, 1, 7, 500 * MS, LM_MODE_EXCL);
	while (H.now < t0 + 400 * MS && !started) {
		step();
		if (st(f).started)
			started = H.now;
	}
	tap_ok(ok && early == -EAGAIN && started &&
	       started >= t0 + 50 * MS,
	       "a restarted follower takes no command before its NODE_START, applied %llu ms after boot (msg_life 50 ms; early request %d)",
	       (unsigned long long)((started - t0) / MS), early);
	run(5);
	tap_ok(!holds(l, 6, 31) && !holds(g, 6, 31) && !holds(f, 6, 31),
	       "its earlier life's lease without TTL is ended on every node, within the 500 ms node session");
	ok = call(f, REPL_OP_ACQUIRE, 32, 1, 6, 500 * MS, 100);
	tap_ok(ok && !H.nd[f].res[32].status,
	       "its new client takes the lock");
	call(f, REPL_OP_RELEASE, 32, 2, 6, 0, 100);
	test_old_life_forward(l, f, old_inc);
}

/*
 * A recovering node hears nothing but answers to its RECOVER_REQ, so a
 * peer's incarnation it heard of must not stop them: f hears g and h
 * (its only reachable peers) while it recovers, then g and h restart one
 * after the other while f is cut off.  f must still recover from the majority of the others
 * (l, a and the new g and h), not keep asking lives that ended.
 * Found by the long run (seed 70090920): a node recovering for good.
 */
static void test_recover_new_lives(void)
{
	int l, f, g, h, a, i;
	u64 t0;

	setup(5);
	run(3000);
	l = leader();
	f = (l + 1) % 5;
	g = (l + 2) % 5;
	h = (l + 3) % 5;
	a = (l + 4) % 5;
	crash(f);
	cut_link(f, l, true);
	cut_link(f, a, true);
	boot(f);
	run(300);
	tap_ok(st(f).role == REPL_RECOVERING,
	       "a node that reaches two of four peers stays recovering");
	/* it hears nothing of their next lives */
	cut_link(f, g, true);
	cut_link(f, h, true);
	for (i = 0; i < 2; i++) {
		int n = i ? h : g;

		crash(n);
		run(20);
		boot(n);
		run(1500);
	}
	tap_ok(st(g).role == REPL_FOLLOWER && !st(g).catching_up &&
	       st(h).role == REPL_FOLLOWER && !st(h).catching_up,
	       "both peers it heard restart and catch up from the others");
	cut_link(f, l, false);
	cut_link(f, a, false);
	cut_link(f, g, false);
	cut_link(f, h, false);
	t0 = H.now;
	while (H.now < t0 + 3000 * MS && st(f).role == REPL_RECOVERING)
		step();
	tap_ok(st(f).role == REPL_FOLLOWER,
	       "once it reaches every peer it recovers, %llu ms later (the new lives answer)",
	       (unsigned long long)((H.now - t0) / MS));
	run(1000);
	tap_ok(!st(f).catching_up && st(f).commit == st(leader()).commit,
	       "and catches up");
}

static int ack_from = -1;	/* the one node the leader hears acks of */

static int one_ack(int from, const struct repl_msg *m)
{
	if (ack_from >= 0 && m->type == REPL_MSG_APPEND_RESP &&
	    from != ack_from && st(m->to).role == REPL_LEADER)
		return DROP;
	return net(from, m);
}

/*
 * A new leader whose own life has not started, with half its log of
 * entries it cannot commit: its NODE_START is refused for want of room
 * and tried again a heartbeat later, not at every tick (the long run's
 * seed 100047319: in the kernel a timer firing without end, which the
 * harness fails, tick_left_due()).  Five nodes, so that the old leader
 * hears one follower's acknowledgements (and sends it all it takes)
 * without a majority; that follower's election timeout is the shortest
 * after the leader's.  Once acknowledgements come, it commits.
 */
static void test_refused_life(void)
{
	const int l = 0, f = 1;
	int i, taken = 0;
	u64 t0, led = 0;

	elect_min_ms[l] = 100;
	elect_min_ms[f] = 150;
	for (i = 2; i < 5; i++)
		elect_min_ms[i] = 400;
	setup(5);
	H.filter = one_ack;
	run(3000);
	crash(f);
	run(100);
	/* f's new life catches up; its NODE_START never reaches l */
	drop_types[l] = 1u << REPL_MSG_FORWARD;
	boot(f);
	run(500);
	ack_from = f;
	for (i = 0; i < 70; i++) {
		taken += !request(l, REPL_OP_ACQUIRE, 5, (u32)i + 1, (u32)i % 8,
				  500 * MS, LM_MODE_SHARED);
		step();
	}
	run(50);
	tap_ok(!st(f).started && !st(f).catching_up &&
	       st(f).last_index - st(f).commit >= 32,
	       "precondition: a restarted follower's life has not started, %d of its entries are uncommitted (%d taken)",
	       (int)(st(f).last_index - st(f).commit), taken);
	crash(l);
	ack_from = l;	/* the new leader hears no acknowledgement */
	t0 = H.now;
	while (H.now < t0 + 1500 * MS) {
		step();
		if (leader() == f && !st(f).started)
			led++;
	}
	tap_ok(led >= 100,
	       "it leads %llu ms with its NODE_START refused (half its log uncommitted), and the harness saw no timer stay due",
	       (unsigned long long)led);
	ack_from = -1;
	run(1000);
	tap_ok(st(f).started && leader() >= 0,
	       "once acknowledgements come, its NODE_START commits");
	memset(elect_min_ms, 0, sizeof(elect_min_ms));
}

int main(void)
{
	test_quick_reboot();
	test_recover_new_lives();
	test_refused_life();
	setup(0);
	return tap_done();
}
