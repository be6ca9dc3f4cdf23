/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dlock: a lock service in the kernel.  This header is the ABI between the
 * dlock module and userspace (libdlock, dlockctl, or any generic netlink
 * client).  Every value below is explicit and never changes meaning; new
 * commands and attributes are only ever appended.
 *
 * Transport: the generic netlink family DLOCK_GENL_NAME, version
 * DLOCK_GENL_VERSION.  The family is network-namespace aware: each network
 * namespace has its own lease table and its own counters, and a request is
 * served by the table of the namespace of the socket that sent it.
 *
 * Requests are validated strictly: an unknown attribute, an attribute of the
 * wrong size, or a reply-only attribute in a request is rejected with -EINVAL
 * and an extended ack message naming the problem.
 */
#ifndef _UAPI_LINUX_DLOCK_H
#define _UAPI_LINUX_DLOCK_H

#define DLOCK_GENL_NAME		"dlock"
#define DLOCK_GENL_VERSION	1

/*
 * Multicast groups carrying lock events (granted, released, expired, ...).
 * Anyone may join DLOCK_MCGRP_EVENTS: its events say which uid the owner
 * has and carry %DLOCK_A_HIDDEN instead of the owner (string, tag,
 * session).  DLOCK_MCGRP_EVENTS_ADMIN carries the same events with the
 * owner; joining it needs CAP_NET_ADMIN in the user namespace that owns the
 * network namespace.
 */
#define DLOCK_MCGRP_EVENTS	"events"
#define DLOCK_MCGRP_EVENTS_ADMIN	"events-admin"

/*
 * A per-user limit (%DLOCK_A_CFG_MAX_USER_*) set to this value takes a share
 * of the namespace's limit in force at each request: 1/16 of
 * %DLOCK_A_CFG_MAX_LEASES or %DLOCK_A_CFG_MAX_WAITERS; for value bytes, 64
 * bytes per lease of that share, at least 64 KiB.  The default.
 */
#define DLOCK_USER_LIMIT_AUTO	0xffffffffU

/* Limits of the values a request carries. */
#define DLOCK_NAME_MAX		255	/* bytes in a lock name (no NUL) */
#define DLOCK_OWNER_MAX		64	/* bytes in a detached owner string */
#define DLOCK_VALUE_MAX		1024	/* bytes in a lease's value */

/**
 * enum dlock_mode - how a lock is held
 * @DLOCK_MODE_EXCLUSIVE: one holder at a time
 * @DLOCK_MODE_SHARED: any number of shared holders, no exclusive one
 * @DLOCK_MODE_SEMAPHORE: up to %DLOCK_A_PERMITS holders; every request on
 *	the lock must name the same number of permits
 */
enum dlock_mode {
	DLOCK_MODE_EXCLUSIVE = 0,
	DLOCK_MODE_SHARED = 1,
	DLOCK_MODE_SEMAPHORE = 2,
};

/**
 * enum dlock_acquire_flags - %DLOCK_A_FLAGS of an acquire
 * @DLOCK_F_TRY: fail with -EAGAIN instead of queueing
 * @DLOCK_F_DETACHED: the lease belongs to the owner string %DLOCK_A_OWNER,
 *	not to the requesting socket; it must have a TTL and outlives the socket
 * @DLOCK_F_NO_TTL: socket-bound only: the lease has no TTL and lives exactly
 *	as long as the requesting socket (or until released or broken)
 */
enum dlock_acquire_flags {
	DLOCK_F_TRY = 1 << 0,
	DLOCK_F_DETACHED = 1 << 1,
	DLOCK_F_NO_TTL = 1 << 2,
};

/**
 * enum dlock_event_type - %DLOCK_A_EVENT of a %DLOCK_CMD_EVENT
 * @DLOCK_EV_GRANTED: a lease began: granted at once or to a waiter (a
 *	reentrant acquire by the same owner sends none)
 * @DLOCK_EV_RELEASED: its owner released the last reentrancy level
 * @DLOCK_EV_EXPIRED: its TTL ran out; a socket-bound holder also gets a
 *	%DLOCK_CMD_LOST with %DLOCK_LOST_EXPIRED
 * @DLOCK_EV_OWNER_DIED: the socket that held it closed (socket-bound
 *	leases only)
 * @DLOCK_EV_BROKEN: %DLOCK_CMD_BREAK ended it; a socket-bound holder also
 *	gets a %DLOCK_CMD_LOST with %DLOCK_LOST_BROKEN
 * @DLOCK_EV_VALUE: its owner set or cleared its value (%DLOCK_CMD_SET_VALUE
 *	succeeded, even with the same bytes); like every event it carries no
 *	value: a watcher that wants it reads the lock (%DLOCK_CMD_GET)
 *
 * Every event is about one holder's lease: waiters joining or leaving a
 * queue send none.
 */
enum dlock_event_type {
	DLOCK_EV_GRANTED = 1,
	DLOCK_EV_RELEASED = 2,
	DLOCK_EV_EXPIRED = 3,
	DLOCK_EV_OWNER_DIED = 4,
	DLOCK_EV_BROKEN = 5,
	DLOCK_EV_VALUE = 6,
};

/**
 * enum dlock_lost_reason - %DLOCK_A_REASON of a %DLOCK_CMD_LOST
 * @DLOCK_LOST_EXPIRED: the lease's TTL ran out before it was renewed.  In
 *	cluster mode a node that is not the leader tells its holder when the
 *	TTL, counted from before the leader applied the grant or renewal, has
 *	a tenth left, before the leader may grant the lock elsewhere; until
 *	the leader ends it the lease is still in the table (a release of it
 *	succeeds, a renewal keeps it)
 * @DLOCK_LOST_BROKEN: an administrator ended it (%DLOCK_CMD_BREAK)
 * @DLOCK_LOST_IN_DOUBT: cluster mode: the holder's node has not heard
 *	from the cluster for most of the node-session timeout, or the lease's
 *	TTL ran out there while a request of its socket (a renewal, maybe)
 *	was unanswered, so the others may end the lease and grant the lock
 *	elsewhere before the holder can be told; it must act as if the lease
 *	is gone.  The lease itself may still be in the table (the node was
 *	back in time): releasing it or closing the socket ends it, renewing
 *	keeps it
 */
enum dlock_lost_reason {
	DLOCK_LOST_EXPIRED = 1,
	DLOCK_LOST_BROKEN = 2,
	DLOCK_LOST_IN_DOUBT = 3,
};

