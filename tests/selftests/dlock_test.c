// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest selftests of the dlock module: it is loaded, its family resolves
 * and answers, strict validation rejects malformed requests with an extack
 * message, each network namespace has its own state, and the module unloads
 * cleanly under an open client socket.  The VM harness fails the run on any
 * kernel warning, so "no splat" is checked there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dlock.h>

#include "kselftest_harness.h"
#include "nlraw.h"

struct status {
	char version[64];
	uint64_t leases, waiters, requests, cookie;
};

static uint64_t attr_u64(struct nlraw_reply *r, uint16_t type, int *missing)
{
	struct nlattr *a = nlraw_attr(&r->msg, r->len, type);
	uint64_t v;

	if (!a || a->nla_len != NLA_HDRLEN + sizeof(v)) {
		*missing = 1;
		return 0;
	}
	memcpy(&v, nlraw_data(a), sizeof(v));
	return v;
}

/* Sends GET_STATUS; returns 0, a positive errno from the kernel, or -errno. */
static int get_status(int fd, int family, struct status *st)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *a;
	int missing = 0;
	int err;

	nlraw_init(&m, family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	err = nlraw_talk(fd, &m, &r);
	if (err)
		return err;
	if (r.error)
		return r.error;
	a = nlraw_attr(&r.msg, r.len, DLOCK_A_STATUS_VERSION);
	if (!a)
		return -EBADMSG;
	snprintf(st->version, sizeof(st->version), "%s", (char *)nlraw_data(a));
	st->leases = attr_u64(&r, DLOCK_A_STATUS_LEASES, &missing);
	st->waiters = attr_u64(&r, DLOCK_A_STATUS_WAITERS, &missing);
	st->requests = attr_u64(&r, DLOCK_A_STATUS_REQUESTS, &missing);
	st->cookie = attr_u64(&r, DLOCK_A_STATUS_NETNS_COOKIE, &missing);
	return missing ? -EBADMSG : 0;
}

FIXTURE(genl) {
	int fd;
	int family;
};

FIXTURE_SETUP(genl)
{
	self->fd = nlraw_open();
	ASSERT_LE(0, self->fd);
	self->family = nlraw_family(self->fd, DLOCK_GENL_NAME);
	ASSERT_LT(0, self->family) TH_LOG("family \"dlock\" does not resolve: %s",
					  strerror(-self->family));
}

FIXTURE_TEARDOWN(genl)
{
	close(self->fd);
}

TEST(module_loaded)
{
	struct stat sb;

	ASSERT_EQ(0, stat("/sys/module/dlock", &sb))
		TH_LOG("dlock.ko is not loaded");
}

TEST_F(genl, family_has_events_group)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *grps;

	nlraw_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	nlraw_put(&m, CTRL_ATTR_FAMILY_NAME, DLOCK_GENL_NAME,
		  sizeof(DLOCK_GENL_NAME));
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	ASSERT_EQ(0, r.error);
	grps = nlraw_attr(&r.msg, r.len, CTRL_ATTR_MCAST_GROUPS);
	ASSERT_NE(NULL, grps);
	/* The group name sits in a nested attribute; a substring search of
	 * the nest is enough to tell it is advertised.
	 */
	ASSERT_NE(NULL, memmem(nlraw_data(grps), grps->nla_len - NLA_HDRLEN,
			       DLOCK_MCGRP_EVENTS, sizeof(DLOCK_MCGRP_EVENTS)));
}

TEST_F(genl, status_answers)
{
	struct status a, b;

	ASSERT_EQ(0, get_status(self->fd, self->family, &a));
	EXPECT_STREQ(DLOCK_EXPECTED_VERSION, a.version);
	EXPECT_EQ(0, a.leases);
	EXPECT_EQ(0, a.waiters);
	EXPECT_LT(0, a.requests);
	EXPECT_NE(0, a.cookie);

	/* The counter is live: each request is counted exactly once. */
	ASSERT_EQ(0, get_status(self->fd, self->family, &b));
	EXPECT_EQ(a.requests + 1, b.requests);
	EXPECT_EQ(a.cookie, b.cookie);
}

