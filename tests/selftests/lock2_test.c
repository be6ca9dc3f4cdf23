// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests, part 2: what lock_test.c does not cover.  Per-namespace
 * configuration and its caps, permissions (break and configuration need
 * CAP_NET_ADMIN in the namespace's user namespace, locking does not),
 * inspection of one lock and paged dumps (NLM_F_DUMP_INTR), watch events on
 * the multicast group, sockets that close right after a request, attribute
 * fuzzing, namespaces as separate nodes, and fencing tokens that keep
 * increasing across a module reload (last: it unloads the module).
 *
 * Tests that change limits or leave garbage behind run in a network
 * namespace of their own (each test is a forked process of the harness).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "lockreq.h"

#ifndef CAP_NET_ADMIN
#define CAP_NET_ADMIN 12
#endif

/* ---- raw exchanges ---------------------------------------------------- */

/*
 * Sends @m and collects every reply with its sequence number into @buf
 * until the ack, the error or NLMSG_DONE.  Returns the bytes collected
 * (several messages back to back) or -errno; *@error gets the positive
 * errno of an NLMSG_ERROR (0: acked or done).
 */
static int exchange(int fd, struct nlraw_msg *m, char *buf, int size,
		    int *error, char *extack)
{
	static uint32_t seq = 1 << 20;
	static __thread char rx[1 << 17];
	int used = 0;

	*error = 0;
	if (extack)
		extack[0] = 0;
	m->nh.nlmsg_seq = ++seq;
	if (send(fd, m, m->nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
		n = recv(fd, rx, sizeof(rx), 0);
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)rx; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != m->nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlraw_reply r = {};

				*error = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				if (extack) {
					nlraw_parse_extack(&r, nh);
					strcpy(extack, r.extack);
				}
				return used;
			}
			if (nh->nlmsg_type == NLMSG_DONE)
				return used;
			if (buf && used + (int)nh->nlmsg_len <= size) {
				memcpy(buf + used, nh, nh->nlmsg_len);
				used += NLMSG_ALIGN(nh->nlmsg_len);
			}
		}
	}
}

struct status {
	uint64_t leases, waiters;
};

static int get_status(struct client *c, struct status *st)
{
	struct nlraw_reply rr;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &rr) || rr.error || !rr.len)
		return -1;
	st->leases = nlraw_u64(&rr.msg, rr.len, DLOCK_A_STATUS_LEASES);
	st->waiters = nlraw_u64(&rr.msg, rr.len, DLOCK_A_STATUS_WAITERS);
	return 0;
}

/* ---- configuration ---------------------------------------------------- */

struct config {
	uint32_t max_ttl_ms, max_leases, max_waiters, max_socket_leases,
		 max_socket_waiters;
};

static void config_parse(struct nlraw_reply *rr, struct config *cf)
{
	cf->max_ttl_ms = nlraw_u32(&rr->msg, rr->len, DLOCK_A_CFG_MAX_TTL_MS);
	cf->max_leases = nlraw_u32(&rr->msg, rr->len, DLOCK_A_CFG_MAX_LEASES);
	cf->max_waiters = nlraw_u32(&rr->msg, rr->len, DLOCK_A_CFG_MAX_WAITERS);
	cf->max_socket_leases = nlraw_u32(&rr->msg, rr->len,
					  DLOCK_A_CFG_MAX_SOCKET_LEASES);
	cf->max_socket_waiters = nlraw_u32(&rr->msg, rr->len,
					   DLOCK_A_CFG_MAX_SOCKET_WAITERS);
}

/* Returns the positive errno of the request, 0 and *@cf filled if it worked. */
static int get_config(struct client *c, struct config *cf)
{
	struct nlraw_reply rr;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_CONFIG, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &rr))
		return EIO;
	if (!rr.error)
		config_parse(&rr, cf);
	return rr.error;
}

/* A config attribute to set, or none (-1). */
struct cfg_set {
	int attr;
	uint32_t val;
};

static int set_config(struct client *c, const struct cfg_set *set, int n,
		      struct config *cf, char *extack)
{
	struct nlraw_reply rr;
	struct nlraw_msg m;
	int i;

	nlraw_init(&m, c->family, DLOCK_CMD_SET_CONFIG, DLOCK_GENL_VERSION);
	for (i = 0; i < n; i++)
		nlraw_put(&m, set[i].attr, &set[i].val, 4);
	if (nlraw_talk(c->fd, &m, &rr))
		return EIO;
	if (extack)
		strcpy(extack, rr.extack);
	if (!rr.error && cf)
		config_parse(&rr, cf);
	return rr.error;
}

static uint32_t module_param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/dlock/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0xdeadbeef;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 10);
}

TEST(config_defaults_are_module_params)
{
	struct config cf;
	struct client c;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&c));
	ASSERT_EQ(0, get_config(&c, &cf));
	EXPECT_EQ(module_param("max_ttl_ms"), cf.max_ttl_ms);
	EXPECT_EQ(module_param("max_leases"), cf.max_leases);
	EXPECT_EQ(module_param("max_waiters"), cf.max_waiters);
	EXPECT_EQ(module_param("max_socket_leases"), cf.max_socket_leases);
	EXPECT_EQ(module_param("max_socket_waiters"), cf.max_socket_waiters);
	client_close(&c);
}

