// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest tests of the per-namespace configuration and its caps, and of
 * permissions: break and configuration need CAP_NET_ADMIN in the
 * namespace's user namespace, locking does not.  Tests that change limits
 * run in a network namespace of their own (each test is a forked process).
 */
#define _GNU_SOURCE
#include "lock2.h"

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

TEST_HARNESS_MAIN
