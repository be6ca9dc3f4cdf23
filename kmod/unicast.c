// SPDX-License-Identifier: GPL-2.0
/*
 * Unicast notes (WAIT_DONE, LOST) reach their session's socket, or that
 * socket learns it missed something.
 *
 * - A queued acquire's WAIT_DONE is allocated with the wait, before the
 *   table queues it, and kept in the session's spare pool, so granting or
 *   timing out a waiter never needs memory.
 * - A note goes to the session's own socket (the session holds it), not to
 *   its port id: netlink frees a port id as soon as a close starts, and a
 *   socket that binds it again must never read another socket's note.
 * - A note that cannot be allocated or queued (receive buffer full) flags
 *   the socket with ENOBUFS, as netlink does when it drops a message: the
 *   next read says so, and the client looks its waits up again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netlink.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"

/*
 * Names up to this long take a small spare, longer ones a large one: most
 * names are short, and a spare waits in memory as long as its wait does.
 */
#define DLOCK_SPARE_SHORT	64

/* Payload of a WAIT_DONE for a name of @name_len bytes. */
size_t dlock_wait_done_size(u32 name_len)
{
	return nla_total_size(name_len) + 3 * nla_total_size_64bit(8) +
	       nla_total_size(4);
}

static int spare_class(u32 name_len)
{
	return name_len > DLOCK_SPARE_SHORT;
}

/*
 * A pool holds a WAIT_DONE for every wait queued or being queued in each
 * class (->need), plus at most one idle, so that the common acquire that is
 * granted at once allocates nothing.
 */
void dlock_spare_init(struct dlock_spare *sp)
{
	spin_lock_init(&sp->lock);
	__skb_queue_head_init(&sp->skbs[0]);
	__skb_queue_head_init(&sp->skbs[1]);
	sp->need[0] = 0;
	sp->need[1] = 0;
}

void dlock_spare_purge(struct dlock_spare *sp)
{
	__skb_queue_purge(&sp->skbs[0]);
	__skb_queue_purge(&sp->skbs[1]);
}

/* One more WAIT_DONE for a wait on a name of @name_len bytes. */
int dlock_spare_add(struct dlock_spare *sp, u32 name_len)
{
	int c = spare_class(name_len);
	struct sk_buff *skb;
	bool have;

	spin_lock(&sp->lock);
	have = skb_queue_len(&sp->skbs[c]) >= ++sp->need[c];
	spin_unlock(&sp->lock);
	if (have)
		return 0;
	/* Charged to the requester: it is the one that queues. */
	skb = genlmsg_new(dlock_wait_done_size(c ? DL_NAME_MAX :
					       DLOCK_SPARE_SHORT),
			  GFP_KERNEL_ACCOUNT);
	spin_lock(&sp->lock);
	if (skb)
		__skb_queue_tail(&sp->skbs[c], skb);
	else
		sp->need[c]--;
	spin_unlock(&sp->lock);
	return skb ? 0 : -ENOMEM;
}

/* A wait on a name of @name_len bytes ended without a note (or never began). */
void dlock_spare_drop(struct dlock_spare *sp, u32 name_len)
{
	int c = spare_class(name_len);
	struct sk_buff *skb = NULL;

	spin_lock(&sp->lock);
	sp->need[c]--;
	if (skb_queue_len(&sp->skbs[c]) > sp->need[c] + 1)
		skb = __skb_dequeue(&sp->skbs[c]);
	spin_unlock(&sp->lock);
	kfree_skb(skb);
}

/* The WAIT_DONE of a wait on a name of @name_len bytes; NULL: none left. */
struct sk_buff *dlock_spare_take(struct dlock_spare *sp, u32 name_len)
{
	int c = spare_class(name_len);
	struct sk_buff *skb;

	spin_lock(&sp->lock);
	skb = __skb_dequeue(&sp->skbs[c]);
	if (sp->need[c])
		sp->need[c]--;
	spin_unlock(&sp->lock);
	return skb;
}

/* Like netlink_overrun(): the socket's next read fails with ENOBUFS. */
void dlock_sock_missed(struct sock *sk)
{
	if (sock_flag(sk, SOCK_DEAD))
		return;
	WRITE_ONCE(sk->sk_err, ENOBUFS);
	sk_error_report(sk);
}

/*
 * Queues @skb on @sk itself and drops the reference taken when the note was
 * built.  As from netlink_unicast(): sent by the kernel (port id 0), run
 * through the socket's filter, charged to its receive buffer (but netlink
 * taps such as nlmon do not see it).
 */
void dlock_deliver(struct sock *sk, struct sk_buff *skb)
{
	int err;

	memset(skb->cb, 0, sizeof(skb->cb));
	if (sock_flag(sk, SOCK_DEAD)) {
		kfree_skb(skb);
	} else {
		err = sock_queue_rcv_skb(sk, skb);
		if (err) {
			kfree_skb(skb);
			/* A filter that refused it is not a loss. */
			if (err == -ENOMEM || err == -ENOBUFS)
				dlock_sock_missed(sk);
		}
	}
	sock_put(sk);
}
