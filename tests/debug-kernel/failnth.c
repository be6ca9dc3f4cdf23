// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure pass of the debug lane: repeats each dlock scenario with
 * the Nth allocation (slab or page) of one request failing, for N = 1, 2,
 * 3, ... until a run injects no failure, through /proc/thread-self/fail-nth
 * (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC).
 *
 * Why: an allocation that fails half-way through a request is the error path
 * no ordinary test reaches.  Errors returned to the caller are fine; what
 * must not happen is a WARN, a leak, a hang, or state that disagrees with
 * the answer: a request that failed must leave nothing behind, and once
 * every socket of a scenario is closed and every detached lease released,
 * the namespace must count no lease, no waiter and the memory it started
 * with.  The harness (tests/vm/run) fails the run on any kernel report, and
 * kmemleak scans after the module is removed.
 *
 * Runs as root in the debug guest with dlock.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "../tap.h"
#include "../selftests/lockreq.h"

#define MAX_NTH		5000	/* far more fault points than one request has */
#define REPLY_TIMEOUT_S	3	/* a reply whose allocation failed never comes */

static int fail_fd = -1;
static const char *scenario;
static int bad;			/* inconsistencies in the current scenario */

/*
 * The fail-nth file stays open: opening it during a run would be an
 * allocation of its own.  Writing and reading it allocate nothing.
 */
static void fail_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(fail_fd, buf, len, 0) != len) {
		printf("Bail out! fail-nth: %s\n", strerror(errno));
		exit(1);
	}
}

/*
 * Disarms; true when the armed failure was injected (the count reached 0).
 * @nth 0: the warm-up run, nothing was armed.
 */
static int fail_disarm(unsigned int nth)
{
	char buf[16] = "";
	ssize_t n = pread(fail_fd, buf, sizeof(buf) - 1, 0);
	int injected = nth && n > 0 && strtoul(buf, NULL, 10) == 0;

	fail_arm(0);
	return injected;
}

static void complain(unsigned int nth, const char *fmt, const char *what)
{
	bad++;
	printf("# %s, fail-nth %u: ", scenario, nth);
	printf(fmt, what);
	printf("\n");
}

static void open_client(struct client *c)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };

	if (client_open(c)) {
		printf("Bail out! cannot open a dlock socket\n");
		exit(1);
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

struct counts {
	uint64_t leases, waiters, memory;
};

static int get_counts(struct client *c, struct counts *k)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &r) || r.error)
		return -1;
	k->leases = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_LEASES);
	k->waiters = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_WAITERS);
	k->memory = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_MEMORY);
	return 0;
}

static struct client observer;	/* never armed: reads the state */
static struct counts baseline;

/*
 * After a scenario cleaned up: no lease, no waiter, and no more memory than
 * after the scenario's warm-up run (the table keeps the capacity it grew,
 * so memory only settles once the scenario ran once without a failure).
 * Sockets end their sessions on close, which may finish just after close()
 * returns: poll for a while before calling it a leak.
 */
static void check_settled(unsigned int nth)
{
	struct counts k = { 0 };
	int i;

	for (i = 0; i < 50; i++) {
		if (!get_counts(&observer, &k) && !k.leases && !k.waiters &&
		    k.memory <= baseline.memory)
			return;
		usleep(100 * 1000);
	}
	bad++;
	printf("# %s, fail-nth %u: after cleanup %llu leases, %llu waiters, memory %llu (warm: %llu)\n",
	       scenario, nth, (unsigned long long)k.leases,
	       (unsigned long long)k.waiters, (unsigned long long)k.memory,
	       (unsigned long long)baseline.memory);
}

