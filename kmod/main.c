// SPDX-License-Identifier: GPL-2.0
/*
 * dlock: a lock service in the kernel.  Module entry points: bring up the
 * per-namespace state before the netlink family that serves it, and tear
 * them down in the opposite order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/dlock.h>

#include "dlock.h"

static int __init dlock_init(void)
{
	int err;

	err = dlock_lease_module_init();
	if (err)
		return err;

	err = dlock_netns_init();
	if (err)
		goto err_lease;

	err = dlock_notifier_init();
	if (err)
		goto err_netns;

	err = dlock_genl_init();
	if (err)
		goto err_notifier;

	pr_info("version %s loaded\n", DLOCK_VERSION);
	return 0;

err_notifier:
	dlock_notifier_exit();
err_netns:
	dlock_netns_exit();
err_lease:
	dlock_lease_module_exit();
	return err;
}

/*
 * Requests stop first; then closing sockets stop ending sessions; then the
 * tables go, with the sessions of sockets still open.
 */
static void __exit dlock_exit(void)
{
	dlock_genl_exit();
	dlock_notifier_exit();
	dlock_netns_exit();
	dlock_lease_module_exit();
	pr_info("unloaded\n");
}

module_init(dlock_init);
module_exit(dlock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dlock: a lock service in the kernel");
MODULE_VERSION(DLOCK_VERSION);
MODULE_ALIAS_GENL_FAMILY(DLOCK_GENL_NAME);
