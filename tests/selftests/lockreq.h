/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lock requests for the selftests, on the raw netlink helpers, so a test can
 * also send what a well-behaved library never would.
 */
#ifndef DLOCK_LOCKREQ_H
#define DLOCK_LOCKREQ_H

#include <linux/dlock.h>
#include "nlraw.h"

/* A lock name of this test run, so tests never see each other's locks. */
static inline const char *lname(const char *base)
{
	static char buf[8][128];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 128, "%s-%d", base, getpid());
	return p;
}

struct client {
	int fd;
	int family;
};

struct acq {
	const char *name;
	int name_len;		/* 0: strlen(name) */
	int mode;
	uint32_t permits;
	uint32_t flags;
	uint32_t ttl_ms;
	uint32_t wait_ms;
	uint64_t tag;
	const char *owner;	/* detached owner */
	uint64_t cookie;
};

struct result {
	int error;		/* positive errno, 0: ok */
	char extack[256];
	uint64_t token;
	uint32_t count;
	int queued;
};

static inline int client_open(struct client *c)
{
	c->fd = nlraw_open();
	if (c->fd < 0)
		return c->fd;
	c->family = nlraw_family(c->fd, DLOCK_GENL_NAME);
	return c->family < 0 ? c->family : 0;
}

static inline void client_close(struct client *c)
{
	nlraw_stash_drop(c->fd);
	close(c->fd);
	c->fd = -1;
}

static inline uint64_t nlraw_u64(struct nlraw_msg *m, int len, int type)
{
	struct nlattr *a = nlraw_attr(m, len, type);
	uint64_t v = 0;

	if (a && a->nla_len == NLA_HDRLEN + 8)
		memcpy(&v, nlraw_data(a), 8);
	return v;
}

static inline uint32_t nlraw_u32(struct nlraw_msg *m, int len, int type)
{
	struct nlattr *a = nlraw_attr(m, len, type);
	uint32_t v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + 4)
		memcpy(&v, nlraw_data(a), 4);
	return v;
}

static inline uint8_t nlraw_u8(struct nlraw_msg *m, int len, int type)
{
	struct nlattr *a = nlraw_attr(m, len, type);

	return a ? *(uint8_t *)nlraw_data(a) : 0xff;
}

static inline void put_name(struct nlraw_msg *m, const char *name, int len)
{
	nlraw_put(m, DLOCK_A_NAME, name, len ? len : (int)strlen(name));
}

static inline int talk(struct client *c, struct nlraw_msg *m, struct result *res)
{
	struct nlraw_reply r;
	int err = nlraw_talk(c->fd, m, &r);

	memset(res, 0, sizeof(*res));
	if (err)
		return err;
	res->error = r.error;
	memcpy(res->extack, r.extack, sizeof(res->extack));
	if (!r.error && r.len) {
		res->token = nlraw_u64(&r.msg, r.len, DLOCK_A_TOKEN);
		res->count = nlraw_u32(&r.msg, r.len, DLOCK_A_COUNT);
		res->queued = nlraw_attr(&r.msg, r.len, DLOCK_A_QUEUED) != NULL;
	}
	return 0;
}

static inline int acquire(struct client *c, const struct acq *a,
			  struct result *res)
{
	struct nlraw_msg m;
	uint8_t mode = a->mode;

	nlraw_init(&m, c->family, DLOCK_CMD_ACQUIRE, DLOCK_GENL_VERSION);
	put_name(&m, a->name, a->name_len);
	nlraw_put(&m, DLOCK_A_MODE, &mode, 1);
	if (a->permits)
		nlraw_put(&m, DLOCK_A_PERMITS, &a->permits, 4);
	if (a->flags)
		nlraw_put(&m, DLOCK_A_FLAGS, &a->flags, 4);
	if (a->ttl_ms)
		nlraw_put(&m, DLOCK_A_TTL_MS, &a->ttl_ms, 4);
	if (a->wait_ms)
		nlraw_put(&m, DLOCK_A_WAIT_MS, &a->wait_ms, 4);
	if (a->owner)
		nlraw_put(&m, DLOCK_A_OWNER, a->owner, strlen(a->owner));
	else
		nlraw_put(&m, DLOCK_A_OWNER_TAG, &a->tag, 8);
	nlraw_put(&m, DLOCK_A_COOKIE, &a->cookie, 8);
	return talk(c, &m, res);
}

/* Release, renew or set-value by a socket-bound (@owner NULL) or detached owner. */
static inline int owned_cmd(struct client *c, int cmd, const char *name,
			    uint64_t tag, const char *owner, uint32_t ttl_ms,
			    const void *val, int val_len, struct result *res)
{
	struct nlraw_msg m;

	nlraw_init(&m, c->family, cmd, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (owner)
		nlraw_put(&m, DLOCK_A_OWNER, owner, strlen(owner));
	else
		nlraw_put(&m, DLOCK_A_OWNER_TAG, &tag, 8);
	if (ttl_ms)
		nlraw_put(&m, DLOCK_A_TTL_MS, &ttl_ms, 4);
	if (val)
		nlraw_put(&m, DLOCK_A_VALUE, val, val_len);
	return talk(c, &m, res);
}

static inline int release(struct client *c, const char *name, uint64_t tag,
			  const char *owner, struct result *res)
{
	return owned_cmd(c, DLOCK_CMD_RELEASE, name, tag, owner, 0, NULL, 0, res);
}

static inline int renew(struct client *c, const char *name, uint64_t tag,
			const char *owner, uint32_t ttl_ms, struct result *res)
{
	return owned_cmd(c, DLOCK_CMD_RENEW, name, tag, owner, ttl_ms, NULL, 0,
			 res);
}

static inline int break_lock(struct client *c, const char *name,
			     uint64_t token, struct result *res)
{
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_BREAK, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (token)
		nlraw_put(&m, DLOCK_A_TOKEN, &token, 8);
	return talk(c, &m, res);
}

static inline int cancel(struct client *c, const char *name, uint64_t cookie,
			 struct result *res)
{
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_CANCEL, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	nlraw_put(&m, DLOCK_A_COOKIE, &cookie, 8);
	return talk(c, &m, res);
}

/* A kernel notification, decoded. */
struct note {
	int cmd;		/* DLOCK_CMD_WAIT_DONE, _LOST, _EVENT; <0: none */
	char name[256];
	uint64_t cookie;
	uint64_t token;
	uint32_t error;
	int reason;
	int event;
	uint64_t tag;
};

static inline int next_note(struct client *c, int timeout_ms, struct note *n)
{
	struct nlraw_msg m;
	struct nlattr *a;
	int len = 0;

	memset(n, 0, sizeof(*n));
	n->cmd = nlraw_note(c->fd, timeout_ms, &m, &len);
	if (n->cmd < 0)
		return n->cmd;
	a = nlraw_attr(&m, len, DLOCK_A_NAME);
	if (a)
		memcpy(n->name, nlraw_data(a), a->nla_len - NLA_HDRLEN);
	n->cookie = nlraw_u64(&m, len, DLOCK_A_COOKIE);
	n->token = nlraw_u64(&m, len, DLOCK_A_TOKEN);
	n->error = nlraw_u32(&m, len, DLOCK_A_ERROR);
	n->reason = nlraw_u8(&m, len, DLOCK_A_REASON);
	n->event = nlraw_u8(&m, len, DLOCK_A_EVENT);
	n->tag = nlraw_u64(&m, len, DLOCK_A_OWNER_TAG);
	return n->cmd;
}

#endif /* DLOCK_LOCKREQ_H */
