// SPDX-License-Identifier: GPL-2.0
/*
 * What the applied table tells a cluster node's local clients: the answer
 * of a request (env->reply), a queued acquire's WAIT_DONE, a lost lease's
 * LOST, waits settled from the table when their answer was never applied
 * here, and the leases put in doubt when this node's session runs out.
 * Called under the instance's mutex, from the core and the table's hooks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

static struct dlock_cl_wait *dlock_cl_add_wait(struct dlock_cl_pending *p)
{
	struct dlock_cl_wait *w;

	w = kmalloc(struct_size(w, name, p->name_len + p->owner_len),
		    GFP_KERNEL_ACCOUNT);
	if (!w)
		return NULL;	/* its WAIT_DONE will be missed: the socket learns */
	w->cookie = p->cookie;
	w->tag = p->tag;
	w->token = 0;
	w->granted = false;
	w->name_len = p->name_len;
	w->owner_len = p->owner_len;
	memcpy(w->name, p->name, p->name_len);
	memcpy(w->name + p->name_len, p->owner, p->owner_len);
	list_add_tail(&w->node, &p->cl->waits);
	return w;
}

/*
 * A grant applied while this node catches up (repl_status.behind) may be
 * ended by an entry it has yet to apply: a SESSION_END of this node, cut
 * off meanwhile, after which another node holds the lock.  Telling the
 * client "granted" and a moment later "lost" would give it a lock someone
 * else holds.  So the grant is held until the node has caught up, and if
 * the lease is lost meanwhile the wait ends with ETIMEDOUT and no LOST:
 * the client never held it.
 */
static void dlock_cl_grant(struct dlock_cluster *c, struct dlock_cl_client *cl,
			   struct dlock_cl_wait *w, int status, u64 token)
{
	struct repl_status st;

	repl_status(c->r, &st);
#ifndef DLOCK_PLANT_CL_GRANT_BEHIND
	if (!status && st.behind) {
		w->granted = true;
		w->token = token;
		c->grants_held = true;
		return;
	}
#endif
	dlock_cl_wait_send(c, cl, w, status, token);
}

/* Held grants told, once this node has caught up; c->lock held. */
void dlock_cl_grants_flush(struct dlock_cluster *c)
{
	struct dlock_cl_wait *w, *n;
	struct dlock_cl_client *cl;
	struct repl_status st;
	unsigned long i;

	lockdep_assert_held(&c->lock);
	if (!c->grants_held)
		return;
	repl_status(c->r, &st);
	if (st.behind)
		return;
	c->grants_held = false;
	xa_for_each(&c->by_id, i, cl)
		list_for_each_entry_safe(w, n, &cl->waits, node)
			if (w->granted)
				dlock_cl_wait_send(c, cl, w, 0, w->token);
}

/* A LOST of a lease whose grant is held: the wait fails instead. */
static bool dlock_cl_grant_lost(struct dlock_cluster *c,
				struct dlock_cl_client *cl, u64 token)
{
	struct dlock_cl_wait *w;

	list_for_each_entry(w, &cl->waits, node) {
		if (w->granted && w->token == token) {
			dlock_cl_wait_send(c, cl, w, -ETIMEDOUT, 0);
			return true;
		}
	}
	return false;
}

/*
 * Settles @w from the applied table if the table no longer has it queued:
 * its answer was not given here (a snapshot covered the entry that gave
 * it, or a SESSION_END of this node ended it), or it was given before the
 * QUEUED answer just read (a retransmission answered from the core's dedup
 * table after the wait had ended).  Granted if its owner holds the lock,
 * else -ETIMEDOUT, as libdlock's resync reads the lock.
 */
static void dlock_cl_settle(struct dlock_cluster *c, struct dlock_cl_client *cl,
			    struct dlock_cl_wait *w)
{
	u64 token = 0;
	int st;

	if (w->granted)
		return;		/* answered, told once caught up */
	st = table_sm_wait_state(c->sm, c->self, cl->id, w->cookie, w->tag,
				 w->name + w->name_len, w->owner_len,
				 w->name, w->name_len, &token);
	if (st != 1)
		dlock_cl_grant(c, cl, w, st ? -ETIMEDOUT : 0, token);
}

