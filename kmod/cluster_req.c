// SPDX-License-Identifier: GPL-2.0
/*
 * Local clients of a cluster node.  Each netlink socket that sends a lock
 * command is one client of the core (a client id unique across this node's
 * boots, request ids increasing); its command goes through repl_request()
 * (the core forwards it to the leader) and the handler sleeps until the
 * command is applied here (env->reply), sending it again with the same
 * request id while no answer came (the core's dedup makes that safe), or
 * gives up with an error (an acquire given up on is kept: cluster_orphan.c).
 * A queued acquire's outcome and a lost lease come from the table while it
 * applies (cluster_answer.c).  A closed socket's CLIENT_END is sent until it
 * is answered.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

/*
 * How long a request waits for its answer, how often it is re-sent, and how
 * often one the core refused for now (no leader yet, lock-delay, log full)
 * is offered again: an election takes about cluster_elect_ms, and a client
 * should see it as a slower answer, not as an error.
 */
static unsigned int cluster_answer_ms = 3000;
module_param(cluster_answer_ms, uint, 0644);
MODULE_PARM_DESC(cluster_answer_ms, "cluster: a lock command not answered in this long fails (ETIMEDOUT or EAGAIN), ms");
#define DLOCK_CL_RESEND_MS	300
#define DLOCK_CL_OFFER_MS	50
#define NS_MS			1000000ULL

/* ---- clients ---------------------------------------------------------- */

/* A client's pin on the module (dlock_cl_client_get() says why). */
static bool dlock_cl_pin(struct dlock_cluster *c)
{
#ifdef DLOCK_PLANT_CL_NO_PIN
	return true;
#else
	return dlock_pin(c->dn);
#endif
}

static void dlock_cl_unpin(struct dlock_cluster *c)
{
#ifndef DLOCK_PLANT_CL_NO_PIN
	dlock_unpin(c->dn);
#endif
}

static void dlock_cl_client_free(struct dlock_cluster *c,
				 struct dlock_cl_client *cl)
{
	struct dlock_cl_wait *w, *n;

	list_for_each_entry_safe(w, n, &cl->waits, node)
		kfree(w);
	dlock_cl_orphans_free(cl);
	sock_put(cl->sk);
	kfree(cl);
	dlock_cl_unpin(c);
}

/*
 * The client of the socket that sent @skb, made on its first command.
 *
 * Each client pins the module (pin.c), as a lease does on a single node:
 * unloading would leave a process that holds a cluster lease with nobody
 * to tell it when the other nodes end that lease.  Its socket's close, or
 * the instance's stop (leave, namespace exit), lets go.
 */
static struct dlock_cl_client *dlock_cl_client_get(struct dlock_cluster *c,
						   const struct sk_buff *skb)
{
	u32 portid = NETLINK_CB(skb).portid;
	struct sock *sk = NETLINK_CB(skb).sk;
	struct dlock_cl_client *cl;

	lockdep_assert_held(&c->lock);
	cl = xa_load(&c->clients, portid);
	if (cl && cl->sk == sk)
		return cl;
	if (cl)	/* an older socket on this port id, closing: it is ended */
		return ERR_PTR(-EBUSY);
	if (!dlock_cl_pin(c))
		return ERR_PTR(-ESHUTDOWN);
	cl = kzalloc(sizeof(*cl), GFP_KERNEL_ACCOUNT);
	if (!cl) {
		dlock_cl_unpin(c);
		return ERR_PTR(-ENOMEM);
	}
	cl->portid = portid;
	cl->sk = sk;
	cl->id = ++c->next_client;
	mutex_init(&cl->lock);
	INIT_LIST_HEAD(&cl->waits);
	INIT_LIST_HEAD(&cl->orphans);
	if (xa_err(xa_store(&c->clients, portid, cl, GFP_KERNEL)))
		goto free;
	if (xa_err(xa_store(&c->by_id, cl->id, cl, GFP_KERNEL))) {
		xa_erase(&c->clients, portid);
		goto free;
	}
	sock_hold(sk);
	return cl;
free:
	kfree(cl);
	dlock_cl_unpin(c);
	return ERR_PTR(-ENOMEM);
}

