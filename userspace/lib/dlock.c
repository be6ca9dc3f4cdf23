// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock: generic netlink client of the dlock module, on libnl-genl-3.
 *
 * One handle is one netlink socket.  Replies to our requests carry their
 * sequence number; messages the kernel sends on its own (a queued acquire's
 * outcome, a lost lease, lock events) carry sequence 0 and may arrive at any
 * time, also while a request waits for its reply, so every receive path
 * feeds them to the same dispatcher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "internal.h"

/* State of one request while its replies come in. */
struct dlock_req {
	struct dlock *d;
	uint32_t seq;
	int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh, void *arg);
	void *arg;
	int parse_err;
	int replies;
	bool done;
	bool dump;		/* ends with NLMSG_DONE, not with its reply */
	bool dump_intr;
};

static __thread struct dlock_req *dlock_cur;

const char *dlock_version(void)
{
	return DLOCK_LIB_VERSION;
}

const char *dlock_strerror(const struct dlock *d, int err)
{
	if (d && err < 0 && d->err == -err && d->errmsg[0])
		return d->errmsg;
	if (err == -ENOENT && !d)
		return "the dlock kernel module is not loaded (no generic netlink family \"dlock\")";
	return strerror(err < 0 ? -err : err);
}

int dlock_fd(const struct dlock *d)
{
	return nl_socket_get_fd(d->sk);
}

/* ---- notifications ---------------------------------------------------- */

struct dlock_wait **dlock_wait_find(struct dlock *d, uint64_t cookie)
{
	struct dlock_wait **pw;

	for (pw = &d->waits; *pw; pw = &(*pw)->next)
		if ((*pw)->cookie == cookie)
			return pw;
	return NULL;
}

void dlock_wait_forget(struct dlock *d, struct dlock_wait *w)
{
	struct dlock_wait **pw = dlock_wait_find(d, w->cookie);

	if (pw)
		*pw = w->next;
	if (!w->on_stack)
		free(w);
}

/* Hands a settled async wait to its callback and forgets it. */
void dlock_wait_settle(struct dlock *d, struct dlock_wait *w)
{
	struct dlock_wait **pw = dlock_wait_find(d, w->cookie);

	if (pw)
		*pw = w->next;
	if (!w->err)
		w->err = dlock_wait_keep(d, w);
	d->ncallbacks++;
	w->cb(d, w->name, w->err, w->err ? NULL : &w->lease, w->arg);
	free(w);
}

static void dlock_on_wait_done(struct dlock *d, struct nlattr **tb)
{
	struct dlock_wait **pw, *w;

	if (!tb[DLOCK_A_COOKIE] || !tb[DLOCK_A_ERROR])
		return;
	pw = dlock_wait_find(d, nla_get_u64(tb[DLOCK_A_COOKIE]));
	if (!pw)
		return;
	w = *pw;
	w->done = true;
	w->err = -(int)nla_get_u32(tb[DLOCK_A_ERROR]);
	if (w->err == -ESHUTDOWN) {
		/* Said for dlock_strerror() until the next request. */
		d->err = ESHUTDOWN;
		snprintf(d->errmsg, sizeof(d->errmsg), "%s",
			 "the wait was ended: this node left its cluster or was reconfigured");
	}
	if (!w->err && tb[DLOCK_A_TOKEN]) {
		w->lease.token = nla_get_u64(tb[DLOCK_A_TOKEN]);
		w->lease.count = 1;
	}
	if (w->cb)
		dlock_wait_settle(d, w);
	/* else a blocking acquire picks it up */
}

static void dlock_on_lost_msg(struct dlock *d, struct nlattr **tb)
{
	char name[DLOCK_NAME_MAX + 1];
	struct dlock_lost ls = { .name = name };

	if (!tb[DLOCK_A_NAME])
		return;
	snprintf(name, sizeof(name), "%.*s", nla_len(tb[DLOCK_A_NAME]),
		 (char *)nla_data(tb[DLOCK_A_NAME]));
	if (tb[DLOCK_A_OWNER_TAG])
		ls.tag = nla_get_u64(tb[DLOCK_A_OWNER_TAG]);
	/* Nothing left to renew, and no second report when renewing fails. */
	dlock_ka_lost(d, name, ls.tag);
	if (!d->lost_cb)
		return;
	if (tb[DLOCK_A_TOKEN])
		ls.token = nla_get_u64(tb[DLOCK_A_TOKEN]);
	if (tb[DLOCK_A_REASON])
		ls.reason = nla_get_u8(tb[DLOCK_A_REASON]);
	d->ncallbacks++;
	d->lost_cb(d, &ls, d->lost_arg);
}

