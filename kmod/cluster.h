/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cluster mode (issue 14): one replication core (repl.h) and its lock table
 * (table_sm.h) per network namespace, driven by a kernel UDP socket, a work
 * item and a timer.  Kernel-only mechanism:
 *   cluster.c      instance life cycle, the core's callbacks, its timer
 *   cluster_sock.c the UDP socket: receive queue, send, drop counters
 *   cluster_req.c  local clients: requests through the core, answers
 *   cluster_nl.c   DLOCK_CMD_SET_CLUSTER / DLOCK_CMD_GET_CLUSTER
 *   cluster_get.c  DLOCK_CMD_GET (one lock, dump), GET_STATUS's counts
 * See docs/cluster.md.
 */
#ifndef DLOCK_CLUSTER_H
#define DLOCK_CLUSTER_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/dlock.h>

#include "repl.h"
#include "seal.h"
#include "table_sm.h"

struct dlock_net;
struct socket;

/*
 * Datagrams waiting for the receive work: dlock_cl_rxq_max() (this by
 * default); more are dropped and counted.  The work handles at most
 * DLOCK_CL_RX_BUDGET a run before it lets the core's timer in.
 */
#define DLOCK_CL_RXQ_MAX	512
#define DLOCK_CL_RXQ_LIMIT	65536
#define DLOCK_CL_RX_BUDGET	512
u32 dlock_cl_rxq_max(void);

/* What a configuration says: compared whole, so "the same again" is a no-op. */
struct dlock_cl_conf {
	u32 id;			/* this node */
	u32 cluster_id;		/* the cluster's (keyed only); 0: none */
	u16 port;
	u8 addr_len;		/* 0: every address */
	u8 addr[16];
	u16 nr;			/* nodes, this one included */
	/* Sorted by id: the index is the core's node number. */
	struct {
		u32 id;
		u16 port;
		u8 addr_len;
		u8 addr[16];
	} node[DLOCK_CLUSTER_NODES_MAX];
};

/* The keys of a SET_CLUSTER (nr 0: none); wiped before they are freed. */
struct dlock_cl_keys {
	u8 nr;			/* 0, 1 (send and accept key[0]), 2 */
	u8 key[2][SEAL_KEY_LEN];
};

struct dlock_cl_peer {
	/* Where it is, in the socket's family (IPv4-mapped on an IPv6 one). */
	struct in6_addr a6;
	__be16 port;
	atomic64_t tx, rx, dropped;
	atomic64_t last_rx;	/* ktime_get_ns() of the last accepted one */
	/* keyed: datagrams from its address that seal_open() dropped */
	atomic64_t seal_drops[SEAL_DROP__MAX];
};

/*
 * Slots of the core's idempotence table (docs/protocol.md R8a): clients
 * holding or waiting for something at once, cluster-wide; past it a new
 * client is refused (EUSERS).  The same on every node, like the table's
 * limits (cluster.c).  A node lets one local uid's clients take at most a
 * sixteenth of them (dlock_cl_user_room()).
 */
#ifndef DLOCK_CL_MAX_CLIENTS
#define DLOCK_CL_MAX_CLIENTS		4096
#endif
#ifndef DLOCK_CL_USER_CLIENTS
#define DLOCK_CL_USER_CLIENTS		(DLOCK_CL_MAX_CLIENTS / 16)
#endif
/* A local netlink socket that sent a lock command: one client of the core. */
struct dlock_cl_client {
	u32 portid;
	struct sock *sk;	/* held */
	u32 id;			/* client id, unique across this node's boots */
	u32 req;		/* last request id used */
	struct mutex lock;	/* one request at a time: ids stay in order */
	struct list_head waits;	/* queued acquires (dlock_cl_wait), c->lock */
	struct list_head orphans; /* timed-out acquires, cluster_orphan.c */
	bool used;		/* sent a command: needs a CLIENT_END */
	u32 uid;		/* of its last ACQUIRE (dlock_cl_user_room()) */
};

/*
 * A queued acquire, remembered so its WAIT_DONE can name the lock and so
 * it can be settled from the applied table when its answer is not given
 * here (table_sm_hooks.unanswered).  name[] holds the name, then the
 * detached owner string.
 */
struct dlock_cl_wait {
	struct list_head node;
	u64 cookie;
	u64 tag;
	u64 token;		/* granted: the lease's, told once caught up */
	bool granted;
	u8 name_len;
	u8 owner_len;
	char name[];
};

/* A CLIENT_END not answered yet: sent again until it is. */
struct dlock_cl_ending {
	struct list_head node;
	struct repl_cmd cmd;
	u64 sent;		/* 0: not accepted by the core yet */
};

/* A request waiting for its answer (on its handler's stack). */
struct dlock_cl_pending {
	struct list_head node;
	u32 client, req;
	const char *name;	/* ACQUIRE: for the WAIT_DONE of a queued one */
	u8 name_len;
	u64 cookie;
	u64 tag;		/* ACQUIRE: its owner, to settle the wait */
	const char *owner;
	u8 owner_len;
	struct dlock_cl_client *cl;
	bool done;
	bool sent;		/* in the log or forwarded: it may still apply */
	int refused;		/* the leader's last refusal of it, or 0 */
	bool given_up;		/* its client was told a lease is lost */
	u32 uid;		/* ACQUIRE: the caller, for dlock_cl_user_room() */
	bool privileged;
	struct repl_result res;
	struct completion comp;
};

