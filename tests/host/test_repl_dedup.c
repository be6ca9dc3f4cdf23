// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the replication core's idempotence (dedup) table
 * (kmod/repl.c, docs/protocol.md R8): a retransmission gets the first
 * answer, ids are per node, a client that holds or waits for something
 * keeps its slot, a forgotten client is refused and never run again, and
 * with every slot's client busy a new client is refused.  The harness
 * keeps 32 slots.  TAP output.
 */
#include "test_repl.h"

#define SLOTS	32

static void fresh_world(void)
{
	setup(3);
	run(3000);
}

/* call() in @mode */
static bool call_mode(int node, u8 op, u32 client, u32 req, u32 lock,
		      u8 mode)
{
	int ms = 100;

	if (request(node, op, client, req, lock, 500 * MS, mode))
		return false;
	while (ms-- && !H.nd[node].got[client])
		step();
	return H.nd[node].got[client];
}

static s32 status(int node, u32 client)
{
	return H.nd[node].res[client].status;
}

/*
 * @n clients of @node from id @first each take and release @lock: clients
 * that hold nothing afterwards, so each new one pushes the least recently
 * used idle client out once the table is full.
 */
static bool churn(int node, u32 first, u32 n, u32 lock)
{
	bool ok = true;
	u32 c;

	for (c = first; c < first + n; c++) {
		ok &= call(node, REPL_OP_ACQUIRE, c, 1, lock, 500 * MS, 100) &&
		      !status(node, c);
		ok &= call(node, REPL_OP_RELEASE, c, 2, lock, 0, 100) &&
		      !status(node, c);
	}
	return ok;
}

static void test_forward_and_dedup(void)
{
	int l = leader(), f = follower_of(l);
	struct repl_result r1, r2;
	bool ok;

	ok = call(f, REPL_OP_ACQUIRE, 1, 1, 0, 500 * MS, 100);
	r1 = H.nd[f].res[1];
	tap_ok(ok && r1.status == 0 && r1.count == 1,
	       "follower forwards ACQUIRE, reply comes at the origin node");
	tap_ok(r1.token == repl_token(st(l).epoch, r1.index),
	       "fencing token = epoch << 32 | log index");
	ok = call(f, REPL_OP_ACQUIRE, 1, 1, 0, 500 * MS, 100);
	r2 = H.nd[f].res[1];
	tap_ok(ok && r2.count == 1 && r2.token == r1.token &&
	       lockmodel_find(&H.nd[l].sm, 0, 1)->count == 1,
	       "retried ACQUIRE (same request id) does not take a second count");
	ok = call(f, REPL_OP_ACQUIRE, 1, 2, 0, 500 * MS, 100);
	tap_ok(ok && H.nd[f].res[1].count == 2,
	       "a new request id does take a reentrant count");
	ok = call(f, REPL_OP_ACQUIRE, 1, 1, 0, 500 * MS, 100);
	tap_ok(ok && H.nd[f].res[1].status == -ESTALE,
	       "a request older than the last one is refused (-ESTALE)");
	ok = call(l, REPL_OP_ACQUIRE, 2, 1, 0, 500 * MS, 100);
	tap_ok(ok && H.nd[l].res[2].status == -EBUSY,
	       "exclusive lock held: second client gets -EBUSY");
	call(f, REPL_OP_RELEASE, 1, 3, 0, 0, 100);
	call(f, REPL_OP_RELEASE, 1, 4, 0, 0, 100);
	run(50);
	tap_ok(!holds(0, 0, 1) && !holds(1, 0, 1) && !holds(2, 0, 1),
	       "two releases drop both counts on every node");
}

/*
 * Client ids are unique per node only: the same id on two nodes is two
 * clients, and the second one's first request is applied, not answered
 * from the first one's dedup slot (nor refused as older than its last).
 */
