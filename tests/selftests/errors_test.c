// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests of what a refused request tells its sender (issue 11):
 *  - each command has its own policy, so an attribute it does not take is
 *    refused (EINVAL, "Unsupported attribute") with the attribute's offset,
 *    where one policy for every command used to let it through unread;
 *  - names and owner strings are checked by the policy's validator, which
 *    points at the attribute;
 *  - each refusal of the lock table reaches extack with the reason the table
 *    gave where it failed, so one errno's causes read differently (a cycle
 *    vs an upgrade, a held lock vs requests queued ahead, no lock vs no
 *    queued request, a socket cap vs a namespace cap).
 * The per-user refusals need other uids: security_test.c checks theirs.
 * E2BIG, EOVERFLOW and ENOTCONN cannot be met over netlink (the policy caps
 * values, 2^32 acquires, a closing socket sends nothing): the host test
 * tests/host/test_errors.c checks those reasons.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lockreq.h"

#define UNSUPPORTED "Unsupported attribute"

FIXTURE(er) {
	struct client a, b, c;
};

/* Each test in a namespace of its own: limits and locks start fresh. */
FIXTURE_SETUP(er)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&self->a));
	ASSERT_EQ(0, client_open(&self->b));
	ASSERT_EQ(0, client_open(&self->c));
}

FIXTURE_TEARDOWN(er)
{
	client_close(&self->a);
	client_close(&self->b);
	client_close(&self->c);
}

/* Sends @m; the errno it was refused with, 0 if acked. */
static int send_req(struct client *c, struct nlraw_msg *m,
		    struct nlraw_reply *r)
{
	if (nlraw_talk(c->fd, m, r))
		return EIO;
	return r->error;
}

/* The offset the next attribute appended to @m will have. */
static int next_off(const struct nlraw_msg *m)
{
	return NLMSG_ALIGN(m->nh.nlmsg_len);
}

struct foreign {
	int cmd;
	const char *what;
	int with_name;		/* the command's own DLOCK_A_NAME first */
	int attr;		/* an attribute it does not take */
	int len;		/* of a well-formed value for that attribute */
};

/* For every command, an attribute another command takes. */
static const struct foreign foreign[] = {
	{ DLOCK_CMD_GET_STATUS, "get-status", 0, DLOCK_A_NAME, 4 },
	{ DLOCK_CMD_ACQUIRE, "acquire", 1, DLOCK_A_VALUE, 4 },
	{ DLOCK_CMD_ACQUIRE, "acquire", 1, DLOCK_A_PREFIX, 4 },
	{ DLOCK_CMD_RELEASE, "release", 1, DLOCK_A_TTL_MS, 4 },
	{ DLOCK_CMD_RENEW, "renew", 1, DLOCK_A_VALUE, 4 },
	{ DLOCK_CMD_GET, "get", 1, DLOCK_A_TTL_MS, 4 },
	{ DLOCK_CMD_BREAK, "break", 1, DLOCK_A_OWNER, 4 },
	{ DLOCK_CMD_SET_VALUE, "set-value", 1, DLOCK_A_TTL_MS, 4 },
	{ DLOCK_CMD_CANCEL, "cancel", 1, DLOCK_A_TOKEN, 8 },
	{ DLOCK_CMD_GET_CONFIG, "get-config", 0, DLOCK_A_CFG_MAX_LEASES, 4 },
	{ DLOCK_CMD_SET_CONFIG, "set-config", 0, DLOCK_A_NAME, 4 },
};

TEST_F(er, attribute_a_command_does_not_take)
{
	static const char val[8] = "abcdefg";
	const char *name = lname("foreign");
	struct nlraw_reply r;
	struct nlraw_msg m;
	size_t i;
	int off;

	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		const struct foreign *f = &foreign[i];

		nlraw_init(&m, self->a.family, f->cmd, DLOCK_GENL_VERSION);
		if (f->with_name)
			put_name(&m, name, 0);
		off = next_off(&m);
		nlraw_put(&m, f->attr, val, f->len);
		EXPECT_EQ(EINVAL, send_req(&self->a, &m, &r))
			TH_LOG("%s with attribute %d", f->what, f->attr);
		EXPECT_STREQ(UNSUPPORTED, r.extack) TH_LOG("%s", f->what);
		EXPECT_EQ(off, r.bad_off) TH_LOG("%s", f->what);
	}
}

/* A dump is parsed by the GET policy too. */
TEST_F(er, dump_refuses_what_get_does_not_take)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	uint32_t ttl = 5;
	int off;

	nlraw_init(&m, self->a.family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	m.nh.nlmsg_flags |= NLM_F_DUMP;
	off = next_off(&m);
	nlraw_put(&m, DLOCK_A_TTL_MS, &ttl, 4);
	EXPECT_EQ(EINVAL, send_req(&self->a, &m, &r));
	EXPECT_STREQ(UNSUPPORTED, r.extack);
	EXPECT_EQ(off, r.bad_off);
}

