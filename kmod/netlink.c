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
#define REPLY_ONLY(attr) \
	[attr] = { .type = NLA_REJECT, .reject_message = DLOCK_REPLY_ONLY }

/*
 * Strict validation rejects unknown attributes; reply-only attributes are
 * rejected by name so a client that echoes a reply back learns why.  What a
 * policy cannot say (which attributes a command needs, combinations) the
 * handlers check, with an extack message each.
 */
static const struct nla_policy dlock_policy[DLOCK_A_MAX + 1] = {
	[DLOCK_A_PAD] = { .type = NLA_REJECT },
	REPLY_ONLY(DLOCK_A_STATUS_VERSION),
	REPLY_ONLY(DLOCK_A_STATUS_LEASES),
	REPLY_ONLY(DLOCK_A_STATUS_WAITERS),
	REPLY_ONLY(DLOCK_A_STATUS_REQUESTS),
	REPLY_ONLY(DLOCK_A_STATUS_NETNS_COOKIE),
	REPLY_ONLY(DLOCK_A_STATUS_MEMORY),
	[DLOCK_A_NAME] = NLA_POLICY_RANGE(NLA_BINARY, 1, DLOCK_NAME_MAX),
	[DLOCK_A_MODE] = NLA_POLICY_MAX(NLA_U8, DLOCK_MODE_SEMAPHORE),
	[DLOCK_A_PERMITS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DLOCK_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DLOCK_F_TRY |
					  DLOCK_F_DETACHED | DLOCK_F_NO_TTL),
	[DLOCK_A_TTL_MS] = { .type = NLA_U32 },
	[DLOCK_A_WAIT_MS] = { .type = NLA_U32 },
	[DLOCK_A_OWNER_TAG] = { .type = NLA_U64 },
	[DLOCK_A_OWNER] = NLA_POLICY_RANGE(NLA_BINARY, 1, DLOCK_OWNER_MAX),
	[DLOCK_A_COOKIE] = { .type = NLA_U64 },
	[DLOCK_A_TOKEN] = NLA_POLICY_MIN(NLA_U64, 1),
	REPLY_ONLY(DLOCK_A_COUNT),
	REPLY_ONLY(DLOCK_A_QUEUED),
	[DLOCK_A_PREFIX] = NLA_POLICY_RANGE(NLA_BINARY, 1, DLOCK_NAME_MAX),
	[DLOCK_A_VALUE] = NLA_POLICY_MAX(NLA_BINARY, DLOCK_VALUE_MAX),
	REPLY_ONLY(DLOCK_A_HOLDER),
	REPLY_ONLY(DLOCK_A_WAITER),
	REPLY_ONLY(DLOCK_A_ERROR),
	REPLY_ONLY(DLOCK_A_REASON),
	REPLY_ONLY(DLOCK_A_EVENT),
	REPLY_ONLY(DLOCK_A_SESSION),
	[DLOCK_A_CFG_MAX_TTL_MS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DLOCK_A_CFG_MAX_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_WAITERS] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_SOCKET_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_SOCKET_WAITERS] = { .type = NLA_U32 },
	REPLY_ONLY(DLOCK_A_TRUNCATED),
	REPLY_ONLY(DLOCK_A_UID),
	[DLOCK_A_CFG_MAX_USER_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_USER_WAITERS] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_USER_VALUE_BYTES] = { .type = NLA_U32 },
	REPLY_ONLY(DLOCK_A_HIDDEN),
	REPLY_ONLY(DLOCK_A_CFG_USER_LEASES),
	REPLY_ONLY(DLOCK_A_CFG_USER_WAITERS),
	REPLY_ONLY(DLOCK_A_CFG_USER_VALUE_BYTES),
};

static int dlock_fill_status(struct sk_buff *msg, struct dlock_net *dn,
			     u64 requests)
{
	struct dl_table_stats st;

	dl_table_stats(dn->table, &st);
	if (nla_put_string(msg, DLOCK_A_STATUS_VERSION, DLOCK_VERSION) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_LEASES, st.leases,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_WAITERS, st.waiters,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_REQUESTS, requests,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_NETNS_COOKIE,
			      dn->net->net_cookie, DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_MEMORY,
			      percpu_counter_sum_positive(&dn->mem_bytes),
			      DLOCK_A_PAD))
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

/* ---- configuration ---------------------------------------------------- */

