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
#include <fcntl.h>
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

#include "dlock.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A queued acquire of this handle. */
struct dlock_wait {
	struct dlock_wait *next;
	uint64_t cookie;
	char name[DLOCK_NAME_MAX + 1];
	dlock_acquire_cb cb;
	void *arg;
	bool done;		/* outcome arrived (blocking waits) */
	int err;
	struct dlock_lease lease;
	/* Who waits, to find ourselves in a GET after lost messages. */
	uint64_t tag;
	char owner[DLOCK_OWNER_MAX + 1];
	unsigned int resync_pass;	/* last resync that looked it up */
};

struct dlock {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	int events_grp;		/* multicast group id, <0 if unknown */
	int admin_grp;		/* the same with owners shown, CAP_NET_ADMIN */
	int err;		/* errno the kernel answered the last request with */
	char errmsg[256];	/* its extended-ack text, "" if none */
	uint64_t next_cookie;
	struct dlock_wait *waits;
	dlock_lost_cb lost_cb;
	void *lost_arg;
	dlock_event_cb event_cb;
	void *event_arg;
	dlock_overflow_cb overflow_cb;
	void *overflow_arg;
	unsigned int told_overruns;	/* overruns overflow_cb heard of */
	char *watch_prefix;
	size_t watch_prefix_len;
	int ncallbacks;		/* run by the current dispatch */
	bool need_resync;	/* the kernel dropped messages for us */
	unsigned int resync_pass;
	unsigned int overruns;	/* times it did */
	unsigned int drained_overruns;	/* overruns when last emptied */
};

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

static struct dlock_wait **dlock_wait_find(struct dlock *d, uint64_t cookie)
{
	struct dlock_wait **pw;

	for (pw = &d->waits; *pw; pw = &(*pw)->next)
		if ((*pw)->cookie == cookie)
			return pw;
	return NULL;
}

static void dlock_wait_forget(struct dlock *d, struct dlock_wait *w)
{
	struct dlock_wait **pw = dlock_wait_find(d, w->cookie);

	if (pw)
		*pw = w->next;
	free(w);
}

/* Hands a settled async wait to its callback and forgets it. */
static void dlock_wait_settle(struct dlock *d, struct dlock_wait *w)
{
	struct dlock_wait **pw = dlock_wait_find(d, w->cookie);

	if (pw)
		*pw = w->next;
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

	if (!d->lost_cb || !tb[DLOCK_A_NAME])
		return;
	snprintf(name, sizeof(name), "%.*s", nla_len(tb[DLOCK_A_NAME]),
		 (char *)nla_data(tb[DLOCK_A_NAME]));
	if (tb[DLOCK_A_OWNER_TAG])
		ls.tag = nla_get_u64(tb[DLOCK_A_OWNER_TAG]);
	if (tb[DLOCK_A_TOKEN])
		ls.token = nla_get_u64(tb[DLOCK_A_TOKEN]);
	if (tb[DLOCK_A_REASON])
		ls.reason = nla_get_u8(tb[DLOCK_A_REASON]);
	d->ncallbacks++;
	d->lost_cb(d, &ls, d->lost_arg);
}

/* Copies an owner attribute, NUL bytes and all; returns its length. */
static size_t dlock_copy_owner(char buf[DLOCK_OWNER_MAX + 1],
			       const struct nlattr *a)
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
	if (req && dlock_from_kernel(msg) && nlmsg_hdr(msg)->nlmsg_seq == req->seq)
		req->done = true;
	return NL_SKIP;
}

/*
 * Reads one datagram, without blocking, and runs it through the callbacks.
 * Returns 1 if it read one, 0 if the socket had none, or a negative errno.
 */
static int dlock_drain(struct dlock *d)
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
static void dlock_resync(struct dlock *d)
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
static int dlock_poll(struct dlock *d, int timeout_ms)
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
	int err;

	d->ncallbacks = 0;
	do
		err = dlock_drain(d);
	while (err > 0 && d->ncallbacks < 1024);
	if (d->need_resync && !dlock_cur)
		dlock_resync(d);
	dlock_tell_overflow(d);
	return err < 0 ? err : d->ncallbacks;
}

/* ---- requests --------------------------------------------------------- */

static struct nl_msg *dlock_msg(struct dlock *d, uint8_t cmd, int flags)
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

