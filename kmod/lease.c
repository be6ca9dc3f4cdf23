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
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/sock.h>

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

/*
 * Per-uid limits (issue 8).  DL_USER_AUTO (4294967295), the default, takes
 * 1/16 of the namespace's limit in force at each request, so the share
 * follows an administrator who lowers that limit.
 */
static unsigned int max_user_leases = DL_USER_AUTO;
module_param(max_user_leases, uint, 0444);
MODULE_PARM_DESC(max_user_leases, "leases one uid may hold per namespace (0: no limit; 4294967295: 1/16 of max_leases)");

static unsigned int max_user_waiters = DL_USER_AUTO;
module_param(max_user_waiters, uint, 0444);
MODULE_PARM_DESC(max_user_waiters, "requests one uid may have queued per namespace (0: no limit; 4294967295: 1/16 of max_waiters)");

static unsigned int max_user_value_bytes = DL_USER_AUTO;
module_param(max_user_value_bytes, uint, 0444);
MODULE_PARM_DESC(max_user_value_bytes, "bytes of values on one uid's leases per namespace (0: no limit; 4294967295: 64 per lease of the user lease share, at least 64 KiB)");

/* Expiries one timer work item applies before it yields the shard. */
#define DLOCK_TIMER_BUDGET 256
/*
 * Entries of a closed socket's session ended per hold of the wait-graph
 * mutex: its notes are sent and the mutex given to others in between.
 */
#define DLOCK_END_BATCH 64

static struct workqueue_struct *dlock_wq;

/*
 * Holder and waiter entries get a cache of their exact size, and lock
 * objects (which carry their name inline) caches in steps of 8 bytes: in
 * kmalloc's size classes a lease would waste up to a quarter of its
 * memory.  The entry cache is made when the first table tells its entry
 * size; a lock cache when the first lock of that size is made.
 */
#define DLOCK_LOCK_STEP		8
#define DLOCK_LOCK_CACHES	64	/* up to 512 bytes; the largest lock is 334 */

static struct kmem_cache *dlock_entry_cache;
static size_t dlock_entry_size;
static struct kmem_cache *dlock_lock_cache[DLOCK_LOCK_CACHES];
static DEFINE_MUTEX(dlock_cache_lock);

/*
 * The lock cache for objects of @size bytes, made on first use; NULL means
 * kmalloc.  A cache that could not be made is remembered as an error, so
 * that objects of that size come from kmalloc and go back to it for good.
 */
static struct kmem_cache *dlock_lock_cache_get(size_t size)
{
	size_t i = DIV_ROUND_UP(size, DLOCK_LOCK_STEP);
	struct kmem_cache *c;
	char name[24];

	if (i >= DLOCK_LOCK_CACHES)
		return NULL;
	c = READ_ONCE(dlock_lock_cache[i]);
	if (!c) {
		mutex_lock(&dlock_cache_lock);
		c = dlock_lock_cache[i];
		if (!c) {
			snprintf(name, sizeof(name), "dlock_lock_%zu",
				 i * DLOCK_LOCK_STEP);
			c = kmem_cache_create(name, i * DLOCK_LOCK_STEP, 0,
					      SLAB_ACCOUNT, NULL);
			WRITE_ONCE(dlock_lock_cache[i],
				   c ? c : ERR_PTR(-ENOMEM));
		}
		mutex_unlock(&dlock_cache_lock);
	}
	return IS_ERR_OR_NULL(c) ? NULL : c;
}

/* ---- table callbacks -------------------------------------------------- */

/* The cache an object of @kind and @size comes from, NULL: kmalloc. */
static struct kmem_cache *dlock_cache_of(enum dl_obj kind, size_t size)
{
	if (kind == DL_OBJ_ENTRY && size <= dlock_entry_size)
		return dlock_entry_cache;
	if (kind == DL_OBJ_LOCK)
		return dlock_lock_cache_get(size);
	return NULL;
}