/**
 * DOC: Users
 *
 * Every request is made by the uid of the sending process as the user
 * namespace owning the network namespace maps it.  A detached lease belongs
 * to its owner string and that uid: release, renew, set-value and acquiring
 * as its owner from another uid fail with -EPERM ("lease belongs to another
 * user") unless the caller has CAP_NET_ADMIN in that user namespace.
 * %DLOCK_CMD_GET shows the owner, pid, command, session, value and cookie
 * of another uid's entries only to such a caller; others get %DLOCK_E_UID,
 * the mode, token, count and remaining time, and %DLOCK_E_HIDDEN.  Per-uid
 * limits (%DLOCK_A_CFG_MAX_USER_*) fail an acquire or set-value with
 * -EDQUOT; a privileged caller is not held to them.
 */

/**
 * DOC: Delivery of WAIT_DONE and LOST
 *
 * WAIT_DONE and LOST go to the socket that made the request (the session
 * %DLOCK_A_SESSION names), never to another socket that bound its port id
 * later.  If one cannot be delivered (the receive buffer is full, or there
 * is no memory for a LOST), the socket's next read fails with ENOBUFS, as
 * for any message netlink drops: look the locks up again (%DLOCK_CMD_GET).
 * (Also on a socket that set NETLINK_NO_ENOBUFS: the module cannot see it.)
 * A WAIT_DONE is allocated with the wait and never fails for want of
 * memory.
 */

/**
 * DOC: Message trees
 *
 * What the module sends, in the order it puts the attributes (a client
 * must not depend on that order).  A %DLOCK_A_PAD or %DLOCK_E_PAD may come
 * before any u64, to align it; skip it.  Indented lines are nested in the
 * attribute above them.
 *
 * %DLOCK_CMD_GET reply, one message per lock (NLM_F_MULTI in a dump)::
 *
 *    DLOCK_A_NAME: binary, 1..DLOCK_NAME_MAX bytes
 *    DLOCK_A_MODE: u8, enum dlock_mode
 *    DLOCK_A_PERMITS: u32, semaphores only
 *    DLOCK_A_HOLDER: nested, one per holder, enum dlock_entry_attr
 *        DLOCK_E_MODE: u8, enum dlock_mode
 *        DLOCK_E_UID: u32
 *        DLOCK_E_REMAINING_MS: u64, absent for a lease without TTL
 *        DLOCK_E_TOKEN: u64
 *        DLOCK_E_COUNT: u32
 *        then, for an entry of another uid (unless CAP_NET_ADMIN):
 *        DLOCK_E_HIDDEN: flag, and nothing more
 *        else:
 *        DLOCK_E_SESSION: u64, 0 for a detached lease
 *        DLOCK_E_PID: u32
 *        DLOCK_E_COMM: string
 *        DLOCK_E_OWNER: binary, detached leases
 *          or DLOCK_E_OWNER_TAG: u64, socket-bound leases
 *        DLOCK_E_VALUE: binary, if a value is attached
 *    DLOCK_A_HOLDER: ...
 *    DLOCK_A_WAITER: nested, one per waiter in queue order, after the holders
 *        DLOCK_E_MODE: u8, enum dlock_mode
 *        DLOCK_E_UID: u32
 *        DLOCK_E_REMAINING_MS: u64, absent for a wait without limit
 *        then, for an entry of another uid (unless CAP_NET_ADMIN):
 *        DLOCK_E_HIDDEN: flag, and nothing more
 *        else:
 *        DLOCK_E_SESSION: u64, the requesting socket's session
 *        DLOCK_E_PID: u32
 *        DLOCK_E_COMM: string
 *        DLOCK_E_OWNER: binary, detached requests
 *          or DLOCK_E_OWNER_TAG: u64, socket-bound requests
 *        DLOCK_E_COOKIE: u64
 *    DLOCK_A_WAITER: ...
 *    DLOCK_A_TRUNCATED: flag, dump only: the entries that did not fit are
 *                       left out (a GET of this one lock has them all)
 *
 * %DLOCK_CMD_EVENT on %DLOCK_MCGRP_EVENTS_ADMIN, one per lease event::
 *
 *    DLOCK_A_EVENT: u8, enum dlock_event_type
 *    DLOCK_A_NAME: binary
 *    DLOCK_A_MODE: u8, enum dlock_mode, the lease's
 *    DLOCK_A_TOKEN: u64
 *    DLOCK_A_UID: u32, the owner's uid
 *    DLOCK_A_PERMITS: u32, semaphores only
 *    DLOCK_A_SESSION: u64, 0 for a detached lease
 *    DLOCK_A_OWNER: binary, detached leases
 *      or DLOCK_A_OWNER_TAG: u64, socket-bound leases
 *
 * %DLOCK_CMD_EVENT on %DLOCK_MCGRP_EVENTS, the same event without its
 * owner::
 *
 *    DLOCK_A_EVENT: u8, enum dlock_event_type
 *    DLOCK_A_NAME: binary
 *    DLOCK_A_MODE: u8, enum dlock_mode, the lease's
 *    DLOCK_A_TOKEN: u64
 *    DLOCK_A_UID: u32, the owner's uid
 *    DLOCK_A_PERMITS: u32, semaphores only
 *    DLOCK_A_HIDDEN: flag
 *
 * %DLOCK_CMD_WAIT_DONE, unicast to the socket whose acquire was queued::
 *
 *    DLOCK_A_NAME: binary
 *    DLOCK_A_COOKIE: u64, the acquire's
 *    DLOCK_A_SESSION: u64, the requesting socket's session
 *    DLOCK_A_ERROR: u32, 0: granted, ETIMEDOUT: DLOCK_A_WAIT_MS ran out
 *    DLOCK_A_TOKEN: u64, when granted
 *
 * %DLOCK_CMD_LOST, unicast to the socket that held the lease::
 *
 *    DLOCK_A_NAME: binary
 *    DLOCK_A_OWNER_TAG: u64
 *    DLOCK_A_SESSION: u64, the holding socket's session
 *    DLOCK_A_TOKEN: u64, the lease's
 *    DLOCK_A_REASON: u8, enum dlock_lost_reason
 */

