// SPDX-License-Identifier: GPL-2.0
/*
 * The lock commands: turn a validated netlink request into a table command,
 * run it on the requester's namespace, and reply.  The policy checked types
 * and sizes; here go the rules that span attributes, each with an extack
 * message a user can act on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"

/*
 * A table error as the user reads it: the reason the table recorded where
 * the command failed (one errno has several causes), unless the glue said
 * more already.  The table gives one for every failure but -ENOMEM.
 */
static int dlock_explain(struct genl_info *info, const struct dl_cmd *cx,
			 int err)
{
	struct netlink_ext_ack *extack = info->extack;

	if (extack->_msg)
		return err;
	if (cx->why)
		extack->_msg = cx->why;	/* static, as NL_SET_ERR_MSG wants */
	else if (err == -ENOMEM)
		NL_SET_ERR_MSG(extack, "out of memory");
	return err;
}

/* The policy's validator checked its length and bytes. */
static bool dlock_name_ok(struct genl_info *info, const char **name, u32 *len)
{
	struct nlattr *a = info->attrs[DLOCK_A_NAME];

	if (DLOCK_REQUIRE(info, DLOCK_A_NAME, "lock name"))
		return false;
	*name = nla_data(a);
	*len = nla_len(a);
	return true;
}

/* The owner a release, renew or set-value speaks for. */
static int dlock_owner_ref(struct sk_buff *skb, struct genl_info *info,
			   struct dlock_net *dn, struct dl_owner_ref *o)
{
	struct nlattr *own = info->attrs[DLOCK_A_OWNER];
	struct dlock_caller who;

	memset(o, 0, sizeof(*o));
	dlock_caller_of(skb, dn, &who);
	o->uid = who.uid;
	o->privileged = who.privileged;
	if (own) {
		if (info->attrs[DLOCK_A_OWNER_TAG]) {
			NL_SET_ERR_MSG_ATTR(info->extack, own,
					    "give an owner string or an owner tag, not both");
			return -EINVAL;
		}
		o->str = nla_data(own);
		o->len = nla_len(own);
		return 0;
	}
	if (info->attrs[DLOCK_A_OWNER_TAG])
		o->tag = nla_get_u64(info->attrs[DLOCK_A_OWNER_TAG]);
	/* A socket that never locked owns nothing: the table says -EPERM. */
	o->sess = dlock_session_find(dn, skb);
	if (!o->sess) {
		NL_SET_ERR_MSG(info->extack, "lock is not held by this owner");
		return -EPERM;
	}
	return 0;
}

/* Room for every small reply (token, count, cookie, TTL, queued, limits). */
#define DLOCK_SMALL_REPLY 128

/*
 * Allocated before the command runs: once it changed the table, a grant or a
 * release must not be answered with an error for want of memory.  Small:
 * replies queue behind notifications in the same buffer.
 */
static struct sk_buff *dlock_reply_new(void)
{
	return genlmsg_new(DLOCK_SMALL_REPLY, GFP_KERNEL);
}

/*
 * Fills and sends @msg (consumed).  The command succeeded: a reply the
 * socket has no room for is not turned into an error (netlink flags the
 * socket with ENOBUFS instead).
 */
static int dlock_reply(struct sk_buff *msg, struct genl_info *info, u8 cmd,
		       int (*fill)(struct sk_buff *msg, void *arg), void *arg)
{
	void *hdr;

	hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0, cmd);
	if (!hdr || fill(msg, arg)) {
		/* Cannot happen: every reply fits DLOCK_SMALL_REPLY. */
		nlmsg_free(msg);
		return 0;
	}
	genlmsg_end(msg, hdr);
	genlmsg_reply(msg, info);
	return 0;
}

/* ---- acquire ---------------------------------------------------------- */

struct dlock_acquire {
	struct dl_acquire_req rq;
	struct dl_acquire_res res;
	struct dlock_meta meta;
	u32 ttl_ms;		/* the TTL granted: asked for, cut to the cap */
	bool queued;
};

/* The TTL the table grants for @ttl_ms: a client renews by it. */
static u32 dlock_granted_ttl(struct dlock_net *dn, u32 ttl_ms)
{
	struct dl_table_limits lim;

	dl_table_get_limits(dn->table, &lim);
	return lim.max_ttl_ms ? min(ttl_ms, lim.max_ttl_ms) : ttl_ms;
}