static int dlock_config_reply(struct genl_info *info, struct dlock_net *dn)
{
	struct dl_table_limits lim;
	u32 ul, uw, uv;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
				info->genlhdr->cmd);
	dl_table_get_limits(dn->table, &lim);
	dl_table_user_caps(dn->table, &ul, &uw, &uv);
	if (!hdr ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_USER_LEASES, lim.max_user_leases) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_USER_WAITERS,
			lim.max_user_waiters) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_USER_VALUE_BYTES,
			lim.max_user_value_bytes) ||
	    nla_put_u32(msg, DLOCK_A_CFG_USER_LEASES, ul) ||
	    nla_put_u32(msg, DLOCK_A_CFG_USER_WAITERS, uw) ||
	    nla_put_u32(msg, DLOCK_A_CFG_USER_VALUE_BYTES, uv) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_TTL_MS, lim.max_ttl_ms) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_LEASES, lim.max_leases) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_WAITERS, lim.max_waiters) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_SOCKET_LEASES,
			lim.max_session_leases) ||
	    nla_put_u32(msg, DLOCK_A_CFG_MAX_SOCKET_WAITERS,
			lim.max_session_waiters)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int dlock_nl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));

	atomic64_inc(&dn->requests);
	return dlock_config_reply(info, dn);
}

/* Takes the value of @attr into @val if the request has it. */
static bool dlock_config_take(struct genl_info *info, int attr, u32 *val)
{
	if (!info->attrs[attr])
		return false;
	*val = nla_get_u32(info->attrs[attr]);
	return true;
}

static int dlock_nl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dl_table_limits lim;
	bool any = false;

	atomic64_inc(&dn->requests);
	/* Read-modify-write: concurrent changes of different limits all stick. */
	mutex_lock(&dn->config_lock);
	dl_table_get_limits(dn->table, &lim);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_TTL_MS, &lim.max_ttl_ms);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_LEASES, &lim.max_leases);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_WAITERS,
				 &lim.max_waiters);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_SOCKET_LEASES,
				 &lim.max_session_leases);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_SOCKET_WAITERS,
				 &lim.max_session_waiters);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_USER_LEASES,
				 &lim.max_user_leases);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_USER_WAITERS,
				 &lim.max_user_waiters);
	any |= dlock_config_take(info, DLOCK_A_CFG_MAX_USER_VALUE_BYTES,
				 &lim.max_user_value_bytes);
	if (any)
		dl_table_set_limits(dn->table, &lim);
	mutex_unlock(&dn->config_lock);
	if (!any) {
		NL_SET_ERR_MSG(info->extack, "no configuration attribute to set");
		return -EINVAL;
	}
	return dlock_config_reply(info, dn);
}

static const struct genl_ops dlock_genl_ops[] = {
	{
		.cmd = DLOCK_CMD_GET_STATUS,
		.doit = dlock_nl_get_status,
	},
	{
		.cmd = DLOCK_CMD_ACQUIRE,
		.doit = dlock_nl_acquire,
	},
	{
		.cmd = DLOCK_CMD_RELEASE,
		.doit = dlock_nl_release,
	},
	{
		.cmd = DLOCK_CMD_RENEW,
		.doit = dlock_nl_renew,
	},
	{
		.cmd = DLOCK_CMD_GET,
		.doit = dlock_nl_get,
		.start = dlock_nl_get_start,
		.dumpit = dlock_nl_get_dump,
		.done = dlock_nl_get_done,
	},
	{
		.cmd = DLOCK_CMD_BREAK,
		.doit = dlock_nl_break,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = DLOCK_CMD_SET_VALUE,
		.doit = dlock_nl_set_value,
	},
	{
		.cmd = DLOCK_CMD_CANCEL,
		.doit = dlock_nl_cancel,
	},
	{
		.cmd = DLOCK_CMD_GET_CONFIG,
		.doit = dlock_nl_get_config,
	},
	{
		.cmd = DLOCK_CMD_SET_CONFIG,
		.doit = dlock_nl_set_config,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group dlock_mcgrps[DLOCK_MCGRP_NR] = {
	[DLOCK_MCGRP_ID_EVENTS] = { .name = DLOCK_MCGRP_EVENTS },
	/* Checked at join time against the network namespace's user ns. */
	[DLOCK_MCGRP_ID_ADMIN] = { .name = DLOCK_MCGRP_EVENTS_ADMIN,
				   .flags = GENL_MCAST_CAP_NET_ADMIN },
};

struct genl_family dlock_genl_family __ro_after_init = {
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