/**
 * enum dlock_cmd - generic netlink commands
 * @DLOCK_CMD_UNSPEC: never used
 * @DLOCK_CMD_GET_STATUS: report the module version and the counters of the
 *	requester's network namespace.  Request: no attributes.  Reply:
 *	%DLOCK_A_STATUS_VERSION, %DLOCK_A_STATUS_LEASES,
 *	%DLOCK_A_STATUS_WAITERS, %DLOCK_A_STATUS_REQUESTS,
 *	%DLOCK_A_STATUS_NETNS_COOKIE, %DLOCK_A_STATUS_MEMORY,
 *	%DLOCK_A_STATUS_LOCKS, %DLOCK_A_STATUS_COUNTERS,
 *	%DLOCK_A_CLUSTER_ROLE (%DLOCK_ROLE_NONE on a single node).
 * @DLOCK_CMD_ACQUIRE: take a lease.  Request: %DLOCK_A_NAME, %DLOCK_A_MODE,
 *	%DLOCK_A_PERMITS (semaphores), %DLOCK_A_FLAGS, %DLOCK_A_TTL_MS,
 *	%DLOCK_A_WAIT_MS, %DLOCK_A_OWNER_TAG or %DLOCK_A_OWNER (detached),
 *	%DLOCK_A_COOKIE.  Fails with -ESHUTDOWN while the module is being
 *	unloaded (it is refused while any lease or waiter exists).  Reply:
 *	%DLOCK_A_TTL_MS, the TTL granted (the one asked for, cut to the
 *	namespace's %DLOCK_A_CFG_MAX_TTL_MS; a holder renews by it; absent
 *	for a lease without TTL), then %DLOCK_A_TOKEN and %DLOCK_A_COUNT when
 *	granted at once, or %DLOCK_A_QUEUED and %DLOCK_A_COOKIE when the
 *	request joined the wait queue; its outcome then comes as a
 *	%DLOCK_CMD_WAIT_DONE to the requesting socket.
 * @DLOCK_CMD_RELEASE: drop one reentrancy level of a lease.  Request:
 *	%DLOCK_A_NAME and %DLOCK_A_OWNER_TAG or %DLOCK_A_OWNER.  Reply:
 *	%DLOCK_A_COUNT, the levels left (0: the lease ended).
 * @DLOCK_CMD_RENEW: restart a lease's TTL.  Request: %DLOCK_A_NAME, the
 *	owner as for release, %DLOCK_A_TTL_MS.  Reply: an empty message.
 * @DLOCK_CMD_GET: one lock (doit, %DLOCK_A_NAME) or all locks (dump,
 *	optional %DLOCK_A_PREFIX).  Reply per lock: %DLOCK_A_NAME,
 *	%DLOCK_A_MODE, %DLOCK_A_PERMITS (semaphores), and one nested
 *	%DLOCK_A_HOLDER or %DLOCK_A_WAITER (enum dlock_entry_attr) per entry,
 *	waiters in queue order.  In a dump, a lock with more entries than
 *	one message holds comes with the entries that fit and
 *	%DLOCK_A_TRUNCATED; a GET of that lock returns all of them.  See
 *	"Message trees".
 * @DLOCK_CMD_BREAK: end a lease by force (CAP_NET_ADMIN).  Request:
 *	%DLOCK_A_NAME and optional %DLOCK_A_TOKEN (default: every holder).
 *	No reply: ask for an acknowledgement (NLM_F_ACK).
 * @DLOCK_CMD_SET_VALUE: attach %DLOCK_A_VALUE to a lease the owner holds.
 *	Request: %DLOCK_A_NAME, the owner as for release, %DLOCK_A_VALUE.
 *	Reply: an empty message.
 * @DLOCK_CMD_CANCEL: withdraw the queued acquire %DLOCK_A_COOKIE on
 *	%DLOCK_A_NAME made from this socket; no %DLOCK_CMD_WAIT_DONE follows.
 *	No reply: ask for an acknowledgement (NLM_F_ACK).
 * @DLOCK_CMD_WAIT_DONE: kernel to requester: a queued acquire ended.
 *	%DLOCK_A_NAME, %DLOCK_A_COOKIE, %DLOCK_A_SESSION, %DLOCK_A_ERROR (0:
 *	granted, else a positive errno such as ETIMEDOUT), %DLOCK_A_TOKEN when
 *	granted.  See "Delivery of WAIT_DONE and LOST".
 * @DLOCK_CMD_LOST: kernel to holder: a socket-bound lease ended without
 *	its owner asking (it expired or was broken), or (cluster mode) its
 *	node lost contact with the cluster and the lease is in doubt.  %DLOCK_A_NAME,
 *	%DLOCK_A_OWNER_TAG, %DLOCK_A_SESSION, %DLOCK_A_TOKEN, %DLOCK_A_REASON.
 * @DLOCK_CMD_EVENT: multicast on %DLOCK_MCGRP_EVENTS_ADMIN: %DLOCK_A_EVENT,
 *	%DLOCK_A_NAME, %DLOCK_A_MODE, %DLOCK_A_TOKEN, %DLOCK_A_UID,
 *	%DLOCK_A_PERMITS (semaphores), %DLOCK_A_SESSION and the owner
 *	(%DLOCK_A_OWNER_TAG or %DLOCK_A_OWNER); on %DLOCK_MCGRP_EVENTS the
 *	same with %DLOCK_A_HIDDEN instead of the session and owner.
 * @DLOCK_CMD_GET_CONFIG: the limits of the requester's network namespace.
 *	Request: no attributes.  Reply: %DLOCK_A_CFG_MAX_TTL_MS,
 *	%DLOCK_A_CFG_MAX_LEASES, %DLOCK_A_CFG_MAX_WAITERS,
 *	%DLOCK_A_CFG_MAX_SOCKET_LEASES, %DLOCK_A_CFG_MAX_SOCKET_WAITERS,
 *	%DLOCK_A_CFG_MAX_USER_LEASES, %DLOCK_A_CFG_MAX_USER_WAITERS,
 *	%DLOCK_A_CFG_MAX_USER_VALUE_BYTES and the per-user limits in force
 *	(%DLOCK_A_CFG_USER_LEASES, %DLOCK_A_CFG_USER_WAITERS,
 *	%DLOCK_A_CFG_USER_VALUE_BYTES).  A new namespace starts with the
 *	module parameters of the same names.
 * @DLOCK_CMD_SET_CONFIG: change some of those limits (CAP_NET_ADMIN in the
 *	user namespace that owns the network namespace).  Request: one or
 *	more of the %DLOCK_A_CFG_MAX_* attributes; the others keep their
 *	value.  Reply: as %DLOCK_CMD_GET_CONFIG, the limits now in force.  A
 *	change applies to the next request; leases and waiters already
 *	admitted are kept even above a lowered cap.  Beyond a cap an acquire
 *	fails with -ENOSPC (namespace caps) or -EDQUOT (socket and user caps).
 * @DLOCK_CMD_SET_CLUSTER: make the requester's network namespace one node
 *	of a cluster, change its peers, or (no %DLOCK_A_CLUSTER_ID) return it
 *	to single-node mode (CAP_NET_ADMIN in the user namespace that owns the
 *	network namespace).  Request: %DLOCK_A_CLUSTER_ID (this node's id,
 *	1..%DLOCK_CLUSTER_ID_MAX), %DLOCK_A_CLUSTER_PORT, optional
 *	%DLOCK_A_CLUSTER_ADDR, and one nested %DLOCK_A_CLUSTER_PEER (enum
 *	dlock_peer_attr: %DLOCK_P_ID, %DLOCK_P_ADDR, %DLOCK_P_PORT) per other
 *	node, optional %DLOCK_A_CLUSTER_KEY and %DLOCK_A_CLUSTER_KEY2 (sealed
 *	datagrams; docs/protocol.md section 12) and, with a key, optional
 *	%DLOCK_A_CLUSTER_CLUSTER_ID.  A change of keys alone is
 *	applied in place when the node already has a key.  The configuration replaces the one in force as a whole; the
 *	same configuration again changes nothing.  A refused one changes
 *	nothing either.  Reply: as %DLOCK_CMD_GET_CLUSTER.
 * @DLOCK_CMD_GET_CLUSTER: the cluster state of the requester's network
 *	namespace.  Request: no attributes.  Reply: %DLOCK_A_CLUSTER_ROLE
 *	(%DLOCK_ROLE_NONE: single-node mode, and nothing else follows), then
 *	%DLOCK_A_CLUSTER_ID, %DLOCK_A_CLUSTER_PORT, %DLOCK_A_CLUSTER_ADDR
 *	when configured, %DLOCK_A_CLUSTER_LEADER (0: none known),
 *	%DLOCK_A_CLUSTER_TERM, %DLOCK_A_CLUSTER_COMMIT,
 *	%DLOCK_A_CLUSTER_KEY_FP and %DLOCK_A_CLUSTER_KEY2_FP when keyed (never
 *	a key), %DLOCK_A_CLUSTER_CLUSTER_ID, %DLOCK_A_CLUSTER_STRAY, and one
 *	nested %DLOCK_A_CLUSTER_PEER per peer with its state (enum
 *	dlock_peer_attr).
 * @__DLOCK_CMD_MAX: one more than the highest command
 * @DLOCK_CMD_MAX: the highest command
 *
 * Every command that has a reply answers errors with NLMSG_ERROR whether or
 * not the request asked for an acknowledgement.
 */
