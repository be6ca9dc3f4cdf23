// SPDX-License-Identifier: LGPL-2.1-or-later
/* libdlock: looking at locks (GET one, dump many). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int dlock_parse_entry(struct nlattr *nest, struct dlock_entry *e)
{
	struct nlattr *tb[DLOCK_E_MAX + 1];
	void *value;

	memset(e, 0, sizeof(*e));
	e->remaining_ms = -1;
	if (nla_parse_nested(tb, DLOCK_E_MAX, nest, NULL) < 0)
		return -EBADMSG;
	if (tb[DLOCK_E_MODE])
		e->mode = nla_get_u8(tb[DLOCK_E_MODE]);
	if (tb[DLOCK_E_TOKEN])
		e->token = nla_get_u64(tb[DLOCK_E_TOKEN]);
	if (tb[DLOCK_E_COUNT])
		e->count = nla_get_u32(tb[DLOCK_E_COUNT]);
	if (tb[DLOCK_E_COOKIE])
		e->cookie = nla_get_u64(tb[DLOCK_E_COOKIE]);
	if (tb[DLOCK_E_SESSION])
		e->session = nla_get_u64(tb[DLOCK_E_SESSION]);
	if (tb[DLOCK_E_OWNER_TAG])
		e->tag = nla_get_u64(tb[DLOCK_E_OWNER_TAG]);
	if (tb[DLOCK_E_OWNER])
		e->owner_len = dlock_copy_owner(e->owner, tb[DLOCK_E_OWNER]);
	if (tb[DLOCK_E_PID])
		e->pid = nla_get_u32(tb[DLOCK_E_PID]);
	if (tb[DLOCK_E_UID])
		e->uid = nla_get_u32(tb[DLOCK_E_UID]);
	if (tb[DLOCK_E_COMM])
		snprintf(e->comm, sizeof(e->comm), "%s",
			 nla_get_string(tb[DLOCK_E_COMM]));
	if (tb[DLOCK_E_REMAINING_MS])
		e->remaining_ms = (int64_t)nla_get_u64(tb[DLOCK_E_REMAINING_MS]);
	e->hidden = tb[DLOCK_E_HIDDEN] != NULL;
	if (tb[DLOCK_E_VALUE] && nla_len(tb[DLOCK_E_VALUE]) > 0) {
		value = malloc(nla_len(tb[DLOCK_E_VALUE]));
		if (!value)
			return -ENOMEM;
		memcpy(value, nla_data(tb[DLOCK_E_VALUE]),
		       nla_len(tb[DLOCK_E_VALUE]));
		e->value = value;
		e->value_len = nla_len(tb[DLOCK_E_VALUE]);
	}
	return 0;
}

void dlock_lock_info_free(struct dlock_lock_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; i < info->n_holders; i++)
		free((void *)info->holders[i].value);
	free(info->holders);
	free(info->waiters);
	free(info);
}

/* Builds a struct dlock_lock_info from one GET reply. */
int dlock_lock_info_parse(struct nlattr **tb, struct nlmsghdr *nlh,
			  struct dlock_lock_info **out)
{
	struct dlock_lock_info *li;
	size_t nh = 0, nw = 0;
	struct nlattr *a;
	int rem, err = 0;

	*out = NULL;
	if (!tb[DLOCK_A_NAME])
		return -EBADMSG;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		nh += nla_type(a) == DLOCK_A_HOLDER;
		nw += nla_type(a) == DLOCK_A_WAITER;
	}
	li = calloc(1, sizeof(*li));
	if (!li)
		return -ENOMEM;
	li->holders = calloc(nh ? nh : 1, sizeof(*li->holders));
	li->waiters = calloc(nw ? nw : 1, sizeof(*li->waiters));
	if (!li->holders || !li->waiters) {
		dlock_lock_info_free(li);
		return -ENOMEM;
	}
	li->name_len = nla_len(tb[DLOCK_A_NAME]);
	memcpy(li->name, nla_data(tb[DLOCK_A_NAME]), li->name_len);
	if (tb[DLOCK_A_MODE])
		li->mode = nla_get_u8(tb[DLOCK_A_MODE]);
	if (tb[DLOCK_A_PERMITS])
		li->permits = nla_get_u32(tb[DLOCK_A_PERMITS]);
	li->truncated = tb[DLOCK_A_TRUNCATED] != NULL;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) == DLOCK_A_HOLDER)
			err = dlock_parse_entry(a, &li->holders[li->n_holders++]);
		else if (nla_type(a) == DLOCK_A_WAITER)
			err = dlock_parse_entry(a, &li->waiters[li->n_waiters++]);
		if (err) {
			dlock_lock_info_free(li);
			return err;
		}
	}
	*out = li;
	return 0;
}

static int dlock_parse_get(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct dlock_lock_info **out = arg;

	if (*out)
		return -EBADMSG;	/* one lock, one reply */
	return dlock_lock_info_parse(tb, nlh, out);
}

int dlock_get(struct dlock *d, const char *name, struct dlock_lock_info **info)
{
	struct nl_msg *msg;
	int err;

	*info = NULL;
	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_GET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    (d->linearizable && nla_put_flag(msg, DLOCK_A_LINEARIZABLE))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/* A big lock's reply can exceed the read buffer: size it first. */
	dlock_lock(d);
	nl_socket_enable_msg_peek(d->sk);
	err = dlock_transact(d, msg, dlock_parse_get, info);
	nl_socket_disable_msg_peek(d->sk);
	dlock_unlock(d);
	if (err == 1)
		return 0;
	dlock_lock_info_free(*info);
	*info = NULL;
	return err < 0 ? err : -EBADMSG;
}

struct dlock_list_state {
	dlock_list_cb cb;
	void *arg;
	bool stopped;
	int n;
};

static int dlock_parse_list(struct nlattr **tb, struct nlmsghdr *nlh,
			    void *arg)
{
	struct dlock_list_state *ls = arg;
	struct dlock_lock_info *li;
	int err;

	if (ls->stopped)
		return 0;
	err = dlock_lock_info_parse(tb, nlh, &li);
	if (err)
		return err;
	ls->n++;
	if (ls->cb(li, ls->arg))
		ls->stopped = true;
	dlock_lock_info_free(li);
	return 0;
}

int dlock_list(struct dlock *d, const char *prefix, dlock_list_cb cb,
	       void *arg)
{
	struct dlock_list_state ls = { .cb = cb, .arg = arg };
	struct nl_msg *msg;
	int err;

	if (prefix && *prefix && dlock_check_name(prefix))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if ((prefix && *prefix &&
	     nla_put(msg, DLOCK_A_PREFIX, strlen(prefix), prefix)) ||
	    (d->linearizable && nla_put_flag(msg, DLOCK_A_LINEARIZABLE))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	dlock_lock(d);
	nl_socket_enable_msg_peek(d->sk);
	err = dlock_transact(d, msg, dlock_parse_list, &ls);
	nl_socket_disable_msg_peek(d->sk);
	dlock_unlock(d);
	return err < 0 ? err : ls.n;
}

