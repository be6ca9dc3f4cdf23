// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster's kernel UDP socket, one per instance: IPv6 (taking IPv4 too,
 * as mapped addresses) unless the listen address is IPv4, or IPv6 is not
 * there.  Datagrams arrive in softirq through the UDP tunnel hook
 * (encap_rcv), are checked against the peers' addresses and queued, up to
 * dlock_cl_rxq_max(), for a work item that decodes them into one
 * preallocated message and hands them to the core.  Whatever a sender
 * controls costs no allocation of ours: unknown senders, a full queue and
 * malformed datagrams are counted and dropped.  On a keyed cluster every
 * datagram is sealed (kmod/seal.c) on the way out and opened, in the work
 * item's buffer, before it is decoded; one that does not open is counted
 * by reason.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/udp.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp_tunnel.h>

#include "dlock.h"
#include "cluster.h"
#include "wire.h"

/* The peer a datagram came from, by its source address; -1: none. */
static int dlock_cl_peer_of(struct dlock_cluster *c, struct sk_buff *skb)
{
	struct in6_addr src;
	u16 i;

	if (skb->protocol == htons(ETH_P_IP))
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, &src);
	else if (skb->protocol == htons(ETH_P_IPV6))
		src = ipv6_hdr(skb)->saddr;
	else
		return -1;
	for (i = 0; i < c->conf.nr; i++)
		if (i != c->self && ipv6_addr_equal(&src, &c->peer[i].a6))
			return i;
	return -1;
}

/* skb->cb while queued: which peer sent it. */
struct dlock_cl_rxcb {
	int peer;
};

static int dlock_cl_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct dlock_cluster *c = rcu_dereference_sk_user_data(sk);
	int peer;

	if (!c)
		goto drop;
	peer = dlock_cl_peer_of(c, skb);
	if (peer < 0) {
		atomic64_inc(&c->stray);
		goto drop;
	}
	if (skb_queue_len(&c->rxq) >= dlock_cl_rxq_max()) {
		atomic64_inc(&c->peer[peer].dropped);
		goto drop;
	}
	((struct dlock_cl_rxcb *)skb->cb)->peer = peer;
	skb_queue_tail(&c->rxq, skb);
	queue_work(system_wq, &c->rx_work);
	return 0;
drop:
	kfree_skb(skb);
	return 0;
}

/*
 * A keyed cluster's datagram of @len bytes in c->rxbuf (not copied when
 * longer than SEAL_MAX: seal_open() refuses it on its length alone) opened
 * in place; its body's offset and length, or false (counted).
 */
static bool dlock_cl_open(struct dlock_cluster *c, int peer, u32 len,
			  u32 *off, u32 *blen)
{
	unsigned int from;
	enum seal_drop r;

	r = seal_open(c->seal, peer, c->rxbuf, len, ktime_get_ns(), blen,
		      &from);
#ifdef DLOCK_PLANT_CL_ACCEPT_PLAIN
	if (r == SEAL_DROP_VERSION) {
		*off = 0;
		*blen = len;
		return true;
	}
#endif
	if (r != SEAL_OK) {
		atomic64_inc(&c->peer[peer].seal_drops[r]);
		return false;
	}
	*off = SEAL_HDR;
	return true;
}

/*
 * One datagram: its UDP payload copied into the instance's buffer (the
 * message points into it), opened when the cluster is keyed, decoded, and
 * checked to be for us and from the node whose address it came from.
 */
static void dlock_cl_rx_one(struct dlock_cluster *c, struct sk_buff *skb)
{
	int peer = ((struct dlock_cl_rxcb *)skb->cb)->peer;
	struct dlock_cl_peer *p = &c->peer[peer];
	struct repl_msg *m = c->rxmsg;
	u32 len = skb->len - sizeof(struct udphdr), off = 0, blen = len;
	u64 now;

	if (skb->len < sizeof(struct udphdr))
		goto drop;
	if (len <= (c->seal ? SEAL_MAX : WIRE_MAX) &&
	    skb_copy_bits(skb, sizeof(struct udphdr), c->rxbuf, len))
		goto drop;
	if (c->seal ? !dlock_cl_open(c, peer, len, &off, &blen) :
		      len > WIRE_MAX)
		goto drop;
	if (wire_decode(m, c->rxbuf + off, blen) || m->from != peer ||
	    m->to != c->self)
		goto drop;
	now = ktime_get_ns();
	atomic64_inc(&p->rx);
	atomic64_set(&p->last_rx, now);
	repl_receive(c->r, m, now);
	return;
drop:
#ifndef DLOCK_PLANT_CL_NO_DROP_COUNT
	atomic64_inc(&p->dropped);
#endif
}

