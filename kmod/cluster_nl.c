// SPDX-License-Identifier: GPL-2.0
/*
 * DLOCK_CMD_SET_CLUSTER and DLOCK_CMD_GET_CLUSTER: configuring a namespace
 * as one node of a cluster, and its state.  A configuration is checked whole
 * before anything changes; the same one again changes nothing; a different
 * one replaces the instance (the node restarts with no memory and recovers
 * from its peers); none (no node id) returns to single-node mode.  Keys
 * (DLOCK_A_CLUSTER_KEY, _KEY2) go in and are never read back: a reply
 * names them by fingerprint.  A change of keys alone, on a node that has
 * one, is applied in place (key rotation, docs/protocol.md section 12).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sort.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

/* SET_CLUSTER of every namespace, one at a time: rare, and may sleep long. */
static DEFINE_MUTEX(dlock_cl_conf_lock);

static int dlock_validate_addr(const struct nlattr *a,
			       struct netlink_ext_ack *extack)
{
	if (nla_len(a) == 4 || nla_len(a) == 16)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, a, "an address is 4 (IPv4) or 16 (IPv6) bytes");
	return -EINVAL;
}

#define DLOCK_CL_STATUS_ONLY "attribute is status-only"

static const struct nla_policy dlock_peer_policy[DLOCK_P_MAX + 1] = {
	[DLOCK_P_PAD] = { .type = NLA_REJECT },
	[DLOCK_P_ID] = NLA_POLICY_RANGE(NLA_U32, 1, DLOCK_CLUSTER_ID_MAX),
	[DLOCK_P_ADDR] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, dlock_validate_addr),
	[DLOCK_P_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DLOCK_P_LAST_CONTACT_MS] = { .type = NLA_REJECT,
				      .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_P_LAG] = { .type = NLA_REJECT,
			  .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_P_TX] = { .type = NLA_REJECT,
			 .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_P_RX] = { .type = NLA_REJECT,
			 .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_P_DROPPED] = { .type = NLA_REJECT,
			      .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_P_SEAL_DROPS] = { .type = NLA_REJECT,
				 .reject_message = DLOCK_CL_STATUS_ONLY },
};

const struct nla_policy dlock_set_cluster_policy[DLOCK_A_MAX + 1] = {
	[DLOCK_A_PAD] = { .type = NLA_REJECT },
	[DLOCK_A_CLUSTER_ID] = NLA_POLICY_RANGE(NLA_U32, 1, DLOCK_CLUSTER_ID_MAX),
	[DLOCK_A_CLUSTER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DLOCK_A_CLUSTER_ADDR] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							dlock_validate_addr),
	[DLOCK_A_CLUSTER_PEER] = NLA_POLICY_NESTED(dlock_peer_policy),
	[DLOCK_A_CLUSTER_ROLE] = { .type = NLA_REJECT,
				   .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_A_CLUSTER_LEADER] = { .type = NLA_REJECT,
				     .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_A_CLUSTER_TERM] = { .type = NLA_REJECT,
				   .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_A_CLUSTER_COMMIT] = { .type = NLA_REJECT,
				     .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_A_CLUSTER_KEY] = NLA_POLICY_EXACT_LEN(DLOCK_CLUSTER_KEY_LEN),
	[DLOCK_A_CLUSTER_KEY2] = NLA_POLICY_EXACT_LEN(DLOCK_CLUSTER_KEY_LEN),
	[DLOCK_A_CLUSTER_KEY_FP] = { .type = NLA_REJECT,
				     .reject_message = DLOCK_CL_STATUS_ONLY },
	[DLOCK_A_CLUSTER_KEY2_FP] = { .type = NLA_REJECT,
				      .reject_message = DLOCK_CL_STATUS_ONLY },
	/* every u32 is an id (0: none); the policy checks its size */
	[DLOCK_A_CLUSTER_CLUSTER_ID] = { .type = NLA_U32 },
	[DLOCK_A_CLUSTER_STRAY] = { .type = NLA_REJECT,
				    .reject_message = DLOCK_CL_STATUS_ONLY },
};

const struct nla_policy dlock_get_cluster_policy[DLOCK_A_MAX + 1] = {
	[DLOCK_A_PAD] = { .type = NLA_REJECT },
};

/* ---- parsing ---------------------------------------------------------- */

static int dlock_cl_node_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int dlock_cl_parse_peer(struct genl_info *info, struct nlattr *nest,
			       struct dlock_cl_conf *cf)
{
	struct netlink_ext_ack *ack = info->extack;
	struct nlattr *tb[DLOCK_P_MAX + 1];
	u32 id;
	u16 i;
	int err;

