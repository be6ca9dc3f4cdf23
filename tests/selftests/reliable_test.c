// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests: no grant lost, no holder silently dropped (issue 8).
 *
 * - rmmod is refused ("in use") while a lease or a waiter exists in any
 *   namespace, and allowed once they are gone, also when a namespace dies
 *   with leases left;
 * - unloading destroys the module's slab caches;
 * - a socket that binds a port id again never reads a note meant for the
 *   socket that had it;
 * - a grant to a waiter whose receive buffer is full reaches it or the
 *   socket learns it missed something, and libdlock's recovery never
 *   forgets a wait the kernel still has, nor believes a note another
 *   local socket forged.
 *
 * Needs DLOCK_KO (the tests unload and load the module).  Every test leaves
 * the module loaded and holds nothing when it ends.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lockreq.h"
#include "dlock.h"

/* ---- the module ------------------------------------------------------- */

static int module_unload(void)
{
	return syscall(SYS_delete_module, "dlock", O_NONBLOCK) ? -errno : 0;
}

static int module_load(void)
{
	const char *ko = getenv("DLOCK_KO");
	int fd, err;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return err;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Unloads the module, retrying while it is in use for up to @ms: a dead
 * namespace frees its table from a workqueue, a little after its last
 * process exited.
 */
static int module_unload_wait(int ms)
{
	int err;

	while ((err = module_unload()) == -EAGAIN && ms > 0) {
		sleep_ms(20);
		ms -= 20;
	}
	return err;
}

/*
 * rmmod must answer "in use" (EWOULDBLOCK).  If it unloaded the module
 * instead, load it back so the rest of the suite runs.
 */
#define EXPECT_UNLOAD_REFUSED(what) do {				\
	int __err = module_unload();					\
									\
	if (!__err)							\
		ASSERT_EQ(0, module_load());				\
	EXPECT_EQ(-EAGAIN, __err)					\
		TH_LOG("rmmod with %s: %s", what,			\
		       __err ? strerror(-__err) : "it unloaded");	\
} while (0)

/* Unloads (holding nothing, it must succeed) and loads the module again. */
#define RELOAD() do {							\
	int __err = module_unload_wait(10000);				\
									\
	ASSERT_EQ(0, __err) TH_LOG("rmmod with nothing held: %s",	\
				   strerror(-__err));			\
	ASSERT_EQ(0, module_load());					\
} while (0)

#define NEED_KO() do {							\
	if (!getenv("DLOCK_KO"))					\
		SKIP(return, "DLOCK_KO (path of dlock.ko) is not set");	\
} while (0)

/* ---- rmmod while leases or waiters exist ------------------------------ */

static uint32_t sock_portid(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		return 0;
	return sa.nl_pid;
}


FIXTURE(pin) {
	struct client c, w;
};

FIXTURE_SETUP(pin)
{
	self->c.fd = self->w.fd = -1;
	ASSERT_EQ(0, client_open(&self->c));
	ASSERT_EQ(0, client_open(&self->w));
}

FIXTURE_TEARDOWN(pin)
{
	if (self->c.fd >= 0)
		client_close(&self->c);
	if (self->w.fd >= 0)
		client_close(&self->w);
}

TEST_F(pin, detached_lease)
{
	struct acq q = { .name = lname("pin-det"), .ttl_ms = 60000,
			 .flags = DLOCK_F_DETACHED, .owner = "rel-owner" };
	struct result r;

	NEED_KO();
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	/* It outlives its socket. */
	client_close(&self->c);
	EXPECT_UNLOAD_REFUSED("a detached lease");

	ASSERT_EQ(0, client_open(&self->c));
	ASSERT_EQ(0, release(&self->c, q.name, 0, q.owner, &r));
	/* On a module that unloaded anyway, the lease is gone: ENOENT. */
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	client_close(&self->c);
	client_close(&self->w);
	RELOAD();
}