/*
 * The instance stops (leave, reconfiguration, namespace exit, unload) and
 * nothing here will answer its clients again: each queued wait gets its
 * WAIT_DONE now (-ESHUTDOWN), and a client holding a lease in the cluster
 * table learns that it may miss a LOST (ENOBUFS, as after an overflow):
 * the lease stays in the cluster until the other nodes end this node's
 * session, and this node can tell its holder nothing more.
 */
void dlock_cl_clients_stop(struct dlock_cluster *c)
{
	struct dlock_cl_wait *w, *n;
	struct dlock_cl_client *cl;
	unsigned long i;

	mutex_lock(&c->lock);
	xa_for_each(&c->clients, i, cl) {
#ifndef DLOCK_PLANT_CL_STOP_SILENT
		list_for_each_entry_safe(w, n, &cl->waits, node)
			dlock_cl_wait_send(c, cl, w, -ESHUTDOWN, 0);
		if (table_sm_client_holds(c->sm, c->self, cl->id))
			dlock_sock_missed(cl->sk);
#endif
	}
	mutex_unlock(&c->lock);
}

void dlock_cl_clients_free(struct dlock_cluster *c)
{
	struct dlock_cl_ending *e, *n;
	struct dlock_cl_client *cl;
	unsigned long i;

	xa_for_each(&c->clients, i, cl)
		dlock_cl_client_free(c, cl);
	xa_destroy(&c->clients);
	xa_destroy(&c->by_id);
	list_for_each_entry_safe(e, n, &c->ending, node)
		kfree(e);
}

/* ---- socket close ----------------------------------------------------- */

static void dlock_cl_send_ending(struct dlock_cluster *c,
				 struct dlock_cl_ending *e, u64 now)
{
	if (!repl_request(c->r, &e->cmd, now))
		e->sent = now;
}

/* Each CLIENT_END not answered: again, a second after it was last sent. */
void dlock_cl_retry_ending(struct dlock_cluster *c, u64 now)
{
	struct dlock_cl_ending *e, *n;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe(e, n, &c->ending, node)
		if (!e->sent || now - e->sent > 1000 * NS_MS)
			dlock_cl_send_ending(c, e, now);
}

/*
 * NETLINK_URELEASE of @portid: if that socket was a client, its session
 * ends cluster-wide (its socket-bound leases and waits go on every node).
 */
void dlock_cl_sock_closed(struct dlock_net *dn, u32 portid)
{
	struct dlock_cl_client *cl;
	struct dlock_cl_ending *e;
	struct dlock_cluster *c;

	if (!dlock_clustered(dn))
		return;
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	if (!c)
		goto out;
	mutex_lock(&c->lock);
	cl = xa_load(&c->clients, portid);
	if (!cl || !sock_flag(cl->sk, SOCK_DEAD))
		goto unlock;
	xa_erase(&c->clients, portid);
	xa_erase(&c->by_id, cl->id);
	/*
	 * The orphan work may be undoing something in this client's name:
	 * it holds the client's mutex until then, and the CLIENT_END must
	 * come after its requests.  Nothing finds the client any more.
	 */
	mutex_unlock(&c->lock);
	mutex_lock(&cl->lock);
	mutex_lock(&c->lock);
	mutex_unlock(&cl->lock);
#ifndef DLOCK_PLANT_CL_NO_CLIENT_END
	e = cl->used && !c->dying ? kzalloc(sizeof(*e), GFP_KERNEL) : NULL;
	if (e && !tsm_encode(&e->cmd, REPL_OP_CLIENT_END, 0, cl->id,
			     cl->req + 1, NULL)) {
		list_add_tail(&e->node, &c->ending);
		dlock_cl_send_ending(c, e, ktime_get_ns());
		dlock_cluster_rearm(c);
	} else {
		kfree(e);
	}
#endif
	dlock_cl_client_free(c, cl);
unlock:
	mutex_unlock(&c->lock);
out:
	up_read(&dn->cluster_sem);
}