enum dlock_cmd {
	DLOCK_CMD_UNSPEC = 0,
	DLOCK_CMD_GET_STATUS = 1,
	DLOCK_CMD_ACQUIRE = 2,
	DLOCK_CMD_RELEASE = 3,
	DLOCK_CMD_RENEW = 4,
	DLOCK_CMD_GET = 5,
	DLOCK_CMD_BREAK = 6,
	DLOCK_CMD_SET_VALUE = 7,
	DLOCK_CMD_CANCEL = 8,
	DLOCK_CMD_WAIT_DONE = 9,
	DLOCK_CMD_LOST = 10,
	DLOCK_CMD_EVENT = 11,
	DLOCK_CMD_GET_CONFIG = 12,
	DLOCK_CMD_SET_CONFIG = 13,
	DLOCK_CMD_SET_CLUSTER = 14,
	DLOCK_CMD_GET_CLUSTER = 15,

	__DLOCK_CMD_MAX,
	DLOCK_CMD_MAX = __DLOCK_CMD_MAX - 1
};

/**
 * enum dlock_attr - top-level attributes
 * @DLOCK_A_UNSPEC: never used
 * @DLOCK_A_PAD: alignment padding the module may put before a u64
 *	attribute; receivers skip it, requests may not carry it
 * @DLOCK_A_STATUS_VERSION: string, reply only (%DLOCK_CMD_GET_STATUS): the
 *	module's version
 * @DLOCK_A_STATUS_LEASES: u64, reply only (%DLOCK_CMD_GET_STATUS): leases
 *	held in this namespace
 * @DLOCK_A_STATUS_WAITERS: u64, reply only (%DLOCK_CMD_GET_STATUS):
 *	requests queued in this namespace
 * @DLOCK_A_STATUS_REQUESTS: u64, reply only (%DLOCK_CMD_GET_STATUS):
 *	requests this namespace's table has served since it was created (this
 *	status request included)
 * @DLOCK_A_STATUS_NETNS_COOKIE: u64, reply only (%DLOCK_CMD_GET_STATUS):
 *	the namespace's cookie, a number that identifies it for as long as the
 *	system runs
 * @DLOCK_A_NAME: binary, 1..%DLOCK_NAME_MAX bytes, no NUL: the lock's
 *	name.  Required by %DLOCK_CMD_ACQUIRE, %DLOCK_CMD_RELEASE,
 *	%DLOCK_CMD_RENEW, %DLOCK_CMD_SET_VALUE, %DLOCK_CMD_BREAK,
 *	%DLOCK_CMD_CANCEL and a %DLOCK_CMD_GET of one lock; in every GET
 *	reply, WAIT_DONE, LOST and EVENT.
 * @DLOCK_A_MODE: u8, enum dlock_mode.  %DLOCK_CMD_ACQUIRE (absent:
 *	%DLOCK_MODE_EXCLUSIVE); in a GET reply the mode the lock is held in,
 *	in an EVENT the lease's.
 * @DLOCK_A_PERMITS: u32 >= 1: a semaphore's number of permits.
 *	%DLOCK_CMD_ACQUIRE needs it with %DLOCK_MODE_SEMAPHORE and refuses it
 *	with another mode; in GET replies and EVENTs of semaphores.
 * @DLOCK_A_FLAGS: u32, enum dlock_acquire_flags (other bits are refused).
 *	%DLOCK_CMD_ACQUIRE only; absent: 0.
 * @DLOCK_A_TTL_MS: u32, milliseconds: a lease's time to live.
 *	%DLOCK_CMD_ACQUIRE needs it (>= 1) unless %DLOCK_F_NO_TTL, which
 *	refuses a non-zero one; %DLOCK_CMD_RENEW needs it (>= 1).  The
 *	ACQUIRE reply gives the TTL granted, at most %DLOCK_A_CFG_MAX_TTL_MS.
 * @DLOCK_A_WAIT_MS: u32, milliseconds: how long a queued acquire may wait
 *	before its %DLOCK_CMD_WAIT_DONE says ETIMEDOUT (0 or absent: no
 *	limit).  %DLOCK_CMD_ACQUIRE only; refused (non-zero) with %DLOCK_F_TRY.
 * @DLOCK_A_OWNER_TAG: u64: a socket-bound owner within its socket, so that
 *	one socket can hold for several owners (threads); absent: 0.
 *	%DLOCK_CMD_ACQUIRE (not detached), %DLOCK_CMD_RELEASE,
 *	%DLOCK_CMD_RENEW, %DLOCK_CMD_SET_VALUE; in LOST and in EVENTs on
 *	%DLOCK_MCGRP_EVENTS_ADMIN.
 * @DLOCK_A_OWNER: binary, 1..%DLOCK_OWNER_MAX bytes, no NUL: a detached
 *	lease's owner string.  %DLOCK_CMD_ACQUIRE needs it with
 *	%DLOCK_F_DETACHED and refuses it without; %DLOCK_CMD_RELEASE,
 *	%DLOCK_CMD_RENEW and %DLOCK_CMD_SET_VALUE take it instead of the tag;
 *	in EVENTs on %DLOCK_MCGRP_EVENTS_ADMIN.
 * @DLOCK_A_COOKIE: u64, chosen by the requester: names a queued acquire
 *	among its socket's.  %DLOCK_CMD_ACQUIRE (absent: 0), needed by
 *	%DLOCK_CMD_CANCEL; echoed in the reply of a queued ACQUIRE and in its
 *	WAIT_DONE.
 * @DLOCK_A_TOKEN: u64 >= 1: a lease's fencing token, greater than every
 *	token the namespace gave out before.  In the reply of a granted
 *	ACQUIRE, a granted WAIT_DONE, LOST and EVENT; %DLOCK_CMD_BREAK takes
 *	it to end one holder only.
 * @DLOCK_A_COUNT: u32, reply only: a lease's reentrancy count, in the reply
 *	of a granted %DLOCK_CMD_ACQUIRE and of %DLOCK_CMD_RELEASE (0: ended)
 * @DLOCK_A_QUEUED: flag, reply only (%DLOCK_CMD_ACQUIRE): the acquire is
 *	queued; a %DLOCK_CMD_WAIT_DONE will tell how it ended
 * @DLOCK_A_PREFIX: binary, 1..%DLOCK_NAME_MAX bytes: a %DLOCK_CMD_GET dump
 *	lists only the locks whose name starts with it
 * @DLOCK_A_VALUE: binary, 0..%DLOCK_VALUE_MAX bytes: data attached to a
 *	lease (empty: none).  Needed by %DLOCK_CMD_SET_VALUE.
 * @DLOCK_A_HOLDER: nested, enum dlock_entry_attr, reply only
 *	(%DLOCK_CMD_GET): one holder of the lock
 * @DLOCK_A_WAITER: nested, enum dlock_entry_attr, reply only
 *	(%DLOCK_CMD_GET): one waiter, in queue order
 * @DLOCK_A_ERROR: u32, reply only (%DLOCK_CMD_WAIT_DONE): 0 when granted,
 *	else a positive errno (ETIMEDOUT)
 * @DLOCK_A_REASON: u8, enum dlock_lost_reason, reply only (%DLOCK_CMD_LOST)
 * @DLOCK_A_EVENT: u8, enum dlock_event_type, reply only (%DLOCK_CMD_EVENT)
 * @DLOCK_A_SESSION: u64, reply only: a socket's session, a number that
 *	names it in this namespace.  In WAIT_DONE and LOST (the receiving
 *	socket's) and in EVENTs on %DLOCK_MCGRP_EVENTS_ADMIN (0: detached).
 * @DLOCK_A_CFG_MAX_TTL_MS: u32 >= 1, milliseconds: the longest TTL granted;
 *	a longer one is cut to it.  %DLOCK_CMD_SET_CONFIG, and in the replies
 *	of both config commands, as are all %DLOCK_A_CFG_MAX_* below.
 * @DLOCK_A_CFG_MAX_LEASES: u32: leases in the namespace (0: no limit)
 * @DLOCK_A_CFG_MAX_WAITERS: u32: queued acquires in the namespace (0: no
 *	limit)
 * @DLOCK_A_CFG_MAX_SOCKET_LEASES: u32: socket-bound leases one socket may
 *	hold (0: no limit)
 * @DLOCK_A_CFG_MAX_SOCKET_WAITERS: u32: acquires one socket may have queued
 *	(0: no limit)
 * @DLOCK_A_TRUNCATED: flag, reply only (%DLOCK_CMD_GET dump): entries of
 *	this lock were left out to fit the message
 * @DLOCK_A_STATUS_MEMORY: u64, reply only (%DLOCK_CMD_GET_STATUS): bytes of
 *	kernel memory the namespace's lock table holds
 * @DLOCK_A_UID: u32, reply only (%DLOCK_CMD_EVENT): the uid of the lease's
 *	owner (see "Users")
 * @DLOCK_A_CFG_MAX_USER_LEASES: u32: leases one uid may hold in the
 *	namespace, socket-bound and detached, from any number of sockets (0:
 *	no limit; %DLOCK_USER_LIMIT_AUTO: a share of %DLOCK_A_CFG_MAX_LEASES)
 * @DLOCK_A_CFG_MAX_USER_WAITERS: u32: acquires one uid may have queued (0:
 *	no limit; %DLOCK_USER_LIMIT_AUTO: a share of %DLOCK_A_CFG_MAX_WAITERS)
 * @DLOCK_A_CFG_MAX_USER_VALUE_BYTES: u32: bytes of values on the leases of
 *	one uid (0: no limit; %DLOCK_USER_LIMIT_AUTO: see there)
 * @DLOCK_A_HIDDEN: flag, reply only (%DLOCK_CMD_EVENT on
 *	%DLOCK_MCGRP_EVENTS): the owner is not shown
 * @DLOCK_A_CFG_USER_LEASES: u32, reply only (both config commands): the
 *	per-user lease limit in force now, the share worked out (0: none)
 * @DLOCK_A_CFG_USER_WAITERS: u32, reply only: the same for waiters
 * @DLOCK_A_CFG_USER_VALUE_BYTES: u32, reply only: the same for value bytes
 * @DLOCK_A_STATUS_COUNTERS: nested, enum dlock_counter_attr, reply only
 *	(%DLOCK_CMD_GET_STATUS): how often each lease and wait outcome
 *	happened in this namespace since it was created
 * @DLOCK_A_STATUS_LOCKS: u64, reply only (%DLOCK_CMD_GET_STATUS): names
 *	that have a holder or a waiter in this namespace
 * @DLOCK_A_CLUSTER_ID: u32: a node's id in its cluster,
 *	1..%DLOCK_CLUSTER_ID_MAX (%DLOCK_CMD_SET_CLUSTER, %DLOCK_CMD_GET_CLUSTER)
 * @DLOCK_A_CLUSTER_PORT: u16: the UDP port this node listens on
 * @DLOCK_A_CLUSTER_ADDR: binary, 4 or 16 bytes: the address it listens on
 *	(absent: every address, IPv6 and IPv4)
 * @DLOCK_A_CLUSTER_PEER: nested, enum dlock_peer_attr: one other node
 * @DLOCK_A_CLUSTER_ROLE: u8, reply only: enum dlock_role; also in a
 *	%DLOCK_CMD_GET_STATUS reply
 * @DLOCK_A_CLUSTER_LEADER: u32, reply only: the leader's node id (0: none
 *	known)
 * @DLOCK_A_CLUSTER_TERM: u64, reply only: the election term
 * @DLOCK_A_CLUSTER_COMMIT: u64, reply only: the log index committed
 * @DLOCK_A_CLUSTER_KEY: binary, exactly %DLOCK_CLUSTER_KEY_LEN bytes,
 *	request only (%DLOCK_CMD_SET_CLUSTER): the cluster key this node seals
 *	its datagrams with and accepts; absent: the cluster is not
 *	authenticated (anyone who can reach its port can speak for a node).
 *	Never sent back: a reply carries %DLOCK_A_CLUSTER_KEY_FP instead
 * @DLOCK_A_CLUSTER_KEY2: binary, %DLOCK_CLUSTER_KEY_LEN bytes, request
 *	only: a second key accepted but not sent with (key rotation); needs
 *	%DLOCK_A_CLUSTER_KEY
 * @DLOCK_A_CLUSTER_KEY_FP: binary, %DLOCK_CLUSTER_KEY_FP_LEN bytes, reply
 *	only: the fingerprint of %DLOCK_A_CLUSTER_KEY (BLAKE2s keyed with the
 *	key over "dlock key fingerprint", its first bytes); absent: no key,
 *	the cluster is not authenticated
 * @DLOCK_A_CLUSTER_KEY2_FP: binary, reply only: the same of
 *	%DLOCK_A_CLUSTER_KEY2
 * @DLOCK_A_CLUSTER_CLUSTER_ID: u32: the cluster's id (not a node's, which
 *	is %DLOCK_A_CLUSTER_ID), the same on every node of one cluster; it is
 *	in the header of every sealed datagram, bound into its associated data
 *	and its key derivation, and a datagram of another cluster id is
 *	dropped (%DLOCK_SEAL_DROP_CLUSTER).  Request (%DLOCK_CMD_SET_CLUSTER):
 *	optional, needs %DLOCK_A_CLUSTER_KEY (a cluster without a key sends
 *	plain wire messages, which carry no cluster id); absent or 0: none.
 *	Reply: the id in force (0: none)
 * @DLOCK_A_LINEARIZABLE: flag, %DLOCK_CMD_GET (one lock or the dump): in
 *	cluster mode, read only once this node has applied everything the
 *	cluster committed before the request came (a read barrier that goes
 *	through the leader's log: about one commit's latency), so that the
 *	answer shows every change acknowledged to anyone before; without it a
 *	node answers from what it has applied.  A single node is always
 *	current and ignores it
 * @DLOCK_A_CLUSTER_STRAY: u64, reply only (%DLOCK_CMD_GET_CLUSTER): UDP
 *	datagrams to this node's port from an address that is no peer's,
 *	dropped unread since the node was configured
 * @__DLOCK_A_MAX: one more than the highest attribute
 * @DLOCK_A_MAX: the highest attribute
 *
 * "Reply only" covers every message the module sends: a request carrying
 * such an attribute is refused with -EINVAL.
 */