TEST_F(pin, socket_lease)
{
	struct acq q = { .name = lname("pin-sock"), .flags = DLOCK_F_NO_TTL,
			 .tag = 1 };
	struct result r;

	NEED_KO();
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	EXPECT_UNLOAD_REFUSED("a socket-bound lease");
	/* Closing the socket ends the lease: now it may go. */
	client_close(&self->c);
	client_close(&self->w);
	RELOAD();
}

TEST_F(pin, waiter_then_grant)
{
	struct acq h = { .name = lname("pin-wait"), .flags = DLOCK_F_NO_TTL,
			 .tag = 1 };
	struct acq q = h;
	struct nlraw_msg m;
	struct result r;
	uint64_t session;
	int len = 0;

	NEED_KO();
	q.cookie = 7;
	ASSERT_EQ(0, acquire(&self->c, &h, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, acquire(&self->w, &q, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_TRUE(r.queued);
	EXPECT_UNLOAD_REFUSED("a holder and a waiter");

	/* The waiter turns into the holder: the module stays pinned. */
	client_close(&self->c);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, nlraw_note(self->w.fd, 5000, &m, &len));
	EXPECT_EQ(0, nlraw_u32(&m, len, DLOCK_A_ERROR));
	/* The note names its session: this socket's (port id in its low half). */
	session = nlraw_u64(&m, len, DLOCK_A_SESSION);
	EXPECT_EQ(sock_portid(self->w.fd), (uint32_t)session)
		TH_LOG("WAIT_DONE session %llx", (unsigned long long)session);
	EXPECT_NE(0, session >> 32);
	EXPECT_UNLOAD_REFUSED("a waiter granted");

	client_close(&self->w);
	RELOAD();
}

TEST_F(pin, waiter_cancelled)
{
	struct acq h = { .name = lname("pin-cancel"), .ttl_ms = 60000,
			 .flags = DLOCK_F_DETACHED, .owner = "rel-cancel" };
	struct acq q = { .name = h.name, .flags = DLOCK_F_NO_TTL, .tag = 2,
			 .cookie = 9 };
	struct result r;

	NEED_KO();
	ASSERT_EQ(0, acquire(&self->c, &h, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, acquire(&self->w, &q, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, cancel(&self->w, q.name, q.cookie, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, release(&self->c, h.name, 0, h.owner, &r));
	EXPECT_EQ(0, r.error);
	client_close(&self->c);
	client_close(&self->w);
	/* Nothing is left: the cancelled wait did not keep a reference. */
	RELOAD();
}

/*
 * A lease and a waiter in a namespace of their own pin the module too; when
 * that namespace dies with them, its table goes and so does the pin.
 */
TEST(pin_other_namespace)
{
	int ready[2], go[2], status;
	pid_t pid;
	char b;

	NEED_KO();
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct acq d = { .name = "pin-netns", .ttl_ms = 60000,
				 .flags = DLOCK_F_DETACHED, .owner = "ns" };
		struct acq q = { .name = "pin-netns", .flags = DLOCK_F_NO_TTL,
				 .tag = 3, .cookie = 3 };
		struct client c, w;
		struct result r;

		if (unshare(CLONE_NEWNET) || client_open(&c) ||
		    client_open(&w) || acquire(&c, &d, &r) || r.error ||
		    acquire(&w, &q, &r) || !r.queued)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(2);
		/* Exit holding both: the namespace dies with them. */
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &b, 1)) TH_LOG("child could not lock");
	EXPECT_UNLOAD_REFUSED("a lease and a waiter in another namespace");
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	RELOAD();
}

/* ---- slab caches ------------------------------------------------------ */

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atol(buf) : 0;
}

/*
 * What the module's caches leave in the slab allocator: caches of its own
 * that still exist (in /proc/slabinfo under a dlock_ name), plus the
 * aliases of the caches its caches were merged into (SLUB shares a cache
 * between same-sized ones; each merge is an alias until destroyed).
 */
static long dlock_slab_footprint(int *own)
{
	char line[512], path[PATH_MAX];
	struct dirent *de;
	long total = 0;
	FILE *f;
	DIR *d;

	*own = 0;
	f = fopen("/proc/slabinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		*own += !strncmp(line, "dlock_", 6);
	if (f)
		fclose(f);
	total += *own;
	d = opendir("/sys/kernel/slab");
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "dlock_", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/aliases",
			 de->d_name);
		total += read_long(path);
	}
	if (d)
		closedir(d);
	return total;
}

TEST(unload_destroys_caches)
{
	struct acq q = { .flags = DLOCK_F_NO_TTL, .tag = 1 };
	long before, after;
	struct client c;
	struct result r;
	int own;

	NEED_KO();
	/* With nothing held, the suite's own load goes first. */
	ASSERT_EQ(0, module_unload_wait(10000));
	before = dlock_slab_footprint(&own);
	EXPECT_EQ(0, own) TH_LOG("%d dlock caches outlived the module", own);

	/* A cycle that makes an entry cache and two lock caches. */
	ASSERT_EQ(0, module_load());
	ASSERT_EQ(0, client_open(&c));
	q.name = "slab-cycle-a";
	ASSERT_EQ(0, acquire(&c, &q, &r));
	ASSERT_EQ(0, r.error);
	q.name = "slab-cycle-with-a-much-longer-name-for-another-lock-cache";
	ASSERT_EQ(0, acquire(&c, &q, &r));
	ASSERT_EQ(0, r.error);
	client_close(&c);
	ASSERT_EQ(0, module_unload_wait(10000));

	after = dlock_slab_footprint(&own);
	EXPECT_EQ(0, own) TH_LOG("%d dlock caches outlived the module", own);
	EXPECT_EQ(before, after) TH_LOG("a load/unload cycle left %ld caches",
					after - before);
	ASSERT_EQ(0, module_load());
}

/* ---- port id reuse ---------------------------------------------------- */



struct releaser {
	struct client *c;
	const char *name;
	int error;
};

static void *release_thread(void *arg)
{
	struct releaser *rl = arg;
	struct result r;

	if (release(rl->c, rl->name, 1, NULL, &r))
		rl->error = EIO;
	else
		rl->error = r.error;
	return NULL;
}

/* Counts the WAIT_DONEs that arrive on @fd within @ms. */
static int count_wait_done(int fd, int ms)
{
	char buf[16384];
	int n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t len;

		if (poll(&p, 1, ms) <= 0)
			return n;
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS)
				continue;
			return n;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			struct genlmsghdr *gh = NLMSG_DATA(nh);

			if (nh->nlmsg_type >= NLMSG_MIN_TYPE &&
			    gh->cmd == DLOCK_CMD_WAIT_DONE)
				n++;
		}
	}
}

