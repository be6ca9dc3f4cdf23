// SPDX-License-Identifier: GPL-2.0
/*
 * libdlock against the real module, in the guest: keep-alive in the event
 * loop and on its thread, a blocking wait that keeps its queue place
 * through signal handlers, the callback of a grant at once, and what a
 * forked child or an executed program gets of a handle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dlock.h"

#define LIBFIX_PREFIX "lib2"
#include "libfix.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The event loop: polls @d with the library's timeout for @ms. */
static int run_loop(struct dlock *d, int ms)
{
	struct pollfd p = { .fd = dlock_fd(d), .events = POLLIN };
	int64_t end = now_ms() + ms;
	int t;

	while (now_ms() < end) {
		t = dlock_next_timeout(d);
		if (t < 0 || t > end - now_ms())
			t = end - now_ms();
		if (poll(&p, 1, t < 0 ? 0 : t) < 0 && errno != EINTR)
			return -1;
		if (dlock_dispatch(d) < 0)
			return -1;
	}
	return 0;
}

struct lost {
	int n;
	struct dlock_lost last;
};

static void on_lost(struct dlock *d, const struct dlock_lost *ls, void *arg)
{
	struct lost *x = arg;

	(void)d;
	x->last = *ls;
	__atomic_add_fetch(&x->n, 1, __ATOMIC_SEQ_CST);
}

static int lost_count(struct lost *x)
{
	return __atomic_load_n(&x->n, __ATOMIC_SEQ_CST);
}

/*
 * Tries to take @name on @b every 100 ms for @ms (running @a's event loop
 * in between when @loop): returns how many tries got it.
 */
static int try_for(struct dlock *a, struct dlock *b, const char *name,
		   int ms, int loop)
{
	struct dlock_acquire_opts t = { .ttl_ms = 1000, .flags = DLOCK_F_TRY };
	struct dlock_lease l;
	int i, got = 0;

	for (i = 0; i < ms / 100; i++) {
		if (loop)
			run_loop(a, 100);
		else
			sleep_ms(100);
		if (dlock_acquire(b, name, &t, &l) != -EAGAIN) {
			got++;
			dlock_release(b, name, NULL);
		}
	}
	return got;
}

LIBFIX_FIXTURE(lib2)

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

/* Event-loop form: renewals come from dispatch, paced by next_timeout. */
TEST_F(lib2, keepalive_in_the_event_loop)
{
	/*
	 * 3 s: renewals come every second, so a lease is lost only after
	 * two seconds without one; a loaded emulated guest has stalled
	 * the process for more than a 1 s TTL's 667 ms of slack.
	 */
	struct dlock_acquire_opts o = { .ttl_ms = 3000,
					.flags = DLOCK_F_KEEPALIVE };
	struct dlock_acquire_opts t = { .ttl_ms = 1000, .flags = DLOCK_F_TRY };
	const char *n = lname("ka-loop");
	struct lost x = {};
	struct dlock_lease l, l2;
	int next;

	dlock_on_lost(self->a, on_lost, &x);
	EXPECT_EQ(-1, dlock_next_timeout(self->a));
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(3000, l.ttl_ms);
	next = dlock_next_timeout(self->a);
	EXPECT_LE(0, next);
	EXPECT_GE(3000, next);
	/* Over two TTLs: held throughout, since the loop renews it. */
	EXPECT_EQ(0, try_for(self->a, self->b, n, 7000, 1));
	EXPECT_EQ(0, lost_count(&x));
	ASSERT_EQ(0, dlock_keepalive_stop(self->a, n, NULL));
	EXPECT_EQ(-1, dlock_next_timeout(self->a));
	/* Unrenewed, it runs out, and the loop reports it. */
	run_loop(self->a, 5000);
	ASSERT_EQ(1, lost_count(&x));
	EXPECT_EQ(DLOCK_LOST_EXPIRED, x.last.reason);
	EXPECT_EQ(l.token, x.last.token);
	ASSERT_EQ(0, dlock_acquire(self->b, n, &t, &l2));
	EXPECT_EQ(0, dlock_release(self->b, n, NULL));
}

