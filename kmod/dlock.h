/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the kernel-only files of the dlock module.
 * Policy (lock table, replication, wire codec) lives in files that include
 * only compat.h; this header is for the mechanism around them.
 */
#ifndef DLOCK_H
#define DLOCK_H

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/siphash.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "kcompat.h"
#include "table.h"
#include "observe.h"

#ifndef DLOCK_VERSION
#define DLOCK_VERSION "unknown"
#endif

/* One shard of a namespace's lock table: its lock and its expiry timer. */
struct dlock_shard {
	struct mutex lock;
	struct hrtimer timer;
	struct work_struct work;
	struct dlock_net *dn;
	u32 idx;
};

/* Per network namespace state: each namespace is one dlock node. */
struct dlock_net {
	struct net *net;
	atomic64_t requests;
	struct dl_table *table;
	/* Bytes the table holds, as the allocator counts them. */
	struct percpu_counter mem_bytes;
	struct dlock_shard *shards;
	u32 nr_shards;
	/* The table's global lock: taken only to change the wait-for graph. */
	struct mutex wait_graph;
	atomic64_t last_token;
	/* Socket portid -> its session (lease.c), for sockets that locked. */
	struct xarray sessions;
	struct mutex sessions_lock;
	u64 session_seq;
	/* Serializes DLOCK_CMD_SET_CONFIG's read-modify-write of the limits. */
	struct mutex config_lock;
	/* The table's hash key (names, owners, cookies): see lease.c. */
	siphash_key_t hash_key;
	bool dying;
	/* Holder and waiter entries; while any, a module reference (pin.c). */
	atomic_long_t entries;
	spinlock_t pin_lock;
	/* Lease and wait outcomes (observe.c). */
	struct dlock_stats __percpu *stats;
	/*
	 * Cluster mode (cluster*.c): NULL on a single node.  Lock commands
	 * hold cluster_sem for reading while they use it; configuring takes
	 * it for writing.
	 */
	struct dlock_cluster *cluster;
	struct rw_semaphore cluster_sem;
};

/* Whether lock commands go through the cluster; re-checked under the rwsem. */
static inline bool dlock_clustered(const struct dlock_net *dn)
{
	return READ_ONCE(dn->cluster);
}

/*
 * lockdep: the mutex of @name's shard is held.  Finding the shard hashes
 * the name, so the check costs nothing without lockdep.
 */
static inline void dlock_assert_name_held(struct dlock_net *dn,
					  const char *name, u32 len)
{
	if (IS_ENABLED(CONFIG_LOCKDEP))
		lockdep_assert_held(&dn->shards[dl_shard_of(dn->table, name,
							     len)].lock);
}

/* Preallocated WAIT_DONEs of a session's queued acquires (unicast.c). */
struct dlock_spare {
	spinlock_t lock;
	struct sk_buff_head skbs[2];	/* for short names, for long ones */
	u32 need[2];			/* waits queued or being queued */
};

/*
 * What a holder or waiter shows of the process that asked (table meta).  Its
 * uid is the table's own (dl_owner_view.uid): it decides who may see this.
 */
struct dlock_meta {
	u32 pid;
	char comm[TASK_COMM_LEN];
};

/* Who sent a request: the uid in the namespace's user namespace, and power. */
struct dlock_caller {
	u32 uid;
	bool privileged;	/* CAP_NET_ADMIN over the network namespace */
};

/*
 * One command's context: the table's view (time, locks held) and the
 * notifications it produced, sent by dlock_nl_flush() once no lock is held.
 */
struct dlock_ctx {
	struct dl_cmd cx;
	struct dlock_net *dn;
	struct sk_buff_head notes;
	/* The owner whose own request this is, if any (observe.h). */
	const struct dlock_actor *actor;
};

extern struct genl_family dlock_genl_family;

/* dlock_genl_family's multicast groups, in the order of its mcgrps. */
enum dlock_mcgrp {
	DLOCK_MCGRP_ID_EVENTS,	/* anyone: owners hidden */
	DLOCK_MCGRP_ID_ADMIN,	/* CAP_NET_ADMIN: owners shown */
	DLOCK_MCGRP_NR,
};

/* Like GENL_REQ_ATTR_CHECK(), plus a message for humans: "missing WHAT". */
#define DLOCK_REQUIRE(info, attr, what) ({				\
	bool __missing = GENL_REQ_ATTR_CHECK(info, attr);		\
									\
	if (__missing)							\
		NL_SET_ERR_MSG((info)->extack, "missing " what);	\
	__missing;							\
})