TEST(config_set_validated)
{
	struct cfg_set zero_ttl = { DLOCK_A_CFG_MAX_TTL_MS, 0 };
	struct cfg_set two[2] = { { DLOCK_A_CFG_MAX_LEASES, 7 },
				  { DLOCK_A_CFG_MAX_SOCKET_WAITERS, 3 } };
	struct config before, cf, other;
	struct client c, init_ns;
	struct nlraw_reply rr;
	struct nlraw_msg m;
	char extack[256];
	uint16_t small = 5;

	ASSERT_EQ(0, client_open(&init_ns));
	ASSERT_EQ(0, get_config(&init_ns, &other));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&c));
	ASSERT_EQ(0, get_config(&c, &before));

	/* Nothing to set. */
	EXPECT_EQ(EINVAL, set_config(&c, NULL, 0, NULL, extack));
	EXPECT_STREQ("no configuration attribute to set", extack);
	/* A TTL cap of 0 would mean nothing can be granted. */
	EXPECT_EQ(ERANGE, set_config(&c, &zero_ttl, 1, NULL, extack));
	EXPECT_NE(0, extack[0]);
	/* Wrong size. */
	nlraw_init(&m, c.family, DLOCK_CMD_SET_CONFIG, DLOCK_GENL_VERSION);
	nlraw_put(&m, DLOCK_A_CFG_MAX_LEASES, &small, sizeof(small));
	ASSERT_EQ(0, nlraw_talk(c.fd, &m, &rr));
	EXPECT_EQ(EINVAL, rr.error);
	EXPECT_NE(0, rr.extack[0]);
	ASSERT_EQ(0, get_config(&c, &cf));
	EXPECT_EQ(0, memcmp(&before, &cf, sizeof(cf)));

	/* A partial set changes only what it names, and replies the result. */
	ASSERT_EQ(0, set_config(&c, two, 2, &cf, extack)) TH_LOG("%s", extack);
	EXPECT_EQ(7, cf.max_leases);
	EXPECT_EQ(3, cf.max_socket_waiters);
	EXPECT_EQ(before.max_ttl_ms, cf.max_ttl_ms);
	EXPECT_EQ(before.max_waiters, cf.max_waiters);
	EXPECT_EQ(before.max_socket_leases, cf.max_socket_leases);
	ASSERT_EQ(0, get_config(&c, &cf));
	EXPECT_EQ(7, cf.max_leases);
	EXPECT_EQ(3, cf.max_socket_waiters);

	/* The initial namespace did not change. */
	ASSERT_EQ(0, get_config(&init_ns, &cf));
	EXPECT_EQ(0, memcmp(&other, &cf, sizeof(cf)));
	client_close(&c);
	client_close(&init_ns);
}

/* Acquires @name from @c; returns the positive errno (0: granted or queued). */
static int lock_it(struct client *c, const char *name, uint64_t tag,
		   uint64_t cookie, struct result *r)
{
	struct acq q = { .name = name, .ttl_ms = 60000, .tag = tag,
			 .cookie = cookie };

	if (acquire(c, &q, r))
		return EIO;
	return r->error;
}

TEST(caps_per_socket_and_per_namespace)
{
	struct cfg_set lim[4] = { { DLOCK_A_CFG_MAX_LEASES, 4 },
				  { DLOCK_A_CFG_MAX_WAITERS, 3 },
				  { DLOCK_A_CFG_MAX_SOCKET_LEASES, 3 },
				  { DLOCK_A_CFG_MAX_SOCKET_WAITERS, 2 } };
	struct client a, b, w1, w2;
	struct result r;
	struct status st;
	char extack[256];

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&a));
	ASSERT_EQ(0, client_open(&b));
	ASSERT_EQ(0, client_open(&w1));
	ASSERT_EQ(0, client_open(&w2));
	ASSERT_EQ(0, set_config(&a, lim, 4, NULL, extack)) TH_LOG("%s", extack);

	/* Per socket: the fourth lease of one socket. */
	ASSERT_EQ(0, lock_it(&a, "l0", 0, 0, &r));
	ASSERT_EQ(0, lock_it(&a, "l1", 0, 0, &r));
	ASSERT_EQ(0, lock_it(&a, "l2", 0, 0, &r));
	EXPECT_EQ(EDQUOT, lock_it(&a, "l3", 0, 0, &r));
	EXPECT_STREQ("socket limit of leases reached", r.extack);
	/* A reentrant acquire is no new lease. */
	EXPECT_EQ(0, lock_it(&a, "l0", 0, 0, &r));
	EXPECT_EQ(2, r.count);

	/* Per namespace: the fifth lease of the namespace. */
	ASSERT_EQ(0, lock_it(&b, "m0", 0, 0, &r));
	EXPECT_EQ(ENOSPC, lock_it(&b, "m1", 0, 0, &r));
	EXPECT_STREQ("namespace limit of leases reached", r.extack);

	/* Waiters: two per socket, three in the namespace. */
	ASSERT_EQ(0, lock_it(&w1, "l0", 1, 1, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(0, lock_it(&w1, "l1", 2, 2, &r));
	ASSERT_TRUE(r.queued);
	EXPECT_EQ(EDQUOT, lock_it(&w1, "l2", 3, 3, &r));
	EXPECT_STREQ("socket limit of waiters reached", r.extack);
	ASSERT_EQ(0, lock_it(&w2, "l2", 1, 4, &r));
	ASSERT_TRUE(r.queued);
	EXPECT_EQ(ENOSPC, lock_it(&w2, "m0", 2, 5, &r));
	EXPECT_STREQ("namespace limit of waiters reached", r.extack);

	ASSERT_EQ(0, get_status(&a, &st));
	EXPECT_EQ(4, st.leases);
	EXPECT_EQ(3, st.waiters);

	/* Freed room is usable again. */
	client_close(&w2);
	ASSERT_EQ(0, lock_it(&b, "m0", 9, 6, &r));
	EXPECT_TRUE(r.queued);
	client_close(&a);
	client_close(&b);
	client_close(&w1);
}

TEST(config_ttl_cap)
{
	struct cfg_set ttl = { DLOCK_A_CFG_MAX_TTL_MS, 300 };
	struct client a, b;
	struct result r;
	struct note n;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&a));
	ASSERT_EQ(0, client_open(&b));
	ASSERT_EQ(0, set_config(&a, &ttl, 1, NULL, NULL));
	/* Asked for a minute, got 300 ms: the waiter is granted soon. */
	ASSERT_EQ(0, lock_it(&a, "ttl", 0, 0, &r));
	ASSERT_EQ(0, lock_it(&b, "ttl", 0, 1, &r));
	ASSERT_TRUE(r.queued);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&b, 3000, &n));
	EXPECT_EQ(0, n.error);
	client_close(&a);
	client_close(&b);
}

