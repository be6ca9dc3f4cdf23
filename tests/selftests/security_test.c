// SPDX-License-Identifier: GPL-2.0
/*
 * Trust and containment between users of one machine (issue 8): a detached
 * lease answers to its owner string only from the uid that took it, another
 * uid sees who holds a lock but not the owner, value or process, the public
 * event group never carries another uid's owner string, and per-uid limits
 * keep one user from starving the others (security_limits.h).
 *
 * Each test runs in a network namespace of its own (a table of its own,
 * limits included); users are forked children that drop to uid 1000 or
 * 1001 with setresuid(), which also drops every capability.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lockreq.h"

#define UID_A 1000
#define UID_B 1001

/* ---- acting as another user ------------------------------------------- */

/* What a child reports back: shared memory, mapped before the fork. */
struct shared {
	int error;
	char extack[256];
	int n;
	uint32_t u32;
};

static struct shared *sh;

static void shared_map(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		abort();
	memset(sh, 0, sizeof(*sh));
}

/* Forks; the child becomes @uid (no capabilities left), runs @fn, exits. */
static pid_t spawn_as(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t p = fork();

	if (p)
		return p;
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(250);
	_exit(fn(arg));
}

/* @fn's return as @uid (0..249), or 250+ if the child could not run it. */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t p = spawn_as(uid, fn, arg);
	int st;

	if (p < 0 || waitpid(p, &st, 0) != p)
		return 252;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 251;
}

static void note_result(const struct result *r)
{
	sh->error = r->error;
	snprintf(sh->extack, sizeof(sh->extack), "%s", r->extack);
}

/* ---- requests ---------------------------------------------------------- */

struct op {
	int cmd;		/* DLOCK_CMD_RELEASE, _RENEW, _SET_VALUE, _ACQUIRE */
	const char *name;
	const char *owner;	/* detached */
	const char *value;
	int len;		/* value bytes */
};

static int do_op(struct client *c, const struct op *o, struct result *r)
{
	struct acq q = { .name = o->name, .ttl_ms = 60000, .owner = o->owner,
			 .flags = DLOCK_F_DETACHED };

	switch (o->cmd) {
	case DLOCK_CMD_ACQUIRE:
		return acquire(c, &q, r);
	case DLOCK_CMD_RENEW:
		return renew(c, o->name, 0, o->owner, 30000, r);
	case DLOCK_CMD_SET_VALUE:
		return owned_cmd(c, o->cmd, o->name, 0, o->owner, 0, o->value,
				 o->len, r);
	default:
		return release(c, o->name, 0, o->owner, r);
	}
}

/* Child: one request; reports errno and extack, exits 0 if it was sent. */
static int child_op(void *arg)
{
	struct client c;
	struct result r;

	if (client_open(&c) || do_op(&c, arg, &r))
		return 1;
	note_result(&r);
	client_close(&c);
	return 0;
}

static int op_as(uid_t uid, int cmd, const char *name, const char *owner,
		 const char *value)
{
	struct op o = { cmd, name, owner, value, value ? (int)strlen(value) : 0 };

	memset(sh, 0, sizeof(*sh));
	if (as_user(uid, child_op, &o))
		return -1;
	return sh->error;
}

static int take_detached(struct client *c, const char *name,
			 const char *owner, struct result *r)
{
	struct acq q = { .name = name, .ttl_ms = 60000, .owner = owner,
			 .flags = DLOCK_F_DETACHED };

	if (acquire(c, &q, r))
		return -1;
	return r->error;
}

/* The first holder of @name as GET shows it to @c; returns its count. */
struct seen {
	int found;
	int hidden;
	int has_owner, has_value, has_pid, has_comm, has_session;
	uint32_t uid;
	uint64_t token;
	uint32_t count;
	char owner[80];
};

