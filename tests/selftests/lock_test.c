// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests of the lock semantics over generic netlink: grants,
 * reentrancy, ownership, FIFO hand-off by unicast notification, expiry,
 * socket-close release, shared and semaphore modes, deadlock detection,
 * break, values, inspection and dumps, and malformed requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lockreq.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

FIXTURE(lk) {
	struct client a, b, c;
};

FIXTURE_SETUP(lk)
{
	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	ASSERT_EQ(0, client_open(&self->c));
}

FIXTURE_TEARDOWN(lk)
{
	client_close(&self->a);
	client_close(&self->b);
	client_close(&self->c);
}

TEST_F(lk, acquire_release)
{
	struct acq q = { .name = lname("ar"), .ttl_ms = 60000, .tag = 1 };
	struct result r, r2;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	EXPECT_EQ(1, r.count);
	EXPECT_NE(0, r.token);
	EXPECT_FALSE(r.queued);

	/* Held: a try from another socket fails at once and says why. */
	q.flags = DLOCK_F_TRY;
	ASSERT_EQ(0, acquire(&self->b, &q, &r2));
	EXPECT_EQ(EAGAIN, r2.error);
	EXPECT_STREQ("lock is held", r2.extack);

	ASSERT_EQ(0, release(&self->a, q.name, 1, NULL, &r2));
	EXPECT_EQ(0, r2.error);
	EXPECT_EQ(0, r2.count);

	/* Free again, and the next grant has a larger token. */
	ASSERT_EQ(0, acquire(&self->b, &q, &r2));
	ASSERT_EQ(0, r2.error);
	EXPECT_LT(r.token, r2.token);
}

TEST_F(lk, reentrancy_same_token)
{
	struct acq q = { .name = lname("re"), .ttl_ms = 60000, .tag = 7 };
	struct result r1, r2, r;

	ASSERT_EQ(0, acquire(&self->a, &q, &r1));
	ASSERT_EQ(0, r1.error);
	ASSERT_EQ(0, acquire(&self->a, &q, &r2));
	ASSERT_EQ(0, r2.error);
	EXPECT_EQ(2, r2.count);
	EXPECT_EQ(r1.token, r2.token);

	/* Another tag on the same socket is another owner. */
	q.tag = 8;
	q.flags = DLOCK_F_TRY;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);

	ASSERT_EQ(0, release(&self->a, q.name, 7, NULL, &r));
	EXPECT_EQ(1, r.count);
	ASSERT_EQ(0, release(&self->a, q.name, 7, NULL, &r));
	EXPECT_EQ(0, r.count);
	ASSERT_EQ(0, release(&self->a, q.name, 7, NULL, &r));
	EXPECT_EQ(ENOENT, r.error);
}

TEST_F(lk, release_by_other_owner_denied)
{
	struct acq q = { .name = lname("perm"), .ttl_ms = 60000, .tag = 1 };
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, release(&self->b, q.name, 1, NULL, &r));
	EXPECT_EQ(EPERM, r.error);
	ASSERT_EQ(0, release(&self->a, q.name, 2, NULL, &r));
	EXPECT_EQ(EPERM, r.error);
	ASSERT_EQ(0, renew(&self->c, q.name, 1, NULL, 1000, &r));
	EXPECT_EQ(EPERM, r.error);
	/* Nothing changed: the holder still releases exactly once. */
	ASSERT_EQ(0, release(&self->a, q.name, 1, NULL, &r));
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(0, r.count);
}

TEST_F(lk, fifo_handoff_by_unicast)
{
	struct acq q = { .name = lname("fifo"), .ttl_ms = 60000 };
	struct result ra, rb, rc, r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &ra));
	ASSERT_EQ(0, ra.error);
	q.cookie = 11;
	ASSERT_EQ(0, acquire(&self->b, &q, &rb));
	ASSERT_EQ(0, rb.error);
	EXPECT_TRUE(rb.queued);
	q.cookie = 12;
	ASSERT_EQ(0, acquire(&self->c, &q, &rc));
	EXPECT_TRUE(rc.queued);

	/* Only the head of the queue hears of the release. */
	ASSERT_EQ(0, release(&self->a, q.name, 0, NULL, &r));
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 2000, &n));
	EXPECT_EQ(11, n.cookie);
	EXPECT_EQ(0, n.error);
	EXPECT_LT(ra.token, n.token);
	EXPECT_STREQ(q.name, n.name);
	EXPECT_EQ(-ETIMEDOUT, next_note(&self->c, 200, &n));

	ASSERT_EQ(0, release(&self->b, q.name, 0, NULL, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->c, 2000, &n));
	EXPECT_EQ(12, n.cookie);
	ASSERT_EQ(0, release(&self->c, q.name, 0, NULL, &r));
	EXPECT_EQ(0, r.error);
}

