// SPDX-License-Identifier: GPL-2.0
/*
 * Messages the kernel sends on its own: a queued acquire's outcome and a
 * lost lease go by unicast to the one socket concerned (no herd: nobody else
 * is woken), lock events go to the multicast group.  They are built while the
 * table's locks are held and sent by dlock_nl_flush() after they are dropped.
 *
 * Also the other direction: a closed netlink socket ends its session.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"

/* Where a queued skb goes; kept in skb->cb until it is sent. */
struct dlock_note_cb {
	struct sock *sk;	/* unicast: the session's socket, held */
	bool multicast;
	bool lost;		/* cluster: a loss marker, no message */
	u8 group;		/* enum dlock_mcgrp */
};

static struct dlock_note_cb *note_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct dlock_note_cb) > sizeof(skb->cb));
	return (struct dlock_note_cb *)skb->cb;
}

/*
 * Sized to the message: a notification waits in the receiver's queue until
 * read, and a small skb lets hundreds fit in a default socket buffer where
 * page-sized ones would overflow it after a few dozen.  Charged to the
 * memory cgroup of the task whose command produced it (a socket closing
 * with many leases pays for its own notes), and built in bounded batches:
 * dl_run_timers() and dl_session_end_some() stop after a budget and the
 * glue sends what was built before going on.
 */