struct dlock_net *dlock_net(const struct net *net);
void dlock_caller_of(const struct sk_buff *skb, struct dlock_net *dn,
		     struct dlock_caller *c);

int dlock_netns_init(void);
void dlock_netns_exit(void);

int dlock_genl_init(void);
void dlock_genl_exit(void);

int dlock_nl_acquire(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_release(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_renew(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_set_value(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_cancel(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_break(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_get(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_get_start(struct netlink_callback *cb);
int dlock_nl_get_dump(struct sk_buff *skb, struct netlink_callback *cb);
int dlock_nl_get_done(struct netlink_callback *cb);

void dlock_ctx_init(struct dlock_ctx *ctx, struct dlock_net *dn);
int dlock_run(struct dlock_ctx *ctx, const char *name, u32 len,
	      int (*fn)(struct dlock_ctx *ctx, void *arg), void *arg);
struct dl_session *dlock_session_get(struct dlock_net *dn,
				     const struct sk_buff *skb);
struct dl_session *dlock_session_find(struct dlock_net *dn,
				      const struct sk_buff *skb);
struct sock *dlock_session_sock(struct dlock_net *dn,
				const struct dl_session *s, u32 name_len,
				struct sk_buff **spare);
int dlock_wait_reserve(struct dlock_net *dn, const struct sk_buff *skb,
		       u32 name_len);
void dlock_wait_unreserve(struct dlock_net *dn, const struct sk_buff *skb,
			  u32 name_len);
void dlock_session_end(struct dlock_net *dn, u32 portid);
int dlock_lease_init(struct dlock_net *dn);
void dlock_lease_exit(struct dlock_net *dn);
int dlock_lease_module_init(void);
void dlock_lease_module_exit(void);

void dlock_nl_queue_wait_done(struct dlock_ctx *ctx,
			      const struct dl_wait_done *wd);
void dlock_nl_queue_lost(struct dlock_ctx *ctx, const struct dl_lost *ls);
void dlock_nl_queue_event(struct dlock_ctx *ctx, const struct dl_event *ev);
void dlock_nl_flush(struct dlock_ctx *ctx);
/* Cluster mode: watch events queued per instance, sent by its work item. */
#define DLOCK_CL_EVENTS_MAX	4096
bool dlock_nl_cl_event(struct net *net, const struct dl_event *ev,
		       struct sk_buff_head *q);
bool dlock_nl_cl_lost(struct net *net, struct sk_buff_head *q);
void dlock_nl_send_events(struct net *net, struct sk_buff_head *q);
int dlock_notifier_init(void);
void dlock_notifier_exit(void);

size_t dlock_wait_done_size(u32 name_len);
void dlock_spare_init(struct dlock_spare *sp);
void dlock_spare_purge(struct dlock_spare *sp);
int dlock_spare_add(struct dlock_spare *sp, u32 name_len);
void dlock_spare_drop(struct dlock_spare *sp, u32 name_len);
struct sk_buff *dlock_spare_take(struct dlock_spare *sp, u32 name_len);
void dlock_sock_missed(struct sock *sk);
void dlock_deliver(struct sock *sk, struct sk_buff *skb);

/* Cluster mode (cluster*.c). */
void dlock_cluster_init(struct dlock_net *dn);
void dlock_cluster_exit(struct dlock_net *dn);
u8 dlock_cluster_role(struct dlock_net *dn);
int dlock_cl_acquire(struct sk_buff *skb, struct genl_info *info,
		     const struct dl_acquire_req *rq);
int dlock_cl_command(struct sk_buff *skb, struct genl_info *info);
int dlock_cl_get(struct sk_buff *skb, struct genl_info *info);
int dlock_cl_get_start(struct netlink_callback *cb, const struct nlattr *prefix,
		       bool linearizable);
int dlock_cl_get_dump(struct sk_buff *skb, struct netlink_callback *cb);
int dlock_cl_stats(struct dlock_net *dn, struct dl_table_stats *st, u64 *bytes);
void dlock_cl_sock_closed(struct dlock_net *dn, u32 portid);
int dlock_nl_set_cluster(struct sk_buff *skb, struct genl_info *info);
int dlock_nl_get_cluster(struct sk_buff *skb, struct genl_info *info);
extern const struct nla_policy dlock_set_cluster_policy[DLOCK_A_MAX + 1];
extern const struct nla_policy dlock_get_cluster_policy[DLOCK_A_MAX + 1];

void dlock_pin_init(struct dlock_net *dn);
bool dlock_pin(struct dlock_net *dn);
void dlock_unpin(struct dlock_net *dn);
bool dlock_unloading(void);

#endif /* DLOCK_H */
