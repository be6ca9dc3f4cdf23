/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cluster_test's tests of a holder cut off from the cluster: it hears that
 * its lease is in doubt, or that its TTL ran out, from its own node before
 * any other node may grant the lock, and only then.  Included by
 * cluster_test.c only, after cluster_faults.h.
 */
#ifndef DLOCK_CLUSTER_DOUBT_H
#define DLOCK_CLUSTER_DOUBT_H

#include "cluster_faults.h"

/*
 * Follower B is cut off while a client of B holds a lock without TTL and a
 * client of A waits for it.  The holder must hear that its lease is in
 * doubt (LOST, DLOCK_LOST_IN_DOUBT) before A's waiter is granted the lock
 * (after B's node-session timeout), and not long before: its node's
 * session is most of cluster_session_ms (3 s here).
 */
static void test_doubt(int A, int B)
{
	const char *d = lname("cld");
	struct acq a = { .name = d, .flags = DLOCK_F_NO_TTL, .cookie = 55 };
	struct client hb, wa;
	struct result res;
	struct note lost, grant;
	uint64_t t_cut, t_lost, tb;
	int got, early;

	open_in(&nodes[B], &hb);
	open_in(&nodes[A], &wa);
	cl_try(&hb, d, &res);
	tb = res.token;
	tap_ok(!res.error, "doubt: a lock without TTL held by a client of node B (error %d \"%s\")",
	       res.error, res.extack);
	cl_acquire(&wa, &a, &res);
	tap_ok(!res.error && res.queued, "doubt: a client of node A waits for it (error %d \"%s\")",
	       res.error, res.extack);
	t_cut = now_ms();
	tap_ok(link_set(B, "down") == 0, "doubt: node B's link down");
	got = next_note(&hb, 8000, &lost);
	t_lost = now_ms();
	early = next_note(&wa, 0, &grant);
	tap_ok(got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_IN_DOUBT &&
	       !strcmp(lost.name, d) && lost.token == tb,
	       "doubt: B's holder gets LOST, reason in doubt, naming its lease, %llu ms after the cut (note %d, reason %d)",
	       (unsigned long long)(t_lost - t_cut), got, lost.reason);
	tap_ok(early < 0,
	       "doubt: A's waiter was not granted before that (note %d, reason %d, token %llx, name %s)",
	       early, grant.reason, (unsigned long long)grant.token,
	       grant.name);
	tap_ok(t_lost - t_cut >= 2000,
	       "doubt: not before most of the session timeout ran out (%llu ms of 3000)",
	       (unsigned long long)(t_lost - t_cut));
	got = cl_note(&wa, 10000, &grant);
	tap_ok(got == DLOCK_CMD_WAIT_DONE && grant.cookie == 55 && !grant.error &&
	       grant.token > tb,
	       "doubt: then A's waiter is granted, %llu ms after the cut (note %d, error %u)",
	       (unsigned long long)(now_ms() - t_cut), got, grant.error);
	tap_ok(link_set(B, "up") == 0, "doubt: node B's link up again");
	t_cut = now_ms() + 15000;
	while (holder_token(&hb, d) != grant.token && now_ms() < t_cut)
		nap(100);
	tap_ok(holder_token(&hb, d) == grant.token,
	       "doubt: node B catches up: A's client holds the lock there");
	cl_release(&wa, d, &res);
	tap_ok(!res.error, "doubt: released on node A (error %d \"%s\")",
	       res.error, res.extack);
	client_close(&hb);
	client_close(&wa);
}

/*
 * A node cut off while one of its clients has an orphan: a try that timed
 * out (300 ms window, B's datagrams delayed 1.5 s), granted late, its
 * undoing still in the delay when B's link goes down.  The in-doubt LOSTs
 * then name the lease the client holds, not the orphan's, which it never
 * heard of.
 */
