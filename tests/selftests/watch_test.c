// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest tests of watch events on the multicast groups (granted,
 * released, owner died, expired, broken; each namespace sees its own), and
 * of namespaces as separate nodes: the same name is two locks.
 */
#define _GNU_SOURCE
#include "lock2.h"

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

TEST_HARNESS_MAIN