static void seen_entry(struct nlattr *h, struct seen *s)
{
	struct nlattr *a;

	s->found = 1;
	s->hidden = nest_find(h, DLOCK_E_HIDDEN) != NULL;
	a = nest_find(h, DLOCK_E_OWNER);
	s->has_owner = a || nest_find(h, DLOCK_E_OWNER_TAG);
	if (a)
		snprintf(s->owner, sizeof(s->owner), "%.*s",
			 (int)(a->nla_len - NLA_HDRLEN), (char *)nlraw_data(a));
	s->has_value = nest_find(h, DLOCK_E_VALUE) != NULL;
	s->has_pid = nest_find(h, DLOCK_E_PID) != NULL;
	s->has_comm = nest_find(h, DLOCK_E_COMM) != NULL;
	s->has_session = nest_find(h, DLOCK_E_SESSION) != NULL;
	a = nest_find(h, DLOCK_E_UID);
	s->uid = a ? *(uint32_t *)nlraw_data(a) : 0xdeadbeef;
	a = nest_find(h, DLOCK_E_TOKEN);
	if (a)
		memcpy(&s->token, nlraw_data(a), 8);
	a = nest_find(h, DLOCK_E_COUNT);
	s->count = a ? *(uint32_t *)nlraw_data(a) : 0;
}

/* Walks the top-level attributes of one GET reply message. */
static void seen_msg(struct nlmsghdr *nh, const char *name, struct seen *s)
{
	char *p = (char *)NLMSG_DATA(nh) + GENL_HDRLEN;
	char *end = (char *)nh + nh->nlmsg_len;
	int ours = 0;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;
		int type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if (type == DLOCK_A_NAME)
			ours = a->nla_len - NLA_HDRLEN == strlen(name) &&
			       !memcmp(nlraw_data(a), name, strlen(name));
		if (type == DLOCK_A_HOLDER && ours && !s->found)
			seen_entry(a, s);
		p += NLA_ALIGN(a->nla_len);
	}
}

static int get_seen(struct client *c, const char *name, struct seen *s)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	memset(s, 0, sizeof(*s));
	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (nlraw_talk(c->fd, &m, &r) || r.error || !r.len)
		return -1;
	seen_msg(&r.msg.nh, name, s);
	return 0;
}

/* The same through a dump (NLM_F_DUMP), filtered by @name as prefix. */
static int dump_seen(struct client *c, const char *name, struct seen *s)
{
	static char buf[65536];
	struct nlraw_msg m;

	memset(s, 0, sizeof(*s));
	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlraw_put(&m, DLOCK_A_PREFIX, name, strlen(name));
	m.nh.nlmsg_seq = 4242;
	if (send(c->fd, &m, m.nh.nlmsg_len, 0) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -1;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != 4242)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return -1;
			seen_msg(nh, name, s);
		}
	}
}

struct seen_req {
	const char *name;
	int dump;
	struct seen s;
};

static struct seen_req *seen_shared;

static int child_seen(void *arg)
{
	struct seen_req *q = arg;
	struct client c;
	int err;

	(void)arg;
	if (client_open(&c))
		return 1;
	err = q->dump ? dump_seen(&c, q->name, &seen_shared->s) :
			get_seen(&c, q->name, &seen_shared->s);
	client_close(&c);
	return err ? 2 : 0;
}

/* ---- configuration ----------------------------------------------------- */

struct cfg {
	uint32_t max_leases, max_waiters;
	uint32_t user_leases, user_waiters, user_value_bytes;	/* as set */
	uint32_t eff_leases, eff_waiters, eff_value_bytes;	/* in force */
};