/* Copies an owner attribute, NUL bytes and all; returns its length. */
size_t dlock_copy_owner(char buf[DLOCK_OWNER_MAX + 1], const struct nlattr *a)
{
	size_t len = nla_len(a);

	if (len > DLOCK_OWNER_MAX)
		len = DLOCK_OWNER_MAX;
	memcpy(buf, nla_data(a), len);
	buf[len] = '\0';
	return len;
}

static void dlock_on_event(struct dlock *d, struct nlattr **tb)
{
	char name[DLOCK_NAME_MAX + 1], owner[DLOCK_OWNER_MAX + 1];
	struct dlock_event ev = { .name = name };
	struct nlattr *n = tb[DLOCK_A_NAME];

	if (!d->event_cb || !n || !tb[DLOCK_A_EVENT])
		return;
	if ((size_t)nla_len(n) < d->watch_prefix_len ||
	    memcmp(nla_data(n), d->watch_prefix, d->watch_prefix_len))
		return;
	/* NUL bytes and all: the policy caps names at DLOCK_NAME_MAX. */
	ev.name_len = nla_len(n) > DLOCK_NAME_MAX ? DLOCK_NAME_MAX : nla_len(n);
	memcpy(name, nla_data(n), ev.name_len);
	name[ev.name_len] = '\0';
	ev.type = nla_get_u8(tb[DLOCK_A_EVENT]);
	if (tb[DLOCK_A_MODE])
		ev.mode = nla_get_u8(tb[DLOCK_A_MODE]);
	if (tb[DLOCK_A_TOKEN])
		ev.token = nla_get_u64(tb[DLOCK_A_TOKEN]);
	if (tb[DLOCK_A_SESSION])
		ev.session = nla_get_u64(tb[DLOCK_A_SESSION]);
	if (tb[DLOCK_A_OWNER_TAG])
		ev.tag = nla_get_u64(tb[DLOCK_A_OWNER_TAG]);
	if (tb[DLOCK_A_OWNER]) {
		ev.owner_len = dlock_copy_owner(owner, tb[DLOCK_A_OWNER]);
		ev.owner = owner;
	}
	if (tb[DLOCK_A_UID])
		ev.uid = nla_get_u32(tb[DLOCK_A_UID]);
	ev.hidden = tb[DLOCK_A_HIDDEN] != NULL;
	d->ncallbacks++;
	d->event_cb(d, &ev, d->event_arg);
}

static void dlock_notification(struct dlock *d, struct nlmsghdr *nlh)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[DLOCK_A_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, DLOCK_A_MAX, NULL) < 0)
		return;
	switch (gh->cmd) {
	case DLOCK_CMD_WAIT_DONE:
		dlock_on_wait_done(d, tb);
		break;
	case DLOCK_CMD_LOST:
		dlock_on_lost_msg(d, tb);
		break;
	case DLOCK_CMD_EVENT:
		dlock_on_event(d, tb);
		break;
	}
}

/* ---- receiving -------------------------------------------------------- */

/* Copies the kernel's extended-ack message, if any, out of an error reply. */
static void dlock_save_extack(struct dlock *d, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	size_t off = sizeof(*e);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int len;

	d->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      len, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(d->errmsg, sizeof(d->errmsg), "%s",
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

/*
 * Any local socket may send to our port id: only what the kernel sent (port
 * id 0) is a reply or a notification.
 */
static bool dlock_from_kernel(struct nl_msg *msg)
{
	return nlmsg_get_src(msg)->nl_pid == 0;
}

static int dlock_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dlock *d = arg;
	struct dlock_req *req = dlock_cur;

	if (nla->nl_pid != 0 || !req || e->msg.nlmsg_seq != req->seq)
		return NL_SKIP;
	req->done = true;
	d->err = -e->error;
	dlock_save_extack(d, e);
	return NL_SKIP;
}

static int dlock_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dlock_req *req = dlock_cur;
	struct nlattr *tb[DLOCK_A_MAX + 1];
	struct dlock *d = arg;
	int err;

	if (!dlock_from_kernel(msg))
		return NL_SKIP;
	if (nlh->nlmsg_seq == 0) {
		dlock_notification(d, nlh);
		return NL_SKIP;
	}
	if (!req || nlh->nlmsg_seq != req->seq)
		return NL_SKIP;		/* a stale reply of an abandoned request */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		req->dump_intr = true;
	if (!req->parse) {
		req->replies++;
		if (!req->dump)
			req->done = true;
		return NL_SKIP;
	}
	err = genlmsg_parse(nlh, 0, tb, DLOCK_A_MAX, NULL);
	if (err < 0) {
		req->parse_err = -EBADMSG;
		return NL_SKIP;
	}
	err = req->parse(tb, nlh, req->arg);
	if (err < 0)
		req->parse_err = err;
	req->replies++;
	/* Requests that have a reply are sent without NLM_F_ACK. */
	if (!req->dump)
		req->done = true;
	return NL_SKIP;
}