/* ---- requests --------------------------------------------------------- */

static int dlock_cl_request_error(struct netlink_ext_ack *ack, int err)
{
	switch (err) {
	case -EAGAIN:
		NL_SET_ERR_MSG(ack, "cluster: no leader yet, this node's start not committed yet, or the leader is in its lock-delay; retry");
		break;
	case -EBUSY:
		NL_SET_ERR_MSG(ack, "cluster: the replicated log is full; retry");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG(ack, "cluster: command refused by the replication core (TTL above the cluster's maximum?)");
		break;
	case -EOVERFLOW:
		NL_SET_ERR_MSG(ack, "cluster: this node has used up its client ids in this cluster's life");
		break;
	}
	return err;
}

/* An error the table gave, as the user reads it (the table's own reason is
 * not replicated).
 */
static int dlock_cl_table_error(struct netlink_ext_ack *ack, u8 op, int err)
{
	switch (err) {
	case -EAGAIN:
		NL_SET_ERR_MSG(ack, "lock is held");
		break;
	case -EPERM:
		if (op == REPL_OP_BREAK)
			NL_SET_ERR_MSG(ack, "breaking a lock needs CAP_NET_ADMIN");
		else
			NL_SET_ERR_MSG(ack, "lock is not held by this owner");
		break;
	case -ENOENT:
		NL_SET_ERR_MSG(ack, "no such lock, lease or queued request");
		break;
	case -EDEADLK:
		NL_SET_ERR_MSG(ack, "waiting would deadlock");
		break;
	case -ESHUTDOWN:
		NL_SET_ERR_MSG(ack, "this socket's session has ended");
		break;
	case -ESTALE:
		NL_SET_ERR_MSG(ack, "cluster: request superseded by a newer one of this socket");
		break;
	case -ENOSPC:
		NL_SET_ERR_MSG(ack, "cluster: the cluster table's limit of leases or queued requests is reached");
		break;
	case -EKEYEXPIRED:
		NL_SET_ERR_MSG(ack, "cluster: the cluster's request table forgot this socket and would not take it back; retry on a new socket");
		break;
	case -EUSERS:
		NL_SET_ERR_MSG(ack, "cluster: every slot of the cluster's request table belongs to a client holding or waiting for a lock; retry later");
		break;
	case -EDQUOT:
		NL_SET_ERR_MSG(ack, "cluster: a limit of this socket or of this user (leases, queued requests, value bytes, or users holding locks) in the cluster table is reached");
		break;
	}
	return err;
}

/*
 * The leader did not take this node's forwarded @cmd for now: its client is
 * told so when its answer window ends, unless a later copy is taken.
 */
void dlock_cl_refused(void *ctx, const struct repl_cmd *cmd, int err)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_pending *p;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(p, &c->pending, node)
		if (p->client == cmd->client && p->req == cmd->req) {
			p->refused = err;
			return;
		}
}

/* Only these refusals of the core pass: the request is offered again. */
static bool dlock_cl_refusal_passes(int err)
{
	return err == -EAGAIN || err == -EBUSY;
}

/*
 * Runs @cmd as the next request of @cl and waits for its answer in @p.
 * A request the core refused for now is offered again until it is taken or
 * the answer's deadline passes; one never taken has had no effect, so its
 * refusal is what the caller gets, not ETIMEDOUT.  cl->lock held.
 * A follower's request the leader refused for now (its lock-delay) fails
 * with that refusal too, yet a copy of it may still be on its way: p->sent
 * says so.  Returns 0 (answer in p->res), -ETIMEDOUT or -EINTR (taken, no
 * answer: it may still be applied), or the refusal of the core or leader.
 */