static void test_dedup_per_node(void)
{
	int l = leader(), f = follower_of(l), g = follower_of(f);
	bool ok1, ok2, ok3;

	ok1 = call(f, REPL_OP_ACQUIRE, 29, 1, 2, 500 * MS, 100);
	ok2 = call(g, REPL_OP_ACQUIRE, 29, 1, 3, 500 * MS, 100);
	tap_ok(ok1 && ok2 && !H.nd[g].res[29].status && holds(l, 3, 29) &&
	       H.nd[g].res[29].index != H.nd[f].res[29].index,
	       "the same client id on two nodes: each one's first request is applied (indexes %llu %llu)",
	       (unsigned long long)H.nd[f].res[29].index,
	       (unsigned long long)H.nd[g].res[29].index);
	call(f, REPL_OP_RELEASE, 29, 2, 2, 0, 100);
	call(f, REPL_OP_ACQUIRE, 29, 3, 2, 500 * MS, 100);
	ok3 = call(g, REPL_OP_RELEASE, 29, 2, 3, 0, 100);
	tap_ok(ok3 && !H.nd[g].res[29].status && !holds(l, 3, 29),
	       "and one's later requests do not make the other's look older (status %d)",
	       H.nd[g].res[29].status);
	call(f, REPL_OP_RELEASE, 29, 4, 2, 0, 100);
}


/*
 * Seed 500746 of the simulator: a client's ACQUIRE applied, its slot
 * evicted by other clients' requests, then a second copy of the ACQUIRE
 * (a retry sent while the first was in flight) applied as new: count 2.
 */
static void test_holder_keeps_slot(void)
{
	int l, f;
	struct repl_result r1, r;
	bool ok, churned;

	fresh_world();
	l = leader();
	f = follower_of(l);
	ok = call(f, REPL_OP_ACQUIRE, 1, 1, 0, 500 * MS, 100);
	r1 = H.nd[f].res[1];
	ok &= call(f, REPL_OP_ACQUIRE, 2, 1, 1, 500 * MS, 100) &&
	      call(f, REPL_OP_RELEASE, 2, 2, 1, 0, 100) && !status(f, 2);
	churned = churn(l, 10, SLOTS + 8, 2);
	ok &= call(f, REPL_OP_ACQUIRE, 1, 1, 0, 500 * MS, 100);
	r = H.nd[f].res[1];
	tap_ok(ok && churned && r.status == 0 && r.count == 1 &&
	       r.token == r1.token && lockmodel_find(&H.nd[l].sm, 0, 1) &&
	       lockmodel_find(&H.nd[l].sm, 0, 1)->count == 1,
	       "a holder keeps its slot while %d idle clients pass through %d slots: its retried ACQUIRE gets its first answer (status %d, count %u)",
	       SLOTS + 8, SLOTS, r.status, r.count);
	ok = call(f, REPL_OP_ACQUIRE, 2, 1, 1, 500 * MS, 100);
	r = H.nd[f].res[2];
	tap_ok(ok && r.status == -EKEYEXPIRED && r.token == 2 &&
	       !holds(l, 1, 2) && !holds(f, 1, 2),
	       "an idle client pushed out: a late copy of its released ACQUIRE is refused (-EKEYEXPIRED, its node's floor %llu), not run again (status %d)",
	       (unsigned long long)r.token, r.status);
	ok = call(f, REPL_OP_ACQUIRE, 2, 3, 1, 500 * MS, 100);
	tap_ok(ok && status(f, 2) == -EKEYEXPIRED && !holds(l, 1, 2),
	       "and so is its next request: the table cannot tell it from a copy");
	ok = call(f, REPL_OP_ACQUIRE, 3, 1, 1, 500 * MS, 100);
	tap_ok(ok && !status(f, 3) && holds(l, 1, 3),
	       "a client of that node numbered above the floor is served");
	call(f, REPL_OP_RELEASE, 3, 2, 1, 0, 100);
	call(f, REPL_OP_RELEASE, 1, 2, 0, 0, 100);
}

