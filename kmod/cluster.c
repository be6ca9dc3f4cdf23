// SPDX-License-Identifier: GPL-2.0
/*
 * A namespace's cluster instance: the replication core and its lock table,
 * created when SET_CLUSTER names this node, destroyed on leave, namespace
 * exit or module unload.  The core is single-threaded policy: one mutex
 * (c->lock) is held around every call into it, and everything it calls back
 * (send, reply, the table's wait-done and lost hooks) runs under it.  Its
 * timer is a delayed work re-armed at repl_next_timer() after every call.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "dlock.h"
#include "cluster.h"
#include "wire.h"

/*
 * The core's timing, read when a node is configured.  Writable so a test
 * can shorten the lock-delay (a fresh node grants nothing for one max TTL:
 * it cannot tell a first start from a restart, docs/protocol.md R3).
 */
static unsigned int cluster_hb_ms = 50;
module_param(cluster_hb_ms, uint, 0644);
MODULE_PARM_DESC(cluster_hb_ms, "cluster: leader heartbeat period, ms");

static unsigned int cluster_elect_ms = 500;
module_param(cluster_elect_ms, uint, 0644);
MODULE_PARM_DESC(cluster_elect_ms, "cluster: shortest election timeout, ms (the longest is twice it)");

static unsigned int cluster_session_ms = 5000;
module_param(cluster_session_ms, uint, 0644);
MODULE_PARM_DESC(cluster_session_ms, "cluster: a silent node's leases end after this, ms");

static unsigned int cluster_max_ttl_ms = 60000;
module_param(cluster_max_ttl_ms, uint, 0644);
MODULE_PARM_DESC(cluster_max_ttl_ms, "cluster: longest lease TTL, ms; also the lock-delay after a start");

/*
 * Limits of the cluster table.  Every node must refuse the same commands,
 * so they are constants of the module, not parameters a node could set
 * alone (SET_CONFIG does not apply: docs/cluster.md).  Without them any
 * local user could grow every node's table without bound, or, with many
 * sockets, take all of it from the others.  A client is one netlink socket;
 * a uid gets 1/16 of the table's leases and waits (DL_USER_AUTO), and at
 * most DLOCK_CL_USER_SLOTS - 1 uids hold entries at once.
 */
#ifndef DLOCK_CL_MAX_LEASES
#define DLOCK_CL_MAX_LEASES		1000000
#endif
#ifndef DLOCK_CL_MAX_WAITERS
#define DLOCK_CL_MAX_WAITERS		1000000
#endif
#ifndef DLOCK_CL_MAX_CLIENT_LEASES
#define DLOCK_CL_MAX_CLIENT_LEASES	100000
#endif
#ifndef DLOCK_CL_MAX_CLIENT_WAITERS
#define DLOCK_CL_MAX_CLIENT_WAITERS	10000
#endif
#ifndef DLOCK_CL_USER_SLOTS
#define DLOCK_CL_USER_SLOTS		4096
#endif
/* How far two nodes' clocks may drift apart in rate: 0.1 %. */
#define DLOCK_CL_DRIFT_PPM		1000

static unsigned int cluster_log_cap = 4096;
module_param(cluster_log_cap, uint, 0644);
MODULE_PARM_DESC(cluster_log_cap, "cluster: log entries kept in memory (about 1.6 KB each)");

/*
 * The seal checks' token bucket per peer (docs/protocol.md section 12):
 * bytes of unauthenticated work a second, and the burst (at least one
 * largest datagram with a key derivation: smaller values are raised to it).
 */
static unsigned int cluster_seal_rate = SEAL_RATE_DEFAULT;
module_param(cluster_seal_rate, uint, 0644);
MODULE_PARM_DESC(cluster_seal_rate, "cluster: per peer, bytes a second of datagrams that do not authenticate before they are dropped unopened");

static unsigned int cluster_seal_burst = SEAL_BURST_DEFAULT;
module_param(cluster_seal_burst, uint, 0644);
MODULE_PARM_DESC(cluster_seal_burst, "cluster: per peer, burst of the seal rate, bytes (at least 65832)");

/* Tests shrink it to make a flood of junk crowd out the peers' datagrams. */
static unsigned int cluster_rxq_max = DLOCK_CL_RXQ_MAX;
module_param(cluster_rxq_max, uint, 0644);
MODULE_PARM_DESC(cluster_rxq_max, "cluster: datagrams queued for the receive work, more are dropped (1 to 65536)");

