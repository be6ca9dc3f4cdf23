// SPDX-License-Identifier: GPL-2.0
/*
 * DLOCK_CMD_GET on a cluster node, of one lock or a dump of them all, and
 * the table's counts for GET_STATUS: served from this node's applied table,
 * without asking the leader.  It shows what this node has applied, which
 * lags the leader by the entries not yet committed or not yet heard of (on
 * a follower, up to one heartbeat plus a round trip when all is well,
 * unbounded when it is cut off).  The replicated table keeps no pid or
 * command name, so a holder shows neither.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

/*
 * One holder or waiter, with the visibility rules of a single node
 * (inspect.c): another uid's entry, unless the caller is privileged, shows
 * mode, uid, remaining time, token and count, and DLOCK_E_HIDDEN.  No pid
 * or command name: they are not replicated.  On failure nothing of the
 * entry is left in @msg.
 */
static int dlock_cl_fill_entry(struct sk_buff *msg, const struct dl_table *t,
			       const struct dl_entry *e, u64 now,
			       const struct dlock_caller *who)
{
	struct dl_entry_info ei;
	struct nlattr *nest;

	dl_entry_info(t, e, now, &ei);
	nest = nla_nest_start(msg, ei.waiter ? DLOCK_A_WAITER : DLOCK_A_HOLDER);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(msg, DLOCK_E_MODE, ei.mode) ||
	    nla_put_u32(msg, DLOCK_E_UID, ei.owner.uid) ||
	    (!ei.no_deadline &&
	     nla_put_u64_64bit(msg, DLOCK_E_REMAINING_MS,
			       div_u64(ei.remaining_ns, NSEC_PER_MSEC),
			       DLOCK_E_PAD)) ||
	    (!ei.waiter &&
	     (nla_put_u64_64bit(msg, DLOCK_E_TOKEN, ei.token, DLOCK_E_PAD) ||
	      nla_put_u32(msg, DLOCK_E_COUNT, ei.count))))
		goto cancel;
#ifndef DLOCK_PLANT_CL_DUMP_SHOW_ALL	/* cluster_test: another uid's owner */
	if (!who->privileged && who->uid != ei.owner.uid) {
		if (nla_put_flag(msg, DLOCK_E_HIDDEN))
			goto cancel;
		nla_nest_end(msg, nest);
		return 0;
	}
#endif
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
		goto cancel;
	nla_nest_end(msg, nest);
	return 0;
cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* The next holder, then the waiters in queue order. */
static const struct dl_entry *dlock_cl_next_entry(const struct dl_lock *l,
						  const struct dl_entry *e,
						  bool *waiters)
{
	if (!*waiters) {
		e = dl_holder_next(l, e);
		if (e)
			return e;
		*waiters = true;
		e = NULL;
	}
	return dl_waiter_next(l, e);
}

/*
 * Puts one lock.  With @cut, entries that do not fit are left out and
 * DLOCK_A_TRUNCATED says so (a dump message cannot grow), as on a single
 * node.
 */