enum dlock_attr {
	DLOCK_A_UNSPEC = 0,
	DLOCK_A_PAD = 1,
	DLOCK_A_STATUS_VERSION = 2,
	DLOCK_A_STATUS_LEASES = 3,
	DLOCK_A_STATUS_WAITERS = 4,
	DLOCK_A_STATUS_REQUESTS = 5,
	DLOCK_A_STATUS_NETNS_COOKIE = 6,
	DLOCK_A_NAME = 7,
	DLOCK_A_MODE = 8,
	DLOCK_A_PERMITS = 9,
	DLOCK_A_FLAGS = 10,
	DLOCK_A_TTL_MS = 11,
	DLOCK_A_WAIT_MS = 12,
	DLOCK_A_OWNER_TAG = 13,
	DLOCK_A_OWNER = 14,
	DLOCK_A_COOKIE = 15,
	DLOCK_A_TOKEN = 16,
	DLOCK_A_COUNT = 17,
	DLOCK_A_QUEUED = 18,
	DLOCK_A_PREFIX = 19,
	DLOCK_A_VALUE = 20,
	DLOCK_A_HOLDER = 21,
	DLOCK_A_WAITER = 22,
	DLOCK_A_ERROR = 23,
	DLOCK_A_REASON = 24,
	DLOCK_A_EVENT = 25,
	DLOCK_A_SESSION = 26,
	DLOCK_A_CFG_MAX_TTL_MS = 27,
	DLOCK_A_CFG_MAX_LEASES = 28,
	DLOCK_A_CFG_MAX_WAITERS = 29,
	DLOCK_A_CFG_MAX_SOCKET_LEASES = 30,
	DLOCK_A_CFG_MAX_SOCKET_WAITERS = 31,
	DLOCK_A_TRUNCATED = 32,
	DLOCK_A_STATUS_MEMORY = 33,
	DLOCK_A_UID = 34,
	DLOCK_A_CFG_MAX_USER_LEASES = 35,
	DLOCK_A_CFG_MAX_USER_WAITERS = 36,
	DLOCK_A_CFG_MAX_USER_VALUE_BYTES = 37,
	DLOCK_A_HIDDEN = 38,
	DLOCK_A_CFG_USER_LEASES = 39,
	DLOCK_A_CFG_USER_WAITERS = 40,
	DLOCK_A_CFG_USER_VALUE_BYTES = 41,
	DLOCK_A_STATUS_COUNTERS = 42,
	DLOCK_A_STATUS_LOCKS = 43,
	DLOCK_A_CLUSTER_ID = 44,
	DLOCK_A_CLUSTER_PORT = 45,
	DLOCK_A_CLUSTER_ADDR = 46,
	DLOCK_A_CLUSTER_PEER = 47,
	DLOCK_A_CLUSTER_ROLE = 48,
	DLOCK_A_CLUSTER_LEADER = 49,
	DLOCK_A_CLUSTER_TERM = 50,
	DLOCK_A_CLUSTER_COMMIT = 51,
	DLOCK_A_CLUSTER_KEY = 52,
	DLOCK_A_CLUSTER_KEY2 = 53,
	DLOCK_A_CLUSTER_KEY_FP = 54,
	DLOCK_A_CLUSTER_KEY2_FP = 55,
	DLOCK_A_CLUSTER_CLUSTER_ID = 56,
	DLOCK_A_LINEARIZABLE = 57,
	DLOCK_A_CLUSTER_STRAY = 58,

