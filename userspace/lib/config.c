// SPDX-License-Identifier: LGPL-2.1-or-later
/* libdlock: a namespace's status and limits. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A module that has counters sends all of them. */
static int dlock_parse_counters(struct nlattr **tb, struct dlock_status *st)
{
	static const struct {
		int attr;
		size_t off;
	} map[] = {
		{ DLOCK_C_GRANTS, offsetof(struct dlock_counters, grants) },
		{ DLOCK_C_RELEASES, offsetof(struct dlock_counters, releases) },
		{ DLOCK_C_OWNER_DIED, offsetof(struct dlock_counters, owner_died) },
		{ DLOCK_C_EXPIRED, offsetof(struct dlock_counters, expired) },
		{ DLOCK_C_BREAKS, offsetof(struct dlock_counters, breaks) },
		{ DLOCK_C_WAITS, offsetof(struct dlock_counters, waits) },
		{ DLOCK_C_WAIT_TIMEOUTS,
		  offsetof(struct dlock_counters, wait_timeouts) },
		{ DLOCK_C_DEADLOCKS, offsetof(struct dlock_counters, deadlocks) },
	};
	struct nlattr *ctb[DLOCK_C_MAX + 1];
	size_t i;

	if (!tb[DLOCK_A_STATUS_COUNTERS] || !tb[DLOCK_A_STATUS_LOCKS])
		return 0;
	if (nla_parse_nested(ctb, DLOCK_C_MAX, tb[DLOCK_A_STATUS_COUNTERS],
			     NULL) < 0)
		return -EBADMSG;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!ctb[map[i].attr])
			return -EBADMSG;
		*(uint64_t *)((char *)&st->counters + map[i].off) =
			nla_get_u64(ctb[map[i].attr]);
	}
	st->locks = nla_get_u64(tb[DLOCK_A_STATUS_LOCKS]);
	st->has_counters = 1;
	return 0;
}

static int dlock_parse_status(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg)
{
	struct dlock_status *st = arg;

	(void)nlh;
	if (!tb[DLOCK_A_STATUS_VERSION] || !tb[DLOCK_A_STATUS_LEASES] ||
	    !tb[DLOCK_A_STATUS_WAITERS] || !tb[DLOCK_A_STATUS_REQUESTS] ||
	    !tb[DLOCK_A_STATUS_NETNS_COOKIE])
		return -EBADMSG;
	snprintf(st->version, sizeof(st->version), "%s",
		 nla_get_string(tb[DLOCK_A_STATUS_VERSION]));
	st->leases = nla_get_u64(tb[DLOCK_A_STATUS_LEASES]);
	st->waiters = nla_get_u64(tb[DLOCK_A_STATUS_WAITERS]);
	st->requests = nla_get_u64(tb[DLOCK_A_STATUS_REQUESTS]);
	st->netns_cookie = nla_get_u64(tb[DLOCK_A_STATUS_NETNS_COOKIE]);
	if (tb[DLOCK_A_STATUS_MEMORY])
		st->memory = nla_get_u64(tb[DLOCK_A_STATUS_MEMORY]);
	return dlock_parse_counters(tb, st);
}

static int dlock_status_locked(struct dlock *d, struct dlock_status *st)
{
	struct nl_msg *msg;
	int err;

	memset(st, 0, sizeof(*st));
	msg = dlock_msg(d, DLOCK_CMD_GET_STATUS, 0);
	if (!msg)
		return -ENOMEM;
	err = dlock_transact(d, msg, dlock_parse_status, st);
	if (err < 0)
		return err;
	/* A reply that never came is as bad as a malformed one. */
	return err == 1 ? 0 : -EBADMSG;
}

int dlock_get_status(struct dlock *d, struct dlock_status *st)
{
	int err;

	dlock_lock(d);
	err = dlock_status_locked(d, st);
	dlock_unlock(d);
	return err;
}

/* ---- configuration ---------------------------------------------------- */