/*
 * Sends @msg (consumed) and waits for its replies and acknowledgement,
 * feeding each reply to @parse.  Notifications that arrive meanwhile are
 * dispatched.  Signals do not interrupt it: the kernel answers at once.
 * Returns the number of replies parsed or a negative errno.
 */
static int dlock_transact(struct dlock *d, struct nl_msg *msg,
			  int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh,
				       void *arg),
			  void *arg)
{
	struct dlock_req req = { .d = d, .parse = parse, .arg = arg };
	struct dlock_req *outer = dlock_cur;
	unsigned int overruns;
	int err;

	/*
	 * After a drop, empty the queue first: the kernel flags a congested
	 * socket only once until its queue drains, so only then would a
	 * drop of our answer be reported.
	 */
	if (d->overruns != d->drained_overruns) {
		dlock_drain_all(d);
		d->drained_overruns = d->overruns;
	}
	d->err = 0;
	d->errmsg[0] = '\0';
	overruns = d->overruns;
	err = nl_send_auto(d->sk, msg);
	req.seq = nlmsg_hdr(msg)->nlmsg_seq;
	req.dump = (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	dlock_cur = &req;
	while (!req.done) {
		/* The answer is usually queued already: read before polling. */
		err = dlock_drain(d);
		if (err < 0)
			break;
		if (err > 0)
			continue;
		/*
		 * The kernel answers a request before sendmsg() returns, so
		 * once it dropped messages for us and nothing is left to
		 * read, the answer is lost: say so rather than wait forever.
		 */
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
	if (req.parse_err)
		return req.parse_err;
	if (req.dump_intr)
		return -EAGAIN;
	return req.replies;
}

int dlock_open(struct dlock **out)
{
	struct dlock *d;
	int one = 1;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sk = nl_socket_alloc();
	if (!d->sk) {
		err = -ENOMEM;
		goto err_free;
	}
	err = genl_connect(d->sk);
	if (err < 0) {
		err = -EPROTONOSUPPORT;
		goto err_sock;
	}
	/*
	 * Room for many notifications before the kernel has to drop any
	 * (each costs about a kilobyte of receive buffer); see dlock_resync().
	 */
	nl_socket_set_buffer_size(d->sk, 4 << 20, 0);
	/* Ask for the kernel's explanations of rejected requests. */
	setsockopt(nl_socket_get_fd(d->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	d->family = genl_ctrl_resolve(d->sk, DLOCK_GENL_NAME);
	if (d->family < 0) {
		err = d->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -EIO;
		goto err_sock;
	}
	d->events_grp = genl_ctrl_resolve_grp(d->sk, DLOCK_GENL_NAME,
					      DLOCK_MCGRP_EVENTS);
	d->admin_grp = genl_ctrl_resolve_grp(d->sk, DLOCK_GENL_NAME,
					     DLOCK_MCGRP_EVENTS_ADMIN);
	d->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!d->cb) {
		err = -ENOMEM;
		goto err_sock;
	}
	nl_cb_err(d->cb, NL_CB_CUSTOM, dlock_err_cb, d);
	nl_cb_set(d->cb, NL_CB_VALID, NL_CB_CUSTOM, dlock_valid_cb, d);
	nl_cb_set(d->cb, NL_CB_ACK, NL_CB_CUSTOM, dlock_end_cb, d);
	nl_cb_set(d->cb, NL_CB_FINISH, NL_CB_CUSTOM, dlock_end_cb, d);
	nl_cb_set(d->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, dlock_seq_ok, NULL);
	nl_socket_set_nonblocking(d->sk);
	/*
	 * Two syscalls a request, not six: no acknowledgement where a reply
	 * says as much (errors come anyway), and no MSG_PEEK before each read
	 * (replies and notifications are small, a 4 KiB buffer holds any;
	 * GET and list, which can be big, peek).
	 */
	nl_socket_disable_auto_ack(d->sk);
	nl_socket_disable_msg_peek(d->sk);
	nl_socket_set_msg_buf_size(d->sk, 4096);
	d->next_cookie = 1;
	*out = d;
	return 0;

err_sock:
	nl_socket_free(d->sk);
err_free:
	free(d);
	return err;
}

void dlock_close(struct dlock *d)
{
	struct dlock_wait *w;

	if (!d)
		return;
	while ((w = d->waits)) {
		d->waits = w->next;
		free(w);
	}
	free(d->watch_prefix);
	nl_cb_put(d->cb);
	nl_socket_free(d->sk);
	free(d);
}

/* A module that has counters sends all of them. */
static int dlock_parse_counters(struct nlattr **tb, struct dlock_status *st)
{
	static const struct {
		int attr;
		size_t off;
	} map[] = {
		{ DLOCK_C_GRANTS, offsetof(struct dlock_counters, grants) },
		{ DLOCK_C_RELEASES, offsetof(struct dlock_counters, releases) },
		{ DLOCK_C_OWNER_DIED, offsetof(struct dlock_counters, owner_died) },
		{ DLOCK_C_EXPIRED, offsetof(struct dlock_counters, expired) },
		{ DLOCK_C_BREAKS, offsetof(struct dlock_counters, breaks) },
		{ DLOCK_C_WAITS, offsetof(struct dlock_counters, waits) },
		{ DLOCK_C_WAIT_TIMEOUTS,
		  offsetof(struct dlock_counters, wait_timeouts) },
		{ DLOCK_C_DEADLOCKS, offsetof(struct dlock_counters, deadlocks) },
	};
	struct nlattr *ctb[DLOCK_C_MAX + 1];
	size_t i;

	if (!tb[DLOCK_A_STATUS_COUNTERS] || !tb[DLOCK_A_STATUS_LOCKS])
		return 0;
	if (nla_parse_nested(ctb, DLOCK_C_MAX, tb[DLOCK_A_STATUS_COUNTERS],
			     NULL) < 0)
		return -EBADMSG;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!ctb[map[i].attr])
			return -EBADMSG;
		*(uint64_t *)((char *)&st->counters + map[i].off) =
			nla_get_u64(ctb[map[i].attr]);
	}
	st->locks = nla_get_u64(tb[DLOCK_A_STATUS_LOCKS]);
	st->has_counters = 1;
	return 0;
}

static int dlock_parse_status(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg)
{
	struct dlock_status *st = arg;

	(void)nlh;
	if (!tb[DLOCK_A_STATUS_VERSION] || !tb[DLOCK_A_STATUS_LEASES] ||
	    !tb[DLOCK_A_STATUS_WAITERS] || !tb[DLOCK_A_STATUS_REQUESTS] ||
	    !tb[DLOCK_A_STATUS_NETNS_COOKIE])
		return -EBADMSG;
	snprintf(st->version, sizeof(st->version), "%s",
		 nla_get_string(tb[DLOCK_A_STATUS_VERSION]));
	st->leases = nla_get_u64(tb[DLOCK_A_STATUS_LEASES]);
	st->waiters = nla_get_u64(tb[DLOCK_A_STATUS_WAITERS]);
	st->requests = nla_get_u64(tb[DLOCK_A_STATUS_REQUESTS]);
	st->netns_cookie = nla_get_u64(tb[DLOCK_A_STATUS_NETNS_COOKIE]);
	if (tb[DLOCK_A_STATUS_MEMORY])
		st->memory = nla_get_u64(tb[DLOCK_A_STATUS_MEMORY]);
	return dlock_parse_counters(tb, st);
}

int dlock_get_status(struct dlock *d, struct dlock_status *st)
{
	struct nl_msg *msg;
	int err;

	memset(st, 0, sizeof(*st));
	msg = dlock_msg(d, DLOCK_CMD_GET_STATUS, 0);
	if (!msg)
		return -ENOMEM;
	err = dlock_transact(d, msg, dlock_parse_status, st);
	if (err < 0)
		return err;
	/* A reply that never came is as bad as a malformed one. */
	return err == 1 ? 0 : -EBADMSG;
}

/* ---- configuration ---------------------------------------------------- */

static const struct {
	int attr;
	unsigned int bit;
	size_t off;
} dlock_cfg_fields[] = {
	{ DLOCK_A_CFG_MAX_TTL_MS, DLOCK_CFG_MAX_TTL_MS,
	  offsetof(struct dlock_config, max_ttl_ms) },
	{ DLOCK_A_CFG_MAX_LEASES, DLOCK_CFG_MAX_LEASES,
	  offsetof(struct dlock_config, max_leases) },
	{ DLOCK_A_CFG_MAX_WAITERS, DLOCK_CFG_MAX_WAITERS,
	  offsetof(struct dlock_config, max_waiters) },
	{ DLOCK_A_CFG_MAX_SOCKET_LEASES, DLOCK_CFG_MAX_SOCKET_LEASES,
	  offsetof(struct dlock_config, max_socket_leases) },
	{ DLOCK_A_CFG_MAX_SOCKET_WAITERS, DLOCK_CFG_MAX_SOCKET_WAITERS,
	  offsetof(struct dlock_config, max_socket_waiters) },
	/* From here on optional: a kernel before issue 8 has no user limits. */
#define DLOCK_CFG_REQUIRED 5
	{ DLOCK_A_CFG_MAX_USER_LEASES, DLOCK_CFG_MAX_USER_LEASES,
	  offsetof(struct dlock_config, max_user_leases) },
	{ DLOCK_A_CFG_MAX_USER_WAITERS, DLOCK_CFG_MAX_USER_WAITERS,
	  offsetof(struct dlock_config, max_user_waiters) },
	{ DLOCK_A_CFG_MAX_USER_VALUE_BYTES, DLOCK_CFG_MAX_USER_VALUE_BYTES,
	  offsetof(struct dlock_config, max_user_value_bytes) },
	{ DLOCK_A_CFG_USER_LEASES, 0,
	  offsetof(struct dlock_config, user_leases) },
	{ DLOCK_A_CFG_USER_WAITERS, 0,
	  offsetof(struct dlock_config, user_waiters) },
	{ DLOCK_A_CFG_USER_VALUE_BYTES, 0,
	  offsetof(struct dlock_config, user_value_bytes) },
};

#define DLOCK_CFG_FIELD(cfg, i) \
	((uint32_t *)((char *)(cfg) + dlock_cfg_fields[i].off))

static int dlock_parse_config(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg)
{
	size_t i;

	(void)nlh;
	memset(arg, 0, sizeof(struct dlock_config));
	for (i = 0; i < sizeof(dlock_cfg_fields) / sizeof(dlock_cfg_fields[0]); i++) {
		if (!tb[dlock_cfg_fields[i].attr]) {
			if (i < DLOCK_CFG_REQUIRED)
				return -EBADMSG;
			continue;
		}
		*DLOCK_CFG_FIELD(arg, i) = nla_get_u32(tb[dlock_cfg_fields[i].attr]);
	}
	return 0;
}

static int dlock_config_cmd(struct dlock *d, struct dlock_config *cfg,
			    unsigned int set, uint8_t cmd)
{
	struct dlock_config out;
	struct nl_msg *msg;
	size_t i;
	int err;

	msg = dlock_msg(d, cmd, 0);
	if (!msg)
		return -ENOMEM;
	for (i = 0; i < sizeof(dlock_cfg_fields) / sizeof(dlock_cfg_fields[0]); i++) {
		if (!(set & dlock_cfg_fields[i].bit) || !dlock_cfg_fields[i].bit)
			continue;
		if (nla_put_u32(msg, dlock_cfg_fields[i].attr,
				*DLOCK_CFG_FIELD(cfg, i))) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
	}
	err = dlock_transact(d, msg, dlock_parse_config, &out);
	if (err < 0)
		return err;
	if (err != 1)
		return -EBADMSG;
	*cfg = out;
	return 0;
}

int dlock_get_config(struct dlock *d, struct dlock_config *cfg)
{
	return dlock_config_cmd(d, cfg, 0, DLOCK_CMD_GET_CONFIG);
}

int dlock_set_config(struct dlock *d, struct dlock_config *cfg, unsigned int set)
{
	if (!set || set & ~(DLOCK_CFG_MAX_TTL_MS | DLOCK_CFG_MAX_LEASES |
			    DLOCK_CFG_MAX_WAITERS | DLOCK_CFG_MAX_SOCKET_LEASES |
			    DLOCK_CFG_MAX_SOCKET_WAITERS |
			    DLOCK_CFG_MAX_USER_LEASES |
			    DLOCK_CFG_MAX_USER_WAITERS |
			    DLOCK_CFG_MAX_USER_VALUE_BYTES))
		return -EINVAL;
	return dlock_config_cmd(d, cfg, set, DLOCK_CMD_SET_CONFIG);
}

/* ---- acquire ---------------------------------------------------------- */

/*
 * The calling thread's id, the default owner tag.  Cached per thread (a
 * syscall per request is measurable), and forgotten in a forked child,
 * whose thread has a new id.
 */
static __thread pid_t dlock_tid;
static pthread_once_t dlock_atfork_once = PTHREAD_ONCE_INIT;

static void dlock_forget_tid(void)
{
	dlock_tid = 0;
}

static void dlock_register_atfork(void)
{
	pthread_atfork(NULL, NULL, dlock_forget_tid);
}

static uint64_t dlock_default_tag(uint64_t tag)
{
	if (tag)
		return tag;
	if (!dlock_tid) {
		pthread_once(&dlock_atfork_once, dlock_register_atfork);
		dlock_tid = gettid();
	}
	return (uint64_t)dlock_tid;
}

static int dlock_check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len >= 1 && len <= DLOCK_NAME_MAX ? 0 : -EINVAL;
}