/* ---- permissions ------------------------------------------------------ */

static int drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
	data[CAP_NET_ADMIN / 32].permitted &= ~(1U << (CAP_NET_ADMIN % 32));
	data[CAP_NET_ADMIN / 32].inheritable &= ~(1U << (CAP_NET_ADMIN % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	/* No way back through exec either. */
	return prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ? -errno : 0;
}

TEST(break_and_config_need_net_admin)
{
	struct acq q = { .name = lname("perm-brk"), .ttl_ms = 60000, .tag = 5 };
	struct cfg_set lim = { DLOCK_A_CFG_MAX_LEASES, 12345 };
	struct client admin, user;
	struct config cf;
	struct result r;
	char extack[256];
	uint64_t token;

	/* A holder that keeps its lease whatever the unprivileged side does. */
	ASSERT_EQ(0, client_open(&admin));
	ASSERT_EQ(0, acquire(&admin, &q, &r));
	ASSERT_EQ(0, r.error);
	token = r.token;

	ASSERT_EQ(0, drop_net_admin());
	ASSERT_EQ(0, client_open(&user));
	ASSERT_EQ(0, break_lock(&user, q.name, 0, &r));
	EXPECT_EQ(EPERM, r.error);
	EXPECT_STREQ("", r.extack);
	ASSERT_EQ(0, break_lock(&user, q.name, token, &r));
	EXPECT_EQ(EPERM, r.error);
	EXPECT_EQ(EPERM, set_config(&user, &lim, 1, NULL, extack));
	/* Reading the configuration is for everyone. */
	EXPECT_EQ(0, get_config(&user, &cf));
	EXPECT_NE(12345, cf.max_leases);

	/* The admin socket opened earlier does not lend its rights either. */
	ASSERT_EQ(0, break_lock(&admin, q.name, 0, &r));
	EXPECT_EQ(EPERM, r.error);

	/* The lease is still there, untouched. */
	q.flags = DLOCK_F_TRY;
	q.tag = 6;
	ASSERT_EQ(0, acquire(&user, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
	ASSERT_EQ(0, release(&admin, q.name, 5, NULL, &r));
	EXPECT_EQ(0, r.error);
	client_close(&admin);
	client_close(&user);
}

TEST(unprivileged_can_lock)
{
	struct acq q = { .name = lname("perm-lock"), .ttl_ms = 60000, .tag = 1 };
	struct client c;
	struct result r;

	ASSERT_EQ(0, drop_net_admin());
	/* Not even root: nobody, with no capabilities at all. */
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	ASSERT_EQ(0, client_open(&c));
	ASSERT_EQ(0, acquire(&c, &q, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	EXPECT_EQ(1, r.count);
	ASSERT_EQ(0, acquire(&c, &q, &r));
	EXPECT_EQ(2, r.count);
	ASSERT_EQ(0, renew(&c, q.name, 1, NULL, 1000, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, owned_cmd(&c, DLOCK_CMD_SET_VALUE, q.name, 1, NULL, 0,
			       "v", 1, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, release(&c, q.name, 1, NULL, &r));
	EXPECT_EQ(1, r.count);
	ASSERT_EQ(0, release(&c, q.name, 1, NULL, &r));
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(0, r.count);
	ASSERT_EQ(0, break_lock(&c, q.name, 0, &r));
	EXPECT_EQ(EPERM, r.error);
	client_close(&c);
}

/*
 * CAP_NET_ADMIN in the user namespace that owns the network namespace is
 * enough: an unprivileged user configures and breaks in its own namespace,
 * and nowhere else.
 */
TEST(net_admin_of_own_userns_suffices)
{
	struct cfg_set lim = { DLOCK_A_CFG_MAX_LEASES, 77 };
	struct client init_ns, c, d;
	struct config cf;
	struct result r;
	struct note n;

	ASSERT_EQ(0, drop_net_admin());
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	ASSERT_EQ(0, client_open(&init_ns));
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		SKIP(return, "cannot make a user namespace here: %s",
		     strerror(errno));
	ASSERT_EQ(0, client_open(&c));
	ASSERT_EQ(0, client_open(&d));
	ASSERT_EQ(0, set_config(&c, &lim, 1, &cf, NULL));
	EXPECT_EQ(77, cf.max_leases);
	ASSERT_EQ(0, lock_it(&d, "mine", 4, 0, &r));
	ASSERT_EQ(0, break_lock(&c, "mine", 0, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(DLOCK_CMD_LOST, next_note(&d, 2000, &n));
	EXPECT_EQ(DLOCK_LOST_BROKEN, n.reason);

	/* The socket of the initial namespace still speaks for it: denied. */
	EXPECT_EQ(EPERM, set_config(&init_ns, &lim, 1, NULL, NULL));
	ASSERT_EQ(0, break_lock(&init_ns, "mine", 0, &r));
	EXPECT_EQ(EPERM, r.error);
	client_close(&c);
	client_close(&d);
	client_close(&init_ns);
}

/* ---- inspection ------------------------------------------------------- */

struct entry {
	int waiter;
	int mode;
	uint64_t token, tag, session, remaining, cookie;
	int has_remaining;
	uint32_t count, pid, uid;
	char comm[32];
	char owner[80];
	int value_len;
	char value[DLOCK_VALUE_MAX + 8];
};

struct lockview {
	char name[DLOCK_NAME_MAX + 1];
	int name_len;
	int mode;
	uint32_t permits;
	int nr;
	struct entry e[8];
};

static void entry_parse(struct nlattr *nest, struct entry *e)
{
	char *p = nlraw_data(nest);
	char *end = (char *)nest + nest->nla_len;

	memset(e, 0, sizeof(*e));
	e->waiter = (nest->nla_type & NLA_TYPE_MASK) == DLOCK_A_WAITER;
	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;
		int len = a->nla_len - NLA_HDRLEN;
		void *d = nlraw_data(a);

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case DLOCK_E_MODE: e->mode = *(uint8_t *)d; break;
		case DLOCK_E_TOKEN: memcpy(&e->token, d, 8); break;
		case DLOCK_E_COUNT: memcpy(&e->count, d, 4); break;
		case DLOCK_E_OWNER_TAG: memcpy(&e->tag, d, 8); break;
		case DLOCK_E_SESSION: memcpy(&e->session, d, 8); break;
		case DLOCK_E_OWNER:
			snprintf(e->owner, sizeof(e->owner), "%.*s", len,
				 (char *)d);
			break;
		case DLOCK_E_PID: memcpy(&e->pid, d, 4); break;
		case DLOCK_E_UID: memcpy(&e->uid, d, 4); break;
		case DLOCK_E_COMM:
			snprintf(e->comm, sizeof(e->comm), "%s", (char *)d);
			break;
		case DLOCK_E_REMAINING_MS:
			memcpy(&e->remaining, d, 8);
			e->has_remaining = 1;
			break;
		case DLOCK_E_VALUE:
			e->value_len = len;
			memcpy(e->value, d, len < DLOCK_VALUE_MAX + 8 ?
			       len : DLOCK_VALUE_MAX + 8);
			break;
		case DLOCK_E_COOKIE: memcpy(&e->cookie, d, 8); break;
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static void lock_parse(struct nlmsghdr *nh, struct lockview *v)
{
	char *p = (char *)NLMSG_DATA(nh) + GENL_HDRLEN;
	char *end = (char *)nh + nh->nlmsg_len;

	memset(v, 0, sizeof(*v));
	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;
		int len = a->nla_len - NLA_HDRLEN;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case DLOCK_A_NAME:
			v->name_len = len;
			memcpy(v->name, nlraw_data(a), len);
			break;
		case DLOCK_A_MODE:
			v->mode = *(uint8_t *)nlraw_data(a);
			break;
		case DLOCK_A_PERMITS:
			memcpy(&v->permits, nlraw_data(a), 4);
			break;
		case DLOCK_A_HOLDER:
		case DLOCK_A_WAITER:
			if (v->nr < 8)
				entry_parse(a, &v->e[v->nr++]);
			break;
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

/* GET of one lock: returns the positive errno, 0 with *@v filled. */
static int get_lock(struct client *c, const char *name, struct lockview *v)
{
	char buf[16384];
	struct nlraw_msg m;
	int err, n;

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	n = exchange(c->fd, &m, buf, sizeof(buf), &err, NULL);
	if (n < 0)
		return EIO;
	if (err)
		return err;
	if (n < (int)NLMSG_HDRLEN)
		return EBADMSG;
	lock_parse((struct nlmsghdr *)buf, v);
	return 0;
}

static int set_value(struct client *c, const char *name, uint64_t tag,
		     const char *owner, const void *val, int len,
		     struct result *r)
{
	return owned_cmd(c, DLOCK_CMD_SET_VALUE, name, tag, owner, 0, val, len,
			 r);
}

FIXTURE(insp) {
	struct client a, b, c;
};

FIXTURE_SETUP(insp)
{
	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	ASSERT_EQ(0, client_open(&self->c));
}

FIXTURE_TEARDOWN(insp)
{
	client_close(&self->a);
	client_close(&self->b);
	client_close(&self->c);
}

TEST_F(insp, get_one_lock)
{
	struct acq q = { .name = lname("get"), .ttl_ms = 20000, .tag = 0x1234 };
	struct result r1, r;
	struct lockview v;
	char comm[32] = "";
	struct entry *e;

	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(ENOENT, get_lock(&self->a, q.name, &v));
	ASSERT_EQ(0, acquire(&self->a, &q, &r1));
	ASSERT_EQ(0, r1.error);
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(2, r.count);

	/* Waiters: b (cookie 11), c (12), then b again with another tag (13). */
	q.ttl_ms = 60000;
	q.tag = 1;
	q.cookie = 11;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);
	q.cookie = 12;
	q.wait_ms = 30000;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	ASSERT_TRUE(r.queued);
	q.cookie = 13;
	q.tag = 2;
	q.wait_ms = 0;
	q.mode = DLOCK_MODE_SHARED;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued);

	ASSERT_EQ(0, get_lock(&self->c, q.name, &v));
	EXPECT_EQ(strlen(q.name), v.name_len);
	EXPECT_EQ(0, memcmp(q.name, v.name, v.name_len));
	EXPECT_EQ(DLOCK_MODE_EXCLUSIVE, v.mode);
	ASSERT_EQ(4, v.nr);

	e = &v.e[0];
	EXPECT_FALSE(e->waiter);
	EXPECT_EQ(DLOCK_MODE_EXCLUSIVE, e->mode);
	EXPECT_EQ(r1.token, e->token);
	EXPECT_EQ(2, e->count);
	EXPECT_EQ(0x1234, e->tag);
	EXPECT_EQ(getpid(), e->pid);
	EXPECT_EQ(getuid(), e->uid);
	EXPECT_STREQ(comm, e->comm);
	EXPECT_TRUE(e->has_remaining);
	EXPECT_LE(e->remaining, 20000);
	EXPECT_GT(e->remaining, 10000);
	EXPECT_EQ(0, e->value_len);

	/* Waiters in queue order, each with its cookie. */
	EXPECT_TRUE(v.e[1].waiter);
	EXPECT_EQ(11, v.e[1].cookie);
	EXPECT_EQ(1, v.e[1].tag);
	EXPECT_FALSE(v.e[1].has_remaining);	/* waits without limit */
	EXPECT_TRUE(v.e[2].waiter);
	EXPECT_EQ(12, v.e[2].cookie);
	EXPECT_TRUE(v.e[2].has_remaining);
	EXPECT_LE(v.e[2].remaining, 30000);
	EXPECT_GT(v.e[2].remaining, 20000);
	EXPECT_TRUE(v.e[3].waiter);
	EXPECT_EQ(13, v.e[3].cookie);
	EXPECT_EQ(DLOCK_MODE_SHARED, v.e[3].mode);
	EXPECT_EQ(v.e[1].session, v.e[3].session);
	EXPECT_NE(v.e[1].session, v.e[2].session);
	EXPECT_NE(e->session, v.e[1].session);
}

TEST_F(insp, get_no_ttl_semaphore_detached)
{
	struct acq q = { .name = lname("getsem"), .mode = DLOCK_MODE_SEMAPHORE,
			 .permits = 3, .flags = DLOCK_F_NO_TTL, .tag = 3 };
	struct result r;
	struct lockview v;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	q.flags = DLOCK_F_DETACHED;
	q.ttl_ms = 5000;
	q.owner = "job-7";
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, get_lock(&self->c, q.name, &v));
	EXPECT_EQ(DLOCK_MODE_SEMAPHORE, v.mode);
	EXPECT_EQ(3, v.permits);
	ASSERT_EQ(2, v.nr);
	EXPECT_FALSE(v.e[0].has_remaining);	/* no TTL */
	EXPECT_EQ(3, v.e[0].tag);
	EXPECT_STREQ("", v.e[0].owner);
	EXPECT_STREQ("job-7", v.e[1].owner);
	EXPECT_TRUE(v.e[1].has_remaining);
	EXPECT_LE(v.e[1].remaining, 5000);
	ASSERT_EQ(0, release(&self->a, q.name, 0, "job-7", &r));
	EXPECT_EQ(0, r.error);
}

TEST_F(insp, value_set_and_shown)
{
	struct acq q = { .name = lname("val"), .ttl_ms = 60000, .tag = 9 };
	char big[DLOCK_VALUE_MAX + 1];
	struct lockview v;
	struct result r;
	int i;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = 'a' + i % 26;
	/* No lock yet: nothing to attach to. */
	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, "x", 1, &r));
	EXPECT_NE(0, r.error);
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error);

	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, "leader=10.0.0.1", 15,
			       &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, get_lock(&self->b, q.name, &v));
	ASSERT_EQ(1, v.nr);
	EXPECT_EQ(15, v.e[0].value_len);
	EXPECT_EQ(0, memcmp("leader=10.0.0.1", v.e[0].value, 15));

	/* The largest value fits; one byte more is refused. */
	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, big, DLOCK_VALUE_MAX,
			       &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, big,
			       DLOCK_VALUE_MAX + 1, &r));
	EXPECT_EQ(ERANGE, r.error);
	EXPECT_NE(0, r.extack[0]);
	ASSERT_EQ(0, get_lock(&self->b, q.name, &v));
	EXPECT_EQ(DLOCK_VALUE_MAX, v.e[0].value_len);
	EXPECT_EQ(0, memcmp(big, v.e[0].value, DLOCK_VALUE_MAX));

	/* Not the holder: another socket, or another tag on the same one. */
	ASSERT_EQ(0, set_value(&self->b, q.name, 9, NULL, "evil", 4, &r));
	EXPECT_EQ(EPERM, r.error);
	EXPECT_NE(0, r.extack[0]);
	ASSERT_EQ(0, set_value(&self->a, q.name, 10, NULL, "evil", 4, &r));
	EXPECT_EQ(EPERM, r.error);
	ASSERT_EQ(0, get_lock(&self->b, q.name, &v));
	EXPECT_EQ(DLOCK_VALUE_MAX, v.e[0].value_len);

	/* An empty value clears it. */
	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, "", 0, &r));
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, get_lock(&self->b, q.name, &v));
	EXPECT_EQ(0, v.e[0].value_len);

	/* The value ends with its lease. */
	ASSERT_EQ(0, set_value(&self->a, q.name, 9, NULL, "old", 3, &r));
	ASSERT_EQ(0, release(&self->a, q.name, 9, NULL, &r));
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_EQ(0, get_lock(&self->c, q.name, &v));
	ASSERT_EQ(1, v.nr);
	EXPECT_EQ(0, v.e[0].value_len);
}