/*
 * Socket A waits last in a long queue of shared waiters.  One release
 * grants them all: the notes are built while every socket is open and sent
 * after the locks are dropped, in order, a long flush (slowed further by
 * event listeners).  As soon as the first note arrives, A closes and a new
 * socket B binds A's port id: B must never read A's WAIT_DONE.
 */
TEST_F_TIMEOUT(pin, port_id_reuse, 300)
{
	const int waiters = 3000, listeners = 48;
	struct acq h = { .name = lname("reuse"), .flags = DLOCK_F_NO_TTL,
			 .tag = 1 };
	struct acq q = { .name = h.name, .mode = DLOCK_MODE_SHARED,
			 .flags = DLOCK_F_NO_TTL };
	struct releaser rl = { .c = &self->c, .name = h.name };
	int lfd[listeners], i, grp, b, stolen, big = 64 << 20, small = 0;
	struct client a, many;
	struct pollfd p;
	pthread_t th;
	struct result r;
	uint32_t portid;

	ASSERT_EQ(0, acquire(&self->c, &h, &r));
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, client_open(&many));
	ASSERT_EQ(0, setsockopt(many.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				sizeof(big)));
	for (i = 0; i < waiters; i++) {
		q.tag = q.cookie = i + 1;
		ASSERT_EQ(0, acquire(&many, &q, &r));
		ASSERT_TRUE(r.queued) TH_LOG("waiter %d: %s", i, r.extack);
	}
	ASSERT_EQ(0, client_open(&a));
	q.tag = q.cookie = 1;
	ASSERT_EQ(0, acquire(&a, &q, &r));
	ASSERT_TRUE(r.queued);
	portid = sock_portid(a.fd);
	ASSERT_NE(0, portid);

	grp = nlraw_mcast_group(self->w.fd, DLOCK_GENL_NAME, DLOCK_MCGRP_EVENTS);
	ASSERT_LT(0, grp);
	for (i = 0; i < listeners; i++) {
		lfd[i] = nlraw_open();
		ASSERT_LE(0, lfd[i]);
		setsockopt(lfd[i], SOL_SOCKET, SO_RCVBUF, &small,
			   sizeof(small));
		ASSERT_EQ(0, setsockopt(lfd[i], SOL_NETLINK,
					NETLINK_ADD_MEMBERSHIP, &grp,
					sizeof(grp)));
	}

	ASSERT_EQ(0, pthread_create(&th, NULL, release_thread, &rl));
	p = (struct pollfd){ .fd = many.fd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 60000)) TH_LOG("no grant came");
	/* The flush has begun: A's note is built, not yet sent. */
	client_close(&a);
	for (i = 0; i < 100 && (b = nlraw_bind_portid(portid)) == -EADDRINUSE; i++)
		sleep_ms(1);
	ASSERT_LE(0, b) TH_LOG("bind to port id %u: %s", portid,
			       strerror(-b));
	pthread_join(th, NULL);
	EXPECT_EQ(0, rl.error);

	stolen = count_wait_done(b, 500);
	EXPECT_EQ(0, stolen) TH_LOG("the new socket on port id %u read %d "
				    "WAIT_DONE meant for the old one",
				    portid, stolen);
	/* Every other waiter was told. */
	EXPECT_EQ(waiters, count_wait_done(many.fd, 2000));
	close(b);
	for (i = 0; i < listeners; i++)
		close(lfd[i]);
	client_close(&many);
}

