// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest tests of abuse: sockets that close right after a request,
 * attribute fuzzing, a port id reused by another socket, everything at
 * once from many threads; and last, fencing tokens that keep increasing
 * across a module reload (it unloads the module: run-all runs this last of
 * the raw tests).
 */
#define _GNU_SOURCE
#include "lock2.h"

/*
 * The debug kernel (KASAN, lockdep, kmemleak) runs these ~100x slower than
 * the stock one: there each loop runs a fifth of its rounds, still enough
 * for the races it looks for to happen many times.
 */
static int rounds_div = 1;

__attribute__((constructor)) static void abuse_scale(void)
{
	if (getenv("DLOCK_DEBUG_KERNEL"))
		rounds_div = 5;
}

/* ---- abuse ------------------------------------------------------------ */

struct closer_arg {
	int family;
	int iters;
	int id;
	int failures;
};

/* Opens a socket, fires a request without reading the answer, closes it. */
static void *closer(void *p)
{
	struct closer_arg *ca = p;
	unsigned int seed = ca->id * 7919 + getpid();
	int i;

	for (i = 0; i < ca->iters; i++) {
		struct nlraw_msg m;
		char name[32];
		uint32_t flags = DLOCK_F_NO_TTL;
		uint64_t cookie = i;
		int fd = nlraw_open();
		int k = rand_r(&seed) % 4;

		if (fd < 0) {
			ca->failures++;
			continue;
		}
		/* 0: queue on the held lock; 1: take a fresh one; 2: detach; 3: get */
		if (k == 0)
			snprintf(name, sizeof(name), "held");
		else
			snprintf(name, sizeof(name), "c%d-%d", ca->id, i);
		nlraw_init(&m, ca->family, k == 3 ? DLOCK_CMD_GET :
			   DLOCK_CMD_ACQUIRE, DLOCK_GENL_VERSION);
		m.nh.nlmsg_flags = NLM_F_REQUEST | (i & 1 ? NLM_F_ACK : 0);
		nlraw_put(&m, DLOCK_A_NAME, name, strlen(name));
		if (k == 2) {
			uint32_t ttl = 100;

			flags = DLOCK_F_DETACHED;
			nlraw_put(&m, DLOCK_A_OWNER, "o", 1);
			nlraw_put(&m, DLOCK_A_TTL_MS, &ttl, 4);
		}
		if (k != 3) {
			nlraw_put(&m, DLOCK_A_FLAGS, &flags, 4);
			nlraw_put(&m, DLOCK_A_COOKIE, &cookie, 8);
		}
		if (send(fd, &m, m.nh.nlmsg_len, 0) < 0)
			ca->failures++;
		/* Sometimes a second request, closed even sooner. */
		if (rand_r(&seed) % 2)
			send(fd, &m, m.nh.nlmsg_len, MSG_DONTWAIT);
		close(fd);
	}
	return NULL;
}

static int wait_empty(struct client *c, int ms, struct status *st)
{
	for (;;) {
		if (get_status(c, st))
			return -1;
		if (!st->leases && !st->waiters)
			return 0;
		if (ms <= 0)
			return -1;
		usleep(20000);
		ms -= 20;
	}
}