TEST_F(lk, socket_close_releases)
{
	struct acq q = { .name = lname("close"), .flags = DLOCK_F_NO_TTL };
	struct result r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	q.cookie = 5;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);
	client_close(&self->a);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 2000, &n));
	EXPECT_EQ(5, n.cookie);
	EXPECT_EQ(0, n.error);
	ASSERT_EQ(0, client_open(&self->a));
}

TEST_F(lk, wait_timeout)
{
	struct acq q = { .name = lname("wto"), .ttl_ms = 60000 };
	struct result r;
	struct note n;
	uint64_t t0;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	q.wait_ms = 200;
	q.cookie = 3;
	t0 = now_ms();
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 5000, &n));
	EXPECT_EQ(ETIMEDOUT, n.error);
	EXPECT_EQ(3, n.cookie);
	EXPECT_LE(t0 + 200, now_ms());
}

TEST_F(lk, expiry_hands_over_and_tells_holder)
{
	struct acq q = { .name = lname("exp"), .ttl_ms = 200, .tag = 4 };
	struct result ra, r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &ra));
	ASSERT_EQ(0, ra.error);
	q.cookie = 9;
	q.tag = 0;
	q.ttl_ms = 60000;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 5000, &n));
	EXPECT_EQ(0, n.error);
	EXPECT_LT(ra.token, n.token);
	ASSERT_EQ(DLOCK_CMD_LOST, next_note(&self->a, 2000, &n));
	EXPECT_EQ(DLOCK_LOST_EXPIRED, n.reason);
	EXPECT_EQ(ra.token, n.token);
	EXPECT_EQ(4, n.tag);
}

TEST_F(lk, renew_extends)
{
	struct acq q = { .name = lname("renew"), .ttl_ms = 300, .tag = 1 };
	struct result r;
	int i;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	for (i = 0; i < 4; i++) {
		usleep(150 * 1000);
		ASSERT_EQ(0, renew(&self->a, q.name, 1, NULL, 300, &r));
		ASSERT_EQ(0, r.error) TH_LOG("renew %d: %s", i, r.extack);
	}
	/* 600 ms after the grant the 300 ms lease still stands. */
	q.flags = DLOCK_F_TRY;
	q.tag = 2;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
}

TEST_F(lk, shared_then_exclusive)
{
	struct acq s = { .name = lname("rw"), .mode = DLOCK_MODE_SHARED,
			 .ttl_ms = 60000 };
	struct acq x = s;
	struct result r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &s, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, acquire(&self->b, &s, &r));
	ASSERT_EQ(0, r.error);
	EXPECT_FALSE(r.queued);
	x.mode = DLOCK_MODE_EXCLUSIVE;
	x.cookie = 1;
	ASSERT_EQ(0, acquire(&self->c, &x, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, release(&self->a, s.name, 0, NULL, &r));
	EXPECT_EQ(-ETIMEDOUT, next_note(&self->c, 200, &n));
	ASSERT_EQ(0, release(&self->b, s.name, 0, NULL, &r));
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->c, 2000, &n));
	EXPECT_EQ(0, n.error);
}

TEST_F(lk, semaphore_permits)
{
	struct acq q = { .name = lname("sem"), .mode = DLOCK_MODE_SEMAPHORE,
			 .permits = 2, .ttl_ms = 60000 };
	struct result r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_EQ(0, r.error);
	EXPECT_FALSE(r.queued);
	q.cookie = 2;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	ASSERT_TRUE(r.queued);

	/* Asking with another permit count is an error. */
	q.permits = 3;
	q.flags = DLOCK_F_TRY;
	q.tag = 99;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);

	ASSERT_EQ(0, release(&self->a, q.name, 0, NULL, &r));
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->c, 2000, &n));
	EXPECT_EQ(0, n.error);
}