	__DLOCK_A_MAX,
	DLOCK_A_MAX = __DLOCK_A_MAX - 1
};

/**
 * enum dlock_entry_attr - a holder or waiter in a %DLOCK_CMD_GET reply
 * @DLOCK_E_UNSPEC: never used
 * @DLOCK_E_PAD: alignment padding before a u64 attribute; skip it
 * @DLOCK_E_MODE: u8, enum dlock_mode: the mode held or asked for
 * @DLOCK_E_TOKEN: u64, holders: the lease's fencing token
 * @DLOCK_E_COUNT: u32, holders: the reentrancy count
 * @DLOCK_E_OWNER_TAG: u64, socket-bound owners: the owner tag within the
 *	socket (%DLOCK_A_OWNER_TAG)
 * @DLOCK_E_SESSION: u64: the session of the owner's socket (0: a detached
 *	lease; a detached request that waits: the requesting socket's)
 * @DLOCK_E_OWNER: binary, detached owners: the owner string
 * @DLOCK_E_PID: u32: pid of the requesting process, as its own pid
 *	namespace numbers it
 * @DLOCK_E_UID: u32: the requester's uid in the user namespace owning the
 *	network namespace
 * @DLOCK_E_COMM: string: the requesting process's command name
 * @DLOCK_E_REMAINING_MS: u64, milliseconds: until a holder's TTL ends or
 *	a waiter's %DLOCK_A_WAIT_MS runs out (0: due now); absent: no TTL, or
 *	no wait limit
 * @DLOCK_E_VALUE: binary, holders: the value attached (absent: none)
 * @DLOCK_E_COOKIE: u64, waiters: the request's %DLOCK_A_COOKIE
 * @DLOCK_E_HIDDEN: flag: another uid's entry, shown without owner,
 *	session, pid, comm, value and cookie (see "Users")
 * @__DLOCK_E_MAX: one more than the highest entry attribute
 * @DLOCK_E_MAX: the highest entry attribute
 *
 * Every entry has mode, uid and (when it has a deadline) remaining time;
 * holders add token and count.  The rest is shown to the entry's uid and to
 * CAP_NET_ADMIN only; see "Message trees".
 */