TEST_F_TIMEOUT(ns, close_right_after_request, 120)
{
	const int procs = 3, threads = 3, iters = 150 / rounds_div;
	struct acq q = { .name = "held", .flags = DLOCK_F_NO_TTL };
	struct client holder = self->a;
	struct status st = {};
	struct result r;
	int p, status, bad = 0;

	ASSERT_EQ(0, acquire(&holder, &q, &r));
	ASSERT_EQ(0, r.error);
	for (p = 0; p < procs; p++) {
		if (fork() == 0) {
			struct closer_arg ca[3];
			pthread_t th[3];
			int t, fails = 0;

			for (t = 0; t < threads; t++) {
				ca[t] = (struct closer_arg){ holder.family,
					iters, p * threads + t, 0 };
				pthread_create(&th[t], NULL, closer, &ca[t]);
			}
			for (t = 0; t < threads; t++) {
				pthread_join(th[t], NULL);
				fails += ca[t].failures;
			}
			_exit(fails ? 1 : 0);
		}
	}
	for (p = 0; p < procs; p++) {
		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	EXPECT_EQ(0, bad);

	/*
	 * Only the holder's lease is left (and detached leases until their
	 * 100 ms TTL ends); nobody queued behind it survived its socket.
	 */
	ASSERT_EQ(0, get_status(&holder, &st));
	EXPECT_EQ(0, st.waiters);
	ASSERT_EQ(0, release(&holder, "held", 0, NULL, &r));
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(0, wait_empty(&holder, 3000, &st))
		TH_LOG("left: %llu leases, %llu waiters",
		       (unsigned long long)st.leases,
		       (unsigned long long)st.waiters);
	/* Free: nobody was granted it on a dead socket's behalf. */
	q.flags = DLOCK_F_TRY | DLOCK_F_NO_TTL;
	ASSERT_EQ(0, acquire(&holder, &q, &r));
	EXPECT_EQ(0, r.error);
}

/* Random attributes, biased towards plausible types and sizes. */
static void fuzz_attrs(struct nlraw_msg *m, unsigned int *seed)
{
	static const int sizes[] = { 0, 1, 2, 4, 8, 3, 16, 64, 255, 256 };
	int n = rand_r(seed) % 7, i;
	unsigned char data[300];

	for (i = 0; i < n; i++) {
		int type = rand_r(seed) % (DLOCK_A_MAX + 4);
		int len = rand_r(seed) % 3 ? sizes[rand_r(seed) % 10] :
			  rand_r(seed) % 300;
		int j;

		if (NLMSG_ALIGN(m->nh.nlmsg_len) + NLA_HDRLEN + len + 8 >
		    sizeof(*m))
			break;
		for (j = 0; j < len; j++)
			data[j] = rand_r(seed) % 4 ? 'a' + rand_r(seed) % 4 :
				  rand_r(seed);
		if (type == DLOCK_A_MODE && len == 1)
			data[0] %= 4;
		if (type == DLOCK_A_FLAGS && len == 4 && rand_r(seed) % 2)
			memset(data + 1, 0, 3), data[0] &= 7;
		if (rand_r(seed) % 10 == 0)	/* a length that lies */
			nlraw_put_raw(m, type | (rand_r(seed) % 2 ?
						 NLA_F_NESTED : 0),
				      data, len, rand_r(seed) % 400);
		else
			nlraw_put(m, type, data, len);
	}
}

/* Attributes a real client would send, each present at random. */
static void fuzz_base(struct nlraw_msg *m, unsigned int *seed)
{
	char name[4] = { 'f', '0' + rand_r(seed) % 6 };
	uint8_t mode = rand_r(seed) % 3;
	uint32_t permits = 2, flags = rand_r(seed) % 8;
	uint32_t ttl = rand_r(seed) % 2 ? 0 : 20 + rand_r(seed) % 300;
	uint32_t wait = rand_r(seed) % 3 ? 0 : rand_r(seed) % 200;
	uint64_t tag = rand_r(seed) % 3, cookie = rand_r(seed) % 4;
	uint64_t token = rand_r(seed) % 2 ? 1 : (uint64_t)rand_r(seed) << 20;

	if (rand_r(seed) % 8)
		nlraw_put(m, DLOCK_A_NAME, name, 2);
	if (rand_r(seed) % 2)
		nlraw_put(m, DLOCK_A_MODE, &mode, 1);
	if (mode == DLOCK_MODE_SEMAPHORE && rand_r(seed) % 4)
		nlraw_put(m, DLOCK_A_PERMITS, &permits, 4);
	if (rand_r(seed) % 2)
		nlraw_put(m, DLOCK_A_FLAGS, &flags, 4);
	if (rand_r(seed) % 4)
		nlraw_put(m, DLOCK_A_TTL_MS, &ttl, 4);
	if (rand_r(seed) % 3 == 0)
		nlraw_put(m, DLOCK_A_WAIT_MS, &wait, 4);
	if (flags & DLOCK_F_DETACHED ? rand_r(seed) % 4 : !(rand_r(seed) % 4))
		nlraw_put(m, DLOCK_A_OWNER, rand_r(seed) % 2 ? "o1" : "o2", 2);
	else if (rand_r(seed) % 2)
		nlraw_put(m, DLOCK_A_OWNER_TAG, &tag, 8);
	if (rand_r(seed) % 2)
		nlraw_put(m, DLOCK_A_COOKIE, &cookie, 8);
	if (rand_r(seed) % 4 == 0)
		nlraw_put(m, DLOCK_A_TOKEN, &token, 8);
	if (rand_r(seed) % 4 == 0)
		nlraw_put(m, DLOCK_A_VALUE, "value", rand_r(seed) % 6);
	if (rand_r(seed) % 8 == 0)
		nlraw_put(m, DLOCK_A_PREFIX, "f", 1);
}

TEST_F_TIMEOUT(ns, fuzz_attributes, 240)
{
	static const int cmds[] = { DLOCK_CMD_ACQUIRE, DLOCK_CMD_RELEASE,
				    DLOCK_CMD_GET, DLOCK_CMD_RENEW,
				    DLOCK_CMD_SET_VALUE, DLOCK_CMD_CANCEL,
				    DLOCK_CMD_BREAK, DLOCK_CMD_GET_CONFIG,
				    DLOCK_CMD_GET_STATUS };
	struct cfg_set ttl = { DLOCK_A_CFG_MAX_TTL_MS, 200 };
	unsigned int seed = 12345;
	int fds[4], family, i, ok = 0, failed = 0, sockerr = 0;
	struct client admin = self->a;
	struct status st = {};

	/* Detached leases the fuzzer takes end soon. */
	ASSERT_EQ(0, set_config(&admin, &ttl, 1, NULL, NULL));
	family = admin.family;
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, fds[i] = nlraw_open());
	for (i = 0; i < 6000 / rounds_div; i++) {
		struct nlraw_msg m;
		char buf[8192];
		int k = rand_r(&seed) % 4, err, n;

		nlraw_init(&m, family, cmds[rand_r(&seed) % 9],
			   DLOCK_GENL_VERSION);
		if (m.gh.cmd == DLOCK_CMD_GET && rand_r(&seed) % 3 == 0)
			m.nh.nlmsg_flags |= NLM_F_DUMP;
		if (rand_r(&seed) % 50 == 0)
			m.gh.version = rand_r(&seed) % 3;
		/* Mostly plausible requests with a twist, some pure garbage. */
		if (rand_r(&seed) % 4)
			fuzz_base(&m, &seed);
		if (rand_r(&seed) % 3 == 0)
			fuzz_attrs(&m, &seed);
		n = exchange(fds[k], &m, buf, sizeof(buf), &err, NULL);
		if (n < 0)
			sockerr++;
		else if (err)
			failed++;
		else
			ok++;
		/* Now and then a socket goes away with what it held. */
		if (rand_r(&seed) % 97 == 0) {
			close(fds[k]);
			ASSERT_LE(0, fds[k] = nlraw_open());
		}
	}
	TH_LOG("fuzz: %d accepted, %d rejected, %d socket errors", ok, failed,
	       sockerr);
	EXPECT_EQ(0, sockerr);
	EXPECT_LT(0, ok);
	EXPECT_LT(0, failed);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	EXPECT_EQ(0, wait_empty(&admin, 3000, &st))
		TH_LOG("left: %llu leases, %llu waiters",
		       (unsigned long long)st.leases,
		       (unsigned long long)st.waiters);
}