/* The same acquire without the stray attribute goes through. */
TEST_F(er, acquire_with_a_value_is_not_taken_silently)
{
	struct acq q = { .name = lname("silent"), .ttl_ms = 60000, .tag = 1 };
	struct result r;
	struct nlraw_msg m;
	struct nlraw_reply rr;
	uint32_t ttl = 60000;
	uint64_t tag = 1;
	uint8_t mode = DLOCK_MODE_EXCLUSIVE;

	nlraw_init(&m, self->a.family, DLOCK_CMD_ACQUIRE, DLOCK_GENL_VERSION);
	put_name(&m, q.name, 0);
	nlraw_put(&m, DLOCK_A_MODE, &mode, 1);
	nlraw_put(&m, DLOCK_A_TTL_MS, &ttl, 4);
	nlraw_put(&m, DLOCK_A_OWNER_TAG, &tag, 8);
	nlraw_put(&m, DLOCK_A_VALUE, "v", 1);
	EXPECT_EQ(EINVAL, send_req(&self->a, &m, &rr));
	EXPECT_STREQ(UNSUPPORTED, rr.extack);

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, release(&self->a, q.name, 1, NULL, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
}

/* Names and owners: one validator in the policies, pointing at the attribute. */
TEST_F(er, names_and_owners_checked_by_the_policy)
{
	static const char nul_name[] = "a\0b";
	char long_owner[65];
	struct nlraw_reply r;
	struct nlraw_msg m;
	uint64_t tag = 1;
	int off;

	memset(long_owner, 'o', sizeof(long_owner));
	nlraw_init(&m, self->a.family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	off = next_off(&m);
	nlraw_put(&m, DLOCK_A_NAME, nul_name, 3);
	EXPECT_EQ(EINVAL, send_req(&self->a, &m, &r));
	EXPECT_STREQ("lock name contains a NUL byte", r.extack);
	EXPECT_EQ(off, r.bad_off);

	nlraw_init(&m, self->a.family, DLOCK_CMD_CANCEL, DLOCK_GENL_VERSION);
	off = next_off(&m);
	nlraw_put(&m, DLOCK_A_NAME, "", 0);
	nlraw_put(&m, DLOCK_A_COOKIE, &tag, 8);
	EXPECT_EQ(ERANGE, send_req(&self->a, &m, &r));
	EXPECT_STREQ("lock name must be 1 to 255 bytes", r.extack);
	EXPECT_EQ(off, r.bad_off);

	nlraw_init(&m, self->a.family, DLOCK_CMD_RELEASE, DLOCK_GENL_VERSION);
	put_name(&m, lname("own"), 0);
	off = next_off(&m);
	nlraw_put(&m, DLOCK_A_OWNER, nul_name, 3);
	EXPECT_EQ(EINVAL, send_req(&self->a, &m, &r));
	EXPECT_STREQ("owner string contains a NUL byte", r.extack);
	EXPECT_EQ(off, r.bad_off);

	nlraw_init(&m, self->a.family, DLOCK_CMD_RENEW, DLOCK_GENL_VERSION);
	put_name(&m, lname("own"), 0);
	off = next_off(&m);
	nlraw_put(&m, DLOCK_A_OWNER, long_owner, sizeof(long_owner));
	EXPECT_EQ(ERANGE, send_req(&self->a, &m, &r));
	EXPECT_STREQ("owner string must be 1 to 64 bytes", r.extack);
	EXPECT_EQ(off, r.bad_off);
}

/* A lock keeps its kind: each mismatch says which. */
TEST_F(er, kind_mismatch)
{
	struct acq rw = { .name = lname("rw"), .ttl_ms = 60000, .tag = 1 };
	struct acq sem = { .name = lname("sem"), .ttl_ms = 60000, .tag = 1,
			   .mode = DLOCK_MODE_SEMAPHORE, .permits = 3 };
	struct acq q;
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &rw, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, acquire(&self->a, &sem, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);

	q = sem;
	q.name = rw.name;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("the lock is a readers-writer lock, not a semaphore", r.extack);
	q = rw;
	q.name = sem.name;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("the lock is a semaphore: give its number of permits", r.extack);
	q = sem;
	q.permits = 4;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("permits differ from the semaphore's", r.extack);
}

/* EDEADLK, EAGAIN, EALREADY: each cause its own words. */
TEST_F(er, contention)
{
	struct acq x = { .name = lname("x"), .ttl_ms = 60000, .tag = 1 };
	struct acq y = { .name = lname("y"), .ttl_ms = 60000, .tag = 1 };
	struct acq sh = { .name = lname("sh"), .ttl_ms = 60000, .tag = 1,
			  .mode = DLOCK_MODE_SHARED };
	struct acq q;
	struct result r;

	ASSERT_EQ(0, acquire(&self->a, &x, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, acquire(&self->b, &y, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	q = y;
	q.cookie = 5;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_TRUE(r.queued) TH_LOG("%d %s", r.error, r.extack);

	q = x;
	q.cookie = 6;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EDEADLK, r.error);
	EXPECT_STREQ("waiting would deadlock: the lock is held by an owner waiting for one this owner holds",
		     r.extack);

	q = y;
	q.cookie = 7;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EALREADY, r.error);
	EXPECT_STREQ("owner is already waiting for this lock", r.extack);

	q = x;
	q.flags = DLOCK_F_TRY;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
	EXPECT_STREQ("lock is held", r.extack);

	/* c reads sh; a waits to write it; b may not read past a. */
	ASSERT_EQ(0, acquire(&self->c, &sh, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	q = sh;
	q.mode = DLOCK_MODE_EXCLUSIVE;
	q.cookie = 8;
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_TRUE(r.queued) TH_LOG("%d %s", r.error, r.extack);
	q = sh;
	q.flags = DLOCK_F_TRY;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EAGAIN, r.error);
	EXPECT_STREQ("requests are queued ahead of this one", r.extack);

	/* An upgrade in place is refused as such, not as a cycle. */
	q = sh;
	q.mode = DLOCK_MODE_EXCLUSIVE;
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(EDEADLK, r.error);
	EXPECT_STREQ("this owner holds the lock in another mode: release it to change mode",
		     r.extack);
}

/* ENOENT and EPERM: what is missing, or whose it is. */
TEST_F(er, missing_and_not_owned)
{
	const char *name = lname("m");
	struct acq q = { .name = name, .ttl_ms = 60000, .tag = 1 };
	struct result r;
	uint64_t token;

	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	token = r.token;
	ASSERT_EQ(0, release(&self->a, lname("none"), 1, NULL, &r));
	EXPECT_EQ(ENOENT, r.error);
	EXPECT_STREQ("no such lock", r.extack);

	ASSERT_EQ(0, release(&self->a, name, 2, NULL, &r));
	EXPECT_EQ(EPERM, r.error);
	EXPECT_STREQ("lock is not held by this owner", r.extack);
	ASSERT_EQ(0, break_lock(&self->a, name, token + 1000, &r));
	EXPECT_EQ(ENOENT, r.error);
	EXPECT_STREQ("lock has no holder with this token", r.extack);
	ASSERT_EQ(0, cancel(&self->a, name, 1, &r));
	EXPECT_EQ(ENOENT, r.error);
	EXPECT_STREQ("no request is queued on this lock", r.extack);
	q.cookie = 9;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued) TH_LOG("%d %s", r.error, r.extack);
	ASSERT_EQ(0, cancel(&self->b, name, 10, &r));
	EXPECT_EQ(ENOENT, r.error);
	EXPECT_STREQ("no such queued request", r.extack);
	ASSERT_EQ(0, cancel(&self->b, name, 9, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, release(&self->a, name, 1, NULL, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
}

static int set_limit(struct client *c, int attr, uint32_t val)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_SET_CONFIG, DLOCK_GENL_VERSION);
	nlraw_put(&m, attr, &val, 4);
	return send_req(c, &m, &r);
}

/* ENOSPC and EDQUOT: which cap, and of leases or of waiters. */
TEST_F(er, caps)
{
	struct acq q = { .ttl_ms = 60000, .tag = 1 };
	struct result r;

	q.name = lname("c1");
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.extack);
	q.cookie = 1;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	ASSERT_TRUE(r.queued) TH_LOG("%d %s", r.error, r.extack);

	ASSERT_EQ(0, set_limit(&self->a, DLOCK_A_CFG_MAX_SOCKET_LEASES, 1));
	q.name = lname("c2");
	ASSERT_EQ(0, acquire(&self->a, &q, &r));
	EXPECT_EQ(EDQUOT, r.error);
	EXPECT_STREQ("socket limit of leases reached", r.extack);
	ASSERT_EQ(0, set_limit(&self->a, DLOCK_A_CFG_MAX_SOCKET_WAITERS, 1));
	q.name = lname("c1");
	q.tag = 2;
	q.cookie = 2;
	ASSERT_EQ(0, acquire(&self->b, &q, &r));
	EXPECT_EQ(EDQUOT, r.error);
	EXPECT_STREQ("socket limit of waiters reached", r.extack);
	ASSERT_EQ(0, set_limit(&self->a, DLOCK_A_CFG_MAX_LEASES, 1));
	q.name = lname("c3");
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(ENOSPC, r.error);
	EXPECT_STREQ("namespace limit of leases reached", r.extack);
	ASSERT_EQ(0, set_limit(&self->a, DLOCK_A_CFG_MAX_WAITERS, 1));
	q.name = lname("c1");
	ASSERT_EQ(0, acquire(&self->c, &q, &r));
	EXPECT_EQ(ENOSPC, r.error);
	EXPECT_STREQ("namespace limit of waiters reached", r.extack);
}

TEST_HARNESS_MAIN