struct dlock_cluster {
	struct dlock_net *dn;
	/* Unique per instance while the module is loaded (a dump's check). */
	u64 serial;
	struct dlock_cl_conf conf;
	u16 self;
	/* Every call into the core and everything it calls back. */
	struct mutex lock;
	bool dying;
	bool grants_held;	/* some wait's grant waits for catching up */
	struct repl *r;
	struct table_sm *sm;
	atomic64_t tbl_bytes;	/* what sm holds, as the allocator counts it */
	struct repl_cfg rcfg;
	/* keyed clusters (NULL: not authenticated), under lock */
	struct seal_ctx *seal;
	u8 nkeys;
	u8 key_fp[2][DLOCK_CLUSTER_KEY_FP_LEN];
	u8 *txbuf;		/* SEAL_MAX bytes */
	u8 *rxbuf;
	struct repl_msg *rxmsg;
	struct dlock_cl_peer peer[DLOCK_CLUSTER_NODES_MAX];
	struct socket *sock;
	struct sk_buff_head rxq;
	struct work_struct rx_work;
	struct delayed_work tick;
	unsigned long tick_at;		/* jiffies it is armed for */
	int due_ticks;		/* ticks in a row that left the core's due */
	struct delayed_work orphan_work;	/* cluster_orphan.c */
	atomic64_t stray;	/* datagrams from no peer's address */
	/* watch events of applied entries, built under lock, sent by ev_work */
	struct sk_buff_head events;
	struct work_struct ev_work;
	struct list_head pending;
	struct list_head ending;
	struct xarray clients;	/* portid -> dlock_cl_client */
	struct xarray by_id;	/* client id -> dlock_cl_client */
	u32 next_client;
	/* the session end (repl_status.sess_until) holders were told of */
	u64 doubt_told;
	u64 snaps_seen;		/* snapshots installed, as last looked at */
};

/* cluster.c */
int dlock_cluster_start(struct dlock_net *dn, const struct dlock_cl_conf *cf,
			const struct dlock_cl_keys *keys,
			struct dlock_cluster **out, struct netlink_ext_ack *ack);
int dlock_cluster_set_keys(struct dlock_cluster *c,
			   const struct dlock_cl_keys *keys,
			   struct netlink_ext_ack *ack);
void dlock_cluster_get_keys(struct dlock_cluster *c, struct dlock_cl_keys *k);
void dlock_cluster_quiesce(struct dlock_cluster *c);
void dlock_cluster_stop(struct dlock_cluster *c);
void dlock_cluster_rearm(struct dlock_cluster *c);
u8 dlock_cluster_role_of(struct dlock_cluster *c);
extern const struct table_sm_hooks dlock_cl_hooks;
void dlock_cl_refused(void *ctx, const struct repl_cmd *cmd, int err);
void dlock_cl_reply(void *ctx, const struct repl_cmd *cmd,
		    const struct repl_result *res);

/* cluster_sock.c */
int dlock_cl_sock_open(struct dlock_cluster *c, struct netlink_ext_ack *ack);
void dlock_cl_sock_close(struct dlock_cluster *c);
void dlock_cl_send(void *ctx, const struct repl_msg *m);
void dlock_cl_rx_work(struct work_struct *w);

/* cluster_req.c */
void dlock_cl_clients_stop(struct dlock_cluster *c);
void dlock_cl_clients_free(struct dlock_cluster *c);
void dlock_cl_retry_ending(struct dlock_cluster *c, u64 now);
int dlock_cl_barrier(struct dlock_cluster *c, const struct sk_buff *skb,
		     struct netlink_ext_ack *ack);
int dlock_cl_exec_once(struct dlock_cluster *c, struct dlock_cl_client *cl,
		       struct repl_cmd *cmd, struct dlock_cl_pending *p);
/* cluster_slots.c */
int dlock_cl_user_room(struct dlock_cluster *c, struct dlock_cl_client *cl,
		       const struct dlock_cl_pending *p);
int dlock_cl_exec(struct dlock_cluster *c, struct dlock_cl_client *cl,
		  struct repl_cmd *cmd, struct dlock_cl_pending *p);

/* cluster_answer.c */
void dlock_cl_wait_send(struct dlock_cluster *c, struct dlock_cl_client *cl,
			struct dlock_cl_wait *w, int status, u64 token);
void dlock_cl_grants_flush(struct dlock_cluster *c);
void dlock_cl_tell_doubt(struct dlock_cluster *c);
void dlock_cl_tell_overdue(struct dlock_cluster *c, u64 now);

/* cluster_orphan.c */
void dlock_cl_orphan_add(struct dlock_cluster *c, struct dlock_cl_client *cl,
			 const struct repl_cmd *cmd);
bool dlock_cl_orphan_reply(struct dlock_cluster *c, const struct repl_cmd *cmd,
			   const struct repl_result *res);
bool dlock_cl_orphan_wait_done(struct dlock_cluster *c,
			       struct dlock_cl_client *cl, u64 cookie,
			       int status);
void dlock_cl_orphan_work(struct work_struct *w);
void dlock_cl_after_snap(struct dlock_cluster *c);
bool dlock_cl_orphans_hold_all(const struct dlock_cl_client *cl,
			       const struct dl_lost *ls);
int dlock_cl_orphans_settle(struct dlock_cluster *c,
			    struct dlock_cl_client *cl, u32 req);
void dlock_cl_orphans_free(struct dlock_cl_client *cl);

/* Entry points from the rest of the module (dlock.h declares them too). */
#endif /* DLOCK_CLUSTER_H */
