// SPDX-License-Identifier: GPL-2.0
/*
 * libdlock against the real module, in the guest: blocking and async
 * acquire, the event loop, lease-loss callbacks, watch, inspection, and a
 * signal interrupting a blocking wait without leaving anything queued.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dlock.h"

#define LIBFIX_PREFIX "lib"
#include "libfix.h"

/* Runs dlock_dispatch() until *@count reaches @want or @ms passed. */
static int pump(struct dlock *d, const int *count, int want, int ms)
{
	struct pollfd p = { .fd = dlock_fd(d), .events = POLLIN };

	while (*count < want && ms > 0) {
		if (poll(&p, 1, 50) > 0 && dlock_dispatch(d) < 0)
			return -1;
		ms -= 50;
	}
	return *count >= want ? 0 : -1;
}

LIBFIX_FIXTURE(lib)

TEST_F(lib, blocking_acquire_and_try)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock_acquire_opts t = { .ttl_ms = 10000, .flags = DLOCK_F_TRY };
	struct dlock_lease l1, l2;
	const char *n = lname("block");

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l1));
	EXPECT_EQ(1, l1.count);
	EXPECT_EQ(-EAGAIN, dlock_acquire(self->b, n, &t, &l2));
	EXPECT_STREQ("lock is held", dlock_strerror(self->b, -EAGAIN));
	/* Reentrant on the same handle and thread. */
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l2));
	EXPECT_EQ(2, l2.count);
	EXPECT_EQ(l1.token, l2.token);
	EXPECT_EQ(1, dlock_release(self->a, n, NULL));
	EXPECT_EQ(0, dlock_release(self->a, n, NULL));
	EXPECT_EQ(-ENOENT, dlock_release(self->a, n, NULL));
}

TEST_F(lib, wait_times_out)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock_acquire_opts w = { .ttl_ms = 10000, .wait_ms = 200 };
	struct dlock_lease l;
	const char *n = lname("timeout");

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	EXPECT_EQ(-ETIMEDOUT, dlock_acquire(self->b, n, &w, &l));
}

TEST_F(lib, async_acquire_completes_from_dispatch)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock_lease l1, l2;
	struct done x = {};
	const char *n = lname("async");

	ASSERT_EQ(1, dlock_acquire_async(self->a, n, &o, &l1, on_acquired, &x));
	EXPECT_EQ(1, x.done) TH_LOG("a grant at once calls back before the return");
	x.done = 0;
	ASSERT_EQ(0, dlock_acquire_async(self->b, n, &o, &l2, on_acquired, &x));
	EXPECT_EQ(0, x.done);
	ASSERT_EQ(0, dlock_release(self->a, n, NULL));
	ASSERT_EQ(0, pump(self->b, &x.done, 1, 5000));
	EXPECT_EQ(0, x.err);
	EXPECT_LT(l1.token, x.lease.token);
}

struct lost {
	int n;
	struct dlock_lost last;
	char name[256];
};

static void on_lost(struct dlock *d, const struct dlock_lost *ls, void *arg)
{
	struct lost *x = arg;

	(void)d;
	x->n++;
	x->last = *ls;
	snprintf(x->name, sizeof(x->name), "%s", ls->name);
}

TEST_F(lib, lost_lease_callback)
{
	struct dlock_acquire_opts o = { .ttl_ms = 150 };
	struct dlock_lease l;
	struct lost x = {};
	const char *n = lname("lost");

	dlock_on_lost(self->a, on_lost, &x);
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, pump(self->a, &x.n, 1, 5000));
	EXPECT_EQ(DLOCK_LOST_EXPIRED, x.last.reason);
	EXPECT_EQ(l.token, x.last.token);
	EXPECT_STREQ(n, x.name);
}

struct seen {
	int n;
	int types[8];
};

static void on_event(struct dlock *d, const struct dlock_event *ev, void *arg)
{
	struct seen *s = arg;

	(void)d;
	if (s->n < 8)
		s->types[s->n++] = ev->type;
}