/* A network namespace of the test's own, with three clients in it. */
FIXTURE(ns) {
	struct client a, b, c;
};

FIXTURE_SETUP(ns)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	ASSERT_EQ(0, client_open(&self->c));
}

FIXTURE_TEARDOWN(ns)
{
	if (self->a.fd >= 0)
		client_close(&self->a);
	if (self->b.fd >= 0)
		client_close(&self->b);
	if (self->c.fd >= 0)
		client_close(&self->c);
}

/* ---- dump ------------------------------------------------------------- */

#define NDUMP 2000

struct dump_result {
	int msgs;		/* lock messages */
	int recvs;		/* recv() calls that returned data */
	int intr;		/* messages flagged NLM_F_DUMP_INTR */
	int done;		/* NLMSG_DONE seen */
	int error;		/* positive errno of an NLMSG_ERROR */
	int bad;		/* messages not parsed as this dump's */
	unsigned char seen[NDUMP];	/* times each of our names came */
	int others;		/* locks of other names */
	int truncated;		/* locks flagged DLOCK_A_TRUNCATED */
	int huge_holders;	/* holders of the lock named "huge" */
};

static int count_holders(struct nlmsghdr *nh)
{
	char *p = (char *)NLMSG_DATA(nh) + GENL_HDRLEN;
	char *end = (char *)nh + nh->nlmsg_len;
	int n = 0;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		n += (a->nla_type & NLA_TYPE_MASK) == DLOCK_A_HOLDER;
		p += NLA_ALIGN(a->nla_len);
	}
	return n;
}

