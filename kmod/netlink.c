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

/* A name or owner string: @max bytes at most, at least one, no NUL. */
static int dlock_str_check(const struct nlattr *a, int max)
{
	if (!nla_len(a) || nla_len(a) > max)
		return -ERANGE;
	return memchr(nla_data(a), 0, nla_len(a)) ? -EINVAL : 0;
}

static int dlock_validate_name(const struct nlattr *a,
			       struct netlink_ext_ack *extack)
{
	int err = dlock_str_check(a, DLOCK_NAME_MAX);

	if (err == -ERANGE)
		NL_SET_ERR_MSG_ATTR(extack, a, "lock name must be 1 to 255 bytes");
	else if (err)
		NL_SET_ERR_MSG_ATTR(extack, a, "lock name contains a NUL byte");
	return err;
}

static int dlock_validate_owner(const struct nlattr *a,
				struct netlink_ext_ack *extack)
{
	int err = dlock_str_check(a, DLOCK_OWNER_MAX);

	if (err == -ERANGE)
		NL_SET_ERR_MSG_ATTR(extack, a, "owner string must be 1 to 64 bytes");
	else if (err)
		NL_SET_ERR_MSG_ATTR(extack, a, "owner string contains a NUL byte");
	return err;
}

/*
 * One policy per command: strict validation refuses an attribute the
 * command does not take ("Unsupported attribute", with its offset), so a
 * client learns at once that it is ignored.  Reply-only attributes are
 * refused by name in every command so a client that echoes a reply back
 * learns why.  What a policy cannot say (which attributes a command needs,
 * combinations) the handlers check, with an extack message each.  Every
 * policy spans all attributes: handlers index info->attrs by any of them.
 */
#define DLOCK_POLICY_COMMON						\
	[DLOCK_A_PAD] = { .type = NLA_REJECT },				\
	REPLY_ONLY(DLOCK_A_STATUS_VERSION),				\
	REPLY_ONLY(DLOCK_A_STATUS_LEASES),				\
	REPLY_ONLY(DLOCK_A_STATUS_WAITERS),				\
	REPLY_ONLY(DLOCK_A_STATUS_REQUESTS),				\
	REPLY_ONLY(DLOCK_A_STATUS_NETNS_COOKIE),			\
	REPLY_ONLY(DLOCK_A_STATUS_MEMORY),				\
	REPLY_ONLY(DLOCK_A_COUNT),					\
	REPLY_ONLY(DLOCK_A_QUEUED),					\
	REPLY_ONLY(DLOCK_A_HOLDER),					\
	REPLY_ONLY(DLOCK_A_WAITER),					\
	REPLY_ONLY(DLOCK_A_ERROR),					\
	REPLY_ONLY(DLOCK_A_REASON),					\
	REPLY_ONLY(DLOCK_A_EVENT),					\
	REPLY_ONLY(DLOCK_A_SESSION),					\
	REPLY_ONLY(DLOCK_A_TRUNCATED),					\
	REPLY_ONLY(DLOCK_A_UID),					\
	REPLY_ONLY(DLOCK_A_HIDDEN),					\
	REPLY_ONLY(DLOCK_A_CFG_USER_LEASES),				\
	REPLY_ONLY(DLOCK_A_CFG_USER_WAITERS),				\
	REPLY_ONLY(DLOCK_A_CFG_USER_VALUE_BYTES),			\
	REPLY_ONLY(DLOCK_A_STATUS_COUNTERS),				\
	REPLY_ONLY(DLOCK_A_STATUS_LOCKS)

#define DLOCK_POL_NAME \
	[DLOCK_A_NAME] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, dlock_validate_name)
/* The owner of a lease: a detached owner's string or a socket's tag. */
#define DLOCK_POL_OWNER \
	[DLOCK_A_OWNER] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,		\
						 dlock_validate_owner),	\
	[DLOCK_A_OWNER_TAG] = { .type = NLA_U64 }

