/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Part of security_test.c (its helpers above it): the per-uid limits keep
 * one user from starving the others, their defaults follow the namespace's
 * limits, and they round-trip through the configuration.
 */
#ifndef DLOCK_SECURITY_LIMITS_H
#define DLOCK_SECURITY_LIMITS_H

/* ---- nobody can starve the rest ----------------------------------------- */

struct flood_req {
	const char *prefix;
	int ready, go;		/* pipes: child -> parent, parent -> child */
};

/*
 * Uid 1000 floods from three sockets with socket-bound and detached leases
 * until refused, reports how many it got and the last refusal, holds them
 * until told, then lets them go.
 */
static int child_flood(void *arg)
{
	struct flood_req *q = arg;
	struct client c[3];
	struct result r;
	char name[128], owner[32];
	int i, n = 0;
	char one = 1;

	for (i = 0; i < 3; i++)
		if (client_open(&c[i]))
			return 1;
	for (i = 0; i < 30; i++) {
		struct acq a = { .name = name, .ttl_ms = 60000, .tag = 1 };

		snprintf(name, sizeof(name), "%s-%d", q->prefix, i);
		if (i % 2) {
			snprintf(owner, sizeof(owner), "flood-%d", i);
			a.owner = owner;
			a.flags = DLOCK_F_DETACHED;
		}
		if (acquire(&c[i % 3], &a, &r))
			return 2;
		if (!r.error)
			n++;
		else
			note_result(&r);
	}
	sh->n = n;
	if (write(q->ready, &one, 1) != 1 || read(q->go, &one, 1) != 1)
		return 3;
	for (i = 1; i < 30; i += 2) {
		snprintf(name, sizeof(name), "%s-%d", q->prefix, i);
		snprintf(owner, sizeof(owner), "flood-%d", i);
		release(&c[0], name, 0, owner, &r);
	}
	for (i = 0; i < 3; i++)
		client_close(&c[i]);
	return 0;
}

static int child_one_lease(void *arg)
{
	struct client c;
	struct result r;
	struct acq a = { .name = arg, .ttl_ms = 60000, .tag = 1 };

	if (client_open(&c) || acquire(&c, &a, &r))
		return 1;
	note_result(&r);
	client_close(&c);
	return 0;
}

/*
 * The namespace has room for 8 leases and a uid for 4: uid 1000 flooding
 * from three sockets gets 4 and -EDQUOT ("user limit"), and uid 1001 still
 * gets a lease.  Without a per-uid limit the flood takes all 8 and uid 1001
 * gets -ENOSPC.
 */
TEST(user_lease_limit_leaves_room_for_others)
{
	const uint32_t set[][2] = { { DLOCK_A_CFG_MAX_LEASES, 8 },
				    { DLOCK_A_CFG_MAX_USER_LEASES, 4 } };
	struct flood_req q = { .prefix = lname("sec-flood") };
	int ready[2], go[2], st, i;
	struct client root;
	struct result r;
	char name[160];
	struct cfg cf;
	char one = 1;
	pid_t p;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, config(&root, set, 2, &cf, &r)) TH_LOG("%s", r.extack);
	EXPECT_EQ(4, cf.user_leases);
	EXPECT_EQ(4, cf.eff_leases);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	q.ready = ready[1];
	q.go = go[0];
	p = spawn_as(UID_A, child_flood, &q);
	ASSERT_LT(0, p);
	ASSERT_EQ(1, read(ready[0], &one, 1));
	EXPECT_EQ(4, sh->n);
	EXPECT_EQ(EDQUOT, sh->error);
	EXPECT_STREQ("user limit of leases reached", sh->extack);
	memset(sh, 0, sizeof(*sh));
	EXPECT_EQ(0, as_user(UID_B, child_one_lease, (void *)lname("sec-b")));
	EXPECT_EQ(0, sh->error) TH_LOG("uid %d: %s", UID_B, sh->extack);
	/*
	 * A privileged caller is not held to the user limit, only to the
	 * namespace's (uid 1001's lease ended with its socket).
	 */
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "%s-r%d", q.prefix, i);
		EXPECT_EQ(i < 4 ? 0 : ENOSPC, take_detached(&root, name, "r", &r))
			TH_LOG("%d: %s", i, r.extack);
	}
	ASSERT_EQ(1, write(go[1], &one, 1));
	ASSERT_EQ(p, waitpid(p, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%s-r%d", q.prefix, i);
		release(&root, name, 0, "r", &r);
	}
	client_close(&root);
}