static int config(struct client *c, const uint32_t (*set)[2], int n,
		  struct cfg *out, struct result *res)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	int i;

	nlraw_init(&m, c->family, n ? DLOCK_CMD_SET_CONFIG :
				      DLOCK_CMD_GET_CONFIG, DLOCK_GENL_VERSION);
	for (i = 0; i < n; i++)
		nlraw_put(&m, set[i][0], &set[i][1], 4);
	if (nlraw_talk(c->fd, &m, &r))
		return -1;
	if (res) {
		res->error = r.error;
		memcpy(res->extack, r.extack, sizeof(res->extack));
	}
	if (r.error)
		return r.error;
	if (out) {
		out->max_leases = nlraw_u32(&r.msg, r.len, DLOCK_A_CFG_MAX_LEASES);
		out->max_waiters = nlraw_u32(&r.msg, r.len,
					     DLOCK_A_CFG_MAX_WAITERS);
		out->user_leases = nlraw_u32(&r.msg, r.len,
					     DLOCK_A_CFG_MAX_USER_LEASES);
		out->user_waiters = nlraw_u32(&r.msg, r.len,
					      DLOCK_A_CFG_MAX_USER_WAITERS);
		out->user_value_bytes = nlraw_u32(&r.msg, r.len,
						  DLOCK_A_CFG_MAX_USER_VALUE_BYTES);
		out->eff_leases = nlraw_u32(&r.msg, r.len, DLOCK_A_CFG_USER_LEASES);
		out->eff_waiters = nlraw_u32(&r.msg, r.len,
					     DLOCK_A_CFG_USER_WAITERS);
		out->eff_value_bytes = nlraw_u32(&r.msg, r.len,
						 DLOCK_A_CFG_USER_VALUE_BYTES);
	}
	return 0;
}

/* ---- who may touch a lease --------------------------------------------- */

/*
 * Root's detached lease: another uid that knows the owner string can neither
 * release, renew, set a value on nor re-acquire it; root still holds it,
 * untouched, afterwards.
 */
TEST(other_uid_cannot_touch_detached_lease)
{
	const char *name = lname("sec-own");
	static const int cmds[] = { DLOCK_CMD_RELEASE, DLOCK_CMD_RENEW,
				    DLOCK_CMD_SET_VALUE, DLOCK_CMD_ACQUIRE };
	struct client root;
	struct result r;
	struct seen s;
	size_t i;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, take_detached(&root, name, "backup-42", &r));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(EPERM, op_as(UID_A, cmds[i], name, "backup-42", "x"))
			TH_LOG("command %d", cmds[i]);
		EXPECT_STREQ("lease belongs to another user", sh->extack);
	}
	/* Another owner string is the old answer, told apart. */
	EXPECT_EQ(EPERM, op_as(UID_A, DLOCK_CMD_RELEASE, name, "nope", NULL));
	EXPECT_STREQ("lock is not held by this owner", sh->extack);
	ASSERT_EQ(0, get_seen(&root, name, &s));
	EXPECT_EQ(1, s.found);
	EXPECT_EQ(1, s.count);
	EXPECT_EQ(0, s.has_value);
	ASSERT_EQ(0, release(&root, name, 0, "backup-42", &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	client_close(&root);
}

/* The owner's own uid may, and so may a caller with CAP_NET_ADMIN. */
TEST(owner_uid_and_admin_may_touch)
{
	const char *name = lname("sec-adm");
	struct client root;
	struct result r;
	struct seen s;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, op_as(UID_A, DLOCK_CMD_ACQUIRE, name, "job", NULL))
		TH_LOG("%s", sh->extack);
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_RENEW, name, "job", NULL));
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_ACQUIRE, name, "job", NULL));
	EXPECT_EQ(EPERM, op_as(UID_B, DLOCK_CMD_RELEASE, name, "job", NULL));
	EXPECT_STREQ("lease belongs to another user", sh->extack);
	ASSERT_EQ(0, renew(&root, name, 0, "job", 30000, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, owned_cmd(&root, DLOCK_CMD_SET_VALUE, name, 0, "job", 0,
			       "by root", 7, &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, get_seen(&root, name, &s));
	EXPECT_EQ(UID_A, s.uid);
	EXPECT_EQ(2, s.count);
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_RELEASE, name, "job", NULL));
	ASSERT_EQ(0, release(&root, name, 0, "job", &r));
	EXPECT_EQ(0, r.error) TH_LOG("%s", r.extack);
	EXPECT_EQ(0, r.count);
	client_close(&root);
}

/* ---- who may see what --------------------------------------------------- */

