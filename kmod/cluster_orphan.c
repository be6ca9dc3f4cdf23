// SPDX-License-Identifier: GPL-2.0
/*
 * Acquires whose client gave up on them.  A cluster ACQUIRE not answered
 * within cluster_answer_ms fails with ETIMEDOUT (or EAGAIN, when the leader
 * refused the last copy a follower forwarded), yet it may still be
 * applied: granted, or queued and granted later, to a client that believes
 * it has nothing (libdlock has forgotten its cookie).  Such a lease would be
 * held unseen until its TTL or the socket's close, and for ever by a
 * session-bound lease without TTL in a long-lived process.
 *
 * So the node keeps each such acquire (an orphan) and learns its fate as it
 * applies: its reply (granted, queued, refused), then the WAIT_DONE of a
 * queued one.  A client's requests are applied in request-id order and a
 * retransmission of an older id is never applied after a newer one (the
 * core's dedup table), so once a later request of the same client is
 * answered, every orphan before it is settled for good.  Then, still in
 * that client's request (its mutex held, so the ids stay in order), the
 * node undoes what the orphan did: RELEASE of a grant (one reentrancy
 * level, which is exactly what the acquire added), CANCEL of a wait, and
 * RELEASE if the wait was granted before the CANCEL came.  A client that
 * sends nothing more is not waited for: as soon as an orphan's reply shows
 * it granted or queued, a work item undoes it in the client's name (it
 * takes the client's mutex only if free: a request in progress settles its
 * orphans itself).  An undo not answered in time is tried again a second
 * later; a closed socket's CLIENT_END ends everything anyway.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"
#include "cluster.h"

enum {
	ORPHAN_UNKNOWN,		/* not applied here (yet) */
	ORPHAN_QUEUED,
	ORPHAN_GRANTED,
	ORPHAN_DONE,		/* refused, or its wait ended without a grant */
};

/* An ACQUIRE that failed unanswered; on cl->orphans, under c->lock. */
struct dlock_cl_orphan {
	struct list_head node;
	u32 req;
	u8 state;
	u32 uid;
	u64 tag;
	u64 cookie;
	u8 name_len;
	u8 owner_len;
	char name[];		/* the name, then the detached owner */
};

/* @cmd (an ACQUIRE of @cl) went unanswered: keep it.  c->lock and cl->lock held. */
void dlock_cl_orphan_add(struct dlock_cluster *c, struct dlock_cl_client *cl,
			 const struct repl_cmd *cmd)
{
	struct dlock_cl_orphan *o;
	struct tsm_body b;

	lockdep_assert_held(&c->lock);
#ifdef DLOCK_PLANT_CL_ORPHAN_KEPT
	return;	/* planted bug: a late grant stays with nobody who knows */
#endif
	if (cmd->op != REPL_OP_ACQUIRE || tsm_decode(cmd, &b))
		return;
	o = kmalloc(struct_size(o, name, b.name_len + b.owner_len),
		    GFP_KERNEL_ACCOUNT);
	if (!o) {
		/* it cannot be undone: the client may hold what it cannot see */
		dlock_sock_missed(cl->sk);
		return;
	}
	o->req = cmd->req;
	o->state = ORPHAN_UNKNOWN;
	o->uid = b.uid;
	o->tag = b.tag;
	o->cookie = b.cookie;
	o->name_len = b.name_len;
	o->owner_len = b.owner_len;
	memcpy(o->name, b.name, b.name_len);
	memcpy(o->name + b.name_len, b.owner, b.owner_len);
	list_add_tail(&o->node, &cl->orphans);
}

static struct dlock_cl_orphan *dlock_cl_orphan_find(struct dlock_cl_client *cl,
						    u32 req)
{
	struct dlock_cl_orphan *o;

	list_for_each_entry(o, &cl->orphans, node)
		if (o->req == req)
			return o;
	return NULL;
}

static void dlock_cl_orphan_kick(struct dlock_cluster *c, unsigned long delay)
{
	if (!c->dying)
		mod_delayed_work(system_wq, &c->orphan_work, delay);
}

static void dlock_cl_orphan_answered(struct dlock_cluster *c,
				     struct dlock_cl_orphan *o,
				     const struct repl_result *res)
{
	if (!res->status)
		o->state = ORPHAN_GRANTED;
	else if (res->status == REPL_QUEUED)
		o->state = ORPHAN_QUEUED;
	else
		o->state = ORPHAN_DONE;
	if (o->state != ORPHAN_DONE)
		dlock_cl_orphan_kick(c, 0);
}