struct dlock_acq_reply {
	struct dlock_lease *lease;
	bool queued;
};

static int dlock_parse_acquire(struct nlattr **tb, struct nlmsghdr *nlh,
			       void *arg)
{
	struct dlock_acq_reply *r = arg;

	(void)nlh;
	r->lease->ttl_ms = tb[DLOCK_A_TTL_MS] ? nla_get_u32(tb[DLOCK_A_TTL_MS]) : 0;
	if (tb[DLOCK_A_QUEUED]) {
		r->queued = true;
		return 0;
	}
	if (!tb[DLOCK_A_TOKEN] || !tb[DLOCK_A_COUNT])
		return -EBADMSG;
	r->lease->token = nla_get_u64(tb[DLOCK_A_TOKEN]);
	r->lease->count = nla_get_u32(tb[DLOCK_A_COUNT]);
	return 0;
}

static struct nl_msg *dlock_acquire_msg(struct dlock *d, const char *name,
					const struct dlock_acquire_opts *o,
					uint64_t cookie)
{
	struct nl_msg *msg = dlock_msg(d, DLOCK_CMD_ACQUIRE, 0);

	if (!msg)
		return NULL;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    nla_put_u8(msg, DLOCK_A_MODE, o->mode) ||
	    (o->permits && nla_put_u32(msg, DLOCK_A_PERMITS, o->permits)) ||
	    (o->flags && nla_put_u32(msg, DLOCK_A_FLAGS, o->flags)) ||
	    (o->ttl_ms && nla_put_u32(msg, DLOCK_A_TTL_MS, o->ttl_ms)) ||
	    (o->wait_ms && nla_put_u32(msg, DLOCK_A_WAIT_MS, o->wait_ms)) ||
	    nla_put_u64(msg, DLOCK_A_COOKIE, cookie))
		goto fail;
	if (o->flags & DLOCK_F_DETACHED) {
		if (o->owner && nla_put(msg, DLOCK_A_OWNER, strlen(o->owner),
					o->owner))
			goto fail;
	} else if (nla_put_u64(msg, DLOCK_A_OWNER_TAG,
			       dlock_default_tag(o->tag))) {
		goto fail;
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/*
 * Sends the acquire and registers its wait before the reply can race with
 * the outcome.  Returns 1 (granted), 0 (queued, *wp set) or a negative errno.
 */
static int dlock_acquire_start(struct dlock *d, const char *name,
			       const struct dlock_acquire_opts *o,
			       struct dlock_lease *lease,
			       struct dlock_wait **wp)
{
	struct dlock_acq_reply r = { .lease = lease };
	struct dlock_wait *w, **pw;
	struct nl_msg *msg;
	int err;

	if (dlock_check_name(name))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cookie = d->next_cookie++;
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (o->flags & DLOCK_F_DETACHED)
		snprintf(w->owner, sizeof(w->owner), "%s", o->owner ? o->owner : "");
	else
		w->tag = dlock_default_tag(o->tag);
	/* On the list first: the outcome may beat the reply to us. */
	w->next = d->waits;
	d->waits = w;
	msg = dlock_acquire_msg(d, name, o, w->cookie);
	err = msg ? dlock_transact(d, msg, dlock_parse_acquire, &r) : -ENOMEM;
	if (err == -ENOBUFS) {
		/* The answer was lost: find out what the kernel did. */
		dlock_resync(d);
		if (w->done && !w->err) {
			*lease = w->lease;
			dlock_wait_forget(d, w);
			return 1;
		}
		if (!w->done) {
			*wp = w;
			return 0;
		}
	}
	if (err >= 0 && r.queued) {
		/* The grant, when it comes, carries no TTL: keep the reply's. */
		w->lease.ttl_ms = lease->ttl_ms;
		*wp = w;
		return 0;
	}
	pw = dlock_wait_find(d, w->cookie);
	if (pw)
		*pw = w->next;
	free(w);
	if (err < 0)
		return err;
	return err == 1 ? 1 : -EBADMSG;
}

int dlock_acquire_async(struct dlock *d, const char *name,
			const struct dlock_acquire_opts *opts,
			struct dlock_lease *lease, dlock_acquire_cb cb,
			void *arg)
{
	struct dlock_wait *w = NULL, **pw;
	int err;

	if (!cb)
		return -EINVAL;
	err = dlock_acquire_start(d, name, opts, lease, &w);
	if (err)
		return err;
	if (w->done) {
		/* Settled while we read the reply: report it from dispatch. */
		pw = dlock_wait_find(d, w->cookie);
		*pw = w->next;
		err = w->err;
		if (!err)
			*lease = w->lease;
		free(w);
		return err ? err : 1;
	}
	w->cb = cb;
	w->arg = arg;
	return 0;
}

static int dlock_cancel(struct dlock *d, struct dlock_wait *w)
{
	struct nl_msg *msg = dlock_msg(d, DLOCK_CMD_CANCEL, NLM_F_ACK);

	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(w->name), w->name) ||
	    nla_put_u64(msg, DLOCK_A_COOKIE, w->cookie)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return dlock_transact(d, msg, NULL, NULL);
}