static const struct {
	int attr;
	unsigned int bit;
	size_t off;
} dlock_cfg_fields[] = {
	{ DLOCK_A_CFG_MAX_TTL_MS, DLOCK_CFG_MAX_TTL_MS,
	  offsetof(struct dlock_config, max_ttl_ms) },
	{ DLOCK_A_CFG_MAX_LEASES, DLOCK_CFG_MAX_LEASES,
	  offsetof(struct dlock_config, max_leases) },
	{ DLOCK_A_CFG_MAX_WAITERS, DLOCK_CFG_MAX_WAITERS,
	  offsetof(struct dlock_config, max_waiters) },
	{ DLOCK_A_CFG_MAX_SOCKET_LEASES, DLOCK_CFG_MAX_SOCKET_LEASES,
	  offsetof(struct dlock_config, max_socket_leases) },
	{ DLOCK_A_CFG_MAX_SOCKET_WAITERS, DLOCK_CFG_MAX_SOCKET_WAITERS,
	  offsetof(struct dlock_config, max_socket_waiters) },
	/* From here on optional: a kernel before issue 8 has no user limits. */
#define DLOCK_CFG_REQUIRED 5
	{ DLOCK_A_CFG_MAX_USER_LEASES, DLOCK_CFG_MAX_USER_LEASES,
	  offsetof(struct dlock_config, max_user_leases) },
	{ DLOCK_A_CFG_MAX_USER_WAITERS, DLOCK_CFG_MAX_USER_WAITERS,
	  offsetof(struct dlock_config, max_user_waiters) },
	{ DLOCK_A_CFG_MAX_USER_VALUE_BYTES, DLOCK_CFG_MAX_USER_VALUE_BYTES,
	  offsetof(struct dlock_config, max_user_value_bytes) },
	{ DLOCK_A_CFG_USER_LEASES, 0,
	  offsetof(struct dlock_config, user_leases) },
	{ DLOCK_A_CFG_USER_WAITERS, 0,
	  offsetof(struct dlock_config, user_waiters) },
	{ DLOCK_A_CFG_USER_VALUE_BYTES, 0,
	  offsetof(struct dlock_config, user_value_bytes) },
};

#define DLOCK_CFG_FIELD(cfg, i) \
	((uint32_t *)((char *)(cfg) + dlock_cfg_fields[i].off))

static int dlock_parse_config(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg)
{
	size_t i;

	(void)nlh;
	memset(arg, 0, sizeof(struct dlock_config));
	for (i = 0; i < sizeof(dlock_cfg_fields) / sizeof(dlock_cfg_fields[0]); i++) {
		if (!tb[dlock_cfg_fields[i].attr]) {
			if (i < DLOCK_CFG_REQUIRED)
				return -EBADMSG;
			continue;
		}
		*DLOCK_CFG_FIELD(arg, i) = nla_get_u32(tb[dlock_cfg_fields[i].attr]);
	}
	return 0;
}

static int dlock_config_cmd(struct dlock *d, struct dlock_config *cfg,
			    unsigned int set, uint8_t cmd)
{
	struct dlock_config out;
	struct nl_msg *msg;
	size_t i;
	int err;

	msg = dlock_msg(d, cmd, 0);
	if (!msg)
		return -ENOMEM;
	for (i = 0; i < sizeof(dlock_cfg_fields) / sizeof(dlock_cfg_fields[0]); i++) {
		if (!(set & dlock_cfg_fields[i].bit) || !dlock_cfg_fields[i].bit)
			continue;
		if (nla_put_u32(msg, dlock_cfg_fields[i].attr,
				*DLOCK_CFG_FIELD(cfg, i))) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
	}
	err = dlock_transact(d, msg, dlock_parse_config, &out);
	if (err < 0)
		return err;
	if (err != 1)
		return -EBADMSG;
	*cfg = out;
	return 0;
}

int dlock_get_config(struct dlock *d, struct dlock_config *cfg)
{
	int err;

	dlock_lock(d);
	err = dlock_config_cmd(d, cfg, 0, DLOCK_CMD_GET_CONFIG);
	dlock_unlock(d);
	return err;
}

int dlock_set_config(struct dlock *d, struct dlock_config *cfg, unsigned int set)
{
	int err;

	if (!set || set & ~(DLOCK_CFG_MAX_TTL_MS | DLOCK_CFG_MAX_LEASES |
			    DLOCK_CFG_MAX_WAITERS | DLOCK_CFG_MAX_SOCKET_LEASES |
			    DLOCK_CFG_MAX_SOCKET_WAITERS |
			    DLOCK_CFG_MAX_USER_LEASES |
			    DLOCK_CFG_MAX_USER_WAITERS |
			    DLOCK_CFG_MAX_USER_VALUE_BYTES))
		return -EINVAL;
	dlock_lock(d);
	err = dlock_config_cmd(d, cfg, set, DLOCK_CMD_SET_CONFIG);
	dlock_unlock(d);
	return err;
}