	/* The policy validated every nest already; this only indexes it. */
	err = nla_parse_nested(tb, DLOCK_P_MAX, nest, dlock_peer_policy, ack);
	if (err)
		return err;
	if (!tb[DLOCK_P_ID]) {
		NL_SET_ERR_MSG_ATTR(ack, nest, "peer without an id");
		return -EINVAL;
	}
	if (!tb[DLOCK_P_ADDR]) {
		NL_SET_ERR_MSG_ATTR(ack, nest, "peer without an address");
		return -EINVAL;
	}
	if (!tb[DLOCK_P_PORT]) {
		NL_SET_ERR_MSG_ATTR(ack, nest, "peer without a port");
		return -EINVAL;
	}
	id = nla_get_u32(tb[DLOCK_P_ID]);
	for (i = 0; i < cf->nr; i++) {
		if (cf->node[i].id != id)
			continue;
		if (id == cf->id)
			NL_SET_ERR_MSG_ATTR(ack, nest, "a peer has this node's own id");
		else
			NL_SET_ERR_MSG_ATTR(ack, nest, "two peers have the same id");
		return -EINVAL;
	}
	if (cf->nr == DLOCK_CLUSTER_NODES_MAX) {
		NL_SET_ERR_MSG_ATTR(ack, nest, "a cluster has at most 7 nodes");
		return -E2BIG;
	}
	cf->node[cf->nr].id = id;
	cf->node[cf->nr].port = nla_get_u16(tb[DLOCK_P_PORT]);
	cf->node[cf->nr].addr_len = nla_len(tb[DLOCK_P_ADDR]);
	memcpy(cf->node[cf->nr].addr, nla_data(tb[DLOCK_P_ADDR]),
	       nla_len(tb[DLOCK_P_ADDR]));
	cf->nr++;
	return 0;
}

static int dlock_cl_parse_conf(struct genl_info *info, struct dlock_cl_conf *cf)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *a;
	int rem, err;

	memset(cf, 0, sizeof(*cf));
	if (DLOCK_REQUIRE(info, DLOCK_A_CLUSTER_PORT, "UDP port"))
		return -EINVAL;
	cf->id = nla_get_u32(attrs[DLOCK_A_CLUSTER_ID]);
	a = attrs[DLOCK_A_CLUSTER_CLUSTER_ID];
	if (a && nla_get_u32(a) && !attrs[DLOCK_A_CLUSTER_KEY]) {
		/* plain wire messages have no field for it: it would not hold */
		NL_SET_ERR_MSG_ATTR(info->extack, a, "a cluster id needs a cluster key: only sealed datagrams carry it");
		return -EINVAL;
	}
	cf->cluster_id = a ? nla_get_u32(a) : 0;
	cf->port = nla_get_u16(attrs[DLOCK_A_CLUSTER_PORT]);
	if (attrs[DLOCK_A_CLUSTER_ADDR]) {
		cf->addr_len = nla_len(attrs[DLOCK_A_CLUSTER_ADDR]);
		memcpy(cf->addr, nla_data(attrs[DLOCK_A_CLUSTER_ADDR]),
		       cf->addr_len);
	}
	/* This node first; its address is not used to reach it. */
	cf->node[0].id = cf->id;
	cf->node[0].port = cf->port;
	cf->nr = 1;
	nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(a) != DLOCK_A_CLUSTER_PEER)
			continue;
		err = dlock_cl_parse_peer(info, a, cf);
		if (err)
			return err;
	}
	/* The core numbers nodes 0..n-1 in id order, the same on every node. */
	sort(cf->node, cf->nr, sizeof(cf->node[0]), dlock_cl_node_cmp, NULL);
	return 0;
}

static int dlock_cl_parse_keys(struct genl_info *info, struct dlock_cl_keys *k)
{
	struct nlattr *a = info->attrs[DLOCK_A_CLUSTER_KEY];
	struct nlattr *a2 = info->attrs[DLOCK_A_CLUSTER_KEY2];

	memset(k, 0, sizeof(*k));
	if (a2 && !a) {
		NL_SET_ERR_MSG_ATTR(info->extack, a2, "a second key needs a first one (the key this node sends with)");
		return -EINVAL;
	}
	/* The policy checked their length. */
	if (a)
		memcpy(k->key[k->nr++], nla_data(a), DLOCK_CLUSTER_KEY_LEN);
	if (a2)
		memcpy(k->key[k->nr++], nla_data(a2), DLOCK_CLUSTER_KEY_LEN);
	return 0;
}

/* ---- state ------------------------------------------------------------ */

/* The reasons that happened, one u64 each (type 0 pads). */
static int dlock_cl_fill_seal_drops(struct sk_buff *msg,
				    struct dlock_cl_peer *p)
{
	struct nlattr *nest = nla_nest_start(msg, DLOCK_P_SEAL_DROPS);
	u64 n;
	int r;