/*
 * A signal interrupted a blocking acquire.  Withdraw the request; if the
 * kernel settled it first, undo a grant, so the caller is left with nothing.
 */
static int dlock_acquire_interrupted(struct dlock *d, struct dlock_wait *w,
				     const struct dlock_acquire_opts *o)
{
	struct dlock_owner own = { .str = o->owner, .tag = o->tag };
	int err = dlock_cancel(d, w);

	if (err == -ENOENT) {
		/* Settled already: its WAIT_DONE is on its way or here. */
		while (!w->done && dlock_poll(d, 1000) > 0)
			dlock_drain(d);
		if (w->done && !w->err)
			dlock_release(d, w->name, &own);
	}
	dlock_wait_forget(d, w);
	return -EINTR;
}

int dlock_acquire(struct dlock *d, const char *name,
		  const struct dlock_acquire_opts *opts,
		  struct dlock_lease *lease)
{
	struct dlock_wait *w = NULL;
	int err;

	err = dlock_acquire_start(d, name, opts, lease, &w);
	if (err)
		return err > 0 ? 0 : err;
	while (!w->done) {
		/* A resync that could not look the wait up tries again soon. */
		err = dlock_poll(d, d->need_resync ? 100 : -1);
		if (err == -EINTR)
			return dlock_acquire_interrupted(d, w, opts);
		if (err < 0 || (err = dlock_drain(d)) < 0) {
			dlock_cancel(d, w);
			dlock_wait_forget(d, w);
			return err;
		}
		if (d->need_resync && !dlock_cur)
			dlock_resync(d);
	}
	err = w->err;
	if (!err)
		*lease = w->lease;
	dlock_wait_forget(d, w);
	return err;
}