enum dlock_entry_attr {
	DLOCK_E_UNSPEC = 0,
	DLOCK_E_PAD = 1,
	DLOCK_E_MODE = 2,
	DLOCK_E_TOKEN = 3,
	DLOCK_E_COUNT = 4,
	DLOCK_E_OWNER_TAG = 5,
	DLOCK_E_SESSION = 6,
	DLOCK_E_OWNER = 7,
	DLOCK_E_PID = 8,
	DLOCK_E_UID = 9,
	DLOCK_E_COMM = 10,
	DLOCK_E_REMAINING_MS = 11,
	DLOCK_E_VALUE = 12,
	DLOCK_E_COOKIE = 13,
	DLOCK_E_HIDDEN = 14,

	__DLOCK_E_MAX,
	DLOCK_E_MAX = __DLOCK_E_MAX - 1
};

/**
 * enum dlock_counter_attr - %DLOCK_A_STATUS_COUNTERS of a status reply
 * @DLOCK_C_UNSPEC: never used
 * @DLOCK_C_PAD: alignment padding before a u64 attribute; skip it
 * @DLOCK_C_GRANTS: u64: leases begun, granted at once or to a waiter (a
 *	reentrant acquire counts none)
 * @DLOCK_C_RELEASES: u64: leases whose owner released the last level
 * @DLOCK_C_OWNER_DIED: u64: socket-bound leases ended by their socket
 *	closing
 * @DLOCK_C_EXPIRED: u64: leases whose TTL ran out
 * @DLOCK_C_BREAKS: u64: leases ended by %DLOCK_CMD_BREAK
 * @DLOCK_C_WAITS: u64: acquires that joined a wait queue
 * @DLOCK_C_WAIT_TIMEOUTS: u64: queued acquires whose %DLOCK_A_WAIT_MS ran
 *	out
 * @DLOCK_C_DEADLOCKS: u64: acquires refused with -EDEADLK (a wait that
 *	would close a cycle, or an owner asking again in another mode)
 * @__DLOCK_C_MAX: one more than the highest counter attribute
 * @DLOCK_C_MAX: the highest counter attribute
 *
 * Each counter starts at 0 with the namespace and only grows.  Every lease
 * that began ends as exactly one of releases, owner_died, expired or
 * breaks (or is still held); the tracepoints of the same names (events
 * "dlock:*" in tracefs) fire once per count.
 */
enum dlock_counter_attr {
	DLOCK_C_UNSPEC = 0,
	DLOCK_C_PAD = 1,
	DLOCK_C_GRANTS = 2,
	DLOCK_C_RELEASES = 3,
	DLOCK_C_OWNER_DIED = 4,
	DLOCK_C_EXPIRED = 5,
	DLOCK_C_BREAKS = 6,
	DLOCK_C_WAITS = 7,
	DLOCK_C_WAIT_TIMEOUTS = 8,
	DLOCK_C_DEADLOCKS = 9,