/* Blocking form: the handle's thread renews and reports. */
TEST_F(lib2, keepalive_on_its_thread)
{
	struct dlock_acquire_opts o = { .ttl_ms = 1000 };
	struct dlock_acquire_opts t = { .ttl_ms = 1000, .flags = DLOCK_F_TRY };
	const char *n = lname("ka-thread");
	struct lost x = {};
	struct dlock_lease l, l2;
	int i;

	dlock_on_lost(self->a, on_lost, &x);
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, dlock_keepalive(self->a, n, NULL, l.ttl_ms));
	ASSERT_EQ(0, dlock_keepalive_thread(self->a, 1));
	EXPECT_EQ(0, try_for(self->a, self->b, n, 5000, 0));
	EXPECT_EQ(0, lost_count(&x));
	ASSERT_EQ(0, dlock_keepalive_stop(self->a, n, NULL));
	for (i = 0; i < 100 && !lost_count(&x); i++)
		sleep_ms(50);
	ASSERT_EQ(1, lost_count(&x));
	EXPECT_EQ(DLOCK_LOST_EXPIRED, x.last.reason);
	EXPECT_EQ(l.token, x.last.token);
	EXPECT_EQ(0, dlock_keepalive_thread(self->a, 0));
	ASSERT_EQ(0, dlock_acquire(self->b, n, &t, &l2));
	EXPECT_EQ(0, dlock_release(self->b, n, NULL));
}

/* A blocking wait on the handle renews its kept-alive leases meanwhile. */
TEST_F(lib2, keepalive_during_a_blocking_wait)
{
	struct dlock_acquire_opts o = { .ttl_ms = 1000,
					.flags = DLOCK_F_KEEPALIVE };
	struct dlock_acquire_opts w = { .ttl_ms = 1000, .wait_ms = 3000 };
	struct dlock_acquire_opts t = { .ttl_ms = 1000, .flags = DLOCK_F_TRY };
	struct dlock_acquire_opts forever = { .flags = DLOCK_F_NO_TTL };
	const char *kept = lname("ka-kept"), *busy = lname("ka-busy");
	struct lost x = {};
	struct dlock_lease l, l2;

	dlock_on_lost(self->a, on_lost, &x);
	ASSERT_EQ(0, dlock_acquire(self->a, kept, &o, &l));
	ASSERT_EQ(0, dlock_acquire(self->b, busy, &forever, &l2));
	/* Three TTLs of waiting in a blocking call, nothing else running. */
	EXPECT_EQ(-ETIMEDOUT, dlock_acquire(self->a, busy, &w, &l2));
	EXPECT_EQ(-EAGAIN, dlock_acquire(self->b, kept, &t, &l2));
	EXPECT_EQ(0, lost_count(&x));
	EXPECT_EQ(0, dlock_release(self->a, kept, NULL));
	EXPECT_EQ(0, dlock_release(self->b, busy, NULL));
}

/* A detached lease gets no LOST message: the failed renewal reports it. */
TEST_F(lib2, keepalive_reports_a_broken_detached_lease)
{
	struct dlock_acquire_opts o = { .ttl_ms = 1000, .owner = "ka-owner",
					.flags = DLOCK_F_DETACHED |
						 DLOCK_F_KEEPALIVE };
	const char *n = lname("ka-detached");
	struct lost x = {};
	struct dlock_lease l;

	dlock_on_lost(self->a, on_lost, &x);
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	EXPECT_EQ(0, try_for(self->a, self->b, n, 2000, 1));
	ASSERT_EQ(0, dlock_break(self->b, n, 0));
	run_loop(self->a, 1500);
	ASSERT_EQ(1, lost_count(&x));
	EXPECT_EQ(l.token, x.last.token);
	EXPECT_EQ(-1, dlock_next_timeout(self->a));
}