/* ---- owned commands --------------------------------------------------- */

static int dlock_put_owner(struct nl_msg *msg, const struct dlock_owner *o)
{
	if (o && o->str)
		return nla_put(msg, DLOCK_A_OWNER, strlen(o->str), o->str);
	return nla_put_u64(msg, DLOCK_A_OWNER_TAG,
			   dlock_default_tag(o ? o->tag : 0));
}

static int dlock_parse_count(struct nlattr **tb, struct nlmsghdr *nlh,
			     void *arg)
{
	(void)nlh;
	if (!tb[DLOCK_A_COUNT])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(tb[DLOCK_A_COUNT]);
	return 0;
}

int dlock_release(struct dlock *d, const char *name,
		  const struct dlock_owner *owner)
{
	struct nl_msg *msg;
	uint32_t count = 0;
	int err;

	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_RELEASE, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    dlock_put_owner(msg, owner)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = dlock_transact(d, msg, dlock_parse_count, &count);
	if (err < 0)
		return err;
	return err == 1 ? (int)count : -EBADMSG;
}

int dlock_renew(struct dlock *d, const char *name,
		const struct dlock_owner *owner, uint32_t ttl_ms)
{
	struct nl_msg *msg;
	int err;

	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_RENEW, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    dlock_put_owner(msg, owner) ||
	    nla_put_u32(msg, DLOCK_A_TTL_MS, ttl_ms)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = dlock_transact(d, msg, NULL, NULL);
	return err < 0 ? err : 0;
}