TEST_F(lib, watch_filters_by_prefix)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock *w;
	struct dlock_lease l;
	struct seen s = {};
	const char *n = lname("watched");

	ASSERT_EQ(0, dlock_open(&w));
	ASSERT_EQ(0, dlock_watch(w, n, on_event, &s));
	ASSERT_EQ(0, dlock_acquire(self->a, lname("unwatched"), &o, &l));
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, dlock_release(self->a, n, NULL));
	pump(w, &s.n, 2, 2000);
	/* Anything else would have arrived by now too. */
	pump(w, &s.n, 3, 300);
	EXPECT_EQ(2, s.n);
	EXPECT_EQ(DLOCK_EV_GRANTED, s.types[0]);
	EXPECT_EQ(DLOCK_EV_RELEASED, s.types[1]);
	dlock_close(w);
}

TEST_F(lib, get_and_list)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock_acquire_opts q = { .ttl_ms = 10000 };
	struct dlock_lock_info *li;
	struct dlock_lease l;
	struct done x = {};
	const char *n = lname("inspect");

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, dlock_set_value(self->a, n, NULL, "hello", 5));
	ASSERT_EQ(0, dlock_acquire_async(self->b, n, &q, &l, on_acquired, &x));
	ASSERT_EQ(0, dlock_get(self->a, n, &li));
	EXPECT_STREQ(n, li->name);
	ASSERT_EQ(1, li->n_holders);
	ASSERT_EQ(1, li->n_waiters);
	EXPECT_EQ((uint32_t)getpid(), li->holders[0].pid);
	EXPECT_EQ((uint64_t)gettid(), li->holders[0].tag);
	ASSERT_EQ(5, li->holders[0].value_len);
	EXPECT_EQ(0, memcmp("hello", li->holders[0].value, 5));
	EXPECT_LT(0, li->holders[0].remaining_ms);
	dlock_lock_info_free(li);
	EXPECT_EQ(-ENOENT, dlock_get(self->a, lname("nothing"), &li));
	EXPECT_EQ(NULL, li);
}

static int count_cb(const struct dlock_lock_info *li, void *arg)
{
	(void)li;
	(*(int *)arg)++;
	return 0;
}

TEST_F(lib, list_pages_through_many_locks)
{
	struct dlock_acquire_opts o = { .ttl_ms = 60000 };
	char name[64];
	struct dlock_lease l;
	int i, seen = 0;

	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "list-%d-%04d", getpid(), i);
		ASSERT_EQ(0, dlock_acquire(self->a, name, &o, &l));
	}
	snprintf(name, sizeof(name), "list-%d-", getpid());
	EXPECT_EQ(500, dlock_list(self->b, name, count_cb, &seen));
	EXPECT_EQ(500, seen);
}

struct seen_lock {
	int truncated;
	size_t holders;
};

static int seen_cb(const struct dlock_lock_info *li, void *arg)
{
	struct seen_lock *s = arg;

	s->truncated = li->truncated;
	s->holders = li->n_holders;
	return 0;
}

/* A lock too big for one dump message is listed truncated, and says so. */
TEST_F(lib, list_flags_a_truncated_lock)
{
	struct dlock_acquire_opts o = { .ttl_ms = 60000,
					.mode = DLOCK_MODE_SHARED };
	const char *n = lname("crowded");
	struct dlock_lock_info *li;
	struct seen_lock seen = {};
	struct dlock_lease l;
	int i;

	for (i = 1; i <= 400; i++) {
		o.tag = i;
		ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	}
	ASSERT_EQ(1, dlock_list(self->b, n, seen_cb, &seen));
	EXPECT_EQ(1, seen.truncated);
	EXPECT_GT(400, seen.holders);
	ASSERT_EQ(0, dlock_get(self->b, n, &li));
	EXPECT_EQ(400, li->n_holders);
	EXPECT_EQ(0, li->truncated);
	dlock_lock_info_free(li);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(lib, signal_interrupts_wait_and_withdraws_it)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct dlock_lock_info *li;
	struct dlock_lease l;
	const char *n = lname("intr");

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	EXPECT_EQ(-EINTR, dlock_acquire(self->b, n, &o, &l));
	ASSERT_EQ(0, dlock_get(self->a, n, &li));
	EXPECT_EQ(0, li->n_waiters);
	dlock_lock_info_free(li);
}