static int dlock_acquire_parse(struct genl_info *info, struct dlock_acquire *a)
{
	struct nlattr **attrs = info->attrs;
	struct dl_acquire_req *rq = &a->rq;
	const char *name;
	u32 len;

	if (!dlock_name_ok(info, &name, &len))
		return -EINVAL;
	rq->name = name;
	rq->name_len = len;
	rq->mode = attrs[DLOCK_A_MODE] ? nla_get_u8(attrs[DLOCK_A_MODE]) :
					 DL_MODE_EXCLUSIVE;
	rq->flags = attrs[DLOCK_A_FLAGS] ? nla_get_u32(attrs[DLOCK_A_FLAGS]) : 0;
	rq->ttl_ms = attrs[DLOCK_A_TTL_MS] ? nla_get_u32(attrs[DLOCK_A_TTL_MS]) : 0;
	rq->wait_ms = attrs[DLOCK_A_WAIT_MS] ?
		      nla_get_u32(attrs[DLOCK_A_WAIT_MS]) : 0;
	rq->cookie = attrs[DLOCK_A_COOKIE] ?
		     nla_get_u64(attrs[DLOCK_A_COOKIE]) : 0;

	if (rq->mode == DL_MODE_SEMAPHORE) {
		if (!attrs[DLOCK_A_PERMITS]) {
			NL_SET_ERR_MSG(info->extack, "a semaphore needs its number of permits");
			return -EINVAL;
		}
		rq->permits = nla_get_u32(attrs[DLOCK_A_PERMITS]);
	} else if (attrs[DLOCK_A_PERMITS]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DLOCK_A_PERMITS],
				    "permits apply to semaphores only");
		return -EINVAL;
	}

	if (rq->flags & DLOCK_F_DETACHED) {
		if (!attrs[DLOCK_A_OWNER]) {
			NL_SET_ERR_MSG(info->extack, "a detached lease needs an owner string");
			return -EINVAL;
		}
		if (rq->flags & DLOCK_F_NO_TTL || !rq->ttl_ms) {
			NL_SET_ERR_MSG(info->extack, "a detached lease needs a TTL");
			return -EINVAL;
		}
		if (attrs[DLOCK_A_OWNER_TAG]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DLOCK_A_OWNER_TAG],
					    "a detached lease is owned by its owner string, not a tag");
			return -EINVAL;
		}
		rq->owner = nla_data(attrs[DLOCK_A_OWNER]);
		rq->owner_len = nla_len(attrs[DLOCK_A_OWNER]);
	} else {
		if (attrs[DLOCK_A_OWNER]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DLOCK_A_OWNER],
					    "an owner string needs the detached flag");
			return -EINVAL;
		}
		if (rq->flags & DLOCK_F_NO_TTL && rq->ttl_ms) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DLOCK_A_TTL_MS],
					    "a lease without TTL cannot have a TTL");
			return -EINVAL;
		}
		if (!(rq->flags & DLOCK_F_NO_TTL) && !rq->ttl_ms) {
			NL_SET_ERR_MSG(info->extack, "a TTL is required (or the no-TTL flag)");
			return -EINVAL;
		}
		rq->tag = attrs[DLOCK_A_OWNER_TAG] ?
			  nla_get_u64(attrs[DLOCK_A_OWNER_TAG]) : 0;
	}
	if (rq->flags & DLOCK_F_TRY && rq->wait_ms) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DLOCK_A_WAIT_MS],
				    "a try-acquire does not wait");
		return -EINVAL;
	}
	return 0;
}

static void dlock_meta_fill(struct dlock_meta *m)
{
	m->pid = task_tgid_vnr(current);
	get_task_comm(m->comm, current);
}

/*
 * The sender's credentials as netlink recorded them, its uid as seen from
 * the user namespace that owns the network namespace (the table's view of
 * users), and whether it has CAP_NET_ADMIN there, as GENL_UNS_ADMIN_PERM
 * would check it (the socket's opener and the sender both).
 */
void dlock_caller_of(const struct sk_buff *skb, struct dlock_net *dn,
		     struct dlock_caller *c)
{
	struct user_namespace *ns = dn->net->user_ns;

	c->uid = from_kuid_munged(ns, NETLINK_CB(skb).creds.uid);
	c->privileged = netlink_ns_capable(skb, ns, CAP_NET_ADMIN);
}

static int dlock_do_acquire(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_acquire *a = arg;

	return dl_acquire(ctx->dn->table, &ctx->cx, &a->rq, &a->res);
}

