// SPDX-License-Identifier: GPL-2.0
/*
 * Hosting the lock table (table.c) in the kernel: one table per network
 * namespace, a mutex and an hrtimer per shard, the wait-graph mutex, memory,
 * fencing tokens, and the retry dance the table's locking contract asks for.
 * Notifications the table produces while locks are held are built into skbs
 * at once and sent only after every lock is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "dlock.h"

static unsigned int shards = 64;
module_param(shards, uint, 0444);
MODULE_PARM_DESC(shards, "lock table shards per namespace (power of two)");

static unsigned int max_ttl_ms = DL_DEFAULT_MAX_TTL_MS;
module_param(max_ttl_ms, uint, 0444);
MODULE_PARM_DESC(max_ttl_ms, "longest lease TTL granted, in ms (default: 1 hour)");

static unsigned int max_leases = 4000000;
module_param(max_leases, uint, 0444);
MODULE_PARM_DESC(max_leases, "leases per namespace (0: no limit)");

static unsigned int max_waiters = 1000000;
module_param(max_waiters, uint, 0444);
MODULE_PARM_DESC(max_waiters, "queued requests per namespace (0: no limit)");

static unsigned int max_socket_leases = 1000000;
module_param(max_socket_leases, uint, 0444);
MODULE_PARM_DESC(max_socket_leases, "leases one socket may hold (0: no limit)");

static unsigned int max_socket_waiters = 10000;
module_param(max_socket_waiters, uint, 0444);
MODULE_PARM_DESC(max_socket_waiters, "requests one socket may have queued (0: no limit)");

/* Expiries one timer work item applies before it yields the shard. */
#define DLOCK_TIMER_BUDGET 256

static struct workqueue_struct *dlock_wq;

/* ---- table callbacks -------------------------------------------------- */

static void *dlock_tbl_alloc(void *priv, enum dl_obj kind, size_t size)
{
	/* Bucket and heap arrays grow with the table: allow vmalloc. */
	if (kind == DL_OBJ_BUCKETS || kind == DL_OBJ_HEAP ||
	    kind == DL_OBJ_INDEX || kind == DL_OBJ_SHARDS)
		return kvmalloc(size, GFP_KERNEL_ACCOUNT);
	return kmalloc(size, GFP_KERNEL_ACCOUNT);
}

static void dlock_tbl_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	kvfree(p);
}

static struct dlock_ctx *to_ctx(struct dl_cmd *cx)
{
	return container_of(cx, struct dlock_ctx, cx);
}

static u64 dlock_tbl_next_token(struct dl_cmd *cx)
{
	return atomic64_inc_return(&to_ctx(cx)->dn->last_token);
}

static void dlock_tbl_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	struct dlock_shard *sh = &to_ctx(cx)->dn->shards[shard];

	if (READ_ONCE(sh->dn->dying))
		return;
	if (!deadline)
		hrtimer_try_to_cancel(&sh->timer);
	else
		hrtimer_start(&sh->timer, ns_to_ktime(deadline),
			      HRTIMER_MODE_ABS);
}

static void dlock_tbl_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	dlock_nl_queue_wait_done(to_ctx(cx), wd);
}

static void dlock_tbl_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	dlock_nl_queue_lost(to_ctx(cx), ls);
}

static void dlock_tbl_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	dlock_nl_queue_event(to_ctx(cx), ev);
}

static const struct dl_table_ops dlock_tbl_ops = {
	.alloc = dlock_tbl_alloc,
	.free = dlock_tbl_free,
	.next_token = dlock_tbl_next_token,
	.set_timer = dlock_tbl_set_timer,
	.wait_done = dlock_tbl_wait_done,
	.lost = dlock_tbl_lost,
	.event = dlock_tbl_event,
};

/* ---- running commands ------------------------------------------------- */

void dlock_ctx_init(struct dlock_ctx *ctx, struct dlock_net *dn)
{
	ctx->dn = dn;
	ctx->cx.now = ktime_get_ns();
	ctx->cx.global = false;
	ctx->cx.priv = NULL;
	__skb_queue_head_init(&ctx->notes);
}

