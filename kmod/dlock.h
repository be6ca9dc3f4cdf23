/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the kernel-only files of the dlock module.
 * Policy (lock table, replication, wire codec) lives in files that include
 * only compat.h; this header is for the mechanism around them.
 */
#ifndef DLOCK_H
#define DLOCK_H

#include <linux/atomic.h>
#include <net/net_namespace.h>

#ifndef DLOCK_VERSION
#define DLOCK_VERSION "unknown"
#endif

/* Per network namespace state: each namespace is one dlock node. */
struct dlock_net {
	struct net *net;
	atomic64_t requests;
	atomic64_t leases;
	atomic64_t waiters;
};

struct dlock_net *dlock_net(const struct net *net);

int dlock_netns_init(void);
void dlock_netns_exit(void);

int dlock_genl_init(void);
void dlock_genl_exit(void);

#endif /* DLOCK_H */
