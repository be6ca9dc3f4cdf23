/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels dlock supports (Debian 12's
 * 6.1 and 6.12), kept here so that no logic file carries a version #if.
 * Each entry tests for the change itself and names the kernel commit, so it
 * can go once the oldest supported kernel has it.
 *
 * Adding a kernel: build with W=1 and sparse against its headers, and for
 * every difference add a helper here that logic files call instead of the
 * changed interface (docs/architecture.md, "Adding the next kernel").
 */
#ifndef DLOCK_KCOMPAT_H
#define DLOCK_KCOMPAT_H

#include <linux/version.h>
#include <net/genetlink.h>

/*
 * The parsed attributes of a dump request.  Linux 6.6 ("genetlink: use
 * attrs from struct genl_info") replaced genl_dumpit_info's own attrs with
 * a struct genl_info, reached through genl_info_dump().
 */
static inline struct nlattr **dlock_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* DLOCK_KCOMPAT_H */