/* What an object really costs, for the namespace's memory account. */
static size_t dlock_obj_bytes(struct kmem_cache *c, const void *p, size_t size)
{
	if (c)
		return kmem_cache_size(c);
	if (is_vmalloc_addr(p))
		return PAGE_ALIGN(size);
	return ksize(p);
}

static void *dlock_tbl_alloc(void *priv, enum dl_obj kind, size_t size)
{
	struct kmem_cache *c = dlock_cache_of(kind, size);
	struct dlock_net *dn = priv;
	void *p;

	/* A holder or waiter keeps the module loaded (pin.c). */
	if (kind == DL_OBJ_ENTRY && !dlock_pin(dn))
		return NULL;
	if (c)
		p = kmem_cache_alloc(c, GFP_KERNEL_ACCOUNT);
	else if (kind == DL_OBJ_BUCKETS || kind == DL_OBJ_HEAP ||
		 kind == DL_OBJ_INDEX || kind == DL_OBJ_SHARDS)
		/* These arrays grow with the table: allow vmalloc. */
		p = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	else
		p = kmalloc(size, GFP_KERNEL_ACCOUNT);
	if (p)
		percpu_counter_add(&dn->mem_bytes, dlock_obj_bytes(c, p, size));
	else if (kind == DL_OBJ_ENTRY)
		dlock_unpin(dn);
	return p;
}

static void dlock_tbl_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	struct kmem_cache *c = dlock_cache_of(kind, size);
	struct dlock_net *dn = priv;

	percpu_counter_sub(&dn->mem_bytes, dlock_obj_bytes(c, p, size));
	if (c)
		kmem_cache_free(c, p);
	else
		kvfree(p);
	if (kind == DL_OBJ_ENTRY)
		dlock_unpin(dn);
}

static int dlock_entry_cache_init(size_t size)
{
	int err = 0;

	mutex_lock(&dlock_cache_lock);
	if (!dlock_entry_cache) {
		dlock_entry_cache = kmem_cache_create("dlock_entry", size, 0,
						      SLAB_ACCOUNT, NULL);
		if (dlock_entry_cache)
			dlock_entry_size = size;
		else
			err = -ENOMEM;
	}
	mutex_unlock(&dlock_cache_lock);
	return err;
}

static struct dlock_ctx *to_ctx(struct dl_cmd *cx)
{
	return container_of(cx, struct dlock_ctx, cx);
}

static u64 dlock_tbl_next_token(struct dl_cmd *cx)
{
	return atomic64_inc_return(&to_ctx(cx)->dn->last_token);
}

/*
 * The table calls back under the locks of the command that runs it: the
 * shard's mutex always, the wait-graph mutex too when it grants or times
 * out a wait (table.h).  lockdep checks that the glue took them.
 */
static void dlock_tbl_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	struct dlock_shard *sh = &to_ctx(cx)->dn->shards[shard];

	lockdep_assert_held(&sh->lock);
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
	struct dlock_net *dn = to_ctx(cx)->dn;

	lockdep_assert_held(&dn->wait_graph);
	dlock_assert_name_held(dn, wd->name, wd->name_len);
	dlock_obs_wait_done(to_ctx(cx), wd);
	dlock_nl_queue_wait_done(to_ctx(cx), wd);
}

static void dlock_tbl_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	dlock_assert_name_held(to_ctx(cx)->dn, ls->name, ls->name_len);
	dlock_nl_queue_lost(to_ctx(cx), ls);
}

static void dlock_tbl_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	dlock_assert_name_held(to_ctx(cx)->dn, ev->name, ev->name_len);
	dlock_obs_event(to_ctx(cx), ev);
	dlock_nl_queue_event(to_ctx(cx), ev);
}

/*
 * Names, owners and cookies come from unprivileged clients: a key they
 * cannot learn keeps them from aiming many at one hash chain.
 */
static u64 dlock_tbl_hash(void *priv, const char *p, u32 len)
{
	struct dlock_net *dn = priv;

	return siphash(p, len, &dn->hash_key);
}