	__DLOCK_C_MAX,
	DLOCK_C_MAX = __DLOCK_C_MAX - 1
};

/* The largest node id of a cluster; a cluster has at most 7 nodes. */
#define DLOCK_CLUSTER_ID_MAX	255
#define DLOCK_CLUSTER_NODES_MAX	7
/* A cluster key (%DLOCK_A_CLUSTER_KEY) and its public fingerprint. */
#define DLOCK_CLUSTER_KEY_LEN	32
#define DLOCK_CLUSTER_KEY_FP_LEN	8

/**
 * enum dlock_role - %DLOCK_A_CLUSTER_ROLE: what this node is doing now
 * @DLOCK_ROLE_NONE: not in a cluster (single-node mode)
 * @DLOCK_ROLE_RECOVERING: in a cluster, learning from its peers what it
 *	lost (just configured, or restarted)
 * @DLOCK_ROLE_FOLLOWER: follows %DLOCK_A_CLUSTER_LEADER
 * @DLOCK_ROLE_CANDIDATE: asking its peers to elect it
 * @DLOCK_ROLE_LEADER: the node that orders every lock command
 */
enum dlock_role {
	DLOCK_ROLE_NONE = 0,
	DLOCK_ROLE_RECOVERING = 1,
	DLOCK_ROLE_FOLLOWER = 2,
	DLOCK_ROLE_CANDIDATE = 3,
	DLOCK_ROLE_LEADER = 4,
};

/**
 * enum dlock_peer_attr - a nested %DLOCK_A_CLUSTER_PEER
 * @DLOCK_P_UNSPEC: never used
 * @DLOCK_P_PAD: alignment padding before a u64 attribute; skip it
 * @DLOCK_P_ID: u32: the peer's node id (1..%DLOCK_CLUSTER_ID_MAX)
 * @DLOCK_P_ADDR: binary: its IPv4 (4 bytes) or IPv6 (16 bytes) address
 * @DLOCK_P_PORT: u16: its UDP port
 * @DLOCK_P_LAST_CONTACT_MS: u64, status only: milliseconds since a datagram
 *	from it was accepted; absent: never
 * @DLOCK_P_LAG: u64, status only, on the leader only: log entries it has
 *	yet to acknowledge (the leader's last index minus the highest index
 *	it knows the peer holds); absent on the other roles
 * @DLOCK_P_TX: u64, status only: datagrams sent to it
 * @DLOCK_P_RX: u64, status only: datagrams from it accepted
 * @DLOCK_P_DROPPED: u64, status only: datagrams from it dropped (malformed,
 *	unexpected, not authentic: every reason, %DLOCK_P_SEAL_DROPS included)
 * @DLOCK_P_SEAL_DROPS: nested, status only, keyed clusters: datagrams from
 *	its address dropped by the seal checks, one u64 per reason that
 *	happened, the attribute type the reason (enum dlock_seal_drop)
 * @__DLOCK_P_MAX: one more than the highest peer attribute
 * @DLOCK_P_MAX: the highest peer attribute
 */
enum dlock_peer_attr {
	DLOCK_P_UNSPEC = 0,
	DLOCK_P_PAD = 1,
	DLOCK_P_ID = 2,
	DLOCK_P_ADDR = 3,
	DLOCK_P_PORT = 4,
	DLOCK_P_LAST_CONTACT_MS = 5,
	DLOCK_P_LAG = 6,
	DLOCK_P_TX = 7,
	DLOCK_P_RX = 8,
	DLOCK_P_DROPPED = 9,
	DLOCK_P_SEAL_DROPS = 10,

	__DLOCK_P_MAX,
	DLOCK_P_MAX = __DLOCK_P_MAX - 1
};

/**
 * enum dlock_seal_drop - why a datagram of a keyed cluster was dropped
 *	(the attribute types inside %DLOCK_P_SEAL_DROPS; docs/protocol.md
 *	section 12 lists the checks in order)
 * @DLOCK_SEAL_DROP_UNSPEC: never used
 * @DLOCK_SEAL_DROP_LEN: shorter than header and tag, or too long
 * @DLOCK_SEAL_DROP_VERSION: not a sealed datagram (magic, version, type,
 *	flags, reserved fields): a plaintext datagram lands here
 * @DLOCK_SEAL_DROP_CLUSTER: another cluster id
 * @DLOCK_SEAL_DROP_RECEIVER: addressed to another node id
 * @DLOCK_SEAL_DROP_SENDER: the sender id is not the peer of that address
 * @DLOCK_SEAL_DROP_KEY: sealed with a key this node does not hold
 * @DLOCK_SEAL_DROP_EPOCH: from an older boot of the sender, or sealed for
 *	an older boot of this node
 * @DLOCK_SEAL_DROP_TOO_OLD: counter below the replay window
 * @DLOCK_SEAL_DROP_REPLAY: counter already accepted (a replay)
 * @DLOCK_SEAL_DROP_RATE: the sender's budget for unauthenticated work spent
 * @DLOCK_SEAL_DROP_AUTH: the tag does not verify (forged or corrupted)
 * @__DLOCK_SEAL_DROP_MAX: one more than the highest reason
 * @DLOCK_SEAL_DROP_MAX: the highest reason
 */
enum dlock_seal_drop {
	DLOCK_SEAL_DROP_UNSPEC = 0,
	DLOCK_SEAL_DROP_LEN = 1,
	DLOCK_SEAL_DROP_VERSION = 2,
	DLOCK_SEAL_DROP_CLUSTER = 3,
	DLOCK_SEAL_DROP_RECEIVER = 4,
	DLOCK_SEAL_DROP_SENDER = 5,
	DLOCK_SEAL_DROP_KEY = 6,
	DLOCK_SEAL_DROP_EPOCH = 7,
	DLOCK_SEAL_DROP_TOO_OLD = 8,
	DLOCK_SEAL_DROP_REPLAY = 9,
	DLOCK_SEAL_DROP_RATE = 10,
	DLOCK_SEAL_DROP_AUTH = 11,

	__DLOCK_SEAL_DROP_MAX,
	DLOCK_SEAL_DROP_MAX = __DLOCK_SEAL_DROP_MAX - 1
};

#endif /* _UAPI_LINUX_DLOCK_H */
