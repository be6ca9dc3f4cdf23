// SPDX-License-Identifier: GPL-2.0
/*
 * DLOCK_CMD_GET of one lock on a cluster node: served from this node's
 * applied table, without asking the leader.  It shows what this node has
 * applied, which lags the leader by the entries not yet committed or not yet
 * heard of (on a follower, up to one heartbeat plus a round trip when all is
 * well, unbounded when it is cut off).  The replicated table keeps no pid or
 * command name, so a holder shows neither.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

static int dlock_cl_fill_entry(struct sk_buff *msg, const struct dl_table *t,
			       const struct dl_entry *e, u64 now,
			       const struct dlock_caller *who)
{
	struct dl_entry_info ei;
	struct nlattr *nest;

	dl_entry_info(t, e, now, &ei);
	nest = nla_nest_start(msg, ei.waiter ? DLOCK_A_WAITER : DLOCK_A_HOLDER);
	if (!nest || nla_put_u8(msg, DLOCK_E_MODE, ei.mode) ||
	    nla_put_u32(msg, DLOCK_E_UID, ei.owner.uid) ||
	    (!ei.no_deadline &&
	     nla_put_u64_64bit(msg, DLOCK_E_REMAINING_MS,
			       div_u64(ei.remaining_ns, NSEC_PER_MSEC),
			       DLOCK_E_PAD)) ||
	    (!ei.waiter &&
	     (nla_put_u64_64bit(msg, DLOCK_E_TOKEN, ei.token, DLOCK_E_PAD) ||
	      nla_put_u32(msg, DLOCK_E_COUNT, ei.count))))
		return -EMSGSIZE;
	if (!who->privileged && who->uid != ei.owner.uid) {
		if (nla_put_flag(msg, DLOCK_E_HIDDEN))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
		return 0;
	}
	if (nla_put_u64_64bit(msg, DLOCK_E_SESSION, ei.owner.session_id,
			      DLOCK_E_PAD) ||
	    (ei.owner.detached ?
	     nla_put(msg, DLOCK_E_OWNER, ei.owner.len, ei.owner.str) :
	     nla_put_u64_64bit(msg, DLOCK_E_OWNER_TAG, ei.owner.tag,
			       DLOCK_E_PAD)) ||
	    (ei.waiter &&
	     nla_put_u64_64bit(msg, DLOCK_E_COOKIE, ei.cookie, DLOCK_E_PAD)) ||
	    (!ei.waiter && ei.value_len &&
	     nla_put(msg, DLOCK_E_VALUE, ei.value_len, ei.value)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int dlock_cl_fill_lock(struct sk_buff *msg, struct dl_table *t,
			      const struct dl_lock *l,
			      const struct dlock_caller *who)
{
	const struct dl_entry *e;
	struct dl_lock_info li;
	u64 now = ktime_get_ns();

	dl_lock_info(l, &li);
	if (nla_put(msg, DLOCK_A_NAME, li.name_len, li.name) ||
	    nla_put_u8(msg, DLOCK_A_MODE, li.semaphore ? DLOCK_MODE_SEMAPHORE :
					  li.mode) ||
	    (li.semaphore && nla_put_u32(msg, DLOCK_A_PERMITS, li.permits)))
		return -EMSGSIZE;
	for (e = dl_holder_next(l, NULL); e; e = dl_holder_next(l, e))
		if (dlock_cl_fill_entry(msg, t, e, now, who))
			return -EMSGSIZE;
	for (e = dl_waiter_next(l, NULL); e; e = dl_waiter_next(l, e))
		if (dlock_cl_fill_entry(msg, t, e, now, who))
			return -EMSGSIZE;
	return 0;
}

int dlock_cl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct nlattr *a = info->attrs[DLOCK_A_NAME];
	size_t size = NLMSG_GOODSIZE;
	struct dlock_caller who;
	const struct dl_lock *l;
	struct dlock_cluster *c;
	struct dl_table *t;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (DLOCK_REQUIRE(info, DLOCK_A_NAME, "lock name"))
		return -EINVAL;
	dlock_caller_of(skb, dn, &who);
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	if (!c) {
		up_read(&dn->cluster_sem);
		NL_SET_ERR_MSG(info->extack, "cluster: this node left the cluster meanwhile; retry");
		return -EAGAIN;
	}
	for (;;) {
		msg = genlmsg_new(size, GFP_KERNEL_ACCOUNT);
		if (!msg) {
			err = -ENOMEM;
			break;
		}
		hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
					DLOCK_CMD_GET);
		mutex_lock(&c->lock);
		t = table_sm_table(c->sm);
		l = dl_lookup(t, nla_data(a), nla_len(a));
		err = !l ? -ENOENT : !hdr ? -EMSGSIZE :
		      dlock_cl_fill_lock(msg, t, l, &who);
		mutex_unlock(&c->lock);
		if (!err) {
			genlmsg_end(msg, hdr);
			break;
		}
		nlmsg_free(msg);
		msg = NULL;
		if (err != -EMSGSIZE || size >= (1 << 24))
			break;
		size *= 4;
	}
	up_read(&dn->cluster_sem);
	if (err == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "no such lock on this node (it shows what it has applied)");
	return err ? err : genlmsg_reply(msg, info);
}