TEST_F(lk, deadlock_two_owners)
{
	struct acq x = { .name = lname("dx"), .ttl_ms = 60000 };
	struct acq y = { .name = lname("dy"), .ttl_ms = 60000 };
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &x, &r));
	ASSERT_EQ(0, acquire(&self->b, &y, &r));
	y.cookie = 1;
	ASSERT_EQ(0, acquire(&self->a, &y, &r));
	ASSERT_TRUE(r.queued);
	x.cookie = 2;
	ASSERT_EQ(0, acquire(&self->b, &x, &r));
	EXPECT_EQ(EDEADLK, r.error);
	EXPECT_NE(0, r.extack[0]);
	EXPECT_FALSE(r.queued);
}

TEST_F(lk, deadlock_three_owners)
{
	struct acq x = { .name = lname("tx"), .ttl_ms = 60000 };
	struct acq y = { .name = lname("ty"), .ttl_ms = 60000 };
	struct acq z = { .name = lname("tz"), .ttl_ms = 60000 };
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &x, &r));
	ASSERT_EQ(0, acquire(&self->b, &y, &r));
	ASSERT_EQ(0, acquire(&self->c, &z, &r));
	ASSERT_EQ(0, acquire(&self->a, &y, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, acquire(&self->b, &z, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, acquire(&self->c, &x, &r));
	EXPECT_EQ(EDEADLK, r.error);
}

TEST_F(lk, cancel_wait)
{
	struct acq q = { .name = lname("cancel"), .ttl_ms = 60000 };
	struct result r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	q.cookie = 77;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, cancel(&self->b, q.name, 77, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, cancel(&self->b, q.name, 77, &r));
	EXPECT_EQ(ENOENT, r.error);
	ASSERT_EQ(0, release(&self->a, q.name, 0, NULL, &r));
	EXPECT_EQ(-ETIMEDOUT, next_note(&self->b, 200, &n));
}

TEST_F(lk, detached_outlives_socket)
{
	struct acq q = { .name = lname("det"), .ttl_ms = 60000,
			 .flags = DLOCK_F_DETACHED, .owner = "job-42" };
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	client_close(&self->a);
	ASSERT_EQ(0, client_open(&self->a));

	/* Still held after its socket closed... */
	q.flags |= DLOCK_F_TRY;
	q.owner = "job-43";
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
	/* ...and whoever presents the owner string can renew and release it. */
	ASSERT_EQ(0, renew(&self->c, q.name, 0, "job-42", 1000, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, release(&self->b, q.name, 0, "job-4", &r));
	EXPECT_EQ(EPERM, r.error);
	ASSERT_EQ(0, release(&self->b, q.name, 0, "job-42", &r));
	EXPECT_EQ(0, r.error);
}

TEST_F(lk, break_tells_holder)
{
	struct acq q = { .name = lname("brk"), .ttl_ms = 60000, .tag = 3 };
	struct result ra, r;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &ra));
	ASSERT_EQ(0, break_lock(&self->b, q.name, 0, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(DLOCK_CMD_LOST, next_note(&self->a, 2000, &n));
	EXPECT_EQ(DLOCK_LOST_BROKEN, n.reason);
	EXPECT_EQ(ra.token, n.token);
	ASSERT_EQ(0, release(&self->a, q.name, 3, NULL, &r));
	EXPECT_NE(0, r.error);
}

/* An acquire with only a name attribute (of @name's bytes), or none. */
static int acquire_bare(struct client *c, const char *name, struct result *r)
{
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_ACQUIRE, DLOCK_GENL_VERSION);
	if (name)
		nlraw_put(&m, DLOCK_A_NAME, name, strlen(name));
	return talk(c, &m, r);
}

/* Requests no valid client would send: each rejected, with a message. */
TEST_F(lk, malformed_requests)
{
	struct acq good = { .name = lname("bad"), .ttl_ms = 1000 };
	char big[300];
	struct result r;
	struct acq q;

	memset(big, 'x', sizeof(big));
	/* Out-of-range values fail the policy: ERANGE, as netlink has it. */
	ASSERT_EQ(0, acquire_bare(&self->a, "", &r));
	EXPECT_EQ(ERANGE, r.error);
	EXPECT_NE(0, r.extack[0]) TH_LOG("empty name: no message");

	q = good;
	q.name = "a\0b";
	q.name_len = 3;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("lock name contains a NUL byte", r.extack);

	q = good;
	q.name = big;
	q.name_len = 256;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(ERANGE, r.error);
	EXPECT_NE(0, r.extack[0]);

	q = good;
	q.mode = 3;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(ERANGE, r.error);
	EXPECT_NE(0, r.extack[0]);

	q = good;
	q.flags = 1 << 7;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);

	q = good;
	q.ttl_ms = 0;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("a TTL is required (or the no-TTL flag)", r.extack);

	q = good;
	q.flags = DLOCK_F_DETACHED;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("a detached lease needs an owner string", r.extack);

	q = good;
	q.mode = DLOCK_MODE_SEMAPHORE;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("a semaphore needs its number of permits", r.extack);

	/* No name at all. */
	ASSERT_EQ(0, acquire_bare(&self->a, NULL, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("missing lock name", r.extack);

	/* None of this left anything behind: the lock is free. */
	ASSERT_EQ(0, acquire(&self->a, &good, &r));
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(1, r.count);
}

static uint64_t table_memory(struct client *c)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &r) || r.error)
		return 0;
	return nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_MEMORY);
}