/* Read in softirq for every datagram: a change applies at once. */
u32 dlock_cl_rxq_max(void)
{
	return clamp_val(READ_ONCE(cluster_rxq_max), 1, DLOCK_CL_RXQ_LIMIT);
}

#define DLOCK_CL_SEAL_BURST_MIN	(SEAL_MAX + SEAL_COST_FIXED + SEAL_COST_KDF)

#define NS_MS	1000000ULL

static atomic64_t dlock_cl_serial = ATOMIC64_INIT(0);

/* ---- the core's callbacks -------------------------------------------- */

static void *dlock_cl_alloc(void *ctx, size_t size)
{
	return kvmalloc(size, GFP_KERNEL_ACCOUNT);
}

static void dlock_cl_free(void *ctx, void *p)
{
	kvfree(p);
}

/* What an allocation really costs (lease.c counts the same way). */
static size_t dlock_cl_bytes(const void *p, size_t size)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(size) : ksize(p);
}

/* The table's memory, counted for GET_STATUS (ctx: the instance). */
static void *dlock_cl_tbl_alloc(void *ctx, size_t size)
{
	struct dlock_cluster *c = ctx;
	void *p = kvmalloc(size, GFP_KERNEL_ACCOUNT);

	if (p)
		atomic64_add(dlock_cl_bytes(p, size), &c->tbl_bytes);
	return p;
}

static void dlock_cl_tbl_free(void *ctx, void *p, size_t size)
{
	struct dlock_cluster *c = ctx;

	atomic64_sub(dlock_cl_bytes(p, size), &c->tbl_bytes);
	kvfree(p);
}

static const struct repl_env dlock_cl_env_tmpl = {
	.alloc = dlock_cl_alloc,
	.free = dlock_cl_free,
	.send = dlock_cl_send,
	.reply = dlock_cl_reply,
	.refused = dlock_cl_refused,
};

/*
 * When this node's clients are told their leases are in doubt, before the
 * node's session ends (0: never, or told already).  The others end those
 * leases a session after they last heard from us, counted from later than
 * our session is; the margin covers a delayed work's lateness (jiffies, a
 * busy workqueue) and the LOST's way to the holder, and is short against
 * the session, so that a node that is only slow is rarely told.
 */
static u64 dlock_cl_doubt_at(struct dlock_cluster *c, u64 *until)
{
	const struct repl_cfg *rc = &c->rcfg;
	struct repl_status st;
	u64 margin;

	repl_status(c->r, &st);
	*until = st.sess_until;
	if (!st.sess_until || st.sess_until == c->doubt_told)
		return 0;
	margin = min(max(rc->session_ns / 10, 2 * rc->hb_ns),
		     rc->session_ns / 2);
	return st.sess_until > margin ? st.sess_until - margin : 1;
}

static void dlock_cl_check_doubt(struct dlock_cluster *c, u64 now)
{
	u64 until, at = dlock_cl_doubt_at(c, &until);

	if (!at || now < at)
		return;
	c->doubt_told = until;
	dlock_cl_tell_doubt(c);
}

/* Arms the timer, @floor jiffies from now at the least; c->lock held. */
static void dlock_cl_arm(struct dlock_cluster *c, unsigned long floor)
{
	u64 at, doubt, until, now = ktime_get_ns();
	unsigned long delay = 0;

	lockdep_assert_held(&c->lock);
	if (c->dying)
		return;
	at = repl_next_timer(c->r);
	doubt = dlock_cl_doubt_at(c, &until);
	if (doubt)
		at = min(at, doubt);
	/* a lease's bound on this node (not the leader): table_holder.c */
	doubt = table_sm_next_due(c->sm);
	if (doubt)
		at = min(at, doubt);
	/* CLIENT_ENDs waiting for a leader are retried at least this often. */
	if (!list_empty(&c->ending))
		at = min(at, now + 100 * NS_MS);
	if (at > now)
		delay = nsecs_to_jiffies(at - now) + 1;
	delay = max(delay, floor);
	/*
	 * Never later than a tick already due: every datagram and request
	 * rearms, and a deadline counted from now (CLIENT_END retries) would
	 * otherwise be pushed back for as long as they keep coming.
	 */
	if (delayed_work_pending(&c->tick) &&
	    time_before_eq(c->tick_at, jiffies + delay))
		return;
	c->tick_at = jiffies + delay;
	mod_delayed_work(system_wq, &c->tick, delay);
}

/*
 * After every call into the core: grants held while catching up told
 * (cluster_answer.c), the timer armed at repl_next_timer(); c->lock held.
 */