/* The core's reply to an orphan: true if @cmd was one.  c->lock held. */
bool dlock_cl_orphan_reply(struct dlock_cluster *c, const struct repl_cmd *cmd,
			   const struct repl_result *res)
{
	struct dlock_cl_client *cl;
	struct dlock_cl_orphan *o;

	lockdep_assert_held(&c->lock);
	cl = cmd->node == c->self ? xa_load(&c->by_id, cmd->client) : NULL;
	o = cl ? dlock_cl_orphan_find(cl, cmd->req) : NULL;
	if (!o)
		return false;
	dlock_cl_orphan_answered(c, o, res);
	return true;
}

/*
 * A snapshot replaced the table: an orphan applied in an entry it covered
 * had no reply here.  Its answer came with the snapshot, in the core's
 * dedup slot of its client, unless a later request of that client was
 * applied too (then it is settled as never applied: docs/cluster.md).
 * c->lock held.
 */
static void dlock_cl_orphans_recheck(struct dlock_cluster *c)
{
	struct dlock_cl_client *cl;
	struct dlock_cl_orphan *o;
	struct repl_result res;
	unsigned long i;

	lockdep_assert_held(&c->lock);
#ifdef DLOCK_PLANT_CL_SNAP_ORPHAN
	return;	/* planted bug: a grant a snapshot covered stays */
#endif
	xa_for_each(&c->by_id, i, cl)
		list_for_each_entry(o, &cl->orphans, node)
			if (o->state == ORPHAN_UNKNOWN &&
			    repl_answer_of(c->r, c->self, cl->id, o->req, &res))
				dlock_cl_orphan_answered(c, o, &res);
}

/* After datagrams were received: a snapshot installed since?  c->lock held. */
void dlock_cl_after_snap(struct dlock_cluster *c)
{
	struct repl_status st;

	repl_status(c->r, &st);
	if (st.snap_installed == c->snaps_seen)
		return;
	c->snaps_seen = st.snap_installed;
	dlock_cl_orphans_recheck(c);
}

/* An orphan's wait ended: true if @cookie was one's.  c->lock held. */
bool dlock_cl_orphan_wait_done(struct dlock_cluster *c,
			       struct dlock_cl_client *cl, u64 cookie,
			       int status)
{
	struct dlock_cl_orphan *o;

	list_for_each_entry(o, &cl->orphans, node) {
		if (o->state == ORPHAN_QUEUED && o->cookie == cookie) {
			o->state = status ? ORPHAN_DONE : ORPHAN_GRANTED;
			dlock_cl_orphan_kick(c, 0);
			return true;
		}
	}
	return false;
}

/*
 * Whether @cl's socket-bound lease on @ls->name is held only by its
 * orphans (every reentrancy level a late grant): the client believes it
 * has nothing there, and a note would name a lock it never got.
 * c->lock held.
 */
bool dlock_cl_orphans_hold_all(const struct dlock_cl_client *cl,
			       const struct dl_lost *ls)
{
	const struct dlock_cl_orphan *o;
	u32 n = 0;

	list_for_each_entry(o, &cl->orphans, node)
		if (o->state == ORPHAN_GRANTED && !o->owner_len &&
		    o->tag == ls->tag && o->name_len == ls->name_len &&
		    !memcmp(o->name, ls->name, ls->name_len))
			n++;
	return n && n >= ls->count;
}

/*
 * RELEASE or CANCEL for @o, as its owner (its uid, not privileged).
 * Returns the table's answer (0 or -errno), or the error of a request that
 * got none.
 */
static int dlock_cl_orphan_undo(struct dlock_cluster *c,
				struct dlock_cl_client *cl,
				const struct dlock_cl_orphan *o, u8 op)
{
	struct dlock_cl_pending p = {};
	struct tsm_body b = {
		.name = o->name,
		.name_len = o->name_len,
		.uid = o->uid,
	};
	struct repl_cmd *cmd;
	int err;

	if (op == REPL_OP_CANCEL) {
		b.cookie = o->cookie;
	} else {
		b.tag = o->tag;
		b.owner = o->owner_len ? o->name + o->name_len : NULL;
		b.owner_len = o->owner_len;
	}
	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	err = tsm_encode(cmd, op, 0, 0, 0, &b);
	if (!err)
		err = dlock_cl_exec(c, cl, cmd, &p);
	kfree(cmd);
	return err ?: p.res.status;
}