void dlock_cl_rx_work(struct work_struct *w)
{
	struct dlock_cluster *c = container_of(w, struct dlock_cluster,
					       rx_work);
	struct sk_buff *skb;
	int budget = DLOCK_CL_RX_BUDGET;

	mutex_lock(&c->lock);
	while (!c->dying && budget-- && (skb = skb_dequeue(&c->rxq))) {
		dlock_cl_rx_one(c, skb);
		kfree_skb(skb);
	}
	if (!c->dying) {
		dlock_cl_after_snap(c);
		dlock_cluster_rearm(c);
		if (!skb_queue_empty(&c->rxq))
			queue_work(system_wq, &c->rx_work);
	}
	mutex_unlock(&c->lock);
}

/* The core's send: encode into the instance's buffer, one datagram. */
void dlock_cl_send(void *ctx, const struct repl_msg *m)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_peer *p;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec iov;
	int len;

	lockdep_assert_held(&c->lock);
	if (m->to >= c->conf.nr || m->to == c->self || !c->sock)
		return;
	p = &c->peer[m->to];
	len = wire_encode(m, c->txbuf + (c->seal ? SEAL_HDR : 0), WIRE_MAX);
	if (len < 0) {
		pr_warn_ratelimited("cluster: message type %u not encoded: %d\n",
				    m->type, len);
		return;
	}
	if (c->seal) {
		/* to_inc 0: to no life in particular (a RECOVER_REQ) */
		len = m->to_inc ? seal_datagram(c->seal, m->to, c->txbuf, len) :
		      seal_datagram_any_boot(c->seal, m->to, c->txbuf, len);
		if (len < 0) {
			pr_warn_ratelimited("cluster: message type %u not sealed: %d\n",
					    m->type, len);
			return;
		}
	}
	if (c->sock->sk->sk_family == AF_INET6) {
		s6.sin6_addr = p->a6;
		s6.sin6_port = p->port;
		msg.msg_name = &s6;
		msg.msg_namelen = sizeof(s6);
	} else {
		s4.sin_addr.s_addr = p->a6.s6_addr32[3];
		s4.sin_port = p->port;
		msg.msg_name = &s4;
		msg.msg_namelen = sizeof(s4);
	}
	iov.iov_base = c->txbuf;
	iov.iov_len = len;
	if (kernel_sendmsg(c->sock, &msg, &iov, 1, len) == len)
		atomic64_inc(&p->tx);
}

static bool dlock_cl_any_v6_peer(struct dlock_cluster *c)
{
	u16 i;

	for (i = 0; i < c->conf.nr; i++)
		if (i != c->self && c->conf.node[i].addr_len == 16)
			return true;
	return false;
}