/*
 * Dumps the table (optionally by @prefix) and tallies names "@base-NNNN".
 * @between, if set, runs after the first recv() that returned data.
 */
static int dump_locks(struct client *c, const char *prefix, const char *base,
		      struct dump_result *d, void (*between)(void *), void *arg)
{
	static uint32_t seq = 1 << 28;
	size_t blen = strlen(base);
	struct nlraw_msg m;
	char rx[32768];

	memset(d, 0, sizeof(*d));
	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	m.nh.nlmsg_seq = ++seq;
	if (prefix)
		nlraw_put(&m, DLOCK_A_PREFIX, prefix, strlen(prefix));
	if (send(c->fd, &m, m.nh.nlmsg_len, 0) < 0)
		return -errno;
	while (!d->done && !d->error) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
		n = recv(c->fd, rx, sizeof(rx), 0);
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)rx; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct lockview v;
			int i;

			if (nh->nlmsg_seq != m.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				d->intr++;
			if (nh->nlmsg_type == NLMSG_DONE) {
				int derr = 0;

				/* A dump that failed midway ends with its errno. */
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(derr)))
					memcpy(&derr, NLMSG_DATA(nh), sizeof(derr));
				d->error = -derr;
				d->done = 1;
				continue;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				d->error = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				continue;
			}
			if (!(nh->nlmsg_flags & NLM_F_MULTI) ||
			    nh->nlmsg_type != c->family) {
				d->bad++;
				continue;
			}
			d->msgs++;
			lock_parse(nh, &v);
			if (nlraw_attr((struct nlraw_msg *)nh, nh->nlmsg_len,
				       DLOCK_A_TRUNCATED))
				d->truncated++;
			if (v.name_len == 4 && !memcmp(v.name, "huge", 4))
				d->huge_holders = count_holders(nh);
			if (v.name_len == (int)blen + 5 &&
			    !memcmp(v.name, base, blen) && v.name[blen] == '-') {
				i = atoi(v.name + blen + 1);
				if (i >= 0 && i < NDUMP && v.nr == 1)
					d->seen[i]++;
				else
					d->bad++;
			} else {
				d->others++;
			}
		}
		if (++d->recvs == 1 && between)
			between(arg);
	}
	return 0;
}