/* ---- a grant to a full receive buffer --------------------------------- */

/* Fills @fd's receive queue with junk from another (user) socket. */
static int fill_queue(int fd, int *junk)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK,
				  .nl_pid = sock_portid(fd) };
	struct {
		struct nlmsghdr nh;
		char pad[1024];
	} m = { .nh = { .nlmsg_len = sizeof(m), .nlmsg_type = NLMSG_NOOP,
			.nlmsg_seq = 0xdead } };
	int n = 0;

	*junk = nlraw_open();
	if (*junk < 0)
		return *junk;
	while (sendto(*junk, &m, sizeof(m), MSG_DONTWAIT,
		      (struct sockaddr *)&to, sizeof(to)) > 0)
		n++;
	return errno == EAGAIN && n > 0 ? n : -errno;
}

/*
 * The waiter's queue is full when its lock is granted: the WAIT_DONE
 * cannot be queued, and the waiter's next read says ENOBUFS, so it looks
 * the lock up and finds it holds it.
 */
TEST_F(pin, grant_to_full_buffer)
{
	struct acq h = { .name = lname("full"), .flags = DLOCK_F_NO_TTL,
			 .tag = 1 };
	struct acq q = h;
	int small = 0, junk, n, enobufs = 0, wait_done = 0;
	char buf[16384];
	struct result r;
	ssize_t len;

	q.tag = 2;
	q.cookie = 5;
	ASSERT_EQ(0, acquire(&self->c, &h, &r));
	ASSERT_EQ(0, r.error);
	setsockopt(self->w.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ASSERT_EQ(0, acquire(&self->w, &q, &r));
	ASSERT_TRUE(r.queued);
	n = fill_queue(self->w.fd, &junk);
	ASSERT_LT(0, n) TH_LOG("could not fill the queue: %s", strerror(-n));

	ASSERT_EQ(0, release(&self->c, h.name, 1, NULL, &r));
	ASSERT_EQ(0, r.error);
	while ((len = recv(self->w.fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		struct nlmsghdr *nh;

		if (len < 0 && errno == ENOBUFS) {
			enobufs++;
			continue;
		}
		if (len < 0)
			break;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len))
			wait_done += nh->nlmsg_type >= NLMSG_MIN_TYPE &&
				((struct genlmsghdr *)NLMSG_DATA(nh))->cmd ==
				DLOCK_CMD_WAIT_DONE;
	}
	EXPECT_TRUE(enobufs || wait_done)
		TH_LOG("the grant was dropped and the socket was not told");
	/* And the lease is the waiter's: a release by its tag works. */
	ASSERT_EQ(0, release(&self->w, q.name, q.tag, NULL, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	close(junk);
}

/*
 * libdlock: the grant is lost (its queue overflowed) and so is the reply to
 * the look-up that recovers from it.  The library must keep the wait until
 * it knows what the kernel did, and report the grant.
 *
 * The losses are simulated at the socket (this executable's recvmsg()
 * comes first for libnl): the kernel side of an overflow is tested above.
 */
static int lose_fd = -1;
static int lose_wait_done, lose_replies;

static ssize_t real_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return syscall(SYS_recvmsg, fd, msg, flags);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct nlmsghdr *nh = msg->msg_iov[0].iov_base;
	ssize_t n = real_recvmsg(fd, msg, flags);
	bool lose;

	if (fd != lose_fd || n < (ssize_t)sizeof(*nh))
		return n;
	if (nh->nlmsg_seq == 0)
		lose = lose_wait_done && nh->nlmsg_type >= NLMSG_MIN_TYPE &&
		       ((struct genlmsghdr *)NLMSG_DATA(nh))->cmd ==
		       DLOCK_CMD_WAIT_DONE;
	else
		lose = lose_replies > 0;
	if (!lose)
		return n;
	if (nh->nlmsg_seq == 0)
		lose_wait_done--;
	else
		lose_replies--;
	/* Peeked: take it off the queue for good. */
	if (flags & MSG_PEEK)
		real_recvmsg(fd, msg, flags & ~MSG_PEEK);
	errno = ENOBUFS;
	return -1;
}

struct outcome {
	bool done;
	int err;
	uint64_t token;
};

static void acquired(struct dlock *d, const char *name, int err,
		     const struct dlock_lease *lease, void *arg)
{
	struct outcome *o = arg;

	(void)d;
	(void)name;
	o->done = true;
	o->err = err;
	o->token = lease ? lease->token : 0;
}

TEST(lib_resync_keeps_wait)
{
	const char *name = lname("resync");
	struct dlock_acquire_opts opts = { .flags = DLOCK_F_NO_TTL, .tag = 1 };
	struct dlock_owner own = { .tag = 1 };
	struct dlock_lease lease;
	struct dlock_lock_info *li;
	struct outcome o = {};
	struct dlock *h, *w;
	int i, err;

	ASSERT_EQ(0, dlock_open(&h));
	ASSERT_EQ(0, dlock_open(&w));
	ASSERT_EQ(0, dlock_acquire(h, name, &opts, &lease));
	ASSERT_EQ(0, dlock_acquire_async(w, name, &opts, &lease, acquired,
					 &o));

	lose_fd = dlock_fd(w);
	lose_wait_done = 1;
	lose_replies = 1;
	ASSERT_EQ(0, dlock_release(h, name, &own));
	for (i = 0; i < 300 && !o.done; i++) {
		struct pollfd p = { .fd = dlock_fd(w), .events = POLLIN };

		poll(&p, 1, 10);
		err = dlock_dispatch(w);
		ASSERT_LE(0, err) TH_LOG("dispatch: %s", strerror(-err));
	}
	lose_fd = -1;
	ASSERT_TRUE(o.done) TH_LOG("the wait never settled");
	EXPECT_EQ(0, o.err) TH_LOG("the grant was reported as %s",
				   strerror(-o.err));
	EXPECT_EQ(0, lose_wait_done + lose_replies) TH_LOG("nothing was lost");

	/* The kernel agrees: the waiter holds the lock. */
	ASSERT_EQ(0, dlock_get(h, name, &li));
	ASSERT_EQ(1, li->n_holders);
	EXPECT_EQ(o.token, li->holders[0].token);
	dlock_lock_info_free(li);
	dlock_close(w);
	dlock_close(h);
}

/*
 * Any local socket may send to another's port id.  A WAIT_DONE forged that
 * way must not make libdlock report a grant the kernel never made.
 */
TEST(lib_ignores_forged_notes)
{
	const char *name = lname("forged");
	struct dlock_acquire_opts opts = { .flags = DLOCK_F_NO_TTL, .tag = 1 };
	struct dlock_owner own = { .tag = 1 };
	struct dlock_lease lease;
	struct outcome o = {};
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct dlock *h, *w;
	uint64_t cookie, token = 42;
	uint32_t zero = 0;
	int i, fd, family;

	ASSERT_EQ(0, dlock_open(&h));
	ASSERT_EQ(0, dlock_open(&w));
	ASSERT_EQ(0, dlock_acquire(h, name, &opts, &lease));
	ASSERT_EQ(0, dlock_acquire_async(w, name, &opts, &lease, acquired,
					 &o));

	fd = nlraw_open();
	ASSERT_LE(0, fd);
	family = nlraw_family(fd, DLOCK_GENL_NAME);
	ASSERT_LT(0, family);
	to.nl_pid = sock_portid(dlock_fd(w));
	/* Whatever cookie the library chose: the first few. */
	for (cookie = 0; cookie < 8; cookie++) {
		struct nlraw_msg m;

		nlraw_init(&m, family, DLOCK_CMD_WAIT_DONE, DLOCK_GENL_VERSION);
		m.nh.nlmsg_flags = 0;
		nlraw_put(&m, DLOCK_A_NAME, name, strlen(name));
		nlraw_put(&m, DLOCK_A_COOKIE, &cookie, 8);
		nlraw_put(&m, DLOCK_A_ERROR, &zero, 4);
		nlraw_put(&m, DLOCK_A_TOKEN, &token, 8);
		ASSERT_LT(0, sendto(fd, &m, m.nh.nlmsg_len, 0,
				    (struct sockaddr *)&to, sizeof(to)));
	}
	close(fd);
	for (i = 0; i < 20; i++) {
		struct pollfd p = { .fd = dlock_fd(w), .events = POLLIN };

		poll(&p, 1, 10);
		ASSERT_LE(0, dlock_dispatch(w));
	}
	EXPECT_FALSE(o.done) TH_LOG("a forged WAIT_DONE settled the wait "
				    "(token %llu)", (unsigned long long)o.token);

	/* The real grant still comes through. */
	o.done = false;
	ASSERT_EQ(0, dlock_release(h, name, &own));
	for (i = 0; i < 300 && !o.done; i++) {
		struct pollfd p = { .fd = dlock_fd(w), .events = POLLIN };

		poll(&p, 1, 10);
		ASSERT_LE(0, dlock_dispatch(w));
	}
	ASSERT_TRUE(o.done);
	EXPECT_EQ(0, o.err);
	EXPECT_NE(token, o.token);
	if (!o.err)
		dlock_release(w, name, &own);
	dlock_close(w);
	dlock_close(h);
}

TEST_HARNESS_MAIN