static u8 dlock_cl_orphan_state(struct dlock_cluster *c,
				struct dlock_cl_client *cl,
				const struct dlock_cl_orphan *o)
{
	u64 token;
	u8 st;

	mutex_lock(&c->lock);
	st = o->state;
	/*
	 * Not applied before a later request was: never will be, unless a
	 * snapshot covered it here; then the table says whether it waits.
	 */
	if (st == ORPHAN_UNKNOWN &&
	    table_sm_wait_state(c->sm, c->self, cl->id, o->cookie, o->tag,
				o->name + o->name_len, o->owner_len, o->name,
				o->name_len, &token) == 1)
		st = ORPHAN_QUEUED;
	mutex_unlock(&c->lock);
	return st;
}

/* Undoes what @o did; true when nothing is left to do for it. */
static bool dlock_cl_orphan_end(struct dlock_cluster *c,
				struct dlock_cl_client *cl,
				struct dlock_cl_orphan *o)
{
	u8 st = dlock_cl_orphan_state(c, cl, o);
	int err;

	if (st == ORPHAN_QUEUED) {
		err = dlock_cl_orphan_undo(c, cl, o, REPL_OP_CANCEL);
		if (err == -ETIMEDOUT || err == -EINTR || err == -ENOMEM)
			return false;
		if (!err)
			return true;
		/* the wait ended before the CANCEL: was it granted? */
		st = dlock_cl_orphan_state(c, cl, o);
	}
	if (st != ORPHAN_GRANTED)
		return true;
	err = dlock_cl_orphan_undo(c, cl, o, REPL_OP_RELEASE);
	return err != -ETIMEDOUT && err != -EINTR && err != -ENOMEM;
}

/*
 * Undoes @cl's orphans whose fate is known: every one before request @req
 * (a later request was answered; 0: none), and any granted or queued.
 * Returns how many are left.  cl->lock held, c->lock not.
 */
int dlock_cl_orphans_settle(struct dlock_cluster *c,
			    struct dlock_cl_client *cl, u32 req)
{
	struct dlock_cl_orphan *o, *n;
	bool known;
	int left = 0;

	lockdep_assert_held(&cl->lock);
	list_for_each_entry_safe(o, n, &cl->orphans, node) {
		mutex_lock(&c->lock);
		known = o->req < req || o->state == ORPHAN_GRANTED ||
			o->state == ORPHAN_QUEUED;
		mutex_unlock(&c->lock);
		if (!known || !dlock_cl_orphan_end(c, cl, o)) {
			left++;
			continue;
		}
		mutex_lock(&c->lock);
		list_del(&o->node);
		mutex_unlock(&c->lock);
		kfree(o);
	}
	return left;
}

/* Whether @cl has an orphan the work item can undo now.  c->lock held. */
static bool dlock_cl_orphans_due(const struct dlock_cl_client *cl)
{
	const struct dlock_cl_orphan *o;

	list_for_each_entry(o, &cl->orphans, node)
		if (o->state == ORPHAN_GRANTED || o->state == ORPHAN_QUEUED)
			return true;
	return false;
}

/*
 * c->orphan_work: undoes what clients that sent nothing more were granted.
 * A client busy with a request (its mutex taken) is skipped: that request
 * settles its orphans when answered; if it is not, the work looks again in
 * a second, as it does for an undo that got no answer.  A closing socket
 * waits for this work on the client's mutex before it frees the client.
 */
void dlock_cl_orphan_work(struct work_struct *w)
{
	struct dlock_cluster *c = container_of(to_delayed_work(w),
					       struct dlock_cluster,
					       orphan_work);
	struct dlock_cl_client *cl;
	unsigned long i;
	bool again = false;

	mutex_lock(&c->lock);
	xa_for_each(&c->by_id, i, cl) {
		if (c->dying)
			break;
		if (!dlock_cl_orphans_due(cl))
			continue;
		if (!mutex_trylock(&cl->lock)) {
			again = true;
			continue;
		}
		mutex_unlock(&c->lock);
		again |= dlock_cl_orphans_settle(c, cl, 0) > 0;
		mutex_unlock(&cl->lock);
		mutex_lock(&c->lock);
	}
	if (again)
		dlock_cl_orphan_kick(c, HZ);
	mutex_unlock(&c->lock);
}

void dlock_cl_orphans_free(struct dlock_cl_client *cl)
{
	struct dlock_cl_orphan *o, *n;

	list_for_each_entry_safe(o, n, &cl->orphans, node)
		kfree(o);
}