/* table_sm_hooks.unanswered: settle every wait of every client here. */
static void dlock_cl_unanswered(void *ctx)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_wait *w, *n;
	struct dlock_cl_client *cl;
	unsigned long i;

	lockdep_assert_held(&c->lock);
	xa_for_each(&c->by_id, i, cl)
		list_for_each_entry_safe(w, n, &cl->waits, node)
			dlock_cl_settle(c, cl, w);
}

/* The core's reply: a command of a client of this node was applied. */
void dlock_cl_reply(void *ctx, const struct repl_cmd *cmd,
		    const struct repl_result *res)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_pending *p;
	struct dlock_cl_ending *e;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(p, &c->pending, node) {
		if (p->client != cmd->client || p->req != cmd->req || p->done)
			continue;
		p->res = *res;
#ifndef DLOCK_PLANT_CL_WAIT_LOST
		if (res->status == REPL_QUEUED && p->name) {
			struct dlock_cl_wait *w = dlock_cl_add_wait(p);

			if (w)
				dlock_cl_settle(c, p->cl, w);
		}
#endif
		p->done = true;
		complete(&p->comp);
		return;
	}
	if (dlock_cl_orphan_reply(c, cmd, res))
		return;
	list_for_each_entry(e, &c->ending, node) {
		if (e->cmd.client == cmd->client && e->cmd.req == cmd->req) {
			list_del(&e->node);
			kfree(e);
			return;
		}
	}
}

static struct dlock_cl_client *dlock_cl_client_by_id(struct dlock_cluster *c,
						     u16 node, u32 client)
{
	if (node != c->self)
		return NULL;	/* another node answers its own clients */
	return xa_load(&c->by_id, client);
}

static void dlock_cl_wait_done(void *ctx, u16 node, u32 client, u64 cookie,
			       int status, u64 token, u64 index)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_client *cl = dlock_cl_client_by_id(c, node, client);
	struct dlock_cl_wait *w;

	if (!cl)
		return;
	list_for_each_entry(w, &cl->waits, node) {
		if (w->cookie == cookie && !w->granted) {
			dlock_cl_grant(c, cl, w, status, token);
			return;
		}
	}
	if (!dlock_cl_orphan_wait_done(c, cl, cookie, status))
		dlock_sock_missed(cl->sk);
}

/* WAIT_DONE of @w to its socket; @w is freed. */
void dlock_cl_wait_send(struct dlock_cluster *c,
			       struct dlock_cl_client *cl,
			       struct dlock_cl_wait *w, int status, u64 token)
{
	u64 cookie = w->cookie;
	struct sk_buff *skb;
	void *hdr;

	list_del(&w->node);
	skb = genlmsg_new(dlock_wait_done_size(w->name_len), GFP_KERNEL);
	hdr = skb ? genlmsg_put(skb, 0, 0, &dlock_genl_family, 0,
				DLOCK_CMD_WAIT_DONE) : NULL;
	if (!hdr ||
	    nla_put(skb, DLOCK_A_NAME, w->name_len, w->name) ||
	    nla_put_u64_64bit(skb, DLOCK_A_COOKIE, cookie, DLOCK_A_PAD) ||
	    nla_put_u64_64bit(skb, DLOCK_A_SESSION, tsm_key(c->self, cl->id),
			      DLOCK_A_PAD) ||
	    nla_put_u32(skb, DLOCK_A_ERROR, -status) ||
	    (!status && nla_put_u64_64bit(skb, DLOCK_A_TOKEN, token,
					  DLOCK_A_PAD))) {
		kfree_skb(skb);
		dlock_sock_missed(cl->sk);
	} else {
		genlmsg_end(skb, hdr);
		sock_hold(cl->sk);
		dlock_deliver(cl->sk, skb);
	}
	kfree(w);
}

static void dlock_cl_lost(void *ctx, u16 node, u32 client, u64 tag,
			  const char *name, u32 len, u64 token, int reason)
{
	struct dlock_cluster *c = ctx;
	struct dlock_cl_client *cl = dlock_cl_client_by_id(c, node, client);
	struct sk_buff *skb;
	void *hdr;

	if (!cl || dlock_cl_grant_lost(c, cl, token))
		return;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	hdr = skb ? genlmsg_put(skb, 0, 0, &dlock_genl_family, 0,
				DLOCK_CMD_LOST) : NULL;
	if (!hdr || nla_put(skb, DLOCK_A_NAME, len, name) ||
	    nla_put_u64_64bit(skb, DLOCK_A_OWNER_TAG, tag, DLOCK_A_PAD) ||
	    nla_put_u64_64bit(skb, DLOCK_A_SESSION, tsm_key(node, client),
			      DLOCK_A_PAD) ||
	    nla_put_u64_64bit(skb, DLOCK_A_TOKEN, token, DLOCK_A_PAD) ||
	    nla_put_u8(skb, DLOCK_A_REASON, reason)) {
		kfree_skb(skb);
		dlock_sock_missed(cl->sk);
		return;
	}
	genlmsg_end(skb, hdr);
	sock_hold(cl->sk);
	dlock_deliver(cl->sk, skb);
}