static int dlock_fill_acquire(struct sk_buff *msg, void *arg)
{
	struct dlock_acquire *a = arg;

	if (a->ttl_ms && nla_put_u32(msg, DLOCK_A_TTL_MS, a->ttl_ms))
		return -EMSGSIZE;
	if (a->queued)
		return nla_put_flag(msg, DLOCK_A_QUEUED) ||
		       nla_put_u64_64bit(msg, DLOCK_A_COOKIE, a->rq.cookie,
					 DLOCK_A_PAD);
	return nla_put_u64_64bit(msg, DLOCK_A_TOKEN, a->res.token,
				 DLOCK_A_PAD) ||
	       nla_put_u32(msg, DLOCK_A_COUNT, a->res.count);
}

/* The requester is the owner of what its acquire is granted at once. */
static void dlock_acquire_actor(const struct dl_acquire_req *rq,
				struct dlock_actor *act)
{
	act->pid = task_tgid_nr(current);
	act->session_id = dl_session_id(rq->sess);
	act->tag = rq->tag;
	act->str = rq->flags & DL_ACQ_DETACHED ? rq->owner : NULL;
	act->len = rq->owner_len;
}

int dlock_nl_acquire(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_acquire a = {};
	struct dlock_actor actor;
	struct dlock_caller who;
	struct dlock_ctx ctx;
	struct sk_buff *msg;
	bool may_queue;
	int err;

	atomic64_inc(&dn->requests);
	err = dlock_acquire_parse(info, &a);
	if (err)
		return err;
	if (dlock_clustered(dn))
		return dlock_cl_acquire(skb, info, &a.rq);
	a.rq.sess = dlock_session_get(dn, skb);
	if (!a.rq.sess)
		return -ENOMEM;
	dlock_meta_fill(&a.meta);
	a.rq.meta = &a.meta;
	dlock_caller_of(skb, dn, &who);
	a.rq.uid = who.uid;
	a.rq.privileged = who.privileged;
	may_queue = !(a.rq.flags & DL_ACQ_TRY);
	msg = dlock_reply_new();
	if (!msg || (may_queue &&
		     dlock_wait_reserve(dn, skb, a.rq.name_len))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}

	dlock_ctx_init(&ctx, dn);
	dlock_acquire_actor(&a.rq, &actor);
	ctx.actor = &actor;
	err = dlock_run(&ctx, a.rq.name, a.rq.name_len, dlock_do_acquire, &a);
	if (may_queue && err != DL_QUEUED)
		dlock_wait_unreserve(dn, skb, a.rq.name_len);
	if (err == DL_QUEUED)
		dlock_obs_queued(dn, &a.rq);
	else if (err == -EDEADLK)
		dlock_obs_deadlock(dn, &a.rq, ctx.cx.why);
	if (err < 0) {
		nlmsg_free(msg);
		if (err == -ENOMEM && dlock_unloading()) {
			NL_SET_ERR_MSG(info->extack, "dlock is being unloaded");
			return -ESHUTDOWN;
		}
		return dlock_explain(info, &ctx.cx, err);
	}
	a.queued = err == DL_QUEUED;
	if (a.rq.ttl_ms)
		a.ttl_ms = dlock_granted_ttl(dn, a.rq.ttl_ms);
	return dlock_reply(msg, info, DLOCK_CMD_ACQUIRE, dlock_fill_acquire, &a);
}

/* ---- release, renew, set value --------------------------------------- */

struct dlock_owned {
	const char *name;
	u32 len;
	struct dl_owner_ref owner;
	u32 ttl_ms;
	u32 count;
	const void *value;
	u32 value_len;
	u64 cookie;
	u64 token;
	struct dl_session *sess;
};

static int dlock_owned_parse(struct sk_buff *skb, struct genl_info *info,
			     struct dlock_net *dn, struct dlock_owned *o)
{
	if (!dlock_name_ok(info, &o->name, &o->len))
		return -EINVAL;
	return dlock_owner_ref(skb, info, dn, &o->owner);
}

static int dlock_do_release(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_owned *o = arg;

	return dl_release(ctx->dn->table, &ctx->cx, o->name, o->len, &o->owner,
			  &o->count);
}

static int dlock_fill_count(struct sk_buff *msg, void *arg)
{
	struct dlock_owned *o = arg;

	return nla_put_u32(msg, DLOCK_A_COUNT, o->count);
}

static int dlock_fill_none(struct sk_buff *msg, void *arg)
{
	return 0;
}