static const struct dl_table_ops dlock_tbl_ops = {
	.alloc = dlock_tbl_alloc,
	.free = dlock_tbl_free,
	.next_token = dlock_tbl_next_token,
	.set_timer = dlock_tbl_set_timer,
	.wait_done = dlock_tbl_wait_done,
	.lost = dlock_tbl_lost,
	.event = dlock_tbl_event,
	.hash = dlock_tbl_hash,
};

/* ---- running commands ------------------------------------------------- */

void dlock_ctx_init(struct dlock_ctx *ctx, struct dlock_net *dn)
{
	ctx->dn = dn;
	ctx->cx.now = ktime_get_ns();
	ctx->cx.global = false;
	ctx->cx.priv = NULL;
	ctx->cx.steps = 0;
	ctx->cx.why = NULL;
	__skb_queue_head_init(&ctx->notes);
	ctx->actor = NULL;
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
#ifdef DLOCK_PLANT_GLUE_LOCK_BUG
	/* The planted bug (tests/debug-kernel): grants without the mutex. */
	ctx.cx.global = true;
#endif
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
 * A session belongs to one socket, found by its port id.  The port id alone
 * does not name the socket: netlink frees it when a close starts, before
 * NETLINK_URELEASE reaches us, and a new socket may bind it in between.  So
 * each session holds its socket, and a request or a close only ever touches
 * the session of its own socket.
 */
struct dlock_sess {
	struct dl_session *s;
	struct sock *sk;
	/* A WAIT_DONE for each queued acquire, at least (unicast.c). */
	struct dlock_spare spare;
	struct rcu_head rcu;
};

/* Lockless readers may still look at the socket's flags: wait for them. */
static void dlock_sess_free(struct rcu_head *rcu)
{
	struct dlock_sess *ds = container_of(rcu, struct dlock_sess, rcu);

	dlock_spare_purge(&ds->spare);
	sock_put(ds->sk);
	kfree(ds);
}

/*
 * Ends the session in one shard, DLOCK_END_BATCH entries per hold of the
 * locks: a socket that held a million leases neither keeps everyone else
 * off the wait-graph mutex nor builds a million notes at once.  Nothing is
 * lost between batches: the session is dying, so none of its waits is
 * granted, and each batch's grants are sent before the next starts.
 */
static void dlock_session_end_shard(struct dlock_net *dn,
				    struct dl_session *s, u32 i)
{
	struct dlock_ctx ctx;
	int err;

	do {
		dlock_ctx_init(&ctx, dn);
		ctx.cx.global = true;
		mutex_lock(&dn->wait_graph);
		mutex_lock(&dn->shards[i].lock);
		err = dl_session_end_some(dn->table, &ctx.cx, s, i,
					  DLOCK_END_BATCH);
		mutex_unlock(&dn->shards[i].lock);
		mutex_unlock(&dn->wait_graph);
		dlock_nl_flush(&ctx);
		cond_resched();
	} while (err == DL_MORE);
}

/*
 * Only the shards the session ever used: closing a socket that held one
 * lock takes two mutexes, not one per shard.  The socket sends nothing
 * more, and grants need the wait-graph mutex, so no new shard is touched.
 */
static void dlock_session_destroy(struct dlock_net *dn, struct dlock_sess *ds)
{
	u32 i;

	for (i = 0; i < dn->nr_shards; i++)
		if (dl_session_touched(ds->s, i))
			dlock_session_end_shard(dn, ds->s, i);
	mutex_lock(&dn->wait_graph);
	WARN_ON(dl_session_destroy(dn->table, ds->s));
	mutex_unlock(&dn->wait_graph);
	call_rcu(&ds->rcu, dlock_sess_free);
}

/*
 * The session of the socket that sent @skb, or NULL if it has none.  The
 * socket is busy sending, so its own session cannot go away meanwhile.
 */
struct dl_session *dlock_session_find(struct dlock_net *dn,
				      const struct sk_buff *skb)
{
	struct dl_session *s = NULL;
	struct dlock_sess *ds;

	rcu_read_lock();
	ds = xa_load(&dn->sessions, NETLINK_CB(skb).portid);
	if (ds && ds->sk == NETLINK_CB(skb).sk)
		s = ds->s;
	rcu_read_unlock();
	return s;
}

/*
 * A new session for @sk, stored under @portid; NULL if out of memory.  The
 * sessions mutex orders it against another socket's session on the same
 * port id and numbers it.
 */
static struct dlock_sess *dlock_sess_new(struct dlock_net *dn, u32 portid,
					 struct sock *sk)
{
	struct dlock_sess *ds;

	lockdep_assert_held(&dn->sessions_lock);
	ds = kmalloc(sizeof(*ds), GFP_KERNEL_ACCOUNT);
	if (!ds)
		return NULL;
	dlock_spare_init(&ds->spare);
	ds->s = dl_session_create(dn->table, (++dn->session_seq << 32) | portid);
	if (!ds->s)
		goto free;
	ds->sk = sk;
	sock_hold(sk);
	if (!xa_err(xa_store(&dn->sessions, portid, ds, GFP_KERNEL)))
		return ds;
	sock_put(sk);
	dl_session_destroy(dn->table, ds->s);
free:
	kfree(ds);
	return NULL;
}

/* The session of the socket that sent @skb, created on its first lock. */
struct dl_session *dlock_session_get(struct dlock_net *dn,
				     const struct sk_buff *skb)
{
	u32 portid = NETLINK_CB(skb).portid;
	struct sock *sk = NETLINK_CB(skb).sk;
	struct dlock_sess *ds, *stale = NULL;
	struct dl_session *s;

	s = dlock_session_find(dn, skb);
	if (s)
		return s;
	mutex_lock(&dn->sessions_lock);
	ds = xa_load(&dn->sessions, portid);
	if (ds && ds->sk != sk) {
		/*
		 * @sk holds the port id, so the session's socket is closing:
		 * end its session now, its NETLINK_URELEASE will find ours.
		 */
		stale = ds;
		ds = NULL;
	}
	if (!ds) {
		ds = dlock_sess_new(dn, portid, sk);
		/* Could not replace it: take it out all the same. */
		if (!ds && stale)
			xa_erase(&dn->sessions, portid);
	}
	mutex_unlock(&dn->sessions_lock);
	if (stale)
		dlock_session_destroy(dn, stale);
	return ds ? ds->s : NULL;
}

/*
 * The socket of @s, held, or NULL if it is gone or closing (a newer socket
 * may have bound its port id).  With @spare, also takes one of the
 * session's WAIT_DONEs for a name of @name_len bytes (NULL if none is left).
 */
struct sock *dlock_session_sock(struct dlock_net *dn,
				const struct dl_session *s, u32 name_len,
				struct sk_buff **spare)
{
	struct sock *sk = NULL;
	struct dlock_sess *ds;

	rcu_read_lock();
	ds = xa_load(&dn->sessions, (u32)dl_session_id(s));
	if (ds && ds->s == s && !sock_flag(ds->sk, SOCK_DEAD)) {
		sk = ds->sk;
		sock_hold(sk);
		if (spare)
			*spare = dlock_spare_take(&ds->spare, name_len);
	}
	rcu_read_unlock();
	return sk;
}

/* The session of the socket that sent @skb; it has one (it locked). */
static struct dlock_sess *dlock_sess_own(struct dlock_net *dn,
					 const struct sk_buff *skb)
{
	struct dlock_sess *ds;

	rcu_read_lock();
	ds = xa_load(&dn->sessions, NETLINK_CB(skb).portid);
	if (ds && ds->sk != NETLINK_CB(skb).sk)
		ds = NULL;
	rcu_read_unlock();
	return ds;
}

/*
 * Before an acquire that may queue: the WAIT_DONE it will need, so that a
 * grant or a timeout can never fail for want of memory.
 */
int dlock_wait_reserve(struct dlock_net *dn, const struct sk_buff *skb,
		       u32 name_len)
{
	struct dlock_sess *ds = dlock_sess_own(dn, skb);

	return ds ? dlock_spare_add(&ds->spare, name_len) : -ENOMEM;
}

/* The acquire did not queue, or its wait was cancelled. */
void dlock_wait_unreserve(struct dlock_net *dn, const struct sk_buff *skb,
			  u32 name_len)
{
	struct dlock_sess *ds = dlock_sess_own(dn, skb);

	if (ds)
		dlock_spare_drop(&ds->spare, name_len);
}

/*
 * NETLINK_URELEASE: the socket @portid closed; its leases go and its waits
 * are cancelled.  The session stored under @portid may already be that of
 * a newer socket, still open: it stays.
 */
void dlock_session_end(struct dlock_net *dn, u32 portid)
{
	struct dlock_sess *ds;

	mutex_lock(&dn->sessions_lock);
	ds = xa_load(&dn->sessions, portid);
	if (ds && sock_flag(ds->sk, SOCK_DEAD))
		xa_erase(&dn->sessions, portid);
	else
		ds = NULL;
	mutex_unlock(&dn->sessions_lock);
	if (ds)
		dlock_session_destroy(dn, ds);
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
		.max_user_leases = max_user_leases,
		.max_user_waiters = max_user_waiters,
		.max_user_value_bytes = max_user_value_bytes,
	};
	u32 i;

	get_random_bytes(&cfg.hash_seed, sizeof(cfg.hash_seed));
	get_random_bytes(&dn->hash_key, sizeof(dn->hash_key));
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
	dlock_pin_init(dn);
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
	if (percpu_counter_init(&dn->mem_bytes, 0, GFP_KERNEL)) {
		kvfree(dn->shards);
		return -ENOMEM;
	}
	dn->table = dl_table_create(&cfg, &dlock_tbl_ops, dn);
	if (!dn->table || dlock_entry_cache_init(dl_table_entry_size(dn->table))) {
		if (dn->table)
			dl_table_destroy(dn->table);
		percpu_counter_destroy(&dn->mem_bytes);
		kvfree(dn->shards);
		return -ENOMEM;
	}
	return 0;
}