static void test_every_slot_busy(void)
{
	int l, k;
	bool ok = true;

	fresh_world();
	l = leader();
	for (k = 0; k < SLOTS; k++)
		ok &= call_mode(l, REPL_OP_ACQUIRE, 10 + k, 1, k % 8,
				LM_MODE_SHARED) && !status(l, 10 + k);
	ok &= call_mode(l, REPL_OP_ACQUIRE, 50, 1, 0, LM_MODE_SHARED);
	tap_ok(ok && status(l, 50) == -EUSERS && !holds(l, 0, 50),
	       "with every one of the %d slots' clients holding a lease, a new client is refused (-EUSERS), not run (status %d)",
	       SLOTS, status(l, 50));
	ok = call(l, REPL_OP_RELEASE, 10, 2, 0, 0, 100) && !status(l, 10);
	ok &= call_mode(l, REPL_OP_ACQUIRE, 50, 1, 0, LM_MODE_SHARED);
	tap_ok(ok && status(l, 50) == -EKEYEXPIRED && !holds(l, 0, 50),
	       "once a slot is free, a late copy of the refused request is not run: the refusal put its id under the floor (status %d)",
	       status(l, 50));
	ok = call_mode(l, REPL_OP_ACQUIRE, 52, 1, 0, LM_MODE_SHARED);
	tap_ok(ok && !status(l, 52) && holds(l, 0, 52),
	       "and a new client takes the free slot");
	ok = call(l, REPL_OP_CLIENT_END, 53, 1, 0, 0, 100);
	tap_ok(ok && status(l, 53) == 0,
	       "with every slot busy again, a new client's CLIENT_END is run without a slot (its tombstone must stop its requests on their way; status %d)",
	       status(l, 53));
	ok = call(l, REPL_OP_ACQUIRE, 53, 2, 1, 500 * MS, 100);
	tap_ok(ok && status(l, 53) == -EKEYEXPIRED &&
	       H.nd[l].res[53].token == 53,
	       "and the floor covers its id: a later command with it is renumbered, not refused for good (status %d)",
	       status(l, 53));
	ok = call(l, REPL_OP_RELEASE, 10, 2, 0, 0, 100);
	tap_ok(ok && status(l, 10) == -EKEYEXPIRED &&
	       H.nd[l].res[10].token >= 10,
	       "and the released client is forgotten: its retried RELEASE is refused (floor %llu)",
	       (unsigned long long)H.nd[l].res[10].token);
}

/* The floors are replicated state: a snapshot carries them. */
static void test_floor_in_snapshot(void)
{
	int l, f, g;
	bool ok;

	fresh_world();
	l = leader();
	f = follower_of(l);
	g = follower_of(f);
	crash(g);
	ok = call(f, REPL_OP_ACQUIRE, 2, 1, 1, 500 * MS, 100) &&
	     call(f, REPL_OP_RELEASE, 2, 2, 1, 0, 100);
	ok &= churn(l, 10, SLOTS + 8, 2);
	boot(g);
	run(800);
	ok &= st(g).snap_installed > 0 && st(g).applied == st(l).applied;
	ok &= call(f, REPL_OP_ACQUIRE, 2, 1, 1, 500 * MS, 100) &&
	      status(f, 2) == -EKEYEXPIRED;
	run(50);
	tap_ok(ok && !holds(g, 1, 2) && H.nd[g].sm.digest == H.nd[l].sm.digest,
	       "a node that caught up by snapshot refuses the forgotten client too (installed %llu, same state)",
	       (unsigned long long)st(g).snap_installed);
}

/*
 * A node's ids may repeat across its lives (the kernel numbers clients from
 * the wall clock: it may go back, and the ids wrap every 52 days).  The
 * NODE_START of the new life drops the old life's slots under the floor, so
 * a new client with an old id is renumbered, never answered from the old
 * client's slot.
 */
static void test_new_life_reused_id(void)
{
	int l, f;
	bool ok;

	fresh_world();
	l = leader();
	f = follower_of(l);
	ok = call(f, REPL_OP_ACQUIRE, 5, 1, 4, 500 * MS, 100) &&
	     call(f, REPL_OP_RELEASE, 5, 2, 4, 0, 100) && !status(f, 5);
	crash(f);
	run(20);
	boot(f);
	run(400);
	ok &= st(f).started;
	ok &= call(f, REPL_OP_ACQUIRE, 5, 2, 4, 500 * MS, 100);
	tap_ok(ok && status(f, 5) == -EKEYEXPIRED && !holds(l, 4, 5) &&
	       H.nd[f].res[5].token == 5,
	       "a new life's client with an old life's id and request id: refused (-EKEYEXPIRED, floor %llu), not given the old answer (status %d)",
	       (unsigned long long)H.nd[f].res[5].token, status(f, 5));
	ok = call(f, REPL_OP_ACQUIRE, 6, 1, 4, 500 * MS, 100);
	tap_ok(ok && !status(f, 6) && holds(l, 4, 6),
	       "its next id above the floor is served");
	call(f, REPL_OP_RELEASE, 6, 2, 4, 0, 100);
}

int main(void)
{
	fresh_world();
	test_forward_and_dedup();
	test_dedup_per_node();
	test_holder_keeps_slot();
	test_every_slot_busy();
	test_floor_in_snapshot();
	test_new_life_reused_id();
	setup(0);
	return tap_done();
}
