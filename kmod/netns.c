// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state.  Every namespace gets its own lease table and
 * counters, so a container (or a test's netns standing in for a cluster node)
 * is a dlock node of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/netns/generic.h>

#include "dlock.h"

static unsigned int dlock_net_id __read_mostly;

struct dlock_net *dlock_net(const struct net *net)
{
	return net_generic(net, dlock_net_id);
}

static int __net_init dlock_net_init(struct net *net)
{
	struct dlock_net *dn = dlock_net(net);

	int err;

	dn->net = net;
	atomic64_set(&dn->requests, 0);
	dlock_cluster_init(dn);
	err = dlock_obs_init(dn);
	if (err)
		return err;
	err = dlock_lease_init(dn);
	if (err)
		dlock_obs_exit(dn);
	return err;
}

static void __net_exit dlock_net_exit(struct net *net)
{
	struct dlock_net *dn = dlock_net(net);

	dlock_cluster_exit(dn);
	dlock_lease_exit(dn);
	dlock_obs_exit(dn);
}

static struct pernet_operations dlock_net_ops = {
	.init = dlock_net_init,
	.exit = dlock_net_exit,
	.id = &dlock_net_id,
	.size = sizeof(struct dlock_net),
};

int dlock_netns_init(void)
{
	return register_pernet_subsys(&dlock_net_ops);
}

void dlock_netns_exit(void)
{
	unregister_pernet_subsys(&dlock_net_ops);
}