static void change_table(void *arg)
{
	struct client *c = arg;
	struct acq q = { .name = lname("dump-change"), .ttl_ms = 60000 };
	struct result r;

	acquire(c, &q, &r);
	release(c, q.name, 0, NULL, &r);
}

/* In a namespace of its own: nothing else changes the table meanwhile. */
TEST_F_TIMEOUT(ns, dump_all_prefix_and_intr, 120)
{
	const char *base = lname("dump");
	struct dump_result *d = calloc(1, sizeof(*d));
	int i, once = 0, never = 0, prefixed = 0;
	char name[128];
	struct acq q = { .name = name, .flags = DLOCK_F_NO_TTL };
	struct result r;

	ASSERT_NE(NULL, d);
	for (i = 0; i < NDUMP; i++) {
		snprintf(name, sizeof(name), "%s-%04d", base, i);
		ASSERT_EQ(0, acquire(&self->a, &q, &r));
		ASSERT_EQ(0, r.error) TH_LOG("%s: %s", name, r.extack);
	}

	/* Everything, each exactly once, in several messages. */
	ASSERT_EQ(0, dump_locks(&self->b, NULL, base, d, NULL, NULL));
	EXPECT_EQ(0, d->error);
	EXPECT_TRUE(d->done);
	EXPECT_EQ(0, d->bad);
	EXPECT_EQ(0, d->intr);
	for (i = 0; i < NDUMP; i++) {
		once += d->seen[i] == 1;
		never += d->seen[i] == 0;
	}
	EXPECT_EQ(NDUMP, once) TH_LOG("%d never seen", never);
	EXPECT_LT(2, d->recvs) TH_LOG("a dump of %d locks in %d recvs", NDUMP,
				     d->recvs);

	/* Prefix "...-1": names 1000..1999 and no other. */
	snprintf(name, sizeof(name), "%s-1", base);
	ASSERT_EQ(0, dump_locks(&self->b, name, base, d, NULL, NULL));
	EXPECT_EQ(0, d->error);
	EXPECT_EQ(0, d->others);
	for (i = 0; i < NDUMP; i++)
		prefixed += d->seen[i] == (i >= 1000);
	EXPECT_EQ(NDUMP, prefixed);
	EXPECT_EQ(1000, d->msgs);

	/* A prefix nothing matches: just NLMSG_DONE. */
	snprintf(name, sizeof(name), "%s-x", base);
	ASSERT_EQ(0, dump_locks(&self->b, name, base, d, NULL, NULL));
	EXPECT_TRUE(d->done);
	EXPECT_EQ(0, d->msgs);

	/* The table changes between two recv() calls: the dump says so. */
	ASSERT_EQ(0, dump_locks(&self->b, NULL, base, d, change_table,
				&self->c));
	EXPECT_EQ(0, d->error);
	EXPECT_TRUE(d->done);
	EXPECT_LT(0, d->intr);
	/* Locks present throughout are still there exactly once. */
	once = 0;
	for (i = 0; i < NDUMP; i++)
		once += d->seen[i] == 1;
	EXPECT_EQ(NDUMP, once);

	/* Closing the socket frees all 2000. */
	client_close(&self->a);
	snprintf(name, sizeof(name), "%s-", base);
	ASSERT_EQ(0, dump_locks(&self->b, name, base, d, NULL, NULL));
	EXPECT_EQ(0, d->msgs);
	free(d);
}

