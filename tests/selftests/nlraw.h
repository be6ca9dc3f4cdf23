/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A deliberately raw generic netlink client for the selftests.  libdlock only
 * sends well-formed requests; these helpers let a test build any message,
 * malformed ones included, and read back the errno and extack text.
 */
#ifndef DLOCK_NLRAW_H
#define DLOCK_NLRAW_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlraw_msg {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char buf[4096];
};

struct nlraw_reply {
	int error;		/* errno of a NLMSG_ERROR, 0 if acked */
	char extack[256];	/* extack text, "" if none */
	int bad_off;		/* NLMSGERR_ATTR_OFFS: bad attribute's offset, -1 if none */
	int len;		/* bytes of the last data reply in msg */
	struct nlraw_msg msg;
};

static inline int nlraw_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static inline void nlraw_init(struct nlraw_msg *m, uint16_t family,
			      uint8_t cmd, uint8_t version)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nh.nlmsg_type = family;
	m->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->gh.cmd = cmd;
	m->gh.version = version;
}

/* Appends an attribute; @nla_len may lie about the payload on purpose. */
static inline void nlraw_put_raw(struct nlraw_msg *m, uint16_t type,
				 const void *data, uint16_t len,
				 uint16_t nla_len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = nla_len;
	memcpy(a + 1, data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) +
			  NLA_ALIGN(NLA_HDRLEN + len);
}

static inline void nlraw_put(struct nlraw_msg *m, uint16_t type,
			     const void *data, uint16_t len)
{
	nlraw_put_raw(m, type, data, len, NLA_HDRLEN + len);
}

/* Finds attribute @type in the payload of a genetlink reply. */
static inline struct nlattr *nlraw_attr(const struct nlraw_msg *m, int len,
					uint16_t type)
{
	const char *p = (const char *)m + NLMSG_LENGTH(GENL_HDRLEN);
	const char *end = (const char *)m + len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return (struct nlattr *)a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static inline void *nlraw_data(struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static inline void nlraw_parse_extack(struct nlraw_reply *r,
				      const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	const char *p = (const char *)(e + 1);
	const char *end = (const char *)nh + nh->nlmsg_len;

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nh->nlmsg_flags & NLM_F_CAPPED))
		p += e->msg.nlmsg_len - NLMSG_HDRLEN;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return;
		if (a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(r->extack, sizeof(r->extack), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN),
				 p + NLA_HDRLEN);
		if (a->nla_type == NLMSGERR_ATTR_OFFS &&
		    a->nla_len == NLA_HDRLEN + 4)
			memcpy(&r->bad_off, p + NLA_HDRLEN, 4);
		p += NLA_ALIGN(a->nla_len);
	}
}

/*
 * Messages the kernel sent on its own (sequence 0: wait outcomes, lost
 * leases) that arrived while a test waited for a reply; nlraw_note() hands
 * them out first, in order.  Tests are single-threaded.
 */
#define NLRAW_STASH 64
static struct {
	int fd;
	int len;
	struct nlraw_msg msg;
} nlraw_stash[NLRAW_STASH];
static int nlraw_nstash;

static inline void nlraw_stash_put(int fd, const struct nlmsghdr *nh)
{
	if (nlraw_nstash == NLRAW_STASH || nh->nlmsg_len > sizeof(struct nlraw_msg))
		return;
	nlraw_stash[nlraw_nstash].fd = fd;
	nlraw_stash[nlraw_nstash].len = nh->nlmsg_len;
	memcpy(&nlraw_stash[nlraw_nstash].msg, nh, nh->nlmsg_len);
	nlraw_nstash++;
}

/* @fd is closed: its stashed messages must not reach the next socket on it. */
static inline void nlraw_stash_drop(int fd)
{
	int i = 0;

	while (i < nlraw_nstash) {
		if (nlraw_stash[i].fd != fd) {
			i++;
			continue;
		}
		memmove(&nlraw_stash[i], &nlraw_stash[i + 1],
			(nlraw_nstash - i - 1) * sizeof(nlraw_stash[0]));
		nlraw_nstash--;
	}
}

/*
 * Next kernel-originated message on @fd within @timeout_ms: copies it to @out
 * and returns its genetlink command, or -ETIMEDOUT.
 */