int dlock_set_value(struct dlock *d, const char *name,
		    const struct dlock_owner *owner, const void *value,
		    size_t len)
{
	struct nl_msg *msg;
	int err;

	if (dlock_check_name(name) || len > DLOCK_VALUE_MAX)
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_SET_VALUE, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    dlock_put_owner(msg, owner) ||
	    nla_put(msg, DLOCK_A_VALUE, len, value)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = dlock_transact(d, msg, NULL, NULL);
	return err < 0 ? err : 0;
}

int dlock_break(struct dlock *d, const char *name, uint64_t token)
{
	struct nl_msg *msg;
	int err;

	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_BREAK, NLM_F_ACK);	/* no reply */
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    (token && nla_put_u64(msg, DLOCK_A_TOKEN, token))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = dlock_transact(d, msg, NULL, NULL);
	return err < 0 ? err : 0;
}

/* ---- inspection ------------------------------------------------------- */

static int dlock_parse_entry(struct nlattr *nest, struct dlock_entry *e)
{
	struct nlattr *tb[DLOCK_E_MAX + 1];
	void *value;

	memset(e, 0, sizeof(*e));
	e->remaining_ms = -1;
	if (nla_parse_nested(tb, DLOCK_E_MAX, nest, NULL) < 0)
		return -EBADMSG;
	if (tb[DLOCK_E_MODE])
		e->mode = nla_get_u8(tb[DLOCK_E_MODE]);
	if (tb[DLOCK_E_TOKEN])
		e->token = nla_get_u64(tb[DLOCK_E_TOKEN]);
	if (tb[DLOCK_E_COUNT])
		e->count = nla_get_u32(tb[DLOCK_E_COUNT]);
	if (tb[DLOCK_E_COOKIE])
		e->cookie = nla_get_u64(tb[DLOCK_E_COOKIE]);
	if (tb[DLOCK_E_SESSION])
		e->session = nla_get_u64(tb[DLOCK_E_SESSION]);
	if (tb[DLOCK_E_OWNER_TAG])
		e->tag = nla_get_u64(tb[DLOCK_E_OWNER_TAG]);
	if (tb[DLOCK_E_OWNER])
		e->owner_len = dlock_copy_owner(e->owner, tb[DLOCK_E_OWNER]);
	if (tb[DLOCK_E_PID])
		e->pid = nla_get_u32(tb[DLOCK_E_PID]);
	if (tb[DLOCK_E_UID])
		e->uid = nla_get_u32(tb[DLOCK_E_UID]);
	if (tb[DLOCK_E_COMM])
		snprintf(e->comm, sizeof(e->comm), "%s",
			 nla_get_string(tb[DLOCK_E_COMM]));
	if (tb[DLOCK_E_REMAINING_MS])
		e->remaining_ms = (int64_t)nla_get_u64(tb[DLOCK_E_REMAINING_MS]);
	e->hidden = tb[DLOCK_E_HIDDEN] != NULL;
	if (tb[DLOCK_E_VALUE] && nla_len(tb[DLOCK_E_VALUE]) > 0) {
		value = malloc(nla_len(tb[DLOCK_E_VALUE]));
		if (!value)
			return -ENOMEM;
		memcpy(value, nla_data(tb[DLOCK_E_VALUE]),
		       nla_len(tb[DLOCK_E_VALUE]));
		e->value = value;
		e->value_len = nla_len(tb[DLOCK_E_VALUE]);
	}
	return 0;
}

