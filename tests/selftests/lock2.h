// SPDX-License-Identifier: GPL-2.0
/*
 * What the raw in-guest tests of configuration, inspection, watch events
 * and abuse share: one exchange that collects a whole reply, the status,
 * configuration and lock views, and a network namespace of the test's own.
 * Included once by each of config_test.c, inspect_test.c, watch_test.c and
 * abuse_test.c (each one binary of the kselftest harness).
 */
#ifndef DLOCK_LOCK2_H
#define DLOCK_LOCK2_H

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
static inline int exchange(int fd, struct nlraw_msg *m, char *buf, int size,
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

static inline int get_status(struct client *c, struct status *st)
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

static inline void config_parse(struct nlraw_reply *rr, struct config *cf)
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
static inline int get_config(struct client *c, struct config *cf)
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

static inline int set_config(struct client *c, const struct cfg_set *set, int n,
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

/* Acquires @name from @c; returns the positive errno (0: granted or queued). */
static inline int lock_it(struct client *c, const char *name, uint64_t tag,
		   uint64_t cookie, struct result *r)
{
	struct acq q = { .name = name, .ttl_ms = 60000, .tag = tag,
			 .cookie = cookie };

	if (acquire(c, &q, r))
		return EIO;
	return r->error;
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

static inline void entry_parse(struct nlattr *nest, struct entry *e)
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

static inline void lock_parse(struct nlmsghdr *nh, struct lockview *v)
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
static inline int get_lock(struct client *c, const char *name, struct lockview *v)
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

static inline int set_value(struct client *c, const char *name, uint64_t tag,
		     const char *owner, const void *val, int len,
		     struct result *r)
{
	return owned_cmd(c, DLOCK_CMD_SET_VALUE, name, tag, owner, 0, val, len,
			 r);
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

static inline int count_holders(struct nlmsghdr *nh)
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
static inline int dump_locks(struct client *c, const char *prefix, const char *base,
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

#endif /* DLOCK_LOCK2_H */