/* Holders in a GET of @name, -1 on error or if the reply says it is cut. */
static int get_holders(struct client *c, const char *name)
{
	static char buf[1 << 17];
	struct nlraw_msg m;
	int err, n;

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	n = exchange(c->fd, &m, buf, sizeof(buf), &err, NULL);
	if (n <= 0 || err)
		return -1;
	if (nlraw_attr((struct nlraw_msg *)buf, n, DLOCK_A_TRUNCATED))
		return -1;
	return count_holders((struct nlmsghdr *)buf);
}

/*
 * One lock with more holders than a dump message can carry must not break
 * the dump of the whole table: it comes cut short, flagged, and GET shows
 * all of it.
 */
TEST_F_TIMEOUT(ns, dump_with_a_huge_lock, 120)
{
	struct acq q = { .name = "huge", .mode = DLOCK_MODE_SHARED,
			 .ttl_ms = 60000 };
	struct dump_result *d = calloc(1, sizeof(*d));
	char name[32];
	struct result r;
	int i;

	ASSERT_NE(NULL, d);
	for (i = 0; i < 400; i++) {
		q.tag = i + 1;
		ASSERT_EQ(0, acquire(&self->a, &q, &r));
		ASSERT_EQ(0, r.error) TH_LOG("holder %d: %s", i, r.extack);
	}
	q.mode = DLOCK_MODE_EXCLUSIVE;
	q.name = name;
	q.tag = 0;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "small-%04d", i);
		ASSERT_EQ(0, acquire(&self->a, &q, &r));
		ASSERT_EQ(0, r.error);
	}
	ASSERT_EQ(0, dump_locks(&self->b, NULL, "small", d, NULL, NULL));
	EXPECT_EQ(0, d->error);
	EXPECT_TRUE(d->done);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(1, d->seen[i]);
	EXPECT_EQ(1, d->others);	/* "huge", once */
	EXPECT_EQ(1, d->truncated);
	EXPECT_LT(10, d->huge_holders);
	EXPECT_GT(400, d->huge_holders);

	/* A GET of the lock has room for every holder, and is not cut. */
	EXPECT_EQ(400, get_holders(&self->b, "huge"));
	free(d);
}

/* ---- watch events ----------------------------------------------------- */


struct event {
	int type, mode;
	char name[256];
	uint64_t token, session, tag;
	int has_tag;
	char owner[80];
};

/* The next event on @c about @name within @ms; 0 or -ETIMEDOUT. */
static int next_event(struct client *c, const char *name, int ms,
		      struct event *ev)
{
	struct nlraw_msg m;
	struct nlattr *a;
	int len;

	for (;;) {
		int cmd = nlraw_note(c->fd, ms, &m, &len);

		if (cmd < 0)
			return cmd;
		if (cmd != DLOCK_CMD_EVENT)
			continue;
		memset(ev, 0, sizeof(*ev));
		a = nlraw_attr(&m, len, DLOCK_A_NAME);
		if (!a)
			continue;
		memcpy(ev->name, nlraw_data(a), a->nla_len - NLA_HDRLEN);
		if (strcmp(ev->name, name))
			continue;
		ev->type = nlraw_u8(&m, len, DLOCK_A_EVENT);
		ev->mode = nlraw_u8(&m, len, DLOCK_A_MODE);
		ev->token = nlraw_u64(&m, len, DLOCK_A_TOKEN);
		ev->session = nlraw_u64(&m, len, DLOCK_A_SESSION);
		ev->has_tag = nlraw_attr(&m, len, DLOCK_A_OWNER_TAG) != NULL;
		ev->tag = nlraw_u64(&m, len, DLOCK_A_OWNER_TAG);
		a = nlraw_attr(&m, len, DLOCK_A_OWNER);
		if (a)
			snprintf(ev->owner, sizeof(ev->owner), "%.*s",
				 a->nla_len - NLA_HDRLEN,
				 (char *)nlraw_data(a));
		return 0;
	}
}

FIXTURE(watch) {
	struct client w, a, b;
};

FIXTURE_SETUP(watch)
{
	int grp;

	ASSERT_EQ(0, client_open(&self->w));
	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	grp = nlraw_mcast_group(self->w.fd, DLOCK_GENL_NAME,
			  DLOCK_MCGRP_EVENTS_ADMIN);
	ASSERT_LT(0, grp);
	ASSERT_EQ(0, setsockopt(self->w.fd, SOL_NETLINK,
				NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)));
}

FIXTURE_TEARDOWN(watch)
{
	client_close(&self->w);
	client_close(&self->a);
	client_close(&self->b);
}

