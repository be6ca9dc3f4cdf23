// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests of bounded work (issue 8): a socket that closes holding
 * many leases is ended in batches, the wait-graph mutex and the notes being
 * handed on between them.  Nothing may be lost or doubled on the way: every
 * waiter of a freed lock gets exactly one grant, the namespace's counters
 * come back to where they were, and a wait of the closing socket is never
 * granted to it.  (That each command stays within a bounded number of steps
 * is asserted on the host: tests/host/test_bound.c.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lockreq.h"

/*
 * Held by the socket that closes, and how many of them another socket
 * wants.  The debug kernel (KASAN, lockdep) runs ~20x slower than the stock
 * one: it gets a tenth, still many batches of a session close.
 */
#define MAX_WAITS 1000
static int LEASES = 20000;
static int WAITS = MAX_WAITS;

__attribute__((constructor)) static void bd_scale(void)
{
	if (getenv("DLOCK_DEBUG_KERNEL")) {
		LEASES /= 10;
		WAITS /= 10;
	}
}

struct counts {
	uint64_t leases;
	uint64_t waiters;
};

static int status(struct client *c, struct counts *n)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	int err;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	err = nlraw_talk(c->fd, &m, &r);
	if (err || r.error)
		return err ? err : r.error;
	n->leases = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_LEASES);
	n->waiters = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_WAITERS);
	return 0;
}

static const char *bname(int i)
{
	static char buf[4][64];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "bd-%d-%d", getpid(), i);
	return buf[k];
}

FIXTURE(bd) {
	struct client a, b, c;
};

FIXTURE_SETUP(bd)
{
	int big = 8 << 20;

	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	ASSERT_EQ(0, client_open(&self->c));
	/* Room for every grant at once: a drop here is not what is tested. */
	ASSERT_EQ(0, setsockopt(self->b.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				sizeof(big)));
}

FIXTURE_TEARDOWN(bd)
{
	if (self->a.fd >= 0)
		client_close(&self->a);
	client_close(&self->b);
	client_close(&self->c);
}

/*
 * a holds LEASES locks; b waits on WAITS of them; a also waits on a lock
 * of c's.  Closing a hands each of the WAITS locks to b exactly once, frees
 * the others, and drops a's wait so that the next in line gets c's lock.
 */
TEST_F_TIMEOUT(bd, close_many_leases_grants_each_waiter_once, 180)
{
	static unsigned char seen[MAX_WAITS];
	struct acq q = { .ttl_ms = 0, .flags = DLOCK_F_NO_TTL, .tag = 1 };
	struct acq wa = { .ttl_ms = 60000, .tag = 1, .cookie = 77 };
	struct acq wb = { .ttl_ms = 60000, .tag = 9, .cookie = 999999 };
	struct counts before, after;
	struct result r;
	struct note n;
	int i, got = 0, dup = 0, bad = 0;

	ASSERT_EQ(0, status(&self->c, &before));
	for (i = 0; i < LEASES; i++) {
		q.name = bname(i);
		ASSERT_EQ(0, acquire(&self->a, &q, &r));
		ASSERT_EQ(0, r.error) TH_LOG("lease %d: %s", i, r.extack);
	}
	for (i = 0; i < WAITS; i++) {
		struct acq w = { .name = bname(i * (LEASES / WAITS)),
				 .ttl_ms = 60000, .tag = 2, .cookie = i + 1 };

		ASSERT_EQ(0, acquire(&self->b, &w, &r));
		ASSERT_EQ(0, r.error);
		ASSERT_TRUE(r.queued);
	}
	/* a waits for c's lock, then b queues behind a there. */
	q.name = lname("bd-c");
	q.tag = 3;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	ASSERT_EQ(0, r.error);
	wa.name = q.name;
	wb.name = q.name;
	ASSERT_EQ(0, acquire(&self->a, &wa, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, acquire(&self->b, &wb, &r));
	ASSERT_TRUE(r.queued);

	/* URELEASE runs in close(): the session is ended when it returns. */
	client_close(&self->a);
	ASSERT_EQ(0, release(&self->c, q.name, 3, NULL, &r));
	ASSERT_EQ(0, r.error);

	while (got < WAITS + 1 && next_note(&self->b, 5000, &n) > 0) {
		if (n.cmd != DLOCK_CMD_WAIT_DONE || n.error) {
			bad++;
			continue;
		}
		if (n.cookie == 999999) {
			got++;
			continue;
		}
		if (n.cookie < 1 || n.cookie > WAITS) {
			bad++;
			continue;
		}
		if (seen[n.cookie - 1]++)
			dup++;
		got++;
	}
	/* Anything more would be a note sent twice. */
	while (next_note(&self->b, 300, &n) > 0)
		dup++;
	EXPECT_EQ(WAITS + 1, got);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, bad);

	/* What a held and did not hand on is free; b holds what it waited for. */
	ASSERT_EQ(0, status(&self->c, &after));
	EXPECT_EQ(before.leases + WAITS + 1, after.leases);
	EXPECT_EQ(before.waiters, after.waiters);
	q.name = bname(1);
	q.flags = DLOCK_F_TRY | DLOCK_F_NO_TTL;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, release(&self->c, q.name, 3, NULL, &r));
	q.name = bname(LEASES / WAITS);
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
}