/*
 * Runs @fn on the shard of @name.  The table answers DL_NEED_GLOBAL, having
 * changed nothing, when the command touches the wait-for graph; only then is
 * the namespace-wide wait-graph mutex taken, always before the shard's.
 */
int dlock_run(struct dlock_ctx *ctx, const char *name, u32 len,
	      int (*fn)(struct dlock_ctx *ctx, void *arg), void *arg)
{
	struct dlock_net *dn = ctx->dn;
	struct dlock_shard *sh = &dn->shards[dl_shard_of(dn->table, name, len)];
	int err;

	mutex_lock(&sh->lock);
	err = fn(ctx, arg);
	mutex_unlock(&sh->lock);
	if (err == DL_NEED_GLOBAL) {
		mutex_lock(&dn->wait_graph);
		mutex_lock(&sh->lock);
		ctx->cx.global = true;
		ctx->cx.now = ktime_get_ns();
		err = fn(ctx, arg);
		mutex_unlock(&sh->lock);
		mutex_unlock(&dn->wait_graph);
	}
	dlock_nl_flush(ctx);
	return err;
}

/* ---- timers ----------------------------------------------------------- */

static enum hrtimer_restart dlock_shard_timer(struct hrtimer *timer)
{
	struct dlock_shard *sh = container_of(timer, struct dlock_shard, timer);

	/* Expiry takes mutexes and allocates: do it in process context. */
	if (!READ_ONCE(sh->dn->dying))
		queue_work(dlock_wq, &sh->work);
	return HRTIMER_NORESTART;
}

static int dlock_shard_expire(struct dlock_shard *sh, struct dlock_ctx *ctx)
{
	int err;

	mutex_lock(&sh->lock);
	err = dl_run_timers(sh->dn->table, &ctx->cx, sh->idx,
			    DLOCK_TIMER_BUDGET);
	mutex_unlock(&sh->lock);
	return err;
}

static void dlock_shard_work(struct work_struct *work)
{
	struct dlock_shard *sh = container_of(work, struct dlock_shard, work);
	struct dlock_net *dn = sh->dn;
	struct dlock_ctx ctx;
	int err;

	dlock_ctx_init(&ctx, dn);
	err = dlock_shard_expire(sh, &ctx);
	if (err == DL_NEED_GLOBAL) {
		mutex_lock(&dn->wait_graph);
		ctx.cx.global = true;
		ctx.cx.now = ktime_get_ns();
		err = dlock_shard_expire(sh, &ctx);
		mutex_unlock(&dn->wait_graph);
	}
	dlock_nl_flush(&ctx);
	if ((err == DL_MORE || err == DL_NEED_GLOBAL) && !READ_ONCE(dn->dying))
		queue_work(dlock_wq, &sh->work);
	else if (err < 0)
		pr_warn_ratelimited("expiry on shard %u failed: %d\n", sh->idx, err);
}

/* ---- sessions --------------------------------------------------------- */

/*
 * The session of the socket @portid, created on its first lock request.
 * Requests from one socket never race with its release (the socket is busy
 * sending), so the lookup needs no reference.
 */
struct dl_session *dlock_session_get(struct dlock_net *dn, u32 portid)
{
	struct dl_session *s = xa_load(&dn->sessions, portid);
	u64 id;

	if (s)
		return s;
	mutex_lock(&dn->sessions_lock);
	s = xa_load(&dn->sessions, portid);
	if (!s) {
		id = (++dn->session_seq << 32) | portid;
		s = dl_session_create(dn->table, id);
		if (s && xa_err(xa_store(&dn->sessions, portid, s, GFP_KERNEL))) {
			dl_session_destroy(dn->table, s);
			s = NULL;
		}
	}
	mutex_unlock(&dn->sessions_lock);
	return s;
}

