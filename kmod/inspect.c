// SPDX-License-Identifier: GPL-2.0
/*
 * DLOCK_CMD_GET: one lock by name, or a paged dump of the whole table.  A
 * dump walks one shard at a time under that shard's lock only, resumes from
 * a cursor that survives table changes and resizes, and flags a dump that
 * saw the table change (NLM_F_DUMP_INTR) so the client can retry.  On a
 * cluster node both are served from the cluster table (cluster_get.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"

/*
 * What anyone may see of an entry: that it exists, its uid, mode, token,
 * count and remaining time.  Who owns it (string, tag, session, pid,
 * command), its value and its cookie only its uid and the administrator see.
 */
static int dlock_fill_public(struct sk_buff *msg,
			     const struct dl_entry_info *ei)
{
	if (nla_put_u8(msg, DLOCK_E_MODE, ei->mode) ||
	    nla_put_u32(msg, DLOCK_E_UID, ei->owner.uid))
		return -EMSGSIZE;
	if (!ei->no_deadline &&
	    nla_put_u64_64bit(msg, DLOCK_E_REMAINING_MS,
			      div_u64(ei->remaining_ns, NSEC_PER_MSEC),
			      DLOCK_E_PAD))
		return -EMSGSIZE;
	if (!ei->waiter &&
	    (nla_put_u64_64bit(msg, DLOCK_E_TOKEN, ei->token, DLOCK_E_PAD) ||
	     nla_put_u32(msg, DLOCK_E_COUNT, ei->count)))
		return -EMSGSIZE;
	return 0;
}