static int dlock_cl_fill_lock(struct sk_buff *msg, const struct dl_table *t,
			      const struct dl_lock *l, u64 now, bool cut,
			      const struct dlock_caller *who)
{
	const struct dl_entry *e = NULL;
	unsigned char *prev = NULL;
	struct dl_lock_info li;
	bool waiters = false;

	dl_lock_info(l, &li);
	if (nla_put(msg, DLOCK_A_NAME, li.name_len, li.name) ||
	    nla_put_u8(msg, DLOCK_A_MODE, li.semaphore ? DLOCK_MODE_SEMAPHORE :
					  li.mode) ||
	    (li.semaphore && nla_put_u32(msg, DLOCK_A_PERMITS, li.permits)))
		return -EMSGSIZE;
	while ((e = dlock_cl_next_entry(l, e, &waiters))) {
		unsigned char *mark = skb_tail_pointer(msg);

		if (!dlock_cl_fill_entry(msg, t, e, now, who)) {
			prev = mark;
			continue;
		}
		if (!cut)
			return -EMSGSIZE;
		/* Make room for the flag by dropping the last entry if need be. */
		if (nla_put_flag(msg, DLOCK_A_TRUNCATED)) {
			if (!prev)
				return -EMSGSIZE;
			nlmsg_trim(msg, prev);
			if (nla_put_flag(msg, DLOCK_A_TRUNCATED))
				return -EMSGSIZE;
		}
		return 0;
	}
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
#ifndef DLOCK_PLANT_CL_READ_STALE	/* planted bug: the flag ignored */
	if (info->attrs[DLOCK_A_LINEARIZABLE]) {
#else
	if (0) {
#endif
		err = dlock_cl_barrier(c, skb, info->extack);
		if (err) {
			up_read(&dn->cluster_sem);
			return err;
		}
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
		      dlock_cl_fill_lock(msg, t, l, ktime_get_ns(), false,
					 &who);
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

/* ---- dump ------------------------------------------------------------- */

/*
 * A dump of this node's applied table.  Each part takes cluster_sem and the
 * instance mutex, fills one message batch and drops them: between parts the
 * table may change, or be replaced by a snapshot, and the cursor (a name's
 * position in hash order, table_dump.c) resumes after the last lock put,
 * which every table of this instance orders alike (one hash seed, one shard
 * count).  A part that finds another instance (the node left or was
 * configured anew) ends the dump.
 */
struct dlock_cl_dump {
	struct dl_cursor cur;
	struct dlock_caller who;	/* as the request was sent */
	u64 serial;			/* the instance it walks */
	bool done;
	u8 prefix_len;
	char prefix[DLOCK_NAME_MAX];
};

int dlock_cl_get_start(struct netlink_callback *cb, const struct nlattr *prefix,
		       bool linearizable)
{
	struct dlock_net *dn = dlock_net(sock_net(cb->skb->sk));
	struct dlock_cl_dump *d;
	struct dlock_cluster *c;
	int err = 0;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	dl_cursor_init(&d->cur);
	dlock_caller_of(cb->skb, dn, &d->who);
	if (prefix) {
		d->prefix_len = nla_len(prefix);
		memcpy(d->prefix, nla_data(prefix), d->prefix_len);
	}
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	/* Each part reads the table as it is then: the barrier precedes all. */
	if (c && linearizable)
		err = dlock_cl_barrier(c, cb->skb, cb->extack);
	if (c)
		d->serial = c->serial;
	up_read(&dn->cluster_sem);
	if (!c) {
		NL_SET_ERR_MSG(cb->extack, "cluster: this node left the cluster meanwhile; retry");
		err = -EAGAIN;
	}
	if (err) {
		kfree(d);
		return err;
	}
	cb->args[0] = (long)d;
	return 0;
}

/*
 * What NLM_F_DUMP_INTR compares between messages: the last index applied
 * (every change of the table is an applied entry), odd so it is never the
 * "not set yet" 0.
 */
static unsigned int dlock_cl_dump_seq(struct dlock_cluster *c)
{
	return (unsigned int)(table_sm_index(c->sm) << 1) | 1;
}

static bool dlock_cl_dump_match(const struct dlock_cl_dump *d,
				const struct dl_lock *l)
{
	struct dl_lock_info li;

	if (!d->prefix_len)
		return true;
	dl_lock_info(l, &li);
	return li.name_len >= d->prefix_len &&
	       !memcmp(li.name, d->prefix, d->prefix_len);
}

/* Fills @skb from the cursor on; true when @skb is full. */
static bool dlock_cl_dump_fill(struct sk_buff *skb, struct netlink_callback *cb,
			       struct dlock_cluster *c, struct dlock_cl_dump *d)
{
	struct dl_table *t = table_sm_table(c->sm);
	u64 now = ktime_get_ns();
	const struct dl_lock *l;
	struct dl_cursor saved;
	bool first = true;
	void *hdr;

	lockdep_assert_held(&c->lock);
	cb->seq = dlock_cl_dump_seq(c);
	for (;;) {
		saved = d->cur;
		l = dl_dump_next(t, &d->cur);
		if (!l) {
			if (dl_cursor_next_shard(t, &d->cur))
				continue;
			d->done = true;
			return false;
		}
		if (!dlock_cl_dump_match(d, l))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dlock_genl_family,
				  NLM_F_MULTI, DLOCK_CMD_GET);
		if (!hdr)
			goto full;
		genl_dump_check_consistent(cb, hdr);
		/* Only a lock alone in its message is cut to fit. */
		if (dlock_cl_fill_lock(skb, t, l, now, first, &d->who)) {
			genlmsg_cancel(skb, hdr);
			goto full;
		}
		first = false;
		genlmsg_end(skb, hdr);
	}
full:
#ifndef DLOCK_PLANT_CL_DUMP_NO_RESUME	/* cluster_test: a lock skipped per part */
	d->cur = saved;
#endif
	return true;
}

int dlock_cl_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dlock_net *dn = dlock_net(sock_net(cb->skb->sk));
	struct dlock_cl_dump *d = (struct dlock_cl_dump *)cb->args[0];
	struct dlock_cluster *c;
	bool full;

	if (d->done)
		return 0;
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	if (!c || c->serial != d->serial) {
		up_read(&dn->cluster_sem);
		/*
		 * The rest of the table went with the instance: end here, and
		 * flag the closing message (NLM_F_DUMP_INTR) as changed.
		 */
		cb->seq = cb->prev_seq + 2;
		d->done = true;
		return 0;
	}
	mutex_lock(&c->lock);
	full = dlock_cl_dump_fill(skb, cb, c, d);
	mutex_unlock(&c->lock);
	up_read(&dn->cluster_sem);
	/* Even one lock's name and one entry do not fit: give up. */
	if (full && !skb->len)
		return -EMSGSIZE;
	return skb->len;
}

/*
 * GET_STATUS on a cluster node: the counts of this node's applied copy of
 * the cluster table, and the bytes that copy holds.  -ENOENT: not in a
 * cluster (the single-node table's counts apply).
 */
int dlock_cl_stats(struct dlock_net *dn, struct dl_table_stats *st, u64 *bytes)
{
	struct dlock_cluster *c;

	if (!dlock_clustered(dn))
		return -ENOENT;
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	if (c) {
		mutex_lock(&c->lock);
		dl_table_stats(table_sm_table(c->sm), st);
		mutex_unlock(&c->lock);
		*bytes = atomic64_read(&c->tbl_bytes);
	}
	up_read(&dn->cluster_sem);
	return c ? 0 : -ENOENT;
}
