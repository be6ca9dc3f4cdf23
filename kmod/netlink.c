// SPDX-License-Identifier: GPL-2.0
/*
 * The dlock generic netlink family: request validation and the handlers that
 * translate netlink messages into calls on the per-namespace state.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"

#define DLOCK_REPLY_ONLY "attribute is reply-only"

/*
 * Strict validation rejects unknown attributes; reply-only attributes are
 * rejected by name so a client that echoes a reply back learns why.
 */
static const struct nla_policy dlock_policy[DLOCK_A_MAX + 1] = {
	[DLOCK_A_PAD] = { .type = NLA_REJECT },
	[DLOCK_A_STATUS_VERSION] = {
		.type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY },
	[DLOCK_A_STATUS_LEASES] = {
		.type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY },
	[DLOCK_A_STATUS_WAITERS] = {
		.type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY },
	[DLOCK_A_STATUS_REQUESTS] = {
		.type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY },
	[DLOCK_A_STATUS_NETNS_COOKIE] = {
		.type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY },
};

static struct genl_family dlock_genl_family;

static int dlock_fill_status(struct sk_buff *msg, struct dlock_net *dn,
			     u64 requests)
{
	if (nla_put_string(msg, DLOCK_A_STATUS_VERSION, DLOCK_VERSION) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_LEASES,
			      atomic64_read(&dn->leases), DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_WAITERS,
			      atomic64_read(&dn->waiters), DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_REQUESTS, requests,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_NETNS_COOKIE,
			      dn->net->net_cookie, DLOCK_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int dlock_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	u64 requests = atomic64_inc_return(&dn->requests);
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
				DLOCK_CMD_GET_STATUS);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}

	err = dlock_fill_status(msg, dn, requests);
	if (err)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static const struct genl_ops dlock_genl_ops[] = {
	{
		.cmd = DLOCK_CMD_GET_STATUS,
		.doit = dlock_nl_get_status,
	},
};

static const struct genl_multicast_group dlock_mcgrps[] = {
	{ .name = DLOCK_MCGRP_EVENTS },
};

static struct genl_family dlock_genl_family __ro_after_init = {
	.name = DLOCK_GENL_NAME,
	.version = DLOCK_GENL_VERSION,
	.maxattr = DLOCK_A_MAX,
	.policy = dlock_policy,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = dlock_genl_ops,
	.n_ops = ARRAY_SIZE(dlock_genl_ops),
	.mcgrps = dlock_mcgrps,
	.n_mcgrps = ARRAY_SIZE(dlock_mcgrps),
	/*
	 * Commands from resv_start_op on get the strict checks (reserved
	 * header field, nlmsg_flags, a policy required); a new family has no
	 * legacy commands to spare, so that is every command.
	 */
	.resv_start_op = 0,
};

int __init dlock_genl_init(void)
{
	return genl_register_family(&dlock_genl_family);
}

void dlock_genl_exit(void)
{
	genl_unregister_family(&dlock_genl_family);
}