/* Replies are matched to requests by hand; notifications carry 0. */
static int dlock_seq_ok(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int dlock_end_cb(struct nl_msg *msg, void *arg)
{
	struct dlock_req *req = dlock_cur;

	(void)arg;
	if (req && dlock_from_kernel(msg) && nlmsg_hdr(msg)->nlmsg_seq == req->seq) {
		/* A dump cut short by a change flags its closing message. */
		if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR)
			req->dump_intr = true;
		req->done = true;
	}
	return NL_SKIP;
}

/* The callbacks every read of @d's socket runs its messages through. */
struct nl_cb *dlock_receive_cb(struct dlock *d)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_err(cb, NL_CB_CUSTOM, dlock_err_cb, d);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dlock_valid_cb, d);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, dlock_end_cb, d);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, dlock_end_cb, d);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, dlock_seq_ok, NULL);
	return cb;
}

/*
 * Reads one datagram, without blocking, and runs it through the callbacks.
 * Returns 1 if it read one, 0 if the socket had none, or a negative errno.
 */
int dlock_drain(struct dlock *d)
{
	int err = nl_recvmsgs(d->sk, d->cb);

	if (err >= 0)
		return 1;
	if (err == -NLE_AGAIN)
		return 0;
	/*
	 * ENOBUFS (libnl says NOMEM): our receive queue overflowed and the
	 * kernel dropped messages, perhaps the outcome of a wait.  Look the
	 * waits up again once no request is in flight.
	 */
	if (err == -NLE_NOMEM) {
		d->need_resync = true;
		d->overruns++;
		return 0;
	}
	return -EIO;
}

/* Reads until the socket is empty (or, under a flood, for a good while). */
static void dlock_drain_all(struct dlock *d)
{
	int err, rounds;

	for (rounds = 0; rounds < 100000; rounds++) {
		err = nl_recvmsgs(d->sk, d->cb);
		if (err == -NLE_NOMEM) {
			d->need_resync = true;
			d->overruns++;
		} else if (err < 0) {
			return;		/* -NLE_AGAIN: empty */
		}
	}
}

/* Is @e the entry of wait @w of this handle? */
static bool dlock_is_mine(struct dlock *d, const struct dlock_wait *w,
			  const struct dlock_entry *e)
{
	if (w->owner[0])
		return e->owner_len == strlen(w->owner) &&
		       !memcmp(e->owner, w->owner, e->owner_len);
	return (uint32_t)e->session == nl_socket_get_local_port(d->sk) &&
	       e->tag == w->tag;
}

/* Look-ups of one wait before a resync gives up until the next call. */
#define DLOCK_RESYNC_TRIES 4

/*
 * Settles wait @cookie from the lock's current state: granted if we hold the
 * lock, still waiting if our request is queued, else it ended unseen (timed
 * out, or granted and lost since).  False if the lock could not be looked
 * up: the wait stays as it is, for a later resync.
 */
static bool dlock_resync_one(struct dlock *d, uint64_t cookie)
{
	struct dlock_lock_info *li = NULL;
	struct dlock_wait **pw, *w;
	int err = 0, tries;
	bool found = false;
	size_t i;

	for (tries = 0; tries < DLOCK_RESYNC_TRIES; tries++) {
		/*
		 * The look-up dispatches what arrives meanwhile, which may
		 * settle (and free) this very wait: find it again each time.
		 */
		pw = dlock_wait_find(d, cookie);
		if (!pw || (*pw)->done)
			return true;
		err = dlock_get(d, (*pw)->name, &li);
		if (err != -ENOBUFS)
			break;
	}
	pw = dlock_wait_find(d, cookie);
	if (!pw || (*pw)->done) {
		dlock_lock_info_free(li);
		return true;
	}
	w = *pw;
	/* No such lock means no wait either; any other failure tells nothing. */
	if (err && err != -ENOENT)
		return false;
	for (i = 0; li && i < li->n_waiters && !found; i++)
		found = li->waiters[i].cookie == w->cookie &&
			dlock_is_mine(d, w, &li->waiters[i]);
	for (i = 0; li && i < li->n_holders && !found; i++) {
		if (!dlock_is_mine(d, w, &li->holders[i]))
			continue;
		found = true;
		w->done = true;
		w->err = 0;
		w->lease.token = li->holders[i].token;
		w->lease.count = li->holders[i].count;
	}
	if (!found) {
		w->done = true;
		w->err = -ETIMEDOUT;
	}
	dlock_lock_info_free(li);
	if (w->done && w->cb)
		dlock_wait_settle(d, w);
	return true;
}

