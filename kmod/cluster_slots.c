// SPDX-License-Identifier: GPL-2.0
/*
 * A node's side of the core's idempotence table (docs/protocol.md R8a):
 * the table forgets a client that held and waited for nothing once it
 * needs its slot, and refuses whatever that client sends later; the node
 * then gives the client a new id and runs the command again.  And one
 * local user may not take every slot.  Under the instance's mutex where
 * said; dlock_cl_exec() under the client's.
 */
#include <linux/slab.h>
#include <net/genetlink.h>

#include "dlock.h"
#include "cluster.h"

/*
 * The cluster's idempotence table forgot @cl: it held and waited for
 * nothing when its slot went to a newer client, and nothing it sent since
 * was run (docs/protocol.md R8).  It takes an id above this node's floor
 * @gone, and keeps counting its request ids on, so that an orphan's id
 * never names one of its new requests.  c->lock held.
 */
static int dlock_cl_renumber(struct dlock_cluster *c,
			     struct dlock_cl_client *cl, u32 gone)
{
	u32 id = max(c->next_client, gone) + 1;

	lockdep_assert_held(&c->lock);
	if (!id)
		return -EOVERFLOW;
	if (xa_err(xa_store(&c->by_id, id, cl, GFP_KERNEL)))
		return -ENOMEM;
	xa_erase(&c->by_id, cl->id);
	c->next_client = id;
	cl->id = id;
	return 0;
}

static u64 dlock_cl_snaps(struct dlock_cluster *c)
{
	struct repl_status st;

	mutex_lock(&c->lock);
	repl_status(c->r, &st);
	mutex_unlock(&c->lock);
	return st.snap_installed;
}

/*
 * dlock_cl_exec_once(), and once more under a new id if the cluster forgot
 * the client (-EKEYEXPIRED): that copy did not run, nor did an earlier one,
 * whose answer this node would have given when it applied it, unless a
 * snapshot it installed meanwhile covered that entry.  Then the command is
 * in doubt (-ETIMEDOUT: an ACQUIRE becomes an orphan); else it is as new to
 * the table under the new id as it is to its caller.  cl->lock held.
 */
int dlock_cl_exec(struct dlock_cluster *c, struct dlock_cl_client *cl,
		  struct repl_cmd *cmd, struct dlock_cl_pending *p)
{
	int err, tries = 0;
	u64 snaps;

	for (;;) {
		snaps = dlock_cl_snaps(c);
		err = dlock_cl_exec_once(c, cl, cmd, p);
		if (err || p->res.status != -EKEYEXPIRED || tries++ == 2)
			return err;
#ifdef DLOCK_PLANT_CL_NO_RENUMBER
		return err;	/* planted bug: a forgotten client stays so */
#endif
		if (dlock_cl_snaps(c) != snaps)
			return -ETIMEDOUT;
		mutex_lock(&c->lock);
		err = dlock_cl_renumber(c, cl, (u32)p->res.token);
		mutex_unlock(&c->lock);
		if (err)
			return err;
		p->done = false;
		p->sent = false;
		p->refused = 0;
		memset(&p->res, 0, sizeof(p->res));
	}
}

/*
 * One local user must not take every slot of the cluster's idempotence
 * table (then every other client in the cluster is refused, EUSERS): an
 * ACQUIRE of a client of @p->uid that holds and waits for nothing is
 * refused while that uid's clients on this node that do number
 * DLOCK_CL_USER_CLIENTS.  Checked before the command enters the log, so
 * no other node need agree; CAP_NET_ADMIN is not capped.  c->lock held.
 */
int dlock_cl_user_room(struct dlock_cluster *c, struct dlock_cl_client *cl,
		       const struct dlock_cl_pending *p)
{
	struct dlock_cl_client *o;
	unsigned long i;
	u32 n = 0;

	lockdep_assert_held(&c->lock);
	if (p->privileged || table_sm_ops.busy(c->sm, c->self, cl->id))
		return 0;
	xa_for_each(&c->clients, i, o)
		if (o != cl && o->uid == p->uid &&
		    table_sm_ops.busy(c->sm, c->self, o->id) &&
		    ++n >= DLOCK_CL_USER_CLIENTS)
			return -EDQUOT;
	return 0;
}