static inline int nlraw_note(int fd, int timeout_ms, struct nlraw_msg *out,
			     int *len)
{
	char buf[16384];
	int i;

	for (;;) {
		for (i = 0; i < nlraw_nstash; i++) {
			if (nlraw_stash[i].fd != fd)
				continue;
			memcpy(out, &nlraw_stash[i].msg, nlraw_stash[i].len);
			*len = nlraw_stash[i].len;
			memmove(&nlraw_stash[i], &nlraw_stash[i + 1],
				(nlraw_nstash - i - 1) * sizeof(nlraw_stash[0]));
			nlraw_nstash--;
			return out->gh.cmd;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		ssize_t n;
		struct nlmsghdr *nh;

		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_seq == 0 && nh->nlmsg_type != NLMSG_ERROR)
				nlraw_stash_put(fd, nh);
	}
}

/*
 * Sends @m and reads until the kernel's ack or error.  Returns 0 when the
 * exchange completed (r->error tells how it ended) or -errno when the socket
 * itself failed.
 */
static inline int nlraw_talk(int fd, struct nlraw_msg *m, struct nlraw_reply *r)
{
	static uint32_t seq;
	char buf[16384];

	memset(r, 0, sizeof(*r));
	r->bad_off = -1;
	m->nh.nlmsg_seq = ++seq;
	if (send(fd, m, m->nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq == 0 && nh->nlmsg_type != NLMSG_ERROR)
				nlraw_stash_put(fd, nh);
			if (nh->nlmsg_seq != m->nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				r->error = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				nlraw_parse_extack(r, nh);
				return 0;
			}
			if (nh->nlmsg_len <= sizeof(r->msg)) {
				memcpy(&r->msg, nh, nh->nlmsg_len);
				r->len = nh->nlmsg_len;
			}
		}
	}
}

/* Resolves a genetlink family id by name; returns it or -errno. */
static inline int nlraw_family(int fd, const char *name)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *a;
	int err;

	nlraw_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	nlraw_put(&m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	err = nlraw_talk(fd, &m, &r);
	if (err)
		return err;
	if (r.error)
		return -r.error;
	a = nlraw_attr(&r.msg, r.len, CTRL_ATTR_FAMILY_ID);
	return a ? *(uint16_t *)nlraw_data(a) : -EBADMSG;
}

/* The id of multicast group @grp of generic netlink family @fam, or -errno. */
static inline int nlraw_mcast_group(int fd, const char *fam, const char *grp)
{
	struct nlraw_reply rr;
	struct nlraw_msg m;
	struct nlattr *groups, *g, *a;
	char *p, *end, *q, *qend;

	nlraw_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	nlraw_put(&m, CTRL_ATTR_FAMILY_NAME, fam, strlen(fam) + 1);
	if (nlraw_talk(fd, &m, &rr))
		return -EIO;
	if (rr.error)
		return -rr.error;
	groups = nlraw_attr(&rr.msg, rr.len, CTRL_ATTR_MCAST_GROUPS);
	if (!groups)
		return -ENOENT;
	end = (char *)groups + groups->nla_len;
	for (p = nlraw_data(groups); p + NLA_HDRLEN <= end;
	     p += NLA_ALIGN(g->nla_len)) {
		int id = -1, match = 0;

		g = (struct nlattr *)p;
		if (g->nla_len < NLA_HDRLEN)
			break;
		qend = p + g->nla_len;
		for (q = nlraw_data(g); q + NLA_HDRLEN <= qend;
		     q += NLA_ALIGN(a->nla_len)) {
			a = (struct nlattr *)q;
			if (a->nla_len < NLA_HDRLEN)
				break;
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				memcpy(&id, nlraw_data(a), 4);
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				match = !strcmp(nlraw_data(a), grp);
		}
		if (match)
			return id;
	}
	return -ENOENT;
}

/* A generic netlink socket bound to port id @portid, or -errno. */
static inline int nlraw_bind_portid(uint32_t portid)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = portid };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Attribute @type inside @nest, or NULL. */
static inline struct nlattr *nest_find(struct nlattr *nest, int type)
{
	char *p = (char *)nest + NLA_HDRLEN, *end = (char *)nest + nest->nla_len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

#endif /* DLOCK_NLRAW_H */