static void look_as(uid_t uid, const char *name, int dump, struct seen *out)
{
	struct seen_req q = { .name = name, .dump = dump };

	seen_shared = mmap(NULL, sizeof(*seen_shared), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(out, 0, sizeof(*out));
	if (seen_shared == MAP_FAILED)
		return;
	if (!as_user(uid, child_seen, &q))
		*out = seen_shared->s;
	munmap(seen_shared, sizeof(*seen_shared));
}

TEST(get_and_dump_hide_other_uids_owner)
{
	const char *name = lname("sec-see");
	struct client root;
	struct result r;
	struct seen s;
	int dump;

	shared_map();
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, take_detached(&root, name, "secret-owner", &r));
	ASSERT_EQ(0, owned_cmd(&root, DLOCK_CMD_SET_VALUE, name, 0,
			       "secret-owner", 0, "secret-value", 12, &r));
	for (dump = 0; dump < 2; dump++) {
		look_as(UID_A, name, dump, &s);
		ASSERT_EQ(1, s.found) TH_LOG("dump %d", dump);
		EXPECT_EQ(1, s.hidden);
		EXPECT_EQ(0, s.has_owner);
		EXPECT_EQ(0, s.has_value);
		EXPECT_EQ(0, s.has_pid);
		EXPECT_EQ(0, s.has_comm);
		EXPECT_EQ(0, s.has_session);
		EXPECT_EQ(0, s.uid);
		EXPECT_EQ(r.token ? r.token : s.token, s.token);
		EXPECT_NE(0, s.token);
	}
	/* Root sees its own lease in full, and uid 1000's lease too. */
	ASSERT_EQ(0, get_seen(&root, name, &s));
	EXPECT_EQ(0, s.hidden);
	EXPECT_STREQ("secret-owner", s.owner);
	EXPECT_EQ(1, s.has_value);
	ASSERT_EQ(0, release(&root, name, 0, "secret-owner", &r));
	ASSERT_EQ(0, op_as(UID_A, DLOCK_CMD_ACQUIRE, name, "own", NULL));
	look_as(UID_A, name, 0, &s);
	EXPECT_EQ(0, s.hidden);
	EXPECT_STREQ("own", s.owner);
	EXPECT_EQ(1, s.has_pid);
	look_as(UID_B, name, 1, &s);
	EXPECT_EQ(1, s.hidden);
	EXPECT_EQ(UID_A, s.uid);
	ASSERT_EQ(0, get_seen(&root, name, &s));
	EXPECT_STREQ("own", s.owner);
	EXPECT_EQ(0, op_as(UID_A, DLOCK_CMD_RELEASE, name, "own", NULL));
	client_close(&root);
}


static int join(struct client *c, const char *grp)
{
	int id = nlraw_mcast_group(c->fd, DLOCK_GENL_NAME, grp);

	if (id < 0)
		return id;
	if (setsockopt(c->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &id,
		       sizeof(id)))
		return -errno;
	return 0;
}

/* What a listener heard of one event of type @type. */
struct heard {
	int got, has_owner, has_tag, has_session, hidden, has_value;
	uint32_t uid;
	char owner[80];
};

static void hear(struct client *c, const char *name, int type,
		 struct heard *h)
{
	struct nlraw_msg m;
	int len = 0, i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < 16; i++) {
		struct nlattr *a;

		if (nlraw_note(c->fd, 3000, &m, &len) != DLOCK_CMD_EVENT)
			return;
		a = nlraw_attr(&m, len, DLOCK_A_NAME);
		if (!a || a->nla_len - NLA_HDRLEN != strlen(name) ||
		    memcmp(nlraw_data(a), name, strlen(name)) ||
		    nlraw_u8(&m, len, DLOCK_A_EVENT) != type)
			continue;
		h->got = 1;
		a = nlraw_attr(&m, len, DLOCK_A_OWNER);
		h->has_owner = a != NULL;
		if (a)
			snprintf(h->owner, sizeof(h->owner), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN),
				 (char *)nlraw_data(a));
		h->has_tag = nlraw_attr(&m, len, DLOCK_A_OWNER_TAG) != NULL;
		h->has_session = nlraw_attr(&m, len, DLOCK_A_SESSION) != NULL;
		h->hidden = nlraw_attr(&m, len, DLOCK_A_HIDDEN) != NULL;
		h->has_value = nlraw_attr(&m, len, DLOCK_A_VALUE) != NULL;
		h->uid = nlraw_attr(&m, len, DLOCK_A_UID) ?
			 nlraw_u32(&m, len, DLOCK_A_UID) : 0xdeadbeef;
		return;
	}
}