/* Holders of @name, seen by the observer: -1 if the lock does not exist. */
static int holders(const char *name)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *a;
	int n = 0, rem;

	nlraw_init(&m, observer.family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (nlraw_talk(observer.fd, &m, &r) || r.error)
		return -1;
	rem = r.len - NLMSG_HDRLEN - GENL_HDRLEN;
	for (a = (struct nlattr *)((char *)&r.msg + NLMSG_HDRLEN + GENL_HDRLEN);
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
		n += (a->nla_type & NLA_TYPE_MASK) == DLOCK_A_HOLDER;
	return n;
}

static struct acq plain(const char *name, uint64_t tag)
{
	struct acq a = {
		.name = name, .mode = DLOCK_MODE_EXCLUSIVE, .ttl_ms = 60000,
		.tag = tag, .cookie = tag,
	};
	return a;
}

/*
 * One run of a scenario with the @nth allocation failing.  Returns whether
 * a failure was injected (0 ends the scenario); inconsistencies count in
 * bad.  A run with nothing injected (the last one, or the warm-up with @nth
 * 0) must succeed.
 */
typedef int (*step_fn)(unsigned int nth);

/* Request path, first lock of a socket (creates its session). */
static int step_acquire(unsigned int nth)
{
	const char *name = lname("fnth-acq");
	struct acq a = plain(name, 1);
	struct result res;
	struct client c;
	int err, injected;

	open_client(&c);
	fail_arm(nth);
	err = acquire(&c, &a, &res);
	injected = fail_disarm(nth);
	if (!err && res.error && holders(name) > 0)
		complain(nth, "acquire failed (%s) yet left a holder",
			 strerror(res.error));
	if (!injected && (err || res.error || res.queued))
		complain(nth, "acquire without a failure did not succeed%s", "");
	client_close(&c);
	check_settled(nth);
	return injected;
}

/* Request path, a detached lease (owner string, outlives the socket). */
static int step_detached(unsigned int nth)
{
	const char *name = lname("fnth-det");
	struct acq a = plain(name, 0);
	struct result res, rel;
	struct client c;
	int err, injected;

	a.flags = DLOCK_F_DETACHED;
	a.owner = "fnth-owner";
	open_client(&c);
	fail_arm(nth);
	err = acquire(&c, &a, &res);
	injected = fail_disarm(nth);
	if (!err && res.error && holders(name) > 0)
		complain(nth, "detached acquire failed (%s) yet left a holder",
			 strerror(res.error));
	if (!injected && (err || res.error))
		complain(nth, "detached acquire without a failure did not succeed%s", "");
	/* Whatever the answer was (a lost reply too), nothing may stay. */
	release(&observer, name, 0, "fnth-owner", &rel);
	client_close(&c);
	check_settled(nth);
	return injected;
}

/* Request path of a waiter: joining the queue of a held lock. */
static int step_queue(unsigned int nth)
{
	const char *name = lname("fnth-queue");
	struct acq a = plain(name, 1), w = plain(name, 2);
	struct result res;
	struct client h, c;
	int err, injected;

	open_client(&h);
	open_client(&c);
	if (acquire(&h, &a, &res) || res.error)
		complain(nth, "setup: the holder's acquire failed%s", "");
	w.wait_ms = 30000;
	fail_arm(nth);
	err = acquire(&c, &w, &res);
	injected = fail_disarm(nth);
	if (!injected && (err || res.error || !res.queued))
		complain(nth, "queueing without a failure did not queue%s", "");
	client_close(&c);
	client_close(&h);
	check_settled(nth);
	return injected;
}

/* Grant path: the holder's release hands the lock to the queued waiter. */
static int step_grant(unsigned int nth)
{
	const char *name = lname("fnth-grant");
	struct acq a = plain(name, 1), w = plain(name, 2);
	struct result res;
	struct client h, c;
	struct note n;
	int err, injected;

	open_client(&h);
	open_client(&c);
	w.wait_ms = 30000;
	if (acquire(&h, &a, &res) || res.error ||
	    acquire(&c, &w, &res) || res.error || !res.queued)
		complain(nth, "setup: holder and waiter failed%s", "");
	fail_arm(nth);
	err = release(&h, name, 1, NULL, &res);
	injected = fail_disarm(nth);
	if (!injected) {
		if (err || res.error)
			complain(nth, "release without a failure failed%s", "");
		else if (next_note(&c, 5000, &n) != DLOCK_CMD_WAIT_DONE ||
			 n.error)
			complain(nth, "the waiter was not granted%s", "");
	}
	client_close(&c);
	client_close(&h);
	check_settled(nth);
	return injected;
}

/* Dump path: GET of every lock of a prefix, over several messages. */
static int dump(struct client *c, const char *prefix)
{
	struct nlraw_msg m;
	char buf[16384];

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	m.nh.nlmsg_flags |= NLM_F_DUMP;
	nlraw_put(&m, DLOCK_A_PREFIX, prefix, strlen(prefix));
	if (send(c->fd, &m, m.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		}
	}
}

static int step_dump(unsigned int nth)
{
	const char *prefix = lname("fnth-dump");
	struct result res;
	struct client h, c;
	char name[256];
	int i, err, injected;

	open_client(&h);
	open_client(&c);
	for (i = 0; i < 80; i++) {
		struct acq a;

		snprintf(name, sizeof(name), "%s-%02d-%0200d", prefix, i, 0);
		a = plain(name, 1);
		if (acquire(&h, &a, &res) || res.error)
			complain(nth, "setup: acquire %s failed", name);
	}
	fail_arm(nth);
	err = dump(&c, prefix);
	injected = fail_disarm(nth);
	if (!injected && err)
		complain(nth, "dump without a failure failed: %s", strerror(-err));
	client_close(&c);
	client_close(&h);
	check_settled(nth);
	return injected;
}

/* A value attached to a held lease (an allocation sized by the caller). */
static int step_value(unsigned int nth)
{
	const char *name = lname("fnth-value");
	struct acq a = plain(name, 1);
	char val[DLOCK_VALUE_MAX];
	struct result res;
	struct client h;
	int err, injected;

	memset(val, 'v', sizeof(val));
	open_client(&h);
	if (acquire(&h, &a, &res) || res.error)
		complain(nth, "setup: acquire failed%s", "");
	fail_arm(nth);
	err = owned_cmd(&h, DLOCK_CMD_SET_VALUE, name, 1, NULL, 0, val,
			sizeof(val), &res);
	injected = fail_disarm(nth);
	if (!injected && (err || res.error))
		complain(nth, "set-value without a failure failed%s", "");
	client_close(&h);
	check_settled(nth);
	return injected;
}

static void run(const char *name, step_fn step)
{
	unsigned int nth;

	scenario = name;
	bad = 0;
	baseline.memory = UINT64_MAX;
	step(0);
	if (get_counts(&observer, &baseline))
		complain(0, "GET_STATUS failed%s", "");
	for (nth = 1; nth <= MAX_NTH; nth++)
		if (!step(nth))
			break;
	if (nth > MAX_NTH) {
		bad++;
		printf("# %s: still injecting at fail-nth %u\n", name, MAX_NTH);
	}
	/* A pass must mean something: fault injection has to have worked. */
	if (nth == 1) {
		bad++;
		printf("# %s: not a single failure was injected\n", name);
	}
	tap_ok(!bad, "%s: %u runs with a failure injected, state consistent after each",
	       name, nth - 1);
}

/* Let GFP_KERNEL allocations fail too, and keep the log free of stacks. */
static void setup_fault_attrs(void)
{
	static const char *const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		int fd = open(knobs[i][0], O_WRONLY);

		if (fd < 0 || write(fd, knobs[i][1], strlen(knobs[i][1])) < 0) {
			printf("Bail out! %s: %s (a kernel without fault injection?)\n",
			       knobs[i][0], strerror(errno));
			exit(1);
		}
		close(fd);
	}
}

/*
 * A user-space page fault while a failure is armed would take it (and the
 * kernel then logs "VM_FAULT_OOM leaked out", a false alarm): touch the
 * stack the scenarios will use and lock every page in memory first.
 */
static void prefault(void)
{
	volatile char stack[512 * 1024];
	size_t i;

	for (i = 0; i < sizeof(stack); i += 4096)
		stack[i] = 0;
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		printf("# mlockall: %s\n", strerror(errno));
}

int main(void)
{
	/* A namespace of our own: the counts we check are ours alone. */
	if (unshare(CLONE_NEWNET)) {
		printf("Bail out! unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	setup_fault_attrs();
	fail_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_fd < 0) {
		printf("Bail out! /proc/thread-self/fail-nth: %s\n", strerror(errno));
		return 1;
	}
	open_client(&observer);
	tap_plan(6);
	prefault();
	run("acquire, new session", step_acquire);
	run("acquire, detached", step_detached);
	run("queue a waiter", step_queue);
	run("grant on release", step_grant);
	run("dump", step_dump);
	run("set value", step_value);
	client_close(&observer);
	return tap_failed ? 1 : 0;
}
