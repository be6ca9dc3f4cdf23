// SPDX-License-Identifier: GPL-2.0
/*
 * The module stays loaded while any namespace holds a lease or a waiter.
 *
 * Unloading the module frees every table without telling anyone: holders
 * would keep running believing they hold their lock, waiters would wait
 * forever, and after a reload the same lock would be granted again.  So a
 * namespace whose table has at least one holder or waiter entry holds one
 * reference on the module, and rmmod answers "in use" until an operator has
 * emptied the tables (dlockctl break) or the leases have ended.
 *
 * In a clustered namespace every local client (a socket that sent a lock
 * command, cluster_req.c) counts as one entry instead: the cluster table's
 * leases are the other nodes' too, and unloading would leave a process
 * that holds one with nobody to tell it when they end it.  Leaving the
 * cluster lets its clients go.
 *
 * Entries are counted where the table allocates and frees them, so the
 * count never dips while a waiter turns into a holder (that happens in
 * place).  Only the 0 -> 1 and 1 -> 0 transitions touch the module's
 * reference count, under a per-namespace lock so that they cannot overtake
 * each other; every other change is one atomic operation on the namespace.
 *
 * A dying namespace frees its table, and with it the entries left over,
 * which drops its reference.  Dropping the last reference from our own code
 * is safe: every path that frees entries (a request, the expiry work, the
 * socket-release notifier, namespace exit) is waited for by module exit
 * before the code goes away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "dlock.h"

void dlock_pin_init(struct dlock_net *dn)
{
	atomic_long_set(&dn->entries, 0);
	spin_lock_init(&dn->pin_lock);
}

/*
 * An entry is about to be allocated in @dn.  False if the module is being
 * unloaded: the table was empty and rmmod already committed to go.
 */
bool dlock_pin(struct dlock_net *dn)
{
	bool ok = true;

	if (atomic_long_inc_not_zero(&dn->entries))
		return true;
	spin_lock(&dn->pin_lock);
	if (!atomic_long_read(&dn->entries))
		ok = try_module_get(THIS_MODULE);
	if (ok)
		atomic_long_inc(&dn->entries);
	spin_unlock(&dn->pin_lock);
	return ok;
}

/* An entry of @dn was freed (or its allocation failed after dlock_pin()). */
void dlock_unpin(struct dlock_net *dn)
{
	if (atomic_long_add_unless(&dn->entries, -1, 1))
		return;
	spin_lock(&dn->pin_lock);
	if (atomic_long_dec_and_test(&dn->entries))
		module_put(THIS_MODULE);
	spin_unlock(&dn->pin_lock);
}

/* Whether an acquire failed because the module is going away. */
bool dlock_unloading(void)
{
	return !module_is_live(THIS_MODULE);
}