void dlock_cluster_rearm(struct dlock_cluster *c)
{
	dlock_cl_grants_flush(c);
	dlock_cl_arm(c, 0);
}

/*
 * The core's timer may still be due right after a tick, a few times in a
 * row (REPL_TICK_DUE_MAX); more is a core bug that would run this work
 * without end.  Say so once, and tick again a jiffy later.
 */
static unsigned long dlock_cl_tick_floor(struct dlock_cluster *c, u64 now)
{
	if (repl_due_streak(c->r, now, &c->due_ticks) <= REPL_TICK_DUE_MAX)
		return 0;
	WARN_ONCE(1, "dlock: the cluster's timer stayed due for %d ticks\n",
		  c->due_ticks);
	return 1;
}

static void dlock_cl_tick(struct work_struct *w)
{
	struct dlock_cluster *c = container_of(to_delayed_work(w),
					       struct dlock_cluster, tick);
	u64 now;

	mutex_lock(&c->lock);
	if (!c->dying) {
		now = ktime_get_ns();
		repl_tick(c->r, now);
		dlock_cl_retry_ending(c, now);
		dlock_cl_check_doubt(c, now);
		dlock_cl_tell_overdue(c, now);
		dlock_cl_grants_flush(c);
		dlock_cl_arm(c, dlock_cl_tick_floor(c, now));
	}
	mutex_unlock(&c->lock);
}

u8 dlock_cluster_role_of(struct dlock_cluster *c)
{
	struct repl_status st;

	lockdep_assert_held(&c->lock);
	repl_status(c->r, &st);
	switch (st.role) {
	case REPL_LEADER:
		return DLOCK_ROLE_LEADER;
	case REPL_CANDIDATE:
		return DLOCK_ROLE_CANDIDATE;
	case REPL_FOLLOWER:
		return DLOCK_ROLE_FOLLOWER;
	default:
		return DLOCK_ROLE_RECOVERING;
	}
}

/* The role GET_STATUS reports: DLOCK_ROLE_NONE on a single node. */
u8 dlock_cluster_role(struct dlock_net *dn)
{
	struct dlock_cluster *c;
	u8 role = DLOCK_ROLE_NONE;

	if (!dlock_clustered(dn))
		return role;
	down_read(&dn->cluster_sem);
	c = dn->cluster;
	if (c) {
		mutex_lock(&c->lock);
		role = dlock_cluster_role_of(c);
		mutex_unlock(&c->lock);
	}
	up_read(&dn->cluster_sem);
	return role;
}

/*
 * The table's hooks: cluster_req.c's answers to this node's clients, and
 * what an operator sees of every outcome this node applies, whichever
 * node's client it was: the namespace's counters and tracepoints
 * (observe.c) and watch events.
 */
static void dlock_cl_h_wait_done(void *ctx, u16 node, u32 client, u64 cookie,
				 int status, u64 token, u64 index)
{
	dlock_cl_hooks.wait_done(ctx, node, client, cookie, status, token,
				 index);
}

static void dlock_cl_h_lost(void *ctx, u16 node, u32 client, u64 tag,
			    const char *name, u32 len, u64 token, int reason)
{
	dlock_cl_hooks.lost(ctx, node, client, tag, name, len, token, reason);
}

static void dlock_cl_h_unanswered(void *ctx)
{
	dlock_cl_hooks.unanswered(ctx);
}

/*
 * Watch events are built here, under c->lock (allocating, as the single
 * node builds its own under a shard's mutex), and multicast by ev_work
 * without it: broadcasting clones and may sleep, and the instance's mutex
 * is every peer's and client's.  Nobody listening: two bit tests.
 */
static void dlock_cl_h_event(void *ctx, const struct dl_event *ev)
{
	struct dlock_cluster *c = ctx;

#ifndef DLOCK_PLANT_CL_NO_COUNTERS	/* cluster_test: outcomes not counted */
	dlock_obs_cl_event(c->dn, ev);
#endif
#ifndef DLOCK_PLANT_CL_NO_WATCH		/* cluster tests: no watch events */
	if (!c->dying && dlock_nl_cl_event(c->dn->net, ev, &c->events))
		queue_work(system_wq, &c->ev_work);
#endif
}

static void dlock_cl_h_acquired(void *ctx, const struct dl_acquire_req *rq,
				int status, const char *why)
{
	struct dlock_cluster *c = ctx;

	dlock_obs_cl_acquired(c->dn, rq, status, why);
}