int dlock_cl_exec_once(struct dlock_cluster *c, struct dlock_cl_client *cl,
		       struct repl_cmd *cmd, struct dlock_cl_pending *p)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(cluster_answer_ms);
	bool taken;
	long left;
	int err;

	lockdep_assert_held(&cl->lock);
	mutex_lock(&c->lock);
	init_completion(&p->comp);
	p->cl = cl;
	p->client = cl->id;
	p->req = ++cl->req;
	cmd->client = p->client;
	cmd->req = p->req;
	cl->used = true;
	err = c->dying ? -ESHUTDOWN : repl_request(c->r, cmd, ktime_get_ns());
#ifdef DLOCK_PLANT_CL_NO_OFFER_AGAIN
	/* Planted bug: a refusal for now goes straight to the client. */
	if (err == -EAGAIN) {
		mutex_unlock(&c->lock);
		return err;
	}
#endif
	taken = !err;
	p->sent = taken;
	if (taken || dlock_cl_refusal_passes(err)) {
		list_add_tail(&p->node, &c->pending);
		if (taken)
			dlock_cluster_rearm(c);
	}
	mutex_unlock(&c->lock);
	if (!taken && !dlock_cl_refusal_passes(err))
		return err;
#ifdef DLOCK_PLANT_CL_REPLY_EARLY
	/* Planted bug: answered when accepted, not when applied. */
	mutex_lock(&c->lock);
	p->done = true;
	left = 0;
	goto answered;
#endif
	for (;;) {
		left = wait_for_completion_killable_timeout(&p->comp,
				msecs_to_jiffies(taken ? DLOCK_CL_RESEND_MS :
						 DLOCK_CL_OFFER_MS));
		mutex_lock(&c->lock);
		if (p->done || left < 0 || p->given_up ||
		    time_after(jiffies, deadline))
			break;
		/*
		 * Not answered (the leader may have changed) or not taken
		 * yet: offered again under the same request id.
		 */
		if (!c->dying) {
			int e = repl_request(c->r, cmd, ktime_get_ns());

			if (!e) {
				taken = true;
				p->sent = true;
				dlock_cluster_rearm(c);
			} else if (!taken) {
				err = e;
			}
		}
		mutex_unlock(&c->lock);
	}
#ifdef DLOCK_PLANT_CL_REPLY_EARLY
answered:
#endif
	list_del_init(&p->node);
	if (p->done)
		err = 0;
	else if (left < 0)
		err = -EINTR;
	else if (p->refused)
		err = p->refused;
	else if (taken)
		err = -ETIMEDOUT;
	mutex_unlock(&c->lock);
	return err;
}

/*
 * Runs @cmd for the client of @skb (dlock_cl_exec()); an ACQUIRE left
 * without an answer is kept as an orphan, and once this request is
 * answered the client's earlier orphans are undone (cluster_orphan.c).
 * Returns 0 (answer in p->res) or -errno with an extack message.
 */
static int dlock_cl_run(struct dlock_cluster *c, const struct sk_buff *skb,
			struct netlink_ext_ack *ack, struct repl_cmd *cmd,
			struct dlock_cl_pending *p)
{
	struct dlock_cl_client *cl;
	int err;