struct tally {
	int n;
	int granted;
};

static void on_tally(struct dlock *d, const char *name, int err,
		     const struct dlock_lease *lease, void *arg)
{
	struct tally *t = arg;

	(void)d;
	(void)name;
	t->n++;
	if (!err && lease && lease->token)
		t->granted++;
}

/*
 * A waiter whose receive queue overflows loses the kernel's grant messages;
 * the library must notice (ENOBUFS) and find its grants by looking.
 */
TEST_F(lib, grants_survive_a_receive_overflow)
{
	struct dlock_acquire_opts o = { .ttl_ms = 60000 };
	struct tally t = {};
	struct dlock_lease l;
	char name[64];
	int i, tiny = 256;

	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "ovf-%d-%d", getpid(), i);
		ASSERT_EQ(0, dlock_acquire(self->a, name, &o, &l));
	}
	ASSERT_EQ(0, setsockopt(dlock_fd(self->b), SOL_SOCKET, SO_RCVBUF,
				&tiny, sizeof(tiny)));
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "ovf-%d-%d", getpid(), i);
		ASSERT_EQ(0, dlock_acquire_async(self->b, name, &o, &l,
						 on_tally, &t));
	}
	/* 60 grants at once: far more than the queue holds. */
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "ovf-%d-%d", getpid(), i);
		ASSERT_EQ(0, dlock_release(self->a, name, NULL));
	}
	pump(self->b, &t.n, 60, 10000);
	EXPECT_EQ(60, t.n);
	EXPECT_EQ(60, t.granted);
}

/* Threads with a handle each hammer one lock; an overlap would be counted. */
struct hammer {
	const char *name;
	int rounds;
	int inside;
	int overlaps;
	int errors;
	uint64_t last_token;
	int token_regressions;
	pthread_mutex_t mu;
};

static void *hammer_thread(void *arg)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct hammer *h = arg;
	struct dlock_lease l;
	struct dlock *d;
	int i;

	if (dlock_open(&d)) {
		__atomic_add_fetch(&h->errors, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	for (i = 0; i < h->rounds; i++) {
		if (dlock_acquire(d, h->name, &o, &l)) {
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_SEQ_CST);
			break;
		}
		if (__atomic_add_fetch(&h->inside, 1, __ATOMIC_SEQ_CST) != 1)
			__atomic_add_fetch(&h->overlaps, 1, __ATOMIC_SEQ_CST);
		/* Grants of one name are ordered: tokens only go up. */
		pthread_mutex_lock(&h->mu);
		if (l.token <= h->last_token)
			h->token_regressions++;
		h->last_token = l.token;
		pthread_mutex_unlock(&h->mu);
		sched_yield();
		__atomic_sub_fetch(&h->inside, 1, __ATOMIC_SEQ_CST);
		if (dlock_release(d, h->name, NULL) != 0) {
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	dlock_close(d);
	return NULL;
}

/*
 * 2,400 hand-offs between 8 threads take seconds on a stock kernel under
 * emulation but over the harness's 30 s on the debug kernel (KASAN, lockdep).
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
TEST(threads_never_overlap)
{
	struct hammer h = { .name = lname("hammer"), .rounds = 300,
			    .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[8];
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer_thread, &h));
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, h.errors);
	EXPECT_EQ(0, h.overlaps);
	EXPECT_EQ(0, h.token_regressions);
	TH_LOG("%d grants handed over between 8 threads", 8 * h.rounds);
}
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 30

TEST_HARNESS_MAIN