/* Releasing the last level ends the keep-alive; a reentrant one does not. */
TEST_F(lib2, keepalive_ends_with_the_lease)
{
	struct dlock_acquire_opts o = { .ttl_ms = 1000,
					.flags = DLOCK_F_KEEPALIVE };
	const char *n = lname("ka-release");
	struct dlock_lease l;

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(1, dlock_release(self->a, n, NULL));
	EXPECT_LE(0, dlock_next_timeout(self->a));
	ASSERT_EQ(0, dlock_release(self->a, n, NULL));
	EXPECT_EQ(-1, dlock_next_timeout(self->a));
	EXPECT_EQ(-ENOENT, dlock_keepalive_stop(self->a, n, NULL));
	EXPECT_EQ(-ENOENT, dlock_keepalive(self->a, n, NULL, 1000));
}

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 30

TEST_F(lib2, async_calls_back_for_every_acquire)
{
	struct dlock_acquire_opts o = { .ttl_ms = 10000 };
	struct dlock_acquire_opts t = { .ttl_ms = 10000, .flags = DLOCK_F_TRY };
	struct done now = {}, later = {}, never = {};
	struct pollfd p = { .fd = dlock_fd(self->b), .events = POLLIN };
	const char *n = lname("async");
	struct dlock_lease l1, l2;
	int i;

	ASSERT_EQ(1, dlock_acquire_async(self->a, n, &o, &l1, on_acquired,
					 &now));
	EXPECT_EQ(1, now.done) TH_LOG("a grant at once calls back too");
	EXPECT_EQ(0, now.err);
	EXPECT_EQ(l1.token, now.lease.token);
	EXPECT_EQ(-EAGAIN, dlock_acquire_async(self->b, n, &t, &l2,
					       on_acquired, &never));
	ASSERT_EQ(0, dlock_acquire_async(self->b, n, &o, &l2, on_acquired,
					 &later));
	EXPECT_EQ(0, later.done);
	ASSERT_EQ(0, dlock_release(self->a, n, NULL));
	for (i = 0; i < 100 && !later.done; i++)
		if (poll(&p, 1, 50) > 0)
			dlock_dispatch(self->b);
	EXPECT_EQ(1, later.done);
	EXPECT_EQ(0, later.err);
	EXPECT_LT(l1.token, later.lease.token);
	EXPECT_EQ(0, never.done);
	EXPECT_EQ(1, now.done);
	EXPECT_EQ(0, dlock_release(self->b, n, NULL));
}

/* Waits until @name has @n waiters; false after 10 s. */
static int await_waiters(struct dlock *d, const char *name, size_t n)
{
	struct dlock_lock_info *li;
	size_t have = 0;
	int i;

	for (i = 0; i < 1000 && have != n; i++) {
		if (i)
			sleep_ms(10);
		if (dlock_get(d, name, &li))
			continue;
		have = li->n_waiters;
		dlock_lock_info_free(li);
	}
	return have == n;
}

static int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	__atomic_add_fetch(&alarms, 1, __ATOMIC_SEQ_CST);
}

struct waiter {
	const char *name;
	uint32_t flags;
	int takes_signals;
	int err;
	int order;
	int *turn;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL | w->flags };
	struct dlock_lease l;
	struct dlock *d;
	sigset_t s;

	if (w->takes_signals) {
		sigemptyset(&s);
		sigaddset(&s, SIGALRM);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	}
	w->err = dlock_open(&d);
	if (w->err)
		return NULL;
	w->err = dlock_acquire(d, w->name, &o, &l);
	if (!w->err) {
		w->order = __atomic_add_fetch(w->turn, 1, __ATOMIC_SEQ_CST);
		dlock_release(d, w->name, NULL);
	}
	dlock_close(d);
	return NULL;
}

/*
 * SIGALRM every 50 ms lands on the first waiter's thread (the only one not
 * blocking it) while a second waiter queues behind it: the first must
 * still be granted first.
 */