void dlock_lock_info_free(struct dlock_lock_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; i < info->n_holders; i++)
		free((void *)info->holders[i].value);
	free(info->holders);
	free(info->waiters);
	free(info);
}

/* Builds a struct dlock_lock_info from one GET reply. */
static int dlock_lock_info_parse(struct nlattr **tb, struct nlmsghdr *nlh,
				 struct dlock_lock_info **out)
{
	struct dlock_lock_info *li;
	size_t nh = 0, nw = 0;
	struct nlattr *a;
	int rem, err = 0;

	*out = NULL;
	if (!tb[DLOCK_A_NAME])
		return -EBADMSG;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		nh += nla_type(a) == DLOCK_A_HOLDER;
		nw += nla_type(a) == DLOCK_A_WAITER;
	}
	li = calloc(1, sizeof(*li));
	if (!li)
		return -ENOMEM;
	li->holders = calloc(nh ? nh : 1, sizeof(*li->holders));
	li->waiters = calloc(nw ? nw : 1, sizeof(*li->waiters));
	if (!li->holders || !li->waiters) {
		dlock_lock_info_free(li);
		return -ENOMEM;
	}
	li->name_len = nla_len(tb[DLOCK_A_NAME]);
	memcpy(li->name, nla_data(tb[DLOCK_A_NAME]), li->name_len);
	if (tb[DLOCK_A_MODE])
		li->mode = nla_get_u8(tb[DLOCK_A_MODE]);
	if (tb[DLOCK_A_PERMITS])
		li->permits = nla_get_u32(tb[DLOCK_A_PERMITS]);
	li->truncated = tb[DLOCK_A_TRUNCATED] != NULL;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) == DLOCK_A_HOLDER)
			err = dlock_parse_entry(a, &li->holders[li->n_holders++]);
		else if (nla_type(a) == DLOCK_A_WAITER)
			err = dlock_parse_entry(a, &li->waiters[li->n_waiters++]);
		if (err) {
			dlock_lock_info_free(li);
			return err;
		}
	}
	*out = li;
	return 0;
}