static const struct nla_policy dlock_none_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
};

static const struct nla_policy dlock_acquire_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	DLOCK_POL_OWNER,
	[DLOCK_A_MODE] = NLA_POLICY_MAX(NLA_U8, DLOCK_MODE_SEMAPHORE),
	[DLOCK_A_PERMITS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DLOCK_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DLOCK_F_TRY |
					  DLOCK_F_DETACHED | DLOCK_F_NO_TTL),
	[DLOCK_A_TTL_MS] = { .type = NLA_U32 },
	[DLOCK_A_WAIT_MS] = { .type = NLA_U32 },
	[DLOCK_A_COOKIE] = { .type = NLA_U64 },
};

static const struct nla_policy dlock_release_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	DLOCK_POL_OWNER,
};

static const struct nla_policy dlock_renew_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	DLOCK_POL_OWNER,
	[DLOCK_A_TTL_MS] = { .type = NLA_U32 },
};

static const struct nla_policy dlock_set_value_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	DLOCK_POL_OWNER,
	[DLOCK_A_VALUE] = NLA_POLICY_MAX(NLA_BINARY, DLOCK_VALUE_MAX),
};

/* One lock by name (doit) or every lock, optionally by prefix (dump). */
static const struct nla_policy dlock_get_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	[DLOCK_A_PREFIX] = NLA_POLICY_RANGE(NLA_BINARY, 1, DLOCK_NAME_MAX),
	[DLOCK_A_LINEARIZABLE] = { .type = NLA_FLAG },
};

static const struct nla_policy dlock_break_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	[DLOCK_A_TOKEN] = NLA_POLICY_MIN(NLA_U64, 1),
};

static const struct nla_policy dlock_cancel_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	DLOCK_POL_NAME,
	[DLOCK_A_COOKIE] = { .type = NLA_U64 },
};

static const struct nla_policy dlock_set_config_policy[DLOCK_A_MAX + 1] = {
	DLOCK_POLICY_COMMON,
	[DLOCK_A_CFG_MAX_TTL_MS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DLOCK_A_CFG_MAX_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_WAITERS] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_SOCKET_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_SOCKET_WAITERS] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_USER_LEASES] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_USER_WAITERS] = { .type = NLA_U32 },
	[DLOCK_A_CFG_MAX_USER_VALUE_BYTES] = { .type = NLA_U32 },
};