/* A socket that closes with many waits and no lease: all are withdrawn. */
TEST_F_TIMEOUT(bd, close_many_waits_withdraws_them, 180)
{
	struct acq q = { .flags = DLOCK_F_NO_TTL, .tag = 1 };
	struct counts before, after;
	struct result r;
	struct note n;
	int i;

	ASSERT_EQ(0, status(&self->c, &before));
	for (i = 0; i < WAITS; i++) {
		q.name = bname(i);
		ASSERT_EQ(0, acquire(&self->c, &q, &r));
		ASSERT_EQ(0, r.error);
	}
	for (i = 0; i < WAITS; i++) {
		struct acq w = { .name = bname(i), .ttl_ms = 60000, .tag = 2,
				 .cookie = i + 1 };

		ASSERT_EQ(0, acquire(&self->a, &w, &r));
		ASSERT_TRUE(r.queued);
	}
	client_close(&self->a);
	ASSERT_EQ(0, status(&self->c, &after));
	EXPECT_EQ(before.waiters, after.waiters);
	/* Released now, nobody is in line: no grant goes anywhere. */
	for (i = 0; i < WAITS; i++) {
		ASSERT_EQ(0, release(&self->c, bname(i), 1, NULL, &r));
		ASSERT_EQ(0, r.error);
	}
	EXPECT_GT(0, next_note(&self->c, 200, &n));
	ASSERT_EQ(0, status(&self->c, &after));
	EXPECT_EQ(before.leases, after.leases);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/*
 * One detached owner string waiting on thousands of names (the case that
 * made every enqueue scan all of its waits): the owner index, keyed with
 * siphash in the module, still finds the one wait asked for, by owner and
 * lock (-EALREADY) and by cookie (cancel), and a release grants the right
 * one.  The figures are printed, not checked.
 */
TEST_F_TIMEOUT(bd, one_owner_many_waits, 180)
{
	struct acq q = { .flags = DLOCK_F_NO_TTL, .tag = 1 };
	struct acq w = { .ttl_ms = 60000, .flags = DLOCK_F_DETACHED,
			 .owner = "bd-owner" };
	uint64_t t0, t1 = 0, t2;
	struct result r;
	struct note n;
	int i;

	for (i = 0; i < WAITS * 5; i++) {
		q.name = bname(i);
		ASSERT_EQ(0, acquire(&self->c, &q, &r));
		ASSERT_EQ(0, r.error);
	}
	t0 = now_us();
	for (i = 0; i < WAITS * 5; i++) {
		w.name = bname(i);
		w.cookie = i + 1;
		ASSERT_EQ(0, acquire(&self->b, &w, &r));
		ASSERT_TRUE(r.queued) TH_LOG("wait %d: %d %s", i, r.error, r.extack);
		if (i == WAITS * 5 - 101)
			t1 = now_us();
	}
	t2 = now_us();
	TH_LOG("%d waits of one owner: %.1f us per enqueue, the last 100 %.1f us",
	       WAITS * 5, (double)(t2 - t0) / (WAITS * 5),
	       (double)(t2 - t1) / 100);
	w.name = bname(123);
	w.cookie = 424242;
	ASSERT_EQ(0, acquire(&self->b, &w, &r));
	EXPECT_EQ(EALREADY, r.error);
	ASSERT_EQ(0, cancel(&self->b, bname(77), 78, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, cancel(&self->b, bname(77), 78, &r));
	EXPECT_EQ(ENOENT, r.error);
	ASSERT_EQ(0, release(&self->c, bname(77), 1, NULL, &r));
	ASSERT_EQ(0, release(&self->c, bname(78), 1, NULL, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 2000, &n));
	EXPECT_EQ(79, n.cookie);
	EXPECT_EQ(0, n.error);
	EXPECT_GT(0, next_note(&self->b, 200, &n));
	/* The detached lease b was granted outlives b: give it back. */
	ASSERT_EQ(0, release(&self->c, bname(78), 0, "bd-owner", &r));
	EXPECT_EQ(0, r.error);
}

TEST_HARNESS_MAIN