static void test_doubt_orphan(int B)
{
	const char *d = lname("cldo"), *o = lname("cldo-orphan");
	struct client hb;
	struct result res, ro;
	struct note lost;
	uint64_t end, tb, to = 0;
	int got, more, err;

	open_in(&nodes[B], &hb);
	cl_try(&hb, d, &res);
	tb = res.token;
	err = set_answer_ms(300) || netem_delay(B, 1500);
	try_lock(&hb, o, &ro);
	err |= set_answer_ms(3000);
	end = now_ms() + 5000;
	while (!to && now_ms() < end) {
		to = holder_token(&nodes[B].cl, o);
		nap(10);
	}
	err |= link_set(B, "down");
	tap_ok(!err && !res.error && ro.error == ETIMEDOUT && to,
	       "doubt and orphans: node B's client holds a lock, its timed-out try was granted late, B's link down (errors %d %d, orphan token %llu)",
	       res.error, ro.error, (unsigned long long)to);
	got = next_note(&hb, 8000, &lost);
	tap_ok(got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_IN_DOUBT &&
	       !strcmp(lost.name, d) && lost.token == tb,
	       "doubt and orphans: the first LOST names the lease the client holds (note %d, reason %d, name %s)",
	       got, lost.reason, got > 0 ? lost.name : "-");
	more = next_note(&hb, 1000, &lost);
	tap_ok(more == -ETIMEDOUT,
	       "doubt and orphans: no LOST names the orphan's lease (note %d, name %s)",
	       more, more > 0 ? lost.name : "-");
	/*
	 * Whether B's session outlived the cut depends on how long it took:
	 * the held lease may survive, the orphan's is undone either way.
	 */
	err = link_set(B, "up") || netem_delay(B, 0);
	end = now_ms() + 15000;
	while (holder_token(&nodes[B].cl, o) && now_ms() < end)
		nap(100);
	tap_ok(!err && !holder_token(&nodes[B].cl, o),
	       "doubt and orphans: back in the cluster, the orphan's lease is given back");
	cl_release(&hb, d, &res);
	client_close(&hb);
}

/*
 * Follower B is cut off while a client of B holds a lock with a TTL of
 * 1.5 s and a client of A waits for it.  The leader expires the lease when
 * its TTL runs out and grants it to A's waiter; B never applies that
 * EXPIRE while cut off.  So B counts the lease itself: its holder must get
 * LOST (expired: no request of its was on its way) before A's waiter is
 * granted, though B's node session is far from running out.  Then, cut
 * off again, a client of B renews its lease and the renewal hangs: the
 * LOST comes while it does, reason in doubt, and the renewal gives up at
 * once (a request holds its sender in the kernel, which would read the
 * LOST only at the end of the 3 s answer window); the node's session
 * running out later tells nothing more of that lease.
 */
static void test_doubt_ttl(int A, int B)
{
	const char *d = lname("cldt"), *r = lname("cldt-renew");
	struct acq a = { .name = d, .flags = DLOCK_F_NO_TTL, .cookie = 57 };
	struct acq h = { .name = d, .flags = DLOCK_F_TRY, .ttl_ms = 1500 };
	struct client hb, wa;
	struct result res, rn;
	struct note lost, grant;
	uint64_t t_acq, t_lost, t_cut, end, tb;
	int got, early, more, err;

	open_in(&nodes[B], &hb);
	open_in(&nodes[A], &wa);
	t_acq = now_ms();
	cl_acquire(&hb, &h, &res);
	tb = res.token;
	cl_acquire(&wa, &a, &rn);
	err = link_set(B, "down");
	t_cut = now_ms();
	tap_ok(!err && !res.error && !rn.error && rn.queued,
	       "doubt, TTL: node B's client holds a lock with a TTL of 1.5 s, A's waits, B's link down %llu ms after the grant (errors %d %d)",
	       (unsigned long long)(t_cut - t_acq), res.error, rn.error);
	got = next_note(&hb, 5000, &lost);
	t_lost = now_ms();
	early = next_note(&wa, 0, &grant);
	tap_ok(got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_EXPIRED &&
	       !strcmp(lost.name, d) && lost.token == tb,
	       "doubt, TTL: B's holder gets LOST, reason expired, %llu ms after its grant (note %d, reason %d)",
	       (unsigned long long)(t_lost - t_acq), got, lost.reason);
	tap_ok(early < 0,
	       "doubt, TTL: A's waiter was not granted before that (note %d, token %llx)",
	       early, (unsigned long long)grant.token);
	tap_ok(t_lost - t_acq >= 1000,
	       "doubt, TTL: not long before the TTL ran out (%llu ms of 1500)",
	       (unsigned long long)(t_lost - t_acq));
	got = cl_note(&wa, 5000, &grant);
	tap_ok(got == DLOCK_CMD_WAIT_DONE && grant.cookie == 57 &&
	       !grant.error && grant.token > tb,
	       "doubt, TTL: then A's waiter is granted, %llu ms after the cut, well before B's session ends (note %d, error %u)",
	       (unsigned long long)(now_ms() - t_cut), got, grant.error);
	err = link_set(B, "up");
	end = now_ms() + 15000;
	while (holder_token(&hb, d) != grant.token && now_ms() < end)
		nap(100);
	tap_ok(!err && holder_token(&hb, d) == grant.token,
	       "doubt, TTL: node B catches up: A's client holds the lock there");
	cl_release(&wa, d, &res);

	/* a renewal on its way when the TTL runs out: in doubt */
	h.name = r;
	cl_acquire(&hb, &h, &res);
	tb = res.token;
	t_acq = now_ms();
	err = link_set(B, "down");
	renew(&hb, r, 0, NULL, 1500, &rn);
	t_cut = now_ms();
	got = next_note(&hb, 0, &lost);
	tap_ok(!err && !res.error && rn.error == ETIMEDOUT &&
	       got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_IN_DOUBT &&
	       lost.token == tb && !strcmp(lost.name, r),
	       "doubt, TTL: B cut off again, its client's renewal hangs; its lease's LOST comes, reason in doubt (renew error %d, note %d, reason %d)",
	       rn.error, got, lost.reason);
	tap_ok(t_cut - t_acq < 2500,
	       "doubt, TTL: and the renewal gives up then, %llu ms after the grant, not at the end of its 3 s window: the holder can read the LOST",
	       (unsigned long long)(t_cut - t_acq));
	more = next_note(&hb, 2500, &lost);
	tap_ok(more == -ETIMEDOUT,
	       "doubt, TTL: B's session running out tells nothing more of it (note %d, name %s)",
	       more, more > 0 ? lost.name : "-");
	err = link_set(B, "up");
	tap_ok(!err, "doubt, TTL: node B's link up again");
	client_close(&hb);
	client_close(&wa);
}