static int dlock_owned_cmd(struct sk_buff *skb, struct genl_info *info,
			   int (*fn)(struct dlock_ctx *ctx, void *arg),
			   struct dlock_owned *o,
			   int (*fill)(struct sk_buff *msg, void *arg))
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_actor actor = {};
	struct dlock_ctx ctx;
	struct sk_buff *msg;
	int err;

	atomic64_inc(&dn->requests);
	if (dlock_clustered(dn))
		return dlock_cl_command(skb, info);
	err = dlock_owned_parse(skb, info, dn, o);
	if (err)
		return err;
	msg = dlock_reply_new();
	if (!msg)
		return -ENOMEM;
	dlock_ctx_init(&ctx, dn);
	/* The owner's own request: its release is traced with its pid. */
	actor.pid = task_tgid_nr(current);
	actor.str = o->owner.str;
	actor.len = o->owner.len;
	if (o->owner.sess)
		actor.session_id = dl_session_id(o->owner.sess);
	actor.tag = o->owner.tag;
	ctx.actor = &actor;
	err = dlock_run(&ctx, o->name, o->len, fn, o);
	if (err < 0) {
		nlmsg_free(msg);
		return dlock_explain(info, &ctx.cx, err);
	}
	return dlock_reply(msg, info, info->genlhdr->cmd, fill, o);
}

int dlock_nl_release(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_owned o = {};

	return dlock_owned_cmd(skb, info, dlock_do_release, &o, dlock_fill_count);
}

static int dlock_do_renew(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_owned *o = arg;

	return dl_renew(ctx->dn->table, &ctx->cx, o->name, o->len, &o->owner,
			o->ttl_ms);
}

int dlock_nl_renew(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_owned o = {};

	if (DLOCK_REQUIRE(info, DLOCK_A_TTL_MS, "TTL"))
		return -EINVAL;
	o.ttl_ms = nla_get_u32(info->attrs[DLOCK_A_TTL_MS]);
	if (!o.ttl_ms) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[DLOCK_A_TTL_MS],
				    "a renewal needs a TTL above zero");
		return -EINVAL;
	}
	return dlock_owned_cmd(skb, info, dlock_do_renew, &o, dlock_fill_none);
}

static int dlock_do_set_value(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_owned *o = arg;

	return dl_set_value(ctx->dn->table, &ctx->cx, o->name, o->len,
			    &o->owner, o->value, o->value_len);
}

int dlock_nl_set_value(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_owned o = {};

	if (DLOCK_REQUIRE(info, DLOCK_A_VALUE, "value"))
		return -EINVAL;
	o.value = nla_data(info->attrs[DLOCK_A_VALUE]);
	o.value_len = nla_len(info->attrs[DLOCK_A_VALUE]);
	return dlock_owned_cmd(skb, info, dlock_do_set_value, &o,
			       dlock_fill_none);
}

/* ---- cancel, break ---------------------------------------------------- */

static int dlock_do_cancel(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_owned *o = arg;

	return dl_cancel(ctx->dn->table, &ctx->cx, o->name, o->len, o->sess,
			 o->cookie);
}

static int dlock_do_break(struct dlock_ctx *ctx, void *arg)
{
	struct dlock_owned *o = arg;

	return dl_break(ctx->dn->table, &ctx->cx, o->name, o->len, o->token);
}

static int dlock_name_cmd(struct sk_buff *skb, struct genl_info *info,
			  int (*fn)(struct dlock_ctx *ctx, void *arg),
			  struct dlock_owned *o)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_ctx ctx;
	int err;

	atomic64_inc(&dn->requests);
	if (dlock_clustered(dn))
		return dlock_cl_command(skb, info);
	if (!dlock_name_ok(info, &o->name, &o->len))
		return -EINVAL;
	if (fn == dlock_do_cancel) {
		o->sess = dlock_session_find(dn, skb);
		if (!o->sess) {
			NL_SET_ERR_MSG(info->extack, "no such queued request");
			return -ENOENT;
		}
	}
	dlock_ctx_init(&ctx, dn);
	err = dlock_run(&ctx, o->name, o->len, fn, o);
	if (err < 0)
		return dlock_explain(info, &ctx.cx, err);
	/* A cancelled wait needs its WAIT_DONE no more. */
	if (fn == dlock_do_cancel)
		dlock_wait_unreserve(dn, skb, o->len);
	return 0;
}

int dlock_nl_cancel(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_owned o = {};

	if (DLOCK_REQUIRE(info, DLOCK_A_COOKIE, "request cookie"))
		return -EINVAL;
	o.cookie = nla_get_u64(info->attrs[DLOCK_A_COOKIE]);
	return dlock_name_cmd(skb, info, dlock_do_cancel, &o);
}

int dlock_nl_break(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_owned o = {};

	if (info->attrs[DLOCK_A_TOKEN])
		o.token = nla_get_u64(info->attrs[DLOCK_A_TOKEN]);
	return dlock_name_cmd(skb, info, dlock_do_break, &o);
}