static struct sk_buff *dlock_note_new(u8 cmd, size_t payload, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(payload, GFP_KERNEL_ACCOUNT);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &dlock_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* A unicast note to @sk (held: the reference goes with the skb). */
static void dlock_note_queue(struct dlock_ctx *ctx, struct sk_buff *skb,
			     void *hdr, int err, struct sock *sk)
{
	if (err) {
		nlmsg_free(skb);
		if (sk) {
			dlock_sock_missed(sk);
			sock_put(sk);
		}
		return;
	}
	genlmsg_end(skb, hdr);
	memset(note_cb(skb), 0, sizeof(struct dlock_note_cb));
	note_cb(skb)->sk = sk;
	__skb_queue_tail(&ctx->notes, skb);
}

/*
 * The WAIT_DONE was allocated with the wait (unicast.c) and goes to the
 * socket of the session that queued it, not to whoever holds its port id
 * now.  Nothing is built for a socket that closed.
 */
void dlock_nl_queue_wait_done(struct dlock_ctx *ctx,
			      const struct dl_wait_done *wd)
{
	struct sk_buff *skb = NULL;
	struct sock *sk;
	void *hdr;
	int err;

	if (ctx->dn->dying)
		return;
	sk = dlock_session_sock(ctx->dn, wd->sess, wd->name_len, &skb);
	if (!sk)
		return;
	/* None left would be a bug; try the allocator rather than hang. */
	if (!skb)
		skb = genlmsg_new(dlock_wait_done_size(wd->name_len), GFP_KERNEL);
	hdr = skb ? genlmsg_put(skb, 0, 0, &dlock_genl_family, 0,
				DLOCK_CMD_WAIT_DONE) : NULL;
	if (!hdr) {
		kfree_skb(skb);
		dlock_sock_missed(sk);
		sock_put(sk);
		return;
	}
	err = nla_put(skb, DLOCK_A_NAME, wd->name_len, wd->name) ||
	      nla_put_u64_64bit(skb, DLOCK_A_COOKIE, wd->cookie, DLOCK_A_PAD) ||
	      nla_put_u64_64bit(skb, DLOCK_A_SESSION, dl_session_id(wd->sess),
				DLOCK_A_PAD) ||
	      nla_put_u32(skb, DLOCK_A_ERROR, -wd->err) ||
	      (!wd->err && nla_put_u64_64bit(skb, DLOCK_A_TOKEN, wd->token,
					     DLOCK_A_PAD));
	dlock_note_queue(ctx, skb, hdr, err, sk);
}

/* Not preallocated: if it cannot be built, the socket learns of a loss. */
void dlock_nl_queue_lost(struct dlock_ctx *ctx, const struct dl_lost *ls)
{
	struct sk_buff *skb;
	struct sock *sk;
	void *hdr;
	int err;

	if (ctx->dn->dying)
		return;
	sk = dlock_session_sock(ctx->dn, ls->sess, 0, NULL);
	if (!sk)
		return;
	skb = dlock_note_new(DLOCK_CMD_LOST,
			     nla_total_size(ls->name_len) +
			     3 * nla_total_size_64bit(8) + nla_total_size(1),
			     &hdr);
	if (!skb) {
		dlock_sock_missed(sk);
		sock_put(sk);
		return;
	}
	err = nla_put(skb, DLOCK_A_NAME, ls->name_len, ls->name) ||
	      nla_put_u64_64bit(skb, DLOCK_A_OWNER_TAG, ls->tag, DLOCK_A_PAD) ||
	      nla_put_u64_64bit(skb, DLOCK_A_SESSION, dl_session_id(ls->sess),
				DLOCK_A_PAD) ||
	      nla_put_u64_64bit(skb, DLOCK_A_TOKEN, ls->token, DLOCK_A_PAD) ||
	      nla_put_u8(skb, DLOCK_A_REASON, ls->reason);
	dlock_note_queue(ctx, skb, hdr, err, sk);
}

/*
 * One event for one group: the public group gets the owner's uid and
 * DLOCK_A_HIDDEN in place of its owner string, tag and session, so that
 * listening tells nobody how to act as another user's owner.  Built and
 * ended, its destination in its cb; NULL if it could not be built.
 */
static struct sk_buff *dlock_event_skb(const struct dl_event *ev, u8 group)
{
	const struct dl_owner_view *o = &ev->owner;
	bool full = group == DLOCK_MCGRP_ID_ADMIN;
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = dlock_note_new(DLOCK_CMD_EVENT,
			     nla_total_size(ev->name_len) +
			     nla_total_size(DLOCK_OWNER_MAX) +
			     4 * nla_total_size_64bit(8) +
			     4 * nla_total_size(4), &hdr);
	if (!skb)
		return NULL;
	err = nla_put_u8(skb, DLOCK_A_EVENT, ev->type) ||
	      nla_put(skb, DLOCK_A_NAME, ev->name_len, ev->name) ||
	      nla_put_u8(skb, DLOCK_A_MODE, ev->mode) ||
	      nla_put_u64_64bit(skb, DLOCK_A_TOKEN, ev->token, DLOCK_A_PAD) ||
	      nla_put_u32(skb, DLOCK_A_UID, o->uid);
	if (!err && ev->mode == DL_MODE_SEMAPHORE)
		err = nla_put_u32(skb, DLOCK_A_PERMITS, ev->permits);
	if (!err && !full)
		err = nla_put_flag(skb, DLOCK_A_HIDDEN);
	else if (!err)
		err = nla_put_u64_64bit(skb, DLOCK_A_SESSION, o->session_id,
					DLOCK_A_PAD);
	if (!err && full && o->detached)
		err = nla_put(skb, DLOCK_A_OWNER, o->len, o->str);
	else if (!err && full)
		err = nla_put_u64_64bit(skb, DLOCK_A_OWNER_TAG, o->tag,
					DLOCK_A_PAD);
	if (err) {
		nlmsg_free(skb);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	memset(note_cb(skb), 0, sizeof(struct dlock_note_cb));
	note_cb(skb)->multicast = true;
	note_cb(skb)->group = group;
	return skb;
}

/*
 * Observers are optional: build nothing for a group nobody hears.  The
 * broadcast then delivers the event to no listener whose receive queue is
 * full; netlink flags it (ENOBUFS) so its watch knows it lost one.
 */
void dlock_nl_queue_event(struct dlock_ctx *ctx, const struct dl_event *ev)
{
	struct sk_buff *skb;
	u8 group;

	if (ctx->dn->dying)
		return;
	for (group = 0; group < DLOCK_MCGRP_NR; group++) {
		if (!genl_has_listeners(&dlock_genl_family, ctx->dn->net, group))
			continue;
		skb = dlock_event_skb(ev, group);
		if (skb)
			__skb_queue_tail(&ctx->notes, skb);
	}
}

static void dlock_nl_cl_set_lost(struct net *net)
{
	u8 group;

	for (group = 0; group < DLOCK_MCGRP_NR; group++)
		genl_set_err(&dlock_genl_family, net, 0, group, -ENOBUFS);
}

/*
 * Cluster mode: events were not built (a snapshot replaced the table, or
 * one did not fit): a marker after those queued flags every listener with
 * ENOBUFS when it is reached.  Nothing if nobody listens, or if the last
 * thing queued is a marker already.
 */
bool dlock_nl_cl_lost(struct net *net, struct sk_buff_head *q)
{
	struct sk_buff *skb, *last;
	unsigned long flags;
	u8 group;
	bool any = false;

	for (group = 0; group < DLOCK_MCGRP_NR; group++)
		any |= genl_has_listeners(&dlock_genl_family, net, group) > 0;
	if (!any)
		return false;
	spin_lock_irqsave(&q->lock, flags);
	last = skb_peek_tail(q);
	any = last && note_cb(last)->lost;
	spin_unlock_irqrestore(&q->lock, flags);
	if (any)
		return false;
	/* No memory even for this: flag them now, out of order. */
	skb = alloc_skb(0, GFP_KERNEL);
	if (!skb) {
		dlock_nl_cl_set_lost(net);
		return false;
	}
	memset(note_cb(skb), 0, sizeof(struct dlock_note_cb));
	note_cb(skb)->lost = true;
	skb_queue_tail(q, skb);
	return true;
}

/*
 * Cluster mode: the events of an entry this node applies are built under
 * the instance's mutex onto @q, a queue of at most DLOCK_CL_EVENTS_MAX
 * (the caller's lock serializes the producers; its spinlock guards it
 * against dlock_nl_send_events()), and sent by a work item without the
 * mutex.  With nobody listening this is two bit tests.  An event that does
 * not fit, or cannot be built, is replaced by a loss marker: every
 * listener is then flagged ENOBUFS, as on an overflow of its own queue.
 * Returns whether anything was queued.
 */
bool dlock_nl_cl_event(struct net *net, const struct dl_event *ev,
		       struct sk_buff_head *q)
{
	struct sk_buff *skb;
	bool queued = false;
	u8 group;

	for (group = 0; group < DLOCK_MCGRP_NR; group++) {
		if (!genl_has_listeners(&dlock_genl_family, net, group))
			continue;
		skb = skb_queue_len(q) < DLOCK_CL_EVENTS_MAX ?
		      dlock_event_skb(ev, group) : NULL;
		if (skb) {
			skb_queue_tail(q, skb);
			queued = true;
		} else {
			queued |= dlock_nl_cl_lost(net, q);
		}
	}
	return queued;
}

/* Cluster mode: sends what dlock_nl_cl_event() queued, in order. */
void dlock_nl_send_events(struct net *net, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q))) {
		struct dlock_note_cb cb = *note_cb(skb);

		if (cb.lost) {
			kfree_skb(skb);
			dlock_nl_cl_set_lost(net);
			continue;
		}
		genlmsg_multicast_netns(&dlock_genl_family, net, skb, 0,
					cb.group, GFP_KERNEL);
	}
}

/* Sends what the command queued; called with no table lock held. */
void dlock_nl_flush(struct dlock_ctx *ctx)
{
	struct net *net = ctx->dn->net;
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&ctx->notes))) {
		struct dlock_note_cb cb = *note_cb(skb);

		if (cb.multicast)
			genlmsg_multicast_netns(&dlock_genl_family, net, skb,
						0, cb.group, GFP_KERNEL);
		else
			dlock_deliver(cb.sk, skb);
	}
}

static int dlock_netlink_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	dlock_session_end(dlock_net(n->net), n->portid);
	dlock_cl_sock_closed(dlock_net(n->net), n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block dlock_netlink_notifier = {
	.notifier_call = dlock_netlink_event,
};

int dlock_notifier_init(void)
{
	return netlink_register_notifier(&dlock_netlink_notifier);
}

void dlock_notifier_exit(void)
{
	netlink_unregister_notifier(&dlock_netlink_notifier);
}