	if (!nest)
		return -EMSGSIZE;
	for (r = 1; r < SEAL_DROP__MAX; r++) {
		n = atomic64_read(&p->seal_drops[r]);
		if (n && nla_put_u64_64bit(msg, r, n, DLOCK_SEAL_DROP_UNSPEC))
			return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * DLOCK_P_LAG on the leader only: a follower does not know how far its
 * peers are (absent, "not known", rather than a 0 that says caught up).
 */
static int dlock_cl_fill_peer(struct sk_buff *msg, struct dlock_cluster *c,
			      u16 i, u64 now)
{
	u64 lag = 0;
	struct dlock_cl_peer *p = &c->peer[i];
	u64 last = atomic64_read(&p->last_rx);
	bool has_lag = repl_peer_lag(c->r, i, &lag);
	struct nlattr *nest;

#ifdef DLOCK_PLANT_CL_LAG_LAST	/* cluster_test: the match index not subtracted */
	if (has_lag) {
		struct repl_status st;

		repl_status(c->r, &st);
		lag = st.last_index;
	}
#endif
	nest = nla_nest_start(msg, DLOCK_A_CLUSTER_PEER);
	if (!nest ||
	    nla_put_u32(msg, DLOCK_P_ID, c->conf.node[i].id) ||
	    nla_put(msg, DLOCK_P_ADDR, c->conf.node[i].addr_len,
		    c->conf.node[i].addr) ||
	    nla_put_u16(msg, DLOCK_P_PORT, c->conf.node[i].port) ||
	    (last && nla_put_u64_64bit(msg, DLOCK_P_LAST_CONTACT_MS,
				       div_u64(now - last, NSEC_PER_MSEC),
				       DLOCK_P_PAD)) ||
	    (has_lag && nla_put_u64_64bit(msg, DLOCK_P_LAG, lag, DLOCK_P_PAD)) ||
	    nla_put_u64_64bit(msg, DLOCK_P_TX, atomic64_read(&p->tx),
			      DLOCK_P_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_P_RX, atomic64_read(&p->rx),
			      DLOCK_P_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_P_DROPPED, atomic64_read(&p->dropped),
			      DLOCK_P_PAD))
		return -EMSGSIZE;
	if (c->seal && dlock_cl_fill_seal_drops(msg, p))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int dlock_cl_fill(struct sk_buff *msg, struct dlock_cluster *c)
{
	struct repl_status st;
	u64 now = ktime_get_ns();
	u16 i;

	if (!c)
		return nla_put_u8(msg, DLOCK_A_CLUSTER_ROLE, DLOCK_ROLE_NONE);
	mutex_lock(&c->lock);
	repl_status(c->r, &st);
	if (nla_put_u8(msg, DLOCK_A_CLUSTER_ROLE, dlock_cluster_role_of(c)) ||
	    nla_put_u32(msg, DLOCK_A_CLUSTER_ID, c->conf.id) ||
	    nla_put_u32(msg, DLOCK_A_CLUSTER_CLUSTER_ID, c->conf.cluster_id) ||
	    nla_put_u16(msg, DLOCK_A_CLUSTER_PORT, c->conf.port) ||
	    (c->conf.addr_len &&
	     nla_put(msg, DLOCK_A_CLUSTER_ADDR, c->conf.addr_len,
		     c->conf.addr)) ||
	    nla_put_u32(msg, DLOCK_A_CLUSTER_LEADER,
			st.leader < c->conf.nr ? c->conf.node[st.leader].id : 0) ||
	    nla_put_u64_64bit(msg, DLOCK_A_CLUSTER_TERM, st.term, DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_CLUSTER_COMMIT, st.commit,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_CLUSTER_STRAY,
			      atomic64_read(&c->stray), DLOCK_A_PAD) ||
	    (c->nkeys && nla_put(msg, DLOCK_A_CLUSTER_KEY_FP,
				 DLOCK_CLUSTER_KEY_FP_LEN, c->key_fp[0])) ||
	    (c->nkeys > 1 && nla_put(msg, DLOCK_A_CLUSTER_KEY2_FP,
				     DLOCK_CLUSTER_KEY_FP_LEN, c->key_fp[1])))
		goto full;
#ifdef DLOCK_PLANT_CL_KEY_READBACK
	if (c->nkeys && nla_put(msg, DLOCK_A_CLUSTER_KEY, SEAL_KEY_LEN,
				c->seal->key[0].key))
		goto full;
#endif
	for (i = 0; i < c->conf.nr; i++)
		if (i != c->self && dlock_cl_fill_peer(msg, c, i, now))
			goto full;
	mutex_unlock(&c->lock);
	return 0;
full:
	mutex_unlock(&c->lock);
	return -EMSGSIZE;
}

static int dlock_cl_state_reply(struct genl_info *info, struct dlock_net *dn)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;
	int err;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
				info->genlhdr->cmd);
	down_read(&dn->cluster_sem);
	err = hdr ? dlock_cl_fill(msg, dn->cluster) : -EMSGSIZE;
	up_read(&dn->cluster_sem);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int dlock_nl_get_cluster(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));