	mutex_lock(&c->lock);
	cl = c->dying ? ERR_PTR(-ESHUTDOWN) : dlock_cl_client_get(c, skb);
	if (!IS_ERR(cl) && cmd->op == REPL_OP_ACQUIRE) {
#ifndef DLOCK_PLANT_CL_USER_UNCAPPED
		err = dlock_cl_user_room(c, cl, p);
		if (err) {
			mutex_unlock(&c->lock);
			NL_SET_ERR_MSG(ack, "cluster: this user's clients holding or waiting for locks on this node reached their limit (a sixteenth of the cluster's client slots)");
			return err;
		}
#endif
		cl->uid = p->uid;
	}
	mutex_unlock(&c->lock);
	if (cl == ERR_PTR(-ESHUTDOWN) && dlock_unloading())
		NL_SET_ERR_MSG(ack, "dlock is being unloaded");
	else if (cl == ERR_PTR(-ESHUTDOWN))
		NL_SET_ERR_MSG(ack, "cluster: this node is leaving or being reconfigured; retry");
	else if (IS_ERR(cl))
		NL_SET_ERR_MSG(ack, "cluster: cannot register this socket as a client");
	if (IS_ERR(cl))
		return PTR_ERR(cl);
	mutex_lock(&cl->lock);
	err = dlock_cl_exec(c, cl, cmd, p);
	if (err && p->sent) {
		mutex_lock(&c->lock);
		dlock_cl_orphan_add(c, cl, cmd);
		mutex_unlock(&c->lock);
	} else if (!err) {
#ifndef DLOCK_PLANT_CL_NO_SETTLE
		dlock_cl_orphans_settle(c, cl, p->req);
#endif
	}
	mutex_unlock(&cl->lock);
	if (err == -ETIMEDOUT)
		NL_SET_ERR_MSG(ack, "cluster: no answer in time (no leader reachable?); the command may still take effect");
	else if (!err && p->res.status < 0)
		err = dlock_cl_table_error(ack, cmd->op,
					   p->res.status);
	else if (err && err != -EINTR)
		err = dlock_cl_request_error(ack, err);
	return err;
}

/*
 * A read barrier for the client of @skb (DLOCK_A_LINEARIZABLE): a BARRIER
 * entry through the leader's log, answered when this node applies it, so
 * this node has then applied everything committed before the request came.
 * The caller holds cluster_sem (read) on @c.
 */
int dlock_cl_barrier(struct dlock_cluster *c, const struct sk_buff *skb,
		     struct netlink_ext_ack *ack)
{
	struct dlock_cl_pending p = {};
	struct repl_cmd *cmd;
	int err;

	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	err = tsm_encode(cmd, REPL_OP_BARRIER, 0, 0, 0, NULL);
	if (!err)
		err = dlock_cl_run(c, skb, ack, cmd, &p);
	kfree(cmd);
	if (err == -ETIMEDOUT)
		NL_SET_ERR_MSG(ack, "cluster: a linearizable read needs the leader, which did not answer in time");
	return err;
}

/* The instance, read-locked, or NULL (then single-node mode serves). */
static struct dlock_cluster *dlock_cl_enter(struct dlock_net *dn)
{
	down_read(&dn->cluster_sem);
	if (dn->cluster)
		return dn->cluster;
	up_read(&dn->cluster_sem);
	return NULL;
}

static void dlock_cl_leave(struct dlock_net *dn)
{
	up_read(&dn->cluster_sem);
}

static int dlock_cl_reply_msg(struct genl_info *info,
			      int (*fill)(struct sk_buff *, void *), void *arg)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dlock_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || fill(msg, arg)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

struct dlock_cl_acq {
	struct dlock_cl_pending p;
	u32 ttl_ms;
};

static int dlock_cl_fill_acquire(struct sk_buff *msg, void *arg)
{
	struct dlock_cl_acq *a = arg;

	if (a->ttl_ms && nla_put_u32(msg, DLOCK_A_TTL_MS, a->ttl_ms))
		return -EMSGSIZE;
	if (a->p.res.status == REPL_QUEUED)
		return nla_put_flag(msg, DLOCK_A_QUEUED) ||
		       nla_put_u64_64bit(msg, DLOCK_A_COOKIE, a->p.cookie,
					 DLOCK_A_PAD);
	return nla_put_u64_64bit(msg, DLOCK_A_TOKEN, a->p.res.token,
				 DLOCK_A_PAD) ||
	       nla_put_u32(msg, DLOCK_A_COUNT, a->p.res.count);
}