TEST_F(watch, granted_released_owner_died)
{
	struct acq q = { .name = lname("ev1"), .ttl_ms = 60000, .tag = 21,
			 .mode = DLOCK_MODE_SHARED };
	struct result ra, rb, r;
	struct event ev;
	struct note n;

	ASSERT_EQ(0, acquire(&self->a, &q, &ra));
	ASSERT_EQ(0, ra.error);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_GRANTED, ev.type);
	EXPECT_EQ(DLOCK_MODE_SHARED, ev.mode);
	EXPECT_EQ(ra.token, ev.token);
	EXPECT_TRUE(ev.has_tag);
	EXPECT_EQ(21, ev.tag);
	EXPECT_NE(0, ev.session);

	/* A reentrant acquire is no new grant. */
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(2, r.count);
	ASSERT_EQ(0, release(&self->a, q.name, 21, NULL, &r));
	EXPECT_EQ(-ETIMEDOUT, next_event(&self->w, q.name, 200, &ev));

	ASSERT_EQ(0, release(&self->a, q.name, 21, NULL, &r));
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_RELEASED, ev.type);
	EXPECT_EQ(ra.token, ev.token);
	EXPECT_EQ(21, ev.tag);

	/* A waiter's grant is an event too; then its holder dies. */
	q.mode = DLOCK_MODE_EXCLUSIVE;
	q.flags = DLOCK_F_NO_TTL;
	q.ttl_ms = 0;
	ASSERT_EQ(0, acquire(&self->a, &q, &ra));
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_GRANTED, ev.type);
	q.tag = 22;
	q.cookie = 5;
	ASSERT_EQ(0, acquire(&self->b, &q, &rb));
	ASSERT_TRUE(rb.queued);
	client_close(&self->a);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_OWNER_DIED, ev.type);
	EXPECT_EQ(ra.token, ev.token);
	EXPECT_EQ(DLOCK_MODE_EXCLUSIVE, ev.mode);
	EXPECT_EQ(21, ev.tag);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_GRANTED, ev.type);
	EXPECT_EQ(22, ev.tag);
	ASSERT_EQ(DLOCK_CMD_WAIT_DONE, next_note(&self->b, 2000, &n));
	EXPECT_EQ(n.token, ev.token);
	EXPECT_LT(ra.token, ev.token);
	ASSERT_EQ(0, client_open(&self->a));
}

TEST_F(watch, expired_and_broken)
{
	struct acq q = { .name = lname("ev2"), .ttl_ms = 150,
			 .flags = DLOCK_F_DETACHED, .owner = "cron-17" };
	struct result r;
	struct event ev;
	uint64_t token;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_GRANTED, ev.type);
	EXPECT_STREQ("cron-17", ev.owner);
	EXPECT_FALSE(ev.has_tag);
	ASSERT_EQ(0, next_event(&self->w, q.name, 3000, &ev));
	EXPECT_EQ(DLOCK_EV_EXPIRED, ev.type);
	EXPECT_EQ(r.token, ev.token);
	EXPECT_STREQ("cron-17", ev.owner);

	q.ttl_ms = 60000;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	token = r.token;
	EXPECT_LT(ev.token, token);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	ASSERT_EQ(DLOCK_EV_GRANTED, ev.type);
	ASSERT_EQ(0, break_lock(&self->b, q.name, token, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, next_event(&self->w, q.name, 2000, &ev));
	EXPECT_EQ(DLOCK_EV_BROKEN, ev.type);
	EXPECT_EQ(token, ev.token);
	EXPECT_STREQ("cron-17", ev.owner);
	EXPECT_EQ(DLOCK_MODE_EXCLUSIVE, ev.mode);
}

TEST_F(watch, events_stay_in_their_namespace)
{
	struct acq q = { .name = lname("ev3"), .ttl_ms = 60000 };
	struct client other;
	struct result r;
	struct event ev;
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) || client_open(&other) ||
		    acquire(&other, &q, &r) || r.error)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_EQ(0, st);
	EXPECT_EQ(-ETIMEDOUT, next_event(&self->w, q.name, 300, &ev));
}

/* ---- namespaces ------------------------------------------------------- */

TEST(same_name_two_namespaces)
{
	const char *name = lname("nsname");
	struct acq q = { .name = name, .ttl_ms = 60000, .tag = 1 };
	struct client here, there;
	struct lockview v;
	struct result r1, r2, r;
	int pipefd[2], st;
	pid_t pid;

	ASSERT_EQ(0, client_open(&here));
	ASSERT_EQ(0, acquire(&here, &q, &r1));
	ASSERT_EQ(0, r1.error);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A holder of the same name in another namespace, kept open. */
		if (unshare(CLONE_NEWNET) || client_open(&there) ||
		    acquire(&there, &q, &r2) || r2.error)
			_exit(1);
		if (write(pipefd[1], &r2.token, 8) != 8)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(8, read(pipefd[0], &r2.token, 8));

	/* Here it is still held by this process only. */
	ASSERT_EQ(0, get_lock(&here, name, &v));
	ASSERT_EQ(1, v.nr);
	EXPECT_EQ(r1.token, v.e[0].token);
	EXPECT_EQ(getpid(), v.e[0].pid);
	q.flags = DLOCK_F_TRY;
	q.tag = 2;
	ASSERT_EQ(0, acquire(&here, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
	ASSERT_EQ(0, release(&here, name, 1, NULL, &r));
	EXPECT_EQ(0, r.error);
	/* Free here while still held there. */
	ASSERT_EQ(0, acquire(&here, &q, &r));
	EXPECT_EQ(0, r.error);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	client_close(&here);
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
	const int procs = 3, threads = 3, iters = 150;
	struct acq q = { .name = "held", .flags = DLOCK_F_NO_TTL };
	struct client holder = self->a;
	struct status st;
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
	struct status st;

	/* Detached leases the fuzzer takes end soon. */
	ASSERT_EQ(0, set_config(&admin, &ttl, 1, NULL, NULL));
	family = admin.family;
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, fds[i] = nlraw_open());
	for (i = 0; i < 6000; i++) {
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
				.portid = 0x7ead0000 + getpid(), .rounds = 1000 };
	struct acq q = { .name = "old", .flags = DLOCK_F_NO_TTL };
	struct status st;
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
	const int procs = 4, iters = 3000;
	int p, status, bad = 0;
	struct status st;

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
