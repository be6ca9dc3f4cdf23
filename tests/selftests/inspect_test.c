// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest tests of inspection: GET of one lock with every entry field,
 * values, and paged dumps of many locks (NLM_F_DUMP_INTR when the table
 * changes between two parts, a lock too big for one message).
 */
#define _GNU_SOURCE
#include "lock2.h"

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

TEST_HARNESS_MAIN