	atomic64_inc(&dn->requests);
	return dlock_cl_state_reply(info, dn);
}

/* ---- configuration ---------------------------------------------------- */

/* Takes the instance out of service and destroys it. */
static void dlock_cl_remove(struct dlock_net *dn)
{
	struct dlock_cluster *c = dn->cluster;

	if (!c)
		return;
	/* Waiting requests fail now, so the write lock is not held up. */
	dlock_cluster_quiesce(c);
	down_write(&dn->cluster_sem);
	WRITE_ONCE(dn->cluster, NULL);
	up_write(&dn->cluster_sem);
	dlock_cluster_stop(c);
}

static void dlock_cl_install(struct dlock_net *dn, struct dlock_cluster *c)
{
	down_write(&dn->cluster_sem);
	WRITE_ONCE(dn->cluster, c);
	up_write(&dn->cluster_sem);
}

/*
 * The same members as the instance in force, only the keys differ, and it
 * has some and keeps some: installed in place (key rotation).  1: done, 0:
 * not this case, or an error.
 */
static int dlock_cl_rekey(struct dlock_cluster *c,
			  const struct dlock_cl_keys *keys,
			  struct netlink_ext_ack *ack)
{
	int err;

	mutex_lock(&c->lock);
	err = c->seal && keys->nr ? dlock_cluster_set_keys(c, keys, ack) : 0;
	mutex_unlock(&c->lock);
	return err ? err : !!keys->nr;
}

int dlock_nl_set_cluster(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_cluster *c, *old_c;
	struct dlock_cl_keys *keys, *old_keys;
	struct dlock_cl_conf *cf, old;
	int err;

	atomic64_inc(&dn->requests);
	if (!netlink_ns_capable(skb, dn->net->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(info->extack, "configuring the cluster needs CAP_NET_ADMIN");
		return -EPERM;
	}
	cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	keys = kzalloc(2 * sizeof(*keys), GFP_KERNEL);
	if (!cf || !keys) {
		err = -ENOMEM;
		goto out;
	}
	old_keys = keys + 1;
	if (!info->attrs[DLOCK_A_CLUSTER_ID]) {
		if (info->attrs[DLOCK_A_CLUSTER_PORT] ||
		    info->attrs[DLOCK_A_CLUSTER_ADDR] ||
		    info->attrs[DLOCK_A_CLUSTER_PEER] ||
		    info->attrs[DLOCK_A_CLUSTER_KEY] ||
		    info->attrs[DLOCK_A_CLUSTER_KEY2] ||
		    info->attrs[DLOCK_A_CLUSTER_CLUSTER_ID]) {
			NL_SET_ERR_MSG(info->extack, "missing node id (a request without one leaves the cluster and takes nothing else)");
			err = -EINVAL;
			goto out;
		}
		mutex_lock(&dlock_cl_conf_lock);
		dlock_cl_remove(dn);
		mutex_unlock(&dlock_cl_conf_lock);
		err = dlock_cl_state_reply(info, dn);
		goto out;
	}
	err = dlock_cl_parse_conf(info, cf);
	if (!err)
		err = dlock_cl_parse_keys(info, keys);
	if (err)
		goto out;
	mutex_lock(&dlock_cl_conf_lock);
	old_c = dn->cluster;
	if (old_c && !memcmp(&old_c->conf, cf, sizeof(*cf)) &&
	    !!old_c->seal == !!keys->nr) {
		err = dlock_cl_rekey(old_c, keys, info->extack);
		mutex_unlock(&dlock_cl_conf_lock);
		if (err >= 0)
			err = dlock_cl_state_reply(info, dn);
		goto out;
	}
	if (old_c) {
		old = old_c->conf;
		mutex_lock(&old_c->lock);
		dlock_cluster_get_keys(old_c, old_keys);
		mutex_unlock(&old_c->lock);
	}
	/* The old socket may hold the port: it goes first. */
	dlock_cl_remove(dn);
	err = dlock_cluster_start(dn, cf, keys, &c, info->extack);
	if (!err)
		dlock_cl_install(dn, c);
	else if (old_c && !dlock_cluster_start(dn, &old, old_keys, &c, NULL))
		dlock_cl_install(dn, c);	/* refused: back as it was */
	mutex_unlock(&dlock_cl_conf_lock);
	if (!err)
		err = dlock_cl_state_reply(info, dn);
out:
	kfree_sensitive(keys);
	kfree(cf);
	return err;
}