static void dlock_session_destroy(struct dlock_net *dn, struct dl_session *s)
{
	struct dlock_ctx ctx;
	u32 i;

	dlock_ctx_init(&ctx, dn);
	ctx.cx.global = true;
	mutex_lock(&dn->wait_graph);
	for (i = 0; i < dn->nr_shards; i++) {
		mutex_lock(&dn->shards[i].lock);
		dl_session_end(dn->table, &ctx.cx, s, i);
		mutex_unlock(&dn->shards[i].lock);
	}
	WARN_ON(dl_session_destroy(dn->table, s));
	mutex_unlock(&dn->wait_graph);
	dlock_nl_flush(&ctx);
}

/* Ends the session of a closed socket: its leases go, its waits are cancelled. */
void dlock_session_end(struct dlock_net *dn, u32 portid)
{
	struct dl_session *s;

	mutex_lock(&dn->sessions_lock);
	s = xa_erase(&dn->sessions, portid);
	mutex_unlock(&dn->sessions_lock);
	if (s)
		dlock_session_destroy(dn, s);
}

/* ---- per-namespace table ---------------------------------------------- */

int dlock_lease_init(struct dlock_net *dn)
{
	struct dl_table_config cfg = {
		.nr_shards = shards,
		.meta_size = sizeof(struct dlock_meta),
		.max_ttl_ms = max_ttl_ms,
		.max_leases = max_leases,
		.max_waiters = max_waiters,
		.max_session_leases = max_socket_leases,
		.max_session_waiters = max_socket_waiters,
	};
	u32 i;

	get_random_bytes(&cfg.hash_seed, sizeof(cfg.hash_seed));
	/*
	 * Tokens start from the wall clock in ns: a module reloaded later
	 * starts above every token the previous instance handed out, unless
	 * it granted more than one lease per ns on average or the clock was
	 * set back.
	 */
	atomic64_set(&dn->last_token, ktime_get_real_ns());
	mutex_init(&dn->wait_graph);
	mutex_init(&dn->sessions_lock);
	mutex_init(&dn->config_lock);
	xa_init(&dn->sessions);
	dn->nr_shards = shards;
	dn->shards = kvcalloc(shards, sizeof(*dn->shards), GFP_KERNEL);
	if (!dn->shards)
		return -ENOMEM;
	for (i = 0; i < shards; i++) {
		struct dlock_shard *sh = &dn->shards[i];

		mutex_init(&sh->lock);
		hrtimer_init(&sh->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
		sh->timer.function = dlock_shard_timer;
		INIT_WORK(&sh->work, dlock_shard_work);
		sh->dn = dn;
		sh->idx = i;
	}
	dn->table = dl_table_create(&cfg, &dlock_tbl_ops, dn);
	if (!dn->table) {
		kvfree(dn->shards);
		return -ENOMEM;
	}
	return 0;
}

void dlock_lease_exit(struct dlock_net *dn)
{
	struct dl_session *s;
	unsigned long portid;
	u32 i;

	/*
	 * Every socket of a dying namespace is gone, but when the module is
	 * unloaded sockets may still be open: their sessions end here, and
	 * nobody is notified (dying) since the family is already gone.
	 */
	WRITE_ONCE(dn->dying, true);
	for (i = 0; i < dn->nr_shards; i++) {
		hrtimer_cancel(&dn->shards[i].timer);
		cancel_work_sync(&dn->shards[i].work);
	}
	xa_for_each(&dn->sessions, portid, s) {
		xa_erase(&dn->sessions, portid);
		dlock_session_destroy(dn, s);
	}
	xa_destroy(&dn->sessions);
	for (i = 0; i < dn->nr_shards; i++)
		hrtimer_cancel(&dn->shards[i].timer);
	dl_table_destroy(dn->table);
	kvfree(dn->shards);
}

int dlock_lease_module_init(void)
{
	if (!shards || shards > DL_MAX_SHARDS || !is_power_of_2(shards)) {
		pr_err("shards=%u: must be a power of two up to %u\n", shards,
		       DL_MAX_SHARDS);
		return -EINVAL;
	}
	dlock_wq = alloc_workqueue("dlock", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return dlock_wq ? 0 : -ENOMEM;
}

void dlock_lease_module_exit(void)
{
	destroy_workqueue(dlock_wq);
}