TEST_F(genl, reply_only_attribute_rejected)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	uint64_t v = 42;
	struct status before, after;

	ASSERT_EQ(0, get_status(self->fd, self->family, &before));
	nlraw_init(&m, self->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	nlraw_put(&m, DLOCK_A_STATUS_LEASES, &v, sizeof(v));
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("attribute is reply-only", r.extack);

	/* Rejected before the handler ran: nothing was counted. */
	ASSERT_EQ(0, get_status(self->fd, self->family, &after));
	EXPECT_EQ(before.requests + 1, after.requests);
}

TEST_F(genl, unknown_attribute_rejected)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	uint32_t v = 1;

	nlraw_init(&m, self->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	nlraw_put(&m, DLOCK_A_MAX + 1, &v, sizeof(v));
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_NE(0, r.extack[0]) TH_LOG("no extack message");
}

TEST_F(genl, truncated_attribute_rejected)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	uint32_t v = 1;

	/* The attribute claims more bytes than the message holds. */
	nlraw_init(&m, self->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	nlraw_put_raw(&m, DLOCK_A_STATUS_REQUESTS, &v, sizeof(v), 64);
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	EXPECT_EQ(EINVAL, r.error);
}

TEST_F(genl, nonzero_reserved_header_rejected)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	/* A new family validates the genetlink header's reserved field. */
	nlraw_init(&m, self->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	m.gh.reserved = 1;
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	EXPECT_EQ(EINVAL, r.error);
}

TEST_F(genl, unknown_command_rejected)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, self->family, DLOCK_CMD_MAX + 1, DLOCK_GENL_VERSION);
	ASSERT_EQ(0, nlraw_talk(self->fd, &m, &r));
	EXPECT_EQ(EOPNOTSUPP, r.error);
}

/* Runs GET_STATUS twice in a fresh network namespace; reports through a pipe. */
static void status_in_new_netns(int wfd)
{
	struct status st[2] = {};
	int fd, family;

	if (unshare(CLONE_NEWNET))
		_exit(10);
	fd = nlraw_open();
	if (fd < 0)
		_exit(11);
	family = nlraw_family(fd, DLOCK_GENL_NAME);
	if (family < 0)
		_exit(12);
	if (get_status(fd, family, &st[0]) || get_status(fd, family, &st[1]))
		_exit(13);
	if (write(wfd, st, sizeof(st)) != sizeof(st))
		_exit(14);
	_exit(0);
}

TEST_F(genl, netns_state_is_separate)
{
	struct status mine, mine_after, theirs[2];
	int pipefd[2], wstatus;
	pid_t pid;

	ASSERT_EQ(0, get_status(self->fd, self->family, &mine));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		status_in_new_netns(pipefd[1]);
	close(pipefd[1]);
	ASSERT_EQ(sizeof(theirs), read(pipefd[0], theirs, sizeof(theirs)));
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_EQ(0, wstatus);

	/* A new namespace starts its own count and has its own identity. */
	EXPECT_EQ(1, theirs[0].requests);
	EXPECT_EQ(2, theirs[1].requests);
	EXPECT_NE(mine.cookie, theirs[0].cookie);

	/* Its requests did not touch this namespace's counter. */
	ASSERT_EQ(0, get_status(self->fd, self->family, &mine_after));
	EXPECT_EQ(mine.requests + 1, mine_after.requests);
}

static int reload_module(void)
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

/* Last: it takes the module away and brings it back. */
TEST_F(genl, unload_with_open_socket)
{
	struct status st;
	int err, family;

	if (!getenv("DLOCK_KO"))
		SKIP(return, "DLOCK_KO (path of dlock.ko to reload) is not set");

	ASSERT_EQ(0, get_status(self->fd, self->family, &st));
	ASSERT_EQ(0, syscall(SYS_delete_module, "dlock", O_NONBLOCK))
		TH_LOG("rmmod with a client socket open failed: %s",
		       strerror(errno));

	/* The old socket stays usable and gets a clean error, not a crash. */
	err = get_status(self->fd, self->family, &st);
	EXPECT_NE(0, err);
	EXPECT_EQ(-ENOENT, nlraw_family(self->fd, DLOCK_GENL_NAME));

	ASSERT_EQ(0, reload_module());
	family = nlraw_family(self->fd, DLOCK_GENL_NAME);
	ASSERT_LT(0, family);
	ASSERT_EQ(0, get_status(self->fd, family, &st));
	EXPECT_STREQ(DLOCK_EXPECTED_VERSION, st.version);
}

TEST_HARNESS_MAIN