/* The default is a share of the namespace limit, worked out at each request. */
TEST(user_lease_limit_default_follows_namespace_limit)
{
	const uint32_t set[][2] = { { DLOCK_A_CFG_MAX_LEASES, 64 },
				    { DLOCK_A_CFG_MAX_USER_LEASES,
				      DLOCK_USER_LIMIT_AUTO } };
	struct flood_req q = { .prefix = lname("sec-auto") };
	int ready[2], go[2], st;
	struct client root;
	struct result r;
	struct cfg cf;
	char one = 1;
	pid_t p;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, config(&root, NULL, 0, &cf, &r)) TH_LOG("%s", r.extack);
	EXPECT_EQ(DLOCK_USER_LIMIT_AUTO, cf.user_leases);
	EXPECT_EQ(DLOCK_USER_LIMIT_AUTO, cf.user_waiters);
	EXPECT_EQ(DLOCK_USER_LIMIT_AUTO, cf.user_value_bytes);
	ASSERT_EQ(0, config(&root, set, 2, &cf, &r)) TH_LOG("%s", r.extack);
	EXPECT_EQ(4, cf.eff_leases);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	q.ready = ready[1];
	q.go = go[0];
	p = spawn_as(UID_A, child_flood, &q);
	ASSERT_LT(0, p);
	ASSERT_EQ(1, read(ready[0], &one, 1));
	EXPECT_EQ(4, sh->n);
	EXPECT_EQ(EDQUOT, sh->error);
	ASSERT_EQ(1, write(go[1], &one, 1));
	ASSERT_EQ(p, waitpid(p, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

static int child_waits(void *arg)
{
	const char *base = arg;
	struct client c;
	struct result r;
	char name[128];
	int i;

	if (client_open(&c))
		return 1;
	for (i = 0; i < 3; i++) {
		struct acq a = { .name = name, .ttl_ms = 60000, .tag = 1,
				 .wait_ms = 60000, .cookie = i + 1 };

		snprintf(name, sizeof(name), "%s-%d", base, i);
		if (acquire(&c, &a, &r))
			return 2;
		if (r.error) {
			note_result(&r);
			break;
		}
		if (!r.queued)
			return 3;
		sh->n++;
	}
	client_close(&c);
	return 0;
}

/* Limits on waiters and on value bytes per uid, each with its message. */
TEST(user_waiter_and_value_limits)
{
	const uint32_t set[][2] = { { DLOCK_A_CFG_MAX_USER_WAITERS, 2 },
				    { DLOCK_A_CFG_MAX_USER_VALUE_BYTES, 10 } };
	const char *base = lname("sec-w");
	char name[128];
	struct client root;
	struct result r;
	struct cfg cf;
	int i;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, config(&root, set, 2, &cf, &r)) TH_LOG("%s", r.extack);
	EXPECT_EQ(2, cf.user_waiters);
	EXPECT_EQ(10, cf.user_value_bytes);
	EXPECT_EQ(10, cf.eff_value_bytes);
	for (i = 0; i < 3; i++) {
		struct acq a = { .name = name, .ttl_ms = 60000, .tag = 9 };

		snprintf(name, sizeof(name), "%s-%d", base, i);
		ASSERT_EQ(0, acquire(&root, &a, &r));
		ASSERT_EQ(0, r.error);
	}
	EXPECT_EQ(0, as_user(UID_A, child_waits, (void *)base));
	EXPECT_EQ(2, sh->n);
	EXPECT_EQ(EDQUOT, sh->error);
	EXPECT_STREQ("user limit of waiters reached", sh->extack);

	ASSERT_EQ(0, op_as(UID_A, DLOCK_CMD_ACQUIRE, lname("sec-v"), "v", NULL));
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_SET_VALUE, lname("sec-v"), "v",
			   "0123456789"));
	EXPECT_EQ(EDQUOT, op_as(UID_A, DLOCK_CMD_SET_VALUE, lname("sec-v"), "v",
				"0123456789a"));
	EXPECT_STREQ("user limit of value bytes reached", sh->extack);
	/* Root may put a longer value on it: charged to uid 1000, uncapped. */
	ASSERT_EQ(0, owned_cmd(&root, DLOCK_CMD_SET_VALUE, lname("sec-v"), 0,
			       "v", 0, "0123456789abcdef", 16, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_RELEASE, lname("sec-v"), "v", NULL));
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s-%d", base, i);
		release(&root, name, 9, NULL, &r);
	}
	client_close(&root);
}

static int child_set_config(void *arg)
{
	const uint32_t set[][2] = { { DLOCK_A_CFG_MAX_USER_LEASES, 100 } };
	struct client c;
	struct result r;

	(void)arg;
	if (client_open(&c))
		return 1;
	config(&c, set, 1, NULL, &r);
	note_result(&r);
	client_close(&c);
	return 0;
}

TEST(user_limits_config_round_trip)
{
	const uint32_t set[][2] = { { DLOCK_A_CFG_MAX_USER_LEASES, 11 },
				    { DLOCK_A_CFG_MAX_USER_WAITERS, 0 },
				    { DLOCK_A_CFG_MAX_USER_VALUE_BYTES, 4096 } };
	struct client root;
	struct result r;
	struct cfg cf, back;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, config(&root, set, 3, &cf, &r)) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, config(&root, NULL, 0, &back, &r));
	EXPECT_EQ(11, back.user_leases);
	EXPECT_EQ(0, back.user_waiters);
	EXPECT_EQ(4096, back.user_value_bytes);
	EXPECT_EQ(11, back.eff_leases);
	EXPECT_EQ(0, back.eff_waiters);
	EXPECT_EQ(4096, back.eff_value_bytes);
	EXPECT_EQ(0, as_user(UID_A, child_set_config, NULL));
	EXPECT_EQ(EPERM, sh->error);
	ASSERT_EQ(0, config(&root, NULL, 0, &back, &r));
	EXPECT_EQ(11, back.user_leases);
	client_close(&root);
}

#endif /* DLOCK_SECURITY_LIMITS_H */