struct listen_req {
	const char *name;
	int pipe_ready;		/* write end: joined */
	struct heard h;		/* the grant */
	struct heard hv;	/* the value set after it */
	int admin_join;		/* -errno of joining the admin group */
};

static struct listen_req *listen_shared;

static int child_listen(void *arg)
{
	struct listen_req *q = listen_shared;
	struct client c;
	char one = 1;

	(void)arg;
	if (client_open(&c))
		return 1;
	q->admin_join = join(&c, DLOCK_MCGRP_EVENTS_ADMIN);
	if (join(&c, DLOCK_MCGRP_EVENTS))
		return 2;
	if (write(q->pipe_ready, &one, 1) != 1)
		return 3;
	hear(&c, q->name, DLOCK_EV_GRANTED, &q->h);
	hear(&c, q->name, DLOCK_EV_VALUE, &q->hv);
	client_close(&c);
	return 0;
}

TEST(watch_hides_owner_from_unprivileged_listener)
{
	const char *name = lname("sec-watch");
	struct client root, admin;
	struct result r;
	struct heard h;
	int pfd[2], st;
	pid_t p;
	char c;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	listen_shared = mmap(NULL, sizeof(*listen_shared),
			     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			     -1, 0);
	ASSERT_NE(MAP_FAILED, listen_shared);
	ASSERT_EQ(0, pipe(pfd));
	listen_shared->name = name;
	listen_shared->pipe_ready = pfd[1];
	ASSERT_EQ(0, client_open(&root));
	ASSERT_EQ(0, client_open(&admin));
	ASSERT_EQ(0, join(&admin, DLOCK_MCGRP_EVENTS_ADMIN));
	p = spawn_as(UID_A, child_listen, NULL);
	ASSERT_LT(0, p);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(0, take_detached(&root, name, "secret-owner", &r));
	ASSERT_EQ(0, owned_cmd(&root, DLOCK_CMD_SET_VALUE, name, 0,
			       "secret-owner", 0, "secret-value", 12, &r));
	ASSERT_EQ(p, waitpid(p, &st, 0));
	ASSERT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(-EPERM, listen_shared->admin_join);
	EXPECT_EQ(1, listen_shared->h.got);
	EXPECT_EQ(0, listen_shared->h.has_owner);
	EXPECT_EQ(0, listen_shared->h.has_tag);
	EXPECT_EQ(0, listen_shared->h.has_session);
	EXPECT_EQ(1, listen_shared->h.hidden);
	EXPECT_EQ(0, listen_shared->h.uid);
	/* Setting the value is heard, and tells no more than the grant. */
	EXPECT_EQ(1, listen_shared->hv.got);
	EXPECT_EQ(0, listen_shared->hv.has_owner);
	EXPECT_EQ(0, listen_shared->hv.has_tag);
	EXPECT_EQ(0, listen_shared->hv.has_session);
	EXPECT_EQ(1, listen_shared->hv.hidden);
	EXPECT_EQ(0, listen_shared->hv.has_value);
	EXPECT_EQ(0, listen_shared->hv.uid);
	/* The administrator's group has it all, but no value either. */
	hear(&admin, name, DLOCK_EV_GRANTED, &h);
	EXPECT_EQ(1, h.got);
	EXPECT_STREQ("secret-owner", h.owner);
	EXPECT_EQ(0, h.hidden);
	EXPECT_EQ(0, h.uid);
	hear(&admin, name, DLOCK_EV_VALUE, &h);
	EXPECT_EQ(1, h.got);
	EXPECT_STREQ("secret-owner", h.owner);
	EXPECT_EQ(0, h.hidden);
	EXPECT_EQ(0, h.has_value);
	ASSERT_EQ(0, release(&root, name, 0, "secret-owner", &r));
	client_close(&admin);
	client_close(&root);
}

#include "security_limits.h"

TEST_HARNESS_MAIN