/*
 * After lost messages, settles each pending wait from the locks' state.
 * Never forgets a wait it could not look up: it stays pending, and the next
 * call on the handle tries again.
 */
void dlock_resync(struct dlock *d)
{
	unsigned int pass = ++d->resync_pass;
	struct dlock_wait *w;
	bool again = false;

	d->need_resync = false;
	for (;;) {
		/* Callbacks may change the list: look each time for the next. */
		for (w = d->waits; w; w = w->next)
			if (!w->done && w->resync_pass != pass)
				break;
		if (!w)
			break;
		w->resync_pass = pass;
		if (!dlock_resync_one(d, w->cookie))
			again = true;
	}
	if (again)
		d->need_resync = true;
}

/* Waits up to @timeout_ms (-1: forever) for the socket to be readable. */
int dlock_poll(struct dlock *d, int timeout_ms)
{
	struct pollfd p = { .fd = dlock_fd(d), .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n;
}

/* Reports drops since the last report, wherever they were noticed. */
static void dlock_tell_overflow(struct dlock *d)
{
	if (d->overruns == d->told_overruns || dlock_cur)
		return;
	d->told_overruns = d->overruns;
	if (d->overflow_cb) {
		d->ncallbacks++;
		d->overflow_cb(d, d->overflow_arg);
	}
}

int dlock_dispatch(struct dlock *d)
{
	int err, n;

	dlock_lock(d);
	d->ncallbacks = 0;
	do
		err = dlock_drain(d);
	while (err > 0 && d->ncallbacks < 1024);
	dlock_resync_if_idle(d);
	dlock_tell_overflow(d);
	dlock_ka_run_due(d);
	n = d->ncallbacks;
	dlock_unlock(d);
	return err < 0 ? err : n;
}

/* ---- requests --------------------------------------------------------- */

struct nl_msg *dlock_msg(struct dlock *d, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, d->family, 0, flags,
			 cmd, DLOCK_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int dlock_raw_drain(struct dlock *d, struct dlock_req *req);

/*
 * Before a request: after a drop, empty the queue first (the kernel flags a
 * congested socket only once until its queue drains, so only then would a
 * drop of our answer be reported); returns the drop count to compare with.
 */
static unsigned int dlock_req_begin(struct dlock *d)
{
	if (d->overruns != d->drained_overruns) {
		dlock_drain_all(d);
		d->drained_overruns = d->overruns;
	}
	d->err = 0;
	d->errmsg[0] = '\0';
	return d->overruns;
}

/*
 * Reads until @req is answered, through libnl or (@raw) in place; 0 or the
 * request's -errno.  The answer is usually queued already: read before
 * polling.  The kernel answers a request before sendmsg() returns, so once
 * it dropped messages for us and nothing is left to read, the answer is
 * lost: say so rather than wait forever.
 */
static int dlock_req_wait(struct dlock *d, struct dlock_req *req,
			  unsigned int overruns, bool raw)
{
	struct dlock_req *outer = dlock_cur;
	int err = 0;

	dlock_cur = req;
	while (!req->done) {
		err = raw ? dlock_raw_drain(d, req) : dlock_drain(d);
		if (err < 0)
			break;
		if (err > 0)
			continue;
		err = dlock_poll(d, d->overruns != overruns ? 0 : -1);
		if (err == -EINTR)
			continue;
		if (err == 0)
			err = -ENOBUFS;
		if (err < 0)
			break;
	}
	dlock_cur = outer;
	if (err < 0)
		return err;
	if (d->err)
		return -d->err;
	return req->parse_err;
}

/*
 * Sends @msg (consumed) and waits for its replies and acknowledgement,
 * feeding each reply to @parse.  Notifications that arrive meanwhile are
 * dispatched.  Signals do not interrupt it: the kernel answers at once.
 * Returns the number of replies parsed or a negative errno.
 */
int dlock_transact(struct dlock *d, struct nl_msg *msg,
		   int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh,
				void *arg),
		   void *arg)
{
	struct dlock_req req = { .d = d, .parse = parse, .arg = arg };
	unsigned int overruns;
	int err;

	overruns = dlock_req_begin(d);
	err = nl_send_auto(d->sk, msg);
	req.seq = nlmsg_hdr(msg)->nlmsg_seq;
	req.dump = (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	err = dlock_req_wait(d, &req, overruns, false);
	if (err)
		return err;
	if (req.dump_intr)
		return -EAGAIN;
	return req.replies;
}

/* ---- requests without libnl's message objects ------------------------- */

void dlock_raw_init(struct dlock_raw *m, struct dlock *d, uint8_t cmd)
{
	struct genlmsghdr *g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);

	m->nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_type = (uint16_t)d->family;
	m->nlh.nlmsg_flags = NLM_F_REQUEST;
	m->nlh.nlmsg_seq = 0;
	m->nlh.nlmsg_pid = 0;
	g->cmd = cmd;
	g->version = DLOCK_GENL_VERSION;
	g->reserved = 0;
}

/* The caller sized @m for what it puts (struct dlock_raw holds any acquire). */
void dlock_raw_put(struct dlock_raw *m, uint16_t type, const void *data,
		   size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->nlh.nlmsg_len);
	size_t pad = NLA_ALIGN(len) - len;

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, pad);
	m->nlh.nlmsg_len += NLA_ALIGN(a->nla_len);
}