static void dlock_cl_h_waited(void *ctx, const struct dl_wait_done *wd)
{
	struct dlock_cluster *c = ctx;

	dlock_obs_cl_wait_done(c->dn, wd);
}

/*
 * A snapshot replaced the table: the events of the entries it covers were
 * never built here.  Watchers are told as of an overflow (ENOBUFS), after
 * the events queued before it.
 */
static void dlock_cl_h_replaced(void *ctx)
{
	struct dlock_cluster *c = ctx;

	if (!c->dying && dlock_nl_cl_lost(c->dn->net, &c->events))
		queue_work(system_wq, &c->ev_work);
}

static void dlock_cl_ev_work(struct work_struct *w)
{
	struct dlock_cluster *c = container_of(w, struct dlock_cluster,
					       ev_work);

	dlock_nl_send_events(c->dn->net, &c->events);
}

static const struct table_sm_hooks dlock_cl_all_hooks = {
	.wait_done = dlock_cl_h_wait_done,
	.lost = dlock_cl_h_lost,
	.unanswered = dlock_cl_h_unanswered,
	.event = dlock_cl_h_event,
	.acquired = dlock_cl_h_acquired,
	.waited = dlock_cl_h_waited,
	.replaced = dlock_cl_h_replaced,
};

/* ---- life cycle ------------------------------------------------------- */

/*
 * The table's hash seed must be the same on every node (the wait-for walk
 * and the dump order depend on it): derived from the node ids, which every
 * node of one cluster configures alike.
 */
static u64 dlock_cl_seed(const struct dlock_cl_conf *cf)
{
	u64 h = 0x646c6f636b2d636cULL;
	u16 i;

	for (i = 0; i < cf->nr; i++)
		h = (h ^ cf->node[i].id) * 0x100000001b3ULL;
	return h;
}

static void dlock_cl_fill_cfg(struct dlock_cluster *c)
{
	struct repl_cfg *rc = &c->rcfg;
	u64 elect = max(cluster_elect_ms, 2 * cluster_hb_ms + 1) * NS_MS;

	memset(rc, 0, sizeof(*rc));
	rc->nr_nodes = c->conf.nr;
	rc->self = c->self;
	rc->log_cap = max(cluster_log_cap, 4U * REPL_MAX_BATCH);
	rc->max_clients = DLOCK_CL_MAX_CLIENTS;
	rc->max_snap_bytes = 256ULL << 20;
	rc->drift_ppm = DLOCK_CL_DRIFT_PPM;
	rc->hb_ns = max(cluster_hb_ms, 1U) * NS_MS;
	rc->elect_min_ns = elect;
	rc->elect_max_ns = 2 * elect;
	rc->max_ttl_ns = max(cluster_max_ttl_ms, 1U) * NS_MS;
	rc->session_ns = max(cluster_session_ms, 1U) * NS_MS;
	rc->msg_life_ns = elect;
	rc->sticky = true;
	rc->wall_ns = ktime_get_real_ns();
	rc->wall_skew_ms = 1000;
	/* Grows across reboots with the wall clock; never 0. */
	rc->incarnation = ktime_get_real_ns() | 1;
	rc->seed = get_random_u64();
}

/* ---- keys (sealed datagrams, docs/protocol.md section 12) -------------- */

#define DLOCK_CL_FP_LABEL	"dlock key fingerprint"

/*
 * Installs @keys (nr >= 1) in c->seal, sending with key[0]: each one's id
 * (on the wire) and public fingerprint come from BLAKE2s keyed with it, so
 * every node holding a key gives it the same id without configuring one.
 * Checked whole before anything changes.  c->lock held, or not started yet.
 */
int dlock_cluster_set_keys(struct dlock_cluster *c,
			   const struct dlock_cl_keys *keys,
			   struct netlink_ext_ack *ack)
{
	struct seal_key sk[2] = {};
	u8 fp[2][SEAL_KEY_LEN];
	int i, err;