void dlock_lease_exit(struct dlock_net *dn)
{
	struct dlock_sess *ds;
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
	xa_for_each(&dn->sessions, portid, ds) {
		xa_erase(&dn->sessions, portid);
		dlock_session_destroy(dn, ds);
	}
	xa_destroy(&dn->sessions);
	for (i = 0; i < dn->nr_shards; i++)
		hrtimer_cancel(&dn->shards[i].timer);
	dl_table_destroy(dn->table);
	/* Everything the table allocated came back. */
	WARN_ON(percpu_counter_sum(&dn->mem_bytes));
	percpu_counter_destroy(&dn->mem_bytes);
	kvfree(dn->shards);
}

int dlock_lease_module_init(void)
{
	if (!shards || shards > DL_MAX_SHARDS || !is_power_of_2(shards)) {
		pr_err("shards=%u: must be a power of two up to %u\n", shards,
		       DL_MAX_SHARDS);
		return -EINVAL;
	}
	/*
	 * Bound and high-priority: expiry work runs on the CPU whose timer
	 * fired, ahead of ordinary work, so a waiter is granted without a
	 * cross-CPU hop to an unbound worker (the expiry lateness the
	 * benchmark measures).
	 */
	dlock_wq = alloc_workqueue("dlock", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	return dlock_wq ? 0 : -ENOMEM;
}

/* Every table is gone: so are the objects of the caches made on demand. */
static void dlock_caches_destroy(void)
{
	size_t i;

	for (i = 0; i < DLOCK_LOCK_CACHES; i++) {
		if (!IS_ERR_OR_NULL(dlock_lock_cache[i]))
			kmem_cache_destroy(dlock_lock_cache[i]);
		dlock_lock_cache[i] = NULL;
	}
	kmem_cache_destroy(dlock_entry_cache);
	dlock_entry_cache = NULL;
	dlock_entry_size = 0;
}

void dlock_lease_module_exit(void)
{
	/* Sessions freed after a grace period, by code of this module. */
	rcu_barrier();
	destroy_workqueue(dlock_wq);
	dlock_caches_destroy();
}