/*
 * A grant node B learns only when it catches up, already ended: B's client
 * waits for a lock held on A; B is cut off; A's holder releases, so the
 * leader grants B's waiter, then ends B's session (SESSION_END) and grants
 * the lock to another client of A.  When B's link comes back, B applies
 * all three.  Its client must hear that its wait ended without the lock
 * (ETIMEDOUT), never "granted" followed by LOST: between the two it would
 * believe it held a lock another client holds.
 */
static void test_doubt_backlog(int A, int B)
{
	const char *d = lname("cldb");
	struct acq a = { .name = d, .flags = DLOCK_F_NO_TTL, .cookie = 58 };
	struct client ha, hb, hc;
	struct result res, rb;
	struct note n, more;
	uint64_t end, tc;
	int got, extra, err;

	open_in(&nodes[A], &ha);
	open_in(&nodes[B], &hb);
	open_in(&nodes[A], &hc);
	cl_try(&ha, d, &res);
	cl_acquire(&hb, &a, &rb);
	err = link_set(B, "down");
	tap_ok(!err && !res.error && !rb.error && rb.queued,
	       "backlog: a lock held on node A, node B's client waits for it, B's link down (errors %d %d)",
	       res.error, rb.error);
	release(&ha, d, 0, NULL, &res);
	/* B's session (3 s) ends on the others; then A's second client gets it */
	end = now_ms() + 15000;
	do {
		nap(200);
		try_lock(&hc, d, &res);
	} while (res.error && now_ms() < end);
	tc = res.token;
	tap_ok(!res.error,
	       "backlog: A's holder released; once B's session ended, another client of A holds the lock (error %d)",
	       res.error);
	err = link_set(B, "up");
	got = next_note(&hb, 15000, &n);
	extra = next_note(&hb, 1000, &more);
	tap_ok(!err && got == DLOCK_CMD_WAIT_DONE && n.cookie == 58 &&
	       n.error == ETIMEDOUT && extra == -ETIMEDOUT,
	       "backlog: B back, its client hears its wait ended without the lock (note %d, error %u), and nothing after (note %d, reason %d)",
	       got, n.error, extra, more.reason);
	end = now_ms() + 15000;
	while (holder_token(&hb, d) != tc && now_ms() < end)
		nap(100);
	tap_ok(holder_token(&hb, d) == tc,
	       "backlog: node B shows A's second client as the holder");
	cl_release(&hc, d, &res);
	client_close(&ha);
	client_close(&hb);
	client_close(&hc);
}

#endif /* DLOCK_CLUSTER_DOUBT_H */