	for (i = 0; i < keys->nr; i++) {
		memcpy(sk[i].key, keys->key[i], SEAL_KEY_LEN);
#ifdef DLOCK_PLANT_CL_ANY_KEY
		memset(sk[i].key, 0, SEAL_KEY_LEN);
#endif
		c->seal->ops->kdf(fp[i], sk[i].key, DLOCK_CL_FP_LABEL,
				  sizeof(DLOCK_CL_FP_LABEL) - 1);
		sk[i].id = fp[i][DLOCK_CLUSTER_KEY_FP_LEN];
		sk[i].valid = true;
	}
	if (keys->nr == 2 && sk[0].id == sk[1].id) {
		NL_SET_ERR_MSG(ack, "the two keys have the same key id (the same key, or 1 chance in 256): generate another");
		err = -EINVAL;
		goto out;
	}
	err = seal_set_keys(c->seal, sk, 0);
	if (err) {
		NL_SET_ERR_MSG(ack, "keys refused");
		goto out;
	}
	c->nkeys = keys->nr;
	for (i = 0; i < keys->nr; i++)
		memcpy(c->key_fp[i], fp[i], DLOCK_CLUSTER_KEY_FP_LEN);
out:
	memzero_explicit(sk, sizeof(sk));
	memzero_explicit(fp, sizeof(fp));
	return err;
}

/* The keys in force, to start the instance again as it was; c->lock held. */
void dlock_cluster_get_keys(struct dlock_cluster *c, struct dlock_cl_keys *k)
{
	int i;

	memset(k, 0, sizeof(*k));
	if (!c->seal)
		return;
	k->nr = c->nkeys;
	for (i = 0; i < c->nkeys; i++)
		memcpy(k->key[i], c->seal->key[i].key, SEAL_KEY_LEN);
}

static int dlock_cl_seal_start(struct dlock_cluster *c,
			       const struct dlock_cl_keys *keys,
			       struct netlink_ext_ack *ack)
{
	const struct seal_crypto_ops *ops = dlock_seal_crypto();
	u16 i;
	int err;

	if (!ops) {
		NL_SET_ERR_MSG(ack, "this kernel lacks CONFIG_CRYPTO_LIB_CHACHA20POLY1305: no cluster key");
		return -EOPNOTSUPP;
	}
	c->seal = kzalloc(sizeof(*c->seal), GFP_KERNEL_ACCOUNT);
	if (!c->seal)
		return -ENOMEM;
	/*
	 * The cluster id (0: none) goes in every header, the associated data
	 * and the key derivation.  The epoch is the core's incarnation.
	 */
	seal_init(c->seal, ops, c->conf.cluster_id, c->conf.node[c->self].id,
		  c->rcfg.incarnation, get_random_u32());
#ifdef DLOCK_PLANT_CL_NO_CLUSTER_ID	/* cluster_seal_test: id ignored */
	c->seal->cluster = 0;
#endif
	err = seal_set_rate(c->seal, cluster_seal_rate,
			    max_t(u64, cluster_seal_burst,
				  DLOCK_CL_SEAL_BURST_MIN));
	if (err)
		return err;
	for (i = 0; i < c->conf.nr; i++) {
		if (i == c->self)
			continue;
		err = seal_set_peer(c->seal, i, c->conf.node[i].id);
		if (err)
			return err;
	}
	return dlock_cluster_set_keys(c, keys, ack);
}

static void dlock_cl_free_all(struct dlock_cluster *c)
{
	if (c->seal) {
		seal_wipe(c->seal);
		kfree(c->seal);
	}
	if (c->r)
		repl_destroy(c->r);
	if (c->sm)
		table_sm_destroy(c->sm);
	/* Every byte the table took it gave back, as counted. */
	WARN_ON_ONCE(atomic64_read(&c->tbl_bytes));
	dlock_cl_clients_free(c);
	kvfree(c->txbuf);
	kvfree(c->rxbuf);
	kvfree(c->rxmsg);
	kfree(c);
}