static int dlock_fill_entry(struct sk_buff *msg, const struct dl_table *t,
			    const struct dl_entry *e, u64 now,
			    const struct dlock_caller *who)
{
	struct dl_entry_info ei;
	const struct dlock_meta *m;
	struct nlattr *nest;

	dl_entry_info(t, e, now, &ei);
	m = ei.meta;
	nest = nla_nest_start(msg, ei.waiter ? DLOCK_A_WAITER : DLOCK_A_HOLDER);
	if (!nest)
		return -EMSGSIZE;
	if (dlock_fill_public(msg, &ei))
		goto cancel;
	if (!who->privileged && who->uid != ei.owner.uid) {
		if (nla_put_flag(msg, DLOCK_E_HIDDEN))
			goto cancel;
		nla_nest_end(msg, nest);
		return 0;
	}
	if (nla_put_u64_64bit(msg, DLOCK_E_SESSION, ei.owner.session_id,
			      DLOCK_E_PAD) ||
	    nla_put_u32(msg, DLOCK_E_PID, m->pid) ||
	    nla_put_string(msg, DLOCK_E_COMM, m->comm))
		goto cancel;
	if (ei.owner.detached) {
		if (nla_put(msg, DLOCK_E_OWNER, ei.owner.len, ei.owner.str))
			goto cancel;
	} else if (nla_put_u64_64bit(msg, DLOCK_E_OWNER_TAG, ei.owner.tag,
				     DLOCK_E_PAD)) {
		goto cancel;
	}
	if (ei.waiter) {
		if (nla_put_u64_64bit(msg, DLOCK_E_COOKIE, ei.cookie,
				      DLOCK_E_PAD))
			goto cancel;
	} else if (ei.value_len &&
		   nla_put(msg, DLOCK_E_VALUE, ei.value_len, ei.value)) {
		goto cancel;
	}
	nla_nest_end(msg, nest);
	return 0;
cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* The next holder, then the waiters in queue order. */
static const struct dl_entry *dlock_next_entry(const struct dl_lock *l,
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
 * Puts one lock.  When @cut is set and its entries do not all fit, puts
 * those that do and DLOCK_A_TRUNCATED instead of failing: a dump message
 * cannot grow, and one big lock must not make the whole dump fail.
 */
static int dlock_fill_lock(struct sk_buff *msg, struct dlock_net *dn,
			   const struct dl_lock *l, u64 now, bool cut,
			   const struct dlock_caller *who)
{
	const struct dl_table *t = dn->table;
	const struct dl_entry *e = NULL;
	unsigned char *prev = NULL;
	struct dl_lock_info li;
	bool waiters = false;
	u8 mode;

	dl_lock_info(l, &li);
	/* @l lives as long as its shard's mutex is held. */
	dlock_assert_name_held(dn, li.name, li.name_len);
	mode = li.semaphore ? DLOCK_MODE_SEMAPHORE : li.mode;
	if (nla_put(msg, DLOCK_A_NAME, li.name_len, li.name) ||
	    nla_put_u8(msg, DLOCK_A_MODE, mode) ||
	    (li.semaphore && nla_put_u32(msg, DLOCK_A_PERMITS, li.permits)))
		return -EMSGSIZE;
	while ((e = dlock_next_entry(l, e, &waiters))) {
		unsigned char *mark = skb_tail_pointer(msg);

		if (!dlock_fill_entry(msg, t, e, now, who)) {
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

/* Builds the reply to a GET of one lock, growing the buffer as needed. */
static struct sk_buff *dlock_get_one(struct dlock_net *dn,
				     struct genl_info *info,
				     const char *name, u32 len,
				     const struct dlock_caller *who)
{
	struct dlock_shard *sh = &dn->shards[dl_shard_of(dn->table, name, len)];
	size_t size = 1024;	/* most locks have one holder */
	const struct dl_lock *l;
	struct sk_buff *msg;
	void *hdr;
	int err;

	for (;;) {
		/* Up to 16 MiB for a huge lock: the asker's cgroup pays. */
		msg = genlmsg_new(size, GFP_KERNEL_ACCOUNT);
		if (!msg)
			return ERR_PTR(-ENOMEM);
		hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
					DLOCK_CMD_GET);
		mutex_lock(&sh->lock);
		l = dl_lookup(dn->table, name, len);
		err = !l ? -ENOENT : !hdr ? -EMSGSIZE :
		      dlock_fill_lock(msg, dn, l, ktime_get_ns(),
				      false, who);
		mutex_unlock(&sh->lock);
		if (!err) {
			genlmsg_end(msg, hdr);
			return msg;
		}
		nlmsg_free(msg);
		if (err != -EMSGSIZE || size >= (1 << 24))
			return ERR_PTR(err);
		size *= 4;
	}
}

int dlock_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct nlattr *a = info->attrs[DLOCK_A_NAME];
	struct dlock_caller who;
	struct sk_buff *msg;

	atomic64_inc(&dn->requests);
	/* The policy's validator checked the name's length and bytes. */
	if (DLOCK_REQUIRE(info, DLOCK_A_NAME, "lock name"))
		return -EINVAL;
	if (dlock_clustered(dn))
		return dlock_cl_get(skb, info);
	dlock_caller_of(skb, dn, &who);
	msg = dlock_get_one(dn, info, nla_data(a), nla_len(a), &who);
	if (IS_ERR(msg)) {
		if (PTR_ERR(msg) == -ENOENT)
			NL_SET_ERR_MSG(info->extack, "no such lock");
		return PTR_ERR(msg);
	}
	return genlmsg_reply(msg, info);
}

/* ---- dump ------------------------------------------------------------- */

struct dlock_dump {
	struct dl_cursor cur;
	struct dlock_caller who;	/* as the request was sent */
	bool done;
	u8 prefix_len;
	char prefix[DLOCK_NAME_MAX];
};

int dlock_nl_get_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = dlock_dump_attrs(cb);
	struct nlattr *prefix = attrs[DLOCK_A_PREFIX];
	struct dlock_dump *d;

	/* cb->args[1]: which table the dump walks, for good. */
	if (dlock_clustered(dlock_net(sock_net(cb->skb->sk)))) {
		cb->args[1] = 1;
		return dlock_cl_get_start(cb, prefix,
					  !!attrs[DLOCK_A_LINEARIZABLE]);
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	dl_cursor_init(&d->cur);
	dlock_caller_of(cb->skb, dlock_net(sock_net(cb->skb->sk)), &d->who);
	if (prefix) {
		d->prefix_len = nla_len(prefix);
		memcpy(d->prefix, nla_data(prefix), d->prefix_len);
	}
	cb->args[0] = (long)d;
	return 0;
}

int dlock_nl_get_done(struct netlink_callback *cb)
{
	kfree((void *)cb->args[0]);
	return 0;
}

static bool dlock_dump_match(const struct dlock_dump *d,
			     const struct dl_lock *l)
{
	struct dl_lock_info li;

	if (!d->prefix_len)
		return true;
	dl_lock_info(l, &li);
	return li.name_len >= d->prefix_len &&
	       !memcmp(li.name, d->prefix, d->prefix_len);
}

/* Fills @skb from one shard; returns true when @skb is full. */
static bool dlock_dump_shard(struct sk_buff *skb, struct netlink_callback *cb,
			     struct dlock_net *dn, struct dlock_dump *d)
{
	struct dlock_shard *sh = &dn->shards[d->cur.shard];
	u64 now = ktime_get_ns();
	const struct dl_lock *l;
	struct dl_cursor saved;
	bool first = !skb->len;
	bool full = false;
	void *hdr;

	mutex_lock(&sh->lock);
	cb->seq = (unsigned int)dl_table_generation(dn->table);
	for (;;) {
		saved = d->cur;
		l = dl_dump_next(dn->table, &d->cur);
		if (!l)
			break;
		if (!dlock_dump_match(d, l))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dlock_genl_family,
				  NLM_F_MULTI, DLOCK_CMD_GET);
		if (!hdr) {
			d->cur = saved;
			full = true;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		/* Only a lock alone in its message is cut to fit. */
		if (dlock_fill_lock(skb, dn, l, now, first, &d->who)) {
			genlmsg_cancel(skb, hdr);
			d->cur = saved;
			full = true;
			break;
		}
		first = false;
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&sh->lock);
	return full;
}

int dlock_nl_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dlock_net *dn = dlock_net(sock_net(cb->skb->sk));
	struct dlock_dump *d = (struct dlock_dump *)cb->args[0];

	if (cb->args[1])
		return dlock_cl_get_dump(skb, cb);
	if (d->done)
		return 0;
	for (;;) {
		if (dlock_dump_shard(skb, cb, dn, d)) {
			/* Even its name and one entry do not fit: give up. */
			return skb->len ? skb->len : -EMSGSIZE;
		}
		if (!dl_cursor_next_shard(dn->table, &d->cur)) {
			d->done = true;
			return skb->len;
		}
	}
}