/* A parsed acquire (lockcmd.c checked it) in cluster mode. */
int dlock_cl_acquire(struct sk_buff *skb, struct genl_info *info,
		     const struct dl_acquire_req *rq)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_cl_acq a = {};
	struct tsm_body b = {};
	struct dlock_caller who;
	struct dlock_cluster *c;
	struct repl_cmd *cmd;
	int err;

	c = dlock_cl_enter(dn);
	if (!c) {
		NL_SET_ERR_MSG(info->extack, "cluster: this node left the cluster meanwhile; retry");
		return -EAGAIN;
	}
	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	if (!cmd) {
		err = -ENOMEM;
		goto out;
	}
	dlock_caller_of(skb, dn, &who);
	b.name = rq->name;
	b.name_len = rq->name_len;
	b.mode = rq->mode;
	b.flags = rq->flags;
	b.permits = rq->permits;
	b.wait_ms = rq->wait_ms;
	b.uid = who.uid;
	b.privileged = who.privileged;
	b.tag = rq->tag;
	b.cookie = rq->cookie;
	b.owner = rq->owner;
	b.owner_len = rq->owner_len;
	err = tsm_encode(cmd, REPL_OP_ACQUIRE, 0, 0, 0, &b);
	if (err) {
		NL_SET_ERR_MSG(info->extack, "cluster: command too long for one log entry");
		goto out;
	}
	/* Cut to the cluster's cap, as a single node cuts to its own. */
	a.ttl_ms = min(rq->ttl_ms, (u32)div_u64(c->rcfg.max_ttl_ns, NS_MS));
	cmd->ttl = (u64)a.ttl_ms * NS_MS;
	a.p.name = rq->name;
	a.p.name_len = rq->name_len;
	a.p.cookie = rq->cookie;
	a.p.tag = rq->tag;
	a.p.owner = rq->owner;
	a.p.owner_len = rq->owner_len;
	a.p.uid = who.uid;
	a.p.privileged = who.privileged;
	err = dlock_cl_run(c, skb, info->extack, cmd, &a.p);
	if (!err)
		err = dlock_cl_reply_msg(info, dlock_cl_fill_acquire, &a);
out:
	kfree(cmd);
	dlock_cl_leave(dn);
	return err;
}

static int dlock_cl_fill_count(struct sk_buff *msg, void *arg)
{
	struct dlock_cl_pending *p = arg;

	return nla_put_u32(msg, DLOCK_A_COUNT, p->res.count);
}

static int dlock_cl_fill_none(struct sk_buff *msg, void *arg)
{
	return 0;
}

/* The owner a release, renew or set-value speaks for. */
static int dlock_cl_owner(struct genl_info *info, struct tsm_body *b)
{
	struct nlattr *own = info->attrs[DLOCK_A_OWNER];

	if (own && info->attrs[DLOCK_A_OWNER_TAG]) {
		NL_SET_ERR_MSG_ATTR(info->extack, own,
				    "give an owner string or an owner tag, not both");
		return -EINVAL;
	}
	if (own) {
		b->owner = nla_data(own);
		b->owner_len = nla_len(own);
	} else if (info->attrs[DLOCK_A_OWNER_TAG]) {
		b->tag = nla_get_u64(info->attrs[DLOCK_A_OWNER_TAG]);
	}
	return 0;
}