int dlock_cluster_start(struct dlock_net *dn, const struct dlock_cl_conf *cf,
			const struct dlock_cl_keys *keys,
			struct dlock_cluster **out, struct netlink_ext_ack *ack)
{
	struct table_sm_cfg scfg = {
		.nr_shards = 16,
		.max_leases = DLOCK_CL_MAX_LEASES,
		.max_waiters = DLOCK_CL_MAX_WAITERS,
		.max_session_leases = DLOCK_CL_MAX_CLIENT_LEASES,
		.max_session_waiters = DLOCK_CL_MAX_CLIENT_WAITERS,
		.max_user_leases = DL_USER_AUTO,
		.max_user_waiters = DL_USER_AUTO,
		.max_user_value_bytes = DL_USER_AUTO,
		.user_slots = DLOCK_CL_USER_SLOTS,
		.drift_ppm = DLOCK_CL_DRIFT_PPM,
		.alloc = dlock_cl_tbl_alloc,
		.free = dlock_cl_tbl_free,
		.hooks = &dlock_cl_all_hooks,
	};
	struct repl_env env = dlock_cl_env_tmpl;
	struct dlock_cluster *c;
	int err;
	u16 i;

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	c->dn = dn;
	c->serial = atomic64_inc_return(&dlock_cl_serial);
	memcpy(&c->conf, cf, sizeof(*cf));
	for (i = 0; i < cf->nr; i++)
		if (cf->node[i].id == cf->id)
			c->self = i;
	mutex_init(&c->lock);
	skb_queue_head_init(&c->rxq);
	INIT_WORK(&c->rx_work, dlock_cl_rx_work);
	INIT_DELAYED_WORK(&c->tick, dlock_cl_tick);
	INIT_DELAYED_WORK(&c->orphan_work, dlock_cl_orphan_work);
	skb_queue_head_init(&c->events);
	INIT_WORK(&c->ev_work, dlock_cl_ev_work);
	INIT_LIST_HEAD(&c->pending);
	INIT_LIST_HEAD(&c->ending);
	xa_init(&c->clients);
	xa_init(&c->by_id);
	/* Client ids must not repeat across this node's boots (table_sm_tomb.c). */
	c->next_client = (u32)(ktime_get_real_ns() >> 20);
	c->txbuf = kvmalloc(SEAL_MAX, GFP_KERNEL_ACCOUNT);
	c->rxbuf = kvmalloc(SEAL_MAX, GFP_KERNEL_ACCOUNT);
	c->rxmsg = kvmalloc(sizeof(*c->rxmsg), GFP_KERNEL_ACCOUNT);
	scfg.hash_seed = dlock_cl_seed(cf);
	scfg.ctx = c;
	scfg.hctx = c;
	c->sm = table_sm_create(&scfg);
	dlock_cl_fill_cfg(c);
	env.ctx = c;
	if (!c->txbuf || !c->rxbuf || !c->rxmsg || !c->sm) {
		err = -ENOMEM;
		goto fail;
	}
	if (keys->nr) {
		err = dlock_cl_seal_start(c, keys, ack);
		if (err)
			goto fail;
	}
	c->r = repl_create(&c->rcfg, &env, &table_sm_ops, c->sm,
			   ktime_get_ns());
	if (!c->r) {
		NL_SET_ERR_MSG(ack, "cannot start the replication core (memory, or module parameters out of range)");
		err = -ENOMEM;
		goto fail;
	}
	err = dlock_cl_sock_open(c, ack);
	if (err)
		goto fail;
	mutex_lock(&c->lock);
	dlock_cluster_rearm(c);
	mutex_unlock(&c->lock);
	*out = c;
	return 0;
fail:
	dlock_cl_free_all(c);
	return err;
}

/*
 * Every request waiting for an answer gets -ESHUTDOWN first, so the
 * caller's write lock on cluster_sem is not held up by them.
 */
void dlock_cluster_quiesce(struct dlock_cluster *c)
{
	struct dlock_cl_pending *p, *n;

	mutex_lock(&c->lock);
	c->dying = true;
	list_for_each_entry_safe(p, n, &c->pending, node) {
		list_del_init(&p->node);
		p->res.status = -ESHUTDOWN;
		p->done = true;
		complete(&p->comp);
	}
	mutex_unlock(&c->lock);
}

/*
 * Nothing may run afterwards: the socket goes first (after it no datagram
 * is queued), then the receive work and the timer, which check c->dying
 * and do not re-arm.
 */
void dlock_cluster_stop(struct dlock_cluster *c)
{
	dlock_cluster_quiesce(c);
	dlock_cl_sock_close(c);
	cancel_work_sync(&c->rx_work);
	skb_queue_purge(&c->rxq);
	cancel_delayed_work_sync(&c->tick);
	cancel_delayed_work_sync(&c->orphan_work);
	/* Nothing applies any more: no event is queued after this. */
	cancel_work_sync(&c->ev_work);
	skb_queue_purge(&c->events);
	dlock_cl_clients_stop(c);
	dlock_cl_free_all(c);
}

void dlock_cluster_init(struct dlock_net *dn)
{
	dn->cluster = NULL;
	init_rwsem(&dn->cluster_sem);
}

/* Namespace exit or module unload: no request can be running any more. */
void dlock_cluster_exit(struct dlock_net *dn)
{
	struct dlock_cluster *c;

	down_write(&dn->cluster_sem);
	c = dn->cluster;
	WRITE_ONCE(dn->cluster, NULL);
	up_write(&dn->cluster_sem);
	if (c)
		dlock_cluster_stop(c);
}