static int dlock_fill_status(struct sk_buff *msg, struct dlock_net *dn,
			     u64 requests)
{
	u64 mem = percpu_counter_sum_positive(&dn->mem_bytes), cl_mem = 0;
	struct dl_table_stats st;

	/*
	 * A cluster node counts the cluster table as it applied it; memory is
	 * both tables' (the single-node one keeps what it held before).
	 */
#ifndef DLOCK_PLANT_CL_STATUS_LOCAL	/* cluster_test: the local table's */
	if (dlock_cl_stats(dn, &st, &cl_mem))
#endif
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
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_MEMORY, mem + cl_mem,
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, DLOCK_A_STATUS_LOCKS, st.locks,
			      DLOCK_A_PAD) ||
	    nla_put_u8(msg, DLOCK_A_CLUSTER_ROLE, dlock_cluster_role(dn)))
		return -EMSGSIZE;
	return dlock_obs_fill(msg, dn);
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
		.policy = dlock_none_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_get_status,
	},
	{
		.cmd = DLOCK_CMD_ACQUIRE,
		.policy = dlock_acquire_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_acquire,
	},
	{
		.cmd = DLOCK_CMD_RELEASE,
		.policy = dlock_release_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_release,
	},
	{
		.cmd = DLOCK_CMD_RENEW,
		.policy = dlock_renew_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_renew,
	},
	{
		.cmd = DLOCK_CMD_GET,
		.policy = dlock_get_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_get,
		.start = dlock_nl_get_start,
		.dumpit = dlock_nl_get_dump,
		.done = dlock_nl_get_done,
	},
	{
		.cmd = DLOCK_CMD_BREAK,
		.policy = dlock_break_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_break,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = DLOCK_CMD_SET_VALUE,
		.policy = dlock_set_value_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_set_value,
	},
	{
		.cmd = DLOCK_CMD_CANCEL,
		.policy = dlock_cancel_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_cancel,
	},
	{
		.cmd = DLOCK_CMD_GET_CONFIG,
		.policy = dlock_none_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_get_config,
	},
	{
		.cmd = DLOCK_CMD_SET_CONFIG,
		.policy = dlock_set_config_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_set_config,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		/* cluster_nl.c checks CAP_NET_ADMIN, with a message. */
		.cmd = DLOCK_CMD_SET_CLUSTER,
		.policy = dlock_set_cluster_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_set_cluster,
	},
	{
		.cmd = DLOCK_CMD_GET_CLUSTER,
		.policy = dlock_get_cluster_policy,
		.maxattr = DLOCK_A_MAX,
		.doit = dlock_nl_get_cluster,
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
	/* What CTRL_CMD_GETFAMILY reports; each command has its policy. */
	.maxattr = DLOCK_A_MAX,
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

/* Casts: the two sides are values of different enums. */
#define DLOCK_PIN(core, abi) BUILD_BUG_ON((u64)(core) != (u64)(abi))

/*
 * The table's values go onto the wire unconverted (modes, flags, event
 * types, reasons, limits): pin them to the ABI's.
 */

static void __init dlock_abi_check(void)
{
	DLOCK_PIN(DL_MODE_EXCLUSIVE, DLOCK_MODE_EXCLUSIVE);
	DLOCK_PIN(DL_MODE_SHARED, DLOCK_MODE_SHARED);
	DLOCK_PIN(DL_MODE_SEMAPHORE, DLOCK_MODE_SEMAPHORE);
	DLOCK_PIN(DL_ACQ_TRY, DLOCK_F_TRY);
	DLOCK_PIN(DL_ACQ_DETACHED, DLOCK_F_DETACHED);
	DLOCK_PIN(DL_ACQ_NO_TTL, DLOCK_F_NO_TTL);
	DLOCK_PIN(DL_ACQ_FLAGS, DLOCK_F_TRY | DLOCK_F_DETACHED | DLOCK_F_NO_TTL);
	DLOCK_PIN(DL_EV_GRANTED, DLOCK_EV_GRANTED);
	DLOCK_PIN(DL_EV_RELEASED, DLOCK_EV_RELEASED);
	DLOCK_PIN(DL_EV_EXPIRED, DLOCK_EV_EXPIRED);
	DLOCK_PIN(DL_EV_OWNER_DIED, DLOCK_EV_OWNER_DIED);
	DLOCK_PIN(DL_EV_BROKEN, DLOCK_EV_BROKEN);
	DLOCK_PIN(DL_EV_VALUE, DLOCK_EV_VALUE);
	DLOCK_PIN(DL_LOST_EXPIRED, DLOCK_LOST_EXPIRED);
	DLOCK_PIN(DL_LOST_BROKEN, DLOCK_LOST_BROKEN);
	DLOCK_PIN(DL_LOST_IN_DOUBT, DLOCK_LOST_IN_DOUBT);
	DLOCK_PIN(DL_NAME_MAX, DLOCK_NAME_MAX);
	DLOCK_PIN(DL_OWNER_MAX, DLOCK_OWNER_MAX);
	DLOCK_PIN(DL_VALUE_MAX, DLOCK_VALUE_MAX);
	DLOCK_PIN(DL_USER_AUTO, DLOCK_USER_LIMIT_AUTO);
}

int __init dlock_genl_init(void)
{
	dlock_abi_check();
	return genl_register_family(&dlock_genl_family);
}

void dlock_genl_exit(void)
{
	genl_unregister_family(&dlock_genl_family);
}