/* Builds the entry of RELEASE, RENEW, SET_VALUE, CANCEL or BREAK. */
static int dlock_cl_parse(struct sk_buff *skb, struct genl_info *info,
			  struct repl_cmd *cmd)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct nlattr **attrs = info->attrs;
	struct tsm_body b = {};
	struct dlock_caller who;
	u8 op;
	int err = 0;

	if (DLOCK_REQUIRE(info, DLOCK_A_NAME, "lock name"))
		return -EINVAL;
	b.name = nla_data(attrs[DLOCK_A_NAME]);
	b.name_len = nla_len(attrs[DLOCK_A_NAME]);
	dlock_caller_of(skb, dn, &who);
	b.privileged = who.privileged;
	switch (info->genlhdr->cmd) {
	case DLOCK_CMD_RELEASE:
		op = REPL_OP_RELEASE;
		b.uid = who.uid;
		err = dlock_cl_owner(info, &b);
		break;
	case DLOCK_CMD_RENEW:
		op = REPL_OP_RENEW;
		b.uid = who.uid;
		if (DLOCK_REQUIRE(info, DLOCK_A_TTL_MS, "TTL"))
			return -EINVAL;
		cmd->ttl = (u64)nla_get_u32(attrs[DLOCK_A_TTL_MS]) * NS_MS;
		if (!cmd->ttl) {
			NL_SET_ERR_MSG(info->extack, "a renewal needs a TTL above zero");
			return -EINVAL;
		}
		err = dlock_cl_owner(info, &b);
		break;
	case DLOCK_CMD_SET_VALUE:
		op = REPL_OP_SET_VALUE;
		b.uid = who.uid;
		if (DLOCK_REQUIRE(info, DLOCK_A_VALUE, "value"))
			return -EINVAL;
		b.value = nla_data(attrs[DLOCK_A_VALUE]);
		b.value_len = nla_len(attrs[DLOCK_A_VALUE]);
		err = dlock_cl_owner(info, &b);
		break;
	case DLOCK_CMD_CANCEL:
		op = REPL_OP_CANCEL;
		b.privileged = false;
		if (DLOCK_REQUIRE(info, DLOCK_A_COOKIE, "request cookie"))
			return -EINVAL;
		b.cookie = nla_get_u64(attrs[DLOCK_A_COOKIE]);
		break;
	default:	/* DLOCK_CMD_BREAK */
		op = REPL_OP_BREAK;
		if (attrs[DLOCK_A_TOKEN])
			b.token = nla_get_u64(attrs[DLOCK_A_TOKEN]);
		break;
	}
	if (err)
		return err;
	if (tsm_encode(cmd, op, 0, 0, 0, &b)) {
		NL_SET_ERR_MSG(info->extack, "cluster: command too long for one log entry");
		return -EINVAL;
	}
	return 0;
}

/* A cancelled wait sends no WAIT_DONE: forget it. */
static void dlock_cl_forget_wait(struct dlock_cluster *c,
				 struct dlock_cl_client *cl, u64 cookie)
{
	struct dlock_cl_wait *w;

	mutex_lock(&c->lock);
	list_for_each_entry(w, &cl->waits, node) {
		if (w->cookie == cookie) {
			list_del(&w->node);
			kfree(w);
			break;
		}
	}
	mutex_unlock(&c->lock);
}

/* RELEASE, RENEW, SET_VALUE, CANCEL and BREAK in cluster mode. */
int dlock_cl_command(struct sk_buff *skb, struct genl_info *info)
{
	struct dlock_net *dn = dlock_net(genl_info_net(info));
	struct dlock_cl_pending p = {};
	struct dlock_cluster *c;
	struct repl_cmd *cmd;
	u8 nlcmd = info->genlhdr->cmd;
	int err;

	c = dlock_cl_enter(dn);
	if (!c) {
		NL_SET_ERR_MSG(info->extack, "cluster: this node left the cluster meanwhile; retry");
		return -EAGAIN;
	}
	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	err = cmd ? dlock_cl_parse(skb, info, cmd) : -ENOMEM;
	if (!err)
		err = dlock_cl_run(c, skb, info->extack, cmd, &p);
	if (err)
		goto out;
	if (nlcmd == DLOCK_CMD_CANCEL)
		dlock_cl_forget_wait(c, p.cl, nla_get_u64(info->attrs[DLOCK_A_COOKIE]));
	if (nlcmd == DLOCK_CMD_RELEASE)
		err = dlock_cl_reply_msg(info, dlock_cl_fill_count, &p);
	else if (nlcmd == DLOCK_CMD_RENEW || nlcmd == DLOCK_CMD_SET_VALUE)
		err = dlock_cl_reply_msg(info, dlock_cl_fill_none, &p);
out:
	kfree(cmd);
	dlock_cl_leave(dn);
	return err;
}