static int dlock_parse_get(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct dlock_lock_info **out = arg;

	if (*out)
		return -EBADMSG;	/* one lock, one reply */
	return dlock_lock_info_parse(tb, nlh, out);
}

int dlock_get(struct dlock *d, const char *name, struct dlock_lock_info **info)
{
	struct nl_msg *msg;
	int err;

	*info = NULL;
	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_GET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/* A big lock's reply can exceed the read buffer: size it first. */
	nl_socket_enable_msg_peek(d->sk);
	err = dlock_transact(d, msg, dlock_parse_get, info);
	nl_socket_disable_msg_peek(d->sk);
	if (err == 1)
		return 0;
	dlock_lock_info_free(*info);
	*info = NULL;
	return err < 0 ? err : -EBADMSG;
}

struct dlock_list_state {
	dlock_list_cb cb;
	void *arg;
	bool stopped;
	int n;
};

static int dlock_parse_list(struct nlattr **tb, struct nlmsghdr *nlh,
			    void *arg)
{
	struct dlock_list_state *ls = arg;
	struct dlock_lock_info *li;
	int err;

	if (ls->stopped)
		return 0;
	err = dlock_lock_info_parse(tb, nlh, &li);
	if (err)
		return err;
	ls->n++;
	if (ls->cb(li, ls->arg))
		ls->stopped = true;
	dlock_lock_info_free(li);
	return 0;
}

int dlock_list(struct dlock *d, const char *prefix, dlock_list_cb cb,
	       void *arg)
{
	struct dlock_list_state ls = { .cb = cb, .arg = arg };
	struct nl_msg *msg;
	int err;

	if (prefix && *prefix && dlock_check_name(prefix))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (prefix && *prefix &&
	    nla_put(msg, DLOCK_A_PREFIX, strlen(prefix), prefix)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_socket_enable_msg_peek(d->sk);
	err = dlock_transact(d, msg, dlock_parse_list, &ls);
	nl_socket_disable_msg_peek(d->sk);
	return err < 0 ? err : ls.n;
}

/* ---- watching --------------------------------------------------------- */

int dlock_watch(struct dlock *d, const char *prefix, dlock_event_cb cb,
		void *arg)
{
	int err;

	if (d->events_grp < 0)
		return -ENOENT;
	/* Owners shown if the kernel lets us in; else the public group. */
	err = d->admin_grp < 0 ? -1 :
	      nl_socket_add_membership(d->sk, d->admin_grp);
	if (err < 0)
		err = nl_socket_add_membership(d->sk, d->events_grp);
	if (err < 0)
		return -EIO;
	free(d->watch_prefix);
	d->watch_prefix = strdup(prefix ? prefix : "");
	if (!d->watch_prefix)
		return -ENOMEM;
	d->watch_prefix_len = strlen(d->watch_prefix);
	d->event_cb = cb;
	d->event_arg = arg;
	return 0;
}

void dlock_on_lost(struct dlock *d, dlock_lost_cb cb, void *arg)
{
	d->lost_cb = cb;
	d->lost_arg = arg;
}

void dlock_on_overflow(struct dlock *d, dlock_overflow_cb cb, void *arg)
{
	d->overflow_cb = cb;
	d->overflow_arg = arg;
	d->told_overruns = d->overruns;
}

int dlock_set_inherit(struct dlock *d, int inherit)
{
	int fd = dlock_fd(d);
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -errno;
	flags = inherit ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}