/*
 * One datagram through the same rules as the callbacks above (only the
 * kernel's messages count; seq 0 is a notification; a reply or error of
 * @req ends it; others are stale), without libnl's per-message copies.
 */
static void dlock_raw_datagram(struct dlock *d, struct dlock_req *req,
			       char *buf, size_t len)
{
	struct nlattr *tb[DLOCK_A_MAX + 1];
	struct nlmsghdr *nlh;
	int err;

	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
	     nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
			    nlh->nlmsg_seq != req->seq)
				continue;
			req->done = true;
			d->err = -e->error;
			if (e->error)
				dlock_save_extack(d, e);
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			if (nlh->nlmsg_seq == req->seq)
				req->done = true;
			continue;
		}
		if (nlh->nlmsg_seq == 0) {
			dlock_notification(d, nlh);
			continue;
		}
		if (nlh->nlmsg_seq != req->seq)
			continue;	/* a stale reply of an abandoned request */
		req->replies++;
		req->done = true;
		if (!req->parse)
			continue;
		if (genlmsg_parse(nlh, 0, tb, DLOCK_A_MAX, NULL) < 0) {
			req->parse_err = -EBADMSG;
			continue;
		}
		err = req->parse(tb, nlh, req->arg);
		if (err < 0)
			req->parse_err = err;
	}
}

/* dlock_drain() for dlock_transact_raw(): 1 read, 0 nothing, or -errno. */
static int dlock_raw_drain(struct dlock *d, struct dlock_req *req)
{
	/* Aligned for the headers; replies and notifications are small. */
	char buf[4096] __attribute__((aligned(8)));
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n = recvmsg(dlock_fd(d), &mh, 0);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno == ENOBUFS) {
			/* As dlock_drain(): look the waits up again later. */
			d->need_resync = true;
			d->overruns++;
			return 0;
		}
		return -EIO;
	}
	/* Any local socket may send to our port id: only the kernel counts. */
	if (from.nl_pid == 0 && !(mh.msg_flags & MSG_TRUNC))
		dlock_raw_datagram(d, req, buf, (size_t)n);
	return 1;
}

/*
 * dlock_transact() for a request that has one reply (or an error), built in
 * @m: no nl_msg is allocated, sent or received, and the reply is parsed in
 * place.  The same contract otherwise: notifications that arrive meanwhile
 * are dispatched, a drop of our answer is -ENOBUFS, and the number of
 * replies parsed (1) or a negative errno is returned.
 */
int dlock_transact_raw(struct dlock *d, struct dlock_raw *m,
		       int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh,
				    void *arg),
		       void *arg)
{
	struct dlock_req req = { .d = d, .parse = parse, .arg = arg };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	unsigned int overruns;
	ssize_t sent;
	int err = 0;

	overruns = dlock_req_begin(d);
	/* libnl's sequence numbers: one space for both kinds of request. */
	req.seq = m->nlh.nlmsg_seq = nl_socket_use_seq(d->sk);
	m->nlh.nlmsg_pid = nl_socket_get_local_port(d->sk);
	do
		sent = sendto(dlock_fd(d), m->buf, m->nlh.nlmsg_len, 0,
			      (struct sockaddr *)&kernel, sizeof(kernel));
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -EIO;
	err = dlock_req_wait(d, &req, overruns, true);
	if (err)
		return err;
	return req.replies;
}

void dlock_resync_if_idle(struct dlock *d)
{
	if (d->need_resync && !dlock_cur)
		dlock_resync(d);
}