/* The status counts the table's memory, and gets it all back. */
TEST_F(lk, memory_accounted_and_returned)
{
	struct acq q = { .ttl_ms = 60000 };
	uint64_t m0, m1, m2;
	struct result r;
	char name[64];
	int i;

	m0 = table_memory(&self->b);
	ASSERT_LT(0, m0) TH_LOG("an empty table still has its arrays");
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "mem-%d-%d", getpid(), i);
		q.name = name;
		ASSERT_EQ(0, acquire(&self->a, &q, &r));
		ASSERT_EQ(0, r.error);
	}
	m1 = table_memory(&self->b);
	TH_LOG("300 leases: %.1f bytes each", (m1 - m0) / 300.0);
	EXPECT_LE(m0 + 300 * 100, m1);
	EXPECT_GE(m0 + 300 * 512, m1);
	client_close(&self->a);
	ASSERT_EQ(0, client_open(&self->a));
	m2 = table_memory(&self->b);
	EXPECT_GT(m1 - 300 * 100, m2);
}

/* Many processes hammer one lock; an overlap would show in shared memory. */
TEST(no_overlap_under_contention)
{
	const int procs = 6, rounds = 40;
	volatile int *inside;
	int *overlaps;
	int i, status, bad = 0;
	const char *name = lname("overlap");

	inside = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, inside);
	overlaps = (int *)inside + 1;
	for (i = 0; i < procs; i++) {
		if (fork() == 0) {
			struct client c;
			struct acq q = { .name = name, .ttl_ms = 60000 };
			struct result r;
			struct note n;
			int k;

			if (client_open(&c))
				_exit(2);
			for (k = 0; k < rounds; k++) {
				q.cookie = k;
				if (acquire(&c, &q, &r) || r.error)
					_exit(3);
				if (r.queued &&
				    (next_note(&c, 30000, &n) != DLOCK_CMD_WAIT_DONE ||
				     n.error))
					_exit(4);
				if (__sync_add_and_fetch(inside, 1) != 1)
					__sync_add_and_fetch(overlaps, 1);
				usleep(100);
				__sync_sub_and_fetch(inside, 1);
				if (release(&c, name, 0, NULL, &r) || r.error)
					_exit(5);
			}
			_exit(0);
		}
	}
	for (i = 0; i < procs; i++) {
		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, *overlaps);
}

/* kill -9 of a holder hands the lock to the next waiter at once. */
TEST(kill9_holder_hands_over)
{
	const char *name = lname("kill9");
	struct acq q = { .name = name, .flags = DLOCK_F_NO_TTL };
	int ready[2], status;
	struct client w;
	struct result r;
	struct note n;
	pid_t pid;
	char x;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct client h;

		if (client_open(&h) || acquire(&h, &q, &r) || r.error)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &x, 1));
	ASSERT_EQ(0, client_open(&w));
	q.cookie = 1;
	ASSERT_EQ(0, acquire(&w, &q, &r));
	ASSERT_TRUE(r.queued);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&w, 2000, &n));
	EXPECT_EQ(0, n.error);
	client_close(&w);
}

TEST_HARNESS_MAIN