/*
 * Whether @client has a request on its way (a renewal may yet apply); if
 * so, its caller stops waiting for it now, with ETIMEDOUT as at the end
 * of its answer window.  A request holds its socket's sender in the
 * kernel until answered: the holder would read the LOST just sent only
 * after that, seconds late on a node cut off.
 */
static bool dlock_cl_give_up(struct dlock_cluster *c, u32 client)
{
	struct dlock_cl_pending *p;
	bool found = false;

	list_for_each_entry(p, &c->pending, node) {
		if (p->client != client || !p->sent || p->done)
			continue;
		found = true;
#ifndef DLOCK_PLANT_CL_LOST_WAITS
		p->given_up = true;
		complete(&p->comp);
#endif
	}
	return found;
}

struct dlock_cl_doubt {
	struct dlock_cluster *c;
	struct dlock_cl_client *cl;
};

static void dlock_cl_doubt_one(void *arg, const struct dl_lost *ls)
{
	struct dlock_cl_doubt *d = arg;

#ifndef DLOCK_PLANT_CL_DOUBT_ORPHANS
	if (dlock_cl_orphans_hold_all(d->cl, ls))
		return;	/* its client never heard of it: being undone */
#endif
	dlock_cl_give_up(d->c, d->cl->id);
	dlock_cl_lost(d->c, d->c->self, d->cl->id, ls->tag, ls->name,
		      ls->name_len, ls->token, ls->reason);
}

/*
 * This node's session is running out (cluster.c): the others may end every
 * lease of our clients soon and grant the locks elsewhere.  Each holder
 * hears of each lease now, while it is still the only one that may act on
 * it.  A LOST that cannot be built is an overflow of that socket, as
 * everywhere else.
 */
void dlock_cl_tell_doubt(struct dlock_cluster *c)
{
	struct dlock_cl_doubt d = { .c = c };
	unsigned long i;

	lockdep_assert_held(&c->lock);
#ifdef DLOCK_PLANT_CL_NO_DOUBT
	return;
#endif
	xa_for_each(&c->clients, i, d.cl)
		table_sm_each_lease(c->sm, c->self, d.cl->id, DL_LOST_IN_DOUBT,
				    dlock_cl_doubt_one, &d);
}

static void dlock_cl_overdue_one(void *arg, const struct dl_lost *ls)
{
	struct dlock_cluster *c = arg;
	u32 client = (u32)dl_session_id(ls->sess);
	struct dlock_cl_client *cl = dlock_cl_client_by_id(c, c->self, client);

	if (!cl || dlock_cl_orphans_hold_all(cl, ls))
		return;
	dlock_cl_lost(c, c->self, client, ls->tag, ls->name, ls->name_len,
		      ls->token, dlock_cl_give_up(c, client) ?
		      DL_LOST_IN_DOUBT : ls->reason);
}

/*
 * Not a leader whose own countdowns rule (a follower, or a new leader
 * whose EPOCH has not committed): each lease of our clients whose bound
 * here ran out with no renewal applied (table_holder.c).  Its holder
 * hears of it now, before the leader's countdown of the same lease ends:
 * EXPIRED, or IN_DOUBT while a request of its client (a renewal, maybe) is
 * on its way.
 */
void dlock_cl_tell_overdue(struct dlock_cluster *c, u64 now)
{
	lockdep_assert_held(&c->lock);
#ifdef DLOCK_PLANT_CL_NO_OVERDUE
	return;
#endif
	table_sm_overdue(c->sm, c->self, now, 256, dlock_cl_overdue_one, c);
}

const struct table_sm_hooks dlock_cl_hooks = {
	.wait_done = dlock_cl_wait_done,
	.lost = dlock_cl_lost,
	.unanswered = dlock_cl_unanswered,
};