TEST_F(lib2, restart_keeps_the_queue_place_through_signals)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct itimerval every = { { 0, 50000 }, { 0, 50000 } }, off = {};
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *n = lname("restart");
	int turn = 0, i;
	struct waiter w1 = { .name = n, .flags = DLOCK_F_RESTART,
			     .takes_signals = 1, .turn = &turn };
	struct waiter w2 = { .name = n, .turn = &turn };
	pthread_t t1, t2;
	struct dlock_lease l;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &s, NULL));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, pthread_create(&t1, NULL, waiter_main, &w1));
	ASSERT_TRUE(await_waiters(self->a, n, 1));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
	ASSERT_EQ(0, pthread_create(&t2, NULL, waiter_main, &w2));
	EXPECT_TRUE(await_waiters(self->a, n, 2));
	for (i = 0; i < 500 && __atomic_load_n(&alarms, __ATOMIC_SEQ_CST) < 10; i++)
		sleep_ms(20);
	EXPECT_LE(10, alarms);
	ASSERT_EQ(0, dlock_release(self->a, n, NULL));
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	setitimer(ITIMER_REAL, &off, NULL);
	EXPECT_EQ(0, w1.err) TH_LOG("the restarting waiter: %s", strerror(-w1.err));
	EXPECT_EQ(0, w2.err);
	EXPECT_EQ(1, w1.order);
	EXPECT_EQ(2, w2.order);
	TH_LOG("%d signal handlers ran during the wait", alarms);
}

/*
 * A forked child drops its copy of a handle with dlock_forget(): the
 * parent's lease and its keep-alive thread carry on untouched.
 */
TEST_F(lib2, forget_in_a_child_leaves_the_parent_alone)
{
	struct dlock_acquire_opts o = { .ttl_ms = 1000,
					.flags = DLOCK_F_KEEPALIVE };
	const char *n = lname("forget");
	struct dlock_lock_info *li;
	struct dlock_lease l;
	int status;
	pid_t pid;

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	ASSERT_EQ(0, dlock_keepalive_thread(self->a, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct dlock_acquire_opts t = { .ttl_ms = 1000,
						.flags = DLOCK_F_TRY };
		struct dlock *c;

		dlock_forget(self->a);
		dlock_forget(self->b);
		if (dlock_open(&c))
			_exit(2);
		/* Still the parent's. */
		_exit(dlock_acquire(c, n, &t, &l) == -EAGAIN ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Two TTLs later, still held: still renewed. */
	EXPECT_EQ(0, try_for(self->a, self->b, n, 2000, 0));
	ASSERT_EQ(0, dlock_get(self->b, n, &li));
	ASSERT_EQ(1, li->n_holders);
	EXPECT_EQ((uint32_t)getpid(), li->holders[0].pid);
	dlock_lock_info_free(li);
	EXPECT_EQ(0, dlock_release(self->a, n, NULL));
}

/*
 * The socket is close-on-exec by default: a program the process runs does
 * not keep the handle's leases once the process closes it.
 */
TEST_F(lib2, exec_does_not_inherit_the_socket)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct dlock_acquire_opts t = { .flags = DLOCK_F_NO_TTL | DLOCK_F_TRY };
	const char *n = lname("exec");
	struct dlock_lease l;
	char c;
	int p[2];
	pid_t pid;

	ASSERT_EQ(0, dlock_acquire(self->a, n, &o, &l));
	EXPECT_TRUE(fcntl(dlock_fd(self->a), F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* End of file once the child has executed sleep. */
	EXPECT_EQ(0, read(p[0], &c, 1));
	close(p[0]);
	dlock_close(self->a);
	self->a = NULL;
	EXPECT_EQ(0, dlock_acquire(self->b, n, &t, &l));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	dlock_release(self->b, n, NULL);
}

TEST_HARNESS_MAIN