/* The uapi numbers the drop reasons as seal.h does. */
#define DLOCK_CL_SAME(a, b)	BUILD_BUG_ON((int)(a) != (int)(b))
static void __maybe_unused dlock_cl_seal_uapi_check(void)
{
	DLOCK_CL_SAME(SEAL_DROP__MAX, __DLOCK_SEAL_DROP_MAX);
	DLOCK_CL_SAME(SEAL_DROP_LEN, DLOCK_SEAL_DROP_LEN);
	DLOCK_CL_SAME(SEAL_DROP_VERSION, DLOCK_SEAL_DROP_VERSION);
	DLOCK_CL_SAME(SEAL_DROP_CLUSTER, DLOCK_SEAL_DROP_CLUSTER);
	DLOCK_CL_SAME(SEAL_DROP_RECEIVER, DLOCK_SEAL_DROP_RECEIVER);
	DLOCK_CL_SAME(SEAL_DROP_SENDER, DLOCK_SEAL_DROP_SENDER);
	DLOCK_CL_SAME(SEAL_DROP_KEY, DLOCK_SEAL_DROP_KEY);
	DLOCK_CL_SAME(SEAL_DROP_EPOCH, DLOCK_SEAL_DROP_EPOCH);
	DLOCK_CL_SAME(SEAL_DROP_TOO_OLD, DLOCK_SEAL_DROP_TOO_OLD);
	DLOCK_CL_SAME(SEAL_DROP_REPLAY, DLOCK_SEAL_DROP_REPLAY);
	DLOCK_CL_SAME(SEAL_DROP_RATE, DLOCK_SEAL_DROP_RATE);
	DLOCK_CL_SAME(SEAL_DROP_AUTH, DLOCK_SEAL_DROP_AUTH);
	BUILD_BUG_ON(SEAL_KEY_LEN != DLOCK_CLUSTER_KEY_LEN);
	BUILD_BUG_ON(SEAL_BODY_MAX != WIRE_MAX);
}

int dlock_cl_sock_open(struct dlock_cluster *c, struct netlink_ext_ack *ack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = c,
		.encap_type = 1,
		.encap_rcv = dlock_cl_encap_rcv,
	};
	struct udp_port_cfg ucfg = {
		.local_udp_port = htons(c->conf.port),
		.use_udp_checksums = 1,
		.use_udp6_tx_checksums = 1,
		.use_udp6_rx_checksums = 1,
	};
	const struct dlock_cl_conf *cf = &c->conf;
	struct net *net = c->dn->net;
	int err;
	u16 i;

	for (i = 0; i < cf->nr; i++) {
		struct dlock_cl_peer *p = &c->peer[i];

		if (cf->node[i].addr_len == 4)
			ipv6_addr_set_v4mapped(*(__be32 *)cf->node[i].addr,
					       &p->a6);
		else if (cf->node[i].addr_len == 16)
			memcpy(&p->a6, cf->node[i].addr, 16);
		p->port = htons(cf->node[i].port);
	}
	if (cf->addr_len == 4) {
		if (dlock_cl_any_v6_peer(c)) {
			NL_SET_ERR_MSG(ack, "an IPv6 peer cannot be reached from an IPv4 listen address");
			return -EINVAL;
		}
		ucfg.family = AF_INET;
		memcpy(&ucfg.local_ip, cf->addr, 4);
		err = udp_sock_create(net, &ucfg, &c->sock);
	} else {
		ucfg.family = AF_INET6;
		if (cf->addr_len == 16)
			memcpy(&ucfg.local_ip6, cf->addr, 16);
		err = udp_sock_create(net, &ucfg, &c->sock);
		if ((err == -EAFNOSUPPORT || err == -EPFNOSUPPORT) &&
		    !cf->addr_len && !dlock_cl_any_v6_peer(c)) {
			/* No IPv6 in this kernel or namespace: IPv4 only. */
			ucfg.family = AF_INET;
			err = udp_sock_create(net, &ucfg, &c->sock);
		}
	}
	if (err) {
		c->sock = NULL;
		if (err == -EADDRINUSE)
			NL_SET_ERR_MSG(ack, "the UDP port is in use in this namespace");
		else if (err == -EADDRNOTAVAIL)
			NL_SET_ERR_MSG(ack, "the listen address is not one of this namespace's");
		else
			NL_SET_ERR_MSG(ack, "cannot open the cluster's UDP socket");
		return err;
	}
	setup_udp_tunnel_sock(net, c->sock, &tcfg);
	return 0;
}

/* After it returns, no datagram reaches the instance (an RCU grace period). */
void dlock_cl_sock_close(struct dlock_cluster *c)
{
	struct socket *sock;

	mutex_lock(&c->lock);
	sock = c->sock;
	c->sock = NULL;
	mutex_unlock(&c->lock);
	if (sock)
		udp_tunnel_sock_release(sock);
}