/*
 * A socket's port id is free again the moment its close starts, before the
 * module hears of the close.  A new socket that binds the same port id at
 * once must get a session of its own: the old socket's end must not take
 * the new socket's leases with it.
 */
struct reuse_arg {
	int family;
	uint32_t portid;
	int rounds;
	int go, done;		/* round numbers, handshake with the closer */
	int stolen, errors;
};


/* Takes the port id as soon as it is free, locks, checks the lock stays. */
static void *reuser(void *p)
{
	struct reuse_arg *ra = p;
	int i;

	for (i = 0; i < ra->rounds; i++) {
		struct client c = { .family = ra->family };
		struct acq q = { .flags = DLOCK_F_NO_TTL };
		char name[32];
		struct result r;

		struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
					  .nl_pid = ra->portid };
		int err;

		c.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			      NETLINK_GENERIC);
		if (c.fd < 0) {
			ra->errors++;
			return NULL;
		}
		while (__atomic_load_n(&ra->go, __ATOMIC_ACQUIRE) <= i)
			;
		do
			err = bind(c.fd, (struct sockaddr *)&sa, sizeof(sa));
		while (err && errno == EADDRINUSE);
		if (err) {
			ra->errors++;
			close(c.fd);
			continue;
		}
		snprintf(name, sizeof(name), "new-%d", i);
		q.name = name;
		if (acquire(&c, &q, &r) || r.error)
			ra->errors++;
		/* Wait until the old socket's close has run its course. */
		while (__atomic_load_n(&ra->done, __ATOMIC_ACQUIRE) <= i)
			;
		if (release(&c, name, 0, NULL, &r) || r.error || r.count)
			ra->stolen++;
		close(c.fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(ns, port_id_reuse_gets_fresh_session, 120)
{
	struct reuse_arg ra = { .family = self->a.family,
				.portid = 0x7ead0000 + getpid(),
				.rounds = 1000 / rounds_div };
	struct acq q = { .name = "old", .flags = DLOCK_F_NO_TTL };
	struct status st = {};
	struct result r;
	pthread_t th;
	int i;

	ASSERT_EQ(0, pthread_create(&th, NULL, reuser, &ra));
	for (i = 0; i < ra.rounds; i++) {
		struct client old = { .family = ra.family };

		/* The previous round's new socket still has the port id. */
		do
			old.fd = nlraw_bind_portid(ra.portid);
		while (old.fd == -EADDRINUSE);
		ASSERT_LE(0, old.fd);
		ASSERT_EQ(0, acquire(&old, &q, &r));
		ASSERT_EQ(0, r.error);
		__atomic_store_n(&ra.go, i + 1, __ATOMIC_RELEASE);
		close(old.fd);
		__atomic_store_n(&ra.done, i + 1, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, ra.errors);
	EXPECT_EQ(0, ra.stolen) TH_LOG("%d of %d new sockets lost their lease to an old socket's close",
				       ra.stolen, ra.rounds);
	ASSERT_EQ(0, wait_empty(&self->b, 2000, &st));
}

/*
 * Processes do everything at once on a few names: acquire in every mode
 * with short TTLs and waits, release, renew, cancel, break, set values, get,
 * dump, and drop their sockets.  Nothing may warn, and nothing may be left.
 */
static void chaos(int family, int id, int iters)
{
	unsigned int seed = id * 104729 + 1;
	struct client c = { .family = family };
	int i;

	c.fd = nlraw_open();
	for (i = 0; i < iters && c.fd >= 0; i++) {
		char name[4] = { 'k', '0' + rand_r(&seed) % 4 };
		int op = rand_r(&seed) % 12;
		struct acq q = { .name = name, .tag = rand_r(&seed) % 3,
				 .cookie = i,
				 .ttl_ms = 20 + rand_r(&seed) % 200 };
		struct dump_result *d;
		struct lockview v;
		struct result r;

		switch (op) {
		case 0: case 1: case 2: case 3:
			/* k0, k1: exclusive or shared; k2: semaphore; k3: any */
			q.mode = name[1] == '2' ? DLOCK_MODE_SEMAPHORE :
				 rand_r(&seed) % 2;
			if (q.mode == DLOCK_MODE_SEMAPHORE)
				q.permits = 2;
			if (rand_r(&seed) % 3 == 0)
				q.flags |= DLOCK_F_TRY;
			else if (rand_r(&seed) % 2)
				q.wait_ms = 1 + rand_r(&seed) % 100;
			if (rand_r(&seed) % 5 == 0) {
				q.flags |= DLOCK_F_DETACHED;
				q.owner = rand_r(&seed) % 2 ? "d1" : "d2";
			}
			acquire(&c, &q, &r);
			break;
		case 4: case 5:
			release(&c, name, q.tag, rand_r(&seed) % 5 ? NULL : "d1",
				&r);
			break;
		case 6:
			renew(&c, name, q.tag, NULL, 100, &r);
			break;
		case 7:
			cancel(&c, name, rand_r(&seed) % (i + 1), &r);
			break;
		case 8:
			if (rand_r(&seed) % 4 == 0)
				break_lock(&c, name, 0, &r);
			else
				set_value(&c, name, q.tag, NULL, "v", 1, &r);
			break;
		case 9:
			get_lock(&c, name, &v);
			break;
		case 10:
			d = malloc(sizeof(*d));
			if (d)
				dump_locks(&c, NULL, "none", d, NULL, NULL);
			free(d);
			break;
		case 11:
			/* Gone, with whatever it held or waited for. */
			close(c.fd);
			nlraw_nstash = 0;
			c.fd = nlraw_open();
			break;
		}
		/* Drain notifications now and then, not always. */
		if (rand_r(&seed) % 4 == 0) {
			struct note n;

			while (next_note(&c, 0, &n) >= 0)
				;
		}
	}
	if (c.fd >= 0)
		close(c.fd);
}

TEST_F_TIMEOUT(ns, everything_at_once, 240)
{
	const int procs = 4, iters = 3000 / rounds_div;
	int p, status, bad = 0;
	struct status st = {};

	for (p = 0; p < procs; p++) {
		if (fork() == 0) {
			chaos(self->a.family, p, iters);
			_exit(0);
		}
	}
	for (p = 0; p < procs; p++) {
		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	EXPECT_EQ(0, bad);
	/* Detached leases end with their TTL (at most 220 ms). */
	EXPECT_EQ(0, wait_empty(&self->a, 3000, &st))
		TH_LOG("left: %llu leases, %llu waiters",
		       (unsigned long long)st.leases,
		       (unsigned long long)st.waiters);
}

/* ---- fencing tokens across a reload (last: unloads the module) ------- */

static int load_module(void)
{
	const char *ko = getenv("DLOCK_KO");
	int fd, err;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return err;
}

/* A fixture of its own, defined last, so the harness runs it last. */
FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
}

TEST_F(reload, tokens_increase_across_reload)
{
	struct acq q = { .name = lname("reload"), .ttl_ms = 60000 };
	struct client c;
	struct result r;
	uint64_t before, after;
	int i, unloaded;

	if (!getenv("DLOCK_KO"))
		SKIP(return, "DLOCK_KO (path of dlock.ko to reload) is not set");
	ASSERT_EQ(0, client_open(&c));
	/* Spend some tokens first so the counter is ahead of its seed. */
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, acquire(&c, &q, &r));
		ASSERT_EQ(0, r.error);
		ASSERT_EQ(0, release(&c, q.name, 0, NULL, &r));
	}
	ASSERT_EQ(0, acquire(&c, &q, &r));
	before = r.token;
	/* rmmod is refused while anything is held: let go first. */
	ASSERT_EQ(0, release(&c, q.name, 0, NULL, &r));
	ASSERT_EQ(0, r.error);
	client_close(&c);

	/* The namespaces of earlier tests free their tables asynchronously. */
	for (i = 0; i < 500; i++) {
		unloaded = syscall(SYS_delete_module, "dlock", O_NONBLOCK) == 0;
		if (unloaded || errno != EAGAIN)
			break;
		usleep(20000);
	}
	/* Whatever happened, the module is loaded again before any check. */
	if (unloaded)
		ASSERT_EQ(0, load_module());
	ASSERT_TRUE(unloaded) TH_LOG("rmmod: %s", strerror(errno));

	ASSERT_EQ(0, client_open(&c));
	ASSERT_EQ(0, acquire(&c, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("the old lease must be gone: %s",
				     r.extack);
	after = r.token;
	EXPECT_LT(before, after) TH_LOG("before %llu, after %llu",
				       (unsigned long long)before,
				       (unsigned long long)after);
	ASSERT_EQ(0, release(&c, q.name, 0, NULL, &r));
	client_close(&c);
}

TEST_HARNESS_MAIN
