// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the layout of libdlock's public structures as the C compiler sees
 * dlock.h ("struct SIZE" and "struct.field OFFSET SIZE" lines), for
 * test_python.py to compare with the ctypes mirror in python/dlock/_lib.py.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include "dlock.h"

#define S(s) printf(#s " %zu\n", sizeof(struct s))
#define F(s, f) printf(#s "." #f " %zu %zu\n", offsetof(struct s, f), \
		       sizeof(((struct s *)0)->f))

int main(void)
{
	S(dlock_status);
	F(dlock_status, version); F(dlock_status, leases);
	F(dlock_status, waiters); F(dlock_status, requests);
	F(dlock_status, netns_cookie); F(dlock_status, memory);
	F(dlock_status, has_counters); F(dlock_status, locks);
	F(dlock_status, counters);
	S(dlock_counters);
	F(dlock_counters, grants); F(dlock_counters, releases);
	F(dlock_counters, owner_died); F(dlock_counters, expired);
	F(dlock_counters, breaks); F(dlock_counters, waits);
	F(dlock_counters, wait_timeouts); F(dlock_counters, deadlocks);
	S(dlock_config);
	F(dlock_config, max_ttl_ms); F(dlock_config, max_leases);
	F(dlock_config, max_waiters); F(dlock_config, max_socket_leases);
	F(dlock_config, max_socket_waiters); F(dlock_config, max_user_leases);
	F(dlock_config, max_user_waiters);
	F(dlock_config, max_user_value_bytes); F(dlock_config, user_leases);
	F(dlock_config, user_waiters); F(dlock_config, user_value_bytes);
	S(dlock_acquire_opts);
	F(dlock_acquire_opts, mode); F(dlock_acquire_opts, permits);
	F(dlock_acquire_opts, ttl_ms); F(dlock_acquire_opts, flags);
	F(dlock_acquire_opts, wait_ms); F(dlock_acquire_opts, tag);
	F(dlock_acquire_opts, owner);
	S(dlock_lease);
	F(dlock_lease, token); F(dlock_lease, count); F(dlock_lease, ttl_ms);
	S(dlock_owner);
	F(dlock_owner, str); F(dlock_owner, tag);
	S(dlock_entry);
	F(dlock_entry, mode); F(dlock_entry, token); F(dlock_entry, count);
	F(dlock_entry, cookie); F(dlock_entry, session); F(dlock_entry, tag);
	F(dlock_entry, owner); F(dlock_entry, pid); F(dlock_entry, uid);
	F(dlock_entry, comm); F(dlock_entry, remaining_ms);
	F(dlock_entry, value); F(dlock_entry, value_len);
	F(dlock_entry, owner_len); F(dlock_entry, hidden);
	S(dlock_lock_info);
	F(dlock_lock_info, name); F(dlock_lock_info, name_len);
	F(dlock_lock_info, mode); F(dlock_lock_info, permits);
	F(dlock_lock_info, n_holders); F(dlock_lock_info, n_waiters);
	F(dlock_lock_info, holders); F(dlock_lock_info, waiters);
	F(dlock_lock_info, truncated);
	S(dlock_event);
	F(dlock_event, type); F(dlock_event, name); F(dlock_event, name_len);
	F(dlock_event, mode); F(dlock_event, token); F(dlock_event, session);
	F(dlock_event, tag); F(dlock_event, owner); F(dlock_event, owner_len);
	F(dlock_event, uid); F(dlock_event, hidden);
	S(dlock_lost);
	F(dlock_lost, name); F(dlock_lost, tag); F(dlock_lost, token);
	F(dlock_lost, reason);
	S(dlock_cluster_addr);
	F(dlock_cluster_addr, family); F(dlock_cluster_addr, port);
	F(dlock_cluster_addr, addr);
	S(dlock_cluster_peer);
	F(dlock_cluster_peer, id); F(dlock_cluster_peer, endpoint);
	F(dlock_cluster_peer, last_contact_ms); F(dlock_cluster_peer, lag);
	F(dlock_cluster_peer, tx); F(dlock_cluster_peer, rx);
	F(dlock_cluster_peer, dropped);
	S(dlock_cluster);
	F(dlock_cluster, id); F(dlock_cluster, listen);
	F(dlock_cluster, n_peers); F(dlock_cluster, peers);
	F(dlock_cluster, role); F(dlock_cluster, leader);
	F(dlock_cluster, term); F(dlock_cluster, commit);
	F(dlock_cluster, stray);
	/* Constants the binding copies. */
	printf("const NAME_MAX %d\nconst OWNER_MAX %d\nconst VALUE_MAX %d\n",
	       DLOCK_NAME_MAX, DLOCK_OWNER_MAX, DLOCK_VALUE_MAX);
	printf("const F_TRY %d\nconst F_DETACHED %d\nconst F_NO_TTL %d\n",
	       DLOCK_F_TRY, DLOCK_F_DETACHED, DLOCK_F_NO_TTL);
	printf("const F_KEEPALIVE %u\nconst F_RESTART %u\n", DLOCK_F_KEEPALIVE,
	       DLOCK_F_RESTART);
	printf("const MODE_EXCLUSIVE %d\nconst MODE_SHARED %d\n"
	       "const MODE_SEMAPHORE %d\n", DLOCK_MODE_EXCLUSIVE,
	       DLOCK_MODE_SHARED, DLOCK_MODE_SEMAPHORE);
	printf("const EV_GRANTED %d\nconst EV_RELEASED %d\nconst EV_EXPIRED %d\n"
	       "const EV_OWNER_DIED %d\nconst EV_BROKEN %d\n",
	       DLOCK_EV_GRANTED, DLOCK_EV_RELEASED, DLOCK_EV_EXPIRED,
	       DLOCK_EV_OWNER_DIED, DLOCK_EV_BROKEN);
	printf("const LOST_EXPIRED %d\nconst LOST_BROKEN %d\n",
	       DLOCK_LOST_EXPIRED, DLOCK_LOST_BROKEN);
	printf("const USER_LIMIT_AUTO %u\n", DLOCK_USER_LIMIT_AUTO);
	printf("const CFG_MAX_TTL_MS %u\nconst CFG_MAX_USER_VALUE_BYTES %u\n",
	       DLOCK_CFG_MAX_TTL_MS, DLOCK_CFG_MAX_USER_VALUE_BYTES);
	printf("const CLUSTER_ID_MAX %d\nconst CLUSTER_NODES_MAX %d\n",
	       DLOCK_CLUSTER_ID_MAX, DLOCK_CLUSTER_NODES_MAX);
	printf("const ROLE_NONE %d\nconst ROLE_RECOVERING %d\n"
	       "const ROLE_FOLLOWER %d\nconst ROLE_CANDIDATE %d\n"
	       "const ROLE_LEADER %d\n", DLOCK_ROLE_NONE,
	       DLOCK_ROLE_RECOVERING, DLOCK_ROLE_FOLLOWER,
	       DLOCK_ROLE_CANDIDATE, DLOCK_ROLE_LEADER);
	printf("const AF_UNSPEC %d\nconst AF_INET %d\nconst AF_INET6 %d\n",
	       AF_UNSPEC, AF_INET, AF_INET6);
	return 0;
}
