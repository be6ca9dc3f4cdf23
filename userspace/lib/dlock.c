// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock: generic netlink client of the dlock module, on libnl-genl-3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include <linux/dlock.h>

#include "dlock.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct dlock {
	struct nl_sock *sk;
	int family;
	int err;		/* errno the kernel answered the last request with */
	char errmsg[256];	/* its extended-ack text, "" if none */
};

/* Per-request parse state handed to the libnl callbacks. */
struct dlock_req {
	struct dlock *d;
	int (*parse)(struct nlattr **tb, void *arg);
	void *arg;
	int parse_err;
	int replies;
};

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

static int dlock_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dlock_req *req = arg;

	(void)nla;
	req->d->err = -e->error;
	dlock_save_extack(req->d, e);
	return NL_STOP;
}

static int dlock_valid_cb(struct nl_msg *msg, void *arg)
{
	struct dlock_req *req = arg;
	struct nlattr *tb[DLOCK_A_MAX + 1];
	int err;

	if (!req->parse)
		return NL_OK;
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, DLOCK_A_MAX, NULL);
	if (err < 0) {
		req->parse_err = -EBADMSG;
		return NL_SKIP;
	}
	err = req->parse(tb, req->arg);
	if (err < 0)
		req->parse_err = err;
	else
		req->replies++;
	return NL_OK;
}

static int dlock_ack_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_STOP;
}

/*
 * Sends @msg (consumed) and waits for its reply and acknowledgement, feeding
 * each reply to @parse.  Returns the number of replies parsed or a negative
 * errno.
 */
static int dlock_transact(struct dlock *d, struct nl_msg *msg,
			  int (*parse)(struct nlattr **tb, void *arg), void *arg)
{
	struct dlock_req req = { .d = d, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int err;

	d->err = 0;
	d->errmsg[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, dlock_err_cb, &req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dlock_valid_cb, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, dlock_ack_cb, &req);

	err = nl_send_auto(d->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	err = nl_recvmsgs(d->sk, cb);
	if (d->err)
		err = -d->err;
	else if (err < 0)
		err = -EIO;
	else
		err = req.parse_err ? req.parse_err : req.replies;
out:
	nl_cb_put(cb);
	return err;
}

static struct nl_msg *dlock_msg(struct dlock *d, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, d->family, 0, 0, cmd,
			 DLOCK_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
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
	/* Ask for the kernel's explanations of rejected requests. */
	setsockopt(nl_socket_get_fd(d->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	d->family = genl_ctrl_resolve(d->sk, DLOCK_GENL_NAME);
	if (d->family < 0) {
		err = d->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -EIO;
		goto err_sock;
	}
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
	if (!d)
		return;
	nl_socket_free(d->sk);
	free(d);
}

static int dlock_parse_status(struct nlattr **tb, void *arg)
{
	struct dlock_status *st = arg;

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
	return 0;
}

int dlock_get_status(struct dlock *d, struct dlock_status *st)
{
	struct nl_msg *msg;
	int err;

	memset(st, 0, sizeof(*st));
	msg = dlock_msg(d, DLOCK_CMD_GET_STATUS);
	if (!msg)
		return -ENOMEM;
	err = dlock_transact(d, msg, dlock_parse_status, st);
	if (err < 0)
		return err;
	/* A reply that never came is as bad as a malformed one. */
	return err == 1 ? 0 : -EBADMSG;
}
